//! Documents and their editions (GOV.UK's model: at most one draft and one live edition,
//! every edition kept), and their attachments. The review workflow is in [`workflow`].

pub mod admin;
pub mod api;
pub mod checks;
pub mod queries;
pub mod workflow;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::site::SiteState;
use zhanqun_domain::workflow::{DocState, Role, UnpublishMode};

use crate::app::App;
use crate::kernel::audit::AuditView;
use crate::kernel::content::{BodyFormat, check_attachment, render_body};
use crate::kernel::time::{fmt_opt, fmt_time, now_ms};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event, Versioned};

pub use queries::{find_document, load_document, load_edition};
pub use workflow::ScheduledPublication;

/// A document as the database holds it.
#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub id: i64,
    pub site_id: i64,
    pub locale: String,
    #[sqlx(try_from = "String")]
    pub state: DocState,
    pub canonical_column_id: Option<i64>,
    pub draft_edition_id: Option<i64>,
    pub live_edition_id: Option<i64>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_published_at: Option<i64>,
    pub unpublish_mode: Option<String>,
    pub unpublish_note: Option<String>,
    pub redirect_url: Option<String>,
    pub reject_reason: Option<String>,
}

impl DocumentRow {
    /// How it left the public site, if it did.
    pub fn unpublished_as(&self) -> AppResult<Option<UnpublishMode>> {
        match &self.unpublish_mode {
            None => Ok(None),
            Some(m) => UnpublishMode::parse(m).map(Some).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("unknown unpublish mode {m:?} of document {}", self.id))
            }),
        }
    }
}

/// An edition as the database holds it.
#[derive(Debug, Clone, FromRow)]
pub struct EditionRow {
    pub id: i64,
    pub document_id: i64,
    pub number: i64,
    #[sqlx(try_from = "String")]
    pub state: DocState,
    pub title: String,
    pub subtitle: String,
    pub source: String,
    pub author: String,
    pub keywords: String,
    pub summary: String,
    pub body_format: String,
    pub body_source: String,
    pub body_html: String,
    pub publish_at: Option<i64>,
    pub published_at: Option<i64>,
    pub created_by: i64,
    pub submitted_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who passed its secrecy review (the last time it was passed).
    #[sqlx(default)]
    pub secrecy_reviewed_by: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub document_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_by: i64,
    pub created_at: i64,
}

fn default_format() -> String {
    "markdown".into()
}
fn default_locale() -> String {
    "zh-CN".into()
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
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
    /// `markdown` (default) or `html`; sanitised on save either way.
    #[serde(default = "default_format")]
    pub body_format: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    /// The columns it appears in (at least one, active, of its own site).
    pub columns: Vec<i64>,
    /// The column its address belongs to (default: the first).
    pub canonical_column_id: Option<i64>,
}

