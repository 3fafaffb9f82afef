//! The monitor's daily work (issue #13, part 4): every site of the cluster and every
//! external site the web office adds is checked once a day by a job of its own (outside
//! any write transaction, so editors are never blocked); its home page is probed through
//! the day, and availability is judged on a week of probes. Each finished check is kept
//! with its whole report, so trends and rankings come from real runs. A check killed
//! halfway leaves nothing behind: its job's lease runs out and another worker runs it again.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;

use super::check::{self, Evidence, Report, Status, Veto};
use super::fetch::{FetchLimits, Fetcher};
use crate::app::App;
use crate::kernel::jobs::{JobCtx, JobKind, Recurring};
use crate::kernel::time::{fmt_time, local_date, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Whom a check is for: a site of the cluster, or a site outside it added by the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<i64>,
}

impl Subject {
    pub fn site(id: i64) -> Subject {
        Subject { site_id: Some(id), target_id: None }
    }
    pub fn target(id: i64) -> Subject {
        Subject { site_id: None, target_id: Some(id) }
    }
}

/// A site the monitor watches, with its latest check and the trend of its scores.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Watched {
    #[serde(flatten)]
    pub subject: Subject,
    pub name: String,
    /// Where it is checked; none for a cluster site without a domain yet.
    pub url: Option<String>,
    pub in_cluster: bool,
    pub last: Option<RunSummary>,
    /// The latest runs, oldest first (at most 30).
    pub trend: Vec<TrendPoint>,
    /// Place in the ranking (1 = best): sites without a veto first, then by score.
    pub rank: Option<usize>,
}

/// One finished check in figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    pub id: i64,
    #[serde(flatten)]
    pub subject: Subject,
    pub url: String,
    /// The day it ran for (YYYY-MM-DD, China Standard Time).
    pub day: String,
    /// When it finished, RFC 3339.
    pub finished_at: String,
    /// `checked`, `unreachable` or `robots_forbidden`.
    pub status: String,
    pub status_label: &'static str,
    /// Out of 100; none when the site could not be read.
    pub score: Option<f64>,
    /// The bonus part of a portal, out of 30; none for other sites.
    pub bonus: Option<f64>,
    pub vetoes: i64,
    pub warnings: i64,
    pub findings: i64,
    pub pages: i64,
    /// The single-veto indicators that failed.
    pub indicators: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub day: String,
    pub score: Option<f64>,
    pub vetoes: i64,
}

/// A site outside the cluster to check daily.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub name: String,
    pub url: String,
    /// A portal (门户网站): judged on the 30-point bonus part too.
    #[serde(default)]
    pub portal: bool,
}

/// Where a watched site is checked (see `App::monitor_address`).
struct Address {
    url: String,
    resolve: Vec<(String, u16, std::net::IpAddr)>,
    portal: bool,
}

/// A column with an update duty: id, name, duty, its days, last publication, opened.
type DutyRow = (i64, String, String, Option<i64>, Option<i64>, i64);
type RunRow =
    (i64, Option<i64>, Option<i64>, String, String, i64, String, Option<i64>, i64, i64, i64, i64, String, Option<i64>);
const RUN_COLUMNS: &str = "id, site_id, target_id, url, day, finished_at, status, score_tenths, vetoes, warnings, findings, pages, indicators, bonus_tenths";

fn summary(r: RunRow) -> RunSummary {
    let (id, site_id, target_id, url, day, finished_at, status, score, vetoes, warnings, findings, pages, ind, bonus) =
        r;
    RunSummary {
        id,
        subject: Subject { site_id, target_id },
        url,
        day,
        finished_at: fmt_time(finished_at),
        status_label: status_label(&status),
        status,
        score: score.map(|s| s as f64 / 10.0),
        bonus: bonus.map(|b| b as f64 / 10.0),
        vetoes,
        warnings,
        findings,
        pages,
        indicators: ind.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
    }
}

