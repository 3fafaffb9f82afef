//! `/api/v1`: JSON in, JSON out, errors as problem+json. Every handler calls the same
//! action the admin UI and the CLI call. Described in `openapi.json` beside this file.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::problem::{ApiJson, ApiPath, ApiQuery};
use super::{Auth, RawToken};
use crate::app::App;
use crate::app::columns::{ColumnPatch, NewColumn};
use crate::app::documents::{DocumentPatch, NewDocument, TransitionInput};
use crate::app::sites::{NewSite, SitePatch};
use crate::app::users::NewUser;
use crate::error::{AppError, AppResult};

type Json = axum::Json<Value>;

fn to_json<T: serde::Serialize>(v: T) -> AppResult<Json> {
    serde_json::to_value(v).map(axum::Json).map_err(|e| AppError::Internal(e.into()))
}

fn created<T: serde::Serialize>(location: String, v: T) -> AppResult<Response> {
    let mut r = (StatusCode::CREATED, to_json(v)?).into_response();
    if let Ok(h) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, h);
    }
    Ok(r)
}

pub fn router(app: &App) -> Router<App> {
    let upload_limit = app.config.max_attachment_bytes().saturating_add(1024 * 1024);
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/auth/token", post(login).delete(logout))
        .route("/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/disable", post(disable_user))
        .route("/sites", get(list_sites).post(create_site))
        .route("/sites/{id}", get(get_site).patch(update_site))
        .route("/sites/{id}/transitions", post(site_transition))
        .route("/sites/{id}/audit", get(site_audit))
        .route("/sites/{id}/roles", get(site_roles).post(grant_role))
        .route("/sites/{id}/roles/{user_id}/{role}", axum::routing::delete(revoke_role))
        .route("/sites/{id}/columns", get(list_columns).post(create_column))
        .route("/columns/{id}", get(get_column).patch(update_column))
        .route("/columns/{id}/merge", post(merge_column))
        .route("/columns/{id}/close", post(close_column))
        .route("/sites/{id}/documents", get(list_documents).post(create_document))
        .route("/documents/{id}", get(get_document).patch(update_document))
        .route("/documents/{id}/transitions", post(document_transition))
        .route("/documents/{id}/history", get(document_history))
        .route("/documents/{id}/attachments", post(upload_attachment).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/attachments/{id}", get(download_attachment))
        .route("/bodies", get(list_bodies).post(create_body))
        .route("/bodies/{id}/members", post(add_body_member))
        .route("/letters", get(list_letters).post(submit_letter))
        .route("/letters/track", post(track_letter))
        .route("/letters/reminders", get(reminders))
        .route("/letters/rate", post(rate_letter))
        .route("/letters/{id}", get(get_letter))
        .route("/letters/{id}/actions", post(letter_action))
        .route("/letters/{id}/release", post(release_letter))
        .route("/letter-attachments/{id}", get(letter_attachment))
        .route("/mailbox/stats", get(mailbox_stats))
        .route("/mailbox/sensitive-words", axum::routing::put(set_sensitive_words))
        .route("/consultations", get(list_consultations))
        .route("/sites/{id}/consultations", post(create_consultation))
        .route("/consultations/{id}", get(get_consultation))
        .route("/consultations/{id}/comments", post(submit_comment))
        .route("/consultations/{id}/comments/pending", get(pending_comments))
        .route("/consultations/{id}/feedback", axum::routing::put(publish_feedback))
        .route("/comments/{id}/moderation", post(moderate_comment))
        .route("/sites/{id}/surveys", post(create_survey))
        .route("/surveys/{id}", get(get_survey))
        .route("/surveys/{id}/results", get(survey_results))
        .route("/surveys/{id}/responses.csv", get(survey_csv))
        .route("/interviews", get(list_interviews))
        .route("/sites/{id}/interviews", post(create_interview))
        .route("/interviews/{id}", get(get_interview))
        .route("/interviews/{id}/questions", post(ask_question))
        .route("/interviews/{id}/questions/pending", get(pending_questions))
        .route("/interviews/{id}/end", post(end_interview))
        .route("/questions/{id}", post(handle_question))
        .route("/bodies/{id}/code", axum::routing::put(set_body_code))
        .route("/bodies/{id}/index-scheme", axum::routing::put(set_index_scheme))
        .route("/documents/{id}/disclosure", axum::routing::put(set_disclosure))
        .route("/documents/{id}/interprets", post(link_interpretation))
        .route("/documents/{id}/interprets/{policy_id}", axum::routing::delete(unlink_interpretation))
        .route("/documents/{id}/interpretation-links", get(interpretation_links))
        .route("/documents/{id}/reposts", get(reposts_of).post(repost))
        .route("/reposts/{id}", axum::routing::delete(remove_repost))
        .route("/sites/{id}/received", get(received))
        .route("/sites/{id}/inventory", get(site_inventory).post(add_inventory))
        .route("/inventory/{id}", axum::routing::delete(retire_inventory))
        .route("/inventory/{id}/events", post(inventory_event))
        .route("/subjects", get(list_subjects).post(add_subject))
        .route("/subjects/{id}", axum::routing::patch(update_subject))
        .route("/bodies/{id}/disclosure-documents", get(body_docs))
        .route("/topics/{id}/close", post(close_topic))
        .route("/sites/{id}/topics", get(site_topics).post(create_topic))
        .route("/topics/{id}", get(get_topic))
        .route("/topics/{id}/items", post(add_topic_item))
        .route("/catalog", get(catalog))
        .route("/calendar/working-days", get(working_days))
        .route("/calendar/days", get(calendar_days))
        .route("/calendar/days/{date}", axum::routing::put(set_calendar_day).delete(delete_calendar_day))
        .fallback(|| async { AppError::NotFound("没有这个接口".into()) })
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("该接口不支持这种请求方法".into())
        })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginInput {
    username: String,
    password: String,
    ttl_hours: Option<i64>,
}

