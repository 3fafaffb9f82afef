//! Consultations and surveys on the public sites.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::public::resolve_site;
use crate::app::App;
use crate::app::limits::new_challenge;
use crate::app::participation::Answers;
use crate::error::AppError;

const VOTER_COOKIE: &str = "zq_voter";

async fn render(
    app: &App,
    site_id: i64,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> Response {
    super::public::uncached_page(app, site_id, headers, status, template, ctx).await
}

fn id_of(seg: &str) -> Option<i64> {
    seg.parse().ok()
}

async fn not_found(app: &App, site: i64, headers: &HeaderMap, what: &str) -> Response {
    render(
        app,
        site,
        headers,
        StatusCode::NOT_FOUND,
        "message.html",
        context! { heading => "页面不存在", message => format!("{what}不存在。") },
    )
    .await
}

/// The page for a lookup that failed: "does not exist" when it does not, and when the
/// database failed, a logged error that says so rather than a false 404.
async fn lookup_failed(app: &App, site: i64, headers: &HeaderMap, what: &str, e: AppError) -> Response {
    if e.status() == StatusCode::NOT_FOUND {
        return not_found(app, site, headers, what).await;
    }
    tracing::error!(error = %e, what, "public page failed");
    let ctx = context! { heading => "暂时无法显示", message => "页面暂时无法显示，请稍后再试。" };
    render(app, site, headers, e.status(), "message.html", ctx).await
}

pub async fn consultations(State(app): State<App>, headers: HeaderMap) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let items = app.list_consultations(None).await.unwrap_or_default();
    render(&app, site.id, &headers, StatusCode::OK, "consultations.html", context! { items }).await
}

async fn consultation_page(
    app: &App,
    site: i64,
    headers: &HeaderMap,
    id: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    match app.consultation(id).await {
        Ok(c) => {
            let challenge = new_challenge(&app.challenge_key.load());
            render(app, site, headers, status, "consultation.html", context! { ..extra, ..context! { c, challenge } })
                .await
        }
        Err(e) => lookup_failed(app, site, headers, "意见征集", e).await,
    }
}

pub async fn consultation(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match id_of(&id) {
        Some(id) => consultation_page(&app, site.id, &headers, id, StatusCode::OK, context! {}).await,
        None => not_found(&app, site.id, &headers, "意见征集").await,
    }
}

pub async fn comment(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(id) = id_of(&id) else { return not_found(&app, site.id, &headers, "意见征集").await };
    let f: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let again = |status: StatusCode, errors: Vec<String>| {
        let f = f.clone();
        let app = app.clone();
        let headers = headers.clone();
        async move { consultation_page(&app, site.id, &headers, id, status, context! { v => f, errors }).await }
    };
    if let Err(e) = app.check_public_write("", addr.ip(), Some((&get("token"), &get("answer")))) {
        return again(e.status(), super::mailbox::kept_text(&e)).await;
    }
    let paragraph = get("paragraph").trim().parse().ok();
    match app.submit_comment(id, paragraph, &get("name"), &get("contact"), &get("body")).await {
        Ok(_) => {
            consultation_page(
                &app,
                site.id,
                &headers,
                id,
                StatusCode::CREATED,
                context! { notice => "意见已提交，审核后公开。谢谢您的参与。" },
            )
            .await
        }
        Err(e) => again(e.status(), e.messages()).await,
    }
}

pub async fn survey(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match id_of(&id) {
        Some(id) => match app.survey(id).await {
            Ok(s) => render(&app, site.id, &headers, StatusCode::OK, "survey.html", context! { s }).await,
            Err(e) => lookup_failed(&app, site.id, &headers, "调查", e).await,
        },
        None => not_found(&app, site.id, &headers, "调查").await,
    }
}

