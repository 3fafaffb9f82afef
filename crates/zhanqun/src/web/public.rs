//! The public sites' shell: which site a request is for (its `Host`), pages in the site's
//! theme with their encodings and validators, and the fallback that answers every address
//! no capability routes (home, columns, articles, attachments) from the page cache.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::Full;
use minijinja::context;

use crate::app::App;
use crate::kernel::AppError;
use crate::kernel::cache::Page;
use crate::kernel::content::xml_escape;
use crate::public::Answer;
use crate::public::hosts::{SiteInfo, parse_host};

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// A page outside any site's theme (no site to frame it).
pub fn plain_page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
    );
    (status, [(header::CONTENT_TYPE, HTML)], html).into_response()
}

/// Picks the encoding, answers 304 when the client has the page already.
pub fn serve_page(page: &Page, headers: &HeaderMap, head: bool) -> Response {
    page_response(page, headers, head)
}

/// [`serve_page`] with any body type made from the page's bytes.
fn page_response<B: From<Bytes> + Default>(page: &Page, headers: &HeaderMap, head: bool) -> axum::http::Response<B> {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag || t.trim() == "*"));
    let mut resp = if not_modified && page.status == StatusCode::OK {
        let mut r = axum::http::Response::new(B::default());
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
        let mut r = axum::http::Response::new(if head { B::default() } else { B::from(body) });
        *r.status_mut() = page.status;
        let h = r.headers_mut();
        // Room for all of them, the security headers included, at once (the map would
        // otherwise grow twice).
        h.reserve(16);
        h.insert(header::CONTENT_TYPE, page.content_type.clone());
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

/// A urlencoded public form, field by field (the last of a repeated name).
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A refusal of a public form, saying the typed text is still there.
pub fn kept_text(e: &AppError) -> Vec<String> {
    e.messages().into_iter().map(|r| format!("{r}。您填写的内容已保留。")).collect()
}

/// A visitor of an online site: the site its `Host` names. Any other request is answered
/// before the handler runs (no such site, not online, a malformed host).
pub struct Visitor {
    pub site: SiteInfo,
    headers: HeaderMap,
}

impl FromRequestParts<App> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        let Some(host) = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).and_then(parse_host) else {
            return Err(plain_page(StatusCode::BAD_REQUEST, "请求无效", "请求中的主机名无效。"));
        };
        let hosts = app.hosts.load();
        match hosts.resolve(&host) {
            Some(s) if s.state == zhanqun_domain::site::SiteState::Online => {
                Ok(Visitor { site: s.clone(), headers: parts.headers.clone() })
            }
            Some(_) => Err(plain_page(StatusCode::NOT_FOUND, "网站未开通", "本网站目前不提供服务。")),
            None => Err(unknown_host(app, &host, parts.headers.get(header::HOST), parts.uri.path())),
        }
    }
}

/// The public sites' own scripts and images, shipped in the binary.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static str, &'static str) = match file.as_str() {
        "article.js" => (include_str!("../../themes/assets/article.js"), "text/javascript; charset=utf-8"),
        "party-label.svg" => (include_str!("../../themes/assets/party-label.svg"), "image/svg+xml"),
        _ => return plain_page(StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在或已删除。"),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        body,
    )
        .into_response()
}

