//! The working-day calendar as people use it: deadlines, and the days an administrator
//! keeps up to date when the State Council publishes next year's arrangement.

pub mod admin;
pub mod api;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use time::Date;
use zhanqun_domain::calendar::{Calendar, DayKind, MAX_DAYS, fmt_date, parse_date};

use crate::app::App;
use crate::kernel::events::{Scope, StoredEvent, Subscriber};
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

pub use crate::kernel::time::today;

/// A deadline: the close of that day, `estimated` when a year on the way has no
/// arrangement yet (weekends only were counted).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueView {
    /// `YYYY-MM-DD`.
    pub due: String,
    pub estimated: bool,
}

/// A holiday or a make-up working day, with the notice it comes from.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CalendarDay {
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
    pub source: String,
    pub updated_by: String,
    /// RFC 3339, China Standard Time.
    #[serde(serialize_with = "crate::kernel::time::ser_time")]
    #[schema(value_type = String)]
    pub updated_at: i64,
}

/// Keeps every node's calendar in step with the table.
pub struct CalendarReload;

impl Subscriber for CalendarReload {
    fn name(&self) -> &'static str {
        "calendar"
    }

    fn scope(&self) -> Scope {
        Scope::Node
    }

    fn handle<'a>(&'a self, app: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match e.event {
                Event::CalendarChanged => app.reload_calendar().await,
                _ => Ok(()),
            }
        })
    }
}

fn date_field(field: &str, s: &str) -> AppResult<Date> {
    parse_date(s)
        .ok_or_else(|| AppError::field(field, "date", format!("日期「{s}」格式不对，应为 YYYY-MM-DD，例如 2026-10-01")))
}

/// The close of the `days`-th working day after `from` on `cal` (`from` is day zero).
pub fn due_on(cal: &Calendar, from: &str, days: &str) -> AppResult<DueView> {
    let from = date_field("from", from)?;
    let n: u32 = days.trim().parse().ok().filter(|n| *n <= MAX_DAYS).ok_or_else(|| {
        AppError::field("days", "range", format!("工作日天数「{days}」无效，应为 0 到 {MAX_DAYS} 的整数"))
    })?;
    let d = cal.add_working_days(from, n).ok_or_else(|| AppError::field("from", "range", "日期超出可计算的范围"))?;
    Ok(DueView { due: fmt_date(d.due), estimated: d.estimated })
}

/// The calendar shipped with the project (the State Council's arrangements), without any
/// local change made in a database.
pub fn shipped_calendar() -> Calendar {
    Calendar::new(zhanqun_domain::calendar::shipped_days().into_iter().map(|d| (d.date, d.kind)))
}

impl App {
    /// Reads the calendar table into the in-memory calendar deadlines are counted on.
    pub async fn reload_calendar(&self) -> AppResult<()> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT day, kind FROM calendar_days").fetch_all(&self.db.pool).await?;
        let mut days = Vec::with_capacity(rows.len());
        for (d, k) in rows {
            let day = parse_date(&d).ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad calendar day {d:?}")))?;
            days.push((day, DayKind::try_from(k).map_err(|e| AppError::Internal(e.into()))?));
        }
        let cal = Calendar::new(days);
        self.calendar.store(Arc::new(cal));
        Ok(())
    }

    /// The close of the `days`-th working day after `from` (`from` is day zero).
    pub fn due(&self, from: &str, days: &str) -> AppResult<DueView> {
        due_on(&self.calendar.load(), from, days)
    }

    /// The exceptions of one year, in date order.
    pub async fn calendar_days(&self, year: i32) -> AppResult<Vec<CalendarDay>> {
        if !(1900..=2200).contains(&year) {
            return Err(AppError::field("year", "range", "年份应在 1900 到 2200 之间"));
        }
        Ok(sqlx::query_as("SELECT * FROM calendar_days WHERE day >= $1 AND day <= $2 ORDER BY day")
            .bind(format!("{year:04}-01-01"))
            .bind(format!("{year:04}-12-31"))
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Refuses changes to days before today: a deadline already passed must not move.
    fn check_editable(&self, actor: &Actor, day: Date) -> AppResult<()> {
        if !actor.is_admin {
            return Err(AppError::Forbidden("只有系统管理员可以修改节假日安排".into()));
        }
        if day < today() {
            return Err(AppError::field(
                "date",
                "not_past",
                format!("{} 已经过去，不能修改：已经到期的期限不能因此改变", fmt_date(day)),
            ));
        }
        Ok(())
    }

    /// Sets one day's exception (a holiday, or a make-up working day).
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        date: &str,
        kind: &str,
        name: &str,
        source: &str,
    ) -> AppResult<CalendarDay> {
        let day = date_field("date", date)?;
        self.check_editable(actor, day)?;
        let kind = DayKind::parse(kind)
            .ok_or_else(|| AppError::field("kind", "one_of", "类型应为 holiday（放假）或 workday（调休上班）"))?;
        let mut e = zhanqun_domain::FieldErrors::new();
        e.required("name", "名称", name);
        e.max_chars("name", "名称", name, 60);
        e.required("source", "依据", source);
        e.max_chars("source", "依据", source, 200);
        e.into_result()?;
        let key = fmt_date(day);
        let mut cmd = self.begin(actor).await?;
        let before: Option<CalendarDay> =
            sqlx::query_as("SELECT * FROM calendar_days WHERE day = $1").bind(&key).fetch_optional(cmd.conn()).await?;
        let row: CalendarDay = sqlx::query_as(
            "INSERT INTO calendar_days (day, kind, name, source, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (day) DO UPDATE SET kind = $2, name = $3, source = $4, updated_by = $5, updated_at = $6 RETURNING *",
        )
        .bind(&key)
        .bind(kind.as_str())
        .bind(name.trim())
        .bind(source.trim())
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(
                None,
                "calendar",
                i64::from(day.to_julian_day()),
                "set_day",
                serde_json::json!({"day": key, "name": row.name, "source": row.source}),
            )
            .moved(before.as_ref().map(|b| b.kind.as_str()), Some(kind.as_str())),
        )
        .await?;
        cmd.emit(Event::CalendarChanged).await?;
        cmd.commit().await?;
        Ok(row)
    }

    /// Removes one day's exception: the day follows the plain week again.
    pub async fn delete_calendar_day(&self, actor: &Actor, date: &str) -> AppResult<()> {
        let day = date_field("date", date)?;
        self.check_editable(actor, day)?;
        let key = fmt_date(day);
        let mut cmd = self.begin(actor).await?;
        let before: Option<CalendarDay> =
            sqlx::query_as("SELECT * FROM calendar_days WHERE day = $1").bind(&key).fetch_optional(cmd.conn()).await?;
        let Some(before) = before else {
            return Err(AppError::NotFound(format!("{key} 没有特殊安排")));
        };
        sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(&key).execute(cmd.conn()).await?;
        cmd.audit(
            Audit::event(
                None,
                "calendar",
                i64::from(day.to_julian_day()),
                "delete_day",
                serde_json::json!({"day": key, "name": before.name}),
            )
            .moved(Some(before.kind.as_str()), None),
        )
        .await?;
        cmd.emit(Event::CalendarChanged).await?;
        cmd.commit().await
    }
}
