//! Admin screens of documents: a site's documents, the editor (content, columns,
//! attachments, the workflow step, history, disclosure, reposts and interpretation links),
//! and the preview exactly as published.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use super::workflow::TransitionInput;
use super::{DocumentPatch, NewDocument};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, constant_time_eq, local_datetime};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/sites/{id}/documents", get(documents).post(create_document))
        .route("/admin/sites/{id}/documents/new", get(new_document))
        .route("/admin/documents/{id}", get(document).post(save_document))
        .route("/admin/documents/{id}/transition", post(document_transition))
        .route("/admin/documents/{id}/attachments", post(upload).layer(DefaultBodyLimit::disable()))
        .route("/admin/documents/{id}/preview", get(preview))
}

const STATES: &[(&str, &str)] = &[
    ("draft", "草稿"),
    ("submitted", "待保密审查"),
    ("editorial_review", "待编辑把关"),
    ("scheduled", "定时发布"),
    ("published", "已发布"),
    ("unpublished", "已撤稿"),
];

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn documents(State(app): State<App>, a: Signed, Path(id): Path<i64>, Query(q): Query<StateQuery>) -> Response {
    let state = q.state.filter(|s| !s.is_empty());
    let read = async {
        let site = app.get_site(id).await?;
        let base = a.site_url(&app, id).unwrap_or_default();
        let docs: Vec<Value> = app
            .list_documents(a.actor(), id, state.as_deref())
            .await?
            .into_iter()
            .map(|d| {
                let local_url = format!("{base}/articles/{}.html", d.id);
                context! { ..Value::from_serialize(&d), ..context! { local_url } }
            })
            .collect();
        Ok::<_, AppError>(context! { title => "稿件", site, docs, states => STATES, state })
    };
    match read.await {
        Ok(ctx) => a.render("sites", "documents.html", ctx),
        Err(e) => a.fail(&e, "无法查看稿件", &format!("/admin/sites/{id}")),
    }
}

/// What the editor shows besides the document: `checked` columns, a conflicting text.
#[derive(Default)]
struct Extra {
    checked: Option<Vec<i64>>,
    conflict: Option<String>,
}

