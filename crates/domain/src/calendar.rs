//! Working days on China's real holiday calendar (R6.3, R3.3): public holidays and the
//! make-up working days (调休) the State Council arranges each year.
//!
//! Deadline rule: the day something arrives is day zero; a deadline of N working days ends
//! at the close of the N-th working day after it. A year without an arrangement counts
//! weekends only, and a deadline counted over such a year is marked estimated.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Weekday};

/// How a date differs from the plain week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// No work, although it may be a weekday.
    Holiday,
    /// Work, although it is a weekend (调休上班).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// A deadline and whether it had to be guessed for a year without an arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub due: Date,
    pub estimated: bool,
}

/// The most working days a deadline may count (about four years).
pub const MAX_DAYS: u32 = 1000;

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    days: BTreeMap<Date, DayKind>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// A calendar from its exceptions; a year counts as arranged when it has any.
    pub fn new(days: impl IntoIterator<Item = (Date, DayKind)>) -> Calendar {
        let days: BTreeMap<Date, DayKind> = days.into_iter().collect();
        let years = days.keys().map(|d| d.year()).collect();
        Calendar { days, years }
    }

    pub fn has_arrangement(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        match self.days.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// The close of the `n`-th working day after `from` (`from` itself is day zero).
    /// `None` when `n` exceeds [`MAX_DAYS`] or the date leaves the supported range.
    pub fn add_working_days(&self, from: Date, n: u32) -> Option<Due> {
        if n > MAX_DAYS {
            return None;
        }
        let mut d = from;
        let mut counted = 0;
        let mut estimated = false;
        while counted < n {
            d = d.checked_add(Duration::days(1))?;
            if !self.has_arrangement(d.year()) {
                estimated = true;
            }
            if self.is_working_day(d) {
                counted += 1;
            }
        }
        Some(Due { due: d, estimated })
    }

    /// Working days from `from` (day zero) up to and including `to`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            match d.checked_add(Duration::days(1)) {
                Some(next) => d = next,
                None => break,
            }
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

/// The arrangements shipped with the project: `date,kind,name,source` lines.
pub const SHIPPED_CSV: &str = include_str!("../data/calendar-cn.csv");

/// One day of the shipped data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedDay {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
    pub source: String,
}

/// Parses the shipped data; a malformed line is a bug in the project and panics in tests.
pub fn shipped_days() -> Vec<ShippedDay> {
    SHIPPED_CSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("date,") && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(4, ',');
            let date = parse_date(f.next()?)?;
            let kind = DayKind::parse(f.next()?)?;
            Some(ShippedDay { date, kind, name: f.next()?.to_string(), source: f.next()?.to_string() })
        })
        .collect()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok()
}

/// Formats `YYYY-MM-DD`.
pub fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Calendar {
        let days = shipped_days();
        let lines = SHIPPED_CSV.lines().filter(|l| !l.starts_with('#') && !l.starts_with("date,")).count();
        assert_eq!(days.len(), lines, "every line of the shipped data parses");
        Calendar::new(days.into_iter().map(|d| (d.date, d.kind)))
    }

    fn due(c: &Calendar, from: &str, n: u32) -> (String, bool) {
        let d = c.add_working_days(parse_date(from).unwrap(), n).unwrap();
        (fmt_date(d.due), d.estimated)
    }

    #[test]
    fn spring_festival_2025_with_its_make_up_sunday_and_saturday() {
        let c = shipped();
        // Fri 24 Jan; Sun 26 Jan and Sat 8 Feb are working days; 28 Jan – 4 Feb are not.
        assert_eq!(due(&c, "2025-01-24", 7), ("2025-02-10".into(), false));
        assert_eq!(due(&c, "2025-01-24", 1), ("2025-01-26".into(), false));
        assert_eq!(due(&c, "2025-01-27", 1), ("2025-02-05".into(), false));
    }

    #[test]
    fn spring_festival_2026_nine_days_off() {
        let c = shipped();
        // Thu 12 Feb; Sat 14 Feb and Sat 28 Feb are working days; 15–23 Feb are not.
        assert_eq!(due(&c, "2026-02-12", 7), ("2026-02-28".into(), false));
        assert_eq!(due(&c, "2026-02-12", 15), ("2026-03-11".into(), false));
        assert!(!c.is_working_day(parse_date("2026-02-23").unwrap()), "Monday 23 Feb is a holiday");
        assert!(c.is_working_day(parse_date("2026-02-14").unwrap()), "Saturday 14 Feb is a working day");
    }

    #[test]
    fn national_day_2025_and_2026() {
        let c = shipped();
        // 2025: Sun 28 Sep and Sat 11 Oct are working days; 1–8 Oct are not.
        assert_eq!(due(&c, "2025-09-26", 7), ("2025-10-13".into(), false));
        // 2026: Sun 20 Sep and Sat 10 Oct are working days; Mid-Autumn 25–27 Sep and 1–7 Oct are not.
        assert_eq!(due(&c, "2026-09-18", 7), ("2026-09-29".into(), false));
        assert_eq!(due(&c, "2026-09-30", 7), ("2026-10-15".into(), false));
        assert_eq!(due(&c, "2026-09-30", 15), ("2026-10-27".into(), false));
    }

    #[test]
    fn day_zero_is_not_counted_and_zero_days_is_the_same_day() {
        let c = shipped();
        assert_eq!(due(&c, "2026-03-02", 1), ("2026-03-03".into(), false));
        assert_eq!(due(&c, "2026-03-07", 1), ("2026-03-09".into(), false), "a Saturday arrival counts from Monday");
        assert_eq!(due(&c, "2026-03-02", 0), ("2026-03-02".into(), false));
    }

    #[test]
    fn a_year_without_an_arrangement_counts_weekends_only_and_says_so() {
        let c = shipped();
        assert!(!c.has_arrangement(2027));
        assert_eq!(due(&c, "2026-12-28", 7), ("2027-01-06".into(), true));
        assert_eq!(due(&c, "2026-12-21", 3), ("2026-12-24".into(), false));
        assert!(c.add_working_days(parse_date("2026-01-01").unwrap(), MAX_DAYS + 1).is_none());
    }

    #[test]
    fn shipped_data_is_consistent() {
        let c = shipped();
        for y in 2015..=2026 {
            assert!(c.has_arrangement(y), "{y}");
        }
        for (d, k) in &c.days {
            if *k == DayKind::Workday {
                assert!(matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday), "make-up day {d} is a weekend");
            }
        }
        assert_eq!(c.working_days_between(parse_date("2026-02-12").unwrap(), parse_date("2026-02-28").unwrap()), 7);
    }
}
