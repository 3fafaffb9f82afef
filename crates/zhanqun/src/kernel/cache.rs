//! Rendered public pages, kept until something they show changes, within a byte budget.
//!
//! Storage is a [`moka`] cache weighed in bytes (TinyLFU admission, LRU eviction), so a
//! crawler walking every address cannot grow memory past the budget. Invalidation is by
//! the thing, not the path: each page names what it shows ([`Tag`]: its site, its column,
//! its document …) and remembers the invalidation count when its rendering began. Dropping
//! a thing stamps the thing's slot with a new count; a page whose tags carry a newer stamp
//! than its own is stale and is rendered again. Invalidating is O(1) whatever the number of
//! pages, and a change that lands while a page is being rendered is never lost, because
//! the page's stamp is taken before it reads the database.
//!
//! A hit costs one hash of (site, path), one cache lookup and a few atomic loads; gzip and
//! brotli, ETag and Last-Modified are computed once when the page is rendered.

use std::hash::BuildHasher;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode};
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One rendered page in every encoding we serve.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub br: Bytes,
    pub etag: HeaderValue,
    pub last_modified: HeaderValue,
    /// `text/html` unless the page is a feed, a sitemap or `robots.txt`.
    pub content_type: HeaderValue,
}

impl Page {
    pub fn new(status: StatusCode, html: String) -> Page {
        Page::typed(status, html, "text/html; charset=utf-8")
    }

    /// A page of another media type.
    pub fn typed(status: StatusCode, html: String, content_type: &'static str) -> Page {
        let identity = exact(html.into_bytes());
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&identity))[..20]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        let gzip = gz.write_all(&identity).and_then(|()| gz.finish()).map(exact).unwrap_or_default();
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 6, ..Default::default() };
        let br = match brotli::BrotliCompress(&mut &identity[..], &mut br, &params) {
            Ok(_) => exact(br),
            Err(_) => Bytes::new(),
        };
        Page {
            status,
            identity,
            gzip,
            br,
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
                .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
            content_type: HeaderValue::from_static(content_type),
        }
    }

    /// Memory held for this page: its three buffers as the allocator rounds them (each
    /// buffer holds exactly its bytes: see [`exact`]).
    pub fn weight(&self) -> usize {
        allocated(self.identity.len()) + allocated(self.gzip.len()) + allocated(self.br.len())
    }
}

/// `v` in a buffer of exactly its length. A rendered or compressed page grows its buffer by
/// doubling, so its capacity can be nearly twice its length; kept as it is, the cache
/// would hold up to twice the bytes it weighs and overrun its budget. Shrinking in place
/// is not enough: allocators (mimalloc among them) keep a block that shrinks by less than
/// half, so the bytes are copied into a buffer of their own size.
fn exact(v: Vec<u8>) -> Bytes {
    if v.capacity() == v.len() { Bytes::from(v) } else { Bytes::copy_from_slice(&v) }
}

/// What an allocation of `len` bytes takes: allocators serve a size from the next of a few
/// size classes per doubling (mimalloc: four), so a block wastes up to a quarter.
fn allocated(len: usize) -> usize {
    if len <= 1024 {
        return len.next_multiple_of(16);
    }
    let step = 1usize << (usize::BITS - 1 - len.leading_zeros() - 2);
    len.next_multiple_of(step)
}

/// What an entry takes besides its page's buffers: the entry, the page and their `Arc`s,
/// the key, the tags' slots, the header values and the cache's own bookkeeping of it.
const ENTRY_OVERHEAD: usize = 768;

/// A thing pages show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Everything of every site (the subject list, a theme change …).
    All,
    /// Everything of a site: its name, navigation, footer, columns.
    Site(i64),
    /// A site's home page (its column blocks, topic banners).
    Home(i64),
    /// A column's listing, on whichever site shows it.
    Column(i64),
    /// A document, on every site that shows it.
    Document(i64),
}

const SLOTS: usize = 1 << 16;

struct Entry {
    site: i64,
    key: Box<str>,
    page: Arc<Page>,
    /// The invalidation count when rendering began.
    stamp: u64,
    slots: Box<[u32]>,
}

/// Counters since the node started.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Pages found but stale (something they show changed).
    pub stale: u64,
    /// Pages dropped to stay within the budget.
    pub evictions: u64,
    pub entries: u64,
    pub bytes: u64,
    pub budget_bytes: u64,
}

pub struct PageCache {
    pages: moka::sync::Cache<u64, Arc<Entry>, foldhash::fast::RandomState>,
    slots: Box<[AtomicU64]>,
    count: AtomicU64,
    hasher: foldhash::fast::RandomState,
    hits: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    evictions: Arc<AtomicU64>,
    budget: u64,
}

