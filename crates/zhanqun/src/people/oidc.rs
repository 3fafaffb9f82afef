//! Staff sign-in through the city's identity provider (OpenID Connect, authorisation code
//! flow with PKCE). The provider says who the person is; the platform still decides what
//! they may do: the configured claim (`username_claim`, by default `preferred_username`)
//! names an account that must already exist here and not be disabled, and that account's
//! roles apply. Nobody gets an account by signing in.
//!
//! A sign-in is started by [`App::oidc_begin`] (a row in `oidc_logins` keyed by the hash of
//! a random `state` that the browser also carries in a cookie, holding the nonce, the PKCE
//! verifier and where to go next; good for ten minutes and once), and finished by
//! [`App::oidc_finish`]: the code is exchanged at the token endpoint with the verifier and
//! the client's secret, and the ID token is checked — signature (RS256, PS256 or ES256,
//! by the provider's published keys), issuer, audience, expiry and nonce — before the
//! claim is read. Every refusal goes into the audit trail.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use ring::signature;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::UserRow;
use super::auth::token_hash;
use crate::app::App;
use crate::kernel::audit;
use crate::kernel::config::OidcConfig;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// The environment variable that may carry the client secret instead of the config file.
pub const SECRET_ENV: &str = "ZHANQUN_OIDC_CLIENT_SECRET";
/// How long a started sign-in may take at the provider.
const STARTED_FOR_MS: i64 = 10 * 60_000;
/// Clock difference between the provider and this node that is tolerated.
const SKEW_SECONDS: i64 = 120;

/// What the provider publishes (discovery), with its signing keys.
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

struct Provider {
    meta: Metadata,
    keys: Vec<Jwk>,
    fetched_at: i64,
}

/// This node's view of the provider: discovery and keys, fetched at first use and again
/// when a token names a key not seen yet (the provider rotated its keys).
#[derive(Default)]
pub struct Oidc {
    provider: ArcSwapOption<Provider>,
    http: std::sync::OnceLock<reqwest::Client>,
}

/// A started sign-in: where to send the browser, and the value for its cookie.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
}

/// A finished sign-in: the session's cookie token and where to go.
pub struct SignedIn {
    pub session: String,
    pub next: String,
}

fn failed(msg: impl Into<String>) -> AppError {
    AppError::Unauthorized(msg.into())
}

fn provider_error(e: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "identity provider");
    AppError::Unavailable("统一身份认证服务暂时无法访问，请稍后再试，或使用平台账号密码登录".into())
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_b64(n: usize) -> String {
    let mut raw = vec![0u8; n];
    rand::rng().fill_bytes(&mut raw);
    b64url(&raw)
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Oidc {
    fn http(&self) -> AppResult<&reqwest::Client> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        // (rustls's crypto provider is installed by `App::new`.)
        let c = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(provider_error)?;
        Ok(self.http.get_or_init(|| c))
    }

    async fn fetch(&self, cfg: &OidcConfig) -> AppResult<Arc<Provider>> {
        let http = self.http()?;
        let url = format!("{}/.well-known/openid-configuration", cfg.issuer.trim_end_matches('/'));
        let meta: Metadata = get_json(http, &url).await?;
        if meta.issuer != cfg.issuer {
            return Err(provider_error(format!(
                "discovery at {url} names issuer {} instead of the configured {}",
                meta.issuer, cfg.issuer
            )));
        }
        let jwks: JwkSet = get_json(http, &meta.jwks_uri).await?;
        let p = Arc::new(Provider { meta, keys: jwks.keys, fetched_at: now_ms() });
        self.provider.store(Some(p.clone()));
        Ok(p)
    }

    async fn provider(&self, cfg: &OidcConfig) -> AppResult<Arc<Provider>> {
        match self.provider.load_full() {
            Some(p) => Ok(p),
            None => self.fetch(cfg).await,
        }
    }
}

