//! The audit trail: one entry per step anybody takes, written in the same transaction as
//! the change it records, never changed afterwards (database triggers refuse UPDATE and
//! DELETE). "Who publishes is responsible" (谁发布谁负责, R2.2).

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::actor::Actor;
use super::error::AppResult;
use super::time::{fmt_time, now_ms};

/// One entry of the audit trail.
pub struct Audit<'a> {
    pub site_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub comment: &'a str,
    pub detail: serde_json::Value,
}

impl<'a> Audit<'a> {
    /// An entry without a state change or comment.
    pub fn event(
        site_id: Option<i64>,
        entity: &'a str,
        entity_id: i64,
        action: &'a str,
        detail: serde_json::Value,
    ) -> Audit<'a> {
        Audit { site_id, entity, entity_id, action, from_state: None, to_state: None, comment: "", detail }
    }

    /// The same entry recording a change of state.
    pub fn moved(self, from_state: Option<&'a str>, to_state: Option<&'a str>) -> Audit<'a> {
        Audit { from_state, to_state, ..self }
    }

    /// The same entry with a comment (a reason, a note).
    pub fn saying(self, comment: &'a str) -> Audit<'a> {
        Audit { comment, ..self }
    }
}

/// Writes an entry. Commands write theirs through [`super::command::Command::audit`].
pub async fn write(conn: &mut AnyConnection, actor: &Actor, a: Audit<'_>) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(&actor.name)
    .bind(a.site_id)
    .bind(a.entity)
    .bind(a.entity_id)
    .bind(a.action)
    .bind(a.from_state)
    .bind(a.to_state)
    .bind(a.comment)
    .bind(a.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub comment: String,
    pub detail: String,
}

/// An entry as people and clients read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub id: i64,
    /// When, RFC 3339 in China Standard Time.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub comment: String,
    /// What the step changed, as recorded.
    pub detail: serde_json::Value,
}

impl From<&AuditRow> for AuditView {
    fn from(a: &AuditRow) -> Self {
        AuditView {
            id: a.id,
            at: fmt_time(a.at),
            actor_id: a.actor_id,
            actor: a.actor_name.clone(),
            site_id: a.site_id,
            entity: a.entity.clone(),
            entity_id: a.entity_id,
            action: a.action.clone(),
            from: a.from_state.clone(),
            to: a.to_state.clone(),
            comment: a.comment.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Every entry about a site (itself, its columns, documents and roles), oldest first.
pub async fn of_site(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<AuditView>> {
    let rows: Vec<AuditRow> =
        sqlx::query_as("SELECT * FROM audit_log WHERE site_id = $1 ORDER BY id").bind(site_id).fetch_all(conn).await?;
    Ok(rows.iter().map(AuditView::from).collect())
}

/// Every entry about one thing (`document` 86), oldest first.
pub async fn of_entity(conn: &mut AnyConnection, entity: &str, id: i64) -> AppResult<Vec<AuditView>> {
    let rows: Vec<AuditRow> =
        sqlx::query_as("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id")
            .bind(entity)
            .bind(id)
            .fetch_all(conn)
            .await?;
    Ok(rows.iter().map(AuditView::from).collect())
}
