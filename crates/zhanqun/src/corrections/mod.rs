//! 我为政府网站找错 (R2.4, R11): errors the public reports on a site, from the site's own
//! form (`/jiucuo/`) or forwarded from the national platform (`POST /api/v1/error-reports`),
//! routed to the site's editors and answered within 3 working days on the holiday
//! calendar, counted per site; and the site's duty reading (值班读网): a roster of who reads
//! the site each day and their record of what was read, the problems found and what was
//! done.

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::fmt_date;
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;
pub mod duty;
pub mod public;

use crate::app::App;
use crate::kernel::time::{fmt_time, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Working days a report is answered in (国办发〔2017〕47号: 3 working days).
pub const ANSWER_DAYS: u32 = 3;

/// Kinds of error a citizen reports.
pub const KINDS: &[(&str, &str)] = &[
    ("content", "内容错误（错字、数据有误、表述不当）"),
    ("link", "链接打不开或页面不存在"),
    ("stale", "信息不更新"),
    ("interaction", "留言咨询无回应"),
    ("service", "办事服务不能用"),
    ("other", "其他问题"),
];

fn kind_label(k: &str) -> &'static str {
    KINDS.iter().find(|(key, _)| *key == k).map(|(_, l)| *l).unwrap_or("其他问题")
}

/// What a citizen sends from a site's form.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// One of `content`, `link`, `stale`, `interaction`, `service`, `other`.
    pub kind: String,
    /// The page the error is on (optional).
    #[serde(default)]
    pub page_url: String,
    pub description: String,
}

/// A report the national platform forwarded (the web office's integration).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardedReport {
    /// The site reported on: its id, or its site code (网站标识码).
    #[serde(default)]
    pub site_id: Option<i64>,
    #[serde(default)]
    pub site_code: Option<String>,
    /// The national platform's number for it; a report forwarded twice is kept once.
    pub external_id: String,
    pub kind: String,
    #[serde(default)]
    pub page_url: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    pub reply: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorReport {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    /// `site` (the site's form) or `national` (forwarded from the national platform).
    pub source: String,
    pub source_label: &'static str,
    pub external_id: Option<String>,
    pub kind: String,
    pub kind_label: &'static str,
    pub page_url: String,
    pub description: String,
    /// `received` or `answered`.
    pub state: String,
    pub state_label: &'static str,
    /// YYYY-MM-DD.
    pub received_on: String,
    pub due_on: String,
    /// Unanswered past its due day.
    pub overdue: bool,
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<String>,
    /// Answered by its due day.
    pub on_time: Option<bool>,
}

/// What the citizen is given: the code to look the answer up with, and the due day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub code: String,
    pub due_on: String,
}

/// What the public sees of a report by its code.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    pub kind_label: &'static str,
    pub received_on: String,
    pub due_on: String,
    pub state_label: &'static str,
    pub reply: Option<String>,
    pub replied_on: Option<String>,
}

/// The reports of one site in figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportCounts {
    pub site_id: i64,
    pub site_name: String,
    pub received: i64,
    pub answered: i64,
    pub on_time: i64,
    pub open: i64,
    pub overdue: i64,
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(format!("zhanqun-jiucuo:{code}").as_bytes()))
}

fn new_code() -> String {
    let alphabet = zhanqun_domain::mailbox::CODE_ALPHABET;
    let mut rng = rand::rng();
    (0..12).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

fn check_report(e: &mut FieldErrors, kind: &str, page_url: &str, description: &str) {
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        e.add("kind", "one_of", "请选择问题类型（content、link、stale、interaction、service 或 other）");
    }
    let u = page_url.trim();
    if !u.is_empty() {
        let ok = u.chars().count() <= 500
            && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some());
        if !ok {
            e.add(
                "page_url",
                "url",
                "页面地址应是以 http:// 或 https:// 开头的网址（不超过 500 个字符），不知道可不填",
            );
        }
    }
    let n = description.trim().chars().count();
    if !(5..=2000).contains(&n) {
        e.add("description", "length", "问题描述应为 5 到 2000 个字");
    }
}

/// Kind, received, due, state, reply, replied on.
type TrackRow = (String, String, String, String, Option<String>, Option<String>);
type ReportRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);
const REPORT_SELECT: &str = "SELECT r.id, r.site_id, s.name, r.source, r.external_id, r.kind, r.page_url, r.description, \
     r.state, r.received_on, r.due_on, r.reply, r.replied_by, r.replied_at, r.on_time \
     FROM error_reports r JOIN sites s ON s.id = r.site_id";