async fn login(State(app): State<App>, ApiJson(i): ApiJson<LoginInput>) -> AppResult<Json> {
    to_json(app.login(&i.username, &i.password, i.ttl_hours).await?)
}

async fn logout(State(app): State<App>, RawToken(token): RawToken) -> AppResult<StatusCode> {
    app.revoke_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(Auth(actor): Auth) -> AppResult<Json> {
    let roles: Vec<Value> =
        actor.roles.iter().map(|(s, r)| json!({"site_id": s, "role": r, "role_label": r.label()})).collect();
    Ok(axum::Json(
        json!({"user_id": actor.user_id, "username": actor.name, "is_admin": actor.is_admin, "roles": roles}),
    ))
}

async fn list_users(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json> {
    to_json(app.list_users(&actor).await?)
}

async fn create_user(State(app): State<App>, Auth(actor): Auth, ApiJson(i): ApiJson<NewUser>) -> AppResult<Response> {
    let u = app.create_user(&actor, i).await?;
    created(format!("/api/v1/users/{}", u.id), u)
}

async fn disable_user(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.disable_user(&actor, id).await?)
}

#[derive(Deserialize)]
struct SiteFilter {
    #[serde(default)]
    noncompliant: bool,
}

async fn list_sites(State(app): State<App>, Auth(_): Auth, ApiQuery(f): ApiQuery<SiteFilter>) -> AppResult<Json> {
    to_json(app.list_sites(f.noncompliant).await?)
}

async fn create_site(State(app): State<App>, Auth(actor): Auth, ApiJson(i): ApiJson<NewSite>) -> AppResult<Response> {
    let s = app.create_site(&actor, i).await?;
    created(format!("/api/v1/sites/{}", s.id), s)
}

async fn get_site(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.get_site(id).await?)
}

