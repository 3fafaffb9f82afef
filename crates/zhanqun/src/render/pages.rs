//! What each public page shows, read from the database and rendered with the site's theme.

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use sqlx::AnyConnection;
use zhanqun_domain::column::{ColumnKind, ColumnStatus};
use zhanqun_domain::site::SiteState;
use zhanqun_domain::workflow::{DocState, UnpublishMode};

use super::cache::Page;
use super::hosts::SiteInfo;
use crate::app::App;
use crate::app::views::fmt_local;
use crate::error::{AppError, AppResult};
use crate::store::rows::{AttachmentRow, ColumnRow, DocumentRow, EditionRow, SiteRow};

/// Documents per column page.
pub const PAGE_SIZE: i64 = 20;
/// Documents per column block on the home page.
const HOME_ITEMS: i64 = 8;

#[derive(Debug, Serialize)]
struct SiteCtx {
    id: i64,
    name: String,
    sponsor: String,
    contact: String,
    domain: String,
    site_code: String,
    icp_filing: String,
    psb_filing: String,
}

#[derive(Debug, Serialize)]
struct ColumnCtx {
    id: i64,
    name: String,
    path: String,
    kind_label: &'static str,
}

impl From<&ColumnRow> for ColumnCtx {
    fn from(c: &ColumnRow) -> Self {
        ColumnCtx {
            id: c.id,
            name: c.name.clone(),
            path: format!("/columns/{}/", c.slug),
            kind_label: ColumnKind::parse(&c.kind).map(|k| k.label()).unwrap_or("其他"),
        }
    }
}

#[derive(Debug, Serialize)]
struct Item {
    url: String,
    title: String,
    date: String,
}

#[derive(Debug, Serialize)]
struct Block {
    column: ColumnCtx,
    items: Vec<Item>,
}

#[derive(Debug, Serialize)]
struct DocCtx {
    title: String,
    subtitle: String,
    source: String,
    author: String,
    keywords: String,
    description: String,
    published: String,
    body_html: String,
    canonical: String,
}

#[derive(Debug, Serialize)]
struct AttachmentCtx {
    url: String,
    name: String,
    size: String,
}

/// The answer to a public request.
pub enum Public {
    /// A page, cacheable until an action invalidates it.
    Page(Arc<Page>),
    /// A page that must not be cached (search, not found).
    Uncached(Arc<Page>),
    /// A permanent redirect.
    Moved(String),
    /// An attachment of a published document.
    File { row: AttachmentRow, path: std::path::PathBuf },
}

fn plain_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ").chars().take(120).collect()
}

fn human_size(n: i64) -> String {
    if n >= 1024 * 1024 { format!("{:.1} MB", n as f64 / 1048576.0) } else { format!("{} KB", (n + 1023) / 1024) }
}

fn date_only(ms: i64) -> String {
    fmt_local(ms)[..10].to_string()
}

/// Published documents of a column, its own and those reposted into it, newest first.
const COLUMN_ITEMS: &str = "SELECT d.id, e.title, d.first_published_at FROM document_columns dc \
    JOIN documents d ON d.id = dc.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE dc.column_id = $1 AND e.state = 'published' \
    UNION ALL SELECT d.id, e.title, d.first_published_at FROM reposts r \
    JOIN documents d ON d.id = r.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE r.column_id = $1 AND r.removed_at IS NULL AND e.state = 'published' \
    ORDER BY 3 DESC, 1 DESC LIMIT $2 OFFSET $3";

const COLUMN_COUNT: &str = "SELECT (SELECT COUNT(*) FROM document_columns dc JOIN documents d ON d.id = dc.document_id \
    JOIN editions e ON e.id = d.live_edition_id WHERE dc.column_id = $1 AND e.state = 'published') \
    + (SELECT COUNT(*) FROM reposts r JOIN documents d ON d.id = r.document_id \
    JOIN editions e ON e.id = d.live_edition_id WHERE r.column_id = $1 AND r.removed_at IS NULL AND e.state = 'published')";

async fn items(conn: &mut AnyConnection, column: i64, limit: i64, offset: i64) -> AppResult<Vec<Item>> {
    let rows: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as(COLUMN_ITEMS).bind(column).bind(limit).bind(offset).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, at)| Item {
            url: format!("/articles/{id}.html"),
            title,
            date: at.map(date_only).unwrap_or_default(),
        })
        .collect())
}

