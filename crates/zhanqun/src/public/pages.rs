//! What each page of a site shows — home, column pages, documents — read through the
//! capabilities' queries and rendered with the site's theme, with the things each page
//! shows (its [`Tag`]s) so the cache drops it when one of them changes.

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use sqlx::AnyConnection;
use zhanqun_domain::column::{ColumnKind, ColumnStatus};
use zhanqun_domain::site::{SiteKind, SiteState};
use zhanqun_domain::workflow::{DocState, UnpublishMode};

use super::Answer;
use super::hosts::SiteInfo;
use crate::app::App;
use crate::columns::ColumnRow;
use crate::documents::queries::{self as docs, Listed};
use crate::documents::{DocumentRow, EditionRow};
use crate::kernel::AppResult;
use crate::kernel::cache::{Page, Tag};
use crate::kernel::time::fmt_local;
use crate::sites::SiteRow;

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
    party_label_url: String,
    /// The city portal's footer links the public evaluation of the city's sites (R11.2).
    city_portal: bool,
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
        ColumnCtx { id: c.id, name: c.name.clone(), path: c.path(), kind_label: c.kind.label() }
    }
}

#[derive(Debug, Serialize)]
struct Item {
    url: String,
    title: String,
    date: String,
}

impl From<Listed> for Item {
    fn from(l: Listed) -> Self {
        Item { url: format!("/articles/{}.html", l.id), date: l.date(), title: l.title }
    }
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

pub(crate) fn plain_text(html: &str) -> String {
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

fn site_ctx(s: &SiteRow) -> SiteCtx {
    SiteCtx {
        id: s.id,
        name: s.name.clone(),
        sponsor: s.sponsor.clone(),
        contact: s.contact.clone(),
        domain: s.primary_domain.clone().unwrap_or_default(),
        site_code: s.site_code.clone().unwrap_or_default(),
        icp_filing: s.icp_filing.clone().unwrap_or_default(),
        psb_filing: s.psb_filing.clone().unwrap_or_default(),
        party_label_url: s.party_label_url.clone().unwrap_or_default(),
        city_portal: s.kind == SiteKind::CityPortal,
    }
}

/// One group of the site-group navigation (站群导航): a kind of site and its sites.
#[derive(Serialize)]
struct ClusterGroup {
    label: &'static str,
    sites: Vec<ClusterSite>,
}

#[derive(Serialize)]
struct ClusterSite {
    name: String,
    url: String,
}

/// A column and the active columns under it, for the site map.
#[derive(Serialize)]
struct TreeCtx {
    name: String,
    path: String,
    children: Vec<ColumnCtx>,
}

/// The fixed section of the main navigation a page belongs to (marked as current there).
fn section_of(template: &str) -> &'static str {
    const INTERACTION: &[&str] =
        &["mailbox", "letter", "receipt", "track", "consultation", "survey", "interview", "interaction"];
    if template.starts_with("catalog") || template.starts_with("annual_reports") {
        "disclosure"
    } else if INTERACTION.iter().any(|p| template.starts_with(p)) {
        "interaction"
    } else {
        ""
    }
}

fn nav(cols: &[ColumnRow]) -> Vec<ColumnCtx> {
    cols.iter().filter(|c| c.parent_id.is_none() && c.is_active()).map(ColumnCtx::from).collect()
}

impl App {
    /// The site-group navigation every page carries: the online portals, district portals,
    /// department and zone sites of the cluster, each at its public address.
    fn cluster_nav(&self) -> Vec<ClusterGroup> {
        let hosts = self.hosts.load();
        let mut groups = Vec::new();
        for kind in [SiteKind::CityPortal, SiteKind::DistrictPortal, SiteKind::Department, SiteKind::Zone] {
            let sites: Vec<ClusterSite> = hosts
                .sorted()
                .into_iter()
                .filter(|s| s.kind == kind && s.state == SiteState::Online)
                .filter_map(|s| Some(ClusterSite { name: s.name.clone(), url: format!("{}/", self.site_base(s.id)?) }))
                .collect();
            if !sites.is_empty() {
                groups.push(ClusterGroup { label: kind.label(), sites });
            }
        }
        groups
    }

