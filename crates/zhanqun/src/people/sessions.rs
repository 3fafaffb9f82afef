//! Admin UI sessions (a cookie holding a random token; only its hash is stored), with an
//! idle timeout and an absolute lifetime, each with its own CSRF token; and one-time form
//! tokens that make a double-submitted form act once. (Infrastructure writes, not commands:
//! nothing here is audited or emits events.)

use super::UserRow;
use super::auth::{random_token, token_hash};
use crate::app::App;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult};

/// A signed-in admin UI user.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub display_name: String,
    pub csrf: String,
    /// When the session ends however it is used (its absolute limit), Unix ms.
    pub expires_at: i64,
    /// Minutes without use after which it ends.
    pub idle_minutes: i64,
}

/// What a one-time form token says when it is presented.
pub enum FormClaim {
    /// First use: go ahead.
    Fresh,
    /// Used before, and that submission led here.
    Done(String),
    /// Unknown or another person's.
    Invalid,
}

impl App {
    /// Checks credentials and opens a session. Returns the cookie token.
    pub async fn start_session(
        &self,
        username: &str,
        password: &str,
        otp: Option<&str>,
        client: std::net::IpAddr,
    ) -> AppResult<String> {
        let user = self.verify_credentials(username, password, client).await?;
        self.second_factor(&user, otp, client).await?;
        self.open_session(&user, "password", client).await
    }

    /// Opens an admin session for `user`, signed in by `via` (`password` or `oidc`), and
    /// records the login; sessions past their end go at the same time. Returns the token.
    pub(crate) async fn open_session(&self, user: &UserRow, via: &str, client: std::net::IpAddr) -> AppResult<String> {
        let token = random_token();
        let now = now_ms();
        let mut w = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at, via) VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(random_token())
        .bind(now)
        .bind(now + self.config.session_max_hours * 3_600_000)
        .bind(via)
        .execute(w.conn())
        .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(w.conn()).await?;
        let kind = if via == "password" { "admin" } else { via };
        super::auth::record_login(w.conn(), user, kind, client).await?;
        w.commit().await?;
        Ok(token)
    }

    /// The session a cookie token belongs to, if it is still alive.
    pub async fn session(&self, token: &str) -> AppResult<Session> {
        let now = now_ms();
        let idle = self.config.session_idle_minutes * 60_000;
        let row: Option<(i64, String, i64, i64, String)> = sqlx::query_as(
            "SELECT user_id, csrf, last_seen_at, expires_at, via FROM sessions WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
        )
        .bind(token_hash(token))
        .bind(now)
        .bind(now - idle)
        .fetch_optional(&self.db.pool)
        .await?;
        let (user_id, csrf, last_seen, expires_at, via) =
            row.ok_or_else(|| AppError::Unauthorized("登录已过期，请重新登录".into()))?;
        if now - last_seen > 60_000 {
            let mut w = self.db.begin_write().await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash(token))
                .execute(w.conn())
                .await?;
            w.commit().await?;
        }
        let mut actor = self.actor_by_user_id(user_id).await?;
        if via == "oidc" {
            // Signed in at the city's identity provider, whose password and factors it
            // checked: the platform's own password rules and second factor do not apply.
            actor.must_change_password = false;
            actor.must_enroll_two_factor = false;
        }
        let display_name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(Session { actor, display_name, csrf, expires_at, idle_minutes: self.config.session_idle_minutes })
    }

    pub async fn end_session(&self, token: &str) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(w.conn()).await?;
        w.commit().await?;
        Ok(())
    }

    /// A new one-time token for a form that creates something ("" for the system itself).
    pub async fn new_form_token(&self, actor: &Actor) -> AppResult<String> {
        let Some(user_id) = actor.user_id else { return Ok(String::new()) };
        let token = random_token();
        let mut w = self.db.begin_write().await?;
        let now = now_ms();
        sqlx::query("DELETE FROM form_tokens WHERE created_at < $1")
            .bind(now - 7 * 86_400_000)
            .execute(w.conn())
            .await?;
        sqlx::query("INSERT INTO form_tokens (token, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(&token)
            .bind(user_id)
            .bind(now)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(token)
    }

    /// Presents a form token: the first presentation wins; a repeat learns where the first went.
    pub async fn claim_form_token(&self, token: &str, user_id: i64) -> AppResult<FormClaim> {
        for _ in 0..50 {
            let mut w = self.db.begin_write().await?;
            let n =
                sqlx::query("UPDATE form_tokens SET result = '' WHERE token = $1 AND user_id = $2 AND result IS NULL")
                    .bind(token)
                    .bind(user_id)
                    .execute(w.conn())
                    .await?
                    .rows_affected();
            w.commit().await?;
            if n == 1 {
                return Ok(FormClaim::Fresh);
            }
            let result: Option<Option<String>> =
                sqlx::query_scalar("SELECT result FROM form_tokens WHERE token = $1 AND user_id = $2")
                    .bind(token)
                    .bind(user_id)
                    .fetch_optional(&self.db.pool)
                    .await?;
            match result {
                None => return Ok(FormClaim::Invalid),
                Some(Some(r)) if !r.is_empty() => return Ok(FormClaim::Done(r)),
                // The first submission is still being handled.
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        Ok(FormClaim::Invalid)
    }

    /// Records where a form's first submission led (or frees the token after a refusal).
    pub async fn finish_form_token(&self, token: &str, result: Option<&str>) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        sqlx::query("UPDATE form_tokens SET result = $1 WHERE token = $2")
            .bind(result)
            .bind(token)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(())
    }
}