/// Whether a host name is this machine or its network: `localhost` (and names under it),
/// a loopback, private, link-local or unspecified address.
fn is_local_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match literal.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_loopback() || a.is_private() || a.is_link_local() || a.is_unspecified(),
        Ok(std::net::IpAddr::V6(a)) => {
            a.is_loopback()
                || a.is_unspecified()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// A host no site answers to. On this machine or its network (the address the server
/// prints, a LAN address) that is someone setting up or trying the platform: a small page
/// with the sites of the cluster, the admin and the API reference. Elsewhere: not found.
fn unknown_host(app: &App, host: &str, raw: Option<&HeaderValue>, path: &str) -> Response {
    if !is_local_host(host) {
        return plain_page(StatusCode::NOT_FOUND, "站点不存在", "本平台上没有这个网站，请检查网址。");
    }
    let port = raw
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let hosts = app.hosts.load();
    let mut sites = String::new();
    for s in hosts.sorted() {
        let state = if s.state == zhanqun_domain::site::SiteState::Online { "" } else { "（未开通）" };
        sites.push_str(&format!(
            "<li><a href=\"http://{local}{port}/\">{name}</a>　{kind}{state}<br><small>http://{local}{port}/{domain}</small></li>",
            local = xml_escape(&s.local_host),
            name = xml_escape(&s.name),
            kind = s.kind.label(),
            domain = s.primary_domain.as_deref().map(|d| format!("　正式域名 {}", xml_escape(d))).unwrap_or_default(),
        ));
    }
    if sites.is_empty() {
        sites.push_str("<li>还没有网站：登录管理后台，在「网站」中登记第一个网站。</li>");
    }
    let admin_host = app.config.admin_hosts.first().map(String::as_str).unwrap_or("localhost");
    let (status, lead) = if path == "/" {
        (StatusCode::OK, String::new())
    } else {
        (StatusCode::NOT_FOUND, format!("<p>这个地址不属于任何网站：{}。本平台上的网站如下。</p>", xml_escape(path)))
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>站群平台</title></head><body><main><h1>站群平台</h1>{lead}\
         <p>每个网站以自己的域名访问；在本机可用下面的 *.localhost 地址（浏览器自动解析到本机，无需配置 DNS）。</p>\
         <h2>网站</h2><ul>{sites}</ul>\
         <h2>管理与接口</h2><ul>\
         <li><a href=\"http://{admin_host}{port}/admin/\">管理后台</a>（登录 Cookie 仅在 HTTPS 或 localhost 上有效）</li>\
         <li><a href=\"http://{admin_host}{port}/api/v1/docs/\">API 说明</a>（<a href=\"/api/v1/openapi.json\">OpenAPI 文档</a>）</li></ul>\
         </main></body></html>",
        admin_host = xml_escape(admin_host),
    );
    (status, [(header::CONTENT_TYPE, HTML), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], html)
        .into_response()
}

impl Visitor {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A page of the site's theme that is not cached (a form, a personal answer).
    pub async fn page(&self, app: &App, status: StatusCode, template: &str, ctx: minijinja::Value) -> Response {
        match app.site_page(self.site.id, status, template, ctx).await {
            Ok(p) => {
                let mut r = serve_page(&p, &self.headers, false);
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(e) => {
                tracing::error!(error = %e, template, "public page failed");
                plain_page(StatusCode::INTERNAL_SERVER_ERROR, "暂时无法访问", "页面暂时无法显示，请稍后再试。")
            }
        }
    }

    /// A heading and a sentence, in the site's theme.
    pub async fn message(&self, app: &App, status: StatusCode, heading: &str, message: &str) -> Response {
        self.page(app, status, "message.html", context! { heading, message }).await
    }

    pub async fn not_found(&self, app: &App) -> Response {
        self.message(app, StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在。").await
    }

    /// "{what} does not exist", 404.
    pub async fn missing(&self, app: &App, what: &str) -> Response {
        self.message(app, StatusCode::NOT_FOUND, "页面不存在", &format!("{what}不存在。")).await
    }

    /// A failure reading what the page shows: logged, and said to have happened.
    pub async fn failed(&self, app: &App, e: &AppError) -> Response {
        tracing::error!(error = %e, site = self.site.id, "public page failed");
        self.message(app, StatusCode::INTERNAL_SERVER_ERROR, "暂时无法显示", "页面暂时无法显示，请稍后再试。").await
    }

    /// The page for a lookup that failed: "{what} does not exist" when it does not, and
    /// when the database failed, a logged error that says so rather than a false 404.
    pub async fn lookup_failed(&self, app: &App, what: &str, e: AppError) -> Response {
        match e {
            AppError::NotFound(_) => self.missing(app, what).await,
            e => self.failed(app, &e).await,
        }
    }
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

/// The page-cache key of a request: its path, with `?page=N` when past the first page.
fn cache_key<'a>(path: &'a str, page: i64) -> std::borrow::Cow<'a, str> {
    if page > 1 { format!("{path}?page={page}").into() } else { path.into() }
}

/// A cached public page for `req`, answered without going through the router: the path
/// every reader of a site takes, so it does no more than find the site by its host and the
/// page by its path. `None` when it is not a GET or HEAD of a cached page.
pub fn cached<B>(app: &App, req: &axum::http::Request<B>) -> Option<axum::http::Response<Full<Bytes>>> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return None;
    }
    let raw = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().host())?;
    let host = parse_host(raw)?;
    let hosts = app.hosts.load();
    let site = hosts.resolve(&host)?;
    let path = req.uri().path();
    // Another spelling of an address is redirected to its one spelling, never served.
    if crate::public::pages::respelt(path).is_some() {
        return None;
    }
    let page = app.pages.get(site.id, &cache_key(path, page_param(req.uri().query())))?;
    if !head && page.status == StatusCode::OK && is_html(&page) {
        app.visits.count(site.id, path, req.headers());
    }
    let mut r = page_response(&page, req.headers(), head);
    super::headers::secure(r.headers_mut(), super::headers::Area::Public, super::headers::over_https(req.headers()));
    Some(r)
}

/// A page people read (not a feed, sitemap or robots.txt): what visits count.
fn is_html(p: &Page) -> bool {
    p.content_type.as_bytes().starts_with(b"text/html")
}

/// One connection's service: cached public pages first ([`cached`]), everything else
/// through the router with its layers, told the client's address
/// ([`axum::extract::ConnectInfo`]). Routed addresses are never cached (only the fallback
/// puts pages), so a hit answers what the router's fallback would have answered.
#[derive(Clone)]
pub struct CachedFirst {
    pub app: App,
    pub router: axum::Router,
    pub peer: Option<std::net::SocketAddr>,
    /// The connection came in on the admin UI's own listen address (`admin_listen`).
    pub admin_door: bool,
}

/// Told to the router: whether the connection came in on `admin_listen`.
#[derive(Debug, Clone, Copy)]
pub struct AdminDoor(pub bool);