impl App {
    /// Every site the monitor watches that `actor` may see: the web office sees all, others
    /// the cluster sites they hold a role on. Ranked: no veto first, then by score.
    pub async fn watched_sites(&self, actor: &Actor) -> AppResult<Vec<Watched>> {
        let mut out: Vec<Watched> = Vec::new();
        let sites: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM sites WHERE state = 'online' ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?;
        for (id, name) in sites {
            if actor.is_admin || actor.on_site(id) {
                out.push(Watched {
                    subject: Subject::site(id),
                    name,
                    url: self.site_base(id).map(|b| format!("{b}/")),
                    in_cluster: true,
                    last: None,
                    trend: Vec::new(),
                    rank: None,
                });
            }
        }
        if actor.is_admin {
            let targets: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT id, name, url FROM monitor_targets WHERE active = 1 ORDER BY id")
                    .fetch_all(&self.db.pool)
                    .await?;
            for (id, name, url) in targets {
                out.push(Watched {
                    subject: Subject::target(id),
                    name,
                    url: Some(url),
                    in_cluster: false,
                    last: None,
                    trend: Vec::new(),
                    rank: None,
                });
            }
        }
        // The last 30 runs of each, from the past 90 days.
        let since = now_ms() - 90 * 86_400_000;
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM monitor_runs WHERE finished_at >= $1 ORDER BY id"
        )))
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        let mut by: HashMap<Subject, Vec<RunSummary>> = HashMap::new();
        for r in rows {
            let s = summary(r);
            by.entry(s.subject).or_default().push(s);
        }
        for w in &mut out {
            if let Some(mut runs) = by.remove(&w.subject) {
                let from = runs.len().saturating_sub(30);
                w.trend = runs[from..]
                    .iter()
                    .map(|r| TrendPoint { day: r.day.clone(), score: r.score, vetoes: r.vetoes })
                    .collect();
                w.last = runs.pop();
            }
        }
        let mut ranked: Vec<usize> = (0..out.len()).filter(|&i| out[i].last.is_some()).collect();
        ranked.sort_by(|&a, &b| {
            let (x, y) = (out[a].last.as_ref(), out[b].last.as_ref());
            let key = |r: Option<&RunSummary>| r.map(|r| (r.vetoes, -(r.score.unwrap_or(-1.0) * 10.0) as i64));
            key(x).cmp(&key(y))
        });
        for (place, i) in ranked.into_iter().enumerate() {
            out[i].rank = Some(place + 1);
        }
        Ok(out)
    }

    /// The runs of one watched site, newest first.
    pub async fn monitor_runs(&self, actor: &Actor, subject: Subject, limit: i64) -> AppResult<Vec<RunSummary>> {
        self.may_see(actor, subject)?;
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM monitor_runs WHERE (site_id = $1 OR target_id = $2) ORDER BY id DESC LIMIT $3"
        )))
        .bind(subject.site_id.unwrap_or(-1))
        .bind(subject.target_id.unwrap_or(-1))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(summary).collect())
    }

    /// One run: its figures and its whole report (vetoes, deductions, findings, evidence).
    /// The name of the site a run checked (its address when the site is gone).
    pub async fn monitor_site_name(&self, actor: &Actor, run: &RunSummary) -> AppResult<String> {
        Ok(self
            .watched_sites(actor)
            .await?
            .into_iter()
            .find(|w| w.subject == run.subject)
            .map(|w| w.name)
            .unwrap_or_else(|| run.url.clone()))
    }

    pub async fn monitor_run(&self, actor: &Actor, id: i64) -> AppResult<(RunSummary, serde_json::Value)> {
        let row: Option<RunRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM monitor_runs WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?;
        let s = summary(row.ok_or_else(|| AppError::not_found("检查记录", id))?);
        self.may_see(actor, s.subject)?;
        let report: String = sqlx::query_scalar("SELECT report FROM monitor_runs WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        let report = serde_json::from_str(&report).unwrap_or(serde_json::Value::Null);
        Ok((s, report))
    }

    fn may_see(&self, actor: &Actor, s: Subject) -> AppResult<()> {
        let ok = actor.is_admin || s.site_id.is_some_and(|id| actor.on_site(id));
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden("只有市网站主管部门和本网站的人员可以查看检查结果".into()))
        }
    }

    /// Adds a site outside the cluster to the daily checks (the web office).
    pub async fn add_monitor_target(&self, actor: &Actor, i: TargetInput) -> AppResult<Watched> {
        let mut e = FieldErrors::new();
        let name = i.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            e.add("name", "length", "网站名称应为 1 到 100 个字");
        }
        let url = match check::parse_site_url(&i.url) {
            Ok(u) if i.url.chars().count() <= 500 => Some(u.to_string()),
            Ok(_) => {
                e.add("url", "length", "网址不能超过 500 个字符");
                None
            }
            Err(m) => {
                e.add("url", "url", m);
                None
            }
        };
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        if let Some(u) = &url {
            let taken: Option<(i64, i64)> = sqlx::query_as("SELECT id, active FROM monitor_targets WHERE url = $1")
                .bind(u)
                .fetch_optional(cmd.conn())
                .await?;
            if taken.is_some_and(|(_, active)| active == 1) {
                e.add("url", "unique", "这个网址已在检查名单上");
            }
        }
        e.into_result()?;
        let url = url.unwrap_or_default();
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM monitor_targets WHERE url = $1")
            .bind(&url)
            .fetch_optional(cmd.conn())
            .await?;
        let id = match existing {
            Some(id) => {
                sqlx::query("UPDATE monitor_targets SET active = 1, name = $1, portal = $2 WHERE id = $3")
                    .bind(name)
                    .bind(i64::from(i.portal))
                    .bind(id)
                    .execute(cmd.conn())
                    .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO monitor_targets (name, url, active, portal, created_by, created_at) \
                     VALUES ($1, $2, 1, $3, $4, $5) RETURNING id",
                )
                .bind(name)
                .bind(&url)
                .bind(i64::from(i.portal))
                .bind(&actor.name)
                .bind(now_ms())
                .fetch_one(cmd.conn())
                .await?
            }
        };
        cmd.audit(Audit::event(
            None,
            "monitor_target",
            id,
            "create",
            serde_json::json!({"name": name, "url": url, "portal": i.portal}),
        ))
        .await?;
        let payload = serde_json::to_string(&Subject::target(id)).unwrap_or_default();
        cmd.enqueue(MonitorCheck.name(), &payload, now_ms()).await?;
        cmd.commit().await?;
        Ok(Watched {
            subject: Subject::target(id),
            name: name.to_string(),
            url: Some(url),
            in_cluster: false,
            last: None,
            trend: Vec::new(),
            rank: None,
        })
    }

    /// Takes an external site off the daily checks (its runs stay on record).
    pub async fn remove_monitor_target(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let n = sqlx::query("UPDATE monitor_targets SET active = 0 WHERE id = $1 AND active = 1")
            .bind(id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("检查对象", id));
        }
        cmd.audit(Audit::event(None, "monitor_target", id, "remove", serde_json::json!({}))).await?;
        cmd.commit().await
    }

    /// Queues a check of one watched site now (the web office, or the site's admins for
    /// their own site). A check already waiting is not queued twice.
    pub async fn request_monitor_check(&self, actor: &Actor, subject: Subject) -> AppResult<i64> {
        let mut cmd = self.begin(actor).await?;
        match (subject.site_id, subject.target_id) {
            (Some(site), None) => {
                crate::sites::load_site(cmd.conn(), site).await?;
                cmd.require_role(site, &[zhanqun_domain::workflow::Role::SiteAdmin]).await?;
            }
            (None, Some(t)) => {
                cmd.require_admin()?;
                let active: Option<i64> = sqlx::query_scalar("SELECT active FROM monitor_targets WHERE id = $1")
                    .bind(t)
                    .fetch_optional(cmd.conn())
                    .await?;
                if active != Some(1) {
                    return Err(AppError::not_found("检查对象", t));
                }
            }
            _ => {
                return Err(AppError::field(
                    "site_id",
                    "one_of",
                    "请指定一个站点（site_id）或一个外部网站（target_id）",
                ));
            }
        }
        let payload = serde_json::to_string(&subject).unwrap_or_default();
        let queued: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE kind = $1 AND payload = $2 AND state IN ('queued', 'running')",
        )
        .bind(MonitorCheck.name())
        .bind(&payload)
        .fetch_optional(cmd.conn())
        .await?;
        let id = match queued {
            Some(id) => id,
            None => cmd.enqueue(MonitorCheck.name(), &payload, now_ms()).await?,
        };
        cmd.audit(Audit::event(subject.site_id, "monitor_check", id, "request", serde_json::to_value(subject)?))
            .await?;
        cmd.commit().await?;
        Ok(id)
    }

    /// Where a watched site is checked, the address overrides that reach it, and whether it
    /// is a portal.
    async fn monitor_address(&self, s: Subject) -> AppResult<Option<Address>> {
        let found: Option<(String, bool)> = match (s.site_id, s.target_id) {
            (Some(id), _) => {
                let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM sites WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.db.pool)
                    .await?;
                let portal = matches!(kind.as_deref(), Some("city_portal" | "district_portal"));
                self.site_base(id).map(|b| (format!("{b}/"), portal))
            }
            (_, Some(id)) => {
                let row: Option<(String, i64)> =
                    sqlx::query_as("SELECT url, portal FROM monitor_targets WHERE id = $1 AND active = 1")
                        .bind(id)
                        .fetch_optional(&self.db.pool)
                        .await?;
                row.map(|(u, p)| (u, p == 1))
            }
            _ => None,
        };
        let Some((url, portal)) = found else { return Ok(None) };
        let mut resolve = Vec::new();
        // `NAME.localhost` is this machine (RFC 6761), whatever the resolver says.
        if let Ok(u) = url::Url::parse(&url)
            && let Some(h) = u.host_str()
            && (h == "localhost" || h.ends_with(".localhost"))
        {
            resolve.push((
                h.to_string(),
                u.port_or_known_default().unwrap_or(80),
                std::net::Ipv4Addr::LOCALHOST.into(),
            ));
        }
        Ok(Some(Address { url, resolve, portal }))
    }

    /// Runs one check and keeps it.
    async fn run_monitor_check(&self, s: Subject, progress: &(dyn Fn(usize, usize) + Sync)) -> AppResult<Option<i64>> {
        let Some(Address { url, resolve, portal }) = self.monitor_address(s).await? else { return Ok(None) };
        let mut opts = self.config.monitor.options();
        opts.expressions = self.expressions.load_full();
        opts.limits.resolve = resolve;
        opts.portal = portal;
        let started = now_ms();
        let mut report =
            check::check(&url, opts.clone(), progress).await.map_err(|m| AppError::field("url", "url", m))?;
        self.judge_week_of_probes(s, &mut report, &opts.thresholds).await?;
        if let Some(site) = s.site_id {
            self.add_platform_knowledge(site, &mut report, &opts.thresholds).await?;
        }
        let json = serde_json::to_string(&report)?;
        let indicators: Vec<&str> = report.vetoes.iter().map(|v| v.indicator).collect();
        let mut w = self.db.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO monitor_runs (site_id, target_id, url, day, started_at, finished_at, status, score_tenths, \
             vetoes, warnings, findings, pages, indicators, report, bonus_tenths) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(s.site_id)
        .bind(s.target_id)
        .bind(&report.url)
        .bind(today().to_string())
        .bind(started)
        .bind(now_ms())
        .bind(status_name(report.status))
        .bind(report.score.as_ref().map(|sc| (sc.value * 10.0).round() as i64))
        .bind(report.vetoes.len() as i64)
        .bind(report.warnings.len() as i64)
        .bind(report.findings.len() as i64)
        .bind(report.pages_checked as i64)
        .bind(indicators.join(","))
        .bind(json)
        .bind(report.bonus.as_ref().map(|b| (b.value * 10.0).round() as i64))
        .fetch_one(w.conn())
        .await?;
        w.commit().await?;
        if let Some(site) = s.site_id {
            self.judge_notices(site, id, &serde_json::to_value(&report)?).await?;
        }
        Ok(Some(id))
    }

    /// Availability judged on the probes of the past week (when there are enough of them)
    /// together with this check's own, instead of this check's few alone.
    async fn judge_week_of_probes(
        &self,
        s: Subject,
        report: &mut Report,
        t: &zhanqun_domain::inspection::Thresholds,
    ) -> AppResult<()> {
        let since = now_ms() - i64::from(t.availability_days.max(1)) * 86_400_000;
        let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT ok, ms, error FROM monitor_probes WHERE (site_id = $1 OR target_id = $2) AND at >= $3",
        )
        .bind(s.site_id.unwrap_or(-1))
        .bind(s.target_id.unwrap_or(-1))
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        if (rows.len() as u32) < t.daily_probes {
            return Ok(());
        }
        let p = &mut report.probes;
        let mut errors: HashMap<String, u32> = HashMap::new();
        for e in &p.errors {
            *errors.entry(e.clone()).or_default() += 1;
        }
        let mut total_ms = u64::from(p.total) * p.average_ms;
        for (ok, ms, error) in &rows {
            p.total += 1;
            total_ms += (*ms).max(0) as u64;
            if *ok == 0 {
                p.failed += 1;
                *errors.entry(error.clone().unwrap_or_default()).or_default() += 1;
            }
        }
        p.average_ms = total_ms / u64::from(p.total.max(1));
        let mut errors: Vec<(String, u32)> = errors.into_iter().collect();
        errors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        p.errors = errors.into_iter().map(|(e, n)| format!("{e} ×{n}")).collect();
        report.vetoes.retain(|v| v.indicator != "unreachable");
        report.warnings.retain(|v| v.indicator != "unreachable");
        check::availability(report, t);
        if let Some(e) =
            report.vetoes.iter_mut().chain(report.warnings.iter_mut()).find(|v| v.indicator == "unreachable")
        {
            e.message = format!("{}（近 {} 天）", e.message, t.availability_days);
        }
        Ok(())
    }

    /// What the platform knows of a site of the cluster beyond its pages: columns whose
    /// update duty is not met, and letters of the past year unanswered past the limit.
    async fn add_platform_knowledge(
        &self,
        site: i64,
        report: &mut Report,
        t: &zhanqun_domain::inspection::Thresholds,
    ) -> AppResult<()> {
        if report.status != Status::Checked {
            return Ok(());
        }
        let now = now_ms();
        let cols: Vec<DutyRow> = sqlx::query_as(
            "SELECT c.id, c.name, c.duty, c.duty_days, \
             (SELECT MAX(d.first_published_at) FROM document_columns dc JOIN documents d ON d.id = dc.document_id \
               JOIN editions e ON e.id = d.live_edition_id WHERE dc.column_id = c.id AND e.state = 'published'), c.created_at \
             FROM columns c WHERE c.site_id = $1 AND c.status = 'active' AND c.duty IN ('daily', 'periodic') ORDER BY c.id",
        )
        .bind(site)
        .fetch_all(&self.db.pool)
        .await?;
        let mut late = Vec::new();
        for (id, name, duty, days, last, created) in cols {
            let limit = match duty.as_str() {
                "periodic" => days.unwrap_or(t.notice_stale_days).max(1),
                _ => t.news_stale_days,
            };
            let since = last.unwrap_or(created);
            let age = (now - since) / 86_400_000;
            if age > limit {
                late.push(Evidence {
                    page: None,
                    target: Some(format!("栏目 {id}")),
                    date: last.map(|l| local_date(l).to_string()),
                    detail: match last {
                        Some(_) => format!("「{name}」应每 {limit} 天更新，已 {age} 天未更新"),
                        None => format!("「{name}」应每 {limit} 天更新，开设 {age} 天以来没有发布"),
                    },
                });
            }
        }
        if !late.is_empty() {
            let n = late.len();
            let v = Veto {
                indicator: "columns_not_updated",
                kind: Some("should_update"),
                message: format!("{n} 个有更新要求的栏目未按要求更新（平台记录；否决线 {} 个）", t.should_update_veto),
                evidence: late,
            };
            if n >= t.should_update_veto {
                report.vetoes.push(v);
            } else if n >= t.should_update_warn {
                report.warnings.push(v);
            }
        }
        self.interpretations_missing(site, report).await?;
        let from = (today() - time::Duration::days(365)).to_string();
        let to = (today() - time::Duration::days(t.unanswered_days)).to_string();
        let open: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, subject, arrived_on FROM letters WHERE site_id = $1 AND state IN ('received', 'assigned', 'extended') \
             AND arrived_on >= $2 AND arrived_on < $3 ORDER BY arrived_on LIMIT 20",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        if !open.is_empty() {
            let n = open.len();
            report.vetoes.push(Veto {
                indicator: "interaction",
                kind: None,
                message: format!("{n} 件一年内的来信超过 {} 天未答复（平台记录）", t.unanswered_days),
                evidence: open
                    .into_iter()
                    .map(|(id, subject, on)| Evidence {
                        page: None,
                        target: Some(format!("来信 {id}")),
                        date: Some(on.clone()),
                        detail: format!("「{}」{on} 收到，至今未答复", super::shorten(&subject, 40)),
                    })
                    .collect(),
            });
        }
        Ok(())
    }

    /// Important policies of the past year published longer ago than the interpretation
    /// limit (`interpretation_days` working days) without a published interpretation: a
    /// finding each, deducted from the score by the rule's weight.
    async fn interpretations_missing(&self, site: i64, report: &mut Report) -> AppResult<()> {
        let since = now_ms() - 365 * 86_400_000;
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT doc.id, e.title, doc.first_published_at FROM disclosures d JOIN documents doc ON doc.id = d.document_id \
             JOIN editions e ON e.id = doc.live_edition_id WHERE doc.site_id = $1 AND d.important = 1 AND e.state = 'published' \
             AND doc.first_published_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM interpretation_links l JOIN documents i ON i.id = l.interpretation_id \
               JOIN editions ie ON ie.id = i.live_edition_id WHERE l.policy_id = doc.id AND ie.state = 'published') \
             ORDER BY doc.first_published_at",
        )
        .bind(site)
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        let cal = self.calendar.load();
        let mut n = 0usize;
        for (id, title, published) in rows {
            let days = cal.working_days_between(local_date(published), today());
            if days < self.config.interpretation_days {
                continue;
            }
            n += 1;
            let page = self.document_link(-1, site, id);
            report.findings.push(check::Finding {
                rule: "interpretation_missing",
                page,
                target: Some(format!("文档 {id}")),
                element: None,
                evidence: format!("重要政策「{}」发布 {days} 个工作日仍无解读", super::shorten(&title, 40)),
            });
        }
        if n == 0 {
            return Ok(());
        }
        let weights = self.config.monitor.options().weights;
        if let (Some(score), Some(w)) = (report.score.as_mut(), weights.get("interpretation_missing")) {
            let points = ((w.points * n as f64).min(w.cap) * 100.0).round() / 100.0;
            score.value = ((score.value - points).max(0.0) * 100.0).round() / 100.0;
            score.deductions.push(check::ScoredRule {
                rule: "interpretation_missing".into(),
                label: check::rule_label("interpretation_missing"),
                count: n,
                points,
            });
        }
        Ok(())
    }

    /// Every watched site with an address, for the daily jobs.
    async fn monitor_subjects(&self) -> AppResult<Vec<Subject>> {
        let sites: Vec<i64> = sqlx::query_scalar("SELECT id FROM sites WHERE state = 'online' ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?;
        let targets: Vec<i64> = sqlx::query_scalar("SELECT id FROM monitor_targets WHERE active = 1 ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(sites
            .into_iter()
            .filter(|&id| self.site_base(id).is_some())
            .map(Subject::site)
            .chain(targets.into_iter().map(Subject::target))
            .collect())
    }

    /// One probe of every watched home page (at most a few at once), kept; probes older
    /// than 60 days are dropped.
    async fn probe_all(&self) -> AppResult<usize> {
        let t = &self.config.monitor.thresholds;
        let mut targets = Vec::new();
        for s in self.monitor_subjects().await? {
            if let Some(a) = self.monitor_address(s).await? {
                targets.push((s, a));
            }
        }
        let limits = FetchLimits { timeout: Duration::from_secs(t.probe_timeout_seconds), ..Default::default() };
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for (s, Address { url, resolve, .. }) in targets {
            let limits = FetchLimits { resolve, ..limits.clone() };
            let sem = sem.clone();
            tasks.spawn(async move {
                let _p = sem.acquire_owned().await;
                let at = now_ms();
                let Ok(home) = check::parse_site_url(&url) else { return None };
                let Ok(f) = Fetcher::new(limits) else { return None };
                let got = f.fetch(&home, true).await;
                let (ok, error) = match &got.status {
                    Ok(code) if *code < 400 => (true, None),
                    Ok(code) => (false, Some(format!("HTTP {code}"))),
                    Err(e) => (false, Some(e.label())),
                };
                Some((s, at, ok, got.elapsed.as_millis() as i64, error))
            });
        }
        let mut probes = Vec::new();
        while let Some(r) = tasks.join_next().await {
            if let Ok(Some(p)) = r {
                probes.push(p);
            }
        }
        let mut w = self.db.begin_write().await?;
        for (s, at, ok, ms, error) in &probes {
            sqlx::query(
                "INSERT INTO monitor_probes (site_id, target_id, at, ok, ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(s.site_id)
            .bind(s.target_id)
            .bind(at)
            .bind(i64::from(*ok))
            .bind(ms)
            .bind(error)
            .execute(w.conn())
            .await?;
        }
        sqlx::query("DELETE FROM monitor_probes WHERE at < $1")
            .bind(now_ms() - 60 * 86_400_000)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(probes.len())
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Checked => "checked",
        Status::Unreachable => "unreachable",
        Status::RobotsForbidden => "robots_forbidden",
    }
}

/// Chinese for a run's status.
pub fn status_label(s: &str) -> &'static str {
    match s {
        "checked" => "已检查",
        "unreachable" => "无法访问",
        "robots_forbidden" => "robots.txt 禁止检查",
        _ => "未知",
    }
}

