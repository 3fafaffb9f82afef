//! `/api/v1/staff/…` (people responsible and their training) and
//! `/api/v1/sites/{id}/contracts` (outsourced operation).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{BodyPeople, Contract, ContractInput, Person, PersonInput, TrainingInput};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(people))
        .routes(routes!(add_person))
        .routes(routes!(retire_person))
        .routes(routes!(record_training))
        .routes(routes!(site_contracts, add_contract))
        .routes(routes!(all_contracts))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct YearQuery {
    /// The year whose training is checked (default: the year due now — in January the
    /// year just ended).
    year: Option<i32>,
}

/// Every body with its information officers, supervisors and staff, their training and
/// whether each was trained in the year; bodies that have not named an officer or a
/// supervisor say so (signed in).
#[utoipa::path(get, path = "/staff", tag = "staff", params(YearQuery), responses((status = 200, body = Vec<BodyPeople>)))]
async fn people(
    State(app): State<App>,
    _signed_in: Auth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Vec<BodyPeople>>> {
    let year = q.year.unwrap_or_else(App::training_year_due).clamp(2000, 2100);
    Ok(Json(app.people_records(year).await?))
}

/// Names a person of a body (the web office).
#[utoipa::path(post, path = "/bodies/{id}/staff", tag = "staff", params(("id" = i64, Path)),
    request_body = PersonInput, responses((status = 201, body = Person)))]
async fn add_person(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PersonInput>,
) -> AppResult<Created<Person>> {
    let p = app.add_person(&actor, id, p).await?;
    Ok(Created("/api/v1/staff".into(), p))
}

/// Takes a person off the records; their training stays on record (the web office).
#[utoipa::path(delete, path = "/staff/{id}", tag = "staff", params(("id" = i64, Path)),
    responses((status = 204, description = "已移出")))]
async fn retire_person(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.retire_person(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a training the person attended (the web office).
#[utoipa::path(post, path = "/staff/{id}/trainings", tag = "staff", params(("id" = i64, Path)),
    request_body = TrainingInput, responses((status = 201, body = Person)))]
async fn record_training(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<TrainingInput>,
) -> AppResult<Created<Person>> {
    let p = app.record_training(&actor, id, t).await?;
    Ok(Created("/api/v1/staff".into(), p))
}

/// A site's outsourcing contracts (its staff and the web office).
#[utoipa::path(get, path = "/sites/{id}/contracts", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Contract>)))]
async fn site_contracts(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Contract>>> {
    Ok(Json(app.contracts(&actor, Some(id)).await?))
}

/// Records an outsourcing contract (the site's admins).
#[utoipa::path(post, path = "/sites/{id}/contracts", tag = "staff", params(("id" = i64, Path)),
    request_body = ContractInput, responses((status = 201, body = Contract)))]
async fn add_contract(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<ContractInput>,
) -> AppResult<Created<Contract>> {
    let c = app.add_contract(&actor, id, c).await?;
    Ok(Created(format!("/api/v1/sites/{id}/contracts"), c))
}

/// Every contract the caller may see, the soonest to end first; `status` says which are
/// ending within 60 days or have ended.
#[utoipa::path(get, path = "/contracts", tag = "staff", responses((status = 200, body = Vec<Contract>)))]
async fn all_contracts(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json<Vec<Contract>>> {
    Ok(Json(app.contracts(&actor, None).await?))
}
