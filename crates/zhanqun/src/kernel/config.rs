//! Cluster configuration: a TOML file (`--config`, or `zhanqun.toml` in the data
//! directory when present); every key has a default.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use zhanqun_domain::domain_rules::{DomainRule, DomainRules};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The city's government domain, from which the default domain rules are made.
    pub city_domain: String,
    /// Scheme of the public addresses the API reports (`https` in production).
    pub public_scheme: String,
    /// Largest attachment accepted, in MiB.
    pub max_attachment_mib: u64,
    /// Largest JSON request body accepted, in KiB.
    pub max_json_kib: usize,
    /// How long a token from `POST /api/v1/auth/token` lives unless the request asks for less.
    pub token_ttl_hours: i64,
    /// Failed logins in a row, from any addresses, before the account is locked (a backstop
    /// against guessing from many addresses; one address is stopped sooner, below).
    pub max_failed_logins: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
    /// Failed logins from one client address within `lockout_minutes` after which that
    /// address may not try again until the window ends. Lower than `max_failed_logins`, so
    /// a stranger's guesses stop the stranger and leave the account's owner alone.
    pub login_failures_per_address: u32,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client.
    /// Per-address limits count the connection's address unless it is one of these.
    pub trusted_proxies: Vec<String>,
    /// How long a client may take to send a request's headers, in seconds; an idle
    /// keep-alive connection is closed after this long too.
    pub header_read_seconds: u64,
    /// How long a request's body may take to arrive: this many seconds, plus one second for
    /// every 64 KiB received (so a large upload on a slow line finishes; a trickle does not).
    pub body_read_seconds: u64,
    /// Connections served at once by each node; more wait in the listen queue.
    pub max_connections: usize,
    /// Days a password is good for; then its owner must change it at the next sign-in.
    /// 0: passwords do not expire.
    pub password_max_age_days: i64,
    /// Days the audit trail keeps its entries before `zhanqun audit archive` may write them
    /// to a file and remove them; at least 180 (等保 level 3). 0: keep every entry for good.
    pub audit_retention_days: u32,
    /// Two-factor sign-in: `optional` (anyone may switch it on) or `staff` (administrators,
    /// site admins and reviewers must enrol before they can do anything else).
    pub two_factor: String,
    /// Host names the admin UI answers on (e.g. `["admin.qingdao.gov.cn"]`); empty: every
    /// host. Elsewhere `/admin/` is not found.
    pub admin_hosts: Vec<String>,
    /// A listen address of the admin UI's own (e.g. `10.0.0.5:8443`, on the web office's
    /// network); when set, `/admin/` answers only on connections to it.
    pub admin_listen: Option<String>,
    /// The key that seals citizens' names and contacts and second-factor secrets
    /// (base64 of 32 random bytes; the same file on every node, kept apart from the
    /// database's backups). Unset: `ZHANQUN_PERSONAL_DATA_KEY`, else
    /// `DATA_DIR/personal-data.key`, made on first start.
    pub personal_data_key_file: Option<std::path::PathBuf>,
    /// Staff sign-in through the city's identity provider (OpenID Connect); unset: only
    /// the platform's own passwords.
    pub oidc: Option<OidcConfig>,
    /// An admin UI session ends after this long without use.
    pub session_idle_minutes: i64,
    /// An admin UI session ends this long after login, used or not.
    pub session_max_hours: i64,
    /// Working days within which an important policy should have a published interpretation.
    pub interpretation_days: u32,
    /// Memory for rendered public pages on each node, in MiB; the least used go first.
    pub page_cache_mib: u64,
    /// How long a node that stops answering keeps its running jobs and the event
    /// subscribers it reads for before another node takes them over, in seconds.
    pub lease_seconds: u64,
    /// Domain rules; when empty, the national default for `city_domain`.
    pub domain_rules: Vec<DomainRule>,
    /// `[monitor]`: how the monitor checks sites and scores them.
    pub monitor: MonitorConfig,
}

