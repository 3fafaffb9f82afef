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
use crate::kernel::cache::Page;
use crate::kernel::db::QueryBuilder;
use crate::kernel::{Actor, AppError, AppResult, Audit};
use zhanqun_domain::validate::FieldErrors;

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

/// What is asked: the words, and optionally one site and one year of publication.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// The words (at most 100 characters count; at most 8 words).
    #[serde(default)]
    pub q: String,
    /// Only this site's documents (on the portal and in the API; a department site searches
    /// itself).
    pub site: Option<i64>,
    /// Only documents first published in this year.
    pub year: Option<i32>,
    /// 20 a page, from 1.
    pub page: Option<i64>,
}

/// One document found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub document_id: i64,
    pub site_id: i64,
    /// The site's name.
    pub site: String,
    pub title: String,
    /// Its address (on its own site).
    pub url: String,
    /// First publication, RFC 3339.
    pub published_at: Option<String>,
    /// About 80 characters around the first word found.
    pub snippet: String,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// `database`: every word in the document, newest first (the full-text engine is not
    /// built yet).
    pub engine: &'static str,
    /// The words searched for, as understood.
    pub words: Vec<String>,
    /// Synonyms the web office keeps that were looked for too (医保 → 医疗保险 …).
    pub also: Vec<String>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone, Serialize)]
struct Shown {
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
    /// Searches the published documents of `within` (a site), or of the whole city.
    pub async fn search(&self, q: &SearchQuery, within: Option<i64>) -> AppResult<SearchResults> {
        let words = words(&q.q);
        let page = q.page.unwrap_or(1).clamp(1, 100_000);
        let site = within.or(q.site);
        let groups = self.synonym_groups().await?;
        let mut also = Vec::new();
        let variants: Vec<Vec<String>> = words
            .iter()
            .map(|w| {
                let mut v = vec![w.clone()];
                for g in groups.iter().filter(|g| g.iter().any(|t| t == w)) {
                    for t in g.iter().filter(|t| *t != w) {
                        if !v.contains(t) {
                            v.push(t.clone());
                            also.push(t.clone());
                        }
                    }
                }
                v
            })
            .collect();
        let (total, rows) =
            if words.is_empty() { (0, Vec::new()) } else { self.search_rows(site, q.year, &variants, page).await? };
        let hosts = self.hosts.load();
        let hits = rows
            .into_iter()
            .map(|r| SearchHit {
                document_id: r.id,
                site_id: r.site_id,
                site: hosts.sites.get(&r.site_id).map(|s| s.name.clone()).unwrap_or_default(),
                url: self.document_link(within.unwrap_or(-1), r.site_id, r.id),
                published_at: r.first_published_at.map(crate::kernel::time::fmt_time),
                snippet: snippet(&super::pages::plain_text(&r.body_html), &words),
                title: r.title,
            })
            .collect();
        Ok(SearchResults { engine: "database", words, also, total, page, per_page: PER_PAGE, hits })
    }

