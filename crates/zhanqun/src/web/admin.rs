//! The admin UI, in Simplified Chinese, rendered on the server, usable without JavaScript.
//! Every screen calls the same actions as the API, so permissions and audit are the same.
//!
//! Sessions live in a cookie (`zq_admin`, HttpOnly, SameSite=Lax, Secure except on
//! localhost) and expire when idle; every form carries the session's CSRF token. A form
//! posted after the session expired is not lost: the login page carries its fields and,
//! once signed in, offers to submit them again.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, RawForm, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::app::App;
use crate::app::columns::{ColumnPatch, NewColumn};
use crate::app::documents::{DocumentPatch, NewDocument, TransitionInput};
use crate::app::sessions::{FormClaim, Session};
use crate::app::sites::{NewSite, SitePatch};
use crate::app::users::NewUser;
use crate::error::AppError;
use crate::render::theme::admin_env;

mod disclosure;

const SESSION_COOKIE: &str = "zq_admin";
const PRE_COOKIE: &str = "zq_pre";
const FLASH_COOKIE: &str = "zq_flash";

pub fn router(app: &App) -> Router<App> {
    let upload_limit = app.config.max_attachment_bytes().saturating_add(1024 * 1024);
    Router::new()
        .route("/", get(|| async { Redirect::permanent("/admin/") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/reviews", get(reviews))
        .route("/sites", get(sites).post(create_site))
        .route("/sites/{id}", get(site).post(update_site))
        .route("/sites/{id}/transition", post(site_transition))
        .route("/sites/{id}/columns", post(create_column))
        .route("/sites/{id}/roles", post(grant_role))
        .route("/sites/{id}/roles/revoke", post(revoke_role))
        .route("/sites/{id}/audit", get(site_audit))
        .route("/sites/{id}/documents", get(documents).post(create_document))
        .route("/sites/{id}/documents/new", get(new_document))
        .route("/columns/{id}", get(column).post(update_column))
        .route("/columns/{id}/merge", post(merge_column))
        .route("/columns/{id}/close", post(close_column))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}/disable", post(disable_user))
        .route("/documents/{id}", get(document).post(save_document))
        .route("/documents/{id}/transition", post(document_transition))
        .route("/documents/{id}/attachments", post(upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/documents/{id}/preview", get(preview))
        .route("/documents/{id}/disclosure", post(save_disclosure))
        .route("/documents/{id}/interprets", post(disclosure::link_interpretation))
        .route("/documents/{id}/interprets/{policy}/delete", post(disclosure::unlink_interpretation))
        .route("/documents/{id}/reposts", post(disclosure::repost))
        .route("/reposts/{id}/delete", post(disclosure::remove_repost))
        .route("/sites/{id}/disclosure", get(disclosure::site_disclosure))
        .route("/sites/{id}/inventory", post(disclosure::add_inventory))
        .route("/inventory/{id}/event", post(disclosure::inventory_event))
        .route("/inventory/{id}/retire", post(disclosure::retire_inventory))
        .route("/sites/{id}/topics", post(disclosure::create_topic))
        .route("/topics/{id}/items", post(disclosure::add_topic_item))
        .route("/topics/{id}/close", post(disclosure::close_topic))
        .route("/subjects", get(disclosure::subjects).post(disclosure::add_subject))
        .route("/subjects/{id}", post(disclosure::update_subject))
        .route("/bodies", post(create_body))
        .route("/bodies/{id}/code", post(set_body_code))
        .route("/bodies/{id}/index-scheme", post(set_index_scheme))
        .route("/letters", get(letters))
        .route("/letters/sensitive-words", post(sensitive_words))
        .route("/letters/{id}", get(letter))
        .route("/letters/{id}/action", post(letter_action))
        .route("/letters/{id}/release", post(release_letter))
        .route("/letter-attachments/{id}", get(letter_attachment))
        .route("/calendar", get(calendar).post(set_day))
        .route("/calendar/delete", post(delete_day))
        .route("/participation", get(participation))
        .route("/participation/consultations", post(new_consultation))
        .route("/participation/consultations/{id}/feedback", post(consultation_feedback))
        .route("/participation/comments/{id}", post(moderate_comment))
        .route("/participation/surveys", post(new_survey))
        .route("/participation/interviews", post(new_interview))
        .route("/participation/interviews/{id}/end", post(end_interview))
        .route("/participation/questions/{id}", post(handle_question))
}

// ---------- plumbing ----------

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_local(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let name = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    name == "localhost" || name.ends_with(".localhost") || name == "127.0.0.1" || name == "[::1]"
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if is_local(headers) { "" } else { "; Secure" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Lax{secure}{age}"))
        .unwrap_or(HeaderValue::from_static("zq_invalid=1"))
}

fn page(template: &str, ctx: Value) -> Response {
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
struct FormData(Vec<(String, String)>);

impl FormData {
    fn parse(bytes: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(bytes).into_owned().collect())
    }
    fn get(&self, k: &str) -> &str {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn opt(&self, k: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
    }
    fn map(&self) -> HashMap<String, String> {
        self.0.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect()
    }
}

/// The signed-in admin user, if the session cookie is alive.
pub(crate) struct Admin {
    s: Session,
    flash: Option<String>,
}

impl FromRequestParts<App> for Option<Admin> {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Ok(None) };
        let flash = cookie(&parts.headers, FLASH_COOKIE).map(|f| {
            url::form_urlencoded::parse(format!("f={f}").as_bytes()).map(|(_, v)| v.into_owned()).collect::<String>()
        });
        Ok(app.session(token).await.ok().map(|s| Admin { s, flash }))
    }
}

impl Admin {
    fn base(&self, nav: &str) -> Value {
        context! {
            me => context! { name => self.s.display_name.clone(), is_admin => self.s.actor.is_admin },
            csrf => self.s.csrf.clone(), nav, flash => self.flash.clone(),
        }
    }
}

fn ctx(base: Value, extra: Value) -> Value {
    context! { ..extra, ..base }
}

fn to_login(next: &str) -> Response {
    let enc: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(&format!("/admin/login?next={enc}")).into_response()
}

/// Redirect with a one-shot message shown on the next page.
fn redirect_flash(headers: &HeaderMap, to: &str, msg: &str) -> Response {
    let enc: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(headers, FLASH_COOKIE, &enc, Some(30)));
    r
}

/// Redirect with a one-shot error message.
fn redirect_error(headers: &HeaderMap, to: &str, msg: &str) -> Response {
    redirect_flash(headers, to, &format!("!{msg}"))
}

fn clear_flash(mut r: Response, headers: &HeaderMap, admin: &Admin) -> Response {
    if admin.flash.is_some() {
        r.headers_mut().append(header::SET_COOKIE, set_cookie(headers, FLASH_COOKIE, "", Some(0)));
    }
    r
}

fn error_page(admin: Option<&Admin>, status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    let base = admin.map(|a| a.base("")).unwrap_or_default();
    let mut r = page("message.html", ctx(base, context! { title, message, back }));
    *r.status_mut() = status;
    r
}

fn field_errors(e: &AppError) -> HashMap<String, String> {
    match e {
        AppError::Invalid(fe) => {
            fe.0.iter()
                .map(|f| (f.field.split('[').next().unwrap_or("").to_string(), format!("　{}", f.message)))
                .collect()
        }
        _ => HashMap::new(),
    }
}

/// Checks the session and the CSRF token of a posted form. Without a live session the
/// login page comes back carrying the form, so nothing typed is lost.
async fn posted(
    admin: Option<Admin>,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(Admin, FormData), Response> {
    checked(admin, headers, path, FormData::parse(body))
}

/// [`posted`] for a form already parsed (when where to return depends on the form).
#[allow(clippy::result_large_err, reason = "the error is the response itself, returned at once")]
fn checked(
    admin: Option<Admin>,
    headers: &HeaderMap,
    path: &str,
    form: FormData,
) -> Result<(Admin, FormData), Response> {
    let Some(admin) = admin else {
        let pre = crate::app::auth::random_token();
        let carry: Vec<(String, String)> = form.0.iter().filter(|(k, _)| k != "_csrf").cloned().collect();
        let mut r = page("login.html", context! { pre => pre.clone(), next => path, carry });
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().append(header::SET_COOKIE, set_cookie(headers, PRE_COOKIE, &pre, None));
        return Err(r);
    };
    let sent = form.get("_csrf");
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), admin.s.csrf.as_bytes()) {
        return Err(error_page(
            Some(&admin),
            StatusCode::FORBIDDEN,
            "表单已失效",
            "表单已过期或来源不明，请返回刷新页面后重试。",
            path,
        ));
    }
    Ok((admin, form))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn local_base(app: &App, site_id: i64, headers: &HeaderMap) -> Option<String> {
    let hosts = app.hosts.load();
    let site = hosts.sites.get(&site_id)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if is_local(headers) {
        let port = host.rsplit_once(':').map(|(_, p)| format!(":{p}")).unwrap_or_default();
        Some(format!("http://{}{port}", site.local_host))
    } else {
        site.primary_domain.as_ref().map(|d| format!("{}://{d}", app.config.public_scheme))
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

async fn login_page(headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let pre = crate::app::auth::random_token();
    let mut r = page("login.html", context! { pre => pre.clone(), next => safe_next(q.next.as_deref()) });
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, PRE_COOKIE, &pre, None));
    r
}

async fn login(State(app): State<App>, headers: HeaderMap, RawForm(body): RawForm) -> Response {
    let form = FormData::parse(&body);
    let next = safe_next(form.opt("next").as_deref());
    let carry: Vec<(String, String)> =
        form.0.iter().filter_map(|(k, v)| k.strip_prefix("carry:").map(|k| (k.to_string(), v.clone()))).collect();
    let pre_ok =
        cookie(&headers, PRE_COOKIE).is_some_and(|c| constant_time_eq(c.as_bytes(), form.get("_pre").as_bytes()));
    let again = |errors: Vec<String>| {
        let pre = crate::app::auth::random_token();
        let mut r = page(
            "login.html",
            context! { pre => pre.clone(), next => next.clone(), carry => carry.clone(), username => form.get("username"), errors, error_title => "未能登录：" },
        );
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, PRE_COOKIE, &pre, None));
        r
    };
    if !pre_ok {
        return again(vec!["登录表单已过期，请重新输入。".into()]);
    }
    match app.start_session(form.get("username"), form.get("password")).await {
        Ok(token) => {
            let session_cookie =
                set_cookie(&headers, SESSION_COOKIE, &token, Some(app.config.session_max_hours * 3600));
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

async fn logout(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, RawForm(body): RawForm) -> Response {
    let form = FormData::parse(&body);
    if admin.is_some_and(|a| constant_time_eq(form.get("_csrf").as_bytes(), a.s.csrf.as_bytes()))
        && let Some(t) = cookie(&headers, SESSION_COOKIE)
    {
        let _ = app.end_session(t).await;
    }
    let mut r = Redirect::to("/admin/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, SESSION_COOKIE, "", Some(0)));
    r
}

// ---------- dashboard ----------

async fn my_sites(app: &App, admin: &Admin) -> Vec<crate::app::views::SiteView> {
    let all = app.list_sites(false).await.unwrap_or_default();
    if admin.s.actor.is_admin {
        return all;
    }
    all.into_iter().filter(|s| admin.s.actor.roles.iter().any(|(id, _)| *id == s.id)).collect()
}

pub(crate) async fn dashboard(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/") };
    let work = match app.my_work(&admin.s.actor).await {
        Ok(w) => w,
        Err(e) => return error_page(Some(&admin), e.status(), "无法读取工作台", &e.public_message(), "/admin/"),
    };
    let sites = my_sites(&app, &admin).await;
    let awaiting = app.policies_awaiting_interpretation(&admin.s.actor).await.unwrap_or_default();
    let emergencies = app.emergency_topics(&admin.s.actor).await.unwrap_or_default();
    let inventory = app.inventory_attention(&admin.s.actor).await.unwrap_or_default();
    let r = page(
        "dashboard.html",
        ctx(admin.base("home"), context! { title => "我的工作台", work, sites, awaiting, emergencies, inventory }),
    );
    clear_flash(r, &headers, &admin)
}

async fn reviews(State(app): State<App>, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/reviews") };
    match app.my_work(&admin.s.actor).await {
        Ok(work) => page("reviews.html", ctx(admin.base("reviews"), context! { title => "审核队列", work })),
        Err(e) => error_page(Some(&admin), e.status(), "无法读取审核队列", &e.public_message(), "/admin/"),
    }
}

// ---------- sites ----------

const KINDS: &[(&str, &str)] = &[
    ("department", "部门网站"),
    ("district_portal", "区（市）门户网站"),
    ("city_portal", "市政府门户网站"),
    ("zone", "功能区网站"),
    ("subsite", "子站"),
    ("column", "栏目"),
];

async fn sites_page(
    app: &App,
    headers: &HeaderMap,
    admin: &Admin,
    v: HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let sites = app.list_sites(false).await.unwrap_or_default();
    let form_token = match admin.s.actor.user_id {
        Some(u) => app.new_form_token(u).await.unwrap_or_default(),
        None => String::new(),
    };
    let r = page(
        "sites.html",
        ctx(admin.base("sites"), context! { title => "站点", sites, kinds => KINDS, v, errors, form_token }),
    );
    clear_flash(r, headers, admin)
}

async fn sites(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/sites") };
    sites_page(&app, &headers, &admin, HashMap::new(), vec![]).await
}

fn opt_i64(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Runs a creating action once per form token; a double submit lands where the first did.
async fn once<F, Fut>(app: &App, admin: &Admin, form: &FormData, act: F) -> Result<String, Result<Response, AppError>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>>,
{
    let token = form.get("_form").to_string();
    let user = admin.s.actor.user_id.unwrap_or_default();
    match app.claim_form_token(&token, user).await {
        Ok(FormClaim::Fresh) => {}
        Ok(FormClaim::Done(to)) => return Err(Ok(Redirect::to(&to).into_response())),
        Ok(FormClaim::Invalid) => {
            return Err(Err(AppError::Conflict("表单已过期，请重新打开页面填写".into())));
        }
        Err(e) => return Err(Err(e)),
    }
    match act().await {
        Ok(to) => {
            let _ = app.finish_form_token(&token, Some(&to)).await;
            Ok(to)
        }
        Err(e) => {
            let _ = app.finish_form_token(&token, None).await;
            Err(Err(e))
        }
    }
}

async fn create_site(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/sites", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewSite {
        kind: form.get("kind").into(),
        name: form.get("name").into(),
        sponsor: form.get("sponsor").into(),
        parent_id: opt_i64(form.get("parent_id")),
        primary_domain: non_empty(form.get("primary_domain")),
        aliases: vec![],
        site_code: non_empty(form.get("site_code")),
        icp_filing: None,
        psb_filing: None,
        contact: form.get("contact").into(),
        require_distinct_reviewer: false,
    };
    let actor = admin.s.actor.clone();
    let res = once(&app, &admin, &form, || async {
        app.create_site(&actor, input).await.map(|s| format!("/admin/sites/{}", s.id))
    })
    .await;
    match res {
        Ok(to) => redirect_flash(&headers, &to, "已提交登记申请"),
        Err(Ok(r)) => r,
        Err(Err(e)) => sites_page(&app, &headers, &admin, form.map(), e.messages()).await,
    }
}

async fn site_page(app: &App, headers: &HeaderMap, admin: &Admin, id: i64, extra: Value) -> Response {
    let site = match app.get_site(id).await {
        Ok(s) => s,
        Err(e) => return error_page(Some(admin), e.status(), "站点不存在", &e.public_message(), "/admin/sites"),
    };
    let columns = app.list_columns(id).await.unwrap_or_default();
    let roles = app.site_roles(&admin.s.actor, id).await.unwrap_or_default();
    let users = if admin.s.actor.is_admin {
        app.list_users(&admin.s.actor).await.unwrap_or_default()
    } else {
        let mut c = app.db.pool.acquire().await;
        match c.as_mut() {
            Ok(c) => sqlx::query_as::<_, crate::store::rows::UserRow>(
                "SELECT * FROM users WHERE disabled = 0 ORDER BY username",
            )
            .fetch_all(&mut **c)
            .await
            .map(|rows| rows.iter().map(crate::app::users::UserView::from).collect())
            .unwrap_or_default(),
            Err(_) => vec![],
        }
    };
    let local = local_base(app, id, headers).map(|b| format!("{b}/"));
    let r = page(
        "site.html",
        ctx(
            admin.base("sites"),
            context! { ..extra, ..context! { title => site.name.clone(), template_error => app.themes.error(id), site, columns, roles, users, local } },
        ),
    );
    clear_flash(r, headers, admin)
}

async fn site(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/sites/{id}")) };
    site_page(&app, &headers, &admin, id, context! {}).await
}

async fn update_site(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/sites/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let aliases: Vec<String> = form.get("aliases").lines().filter_map(non_empty).collect();
    let patch = SitePatch {
        version: opt_i64(form.get("version")).unwrap_or(-1),
        name: form.opt("name"),
        sponsor: form.opt("sponsor"),
        primary_domain: form.opt("primary_domain"),
        aliases: Some(aliases),
        site_code: form.opt("site_code"),
        icp_filing: form.opt("icp_filing"),
        psb_filing: form.opt("psb_filing"),
        contact: form.opt("contact"),
        require_distinct_reviewer: Some(form.get("require_distinct_reviewer") == "1"),
    };
    match app.update_site(&admin.s.actor, id, patch).await {
        Ok(_) => redirect_flash(&headers, &path, "已保存"),
        Err(e) => site_page(&app, &headers, &admin, id, context! { v => form.map(), errors => e.messages() }).await,
    }
}

async fn site_transition(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/sites/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.transition_site(&admin.s.actor, id, form.get("action"), form.get("comment").trim()).await {
        Ok(s) => redirect_flash(&headers, &path, &format!("站点状态已变为「{}」", s.state_label)),
        Err(e) => {
            site_page(&app, &headers, &admin, id, context! { errors => e.messages(), error_title => "操作未完成：" })
                .await
        }
    }
}

async fn create_column(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/sites/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewColumn {
        name: form.get("name").into(),
        slug: form.get("slug").trim().into(),
        kind: form.get("kind").into(),
        source: form.get("source").into(),
        owner: form.get("owner").into(),
        duty: form.get("duty").into(),
        duty_days: opt_i64(form.get("duty_days")),
        parent_id: opt_i64(form.get("parent_id")),
        sort_order: 0,
    };
    match app.create_column(&admin.s.actor, id, input).await {
        Ok(c) => redirect_flash(&headers, &path, &format!("已新建栏目「{}」", c.name)),
        Err(e) => site_page(&app, &headers, &admin, id, context! { cv => form.map(), errors => e.messages() }).await,
    }
}

async fn grant_role(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/sites/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.grant_role(&admin.s.actor, id, opt_i64(form.get("user_id")).unwrap_or(-1), form.get("role")).await {
        Ok(g) => redirect_flash(&headers, &path, &format!("已授予 {} 「{}」角色", g.username, g.role_label)),
        Err(e) => {
            site_page(&app, &headers, &admin, id, context! { errors => e.messages(), error_title => "操作未完成：" })
                .await
        }
    }
}

async fn revoke_role(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/sites/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.revoke_role(&admin.s.actor, id, opt_i64(form.get("user_id")).unwrap_or(-1), form.get("role")).await {
        Ok(()) => redirect_flash(&headers, &path, "已撤销角色"),
        Err(e) => {
            site_page(&app, &headers, &admin, id, context! { errors => e.messages(), error_title => "操作未完成：" })
                .await
        }
    }
}

async fn site_audit(State(app): State<App>, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/sites/{id}/audit")) };
    let site = match app.get_site(id).await {
        Ok(s) => s,
        Err(e) => return error_page(Some(&admin), e.status(), "站点不存在", &e.public_message(), "/admin/sites"),
    };
    match app.site_audit(&admin.s.actor, id).await {
        Ok(entries) => page("audit.html", ctx(admin.base("sites"), context! { title => "操作记录", site, entries })),
        Err(e) => error_page(Some(&admin), e.status(), "无法查看", &e.public_message(), &format!("/admin/sites/{id}")),
    }
}

// ---------- columns ----------

async fn column_page(app: &App, headers: &HeaderMap, admin: &Admin, id: i64, extra: Value) -> Response {
    let column = match app.get_column(id).await {
        Ok(c) => c,
        Err(e) => return error_page(Some(admin), e.status(), "栏目不存在", &e.public_message(), "/admin/sites"),
    };
    let siblings: Vec<_> = app
        .list_columns(column.site_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.id != id && c.status == "active")
        .collect();
    let r = page(
        "column.html",
        ctx(admin.base("sites"), context! { ..extra, ..context! { title => column.name.clone(), column, siblings } }),
    );
    clear_flash(r, headers, admin)
}

async fn column(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/columns/{id}")) };
    column_page(&app, &headers, &admin, id, context! {}).await
}

async fn update_column(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/columns/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let patch = ColumnPatch {
        version: opt_i64(form.get("version")).unwrap_or(-1),
        name: form.opt("name"),
        slug: form.opt("slug"),
        kind: None,
        source: form.opt("source"),
        owner: form.opt("owner"),
        duty: form.opt("duty"),
        duty_days: Some(opt_i64(form.get("duty_days"))),
        parent_id: Some(opt_i64(form.get("parent_id"))),
        sort_order: None,
    };
    match app.update_column(&admin.s.actor, id, patch).await {
        Ok(_) => redirect_flash(&headers, &path, "已保存"),
        Err(e) => column_page(&app, &headers, &admin, id, context! { v => form.map(), errors => e.messages() }).await,
    }
}

async fn merge_column(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/columns/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.merge_column(&admin.s.actor, id, opt_i64(form.get("into")).unwrap_or(-1)).await {
        Ok(_) => redirect_flash(&headers, &path, "已合并，原栏目地址将跳转到目标栏目"),
        Err(e) => {
            column_page(&app, &headers, &admin, id, context! { errors => e.messages(), error_title => "操作未完成：" })
                .await
        }
    }
}

async fn close_column(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/columns/{id}");
    let (admin, _) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.close_column(&admin.s.actor, id).await {
        Ok(_) => redirect_flash(&headers, &path, "栏目已关闭"),
        Err(e) => {
            column_page(&app, &headers, &admin, id, context! { errors => e.messages(), error_title => "操作未完成：" })
                .await
        }
    }
}

// ---------- people ----------

async fn users_page(app: &App, headers: &HeaderMap, admin: &Admin, extra: Value) -> Response {
    match app.list_users(&admin.s.actor).await {
        Ok(users) => {
            let bodies = app.bodies_with_codes().await.unwrap_or_default();
            clear_flash(
                page(
                    "users.html",
                    ctx(admin.base("users"), context! { ..extra, ..context! { title => "人员", users, bodies } }),
                ),
                headers,
                admin,
            )
        }
        Err(e) => error_page(Some(admin), e.status(), "无法查看人员", &e.public_message(), "/admin/"),
    }
}

async fn users(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/users") };
    users_page(&app, &headers, &admin, context! {}).await
}

async fn create_user(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/users", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewUser {
        username: form.get("username").trim().into(),
        display_name: form.get("display_name").into(),
        password: form.get("password").into(),
        is_admin: form.get("is_admin") == "1",
    };
    match app.create_user(&admin.s.actor, input).await {
        Ok(u) => redirect_flash(&headers, "/admin/users", &format!("已添加 {}", u.username)),
        Err(e) => {
            let mut v = form.map();
            v.remove("password");
            users_page(&app, &headers, &admin, context! { v, errors => e.messages() }).await
        }
    }
}

async fn disable_user(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, _) = match posted(admin, &headers, "/admin/users", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.disable_user(&admin.s.actor, id).await {
        Ok(u) => redirect_flash(&headers, "/admin/users", &format!("已停用 {}", u.username)),
        Err(e) => {
            users_page(&app, &headers, &admin, context! { errors => e.messages(), error_title => "操作未完成：" }).await
        }
    }
}

// ---------- documents ----------

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

const STATES: &[(&str, &str)] = &[
    ("draft", "草稿"),
    ("submitted", "待保密审查"),
    ("editorial_review", "待编辑把关"),
    ("scheduled", "定时发布"),
    ("published", "已发布"),
    ("unpublished", "已撤稿"),
];

async fn documents(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    Query(q): Query<StateQuery>,
) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/sites/{id}/documents")) };
    let state = q.state.filter(|s| !s.is_empty());
    let site = match app.get_site(id).await {
        Ok(s) => s,
        Err(e) => return error_page(Some(&admin), e.status(), "站点不存在", &e.public_message(), "/admin/sites"),
    };
    let base = local_base(&app, id, &headers).unwrap_or_default();
    match app.list_documents(&admin.s.actor, id, state.as_deref()).await {
        Ok(docs) => {
            let docs: Vec<Value> = docs
                .into_iter()
                .map(|d| {
                    let local_url = format!("{base}/articles/{}.html", d.id);
                    context! { ..Value::from_serialize(&d), ..context! { local_url } }
                })
                .collect();
            page(
                "documents.html",
                ctx(admin.base("sites"), context! { title => "稿件", site, docs, states => STATES, state }),
            )
        }
        Err(e) => {
            error_page(Some(&admin), e.status(), "无法查看稿件", &e.public_message(), &format!("/admin/sites/{id}"))
        }
    }
}

struct EditorState {
    v: HashMap<String, String>,
    checked: Vec<i64>,
    errors: Vec<String>,
    fe: HashMap<String, String>,
    conflict: Option<String>,
}

async fn editor_page(
    app: &App,
    headers: &HeaderMap,
    admin: &Admin,
    site_id: i64,
    doc_id: Option<i64>,
    st: Option<EditorState>,
) -> Response {
    let site = match app.get_site(site_id).await {
        Ok(s) => s,
        Err(e) => return error_page(Some(admin), e.status(), "站点不存在", &e.public_message(), "/admin/sites"),
    };
    let columns = app.list_columns(site_id).await.unwrap_or_default();
    let (doc, history) = match doc_id {
        Some(id) => {
            match (app.get_document(&admin.s.actor, id).await, app.document_history(&admin.s.actor, id).await) {
                (Ok(d), Ok(h)) => (Some(d), Some(h)),
                (Err(e), _) | (_, Err(e)) => {
                    return error_page(Some(admin), e.status(), "无法打开稿件", &e.public_message(), "/admin/");
                }
            }
        }
        None => (None, None),
    };
    let editable = doc.as_ref().is_none_or(|d| d.draft.as_ref().is_none_or(|e| e.state == "draft"));
    let st = st.unwrap_or_else(|| {
        let mut v = HashMap::new();
        let mut checked = Vec::new();
        if let Some(d) = &doc {
            if let Some(e) = d.draft.as_ref().or(d.live.as_ref()) {
                for (k, val) in [
                    ("title", &e.title),
                    ("subtitle", &e.subtitle),
                    ("source", &e.source),
                    ("author", &e.author),
                    ("keywords", &e.keywords),
                    ("summary", &e.summary),
                    ("body", &e.body),
                    ("body_format", &e.body_format),
                ] {
                    v.insert(k.to_string(), val.clone());
                }
            }
            checked = d.columns.clone();
        } else {
            v.insert("source".into(), site.sponsor.clone());
            v.insert("body_format".into(), "markdown".into());
        }
        EditorState { v, checked, errors: vec![], fe: HashMap::new(), conflict: None }
    });
    let form_token = match (doc.is_none(), admin.s.actor.user_id) {
        (true, Some(u)) => app.new_form_token(u).await.unwrap_or_default(),
        _ => String::new(),
    };
    let local_url =
        doc.as_ref().and_then(|d| local_base(app, site_id, headers).map(|b| format!("{b}/articles/{}.html", d.id)));
    let disclosure = match &doc {
        Some(d) => app.disclosure(d.id).await.unwrap_or(None),
        None => None,
    };
    let bodies = app.bodies_with_codes().await.unwrap_or_default();
    let subjects = app.subjects(false).await.unwrap_or_default();
    let reposts = match &doc {
        Some(d) => app.reposts_of(d.id).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let links = match &doc {
        Some(d) => app.interpretation_links(d.id).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let r = page(
        "document.html",
        ctx(
            admin.base("sites"),
            context! {
                title => if doc.is_some() { "编辑稿件" } else { "写新稿件" }, site, columns, doc, history, editable, form_token, local_url,
                v => st.v, checked => st.checked, errors => st.errors, fe => st.fe, conflict => st.conflict,
                dv => Value::from_serialize(&disclosure), disclosure => Value::from_serialize(&disclosure), bodies,
                doc_types => zhanqun_domain::disclosure::DOC_TYPES, subjects, genres => zhanqun_domain::disclosure::GENRES,
                reposts, links, site_kinds => zhanqun_domain::site::SiteKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect::<Vec<_>>(),
                validity => zhanqun_domain::disclosure::VALIDITY, modes => zhanqun_domain::disclosure::MODES,
            },
        ),
    );
    clear_flash(r, headers, admin)
}

async fn new_document(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/sites/{id}/documents/new")) };
    editor_page(&app, &headers, &admin, id, None, None).await
}

fn editor_state(form: &FormData, e: &AppError) -> EditorState {
    EditorState {
        v: form.map(),
        checked: form.all("columns").iter().filter_map(|c| c.parse().ok()).collect(),
        errors: e.messages(),
        fe: field_errors(e),
        conflict: None,
    }
}

async fn create_document(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, &format!("/admin/sites/{id}/documents"), &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewDocument {
        title: form.get("title").into(),
        subtitle: form.get("subtitle").into(),
        source: form.get("source").into(),
        author: form.get("author").into(),
        keywords: form.get("keywords").into(),
        summary: form.get("summary").into(),
        body: form.get("body").into(),
        body_format: form.opt("body_format").unwrap_or_else(|| "markdown".into()),
        locale: "zh-CN".into(),
        columns: form.all("columns").iter().filter_map(|c| c.parse().ok()).collect(),
        canonical_column_id: None,
    };
    let actor = admin.s.actor.clone();
    let res = once(&app, &admin, &form, || async {
        app.create_document(&actor, id, input).await.map(|d| format!("/admin/documents/{}", d.id))
    })
    .await;
    match res {
        Ok(to) => redirect_flash(&headers, &to, "草稿已保存"),
        Err(Ok(r)) => r,
        Err(Err(e)) => {
            let st = editor_state(&form, &e);
            let mut r = editor_page(&app, &headers, &admin, id, None, Some(st)).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

async fn document(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/documents/{id}")) };
    match app.get_document(&admin.s.actor, id).await {
        Ok(d) => editor_page(&app, &headers, &admin, d.site_id, Some(id), None).await,
        Err(e) => error_page(Some(&admin), e.status(), "无法打开稿件", &e.public_message(), "/admin/"),
    }
}

async fn save_document(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/documents/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let patch = DocumentPatch {
        version: opt_i64(form.get("version")).unwrap_or(-1),
        title: form.opt("title"),
        subtitle: form.opt("subtitle"),
        source: form.opt("source"),
        author: form.opt("author"),
        keywords: form.opt("keywords"),
        summary: form.opt("summary"),
        body: form.opt("body"),
        body_format: form.opt("body_format"),
        locale: None,
        columns: Some(form.all("columns").iter().filter_map(|c| c.parse().ok()).collect()),
        canonical_column_id: None,
    };
    match app.update_document(&admin.s.actor, id, patch).await {
        Ok(_) => redirect_flash(&headers, &path, "已保存"),
        Err(e) => {
            let site_id = match app.get_document(&admin.s.actor, id).await {
                Ok(d) => d.site_id,
                Err(e) => return error_page(Some(&admin), e.status(), "无法打开稿件", &e.public_message(), "/admin/"),
            };
            let mut st = editor_state(&form, &e);
            let status = e.status();
            if let AppError::StaleVersion { .. } = e {
                // Keep what this editor typed in the form; show what the other saved beside it.
                let theirs =
                    app.get_document(&admin.s.actor, id).await.ok().and_then(|d| d.draft.or(d.live)).map(|e| e.body);
                st.conflict = Some(theirs.unwrap_or_default());
                st.errors = vec![];
            }
            let mut r = editor_page(&app, &headers, &admin, site_id, Some(id), Some(st)).await;
            *r.status_mut() = status;
            r
        }
    }
}

/// `datetime-local` gives `2026-12-01T09:00`; read it as China Standard Time.
fn local_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(if s.len() == 16 { format!("{s}:00+08:00") } else { s.to_string() })
}

async fn document_transition(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/documents/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let action = form.get("action").to_string();
    let input = TransitionInput {
        action: action.clone(),
        comment: form.opt("comment"),
        publish_at: local_datetime(form.get("publish_at")),
        mode: None,
        redirect_url: None,
        version: opt_i64(form.get("version")),
    };
    match app.transition_document(&admin.s.actor, id, input).await {
        Ok(d) => redirect_flash(&headers, &path, &format!("操作成功，稿件现为「{}」", d.state_label)),
        Err(e) => redirect_error(&headers, &path, &format!("操作未完成：{}", e.messages().join("；"))),
    }
}

#[derive(Deserialize)]
struct CsrfQuery {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

async fn upload(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    Query(q): Query<CsrfQuery>,
    mut form: Multipart,
) -> Response {
    let path = format!("/admin/documents/{id}");
    let Some(admin) = admin else { return to_login(&path) };
    if !q.csrf.as_deref().is_some_and(|c| constant_time_eq(c.as_bytes(), admin.s.csrf.as_bytes())) {
        return error_page(
            Some(&admin),
            StatusCode::FORBIDDEN,
            "表单已失效",
            "表单已过期或来源不明，请返回刷新页面后重试。",
            &path,
        );
    }
    let mut file: Option<(String, Bytes)> = None;
    loop {
        match form.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => {
                let name = f.file_name().unwrap_or("").to_string();
                match f.bytes().await {
                    Ok(b) => file = Some((name, b)),
                    Err(e) => return redirect_error(&headers, &path, &format!("上传失败：{}", e.body_text())),
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let msg = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    format!("附件过大，上限 {} MB", app.config.max_attachment_mib)
                } else {
                    e.body_text()
                };
                return redirect_error(&headers, &path, &format!("上传失败：{msg}"));
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(n, _)| !n.is_empty()) else {
        return redirect_error(&headers, &path, "请先选择要上传的文件");
    };
    match app.add_attachment(&admin.s.actor, id, &name, &bytes).await {
        Ok(a) => redirect_flash(&headers, &path, &format!("已上传附件「{}」", a.file_name)),
        Err(e) => redirect_error(&headers, &path, &format!("上传失败：{}", e.messages().join("；"))),
    }
}

async fn preview(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/documents/{id}/preview")) };
    match app.preview_document(&admin.s.actor, id).await {
        Ok(p) => {
            let mut r = crate::web::public::serve_page(&p, &headers, false);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            error_page(Some(&admin), e.status(), "无法预览", &e.public_message(), &format!("/admin/documents/{id}"))
        }
    }
}

// ---------- letters ----------

const LETTER_FILTERS: &[(&str, &str)] = &[
    ("", "全部"),
    ("overdue", "已逾期"),
    ("near", "即将到期"),
    ("received", "待交办"),
    ("consultation_3m", "咨询超 3 个月未答复"),
];

async fn letters(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(admin) = admin else { return to_login("/admin/letters") };
    let filter = q.get("filter").cloned().unwrap_or_default();
    match app.list_letters(&admin.s.actor, Some(&filter)).await {
        Ok(letters) => clear_flash(
            page(
                "letters.html",
                ctx(
                    admin.base("letters"),
                    context! { title => "来信办理", letters, filter, filters => LETTER_FILTERS },
                ),
            ),
            &headers,
            &admin,
        ),
        Err(e) => error_page(Some(&admin), e.status(), "无法查看来信", &e.public_message(), "/admin/"),
    }
}

async fn letter(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login(&format!("/admin/letters/{id}")) };
    match app.get_letter(&admin.s.actor, id).await {
        Ok(l) => {
            let bodies = app.list_bodies().await.unwrap_or_default();
            let l = context! { ..Value::from_serialize(&l.public), ..Value::from_serialize(&l) };
            clear_flash(
                page("letter.html", ctx(admin.base("letters"), context! { title => "来信", l, bodies })),
                &headers,
                &admin,
            )
        }
        Err(e) => error_page(Some(&admin), e.status(), "无法查看来信", &e.public_message(), "/admin/letters"),
    }
}

async fn letter_action(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/letters/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::mailbox::LetterActionInput {
        action: form.get("action").into(),
        body_id: opt_i64(form.get("body_id")),
        contact_person: form.opt("contact_person"),
        reason: form.opt("reason"),
        reply: form.opt("reply"),
        version: opt_i64(form.get("version")),
    };
    match app.letter_action(&admin.s.actor, id, input).await {
        Ok(l) => redirect_flash(&headers, &path, &format!("操作成功，来信现为「{}」", l.public.state_label)),
        Err(e) => redirect_error(&headers, &path, &format!("操作未完成：{}", e.messages().join("；"))),
    }
}

async fn release_letter(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/letters/{id}");
    let (admin, _) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.release_letter(&admin.s.actor, id).await {
        Ok(()) => redirect_flash(&headers, &path, "已审核通过"),
        Err(e) => redirect_error(&headers, &path, &e.public_message()),
    }
}

// ---------- calendar ----------

async fn calendar_page(app: &App, headers: &HeaderMap, admin: &Admin, year: i32, extra: Value) -> Response {
    match app.calendar_days(year).await {
        Ok(days) => {
            let has_arrangement = app.calendar.load().has_arrangement(year);
            let today = zhanqun_domain::calendar::fmt_date(crate::app::calendar::today());
            let r = page(
                "calendar.html",
                ctx(
                    admin.base("calendar"),
                    context! { ..extra, ..context! { title => "节假日安排", year, days, has_arrangement, today } },
                ),
            );
            clear_flash(r, headers, admin)
        }
        Err(e) => error_page(Some(admin), e.status(), "无法查看", &e.public_message(), "/admin/calendar"),
    }
}

async fn calendar(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(admin) = admin else { return to_login("/admin/calendar") };
    let year = q.get("year").and_then(|y| y.parse().ok()).unwrap_or_else(|| crate::app::calendar::today().year());
    calendar_page(&app, &headers, &admin, year, context! {}).await
}

async fn set_day(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>, RawForm(body): RawForm) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/calendar", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let year: i32 = form.get("year").parse().unwrap_or_else(|_| crate::app::calendar::today().year());
    match app
        .set_calendar_day(&admin.s.actor, form.get("date"), form.get("kind"), form.get("name"), form.get("source"))
        .await
    {
        Ok(d) => {
            redirect_flash(&headers, &format!("/admin/calendar?year={}", &d.day[..4]), &format!("已保存 {}", d.day))
        }
        Err(e) => {
            calendar_page(&app, &headers, &admin, year, context! { v => form.map(), errors => e.messages() }).await
        }
    }
}

async fn delete_day(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/calendar", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/admin/calendar?year={}", form.get("year"));
    match app.delete_calendar_day(&admin.s.actor, form.get("date")).await {
        Ok(()) => redirect_flash(&headers, &back, &format!("已删除 {}", form.get("date"))),
        Err(e) => redirect_error(&headers, &back, &e.messages().join("；")),
    }
}

// ---------- participation ----------

async fn participation_page(app: &App, headers: &HeaderMap, admin: &Admin, extra: Value) -> Response {
    let actor = &admin.s.actor;
    let sites = my_sites(app, admin).await;
    let mut consultations = Vec::new();
    for c in app.list_consultations(None).await.unwrap_or_default() {
        if !sites.iter().any(|s| s.id == c.site_id) {
            continue;
        }
        let pending = app.pending_comments(actor, c.id).await.unwrap_or_default();
        let public =
            local_base(app, c.site_id, headers).map(|b| format!("{b}/consultations/{}/", c.id)).unwrap_or_default();
        consultations.push(context! { ..Value::from_serialize(&c), ..context! { pending, public } });
    }
    let mut surveys = Vec::new();
    let ids: Vec<(i64, i64)> = sqlx::query_as("SELECT id, site_id FROM surveys ORDER BY id DESC")
        .fetch_all(&app.db.pool)
        .await
        .unwrap_or_default();
    for (id, site_id) in ids {
        if !sites.iter().any(|s| s.id == site_id) {
            continue;
        }
        if let Ok(s) = app.survey(id).await {
            let base = local_base(app, site_id, headers).unwrap_or_default();
            surveys.push(context! { ..Value::from_serialize(&s), ..context! { public => format!("{base}/surveys/{id}/"), results => format!("{base}/surveys/{id}/results") } });
        }
    }
    let mut interviews = Vec::new();
    for i in app.list_interviews().await.unwrap_or_default() {
        if !sites.iter().any(|s| s.id == i.site_id) {
            continue;
        }
        let pending = app.pending_questions(actor, i.id).await.unwrap_or_default();
        let columns: Vec<_> = app
            .list_columns(i.site_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.status == "active")
            .collect();
        let public =
            local_base(app, i.site_id, headers).map(|b| format!("{b}/interviews/{}/", i.id)).unwrap_or_default();
        interviews.push(context! { ..Value::from_serialize(&i), ..context! { pending, columns, public } });
    }
    let r = page(
        "participation.html",
        ctx(
            admin.base("participation"),
            context! { ..extra, ..context! { title => "互动交流", sites, consultations, surveys, interviews } },
        ),
    );
    clear_flash(r, headers, admin)
}

async fn participation(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/participation") };
    participation_page(&app, &headers, &admin, context! {}).await
}

const PART: &str = "/admin/participation";

async fn new_consultation(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::participation::NewConsultation {
        title: form.get("title").into(),
        draft: form.get("draft").into(),
        opens_on: form.get("opens_on").into(),
        closes_on: form.get("closes_on").into(),
    };
    match app.create_consultation(&admin.s.actor, opt_i64(form.get("site_id")).unwrap_or(-1), input).await {
        Ok(c) => redirect_flash(&headers, PART, &format!("已发起意见征集「{}」", c.title)),
        Err(e) => {
            participation_page(&app, &headers, &admin, context! { v => form.map(), errors => e.messages() }).await
        }
    }
}

async fn consultation_feedback(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.publish_feedback(&admin.s.actor, id, form.get("report")).await {
        Ok(_) => redirect_flash(&headers, PART, "反馈已发布"),
        Err(e) => redirect_error(&headers, PART, &e.messages().join("；")),
    }
}

async fn moderate_comment(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.moderate_comment(&admin.s.actor, id, form.get("decision") == "approve").await {
        Ok(()) => redirect_flash(&headers, PART, "已审核"),
        Err(e) => redirect_error(&headers, PART, &e.messages().join("；")),
    }
}

/// `单选|*题目|选项1;选项2` per line (`*` marks a required question; a scale's third part is its top).
fn parse_questions(text: &str) -> Result<Vec<crate::app::participation::Question>, AppError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = match parts.first().copied() {
            Some("单选" | "single") => "single",
            Some("多选" | "multiple") => "multiple",
            Some("量表" | "scale") => "scale",
            Some("问答" | "text") => "text",
            _ => {
                return Err(AppError::field(
                    "questions",
                    "format",
                    format!("第 {} 行的类型应为 单选、多选、量表 或 问答", n + 1),
                ));
            }
        };
        let prompt = parts.get(1).copied().unwrap_or("");
        let (required, prompt) = match prompt.strip_prefix('*') {
            Some(p) => (true, p.trim()),
            None => (false, prompt),
        };
        let third = parts.get(2).copied().unwrap_or("");
        out.push(crate::app::participation::Question {
            kind: kind.into(),
            prompt: prompt.into(),
            required,
            options: if matches!(kind, "single" | "multiple") {
                third.split(';').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect()
            } else {
                vec![]
            },
            max: if kind == "scale" { third.parse().ok().or(Some(5)) } else { None },
        });
    }
    Ok(out)
}

async fn new_survey(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let questions = match parse_questions(form.get("questions")) {
        Ok(q) => q,
        Err(e) => return participation_page(&app, &headers, &admin, context! { errors => e.messages() }).await,
    };
    let input = crate::app::participation::NewSurvey {
        title: form.get("title").into(),
        intro: String::new(),
        questions,
        opens_on: form.get("opens_on").into(),
        closes_on: form.get("closes_on").into(),
        require_contact: form.get("require_contact") == "1",
    };
    match app.create_survey(&admin.s.actor, opt_i64(form.get("site_id")).unwrap_or(-1), input).await {
        Ok(s) => redirect_flash(&headers, PART, &format!("已发起网上调查「{}」", s.title)),
        Err(e) => participation_page(&app, &headers, &admin, context! { errors => e.messages() }).await,
    }
}

async fn new_interview(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::interviews::NewInterview {
        title: form.get("title").into(),
        guests: form.get("guests").into(),
        starts_at: local_datetime(form.get("starts_at")).unwrap_or_default(),
    };
    match app.create_interview(&admin.s.actor, opt_i64(form.get("site_id")).unwrap_or(-1), input).await {
        Ok(i) => redirect_flash(&headers, PART, &format!("已安排在线访谈「{}」", i.title)),
        Err(e) => participation_page(&app, &headers, &admin, context! { errors => e.messages() }).await,
    }
}

async fn end_interview(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.end_interview(&admin.s.actor, id, opt_i64(form.get("column_id")).unwrap_or(-1)).await {
        Ok(i) => redirect_flash(
            &headers,
            PART,
            &format!("访谈已结束，实录稿为稿件 #{}，请报送审核", i.transcript_document_id.unwrap_or_default()),
        ),
        Err(e) => redirect_error(&headers, PART, &e.messages().join("；")),
    }
}

async fn handle_question(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, PART, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.handle_question(&admin.s.actor, id, form.get("action"), form.opt("answer").as_deref()).await {
        Ok(()) => redirect_flash(&headers, PART, "已处理"),
        Err(e) => redirect_error(&headers, PART, &e.messages().join("；")),
    }
}

async fn letter_attachment(State(app): State<App>, admin: Option<Admin>, Path(id): Path<i64>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/letters") };
    match app.letter_attachment(&admin.s.actor, id).await {
        Ok((a, path)) => match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let mut r = Response::new(axum::body::Body::from(bytes));
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&a.media_type) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
                r
            }
            Err(_) => error_page(
                Some(&admin),
                StatusCode::NOT_FOUND,
                "附件文件缺失",
                "附件文件缺失，已记录。",
                "/admin/letters",
            ),
        },
        Err(e) => error_page(Some(&admin), e.status(), "无法查看附件", &e.public_message(), "/admin/letters"),
    }
}

async fn sensitive_words(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/letters", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let words: Vec<String> =
        form.get("words").lines().map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect();
    match app.set_sensitive_words(&admin.s.actor, &words).await {
        Ok(kept) => redirect_flash(&headers, "/admin/letters", &format!("已保存 {} 个敏感词", kept.len())),
        Err(e) => redirect_error(&headers, "/admin/letters", &e.messages().join("；")),
    }
}

async fn save_disclosure(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let path = format!("/admin/documents/{id}");
    let (admin, form) = match posted(admin, &headers, &path, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::disclosure::DisclosureInput {
        doc_type: form.get("doc_type").into(),
        issuing_body_id: opt_i64(form.get("issuing_body_id")).unwrap_or(-1),
        document_number: non_empty(form.get("document_number")),
        subject: form.get("subject").into(),
        date_written: form.get("date_written").into(),
        validity: form.opt("validity").unwrap_or_else(|| "valid".into()),
        validity_changed_on: non_empty(form.get("validity_changed_on")),
        changed_by_document_id: opt_i64(form.get("changed_by_document_id")),
        disclosure_mode: form.opt("disclosure_mode").unwrap_or_else(|| "proactive".into()),
        nondisclosure_reason: non_empty(form.get("nondisclosure_reason")),
        important: form.get("important") == "1",
        genre: non_empty(form.get("genre")),
        keywords: non_empty(form.get("keywords")),
    };
    match app.set_disclosure(&admin.s.actor, id, input).await {
        Ok(d) => redirect_flash(
            &headers,
            &path,
            &match d.index_number {
                Some(n) => format!("公开属性已保存，索引号 {n}"),
                None => "公开属性已保存，发布时编制索引号".to_string(),
            },
        ),
        Err(e) => redirect_error(&headers, &path, &format!("公开属性未保存：{}", e.messages().join("；"))),
    }
}

async fn create_body(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/users", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.create_body(&admin.s.actor, form.get("name"), None).await {
        Ok(b) => redirect_flash(&headers, "/admin/users", &format!("已添加机构「{}」", b.name)),
        Err(e) => redirect_error(&headers, "/admin/users", &e.messages().join("；")),
    }
}

async fn set_index_scheme(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/users", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.set_body_index_scheme(&admin.s.actor, id, Some(form.get("scheme"))).await {
        Ok(()) => redirect_flash(&headers, "/admin/users", "索引号规则已设置，此后发布的文件按新规则编号"),
        Err(e) => redirect_error(&headers, "/admin/users", &e.messages().join("；")),
    }
}

async fn set_body_code(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form) = match posted(admin, &headers, "/admin/users", &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app.set_body_code(&admin.s.actor, id, form.get("code")).await {
        Ok(()) => redirect_flash(&headers, "/admin/users", "代码已设置"),
        Err(e) => redirect_error(&headers, "/admin/users", &e.messages().join("；")),
    }
}