    /// 网站地图: every active column (and those under it), the fixed sections, the cluster.
    async fn sitemap(&self, site_id: i64) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let (s, cols) = self.frame(&mut c, site_id).await?;
        let tree: Vec<TreeCtx> = cols
            .iter()
            .filter(|c| c.parent_id.is_none() && c.is_active())
            .map(|top| TreeCtx {
                name: top.name.clone(),
                path: top.path(),
                children: cols
                    .iter()
                    .filter(|k| k.parent_id == Some(top.id) && k.is_active())
                    .map(ColumnCtx::from)
                    .collect(),
            })
            .collect();
        let ctx = minijinja::context! {
            lang => "zh-CN", site => site_ctx(&s), nav => nav(&cols), cluster => self.cluster_nav(), current_column => (), tree,
        };
        self.render_page(site_id, StatusCode::OK, "sitemap.html", ctx)
    }

    async fn frame(&self, conn: &mut AnyConnection, site_id: i64) -> AppResult<(SiteRow, Vec<ColumnRow>)> {
        let s = crate::sites::load_site(&mut *conn, site_id).await?;
        let cols = crate::columns::queries::of_site(conn, site_id).await?;
        Ok((s, cols))
    }

    fn render_page(
        &self,
        site_id: i64,
        status: StatusCode,
        template: &str,
        ctx: minijinja::Value,
    ) -> AppResult<Arc<Page>> {
        let html = self.themes.render(site_id, template, &ctx).map_err(|e| {
            crate::kernel::AppError::Internal(anyhow::anyhow!("default theme failed to render {template}: {e:#}"))
        })?;
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
        let (s, cols) = self.frame(&mut c, site_id).await?;
        let ctx = minijinja::context! {
            ..extra, ..minijinja::context! {
                lang => "zh-CN", site => site_ctx(&s), nav => nav(&cols), cluster => self.cluster_nav(), current_column => (),
                section => section_of(template),
            }
        };
        self.render_page(site_id, status, template, ctx)
    }

    /// A page with a heading and a sentence, in the site's theme.
    async fn message_page(
        &self,
        site_id: i64,
        status: StatusCode,
        heading: &str,
        message: &str,
    ) -> AppResult<Arc<Page>> {
        self.site_page(site_id, status, "message.html", minijinja::context! { heading, message }).await
    }

    /// Answers a request for `path` on `site`. `page` is the `?page=` of column pages.
    /// Another spelling of a public address is sent to its one spelling ([`respelt`]).
    pub async fn public_answer(
        &self,
        site: &SiteInfo,
        path: &str,
        page: i64,
        query: Option<&str>,
    ) -> AppResult<Answer> {
        if let Some(to) = respelt(path) {
            return Ok(Answer::Moved(to));
        }
        let frame = [Tag::Site(site.id)];
        match site.state {
            SiteState::Closed => {
                let p = self.message_page(
                    site.id,
                    StatusCode::GONE,
                    "网站已关停",
                    "本网站已关停，相关信息请访问上级政府门户网站。",
                );
                return Ok(Answer::Page(p.await?, frame.to_vec()));
            }
            SiteState::Online => {}
            SiteState::Suspended => {
                let p = self.message_page(
                    site.id,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "网站暂停服务",
                    "本网站正在整改，暂停服务。",
                );
                return Ok(Answer::Uncached(p.await?));
            }
            _ => {
                let p =
                    self.message_page(site.id, StatusCode::NOT_FOUND, "网站尚未开通", "本网站尚在登记中，还未开通。");
                return Ok(Answer::Uncached(p.await?));
            }
        }
        if path == "/" {
            return Ok(Answer::Page(self.home(site.id).await?, vec![Tag::Site(site.id), Tag::Home(site.id)]));
        }
        if let Some(answer) = self.machine_readable(site, path).await? {
            return Ok(answer);
        }
        if path == "/sitemap/" {
            return Ok(Answer::Page(self.sitemap(site.id).await?, frame.to_vec()));
        }
        if path == "/interaction/" {
            let p = self.site_page(site.id, StatusCode::OK, "interaction.html", minijinja::context! {}).await?;
            return Ok(Answer::Page(p, frame.to_vec()));
        }
        if path == "/search" {
            return Ok(Answer::Uncached(self.search_page(site, query.unwrap_or("")).await?));
        }
        if path == "/opensearch.xml" {
            return Ok(Answer::Page(self.opensearch(site, &self.public_base_of(site)), vec![Tag::Site(site.id)]));
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
            let mut c = self.db.pool.acquire().await?;
            return match docs::public_attachment(&mut c, site.id, id).await? {
                Some(row) => Ok(Answer::File(row)),
                None => self.not_found(site.id).await,
            };
        }
        self.not_found(site.id).await
    }

    /// Where absolute addresses of a site start (feeds, sitemaps, OpenSearch): its own
    /// domain, its local address on a demo server, its `NAME.localhost` otherwise.
    fn public_base_of(&self, site: &SiteInfo) -> String {
        self.site_base(site.id).unwrap_or_else(|| format!("http://{}", site.local_host))
    }