/// One answer per browser (a random cookie), plus the per-address limit.
pub async fn answer(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(id) = id_of(&id) else { return not_found(&app, site.id, &headers, "调查").await };
    let Ok(s) = app.survey(id).await else { return not_found(&app, site.id, &headers, "调查").await };
    let mut answers = Answers::new();
    let mut contact = None;
    for (k, v) in url::form_urlencoded::parse(&body).into_owned() {
        if let Some(i) = k.strip_prefix('q').and_then(|n| n.parse::<usize>().ok()) {
            answers.entry(i).or_default().push(v);
        } else if k == "contact" {
            contact = Some(v);
        }
    }
    let existing = super::admin::cookie(&headers, VOTER_COOKIE).map(str::to_string);
    let voter = existing.clone().unwrap_or_else(crate::app::auth::random_token);
    let result = match app.check_public_write("survey:", addr.ip(), None) {
        Ok(()) => app.answer_survey(id, &voter, contact.as_deref(), &answers).await,
        Err(e) => Err(e),
    };
    let mut r = match result {
        Ok(()) => {
            render(
                &app,
                site.id,
                &headers,
                StatusCode::CREATED,
                "survey.html",
                context! { s, notice => "提交成功，谢谢您的参与。" },
            )
            .await
        }
        Err(e) => {
            render(&app, site.id, &headers, e.status(), "survey.html", context! { s, errors => e.messages() }).await
        }
    };
    if existing.is_none()
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{VOTER_COOKIE}={voter}; Path=/surveys; HttpOnly; SameSite=Lax; Max-Age=31536000"
        ))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn results(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match id_of(&id) {
        Some(id) => match app.survey_results(id).await {
            Ok(r) => render(&app, site.id, &headers, StatusCode::OK, "survey_results.html", context! { r }).await,
            Err(e) => lookup_failed(&app, site.id, &headers, "调查", e).await,
        },
        None => not_found(&app, site.id, &headers, "调查").await,
    }
}

pub async fn interviews(State(app): State<App>, headers: HeaderMap) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let items = app.list_interviews().await.unwrap_or_default();
    render(&app, site.id, &headers, StatusCode::OK, "interviews.html", context! { items }).await
}

async fn interview_page(
    app: &App,
    site: i64,
    headers: &HeaderMap,
    id: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    match app.interview(id).await {
        Ok(i) => {
            let challenge = new_challenge(&app.challenge_key.load());
            render(app, site, headers, status, "interview.html", context! { ..extra, ..context! { i, challenge } })
                .await
        }
        Err(e) => lookup_failed(app, site, headers, "在线访谈", e).await,
    }
}

pub async fn interview(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match id_of(&id) {
        Some(id) => interview_page(&app, site.id, &headers, id, StatusCode::OK, context! {}).await,
        None => not_found(&app, site.id, &headers, "在线访谈").await,
    }
}

pub async fn ask(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(id) = id_of(&id) else { return not_found(&app, site.id, &headers, "在线访谈").await };
    let f: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let result = match app.check_public_write("", addr.ip(), Some((&get("token"), &get("answer")))) {
        Ok(()) => app.ask_question(id, &get("name"), &get("contact"), &get("body")).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            interview_page(
                &app,
                site.id,
                &headers,
                id,
                StatusCode::CREATED,
                context! { notice => "问题已提交，审核后公开。" },
            )
            .await
        }
        Err(e) => {
            let errors = super::mailbox::kept_text(&e);
            interview_page(&app, site.id, &headers, id, e.status(), context! { v => f.clone(), errors }).await
        }
    }
}

