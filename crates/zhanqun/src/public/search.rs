//! Site search on every site, the whole city on the portal: for now answered from the
//! database (every word of the query in the title, keywords, document number or body of a
//! published document, newest first). Issue #12's full-text engine (tantivy with Chinese
//! word segmentation) takes over ranking; this stays as its fallback, and the page says
//! which one answered.

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use zhanqun_domain::site::SiteKind;

use super::hosts::SiteInfo;
use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::cache::Page;
use crate::kernel::db::QueryBuilder;
use crate::kernel::time::date_only;

/// Results on a page.
pub const PER_PAGE: i64 = 20;
/// Words of a query that count; characters of a query.
const MAX_WORDS: usize = 8;
pub const MAX_CHARS: usize = 100;

/// A stretch of text, `hit` where it is a word of the query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    pub hit: bool,
}

#[derive(Debug, Clone, Serialize)]
struct Hit {
    url: String,
    title: Vec<Part>,
    snippet: Vec<Part>,
    date: String,
    site: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: i64,
    site_id: i64,
    title: String,
    body_html: String,
    first_published_at: Option<i64>,
}

/// The words of a query: split on spaces (full-width too), brackets of document numbers
/// made alike (〔〕[]【】 all find 〔〕), at most [`MAX_WORDS`].
pub fn words(q: &str) -> Vec<String> {
    let q: String = q.chars().take(MAX_CHARS).collect();
    q.split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '"' | '“' | '”' | '\'' | ',' | '，' | '。'))
                .replace(['[', '【'], "〔")
                .replace([']', '】'], "〕")
        })
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_WORDS)
        .collect()
}

/// `text` cut into stretches, the words of the query marked (case-insensitive for ASCII).
pub fn mark(text: &str, words: &[String]) -> Vec<Part> {
    let lower = text.to_lowercase();
    let mut marks = vec![false; text.len()];
    if lower.len() == text.len() {
        for w in words {
            let w = w.to_lowercase();
            for (i, _) in lower.match_indices(&w) {
                marks[i..i + w.len()].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let mut parts: Vec<Part> = Vec::new();
    for (i, c) in text.char_indices() {
        let hit = marks[i];
        match parts.last_mut() {
            Some(p) if p.hit == hit => p.text.push(c),
            _ => parts.push(Part { text: c.to_string(), hit }),
        }
    }
    parts
}

/// About 80 characters of `text` around the first word of the query found in it.
fn snippet(text: &str, words: &[String]) -> String {
    let chars: Vec<char> = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().collect();
    let flat: String = chars.iter().collect();
    // Byte offsets of the lower-cased text are the text's own only when lower-casing kept
    // every length; otherwise the words are looked for as typed.
    let low = flat.to_lowercase();
    let same = low.len() == flat.len();
    let at = words
        .iter()
        .filter_map(|w| if same { low.find(&w.to_lowercase()) } else { flat.find(w.as_str()) })
        .min()
        .map(|byte| flat[..byte].chars().count())
        .unwrap_or(0);
    let start = at.saturating_sub(30);
    let end = (start + 80).min(chars.len());
    let mut s: String = chars[start..end].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < chars.len() {
        s.push('…');
    }
    s
}

fn like(w: &str) -> String {
    let escaped = w.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl App {
    /// `/search?q=…&page=N` on `site`: its own documents, or the whole city's on the city
    /// portal.
    pub async fn search_page(&self, site: &SiteInfo, q: &str, page: i64) -> AppResult<Arc<Page>> {
        let words = words(q);
        let city = site.kind == SiteKind::CityPortal;
        let (total, rows) =
            if words.is_empty() { (0, Vec::new()) } else { self.search_rows(site.id, city, &words, page).await? };
        let hosts = self.hosts.load();
        let hits: Vec<Hit> = rows
            .iter()
            .map(|r| Hit {
                url: self.document_link(site.id, r.site_id, r.id),
                title: mark(&r.title, &words),
                snippet: mark(&snippet(&super::pages::plain_text(&r.body_html), &words), &words),
                date: r.first_published_at.map(date_only).unwrap_or_default(),
                site: hosts.sites.get(&r.site_id).map(|s| s.name.clone()).unwrap_or_default(),
            })
            .collect();
        let pages = (total + PER_PAGE - 1) / PER_PAGE;
        let shown: String = q.chars().take(MAX_CHARS).collect();
        let next = |p: i64| {
            let enc: String = url::form_urlencoded::byte_serialize(shown.as_bytes()).collect();
            format!("/search?q={enc}&page={p}")
        };
        let ctx = minijinja::context! {
            query => shown, words, hits, total, page, pages, city,
            first_url => next(1), prev_url => (page > 1).then(|| next(page - 1)), next_url => (page < pages).then(|| next(page + 1)),
            too_long => q.chars().count() > MAX_CHARS, empty => words.is_empty(),
        };
        let status = StatusCode::OK;
        self.site_page(site.id, status, "search.html", ctx).await
    }

    async fn search_rows(&self, site_id: i64, city: bool, words: &[String], page: i64) -> AppResult<(i64, Vec<Row>)> {
        let filter = |q: &mut QueryBuilder| {
            q.push(" FROM documents d JOIN editions e ON e.id = d.live_edition_id WHERE e.state = 'published'");
            if !city {
                q.push(" AND d.site_id = ").push_bind(site_id);
            }
            for w in words {
                let l = like(w);
                q.push(" AND (LOWER(e.title) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                q.push(" OR LOWER(e.keywords) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                q.push(" OR LOWER(e.body_source) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                q.push(
                    " OR EXISTS (SELECT 1 FROM disclosures x WHERE x.document_id = d.id AND (x.document_number LIKE ",
                )
                .push_bind(l.clone())
                .push(" ESCAPE '\\' OR x.index_number LIKE ")
                .push_bind(l)
                .push(" ESCAPE '\\')))");
            }
        };
        let mut count = QueryBuilder::new("SELECT COUNT(*)");
        filter(&mut count);
        let total: i64 = count.fetch_scalar(&self.db.pool).await?;
        let mut q = QueryBuilder::new("SELECT d.id, d.site_id, e.title, e.body_html, d.first_published_at");
        filter(&mut q);
        q.push(" ORDER BY d.first_published_at DESC, d.id DESC LIMIT ").push_bind(PER_PAGE);
        q.push(" OFFSET ").push_bind((page - 1) * PER_PAGE);
        Ok((total, q.fetch_all(&self.db.pool).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_marks_and_snippets() {
        assert_eq!(words("  义务教育　入学 "), ["义务教育", "入学"]);
        assert_eq!(words("青政办发[2015]12号"), ["青政办发〔2015〕12号"]);
        assert_eq!(words("青政办发【2015】12号"), ["青政办发〔2015〕12号"]);
        assert!(words("!!! ，。 ***").is_empty());
        assert_eq!(words(&"字".repeat(10_000))[0].chars().count(), MAX_CHARS);
        let p = mark("关于义务教育入学的通知", &["入学".into()]);
        assert_eq!(
            p,
            [
                Part { text: "关于义务教育".into(), hit: false },
                Part { text: "入学".into(), hit: true },
                Part { text: "的通知".into(), hit: false }
            ]
        );
        assert!(mark("ABC abc", &["b".into()]).iter().filter(|p| p.hit).count() == 2);
        let long = format!("{}关键{}", "前".repeat(100), "后".repeat(100));
        let s = snippet(&long, &["关键".into()]);
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("关键"), "{s}");
        assert_eq!(like("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
