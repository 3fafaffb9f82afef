//! Two-factor sign-in: time-based one-time passwords (TOTP, RFC 6238: HMAC-SHA1, 30-second
//! steps, six digits), as every authenticator app makes them, and ten single-use recovery
//! codes for a lost phone. With `two_factor = "staff"`, administrators, site admins and
//! reviewers must enrol before they can do anything else.

use rand::RngCore;
use sha1::{Digest, Sha1};

use super::UserRow;
use super::auth::token_hash;
use crate::app::App;
use crate::kernel::personal::Field;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// HMAC-SHA1 (RFC 2104).
fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The code for time step `step` (RFC 4226 dynamic truncation), `digits` long.
pub fn hotp(secret: &[u8], step: u64, digits: u32) -> u32 {
    let h = hmac_sha1(secret, &step.to_be_bytes());
    let off = usize::from(h[19] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    bin % 10u32.pow(digits)
}

/// The 30-second step of a Unix time in milliseconds.
pub fn step_of(ms: i64) -> u64 {
    (ms.max(0) / 30_000) as u64
}

/// The step `code` is valid for, allowing one step of clock drift either way.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = step_of(now);
    [now, now.saturating_sub(1), now + 1].into_iter().find(|&s| hotp(secret, s, 6) == want)
}

/// RFC 4648 base32 without padding, as `otpauth://` wants the secret.
pub fn base32(bytes: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(A[((buf >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(A[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// What a person sees when they start enrolling: the key for their app.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/…`, for apps that take a link or a QR code of it.
    pub otpauth_uri: String,
}

/// The recovery codes, shown once when two-factor sign-in is switched on.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

fn recovery_code() -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 8];
    rand::rng().fill_bytes(&mut raw);
    let s: String = raw.iter().map(|b| char::from(A[usize::from(*b) % A.len()])).collect();
    format!("{}-{}", &s[..4], &s[4..])
}

/// Whether the account is staff that `two_factor = "staff"` holds to it.
pub fn is_staff(actor: &Actor) -> bool {
    use zhanqun_domain::workflow::Role;
    actor.is_admin
        || actor.duty.is_some()
        || actor
            .roles
            .iter()
            .any(|&(_, r)| matches!(r, Role::SiteAdmin | Role::SecrecyReviewer | Role::EditorialReviewer))
}

impl App {
    /// A person's TOTP secret, opened from its sealed form.
    fn totp_secret(&self, user: &UserRow) -> AppResult<Option<Vec<u8>>> {
        match user.totp_secret.as_deref() {
            None => Ok(None),
            Some(s) => Ok(hex::decode(self.personal.open(Field::TotpSecret, s)?).ok()),
        }
    }

    /// Whether the person has two-factor sign-in switched on.
    pub async fn two_factor_on(&self, actor: &Actor) -> AppResult<bool> {
        let Some(id) = actor.user_id else { return Ok(false) };
        let on: Option<i64> = sqlx::query_scalar("SELECT totp_enabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(on.unwrap_or(0) != 0)
    }

    /// Starts enrolment: a new secret, not yet in force (until [`App::confirm_two_factor`]).
    pub async fn start_two_factor(&self, actor: &Actor) -> AppResult<Enrolment> {
        let user_id = actor.user_id.ok_or_else(|| AppError::Forbidden("只有登录的人员才能设置双因素登录".into()))?;
        let mut secret = [0u8; 20];
        rand::rng().fill_bytes(&mut secret);
        let mut w = self.db.begin_write().await?;
        let n = sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled = 0")
            .bind(self.personal.seal(Field::TotpSecret, &hex::encode(secret))?)
            .bind(user_id)
            .execute(w.conn())
            .await?
            .rows_affected();
        w.commit().await?;
        if n == 0 {
            return Err(AppError::Conflict("双因素登录已经启用；如需更换，请先停用".into()));
        }
        let b32 = base32(&secret);
        let label: String = url::form_urlencoded::byte_serialize(format!("站群:{}", actor.name).as_bytes()).collect();
        Ok(Enrolment {
            otpauth_uri: format!("otpauth://totp/{label}?secret={b32}&issuer=%E7%AB%99%E7%BE%A4&digits=6&period=30"),
            secret: b32,
        })
    }

    /// Switches two-factor sign-in on with a first code from the app; answers the recovery
    /// codes, shown this once (only their hashes are kept).
    pub async fn confirm_two_factor(&self, actor: &Actor, code: &str) -> AppResult<RecoveryCodes> {
        let user_id = actor.user_id.ok_or_else(|| AppError::Forbidden("只有登录的人员才能设置双因素登录".into()))?;
        let user: UserRow =
            sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(user_id).fetch_one(&self.db.pool).await?;
        if user.totp_enabled != 0 {
            return Err(AppError::Conflict("双因素登录已经启用".into()));
        }
        let secret = self.totp_secret(&user)?.ok_or_else(|| AppError::Conflict("请先开始设置，取得密钥".into()))?;
        let step = matching_step(&secret, code, now_ms()).ok_or_else(|| {
            AppError::field("code", "otp", "动态口令不正确，请核对手机时间后输入应用当前显示的 6 位数字")
        })?;
        let codes: Vec<String> = (0..10).map(|_| recovery_code()).collect();
        let mut cmd = self.begin(actor).await?;
        sqlx::query("UPDATE users SET totp_enabled = 1, totp_last_step = $1 WHERE id = $2")
            .bind(step as i64)
            .bind(user_id)
            .execute(cmd.conn())
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(cmd.conn()).await?;
        for c in &codes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(token_hash(c))
                .execute(cmd.conn())
                .await?;
        }
        cmd.audit(Audit::event(None, "user", user_id, "two_factor_on", serde_json::json!({}))).await?;
        cmd.commit().await?;
        Ok(RecoveryCodes { codes })
    }

    /// The security administrator switches someone's two-factor sign-in off (a lost phone
    /// and lost codes); they enrol again.
    pub async fn reset_two_factor(&self, actor: &Actor, user_id: i64) -> AppResult<()> {
        actor.require_security()?;
        if actor.user_id == Some(user_id) {
            return Err(AppError::Forbidden("不能重置自己的双因素登录，请由其他安全管理员办理".into()));
        }
        let mut cmd = self.begin(actor).await?;
        let n = sqlx::query("UPDATE users SET totp_enabled = 0, totp_secret = NULL WHERE id = $1")
            .bind(user_id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("用户", user_id));
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(cmd.conn()).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(cmd.conn()).await?;
        cmd.audit(Audit::event(None, "user", user_id, "two_factor_reset", serde_json::json!({}))).await?;
        cmd.commit().await
    }

    /// The second factor at sign-in, when the account has one: a current code (once) or an
    /// unused recovery code. `Ok(())` when the account has none.
    pub(crate) async fn check_second_factor(&self, user: &UserRow, otp: Option<&str>) -> AppResult<()> {
        if user.totp_enabled == 0 {
            return Ok(());
        }
        let need = || AppError::Unauthorized("请输入动态口令（手机验证器应用显示的 6 位数字），或一个恢复码".into());
        let otp = otp.map(str::trim).filter(|o| !o.is_empty()).ok_or_else(need)?;
        let mut w = self.db.begin_write().await?;
        if otp.contains('-') {
            let n = sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now_ms())
            .bind(user.id)
            .bind(token_hash(&otp.to_ascii_uppercase()))
            .execute(w.conn())
            .await?
            .rows_affected();
            w.commit().await?;
            return if n == 1 { Ok(()) } else { Err(need()) };
        }
        let secret = self.totp_secret(user)?.unwrap_or_default();
        let Some(step) = matching_step(&secret, otp, now_ms()) else { return Err(need()) };
        // A code works once: only a step after the last accepted one.
        let n = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step as i64)
            .bind(user.id)
            .execute(w.conn())
            .await?
            .rows_affected();
        w.commit().await?;
        if n == 1 { Ok(()) } else { Err(need()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1, eight digits, secret "12345678901234567890".
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59i64, 94287082u32),
            (1_111_111_109, 7081804),
            (1_111_111_111, 14050471),
            (1_234_567_890, 89005924),
            (2_000_000_000, 69279037),
            (20_000_000_000, 65353130),
        ] {
            assert_eq!(hotp(secret, step_of(t * 1000), 8), want, "T = {t}");
        }
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let now = 1_234_567_890_000;
        let code = format!("{:06}", hotp(secret, step_of(now), 6));
        assert_eq!(matching_step(secret, &code, now), Some(step_of(now)));
        assert_eq!(matching_step(secret, &code, now + 30_000), Some(step_of(now)), "one step of drift");
        assert_eq!(matching_step(secret, &code, now + 90_000), None);
        assert_eq!(matching_step(secret, "12345", now), None);
    }
}