impl App {
    async fn site_ctx(&self, conn: &mut AnyConnection, site_id: i64) -> AppResult<(SiteRow, SiteCtx, Vec<ColumnRow>)> {
        let s: SiteRow = sqlx::query_as("SELECT * FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::not_found("站点", site_id))?;
        let cols: Vec<ColumnRow> = sqlx::query_as("SELECT * FROM columns WHERE site_id = $1 ORDER BY sort_order, id")
            .bind(site_id)
            .fetch_all(&mut *conn)
            .await?;
        let ctx = SiteCtx {
            id: s.id,
            name: s.name.clone(),
            sponsor: s.sponsor.clone(),
            contact: s.contact.clone(),
            domain: s.primary_domain.clone().unwrap_or_default(),
            site_code: s.site_code.clone().unwrap_or_default(),
            icp_filing: s.icp_filing.clone().unwrap_or_default(),
            psb_filing: s.psb_filing.clone().unwrap_or_default(),
        };
        Ok((s, ctx, cols))
    }

    fn nav(cols: &[ColumnRow]) -> Vec<ColumnCtx> {
        cols.iter()
            .filter(|c| c.parent_id.is_none() && c.status == ColumnStatus::Active.as_str())
            .map(ColumnCtx::from)
            .collect()
    }

    fn render_page(
        &self,
        site_id: i64,
        status: StatusCode,
        template: &str,
        ctx: minijinja::Value,
    ) -> AppResult<Arc<Page>> {
        let html = self
            .themes
            .render(site_id, template, &ctx)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("default theme failed to render {template}: {e:#}")))?;
        Ok(Arc::new(Page::new(status, html)))
    }

    /// Any page of a site's theme: `extra` joins the site, its navigation and its language.
    pub async fn site_page(
        &self,
        site_id: i64,
        status: StatusCode,
        template: &str,
        extra: minijinja::Value,
    ) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let (_, site, cols) = self.site_ctx(&mut c, site_id).await?;
        let ctx = minijinja::context! { ..extra, ..minijinja::context! { lang => "zh-CN", site, nav => Self::nav(&cols), current_column => () } };
        self.render_page(site_id, status, template, ctx)
    }

    /// A page with a heading and a sentence, in the site's theme.
    pub async fn message_page(
        &self,
        site_id: i64,
        status: StatusCode,
        heading: &str,
        message: &str,
    ) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let (_, site, cols) = self.site_ctx(&mut c, site_id).await?;
        let ctx = minijinja::context! { lang => "zh-CN", site, nav => Self::nav(&cols), current_column => (), heading, message };
        self.render_page(site_id, status, "message.html", ctx)
    }

    /// Answers a public request for `path` on `site`. `page` is the `?page=` of column pages.
    pub async fn public(&self, site: &SiteInfo, path: &str, page: i64, query: Option<&str>) -> AppResult<Public> {
        match site.state {
            SiteState::Closed => {
                return Ok(Public::Page(
                    self.message_page(
                        site.id,
                        StatusCode::GONE,
                        "网站已关停",
                        "本网站已关停，相关信息请访问上级政府门户网站。",
                    )
                    .await?,
                ));
            }
            SiteState::Online => {}
            SiteState::Suspended => {
                return Ok(Public::Uncached(
                    self.message_page(
                        site.id,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "网站暂停服务",
                        "本网站正在整改，暂停服务。",
                    )
                    .await?,
                ));
            }
            _ => {
                return Ok(Public::Uncached(
                    self.message_page(site.id, StatusCode::NOT_FOUND, "网站尚未开通", "本网站尚在登记中，还未开通。")
                        .await?,
                ));
            }
        }
        if path == "/" {
            return self.home(site.id).await.map(Public::Page);
        }
        if path == "/search" {
            let q: String = query.unwrap_or("").chars().take(100).collect();
            let msg = if q.is_empty() {
                "请输入关键词。".to_string()
            } else {
                format!("站内搜索即将开通。您搜索的是：{q}")
            };
            return Ok(Public::Uncached(self.message_page(site.id, StatusCode::OK, "站内搜索", &msg).await?));
        }
        if let Some(slug) = path.strip_prefix("/columns/").and_then(|r| r.strip_suffix('/'))
            && !slug.is_empty()
            && !slug.contains('/')
        {
            return self.column_page(site.id, slug, page).await;
        }
        if let Some(id) =
            path.strip_prefix("/articles/").and_then(|r| r.strip_suffix(".html")).and_then(|n| n.parse::<i64>().ok())
        {
            return self.article_page(site.id, id).await;
        }
        if let Some(rest) = path.strip_prefix("/attachments/")
            && let Some(id) = rest.split('/').next().and_then(|n| n.parse::<i64>().ok())
        {
            return self.public_attachment(site.id, id).await;
        }
        self.not_found(site.id).await
    }

    async fn not_found(&self, site_id: i64) -> AppResult<Public> {
        Ok(Public::Uncached(
            self.message_page(site_id, StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在或已删除。").await?,
        ))
    }

    async fn home(&self, site_id: i64) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let (_, site, cols) = self.site_ctx(&mut c, site_id).await?;
        let mut blocks = Vec::new();
        for col in cols.iter().filter(|c| c.parent_id.is_none() && c.status == ColumnStatus::Active.as_str()).take(8) {
            blocks.push(Block { column: ColumnCtx::from(col), items: items(&mut c, col.id, HOME_ITEMS, 0).await? });
        }
        let topics: Vec<Item> = self
            .open_topics(site_id)
            .await?
            .into_iter()
            .map(|t| Item { url: format!("/topics/{}/", t.id), title: t.title, date: String::new() })
            .collect();
        let ctx = minijinja::context! { lang => "zh-CN", site, nav => Self::nav(&cols), current_column => (), blocks, topics };
        self.render_page(site_id, StatusCode::OK, "home.html", ctx)
    }

    async fn column_page(&self, site_id: i64, slug: &str, page: i64) -> AppResult<Public> {
        let mut c = self.db.pool.acquire().await?;
        let (_, site, cols) = self.site_ctx(&mut c, site_id).await?;
        let Some(col) = cols.iter().find(|c| c.slug == slug) else { return self.not_found(site_id).await };
        match ColumnStatus::parse(&col.status) {
            Some(ColumnStatus::Merged) => {
                // Follow merges to the column that holds the documents now.
                let mut target = col;
                for _ in 0..16 {
                    match target.merged_into.and_then(|m| cols.iter().find(|c| c.id == m)) {
                        Some(t) => target = t,
                        None => break,
                    }
                }
                return Ok(Public::Moved(format!("/columns/{}/", target.slug)));
            }
            Some(ColumnStatus::Closed) => {
                return Ok(Public::Page(
                    self.message_page(
                        site_id,
                        StatusCode::GONE,
                        "栏目已关闭",
                        &format!("「{}」栏目已关闭。", col.name),
                    )
                    .await?,
                ));
            }
            _ => {}
        }
        let total: i64 = sqlx::query_scalar(COLUMN_COUNT).bind(col.id).fetch_one(&mut *c).await?;
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        if page > pages {
            return self.not_found(site_id).await;
        }
        let list = items(&mut c, col.id, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
        let ctx = minijinja::context! {
            lang => "zh-CN", site, nav => Self::nav(&cols), current_column => col.parent_id.unwrap_or(col.id),
            column => ColumnCtx::from(col), items => list, page, pages,
        };
        Ok(Public::Page(self.render_page(site_id, StatusCode::OK, "column.html", ctx)?))
    }

    async fn article_page(&self, site_id: i64, id: i64) -> AppResult<Public> {
        let mut c = self.db.pool.acquire().await?;
        let doc: Option<DocumentRow> =
            sqlx::query_as("SELECT * FROM documents WHERE id = $1").bind(id).fetch_optional(&mut *c).await?;
        let Some(doc) = doc else { return self.not_found(site_id).await };
        // A document of another site shows here only when reposted to this one.
        let host = if doc.site_id == site_id {
            None
        } else {
            let column: Option<i64> = sqlx::query_scalar(
                "SELECT column_id FROM reposts WHERE document_id = $1 AND site_id = $2 AND removed_at IS NULL",
            )
            .bind(id)
            .bind(site_id)
            .fetch_optional(&mut *c)
            .await?;
            match column {
                Some(col) => Some((site_id, col)),
                None => return self.not_found(site_id).await,
            }
        };
        let Some(live_id) = doc.live_edition_id else { return self.not_found(site_id).await };
        let live: EditionRow =
            sqlx::query_as("SELECT * FROM editions WHERE id = $1").bind(live_id).fetch_one(&mut *c).await?;
        let withdrawn =
            match (DocState::parse(&live.state), doc.unpublish_mode.as_deref().and_then(UnpublishMode::parse)) {
                (Some(DocState::Published), _) => None,
                (Some(DocState::Unpublished), Some(UnpublishMode::Redirect)) => {
                    return Ok(Public::Moved(doc.redirect_url.clone().unwrap_or_else(|| "/".into())));
                }
                (Some(DocState::Unpublished), Some(UnpublishMode::Gone)) => {
                    return Ok(Public::Page(
                        self.message_page(site_id, StatusCode::GONE, "信息已删除", "您访问的信息已被删除。").await?,
                    ));
                }
                (Some(DocState::Unpublished), _) => Some(doc.unpublish_note.clone().unwrap_or_default()),
                _ => return self.not_found(site_id).await,
            };
        let page = self.render_article(&mut c, &doc, &live, withdrawn, host).await?;
        Ok(Public::Page(page))
    }

    /// Renders a document page for `edition`, exactly as the public sees it (the admin's
    /// preview uses this too). `host` is the (site, column) showing a reposted document;
    /// the page then wears that site's frame and names the original.
    pub(crate) async fn render_article(
        &self,
        c: &mut AnyConnection,
        doc: &DocumentRow,
        edition: &EditionRow,
        withdrawn: Option<String>,
        host: Option<(i64, i64)>,
    ) -> AppResult<Arc<Page>> {
        let shown_on = host.map_or(doc.site_id, |(s, _)| s);
        let (shown_row, site, cols) = self.site_ctx(c, shown_on).await?;
        // The original's site: the same one unless this is a repost.
        let origin: SiteRow = match host {
            None => shown_row,
            Some(_) => sqlx::query_as("SELECT * FROM sites WHERE id = $1").bind(doc.site_id).fetch_one(&mut *c).await?,
        };
        let repost = host.map(|_| {
            minijinja::context! { site => origin.name.clone(), url => self.document_link(shown_on, doc.site_id, doc.id) }
        });
        let column = host
            .map(|(_, col)| col)
            .or(doc.canonical_column_id)
            .and_then(|id| cols.iter().find(|c| c.id == id))
            .or_else(|| cols.first())
            .map(ColumnCtx::from)
            .unwrap_or(ColumnCtx { id: 0, name: String::new(), path: "/".into(), kind_label: "其他" });
        let attachments: Vec<AttachmentRow> =
            sqlx::query_as("SELECT * FROM attachments WHERE document_id = $1 ORDER BY id")
                .bind(doc.id)
                .fetch_all(&mut *c)
                .await?;
        let related: Vec<Item> = if column.id != 0 {
            items(c, column.id, 6, 0)
                .await?
                .into_iter()
                .filter(|i| i.url != format!("/articles/{}.html", doc.id))
                .take(5)
                .collect()
        } else {
            Vec::new()
        };
        // Interpretations of this policy, and the policies this document interprets (R4.1).
        let link_sql = |dir: &str| {
            let (mine, other) =
                if dir == "of" { ("policy_id", "interpretation_id") } else { ("interpretation_id", "policy_id") };
            format!(
                "SELECT d.id, d.site_id, e.title, l.kind FROM interpretation_links l JOIN documents d ON d.id = l.{other} \
                 JOIN editions e ON e.id = d.live_edition_id WHERE l.{mine} = $1 AND e.state = 'published' ORDER BY d.id"
            )
        };
        let mut linked = Vec::new();
        for dir in ["of", "for"] {
            // The statement is built from two fixed column names only.
            let rows: Vec<(i64, i64, String, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(link_sql(dir))).bind(doc.id).fetch_all(&mut *c).await?;
            let items: Vec<minijinja::Value> = rows
                .into_iter()
                .map(|(id, site_id, title, kind)| {
                    let url = self.document_link(shown_on, site_id, id);
                    let response = kind == "response";
                    let kind = match kind.as_str() {
                        "graphic" => "图解",
                        "response" => "回应关切",
                        "interview" => "访谈",
                        "video" => "视频",
                        _ => "文字解读",
                    };
                    minijinja::context! { url, title, kind, response }
                })
                .collect();
            linked.push(items);
        }
        let meta = self.article_meta(c, doc.id, shown_on).await?;
        // Responses to hot issues are listed apart from interpretations.
        let (responses, interpretations): (Vec<minijinja::Value>, Vec<minijinja::Value>) =
            linked[0].iter().cloned().partition(|v| v.get_attr("response").is_ok_and(|r| r.is_true()));
        let published = doc.first_published_at.or(edition.published_at).map(fmt_local).unwrap_or_default();
        let description =
            if edition.summary.trim().is_empty() { plain_text(&edition.body_html) } else { edition.summary.clone() };
        // Search engines are pointed at the original, wherever it is shown.
        let canonical = match &origin.primary_domain {
            Some(d) => format!("{}://{d}/articles/{}.html", self.config.public_scheme, doc.id),
            None => format!("/articles/{}.html", doc.id),
        };
        let ctx = minijinja::context! {
            lang => if doc.locale.starts_with("zh") { "zh-CN".to_string() } else { doc.locale.clone() },
            site, nav => Self::nav(&cols), current_column => column.id, column,
            doc => DocCtx {
                title: edition.title.clone(), subtitle: edition.subtitle.clone(), source: edition.source.clone(),
                author: edition.author.clone(), keywords: edition.keywords.clone(), description, published,
                body_html: edition.body_html.clone(), canonical,
            },
            attachments => attachments.iter().map(|a| AttachmentCtx {
                url: format!("/attachments/{}/{}", a.id, url::form_urlencoded::byte_serialize(a.file_name.as_bytes()).collect::<String>()),
                name: a.file_name.clone(), size: human_size(a.size_bytes),
            }).collect::<Vec<_>>(),
            related, withdrawn, interpretations, responses, interprets => linked[1].clone(), repost, meta,
        };
        self.render_page(shown_on, StatusCode::OK, "article.html", ctx)
    }

    /// The disclosure metadata shown at the head of a disclosed document.
    async fn article_meta(
        &self,
        c: &mut AnyConnection,
        doc_id: i64,
        shown_on: i64,
    ) -> AppResult<Option<minijinja::Value>> {
        use zhanqun_domain::disclosure::{DOC_TYPES, VALIDITY, label_of};
        #[derive(sqlx::FromRow)]
        struct MetaRow {
            doc_type: String,
            body: String,
            document_number: Option<String>,
            subject: String,
            date_written: String,
            validity: String,
            validity_changed_on: Option<String>,
            changed_by_document_id: Option<i64>,
            index_number: Option<String>,
            genre: Option<String>,
            keywords: String,
        }
        let row: Option<MetaRow> = sqlx::query_as(
            "SELECT d.doc_type, b.name AS body, d.document_number, d.subject, d.date_written, d.validity, d.validity_changed_on, \
             d.changed_by_document_id, d.index_number, d.genre, d.keywords \
             FROM disclosures d JOIN bodies b ON b.id = d.issuing_body_id WHERE d.document_id = $1",
        )
        .bind(doc_id)
        .fetch_optional(&mut *c)
        .await?;
        let Some(m) = row else { return Ok(None) };
        let changed_by = match m.changed_by_document_id {
            Some(other) => {
                let r: Option<(i64, String)> = sqlx::query_as(
                    "SELECT d.site_id, e.title FROM documents d JOIN editions e ON e.id = d.live_edition_id \
                     WHERE d.id = $1 AND e.state = 'published'",
                )
                .bind(other)
                .fetch_optional(&mut *c)
                .await?;
                r.map(|(site, title)| minijinja::context! { url => self.document_link(shown_on, site, other), title })
            }
            None => None,
        };
        Ok(Some(minijinja::context! {
            type_label => label_of(DOC_TYPES, &m.doc_type).unwrap_or(""), body => m.body, document_number => m.document_number,
            subject => m.subject, date_written => m.date_written, validity_label => label_of(VALIDITY, &m.validity).unwrap_or(""),
            validity_changed_on => m.validity_changed_on, changed_by, index_number => m.index_number, genre => m.genre,
            keywords => m.keywords,
        }))
    }

    async fn public_attachment(&self, site_id: i64, id: i64) -> AppResult<Public> {
        let mut c = self.db.pool.acquire().await?;
        let row: Option<AttachmentRow> = sqlx::query_as(
            "SELECT a.* FROM attachments a JOIN documents d ON d.id = a.document_id JOIN editions e ON e.id = d.live_edition_id \
             WHERE a.id = $1 AND e.state = 'published' AND (d.site_id = $2 OR EXISTS \
             (SELECT 1 FROM reposts r WHERE r.document_id = d.id AND r.site_id = $2 AND r.removed_at IS NULL))",
        )
        .bind(id)
        .bind(site_id)
        .fetch_optional(&mut *c)
        .await?;
        match row {
            Some(row) => {
                let path = self.file_path(&row.sha256);
                Ok(Public::File { row, path })
            }
            None => self.not_found(site_id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_plain_text() {
        assert_eq!(plain_text("<h1>标题</h1><p>第一段 <b>重点</b></p>"), "标题 第一段 重点");
        assert_eq!(human_size(1536), "2 KB");
        assert_eq!(human_size(3 * 1048576), "3.0 MB");
    }
}