async fn update_site(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<SitePatch>,
) -> AppResult<Json> {
    to_json(app.update_site(&actor, id, p).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteTransition {
    action: String,
    #[serde(default)]
    comment: String,
}

async fn site_transition(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<SiteTransition>,
) -> AppResult<Json> {
    to_json(app.transition_site(&actor, id, &t.action, t.comment.trim()).await?)
}

async fn site_audit(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.site_audit(&actor, id).await?)
}

async fn site_roles(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.site_roles(&actor, id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantInput {
    user_id: i64,
    role: String,
}

async fn grant_role(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(g): ApiJson<GrantInput>,
) -> AppResult<Response> {
    let r = app.grant_role(&actor, id, g.user_id, &g.role).await?;
    created(format!("/api/v1/sites/{id}/roles/{}/{}", r.user_id, r.role.as_str()), r)
}

async fn revoke_role(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, user_id, role)): ApiPath<(i64, i64, String)>,
) -> AppResult<StatusCode> {
    app.revoke_role(&actor, id, user_id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_columns(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.list_columns(id).await?)
}

async fn create_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<NewColumn>,
) -> AppResult<Response> {
    let c = app.create_column(&actor, id, c).await?;
    created(format!("/api/v1/columns/{}", c.id), c)
}

async fn get_column(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.get_column(id).await?)
}

async fn update_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<ColumnPatch>,
) -> AppResult<Json> {
    to_json(app.update_column(&actor, id, p).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeInput {
    into: i64,
}

async fn merge_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MergeInput>,
) -> AppResult<Json> {
    to_json(app.merge_column(&actor, id, m.into).await?)
}

async fn close_column(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.close_column(&actor, id).await?)
}

#[derive(Deserialize)]
struct DocFilter {
    state: Option<String>,
}

async fn list_documents(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<DocFilter>,
) -> AppResult<Json> {
    to_json(app.list_documents(&actor, id, f.state.as_deref()).await?)
}

async fn create_document(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<NewDocument>,
) -> AppResult<Response> {
    let d = app.create_document(&actor, id, d).await?;
    created(format!("/api/v1/documents/{}", d.id), d)
}

async fn get_document(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.get_document(&actor, id).await?)
}

async fn update_document(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<DocumentPatch>,
) -> AppResult<Json> {
    to_json(app.update_document(&actor, id, p).await?)
}

async fn document_transition(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<TransitionInput>,
) -> AppResult<Json> {
    to_json(app.transition_document(&actor, id, t).await?)
}

async fn document_history(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.document_history(&actor, id).await?)
}

/// `multipart/form-data` with one part named `file`.
async fn upload_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    mut form: Multipart,
) -> AppResult<Response> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!("附件过大，上限 {} MB", app.config.max_attachment_mib))
        } else {
            AppError::BadRequest(format!("上传内容有误：{}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        let a = app.add_attachment(&actor, id, &name, &bytes).await?;
        return created(a.url.clone(), a);
    }
    Err(AppError::field("file", "required", "请选择要上传的文件（表单字段名 file）"))
}

async fn download_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let (row, path) = app.get_attachment(&actor, id).await?;
    let bytes = tokio::fs::read(&path).await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        url::form_urlencoded::byte_serialize(row.file_name.as_bytes()).collect::<String>()
    );
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&row.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(r)
}

