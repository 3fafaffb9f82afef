//! `/api/v1/…/reposts`: reposting across the cluster.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::routes;

use super::{RepostInput, RepostOutcome, RepostView};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(reposts_of, repost))
        .routes(routes!(remove_repost))
        .routes(routes!(accept_repost))
        .routes(routes!(received))
}

/// Where a document was reposted to.
#[utoipa::path(get, path = "/documents/{id}/reposts", tag = "reposts", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RepostView>)))]
async fn reposts_of(
    State(app): State<App>,
    _signed_in: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<RepostView>>> {
    Ok(Json(app.reposts_of(id).await?))
}

/// Reposts a published document to chosen sites and/or every site of a kind, into a named
/// column of each; a document never goes back to a site that has it. Into a site below the
/// reposting site it is live at once; anywhere else it waits (`pending`) until the receiving
/// site accepts it.
#[utoipa::path(post, path = "/documents/{id}/reposts", tag = "reposts", params(("id" = i64, Path)),
    request_body = RepostInput, responses((status = 201, body = RepostOutcome)))]
async fn repost(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RepostInput>,
) -> AppResult<Created<RepostOutcome>> {
    let out = app.repost(&actor, id, i).await?;
    Ok(Created(format!("/api/v1/documents/{id}/reposts"), out))
}

/// Takes a repost off its receiving site (and what that site passed on).
#[utoipa::path(delete, path = "/reposts/{id}", tag = "reposts", params(("id" = i64, Path)),
    responses((status = 204, description = "已撤下")))]
async fn remove_repost(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.remove_repost(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The receiving site accepts a repost offered to it (its editorial reviewer or site
/// admin): from now on the receiving site shows it. A repost from a site above goes live
/// without this; to decline, delete it.
#[utoipa::path(post, path = "/reposts/{id}/accept", tag = "reposts", params(("id" = i64, Path)),
    responses((status = 200, body = RepostView)))]
async fn accept_repost(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RepostView>> {
    Ok(Json(app.accept_repost(&actor, id).await?))
}

/// What a site received, newest first, with those waiting for its acceptance.
#[utoipa::path(get, path = "/sites/{id}/received", tag = "reposts", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RepostView>)))]
async fn received(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<RepostView>>> {
    Ok(Json(app.received(&actor, id).await?))
}
