//! The whole audit trail, for the audit administrator (三员分立): read with filters, exported
//! as CSV, and its hash chain verified. Every one of these looks is itself recorded.

use serde::Deserialize;

use crate::app::App;
use crate::kernel::audit::{self, AuditRow, AuditView, ChainReport};
use crate::kernel::export::Csv;
use crate::kernel::time::fmt_time;
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Which entries: all filters optional, combined with AND.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
pub struct AuditFilter {
    /// From this day on (`YYYY-MM-DD`, China Standard Time).
    pub since: Option<String>,
    /// Up to and including this day.
    pub until: Option<String>,
    /// Who acted (user name, exactly).
    pub actor: Option<String>,
    /// `document`, `site`, `user`, `letter`, …
    pub entity: Option<String>,
    /// `create`, `approve`, `login`, `login_failed`, `locked`, …
    pub action: Option<String>,
    pub site_id: Option<i64>,
    /// At most this many, newest first (1–1000, default 200).
    #[serde(skip_serializing)]
    pub limit: Option<i64>,
    /// Entries with an id below this (the next page: the last id seen).
    #[serde(skip_serializing)]
    pub before_id: Option<i64>,
}

fn day_start(field: &str, s: &str) -> AppResult<i64> {
    let d = zhanqun_domain::calendar::parse_date(s.trim())
        .ok_or_else(|| AppError::field(field, "date", format!("日期「{s}」格式应为 YYYY-MM-DD")))?;
    Ok(crate::kernel::time::local_ms(d, 0))
}

impl AuditFilter {
    fn sql(&self) -> AppResult<(String, Vec<Bind>)> {
        let mut wh = Vec::new();
        let mut binds = Vec::new();
        let mut push = |cond: &str, b: Bind| {
            binds.push(b);
            wh.push(cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(s) = self.since.as_deref().filter(|s| !s.trim().is_empty()) {
            push("at >= ?", Bind::Int(day_start("since", s)?));
        }
        if let Some(s) = self.until.as_deref().filter(|s| !s.trim().is_empty()) {
            push("at < ?", Bind::Int(day_start("until", s)? + 86_400_000));
        }
        if let Some(a) = self.actor.as_deref().filter(|s| !s.trim().is_empty()) {
            push("actor_name = ?", Bind::Text(a.trim().to_string()));
        }
        if let Some(e) = self.entity.as_deref().filter(|s| !s.trim().is_empty()) {
            push("entity = ?", Bind::Text(e.trim().to_string()));
        }
        if let Some(a) = self.action.as_deref().filter(|s| !s.trim().is_empty()) {
            push("action = ?", Bind::Text(a.trim().to_string()));
        }
        if let Some(s) = self.site_id {
            push("site_id = ?", Bind::Int(s));
        }
        if let Some(b) = self.before_id {
            push("id < ?", Bind::Int(b));
        }
        let limit = self.limit.unwrap_or(200);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::field("limit", "range", "每次最多 1000 条"));
        }
        let wh = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        Ok((format!("SELECT * FROM audit_log{wh} ORDER BY id DESC LIMIT {limit}"), binds))
    }

    /// The filter as the trail records a look with it (without paging).
    fn described(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

impl App {
    async fn audit_rows(&self, f: &AuditFilter) -> AppResult<Vec<AuditRow>> {
        let (sql, binds) = f.sql()?;
        let mut q = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        Ok(q.fetch_all(&self.db.pool).await?)
    }

    /// Records that the audit administrator looked (`audit_read`, `audit_export`,
    /// `audit_verify`): the auditor's own reads are in the trail too.
    async fn note_audit_look(&self, actor: &Actor, action: &str, detail: serde_json::Value) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        cmd.audit(Audit::event(None, "audit_log", 0, action, detail)).await?;
        cmd.commit().await
    }

    /// Entries of the whole trail, newest first (the audit administrator).
    pub async fn audit_trail(&self, actor: &Actor, f: &AuditFilter) -> AppResult<Vec<AuditView>> {
        actor.require_audit()?;
        let rows = self.audit_rows(f).await?;
        self.note_audit_look(actor, "audit_read", serde_json::json!({"filter": f.described(), "entries": rows.len()}))
            .await?;
        Ok(rows.iter().map(AuditView::from).collect())
    }

    /// The same entries as CSV, oldest first within what was asked for (the audit administrator).
    pub async fn audit_csv(&self, actor: &Actor, f: &AuditFilter) -> AppResult<String> {
        actor.require_audit()?;
        let f = AuditFilter { limit: Some(f.limit.unwrap_or(1000)), ..f.clone() };
        let mut rows = self.audit_rows(&f).await?;
        rows.reverse();
        let mut csv = Csv::default();
        csv.row(["编号", "时间", "操作人", "站点", "对象", "对象编号", "操作", "原状态", "新状态", "说明", "详情"])?;
        for r in &rows {
            csv.row([
                r.id.to_string(),
                fmt_time(r.at),
                r.actor_name.clone(),
                r.site_id.map(|s| s.to_string()).unwrap_or_default(),
                r.entity.clone(),
                r.entity_id.to_string(),
                r.action.clone(),
                r.from_state.clone().unwrap_or_default(),
                r.to_state.clone().unwrap_or_default(),
                r.comment.clone(),
                r.detail.clone(),
            ])?;
        }
        self.note_audit_look(
            actor,
            "audit_export",
            serde_json::json!({"filter": f.described(), "entries": rows.len()}),
        )
        .await?;
        csv.finish()
    }

    /// Checks the trail's hash chain from its first entry to its head (the audit
    /// administrator; also `zhanqun audit verify` at the console).
    pub async fn verify_audit(&self, actor: &Actor) -> AppResult<ChainReport> {
        actor.require_audit()?;
        let mut c = self.db.pool.acquire().await?;
        let report = audit::verify(&mut c).await?;
        drop(c);
        self.note_audit_look(
            actor,
            "audit_verify",
            serde_json::json!({"intact": report.intact, "checked": report.checked, "broken_at": report.broken_at}),
        )
        .await?;
        Ok(report)
    }
}
