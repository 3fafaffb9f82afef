//! Which site answers for which host name. Built whole from the database and swapped in
//! (alphagov/router's way): readers never wait, and a failed rebuild keeps the old table.

use std::borrow::Cow;

use zhanqun_domain::site::{SiteKind, SiteState};

use crate::sites::queries::HostRows;

/// What the public side needs to know about a site without asking the database.
#[derive(Debug, Clone)]
pub struct SiteInfo {
    pub id: i64,
    pub name: String,
    pub kind: SiteKind,
    pub state: SiteState,
    pub primary_domain: Option<String>,
    /// `NAME.localhost`, which browsers resolve to this machine, for use without DNS.
    pub local_host: String,
}

#[derive(Debug, Default)]
pub struct HostMap {
    by_host: foldhash::HashMap<String, i64>,
    pub sites: foldhash::HashMap<i64, SiteInfo>,
}

impl HostMap {
    /// The table for the registry as it is.
    pub fn build(rows: HostRows) -> HostMap {
        let mut map = HostMap::default();
        for (d, s) in rows.domains {
            map.by_host.insert(d, s);
        }
        for (id, name, kind, state, primary) in rows.sites {
            let local = local_name(primary.as_deref(), id, &map.by_host);
            map.by_host.insert(local.clone(), id);
            map.sites.insert(id, SiteInfo { id, name, kind, state, primary_domain: primary, local_host: local });
        }
        map
    }

    /// The site for a `Host` header value (port ignored, case-insensitive).
    pub fn resolve(&self, host: &str) -> Option<&SiteInfo> {
        let id = self.by_host.get(host)?;
        self.sites.get(id)
    }

    /// Sites in id order, for the startup log.
    pub fn sorted(&self) -> Vec<&SiteInfo> {
        let mut v: Vec<&SiteInfo> = self.sites.values().collect();
        v.sort_by_key(|s| s.id);
        v
    }
}

/// `jyj.qingdao.gov.cn` → `jyj.localhost`; `www.qingdao.gov.cn` → `qingdao.localhost`;
/// the whole domain with dashes when the short name is taken; `site7.localhost` without a domain.
fn local_name(primary: Option<&str>, id: i64, taken: &foldhash::HashMap<String, i64>) -> String {
    let Some(d) = primary else { return format!("site{id}.localhost") };
    let labels: Vec<&str> = d.split('.').collect();
    let short = if labels.first() == Some(&"www") && labels.len() > 2 { labels[1] } else { labels[0] };
    let candidate = format!("{short}.localhost");
    if taken.get(&candidate).is_none_or(|&s| s == id) {
        candidate
    } else {
        format!("{}.localhost", d.replace('.', "-"))
    }
}

/// Normalises a `Host` header: lower case, no port, only characters a host name may have.
pub fn parse_host(raw: &str) -> Option<Cow<'_, str>> {
    let raw = raw.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        // IPv6 literal: never a site.
        return rest.split_once(']').map(|(h, _)| Cow::Owned(format!("[{h}]")));
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            Some(_) => return None,
            None => raw,
        }
    };
    let host = host.trim_end_matches('.');
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.contains("..");
    if !ok {
        return None;
    }
    // Host names are mostly sent in lower case already: no copy then.
    Some(if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised_or_refused() {
        assert_eq!(parse_host("JYJ.Qingdao.gov.cn:8080").as_deref(), Some("jyj.qingdao.gov.cn"));
        assert_eq!(parse_host("jyj.localhost").as_deref(), Some("jyj.localhost"));
        for bad in ["", "a b", "evil.com:80:80", "a..b", "<script>", "a.com:x", ".a"] {
            assert_eq!(parse_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_names_are_short_and_unique() {
        let mut taken = foldhash::HashMap::default();
        assert_eq!(local_name(Some("www.qingdao.gov.cn"), 1, &taken), "qingdao.localhost");
        taken.insert("jyj.localhost".to_string(), 2);
        assert_eq!(local_name(Some("jyj.qingdao.gov.cn"), 2, &taken), "jyj.localhost");
        assert_eq!(local_name(Some("jyj.shinan.gov.cn"), 3, &taken), "jyj-shinan-gov-cn.localhost");
        assert_eq!(local_name(None, 9, &taken), "site9.localhost");
    }
}
