//! The browser security headers every answer carries: what the page may load and who may
//! frame it (Content-Security-Policy, X-Frame-Options), no type sniffing, how much of the
//! address goes to other sites (Referrer-Policy), and HSTS when the request came over HTTPS
//! (as the reverse proxy terminating TLS says with `X-Forwarded-Proto`).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Which part of the platform answered: each has its own policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The sites' own pages and forms: may be framed by the same site only.
    Public,
    /// The admin UI (and the API's reference page): never framed.
    Admin,
    /// JSON: nothing to load, never framed.
    Api,
}

impl Area {
    pub fn of(path: &str) -> Area {
        let under = |p: &str, prefix: &str| p == prefix || p.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'));
        if under(path, "/admin") || under(path, "/api/v1/docs") {
            Area::Admin
        } else if under(path, "/api") {
            Area::Api
        } else {
            Area::Public
        }
    }
}

const PUBLIC_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
);
const ADMIN_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
);
const API_CSP: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; sandbox");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// `attachment` with the file's own name (RFC 6266, the UTF-8 name percent-encoded: a space
/// is `%20`, never the form encoding's `+`), so the browser downloads it under that name.
pub fn attachment_disposition(file_name: &str) -> HeaderValue {
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A");
    HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

/// Whether the request reached the platform over HTTPS (through the reverse proxy).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

/// Adds the headers of `area` that the answer does not set itself.
pub fn secure(h: &mut HeaderMap, area: Area, https: bool) {
    let (csp, frame) = match area {
        Area::Public => (PUBLIC_CSP, "SAMEORIGIN"),
        Area::Admin => (ADMIN_CSP, "DENY"),
        Area::Api => (API_CSP, "DENY"),
    };
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(csp);
    h.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static(frame));
    h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    if https {
        h.entry(header::STRICT_TRANSPORT_SECURITY).or_insert(HSTS);
    }
}

/// The layer that adds them to everything the router answers.
pub async fn layer(req: Request, next: Next) -> Response {
    let area = Area::of(req.uri().path());
    let https = over_https(req.headers());
    let mut r = next.run(req).await;
    secure(r.headers_mut(), area, https);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_area() {
        assert_eq!(Area::of("/admin"), Area::Admin);
        assert_eq!(Area::of("/admin/sites/1"), Area::Admin);
        assert_eq!(Area::of("/api/v1/docs/"), Area::Admin);
        assert_eq!(Area::of("/api/v1/sites"), Area::Api);
        assert_eq!(Area::of("/administration/"), Area::Public, "a site's own column");
        assert_eq!(Area::of("/apis.html"), Area::Public);
        assert_eq!(Area::of("/articles/86.html"), Area::Public);
        assert_eq!(
            attachment_disposition("说明 材料*.txt"),
            "attachment; filename*=UTF-8''%E8%AF%B4%E6%98%8E%20%E6%9D%90%E6%96%99%2A.txt"
        );
    }
}