/// `[monitor]`: the crawl's budget and politeness, the single-veto thresholds
/// (`[monitor.thresholds]`) and the points of the 100-point rules (`[monitor.weights]`,
/// e.g. `broken_link = { points = 0.2, cap = 5 }`); every key defaults to the national
/// indicators as `zhanqun_domain::inspection` sets them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Pages read per site and check.
    pub max_pages: usize,
    /// Links away from the home page followed.
    pub max_depth: u32,
    /// Addresses only tried (files, other sites, pages past the budget).
    pub max_link_checks: usize,
    /// Connections at a time to one host, and requests a second.
    pub per_host: usize,
    pub rate_per_second: f64,
    /// Bytes read of one page.
    pub max_page_kib: usize,
    /// Try links to sites outside the one checked.
    pub external_links: bool,
    pub thresholds: zhanqun_domain::inspection::Thresholds,
    /// Weights that differ from the national defaults, by rule.
    pub weights: std::collections::BTreeMap<String, zhanqun_domain::inspection::Weight>,
    /// Points of the portals' bonus indicators that differ from the national defaults
    /// (`[monitor.bonus]`, e.g. `search = 5`); their sum counts up to 30.
    pub bonus: std::collections::BTreeMap<String, f64>,
    /// Wrong expressions, each `[wrong, right]`, in addition to the office's list (错敏词).
    pub wrong_expressions: Vec<[String; 2]>,
    /// The public evaluation page (`/evaluation/` on the city portal) shows runs this many
    /// days old and older, so that sites can fix before results go public (0: at once).
    pub publish_delay_days: u32,
    /// The public page shows the evidence too (pages, links); off: counts only.
    pub publish_evidence: bool,
}

impl MonitorConfig {
    fn check(&self) -> anyhow::Result<()> {
        let known = zhanqun_domain::inspection::default_weights();
        for (rule, w) in &self.weights {
            if !known.contains_key(rule) {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                anyhow::bail!("monitor.weights.{rule}: no such rule (the rules are {})", names.join(", "));
            }
            if !(w.points >= 0.0 && w.cap >= 0.0 && w.cap <= 100.0) {
                anyhow::bail!("monitor.weights.{rule}: points and cap must be between 0 and 100");
            }
        }
        for (indicator, points) in &self.bonus {
            if !zhanqun_domain::inspection::BONUS.iter().any(|(k, ..)| k == indicator) {
                let names: Vec<&str> = zhanqun_domain::inspection::BONUS.iter().map(|(k, ..)| *k).collect();
                anyhow::bail!("monitor.bonus.{indicator}: no such indicator (the indicators are {})", names.join(", "));
            }
            if !(*points >= 0.0 && *points <= zhanqun_domain::inspection::BONUS_MAX) {
                anyhow::bail!("monitor.bonus.{indicator}: points must be between 0 and 30");
            }
        }
        if self.max_pages == 0 || self.per_host == 0 || self.max_page_kib == 0 {
            anyhow::bail!("monitor.max_pages, monitor.per_host and monitor.max_page_kib must be at least 1");
        }
        if self.rate_per_second.is_nan() || self.rate_per_second < 0.0 {
            anyhow::bail!("monitor.rate_per_second must be 0 (no limit) or more");
        }
        if self.thresholds.probe_timeout_seconds == 0 {
            anyhow::bail!("monitor.thresholds.probe_timeout_seconds must be at least 1");
        }
        Ok(())
    }

