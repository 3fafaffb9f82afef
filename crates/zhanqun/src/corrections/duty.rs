//! Duty reading (值班读网, R2.4): a site's roster of who reads it on each day, and the
//! readers' records of what they read, the problems they found and what was done. Past days
//! on the roster without a record show as missed.

use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::fmt_date;
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::time::{day_field, fmt_time, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Who reads the site on a day (the site's admins keep the roster).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterInput {
    /// YYYY-MM-DD, today or later.
    pub day: String,
    /// The reader's name; empty takes the day off the roster.
    pub reader: String,
}

/// A day's reading record (anyone with a role on the site).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingInput {
    /// YYYY-MM-DD: today or one of the 7 days before.
    pub day: String,
    /// What was read (pages, columns).
    pub pages_read: String,
    /// Problems found; empty: none.
    #[serde(default)]
    pub problems: String,
    /// What was done about them.
    #[serde(default)]
    pub actions: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reading {
    pub id: i64,
    pub day: String,
    pub reader: String,
    pub pages_read: String,
    pub problems: String,
    pub actions: String,
    pub recorded_at: String,
}

/// One day of the roster with what was recorded that day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DutyDay {
    pub day: String,
    pub reader: Option<String>,
    pub readings: Vec<Reading>,
    /// On the roster, past, and nothing recorded.
    pub missed: bool,
}

impl App {
    /// Puts a reader on the roster for a day, or takes the day off (site admins).
    pub async fn set_duty(&self, actor: &Actor, site: i64, r: RosterInput) -> AppResult<()> {
        let mut e = FieldErrors::new();
        let day = day_field(&mut e, "day", &r.day);
        if day.is_some_and(|d| d < today()) {
            e.add("day", "future", "只能安排今天及以后的值班");
        }
        let reader = r.reader.trim();
        if reader.chars().count() > 40 {
            e.add("reader", "length", "值班人员姓名不超过 40 个字");
        }
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site).await?;
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        e.into_result()?;
        let day = fmt_date(day.unwrap_or_else(today));
        sqlx::query("DELETE FROM duty_roster WHERE site_id = $1 AND day = $2")
            .bind(site)
            .bind(&day)
            .execute(cmd.conn())
            .await?;
        if !reader.is_empty() {
            sqlx::query(
                "INSERT INTO duty_roster (site_id, day, reader, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(site)
            .bind(&day)
            .bind(reader)
            .bind(&actor.name)
            .bind(now_ms())
            .execute(cmd.conn())
            .await?;
        }
        cmd.audit(Audit::event(
            Some(site),
            "duty_roster",
            site,
            "set",
            serde_json::json!({"day": day, "reader": reader}),
        ))
        .await?;
        cmd.commit().await
    }

    /// Records a day's reading (anyone with a role on the site).
    pub async fn record_reading(&self, actor: &Actor, site: i64, r: ReadingInput) -> AppResult<Reading> {
        let mut e = FieldErrors::new();
        let day = day_field(&mut e, "day", &r.day);
        if day.is_some_and(|d| d > today() || d < today() - time::Duration::days(7)) {
            e.add("day", "range", "只能记录今天或之前 7 天内的读网情况");
        }
        let read = r.pages_read.trim();
        if read.chars().count() < 2 || read.chars().count() > 2000 {
            e.add("pages_read", "length", "请写明读了哪些页面或栏目（2 到 2000 个字）");
        }
        let problems = r.problems.trim();
        let actions = r.actions.trim();
        if problems.chars().count() > 2000 || actions.chars().count() > 2000 {
            e.add("problems", "length", "发现的问题和处理情况各不超过 2000 个字");
        }
        if !problems.is_empty() && actions.is_empty() {
            e.add("actions", "required", "发现了问题，请写明如何处理的");
        }
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site).await?;
        cmd.require_any_role(site).await?;
        e.into_result()?;
        let day = fmt_date(day.unwrap_or_else(today));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO duty_readings (site_id, day, reader, pages_read, problems, actions, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(site)
        .bind(&day)
        .bind(&actor.name)
        .bind(read)
        .bind(problems)
        .bind(actions)
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            Some(site),
            "duty_reading",
            id,
            "record",
            serde_json::json!({"day": day, "problems": !problems.is_empty()}),
        ))
        .await?;
        cmd.commit().await?;
        Ok(Reading {
            id,
            day,
            reader: actor.name.clone(),
            pages_read: read.into(),
            problems: problems.into(),
            actions: actions.into(),
            recorded_at: fmt_time(now_ms()),
        })
    }

    /// A month of the site's roster (`YYYY-MM`), each day with its records.
    pub async fn duty_month(&self, actor: &Actor, site: i64, month: &str) -> AppResult<Vec<DutyDay>> {
        {
            let mut conn = self.db.pool.acquire().await?;
            crate::kernel::actor::require_any_role(&mut conn, actor, site).await?;
        }
        let first = zhanqun_domain::calendar::parse_date(&format!("{}-01", month.trim()))
            .ok_or_else(|| AppError::field("month", "month", "月份格式应为 YYYY-MM"))?;
        let mut days = Vec::new();
        let mut d = first;
        while d.month() == first.month() {
            days.push(d);
            d = d.next_day().ok_or_else(|| AppError::field("month", "month", "月份超出范围"))?;
        }
        let (from, to) = (fmt_date(first), fmt_date(d));
        let roster: Vec<(String, String)> =
            sqlx::query_as("SELECT day, reader FROM duty_roster WHERE site_id = $1 AND day >= $2 AND day < $3")
                .bind(site)
                .bind(&from)
                .bind(&to)
                .fetch_all(&self.db.pool)
                .await?;
        let readings: Vec<(i64, String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, day, reader, pages_read, problems, actions, created_at FROM duty_readings \
             WHERE site_id = $1 AND day >= $2 AND day < $3 ORDER BY id",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        let today_s = fmt_date(today());
        Ok(days
            .into_iter()
            .map(|d| {
                let day = fmt_date(d);
                let reader = roster.iter().find(|(x, _)| *x == day).map(|(_, r)| r.clone());
                let readings: Vec<Reading> = readings
                    .iter()
                    .filter(|r| r.1 == day)
                    .map(|(id, day, reader, read, problems, actions, at)| Reading {
                        id: *id,
                        day: day.clone(),
                        reader: reader.clone(),
                        pages_read: read.clone(),
                        problems: problems.clone(),
                        actions: actions.clone(),
                        recorded_at: fmt_time(*at),
                    })
                    .collect();
                let missed = reader.is_some() && readings.is_empty() && day < today_s;
                DutyDay { day, reader, readings, missed }
            })
            .collect())
    }
}
