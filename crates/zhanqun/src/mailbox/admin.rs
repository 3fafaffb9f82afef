//! Admin screens of the mailbox: letters to handle, a letter with its steps, the
//! sensitive-word list.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};

use super::LetterActionInput;
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/letters", get(letters))
        .route("/admin/letters/sensitive-words", post(sensitive_words))
        .route("/admin/letters/{id}", get(letter))
        .route("/admin/letters/{id}/action", post(letter_action))
        .route("/admin/letters/{id}/release", post(release_letter))
        .route("/admin/letter-attachments/{id}", get(letter_attachment))
}

const FILTERS: &[(&str, &str)] = &[
    ("", "全部"),
    ("overdue", "已逾期"),
    ("near", "即将到期"),
    ("received", "待交办"),
    ("consultation_3m", "咨询超 3 个月未答复"),
];

async fn letters_screen(app: &App, a: &Admin, filter: &str, shown: Shown) -> Response {
    let read = async {
        let letters = app.list_letters(a.actor(), Some(filter)).await?;
        let words = app.sensitive_words_for(a.actor()).await?;
        Ok::<_, AppError>(context! { title => "来信办理", letters, filter, filters => FILTERS, words })
    };
    match read.await {
        Ok(ctx) => a.render_shown("letters", "letters.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看来信", "/admin/"),
    }
}

async fn letters(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    letters_screen(&app, &a, q.get("filter").map(String::as_str).unwrap_or(""), Shown::none()).await
}

async fn letter_screen(app: &App, a: &Admin, id: i64, shown: Shown) -> Response {
    let read = async {
        let l = app.get_letter(a.actor(), id).await?;
        let bodies = app.list_bodies().await?;
        let l = context! { ..Value::from_serialize(&l.public), ..Value::from_serialize(&l) };
        Ok::<_, AppError>(context! { title => "来信", l, bodies })
    };
    match read.await {
        Ok(ctx) => a.render_shown("letters", "letter.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看来信", "/admin/letters"),
    }
}

async fn letter(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    letter_screen(&app, &a, id, Shown::none()).await
}

async fn letter_action(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let input = LetterActionInput {
        action: f.get("action").into(),
        body_id: f.int("body_id"),
        contact_person: f.opt("contact_person"),
        reason: f.opt("reason"),
        reply: f.opt("reply"),
        version: f.int("version"),
    };
    match app.letter_action(p.actor(), id, input).await {
        Ok(l) => p.done(&format!("/admin/letters/{id}"), &format!("操作成功，来信现为「{}」", l.public.state_label)),
        Err(e) => letter_screen(&app, &p, id, p.shown(&e)).await,
    }
}

async fn release_letter(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.release_letter(p.actor(), id).await {
        Ok(()) => p.done(&format!("/admin/letters/{id}"), "已审核通过"),
        Err(e) => letter_screen(&app, &p, id, p.shown(&e)).await,
    }
}

async fn letter_attachment(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    let read = async {
        let att = app.letter_attachment(a.actor(), id).await?;
        let bytes = app.blobs.read(&att.sha256).await?;
        Ok::<_, AppError>(crate::web::api::download(bytes, &att.media_type, &att.file_name))
    };
    match read.await {
        Ok(r) => r,
        Err(e) => a.fail(&e, "无法查看附件", "/admin/letters"),
    }
}

async fn sensitive_words(State(app): State<App>, p: Posted) -> Response {
    let words: Vec<String> =
        p.form.get("words").lines().map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect();
    match app.set_sensitive_words(p.actor(), &words).await {
        Ok(kept) => p.done("/admin/letters", &format!("已保存 {} 个敏感词", kept.len())),
        Err(e) => letters_screen(&app, &p, "", p.shown(&e).as_form("wv")).await,
    }
}
