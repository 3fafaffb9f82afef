//! The admin UI's shell: sessions, forms, pages and errors, the login and the dashboard.
//! Each capability's screens live in its own `admin.rs` and are written one way:
//!
//! - a screen is shown by a handler taking [`Signed`] (a live session, or the login page);
//! - a form is taken by a handler taking [`Posted`]: the session and the CSRF token are
//!   checked and the form parsed before the handler runs; without a live session the login
//!   page comes back carrying the form (when it came from this site), so nothing typed is lost;
//! - a refused action shows the same screen again with the input kept and every message in
//!   Chinese ([`Shown`]); a done action redirects with a one-line message ([`Posted::done`]);
//! - a failed read shows an error page with the reason; nothing turns it into an empty list.
//!
//! Sessions live in a cookie (`zq_admin`, HttpOnly, SameSite=Lax, Secure except on
//! localhost) and expire when idle.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Query, RawForm, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::app::App;
use crate::kernel::{Actor, AppError};
use crate::people::sessions::{FormClaim, Session};
use crate::public::theme::admin_env;

const SESSION_COOKIE: &str = "zq_admin";
const PRE_COOKIE: &str = "zq_pre";
const FLASH_COOKIE: &str = "zq_flash";
/// The `state` of a sign-in started at the identity provider, in the browser that started it.
const OIDC_COOKIE: &str = "zq_oidc";

/// The shell's own routes; every capability's admin router joins them in [`router`].
pub fn router() -> Router<App> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(dashboard))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/login/oidc", get(oidc_start))
        .route("/admin/login/oidc/callback", get(oidc_callback))
        .route("/admin/logout", post(logout))
        .route("/admin/reviews", get(reviews))
        .merge(crate::sites::admin::router())
        .merge(crate::columns::admin::router())
        .merge(crate::documents::admin::router())
        .merge(crate::people::admin::router())
        .merge(crate::bodies::admin::router())
        .merge(crate::calendar::admin::router())
        .merge(crate::expressions::admin::router())
        .merge(crate::mailbox::admin::router())
        .merge(crate::participation::admin::router())
        .merge(crate::disclosure::admin::router())
        .merge(crate::reposts::admin::router())
        .merge(crate::inventory::admin::router())
        .merge(crate::topics::admin::router())
        .merge(crate::system::admin::router())
        .merge(crate::search::admin::router())
        .merge(crate::monitor::admin::router())
        .merge(crate::corrections::admin::router())
        .merge(crate::staffing::admin::router())
        .merge(crate::visits::admin::router())
        .merge(crate::annual::admin::router())
}

// ---------- cookies and pages ----------

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn host_of(headers: &HeaderMap) -> &str {
    headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("")
}

fn is_local_host(host: &str) -> bool {
    let name = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    name == "localhost" || name.ends_with(".localhost") || name == "127.0.0.1" || name == "[::1]"
}

/// Said on the login page when the browser will not send the session cookie back: it is
/// `Secure`, and this request came over plain HTTP to a host other than this machine.
fn plain_http(headers: &HeaderMap) -> Option<&'static str> {
    let https =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    (!https && !is_local_host(host_of(headers))).then_some(
        "您正通过 HTTP 访问管理后台：登录凭证只在 HTTPS 连接（或本机 localhost）上传送，这里无法登录。\
         请在服务前放置终止 TLS 的反向代理，通过 HTTPS 访问；在服务器本机可以用 http://localhost:端口/admin/。",
    )
}

fn set_cookie(local: bool, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if local { "" } else { "; Secure" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Lax{secure}{age}"))
        .unwrap_or(HeaderValue::from_static("zq_invalid=1"))
}

/// An admin page from its template; never cached by browsers or proxies.
pub fn page(template: &str, ctx: Value) -> Response {
    match admin_env().get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => {
            let mut r = Html(html).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), template, "admin template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>页面出错</h1><p>已记录，请稍后再试。</p>")).into_response()
        }
    }
}

