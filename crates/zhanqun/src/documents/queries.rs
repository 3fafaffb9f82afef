//! Reading documents: for their editors and reviewers (permission-checked), and what the
//! public pages list.

use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe};
use zhanqun_domain::workflow::{DocState, Role};

use super::{
    AttachmentRow, AttachmentView, DocumentRow, DocumentView, EditionRow, EditionSummary, EditionView, History,
};
use crate::app::App;
use crate::kernel::actor::require_any_role;
use crate::kernel::audit;
use crate::kernel::cache::Page;
use crate::kernel::time::{date_only, fmt_local, fmt_opt, fmt_time};
use crate::kernel::{Actor, AppError, AppResult};

pub async fn find_document(conn: &mut AnyConnection, id: i64) -> AppResult<Option<DocumentRow>> {
    Ok(sqlx::query_as("SELECT * FROM documents WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn load_document(conn: &mut AnyConnection, id: i64) -> AppResult<DocumentRow> {
    find_document(conn, id).await?.ok_or_else(|| AppError::not_found("文档", id))
}

pub async fn load_edition(conn: &mut AnyConnection, id: i64) -> AppResult<EditionRow> {
    Ok(sqlx::query_as("SELECT * FROM editions WHERE id = $1").bind(id).fetch_one(conn).await?)
}

pub(super) async fn latest_edition(conn: &mut AnyConnection, doc_id: i64) -> AppResult<EditionRow> {
    Ok(sqlx::query_as("SELECT * FROM editions WHERE document_id = $1 ORDER BY number DESC LIMIT 1")
        .bind(doc_id)
        .fetch_one(conn)
        .await?)
}

/// The columns a document is in.
pub async fn column_ids(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT column_id FROM document_columns WHERE document_id = $1 ORDER BY column_id")
        .bind(doc_id)
        .fetch_all(conn)
        .await?)
}

pub async fn attachments_of(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Vec<AttachmentRow>> {
    Ok(sqlx::query_as("SELECT * FROM attachments WHERE document_id = $1 ORDER BY id")
        .bind(doc_id)
        .fetch_all(conn)
        .await?)
}

/// The live edition of a document while it is published: (site, title).
pub async fn published_title(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT d.site_id, e.title FROM documents d JOIN editions e ON e.id = d.live_edition_id \
         WHERE d.id = $1 AND e.state = 'published'",
    )
    .bind(doc_id)
    .fetch_optional(conn)
    .await?)
}

/// The title of the edition worked on, else the live one.
pub async fn current_title(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT e.title FROM documents d JOIN editions e ON e.id = COALESCE(d.draft_edition_id, d.live_edition_id) WHERE d.id = $1",
    )
    .bind(doc_id)
    .fetch_optional(conn)
    .await?)
}

/// A published document in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: i64,
    pub site_id: i64,
    pub title: String,
    pub first_published_at: Option<i64>,
}

impl Listed {
    /// `YYYY-MM-DD` of first publication.
    pub fn date(&self) -> String {
        self.first_published_at.map(date_only).unwrap_or_default()
    }
}

/// Published documents of a column, its own and those reposted into it, newest first.
const COLUMN_ITEMS: &str = "SELECT d.id, d.site_id, e.title, d.first_published_at FROM document_columns dc \
    JOIN documents d ON d.id = dc.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE dc.column_id = $1 AND e.state = 'published' \
    UNION ALL SELECT d.id, d.site_id, e.title, d.first_published_at FROM reposts r \
    JOIN documents d ON d.id = r.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE r.column_id = $1 AND r.removed_at IS NULL AND r.accepted_at IS NOT NULL AND e.state = 'published' \
    ORDER BY 4 DESC, 1 DESC LIMIT $2 OFFSET $3";

const COLUMN_COUNT: &str = "SELECT (SELECT COUNT(*) FROM document_columns dc JOIN documents d ON d.id = dc.document_id \
    JOIN editions e ON e.id = d.live_edition_id WHERE dc.column_id = $1 AND e.state = 'published') \
    + (SELECT COUNT(*) FROM reposts r JOIN documents d ON d.id = r.document_id \
    JOIN editions e ON e.id = d.live_edition_id WHERE r.column_id = $1 AND r.removed_at IS NULL AND r.accepted_at IS NOT NULL AND e.state = 'published')";

pub async fn published_in_column(
    conn: &mut AnyConnection,
    column: i64,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Listed>> {
    let rows: Vec<(i64, i64, String, Option<i64>)> =
        sqlx::query_as(COLUMN_ITEMS).bind(column).bind(limit).bind(offset).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, site_id, title, first_published_at)| Listed { id, site_id, title, first_published_at })
        .collect())
}

pub async fn count_published_in_column(conn: &mut AnyConnection, column: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(COLUMN_COUNT).bind(column).fetch_one(conn).await?)
}

/// An attachment of a published document shown on `site_id` (its own site, or one it was
/// reposted to).
pub async fn public_attachment(conn: &mut AnyConnection, site_id: i64, id: i64) -> AppResult<Option<AttachmentRow>> {
    Ok(sqlx::query_as(
        "SELECT a.* FROM attachments a JOIN documents d ON d.id = a.document_id JOIN editions e ON e.id = d.live_edition_id \
         WHERE a.id = $1 AND e.state = 'published' AND (d.site_id = $2 OR EXISTS \
         (SELECT 1 FROM reposts r WHERE r.document_id = d.id AND r.site_id = $2 AND r.removed_at IS NULL))",
    )
    .bind(id)
    .bind(site_id)
    .fetch_optional(conn)
    .await?)
}

