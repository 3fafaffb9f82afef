//! `/api/v1/sites`: the registry.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{NewSite, SitePatch, SiteView};
use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::audit::AuditView;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site, update_site))
        .routes(routes!(site_transition))
        .routes(routes!(site_audit))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct SiteFilter {
    /// Only sites whose domain breaks a rule of the current configuration.
    #[serde(default)]
    noncompliant: bool,
}

/// Every site of the cluster.
#[utoipa::path(get, path = "/sites", tag = "sites", params(SiteFilter),
    responses((status = 200, body = Vec<SiteView>)))]
async fn list_sites(
    State(app): State<App>,
    _signed_in: Auth,
    ApiQuery(f): ApiQuery<SiteFilter>,
) -> AppResult<Json<Vec<SiteView>>> {
    Ok(Json(app.list_sites(f.noncompliant).await?))
}

/// Applies for a new site (state `applied`).
#[utoipa::path(post, path = "/sites", tag = "sites", request_body = NewSite,
    responses((status = 201, body = SiteView, headers(("location" = String)))))]
async fn create_site(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<NewSite>,
) -> AppResult<Created<SiteView>> {
    let s = app.create_site(&actor, i).await?;
    Ok(Created(format!("/api/v1/sites/{}", s.id), s))
}

#[utoipa::path(get, path = "/sites/{id}", tag = "sites", params(("id" = i64, Path, description = "站点编号")),
    responses((status = 200, body = SiteView)))]
async fn get_site(State(app): State<App>, _signed_in: Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json<SiteView>> {
    Ok(Json(app.get_site(id).await?))
}

/// Changes a site's labels or domains; `version` must be the current one (else 409).
#[utoipa::path(patch, path = "/sites/{id}", tag = "sites", params(("id" = i64, Path)), request_body = SitePatch,
    responses((status = 200, body = SiteView)))]
async fn update_site(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<SitePatch>,
) -> AppResult<Json<SiteView>> {
    Ok(Json(app.update_site(&actor, id, p).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SiteTransition {
    /// `approve`, `register`, `online`, `suspend`, `resume` or `close`.
    action: String,
    #[serde(default)]
    comment: String,
}

/// Moves a site along its lifecycle (system administrators, or site admins above it).
#[utoipa::path(post, path = "/sites/{id}/transitions", tag = "sites", params(("id" = i64, Path)),
    request_body = SiteTransition, responses((status = 200, body = SiteView)))]
async fn site_transition(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<SiteTransition>,
) -> AppResult<Json<SiteView>> {
    Ok(Json(app.transition_site(&actor, id, &t.action, t.comment.trim()).await?))
}

/// The site's audit trail, oldest first.
#[utoipa::path(get, path = "/sites/{id}/audit", tag = "sites", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AuditView>)))]
async fn site_audit(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<AuditView>>> {
    Ok(Json(app.site_audit(&actor, id).await?))
}