/// Form fields in order; repeated names (checkboxes) keep every value.
#[derive(Debug, Default, Clone)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(bytes: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(bytes).into_owned().collect())
    }
    /// The field's value, or "" when absent.
    pub fn get(&self, k: &str) -> &str {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    /// The field's value when sent.
    pub fn opt(&self, k: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }
    /// The field trimmed, None when empty.
    pub fn text(&self, k: &str) -> Option<String> {
        let t = self.get(k).trim();
        (!t.is_empty()).then(|| t.to_string())
    }
    /// The field as a number, None when empty or not one.
    pub fn int(&self, k: &str) -> Option<i64> {
        self.get(k).trim().parse().ok()
    }
    /// A number the action needs: -1 when missing, which every action refuses as "not found".
    pub fn id(&self, k: &str) -> i64 {
        self.int(k).unwrap_or(-1)
    }
    pub fn checked(&self, k: &str) -> bool {
        self.get(k) == "1"
    }
    /// Every value of a repeated field.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
    }
    /// Every value of a repeated field that is a number.
    pub fn ids(&self, k: &str) -> Vec<i64> {
        self.all(k).iter().filter_map(|c| c.parse().ok()).collect()
    }
    /// The fields as typed (without the form's own `_` fields, and never a password), to
    /// fill the form again.
    pub fn map(&self) -> HashMap<String, String> {
        self.0.iter().filter(|(k, _)| !k.starts_with('_') && !k.contains("password")).cloned().collect()
    }
}

/// `datetime-local` gives `2026-12-01T09:00`; read it as China Standard Time.
pub fn local_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(if s.len() == 16 { format!("{s}:00+08:00") } else { s.to_string() })
}

// ---------- who is signed in ----------

/// The signed-in admin user, with what the request tells about where it came from.
pub struct Admin {
    pub s: Session,
    flash: Option<String>,
    host: String,
    /// The session cookie's token (kept when the person changes their password).
    pub token: String,
}

impl Admin {
    async fn from_parts(parts: &Parts, app: &App) -> Option<Admin> {
        let token = cookie(&parts.headers, SESSION_COOKIE)?;
        let flash = cookie(&parts.headers, FLASH_COOKIE).map(|f| {
            url::form_urlencoded::parse(format!("f={f}").as_bytes()).map(|(_, v)| v.into_owned()).collect::<String>()
        });
        let s = app.session(token).await.ok()?;
        super::Signer::note(parts, &s.actor);
        Some(Admin { s, flash, host: host_of(&parts.headers).to_string(), token: token.to_string() })
    }

    /// A reset or expired password: every screen but the password's and signing out leads
    /// to the password screen.
    fn must_change_first(&self, path: &str) -> Option<Response> {
        let a = &self.s.actor;
        if path == "/admin/logout" {
            return None;
        }
        if a.must_change_password && path != "/admin/password" {
            return Some(Redirect::to("/admin/password").into_response());
        }
        (a.must_enroll_two_factor && !a.must_change_password && !path.starts_with("/admin/two-factor"))
            .then(|| Redirect::to("/admin/two-factor").into_response())
    }

    pub fn actor(&self) -> &Actor {
        &self.s.actor
    }

    fn local(&self) -> bool {
        is_local_host(&self.host)
    }

    fn base(&self, nav: &str) -> Value {
        context! {
            me => context! {
                name => self.s.display_name.clone(), is_admin => self.s.actor.is_admin,
                security => self.s.actor.manages_people(), audit => self.s.actor.audits(),
                duty => self.s.actor.duty.map(|d| d.label()),
            },
            // The session's limits, shown to the person (等保: they know when it ends).
            session => context! {
                ends => crate::kernel::time::fmt_local(self.s.expires_at),
                idle_minutes => self.s.idle_minutes,
            },
            csrf => self.s.csrf.clone(), nav, flash => self.flash.clone(),
        }
    }

    /// A screen of section `nav` ("sites", "letters" …): the template with the shell's
    /// context (who is signed in, the CSRF token, a pending message) and `ctx`.
    pub fn render(&self, nav: &str, template: &str, ctx: Value) -> Response {
        let mut r = page(template, context! { ..ctx, ..self.base(nav) });
        if self.flash.is_some() {
            r.headers_mut().append(header::SET_COOKIE, set_cookie(self.local(), FLASH_COOKIE, "", Some(0)));
        }
        r
    }

