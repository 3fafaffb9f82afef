//! Wrong and sensitive expressions (错敏词): the list the web office keeps (word, kind,
//! suggested correction, note), every node's matcher built from it, and the check of a
//! text against it. The editor's check, the submit gate and the monitor all read the same
//! list; the matching itself is `zhanqun_domain::expressions`.

pub mod admin;
pub mod api;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::FromRow;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::expressions::{Entry, Hit, Kind, Matcher, check_entry};

use crate::app::App;
use crate::kernel::events::{Scope, StoredEvent, Subscriber};
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

/// The longest text one check reads, in characters (a long report is about 100,000).
pub const MAX_TEXT_CHARS: usize = 1_000_000;

/// One entry of the list.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Expression {
    pub id: i64,
    pub word: String,
    /// `wrong`, `sensitive` or `forbidden`.
    pub kind: String,
    pub suggestion: Option<String>,
    pub note: String,
    pub updated_by: String,
    #[serde(serialize_with = "crate::kernel::time::ser_time")]
    #[schema(value_type = String)]
    pub updated_at: i64,
}

/// What an administrator types for an entry.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpressionInput {
    /// The expression as it is found in texts, 2 to 50 characters.
    pub word: String,
    /// `wrong` (a wrong form: submitting needs a confirmation), `sensitive` (shown to the
    /// writer and the secrecy reviewer) or `forbidden` (a document carrying it is not
    /// submitted).
    pub kind: String,
    /// What to write instead; a wrong form needs one.
    pub suggestion: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The hits of one check, with how many of each kind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    #[schema(value_type = Vec<Object>)]
    pub hits: Vec<Hit>,
    pub wrong: usize,
    pub sensitive: usize,
    pub forbidden: usize,
}

impl CheckResult {
    pub fn of(hits: Vec<Hit>) -> CheckResult {
        let n = |k: Kind| hits.iter().filter(|h| h.kind == k).count();
        CheckResult { wrong: n(Kind::Wrong), sensitive: n(Kind::Sensitive), forbidden: n(Kind::Forbidden), hits }
    }
}

/// Keeps every node's matcher in step with the table.
pub struct ExpressionsReload;

impl Subscriber for ExpressionsReload {
    fn name(&self) -> &'static str {
        "expressions"
    }

    fn scope(&self) -> Scope {
        Scope::Node
    }

    fn handle<'a>(&'a self, app: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match e.event {
                Event::ExpressionsChanged => app.reload_expressions().await,
                _ => Ok(()),
            }
        })
    }
}

fn input_entry(i: &ExpressionInput) -> AppResult<(Kind, String, Option<String>, String)> {
    let mut e = FieldErrors::new();
    let kind = Kind::parse(i.kind.trim());
    if kind.is_none() {
        e.add(
            "kind",
            "one_of",
            format!("类别「{}」无效，应为 wrong（错误表述）、sensitive（敏感表述）或 forbidden（禁用表述）", i.kind),
        );
    }
    let suggestion = i.suggestion.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    check_entry(&i.word, suggestion.as_deref(), &mut e);
    if kind == Some(Kind::Wrong) && suggestion.is_none() {
        e.add("suggestion", "required", "错误表述请填写建议改为的正确写法");
    }
    e.max_chars("note", "说明", &i.note, 500);
    e.into_result()?;
    Ok((kind.unwrap_or(Kind::Sensitive), i.word.trim().to_string(), suggestion, i.note.trim().to_string()))
}

const COLUMNS: &str = "id, word, kind, suggestion, note, updated_by, updated_at";

impl App {
    /// Reads the list, with the configured `[monitor] wrong_expressions`, into this node's
    /// matcher (the editor's check and the monitor both read it).
    pub async fn reload_expressions(&self) -> AppResult<()> {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT word, kind, suggestion FROM expressions ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?;
        let mut entries: Vec<Entry> = rows
            .into_iter()
            .filter_map(|(word, kind, suggestion)| Some(Entry { word, kind: Kind::parse(&kind)?, suggestion }))
            .collect();
        entries.extend(self.config.monitor.extra_expressions());
        self.expressions.store(Arc::new(Matcher::new(entries)));
        Ok(())
    }

    /// The list, filtered by kind and by a part of the word or suggestion (signed-in staff).
    pub async fn list_expressions(
        &self,
        actor: &Actor,
        kind: Option<&str>,
        q: Option<&str>,
    ) -> AppResult<Vec<Expression>> {
        require_staff(actor)?;
        if let Some(k) = kind.filter(|k| Kind::parse(k).is_none()) {
            return Err(AppError::field(
                "kind",
                "one_of",
                format!("类别「{k}」无效，应为 wrong、sensitive 或 forbidden"),
            ));
        }
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        if let Some(q) = q
            && q.chars().count() > 50
        {
            return Err(AppError::field("q", "max_length", "查找的文字不能超过 50 个字符"));
        }
        let mut b = crate::kernel::db::QueryBuilder::new(&format!("SELECT {COLUMNS} FROM expressions WHERE 1 = 1"));
        if let Some(k) = kind {
            b.push(" AND kind = ").push_bind(k.to_string());
        }
        if let Some(q) = q {
            let like = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            b.push(" AND (word LIKE ").push_bind(like.clone()).push(" ESCAPE '\\' OR suggestion LIKE ");
            b.push_bind(like).push(" ESCAPE '\\')");
        }
        b.push(" ORDER BY kind, word");
        Ok(b.fetch_all::<Expression>(&self.db.pool).await?)
    }

