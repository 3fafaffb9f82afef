//! Sites of the cluster (R1): kinds, the registry lifecycle and the codes a site carries.

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// What kind of presence a body has on the cluster (R1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// 门户网站 of the city.
    CityPortal,
    /// 区（市）门户网站.
    DistrictPortal,
    /// 部门网站.
    Department,
    /// 开发区 / 功能区网站.
    Zone,
    /// 子站 hosted under a parent site.
    Subsite,
    /// A column-only presence (栏目) on a parent site.
    Column,
}

impl SiteKind {
    pub const ALL: [SiteKind; 6] = [
        SiteKind::CityPortal,
        SiteKind::DistrictPortal,
        SiteKind::Department,
        SiteKind::Zone,
        SiteKind::Subsite,
        SiteKind::Column,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::CityPortal => "city_portal",
            SiteKind::DistrictPortal => "district_portal",
            SiteKind::Department => "department",
            SiteKind::Zone => "zone",
            SiteKind::Subsite => "subsite",
            SiteKind::Column => "column",
        }
    }

    pub fn parse(s: &str) -> Option<SiteKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            SiteKind::CityPortal => "市政府门户网站",
            SiteKind::DistrictPortal => "区（市）门户网站",
            SiteKind::Department => "部门网站",
            SiteKind::Zone => "功能区网站",
            SiteKind::Subsite => "子站",
            SiteKind::Column => "栏目",
        }
    }

    /// Subsites and column-only presences live on a parent site; the others may not have one
    /// except that department and zone sites and district portals may name the portal above them.
    pub fn needs_parent(self) -> bool {
        matches!(self, SiteKind::Subsite | SiteKind::Column)
    }

    /// Whether a site of this kind must have a domain of its own.
    pub fn needs_domain(self) -> bool {
        !matches!(self, SiteKind::Subsite | SiteKind::Column)
    }
}

/// Registry lifecycle (R1.2): applied → approved → registered → online → suspended → closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteState {
    Applied,
    Approved,
    Registered,
    Online,
    Suspended,
    Closed,
}

impl SiteState {
    pub const ALL: [SiteState; 6] = [
        SiteState::Applied,
        SiteState::Approved,
        SiteState::Registered,
        SiteState::Online,
        SiteState::Suspended,
        SiteState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteState::Applied => "applied",
            SiteState::Approved => "approved",
            SiteState::Registered => "registered",
            SiteState::Online => "online",
            SiteState::Suspended => "suspended",
            SiteState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<SiteState> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SiteState::Applied => "已申请",
            SiteState::Approved => "已审核",
            SiteState::Registered => "已登记",
            SiteState::Online => "已上线",
            SiteState::Suspended => "已暂停",
            SiteState::Closed => "已关停",
        }
    }
}

/// An action on a site's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteAction {
    Approve,
    Register,
    Online,
    Suspend,
    Resume,
    Close,
}

impl SiteAction {
    pub const ALL: [SiteAction; 6] = [
        SiteAction::Approve,
        SiteAction::Register,
        SiteAction::Online,
        SiteAction::Suspend,
        SiteAction::Resume,
        SiteAction::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteAction::Approve => "approve",
            SiteAction::Register => "register",
            SiteAction::Online => "online",
            SiteAction::Suspend => "suspend",
            SiteAction::Resume => "resume",
            SiteAction::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<SiteAction> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SiteAction::Approve => "审核通过",
            SiteAction::Register => "登记",
            SiteAction::Online => "上线",
            SiteAction::Suspend => "暂停",
            SiteAction::Resume => "恢复",
            SiteAction::Close => "关停",
        }
    }

    /// The state this action leads to from `from`, or `None` when the lifecycle forbids it.
    pub fn apply(self, from: SiteState) -> Option<SiteState> {
        use SiteState::*;
        match (self, from) {
            (SiteAction::Approve, Applied) => Some(Approved),
            (SiteAction::Register, Approved) => Some(Registered),
            (SiteAction::Online, Registered) => Some(Online),
            (SiteAction::Suspend, Online) => Some(Suspended),
            (SiteAction::Resume, Suspended) => Some(Online),
            (SiteAction::Close, Applied | Approved | Registered | Online | Suspended) => Some(Closed),
            _ => None,
        }
    }
}

/// 网站标识码: ten digits, or `bm` followed by eight digits (department inner bodies).
pub fn check_site_code(field: &str, code: &str) -> Result<(), FieldError> {
    let ok = (code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()))
        || (code.len() == 10 && code.starts_with("bm") && code[2..].bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "site_code_format",
            format!("网站标识码「{code}」格式不对：应为 10 位数字，或 bm 加 8 位数字"),
        ))
    }
}

fn is_province_abbr(c: char) -> bool {
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼".contains(c)
}

/// ICP filing number as shown in a footer, e.g. `鲁ICP备05001234号` or `鲁ICP备05001234号-1`.
pub fn check_icp_filing(field: &str, s: &str) -> Result<(), FieldError> {
    let err = || {
        FieldError::new(
            field,
            "icp_filing_format",
            format!("ICP备案号「{s}」格式不对，示例：鲁ICP备05001234号 或 鲁ICP备05001234号-1"),
        )
    };
    let mut chars = s.chars();
    let first = chars.next().ok_or_else(err)?;
    if !is_province_abbr(first) {
        return Err(err());
    }
    let rest: &str = chars.as_str();
    let rest = rest.strip_prefix("ICP备").ok_or_else(err)?;
    let (digits, tail) = rest.split_once('号').ok_or_else(err)?;
    if digits.len() < 6 || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    if tail.is_empty() {
        return Ok(());
    }
    match tail.strip_prefix('-') {
        Some(n) if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(err()),
    }
}

