//! Feeds for new-media desks and feed readers (RSS 2.0 and Atom, for a site and for each of
//! its columns), and what search engines read (`sitemap.xml`, `robots.txt`), R9.3. They are
//! pages of the site like any other: kept in the page cache and dropped by the same events
//! (a publication, an edit, a withdrawal touches the site's home page tag, which every feed
//! and sitemap of the site carries).

use std::sync::Arc;

use axum::http::StatusCode;
use sqlx::AnyConnection;

use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::cache::Page;
use crate::kernel::content::xml_escape;
use crate::kernel::time::fmt_time;

/// Items a feed carries.
pub const FEED_ITEMS: i64 = 50;
/// URLs in one sitemap file (the protocol's limit); past it, a sitemap index.
pub const SITEMAP_URLS: i64 = 50_000;

/// The two feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
        }
    }

    pub fn file(self) -> &'static str {
        match self {
            Format::Rss => "rss.xml",
            Format::Atom => "atom.xml",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct FeedItem {
    id: i64,
    site_id: i64,
    title: String,
    summary: String,
    source: String,
    first_published_at: Option<i64>,
    published_at: Option<i64>,
}

/// The site's own published documents, newest first.
const SITE_ITEMS: &str = "SELECT d.id, d.site_id, e.title, e.summary, e.source, d.first_published_at, e.published_at \
    FROM documents d JOIN editions e ON e.id = d.live_edition_id \
    WHERE d.site_id = $1 AND e.state = 'published' ORDER BY d.first_published_at DESC, d.id DESC LIMIT $2";

/// A column's published documents, its own and those reposted into it, newest first.
const COLUMN_ITEMS: &str = "SELECT d.id, d.site_id, e.title, e.summary, e.source, d.first_published_at, e.published_at \
    FROM document_columns dc JOIN documents d ON d.id = dc.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE dc.column_id = $1 AND e.state = 'published' \
    UNION ALL SELECT d.id, d.site_id, e.title, e.summary, e.source, d.first_published_at, e.published_at FROM reposts r \
    JOIN documents d ON d.id = r.document_id JOIN editions e ON e.id = d.live_edition_id \
    WHERE r.column_id = $1 AND r.removed_at IS NULL AND r.accepted_at IS NOT NULL AND e.state = 'published' \
    ORDER BY 6 DESC, 1 DESC LIMIT $2";

/// RFC 822 date-time for RSS 2.0 (`Wed, 02 Dec 2026 09:30:00 +0800`).
fn rfc822(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(crate::kernel::time::CST);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0800"
    );
    t.format(&f).unwrap_or_default()
}

/// What a feed is of.
pub struct FeedOf<'a> {
    pub site_id: i64,
    pub site_name: &'a str,
    /// The column, when it is a column's feed: its id, name and address.
    pub column: Option<(i64, &'a str, String)>,
}

impl App {
    /// A site's or a column's feed.
    pub async fn feed(&self, of: FeedOf<'_>, format: Format, base: &str) -> AppResult<Arc<Page>> {
        let mut c = self.db.pool.acquire().await?;
        let items: Vec<FeedItem> = match &of.column {
            None => sqlx::query_as(SITE_ITEMS).bind(of.site_id).bind(FEED_ITEMS).fetch_all(&mut *c).await?,
            Some((col, ..)) => sqlx::query_as(COLUMN_ITEMS).bind(col).bind(FEED_ITEMS).fetch_all(&mut *c).await?,
        };
        drop(c);
        let (title, page, path) = match &of.column {
            None => (of.site_name.to_string(), format!("{base}/"), String::new()),
            Some((_, name, path)) => (format!("{name} - {}", of.site_name), format!("{base}{path}"), path.clone()),
        };
        let self_url = format!("{base}{}/{}", path.trim_end_matches('/'), format.file());
        let updated = items.iter().filter_map(|i| i.published_at.or(i.first_published_at)).max().unwrap_or(0);
        let link = |i: &FeedItem| match self.document_link(of.site_id, i.site_id, i.id) {
            u if u.starts_with('/') => format!("{base}{u}"),
            u => u,
        };
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        match format {
            Format::Rss => {
                xml.push_str(&format!(
                    "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>{}</title>\n<link>{}</link>\n\
                     <description>{}的最新信息</description>\n<language>zh-cn</language>\n\
                     <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n<lastBuildDate>{}</lastBuildDate>\n",
                    xml_escape(&title),
                    xml_escape(&page),
                    xml_escape(&title),
                    xml_escape(&self_url),
                    rfc822(updated)
                ));
                for i in &items {
                    let url = link(i);
                    xml.push_str(&format!(
                        "<item>\n<title>{}</title>\n<link>{u}</link>\n<guid isPermaLink=\"true\">{u}</guid>\n<pubDate>{}</pubDate>\n",
                        xml_escape(&i.title),
                        rfc822(i.first_published_at.unwrap_or(updated)),
                        u = xml_escape(&url),
                    ));
                    if !i.summary.is_empty() {
                        xml.push_str(&format!("<description>{}</description>\n", xml_escape(&i.summary)));
                    }
                    if !i.source.is_empty() {
                        xml.push_str(&format!(
                            "<source url=\"{}\">{}</source>\n",
                            xml_escape(&self_url),
                            xml_escape(&i.source)
                        ));
                    }
                    xml.push_str("</item>\n");
                }
                xml.push_str("</channel>\n</rss>\n");
            }
            Format::Atom => {
                xml.push_str(&format!(
                    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n<title>{}</title>\n<id>{}</id>\n\
                     <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" href=\"{}\"/>\n<updated>{}</updated>\n\
                     <author><name>{}</name></author>\n",
                    xml_escape(&title),
                    xml_escape(&self_url),
                    xml_escape(&page),
                    xml_escape(&self_url),
                    fmt_time(updated),
                    xml_escape(of.site_name)
                ));
                for i in &items {
                    let url = xml_escape(&link(i));
                    xml.push_str(&format!(
                        "<entry>\n<title>{}</title>\n<id>{url}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n\
                         <published>{}</published>\n<updated>{}</updated>\n",
                        xml_escape(&i.title),
                        fmt_time(i.first_published_at.unwrap_or(updated)),
                        fmt_time(i.published_at.or(i.first_published_at).unwrap_or(updated)),
                    ));
                    if !i.summary.is_empty() {
                        xml.push_str(&format!("<summary>{}</summary>\n", xml_escape(&i.summary)));
                    }
                    xml.push_str("</entry>\n");
                }
                xml.push_str("</feed>\n");
            }
        }
        Ok(Arc::new(Page::typed(StatusCode::OK, xml, format.content_type())))
    }