    /// A screen shown again after a refused form: `shown` keeps the input and the messages.
    pub fn render_shown(&self, nav: &str, template: &str, ctx: Value, shown: Shown) -> Response {
        let status = shown.status;
        let mut r = self.render(nav, template, context! { ..shown.context(), ..ctx });
        *r.status_mut() = status;
        r
    }

    /// Done: to `to`, with a one-line message shown there.
    pub fn done(&self, to: &str, msg: &str) -> Response {
        let enc: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
        let mut r = Redirect::to(to).into_response();
        r.headers_mut().append(header::SET_COOKIE, set_cookie(self.local(), FLASH_COOKIE, &enc, Some(30)));
        r
    }

    /// An error page for a screen that could not be shown.
    pub fn fail(&self, e: &AppError, title: &str, back: &str) -> Response {
        error_page(Some(self), e.status(), title, &e.public_message(), back)
    }

    /// The sites of the cluster this person holds a role on (every site for the system
    /// administrator), by name order, for a screen's site picker.
    pub fn sites_on(&self, app: &App) -> Vec<(i64, String)> {
        app.hosts
            .load()
            .sorted()
            .into_iter()
            .filter(|s| self.actor().on_site(s.id))
            .map(|s| (s.id, s.name.clone()))
            .collect()
    }

    /// Where a site of the cluster opens for this person: `NAME.localhost:PORT` when they
    /// reach the admin on this machine, else the site's own domain.
    pub fn site_url(&self, app: &App, site_id: i64) -> Option<String> {
        let hosts = app.hosts.load();
        let site = hosts.sites.get(&site_id)?;
        if self.local() {
            let port = self.host.rsplit_once(':').map(|(_, p)| format!(":{p}")).unwrap_or_default();
            Some(format!("http://{}{port}", site.local_host))
        } else {
            site.primary_domain.as_ref().map(|d| format!("{}://{d}", app.config.public_scheme))
        }
    }
}

fn error_page(admin: Option<&Admin>, status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    let base = admin.map(|a| a.base("")).unwrap_or_default();
    let mut r = page("message.html", context! { ..context! { title, message, back }, ..base });
    *r.status_mut() = status;
    r
}

/// A screen handler's caller: signed in, or sent to the login page (coming back here).
pub struct Signed(pub Admin);

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        match Admin::from_parts(parts, app).await {
            Some(a) => match a.must_change_first(parts.uri.path()) {
                Some(r) => Err(r),
                None => Ok(Signed(a)),
            },
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/admin/");
                let enc: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Err(Redirect::to(&format!("/admin/login?next={enc}")).into_response())
            }
        }
    }
}

impl std::ops::Deref for Signed {
    type Target = Admin;
    fn deref(&self) -> &Admin {
        &self.0
    }
}

/// A posted form whose session and CSRF token are checked, parsed.
pub struct Posted {
    pub admin: Admin,
    pub form: FormData,
}

impl std::ops::Deref for Posted {
    type Target = Admin;
    fn deref(&self) -> &Admin {
        &self.admin
    }
}

/// Whether a request was sent by a page of this same site (not a page elsewhere posting
/// into it): `Sec-Fetch-Site` when the browser sends it, else `Origin` against `Host`.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let host = host_of(headers);
            origin.split_once("://").is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
        }
        // Neither header: an old browser or a non-browser client; nothing to carry for it
        // anyway but its own fields.
        None => true,
    }
}

/// Whether the browser says a form was posted by a page of this site: `Sec-Fetch-Site:
/// same-origin`, or (from a browser without it) an `Origin` naming this host. Unlike
/// [`same_origin`] a request that says nothing does not pass: a form is carried through a
/// new login only on positive evidence, since whoever logs in resubmits it with their rights.
fn posted_from_here(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    headers.get(header::ORIGIN).is_some() && same_origin(headers)
}