    /// The configured wrong expressions, as entries of the expression list.
    pub fn extra_expressions(&self) -> impl Iterator<Item = zhanqun_domain::expressions::Entry> + '_ {
        self.wrong_expressions.iter().map(|[w, r]| zhanqun_domain::expressions::Entry {
            word: w.clone(),
            kind: zhanqun_domain::expressions::Kind::Wrong,
            suggestion: Some(r.clone()),
        })
    }

    /// The options of one check as configured, looking for the seeded expressions and the
    /// configured ones (a server's checks look for the office's list instead).
    pub fn options(&self) -> crate::monitor::Options {
        let mut o = crate::monitor::Options::default();
        o.limits.per_host = self.per_host;
        o.limits.rate_per_second = self.rate_per_second;
        o.limits.max_bytes = self.max_page_kib * 1024;
        o.limits.timeout = std::time::Duration::from_secs(self.thresholds.probe_timeout_seconds);
        o.max_pages = self.max_pages;
        o.max_depth = self.max_depth;
        o.max_link_checks = self.max_link_checks;
        o.external_links = self.external_links;
        o.probes = self.thresholds.oneoff_probes;
        o.thresholds = self.thresholds.clone();
        o.weights.extend(self.weights.iter().map(|(k, v)| (k.clone(), *v)));
        o.bonus = zhanqun_domain::inspection::bonus_points(&self.bonus);
        if !self.wrong_expressions.is_empty() {
            let list = zhanqun_domain::expressions::seeded().into_iter().chain(self.extra_expressions()).collect();
            o.expressions = std::sync::Arc::new(zhanqun_domain::expressions::Matcher::new(list));
        }
        o
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            max_pages: 500,
            max_depth: 4,
            max_link_checks: 2000,
            per_host: 4,
            rate_per_second: 20.0,
            max_page_kib: 5 * 1024,
            external_links: true,
            thresholds: Default::default(),
            weights: Default::default(),
            bonus: Default::default(),
            wrong_expressions: Vec::new(),
            publish_delay_days: 0,
            publish_evidence: false,
        }
    }
}

/// `[oidc]`: the identity provider staff may sign in through (code flow with PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer, exactly as its discovery document names it
    /// (`ISSUER/.well-known/openid-configuration` is read at the first sign-in).
    pub issuer: String,
    pub client_id: String,
    /// The client's secret (sent as `client_secret_basic`); `ZHANQUN_OIDC_CLIENT_SECRET`
    /// overrides it. Unset: a public client, PKCE alone.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back, as registered there
    /// (`https://ADMIN-HOST/admin/login/oidc/callback`). Unset: that path on the host the
    /// sign-in started from (the provider accepts only what is registered).
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// The ID token claim whose value is the platform account's username.
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The sign-in button's text.
    #[serde(default = "default_oidc_label")]
    pub label: String,
}

fn default_username_claim() -> String {
    "preferred_username".into()
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}

fn default_oidc_label() -> String {
    "统一身份认证登录".into()
}

impl OidcConfig {
    fn check(&self) -> anyhow::Result<()> {
        let issuer = url::Url::parse(&self.issuer).map_err(|e| anyhow::anyhow!("oidc.issuer: {e}"))?;
        let loopback = matches!(issuer.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            anyhow::bail!("oidc.issuer must be an https address (plain http only on this machine)");
        }
        if self.client_id.trim().is_empty() || self.username_claim.trim().is_empty() {
            anyhow::bail!("oidc.client_id and oidc.username_claim must not be empty");
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            anyhow::bail!("oidc.scopes must include \"openid\"");
        }
        if let Some(r) = &self.redirect_url {
            let u = url::Url::parse(r).map_err(|e| anyhow::anyhow!("oidc.redirect_url: {e}"))?;
            if u.path() != "/admin/login/oidc/callback" {
                anyhow::bail!("oidc.redirect_url must end in /admin/login/oidc/callback");
            }
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            city_domain: "qingdao.gov.cn".into(),
            public_scheme: "https".into(),
            max_attachment_mib: 50,
            max_json_kib: 2048,
            token_ttl_hours: 12,
            max_failed_logins: 20,
            lockout_minutes: 15,
            login_failures_per_address: 5,
            trusted_proxies: Vec::new(),
            header_read_seconds: 30,
            body_read_seconds: 60,
            max_connections: 4096,
            password_max_age_days: 90,
            audit_retention_days: 0,
            two_factor: "optional".into(),
            admin_hosts: Vec::new(),
            admin_listen: None,
            personal_data_key_file: None,
            oidc: None,
            session_idle_minutes: 120,
            session_max_hours: 12,
            interpretation_days: 3,
            page_cache_mib: 256,
            lease_seconds: 15,
            domain_rules: Vec::new(),
            monitor: MonitorConfig::default(),
        }
    }
}

