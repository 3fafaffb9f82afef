//! Documents and their editions (GOV.UK's model: at most one draft and one live edition,
//! every edition kept), the review workflow (R2.2) and attachments.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::column::ColumnStatus;
use zhanqun_domain::site::SiteState;
use zhanqun_domain::workflow::{DocAction, DocState, Role, UnpublishMode, unpublish_step, workflow_step};

use super::views::{
    AttachmentView, AuditView, DocumentView, EditionView, doc_state_label, fmt_opt, fmt_time, parse_time,
};
use super::{Actor, App, Audit, Versioned, audit, claim, require_any_role, require_role};
use crate::content::{BodyFormat, check_attachment, render_body};
use crate::error::{AppError, AppResult};
use crate::store::now_ms;
use crate::store::rows::{AttachmentRow, AuditRow, ColumnRow, DocumentRow, EditionRow, SiteRow};

fn default_format() -> String {
    "markdown".into()
}
fn default_locale() -> String {
    "zh-CN".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub summary: String,
    pub body: String,
    #[serde(default = "default_format")]
    pub body_format: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    pub columns: Vec<i64>,
    pub canonical_column_id: Option<i64>,
}

/// A change to a document's draft. `version` is the document version it was based on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    pub version: i64,
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub source: Option<String>,
    pub author: Option<String>,
    pub keywords: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub locale: Option<String>,
    pub columns: Option<Vec<i64>>,
    pub canonical_column_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub action: String,
    pub comment: Option<String>,
    /// RFC 3339; with the editorial `approve`, publish then instead of at once.
    pub publish_at: Option<String>,
    /// With `unpublish`: `withdrawn` (default), `redirect` or `gone`.
    pub mode: Option<String>,
    pub redirect_url: Option<String>,
    /// When given, the transition is refused if the document changed since.
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EditionSummary {
    pub number: i64,
    pub state: String,
    pub title: String,
    pub created_by: i64,
    pub created_at: String,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub document_id: i64,
    pub entries: Vec<AuditView>,
    pub editions: Vec<EditionSummary>,
}

/// The content fields of an edition.
#[derive(Debug, Clone)]
struct EditionFields {
    title: String,
    subtitle: String,
    source: String,
    author: String,
    keywords: String,
    summary: String,
    body: String,
    body_format: String,
}

impl EditionFields {
    fn validate(mut self) -> Result<(EditionFields, BodyFormat), FieldErrors> {
        let mut e = FieldErrors::new();
        for s in [&mut self.title, &mut self.subtitle, &mut self.source, &mut self.author, &mut self.keywords] {
            *s = s.trim().to_string();
        }
        e.required("title", "标题", &self.title);
        e.max_chars("title", "标题", &self.title, 200);
        e.max_chars("subtitle", "副标题", &self.subtitle, 200);
        e.max_chars("source", "来源", &self.source, 100);
        e.max_chars("author", "作者", &self.author, 60);
        e.max_chars("keywords", "关键词", &self.keywords, 200);
        e.max_chars("summary", "摘要", &self.summary, 500);
        e.required("body", "正文", &self.body);
        e.max_chars("body", "正文", &self.body, 500_000);
        let fmt = BodyFormat::parse(&self.body_format).map_err(|err| {
            if let AppError::Invalid(fe) = err {
                e.0.extend(fe.0);
            }
        });
        match fmt {
            Ok(f) if e.is_empty() => Ok((self, f)),
            _ => Err(e),
        }
    }

    fn from_edition(e: &EditionRow) -> EditionFields {
        EditionFields {
            title: e.title.clone(),
            subtitle: e.subtitle.clone(),
            source: e.source.clone(),
            author: e.author.clone(),
            keywords: e.keywords.clone(),
            summary: e.summary.clone(),
            body: e.body_source.clone(),
            body_format: e.body_format.clone(),
        }
    }
}

fn check_locale(locale: &str) -> AppResult<()> {
    let b = locale.as_bytes();
    let ok = match b.len() {
        2 => b.iter().all(u8::is_ascii_lowercase),
        5 => b[..2].iter().all(u8::is_ascii_lowercase) && b[2] == b'-' && b[3..].iter().all(u8::is_ascii_uppercase),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::field("locale", "locale_format", format!("语言代码「{locale}」无效，示例：zh-CN、en")))
    }
}