    /// Feeds, sitemaps and `robots.txt` (see [`super::feeds`]), when `path` names one.
    async fn machine_readable(&self, site: &SiteInfo, path: &str) -> AppResult<Option<Answer>> {
        use super::feeds::{FeedOf, Format};
        let base = self.public_base_of(site);
        let site_tags = vec![Tag::Site(site.id), Tag::Home(site.id)];
        let format = |f: &str| match f {
            "rss.xml" => Some(Format::Rss),
            "atom.xml" => Some(Format::Atom),
            _ => None,
        };
        if let Some(f) = path.strip_prefix('/').and_then(format) {
            let p = self.feed(FeedOf { site_id: site.id, site_name: &site.name, column: None }, f, &base).await?;
            return Ok(Some(Answer::Page(p, site_tags)));
        }
        if let Some((slug, file)) = path.strip_prefix("/columns/").and_then(|r| r.split_once('/'))
            && let Some(f) = format(file)
        {
            let mut c = self.db.pool.acquire().await?;
            let cols = crate::columns::queries::of_site(&mut c, site.id).await?;
            drop(c);
            let Some(col) = cols.iter().find(|c| c.slug == slug && c.is_active()) else {
                return self.not_found(site.id).await.map(Some);
            };
            let of = FeedOf { site_id: site.id, site_name: &site.name, column: Some((col.id, &col.name, col.path())) };
            let p = self.feed(of, f, &base).await?;
            return Ok(Some(Answer::Page(p, vec![Tag::Site(site.id), Tag::Column(col.id)])));
        }
        let part = match path {
            "/sitemap.xml" => Some(None),
            p => p
                .strip_prefix("/sitemap-")
                .and_then(|r| r.strip_suffix(".xml"))
                .filter(|n| !n.starts_with(['0', '+']))
                .and_then(|n| n.parse::<i64>().ok())
                .map(Some),
        };
        if let Some(part) = part {
            return match self.sitemap_xml(site.id, &base, part).await? {
                Some(p) => Ok(Some(Answer::Page(p, site_tags))),
                None => self.not_found(site.id).await.map(Some),
            };
        }
        if path == "/robots.txt" {
            return Ok(Some(Answer::Page(self.robots_txt(site.id, &base).await?, vec![Tag::Site(site.id)])));
        }
        Ok(None)
    }

    async fn not_found(&self, site_id: i64) -> AppResult<Answer> {
        Ok(Answer::Uncached(
            self.message_page(site_id, StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在或已删除。").await?,
        ))
    }

    async fn home(&self, site_id: i64) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let (s, cols) = self.frame(&mut c, site_id).await?;
        let mut blocks = Vec::new();
        for col in cols.iter().filter(|c| c.parent_id.is_none() && c.is_active()).take(8) {
            let items = docs::published_in_column(&mut c, col.id, HOME_ITEMS, 0).await?;
            blocks.push(Block { column: ColumnCtx::from(col), items: items.into_iter().map(Item::from).collect() });
        }
        let topics: Vec<Item> = self
            .open_topics(site_id)
            .await?
            .into_iter()
            .map(|t| Item { url: format!("/topics/{}/", t.id), title: t.title, date: String::new() })
            .collect();
        let ctx = minijinja::context! {
            lang => "zh-CN", site => site_ctx(&s), nav => nav(&cols), cluster => self.cluster_nav(), current_column => (), blocks, topics,
        };
        self.render_page(site_id, StatusCode::OK, "home.html", ctx)
    }