/// The parts of an ID token this platform checks and reads.
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> AppResult<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| failed("身份令牌格式无效"))?;
    serde_json::from_slice(&bytes).map_err(|_| failed("身份令牌格式无效"))
}

/// Checks `sig` over `msg` with `key` for `alg`; only asymmetric algorithms are accepted.
fn verify_signature(alg: &str, key: &Jwk, msg: &[u8], sig: &[u8]) -> bool {
    let d = |v: &Option<String>| v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
    match (alg, key.kty.as_str()) {
        ("RS256" | "PS256", "RSA") => {
            let (Some(n), Some(e)) = (d(&key.n), d(&key.e)) else { return false };
            let params = if alg == "RS256" {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            signature::RsaPublicKeyComponents { n: &n, e: &e }.verify(params, msg, sig).is_ok()
        }
        ("ES256", "EC") if key.crv.as_deref() == Some("P-256") => {
            let (Some(x), Some(y)) = (d(&key.x), d(&key.y)) else { return false };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point).verify(msg, sig).is_ok()
        }
        _ => false,
    }
}

fn key_for<'a>(keys: &'a [Jwk], header: &Header) -> Option<&'a Jwk> {
    let family = if header.alg == "ES256" { "EC" } else { "RSA" };
    let signing = |k: &&Jwk| k.kty == family && k.usage.as_deref().is_none_or(|u| u == "sig");
    match &header.kid {
        Some(kid) => keys.iter().filter(signing).find(|k| k.kid.as_deref() == Some(kid)),
        None => {
            let mut it = keys.iter().filter(signing);
            let only = it.next();
            if it.next().is_some() { None } else { only }
        }
    }
}

/// The ID token's claims once its signature, issuer, audience, times and nonce hold.
fn check_claims(claims: &serde_json::Value, cfg: &OidcConfig, nonce: &str, now_s: i64) -> AppResult<()> {
    if claims["iss"].as_str() != Some(cfg.issuer.as_str()) {
        return Err(failed("身份令牌的签发方与配置不符"));
    }
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => a == &cfg.client_id,
        serde_json::Value::Array(a) => {
            a.iter().any(|x| x.as_str() == Some(cfg.client_id.as_str()))
                && (a.len() == 1 || claims["azp"].as_str() == Some(cfg.client_id.as_str()))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(failed("身份令牌不是签发给本平台的"));
    }
    let exp = claims["exp"].as_i64().ok_or_else(|| failed("身份令牌缺少有效期"))?;
    if exp + SKEW_SECONDS < now_s {
        return Err(failed("身份令牌已过期，请重新登录"));
    }
    if claims["iat"].as_i64().is_some_and(|iat| iat > now_s + SKEW_SECONDS) {
        return Err(failed("身份令牌的签发时间晚于当前时间，请检查服务器时钟"));
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(failed("身份令牌与本次登录不符（nonce），请重新登录"));
    }
    Ok(())
}

/// A JSON document from the provider; any failure is the provider's.
async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> AppResult<T> {
    http.get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(provider_error)?
        .json()
        .await
        .map_err(provider_error)
}

impl App {
    fn oidc_config(&self) -> AppResult<&OidcConfig> {
        self.config.oidc.as_ref().ok_or_else(|| AppError::NotFound("未配置统一身份认证登录".into()))
    }

