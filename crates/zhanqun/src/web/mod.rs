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
    public::CachedFirst { app: app.clone(), router: router(app), peer: None, admin_door: false }
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
        .merge(crate::corrections::public::router())
        .merge(crate::monitor::public::router())
        .merge(crate::annual::public::router())
        .merge(crate::disclosure::public::router())
        .merge(crate::topics::public::router())
        .route("/assets/{file}", axum::routing::get(public::asset))
        // The sites' own pages (the fallback) go without the tracing layer; their cache hits
        // do not reach the router at all.
        .route_layer(TraceLayer::new_for_http())
        .fallback(public::fallback)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(axum::middleware::from_fn_with_state(app.clone(), record_refusals))
        .layer(axum::middleware::from_fn_with_state(app.clone(), admin_reach))
        .layer(axum::middleware::from_fn(headers::layer))
        .layer(axum::middleware::from_fn(note_slow))
        .with_state(app)
}

/// Answers slower than this are logged as warnings, whatever the log level of the tracing
/// layer: a stall shows up in the operators' log (and in CI's attack suite) with its path.
const SLOW: std::time::Duration = std::time::Duration::from_secs(1);

async fn note_slow(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let r = next.run(req).await;
    let took = started.elapsed();
    if took >= SLOW {
        tracing::warn!(%method, %path, status = r.status().as_u16(), ms = took.as_millis() as u64, "slow answer");
    }
    r
}

/// Who a request turned out to be, as the API's and the admin's extractors learn it; read
/// after the answer by [`record_refusals`].
#[derive(Clone, Default)]
pub struct Signer(std::sync::Arc<std::sync::Mutex<Option<crate::kernel::Actor>>>);

impl Signer {
    /// Notes the signed-in actor of this request.
    pub fn note(parts: &axum::http::request::Parts, actor: &crate::kernel::Actor) {
        if let Some(s) = parts.extensions.get::<Signer>()
            && let Ok(mut slot) = s.0.lock()
        {
            *slot = Some(actor.clone());
        }
    }
}

/// Every refusal of a signed-in person (403) goes into the audit trail with what they
/// tried (等保 level 3: permission refusals are audited).
async fn record_refusals(
    axum::extract::State(app): axum::extract::State<App>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let signer = Signer::default();
    req.extensions_mut().insert(signer.clone());
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let r = next.run(req).await;
    if r.status() == axum::http::StatusCode::FORBIDDEN {
        let actor = signer.0.lock().ok().and_then(|mut a| a.take());
        if let Some(actor) = actor {
            let written = async {
                let mut w = app.db.begin_write().await.map_err(AppError::from)?;
                crate::kernel::audit::write(
                    w.conn(),
                    &actor,
                    crate::kernel::Audit::event(
                        None,
                        "access",
                        0,
                        "refused",
                        serde_json::json!({"method": method, "path": path}),
                    ),
                )
                .await?;
                w.commit().await.map_err(AppError::from)
            };
            if let Err::<(), AppError>(e) = written.await {
                tracing::warn!(error = %e, "recording a refusal");
            }
        }
    }
    r
}

/// The admin UI answers only where the configuration puts it: on `admin_hosts` (when
/// given) and on the `admin_listen` address (when given). Anywhere else `/admin/` does not
/// exist, so the public hosts never show even its login page.
async fn admin_reach(
    axum::extract::State(app): axum::extract::State<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if headers::Area::of(req.uri().path()) == headers::Area::Admin {
        let c = &app.config;
        let door = req.extensions().get::<public::AdminDoor>().is_some_and(|d| d.0);
        let host = req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(h, |(h, _)| h))
            .unwrap_or("")
            .to_ascii_lowercase();
        let host_ok = c.admin_hosts.is_empty() || c.admin_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
        if !host_ok || (c.admin_listen.is_some() && !door) {
            return public::plain_page(axum::http::StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在。");
        }
    }
    next.run(req).await
}
