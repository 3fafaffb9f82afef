//! Durable background work. A job is a row in `jobs`; each kind of job is registered with
//! the code that runs it ([`JobKind`]). A job is claimed in one short transaction, runs
//! outside any write transaction (a ten-minute crawl never holds SQLite's writer), and is
//! finished in another: done, or retried with backoff up to its kind's limit and then
//! failed with its error. A job that panics or runs past its time limit is failed at once.
//!
//! A running job holds a lease that its worker renews; a worker that dies lets the lease
//! run out and another takes the job over, so a job is never lost and never runs twice at
//! once. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets every node run a worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tokio::sync::watch;

use super::actor::Actor;
use super::audit::Audit;
use super::db::{Backend, QueryBuilder};
use super::error::{AppError, AppResult};
use super::time::{fmt_opt, fmt_time, local_ms, now_ms, today};
use crate::app::App;

/// How a recurring job comes back.
#[derive(Debug, Clone, Copy)]
pub enum Recurring {
    /// Every day at this hour, China Standard Time.
    DailyAt(u8),
    /// Again this long after each run.
    Every(Duration),
}

/// A kind of job: its name in the `jobs` table and the code that runs it.
pub trait JobKind: Send + Sync {
    fn name(&self) -> &'static str;
    /// What administrators read in the job list.
    fn label(&self) -> &'static str;
    /// Longer than this and the job is stopped and failed.
    fn time_limit(&self) -> Duration {
        Duration::from_secs(600)
    }
    /// Attempts before an error fails the job for good.
    fn max_attempts(&self) -> i64 {
        8
    }
    /// The wait before attempt `attempts + 1`.
    fn backoff(&self, attempts: i64) -> Duration {
        Duration::from_secs(10u64.saturating_mul(1 << attempts.clamp(0, 10)))
    }
    fn recurring(&self) -> Option<Recurring> {
        None
    }
    /// A recurring kind's first run on a new installation: at once (true), or at its first
    /// regular time (work that reaches out to other machines, like the monitor's checks).
    fn runs_at_first_start(&self) -> bool {
        true
    }
    /// Runs the job. Writes go in short transactions of their own (commands or
    /// [`App::begin`]); none may be held across the whole run.
    fn run<'a>(&'a self, ctx: &'a JobCtx, payload: &'a str) -> BoxFuture<'a, AppResult<()>>;
}

/// What a running job gets.
pub struct JobCtx {
    pub app: App,
    pub job_id: i64,
}

impl JobCtx {
    /// Records how far the job has got (shown to administrators) and renews its lease.
    pub async fn progress(&self, text: &str) -> AppResult<()> {
        let mut w = self.app.db.begin_write().await?;
        sqlx::query("UPDATE jobs SET progress = $1, locked_until = $2 WHERE id = $3 AND locked_by = $4")
            .bind(text.chars().take(500).collect::<String>())
            .bind(now_ms() + self.app.config.lease_ms())
            .bind(self.job_id)
            .bind(&*self.app.node)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(())
    }
}

/// Jobs one node runs at the same time.
const CONCURRENT: usize = 4;
const POLL: Duration = Duration::from_millis(500);

/// The registry of job kinds and this node's worker state.
pub struct Jobs {
    kinds: ArcSwap<HashMap<&'static str, Arc<dyn JobKind>>>,
    wake: watch::Sender<u64>,
    running: AtomicUsize,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs { kinds: ArcSwap::from_pointee(HashMap::new()), wake: watch::Sender::new(0), running: AtomicUsize::new(0) }
    }
}

impl Jobs {
    /// Adds a job kind (before the server starts).
    pub fn register(&self, k: Arc<dyn JobKind>) {
        self.kinds.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(k.name(), k.clone());
            m
        });
    }

    pub fn kind(&self, name: &str) -> Option<Arc<dyn JobKind>> {
        self.kinds.load().get(name).cloned()
    }

    /// Wakes the worker (a job was queued).
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Inserts a queued job (in the caller's transaction).
pub async fn insert(conn: &mut AnyConnection, kind: &str, payload: &str, run_at: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, run_at, created_at, state) VALUES ($1, $2, $3, $4, 'queued') RETURNING id",
    )
    .bind(kind)
    .bind(payload)
    .bind(run_at)
    .bind(now_ms())
    .fetch_one(conn)
    .await?)
}