/// `?from=YYYY-MM-DD&days=N`: the deadline N working days after `from`. Public.
async fn working_days(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<std::collections::HashMap<String, String>>,
) -> AppResult<Json> {
    let from = q.get("from").map(String::as_str).unwrap_or("");
    let days = q.get("days").map(String::as_str).unwrap_or("");
    to_json(app.due(from, days)?)
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

async fn calendar_days(State(app): State<App>, Auth(_): Auth, ApiQuery(q): ApiQuery<YearQuery>) -> AppResult<Json> {
    let year = match q.year.as_deref() {
        None => crate::app::calendar::today().year(),
        Some(y) => y.trim().parse().map_err(|_| AppError::field("year", "type", format!("年份「{y}」无效")))?,
    };
    to_json(app.calendar_days(year).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DayInput {
    kind: String,
    name: String,
    source: String,
}

async fn set_calendar_day(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(date): ApiPath<String>,
    ApiJson(d): ApiJson<DayInput>,
) -> AppResult<Json> {
    to_json(app.set_calendar_day(&actor, &date, &d.kind, &d.name, &d.source).await?)
}

async fn delete_calendar_day(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(date): ApiPath<String>,
) -> AppResult<StatusCode> {
    app.delete_calendar_day(&actor, &date).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyInput {
    name: String,
    site_id: Option<i64>,
}

async fn list_bodies(State(app): State<App>) -> AppResult<Json> {
    to_json(app.list_bodies().await?)
}

async fn create_body(State(app): State<App>, Auth(actor): Auth, ApiJson(b): ApiJson<BodyInput>) -> AppResult<Response> {
    let b = app.create_body(&actor, &b.name, b.site_id).await?;
    created(format!("/api/v1/bodies/{}", b.id), b)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberInput {
    user_id: i64,
}

async fn add_body_member(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> AppResult<StatusCode> {
    app.add_body_member(&actor, id, m.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterInput {
    channel: String,
    to_body_id: Option<i64>,
    site_id: Option<i64>,
    subject: String,
    body: String,
    writer_name: String,
    writer_contact: String,
    #[serde(default)]
    may_publish: bool,
}

/// Public: a citizen's letter. Limited per client address; the answer carries the query code.
async fn submit_letter(
    State(app): State<App>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(l): ApiJson<LetterInput>,
) -> AppResult<Response> {
    app.check_public_write("", addr.ip(), None)?;
    let r = app
        .submit_letter(crate::app::mailbox::NewLetter {
            channel: l.channel,
            to_body_id: l.to_body_id,
            site_id: l.site_id,
            subject: l.subject,
            body: l.body,
            writer_name: l.writer_name,
            writer_contact: l.writer_contact,
            may_publish: l.may_publish,
            attachment: None,
        })
        .await?;
    created(format!("/api/v1/letters/{}", r.id), r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

async fn track_letter(
    State(app): State<App>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(c): ApiJson<CodeInput>,
) -> AppResult<Json> {
    app.check_public_write("track:", addr.ip(), None)?;
    to_json(app.track_letter(&c.code).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateInput {
    code: String,
    rating: i64,
    #[serde(default)]
    comment: String,
}

async fn rate_letter(State(app): State<App>, ApiJson(r): ApiJson<RateInput>) -> AppResult<Json> {
    to_json(app.rate_letter(&r.code, r.rating, &r.comment).await?)
}

#[derive(Deserialize)]
struct LetterFilter {
    filter: Option<String>,
}

async fn list_letters(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(f): ApiQuery<LetterFilter>,
) -> AppResult<Json> {
    to_json(app.list_letters(&actor, f.filter.as_deref()).await?)
}

async fn get_letter(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.get_letter(&actor, id).await?)
}

async fn letter_action(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<crate::app::mailbox::LetterActionInput>,
) -> AppResult<Json> {
    to_json(app.letter_action(&actor, id, a).await?)
}

async fn release_letter(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.release_letter(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct StatsQuery {
    year: Option<String>,
    month: Option<String>,
}

async fn mailbox_stats(State(app): State<App>, ApiQuery(q): ApiQuery<StatsQuery>) -> AppResult<Json> {
    let year = match q.year.as_deref() {
        None => crate::app::calendar::today().year(),
        Some(y) => y.trim().parse().map_err(|_| AppError::field("year", "type", format!("年份「{y}」无效")))?,
    };
    let month = match q.month.as_deref() {
        None | Some("") => None,
        Some(m) => Some(m.trim().parse().map_err(|_| AppError::field("month", "type", format!("月份「{m}」无效")))?),
    };
    to_json(app.mailbox_stats(year, month).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WordsInput {
    words: Vec<String>,
}

async fn set_sensitive_words(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(w): ApiJson<WordsInput>,
) -> AppResult<Json> {
    to_json(app.set_sensitive_words(&actor, &w.words).await?)
}

async fn list_consultations(State(app): State<App>) -> AppResult<Json> {
    to_json(app.list_consultations(None).await?)
}

async fn create_consultation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<crate::app::participation::NewConsultation>,
) -> AppResult<Response> {
    let c = app.create_consultation(&actor, id, c).await?;
    created(format!("/api/v1/consultations/{}", c.id), c)
}

async fn get_consultation(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.consultation(id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    paragraph: Option<i64>,
    name: String,
    contact: String,
    body: String,
}

/// Public: a comment on a draft, held for moderation; limited per client address.
async fn submit_comment(
    State(app): State<App>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CommentInput>,
) -> AppResult<Response> {
    app.check_public_write("", addr.ip(), None)?;
    let cid = app.submit_comment(id, c.paragraph, &c.name, &c.contact, &c.body).await?;
    created(format!("/api/v1/consultations/{id}"), json!({"id": cid, "status": "pending"}))
}

async fn pending_comments(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.pending_comments(&actor, id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModerationInput {
    approve: bool,
}

async fn moderate_comment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<ModerationInput>,
) -> AppResult<StatusCode> {
    app.moderate_comment(&actor, id, m.approve).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackInput {
    report: String,
}

async fn publish_feedback(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(f): ApiJson<FeedbackInput>,
) -> AppResult<Json> {
    to_json(app.publish_feedback(&actor, id, &f.report).await?)
}

async fn create_survey(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<crate::app::participation::NewSurvey>,
) -> AppResult<Response> {
    let s = app.create_survey(&actor, id, s).await?;
    created(format!("/api/v1/surveys/{}", s.id), s)
}

async fn get_survey(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.survey(id).await?)
}

async fn survey_results(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.survey_results(id).await?)
}

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

#[derive(Deserialize)]
struct DayQuery {
    day: Option<String>,
}

/// Reminders of a day (default today) for the letters the caller handles.
async fn reminders(State(app): State<App>, Auth(actor): Auth, ApiQuery(q): ApiQuery<DayQuery>) -> AppResult<Json> {
    let day = q.day.unwrap_or_else(|| zhanqun_domain::calendar::fmt_date(crate::app::calendar::today()));
    to_json(app.reminders(&actor, &day).await?)
}

async fn list_interviews(State(app): State<App>) -> AppResult<Json> {
    to_json(app.list_interviews().await?)
}

async fn create_interview(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<crate::app::interviews::NewInterview>,
) -> AppResult<Response> {
    let i = app.create_interview(&actor, id, i).await?;
    created(format!("/api/v1/interviews/{}", i.id), i)
}

async fn get_interview(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.interview(id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionInput {
    name: String,
    contact: String,
    body: String,
}

/// Public: a question for an interview, held for moderation; limited per client address.
async fn ask_question(
    State(app): State<App>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<QuestionInput>,
) -> AppResult<Response> {
    app.check_public_write("", addr.ip(), None)?;
    let qid = app.ask_question(id, &q.name, &q.contact, &q.body).await?;
    created(format!("/api/v1/interviews/{id}"), json!({"id": qid, "status": "pending"}))
}

async fn pending_questions(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.pending_questions(&actor, id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandleInput {
    action: String,
    answer: Option<String>,
}

async fn handle_question(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<HandleInput>,
) -> AppResult<StatusCode> {
    app.handle_question(&actor, id, &h.action, h.answer.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndInput {
    column_id: i64,
}

async fn end_interview(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<EndInput>,
) -> AppResult<Json> {
    to_json(app.end_interview(&actor, id, e.column_id).await?)
}

async fn letter_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let (a, path) = app.letter_attachment(&actor, id).await?;
    let bytes = tokio::fs::read(&path).await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        url::form_urlencoded::byte_serialize(a.file_name.as_bytes()).collect::<String>()
    );
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(r)
}

async fn set_body_code(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CodeInput>,
) -> AppResult<StatusCode> {
    app.set_body_code(&actor, id, &c.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disclosure(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<crate::app::disclosure::DisclosureInput>,
) -> AppResult<Json> {
    to_json(app.set_disclosure(&actor, id, d).await?)
}

#[derive(Deserialize)]
struct CatalogQuery {
    site: Option<i64>,
    body: Option<i64>,
    subject: Option<String>,
    year: Option<i32>,
    validity: Option<String>,
    doc_type: Option<String>,
    genre: Option<String>,
    page: Option<i64>,
}

/// The disclosure catalog as JSON (public), 100 entries a page.
async fn catalog(State(app): State<App>, ApiQuery(q): ApiQuery<CatalogQuery>) -> AppResult<Json> {
    let f = crate::app::disclosure::CatalogFilter {
        body: q.body,
        subject: q.subject,
        year: q.year,
        validity: q.validity,
        doc_type: q.doc_type,
        genre: q.genre,
    };
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (total, entries) = app.catalog(q.site, &f, 100, (page - 1) * 100).await?;
    Ok(axum::Json(json!({"total": total, "page": page, "entries": entries})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InterpretsInput {
    policy_id: i64,
    #[serde(default = "text_kind")]
    kind: String,
}

fn text_kind() -> String {
    "text".into()
}

async fn link_interpretation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<InterpretsInput>,
) -> AppResult<StatusCode> {
    app.link_interpretation(&actor, id, i.policy_id, &i.kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_topic(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<crate::app::topics::NewTopic>,
) -> AppResult<Response> {
    let t = app.create_topic(&actor, id, t).await?;
    created(format!("/api/v1/topics/{}", t.id), t)
}

async fn get_topic(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.topic(id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicItemInput {
    document_id: i64,
}

async fn add_topic_item(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<TopicItemInput>,
) -> AppResult<Json> {
    to_json(app.add_topic_item(&actor, id, i.document_id).await?)
}

async fn unlink_interpretation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, policy)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    app.unlink_interpretation(&actor, id, policy).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn interpretation_links(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.interpretation_links(id).await?)
}

async fn repost(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<crate::app::reposts::RepostInput>,
) -> AppResult<Response> {
    let out = app.repost(&actor, id, i).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

async fn reposts_of(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.reposts_of(id).await?)
}

async fn remove_repost(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.remove_repost(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn received(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.received(&actor, id).await?)
}

async fn site_inventory(State(app): State<App>, Auth(_): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.inventory(Some(id)).await?)
}

async fn add_inventory(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<crate::app::inventory::InventoryInput>,
) -> AppResult<Response> {
    let item = app.add_inventory_item(&actor, id, i).await?;
    created(format!("/api/v1/sites/{id}/inventory"), item)
}

async fn retire_inventory(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    app.retire_inventory_item(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn inventory_event(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<crate::app::inventory::EventInput>,
) -> AppResult<Json> {
    to_json(app.record_inventory_event(&actor, id, e).await?)
}

#[derive(Deserialize)]
struct SubjectsQuery {
    #[serde(default)]
    include_retired: bool,
}

async fn list_subjects(State(app): State<App>, ApiQuery(q): ApiQuery<SubjectsQuery>) -> AppResult<Json> {
    to_json(app.subjects(q.include_retired).await?)
}

async fn add_subject(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<crate::app::disclosure::SubjectInput>,
) -> AppResult<Response> {
    let s = app.add_subject(&actor, i).await?;
    created(format!("/api/v1/subjects/{}", s.id), s)
}

async fn update_subject(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<crate::app::disclosure::SubjectPatch>,
) -> AppResult<StatusCode> {
    app.update_subject(&actor, id, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn body_docs(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.body_disclosure_docs(id).await?)
}

async fn site_topics(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.site_topics(id).await?)
}

async fn close_topic(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json> {
    to_json(app.close_topic(&actor, id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemeInput {
    scheme: Option<String>,
}

async fn set_index_scheme(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<SchemeInput>,
) -> AppResult<StatusCode> {
    app.set_body_index_scheme(&actor, id, i.scheme.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
