//! HTTP: the JSON API under `/api/v1` and the health check. The public sites and the
//! admin UI join here later.

pub mod admin;
pub mod api;
pub mod mailbox;
pub mod participation;
pub mod problem;
pub mod public;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::app::{Actor, App};
use crate::error::AppError;

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let json_limit = app.config.max_json_kib.saturating_mul(1024);
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .nest("/api/v1", api::router(&app))
        .nest("/admin", admin::router(&app))
        .route("/admin/", axum::routing::get(admin::dashboard))
        .route(
            "/mailbox/",
            axum::routing::get(mailbox::index)
                .post(mailbox::submit)
                .layer(DefaultBodyLimit::max(app.config.max_attachment_bytes().saturating_add(1024 * 1024))),
        )
        .route("/mailbox/track", axum::routing::get(mailbox::track_form).post(mailbox::track))
        .route("/mailbox/rate", axum::routing::post(mailbox::rate))
        .route("/mailbox/letters/{file}", axum::routing::get(mailbox::letter))
        .route("/mailbox/stats", axum::routing::get(mailbox::stats))
        .route("/consultations/", axum::routing::get(participation::consultations))
        .route("/consultations/{id}/", axum::routing::get(participation::consultation).post(participation::comment))
        .route("/surveys/{id}/", axum::routing::get(participation::survey).post(participation::answer))
        .route("/surveys/{id}/results", axum::routing::get(participation::results))
        .route("/interviews/", axum::routing::get(participation::interviews))
        .route("/catalog/", axum::routing::get(participation::catalog))
        .route("/topics/{id}/", axum::routing::get(participation::topic))
        .route("/catalog.csv", axum::routing::get(participation::catalog_csv))
        .route("/catalog.json", axum::routing::get(participation::catalog_json))
        .route("/catalog/bodies/{id}/guide", axum::routing::get(participation::body_guide))
        .route("/catalog/bodies/{id}/annual-reports/", axum::routing::get(participation::body_reports))
        .route("/catalog/feed.atom", axum::routing::get(participation::catalog_feed))
        .route("/interviews/{id}/", axum::routing::get(participation::interview).post(participation::ask))
        .fallback(public::public)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> axum::response::Response {
    match tokio::time::timeout(Duration::from_secs(3), app.db.ping()).await {
        Ok(Ok(())) => {
            axum::Json(serde_json::json!({"status": "ok", "database": app.db.backend.name()})).into_response()
        }
        _ => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable", "database": app.db.backend.name()})),
        )
            .into_response(),
    }
}

/// The signed-in caller, from `Authorization: Bearer TOKEN`.
pub struct Auth(pub Actor);

/// The raw bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The bearer token itself, for logging out.
pub struct RawToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RawToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        bearer(parts)
            .map(|t| RawToken(t.to_string()))
            .ok_or_else(|| AppError::Unauthorized("缺少 Authorization: Bearer 令牌".into()))
    }
}

impl FromRequestParts<App> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let token =
            bearer(parts).ok_or_else(|| AppError::Unauthorized("请先登录：缺少 Authorization: Bearer 令牌".into()))?;
        app.actor_for_token(token).await.map(Auth)
    }
}