#[derive(Debug, Clone, FromRow)]
struct Claimed {
    id: i64,
    kind: String,
    payload: String,
    attempts: i64,
}

/// A job as administrators see it.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    #[sqlx(skip)]
    pub kind_label: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    #[sqlx(skip)]
    pub state_label: &'static str,
    pub attempts: i64,
    pub progress: String,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub run_at_ms: i64,
    #[serde(skip)]
    pub started_at_ms: Option<i64>,
    #[serde(skip)]
    pub done_at_ms: Option<i64>,
    #[serde(skip)]
    pub created_at_ms: i64,
    /// Due (or next attempt), RFC 3339.
    #[sqlx(skip)]
    pub run_at: String,
    #[sqlx(skip)]
    pub started_at: Option<String>,
    #[sqlx(skip)]
    pub finished_at: Option<String>,
    #[sqlx(skip)]
    pub created_at: String,
    pub locked_by: Option<String>,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// Where a job is: waiting for its time (or its next attempt), running on a node, done, or
/// failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [JobState::Queued, JobState::Running, JobState::Failed, JobState::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Queued => "排队中",
            JobState::Running => "运行中",
            JobState::Done => "已完成",
            JobState::Failed => "失败",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl TryFrom<String> for JobState {
    type Error = zhanqun_domain::stored::UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        JobState::parse(&value).ok_or(zhanqun_domain::stored::UnknownValue { what: "job state", value })
    }
}

impl App {
    /// Queues a job outside any command (its own short transaction).
    pub async fn enqueue_job(&self, kind: &str, payload: &str, run_at: i64) -> AppResult<i64> {
        let mut w = self.db.begin_write().await?;
        let id = insert(w.conn(), kind, payload, run_at).await?;
        w.commit().await?;
        self.jobs.wake();
        Ok(id)
    }

    /// Makes sure every recurring kind has its next run queued (first start, or after a crash).
    pub async fn ensure_recurring_jobs(&self) -> AppResult<()> {
        let kinds: Vec<Arc<dyn JobKind>> = self.jobs.kinds.load().values().cloned().collect();
        for k in kinds {
            if k.recurring().is_some() {
                self.schedule_next(&*k, true).await?;
            }
        }
        Ok(())
    }

