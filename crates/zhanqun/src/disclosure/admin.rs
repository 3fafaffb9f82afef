//! Admin screens of disclosure: the metadata form on a document's editor, interpretation
//! links, a site's disclosure page (content inventory, what it received, its topics) and
//! the subject list.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};

use super::DisclosureInput;
use super::subjects::{SubjectInput, SubjectPatch};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/documents/{id}/disclosure", post(save_disclosure))
        .route("/admin/documents/{id}/interprets", post(link_interpretation))
        .route("/admin/documents/{id}/interprets/{policy}/delete", post(unlink_interpretation))
        .route("/admin/sites/{id}/disclosure", get(site_disclosure))
        .route("/admin/subjects", get(subjects).post(add_subject))
        .route("/admin/subjects/{id}", post(update_subject))
}

async fn save_disclosure(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let input = DisclosureInput {
        doc_type: f.get("doc_type").into(),
        issuing_body_id: f.id("issuing_body_id"),
        document_number: f.text("document_number"),
        subject: f.get("subject").into(),
        date_written: f.get("date_written").into(),
        validity: f.opt("validity").unwrap_or_else(|| "valid".into()),
        validity_changed_on: f.text("validity_changed_on"),
        changed_by_document_id: f.int("changed_by_document_id"),
        disclosure_mode: f.opt("disclosure_mode").unwrap_or_else(|| "proactive".into()),
        nondisclosure_reason: f.text("nondisclosure_reason"),
        important: f.checked("important"),
        genre: f.text("genre"),
        keywords: f.text("keywords"),
    };
    match app.set_disclosure(p.actor(), id, input).await {
        Ok(d) => p.done(
            &format!("/admin/documents/{id}"),
            &match d.index_number {
                Some(n) => format!("公开属性已保存，索引号 {n}"),
                None => "公开属性已保存，发布时编制索引号".to_string(),
            },
        ),
        Err(e) => crate::documents::admin::document_screen(&app, &p, id, p.shown(&e).as_form("dv")).await,
    }
}

async fn link_interpretation(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/documents/{id}"));
    let res = match p.form.int("policy_id") {
        Some(policy) => {
            let kind = p.form.opt("kind").unwrap_or_else(|| "text".into());
            app.link_interpretation(p.actor(), id, policy, &kind).await.map(|()| policy)
        }
        None => Err(AppError::field("policy_id", "type", "请填写政策的稿件编号（数字）")),
    };
    match res {
        Ok(policy) => p.done(&to, &format!("已关联到稿件 #{policy}")),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("lv")).await,
    }
}

async fn unlink_interpretation(State(app): State<App>, Path((id, policy)): Path<(i64, i64)>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/documents/{id}"));
    match app.unlink_interpretation(p.actor(), id, policy).await {
        Ok(()) => p.done(&to, "已取消关联"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("lv")).await,
    }
}

/// A site's disclosure page: its content inventory, what it received, its topics.
pub async fn site_disclosure_screen(app: &App, a: &Admin, id: i64, shown: Shown) -> Response {
    let read = async {
        let site = app.get_site(id).await?;
        let received = app.received(a.actor(), id).await?;
        let inventory = app.inventory(Some(id)).await?;
        let topics = app.site_topics(id).await?;
        let columns = app.list_columns(id).await?;
        Ok::<_, AppError>(context! {
            title => "公开清单、转载与专题", site, received, inventory, topics, columns,
            categories => crate::inventory::CATEGORIES,
            site_kinds => zhanqun_domain::site::SiteKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect::<Vec<_>>(),
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("sites", "site_disclosure.html", ctx, shown),
        Err(e) => a.fail(&e, "无法打开", "/admin/sites"),
    }
}

async fn site_disclosure(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    site_disclosure_screen(&app, &a, id, Shown::none()).await
}

/// The subject list, retired categories too.
pub async fn subjects_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    match app.subjects(true).await {
        Ok(subjects) => a.render_shown(
            "subjects",
            "subjects.html",
            context! { title => "主题分类", subjects => Value::from_serialize(&subjects) },
            shown,
        ),
        Err(e) => a.fail(&e, "无法读取主题分类", "/admin/"),
    }
}

async fn subjects(State(app): State<App>, a: Signed) -> Response {
    subjects_screen(&app, &a, Shown::none()).await
}

async fn add_subject(State(app): State<App>, p: Posted) -> Response {
    let input = SubjectInput { name: p.form.get("name").into(), parent_id: p.form.int("parent_id") };
    match app.add_subject(p.actor(), input).await {
        Ok(s) => p.done("/admin/subjects", &format!("已添加分类「{}」", s.path)),
        Err(e) => subjects_screen(&app, &p, p.shown(&e)).await,
    }
}

async fn update_subject(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let patch = SubjectPatch { name: p.form.text("name"), retired: p.form.opt("retired").map(|r| r == "1") };
    match app.update_subject(p.actor(), id, patch).await {
        Ok(()) => p.done("/admin/subjects", "分类已更新"),
        Err(e) => subjects_screen(&app, &p, p.shown(&e).as_form("uv")).await,
    }
}