/// The public base address of a site: its own domain, or under the nearest ancestor with one.
async fn public_base(conn: &mut AnyConnection, scheme: &str, site_id: i64) -> AppResult<Option<String>> {
    let site = crate::sites::load_site(&mut *conn, site_id).await?;
    if let Some(d) = &site.primary_domain {
        return Ok(Some(format!("{scheme}://{d}")));
    }
    for a in crate::kernel::actor::ancestors(conn, site.id).await? {
        if let Some(d) = crate::sites::queries::find_site(&mut *conn, a).await?.and_then(|s| s.primary_domain) {
            return Ok(Some(format!("{scheme}://{d}/sites/{}", site.id)));
        }
    }
    Ok(None)
}

/// A document waiting for someone, on the dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

/// My drafts, what was returned to me, and what waits for my review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

fn work(rows: Vec<WorkRow>) -> AppResult<Vec<WorkItem>> {
    rows.into_iter()
        .map(|(id, site_id, site_name, title, state, updated, reject_reason)| {
            let s = DocState::try_from(state).map_err(|e| AppError::Internal(e.into()))?;
            Ok(WorkItem {
                id,
                site_id,
                site_name,
                title,
                state_label: s.label(),
                state: s.as_str().into(),
                updated: fmt_local(updated),
                reject_reason,
            })
        })
        .collect()
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
        let columns = column_ids(conn, doc.id).await?;
        let attachments = attachments_of(conn, doc.id).await?;
        let public_url = if live.as_ref().is_some_and(|e| e.state == DocState::Published) {
            // The address the pages link: on a demo server, the site's local address.
            let base = match self.local_links.get() {
                Some(_) => self.site_base(doc.site_id),
                None => public_base(conn, &self.config.public_scheme, doc.site_id).await?,
            };
            base.map(|b| format!("{b}/articles/{}.html", doc.id))
        } else {
            None
        };
        Ok(DocumentView {
            id: doc.id,
            site_id: doc.site_id,
            locale: doc.locale.clone(),
            state: doc.state.as_str().into(),
            state_label: doc.state.label(),
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
        crate::sites::load_site(&mut c, site_id).await?;
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

    /// Every recorded step of a document, oldest first, and its editions.
    pub async fn document_history(&self, actor: &Actor, id: i64) -> AppResult<History> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let entries = audit::of_entity(&mut c, "document", id).await?;
        let editions: Vec<EditionRow> = sqlx::query_as("SELECT * FROM editions WHERE document_id = $1 ORDER BY number")
            .bind(id)
            .fetch_all(&mut *c)
            .await?;
        Ok(History {
            document_id: id,
            entries,
            editions: editions
                .iter()
                .map(|e| EditionSummary {
                    number: e.number,
                    state: e.state.as_str().into(),
                    title: e.title.clone(),
                    created_by: e.created_by,
                    created_at: fmt_time(e.created_at),
                    published_at: fmt_opt(e.published_at),
                })
                .collect(),
        })
    }

    /// The draft (or else the live edition) rendered exactly as the public site will show it.
    pub async fn preview_document(&self, actor: &Actor, id: i64) -> AppResult<std::sync::Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let edition_id =
            doc.draft_edition_id.or(doc.live_edition_id).ok_or_else(|| AppError::not_found("文档版本", id))?;
        let e = load_edition(&mut c, edition_id).await?;
        Ok(self.render_article(&mut c, &doc, &e, None, None).await?.0)
    }

    /// An attachment's record, for the people working on its document.
    pub async fn get_attachment(&self, actor: &Actor, id: i64) -> AppResult<AttachmentRow> {
        let mut c = self.db.pool.acquire().await?;
        let row: AttachmentRow = sqlx::query_as("SELECT * FROM attachments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| AppError::not_found("附件", id))?;
        let doc = load_document(&mut c, row.document_id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        Ok(row)
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
            work(rows)
        };
        Ok(MyWork {
            drafts: work(drafts)?,
            rejected: work(rejected)?,
            secrecy_queue: queue("submitted", Role::SecrecyReviewer).await?,
            editorial_queue: queue("editorial_review", Role::EditorialReviewer).await?,
            scheduled: queue("scheduled", Role::EditorialReviewer).await?,
        })
    }

    /// Backdates a document's publication (the demo's history of ten years): its editions,
    /// its own times and its catalog entry move together.
    pub async fn backdate_document(&self, doc: i64, at: i64) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        for sql in [
            "UPDATE documents SET first_published_at = $1 WHERE id = $2",
            "UPDATE editions SET published_at = $1 WHERE document_id = $2 AND published_at IS NOT NULL",
            "UPDATE disclosures SET listed_at = $1 WHERE document_id = $2 AND listed_at IS NOT NULL",
        ] {
            sqlx::query(sql).bind(at).bind(doc).execute(w.conn()).await?;
        }
        w.commit().await?;
        Ok(())
    }
}
