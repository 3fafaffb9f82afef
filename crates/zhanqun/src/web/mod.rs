//! The web shell: it assembles every capability's routers — the JSON API under `/api/v1`,
//! the admin UI under `/admin`, the public sites by `Host` — and adds what all of them
//! share (body limits, panics as 500 problems, tracing, the browser security headers).

pub mod admin;
pub mod api;
pub mod client;
pub mod headers;
pub mod problem;
pub mod public;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::kernel::AppError;

/// The whole HTTP application: cached public pages answered first, the rest routed.
pub fn service(app: App) -> public::CachedFirst {
    public::CachedFirst { app: app.clone(), router: router(app), peer: None }
}

/// Every route of every capability, with the layers they share; the sites' own pages are
/// its fallback.
fn router(app: App) -> Router {
    let json_limit = app.config.max_json_kib.saturating_mul(1024);
    Router::new()
        .merge(api::router())
        .merge(admin::router())
        .merge(crate::mailbox::public::router())
        .merge(crate::participation::public::router())
        .merge(crate::disclosure::public::router())
        .merge(crate::topics::public::router())
        // The sites' own pages (the fallback) go without the tracing layer; their cache hits
        // do not reach the router at all.
        .route_layer(TraceLayer::new_for_http())
        .fallback(public::fallback)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(axum::middleware::from_fn(headers::layer))
        .with_state(app)
}
