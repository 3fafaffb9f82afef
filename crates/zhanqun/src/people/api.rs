//! `/api/v1/auth`, `/me`, `/users` and the roles on a site.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::auth::IssuedToken;
use super::{NewUser, RoleGrant, UserView};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json, RawToken};
use crate::web::client::ClientAddr;
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(start_two_factor))
        .routes(routes!(confirm_two_factor))
        .routes(routes!(reset_two_factor))
        .routes(routes!(reset_password))
        .routes(routes!(list_users, create_user))
        .routes(routes!(disable_user))
        .routes(routes!(site_roles, grant_role))
        .routes(routes!(revoke_role))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginInput {
    username: String,
    password: String,
    /// How long the token lives, 1–168 hours (default from the configuration).
    ttl_hours: Option<i64>,
    /// The authenticator app's current code, or a recovery code, when the account has
    /// two-factor sign-in.
    otp: Option<String>,
}

/// Signs in and issues a bearer token. Every refusal with a password gets one answer (401);
/// after `login_failures_per_address` failures an address waits (429); `max_failed_logins`
/// failures in a row lock the account.
#[utoipa::path(post, path = "/auth/token", tag = "people", security(()), request_body = LoginInput,
    responses((status = 200, body = IssuedToken)))]
async fn login(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    ApiJson(i): ApiJson<LoginInput>,
) -> AppResult<Json<IssuedToken>> {
    Ok(Json(app.login(&i.username, &i.password, i.otp.as_deref(), i.ttl_hours, client).await?))
}

/// Revokes the token the request carries.
#[utoipa::path(delete, path = "/auth/token", tag = "people", responses((status = 204, description = "已注销")))]
async fn logout(State(app): State<App>, RawToken(token): RawToken) -> AppResult<StatusCode> {
    app.revoke_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct MyRole {
    site_id: i64,
    role: String,
    role_label: &'static str,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    /// At least 10 characters of three kinds (lower, upper, digits, symbols or Chinese); none
    /// of the last five.
    new_password: String,
}

/// Changes the caller's own password. Every other session and token of theirs ends; this
/// token stays. After a reset or when the password has expired, this is all a token can do.
#[utoipa::path(post, path = "/me/password", tag = "people", request_body = PasswordChange,
    responses((status = 204, description = "已修改")))]