    /// `/search?q=…&site=…&year=…&page=N` on `site`: its own documents, or the whole
    /// city's on the city portal (where a site may be chosen).
    pub async fn search_page(&self, site: &SiteInfo, raw_query: &str) -> AppResult<Arc<Page>> {
        let mut q = SearchQuery::default();
        for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            match k.as_ref() {
                "q" => q.q = v.into_owned(),
                "site" => q.site = v.parse().ok(),
                "year" => q.year = v.parse().ok().filter(|y| (1900..=2200).contains(y)),
                "page" => q.page = v.parse().ok(),
                _ => {}
            }
        }
        let city = site.kind == SiteKind::CityPortal;
        let r = self.search(&q, if city { None } else { Some(site.id) }).await?;
        let hits: Vec<Shown> = r
            .hits
            .iter()
            .map(|h| Shown {
                url: self.document_link(site.id, h.site_id, h.document_id),
                title: mark(&h.title, &r.words),
                snippet: mark(&h.snippet, &r.words),
                date: h.published_at.as_deref().map(|t| t[..10].to_string()).unwrap_or_default(),
                site: h.site.clone(),
            })
            .collect();
        let pages = (r.total + PER_PAGE - 1) / PER_PAGE;
        let shown: String = q.q.chars().take(MAX_CHARS).collect();
        let link = |p: i64| {
            let mut u = url::form_urlencoded::Serializer::new(String::new());
            u.append_pair("q", &shown);
            if city && let Some(s) = q.site {
                u.append_pair("site", &s.to_string());
            }
            if let Some(y) = q.year {
                u.append_pair("year", &y.to_string());
            }
            if p > 1 {
                u.append_pair("page", &p.to_string());
            }
            format!("/search?{}", u.finish())
        };
        // The portal's filters: the sites of the city, and the years.
        let sites: Vec<(i64, String)> = if city {
            self.hosts
                .load()
                .sorted()
                .into_iter()
                .filter(|s| s.state == zhanqun_domain::site::SiteState::Online)
                .map(|s| (s.id, s.name.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let this_year = crate::kernel::time::local_date(crate::kernel::time::now_ms()).year();
        let years: Vec<i32> = (2000..=this_year).rev().collect();
        let ctx = minijinja::context! {
            query => shown, words => r.words, also => r.also, hits, total => r.total, page => r.page, pages, city, sites, years,
            chosen_site => q.site, chosen_year => q.year,
            first_url => link(1), prev_url => (r.page > 1).then(|| link(r.page - 1)),
            next_url => (r.page < pages).then(|| link(r.page + 1)),
            too_long => q.q.chars().count() > MAX_CHARS, empty => r.words.is_empty(),
        };
        self.site_page(site.id, StatusCode::OK, "search.html", ctx).await
    }

    async fn search_rows(
        &self,
        site: Option<i64>,
        year: Option<i32>,
        words: &[Vec<String>],
        page: i64,
    ) -> AppResult<(i64, Vec<Row>)> {
        let filter = |q: &mut QueryBuilder| {
            q.push(" FROM documents d JOIN editions e ON e.id = d.live_edition_id WHERE e.state = 'published'");
            if let Some(s) = site {
                q.push(" AND d.site_id = ").push_bind(s);
            }
            if let Some(y) = year {
                let start =
                    crate::kernel::time::local_ms(time::Date::from_ordinal_date(y, 1).unwrap_or(time::Date::MIN), 0);
                let end = crate::kernel::time::local_ms(
                    time::Date::from_ordinal_date(y + 1, 1).unwrap_or(time::Date::MAX),
                    0,
                );
                q.push(" AND d.first_published_at >= ").push_bind(start);
                q.push(" AND d.first_published_at < ").push_bind(end);
            }
            // Every word (or one of its synonyms) somewhere in the document.
            for variants in words {
                q.push(" AND (");
                for (n, w) in variants.iter().enumerate() {
                    let l = like(w);
                    if n > 0 {
                        q.push(" OR ");
                    }
                    q.push("LOWER(e.title) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                    q.push(" OR LOWER(e.keywords) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                    q.push(" OR LOWER(e.body_source) LIKE ").push_bind(l.clone()).push(" ESCAPE '\\'");
                    q.push(" OR EXISTS (SELECT 1 FROM disclosures x WHERE x.document_id = d.id AND (x.document_number LIKE ")
                        .push_bind(l.clone())
                        .push(" ESCAPE '\\' OR x.index_number LIKE ")
                        .push_bind(l)
                        .push(" ESCAPE '\\'))");
                }
                q.push(")");
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

    /// The synonym groups the web office keeps.
    pub async fn synonym_groups(&self) -> AppResult<Vec<Vec<String>>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT terms FROM search_synonyms ORDER BY id").fetch_all(&self.db.pool).await?;
        Ok(rows.iter().map(|r| r.split(' ').filter(|t| !t.is_empty()).map(str::to_string).collect()).collect())
    }

    /// Replaces the synonym groups (the system administrator, for the web office): each of
    /// 2 to 10 terms of 1 to 20 characters without spaces, a term in one group only, at
    /// most 1,000 groups.
    pub async fn set_synonyms(&self, actor: &Actor, groups: &[Vec<String>]) -> AppResult<Vec<Vec<String>>> {
        actor.require_admin()?;
        let mut e = FieldErrors::new();
        if groups.len() > 1000 {
            e.add("groups", "max_items", format!("同义词最多 1000 组（现为 {} 组）", groups.len()));
        }
        let mut seen: Vec<String> = Vec::new();
        let mut kept: Vec<Vec<String>> = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let field = format!("groups[{i}]");
            let terms: Vec<String> = g.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            if !(2..=10).contains(&terms.len()) {
                e.add(&field, "length", "每组同义词应有 2 到 10 个词");
            }
            for t in &terms {
                if t.chars().count() > 20 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    e.add(&field, "term", format!("「{t}」不是一个词：每个词不超过 20 个字，不含空格"));
                } else if seen.contains(t) {
                    e.add(&field, "unique", format!("「{t}」已在另一组（或本组）中"));
                }
                seen.push(t.clone());
            }
            kept.push(terms);
        }
        e.into_result().map_err(AppError::Invalid)?;
        let mut cmd = self.begin(actor).await?;
        sqlx::query("DELETE FROM search_synonyms").execute(cmd.conn()).await?;
        for g in &kept {
            sqlx::query("INSERT INTO search_synonyms (terms, created_by, created_at) VALUES ($1, $2, $3)")
                .bind(g.join(" "))
                .bind(&actor.name)
                .bind(crate::kernel::time::now_ms())
                .execute(cmd.conn())
                .await?;
        }
        cmd.audit(Audit::event(None, "search_synonyms", 0, "replace", serde_json::json!({"groups": kept.len()})))
            .await?;
        cmd.commit().await?;
        Ok(kept)
    }

    /// The site's OpenSearch description: browsers offer to add its search.
    pub fn opensearch(&self, site: &SiteInfo, base: &str) -> Arc<Page> {
        use crate::kernel::content::xml_escape;
        let short: String = site.name.chars().take(16).collect();
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n\
             <ShortName>{}</ShortName>\n<Description>{}站内搜索</Description>\n<InputEncoding>UTF-8</InputEncoding>\n\
             <Url type=\"text/html\" method=\"get\" template=\"{}/search?q={{searchTerms}}\"/>\n</OpenSearchDescription>\n",
            xml_escape(&short),
            xml_escape(&site.name),
            xml_escape(base)
        );
        Arc::new(Page::typed(StatusCode::OK, xml, "application/opensearchdescription+xml; charset=utf-8"))
    }
}

/// `GET /api/v1/search` (public): the same search as the sites' box, as JSON.
#[utoipa::path(get, path = "/search", tag = "public", security(()), params(SearchQuery),
    responses((status = 200, body = SearchResults)))]
