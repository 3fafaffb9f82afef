//! `/api/v1`: disclosure metadata, interpretation links, the subject list, the catalog and
//! each body's guide and reports.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::catalog::{BodyDocs, CatalogEntry, CatalogFilter};
use super::interpretations::LinkView;
use super::subjects::{SubjectInput, SubjectNode, SubjectPatch};
use super::{Disclosure, DisclosureInput};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(set_disclosure))
        .routes(routes!(link_interpretation))
        .routes(routes!(unlink_interpretation))
        .routes(routes!(interpretation_links))
        .routes(routes!(list_subjects, add_subject))
        .routes(routes!(update_subject))
        .routes(routes!(body_docs))
        .routes(routes!(catalog))
}

/// Sets a document's disclosure metadata; all broken rules are reported together.
#[utoipa::path(put, path = "/documents/{id}/disclosure", tag = "disclosure", params(("id" = i64, Path)),
    request_body = DisclosureInput, responses((status = 200, body = Disclosure)))]
async fn set_disclosure(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DisclosureInput>,
) -> AppResult<Json<Disclosure>> {
    Ok(Json(app.set_disclosure(&actor, id, d).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct InterpretsInput {
    policy_id: i64,
    /// `text` (default), `graphic`, `interview`, `video` or `response`.
    #[serde(default = "text_kind")]
    kind: String,
}

fn text_kind() -> String {
    "text".into()
}

/// Links this interpretation (or response) to the policy it concerns.
#[utoipa::path(post, path = "/documents/{id}/interprets", tag = "disclosure", params(("id" = i64, Path)),
    request_body = InterpretsInput, responses((status = 204, description = "已关联")))]
async fn link_interpretation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<InterpretsInput>,
) -> AppResult<StatusCode> {
    app.link_interpretation(&actor, id, i.policy_id, &i.kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/documents/{id}/interprets/{policy_id}", tag = "disclosure",
    params(("id" = i64, Path), ("policy_id" = i64, Path)), responses((status = 204, description = "已取消关联")))]
async fn unlink_interpretation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, policy)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    app.unlink_interpretation(&actor, id, policy).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The links a document is part of, at either end.
#[utoipa::path(get, path = "/documents/{id}/interpretation-links", tag = "disclosure", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<LinkView>)))]
async fn interpretation_links(
    State(app): State<App>,
    _signed_in: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<LinkView>>> {
    Ok(Json(app.interpretation_links(id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct SubjectsQuery {
    #[serde(default)]
    include_retired: bool,
}

/// The subject list as a tree (public).
#[utoipa::path(get, path = "/subjects", tag = "disclosure", security(()), params(SubjectsQuery),
    responses((status = 200, body = Vec<SubjectNode>)))]
async fn list_subjects(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<SubjectsQuery>,
) -> AppResult<Json<Vec<SubjectNode>>> {
    Ok(Json(app.subjects(q.include_retired).await?))
}

/// Adds a category (system administrators).
#[utoipa::path(post, path = "/subjects", tag = "disclosure", request_body = SubjectInput,
    responses((status = 201, body = SubjectNode)))]
async fn add_subject(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<SubjectInput>,
) -> AppResult<Created<SubjectNode>> {
    let s = app.add_subject(&actor, i).await?;
    Ok(Created(format!("/api/v1/subjects/{}", s.id), s))
}

/// Renames (the documents filed under it follow) or retires a category.
#[utoipa::path(patch, path = "/subjects/{id}", tag = "disclosure", params(("id" = i64, Path)), request_body = SubjectPatch,
    responses((status = 204, description = "已更新")))]
async fn update_subject(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<SubjectPatch>,
) -> AppResult<StatusCode> {
    app.update_subject(&actor, id, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A body's disclosure guide and annual reports (public).
#[utoipa::path(get, path = "/bodies/{id}/disclosure-documents", tag = "disclosure", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = BodyDocs)))]
async fn body_docs(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> AppResult<Json<BodyDocs>> {
    Ok(Json(app.body_disclosure_docs(id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct CatalogQuery {
    /// One site's part; the whole city when absent.
    site: Option<i64>,
    body: Option<i64>,
    subject: Option<String>,
    year: Option<i32>,
    validity: Option<String>,
    doc_type: Option<String>,
    genre: Option<String>,
    /// 100 entries a page.
    page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct CatalogPage {
    total: i64,
    page: i64,
    entries: Vec<CatalogEntry>,
}

/// The disclosure catalog (public), 100 entries a page.
#[utoipa::path(get, path = "/catalog", tag = "disclosure", security(()), params(CatalogQuery),
    responses((status = 200, body = CatalogPage)))]
async fn catalog(State(app): State<App>, ApiQuery(q): ApiQuery<CatalogQuery>) -> AppResult<Json<CatalogPage>> {
    let f = CatalogFilter {
        body: q.body,
        subject: q.subject,
        year: q.year,
        validity: q.validity,
        doc_type: q.doc_type,
        genre: q.genre,
    };
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (total, entries) = app.catalog(q.site, &f, 100, (page - 1) * 100).await?;
    Ok(Json(CatalogPage { total, page, entries }))
}
