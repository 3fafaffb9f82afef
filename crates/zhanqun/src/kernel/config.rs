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
    /// Failed logins in a row before the account is locked.
    pub max_failed_logins: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            city_domain: "qingdao.gov.cn".into(),
            public_scheme: "https".into(),
            max_attachment_mib: 50,
            max_json_kib: 2048,
            token_ttl_hours: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
            session_idle_minutes: 120,
            session_max_hours: 12,
            interpretation_days: 3,
            page_cache_mib: 256,
            lease_seconds: 15,
            domain_rules: Vec::new(),
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
        toml::from_str(&text).with_context(|| format!("invalid configuration in {}", path.display()))
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