pub async fn api_search(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::client::ClientAddr(client): crate::web::client::ClientAddr,
    crate::web::problem::ApiQuery(q): crate::web::problem::ApiQuery<SearchQuery>,
) -> AppResult<crate::web::api::Json<SearchResults>> {
    if !app.search_limiter.allow(&client.to_string()) {
        return Err(crate::kernel::AppError::TooManyAttempts("搜索太频繁，请稍后再试".into()));
    }
    Ok(crate::web::api::Json(app.search(&q, None).await?))
}

/// The synonym groups of site search (anyone signed in).
#[utoipa::path(get, path = "/search/synonyms", tag = "public", responses((status = 200, body = Vec<Vec<String>>)))]
pub async fn get_synonyms(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::api::Auth(_actor): crate::web::api::Auth,
) -> AppResult<crate::web::api::Json<Vec<Vec<String>>>> {
    Ok(crate::web::api::Json(app.synonym_groups().await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymsInput {
    /// Each group: terms that find each other (`["医保", "医疗保险"]`).
    pub groups: Vec<Vec<String>>,
}

/// Replaces the synonym groups (system administrators, for the web office).
#[utoipa::path(put, path = "/search/synonyms", tag = "public", request_body = SynonymsInput,
    responses((status = 200, body = Vec<Vec<String>>)))]
pub async fn put_synonyms(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::api::Auth(actor): crate::web::api::Auth,
    crate::web::problem::ApiJson(input): crate::web::problem::ApiJson<SynonymsInput>,
) -> AppResult<crate::web::api::Json<Vec<Vec<String>>>> {
    Ok(crate::web::api::Json(app.set_synonyms(&actor, &input.groups).await?))
}

/// The search operations of the API.
pub fn api_router() -> crate::web::api::ApiRouter {
    crate::web::api::ApiRouter::new()
        .routes(utoipa_axum::routes!(api_search))
        .routes(utoipa_axum::routes!(get_synonyms, put_synonyms))
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