/// A change to a document's draft. `version` is the document version it was based on.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionView {
    pub id: i64,
    pub number: i64,
    pub state: String,
    pub title: String,
    pub subtitle: String,
    pub source: String,
    pub author: String,
    pub keywords: String,
    pub summary: String,
    pub body_format: String,
    /// As written.
    pub body: String,
    /// As published (sanitised).
    pub body_html: String,
    pub publish_at: Option<String>,
    pub published_at: Option<String>,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&EditionRow> for EditionView {
    fn from(e: &EditionRow) -> Self {
        EditionView {
            id: e.id,
            number: e.number,
            state: e.state.as_str().into(),
            title: e.title.clone(),
            subtitle: e.subtitle.clone(),
            source: e.source.clone(),
            author: e.author.clone(),
            keywords: e.keywords.clone(),
            summary: e.summary.clone(),
            body_format: e.body_format.clone(),
            body: e.body_source.clone(),
            body_html: e.body_html.clone(),
            publish_at: fmt_opt(e.publish_at),
            published_at: fmt_opt(e.published_at),
            created_by: e.created_by,
            created_at: fmt_time(e.created_at),
            updated_at: fmt_time(e.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub url: String,
    pub created_at: String,
}

impl From<&AttachmentRow> for AttachmentView {
    fn from(a: &AttachmentRow) -> Self {
        AttachmentView {
            id: a.id,
            file_name: a.file_name.clone(),
            media_type: a.media_type.clone(),
            size_bytes: a.size_bytes,
            sha256: a.sha256.clone(),
            url: format!("/api/v1/attachments/{}", a.id),
            created_at: fmt_time(a.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: i64,
    pub site_id: i64,
    pub locale: String,
    /// `draft`, `submitted`, `editorial_review`, `scheduled`, `published` or `unpublished`.
    pub state: String,
    pub state_label: &'static str,
    pub version: i64,
    pub columns: Vec<i64>,
    pub canonical_column_id: Option<i64>,
    /// The edition being worked on, if any.
    pub draft: Option<EditionView>,
    /// The edition that is (or was last) on the public site.
    pub live: Option<EditionView>,
    /// Where the public reads it, while it is published.
    pub public_url: Option<String>,
    pub reject_reason: Option<String>,
    pub unpublish_mode: Option<String>,
    pub unpublish_note: Option<String>,
    pub redirect_url: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    pub first_published_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionSummary {
    pub number: i64,
    pub state: String,
    pub title: String,
    pub created_by: i64,
    pub created_at: String,
    pub published_at: Option<String>,
}

/// Every recorded step of a document and its editions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
            Ok(f) if e.is_empty() => {
                // An HTML body is kept as it will be shown: what the sanitiser removes (script,
                // handlers, `javascript:` links) is never stored, so no later reader of the
                // source (an export, an editor, a feed) meets it.
                if f == BodyFormat::Html {
                    self.body = crate::kernel::content::sanitize_html(&self.body);
                }
                Ok((self, f))
            }
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

/// Checks a document's column list: at least one, all active columns of its own site.
/// Returns the canonical column (the one given, or the first).
async fn check_columns(conn: &mut AnyConnection, site_id: i64, cols: &[i64], canonical: Option<i64>) -> AppResult<i64> {
    let mut e = FieldErrors::new();
    if cols.is_empty() {
        e.add("columns", "required", "请至少选择一个栏目");
    }
    for (i, &cid) in cols.iter().enumerate() {
        match crate::columns::queries::find_column(&mut *conn, cid).await? {
            Some(c) if c.site_id != site_id => {
                e.add(&format!("columns[{i}]"), "same_site", format!("栏目「{}」不属于本站点", c.name))
            }
            Some(c) if !c.is_active() => {
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

fn doc_audit<'a>(doc: &DocumentRow, action: &'a str, detail: serde_json::Value) -> Audit<'a> {
    Audit::event(Some(doc.site_id), "document", doc.id, action, detail)
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

impl App {
    /// Writes a new document as a draft.
    pub async fn create_document(&self, actor: &Actor, site_id: i64, input: NewDocument) -> AppResult<DocumentView> {
        let mut cmd = self.begin(actor).await?;
        let site = crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if site.state == SiteState::Closed {
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
        let columns = check_columns(cmd.conn(), site_id, &input.columns, input.canonical_column_id).await;
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
        .fetch_one(cmd.conn())
        .await?;
        let edition_id = insert_edition(cmd.conn(), doc_id, 1, &f, fmt, user, now).await?;
        sqlx::query("UPDATE documents SET draft_edition_id = $1 WHERE id = $2")
            .bind(edition_id)
            .bind(doc_id)
            .execute(cmd.conn())
            .await?;
        write_columns(cmd.conn(), doc_id, &input.columns).await?;
        let doc = load_document(cmd.conn(), doc_id).await?;
        cmd.audit(
            doc_audit(&doc, "create", serde_json::json!({"title": f.title, "edition": 1})).moved(None, Some("draft")),
        )
        .await?;
        let view = self.document_view(cmd.conn(), &doc).await?;
        cmd.commit().await?;
        Ok(view)
    }

    /// Edits the draft. Without a draft (the document is live or withdrawn), a new draft
    /// edition is started from the latest one; the live edition stays live meanwhile.
    pub async fn update_document(&self, actor: &Actor, id: i64, p: DocumentPatch) -> AppResult<DocumentView> {
        let mut cmd = self.begin(actor).await?;
        let doc = load_document(cmd.conn(), id).await?;
        cmd.require_role(doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if doc.version != p.version {
            return Err(stale(&doc, p.version));
        }
        let now = now_ms();
        let user = actor.user_id.unwrap_or_default();
        let (base, editing) = match doc.draft_edition_id {
            Some(d) => {
                let e = load_edition(cmd.conn(), d).await?;
                if !e.state.is_editable() {
                    return Err(AppError::Conflict(format!(
                        "文档处于「{}」状态，不能修改；如需修改，请审核人先退回",
                        e.state.label()
                    )));
                }
                (e, true)
            }
            None => (queries::latest_edition(cmd.conn(), id).await?, false),
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
            canonical = Some(check_columns(cmd.conn(), doc.site_id, cols, p.canonical_column_id).await?);
            write_columns(cmd.conn(), id, cols).await?;
        } else if let Some(c) = p.canonical_column_id {
            let cols = queries::column_ids(cmd.conn(), id).await?;
            canonical = Some(check_columns(cmd.conn(), doc.site_id, &cols, Some(c)).await?);
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
            .execute(cmd.conn())
            .await?;
            base.id
        } else {
            insert_edition(cmd.conn(), id, base.number + 1, &f, fmt, user, now).await?
        };
        let state = if editing { doc.state } else { DocState::Draft };
        let n = sqlx::query(
            "UPDATE documents SET draft_edition_id = $1, state = $2, locale = $3, canonical_column_id = $4, \
             version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(edition_id)
        .bind(state.as_str())
        .bind(&locale)
        .bind(canonical)
        .bind(now)
        .bind(id)
        .bind(p.version)
        .execute(cmd.conn())
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
        let doc = load_document(cmd.conn(), id).await?;
        let number = if editing { base.number } else { base.number + 1 };
        let action = if editing { "edit" } else { "new_edition" };
        cmd.audit(doc_audit(&doc, action, serde_json::json!({"edition": number, "changed": changed}))).await?;
        if p.columns.is_some() && doc.live_edition_id.is_some() {
            // The live page lists its columns, and the column pages list it.
            cmd.emit(Event::DocumentChanged { site_id: doc.site_id, document_id: id, columns_changed: true }).await?;
        }
        let view = self.document_view(cmd.conn(), &doc).await?;
        cmd.commit().await?;
        Ok(view)
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
        let mut cmd = self.begin(actor).await?;
        let doc = load_document(cmd.conn(), doc_id).await?;
        cmd.require_role(doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        if matches!(doc.state, DocState::Submitted | DocState::EditorialReview | DocState::Scheduled) {
            return Err(AppError::Conflict("文档正在审核中，不能更改附件".into()));
        }
        self.blobs.store(&sha, bytes).await?;
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
        .fetch_one(cmd.conn())
        .await?;
        cmd.claim(Versioned::Documents, doc_id, doc.version).await?;
        let detail = serde_json::json!({"attachment_id": row.id, "file_name": row.file_name, "sha256": sha, "size": row.size_bytes});
        cmd.audit(doc_audit(&doc, "attach", detail)).await?;
        if doc.live_edition_id.is_some() {
            cmd.emit(Event::DocumentChanged { site_id: doc.site_id, document_id: doc_id, columns_changed: false })
                .await?;
        }
        cmd.commit().await?;
        Ok(AttachmentView::from(&row))
    }
}
