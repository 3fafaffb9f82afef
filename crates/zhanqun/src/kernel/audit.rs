//! The audit trail: one entry per step anybody takes, written in the same transaction as
//! the change it records, never changed afterwards (database triggers refuse UPDATE and
//! DELETE). "Who publishes is responsible" (谁发布谁负责, R2.2).
//!
//! The entries form a hash chain (等保 level 3: the trail's integrity is checkable): entry
//! `seq` carries SHA-256 of the hash before it and its own fields, and the one-row
//! `audit_head` holds the last. Whoever gets past the triggers (a database superuser) and
//! changes, removes or inserts an entry breaks the chain, and [`verify`] says where.

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

/// Writes an entry, chained to the one before. Commands write theirs through
/// [`super::command::Command::audit`]. Taking the chain's head locks its row until the
/// transaction ends, so entries are chained in the order their transactions commit.
pub async fn write(conn: &mut AnyConnection, actor: &Actor, a: Audit<'_>) -> AppResult<()> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let e = Entry {
        seq,
        at: now_ms(),
        actor_id: actor.user_id,
        actor_name: actor.name.clone(),
        site_id: a.site_id,
        entity: a.entity.to_string(),
        entity_id: a.entity_id,
        action: a.action.to_string(),
        from_state: a.from_state.map(str::to_string),
        to_state: a.to_state.map(str::to_string),
        comment: a.comment.to_string(),
        detail: a.detail.to_string(),
        stored: None,
    };
    let hash = e.hash(&prev);
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail, seq, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(e.at)
    .bind(e.actor_id)
    .bind(&e.actor_name)
    .bind(e.site_id)
    .bind(&e.entity)
    .bind(e.entity_id)
    .bind(&e.action)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.comment)
    .bind(&e.detail)
    .bind(seq)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *conn).await?;
    Ok(())
}

/// The fields an entry's hash covers, in one fixed order.
#[derive(Debug, Clone, FromRow)]
struct Entry {
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    site_id: Option<i64>,
    entity: String,
    entity_id: i64,
    action: String,
    from_state: Option<String>,
    to_state: Option<String>,
    comment: String,
    detail: String,
    /// The hash stored with it (ignored when hashing).
    #[sqlx(rename = "hash")]
    stored: Option<String>,
}

impl Entry {
    /// Hex SHA-256 of the previous hash and this entry's fields as a JSON array.
    fn hash(&self, prev: &str) -> String {
        use sha2::{Digest, Sha256};
        let fields = serde_json::json!([
            self.seq,
            self.at,
            self.actor_id,
            self.actor_name,
            self.site_id,
            self.entity,
            self.entity_id,
            self.action,
            self.from_state,
            self.to_state,
            self.comment,
            self.detail
        ]);
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(fields.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// Whether every chained entry is as it was written, none is missing, none was added.
    pub intact: bool,
    /// Entries checked.
    pub checked: i64,
    /// Entries written before the chain began (migration 14); they are not covered.
    pub unchained: i64,
    /// The first position where the chain breaks.
    pub broken_at: Option<i64>,
    /// What is wrong there, in Chinese.
    pub problem: Option<String>,
}

/// Walks the whole chain, a page at a time, and says whether it is intact.
pub async fn verify(conn: &mut AnyConnection) -> AppResult<ChainReport> {
    let unchained: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL").fetch_one(&mut *conn).await?;
    // An entry without a position written after the chain began was not written by the platform.
    let slipped_in: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM audit_log WHERE seq IS NULL AND id > (SELECT MIN(id) FROM audit_log WHERE seq IS NOT NULL)",
    )
    .fetch_one(&mut *conn)
    .await?;
    let broken = |checked: i64, at: i64, why: String| ChainReport {
        intact: false,
        checked,
        unchained,
        broken_at: Some(at),
        problem: Some(why),
    };
    let mut prev = String::new();
    let mut expected = 1i64;
    loop {
        let entries: Vec<Entry> = sqlx::query_as(
            "SELECT seq, at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 2000",
        )
        .bind(expected)
        .fetch_all(&mut *conn)
        .await?;
        if entries.is_empty() {
            break;
        }
        for e in &entries {
            if e.seq != expected {
                return Ok(broken(expected - 1, expected, format!("第 {expected} 条记录不见了（被删除）")));
            }
            let want = e.hash(&prev);
            if e.stored.as_deref() != Some(want.as_str()) {
                return Ok(broken(expected - 1, expected, format!("第 {expected} 条记录与写入时不符（被修改或插入）")));
            }
            prev = want;
            expected += 1;
        }
    }
    let checked = expected - 1;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    if head_seq != checked || head_hash != prev {
        return Ok(broken(
            checked,
            checked + 1,
            format!("链头记录了 {head_seq} 条，实际连续可查 {checked} 条：末尾的记录被删除，或链头被改动"),
        ));
    }
    if let Some(id) = slipped_in {
        return Ok(broken(checked, checked + 1, format!("编号 {id} 的记录不在链上：是绕过平台直接写入数据库的")));
    }
    Ok(ChainReport { intact: true, checked, unchained, broken_at: None, problem: None })
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
