//! Consultations, surveys and interviews on the public sites.

use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use super::Answers;
use crate::app::App;
use crate::kernel::limits::new_challenge;
use crate::web::client::ClientAddr;
use crate::web::public::{Visitor, form_fields, kept_text};

const VOTER_COOKIE: &str = "zq_voter";

pub fn router() -> Router<App> {
    Router::new()
        .route("/consultations/", get(consultations))
        .route("/consultations/{id}/", get(consultation).post(comment))
        .route("/surveys/", get(surveys))
        .route("/surveys/{id}/", get(survey).post(answer))
        .route("/surveys/{id}/results", get(results))
        .route("/interviews/", get(interviews))
        .route("/interviews/{id}/", get(interview).post(ask))
}

fn id_of(seg: &str) -> Option<i64> {
    seg.parse().ok()
}

async fn consultations(State(app): State<App>, v: Visitor) -> Response {
    match app.list_consultations(None).await {
        Ok(items) => v.page(&app, StatusCode::OK, "consultations.html", context! { items }).await,
        Err(e) => v.failed(&app, &e).await,
    }
}

async fn surveys(State(app): State<App>, v: Visitor) -> Response {
    match app.list_surveys().await {
        Ok(items) => v.page(&app, StatusCode::OK, "surveys.html", context! { items }).await,
        Err(e) => v.failed(&app, &e).await,
    }
}

async fn consultation_page(app: &App, v: &Visitor, id: i64, status: StatusCode, extra: minijinja::Value) -> Response {
    match app.consultation(id).await {
        Ok(c) => {
            let challenge = new_challenge(&app.challenge_key.load());
            v.page(app, status, "consultation.html", context! { ..extra, ..context! { c, challenge } }).await
        }
        Err(e) => v.lookup_failed(app, "意见征集", e).await,
    }
}

async fn consultation(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Some(id) => consultation_page(&app, &v, id, StatusCode::OK, context! {}).await,
        None => v.missing(&app, "意见征集").await,
    }
}

async fn comment(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    v: Visitor,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let Some(id) = id_of(&id) else { return v.missing(&app, "意见征集").await };
    let f = form_fields(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("", client, Some((&get("token"), &get("answer")))).await {
        return consultation_page(&app, &v, id, e.status(), context! { v => f.clone(), errors => kept_text(&e) }).await;
    }
    let paragraph = get("paragraph").trim().parse().ok();
    match app.submit_comment(id, paragraph, &get("name"), &get("contact"), &get("body")).await {
        Ok(_) => {
            let notice = "意见已提交，审核后公开。谢谢您的参与。";
            consultation_page(&app, &v, id, StatusCode::CREATED, context! { notice }).await
        }
        Err(e) => {
            app.release_challenge(&get("token")).await;
            consultation_page(&app, &v, id, e.status(), context! { v => f.clone(), errors => e.messages() }).await
        }
    }
}

async fn survey(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    let Some(id) = id_of(&id) else { return v.missing(&app, "调查").await };
    match app.survey(id).await {
        Ok(s) => v.page(&app, StatusCode::OK, "survey.html", context! { s }).await,
        Err(e) => v.lookup_failed(&app, "调查", e).await,
    }
}

/// One answer per browser (a random cookie), plus the per-address limit.
async fn answer(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    v: Visitor,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let Some(id) = id_of(&id) else { return v.missing(&app, "调查").await };
    let s = match app.survey(id).await {
        Ok(s) => s,
        Err(e) => return v.lookup_failed(&app, "调查", e).await,
    };
    let mut answers = Answers::new();
    let mut contact = None;
    for (k, val) in url::form_urlencoded::parse(&body).into_owned() {
        if let Some(i) = k.strip_prefix('q').and_then(|n| n.parse::<usize>().ok()) {
            answers.entry(i).or_default().push(val);
        } else if k == "contact" {
            contact = Some(val);
        }
    }
    let existing = crate::web::admin::cookie(v.headers(), VOTER_COOKIE).map(str::to_string);
    let voter = existing.clone().unwrap_or_else(crate::people::auth::random_token);
    let result = match app.check_public_write("survey:", client, None).await {
        Ok(()) => app.answer_survey(id, &voter, contact.as_deref(), &answers).await,
        Err(e) => Err(e),
    };
    let mut r = match result {
        Ok(()) => {
            v.page(&app, StatusCode::CREATED, "survey.html", context! { s, notice => "提交成功，谢谢您的参与。" }).await
        }
        Err(e) => v.page(&app, e.status(), "survey.html", context! { s, errors => e.messages() }).await,
    };
    if existing.is_none()
        && let Ok(c) = HeaderValue::from_str(&format!(
            "{VOTER_COOKIE}={voter}; Path=/surveys; HttpOnly; SameSite=Lax; Max-Age=31536000"
        ))
    {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

async fn results(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    let Some(id) = id_of(&id) else { return v.missing(&app, "调查").await };
    match app.survey_results(id).await {
        Ok(r) => v.page(&app, StatusCode::OK, "survey_results.html", context! { r }).await,
        Err(e) => v.lookup_failed(&app, "调查", e).await,
    }
}

async fn interviews(State(app): State<App>, v: Visitor) -> Response {
    match app.list_interviews().await {
        Ok(items) => v.page(&app, StatusCode::OK, "interviews.html", context! { items }).await,
        Err(e) => v.failed(&app, &e).await,
    }
}

async fn interview_page(app: &App, v: &Visitor, id: i64, status: StatusCode, extra: minijinja::Value) -> Response {
    match app.interview(id).await {
        Ok(i) => {
            let challenge = new_challenge(&app.challenge_key.load());
            v.page(app, status, "interview.html", context! { ..extra, ..context! { i, challenge } }).await
        }
        Err(e) => v.lookup_failed(app, "在线访谈", e).await,
    }
}

async fn interview(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Some(id) => interview_page(&app, &v, id, StatusCode::OK, context! {}).await,
        None => v.missing(&app, "在线访谈").await,
    }
}

async fn ask(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    v: Visitor,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let Some(id) = id_of(&id) else { return v.missing(&app, "在线访谈").await };
    let f = form_fields(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let result = match app.check_public_write("", client, Some((&get("token"), &get("answer")))).await {
        Ok(()) => {
            let asked = app.ask_question(id, &get("name"), &get("contact"), &get("body")).await.map(|_| ());
            if asked.is_err() {
                app.release_challenge(&get("token")).await;
            }
            asked
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            interview_page(&app, &v, id, StatusCode::CREATED, context! { notice => "问题已提交，审核后公开。" }).await
        }
        Err(e) => interview_page(&app, &v, id, e.status(), context! { v => f.clone(), errors => kept_text(&e) }).await,
    }
}
