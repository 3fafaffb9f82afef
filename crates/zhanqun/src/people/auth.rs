//! Passwords (argon2id), lock-out after repeated failures, and bearer tokens.

use std::net::IpAddr;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zhanqun_domain::workflow::Role;

use super::UserRow;
use crate::app::App;
use crate::kernel::audit::{self, Audit};
use crate::kernel::time::{fmt_local, fmt_time, now_ms};
use crate::kernel::{Actor, AppError, AppResult};

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
}

pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a random password, verified against when the user does not exist so that a
/// wrong user name takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::default();
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"not a password anyone has", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Rules a new password must meet.
pub fn check_password_strength(pw: &str) -> AppResult<()> {
    let n = pw.chars().count();
    if n < 10 {
        return Err(AppError::field("password", "min_length", "密码至少 10 个字符"));
    }
    if n > 256 {
        return Err(AppError::field("password", "max_length", "密码不能超过 256 个字符"));
    }
    // Three of four kinds: lower-case, upper-case, digits, anything else (symbols, Chinese).
    let kinds = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if kinds.iter().filter(|&&k| k).count() < 3 {
        return Err(AppError::field(
            "password",
            "complexity",
            "密码须包含小写字母、大写字母、数字、符号（或汉字）中的至少三类",
        ));
    }
    Ok(())
}

/// Hex SHA-256 of a token: tokens are stored only as hashes.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 32 random bytes, URL-safe, with a prefix that makes leaked tokens easy to spot.
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("zq_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// The person an entry about their own sign-in names (no rights: they are not signed in).
fn who_failed(user: &UserRow) -> Actor {
    Actor { user_id: Some(user.id), ..Actor::public(&user.username) }
}

/// A refused sign-in in the trail: whose (`user_id` 0 for an unknown name), why, from where.
async fn record_login_failure(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    user_id: i64,
    detail: serde_json::Value,
) -> AppResult<()> {
    audit::write(conn, actor, Audit::event(None, "user", user_id, "login_failed", detail)).await
}

/// A successful login in the trail: who, through what (`admin` or `api`), from where.
pub(crate) async fn record_login(
    conn: &mut sqlx::AnyConnection,
    user: &UserRow,
    via: &str,
    client: IpAddr,
) -> AppResult<()> {
    audit::write(
        conn,
        &who_failed(user),
        Audit::event(None, "user", user.id, "login", serde_json::json!({"via": via, "address": client.to_string()})),
    )
    .await
}

/// The one answer to every refused login with a password, whatever the reason.
pub const LOGIN_REFUSED: &str = "用户名或密码错误，或账号已锁定、停用";

/// The longest an API token may live: a week (a leaked token is good for no longer).
pub const MAX_TOKEN_HOURS: i64 = 24 * 7;

/// A freshly issued bearer token.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: String,
}

