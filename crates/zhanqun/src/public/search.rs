//! Site search on every site, the whole city on the portal. The full-text engine
//! (`crate::search`: tantivy with jieba, ranked by relevance with the title and recency
//! weighted, facets with counts) answers when this node's index can; otherwise the database
//! answers (every word of the query in the title, keywords, document number or body of a
//! published document, newest first), and the page and the API say which one did.

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
/// Words and phrases of a query that count; characters of a query.
const MAX_WORDS: usize = 8;
pub const MAX_CHARS: usize = 100;

/// A stretch of text, `hit` where it is a word of the query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Part {
    pub text: String,
    pub hit: bool,
}

/// What is asked: the words, and optionally filters (site, column, document type, issuing
/// body, year of publication), the order and the page.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// The words (at most 100 characters count; at most 8 words). `"…"` (or “…”) finds a
    /// phrase word after word; a document number is found whatever its brackets.
    #[serde(default)]
    pub q: String,
    /// Only documents shown on this site (on the portal and in the API; a department site
    /// searches itself).
    pub site: Option<i64>,
    /// Only documents in this column.
    pub column: Option<i64>,
    /// Only disclosure documents of this type: policy, normative, notice, interpretation,
    /// response, guide, annual_report, general.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub doc_type: Option<String>,
    /// Only documents issued by this body.
    pub body: Option<i64>,
    /// Only documents first published in this year.
    pub year: Option<i32>,
    /// `relevance` (the default) or `date` (newest first).
    pub sort: Option<String>,
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
    /// About 100 characters around the words found.
    pub snippet: String,
    /// The title cut into stretches, the words found marked.
    pub title_highlight: Vec<Part>,
    /// The snippet cut into stretches, the words found marked.
    pub snippet_highlight: Vec<Part>,
}

/// One value of a facet and how many documents found have it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacetValue {
    /// The filter's value (`site=…`, `column=…`, `type=…`, `body=…`, `year=…`).
    pub value: String,
    pub label: String,
    pub count: u64,
}

/// The documents found, counted by site, column, type, issuing body and year (full-text
/// engine only).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SearchFacets {
    pub sites: Vec<FacetValue>,
    pub columns: Vec<FacetValue>,
    pub types: Vec<FacetValue>,
    pub bodies: Vec<FacetValue>,
    pub years: Vec<FacetValue>,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// `fulltext`: the engine, ranked by relevance (or date); `database`: the fallback while
    /// no index can answer, every word in the document, newest first, without facets.
    pub engine: &'static str,
    /// Why the database answered, when it did.
    pub notice: Option<String>,
    /// The words searched for, as understood.
    pub words: Vec<String>,
    /// Quoted phrases searched for.
    pub phrases: Vec<String>,
    /// Synonyms the web office keeps that were looked for too (医保 → 医疗保险 …).
    pub also: Vec<String>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// `relevance` or `date`.
    pub sort: &'static str,
    pub hits: Vec<SearchHit>,
    pub facets: SearchFacets,
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

/// The words and the quoted phrases of a query. A quote left open counts as none.
pub fn parse(q: &str) -> (Vec<String>, Vec<String>) {
    let q: String = q.chars().take(MAX_CHARS).map(|c| if matches!(c, '“' | '”') { '"' } else { c }).collect();
    let parts: Vec<&str> = q.split('"').collect();
    let closed = parts.len() % 2 == 1;
    let mut bare = String::new();
    let mut phrases = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let quoted = i % 2 == 1 && (closed || i + 1 < parts.len());
        if quoted && p.chars().any(char::is_alphanumeric) {
            phrases.push(p.trim().to_string());
        } else {
            bare.push(' ');
            bare.push_str(p);
        }
    }
    phrases.truncate(MAX_WORDS);
    let mut w = words(&bare);
    w.truncate(MAX_WORDS - phrases.len());
    (w, phrases)
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
    parts_of(text, &marks)
}