fn view(r: ReportRow) -> ErrorReport {
    let (
        id,
        site_id,
        site_name,
        source,
        external_id,
        kind,
        page_url,
        description,
        state,
        received_on,
        due_on,
        reply,
        by,
        at,
        on_time,
    ) = r;
    let today_s = fmt_date(today());
    ErrorReport {
        id,
        site_id,
        site_name,
        source_label: if source == "national" {
            "全国政府网站找错平台转来"
        } else {
            "本网站找错页面"
        },
        source,
        external_id,
        kind_label: kind_label(&kind),
        kind,
        page_url,
        description,
        overdue: state == "received" && due_on < today_s,
        state_label: if state == "answered" { "已答复" } else { "待答复" },
        state,
        received_on,
        due_on,
        reply,
        replied_by: by,
        replied_at: at.map(fmt_time),
        on_time: on_time.map(|t| t == 1),
    }
}

impl App {
    async fn insert_report(
        &self,
        cmd: &mut crate::kernel::Command<'_>,
        site: i64,
        source: &str,
        external_id: Option<&str>,
        r: &NewReport,
    ) -> AppResult<(i64, String, String)> {
        let (kind, page_url, description) = (r.kind.as_str(), r.page_url.as_str(), r.description.as_str());
        let received = today();
        let due = self
            .calendar
            .load()
            .add_working_days(received, ANSWER_DAYS)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("calendar range")))?;
        let code = new_code();
        let due_on = fmt_date(due.due);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO error_reports (site_id, source, external_id, code_hash, kind, page_url, description, state, \
             received_on, due_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $9, $10) RETURNING id",
        )
        .bind(site)
        .bind(source)
        .bind(external_id)
        .bind(code_hash(&code))
        .bind(kind)
        .bind(page_url.trim())
        .bind(description.trim())
        .bind(fmt_date(received))
        .bind(&due_on)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit {
            to_state: Some("received"),
            ..Audit::event(
                Some(site),
                "error_report",
                id,
                "receive",
                serde_json::json!({"source": source, "kind": kind}),
            )
        })
        .await?;
        Ok((id, code, due_on))
    }

    /// A citizen's report from the site's own form.
    pub async fn submit_error_report(&self, site: i64, r: NewReport) -> AppResult<Receipt> {
        let mut e = FieldErrors::new();
        check_report(&mut e, &r.kind, &r.page_url, &r.description);
        e.into_result()?;
        let citizen = Actor::public("找错网民");
        let mut cmd = self.begin(&citizen).await?;
        let (_, code, due_on) = self.insert_report(&mut cmd, site, "site", None, &r).await?;
        cmd.commit().await?;
        Ok(Receipt { code, due_on })
    }

    /// A report forwarded from the national platform (the web office). Forwarded twice
    /// (same `external_id`): the one kept is returned, with `false`.
    pub async fn forward_error_report(&self, actor: &Actor, r: ForwardedReport) -> AppResult<(ErrorReport, bool)> {
        let mut e = FieldErrors::new();
        check_report(&mut e, &r.kind, &r.page_url, &r.description);
        let ext = r.external_id.trim();
        if ext.is_empty() || ext.chars().count() > 100 {
            e.add("external_id", "length", "请填写全国平台的问题编号（不超过 100 个字符）");
        }
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let site: Option<i64> = match (r.site_id, r.site_code.as_deref().map(str::trim)) {
            (Some(id), _) => {
                sqlx::query_scalar("SELECT id FROM sites WHERE id = $1").bind(id).fetch_optional(cmd.conn()).await?
            }
            (None, Some(code)) if !code.is_empty() => {
                sqlx::query_scalar("SELECT id FROM sites WHERE site_code = $1")
                    .bind(code)
                    .fetch_optional(cmd.conn())
                    .await?
            }
            _ => None,
        };
        if site.is_none() {
            e.add("site_id", "exists", "找不到被反映的网站：请给出集群内网站的 site_id 或网站标识码 site_code");
        }
        e.into_result()?;
        let site = site.unwrap_or_default();
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM error_reports WHERE source = 'national' AND external_id = $1")
                .bind(ext)
                .fetch_optional(cmd.conn())
                .await?;
        if let Some(id) = existing {
            drop(cmd);
            return Ok((self.error_report_by_id(id).await?, false));
        }
        let report = NewReport { kind: r.kind, page_url: r.page_url, description: r.description };
        let (id, _, _) = self.insert_report(&mut cmd, site, "national", Some(ext), &report).await?;
        cmd.commit().await?;
        Ok((self.error_report_by_id(id).await?, true))
    }

    async fn error_report_by_id(&self, id: i64) -> AppResult<ErrorReport> {
        let row: Option<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{REPORT_SELECT} WHERE r.id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(view).ok_or_else(|| AppError::not_found("找错留言", id))
    }

    /// One report, for the site's staff and the web office.
    pub async fn error_report(&self, actor: &Actor, id: i64) -> AppResult<ErrorReport> {
        let r = self.error_report_by_id(id).await?;
        if !actor.on_site(r.site_id) {
            return Err(AppError::not_found("找错留言", id));
        }
        Ok(r)
    }

    /// The site's editors (or its admins) answer a report.
    pub async fn reply_error_report(&self, actor: &Actor, id: i64, r: ReplyInput) -> AppResult<ErrorReport> {
        let reply = r.reply.trim();
        if reply.chars().count() < 2 || reply.chars().count() > 2000 {
            return Err(AppError::field("reply", "length", "答复应为 2 到 2000 个字"));
        }
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT site_id, state, due_on FROM error_reports WHERE id = $1")
                .bind(id)
                .fetch_optional(cmd.conn())
                .await?;
        let Some((site, state, due)) = row else { return Err(AppError::not_found("找错留言", id)) };
        cmd.require_role(site, &[Role::Editor, Role::SiteAdmin]).await?;
        if state != "received" {
            return Err(AppError::Conflict("这条留言已经答复过了".into()));
        }
        let on_time = fmt_date(today()) <= due;
        sqlx::query(
            "UPDATE error_reports SET state = 'answered', reply = $1, replied_by = $2, replied_at = $3, replied_on = $4, \
             on_time = $5 WHERE id = $6",
        )
        .bind(reply)
        .bind(&actor.name)
        .bind(now_ms())
        .bind(fmt_date(today()))
        .bind(i64::from(on_time))
        .bind(id)
        .execute(cmd.conn())
        .await?;
        cmd.audit(Audit {
            from_state: Some("received"),
            to_state: Some("answered"),
            comment: reply,
            ..Audit::event(Some(site), "error_report", id, "reply", serde_json::json!({"on_time": on_time}))
        })
        .await?;
        cmd.commit().await?;
        self.error_report_by_id(id).await
    }

    /// Reports `actor` may see (the web office: all; others: their sites'), unanswered
    /// first, then newest; optionally of one site or in one state.
    pub async fn error_reports(
        &self,
        actor: &Actor,
        site: Option<i64>,
        state: Option<&str>,
    ) -> AppResult<Vec<ErrorReport>> {
        if let Some(s) = state
            && !matches!(s, "received" | "answered")
        {
            return Err(AppError::field("state", "one_of", "state 应为 received（待答复）或 answered（已答复）"));
        }
        let rows: Vec<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REPORT_SELECT} WHERE (CAST($1 AS BIGINT) IS NULL OR r.site_id = $1) AND (CAST($2 AS TEXT) IS NULL OR r.state = $2) \
             ORDER BY CASE WHEN r.state = 'received' THEN 0 ELSE 1 END, r.id DESC LIMIT 1000"
        )))
        .bind(site)
        .bind(state)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().filter(|r| actor.on_site(r.1)).map(view).collect())
    }

    /// Reports per site in a year (by the day received), for the staff's sites.
    pub async fn error_report_counts(&self, actor: &Actor, year: i32) -> AppResult<Vec<ReportCounts>> {
        let today_s = fmt_date(today());
        let rows: Vec<(i64, String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT r.site_id, s.name, COUNT(*), \
             CAST(SUM(CASE WHEN r.state = 'answered' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN r.on_time = 1 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN r.state = 'received' AND r.due_on < $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM error_reports r JOIN sites s ON s.id = r.site_id \
             WHERE r.received_on >= $2 AND r.received_on < $3 GROUP BY r.site_id, s.name ORDER BY r.site_id",
        )
        .bind(&today_s)
        .bind(format!("{year:04}-01-01"))
        .bind(format!("{:04}-01-01", year + 1))
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| actor.on_site(r.0))
            .map(|(site_id, site_name, received, answered, on_time, overdue)| ReportCounts {
                site_id,
                site_name,
                received,
                answered,
                on_time,
                open: received - answered,
                overdue,
            })
            .collect())
    }

    /// What the public sees of a report by its code (the description is not shown again).
    pub async fn track_error_report(&self, site: i64, code: &str) -> AppResult<Tracked> {
        let code = code.trim().to_uppercase();
        let row: Option<TrackRow> = sqlx::query_as(
            "SELECT kind, received_on, due_on, state, reply, replied_on FROM error_reports WHERE code_hash = $1 AND site_id = $2",
        )
        .bind(code_hash(&code))
        .bind(site)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((kind, received_on, due_on, state, reply, replied_on)) = row else {
            return Err(AppError::NotFound("没有找到这个查询码的留言，请核对后再试".into()));
        };
        Ok(Tracked {
            kind_label: kind_label(&kind),
            received_on,
            due_on,
            state_label: if state == "answered" { "已答复" } else { "办理中" },
            reply,
            replied_on,
        })
    }
}