impl FromRequest<App> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let admin = Admin::from_parts(&parts, app).await;
        let path = parts.uri.path().to_string();
        let req = Request::from_parts(parts, body);
        let headers = req.headers().clone();
        let RawForm(bytes) = RawForm::from_request(req, app)
            .await
            .map_err(|e| error_page(admin.as_ref(), e.status(), "表单无法读取", &e.body_text(), "/admin/"))?;
        let form = FormData::parse(&bytes);
        let local = is_local_host(host_of(&headers));
        let Some(admin) = admin else {
            // Signed out meanwhile: the login page, carrying what was typed when it was typed
            // here (never a form another site posted, which would ride on the next login).
            let pre = crate::people::auth::random_token();
            let carry: Vec<(String, String)> = if posted_from_here(&headers) {
                form.0.iter().filter(|(k, _)| k != "_csrf" && !k.contains("password")).cloned().collect()
            } else {
                Vec::new()
            };
            let mut r = page("login.html", context! { pre => pre.clone(), next => path, carry });
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r.headers_mut().append(header::SET_COOKIE, set_cookie(local, PRE_COOKIE, &pre, None));
            return Err(r);
        };
        let sent = form.get("_csrf");
        if sent.is_empty() || !constant_time_eq(sent.as_bytes(), admin.s.csrf.as_bytes()) || !same_origin(&headers) {
            return Err(error_page(
                Some(&admin),
                StatusCode::FORBIDDEN,
                "表单已失效",
                "表单已过期或来源不明，请返回刷新页面后重试。",
                "/admin/",
            ));
        }
        if let Some(r) = admin.must_change_first(&path) {
            return Err(r);
        }
        Ok(Posted { admin, form })
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a screen shows again after a refused form: the input as typed, the messages, the
/// message beside each field at fault, and the answer's status (422, 409, 403 …).
#[derive(Debug, Clone)]
pub struct Shown {
    pub v: HashMap<String, String>,
    pub errors: Vec<String>,
    pub fe: HashMap<String, String>,
    pub status: StatusCode,
    /// The name the input goes by in the template (`v`; another where one screen holds
    /// several forms whose fields share names).
    key: &'static str,
}

impl Default for Shown {
    fn default() -> Self {
        Shown { v: HashMap::new(), errors: Vec::new(), fe: HashMap::new(), status: StatusCode::OK, key: "v" }
    }
}

impl Shown {
    fn context(&self) -> Value {
        if !self.is_refusal() {
            // Nothing to show again: the screen fills its forms itself.
            return context! {};
        }
        let title =
            if self.status == StatusCode::UNPROCESSABLE_ENTITY { "未能保存：" } else { "操作未完成：" };
        let mut input = std::collections::BTreeMap::new();
        input.insert(self.key, Value::from_serialize(&self.v));
        context! { ..Value::from_serialize(&input), ..context! { errors => self.errors.clone(), fe => self.fe.clone(), error_title => title } }
    }

    /// A screen shown with nothing typed yet.
    pub fn none() -> Shown {
        Shown::default()
    }

    /// A refusal without input to keep (a file upload).
    pub fn refused(e: &AppError) -> Shown {
        Shown { errors: e.messages(), status: e.status(), ..Shown::default() }
    }

    /// The input under another name in the template.
    pub fn as_form(self, key: &'static str) -> Shown {
        Shown { key, ..self }
    }

    pub fn is_refusal(&self) -> bool {
        !self.errors.is_empty() || self.status.is_client_error() || self.status.is_server_error()
    }
}

impl Posted {
    pub fn actor(&self) -> &Actor {
        self.admin.actor()
    }

    /// The form again with the reasons it was refused.
    pub fn shown(&self, e: &AppError) -> Shown {
        let fe = match e {
            AppError::Invalid(fe) => {
                fe.0.iter()
                    .map(|f| (f.field.split('[').next().unwrap_or("").to_string(), format!("　{}", f.message)))
                    .collect()
            }
            _ => HashMap::new(),
        };
        Shown { v: self.form.map(), errors: e.messages(), fe, status: e.status(), key: "v" }
    }

