//! Time as people read it: instants are stored as UTC Unix milliseconds and shown in
//! China Standard Time (Asia/Shanghai), dates as `YYYY-MM-DD`.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time; Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

fn to_cst(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(CST)
}

/// RFC 3339 in China Standard Time, e.g. `2026-11-29T19:34:00+08:00`.
pub fn fmt_time(ms: i64) -> String {
    to_cst(ms).format(&Rfc3339).unwrap_or_default()
}

pub fn fmt_opt(ms: Option<i64>) -> Option<String> {
    ms.map(fmt_time)
}

/// `YYYY-MM-DD HH:MM` in China Standard Time, as pages show it.
pub fn fmt_local(ms: i64) -> String {
    let t = to_cst(ms);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The calendar date of an instant in China Standard Time.
pub fn local_date(ms: i64) -> Date {
    to_cst(ms).date()
}

/// `YYYY-MM-DD` of an instant in China Standard Time.
pub fn date_only(ms: i64) -> String {
    zhanqun_domain::calendar::fmt_date(local_date(ms))
}

/// Today in China Standard Time.
pub fn today() -> Date {
    local_date(now_ms())
}

/// Now, in Unix milliseconds.
/// Serialises Unix milliseconds as RFC 3339 in China Standard Time, the API's one time
/// format (`#[serde(serialize_with = "…")]` with `#[schema(value_type = String)]`).
pub fn ser_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_time(*ms))
}

pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

/// Unix milliseconds of a local (China Standard Time) date and hour.
pub fn local_ms(day: Date, hour: u8) -> i64 {
    let t = day.midnight().assume_offset(CST) + time::Duration::hours(i64::from(hour));
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Parses an RFC 3339 instant into Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A `YYYY-MM-DD` form or API field, or the field's error (in Chinese) added to `e`.
pub fn day_field(e: &mut zhanqun_domain::FieldErrors, field: &str, s: &str) -> Option<Date> {
    let d = zhanqun_domain::calendar::parse_date(s.trim());
    if d.is_none() {
        e.add(field, "date", "日期格式应为 YYYY-MM-DD");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_china_standard_time() {
        // 2026-01-01T00:00:00Z
        let ms = 1_767_225_600_000;
        assert_eq!(fmt_time(ms), "2026-01-01T08:00:00+08:00");
        assert_eq!(fmt_local(ms), "2026-01-01 08:00");
        assert_eq!(parse_time("2026-01-01T08:00:00+08:00"), Some(ms));
        assert_eq!(parse_time("2026-01-01"), None);
        assert_eq!(date_only(ms), "2026-01-01");
        assert_eq!(local_ms(local_date(ms), 8), ms);
    }
}