impl App {
    /// Checks a user name and password from a client at `client`.
    ///
    /// An address with `login_failures_per_address` recent failures is refused before any
    /// password is looked at (429, naming the address's wait, not the account). Otherwise
    /// unknown, wrong, locked and disabled all get one answer and take one password check's
    /// time, so the answer says nothing about the account. Failures count per address and
    /// per account; `max_failed_logins` in a row, from any addresses, lock the account for
    /// `lockout_minutes`. The hash is checked on a blocking thread, outside any transaction.
    pub async fn verify_credentials(&self, username: &str, password: &str, client: IpAddr) -> AppResult<UserRow> {
        let refused = || AppError::Unauthorized(LOGIN_REFUSED.into());
        let key = client.to_string();
        if self.login_limiter.exhausted(&key) {
            let until = self.login_limiter.window_end(&key).unwrap_or_else(now_ms);
            return Err(AppError::TooManyAttempts(format!(
                "从您的网络地址登录失败次数过多，请于 {} 后再试",
                fmt_local(until)
            )));
        }
        let now = now_ms();
        let user: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.db.pool)
            .await?;
        let pw = password.to_string();
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("checking a password: {e}")))?;
        let Some(user) = user else {
            self.login_limiter.allow(&key);
            let tried: String = username.chars().take(64).collect();
            let mut w = self.db.begin_write().await?;
            let detail = serde_json::json!({"username": tried, "address": client.to_string(), "why": "unknown"});
            record_login_failure(w.conn(), &Actor::public("未知账号"), 0, detail).await?;
            w.commit().await?;
            return Err(refused());
        };
        let locked = user.locked_until.is_some_and(|u| u > now);
        if !ok {
            self.login_limiter.allow(&key);
            if !locked {
                self.count_failed_login(&user, client, now).await?;
            }
            return Err(refused());
        }
        if locked || user.disabled != 0 {
            // The right password: the address is not guessing, so it is not counted.
            return Err(refused());
        }
        if user.failed_logins != 0 {
            let mut w = self.db.begin_write().await?;
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user.id)
                .execute(w.conn())
                .await?;
            w.commit().await?;
        }
        Ok(user)
    }

    /// The second factor, when the account has one; a wrong or missing code counts as a
    /// failure of the address and is recorded.
    pub(crate) async fn second_factor(&self, user: &UserRow, otp: Option<&str>, client: IpAddr) -> AppResult<()> {
        let Err(e) = self.check_second_factor(user, otp).await else { return Ok(()) };
        if otp.is_some_and(|o| !o.trim().is_empty()) {
            self.login_limiter.allow(&client.to_string());
            let mut w = self.db.begin_write().await?;
            let detail = serde_json::json!({"address": client.to_string(), "why": "second_factor"});
            record_login_failure(w.conn(), &who_failed(user), user.id, detail).await?;
            w.commit().await?;
        }
        Err(e)
    }

    /// One more failure in a row for `user`; at `max_failed_logins` the account locks.
    async fn count_failed_login(&self, user: &UserRow, client: IpAddr, now: i64) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        let failed: i64 = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(user.id)
        .fetch_one(w.conn())
        .await?;
        let detail = serde_json::json!({"address": client.to_string(), "why": "password", "in_a_row": failed});
        record_login_failure(w.conn(), &who_failed(user), user.id, detail).await?;
        if failed >= self.config.max_failed_logins {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                .bind(now + self.config.lockout_minutes * 60_000)
                .bind(user.id)
                .execute(w.conn())
                .await?;
            let actor = who_failed(user);
            audit::write(
                w.conn(),
                &actor,
                Audit::event(
                    None,
                    "user",
                    user.id,
                    "locked",
                    serde_json::json!({"failed_logins": failed, "last_address": client.to_string()}),
                )
                .saying("连续登录失败，账号锁定"),
            )
            .await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Checks credentials and issues an API token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        otp: Option<&str>,
        ttl_hours: Option<i64>,
        client: IpAddr,
    ) -> AppResult<IssuedToken> {
        let ttl = ttl_hours.unwrap_or(self.config.token_ttl_hours.min(MAX_TOKEN_HOURS));
        if !(1..=MAX_TOKEN_HOURS).contains(&ttl) {
            return Err(AppError::field(
                "ttl_hours",
                "range",
                format!("令牌有效期应为 1 到 {MAX_TOKEN_HOURS} 小时（最长 7 天）"),
            ));
        }
        let user = self.verify_credentials(username, password, client).await?;
        self.second_factor(&user, otp, client).await?;
        let token = random_token();
        let now = now_ms();
        let expires = now + ttl * 3_600_000;
        let mut w = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id)
        .bind(token_hash(&token))
        .bind("api")
        .bind(now)
        .bind(expires)
        .execute(w.conn())
        .await?;
        record_login(w.conn(), &user, "api", client).await?;
        w.commit().await?;
        Ok(IssuedToken { token, expires_at: fmt_time(expires) })
    }

    /// Resolves a bearer token to the person it belongs to, with their roles.
    pub async fn actor_for_token(&self, token: &str) -> AppResult<Actor> {
        let mut c = self.db.pool.acquire().await?;
        let user: Option<UserRow> = sqlx::query_as(
            "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash(token))
        .bind(now_ms())
        .fetch_optional(&mut *c)
        .await?;
        let user = user.ok_or_else(|| AppError::Unauthorized("登录已过期或令牌无效，请重新登录".into()))?;
        self.actor_for_user(&mut c, user).await
    }

    /// The actor for a (not disabled) user id, with their roles.
    pub async fn actor_by_user_id(&self, id: i64) -> AppResult<Actor> {
        let mut c = self.db.pool.acquire().await?;
        let user: UserRow = sqlx::query_as("SELECT * FROM users WHERE id = $1 AND disabled = 0")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| AppError::Unauthorized("账号不存在或已停用".into()))?;
        self.actor_for_user(&mut c, user).await
    }

    pub(crate) async fn actor_for_user(&self, c: &mut sqlx::AnyConnection, user: UserRow) -> AppResult<Actor> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT site_id, role FROM site_roles WHERE user_id = $1")
            .bind(user.id)
            .fetch_all(c)
            .await?;
        let roles = rows
            .into_iter()
            .map(|(s, r)| Role::try_from(r).map(|r| (s, r)).map_err(|e| AppError::Internal(e.into())))
            .collect::<AppResult<Vec<_>>>()?;
        let duty = user.duty.as_deref().and_then(crate::kernel::actor::Duty::parse);
        let must_change_password = self.password_due(&user);
        let mut actor = Actor {
            user_id: Some(user.id),
            name: user.username,
            is_admin: user.is_admin != 0,
            duty,
            roles,
            must_change_password,
            must_enroll_two_factor: false,
        };
        actor.must_enroll_two_factor =
            self.config.two_factor == "staff" && user.totp_enabled == 0 && super::two_factor::is_staff(&actor);
        Ok(actor)
    }

    /// Revokes one token (log out).
    pub async fn revoke_token(&self, token: &str) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE token_hash = $2 AND expires_at > $1")
            .bind(now_ms())
            .bind(token_hash(token))
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("正确的密码 horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码 horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert_ne!(h, hash_password("正确的密码 horse battery").unwrap(), "salted");
    }
}