/// The disclosure catalog on a site: the city-wide one on the city portal, the site's own
/// part on every other site. Browsed by body, subject, document type, genre and year,
/// filtered by validity, 50 entries a page.
pub async fn catalog(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scope = catalog_scope(&app, site.id).await;
    let f = catalog_filter(&q);
    let page: i64 = q.get("page").and_then(|p| p.parse().ok()).filter(|p| (1..=100_000).contains(p)).unwrap_or(1);
    let result = async {
        let (total, entries) = app.catalog(scope, &f, CATALOG_PAGE, (page - 1) * CATALOG_PAGE).await?;
        let subjects = app.subjects(false).await?;
        let bodies = app.list_bodies().await?;
        let body_docs = match f.body {
            Some(b) => Some(app.body_disclosure_docs(b).await?),
            None => None,
        };
        Ok::<_, AppError>((total, entries, subjects, bodies, body_docs))
    }
    .await;
    match result {
        Ok((total, entries, subjects, bodies, body_docs)) => {
            use zhanqun_domain::disclosure::{DOC_TYPES, GENRES, VALIDITY, label_of};
            let entries: Vec<minijinja::Value> = entries
                .iter()
                .map(|e| {
                    let validity_label = label_of(VALIDITY, &e.validity).unwrap_or("");
                    let type_label = label_of(DOC_TYPES, &e.doc_type).unwrap_or("");
                    let url = app.document_link(site.id, e.site_id, e.document_id);
                    context! { ..context! { validity_label, type_label, url }, ..minijinja::Value::from_serialize(e) }
                })
                .collect();
            let pages = ((total + CATALOG_PAGE - 1) / CATALOG_PAGE).max(1);
            // The filter as a query string, for the paging links.
            let query = {
                let mut keep = url::form_urlencoded::Serializer::new(String::new());
                for k in ["body", "subject", "year", "validity", "doc_type", "genre"] {
                    if let Some(v) = q.get(k).filter(|v| !v.is_empty()) {
                        keep.append_pair(k, v);
                    }
                }
                keep.finish()
            };
            let ctx = context! {
                total, entries, bodies, subjects, page, pages, query, body_docs,
                f => minijinja::Value::from_serialize(serde_json::json!({
                    "body": f.body, "subject": f.subject, "year": f.year, "validity": f.validity,
                    "doc_type": f.doc_type, "genre": f.genre,
                })),
                validity => VALIDITY, doc_types => DOC_TYPES, genres => GENRES,
            };
            render(&app, site.id, &headers, StatusCode::OK, "catalog.html", ctx).await
        }
        Err(e) => {
            render(
                &app,
                site.id,
                &headers,
                e.status(),
                "message.html",
                context! { heading => "无法显示目录", message => e.public_message() },
            )
            .await
        }
    }
}

const CATALOG_PAGE: i64 = 50;

fn catalog_filter(q: &HashMap<String, String>) -> crate::app::disclosure::CatalogFilter {
    let text = |k: &str| q.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    crate::app::disclosure::CatalogFilter {
        body: q.get("body").and_then(|b| b.parse().ok()),
        subject: text("subject"),
        year: q.get("year").and_then(|y| y.trim().parse().ok()),
        validity: text("validity"),
        doc_type: text("doc_type"),
        genre: text("genre"),
    }
}

/// A body's disclosure guide: a stable address that always opens the newest published one.
pub async fn body_guide(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app.body_disclosure_docs(id).await {
        Ok(d) => match d.guide {
            Some(g) => axum::response::Redirect::to(&g.url).into_response(),
            None => not_found(&app, site.id, &headers, "公开指南").await,
        },
        Err(e) => lookup_failed(&app, site.id, &headers, "公开指南", e).await,
    }
}

/// A body's annual reports on government information disclosure, newest year first.
pub async fn body_reports(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app.body_disclosure_docs(id).await {
        Ok(d) => render(&app, site.id, &headers, StatusCode::OK, "annual_reports.html", context! { d }).await,
        Err(e) => lookup_failed(&app, site.id, &headers, "年度报告", e).await,
    }
}