    /// Starts a sign-in at the provider. `redirect_uri` is where the provider sends the
    /// browser back (the configured `redirect_url`, else this host's callback address).
    pub async fn oidc_begin(&self, next: &str, redirect_uri: &str) -> AppResult<Started> {
        let cfg = self.oidc_config()?;
        let provider = self.oidc.provider(cfg).await?;
        let state = random_b64(32);
        let nonce = random_b64(32);
        let verifier = random_b64(48);
        let now = now_ms();
        let mut w = self.db.begin_write().await?;
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1").bind(now).execute(w.conn()).await?;
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, nonce, verifier, next, redirect_uri, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&state))
        .bind(&nonce)
        .bind(&verifier)
        .bind(next)
        .bind(redirect_uri)
        .bind(now + STARTED_FOR_MS)
        .execute(w.conn())
        .await?;
        w.commit().await?;
        let mut url = url::Url::parse(&provider.meta.authorization_endpoint).map_err(provider_error)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &cfg.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Started { authorize_url: url.into(), state })
    }

    /// Finishes a sign-in: `state` as the provider returned it and as the browser's cookie
    /// carries it (they must agree, so a code from someone else's sign-in cannot be slipped
    /// into this browser), and the code to exchange. Opens a session for the account the
    /// configured claim names.
    pub async fn oidc_finish(
        &self,
        code: &str,
        state: &str,
        cookie_state: Option<&str>,
        client: IpAddr,
    ) -> AppResult<SignedIn> {
        let cfg = self.oidc_config()?;
        if !cookie_state.is_some_and(|c| crate::web::admin::constant_time_eq(c.as_bytes(), state.as_bytes())) {
            return Err(failed("登录状态不符或已过期，请从登录页重新开始"));
        }
        let mut w = self.db.begin_write().await?;
        let started: Option<(String, String, String, String)> = sqlx::query_as(
            "DELETE FROM oidc_logins WHERE state_hash = $1 AND expires_at > $2 RETURNING nonce, verifier, next, redirect_uri",
        )
        .bind(token_hash(state))
        .bind(now_ms())
        .fetch_optional(w.conn())
        .await?;
        w.commit().await?;
        let (nonce, verifier, next, redirect_uri) =
            started.ok_or_else(|| failed("登录已过期或已完成，请从登录页重新开始"))?;

        let claims = match self.exchange(cfg, code, &verifier, &redirect_uri, &nonce).await {
            Ok(c) => c,
            Err(e) => {
                self.oidc_refused(None, client, "token", &e.to_string()).await?;
                return Err(e);
            }
        };
        let value = match &claims[cfg.username_claim.as_str()] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        if value.is_empty() {
            let msg = format!("身份令牌中没有「{}」，无法确定平台账号；请联系网站管理部门", cfg.username_claim);
            self.oidc_refused(None, client, "no_claim", &claims["sub"].to_string()).await?;
            return Err(failed(msg));
        }
        let user: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(&value)
            .fetch_optional(&self.db.pool)
            .await?;
        let user = match user {
            Some(u) if u.disabled == 0 => u,
            other => {
                let why = if other.is_some() { "disabled" } else { "no_account" };
                self.oidc_refused(other.as_ref(), client, why, &value).await?;
                return Err(failed(format!(
                    "统一身份认证账号「{value}」在本平台没有可用的账号（未开通或已停用），请联系安全管理员"
                )));
            }
        };
        let session = self.open_session(&user, "oidc", client).await?;
        Ok(SignedIn { session, next })
    }

    /// A refused sign-in through the provider, in the trail.
    async fn oidc_refused(&self, user: Option<&UserRow>, client: IpAddr, why: &str, about: &str) -> AppResult<()> {
        let actor = match user {
            Some(u) => Actor { user_id: Some(u.id), ..Actor::public(&u.username) },
            None => Actor::public("统一身份认证"),
        };
        let detail = serde_json::json!({
            "via": "oidc", "why": why, "address": client.to_string(),
            "claim": about.chars().take(200).collect::<String>(),
        });
        let mut w = self.db.begin_write().await?;
        audit::write(w.conn(), &actor, Audit::event(None, "user", user.map_or(0, |u| u.id), "login_failed", detail))
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// The code, exchanged at the token endpoint; the ID token in the answer, checked.
    async fn exchange(
        &self,
        cfg: &OidcConfig,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> AppResult<serde_json::Value> {
        let provider = self.oidc.provider(cfg).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let secret = std::env::var(SECRET_ENV).ok().or_else(|| cfg.client_secret.clone());
        let mut req = self.oidc.http()?.post(&provider.meta.token_endpoint);
        match &secret {
            // client_secret_basic (RFC 6749 §2.3.1: each part form-encoded first).
            Some(s) => {
                let basic = STANDARD.encode(format!("{}:{}", form_encode(&cfg.client_id), form_encode(s)));
                req = req.header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"));
            }
            None => form.push(("client_id", cfg.client_id.as_str())),
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| AppError::Internal(e.into()))?;
        let r = req
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(provider_error)?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await.map_err(provider_error)?;
        if !status.is_success() {
            tracing::warn!(%status, answer = %answer, "token endpoint refused the code");
            return Err(failed("统一身份认证未能完成（授权码无效或已使用），请重新登录"));
        }
        let id_token = answer["id_token"].as_str().ok_or_else(|| failed("统一身份认证没有返回身份令牌"))?;
        let parts: Vec<&str> = id_token.split('.').collect();
        let [h, p, s] = parts.as_slice() else { return Err(failed("身份令牌格式无效")) };
        let header: Header = decode_part(h)?;
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| failed("身份令牌格式无效"))?;
        let msg = format!("{h}.{p}");
        let mut key = key_for(&provider.keys, &header).cloned();
        if key.is_none() && now_ms() - provider.fetched_at > 60_000 {
            // A key not seen yet: the provider may have rotated its keys.
            key = key_for(&self.oidc.fetch(cfg).await?.keys, &header).cloned();
        }
        let key = key.ok_or_else(|| failed("身份令牌的签名密钥不在身份认证服务公布的密钥中"))?;
        if !verify_signature(&header.alg, &key, msg.as_bytes(), &sig) {
            return Err(failed("身份令牌签名无效"));
        }
        let claims: serde_json::Value = decode_part(p)?;
        check_claims(&claims, cfg, nonce, now_ms() / 1000)?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OidcConfig {
        toml::from_str("issuer = \"https://idp.example.cn\"\nclient_id = \"zhanqun\"\n").unwrap()
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn claims_are_checked_for_issuer_audience_time_and_nonce() {
        let c = cfg();
        let now = 1_800_000_000;
        let good = serde_json::json!({"iss": "https://idp.example.cn", "aud": "zhanqun", "exp": now + 60, "iat": now, "nonce": "n1"});
        assert!(check_claims(&good, &c, "n1", now).is_ok());
        let with = |k: &str, v: serde_json::Value| {
            let mut x = good.clone();
            x[k] = v;
            x
        };
        assert!(check_claims(&good, &c, "n2", now).is_err(), "another sign-in's nonce");
        assert!(check_claims(&with("iss", "https://evil.example".into()), &c, "n1", now).is_err());
        assert!(check_claims(&with("aud", "someone-else".into()), &c, "n1", now).is_err());
        assert!(check_claims(&with("aud", serde_json::json!(["zhanqun", "other"])), &c, "n1", now).is_err(), "no azp");
        assert!(check_claims(&with("exp", (now - 600).into()), &c, "n1", now).is_err());
        assert!(check_claims(&with("iat", (now + 600).into()), &c, "n1", now).is_err());
        assert!(check_claims(&with("exp", serde_json::Value::Null), &c, "n1", now).is_err());
    }

    #[test]
    fn only_asymmetric_signatures_by_a_published_key_are_accepted() {
        let rsa = Jwk {
            kty: "RSA".into(),
            kid: Some("k1".into()),
            usage: None,
            n: Some("AQAB".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        assert!(!verify_signature("none", &rsa, b"x", b""));
        assert!(!verify_signature("HS256", &rsa, b"x", b"sig"));
        let keys = vec![rsa];
        let h = |alg: &str, kid: Option<&str>| Header { alg: alg.into(), kid: kid.map(Into::into) };
        assert!(key_for(&keys, &h("RS256", Some("k1"))).is_some());
        assert!(key_for(&keys, &h("RS256", Some("k2"))).is_none());
        assert!(key_for(&keys, &h("ES256", None)).is_none(), "an RSA key never checks an EC signature");
    }
}
