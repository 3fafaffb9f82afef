//! `/api/v1/consultations`, `/surveys`, `/interviews`: public participation and its moderation.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::interviews::{InterviewQuestion, InterviewView, NewInterview};
use super::{Comment, ConsultationView, NewConsultation, NewSurvey, SurveyResults, SurveyView};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::client::ClientAddr;
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_consultations))
        .routes(routes!(create_consultation))
        .routes(routes!(get_consultation))
        .routes(routes!(submit_comment))
        .routes(routes!(pending_comments))
        .routes(routes!(publish_feedback))
        .routes(routes!(moderate_comment))
        .routes(routes!(create_survey))
        .routes(routes!(get_survey))
        .routes(routes!(survey_results))
        .routes(routes!(survey_csv))
        .routes(routes!(list_interviews))
        .routes(routes!(create_interview))
        .routes(routes!(get_interview))
        .routes(routes!(ask_question))
        .routes(routes!(pending_questions))
        .routes(routes!(end_interview))
        .routes(routes!(handle_question))
}

/// Every consultation (public).
#[utoipa::path(get, path = "/consultations", tag = "participation", security(()),
    responses((status = 200, body = Vec<ConsultationView>)))]
async fn list_consultations(State(app): State<App>) -> AppResult<Json<Vec<ConsultationView>>> {
    Ok(Json(app.list_consultations(None).await?))
}

/// Opens a draft for comment over a period (editors of the site).
#[utoipa::path(post, path = "/sites/{id}/consultations", tag = "participation", params(("id" = i64, Path)),
    request_body = NewConsultation, responses((status = 201, body = ConsultationView)))]
async fn create_consultation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<NewConsultation>,
) -> AppResult<Created<ConsultationView>> {
    let c = app.create_consultation(&actor, id, c).await?;
    Ok(Created(format!("/api/v1/consultations/{}", c.id), c))
}

/// A consultation with its published comments (public).
#[utoipa::path(get, path = "/consultations/{id}", tag = "participation", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = ConsultationView)))]
async fn get_consultation(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<ConsultationView>> {
    Ok(Json(app.consultation(id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    /// The paragraph commented on; none for the draft as a whole.
    paragraph: Option<i64>,
    name: String,
    contact: String,
    body: String,
}

/// What a held submission answers: its number, pending moderation.
#[derive(Serialize, utoipa::ToSchema)]
struct Held {
    id: i64,
    /// `pending`.
    status: &'static str,
}

/// A comment on a draft (public), held for moderation; limited per client address.
#[utoipa::path(post, path = "/consultations/{id}/comments", tag = "participation", security(()), params(("id" = i64, Path)),
    request_body = CommentInput, responses((status = 201, body = Held)))]
async fn submit_comment(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CommentInput>,
) -> AppResult<Created<Held>> {
    app.check_public_write("", client, None).await?;
    let cid = app.submit_comment(id, c.paragraph, &c.name, &c.contact, &c.body).await?;
    Ok(Created(format!("/api/v1/consultations/{id}"), Held { id: cid, status: "pending" }))
}

/// The moderation queue (editors of the site).
#[utoipa::path(get, path = "/consultations/{id}/comments/pending", tag = "participation", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Comment>)))]
async fn pending_comments(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Comment>>> {
    Ok(Json(app.pending_comments(&actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ModerationInput {
    approve: bool,
}

#[utoipa::path(post, path = "/comments/{id}/moderation", tag = "participation", params(("id" = i64, Path)),
    request_body = ModerationInput, responses((status = 204, description = "已审核")))]
async fn moderate_comment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<ModerationInput>,
) -> AppResult<StatusCode> {
    app.moderate_comment(&actor, id, m.approve).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FeedbackInput {
    report: String,
}

/// Publishes the feedback report after the consultation closed.
#[utoipa::path(put, path = "/consultations/{id}/feedback", tag = "participation", params(("id" = i64, Path)),
    request_body = FeedbackInput, responses((status = 200, body = ConsultationView)))]
async fn publish_feedback(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(f): ApiJson<FeedbackInput>,
) -> AppResult<Json<ConsultationView>> {
    Ok(Json(app.publish_feedback(&actor, id, &f.report).await?))
}

#[utoipa::path(post, path = "/sites/{id}/surveys", tag = "participation", params(("id" = i64, Path)),
    request_body = NewSurvey, responses((status = 201, body = SurveyView)))]
async fn create_survey(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<NewSurvey>,
) -> AppResult<Created<SurveyView>> {
    let s = app.create_survey(&actor, id, s).await?;
    Ok(Created(format!("/api/v1/surveys/{}", s.id), s))
}

#[utoipa::path(get, path = "/surveys/{id}", tag = "participation", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = SurveyView)))]
async fn get_survey(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<SurveyView>> {
    Ok(Json(app.survey(id).await?))
}

#[utoipa::path(get, path = "/surveys/{id}/results", tag = "participation", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = SurveyResults)))]
async fn survey_results(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<SurveyResults>> {
    Ok(Json(app.survey_results(id).await?))
}

/// Every response as CSV (editors of the site).
#[utoipa::path(get, path = "/surveys/{id}/responses.csv", tag = "participation", params(("id" = i64, Path)),
    responses((status = 200, description = "CSV（UTF-8）", content_type = "text/csv", body = String)))]
async fn survey_csv(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Response> {
    let csv = app.survey_csv(&actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"survey.csv\""),
        ],
        csv,
    )
        .into_response())
}

