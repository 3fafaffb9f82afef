//! The public sites: every request that is not for the API or the admin is answered by
//! the site its `Host` names. The cache-hit path does one map lookup for the host, one
//! for the page, and writes bytes prepared in advance.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::render::cache::Page;
use crate::render::hosts::parse_host;
use crate::render::pages::Public;

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

fn plain_page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
    );
    (status, [(header::CONTENT_TYPE, HTML)], html).into_response()
}

/// Picks the encoding, answers 304 when the client has the page already.
pub fn serve_page(page: &Page, headers: &HeaderMap, head: bool) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag || t.trim() == "*"));
    let mut resp = if not_modified && page.status == StatusCode::OK {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let (body, enc) = if accepts(accept, "br") && !page.br.is_empty() {
            (page.br.clone(), Some("br"))
        } else if accepts(accept, "gzip") && !page.gzip.is_empty() {
            (page.gzip.clone(), Some("gzip"))
        } else {
            (page.identity.clone(), None)
        };
        let len = body.len();
        let mut r = Response::new(if head { Body::empty() } else { Body::from(body) });
        *r.status_mut() = page.status;
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HTML);
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if let Some(e) = enc {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        r
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, page.etag.clone());
    h.insert(header::LAST_MODIFIED, page.last_modified.clone());
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn accepts(accept: &str, enc: &str) -> bool {
    accept.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let q_zero = it.any(|p| {
            let p = p.trim();
            p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
        });
        name.eq_ignore_ascii_case(enc) && !q_zero
    })
}

/// `?page=N` for column pages (1 when absent or malformed).
fn page_param(query: Option<&str>) -> i64 {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
}

fn search_term(query: Option<&str>) -> Option<String> {
    let q = query?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned())
}

/// Renders a page of a site's theme that must not be cached (forms, personal answers).
pub async fn uncached_page(
    app: &App,
    site_id: i64,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> Response {
    match app.site_page(site_id, status, template, ctx).await {
        Ok(p) => {
            let mut r = serve_page(&p, headers, false);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, template, "public page failed");
            plain_page(StatusCode::INTERNAL_SERVER_ERROR, "暂时无法访问", "页面暂时无法显示，请稍后再试。")
        }
    }
}

/// The online site a request's `Host` names, or the answer to give instead.
#[allow(clippy::result_large_err, reason = "the error is the response itself, returned at once")]
pub fn resolve_site(app: &App, headers: &HeaderMap) -> Result<crate::render::hosts::SiteInfo, Response> {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()).and_then(parse_host) else {
        return Err(plain_page(StatusCode::BAD_REQUEST, "请求无效", "请求中的主机名无效。"));
    };
    let hosts = app.hosts.load();
    match hosts.resolve(&host) {
        Some(s) if s.state == zhanqun_domain::site::SiteState::Online => Ok(s.clone()),
        Some(_) => Err(plain_page(StatusCode::NOT_FOUND, "网站未开通", "本网站目前不提供服务。")),
        None => Err(plain_page(StatusCode::NOT_FOUND, "站点不存在", "本平台上没有这个网站，请检查网址。")),
    }
}

pub async fn public(State(app): State<App>, req: Request) -> Response {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return plain_page(StatusCode::METHOD_NOT_ALLOWED, "不支持的请求", "公开网站只接受 GET 请求。");
    }
    let raw_host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().host());
    let Some(host) = raw_host.and_then(parse_host) else {
        return plain_page(StatusCode::BAD_REQUEST, "请求无效", "请求中的主机名无效。");
    };
    let hosts = app.hosts.load();
    let Some(site) = hosts.resolve(&host) else {
        return plain_page(StatusCode::NOT_FOUND, "站点不存在", "本平台上没有这个网站，请检查网址。");
    };
    let path = req.uri().path();
    let query = req.uri().query();
    let page = page_param(query);
    let key: std::borrow::Cow<'_, str> = if page > 1 { format!("{path}?page={page}").into() } else { path.into() };
    if let Some(p) = app.pages.get(site.id, &key) {
        return serve_page(&p, req.headers(), head);
    }
    let term = search_term(query);
    match app.public(site, path, page, term.as_deref()).await {
        Ok(Public::Page(p)) => {
            app.pages.put(site.id, key.into_owned(), p.clone());
            serve_page(&p, req.headers(), head)
        }
        Ok(Public::Uncached(p)) => serve_page(&p, req.headers(), head),
        Ok(Public::Moved(to)) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Ok(Public::File { row, path }) => match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let mut r = Response::new(Body::from(bytes));
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&row.media_type) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                r
            }
            Err(e) => {
                tracing::error!(error = %e, file = %path.display(), "attachment file missing");
                plain_page(StatusCode::NOT_FOUND, "附件不存在", "附件文件缺失，已记录。")
            }
        },
        Err(e) => {
            tracing::error!(error = %e, site = site.id, path, "public page failed");
            plain_page(StatusCode::INTERNAL_SERVER_ERROR, "暂时无法访问", "页面暂时无法显示，请稍后再试。")
        }
    }
}
