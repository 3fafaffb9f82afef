//! What the monitor reads off one HTML page (parsed by html5ever, as browsers parse it,
//! broken markup included): its links, images, checker meta tags, language, viewport,
//! the dated items of its lists and its text. The page itself is dropped after this.

use std::collections::HashMap;

use scraper::{ElementRef, Html, Selector};
use url::Url;
use zhanqun_domain::inspection::{ShownDate, dates_in};

/// A link on a page.
#[derive(Debug, Clone)]
pub struct Link {
    pub target: Url,
    pub text: String,
}

/// A list item (`li`, `tr`, `dd`) with a link: an entry of a column, a news list…
#[derive(Debug, Clone)]
pub struct Item {
    pub text: String,
    pub target: Option<Url>,
    /// The newest date the item shows.
    pub date: Option<ShownDate>,
    /// Which list of the page it is in (items of one list share it).
    pub list: usize,
}

#[derive(Debug, Default)]
pub struct PageFacts {
    pub title: String,
    pub lang: Option<String>,
    pub viewport: bool,
    /// Meta tags by name, as written.
    pub metas: HashMap<String, String>,
    pub links: Vec<Link>,
    /// Images: their address (as written) and whether they have an `alt`.
    pub images: Vec<(String, bool)>,
    pub items: Vec<Item>,
    /// All visible text, whitespace collapsed.
    pub text: String,
    /// A search box (a GET form with a search field): its results address for a sample
    /// query.
    pub search: Option<Url>,
}

/// The names search fields go by on government sites.
const SEARCH_FIELDS: [&str; 10] =
    ["q", "query", "keyword", "keywords", "searchword", "wd", "kw", "word", "key", "text"];
/// The query a search box is tried with.
pub const SAMPLE_QUERY: &str = "政务公开";

impl PageFacts {
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metas.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn sel(s: &str) -> Selector {
    // The selectors are constants of this file; a typo is found by the first test.
    Selector::parse(s).unwrap_or_else(|_| panic!("bad selector {s}"))
}

struct Selectors {
    base: Selector,
    title: Selector,
    html: Selector,
    meta: Selector,
    links: Selector,
    link: Selector,
    img: Selector,
    items: Selector,
    body: Selector,
    form: Selector,
    input: Selector,
}

static SEL: std::sync::LazyLock<Selectors> = std::sync::LazyLock::new(|| Selectors {
    base: sel("base[href]"),
    title: sel("title"),
    html: sel("html"),
    meta: sel("meta"),
    links: sel("a[href], area[href]"),
    link: sel("a[href]"),
    img: sel("img"),
    items: sel("li, tr, dd"),
    body: sel("body"),
    form: sel("form"),
    input: sel("input[name]"),
});

fn text_of(e: ElementRef<'_>) -> String {
    let mut out = String::new();
    for t in e.text() {
        for w in t.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// Where `href` on a page at `base` leads, when it leads to a page at all: no
/// `javascript:`, `mailto:`, `tel:`, `data:` or in-page anchors. Relative and
/// protocol-relative links resolve against the page (or its `<base href>`).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if ["javascript:", "mailto:", "tel:", "data:", "sms:", "about:"].iter().any(|p| lower.starts_with(p)) {
        return None;
    }
    let mut u = base.join(href).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.set_fragment(None);
    Some(u)
}

pub fn read(html: &str, url: &Url) -> PageFacts {
    let doc = Html::parse_document(html);
    let s = &*SEL;
    let mut f = PageFacts::default();
    let base = doc
        .select(&s.base)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| url.join(h).ok())
        .unwrap_or_else(|| url.clone());
    if let Some(t) = doc.select(&s.title).next() {
        f.title = text_of(t);
    }
    f.lang = doc
        .select(&s.html)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty());
    for m in doc.select(&s.meta) {
        let v = m.value();
        if let (Some(name), Some(content)) = (v.attr("name"), v.attr("content")) {
            if name.eq_ignore_ascii_case("viewport") {
                f.viewport = true;
            }
            f.metas.entry(name.trim().to_string()).or_insert_with(|| content.trim().to_string());
        }
    }
    for a in doc.select(&s.links) {
        if let Some(target) = a.value().attr("href").and_then(|h| resolve(&base, h)) {
            f.links.push(Link { target, text: text_of(a) });
        }
    }
    for img in doc.select(&s.img) {
        let v = img.value();
        f.images.push((v.attr("src").unwrap_or("").to_string(), v.attr("alt").is_some()));
    }
    let mut lists = HashMap::new();
    for e in doc.select(&s.items) {
        // The innermost item only: a menu's li holding a sub-list is not an entry.
        if e.select(&s.items).next().is_some() {
            continue;
        }
        let Some(a) = e.select(&s.link).next() else { continue };
        let text = text_of(e);
        let date = dates_in(&text).into_iter().max();
        let n = lists.len();
        let list = e.parent().map(|p| *lists.entry(p.id()).or_insert(n)).unwrap_or(n);
        f.items.push(Item { target: a.value().attr("href").and_then(|h| resolve(&base, h)), text, date, list });
    }
    if let Some(body) = doc.select(&s.body).next() {
        f.text = text_of(body);
    }
    f.search = doc.select(&s.form).find_map(|form| search_of(form, &base));
    f
}

/// The results address of a GET form with a search field, for `SAMPLE_QUERY`.
fn search_of(form: ElementRef<'_>, base: &Url) -> Option<Url> {
    let v = form.value();
    if v.attr("method").is_some_and(|m| !m.trim().eq_ignore_ascii_case("get")) {
        return None;
    }
    let field = form.select(&SEL.input).find_map(|i| {
        let (name, kind) = (i.value().attr("name")?, i.value().attr("type").unwrap_or("text"));
        let searchy = kind.eq_ignore_ascii_case("search")
            || (kind.eq_ignore_ascii_case("text") && SEARCH_FIELDS.iter().any(|n| name.eq_ignore_ascii_case(n)));
        searchy.then(|| name.to_string())
    })?;
    let mut u = match v.attr("action").map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => resolve(base, a)?,
        None => base.clone(),
    };
    u.set_query(None);
    u.query_pairs_mut().append_pair(&field, SAMPLE_QUERY);
    Some(u)
}
