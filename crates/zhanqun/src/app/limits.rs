//! Rate limits for public forms, per client address: a fixed window, kept in memory (each
//! node counts its own; per-contact limits are in the database and hold across nodes).

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::store::now_ms;

pub struct RateLimiter {
    window_ms: i64,
    max: u32,
    hits: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(max: u32, window_ms: i64) -> RateLimiter {
        RateLimiter { window_ms, max, hits: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt from `key`; false when it is over the limit.
    pub fn allow(&self, key: &str) -> bool {
        let now = now_ms();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| now - *start < self.window_ms);
        }
        let e = hits.entry(key.to_string()).or_insert((now, 0));
        if now - e.0 >= self.window_ms {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= self.max
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
    let mut parts = token.split('.');
    let (Some(exp), Some(n), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(exp_ms) = exp.parse::<i64>() else { return false };
    if exp_ms < now_ms() {
        return false;
    }
    let Ok(ans) = answer.trim().parse::<u32>() else { return false };
    let want = mac(key, &format!("{ans}.{exp}.{n}"));
    !want.is_empty() && want.len() == sig.len() && want.bytes().zip(sig.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
}

impl App {
    /// The checks every public write passes: the limit per client address (`scope` keeps
    /// separate counts, e.g. for tracking), and for HTML forms the signed question
    /// (`(token, answer)`); the API has no question to answer.
    pub fn check_public_write(
        &self,
        scope: &str,
        ip: std::net::IpAddr,
        challenge: Option<(&str, &str)>,
    ) -> AppResult<()> {
        if !self.form_limiter.allow(&format!("{scope}{ip}")) {
            return Err(AppError::TooManyAttempts("提交过于频繁，请过一会儿再试".into()));
        }
        if let Some((token, answer)) = challenge
            && !check_challenge(&self.challenge_key.load(), token, answer)
        {
            return Err(AppError::field("answer", "challenge", "验证问题回答不正确或已过期，请重新回答"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_limit_each_key() {
        let l = RateLimiter::new(3, 60_000);
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