/// Every morning: one check job for every watched site.
pub struct MonitorDaily;

impl JobKind for MonitorDaily {
    fn name(&self) -> &'static str {
        "monitor_daily"
    }

    fn label(&self) -> &'static str {
        "网站每日检查"
    }

    fn recurring(&self) -> Option<Recurring> {
        Some(Recurring::DailyAt(2))
    }

    fn runs_at_first_start(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, _: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let escalated = ctx.app.escalate_overdue_notices().await?;
            let subjects = ctx.app.monitor_subjects().await?;
            let mut queued = 0;
            for s in &subjects {
                let payload = serde_json::to_string(s)?;
                let mut w = ctx.app.db.begin_write().await?;
                let pending: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND payload = $2 AND state IN ('queued', 'running')",
                )
                .bind(MonitorCheck.name())
                .bind(&payload)
                .fetch_one(w.conn())
                .await?;
                if pending == 0 {
                    crate::kernel::jobs::insert(w.conn(), MonitorCheck.name(), &payload, now_ms()).await?;
                    queued += 1;
                }
                w.commit().await?;
            }
            ctx.app.jobs.wake();
            ctx.progress(&format!("排入 {queued} 个网站的检查（共 {} 个）；{escalated} 份整改通知逾期", subjects.len()))
                .await
        })
    }
}