/// The 党政机关网站标识 link: the verification page the registering authority (中国机构编制网)
/// issues with the label, e.g. `https://bszs.conac.cn/sitename?method=show&id=0A1B2C3D`.
pub fn check_party_label_url(field: &str, s: &str) -> Result<(), FieldError> {
    let host = s
        .strip_prefix("https://")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .filter(|h| *h == "conac.cn" || h.ends_with(".conac.cn"));
    let printable = !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
    if host.is_some() && printable && s.len() <= 500 {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "party_label_format",
            format!(
                "党政机关网站标识链接「{s}」不对：应为开办审核机关发放的 conac.cn 上的 https 地址，例如 https://bszs.conac.cn/sitename?method=show&id=0A1B2C3D"
            ),
        ))
    }
}

/// Public-security filing number, e.g. `鲁公网安备37020202000123号` (14 digits).
pub fn check_psb_filing(field: &str, s: &str) -> Result<(), FieldError> {
    let err = || {
        FieldError::new(
            field,
            "psb_filing_format",
            format!("公安机关备案号「{s}」格式不对，示例：鲁公网安备37020202000123号"),
        )
    };
    let mut chars = s.chars();
    let first = chars.next().ok_or_else(err)?;
    if !is_province_abbr(first) {
        return Err(err());
    }
    let rest = chars.as_str().strip_prefix("公网安备").ok_or_else(err)?.trim_start();
    let digits = rest.strip_suffix('号').ok_or_else(err)?;
    if digits.len() == 14 && digits.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err(err()) }
}

/// A host name as a site may use it: lower-case ASCII labels of letters, digits and
/// hyphens, at least two labels, no port. Returns the normalised (lower-cased) name.
pub fn normalize_hostname(field: &str, s: &str) -> Result<String, FieldError> {
    let h = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let err = |why: &str| FieldError::new(field, "hostname", format!("域名「{s}」无效：{why}"));
    if h.is_empty() {
        return Err(err("不能为空"));
    }
    if h.len() > 253 {
        return Err(err("长度超过 253 个字符"));
    }
    let labels: Vec<&str> = h.split('.').collect();
    if labels.len() < 2 {
        return Err(err("至少要有两级，例如 jyj.qingdao.gov.cn"));
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err(err("每一级长度应为 1 到 63 个字符"));
        }
        if !l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(err("只能包含英文字母、数字和连字符"));
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(err("连字符不能在开头或结尾"));
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_follows_the_registry_order() {
        use SiteState::*;
        let mut s = Applied;
        for a in
            [SiteAction::Approve, SiteAction::Register, SiteAction::Online, SiteAction::Suspend, SiteAction::Resume]
        {
            s = a.apply(s).unwrap_or_else(|| panic!("{a:?} from {s:?}"));
        }
        assert_eq!(s, Online);
        assert_eq!(SiteAction::Online.apply(Applied), None, "cannot skip review and registration");
        assert_eq!(SiteAction::Close.apply(Online), Some(Closed));
        assert_eq!(SiteAction::Close.apply(Closed), None);
        assert_eq!(SiteAction::Resume.apply(Closed), None, "a closed site stays closed");
    }

    #[test]
    fn site_codes() {
        assert!(check_site_code("c", "3702000001").is_ok());
        assert!(check_site_code("c", "bm37000012").is_ok());
        for bad in ["370200000", "37020000011", "bm3700001", "BM37000012", "37020a0001", "bm3700001x", ""] {
            let e = check_site_code("site_code", bad).unwrap_err();
            assert_eq!(e.rule, "site_code_format", "{bad}");
        }
    }

    #[test]
    fn filing_numbers() {
        assert!(check_icp_filing("i", "鲁ICP备05001234号").is_ok());
        assert!(check_icp_filing("i", "鲁ICP备05001234号-1").is_ok());
        for bad in [
            "ICP备05001234号",
            "鲁ICP05001234号",
            "鲁ICP备05001234",
            "鲁ICP备0500号",
            "鲁ICP备05001234号-",
            "X ICP备05001234号",
        ] {
            assert!(check_icp_filing("i", bad).is_err(), "{bad}");
        }
        assert!(check_psb_filing("p", "鲁公网安备37020202000123号").is_ok());
        assert!(check_psb_filing("p", "鲁公网安备 37020202000123号").is_ok());
        assert!(check_psb_filing("p", "鲁公网安备3702020200012号").is_err());
        assert!(check_party_label_url("l", "https://bszs.conac.cn/sitename?method=show&id=0A1B2C3D").is_ok());
        for bad in [
            "http://bszs.conac.cn/sitename?id=1",
            "https://conac.cn.evil.example/x",
            "https://evilconac.cn/x",
            "https://bszs.conac.cn/x\"onmouseover=\"x",
            "javascript:alert(1)",
        ] {
            assert!(check_party_label_url("l", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostnames() {
        assert_eq!(normalize_hostname("d", "JYJ.Qingdao.gov.cn.").unwrap(), "jyj.qingdao.gov.cn");
        for bad in ["localhost", "a..b", "-a.cn", "a_b.cn", "青岛.cn", "a.cn:80", ""] {
            assert!(normalize_hostname("d", bad).is_err(), "{bad}");
        }
    }
}
