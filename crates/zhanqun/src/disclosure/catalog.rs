//! The disclosure catalog (R3.1): published, proactively disclosed documents with their
//! metadata. The catalog reads one table: `disclosures.listed_at` (first publication while
//! the live edition is published) is kept by a cluster subscriber of the documents' events,
//! and two covering indexes hold every filter column (decision record 0005).

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};

use crate::app::App;
use crate::kernel::db::QueryBuilder;
use crate::kernel::events::{Scope, StoredEvent, Subscriber};
use crate::kernel::{AppError, AppResult, Event};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct CatalogEntry {
    pub document_id: i64,
    pub site_id: i64,
    pub title: String,
    pub index_number: Option<String>,
    pub body: String,
    pub document_number: Option<String>,
    pub subject: String,
    pub doc_type: String,
    pub date_written: String,
    /// When it entered the catalog (its first publication), RFC 3339 in China Standard Time.
    #[sqlx(skip)]
    pub published_at: Option<String>,
    /// The same instant, Unix milliseconds, for the platform's own use.
    #[serde(skip)]
    pub published_ms: Option<i64>,
    pub validity: String,
    pub genre: Option<String>,
    pub keywords: String,
    pub issuing_body_id: i64,
    /// The document's address on its own site.
    #[sqlx(skip)]
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogFilter {
    pub body: Option<i64>,
    pub subject: Option<String>,
    pub year: Option<i32>,
    pub validity: Option<String>,
    pub doc_type: Option<String>,
    pub genre: Option<String>,
}

/// Keeps the catalog's own copy of "is this listed, and since when" in step with the
/// document, and marks the catalog changed (its metadata may have changed too, which moves
/// the counts). Idempotent: it reads the document's state as it is now.
pub(crate) async fn sync_listing(conn: &mut AnyConnection, doc_id: i64) -> AppResult<()> {
    let listed: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT doc.first_published_at FROM documents doc JOIN editions e ON e.id = doc.live_edition_id \
         WHERE doc.id = $1 AND e.state = 'published'",
    )
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query("UPDATE disclosures SET listed_at = $1 WHERE document_id = $2")
        .bind(listed.flatten())
        .bind(doc_id)
        .execute(&mut *conn)
        .await?;
    bump(conn).await
}

/// Marks the catalog as changed (counts kept by any node are then recounted).
pub(crate) async fn bump(conn: &mut AnyConnection) -> AppResult<()> {
    sqlx::query("UPDATE catalog_state SET generation = generation + 1 WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// Lists and unlists documents as they are published, withdrawn and changed.
pub struct CatalogListing;

impl Subscriber for CatalogListing {
    fn name(&self) -> &'static str {
        "catalog_listing"
    }

    fn scope(&self) -> Scope {
        Scope::Cluster
    }

    fn handle<'a>(&'a self, app: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let doc = match e.event {
                Event::DocumentPublished { document_id, .. }
                | Event::DocumentWithdrawn { document_id, .. }
                | Event::DocumentDeleted { document_id, .. }
                | Event::DocumentChanged { document_id, .. } => document_id,
                _ => return Ok(()),
            };
            let mut w = app.db.begin_write().await?;
            sync_listing(w.conn(), doc).await?;
            w.commit().await?;
            Ok(())
        })
    }
}

/// The conditions of a filtered catalog, on `disclosures d`.
fn push_filter(q: &mut QueryBuilder, site: Option<i64>, f: &CatalogFilter) {
    q.push(" FROM disclosures d WHERE d.listed_at IS NOT NULL AND d.disclosure_mode = 'proactive'");
    if let Some(site) = site {
        q.push(" AND d.site_id = ").push_bind(site);
    }
    if let Some(b) = f.body {
        q.push(" AND d.issuing_body_id = ").push_bind(b);
    }
    if let Some(s) = f.subject.as_deref().filter(|s| !s.is_empty()) {
        // A first-level category includes its second-level ones.
        q.push(" AND (d.subject = ")
            .push_bind(s.to_string())
            .push(" OR d.subject LIKE ")
            .push_bind(format!("{s}/%"))
            .push(")");
    }
    if let Some(y) = f.year {
        q.push(" AND d.date_written >= ").push_bind(format!("{y:04}-01-01"));
        q.push(" AND d.date_written <= ").push_bind(format!("{y:04}-12-31"));
    }
    if let Some(v) = f.validity.as_deref().filter(|v| !v.is_empty()) {
        q.push(" AND d.validity = ").push_bind(v.to_string());
    }
    if let Some(t) = f.doc_type.as_deref().filter(|t| !t.is_empty()) {
        q.push(" AND d.doc_type = ").push_bind(t.to_string());
    }
    if let Some(g) = f.genre.as_deref().filter(|g| !g.is_empty()) {
        q.push(" AND d.genre = ").push_bind(g.to_string());
    }
}