/// The editor of a new document on `site_id`, or of document `doc_id`.
async fn editor_screen(
    app: &App,
    a: &Admin,
    site_id: i64,
    doc_id: Option<i64>,
    shown: Shown,
    extra: Extra,
) -> Response {
    let read = async {
        let site = app.get_site(site_id).await?;
        let columns = app.list_columns(site_id).await?;
        let (doc, history, actions) = match doc_id {
            Some(id) => (
                Some(app.get_document(a.actor(), id).await?),
                Some(app.document_history(a.actor(), id).await?),
                app.document_actions(a.actor(), id).await?,
            ),
            None => (None, None, Vec::new()),
        };
        let editable = doc.as_ref().is_none_or(|d| d.draft.as_ref().is_none_or(|e| e.state == "draft"));
        // The form as the document has it, unless the person's own input is shown again.
        let mut v = HashMap::new();
        let mut checked = Vec::new();
        match &doc {
            Some(d) => {
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
            }
            None => {
                v.insert("source".into(), site.sponsor.clone());
                v.insert("body_format".into(), "markdown".into());
            }
        }
        let form_token = if doc.is_none() { app.new_form_token(a.actor()).await? } else { String::new() };
        let local_url =
            doc.as_ref().and_then(|d| a.site_url(app, site_id).map(|b| format!("{b}/articles/{}.html", d.id)));
        let (disclosure, reposts, links) = match &doc {
            Some(d) => {
                (app.disclosure(d.id).await?, app.reposts_of(d.id).await?, app.interpretation_links(d.id).await?)
            }
            None => (None, Vec::new(), Vec::new()),
        };
        // The 错敏词 check of the edition in hand, for the writer and the reviewers alike.
        let expressions = doc
            .as_ref()
            .and_then(|d| d.draft.as_ref().or(d.live.as_ref()))
            .map(|e| crate::documents::checks::check_edition(&app.expressions.load_full(), e.into()));
        Ok::<_, AppError>(context! {
            expressions,
            title => if doc.is_some() { "编辑稿件" } else { "写新稿件" }, site, columns, doc, history, actions, editable, form_token,
            local_url, v, checked => extra.checked.clone().unwrap_or(checked), conflict => extra.conflict.clone(),
            dv => Value::from_serialize(&disclosure), disclosure => Value::from_serialize(&disclosure),
            bodies => app.bodies_with_codes().await?, doc_types => zhanqun_domain::disclosure::DOC_TYPES,
            subjects => app.subjects(false).await?, genres => zhanqun_domain::disclosure::GENRES, reposts, links,
            site_kinds => zhanqun_domain::site::SiteKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect::<Vec<_>>(),
            validity => zhanqun_domain::disclosure::VALIDITY, modes => zhanqun_domain::disclosure::MODES,
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("sites", "document.html", ctx, shown),
        Err(e) => a.fail(&e, "无法打开稿件", "/admin/"),
    }
}

/// The editor of a document shown again after a refused form on it.
pub async fn document_screen(app: &App, a: &Admin, doc_id: i64, shown: Shown) -> Response {
    match app.get_document(a.actor(), doc_id).await {
        Ok(d) => editor_screen(app, a, d.site_id, Some(doc_id), shown, Extra::default()).await,
        Err(e) => a.fail(&e, "无法打开稿件", "/admin/"),
    }
}

async fn new_document(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    editor_screen(&app, &a, id, None, Shown::none(), Extra::default()).await
}

async fn create_document(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewDocument {
        title: f.get("title").into(),
        subtitle: f.get("subtitle").into(),
        source: f.get("source").into(),
        author: f.get("author").into(),
        keywords: f.get("keywords").into(),
        summary: f.get("summary").into(),
        body: f.get("body").into(),
        body_format: f.opt("body_format").unwrap_or_else(|| "markdown".into()),
        locale: "zh-CN".into(),
        columns: f.ids("columns"),
        canonical_column_id: None,
    };
    let actor = p.actor().clone();
    let res = p
        .once(&app, || async {
            app.create_document(&actor, id, input).await.map(|d| format!("/admin/documents/{}", d.id))
        })
        .await;
    match res {
        Ok(to) => p.done(&to, "草稿已保存"),
        Err(Ok(r)) => r,
        Err(Err(e)) => {
            let extra = Extra { checked: Some(p.form.ids("columns")), conflict: None };
            editor_screen(&app, &p, id, None, p.shown(&e), extra).await
        }
    }
}

async fn document(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    document_screen(&app, &a, id, Shown::none()).await
}

async fn save_document(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let patch = DocumentPatch {
        version: f.id("version"),
        title: f.opt("title"),
        subtitle: f.opt("subtitle"),
        source: f.opt("source"),
        author: f.opt("author"),
        keywords: f.opt("keywords"),
        summary: f.opt("summary"),
        body: f.opt("body"),
        body_format: f.opt("body_format"),
        locale: None,
        columns: Some(f.ids("columns")),
        canonical_column_id: None,
    };
    match app.update_document(p.actor(), id, patch).await {
        Ok(_) => p.done(&format!("/admin/documents/{id}"), "已保存"),
        Err(e) => {
            let site_id = match app.get_document(p.actor(), id).await {
                Ok(d) => d.site_id,
                Err(e) => return p.fail(&e, "无法打开稿件", "/admin/"),
            };
            let mut shown = p.shown(&e);
            let mut extra = Extra { checked: Some(p.form.ids("columns")), conflict: None };
            if let AppError::StaleVersion { .. } = e {
                // Keep what this editor typed in the form; show what the other saved beside it.
                let theirs =
                    app.get_document(p.actor(), id).await.ok().and_then(|d| d.draft.or(d.live)).map(|e| e.body);
                extra.conflict = Some(theirs.unwrap_or_default());
                shown.errors = vec![];
            }
            editor_screen(&app, &p, site_id, Some(id), shown, extra).await
        }
    }
}

async fn document_transition(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let input = TransitionInput {
        action: f.get("action").to_string(),
        comment: f.opt("comment"),
        publish_at: local_datetime(f.get("publish_at")),
        mode: None,
        redirect_url: None,
        version: f.int("version"),
        confirm_expressions: Some(f.get("confirm_expressions") == "1"),
    };
    match app.transition_document(p.actor(), id, input).await {
        Ok(d) => p.done(&format!("/admin/documents/{id}"), &format!("操作成功，稿件现为「{}」", d.state_label)),
        Err(e) => document_screen(&app, &p, id, p.shown(&e).as_form("tv")).await,
    }
}

async fn upload(
    State(app): State<App>,
    a: Signed,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Response {
    // The CSRF token is the form's first field (the template puts it before the file), so
    // it is checked before any of the file is read; never in the address, where logs and
    // Referer headers would keep it.
    let refused = || AppError::Forbidden("表单已过期或来源不明，请返回刷新页面后重试。".into());
    let same_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_none_or(|s| s == "same-origin");
    if !same_site {
        return a.fail(&refused(), "表单已失效", &format!("/admin/documents/{id}"));
    }
    let limit = app.config.max_attachment_bytes();
    let mut file = None;
    let mut csrf_ok = false;
    let read = async {
        while let Some(f) = form.next_field().await.map_err(crate::web::api::multipart_error)? {
            match f.name() {
                Some("_csrf") => {
                    let sent = f.text().await.map_err(crate::web::api::multipart_error)?;
                    csrf_ok = constant_time_eq(sent.as_bytes(), a.s.csrf.as_bytes());
                }
                Some("file") if csrf_ok => {
                    let name = f.file_name().unwrap_or("").to_string();
                    file = Some((name, crate::web::api::read_part(f, limit).await?));
                }
                Some("file") => return Err(refused()),
                _ => {}
            }
        }
        if csrf_ok { Ok(()) } else { Err(refused()) }
    };
    let res = match read.await {
        Ok(()) => match file.filter(|(n, _)| !n.is_empty()) {
            Some((name, bytes)) => app.add_attachment(a.actor(), id, &name, &bytes).await,
            None => Err(AppError::field("file", "required", "请先选择要上传的文件")),
        },
        Err(AppError::TooLarge(_)) => {
            Err(AppError::TooLarge(format!("附件过大，上限 {} MB", app.config.max_attachment_mib)))
        }
        Err(e @ AppError::Forbidden(_)) => return a.fail(&e, "表单已失效", &format!("/admin/documents/{id}")),
        Err(e) => Err(e),
    };
    match res {
        Ok(att) => a.done(&format!("/admin/documents/{id}"), &format!("已上传附件「{}」", att.file_name)),
        Err(e) => document_screen(&app, &a, id, Shown::refused(&e)).await,
    }
}

async fn preview(State(app): State<App>, a: Signed, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    match app.preview_document(a.actor(), id).await {
        Ok(p) => {
            let mut r = crate::web::public::serve_page(&p, &headers, false);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => a.fail(&e, "无法预览", &format!("/admin/documents/{id}")),
    }
}