impl Config {
    /// [`Config::lease_seconds`] in milliseconds, at least one second.
    pub fn lease_ms(&self) -> i64 {
        (self.lease_seconds.max(1) as i64).saturating_mul(1000)
    }

    /// Reads `explicit` if given, else `DATA_DIR/zhanqun.toml` if it exists, else defaults.
    pub fn load(explicit: Option<&Path>, data_dir: &Path) -> anyhow::Result<Config> {
        let implicit = data_dir.join("zhanqun.toml");
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if implicit.exists() => implicit,
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let config: Config =
            toml::from_str(&text).with_context(|| format!("invalid configuration in {}", path.display()))?;
        config.check().with_context(|| format!("invalid configuration in {}", path.display()))?;
        Ok(config)
    }

    /// What TOML types cannot say: proxies that parse, limits that are not zero.
    pub fn check(&self) -> anyhow::Result<()> {
        crate::web::client::TrustedProxies::parse(&self.trusted_proxies).map_err(anyhow::Error::msg)?;
        for (name, v) in [
            ("login_failures_per_address", u64::from(self.login_failures_per_address)),
            ("header_read_seconds", self.header_read_seconds),
            ("body_read_seconds", self.body_read_seconds),
            ("max_connections", self.max_connections as u64),
        ] {
            if v == 0 {
                anyhow::bail!("{name} must be at least 1");
            }
        }
        if !matches!(self.two_factor.as_str(), "optional" | "staff") {
            anyhow::bail!("two_factor must be \"optional\" or \"staff\"");
        }
        if self.password_max_age_days < 0 {
            anyhow::bail!("password_max_age_days must be 0 (never) or more");
        }
        if self.audit_retention_days != 0 && self.audit_retention_days < 180 {
            anyhow::bail!(
                "audit_retention_days must be 0 (keep for good) or at least 180: level 3 keeps the audit trail six months or more"
            );
        }
        if self.max_failed_logins < 1 || self.lockout_minutes < 1 {
            anyhow::bail!("max_failed_logins and lockout_minutes must be at least 1");
        }
        if let Some(o) = &self.oidc {
            o.check()?;
        }
        self.monitor.check()?;
        Ok(())
    }

    /// [`Config::trusted_proxies`], parsed (checked when the file was read).
    pub fn proxies(&self) -> crate::web::client::TrustedProxies {
        crate::web::client::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }

    pub fn rules(&self) -> DomainRules {
        if self.domain_rules.is_empty() {
            DomainRules::default_for(&self.city_domain)
        } else {
            DomainRules { rules: self.domain_rules.clone() }
        }
    }

    pub fn max_attachment_bytes(&self) -> usize {
        (self.max_attachment_mib as usize).saturating_mul(1024 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_from_toml_replace_the_default() {
        let c: Config = toml::from_str(
            r#"
city_domain = "example.gov.cn"
[[domain_rules]]
name = "dept"
description = "部门网站须为 NAME.example.gov.cn"
kinds = ["department"]
patterns = ["*.example.gov.cn"]
"#,
        )
        .unwrap();
        let r = c.rules();
        assert_eq!(r.rules.len(), 1);
        assert!(r.check(zhanqun_domain::site::SiteKind::Department, "a.example.gov.cn").is_ok());
        assert!(toml::from_str::<Config>("unknown_key = 1").is_err());
    }
}
