//! Rectification notices (整改通知, R11.1): the web office sends a problem a run found on a
//! site of the cluster to the site's admins with a deadline in working days (on the holiday
//! calendar); they answer; the next run of the site decides: the problem gone closes the
//! notice, still there sends it back (or, past the deadline, escalates it to the city's
//! overview). A notice past its deadline without an answer escalates too. Every step is
//! recorded in the audit trail.

use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::fmt_date;
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::time::{fmt_time, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// What the office sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// The run that found the problem (a site of the cluster).
    pub run_id: i64,
    /// A veto indicator (`home_not_updated`; `columns_not_updated:stale` with its kind) or
    /// a finding's rule (`broken_link`), as the run names it.
    pub problem: String,
    /// What the site is to do.
    pub request: String,
    /// Working days to do it in (1–60).
    pub working_days: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// What was done.
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub run_id: i64,
    pub problem: String,
    pub problem_label: String,
    /// What the run found, as the notice states it.
    pub found: String,
    pub request: String,
    pub working_days: i64,
    /// YYYY-MM-DD.
    pub due_on: String,
    /// `open`, `answered`, `closed` or `escalated`.
    pub state: String,
    pub state_label: &'static str,
    pub overdue: bool,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
    /// The run that last judged it, and what it found.
    pub checked_run_id: Option<i64>,
    pub checked_note: Option<String>,
    pub closed_at: Option<String>,
    pub escalated_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

pub fn state_label(s: &str) -> &'static str {
    match s {
        "open" => "待整改",
        "answered" => "已答复，待复查",
        "closed" => "已整改",
        "escalated" => "逾期未整改",
        _ => "未知",
    }
}

/// The problems a report holds: each veto and warning as `indicator[:kind]`, each rule of
/// its findings; with a line saying what was found.
pub fn problems(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for key in ["vetoes", "warnings"] {
        for v in report.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
            let ind = v.get("indicator").and_then(|i| i.as_str()).unwrap_or("");
            let id = match v.get("kind").and_then(|k| k.as_str()) {
                Some(k) => format!("{ind}:{k}"),
                None => ind.to_string(),
            };
            let msg = v.get("message").and_then(|m| m.as_str()).unwrap_or("");
            if !out.iter().any(|(p, _)| *p == id) {
                out.push((id, format!("{}：{msg}", super::indicator_label(ind))));
            }
        }
    }
    let mut counts: Vec<(String, usize, String)> = Vec::new();
    for f in report.get("findings").and_then(|v| v.as_array()).into_iter().flatten() {
        let rule = f.get("rule").and_then(|r| r.as_str()).unwrap_or("").to_string();
        match counts.iter_mut().find(|c| c.0 == rule) {
            Some(c) => c.1 += 1,
            None => {
                let first = f.get("evidence").and_then(|e| e.as_str()).unwrap_or("").to_string();
                counts.push((rule, 1, first));
            }
        }
    }
    for (rule, n, first) in counts {
        out.push((
            rule.clone(),
            format!("{}：{n} 处，如 {}", super::check::rule_label(&rule), super::shorten(&first, 80)),
        ));
    }
    out
}

pub fn problem_label(problem: &str) -> String {
    let (head, kind) = problem.split_once(':').unwrap_or((problem, ""));
    let indicator = super::indicator_label(head);
    if indicator != "其他" {
        if kind.is_empty() { indicator.to_string() } else { format!("{indicator}（{kind}）") }
    } else {
        super::check::rule_label(head).to_string()
    }
}

type NoticeRow = (
    i64,
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);
const NOTICE_SELECT: &str = "SELECT n.id, n.site_id, s.name, n.run_id, n.problem, n.found, n.request, n.working_days, \
     n.due_on, n.state, n.answer, n.answered_by, n.answered_at, n.checked_run_id FROM monitor_notices n JOIN sites s ON s.id = n.site_id";
type NoticeTail = (Option<String>, Option<i64>, Option<i64>, String, i64);

