//! A topic's page on its site.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use crate::app::App;
use crate::web::public::Visitor;

pub fn router() -> Router<App> {
    Router::new().route("/topics/{id}/", get(topic))
}

async fn topic(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    let Some(id) = id.parse::<i64>().ok() else { return v.missing(&app, "专题").await };
    match app.topic(id).await {
        Ok(t) if t.site_id == v.site.id => v.page(&app, StatusCode::OK, "topic.html", context! { t }).await,
        Ok(_) => v.missing(&app, "专题").await,
        Err(e) => v.lookup_failed(&app, "专题", e).await,
    }
}
