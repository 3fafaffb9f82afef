//! `/api/v1/expressions`: the list of wrong and sensitive expressions (错敏词) and the check
//! of a text against it.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{CheckResult, Expression, ExpressionInput};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_expressions, create_expression))
        .routes(routes!(update_expression, delete_expression))
        .routes(routes!(check_text))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `wrong`, `sensitive` or `forbidden`.
    kind: Option<String>,
    /// A part of the word or of its suggestion.
    q: Option<String>,
}

/// The list, by kind and word (signed-in staff).
#[utoipa::path(get, path = "/expressions", tag = "expressions", params(ListQuery),
    responses((status = 200, body = Vec<Expression>)))]
async fn list_expressions(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<Expression>>> {
    Ok(Json(app.list_expressions(&actor, q.kind.as_deref(), q.q.as_deref()).await?))
}

/// Adds an expression (system administrators).
#[utoipa::path(post, path = "/expressions", tag = "expressions", request_body = ExpressionInput,
    responses((status = 201, body = Expression)))]
async fn create_expression(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<ExpressionInput>,
) -> AppResult<Created<Expression>> {
    let x = app.create_expression(&actor, &i).await?;
    Ok(Created(format!("/api/v1/expressions/{}", x.id), x))
}

/// Changes an expression (system administrators).
#[utoipa::path(put, path = "/expressions/{id}", tag = "expressions", params(("id" = i64, Path)),
    request_body = ExpressionInput, responses((status = 200, body = Expression)))]
async fn update_expression(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ExpressionInput>,
) -> AppResult<Json<Expression>> {
    Ok(Json(app.update_expression(&actor, id, &i).await?))
}

/// Removes an expression (system administrators).
#[utoipa::path(delete, path = "/expressions/{id}", tag = "expressions", params(("id" = i64, Path)),
    responses((status = 204, description = "已从词库删除")))]
async fn delete_expression(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    app.delete_expression(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckInput {
    /// The text to check (plain text; up to 1,000,000 characters).
    text: String,
}

/// Every expression of the list in a text: where (character offsets), which, its kind and
/// suggestion (signed-in staff).
#[utoipa::path(post, path = "/expressions/check", tag = "expressions", request_body = CheckInput,
    responses((status = 200, body = CheckResult)))]
async fn check_text(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<CheckInput>,
) -> AppResult<Json<CheckResult>> {
    Ok(Json(app.check_expressions(&actor, &i.text).await?))
}
