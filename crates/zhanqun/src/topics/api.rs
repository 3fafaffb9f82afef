//! `/api/v1/…/topics`.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{NewTopic, TopicView};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(site_topics, create_topic))
        .routes(routes!(get_topic))
        .routes(routes!(add_topic_item))
        .routes(routes!(close_topic))
}

/// A site's topics, open and closed (public).
#[utoipa::path(get, path = "/sites/{id}/topics", tag = "topics", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TopicView>)))]
async fn site_topics(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<Vec<TopicView>>> {
    Ok(Json(app.site_topics(id).await?))
}

/// Opens a topic; an emergency topic names its release procedure and hours.
#[utoipa::path(post, path = "/sites/{id}/topics", tag = "topics", params(("id" = i64, Path)), request_body = NewTopic,
    responses((status = 201, body = TopicView)))]
async fn create_topic(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<NewTopic>,
) -> AppResult<Created<TopicView>> {
    let t = app.create_topic(&actor, id, t).await?;
    Ok(Created(format!("/api/v1/topics/{}", t.id), t))
}

/// A topic with its timeline of published updates (public).
#[utoipa::path(get, path = "/topics/{id}", tag = "topics", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = TopicView)))]
async fn get_topic(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<TopicView>> {
    Ok(Json(app.topic(id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TopicItemInput {
    document_id: i64,
}

/// Adds a document of the site to the topic's timeline (shown once published).
#[utoipa::path(post, path = "/topics/{id}/items", tag = "topics", params(("id" = i64, Path)), request_body = TopicItemInput,
    responses((status = 200, body = TopicView)))]
async fn add_topic_item(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<TopicItemInput>,
) -> AppResult<Json<TopicView>> {
    Ok(Json(app.add_topic_item(&actor, id, i.document_id).await?))
}

#[utoipa::path(post, path = "/topics/{id}/close", tag = "topics", params(("id" = i64, Path)),
    responses((status = 200, body = TopicView)))]
async fn close_topic(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<TopicView>> {
    Ok(Json(app.close_topic(&actor, id).await?))
}
