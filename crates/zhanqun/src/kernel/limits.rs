//! Rate limits for public forms, per client address: a fixed window, kept in memory (each
//! node counts its own; per-contact limits are in the database and hold across nodes); and
//! the signed question public forms ask instead of a CAPTCHA.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::app::App;
use crate::kernel::error::{AppError, AppResult};
use crate::kernel::time::now_ms;

/// Counts attempts per key in fixed windows. At most `capacity` keys are kept (the least
/// used go first), so a flood from many addresses cannot grow memory without end; a key
/// forgotten that way starts counting afresh, which errs on letting a person through.
pub struct RateLimiter {
    window_ms: i64,
    max: u32,
    hits: moka::sync::Cache<String, (i64, u32)>,
}

impl RateLimiter {
    pub fn new(max: u32, window_ms: i64, capacity: u64) -> RateLimiter {
        let hits = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .time_to_live(Duration::from_millis(window_ms.max(1) as u64))
            .build();
        RateLimiter { window_ms, max, hits }
    }

    /// Counts one attempt from `key`; false when it is over the limit.
    pub fn allow(&self, key: &str) -> bool {
        let now = now_ms();
        let window = self.window_ms;
        let counted = self.hits.entry_by_ref(key).and_upsert_with(|e| match e.map(|e| e.into_value()) {
            Some((start, n)) if now - start < window => (start, n.saturating_add(1)),
            _ => (now, 1),
        });
        counted.into_value().1 <= self.max
    }

    /// Whether `key` has used up its window, without counting an attempt.
    pub fn exhausted(&self, key: &str) -> bool {
        let now = now_ms();
        self.hits.get(key).is_some_and(|(start, n)| now - start < self.window_ms && n >= self.max)
    }

    /// When `key`'s window ends, if it is in one.
    pub fn window_end(&self, key: &str) -> Option<i64> {
        self.hits.get(key).map(|(start, _)| start + self.window_ms).filter(|&end| end > now_ms())
    }
}

/// A question a person answers without JavaScript or a third-party service: a small sum,
/// signed so the server keeps no state. Valid for 30 minutes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Challenge {
    pub question: String,
    pub token: String,
}

fn mac(key: &[u8], msg: &str) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

pub fn new_challenge(key: &[u8]) -> Challenge {
    let mut rng = rand::rng();
    let (a, b): (u32, u32) = (rng.random_range(1..10), rng.random_range(1..10));
    let exp = now_ms() + 30 * 60_000;
    let msg = format!("{}.{exp}", a + b);
    let mut nonce = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rng, &mut nonce);
    let n = hex::encode(nonce);
    Challenge {
        question: format!("{a} 加 {b} 等于几？"),
        token: format!("{exp}.{n}.{}", mac(key, &format!("{msg}.{n}"))),
    }
}

/// Whether `answer` solves the challenge behind `token` before it expired.
pub fn check_challenge(key: &[u8], token: &str, answer: &str) -> bool {
    solved(key, token, answer).is_some()
}

/// The solved challenge's nonce and expiry, when `answer` solves it in time.
fn solved<'t>(key: &[u8], token: &'t str, answer: &str) -> Option<(&'t str, i64)> {
    let mut parts = token.split('.');
    let (Some(exp), Some(n), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let exp_ms = exp.parse::<i64>().ok()?;
    if exp_ms < now_ms() {
        return None;
    }
    let ans = answer.trim().parse::<u32>().ok()?;
    let want = mac(key, &format!("{ans}.{exp}.{n}"));
    let ok = !want.is_empty()
        && want.len() == sig.len()
        && want.bytes().zip(sig.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    ok.then_some((n, exp_ms))
}

impl App {
    /// Reads the challenge-signing key (shared by every node, made by the migrations).
    pub async fn load_secrets(&self) -> AppResult<()> {
        let key: Option<String> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'form_challenge'")
            .fetch_optional(&self.db.pool)
            .await?;
        let key = key
            .and_then(|k| hex::decode(k).ok())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("form challenge key missing")))?;
        self.challenge_key.store(std::sync::Arc::new(key));
        Ok(())
    }

    /// The checks every public write passes: the limit per client address (`scope` keeps
    /// separate counts, e.g. for tracking), and for HTML forms the signed question
    /// (`(token, answer)`); the API has no question to answer.
    /// A solved question works once: its nonce is recorded (on every node's shared
    /// database) until it would have expired.
    pub async fn check_public_write(
        &self,
        scope: &str,
        ip: std::net::IpAddr,
        challenge: Option<(&str, &str)>,
    ) -> AppResult<()> {
        if !self.form_limiter.allow(&format!("{scope}{ip}")) {
            return Err(AppError::TooManyAttempts("提交过于频繁，请过一会儿再试".into()));
        }
        let Some((token, answer)) = challenge else { return Ok(()) };
        let wrong = || AppError::field("answer", "challenge", "验证问题回答不正确或已过期，请重新回答");
        let key = self.challenge_key.load();
        let Some((nonce, expires)) = solved(&key, token, answer) else { return Err(wrong()) };
        let mut w = self.db.begin_write().await?;
        sqlx::query("DELETE FROM used_challenges WHERE expires_at < $1").bind(now_ms()).execute(w.conn()).await?;
        let fresh =
            sqlx::query("INSERT INTO used_challenges (nonce, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(nonce)
                .bind(expires)
                .execute(w.conn())
                .await?
                .rows_affected();
        w.commit().await?;
        if fresh == 0 {
            return Err(AppError::field("answer", "challenge_used", "这个验证问题已经用过，请回答新的问题"));
        }
        Ok(())
    }

    /// Gives a question back after the submission it let through was refused (a field left
    /// empty, a wrong file): it was not used for anything stored, so the person may send the
    /// corrected form with the same answer. A replay gains nothing from this: a refused
    /// submission stores nothing.
    pub async fn release_challenge(&self, token: &str) {
        let Some(nonce) = token.split('.').nth(1) else { return };
        let released = async {
            let mut w = self.db.begin_write().await?;
            sqlx::query("DELETE FROM used_challenges WHERE nonce = $1").bind(nonce).execute(w.conn()).await?;
            w.commit().await
        };
        if let Err(e) = released.await {
            tracing::warn!(error = %e, "releasing a form challenge");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_limit_each_key() {
        let l = RateLimiter::new(3, 60_000, 1000);
        assert!((0..3).all(|_| l.allow("1.2.3.4")));
        assert!(!l.allow("1.2.3.4"));
        assert!(l.allow("5.6.7.8"));
    }

    #[test]
    fn challenges_need_the_right_answer_and_an_untouched_token() {
        let key = b"test key";
        let c = new_challenge(key);
        let nums: Vec<u32> = c.question.split(|ch: char| !ch.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
        let answer = (nums[0] + nums[1]).to_string();
        assert!(check_challenge(key, &c.token, &answer));
        assert!(!check_challenge(key, &c.token, "99"));
        assert!(!check_challenge(b"other key", &c.token, &answer));
        assert!(!check_challenge(key, "123.abc.def", &answer));
        assert!(!check_challenge(key, "", ""));
    }
}