async fn catalog_scope(app: &App, site_id: i64) -> Option<i64> {
    let portal = sqlx::query_scalar::<_, String>("SELECT kind FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_one(&app.db.pool)
        .await
        .is_ok_and(|k| k == "city_portal");
    if portal { None } else { Some(site_id) }
}

/// The catalog as CSV (UTF-8 with BOM, so spreadsheet software reads the Chinese right).
pub async fn catalog_csv(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scope = catalog_scope(&app, site.id).await;
    let Ok((_, entries)) = app.catalog(scope, &catalog_filter(&q), 100_000, 0).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "目录暂时无法导出").into_response();
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "索引号",
        "名称",
        "发文机关",
        "发文字号",
        "主题分类",
        "文件类型",
        "成文日期",
        "发布日期",
        "效力",
        "体裁",
        "关键词",
        "地址",
    ]);
    for e in &entries {
        let validity =
            zhanqun_domain::disclosure::label_of(zhanqun_domain::disclosure::VALIDITY, &e.validity).unwrap_or("");
        let doc_type =
            zhanqun_domain::disclosure::label_of(zhanqun_domain::disclosure::DOC_TYPES, &e.doc_type).unwrap_or("");
        let published = e.published_at.map(crate::app::views::fmt_local).unwrap_or_default();
        let _ = w.write_record([
            e.index_number.as_deref().unwrap_or(""),
            &e.title,
            &e.body,
            e.document_number.as_deref().unwrap_or(""),
            &e.subject,
            doc_type,
            &e.date_written,
            &published,
            validity,
            e.genre.as_deref().unwrap_or(""),
            &e.keywords,
            &e.url,
        ]);
    }
    let body = format!("\u{feff}{}", String::from_utf8_lossy(&w.into_inner().unwrap_or_default()));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog.csv\""),
        ],
        body,
    )
        .into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The catalog as JSON, whole (with the page's filters), for those who reuse it.
pub async fn catalog_json(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scope = catalog_scope(&app, site.id).await;
    match app.catalog(scope, &catalog_filter(&q), 100_000, 0).await {
        Ok((total, entries)) => (
            [(header::CONTENT_DISPOSITION, "inline; filename=\"catalog.json\"")],
            axum::Json(serde_json::json!({"site": site.name, "total": total, "entries": entries})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "catalog export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "目录暂时无法导出").into_response()
        }
    }
}

/// An Atom feed of the newest catalog entries.
pub async fn catalog_feed(State(app): State<App>, headers: HeaderMap) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scope = catalog_scope(&app, site.id).await;
    let Ok((_, entries)) = app.catalog(scope, &crate::app::disclosure::CatalogFilter::default(), 50, 0).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "暂时无法生成").into_response();
    };
    let base = match &site.primary_domain {
        Some(d) => format!("{}://{d}", app.config.public_scheme),
        None => String::new(),
    };
    let updated = entries
        .first()
        .and_then(|e| e.published_at)
        .map(crate::app::views::fmt_time)
        .unwrap_or_else(|| crate::app::views::fmt_time(0));
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{} 政府信息公开目录</title>\n<id>{base}/catalog/</id>\n<link rel=\"self\" href=\"{base}/catalog/feed.atom\"/>\n<updated>{updated}</updated>\n",
        xml_escape(&site.name)
    );
    for e in &entries {
        let url = match app.document_link(site.id, e.site_id, e.document_id) {
            u if u.starts_with('/') => format!("{base}{u}"),
            u => u,
        };
        let when = e.published_at.map(crate::app::views::fmt_time).unwrap_or_else(|| updated.clone());
        let summary = format!(
            "索引号：{}；发文机关：{}；发文字号：{}；主题分类：{}；成文日期：{}",
            e.index_number.as_deref().unwrap_or(""),
            e.body,
            e.document_number.as_deref().unwrap_or(""),
            e.subject,
            e.date_written
        );
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{url}</id>\n<link href=\"{url}\"/>\n<updated>{when}</updated>\n<author><name>{}</name></author>\n<summary>{}</summary>\n</entry>\n",
            xml_escape(&e.title),
            xml_escape(&e.body),
            xml_escape(&summary)
        ));
    }
    xml.push_str("</feed>\n");
    ([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response()
}

pub async fn topic(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match id_of(&id) {
        Some(id) => match app.topic(id).await {
            Ok(t) if t.site_id == site.id => {
                render(&app, site.id, &headers, StatusCode::OK, "topic.html", context! { t }).await
            }
            Ok(_) => not_found(&app, site.id, &headers, "专题").await,
            Err(e) => lookup_failed(&app, site.id, &headers, "专题", e).await,
        },
        None => not_found(&app, site.id, &headers, "专题").await,
    }
}
