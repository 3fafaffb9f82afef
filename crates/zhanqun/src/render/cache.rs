//! Rendered public pages, kept until an action changes what they show. A hit costs one
//! read lock and one hash lookup; compression, ETag and Last-Modified are computed once
//! when the page is rendered.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};

use axum::http::{HeaderValue, StatusCode};
use bytes::Bytes;
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
}

impl Page {
    pub fn new(status: StatusCode, html: String) -> Page {
        let identity = Bytes::from(html);
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&identity))[..20]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        let gzip = gz.write_all(&identity).and_then(|()| gz.finish()).map(Bytes::from).unwrap_or_default();
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 6, ..Default::default() };
        let br = match brotli::BrotliCompress(&mut &identity[..], &mut br, &params) {
            Ok(_) => Bytes::from(br),
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
        }
    }
}

/// Pages by site, then by path (with the query string that selects them, e.g. `?page=2`).
#[derive(Default)]
pub struct PageCache {
    sites: RwLock<HashMap<i64, HashMap<String, Arc<Page>>>>,
}

impl PageCache {
    pub fn get(&self, site: i64, key: &str) -> Option<Arc<Page>> {
        self.sites.read().unwrap_or_else(|p| p.into_inner()).get(&site)?.get(key).cloned()
    }

    pub fn put(&self, site: i64, key: String, page: Arc<Page>) {
        self.sites.write().unwrap_or_else(|p| p.into_inner()).entry(site).or_default().insert(key, page);
    }

    /// Drops every page of every site (something all of them show changed).
    pub fn invalidate_all(&self) {
        self.sites.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Drops every page of a site (its name, navigation or columns changed).
    pub fn invalidate_site(&self, site: i64) {
        self.sites.write().unwrap_or_else(|p| p.into_inner()).remove(&site);
    }

    /// Drops the pages a document appears on: its own page, the home page, and every
    /// page of the columns it is in.
    pub fn invalidate_document(&self, site: i64, doc: i64, column_paths: &[String]) {
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        let Some(pages) = sites.get_mut(&site) else { return };
        let article = format!("/articles/{doc}.html");
        pages.retain(|k, _| !(k == "/" || *k == article || column_paths.iter().any(|c| k.starts_with(c.as_str()))));
    }
}
