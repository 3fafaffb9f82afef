//! `/api/v1/…/documents`: writing, the review workflow, history and attachments.

use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::workflow::TransitionInput;
use super::{AttachmentView, DocumentPatch, DocumentView, History, NewDocument};
use crate::app::App;
use crate::kernel::{AppError, AppResult};
use crate::web::api::{ApiRouter, Auth, Created, Json, download, multipart_error, read_part};
use crate::web::problem::{ApiJson, ApiMultipart, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_documents, create_document))
        .routes(routes!(get_document, update_document))
        .routes(routes!(document_transition))
        .routes(routes!(document_history))
        .routes(routes!(document_expressions))
        .routes(routes!(upload_attachment).layer(DefaultBodyLimit::disable()))
        .routes(routes!(download_attachment))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DocFilter {
    /// Only documents in this workflow state (a review queue).
    state: Option<String>,
}

/// A site's documents, newest first (staff of the site).
#[utoipa::path(get, path = "/sites/{id}/documents", tag = "documents", params(("id" = i64, Path), DocFilter),
    responses((status = 200, body = Vec<DocumentView>)))]
async fn list_documents(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<DocFilter>,
) -> AppResult<Json<Vec<DocumentView>>> {
    Ok(Json(app.list_documents(&actor, id, f.state.as_deref()).await?))
}

/// Writes a new document as a draft (editors).
#[utoipa::path(post, path = "/sites/{id}/documents", tag = "documents", params(("id" = i64, Path)),
    request_body = NewDocument, responses((status = 201, body = DocumentView)))]
async fn create_document(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<NewDocument>,
) -> AppResult<Created<DocumentView>> {
    let d = app.create_document(&actor, id, d).await?;
    Ok(Created(format!("/api/v1/documents/{}", d.id), d))
}

#[utoipa::path(get, path = "/documents/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = DocumentView)))]
async fn get_document(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(app.get_document(&actor, id).await?))
}

/// Edits the draft (or starts a new edition of a published document). A stale `version`
/// gets 409 and nothing is overwritten.
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents", params(("id" = i64, Path)),
    request_body = DocumentPatch, responses((status = 200, body = DocumentView)))]
async fn update_document(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<DocumentPatch>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(app.update_document(&actor, id, p).await?))
}

/// One workflow step: submit, approve (secrecy, then editorial), reject, unpublish.
#[utoipa::path(post, path = "/documents/{id}/transitions", tag = "documents", params(("id" = i64, Path)),
    request_body = TransitionInput, responses((status = 200, body = DocumentView)))]
async fn document_transition(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<TransitionInput>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(app.transition_document(&actor, id, t).await?))
}

/// Every recorded step, oldest first, and the editions.
#[utoipa::path(get, path = "/documents/{id}/history", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = History)))]
async fn document_history(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<History>> {
    Ok(Json(app.document_history(&actor, id).await?))
}

/// The 错敏词 check of the edition in hand (the draft, else the live one): every wrong,
/// sensitive and forbidden expression, by field, with the text around it.
#[utoipa::path(get, path = "/documents/{id}/expressions", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = super::checks::EditionCheck)))]
async fn document_expressions(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<super::checks::EditionCheck>> {
    Ok(Json(app.document_expressions(&actor, id).await?))
}

/// `multipart/form-data` with one part named `file`; checked by its content, not its name.
#[utoipa::path(post, path = "/documents/{id}/attachments", tag = "documents", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "一个名为 file 的文件"),
    responses((status = 201, body = AttachmentView)))]
async fn upload_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiMultipart(mut form): ApiMultipart,
) -> AppResult<Created<AttachmentView>> {
    let limit = app.config.max_attachment_bytes();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let bytes = read_part(field, limit).await.map_err(|e| match e {
            AppError::TooLarge(_) => AppError::TooLarge(format!("附件过大，上限 {} MB", app.config.max_attachment_mib)),
            e => e,
        })?;
        let a = app.add_attachment(&actor, id, &name, &bytes).await?;
        return Ok(Created(a.url.clone(), a));
    }
    Err(AppError::field("file", "required", "请选择要上传的文件（表单字段名 file）"))
}

/// An attachment's bytes (staff of its site).
#[utoipa::path(get, path = "/attachments/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, description = "附件本身", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn download_attachment(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let row = app.get_attachment(&actor, id).await?;
    let bytes = app.blobs.read(&row.sha256).await?;
    Ok(download(bytes, &row.media_type, &row.file_name))
}