async fn change_password(
    State(app): State<App>,
    Auth(actor): Auth,
    RawToken(token): RawToken,
    ApiJson(p): ApiJson<PasswordChange>,
) -> AppResult<StatusCode> {
    app.change_own_password(&actor, &p.current_password, &p.new_password, Some(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts two-factor sign-in: a new key for the authenticator app (not in force until
/// confirmed with a code).
#[utoipa::path(post, path = "/me/two-factor", tag = "people",
    responses((status = 201, body = crate::people::two_factor::Enrolment)))]
async fn start_two_factor(
    State(app): State<App>,
    Auth(actor): Auth,
) -> AppResult<(StatusCode, Json<crate::people::two_factor::Enrolment>)> {
    Ok((StatusCode::CREATED, Json(app.start_two_factor(&actor).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OtpInput {
    /// The six digits the app shows now.
    code: String,
}

/// Switches two-factor sign-in on with the app's current code; answers ten single-use
/// recovery codes, shown this once.
#[utoipa::path(post, path = "/me/two-factor/confirm", tag = "people", request_body = OtpInput,
    responses((status = 200, body = crate::people::two_factor::RecoveryCodes)))]
async fn confirm_two_factor(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<OtpInput>,
) -> AppResult<Json<crate::people::two_factor::RecoveryCodes>> {
    Ok(Json(app.confirm_two_factor(&actor, &i.code).await?))
}

/// Switches someone's two-factor sign-in off (the security administrator; a lost phone);
/// their sessions end and they enrol again.
#[utoipa::path(delete, path = "/users/{id}/two-factor", tag = "people", params(("id" = i64, Path)),
    responses((status = 204, description = "已重置")))]
async fn reset_two_factor(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    app.reset_two_factor(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordReset {
    new_password: String,
}

/// Sets a new password for someone (the security administrator); they must change it at
/// their next sign-in, and every session and token of theirs ends now.
#[utoipa::path(post, path = "/users/{id}/password", tag = "people", params(("id" = i64, Path)),
    request_body = PasswordReset, responses((status = 204, description = "已重置")))]
async fn reset_password(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PasswordReset>,
) -> AppResult<StatusCode> {
    app.reset_password(&actor, id, &p.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    user_id: Option<i64>,
    username: String,
    is_admin: bool,
    /// `security` or `audit` for those administrators (三员分立).
    duty: Option<crate::kernel::actor::Duty>,
    /// The password was reset or has expired: `POST /me/password` before anything else.
    must_change_password: bool,
    /// Two-factor sign-in is required of this account and not set up yet.
    must_enroll_two_factor: bool,
    roles: Vec<MyRole>,
}

/// Who the token belongs to, and their roles.
#[utoipa::path(get, path = "/me", tag = "people", responses((status = 200, body = Me)))]
async fn me(Auth(actor): Auth) -> AppResult<Json<Me>> {
    let roles = actor
        .roles
        .iter()
        .map(|(s, r)| MyRole { site_id: *s, role: r.as_str().into(), role_label: r.label() })
        .collect();
    Ok(Json(Me {
        user_id: actor.user_id,
        username: actor.name,
        is_admin: actor.is_admin,
        duty: actor.duty,
        must_change_password: actor.must_change_password,
        must_enroll_two_factor: actor.must_enroll_two_factor,
        roles,
    }))
}

#[utoipa::path(get, path = "/users", tag = "people", responses((status = 200, body = Vec<UserView>)))]
async fn list_users(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(app.list_users(&actor).await?))
}

/// Adds a person (system administrators).
#[utoipa::path(post, path = "/users", tag = "people", request_body = NewUser, responses((status = 201, body = UserView)))]
async fn create_user(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<NewUser>,
) -> AppResult<Created<UserView>> {
    let u = app.create_user(&actor, i).await?;
    Ok(Created(format!("/api/v1/users/{}", u.id), u))
}

/// Disables a person: their tokens and sessions stop at once; their records stay.
#[utoipa::path(post, path = "/users/{id}/disable", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = UserView)))]
async fn disable_user(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UserView>> {
    Ok(Json(app.disable_user(&actor, id).await?))
}

#[utoipa::path(get, path = "/sites/{id}/roles", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RoleGrant>)))]
async fn site_roles(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<RoleGrant>>> {
    Ok(Json(app.site_roles(&actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GrantInput {
    user_id: i64,
    /// `site_admin`, `editor`, `secrecy_reviewer` or `editorial_reviewer`.
    role: String,
}

/// Gives a person a role on a site (site admins of it or above).
#[utoipa::path(post, path = "/sites/{id}/roles", tag = "people", params(("id" = i64, Path)), request_body = GrantInput,
    responses((status = 201, body = RoleGrant)))]
async fn grant_role(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(g): ApiJson<GrantInput>,
) -> AppResult<Created<RoleGrant>> {
    let r = app.grant_role(&actor, id, g.user_id, &g.role).await?;
    Ok(Created(format!("/api/v1/sites/{id}/roles/{}/{}", r.user_id, r.role.as_str()), r))
}

#[utoipa::path(delete, path = "/sites/{id}/roles/{user_id}/{role}", tag = "people",
    params(("id" = i64, Path), ("user_id" = i64, Path), ("role" = String, Path)),
    responses((status = 204, description = "已撤销")))]
async fn revoke_role(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, user_id, role)): ApiPath<(i64, i64, String)>,
) -> AppResult<StatusCode> {
    app.revoke_role(&actor, id, user_id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}