    /// `sitemap.xml`: the home page, every active column and every published document of
    /// the site, with when each last changed. Past [`SITEMAP_URLS`] documents it is an
    /// index of `sitemap-N.xml` files; `part` asks for one of them.
    pub async fn sitemap_xml(&self, site_id: i64, base: &str, part: Option<i64>) -> AppResult<Option<Arc<Page>>> {
        let mut c = self.db.pool.acquire().await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM documents d JOIN editions e ON e.id = d.live_edition_id WHERE d.site_id = $1 AND e.state = 'published'",
        )
        .bind(site_id)
        .fetch_one(&mut *c)
        .await?;
        let parts = (total + SITEMAP_URLS - 1) / SITEMAP_URLS;
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
        let xml = match part {
            None if parts > 1 => {
                let mut x = format!("{head}<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
                for n in 1..=parts {
                    x.push_str(&format!("<sitemap><loc>{}/sitemap-{n}.xml</loc></sitemap>\n", xml_escape(base)));
                }
                x.push_str("</sitemapindex>\n");
                x
            }
            Some(n) if n < 1 || n > parts.max(1) => return Ok(None),
            _ => {
                let n = part.unwrap_or(1);
                let mut x = format!("{head}<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
                if n == 1 {
                    x.push_str(&format!("<url><loc>{}/</loc></url>\n", xml_escape(base)));
                    for path in columns(&mut c, site_id).await? {
                        x.push_str(&format!("<url><loc>{}{}</loc></url>\n", xml_escape(base), xml_escape(&path)));
                    }
                }
                let docs: Vec<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT d.id, e.published_at FROM documents d JOIN editions e ON e.id = d.live_edition_id \
                     WHERE d.site_id = $1 AND e.state = 'published' ORDER BY d.id LIMIT $2 OFFSET $3",
                )
                .bind(site_id)
                .bind(SITEMAP_URLS)
                .bind((n - 1) * SITEMAP_URLS)
                .fetch_all(&mut *c)
                .await?;
                for (id, at) in docs {
                    x.push_str(&format!("<url><loc>{}/articles/{id}.html</loc>", xml_escape(base)));
                    if let Some(at) = at {
                        x.push_str(&format!("<lastmod>{}</lastmod>", fmt_time(at)));
                    }
                    x.push_str("</url>\n");
                }
                x.push_str("</urlset>\n");
                x
            }
        };
        Ok(Some(Arc::new(Page::typed(StatusCode::OK, xml, "application/xml; charset=utf-8"))))
    }

    /// `robots.txt`: the site admin's text when they wrote one, else everything may be
    /// crawled but the admin; either way it names the sitemap.
    pub async fn robots_txt(&self, site_id: i64, base: &str) -> AppResult<Arc<Page>> {
        let own: Option<String> = sqlx::query_scalar("SELECT robots_txt FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_optional(&self.db.pool)
            .await?
            .flatten();
        let mut text = match own.filter(|t| !t.trim().is_empty()) {
            Some(t) => t.trim_end().to_string(),
            None => "User-agent: *\nAllow: /\nDisallow: /admin/\nDisallow: /api/".to_string(),
        };
        let sitemap = format!("Sitemap: {base}/sitemap.xml");
        if !text.lines().any(|l| l.trim().eq_ignore_ascii_case(&sitemap)) {
            text.push_str("\n\n");
            text.push_str(&sitemap);
        }
        text.push('\n');
        Ok(Arc::new(Page::typed(StatusCode::OK, text, "text/plain; charset=utf-8")))
    }
}

/// The addresses of a site's active columns.
async fn columns(c: &mut AnyConnection, site_id: i64) -> AppResult<Vec<String>> {
    let cols = crate::columns::queries::of_site(c, site_id).await?;
    Ok(cols.iter().filter(|c| c.is_active()).map(|c| c.path()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_dates() {
        // 2026-12-02 09:30:00 +08:00
        assert_eq!(rfc822(1_796_175_000_000), "Wed, 02 Dec 2026 09:30:00 +0800");
    }
}