    /// Runs a creating action once per form token (`_form`); a double submit lands where the
    /// first did. `Ok(where to)`, or the answer already given, or the action's error.
    pub async fn once<F, Fut>(&self, app: &App, act: F) -> Result<String, Result<Response, AppError>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, AppError>>,
    {
        let token = self.form.get("_form").to_string();
        let user = self.actor().user_id.unwrap_or_default();
        match app.claim_form_token(&token, user).await {
            Ok(FormClaim::Fresh) => {}
            Ok(FormClaim::Done(to)) => return Err(Ok(Redirect::to(&to).into_response())),
            Ok(FormClaim::Invalid) => return Err(Err(AppError::Conflict("表单已过期，请重新打开页面填写".into()))),
            Err(e) => return Err(Err(e)),
        }
        match act().await {
            Ok(to) => {
                if let Err(e) = app.finish_form_token(&token, Some(&to)).await {
                    tracing::warn!(error = %e, "recording a form's result");
                }
                Ok(to)
            }
            Err(e) => {
                if let Err(fe) = app.finish_form_token(&token, None).await {
                    tracing::warn!(error = %fe, "freeing a form token");
                }
                Err(Err(e))
            }
        }
    }
}

// ---------- login ----------

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.contains("//") && !n.contains('\\') => n.to_string(),
        _ => "/admin/".to_string(),
    }
}

/// The text of the identity provider's sign-in button, when one is configured.
fn oidc_label(app: &App) -> Option<String> {
    app.config.oidc.as_ref().map(|o| o.label.clone())
}

async fn login_page(State(app): State<App>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let pre = crate::people::auth::random_token();
    let mut r = page(
        "login.html",
        context! { pre => pre.clone(), next => safe_next(q.next.as_deref()), oidc => oidc_label(&app), insecure => plain_http(&headers) },
    );
    r.headers_mut().append(header::SET_COOKIE, set_cookie(is_local_host(host_of(&headers)), PRE_COOKIE, &pre, None));
    r
}

/// The login page again with why a sign-in through the identity provider did not finish.
fn oidc_refused(app: &App, headers: &HeaderMap, next: &str, status: StatusCode, errors: Vec<String>) -> Response {
    let pre = crate::people::auth::random_token();
    let local = is_local_host(host_of(headers));
    let mut r = page(
        "login.html",
        context! { pre => pre.clone(), next, errors, error_title => "统一身份认证登录未完成：", oidc => oidc_label(app) },
    );
    *r.status_mut() = status;
    r.headers_mut().append(header::SET_COOKIE, set_cookie(local, PRE_COOKIE, &pre, None));
    r.headers_mut().append(header::SET_COOKIE, set_cookie(local, OIDC_COOKIE, "", Some(0)));
    r
}

/// Sends the browser to the identity provider (code flow with PKCE).
async fn oidc_start(State(app): State<App>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    let Some(cfg) = app.config.oidc.as_ref() else {
        return oidc_refused(&app, &headers, &next, StatusCode::NOT_FOUND, vec!["本平台未配置统一身份认证登录".into()]);
    };
    let host = host_of(&headers);
    let local = is_local_host(host);
    let redirect_uri = match &cfg.redirect_url {
        Some(u) => u.clone(),
        None => {
            let scheme = if local { "http" } else { app.config.public_scheme.as_str() };
            format!("{scheme}://{host}/admin/login/oidc/callback")
        }
    };
    match app.oidc_begin(&next, &redirect_uri).await {
        Ok(started) => {
            let mut r = Redirect::to(&started.authorize_url).into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie(local, OIDC_COOKIE, &started.state, Some(600)));
            r
        }
        Err(e) => oidc_refused(&app, &headers, &next, e.status(), e.messages()),
    }
}