impl PageCache {
    /// A cache holding at most `budget_bytes` of pages.
    pub fn new(budget_bytes: u64) -> PageCache {
        let evictions = Arc::new(AtomicU64::new(0));
        let ev = evictions.clone();
        let pages = moka::sync::Cache::builder()
            .max_capacity(budget_bytes)
            .weigher(|_: &u64, e: &Arc<Entry>| {
                u32::try_from(e.page.weight() + e.key.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
            })
            .eviction_listener(move |_, _, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    ev.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build_with_hasher(foldhash::fast::RandomState::default());
        PageCache {
            pages,
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            hasher: foldhash::fast::RandomState::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            evictions,
            budget: budget_bytes,
        }
    }

    fn key(&self, site: i64, key: &str) -> u64 {
        self.hasher.hash_one((site, key))
    }

    fn slot(&self, t: Tag) -> u32 {
        // A fixed hash, the same on every call; two things sharing a slot only cost an
        // extra rendering now and then.
        let (kind, id) = match t {
            Tag::All => (0u64, 0i64),
            Tag::Site(i) => (1, i),
            Tag::Home(i) => (2, i),
            Tag::Column(i) => (3, i),
            Tag::Document(i) => (4, i),
        };
        let x = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ kind.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((x ^ (x >> 29)) % SLOTS as u64) as u32
    }

    /// Taken before rendering a page, passed to [`PageCache::put`].
    pub fn stamp(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    pub fn get(&self, site: i64, key: &str) -> Option<Arc<Page>> {
        let k = self.key(site, key);
        let Some(e) = self.pages.get(&k) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if e.site != site || &*e.key != key {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if e.slots.iter().any(|&s| self.slots[s as usize].load(Ordering::SeqCst) > e.stamp) {
            self.stale.fetch_add(1, Ordering::Relaxed);
            self.pages.invalidate(&k);
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(e.page.clone())
    }

    /// Keeps a page rendered from a reading that began at `stamp`, showing `tags`.
    pub fn put(&self, site: i64, key: &str, page: Arc<Page>, stamp: u64, tags: &[Tag]) {
        let mut slots: Vec<u32> = std::iter::once(Tag::All).chain(tags.iter().copied()).map(|t| self.slot(t)).collect();
        slots.sort_unstable();
        slots.dedup();
        let e = Entry { site, key: key.into(), page, stamp, slots: slots.into() };
        self.pages.insert(self.key(site, key), Arc::new(e));
    }

    /// Drops every page showing any of `tags`.
    pub fn invalidate(&self, tags: &[Tag]) {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        for &t in tags {
            self.slots[self.slot(t) as usize].fetch_max(n, Ordering::SeqCst);
        }
    }

    pub fn invalidate_all(&self) {
        self.invalidate(&[Tag::All]);
    }

    pub fn stats(&self) -> CacheStats {
        self.pages.run_pending_tasks();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: self.pages.entry_count(),
            bytes: self.pages.weighted_size(),
            budget_bytes: self.budget,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Arc<Page> {
        Arc::new(Page::new(StatusCode::OK, text.to_string()))
    }

    #[test]
    fn a_page_weighs_what_its_buffers_take() {
        assert_eq!(allocated(0), 0);
        assert_eq!(allocated(1), 16);
        assert_eq!(allocated(1024), 1024);
        assert_eq!(allocated(1025), 1280);
        assert_eq!(allocated(2048), 2048);
        assert_eq!(allocated(19_104), 20_480);
        let html = format!("<p>{}</p>", "政务公开".repeat(1000));
        let mut grown = String::with_capacity(html.len() * 2);
        grown.push_str(&html);
        let p = Page::new(StatusCode::OK, grown);
        assert_eq!(&p.identity[..], html.as_bytes());
        assert!(p.weight() >= html.len() + p.gzip.len() + p.br.len());
        assert!(p.weight() < (html.len() + p.gzip.len() + p.br.len()) * 5 / 4 + 48);
    }

    #[test]
    fn pages_go_when_a_thing_they_show_changes() {
        let c = PageCache::new(1 << 20);
        let s = c.stamp();
        c.put(1, "/articles/86.html", page("a"), s, &[Tag::Site(1), Tag::Document(86)]);
        c.put(1, "/", page("home"), s, &[Tag::Site(1), Tag::Home(1)]);
        c.put(2, "/articles/86.html", page("repost"), s, &[Tag::Site(2), Tag::Document(86)]);
        assert!(c.get(1, "/articles/86.html").is_some());
        c.invalidate(&[Tag::Document(86)]);
        assert!(c.get(1, "/articles/86.html").is_none());
        assert!(c.get(2, "/articles/86.html").is_none(), "the repost shows the same document");
        assert!(c.get(1, "/").is_some(), "the home page does not show it");
        c.invalidate_all();
        assert!(c.get(1, "/").is_none());
    }

    #[test]
    fn a_change_during_rendering_is_not_lost() {
        let c = PageCache::new(1 << 20);
        let s = c.stamp();
        // The document changes after the page began reading the database.
        c.invalidate(&[Tag::Document(7)]);
        c.put(1, "/articles/7.html", page("old"), s, &[Tag::Document(7)]);
        assert!(c.get(1, "/articles/7.html").is_none());
        let s = c.stamp();
        c.put(1, "/articles/7.html", page("new"), s, &[Tag::Document(7)]);
        assert!(c.get(1, "/articles/7.html").is_some());
    }

    #[test]
    fn the_budget_holds_whatever_is_asked() {
        let c = PageCache::new(256 * 1024);
        let body = "x".repeat(2000);
        for i in 0..5000 {
            c.put(1, &format!("/articles/{i}.html"), page(&body), c.stamp(), &[Tag::Document(i)]);
        }
        let st = c.stats();
        assert!(st.bytes <= st.budget_bytes, "{st:?}");
        assert!(st.evictions > 0, "{st:?}");
    }
}
