//! Columns (栏目, R2.1): type, update duty and status.

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// The type of a column, which national checkers read from the `ColumnType` meta tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// 要闻动态
    News,
    /// 通知公告
    Notices,
    /// 政策文件
    Policy,
    /// 其他
    General,
}

impl ColumnKind {
    pub const ALL: [ColumnKind; 4] = [ColumnKind::News, ColumnKind::Notices, ColumnKind::Policy, ColumnKind::General];

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::News => "news",
            ColumnKind::Notices => "notices",
            ColumnKind::Policy => "policy",
            ColumnKind::General => "general",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ColumnKind::News => "要闻动态",
            ColumnKind::Notices => "通知公告",
            ColumnKind::Policy => "政策文件",
            ColumnKind::General => "其他",
        }
    }
}

/// How often a column must be updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "duty", rename_all = "snake_case")]
pub enum UpdateDuty {
    /// 每日更新
    Daily,
    /// 定期更新, at most `every_days` days between updates.
    Periodic { every_days: u32 },
    /// 即时更新: as things happen.
    Instant,
}

impl UpdateDuty {
    /// Builds a duty from its stored parts, checking the period.
    pub fn from_parts(duty: &str, every_days: Option<i64>) -> Result<Self, FieldError> {
        match duty {
            "daily" => Ok(UpdateDuty::Daily),
            "instant" => Ok(UpdateDuty::Instant),
            "periodic" => match every_days {
                Some(n) if (1..=366).contains(&n) => Ok(UpdateDuty::Periodic { every_days: n as u32 }),
                _ => Err(FieldError::new("duty_days", "range", "定期更新的栏目须填写更新周期（1 到 366 天）")),
            },
            other => Err(FieldError::new(
                "duty",
                "one_of",
                format!("更新要求「{other}」无效，应为 daily（每日）、periodic（定期）或 instant（即时）"),
            )),
        }
    }

    pub fn kind_str(self) -> &'static str {
        match self {
            UpdateDuty::Daily => "daily",
            UpdateDuty::Periodic { .. } => "periodic",
            UpdateDuty::Instant => "instant",
        }
    }

    pub fn every_days(self) -> Option<i64> {
        match self {
            UpdateDuty::Periodic { every_days } => Some(i64::from(every_days)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnStatus {
    Active,
    Merged,
    Closed,
}

impl ColumnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnStatus::Active => "active",
            ColumnStatus::Merged => "merged",
            ColumnStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ColumnStatus::Active, ColumnStatus::Merged, ColumnStatus::Closed].into_iter().find(|k| k.as_str() == s)
    }
}

/// A column's address segment: lower-case letters, digits and hyphens, 1–64 long.
pub fn check_slug(field: &str, s: &str) -> Result<(), FieldError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "slug_format",
            format!("栏目路径「{s}」无效：只能用小写字母、数字和连字符，不超过 64 个字符"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duties() {
        assert_eq!(UpdateDuty::from_parts("periodic", Some(7)).unwrap(), UpdateDuty::Periodic { every_days: 7 });
        assert_eq!(UpdateDuty::from_parts("periodic", None).unwrap_err().field, "duty_days");
        assert_eq!(UpdateDuty::from_parts("periodic", Some(0)).unwrap_err().rule, "range");
        assert_eq!(UpdateDuty::from_parts("weekly", None).unwrap_err().field, "duty");
        assert_eq!(UpdateDuty::from_parts("daily", Some(3)).unwrap().every_days(), None);
    }

    #[test]
    fn slugs() {
        assert!(check_slug("s", "tzgg-2024").is_ok());
        for bad in ["", "A", "通知", "a/b", "-a", "a b"] {
            assert!(check_slug("s", bad).is_err(), "{bad}");
        }
    }
}