/// One check of one watched site.
pub struct MonitorCheck;

impl JobKind for MonitorCheck {
    fn name(&self) -> &'static str {
        "monitor_check"
    }

    fn label(&self) -> &'static str {
        "检查一个网站"
    }

    fn time_limit(&self) -> Duration {
        Duration::from_secs(1800)
    }

    fn max_attempts(&self) -> i64 {
        3
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, payload: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let s: Subject = serde_json::from_str(payload)?;
            let last = std::sync::Mutex::new(std::time::Instant::now());
            let (tx, mut rx) = tokio::sync::watch::channel((0usize, 0usize));
            let progress = move |done: usize, known: usize| {
                if let Ok(mut l) = last.lock()
                    && l.elapsed() > Duration::from_secs(5)
                {
                    *l = std::time::Instant::now();
                    let _ = tx.send((done, known));
                }
            };
            // The progress is written by a task of its own, never by pausing the check: a
            // check paused while it holds the write lock (keeping its run) would wait for
            // its own progress, which waits for that lock, and every writer with them.
            let writer = {
                let ctx = JobCtx { app: ctx.app.clone(), job_id: ctx.job_id };
                tokio::spawn(async move {
                    while rx.changed().await.is_ok() {
                        let (done, known) = *rx.borrow_and_update();
                        if let Err(e) = ctx.progress(&format!("已检查 {done} / {known} 个地址")).await {
                            tracing::warn!(job = ctx.job_id, error = %e, "recording a check's progress");
                        }
                    }
                })
            };
            let r = ctx.app.run_monitor_check(s, &progress).await;
            // The sender goes with the callback: the writer ends after its last update.
            drop(progress);
            let _ = writer.await;
            match r? {
                Some(id) => ctx.progress(&format!("检查完成，记录 {id}")).await,
                None => ctx.progress("没有可检查的网址（站点没有域名，或已移出名单）").await,
            }
        })
    }
}

/// Home pages probed through the day, 20 times and more.
pub struct MonitorProbes;

impl JobKind for MonitorProbes {
    fn name(&self) -> &'static str {
        "monitor_probes"
    }

    fn label(&self) -> &'static str {
        "网站首页可用性探测"
    }

    fn recurring(&self) -> Option<Recurring> {
        Some(Recurring::Every(Duration::from_secs(60 * 60)))
    }

    fn runs_at_first_start(&self) -> bool {
        false
    }

    fn max_attempts(&self) -> i64 {
        2
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, _: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let n = ctx.app.probe_all().await?;
            ctx.progress(&format!("探测 {n} 个首页")).await
        })
    }
}
