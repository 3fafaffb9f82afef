//! Durable background work. Jobs live in the `jobs` table; the worker claims a due job,
//! runs it and marks it done in one transaction, so a crash or restart at any point
//! leaves the job either done or still due, never lost and never done twice. On
//! PostgreSQL `FOR UPDATE SKIP LOCKED` lets every node run a worker.

use std::time::Duration;

use crate::app::App;
use crate::app::documents::PublishJob;
use crate::error::{AppError, AppResult};
use crate::store::rows::JobRow;
use crate::store::{Backend, now_ms};

const MAX_ATTEMPTS: i64 = 8;

/// What other nodes changed, read from the audit trail (every change that shows on the
/// public side writes an entry). Entries are matched by id over a window of recent time,
/// so one that commits late is still seen.
struct PeerChanges {
    seen: std::collections::HashMap<i64, i64>,
    /// When this node started: older entries were in the database before any page was cached.
    since: i64,
}

const PEER_WINDOW_MS: i64 = 30_000;

impl PeerChanges {
    async fn poll(&mut self, app: &App) -> AppResult<()> {
        let now = now_ms();
        let rows: Vec<(i64, i64, Option<i64>, String, i64)> =
            sqlx::query_as("SELECT id, at, site_id, entity, entity_id FROM audit_log WHERE at >= $1 ORDER BY id")
                .bind(now - PEER_WINDOW_MS)
                .fetch_all(&app.db.pool)
                .await?;
        let mut sites = std::collections::HashSet::new();
        let mut hosts = false;
        let mut all = false;
        let mut documents = Vec::new();
        for (id, at, site, entity, entity_id) in rows {
            if self.seen.insert(id, at).is_none() && at >= self.since {
                if let Some(s) = site {
                    sites.insert(s);
                }
                hosts |= entity == "site";
                // The subject list shows on every catalog; a document shows on the sites it
                // was reposted to as well.
                all |= entity == "subject";
                if entity == "document" {
                    documents.push(entity_id);
                }
            }
        }
        if !documents.is_empty() {
            let mut c = app.db.pool.acquire().await?;
            for d in documents {
                for (s, _) in crate::app::reposts::receivers(&mut c, d).await? {
                    sites.insert(s);
                }
            }
        }
        if all {
            app.pages.invalidate_all();
        }
        self.seen.retain(|_, at| *at >= now - 2 * PEER_WINDOW_MS);
        for s in sites {
            app.pages.invalidate_site(s);
        }
        if hosts {
            app.reload_hosts().await?;
        }
        Ok(())
    }
}

/// Runs jobs until `shutdown` changes. On PostgreSQL (several nodes) it also keeps this
/// node's page cache and host table in step with changes made on other nodes since
/// `started_at` (taken before the node served its first page).
pub async fn run_worker(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>, started_at: i64) {
    let mut peers = PeerChanges { seen: std::collections::HashMap::new(), since: started_at };
    loop {
        if app.db.backend == Backend::Postgres
            && let Err(e) = peers.poll(&app).await
        {
            tracing::warn!(error = %e, "reading changes of other nodes");
        }
        loop {
            match run_one_due(&app).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(error = %e, "job worker");
                    break;
                }
            }
        }
        tokio::select! {
            _ = app.jobs_notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Claims and runs one due job. Returns whether there was one.
pub async fn run_one_due(app: &App) -> AppResult<bool> {
    let now = now_ms();
    let claim = match app.db.backend {
        Backend::Sqlite => {
            "SELECT id, kind, payload, run_at, attempts FROM jobs WHERE done_at IS NULL AND run_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) ORDER BY run_at, id LIMIT 1"
        }
        Backend::Postgres => {
            "SELECT id, kind, payload, run_at, attempts FROM jobs WHERE done_at IS NULL AND run_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
    };
    // A cheap read first, so an idle worker never queues for the SQLite writer lock.
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1) LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&app.db.pool)
    .await?;
    if due.is_none() {
        return Ok(false);
    }
    let mut w = app.db.begin_write().await?;
    let job: Option<JobRow> = sqlx::query_as(claim).bind(now).fetch_optional(w.conn()).await?;
    let Some(job) = job else { return Ok(false) };
    let result: AppResult<Option<(i64, i64)>> = match job.kind.as_str() {
        "publish" => match serde_json::from_str::<PublishJob>(&job.payload) {
            Ok(p) => app.run_publish_job(&mut w, &p).await,
            Err(e) => Err(AppError::Internal(anyhow::anyhow!("bad publish job payload: {e}"))),
        },
        "letter_reminders" => app.run_letter_reminders(&mut w).await.map(|n| {
            tracing::info!(reminders = n, "letter reminders recorded");
            None
        }),
        other => Err(AppError::Internal(anyhow::anyhow!("unknown job kind {other}"))),
    };
    match result {
        Ok(published) => {
            sqlx::query("UPDATE jobs SET done_at = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(now_ms())
                .bind(job.id)
                .execute(w.conn())
                .await?;
            w.commit().await?;
            if let Some((site, doc)) = published {
                app.document_changed(site, doc).await;
            }
            tracing::info!(job = job.id, kind = job.kind, "job done");
        }
        Err(e) => {
            drop(w);
            let attempts = job.attempts + 1;
            let backoff = 10_000i64.saturating_mul(1 << attempts.min(10));
            let mut w = app.db.begin_write().await?;
            sqlx::query("UPDATE jobs SET attempts = $1, last_error = $2, run_at = $3, done_at = $4 WHERE id = $5")
                .bind(attempts)
                .bind(e.to_string())
                .bind(now_ms() + backoff)
                .bind((attempts >= MAX_ATTEMPTS).then(now_ms))
                .bind(job.id)
                .execute(w.conn())
                .await?;
            w.commit().await?;
            tracing::error!(job = job.id, kind = job.kind, attempts, error = %e, "job failed");
        }
    }
    Ok(true)
}