/// A cached page's bytes as they are, or whatever the router answered.
pub type AnyBody = http_body_util::Either<Full<Bytes>, Body>;

/// The router's answer, its body wrapped.
pub struct Routed(axum::routing::future::RouteFuture<std::convert::Infallible>);

impl std::future::Future for Routed {
    type Output = Result<axum::http::Response<AnyBody>, std::convert::Infallible>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| r.map(|resp| resp.map(http_body_util::Either::Right)))
    }
}

impl hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for CachedFirst {
    type Response = axum::http::Response<AnyBody>;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::Either<std::future::Ready<Result<Self::Response, Self::Error>>, Routed>;

    fn call(&self, mut req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        use tower::Service as _;
        match cached(&self.app, &req) {
            // A hit's body goes to hyper as it is: no box, no dynamic dispatch.
            Some(r) => futures_util::future::Either::Left(std::future::ready(Ok(r.map(http_body_util::Either::Left)))),
            None => {
                if let Some(peer) = self.peer {
                    req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                }
                req.extensions_mut().insert(AdminDoor(self.admin_door));
                let base = std::time::Duration::from_secs(self.app.config.body_read_seconds.max(1));
                let req = req.map(|b| Deadline::new(b, base));
                futures_util::future::Either::Right(Routed(self.router.clone().call(req)))
            }
        }
    }
}

/// A request body that must arrive in time: `base` plus one second per 64 KiB received so
/// far, counted from the first poll. Past that the body fails, the handler answers as for a
/// broken body, and the connection is closed (hyper does not keep a connection whose body
/// was not read to the end).
pub struct Deadline<B> {
    inner: B,
    base: std::time::Duration,
    start: Option<tokio::time::Instant>,
    received: u64,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    pub fn new(inner: B, base: std::time::Duration) -> Deadline<B> {
        Deadline { inner, base, start: None, received: 0, sleep: Box::pin(tokio::time::sleep(base)) }
    }

    fn due(&self, start: tokio::time::Instant) -> tokio::time::Instant {
        start + self.base + std::time::Duration::from_secs(self.received / (64 * 1024))
    }
}

impl<B> hyper::body::Body for Deadline<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        let start = *this.start.get_or_insert_with(|| {
            let now = tokio::time::Instant::now();
            this.sleep.as_mut().reset(now + this.base);
            now
        });
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.received += d.len() as u64;
                    let due = this.due(start);
                    this.sleep.as_mut().reset(due);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err("the request body arrived too slowly".into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Attachment types a browser shows without running anything.
const INLINE_TYPES: &[&str] = &["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"];

/// Every address no route claims: the site's own pages, rendered and kept in the cache
/// (which [`CachedFirst`] answers from).
pub async fn fallback(
    State(app): State<App>,
    crate::web::client::ClientAddr(client): crate::web::client::ClientAddr,
    req: Request,
) -> Response {
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
        return unknown_host(&app, &host, req.headers().get(header::HOST), req.uri().path());
    };
    let path = req.uri().path();
    let query = req.uri().query();
    let page = page_param(query);
    // A cached page was answered before routing ([`CachedFirst`]): this one is rendered.
    let key = cache_key(path, page);
    let stamp = app.pages.stamp();
    if path == "/search" && !app.search_limiter.allow(&client.to_string()) {
        return plain_page(
            StatusCode::TOO_MANY_REQUESTS,
            "搜索太频繁",
            "同一地址一分钟内最多搜索 120 次，请稍后再试。",
        );
    }
    match app.public_answer(site, path, page, query).await {
        Ok(Answer::Page(p, tags)) => {
            app.pages.put(site.id, &key, p.clone(), stamp, &tags);
            if !head && p.status == StatusCode::OK && is_html(&p) {
                app.visits.count(site.id, path, req.headers());
            }
            serve_page(&p, req.headers(), head)
        }
        Ok(Answer::Uncached(p)) => {
            if !head && p.status == StatusCode::OK && is_html(&p) {
                app.visits.count(site.id, path, req.headers());
            }
            serve_page(&p, req.headers(), head)
        }
        Ok(Answer::Moved(to)) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Ok(Answer::File(row)) => match app.blobs.read(&row.sha256).await {
            Ok(bytes) => {
                let mut r = Response::new(Body::from(bytes));
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&row.media_type) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                // Shown in the browser only what cannot run there; the rest is downloaded,
                // and nothing of it may load or run anything.
                if !INLINE_TYPES.contains(&row.media_type.as_str()) {
                    h.insert(header::CONTENT_DISPOSITION, super::headers::attachment_disposition(&row.file_name));
                }
                h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
                r
            }
            Err(e) => {
                tracing::error!(error = %e, file = row.sha256, "attachment file missing");
                plain_page(StatusCode::NOT_FOUND, "附件不存在", "附件文件缺失，已记录。")
            }
        },
        Err(e) => {
            tracing::error!(error = %e, site = site.id, path, "public page failed");
            plain_page(StatusCode::INTERNAL_SERVER_ERROR, "暂时无法访问", "页面暂时无法显示，请稍后再试。")
        }
    }
}