#[derive(Deserialize)]
struct OidcCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// Where the identity provider sends the browser back: the code becomes a session.
async fn oidc_callback(
    State(app): State<App>,
    crate::web::client::ClientAddr(client): crate::web::client::ClientAddr,
    headers: HeaderMap,
    q: Result<Query<OidcCallback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let refused = |status, msg: String| oidc_refused(&app, &headers, "/admin/", status, vec![msg]);
    let Ok(Query(q)) = q else {
        return refused(StatusCode::BAD_REQUEST, "身份认证服务返回的参数无法识别，请重新登录".into());
    };
    if let Some(err) = q.error {
        let why = q.error_description.unwrap_or(err);
        return refused(StatusCode::UNAUTHORIZED, format!("身份认证服务未完成登录（{why}）"));
    }
    // RFC 9207: an answer naming another issuer came from another provider (a mix-up).
    let issuer = app.config.oidc.as_ref().map(|o| o.issuer.as_str());
    if q.iss.is_some() && q.iss.as_deref() != issuer {
        return refused(StatusCode::UNAUTHORIZED, "登录结果来自另一个身份认证服务，已拒绝".into());
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return refused(StatusCode::BAD_REQUEST, "身份认证服务没有返回授权码，请重新登录".into());
    };
    match app.oidc_finish(&code, &state, cookie(&headers, OIDC_COOKIE), client).await {
        Ok(done) => {
            let local = is_local_host(host_of(&headers));
            let mut r = Redirect::to(&done.next).into_response();
            let session = set_cookie(local, SESSION_COOKIE, &done.session, Some(app.config.session_max_hours * 3600));
            r.headers_mut().append(header::SET_COOKIE, session);
            r.headers_mut().append(header::SET_COOKIE, set_cookie(local, OIDC_COOKIE, "", Some(0)));
            r
        }
        Err(e) => refused(e.status(), e.messages().join("；")),
    }
}

