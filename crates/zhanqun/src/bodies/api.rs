//! `/api/v1/bodies`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::Body;
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_bodies, create_body))
        .routes(routes!(add_body_member))
        .routes(routes!(set_body_code))
        .routes(routes!(set_index_scheme))
}

/// Every body (public: the mailbox names them).
#[utoipa::path(get, path = "/bodies", tag = "bodies", security(()), responses((status = 200, body = Vec<Body>)))]
async fn list_bodies(State(app): State<App>) -> AppResult<Json<Vec<Body>>> {
    Ok(Json(app.list_bodies().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BodyInput {
    name: String,
    site_id: Option<i64>,
}

/// Adds a body (system administrators).
#[utoipa::path(post, path = "/bodies", tag = "bodies", request_body = BodyInput, responses((status = 201, body = Body)))]
async fn create_body(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<BodyInput>,
) -> AppResult<Created<Body>> {
    let b = app.create_body(&actor, &b.name, b.site_id).await?;
    Ok(Created(format!("/api/v1/bodies/{}", b.id), b))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberInput {
    user_id: i64,
}

/// Makes a person one of the body's letter handlers.
#[utoipa::path(post, path = "/bodies/{id}/members", tag = "bodies", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 204, description = "已加入")))]
async fn add_body_member(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> AppResult<StatusCode> {
    app.add_body_member(&actor, id, m.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    /// Organisation code (9) or unified social credit code (18), check character verified.
    code: String,
}

#[utoipa::path(put, path = "/bodies/{id}/code", tag = "bodies", params(("id" = i64, Path)), request_body = CodeInput,
    responses((status = 204, description = "已设置")))]
async fn set_body_code(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CodeInput>,
) -> AppResult<StatusCode> {
    app.set_body_code(&actor, id, &c.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SchemeInput {
    /// With `{code}`, `{yyyy}` and `{nnnnn}`; null for the national default.
    scheme: Option<String>,
}

#[utoipa::path(put, path = "/bodies/{id}/index-scheme", tag = "bodies", params(("id" = i64, Path)),
    request_body = SchemeInput, responses((status = 204, description = "已设置")))]
async fn set_index_scheme(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<SchemeInput>,
) -> AppResult<StatusCode> {
    app.set_body_index_scheme(&actor, id, i.scheme.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
