//! The cluster's domain rules (R1.3), held as configuration and checked on every site.
//!
//! A pattern is a host name in which `*` stands for exactly one label
//! (`*.qingdao.gov.cn` matches `jyj.qingdao.gov.cn`, not `a.b.qingdao.gov.cn`).

use serde::{Deserialize, Serialize};

use crate::site::SiteKind;

/// One named rule: sites of `kinds` must have a primary domain matching one of `patterns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRule {
    /// Short stable name, shown in errors and reports (`department-domain`).
    pub name: String,
    /// The rule in words, as a person reads it.
    pub description: String,
    pub kinds: Vec<SiteKind>,
    pub patterns: Vec<String>,
}

/// A domain that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleViolation {
    pub rule: String,
    pub description: String,
    pub domain: String,
}

impl RuleViolation {
    pub fn message(&self) -> String {
        format!("域名「{}」不符合规则「{}」：{}", self.domain, self.rule, self.description)
    }
}

/// The whole rule set of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRules {
    pub rules: Vec<DomainRule>,
}

impl DomainRules {
    /// The national default for a city whose government domain is `city_domain`
    /// (for example `qingdao.gov.cn`): portals `www.<pinyin>.gov.cn`, department and zone
    /// sites `NAME.<city_domain>`, subsites under the city domain or a district's.
    pub fn default_for(city_domain: &str) -> DomainRules {
        DomainRules {
            rules: vec![
                DomainRule {
                    name: "portal-domain".into(),
                    description: "门户网站域名须为 www.<拼音>.gov.cn".into(),
                    kinds: vec![SiteKind::CityPortal, SiteKind::DistrictPortal],
                    patterns: vec!["www.*.gov.cn".into()],
                },
                DomainRule {
                    name: "department-domain".into(),
                    description: format!("部门、功能区网站域名须为 NAME.{city_domain}"),
                    kinds: vec![SiteKind::Department, SiteKind::Zone],
                    patterns: vec![format!("*.{city_domain}")],
                },
                DomainRule {
                    name: "subsite-domain".into(),
                    description: format!("子站如有独立域名，须为 NAME.{city_domain} 或 NAME.<区市>.gov.cn"),
                    kinds: vec![SiteKind::Subsite, SiteKind::Column],
                    patterns: vec![format!("*.{city_domain}"), "*.*.gov.cn".into()],
                },
            ],
        }
    }

    /// Checks a site's primary domain; kinds without a rule pass.
    pub fn check(&self, kind: SiteKind, domain: &str) -> Result<(), RuleViolation> {
        let Some(rule) = self.rules.iter().find(|r| r.kinds.contains(&kind)) else {
            return Ok(());
        };
        if rule.patterns.iter().any(|p| matches_pattern(p, domain)) {
            Ok(())
        } else {
            Err(RuleViolation {
                rule: rule.name.clone(),
                description: rule.description.clone(),
                domain: domain.to_string(),
            })
        }
    }
}

/// `*` matches one whole DNS label; every other label must be equal (ASCII case-insensitive).
pub fn matches_pattern(pattern: &str, domain: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let d: Vec<&str> = domain.split('.').collect();
    p.len() == d.len() && p.iter().zip(&d).all(|(p, d)| (*p == "*" && !d.is_empty()) || p.eq_ignore_ascii_case(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_for_qingdao() {
        let r = DomainRules::default_for("qingdao.gov.cn");
        assert!(r.check(SiteKind::Department, "jyj.qingdao.gov.cn").is_ok());
        assert!(r.check(SiteKind::CityPortal, "www.qingdao.gov.cn").is_ok());
        assert!(r.check(SiteKind::DistrictPortal, "www.shinan.gov.cn").is_ok());
        let v = r.check(SiteKind::Department, "jyj.qd.com").unwrap_err();
        assert_eq!(v.rule, "department-domain");
        assert!(v.message().contains("NAME.qingdao.gov.cn"), "{}", v.message());
        assert!(r.check(SiteKind::Department, "a.b.qingdao.gov.cn").is_err(), "star is one label");
        assert!(r.check(SiteKind::DistrictPortal, "shinan.qingdao.gov.cn").is_err());
        assert!(r.check(SiteKind::Subsite, "x.shinan.gov.cn").is_ok());
    }

    #[test]
    fn kinds_without_a_rule_pass() {
        let r = DomainRules { rules: vec![] };
        assert!(r.check(SiteKind::Department, "anything.example.com").is_ok());
    }
}
