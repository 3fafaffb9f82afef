//! Admin UI sessions (a cookie holding a random token; only its hash is stored), with an
//! idle timeout and an absolute lifetime, each with its own CSRF token; and one-time form
//! tokens that make a double-submitted form act once.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use zhanqun_domain::workflow::Role;

use super::auth::{random_token, token_hash};
use super::views::{doc_state_label, fmt_local};
use super::{Actor, App};
use crate::error::{AppError, AppResult};
use crate::store::now_ms;

/// A signed-in admin UI user.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub display_name: String,
    pub csrf: String,
}

/// What a one-time form token says when it is presented.
pub enum FormClaim {
    /// First use: go ahead.
    Fresh,
    /// Used before, and that submission led here.
    Done(String),
    /// Unknown or another person's.
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkItem {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub title: String,
    pub state: String,
    pub state_label: &'static str,
    pub updated: String,
    pub reject_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MyWork {
    pub drafts: Vec<WorkItem>,
    pub rejected: Vec<WorkItem>,
    pub secrecy_queue: Vec<WorkItem>,
    pub editorial_queue: Vec<WorkItem>,
    pub scheduled: Vec<WorkItem>,
}

const WORK_SQL: &str = "SELECT d.id, d.site_id, s.name, e.title, d.state, d.updated_at, d.reject_reason FROM documents d \
    JOIN sites s ON s.id = d.site_id JOIN editions e ON e.id = d.draft_edition_id";

type WorkRow = (i64, i64, String, String, String, i64, Option<String>);

fn work(rows: Vec<WorkRow>) -> Vec<WorkItem> {
    rows.into_iter()
        .map(|(id, site_id, site_name, title, state, updated, reject_reason)| WorkItem {
            id,
            site_id,
            site_name,
            title,
            state_label: doc_state_label(&state),
            state,
            updated: fmt_local(updated),
            reject_reason,
        })
        .collect()
}

impl App {
    /// Checks credentials and opens a session. Returns the cookie token.
    pub async fn start_session(&self, username: &str, password: &str) -> AppResult<String> {
        let user = self.verify_credentials(username, password).await?;
        let token = random_token();
        let now = now_ms();
        let mut w = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(random_token())
        .bind(now)
        .bind(now + self.config.session_max_hours * 3_600_000)
        .execute(w.conn())
        .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(w.conn()).await?;
        w.commit().await?;
        Ok(token)
    }

    /// The session a cookie token belongs to, if it is still alive.
    pub async fn session(&self, token: &str) -> AppResult<Session> {
        let now = now_ms();
        let idle = self.config.session_idle_minutes * 60_000;
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT user_id, csrf, last_seen_at FROM sessions WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
        )
        .bind(token_hash(token))
        .bind(now)
        .bind(now - idle)
        .fetch_optional(&self.db.pool)
        .await?;
        let (user_id, csrf, last_seen) = row.ok_or_else(|| AppError::Unauthorized("登录已过期，请重新登录".into()))?;
        if now - last_seen > 60_000 {
            let mut w = self.db.begin_write().await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash(token))
                .execute(w.conn())
                .await?;
            w.commit().await?;
        }
        let actor = self.actor_by_user_id(user_id).await?;
        let display_name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(Session { actor, display_name, csrf })
    }

    pub async fn end_session(&self, token: &str) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(w.conn()).await?;
        w.commit().await?;
        Ok(())
    }

    /// A new one-time token for a form that creates something.
    pub async fn new_form_token(&self, user_id: i64) -> AppResult<String> {
        let token = random_token();
        let mut w = self.db.begin_write().await?;
        let now = now_ms();
        sqlx::query("DELETE FROM form_tokens WHERE created_at < $1")
            .bind(now - 7 * 86_400_000)
            .execute(w.conn())
            .await?;
        sqlx::query("INSERT INTO form_tokens (token, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(&token)
            .bind(user_id)
            .bind(now)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(token)
    }

    /// Presents a form token: the first presentation wins; a repeat learns where the first went.
    pub async fn claim_form_token(&self, token: &str, user_id: i64) -> AppResult<FormClaim> {
        for _ in 0..50 {
            let mut w = self.db.begin_write().await?;
            let n =
                sqlx::query("UPDATE form_tokens SET result = '' WHERE token = $1 AND user_id = $2 AND result IS NULL")
                    .bind(token)
                    .bind(user_id)
                    .execute(w.conn())
                    .await?
                    .rows_affected();
            w.commit().await?;
            if n == 1 {
                return Ok(FormClaim::Fresh);
            }
            let result: Option<Option<String>> =
                sqlx::query_scalar("SELECT result FROM form_tokens WHERE token = $1 AND user_id = $2")
                    .bind(token)
                    .bind(user_id)
                    .fetch_optional(&self.db.pool)
                    .await?;
            match result {
                None => return Ok(FormClaim::Invalid),
                Some(Some(r)) if !r.is_empty() => return Ok(FormClaim::Done(r)),
                // The first submission is still being handled.
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        Ok(FormClaim::Invalid)
    }

    /// Records where a form's first submission led (or frees the token after a refusal).
    pub async fn finish_form_token(&self, token: &str, result: Option<&str>) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        sqlx::query("UPDATE form_tokens SET result = $1 WHERE token = $2")
            .bind(result)
            .bind(token)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// The dashboard: my drafts, what was returned to me, and what waits for my review.
    pub async fn my_work(&self, actor: &Actor) -> AppResult<MyWork> {
        let me = actor.user_id.unwrap_or_default();
        let pool = &self.db.pool;
        let drafts: Vec<WorkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "{WORK_SQL} WHERE e.created_by = $1 AND d.state = 'draft' AND d.reject_reason IS NULL ORDER BY d.updated_at DESC LIMIT 50"
        )))
        .bind(me)
        .fetch_all(pool)
        .await?;
        let rejected: Vec<WorkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "{WORK_SQL} WHERE e.created_by = $1 AND d.state = 'draft' AND d.reject_reason IS NOT NULL ORDER BY d.updated_at DESC LIMIT 50"
        )))
        .bind(me)
        .fetch_all(pool)
        .await?;
        let queue = |state: &'static str, role: Role| async move {
            let rows: Vec<WorkRow> = if actor.is_admin {
                sqlx::query_as(AssertSqlSafe(format!("{WORK_SQL} WHERE d.state = $1 ORDER BY d.updated_at LIMIT 100")))
                    .bind(state)
                    .fetch_all(pool)
                    .await?
            } else {
                sqlx::query_as(AssertSqlSafe(format!(
                    "{WORK_SQL} WHERE d.state = $1 AND d.site_id IN (SELECT site_id FROM site_roles WHERE user_id = $2 AND role = $3) \
                     ORDER BY d.updated_at LIMIT 100"
                )))
                .bind(state)
                .bind(me)
                .bind(role.as_str())
                .fetch_all(pool)
                .await?
            };
            Ok::<_, AppError>(work(rows))
        };
        Ok(MyWork {
            drafts: work(drafts),
            rejected: work(rejected),
            secrecy_queue: queue("submitted", Role::SecrecyReviewer).await?,
            editorial_queue: queue("editorial_review", Role::EditorialReviewer).await?,
            scheduled: queue("scheduled", Role::EditorialReviewer).await?,
        })
    }
}