async fn login(
    State(app): State<App>,
    crate::web::client::ClientAddr(client): crate::web::client::ClientAddr,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let local = is_local_host(host_of(&headers));
    let form = FormData::parse(&body);
    let next = safe_next(form.opt("next").as_deref());
    // Only a login form of this site carries fields (see [`posted_from_here`]).
    let carry: Vec<(String, String)> = if posted_from_here(&headers) {
        form.0.iter().filter_map(|(k, v)| k.strip_prefix("carry:").map(|k| (k.to_string(), v.clone()))).collect()
    } else {
        Vec::new()
    };
    let pre_ok =
        cookie(&headers, PRE_COOKIE).is_some_and(|c| constant_time_eq(c.as_bytes(), form.get("_pre").as_bytes()));
    let again = |errors: Vec<String>| {
        let pre = crate::people::auth::random_token();
        let mut r = page(
            "login.html",
            context! { pre => pre.clone(), next => next.clone(), carry => carry.clone(), username => form.get("username"), errors, error_title => "未能登录：", oidc => oidc_label(&app), insecure => plain_http(&headers) },
        );
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().append(header::SET_COOKIE, set_cookie(local, PRE_COOKIE, &pre, None));
        r
    };
    if !pre_ok || !same_origin(&headers) {
        if let Some(why) = plain_http(&headers) {
            tracing::warn!(
                host = host_of(&headers),
                "an admin sign-in over plain HTTP failed: the session cookie is Secure; serve /admin/ over HTTPS (or use localhost)"
            );
            return again(vec![why.into()]);
        }
        return again(vec!["登录表单已过期，请重新输入。".into()]);
    }
    match app.start_session(form.get("username"), form.get("password"), form.opt("otp").as_deref(), client).await {
        Ok(token) => {
            let session_cookie = set_cookie(local, SESSION_COOKIE, &token, Some(app.config.session_max_hours * 3600));
            let mut r = if carry.is_empty() {
                Redirect::to(&next).into_response()
            } else {
                match app.session(&token).await {
                    Ok(s) => {
                        page("resume.html", context! { csrf => s.csrf, action => next.clone(), carry => carry.clone() })
                    }
                    Err(_) => Redirect::to(&next).into_response(),
                }
            };
            r.headers_mut().append(header::SET_COOKIE, session_cookie);
            r
        }
        Err(e) => again(e.messages()),
    }
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    // The session ends whenever its cookie comes to log out, token or not: a cookie cleared
    // in the browser but alive on the server would still work for whoever copied it. (A page
    // elsewhere can at worst sign somebody out.)
    if let Some(t) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = app.end_session(t).await
    {
        tracing::warn!(error = %e, "ending a session");
    }
    let mut r = Redirect::to("/admin/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(is_local_host(host_of(&headers)), SESSION_COOKIE, "", Some(0)));
    r
}

// ---------- forms posted from more than one screen ----------

/// Where a form says it came from (its `back` field, an admin page), or `fallback`.
pub fn back(form: &FormData, fallback: &str) -> String {
    let b = form.get("back");
    if b.starts_with("/admin/") && !b.contains("//") && !b.contains('\\') {
        b.to_string()
    } else {
        fallback.to_string()
    }
}

/// The screen at `path` shown again after a refused form: the dashboard, a document's
/// editor, a site's disclosure page or the subject list (the screens whose forms post
/// elsewhere).
/// The query of a screen's address (`/admin/annual?site=3&year=2025`), for showing it again.
fn query_of(path: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(path.split_once('?').map(|(_, q)| q).unwrap_or("").as_bytes()).into_owned().collect()
}

pub async fn again(app: &App, a: &Admin, path: &str, shown: Shown) -> Response {
    let segs: Vec<&str> = path.split('?').next().unwrap_or("").trim_end_matches('/').split('/').collect();
    match segs.as_slice() {
        ["", "admin"] => dashboard_screen(app, a, shown).await,
        ["", "admin", "documents", id] => match id.parse() {
            Ok(id) => crate::documents::admin::document_screen(app, a, id, shown).await,
            Err(_) => a.fail(&AppError::NotFound("页面不存在".into()), "页面不存在", "/admin/"),
        },
        ["", "admin", "sites", id, "disclosure"] => match id.parse() {
            Ok(id) => crate::disclosure::admin::site_disclosure_screen(app, a, id, shown).await,
            Err(_) => a.fail(&AppError::NotFound("页面不存在".into()), "页面不存在", "/admin/"),
        },
        ["", "admin", "subjects"] => crate::disclosure::admin::subjects_screen(app, a, shown).await,
        ["", "admin", "monitor"] => crate::monitor::admin::monitor_screen(app, a, shown).await,
        ["", "admin", "annual"] => {
            let q = query_of(path);
            let site = q.get("site").and_then(|s| s.parse().ok());
            let year =
                q.get("year").and_then(|y| y.parse().ok()).unwrap_or_else(|| crate::kernel::time::today().year() - 1);
            crate::annual::admin::annual_screen(app, a, site, year, shown).await
        }
        ["", "admin", "staffing"] => crate::staffing::admin::staffing_screen(app, a, shown).await,
        ["", "admin", "corrections"] => {
            let q = query_of(path);
            let site = q.get("site").and_then(|s| s.parse().ok());
            crate::corrections::admin::corrections_screen(app, a, site, q.get("month").cloned(), shown).await
        }
        ["", "admin", "monitor", "runs", id] => match id.parse() {
            Ok(id) => crate::monitor::admin::run_screen(app, a, id, false, shown).await,
            Err(_) => a.fail(&AppError::NotFound("页面不存在".into()), "页面不存在", "/admin/"),
        },
        _ => {
            let e = AppError::Conflict(shown.errors.join("；"));
            a.fail(&e, "操作未完成", path)
        }
    }
}

// ---------- dashboard ----------

async fn dashboard(State(app): State<App>, a: Signed) -> Response {
    dashboard_screen(&app, &a, Shown::none()).await
}

async fn dashboard_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let actor = a.actor();
    let read = async {
        Ok::<_, AppError>(context! {
            work => app.my_work(actor).await?,
            sites => app.sites_of(actor).await?,
            awaiting => app.policies_awaiting_interpretation(actor).await?,
            emergencies => app.emergency_topics(actor).await?,
            inventory => app.inventory_attention(actor).await?,
            failed_jobs => app.failed_jobs_for(actor).await?,
            cluster_empty => app.hosts.load().sorted().is_empty(),
            letters_handler => app.handles_letters(actor).await?,
        })
    };
    match read.await {
        Ok(ctx) => {
            a.render_shown("home", "dashboard.html", context! { ..ctx, ..context! { title => "我的工作台" } }, shown)
        }
        Err(e) => a.fail(&e, "无法读取工作台", "/admin/"),
    }
}

async fn reviews(State(app): State<App>, a: Signed) -> Response {
    match app.my_work(a.actor()).await {
        Ok(work) => a.render("reviews", "reviews.html", context! { title => "审核队列", work }),
        Err(e) => a.fail(&e, "无法读取审核队列", "/admin/"),
    }
}