#[utoipa::path(get, path = "/interviews", tag = "participation", security(()),
    responses((status = 200, body = Vec<InterviewView>)))]
async fn list_interviews(State(app): State<App>) -> AppResult<Json<Vec<InterviewView>>> {
    Ok(Json(app.list_interviews().await?))
}

#[utoipa::path(post, path = "/sites/{id}/interviews", tag = "participation", params(("id" = i64, Path)),
    request_body = NewInterview, responses((status = 201, body = InterviewView)))]
async fn create_interview(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<NewInterview>,
) -> AppResult<Created<InterviewView>> {
    let i = app.create_interview(&actor, id, i).await?;
    Ok(Created(format!("/api/v1/interviews/{}", i.id), i))
}

#[utoipa::path(get, path = "/interviews/{id}", tag = "participation", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = InterviewView)))]
async fn get_interview(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<InterviewView>> {
    Ok(Json(app.interview(id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct QuestionInput {
    name: String,
    contact: String,
    body: String,
}

/// A question for an interview (public), held for moderation; limited per client address.
#[utoipa::path(post, path = "/interviews/{id}/questions", tag = "participation", security(()), params(("id" = i64, Path)),
    request_body = QuestionInput, responses((status = 201, body = Held)))]
async fn ask_question(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<QuestionInput>,
) -> AppResult<Created<Held>> {
    app.check_public_write("", client, None).await?;
    let qid = app.ask_question(id, &q.name, &q.contact, &q.body).await?;
    Ok(Created(format!("/api/v1/interviews/{id}"), Held { id: qid, status: "pending" }))
}

#[utoipa::path(get, path = "/interviews/{id}/questions/pending", tag = "participation", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<InterviewQuestion>)))]
async fn pending_questions(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<InterviewQuestion>>> {
    Ok(Json(app.pending_questions(&actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct HandleInput {
    /// `approve`, `reject` or `answer`.
    action: String,
    answer: Option<String>,
}

#[utoipa::path(post, path = "/questions/{id}", tag = "participation", params(("id" = i64, Path)),
    request_body = HandleInput, responses((status = 204, description = "已处理")))]
async fn handle_question(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<HandleInput>,
) -> AppResult<StatusCode> {
    app.handle_question(&actor, id, &h.action, h.answer.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EndInput {
    /// The column the transcript is written into (as a draft for review).
    column_id: i64,
}

/// Ends the interview; its transcript becomes a draft document that passes both reviews.
#[utoipa::path(post, path = "/interviews/{id}/end", tag = "participation", params(("id" = i64, Path)),
    request_body = EndInput, responses((status = 200, body = InterviewView)))]
async fn end_interview(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<EndInput>,
) -> AppResult<Json<InterviewView>> {
    Ok(Json(app.end_interview(&actor, id, e.column_id).await?))
}
