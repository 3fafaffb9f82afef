//! People and access: accounts, passwords and lock-out, bearer tokens, admin sessions, and
//! the roles people hold on sites.

pub mod admin;
pub mod api;
pub mod auth;
pub mod oidc;
pub mod passwords;
pub mod sessions;
pub mod two_factor;
pub mod users;

use sqlx::FromRow;

pub use users::{NewUser, RoleGrant, SitePowers, UserView};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: i64,
    pub disabled: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub created_at: i64,
    /// `security` or `audit` (三员分立); the system administrator is `is_admin`.
    pub duty: Option<String>,
    /// Set by a reset: the next sign-in must choose a new password first.
    pub must_change_password: i64,
    pub password_changed_at: Option<i64>,
    pub totp_secret: Option<String>,
    pub totp_enabled: i64,
    pub totp_last_step: i64,
}