    /// Queues the next run of a recurring kind unless one is queued or running: `now` on
    /// first start (when the kind wants that), else at its next time.
    async fn schedule_next(&self, k: &dyn JobKind, now: bool) -> AppResult<()> {
        let Some(r) = k.recurring() else { return Ok(()) };
        let mut w = self.db.begin_write().await?;
        if self.db.backend == Backend::Postgres {
            // Nodes starting together queue one run, not one each.
            sqlx::query("SELECT pg_advisory_xact_lock(7301904)").execute(w.conn()).await?;
        }
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')")
                .bind(k.name())
                .fetch_one(w.conn())
                .await?;
        if pending == 0 {
            let at = match r {
                _ if now && k.runs_at_first_start() => now_ms(),
                Recurring::DailyAt(hour) => {
                    let today_at = local_ms(today(), hour);
                    if now && today_at > now_ms() {
                        today_at
                    } else {
                        local_ms(today() + time::Duration::days(1), hour)
                    }
                }
                Recurring::Every(d) => now_ms() + d.as_millis() as i64,
            };
            insert(w.conn(), k.name(), "{}", at).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Jobs, newest first, optionally in one state.
    pub async fn list_jobs(&self, actor: &Actor, state: Option<&str>, limit: i64) -> AppResult<Vec<JobView>> {
        actor.require_admin()?;
        let mut q = QueryBuilder::new(
            "SELECT id, kind, state, attempts, progress, last_error, run_at AS run_at_ms, started_at AS started_at_ms, \
             done_at AS done_at_ms, created_at AS created_at_ms, locked_by FROM jobs",
        );
        if let Some(s) = state {
            let Some(s) = JobState::parse(s) else {
                return Err(AppError::field(
                    "state",
                    "one_of",
                    format!("状态「{s}」无效，应为 queued、running、done 或 failed"),
                ));
            };
            q.push(" WHERE state = ").push_bind(s.as_str().to_string());
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit.clamp(1, 1000));
        let mut rows: Vec<JobView> = q.fetch_all(&self.db.pool).await?;
        for j in &mut rows {
            j.kind_label = self.jobs.kind(&j.kind).map_or_else(|| j.kind.clone(), |k| k.label().to_string());
            j.state_label = j.state.label();
            j.run_at = fmt_time(j.run_at_ms);
            j.started_at = fmt_opt(j.started_at_ms);
            j.finished_at = fmt_opt(j.done_at_ms);
            j.created_at = fmt_time(j.created_at_ms);
        }
        Ok(rows)
    }

    /// How many jobs are in each state. System administrators.
    pub async fn job_counts(&self, actor: &Actor) -> AppResult<JobCounts> {
        actor.require_admin()?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetch_all(&self.db.pool).await?;
        let mut c = JobCounts::default();
        for (s, n) in rows {
            match JobState::try_from(s).map_err(|e| AppError::Internal(e.into()))? {
                JobState::Queued => c.queued = n,
                JobState::Running => c.running = n,
                JobState::Done => c.done = n,
                JobState::Failed => c.failed = n,
            }
        }
        Ok(c)
    }

    /// Failed jobs an actor should be told of: system administrators see them, others
    /// have nothing to do about them.
    pub async fn failed_jobs_for(&self, actor: &Actor) -> AppResult<i64> {
        if !actor.is_admin {
            return Ok(0);
        }
        Ok(self.job_counts(actor).await?.failed)
    }

    /// Queues a failed job again, from its first attempt. System administrators.
    pub async fn retry_job(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1").bind(id).fetch_optional(cmd.conn()).await?;
        let state = state.ok_or_else(|| AppError::not_found("任务", id))?;
        match JobState::try_from(state).map_err(|e| AppError::Internal(e.into()))? {
            JobState::Failed => {}
            s => return Err(AppError::Conflict(format!("任务现为「{}」，只有失败的任务可以重试", s.label()))),
        }
        sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, done_at = NULL, locked_by = NULL, locked_until = NULL \
             WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(cmd.conn())
        .await?;
        cmd.audit(Audit::event(None, "job", id, "retry", serde_json::json!({})).moved(Some("failed"), Some("queued")))
            .await?;
        cmd.jobs_changed();
        cmd.commit().await
    }

    /// Claims one due job of a kind this node knows, in one short transaction.
    async fn claim_job(&self) -> AppResult<Option<Claimed>> {
        let kinds: Vec<&'static str> = self.jobs.kinds.load().keys().copied().collect();
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = now_ms();
        let due = |q: &mut QueryBuilder| {
            q.push(" FROM jobs WHERE ((state = 'queued' AND run_at <= ")
                .push_bind(now)
                .push(") OR (state = 'running' AND locked_until < ")
                .push_bind(now)
                .push(")) AND kind IN (")
                .push_list(kinds.iter().map(|k| k.to_string()))
                .push(")");
        };
        // A cheap read first, so an idle worker never queues for the SQLite writer lock.
        let mut peek = QueryBuilder::new("SELECT id");
        due(&mut peek);
        peek.push(" LIMIT 1");
        if peek.fetch_optional_scalar::<i64>(&self.db.pool).await?.is_none() {
            return Ok(None);
        }
        let mut w = self.db.begin_write().await?;
        let mut pick = QueryBuilder::new("SELECT id, kind, payload, attempts");
        due(&mut pick);
        pick.push(" ORDER BY run_at, id LIMIT 1");
        if self.db.backend == Backend::Postgres {
            pick.push(" FOR UPDATE SKIP LOCKED");
        }
        let Some(job) = pick.fetch_optional_on::<Claimed>(w.conn()).await? else { return Ok(None) };
        sqlx::query(
            "UPDATE jobs SET state = 'running', started_at = $1, locked_until = $2, locked_by = $3, attempts = attempts + 1, \
             progress = '' WHERE id = $4",
        )
        .bind(now)
        .bind(now + self.config.lease_ms())
        .bind(&*self.node)
        .bind(job.id)
        .execute(w.conn())
        .await?;
        w.commit().await?;
        Ok(Some(Claimed { attempts: job.attempts + 1, ..job }))
    }

    /// Runs a claimed job outside any transaction and records how it ended.
    async fn run_job(&self, job: Claimed) {
        let Some(kind) = self.jobs.kind(&job.kind) else { return };
        let ctx = JobCtx { app: self.clone(), job_id: job.id };
        let limit = kind.time_limit();
        let k = kind.clone();
        let payload = job.payload.clone();
        let task = tokio::spawn(async move {
            let ctx = ctx;
            tokio::time::timeout(limit, k.run(&ctx, &payload)).await
        });
        // Renew the lease while it runs.
        let beat = {
            let app = self.clone();
            let id = job.id;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis((app.config.lease_ms() / 3) as u64)).await;
                    let renewed = async {
                        let mut w = app.db.begin_write().await?;
                        sqlx::query(
                            "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'",
                        )
                        .bind(now_ms() + app.config.lease_ms())
                        .bind(id)
                        .bind(&*app.node)
                        .execute(w.conn())
                        .await?;
                        w.commit().await?;
                        Ok::<_, AppError>(())
                    };
                    if let Err(e) = renewed.await {
                        tracing::warn!(job = id, error = %e, "renewing a job's lease");
                    }
                }
            })
        };
        let outcome = task.await;
        beat.abort();
        // (final, error): a panic or an overrun fails at once; an error is retried.
        let (fail_now, error) = match outcome {
            Ok(Ok(Ok(()))) => (false, None),
            Ok(Ok(Err(e))) => (false, Some(e.to_string())),
            Ok(Err(_)) => (true, Some(format!("超过时限（{} 秒）被停止", limit.as_secs()))),
            Err(e) if e.is_panic() => (true, Some(format!("任务崩溃：{}", panic_message(e.into_panic())))),
            Err(_) => (true, Some("任务被取消".to_string())),
        };
        if let Err(e) = self.finish_job(&job, &*kind, fail_now, error.as_deref()).await {
            tracing::error!(job = job.id, error = %e, "recording how a job ended");
        }
    }

    async fn finish_job(
        &self,
        job: &Claimed,
        kind: &dyn JobKind,
        fail_now: bool,
        error: Option<&str>,
    ) -> AppResult<()> {
        let now = now_ms();
        let (state, run_at) = match error {
            None => ("done", None),
            Some(_) if fail_now || job.attempts >= kind.max_attempts() => ("failed", None),
            Some(_) => ("queued", Some(now + kind.backoff(job.attempts).as_millis() as i64)),
        };
        let mut w = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE jobs SET state = $1, last_error = COALESCE($2, last_error), run_at = COALESCE($3, run_at), \
             done_at = $4, locked_until = NULL WHERE id = $5 AND locked_by = $6",
        )
        .bind(state)
        .bind(error)
        .bind(run_at)
        .bind((state != "queued").then_some(now))
        .bind(job.id)
        .bind(&*self.node)
        .execute(w.conn())
        .await?;
        w.commit().await?;
        match error {
            None => tracing::info!(job = job.id, kind = job.kind, "job done"),
            Some(e) => {
                tracing::error!(job = job.id, kind = job.kind, attempts = job.attempts, state, error = e, "job failed")
            }
        }
        if state != "queued" {
            self.schedule_next(kind, false).await?;
        }
        Ok(())
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "（无说明）".into())
}

/// Runs jobs until `shutdown` changes, up to [`CONCURRENT`] at a time. On shutdown the jobs
/// still running get a few seconds to end; one stopped then is taken over by the next
/// worker once its lease runs out.
pub async fn run_worker(app: App, mut shutdown: watch::Receiver<bool>) {
    let mut wake = app.jobs.wake.subscribe();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < CONCURRENT {
            match app.claim_job().await {
                Ok(Some(job)) => {
                    let a = app.clone();
                    running.spawn(async move { a.run_job(job).await });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "claiming a job");
                    break;
                }
            }
        }
        app.jobs.running.store(running.len(), Ordering::Relaxed);
        tokio::select! {
            _ = wake.changed() => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    while running.join_next().await.is_some() {}
                })
                .await;
                running.abort_all();
                return;
            }
        }
    }
}
