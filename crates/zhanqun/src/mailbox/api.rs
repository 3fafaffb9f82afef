//! `/api/v1/letters` and `/api/v1/mailbox`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::{BodyStats, LetterActionInput, NewLetter, PublicLetter, Receipt, Reminder, StaffLetter};
use crate::app::App;
use crate::kernel::{AppError, AppResult};
use crate::web::api::{ApiRouter, Auth, Created, Json, download};
use crate::web::client::ClientAddr;
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_letters, submit_letter))
        .routes(routes!(track_letter))
        .routes(routes!(reminders))
        .routes(routes!(rate_letter))
        .routes(routes!(get_letter))
        .routes(routes!(letter_action))
        .routes(routes!(release_letter))
        .routes(routes!(letter_attachment))
        .routes(routes!(mailbox_stats))
        .routes(routes!(set_sensitive_words))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LetterInput {
    /// `mayor`, `body`, `consultation`, `complaint` or `suggestion`.
    channel: String,
    /// With `body`: the body written to.
    to_body_id: Option<i64>,
    site_id: Option<i64>,
    subject: String,
    body: String,
    writer_name: String,
    /// A phone number or an e-mail address.
    writer_contact: String,
    #[serde(default)]
    may_publish: bool,
}

/// A citizen's letter (public; limited per client address). The answer carries the query
/// code, shown once.
#[utoipa::path(post, path = "/letters", tag = "mailbox", security(()), request_body = LetterInput,
    responses((status = 201, body = Receipt)))]
async fn submit_letter(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(l): ApiJson<LetterInput>,
) -> AppResult<Created<Receipt>> {
    app.check_public_write("", client, None).await?;
    let r = app
        .submit_letter(NewLetter {
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
    Ok(Created(format!("/api/v1/letters/{}", r.id), r))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

/// What the writer sees with the query code (public; limited per client address).
#[utoipa::path(post, path = "/letters/track", tag = "mailbox", security(()), request_body = CodeInput,
    responses((status = 200, body = PublicLetter)))]
async fn track_letter(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(c): ApiJson<CodeInput>,
) -> AppResult<Json<PublicLetter>> {
    app.check_public_write("track:", client, None).await?;
    Ok(Json(app.track_letter(&c.code).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RateInput {
    code: String,
    /// 1 to 5.
    rating: i64,
    #[serde(default)]
    comment: String,
}

/// The writer rates the answer, once (public, with the query code; limited per client
/// address together with tracking).
#[utoipa::path(post, path = "/letters/rate", tag = "mailbox", security(()), request_body = RateInput,
    responses((status = 200, body = PublicLetter)))]
async fn rate_letter(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(r): ApiJson<RateInput>,
) -> AppResult<Json<PublicLetter>> {
    app.check_public_write("track:", client, None).await?;
    Ok(Json(app.rate_letter(&r.code, r.rating, &r.comment).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct LetterFilter {
    /// `overdue`, `near`, `consultation_3m`, or a state.
    filter: Option<String>,
}

/// Letters for the people handling them.
#[utoipa::path(get, path = "/letters", tag = "mailbox", params(LetterFilter),
    responses((status = 200, body = Vec<StaffLetter>)))]
async fn list_letters(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(f): ApiQuery<LetterFilter>,
) -> AppResult<Json<Vec<StaffLetter>>> {
    Ok(Json(app.list_letters(&actor, f.filter.as_deref()).await?))
}

/// A letter with the writer's personal data (its handlers; every look is recorded).
#[utoipa::path(get, path = "/letters/{id}", tag = "mailbox", params(("id" = i64, Path)),
    responses((status = 200, body = StaffLetter)))]
async fn get_letter(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<StaffLetter>> {
    Ok(Json(app.get_letter(&actor, id).await?))
}

/// One step of handling: assign, transfer, extend, reply, not_handled, close.
#[utoipa::path(post, path = "/letters/{id}/actions", tag = "mailbox", params(("id" = i64, Path)),
    request_body = LetterActionInput, responses((status = 200, body = StaffLetter)))]
async fn letter_action(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<LetterActionInput>,
) -> AppResult<Json<StaffLetter>> {
    Ok(Json(app.letter_action(&actor, id, a).await?))
}

/// Releases a letter held for moderation (system administrators).
#[utoipa::path(post, path = "/letters/{id}/release", tag = "mailbox", params(("id" = i64, Path)),
    responses((status = 204, description = "已放行")))]
async fn release_letter(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.release_letter(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A letter's file (its handlers; the look is recorded).
#[utoipa::path(get, path = "/letter-attachments/{id}", tag = "mailbox", params(("id" = i64, Path)),
    responses((status = 200, description = "附件本身", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn letter_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let a = app.letter_attachment(&actor, id).await?;
    let bytes = app.blobs.read(&a.sha256).await?;
    Ok(download(bytes, &a.media_type, &a.file_name))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DayQuery {
    /// `YYYY-MM-DD`; default today.
    day: Option<String>,
}

/// Reminders of a day for the letters the caller handles.
#[utoipa::path(get, path = "/letters/reminders", tag = "mailbox", params(DayQuery),
    responses((status = 200, body = Vec<Reminder>)))]
async fn reminders(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> AppResult<Json<Vec<Reminder>>> {
    let day = q.day.unwrap_or_else(|| zhanqun_domain::calendar::fmt_date(crate::kernel::time::today()));
    Ok(Json(app.reminders(&actor, &day).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct StatsQuery {
    /// Default: this year.
    year: Option<String>,
    /// 1–12; the whole year when absent.
    month: Option<String>,
}

/// Every body's figures for a year or a month (public).
#[utoipa::path(get, path = "/mailbox/stats", tag = "mailbox", security(()), params(StatsQuery),
    responses((status = 200, body = Vec<BodyStats>)))]
async fn mailbox_stats(State(app): State<App>, ApiQuery(q): ApiQuery<StatsQuery>) -> AppResult<Json<Vec<BodyStats>>> {
    let year = match q.year.as_deref() {
        None => crate::kernel::time::today().year(),
        Some(y) => y.trim().parse().map_err(|_| AppError::field("year", "type", format!("年份「{y}」无效")))?,
    };
    let month = match q.month.as_deref() {
        None | Some("") => None,
        Some(m) => Some(m.trim().parse().map_err(|_| AppError::field("month", "type", format!("月份「{m}」无效")))?),
    };
    Ok(Json(app.mailbox_stats(year, month).await?))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WordsInput {
    words: Vec<String>,
}

/// Replaces the words that hold a letter for moderation (system administrators).
#[utoipa::path(put, path = "/mailbox/sensitive-words", tag = "mailbox", request_body = WordsInput,
    responses((status = 200, body = Vec<String>)))]
async fn set_sensitive_words(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(w): ApiJson<WordsInput>,
) -> AppResult<Json<Vec<String>>> {
    Ok(Json(app.set_sensitive_words(&actor, &w.words).await?))
}