/// `text` cut into stretches by byte ranges found by the engine.
fn marked_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Vec<Part> {
    let mut marks = vec![false; text.len()];
    for r in ranges {
        if r.end <= text.len() {
            marks[r.clone()].iter_mut().for_each(|m| *m = true);
        }
    }
    parts_of(text, &marks)
}

fn parts_of(text: &str, marks: &[bool]) -> Vec<Part> {
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

/// The filters and order of a search, checked.
#[derive(Debug, Clone, Copy, Default)]
struct Filters {
    site: Option<i64>,
    column: Option<i64>,
    /// `Some(0)`-less: an unknown type matches nothing.
    dtype: Option<u64>,
    body: Option<i64>,
    year: Option<i32>,
    by_date: bool,
}

/// Checks the filters of an API search: an unknown type or order is refused, with what is
/// allowed.
pub fn check_query(q: &SearchQuery) -> AppResult<()> {
    let mut e = FieldErrors::new();
    if let Some(t) = q.doc_type.as_deref().filter(|t| !t.is_empty())
        && crate::search::dtype_code(Some(t)) == 0
    {
        let all: Vec<&str> = zhanqun_domain::disclosure::DOC_TYPES.iter().map(|(k, _)| *k).collect();
        e.add("type", "one_of", format!("文件类型应为 {} 之一", all.join("、")));
    }
    if let Some(s) = q.sort.as_deref().filter(|s| !s.is_empty())
        && !matches!(s, "relevance" | "date")
    {
        e.add("sort", "one_of", "排序应为 relevance（相关度）或 date（发布时间）");
    }
    if let Some(y) = q.year
        && !(1900..=2200).contains(&y)
    {
        e.add("year", "range", "年份应在 1900 到 2200 之间");
    }
    if let Some(p) = q.page
        && p < 1
    {
        e.add("page", "min", "页码从 1 开始");
    }
    e.into_result().map_err(AppError::Invalid)
}

impl App {
    /// Searches the published documents of `within` (a site), or of the whole city: with
    /// the engine when this node's index can answer, else from the database.
    pub async fn search(&self, q: &SearchQuery, within: Option<i64>) -> AppResult<SearchResults> {
        let (words, phrases) = parse(&q.q);
        let page = q.page.unwrap_or(1).clamp(1, 100_000);
        let f = Filters {
            site: within.or(q.site),
            column: q.column,
            dtype: q.doc_type.as_deref().filter(|t| !t.is_empty()).map(|t| match crate::search::dtype_code(Some(t)) {
                0 => u64::MAX,
                c => c,
            }),
            body: q.body,
            year: q.year,
            by_date: q.sort.as_deref() == Some("date"),
        };
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
        let sort = if f.by_date { "date" } else { "relevance" };
        let mut notice = None;
        if let Some(live) = self.search.live() {
            let plan = crate::search::Plan {
                words: variants.clone(),
                phrases: phrases.clone(),
                site: f.site,
                column: f.column,
                dtype: f.dtype,
                body: f.body,
                year: f.year,
                by_date: f.by_date,
                offset: ((page - 1) * PER_PAGE) as usize,
                limit: PER_PAGE as usize,
            };
            match tokio::task::spawn_blocking(move || live.run(&plan)).await {
                Ok(Ok(out)) => {
                    let hits = out.hits.iter().map(|h| self.engine_hit(within, h)).collect();
                    let facets = self.facet_labels(&out.facets, within.is_none(), f.site).await?;
                    return Ok(SearchResults {
                        engine: "fulltext",
                        notice: None,
                        words,
                        phrases,
                        also,
                        total: out.total as i64,
                        page,
                        per_page: PER_PAGE,
                        sort,
                        hits,
                        facets,
                    });
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "full-text search failed; answering from the database"),
                Err(e) => tracing::warn!(error = %e, "full-text search failed; answering from the database"),
            }
            notice = Some("全文索引暂时无法检索".to_string());
        }
        let notice = notice.unwrap_or_else(|| self.search.why_not.lock().unwrap_or_else(|p| p.into_inner()).clone());
        let mut all_words: Vec<Vec<String>> = variants;
        all_words.extend(phrases.iter().map(|p| vec![p.clone()]));
        let (total, rows) =
            if all_words.is_empty() { (0, Vec::new()) } else { self.search_rows(&f, &all_words, page).await? };
        let marks: Vec<String> = words.iter().chain(&phrases).chain(&also).cloned().collect();
        let hosts = self.hosts.load();
        let hits = rows
            .into_iter()
            .map(|r| {
                let snip = snippet(&super::pages::plain_text(&r.body_html), &marks);
                SearchHit {
                    document_id: r.id,
                    site_id: r.site_id,
                    site: hosts.sites.get(&r.site_id).map(|s| s.name.clone()).unwrap_or_default(),
                    url: self.document_link(within.unwrap_or(-1), r.site_id, r.id),
                    published_at: r.first_published_at.map(crate::kernel::time::fmt_time),
                    title_highlight: mark(&r.title, &marks),
                    snippet_highlight: mark(&snip, &marks),
                    snippet: snip,
                    title: r.title,
                }
            })
            .collect();
        Ok(SearchResults {
            engine: "database",
            notice: Some(notice),
            words,
            phrases,
            also,
            total,
            page,
            per_page: PER_PAGE,
            sort: "date",
            hits,
            facets: SearchFacets::default(),
        })
    }

    fn engine_hit(&self, within: Option<i64>, h: &crate::search::Found) -> SearchHit {
        let hosts = self.hosts.load();
        let mut snippet = h.snippet.clone();
        let mut ranges = h.snippet_hits.clone();
        if !snippet.is_empty() {
            snippet.push('…');
        }
        if h.snippet_hits.first().is_some_and(|r| r.start > 0) || h.snippet_hits.is_empty() && !snippet.is_empty() {
            snippet.insert(0, '…');
            let n = '…'.len_utf8();
            ranges.iter_mut().for_each(|r| *r = r.start + n..r.end + n);
        }
        SearchHit {
            document_id: h.id,
            site_id: h.site_id,
            site: hosts.sites.get(&h.site_id).map(|s| s.name.clone()).unwrap_or_default(),
            url: self.document_link(within.unwrap_or(-1), h.site_id, h.id),
            published_at: (h.published_at > 0).then(|| crate::kernel::time::fmt_time(h.published_at)),
            title_highlight: marked_ranges(&h.title, &h.title_hits),
            snippet_highlight: marked_ranges(&snippet, &ranges),
            snippet,
            title: h.title.clone(),
        }
    }

    /// The engine's facet counts with their names, largest first (years newest first).
    /// With a site chosen, only that site's columns are offered (a repost is indexed under
    /// its home column too).
    async fn facet_labels(&self, f: &crate::search::Facets, city: bool, site: Option<i64>) -> AppResult<SearchFacets> {
        fn top(m: &std::collections::HashMap<u64, u64>, skip_zero: bool) -> Vec<(u64, u64)> {
            let mut v: Vec<(u64, u64)> =
                m.iter().filter(|(k, _)| !skip_zero || **k != 0).map(|(k, c)| (*k, *c)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(12);
            v
        }
        let hosts = self.hosts.load();
        let sites = if city {
            top(&f.sites, true)
                .into_iter()
                .filter_map(|(id, count)| {
                    hosts.sites.get(&(id as i64)).map(|s| FacetValue {
                        value: id.to_string(),
                        label: s.name.clone(),
                        count,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let names = |table: &'static str, ids: Vec<(u64, u64)>, of_site: Option<i64>| async move {
            if ids.is_empty() {
                return AppResult::Ok(Vec::new());
            }
            let list = ids.iter().map(|(i, _)| i.to_string()).collect::<Vec<_>>().join(",");
            let only = of_site.map(|s| format!(" AND site_id = {s}")).unwrap_or_default();
            let rows: Vec<(i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, name FROM {table} WHERE id IN ({list}){only}")))
                    .fetch_all(&self.db.pool)
                    .await?;
            Ok(ids
                .into_iter()
                .filter_map(|(id, count)| {
                    rows.iter().find(|r| r.0 == id as i64).map(|r| FacetValue {
                        value: id.to_string(),
                        label: r.1.clone(),
                        count,
                    })
                })
                .collect())
        };
        let columns = names("columns", top(&f.columns, true), site).await?;
        let bodies = names("bodies", top(&f.bodies, true), None).await?;
        let types = top(&f.dtypes, true)
            .into_iter()
            .filter_map(|(code, count)| {
                crate::search::dtype_of(code).map(|(k, l)| FacetValue { value: k.into(), label: l.into(), count })
            })
            .collect();
        let mut years: Vec<(u64, u64)> = f.years.iter().filter(|(y, _)| **y > 0).map(|(y, c)| (*y, *c)).collect();
        years.sort_by_key(|y| std::cmp::Reverse(y.0));
        years.truncate(12);
        let years = years
            .into_iter()
            .map(|(y, count)| FacetValue { value: y.to_string(), label: format!("{y}年"), count })
            .collect();
        Ok(SearchFacets { sites, columns, types, bodies, years })
    }

    /// `/search?q=…&site=…&column=…&type=…&body=…&year=…&sort=…&page=N` on `site`: its own
    /// documents, or the whole city's on the city portal (where a site may be chosen).
    pub async fn search_page(&self, site: &SiteInfo, raw_query: &str) -> AppResult<Arc<Page>> {
        let mut q = SearchQuery::default();
        for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            match k.as_ref() {
                "q" => q.q = v.into_owned(),
                "site" => q.site = v.parse().ok(),
                "column" => q.column = v.parse().ok(),
                "type" => q.doc_type = Some(v.into_owned()).filter(|t| !t.is_empty()),
                "body" => q.body = v.parse().ok(),
                "year" => q.year = v.parse().ok().filter(|y| (1900..=2200).contains(y)),
                "sort" => q.sort = Some(v.into_owned()).filter(|s| s == "date"),
                "page" => q.page = v.parse().ok(),
                _ => {}
            }
        }
        let city = site.kind == SiteKind::CityPortal;
        let r = self.search(&q, if city { None } else { Some(site.id) }).await?;
        if r.page == 1 && !(r.words.is_empty() && r.phrases.is_empty()) {
            self.count_search(site.id, &q.q, r.total);
        }
        let hits: Vec<Shown> = r
            .hits
            .iter()
            .map(|h| Shown {
                url: self.document_link(site.id, h.site_id, h.document_id),
                title: h.title_highlight.clone(),
                snippet: h.snippet_highlight.clone(),
                date: h.published_at.as_deref().map(|t| t[..10].to_string()).unwrap_or_default(),
                site: h.site.clone(),
            })
            .collect();
        let reachable = r.total.min(crate::search::MAX_RESULTS as i64);
        let pages = (reachable + PER_PAGE - 1) / PER_PAGE;
        let shown: String = q.q.chars().take(MAX_CHARS).collect();
        // An address of this search with one thing changed: `key` set to `value` (None:
        // removed), back to page 1 unless it is the page that changes.
        let link = |key: &str, value: Option<String>| {
            let mut u = url::form_urlencoded::Serializer::new(String::new());
            u.append_pair("q", &shown);
            let current = [
                ("site", if city { q.site.map(|s| s.to_string()) } else { None }),
                ("column", q.column.map(|c| c.to_string())),
                ("type", q.doc_type.clone()),
                ("body", q.body.map(|b| b.to_string())),
                ("year", q.year.map(|y| y.to_string())),
                ("sort", q.sort.clone()),
                ("page", None),
            ];
            for (k, v) in current {
                let v = if k == key { value.clone() } else { v };
                if let Some(v) = v {
                    u.append_pair(k, &v);
                }
            }
            format!("/search?{}", u.finish())
        };
        let page_link = |p: i64| link("page", (p > 1).then(|| p.to_string()));
        // Facets as links that add the filter (or, for the one chosen, remove it).
        let facet = |key: &str, values: &[FacetValue], chosen: Option<String>| -> Vec<minijinja::Value> {
            values
                .iter()
                .map(|v| {
                    let on = chosen.as_deref() == Some(v.value.as_str());
                    minijinja::context! { label => v.label, count => v.count, on,
                    url => link(key, if on { None } else { Some(v.value.clone()) }) }
                })
                .collect()
        };
        let facets = vec![
            minijinja::context! { name => "网站", items => facet("site", &r.facets.sites, q.site.map(|s| s.to_string())) },
            minijinja::context! { name => "栏目", items => facet("column", &r.facets.columns, q.column.map(|s| s.to_string())) },
            minijinja::context! { name => "文件类型", items => facet("type", &r.facets.types, q.doc_type.clone()) },
            minijinja::context! { name => "发布机关", items => facet("body", &r.facets.bodies, q.body.map(|s| s.to_string())) },
            minijinja::context! { name => "年份", items => facet("year", &r.facets.years, q.year.map(|s| s.to_string())) },
        ];
        // Filters in force, each with a link that removes it.
        let mut filters = Vec::new();
        let label_of = |values: &[FacetValue], v: &str| values.iter().find(|f| f.value == v).map(|f| f.label.clone());
        if city && let Some(s) = q.site {
            let name = self.hosts.load().sites.get(&s).map(|s| s.name.clone()).unwrap_or_else(|| format!("网站 #{s}"));
            filters.push(minijinja::context! { label => name, url => link("site", None) });
        }
        if let Some(c) = q.column {
            let l = label_of(&r.facets.columns, &c.to_string()).unwrap_or_else(|| format!("栏目 #{c}"));
            filters.push(minijinja::context! { label => l, url => link("column", None) });
        }
        if let Some(t) = &q.doc_type {
            let l = zhanqun_domain::disclosure::label_of(zhanqun_domain::disclosure::DOC_TYPES, t)
                .map(str::to_string)
                .unwrap_or_else(|| format!("未知类型「{t}」"));
            filters.push(minijinja::context! { label => l, url => link("type", None) });
        }
        if let Some(b) = q.body {
            let l = label_of(&r.facets.bodies, &b.to_string()).unwrap_or_else(|| format!("机关 #{b}"));
            filters.push(minijinja::context! { label => l, url => link("body", None) });
        }
        if let Some(y) = q.year {
            filters.push(minijinja::context! { label => format!("{y}年"), url => link("year", None) });
        }
        // The portal's site choice, and the years.
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
        let empty = r.words.is_empty() && r.phrases.is_empty();
        let hot: Vec<minijinja::Value> = if empty || r.total == 0 {
            self.hot_searches(site.id, 10)
                .await?
                .into_iter()
                .map(|t| {
                    let url =
                        format!("/search?q={}", url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>());
                    minijinja::context! { term => t, url }
                })
                .collect()
        } else {
            Vec::new()
        };
        let sought: Vec<String> = r.words.iter().cloned().chain(r.phrases.iter().map(|p| format!("“{p}”"))).collect();
        let ctx = minijinja::context! {
            query => shown, words => sought, also => r.also, hits, total => r.total, page => r.page, pages, city, sites, years,
            chosen_site => q.site, chosen_year => q.year, engine => r.engine, notice => r.notice,
            by_date => r.sort == "date", facets, filters, hot,
            relevance_url => link("sort", None), date_url => link("sort", Some("date".into())),
            beyond => r.total > reachable && r.page > pages,
            first_url => page_link(1), prev_url => (r.page > 1 && r.page <= pages).then(|| page_link(r.page - 1)),
            next_url => (r.page < pages).then(|| page_link(r.page + 1)),
            too_long => q.q.chars().count() > MAX_CHARS, empty,
        };
        self.site_page(site.id, StatusCode::OK, "search.html", ctx).await
    }

    async fn search_rows(&self, f: &Filters, words: &[Vec<String>], page: i64) -> AppResult<(i64, Vec<Row>)> {
        let filter = |q: &mut QueryBuilder| {
            q.push(" FROM documents d JOIN editions e ON e.id = d.live_edition_id JOIN sites s ON s.id = d.site_id");
            q.push(" WHERE e.state = 'published' AND s.state = 'online'");
            if let Some(s) = f.site {
                q.push(" AND (d.site_id = ").push_bind(s);
                q.push(" OR EXISTS (SELECT 1 FROM reposts r WHERE r.document_id = d.id AND r.removed_at IS NULL AND r.accepted_at IS NOT NULL AND r.site_id = ")
                    .push_bind(s)
                    .push("))");
            }
            if let Some(c) = f.column {
                q.push(
                    " AND EXISTS (SELECT 1 FROM document_columns dc WHERE dc.document_id = d.id AND dc.column_id = ",
                )
                .push_bind(c)
                .push(")");
            }
            if let Some(t) = f.dtype {
                let key = crate::search::dtype_of(t).map(|(k, _)| k).unwrap_or("");
                q.push(" AND EXISTS (SELECT 1 FROM disclosures x WHERE x.document_id = d.id AND x.doc_type = ")
                    .push_bind(key.to_string())
                    .push(")");
            }
            if let Some(b) = f.body {
                q.push(" AND EXISTS (SELECT 1 FROM disclosures x WHERE x.document_id = d.id AND x.issuing_body_id = ")
                    .push_bind(b)
                    .push(")");
            }
            if let Some(y) = f.year {
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
    check_query(&q)?;
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct HotQuery {
    /// The site whose most frequent searches follow the web office's list.
    pub site: i64,
}

/// The hot searches a site shows: the web office's list, then the most frequent of the last
/// 30 days (public).
#[utoipa::path(get, path = "/search/hot", tag = "public", security(()), params(HotQuery),
    responses((status = 200, body = Vec<String>)))]
pub async fn get_hot(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::problem::ApiQuery(q): crate::web::problem::ApiQuery<HotQuery>,
) -> AppResult<crate::web::api::Json<Vec<String>>> {
    if !app.hosts.load().sites.contains_key(&q.site) {
        return Err(AppError::NotFound(format!("没有编号为 {} 的网站", q.site)));
    }
    Ok(crate::web::api::Json(app.hot_searches(q.site, 10).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotInput {
    /// The web office's hot searches, in the order shown (at most 20).
    pub terms: Vec<String>,
}

/// Replaces the web office's hot searches (system administrators).
#[utoipa::path(put, path = "/search/hot", tag = "public", request_body = HotInput,
    responses((status = 200, body = Vec<String>)))]
pub async fn put_hot(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::api::Auth(actor): crate::web::api::Auth,
    crate::web::problem::ApiJson(input): crate::web::problem::ApiJson<HotInput>,
) -> AppResult<crate::web::api::Json<Vec<String>>> {
    Ok(crate::web::api::Json(app.set_hot_searches(&actor, &input.terms).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    pub site: i64,
    /// The last N days (1 to 366, default 30).
    pub days: Option<i64>,
}

/// What was searched on a site: the most frequent queries and those that found nothing
/// (the site's staff and the system administrator).
#[utoipa::path(get, path = "/search/report", tag = "public", params(ReportQuery),
    responses((status = 200, body = crate::search::stats::SearchReport)))]
pub async fn get_report(
    axum::extract::State(app): axum::extract::State<App>,
    crate::web::api::Auth(actor): crate::web::api::Auth,
    crate::web::problem::ApiQuery(q): crate::web::problem::ApiQuery<ReportQuery>,
) -> AppResult<crate::web::api::Json<crate::search::stats::SearchReport>> {
    Ok(crate::web::api::Json(app.search_report(&actor, q.site, q.days.unwrap_or(30)).await?))
}

/// The search operations of the API.
pub fn api_router() -> crate::web::api::ApiRouter {
    crate::web::api::ApiRouter::new()
        .routes(utoipa_axum::routes!(api_search))
        .routes(utoipa_axum::routes!(get_synonyms, put_synonyms))
        .routes(utoipa_axum::routes!(get_hot, put_hot))
        .routes(utoipa_axum::routes!(get_report))
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