pub(crate) async fn load_document(conn: &mut AnyConnection, id: i64) -> AppResult<DocumentRow> {
    sqlx::query_as("SELECT * FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("文档", id))
}

async fn load_edition(conn: &mut AnyConnection, id: i64) -> AppResult<EditionRow> {
    Ok(sqlx::query_as("SELECT * FROM editions WHERE id = $1").bind(id).fetch_one(conn).await?)
}

/// Checks a document's column list: at least one, all active columns of its own site.
/// Returns the canonical column (the one given, or the first).
async fn check_columns(conn: &mut AnyConnection, site_id: i64, cols: &[i64], canonical: Option<i64>) -> AppResult<i64> {
    let mut e = FieldErrors::new();
    if cols.is_empty() {
        e.add("columns", "required", "请至少选择一个栏目");
    }
    for (i, &cid) in cols.iter().enumerate() {
        let c: Option<ColumnRow> =
            sqlx::query_as("SELECT * FROM columns WHERE id = $1").bind(cid).fetch_optional(&mut *conn).await?;
        match c {
            Some(c) if c.site_id != site_id => {
                e.add(&format!("columns[{i}]"), "same_site", format!("栏目「{}」不属于本站点", c.name))
            }
            Some(c) if c.status != ColumnStatus::Active.as_str() => {
                e.add(&format!("columns[{i}]"), "column_state", format!("栏目「{}」已合并或关闭", c.name))
            }
            Some(_) if cols[..i].contains(&cid) => e.add(&format!("columns[{i}]"), "unique", "栏目重复"),
            Some(_) => {}
            None => e.add(&format!("columns[{i}]"), "exists", format!("栏目 #{cid} 不存在")),
        }
    }
    if let Some(c) = canonical
        && !cols.contains(&c)
    {
        e.add("canonical_column_id", "in_columns", "主栏目必须是所选栏目之一");
    }
    e.into_result()?;
    Ok(canonical.or(cols.first().copied()).unwrap_or_default())
}

async fn write_columns(conn: &mut AnyConnection, doc_id: i64, cols: &[i64]) -> AppResult<()> {
    sqlx::query("DELETE FROM document_columns WHERE document_id = $1").bind(doc_id).execute(&mut *conn).await?;
    for c in cols {
        sqlx::query("INSERT INTO document_columns (document_id, column_id) VALUES ($1, $2)")
            .bind(doc_id)
            .bind(c)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The public base address of a site: its own domain, or under the nearest ancestor with one.
async fn public_base(conn: &mut AnyConnection, scheme: &str, site: &SiteRow) -> AppResult<Option<String>> {
    if let Some(d) = &site.primary_domain {
        return Ok(Some(format!("{scheme}://{d}")));
    }
    for a in super::ancestors(conn, site.id).await? {
        let d: Option<Option<String>> = sqlx::query_scalar("SELECT primary_domain FROM sites WHERE id = $1")
            .bind(a)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(Some(d)) = d {
            return Ok(Some(format!("{scheme}://{d}/sites/{}", site.id)));
        }
    }
    Ok(None)
}

/// Makes `edition` the live edition of `doc` now.
async fn publish_edition(conn: &mut AnyConnection, doc: &DocumentRow, edition_id: i64, now: i64) -> AppResult<()> {
    if let Some(prev) = doc.live_edition_id.filter(|&p| p != edition_id) {
        sqlx::query("UPDATE editions SET state = 'superseded', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(prev)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE editions SET state = 'published', published_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(edition_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE documents SET state = 'published', live_edition_id = $1, draft_edition_id = NULL, \
         first_published_at = COALESCE(first_published_at, $2), unpublish_mode = NULL, unpublish_note = NULL, \
         redirect_url = NULL, reject_reason = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(edition_id)
    .bind(now)
    .bind(doc.id)
    .execute(&mut *conn)
    .await?;
    super::disclosure::assign_index_number(conn, doc.id).await?;
    super::disclosure::sync_listing(conn, doc.id).await?;
    Ok(())
}

fn doc_audit<'a>(
    doc: &DocumentRow,
    action: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    comment: &'a str,
    detail: serde_json::Value,
) -> Audit<'a> {
    Audit {
        site_id: Some(doc.site_id),
        entity: "document",
        entity_id: doc.id,
        action,
        from_state: from,
        to_state: to,
        comment,
        detail,
    }
}

/// The job payload of a scheduled publication.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishJob {
    pub document_id: i64,
    pub edition_id: i64,
}

impl App {
    pub(crate) async fn document_view(&self, conn: &mut AnyConnection, doc: &DocumentRow) -> AppResult<DocumentView> {
        let draft = match doc.draft_edition_id {
            Some(id) => Some(load_edition(conn, id).await?),
            None => None,
        };
        let live = match doc.live_edition_id {
            Some(id) => Some(load_edition(conn, id).await?),
            None => None,
        };
        let columns: Vec<i64> =
            sqlx::query_scalar("SELECT column_id FROM document_columns WHERE document_id = $1 ORDER BY column_id")
                .bind(doc.id)
                .fetch_all(&mut *conn)
                .await?;
        let attachments: Vec<AttachmentRow> =
            sqlx::query_as("SELECT * FROM attachments WHERE document_id = $1 ORDER BY id")
                .bind(doc.id)
                .fetch_all(&mut *conn)
                .await?;
        let public_url = if live.as_ref().is_some_and(|e| e.state == DocState::Published.as_str()) {
            let site = super::sites::load_site(conn, doc.site_id).await?;
            public_base(conn, &self.config.public_scheme, &site).await?.map(|b| format!("{b}/articles/{}.html", doc.id))
        } else {
            None
        };
        Ok(DocumentView {
            id: doc.id,
            site_id: doc.site_id,
            locale: doc.locale.clone(),
            state: doc.state.clone(),
            state_label: doc_state_label(&doc.state),
            version: doc.version,
            columns,
            canonical_column_id: doc.canonical_column_id,
            draft: draft.as_ref().map(EditionView::from),
            live: live.as_ref().map(EditionView::from),
            public_url,
            reject_reason: doc.reject_reason.clone(),
            unpublish_mode: doc.unpublish_mode.clone(),
            unpublish_note: doc.unpublish_note.clone(),
            redirect_url: doc.redirect_url.clone(),
            attachments: attachments.iter().map(AttachmentView::from).collect(),
            created_by: doc.created_by,
            created_at: fmt_time(doc.created_at),
            updated_at: fmt_time(doc.updated_at),
            first_published_at: fmt_opt(doc.first_published_at),
        })
    }

    /// Writes a new document as a draft.
    pub async fn create_document(&self, actor: &Actor, site_id: i64, input: NewDocument) -> AppResult<DocumentView> {
        let mut w = self.db.begin_write().await?;
        let site = super::sites::load_site(w.conn(), site_id).await?;
        require_role(w.conn(), actor, site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if site.state == SiteState::Closed.as_str() {
            return Err(AppError::Conflict(format!("站点「{}」已关停，不能再发布信息", site.name)));
        }
        check_locale(&input.locale)?;
        let fields = EditionFields {
            title: input.title,
            subtitle: input.subtitle,
            source: input.source,
            author: input.author,
            keywords: input.keywords,
            summary: input.summary,
            body: input.body,
            body_format: input.body_format,
        }
        .validate();
        // Report the content and the column problems together.
        let columns = check_columns(w.conn(), site_id, &input.columns, input.canonical_column_id).await;
        let ((f, fmt), canonical) = match (fields, columns) {
            (Ok(f), Ok(c)) => (f, c),
            (Err(mut e), Err(AppError::Invalid(more))) => {
                e.0.extend(more.0);
                return Err(e.into());
            }
            (Err(e), _) => return Err(e.into()),
            (_, Err(e)) => return Err(e),
        };
        let now = now_ms();
        let user = actor.user_id.unwrap_or_default();
        let doc_id: i64 = sqlx::query_scalar(
            "INSERT INTO documents (site_id, locale, state, canonical_column_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $5, $5) RETURNING id",
        )
        .bind(site_id)
        .bind(&input.locale)
        .bind(canonical)
        .bind(user)
        .bind(now)
        .fetch_one(w.conn())
        .await?;
        let edition_id = insert_edition(w.conn(), doc_id, 1, &f, fmt, user, now).await?;
        sqlx::query("UPDATE documents SET draft_edition_id = $1 WHERE id = $2")
            .bind(edition_id)
            .bind(doc_id)
            .execute(w.conn())
            .await?;
        write_columns(w.conn(), doc_id, &input.columns).await?;
        let doc = load_document(w.conn(), doc_id).await?;
        audit(
            w.conn(),
            actor,
            doc_audit(&doc, "create", None, Some("draft"), "", serde_json::json!({"title": f.title, "edition": 1})),
        )
        .await?;
        let view = self.document_view(w.conn(), &doc).await?;
        w.commit().await?;
        Ok(view)
    }

    pub async fn get_document(&self, actor: &Actor, id: i64) -> AppResult<DocumentView> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        self.document_view(&mut c, &doc).await
    }

    /// Documents of a site, newest first, optionally in one workflow state (review queues).
    pub async fn list_documents(
        &self,
        actor: &Actor,
        site_id: i64,
        state: Option<&str>,
    ) -> AppResult<Vec<DocumentView>> {
        let mut c = self.db.pool.acquire().await?;
        super::sites::load_site(&mut c, site_id).await?;
        require_any_role(&mut c, actor, site_id).await?;
        let rows: Vec<DocumentRow> = match state {
            Some(s) => {
                DocState::parse(s).ok_or_else(|| AppError::field("state", "one_of", format!("状态「{s}」无效")))?;
                sqlx::query_as("SELECT * FROM documents WHERE site_id = $1 AND state = $2 ORDER BY updated_at DESC, id DESC LIMIT 500")
                    .bind(site_id)
                    .bind(s)
                    .fetch_all(&mut *c)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT * FROM documents WHERE site_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 500")
                    .bind(site_id)
                    .fetch_all(&mut *c)
                    .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for d in &rows {
            out.push(self.document_view(&mut c, d).await?);
        }
        Ok(out)
    }

    /// Edits the draft. Without a draft (the document is live or withdrawn), a new draft
    /// edition is started from the latest one; the live edition stays live meanwhile.
    pub async fn update_document(&self, actor: &Actor, id: i64, p: DocumentPatch) -> AppResult<DocumentView> {
        let mut w = self.db.begin_write().await?;
        let doc = load_document(w.conn(), id).await?;
        require_role(w.conn(), actor, doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if doc.version != p.version {
            return Err(stale(&doc, p.version));
        }
        let now = now_ms();
        let user = actor.user_id.unwrap_or_default();
        let (base, editing) = match doc.draft_edition_id {
            Some(d) => {
                let e = load_edition(w.conn(), d).await?;
                if e.state != DocState::Draft.as_str() {
                    return Err(AppError::Conflict(format!(
                        "文档处于「{}」状态，不能修改；如需修改，请审核人先退回",
                        doc_state_label(&e.state)
                    )));
                }
                (e, true)
            }
            None => {
                let latest: EditionRow =
                    sqlx::query_as("SELECT * FROM editions WHERE document_id = $1 ORDER BY number DESC LIMIT 1")
                        .bind(id)
                        .fetch_one(w.conn())
                        .await?;
                (latest, false)
            }
        };
        let old = EditionFields::from_edition(&base);
        let (f, fmt) = EditionFields {
            title: p.title.unwrap_or(old.title.clone()),
            subtitle: p.subtitle.unwrap_or(old.subtitle.clone()),
            source: p.source.unwrap_or(old.source.clone()),
            author: p.author.unwrap_or(old.author.clone()),
            keywords: p.keywords.unwrap_or(old.keywords.clone()),
            summary: p.summary.unwrap_or(old.summary.clone()),
            body: p.body.unwrap_or(old.body.clone()),
            body_format: p.body_format.unwrap_or(old.body_format.clone()),
        }
        .validate()?;
        let locale = p.locale.unwrap_or(doc.locale.clone());
        check_locale(&locale)?;
        let mut canonical = doc.canonical_column_id;
        if let Some(cols) = &p.columns {
            canonical = Some(check_columns(w.conn(), doc.site_id, cols, p.canonical_column_id).await?);
            write_columns(w.conn(), id, cols).await?;
        } else if let Some(c) = p.canonical_column_id {
            let cols: Vec<i64> = sqlx::query_scalar("SELECT column_id FROM document_columns WHERE document_id = $1")
                .bind(id)
                .fetch_all(w.conn())
                .await?;
            canonical = Some(check_columns(w.conn(), doc.site_id, &cols, Some(c)).await?);
        }
        let edition_id = if editing {
            sqlx::query(
                "UPDATE editions SET title = $1, subtitle = $2, source = $3, author = $4, keywords = $5, summary = $6, \
                 body_format = $7, body_source = $8, body_html = $9, updated_at = $10 WHERE id = $11",
            )
            .bind(&f.title)
            .bind(&f.subtitle)
            .bind(&f.source)
            .bind(&f.author)
            .bind(&f.keywords)
            .bind(&f.summary)
            .bind(fmt.as_str())
            .bind(&f.body)
            .bind(render_body(fmt, &f.body))
            .bind(now)
            .bind(base.id)
            .execute(w.conn())
            .await?;
            base.id
        } else {
            insert_edition(w.conn(), id, base.number + 1, &f, fmt, user, now).await?
        };
        let state = if editing { doc.state.clone() } else { DocState::Draft.as_str().to_string() };
        let n = sqlx::query(
            "UPDATE documents SET draft_edition_id = $1, state = $2, locale = $3, canonical_column_id = $4, \
             version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(edition_id)
        .bind(&state)
        .bind(&locale)
        .bind(canonical)
        .bind(now)
        .bind(id)
        .bind(p.version)
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale(&doc, p.version));
        }
        let changed: Vec<&str> = [
            ("title", old.title != f.title),
            ("subtitle", old.subtitle != f.subtitle),
            ("source", old.source != f.source),
            ("author", old.author != f.author),
            ("keywords", old.keywords != f.keywords),
            ("summary", old.summary != f.summary),
            ("body", old.body != f.body || old.body_format != f.body_format),
            ("columns", p.columns.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, c)| c.then_some(k))
        .collect();
        let doc = load_document(w.conn(), id).await?;
        let number = if editing { base.number } else { base.number + 1 };
        let action = if editing { "edit" } else { "new_edition" };
        audit(
            w.conn(),
            actor,
            doc_audit(&doc, action, None, None, "", serde_json::json!({"edition": number, "changed": changed})),
        )
        .await?;
        let view = self.document_view(w.conn(), &doc).await?;
        w.commit().await?;
        if p.columns.is_some() && doc.live_edition_id.is_some() {
            // The live page lists its columns, and the column pages list it.
            self.pages.invalidate_site(doc.site_id);
        }
        Ok(view)
    }

    /// One workflow step: checks the state and the actor's role, changes state and records
    /// the step, all in one transaction.
    pub async fn transition_document(&self, actor: &Actor, id: i64, input: TransitionInput) -> AppResult<DocumentView> {
        let action = DocAction::parse(&input.action).ok_or_else(|| {
            AppError::field(
                "action",
                "one_of",
                format!("操作「{}」无效，应为 submit、approve、reject 或 unpublish", input.action),
            )
        })?;
        let comment = input.comment.as_deref().map(str::trim).unwrap_or("").to_string();
        if comment.chars().count() > 2000 {
            return Err(AppError::field("comment", "max_length", "意见不能超过 2000 个字符"));
        }
        let now = now_ms();
        let publish_at = match input.publish_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let t = parse_time(s).ok_or_else(|| {
                    AppError::field(
                        "publish_at",
                        "datetime",
                        format!("定时发布时间「{s}」格式不对，示例：2026-12-01T09:00:00+08:00"),
                    )
                })?;
                if t < now - 60_000 {
                    return Err(AppError::field("publish_at", "future", "定时发布时间已过，请重新选择"));
                }
                Some(t)
            }
        };
        let mut w = self.db.begin_write().await?;
        let doc = load_document(w.conn(), id).await?;
        if let Some(v) = input.version
            && v != doc.version
        {
            return Err(stale(&doc, v));
        }
        let site = super::sites::load_site(w.conn(), doc.site_id).await?;
        if action == DocAction::Unpublish {
            return self.unpublish(w, actor, doc, &input, comment).await;
        }
        let Some(edition_id) = doc.draft_edition_id else {
            return Err(AppError::Conflict(format!("文档当前为「{}」，没有待处理的版本", doc_state_label(&doc.state))));
        };
        let edition = load_edition(w.conn(), edition_id).await?;
        let from = DocState::parse(&edition.state).unwrap_or(DocState::Draft);
        let scheduled = publish_at.is_some_and(|t| t > now);
        let step = workflow_step(from, action, scheduled).ok_or_else(|| {
            AppError::Conflict(format!("文档当前为「{}」，不能执行「{}」", from.label(), action.label()))
        })?;
        if publish_at.is_some() && !(action == DocAction::Approve && from == DocState::EditorialReview) {
            return Err(AppError::field("publish_at", "not_applicable", "只有编辑把关通过时才能设定定时发布时间"));
        }
        require_role(w.conn(), actor, doc.site_id, step.roles).await?;
        if step.is_review && site.require_distinct_reviewer != 0 {
            let authors = [Some(edition.created_by), edition.submitted_by, Some(doc.created_by)];
            if actor.user_id.is_some() && authors.contains(&actor.user_id) {
                return Err(AppError::Forbidden("本站要求审核人不能是作者或报送人，请由其他审核人办理".into()));
            }
        }
        if action == DocAction::Reject && comment.is_empty() {
            return Err(AppError::field("comment", "required", "退回时请填写退回理由"));
        }
        let c = w.conn();
        claim(c, Versioned::Documents, doc.id, doc.version).await?;
        match (action, step.to) {
            (_, DocState::Published) => publish_edition(c, &doc, edition_id, now).await?,
            (_, to) => {
                sqlx::query("UPDATE editions SET state = $1, submitted_by = COALESCE($2, submitted_by), publish_at = $3, updated_at = $4 WHERE id = $5")
                    .bind(to.as_str())
                    .bind(if action == DocAction::Submit { actor.user_id } else { None })
                    .bind(if to == DocState::Scheduled { publish_at } else { None })
                    .bind(now)
                    .bind(edition_id)
                    .execute(&mut *c)
                    .await?;
                let reason = match action {
                    DocAction::Reject => Some(comment.clone()),
                    _ => None,
                };
                sqlx::query("UPDATE documents SET state = $1, reject_reason = $2, updated_at = $3 WHERE id = $4")
                    .bind(to.as_str())
                    .bind(reason)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        if step.to == DocState::Scheduled {
            let payload = serde_json::to_string(&PublishJob { document_id: id, edition_id })
                .map_err(|e| AppError::Internal(e.into()))?;
            sqlx::query("INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ('publish', $1, $2, $3)")
                .bind(payload)
                .bind(publish_at.unwrap_or(now))
                .bind(now)
                .execute(&mut *c)
                .await?;
        }
        let detail = serde_json::json!({"edition": edition.number, "publish_at": publish_at.map(fmt_time)});
        audit(
            c,
            actor,
            doc_audit(&doc, action.as_str(), Some(from.as_str()), Some(step.to.as_str()), &comment, detail),
        )
        .await?;
        let doc = load_document(c, id).await?;
        let view = self.document_view(c, &doc).await?;
        w.commit().await?;
        match step.to {
            DocState::Scheduled => self.jobs_notify.notify_one(),
            DocState::Published => self.document_changed(doc.site_id, id).await,
            _ => {}
        }
        Ok(view)
    }

    async fn unpublish(
        &self,
        mut w: crate::store::WriteTx,
        actor: &Actor,
        doc: DocumentRow,
        input: &TransitionInput,
        comment: String,
    ) -> AppResult<DocumentView> {
        let live = match doc.live_edition_id {
            Some(l) => Some(load_edition(w.conn(), l).await?),
            None => None,
        };
        let Some(live) = live.filter(|l| l.state == DocState::Published.as_str()) else {
            return Err(AppError::Conflict("文档不在发布状态，无需撤稿".into()));
        };
        require_role(w.conn(), actor, doc.site_id, unpublish_step().roles).await?;
        let mode_s = input.mode.as_deref().unwrap_or("withdrawn");
        let mode = UnpublishMode::parse(mode_s).ok_or_else(|| {
            AppError::field(
                "mode",
                "one_of",
                format!("撤稿方式「{mode_s}」无效，应为 withdrawn（保留页面并说明）、redirect（跳转）或 gone（删除）"),
            )
        })?;
        let redirect = match mode {
            UnpublishMode::Redirect => {
                let u = input.redirect_url.as_deref().map(str::trim).unwrap_or("");
                let ok = (u.starts_with('/') && !u.starts_with("//"))
                    || url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
                if !ok {
                    return Err(AppError::field(
                        "redirect_url",
                        "url",
                        "跳转地址须为 http(s):// 开头的网址或以 / 开头的站内路径",
                    ));
                }
                Some(u.to_string())
            }
            _ => None,
        };
        if mode == UnpublishMode::Gone {
            let interpretations: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM interpretation_links WHERE policy_id = $1")
                    .bind(doc.id)
                    .fetch_one(w.conn())
                    .await?;
            if interpretations > 0 {
                return Err(AppError::Conflict(format!(
                    "这份政策有 {interpretations} 篇解读与之关联，不能删除；可以改为保留页面并说明（withdrawn），或先处理解读"
                )));
            }
        }
        if mode == UnpublishMode::Withdrawn && comment.is_empty() {
            return Err(AppError::field("comment", "required", "保留页面撤稿时请填写撤稿说明，它将显示在原页面上"));
        }
        let now = now_ms();
        let c = w.conn();
        claim(c, Versioned::Documents, doc.id, doc.version).await?;
        sqlx::query("UPDATE editions SET state = 'unpublished', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(live.id)
            .execute(&mut *c)
            .await?;
        let state = match doc.draft_edition_id {
            Some(_) => doc.state.clone(),
            None => DocState::Unpublished.as_str().to_string(),
        };
        sqlx::query(
            "UPDATE documents SET state = $1, unpublish_mode = $2, unpublish_note = $3, redirect_url = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&state)
        .bind(mode.as_str())
        .bind(&comment)
        .bind(&redirect)
        .bind(now)
        .bind(doc.id)
        .execute(&mut *c)
        .await?;
        let detail = serde_json::json!({"edition": live.number, "mode": mode.as_str(), "redirect_url": redirect});
        audit(c, actor, doc_audit(&doc, "unpublish", Some("published"), Some("unpublished"), &comment, detail)).await?;
        super::disclosure::sync_listing(c, doc.id).await?;
        let doc = load_document(c, doc.id).await?;
        let view = self.document_view(c, &doc).await?;
        w.commit().await?;
        self.document_changed(doc.site_id, doc.id).await;
        Ok(view)
    }

    /// Runs a due scheduled publication. Does nothing when the edition was rejected or
    /// replaced meanwhile; publishing twice is impossible because the edition's state is
    /// checked in the same transaction that marks the job done.
    /// Returns the (site, document) published, for the caller to invalidate after commit.
    pub(crate) async fn run_publish_job(
        &self,
        w: &mut crate::store::WriteTx,
        job: &PublishJob,
    ) -> AppResult<Option<(i64, i64)>> {
        let c = w.conn();
        let doc: Option<DocumentRow> = sqlx::query_as("SELECT * FROM documents WHERE id = $1")
            .bind(job.document_id)
            .fetch_optional(&mut *c)
            .await?;
        let Some(doc) = doc else { return Ok(None) };
        if doc.draft_edition_id != Some(job.edition_id) {
            return Ok(None);
        }
        let e = load_edition(c, job.edition_id).await?;
        if e.state != DocState::Scheduled.as_str() {
            return Ok(None);
        }
        let now = now_ms();
        claim(c, Versioned::Documents, doc.id, doc.version).await?;
        publish_edition(c, &doc, e.id, now).await?;
        let actor = Actor::system("定时发布");
        let detail = serde_json::json!({"edition": e.number, "publish_at": fmt_opt(e.publish_at)});
        audit(c, &actor, doc_audit(&doc, "publish", Some("scheduled"), Some("published"), "", detail)).await?;
        Ok(Some((doc.site_id, doc.id)))
    }

    /// The draft (or else the live edition) rendered exactly as the public site will show it.
    pub async fn preview_document(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<std::sync::Arc<crate::render::cache::Page>> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let edition_id =
            doc.draft_edition_id.or(doc.live_edition_id).ok_or_else(|| AppError::not_found("文档版本", id))?;
        let e = load_edition(&mut c, edition_id).await?;
        self.render_article(&mut c, &doc, &e, None, None).await
    }

    /// Every recorded step of a document, oldest first, and its editions.
    pub async fn document_history(&self, actor: &Actor, id: i64) -> AppResult<History> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let rows: Vec<AuditRow> =
            sqlx::query_as("SELECT * FROM audit_log WHERE entity = 'document' AND entity_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *c)
                .await?;
        let editions: Vec<EditionRow> = sqlx::query_as("SELECT * FROM editions WHERE document_id = $1 ORDER BY number")
            .bind(id)
            .fetch_all(&mut *c)
            .await?;
        Ok(History {
            document_id: id,
            entries: rows.iter().map(AuditView::from).collect(),
            editions: editions
                .iter()
                .map(|e| EditionSummary {
                    number: e.number,
                    state: e.state.clone(),
                    title: e.title.clone(),
                    created_by: e.created_by,
                    created_at: fmt_time(e.created_at),
                    published_at: fmt_opt(e.published_at),
                })
                .collect(),
        })
    }

    /// Stores an attachment of a document after checking its size and its real type.
    pub async fn add_attachment(
        &self,
        actor: &Actor,
        doc_id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> AppResult<AttachmentView> {
        let checked = check_attachment(file_name, bytes, self.config.max_attachment_bytes())?;
        let sha = hex::encode(Sha256::digest(bytes));
        let mut w = self.db.begin_write().await?;
        let doc = load_document(w.conn(), doc_id).await?;
        require_role(w.conn(), actor, doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if matches!(
            DocState::parse(&doc.state),
            Some(DocState::Submitted | DocState::EditorialReview | DocState::Scheduled)
        ) {
            return Err(AppError::Conflict("文档正在审核中，不能更改附件".into()));
        }
        self.store_file(&sha, bytes).await?;
        let row: AttachmentRow = sqlx::query_as(
            "INSERT INTO attachments (document_id, file_name, media_type, size_bytes, sha256, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(doc_id)
        .bind(&checked.file_name)
        .bind(&checked.media_type)
        .bind(bytes.len() as i64)
        .bind(&sha)
        .bind(actor.user_id.unwrap_or_default())
        .bind(now_ms())
        .fetch_one(w.conn())
        .await?;
        claim(w.conn(), Versioned::Documents, doc_id, doc.version).await?;
        let detail = serde_json::json!({"attachment_id": row.id, "file_name": row.file_name, "sha256": sha, "size": row.size_bytes});
        audit(w.conn(), actor, doc_audit(&doc, "attach", None, None, "", detail)).await?;
        w.commit().await?;
        if doc.live_edition_id.is_some() {
            self.document_changed(doc.site_id, doc_id).await;
        }
        Ok(AttachmentView::from(&row))
    }

    /// An attachment's record and the path of its bytes.
    pub async fn get_attachment(&self, actor: &Actor, id: i64) -> AppResult<(AttachmentRow, std::path::PathBuf)> {
        let mut c = self.db.pool.acquire().await?;
        let row: AttachmentRow = sqlx::query_as("SELECT * FROM attachments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| AppError::not_found("附件", id))?;
        let doc = load_document(&mut c, row.document_id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let path = self.file_path(&row.sha256);
        Ok((row, path))
    }

    pub(crate) fn file_path(&self, sha: &str) -> std::path::PathBuf {
        self.data_dir.join("files").join(&sha[..2]).join(sha)
    }

    /// Writes a content-addressed file atomically (temporary file, then rename).
    pub(crate) async fn store_file(&self, sha: &str, bytes: &[u8]) -> AppResult<()> {
        let path = self.file_path(sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let dir = path.parent().ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad file path")))?;
        tokio::fs::create_dir_all(dir).await?;
        let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::File::open(&tmp).await?.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }
}

fn stale(doc: &DocumentRow, based_on: i64) -> AppError {
    AppError::StaleVersion {
        message: format!(
            "文档已被他人修改（您基于第 {based_on} 版，当前为第 {} 版）。您的修改未保存，也没有覆盖他人的修改；请查看最新内容后再提交。",
            doc.version
        ),
        current_version: doc.version,
    }
}

async fn insert_edition(
    conn: &mut AnyConnection,
    doc_id: i64,
    number: i64,
    f: &EditionFields,
    fmt: BodyFormat,
    user: i64,
    now: i64,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO editions (document_id, number, state, title, subtitle, source, author, keywords, summary, body_format, \
         body_source, body_html, created_by, created_at, updated_at) \
         VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(doc_id)
    .bind(number)
    .bind(&f.title)
    .bind(&f.subtitle)
    .bind(&f.source)
    .bind(&f.author)
    .bind(&f.keywords)
    .bind(&f.summary)
    .bind(fmt.as_str())
    .bind(&f.body)
    .bind(render_body(fmt, &f.body))
    .bind(user)
    .bind(now)
    .fetch_one(conn)
    .await?)
}
