//! The one way to change state. A command is a write transaction that knows who is acting:
//! begin → check the actor's permission → change → audit entry → typed events into the
//! outbox, all in the transaction → commit → deliver the events. Refused commands write
//! nothing, not even an audit entry. The API, the admin UI, the CLI and importers all run
//! the same commands, so what they allow and record cannot differ.

use sqlx::AnyConnection;
use zhanqun_domain::workflow::Role;

use super::actor::{self, Actor};
use super::audit::{self, Audit};
use super::db::{Backend, WriteTx};
use super::error::{AppError, AppResult};
use super::events::{Event, StoredEvent};
use super::time::now_ms;
use crate::app::App;

pub struct Command<'a> {
    app: &'a App,
    actor: &'a Actor,
    tx: WriteTx,
    events: Vec<StoredEvent>,
    jobs_queued: bool,
}

impl App {
    /// Starts a command on behalf of `actor`.
    #[track_caller]
    pub fn begin<'a>(&'a self, actor: &'a Actor) -> impl Future<Output = AppResult<Command<'a>>> + Send + 'a {
        let by = std::panic::Location::caller();
        async move {
            let tx = self.db.begin_write_for(by).await?;
            Ok(Command { app: self, actor, tx, events: Vec::new(), jobs_queued: false })
        }
    }
}

/// Tables whose rows carry a `version`.
#[derive(Debug, Clone, Copy)]
pub enum Versioned {
    Columns,
    Documents,
}

impl<'a> Command<'a> {
    pub fn app(&self) -> &'a App {
        self.app
    }

    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// The connection to run the command's statements on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        self.tx.conn()
    }

    /// Refuses unless the actor holds one of `roles` on the site (site admins above count).
    pub async fn require_role(&mut self, site_id: i64, roles: &[Role]) -> AppResult<()> {
        actor::require_role(self.tx.conn(), self.actor, site_id, roles).await
    }

    /// Refuses unless the actor oversees the site from outside it ([`actor::require_oversight`]).
    pub async fn require_oversight(&mut self, site_id: i64, what: &str) -> AppResult<()> {
        actor::require_oversight(self.tx.conn(), self.actor, site_id, what).await
    }

    /// Refuses unless the actor has any role on the site (or is site admin above it).
    pub async fn require_any_role(&mut self, site_id: i64) -> AppResult<()> {
        actor::require_any_role(self.tx.conn(), self.actor, site_id).await
    }

    pub fn require_admin(&self) -> AppResult<()> {
        self.actor.require_admin()
    }

    /// Records the step in the audit trail, in this transaction.
    pub async fn audit(&mut self, a: Audit<'_>) -> AppResult<()> {
        audit::write(self.tx.conn(), self.actor, a).await
    }

    /// Records what changed: in-transaction handlers run now, and the event goes to the
    /// outbox, to be delivered after commit.
    pub async fn emit(&mut self, event: Event) -> AppResult<()> {
        for h in self.app.events.tx_handlers().iter() {
            h.handle(self, &event).await?;
        }
        let payload = serde_json::to_string(&event).map_err(|e| AppError::Internal(e.into()))?;
        let at = now_ms();
        let (id, tx_id): (i64, i64) = sqlx::query_as(
            "INSERT INTO outbox (at, kind, site_id, payload) VALUES ($1, $2, $3, $4) RETURNING id, tx_id",
        )
        .bind(at)
        .bind(event.kind())
        .bind(event.site_id())
        .bind(payload)
        .fetch_one(self.tx.conn())
        .await?;
        self.events.push(StoredEvent { id, tx_id, at, event });
        Ok(())
    }

    /// Queues a job (run by the worker after commit, never inside this transaction).
    pub async fn enqueue(&mut self, kind: &str, payload: &str, run_at: i64) -> AppResult<i64> {
        self.jobs_queued = true;
        super::jobs::insert(self.tx.conn(), kind, payload, run_at).await
    }

    /// Tells the worker after commit that jobs changed.
    pub fn jobs_changed(&mut self) {
        self.jobs_queued = true;
    }

    /// Bumps a row's `version` only if it is still the one the command loaded. On
    /// PostgreSQL the UPDATE also locks the row, so a concurrent command on the same row
    /// waits, then finds the version moved on and is refused instead of acting on a state
    /// that no longer holds. (SQLite serialises writers anyway.)
    pub async fn claim(&mut self, table: Versioned, id: i64, loaded_version: i64) -> AppResult<()> {
        let sql = match table {
            Versioned::Columns => {
                "UPDATE columns SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3"
            }
            Versioned::Documents => {
                "UPDATE documents SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3"
            }
        };
        let n = sqlx::query(sql).bind(now_ms()).bind(id).bind(loaded_version).execute(self.tx.conn()).await?;
        if n.rows_affected() == 1 {
            Ok(())
        } else {
            Err(AppError::Conflict("刚刚已被他人处理，请刷新后查看最新状态".into()))
        }
    }

    /// Commits, then delivers the events: this node's subscribers before returning, every
    /// other node's from the outbox.
    pub async fn commit(mut self) -> AppResult<()> {
        if !self.events.is_empty() && self.app.db.backend == Backend::Postgres {
            // Delivered to listening nodes when (and only if) the transaction commits.
            sqlx::query("SELECT pg_notify($1, '')").bind(super::events::CHANNEL).execute(self.tx.conn()).await?;
        }
        let ids: Vec<i64> = self.events.iter().map(|e| e.id).collect();
        self.app.events.mark_applied(&ids);
        self.tx.commit().await?;
        super::failpoint::hit("after_commit");
        if self.jobs_queued {
            self.app.jobs.wake();
        }
        self.app.after_commit(&self.events).await;
        Ok(())
    }
}