impl App {
    /// Sends a rectification notice for a problem a run found (the web office).
    pub async fn send_notice(&self, actor: &Actor, i: NoticeInput) -> AppResult<Notice> {
        let mut e = FieldErrors::new();
        let request = i.request.trim();
        if request.is_empty() || request.chars().count() > 2000 {
            e.add("request", "length", "整改要求应为 1 到 2000 个字");
        }
        if !(1..=60).contains(&i.working_days) {
            e.add("working_days", "range", "整改期限应为 1 到 60 个工作日");
        }
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let run: Option<(Option<i64>, String)> =
            sqlx::query_as("SELECT site_id, report FROM monitor_runs WHERE id = $1")
                .bind(i.run_id)
                .fetch_optional(cmd.conn())
                .await?;
        let Some((site, report)) = run else { return Err(AppError::not_found("检查记录", i.run_id)) };
        let Some(site) = site else {
            return Err(AppError::field(
                "run_id",
                "cluster",
                "整改通知只能发给集群内的网站；集群外网站请另行联系其主办单位",
            ));
        };
        let report: serde_json::Value = serde_json::from_str(&report)?;
        let found = problems(&report).into_iter().find(|(p, _)| *p == i.problem).map(|(_, f)| f);
        if found.is_none() {
            e.add("problem", "found", "这次检查没有发现这个问题");
        }
        let due = self.calendar.load().add_working_days(today(), i.working_days.clamp(1, 60) as u32);
        e.into_result()?;
        let due = fmt_date(due.map(|d| d.due).unwrap_or_else(today));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO monitor_notices (site_id, run_id, problem, found, request, working_days, due_on, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id",
        )
        .bind(site)
        .bind(i.run_id)
        .bind(&i.problem)
        .bind(found.unwrap_or_default())
        .bind(request)
        .bind(i.working_days)
        .bind(&due)
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit {
            to_state: Some("open"),
            ..Audit::event(
                Some(site),
                "monitor_notice",
                id,
                "send",
                serde_json::json!({"run_id": i.run_id, "problem": i.problem, "due_on": due}),
            )
        })
        .await?;
        cmd.commit().await?;
        self.notice(actor, id).await
    }

    /// The site's admins answer what they did; the site is checked again at once.
    pub async fn answer_notice(&self, actor: &Actor, id: i64, a: AnswerInput) -> AppResult<Notice> {
        let answer = a.answer.trim();
        if answer.is_empty() || answer.chars().count() > 2000 {
            return Err(AppError::field("answer", "length", "整改情况应为 1 到 2000 个字"));
        }
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, String)> = sqlx::query_as("SELECT site_id, state FROM monitor_notices WHERE id = $1")
            .bind(id)
            .fetch_optional(cmd.conn())
            .await?;
        let Some((site, state)) = row else { return Err(AppError::not_found("整改通知", id)) };
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        if !matches!(state.as_str(), "open" | "escalated") {
            return Err(AppError::Conflict(format!("这份通知{}，不能再答复", state_label(&state))));
        }
        sqlx::query(
            "UPDATE monitor_notices SET state = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4",
        )
        .bind(answer)
        .bind(&actor.name)
        .bind(now_ms())
        .bind(id)
        .execute(cmd.conn())
        .await?;
        cmd.audit(Audit {
            from_state: Some(&state),
            to_state: Some("answered"),
            comment: answer,
            ..Audit::event(Some(site), "monitor_notice", id, "answer", serde_json::json!({}))
        })
        .await?;
        let payload = serde_json::to_string(&super::daily::Subject::site(site))?;
        let queued: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE kind = 'monitor_check' AND payload = $1 AND state = 'queued'",
        )
        .bind(&payload)
        .fetch_optional(cmd.conn())
        .await?;
        if queued.is_none() {
            cmd.enqueue("monitor_check", &payload, now_ms()).await?;
        }
        cmd.commit().await?;
        self.notice(actor, id).await
    }

    /// Notices `actor` may see (the office: all; others: their sites'), newest first;
    /// optionally of one site or in one state.
    pub async fn notices(&self, actor: &Actor, site: Option<i64>, state: Option<&str>) -> AppResult<Vec<Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{NOTICE_SELECT} WHERE (CAST($1 AS BIGINT) IS NULL OR n.site_id = $1) AND (CAST($2 AS TEXT) IS NULL OR n.state = $2) \
             ORDER BY n.id DESC LIMIT 500"
        )))
        .bind(site)
        .bind(state)
        .fetch_all(&self.db.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            if actor.is_admin || actor.on_site(r.1) {
                out.push(self.notice_view(r).await?);
            }
        }
        Ok(out)
    }

    pub async fn notice(&self, actor: &Actor, id: i64) -> AppResult<Notice> {
        let row: Option<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{NOTICE_SELECT} WHERE n.id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        let row = row.ok_or_else(|| AppError::not_found("整改通知", id))?;
        if !(actor.is_admin || actor.on_site(row.1)) {
            return Err(AppError::not_found("整改通知", id));
        }
        self.notice_view(row).await
    }

    async fn notice_view(&self, r: NoticeRow) -> AppResult<Notice> {
        let (
            id,
            site_id,
            site_name,
            run_id,
            problem,
            found,
            request,
            working_days,
            due_on,
            state,
            answer,
            by,
            at,
            checked,
        ) = r;
        let (note, closed, escalated, created_by, created_at): NoticeTail = sqlx::query_as(
            "SELECT checked_note, closed_at, escalated_at, created_by, created_at FROM monitor_notices WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(Notice {
            id,
            site_id,
            site_name,
            run_id,
            problem_label: problem_label(&problem),
            problem,
            found,
            request,
            working_days,
            overdue: matches!(state.as_str(), "open" | "escalated") && due_on < fmt_date(today()),
            due_on,
            state_label: state_label(&state),
            state,
            answer,
            answered_by: by,
            answered_at: at.map(fmt_time),
            checked_run_id: checked,
            checked_note: note,
            closed_at: closed.map(fmt_time),
            escalated_at: escalated.map(fmt_time),
            created_by,
            created_at: fmt_time(created_at),
        })
    }

    /// After a run of a cluster site: each of its pending notices judged on what the run
    /// found. Gone: closed. Still there: back to open (or escalated past the deadline).
    pub(crate) async fn judge_notices(&self, site: i64, run_id: i64, report: &serde_json::Value) -> AppResult<()> {
        let found = problems(report);
        let pending: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, problem, state, due_on FROM monitor_notices WHERE site_id = $1 AND state IN ('open', 'answered', 'escalated')",
        )
        .bind(site)
        .fetch_all(&self.db.pool)
        .await?;
        if pending.is_empty() {
            return Ok(());
        }
        let today_s = fmt_date(today());
        let system = Actor::system("网站检查");
        let mut cmd = self.begin(&system).await?;
        for (id, problem, state, due) in pending {
            let still = found.iter().find(|(p, _)| *p == problem);
            let (to, note) = match still {
                None => ("closed", format!("检查记录 {run_id} 未再发现此问题")),
                Some((_, what)) if due < today_s => ("escalated", format!("检查记录 {run_id} 仍发现：{what}")),
                Some((_, what)) if state == "answered" => {
                    ("open", format!("已答复整改，但检查记录 {run_id} 仍发现：{what}"))
                }
                Some(_) => continue,
            };
            if to == state {
                continue;
            }
            sqlx::query(
                "UPDATE monitor_notices SET state = $1, checked_run_id = $2, checked_note = $3, \
                 closed_at = CASE WHEN $1 = 'closed' THEN $4 ELSE closed_at END, \
                 escalated_at = CASE WHEN $1 = 'escalated' THEN $4 ELSE escalated_at END WHERE id = $5",
            )
            .bind(to)
            .bind(run_id)
            .bind(&note)
            .bind(now_ms())
            .bind(id)
            .execute(cmd.conn())
            .await?;
            cmd.audit(Audit {
                from_state: Some(&state),
                to_state: Some(to),
                comment: &note,
                ..Audit::event(Some(site), "monitor_notice", id, "recheck", serde_json::json!({"run_id": run_id}))
            })
            .await?;
        }
        cmd.commit().await
    }

    /// Every morning: notices past their deadline without an answer escalate.
    pub(crate) async fn escalate_overdue_notices(&self) -> AppResult<usize> {
        let today_s = fmt_date(today());
        let late: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, site_id FROM monitor_notices WHERE state = 'open' AND due_on < $1")
                .bind(&today_s)
                .fetch_all(&self.db.pool)
                .await?;
        if late.is_empty() {
            return Ok(0);
        }
        let system = Actor::system("网站检查");
        let mut cmd = self.begin(&system).await?;
        for (id, site) in &late {
            sqlx::query(
                "UPDATE monitor_notices SET state = 'escalated', escalated_at = $1, checked_note = $2 WHERE id = $3",
            )
            .bind(now_ms())
            .bind("逾期未答复")
            .bind(id)
            .execute(cmd.conn())
            .await?;
            cmd.audit(Audit {
                from_state: Some("open"),
                to_state: Some("escalated"),
                comment: "逾期未答复",
                ..Audit::event(Some(*site), "monitor_notice", *id, "escalate", serde_json::json!({}))
            })
            .await?;
        }
        cmd.commit().await?;
        Ok(late.len())
    }
}
