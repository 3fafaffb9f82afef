//! Changing passwords: by their owner (with the current one), reset by the security
//! administrator (the person must then choose a new one at the next sign-in), at the
//! console. A new password meets the strength rules, is none of the last five, and ends
//! every other session and token of the person. Passwords expire after
//! `password_max_age_days`; an expired or reset password lets its owner do nothing but
//! choose a new one.

use super::UserRow;
use super::auth::{check_password_strength, hash_password, verify_password};
use crate::app::App;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// How many earlier passwords a new one may not repeat.
const HISTORY: i64 = 5;

impl App {
    /// Whether `user` must choose a new password before anything else (reset, or expired).
    pub fn password_due(&self, user: &UserRow) -> bool {
        let max_age = self.config.password_max_age_days;
        user.must_change_password != 0
            || (max_age > 0
                && user.password_changed_at.is_some_and(|t| now_ms() - t > max_age.saturating_mul(86_400_000)))
    }

    /// The person changes their own password, proving the current one. `keep_token` (the
    /// hash of the token or session the change came through) stays valid; every other
    /// session and token of theirs ends.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_token: Option<&str>,
    ) -> AppResult<()> {
        let user_id = actor.user_id.ok_or_else(|| AppError::Forbidden("只有登录的人员才能修改密码".into()))?;
        let user: UserRow =
            sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(user_id).fetch_one(&self.db.pool).await?;
        let (cur, hash) = (current.to_string(), user.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_password(&cur, &hash))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("checking a password: {e}")))?;
        if !ok {
            return Err(AppError::field("current_password", "wrong", "当前密码不正确"));
        }
        if current == new {
            return Err(AppError::field("new_password", "reused", "新密码不能与当前密码相同"));
        }
        self.set_password(actor, &user, new, false, keep_token).await
    }

    /// The security administrator sets a new password for someone; they must change it at
    /// their next sign-in. Every session and token of theirs ends.
    pub async fn reset_password(&self, actor: &Actor, user_id: i64, new: &str) -> AppResult<()> {
        actor.require_security()?;
        if actor.user_id == Some(user_id) {
            return Err(AppError::Forbidden("自己的密码请用「修改密码」，需要输入当前密码".into()));
        }
        let user: UserRow = sqlx::query_as("SELECT * FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::not_found("用户", user_id))?;
        // The console sets a password its operator chose and knows.
        let must_change = actor.user_id.is_some();
        self.set_password(actor, &user, new, must_change, None).await
    }

    async fn set_password(
        &self,
        actor: &Actor,
        user: &UserRow,
        new: &str,
        must_change: bool,
        keep_token: Option<&str>,
    ) -> AppResult<()> {
        check_password_strength(new).map_err(|e| match e {
            AppError::Invalid(mut fe) => {
                for f in &mut fe.0 {
                    f.field = "new_password".into();
                }
                AppError::Invalid(fe)
            }
            e => e,
        })?;
        // The last few passwords, checked off the write lock (each check takes a while).
        let mut earlier: Vec<String> = sqlx::query_scalar(
            "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user.id)
        .bind(HISTORY)
        .fetch_all(&self.db.pool)
        .await?;
        earlier.push(user.password_hash.clone());
        let pw = new.to_string();
        let reused = tokio::task::spawn_blocking(move || earlier.iter().any(|h| verify_password(&pw, h)))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("checking a password: {e}")))?;
        if reused {
            return Err(AppError::field(
                "new_password",
                "reused",
                format!("新密码不能与最近 {HISTORY} 次用过的密码相同"),
            ));
        }
        let hash = hash_password(new)?;
        let now = now_ms();
        let mut cmd = self.begin(actor).await?;
        sqlx::query("INSERT INTO password_history (user_id, password_hash, changed_at) VALUES ($1, $2, $3)")
            .bind(user.id)
            .bind(&user.password_hash)
            .bind(now)
            .execute(cmd.conn())
            .await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = $3, \
             failed_logins = 0, locked_until = NULL WHERE id = $4",
        )
        .bind(&hash)
        .bind(now)
        .bind(i64::from(must_change))
        .bind(user.id)
        .execute(cmd.conn())
        .await?;
        let keep = keep_token.map(super::auth::token_hash).unwrap_or_default();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.id)
            .bind(&keep)
            .execute(cmd.conn())
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET expires_at = $1 WHERE user_id = $2 AND token_hash <> $3 AND expires_at > $1",
        )
        .bind(now)
        .bind(user.id)
        .bind(&keep)
        .execute(cmd.conn())
        .await?;
        let own = actor.user_id == Some(user.id);
        cmd.audit(Audit::event(
            None,
            "user",
            user.id,
            if own { "password_change" } else { "password_reset" },
            serde_json::json!({"must_change": must_change}),
        ))
        .await?;
        cmd.commit().await
    }
}