    async fn column_page(&self, site_id: i64, slug: &str, page: i64) -> AppResult<Answer> {
        let mut c = self.db.pool.acquire().await?;
        let (s, cols) = self.frame(&mut c, site_id).await?;
        let Some(col) = cols.iter().find(|c| c.slug == slug) else { return self.not_found(site_id).await };
        match col.status {
            ColumnStatus::Merged => {
                // Follow merges to the column that holds the documents now.
                let mut target = col;
                for _ in 0..16 {
                    match target.merged_into.and_then(|m| cols.iter().find(|c| c.id == m)) {
                        Some(t) => target = t,
                        None => break,
                    }
                }
                return Ok(Answer::Moved(target.path()));
            }
            ColumnStatus::Closed => {
                let msg = format!("「{}」栏目已关闭。", col.name);
                let p = self.message_page(site_id, StatusCode::GONE, "栏目已关闭", &msg).await?;
                return Ok(Answer::Page(p, vec![Tag::Site(site_id)]));
            }
            ColumnStatus::Active => {}
        }
        let total = docs::count_published_in_column(&mut c, col.id).await?;
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        if page > pages {
            return self.not_found(site_id).await;
        }
        let list: Vec<Item> = docs::published_in_column(&mut c, col.id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
            .await?
            .into_iter()
            .map(Item::from)
            .collect();
        let ctx = minijinja::context! {
            lang => "zh-CN", site => site_ctx(&s), nav => nav(&cols), cluster => self.cluster_nav(), current_column => col.parent_id.unwrap_or(col.id),
            column => ColumnCtx::from(col), items => list, page, pages,
        };
        let p = self.render_page(site_id, StatusCode::OK, "column.html", ctx)?;
        Ok(Answer::Page(p, vec![Tag::Site(site_id), Tag::Column(col.id)]))
    }

    async fn article_page(&self, site_id: i64, id: i64) -> AppResult<Answer> {
        let mut c = self.db.pool.acquire().await?;
        let Some(doc) = crate::documents::find_document(&mut c, id).await? else {
            return self.not_found(site_id).await;
        };
        // A document of another site shows here only when reposted to this one.
        let host = if doc.site_id == site_id {
            None
        } else {
            match crate::reposts::shown_in(&mut c, id, site_id).await? {
                Some(col) => Some((site_id, col)),
                None => return self.not_found(site_id).await,
            }
        };
        let Some(live_id) = doc.live_edition_id else { return self.not_found(site_id).await };
        let live = crate::documents::load_edition(&mut c, live_id).await?;
        let withdrawn = match (live.state, doc.unpublished_as()?) {
            (DocState::Published, _) => None,
            (DocState::Unpublished, Some(UnpublishMode::Redirect)) => {
                return Ok(Answer::Moved(doc.redirect_url.clone().unwrap_or_else(|| "/".into())));
            }
            (DocState::Unpublished, Some(UnpublishMode::Gone)) => {
                let p = self.message_page(site_id, StatusCode::GONE, "信息已删除", "您访问的信息已被删除。").await?;
                return Ok(Answer::Page(p, vec![Tag::Site(site_id), Tag::Document(id)]));
            }
            (DocState::Unpublished, _) => Some(doc.unpublish_note.clone().unwrap_or_default()),
            _ => return self.not_found(site_id).await,
        };
        let (page, tags) = self.render_article(&mut c, &doc, &live, withdrawn, host).await?;
        Ok(Answer::Page(page, tags))
    }

    /// Renders a document page for `edition`, exactly as the public sees it (the admin's
    /// preview uses this too), with what it shows. `host` is the (site, column) showing a
    /// reposted document; the page then wears that site's frame and names the original.
    pub(crate) async fn render_article(
        &self,
        c: &mut AnyConnection,
        doc: &DocumentRow,
        edition: &EditionRow,
        withdrawn: Option<String>,
        host: Option<(i64, i64)>,
    ) -> AppResult<(Arc<Page>, Vec<Tag>)> {
        let shown_on = host.map_or(doc.site_id, |(s, _)| s);
        let (shown_row, cols) = self.frame(c, shown_on).await?;
        // The original's site: the same one unless this is a repost.
        let origin = match host {
            None => shown_row.clone(),
            Some(_) => crate::sites::load_site(&mut *c, doc.site_id).await?,
        };
        let repost = host.map(|_| {
            minijinja::context! { site => origin.name.clone(), url => self.document_link(shown_on, doc.site_id, doc.id) }
        });
        let column = host
            .map(|(_, col)| col)
            .or(doc.canonical_column_id)
            .and_then(|id| cols.iter().find(|c| c.id == id))
            .or_else(|| cols.first());
        let mut tags = vec![Tag::Site(shown_on), Tag::Site(doc.site_id), Tag::Document(doc.id)];
        let related: Vec<Item> = match column {
            Some(col) => {
                tags.push(Tag::Column(col.id));
                docs::published_in_column(c, col.id, 6, 0)
                    .await?
                    .into_iter()
                    .filter(|i| i.id != doc.id)
                    .take(5)
                    .map(Item::from)
                    .collect()
            }
            None => Vec::new(),
        };
        let column = column.map(ColumnCtx::from).unwrap_or(ColumnCtx {
            id: 0,
            name: String::new(),
            path: "/".into(),
            kind_label: ColumnKind::General.label(),
        });
        let attachments = docs::attachments_of(c, doc.id).await?;
        // Interpretations of this policy, and the policies this document interprets (R4.1).
        let (of, interprets) = crate::disclosure::interpretations::published_links(c, doc.id).await?;
        let linked =
            |rows: Vec<crate::disclosure::interpretations::Linked>, tags: &mut Vec<Tag>| -> Vec<minijinja::Value> {
                rows.into_iter()
                    .map(|(id, site_id, title, kind)| {
                        tags.push(Tag::Document(id));
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
                    .collect()
            };
        let of = linked(of, &mut tags);
        let interprets = linked(interprets, &mut tags);
        let meta = self.article_meta(c, doc.id, shown_on, &mut tags).await?;
        // Responses to hot issues are listed apart from interpretations.
        let (responses, interpretations): (Vec<minijinja::Value>, Vec<minijinja::Value>) =
            of.into_iter().partition(|v| v.get_attr("response").is_ok_and(|r| r.is_true()));
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
            site => site_ctx(&shown_row), nav => nav(&cols), cluster => self.cluster_nav(), current_column => column.id, column,
            doc => DocCtx {
                title: edition.title.clone(), subtitle: edition.subtitle.clone(), source: edition.source.clone(),
                author: edition.author.clone(), keywords: edition.keywords.clone(), description, published,
                body_html: edition.body_html.clone(), canonical,
            },
            attachments => attachments.iter().map(|a| AttachmentCtx {
                url: format!("/attachments/{}/{}", a.id, url::form_urlencoded::byte_serialize(a.file_name.as_bytes()).collect::<String>()),
                name: a.file_name.clone(), size: human_size(a.size_bytes),
            }).collect::<Vec<_>>(),
            related, withdrawn, interpretations, responses, interprets, repost, meta,
        };
        Ok((self.render_page(shown_on, StatusCode::OK, "article.html", ctx)?, tags))
    }

    /// The disclosure metadata shown at the head of a disclosed document.
    async fn article_meta(
        &self,
        c: &mut AnyConnection,
        doc_id: i64,
        shown_on: i64,
        tags: &mut Vec<Tag>,
    ) -> AppResult<Option<minijinja::Value>> {
        use zhanqun_domain::disclosure::{DOC_TYPES, VALIDITY, label_of};
        let Some(m) = crate::disclosure::article_meta(c, doc_id).await? else { return Ok(None) };
        let changed_by = match m.changed_by_document_id {
            Some(other) => {
                tags.push(Tag::Document(other));
                docs::published_title(c, other).await?.map(
                    |(site, title)| minijinja::context! { url => self.document_link(shown_on, site, other), title },
                )
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
}

/// The one spelling of a public address when `path` is another spelling of it: an article's
/// number without leading zeros or sign (`/articles/086.html`, `/articles/+86.html` →
/// `/articles/86.html`), a column's path in lower case with its closing slash
/// (`/columns/ZCWJ` → `/columns/zcwj/`). `None` when `path` is canonical or no address of
/// a site's own pages; allocates only when it redirects (it is on the cache-hit path).
pub fn respelt(path: &str) -> Option<String> {
    if let Some(n) = path.strip_prefix("/articles/").and_then(|r| r.strip_suffix(".html")) {
        if n.starts_with(['0', '+']) && n.len() > 1 {
            return n.parse::<i64>().ok().filter(|&id| id > 0).map(|id| format!("/articles/{id}.html"));
        }
        return None;
    }
    if let Some(rest) = path.strip_prefix("/columns/") {
        let slug = rest.strip_suffix('/').unwrap_or(rest);
        if slug.is_empty() || slug.contains('/') {
            return None;
        }
        if slug.len() == rest.len() || slug.bytes().any(|b| b.is_ascii_uppercase()) {
            return Some(format!("/columns/{}/", slug.to_ascii_lowercase()));
        }
    }
    None
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

    #[test]
    fn every_public_address_has_one_spelling() {
        for (asked, canonical) in [
            ("/articles/086.html", Some("/articles/86.html")),
            ("/articles/+86.html", Some("/articles/86.html")),
            ("/articles/0086.html", Some("/articles/86.html")),
            ("/articles/+086.html", Some("/articles/86.html")),
            ("/articles/86.html", None),
            ("/articles/0.html", None),
            ("/articles/00.html", None),
            ("/articles/-86.html", None),
            ("/articles/0x56.html", None),
            ("/columns/zcwj/", None),
            ("/columns/zcwj", Some("/columns/zcwj/")),
            ("/columns/ZCWJ/", Some("/columns/zcwj/")),
            ("/columns/", None),
            ("/columns/a/b/", None),
            ("/", None),
            ("/catalog/", None),
        ] {
            assert_eq!(respelt(asked).as_deref(), canonical, "{asked}");
        }
    }
}