    /// Adds an entry (system administrators).
    pub async fn create_expression(&self, actor: &Actor, i: &ExpressionInput) -> AppResult<Expression> {
        actor.require_admin()?;
        let (kind, word, suggestion, note) = input_entry(i)?;
        let mut cmd = self.begin(actor).await?;
        refuse_taken(cmd.conn(), &word, None).await?;
        let now = now_ms();
        let x: Expression = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO expressions (word, kind, suggestion, note, updated_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        )))
        .bind(&word)
        .bind(kind.as_str())
        .bind(&suggestion)
        .bind(&note)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            None,
            "expression",
            x.id,
            "create",
            serde_json::json!({"word": word, "kind": kind.as_str()}),
        ))
        .await?;
        cmd.emit(Event::ExpressionsChanged).await?;
        cmd.commit().await?;
        Ok(x)
    }

    /// Changes an entry (system administrators).
    pub async fn update_expression(&self, actor: &Actor, id: i64, i: &ExpressionInput) -> AppResult<Expression> {
        actor.require_admin()?;
        let (kind, word, suggestion, note) = input_entry(i)?;
        let mut cmd = self.begin(actor).await?;
        refuse_taken(cmd.conn(), &word, Some(id)).await?;
        let x: Option<Expression> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE expressions SET word = $1, kind = $2, suggestion = $3, note = $4, updated_by = $5, updated_at = $6 \
             WHERE id = $7 RETURNING {COLUMNS}"
        )))
        .bind(&word)
        .bind(kind.as_str())
        .bind(&suggestion)
        .bind(&note)
        .bind(&actor.name)
        .bind(now_ms())
        .bind(id)
        .fetch_optional(cmd.conn())
        .await?;
        let x = x.ok_or_else(|| AppError::NotFound(format!("词库中没有 #{id}")))?;
        cmd.audit(Audit::event(
            None,
            "expression",
            id,
            "update",
            serde_json::json!({"word": word, "kind": kind.as_str()}),
        ))
        .await?;
        cmd.emit(Event::ExpressionsChanged).await?;
        cmd.commit().await?;
        Ok(x)
    }

    /// Removes an entry (system administrators).
    pub async fn delete_expression(&self, actor: &Actor, id: i64) -> AppResult<()> {
        actor.require_admin()?;
        let mut cmd = self.begin(actor).await?;
        let word: Option<String> = sqlx::query_scalar("DELETE FROM expressions WHERE id = $1 RETURNING word")
            .bind(id)
            .fetch_optional(cmd.conn())
            .await?;
        let word = word.ok_or_else(|| AppError::NotFound(format!("词库中没有 #{id}")))?;
        cmd.audit(Audit::event(None, "expression", id, "delete", serde_json::json!({"word": word}))).await?;
        cmd.emit(Event::ExpressionsChanged).await?;
        cmd.commit().await
    }

    /// Every expression of the list in `text` (signed-in staff).
    pub async fn check_expressions(&self, actor: &Actor, text: &str) -> AppResult<CheckResult> {
        require_staff(actor)?;
        let n = text.chars().count();
        if n > MAX_TEXT_CHARS {
            return Err(AppError::field(
                "text",
                "max_length",
                format!("一次最多检查 {MAX_TEXT_CHARS} 个字符（现为 {n} 个）"),
            ));
        }
        let m = self.expressions.load_full();
        let text = text.to_string();
        // A long text is CPU work: on the blocking pool, off the runtime's workers.
        let hits = tokio::task::spawn_blocking(move || m.find(&text))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("checking expressions: {e}")))?;
        Ok(CheckResult::of(hits))
    }
}

/// Refuses a word an entry other than `except` already has.
async fn refuse_taken(conn: &mut sqlx::AnyConnection, word: &str, except: Option<i64>) -> AppResult<()> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM expressions WHERE word = $1 AND id <> $2")
        .bind(word)
        .bind(except.unwrap_or(0))
        .fetch_optional(conn)
        .await?;
    match taken {
        Some(_) => Err(AppError::field("word", "unique", format!("表述「{word}」已在词库中"))),
        None => Ok(()),
    }
}

/// A signed-in person: every account is staff of the platform (the public has none).
fn require_staff(actor: &Actor) -> AppResult<()> {
    if actor.user_id.is_none() {
        return Err(AppError::Forbidden("请先登录".into()));
    }
    Ok(())
}