/// A link to a published document, as the catalog shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocLink {
    pub document_id: i64,
    pub title: String,
    pub url: String,
    pub date_written: String,
}

/// A body's disclosure guide and annual reports (R3.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BodyDocs {
    pub body_id: i64,
    pub body: String,
    /// The newest published guide.
    pub guide: Option<DocLink>,
    /// Annual reports, newest first.
    pub reports: Vec<DocLink>,
}

impl App {
    /// The catalog, newest first. `site` limits it to one site (a department's part of the
    /// city-wide catalog). Counting a large catalog reads the whole index range, so the
    /// count is kept per filter until the catalog's generation moves.
    pub async fn catalog(
        &self,
        site: Option<i64>,
        f: &CatalogFilter,
        limit: i64,
        offset: i64,
    ) -> AppResult<(i64, Vec<CatalogEntry>)> {
        let generation: i64 =
            sqlx::query_scalar("SELECT generation FROM catalog_state WHERE id = 1").fetch_one(&self.db.pool).await?;
        let key = format!("{site:?}|{f:?}");
        let total = match self.catalog_counts.get(&key) {
            Some((g, total)) if g == generation => total,
            _ => {
                let mut q = QueryBuilder::new("SELECT COUNT(*)");
                push_filter(&mut q, site, f);
                let total: i64 = q.fetch_scalar(&self.db.pool).await?;
                self.catalog_counts.insert(key, (generation, total));
                total
            }
        };
        // Filtering reads the disclosures table alone; titles and bodies are joined for the
        // one page shown.
        let mut q = QueryBuilder::new(
            "SELECT p.document_id, p.site_id, e.title, p.index_number, b.name AS body, p.document_number, p.subject, p.doc_type, \
             p.date_written, p.listed_at AS published_ms, p.validity, p.genre, p.keywords, p.issuing_body_id \
             FROM (SELECT d.document_id",
        );
        push_filter(&mut q, site, f);
        q.push(" ORDER BY d.listed_at DESC, d.document_id DESC LIMIT ").push_bind(limit);
        q.push(" OFFSET ").push_bind(offset);
        q.push(
            ") k JOIN disclosures p ON p.document_id = k.document_id JOIN documents doc ON doc.id = p.document_id \
             JOIN editions e ON e.id = doc.live_edition_id JOIN bodies b ON b.id = p.issuing_body_id \
             ORDER BY p.listed_at DESC, p.document_id DESC",
        );
        let mut rows: Vec<CatalogEntry> = q.fetch_all(&self.db.pool).await?;
        for r in &mut rows {
            r.url = self.document_link(-1, r.site_id, r.document_id);
            r.published_at = r.published_ms.map(crate::kernel::time::fmt_time);
        }
        Ok((total, rows))
    }

    /// A body's disclosure guide and annual reports, as published.
    pub async fn body_disclosure_docs(&self, body_id: i64) -> AppResult<BodyDocs> {
        let mut c = self.db.pool.acquire().await?;
        let body =
            crate::bodies::name_of(&mut c, body_id).await?.ok_or_else(|| AppError::not_found("机构", body_id))?;
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT d.document_id, doc.site_id, e.title, d.date_written, d.doc_type FROM disclosures d \
             JOIN documents doc ON doc.id = d.document_id JOIN editions e ON e.id = doc.live_edition_id \
             WHERE d.issuing_body_id = $1 AND d.doc_type IN ('guide', 'annual_report') AND d.listed_at IS NOT NULL \
             ORDER BY d.date_written DESC, d.document_id DESC",
        )
        .bind(body_id)
        .fetch_all(&mut *c)
        .await?;
        let mut guide = None;
        let mut reports = Vec::new();
        for (id, site, title, date_written, doc_type) in rows {
            // Links to the document's own site (the catalog may be shown on the portal).
            let link = DocLink { document_id: id, title, url: self.document_link(-1, site, id), date_written };
            if doc_type == "guide" {
                guide.get_or_insert(link);
            } else {
                reports.push(link);
            }
        }
        Ok(BodyDocs { body_id, body, guide, reports })
    }
}
