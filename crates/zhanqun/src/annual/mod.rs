//! Each site's annual work report (网站年度报表, 国办函〔2018〕12号): the figures computed from
//! the platform's own records (information published, topics, interpretations and
//! responses, interaction with counts and average reply days, error reports, visits, the
//! monitor's checks and rectification, the people responsible), editable by the site's
//! admins before they publish it, due by January 31 of the next year; shown as a page (in
//! the admin, and on the site once published) and exported as XLSX.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;
pub mod public;

use crate::app::App;
use crate::kernel::time::{now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// One line of the report.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figure {
    pub key: String,
    pub section: String,
    pub label: String,
    /// As computed, or as the site's admins changed it.
    pub value: String,
    /// What the platform computed.
    pub computed: String,
    pub edited: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnnualReport {
    pub site_id: i64,
    pub site_name: String,
    pub year: i32,
    /// January 31 of the next year.
    pub due_on: String,
    pub published: bool,
    pub published_at: Option<String>,
    /// Past its due day and not published.
    pub overdue: bool,
    pub figures: Vec<Figure>,
    pub notes: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportEdits {
    /// Item → value, for the items to change; an empty value goes back to the computed one.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub notes: String,
}

fn ms_range(year: i32) -> (i64, i64) {
    let start = |y: i32| {
        time::Date::from_calendar_date(y, time::Month::January, 1)
            .map(|d| crate::kernel::time::local_ms(d, 0))
            .unwrap_or(0)
    };
    (start(year), start(year + 1))
}

impl App {
    async fn count(&self, sql: &str, site: i64, a: i64, b: i64) -> AppResult<i64> {
        let n: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(site)
            .bind(a)
            .bind(b)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(n.unwrap_or(0))
    }

    async fn count_days(&self, sql: &str, site: i64, year: i32) -> AppResult<i64> {
        let n: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(site)
            .bind(format!("{year:04}-01-01"))
            .bind(format!("{:04}-01-01", year + 1))
            .fetch_one(&self.db.pool)
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// The report's figures as the platform's records give them.
    async fn computed_figures(
        &self,
        site: i64,
        year: i32,
    ) -> AppResult<Vec<(String, &'static str, &'static str, String)>> {
        let (a, b) = ms_range(year);
        let s: (String, String, Option<String>, Option<String>, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT name, sponsor, primary_domain, site_code, icp_filing, psb_filing FROM sites WHERE id = $1",
        )
        .bind(site)
        .fetch_one(&self.db.pool)
        .await?;
        let published = self
            .count("SELECT COUNT(*) FROM documents WHERE site_id = $1 AND first_published_at >= $2 AND first_published_at < $3", site, a, b)
            .await?;
        let disclosed = self
            .count(
                "SELECT COUNT(*) FROM documents d JOIN disclosures x ON x.document_id = d.id \
                 WHERE d.site_id = $1 AND d.first_published_at >= $2 AND d.first_published_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let of_type = |t: &'static str| {
            format!(
                "SELECT COUNT(*) FROM documents d JOIN disclosures x ON x.document_id = d.id \
                 WHERE d.site_id = $1 AND d.first_published_at >= $2 AND d.first_published_at < $3 AND x.doc_type = '{t}'"
            )
        };
        let interpretations = self.count(&of_type("interpretation"), site, a, b).await?;
        let responses = self.count(&of_type("response"), site, a, b).await?;
        let topics_new = self
            .count(
                "SELECT COUNT(*) FROM topics WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let topics_all = self
            .count(
                "SELECT COUNT(*) FROM topics WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                0,
                b,
            )
            .await?;
        let letters = self
            .count_days(
                "SELECT COUNT(*) FROM letters WHERE site_id = $1 AND arrived_on >= $2 AND arrived_on < $3",
                site,
                year,
            )
            .await?;
        let answered = self
            .count_days(
                "SELECT COUNT(*) FROM letters WHERE site_id = $1 AND arrived_on >= $2 AND arrived_on < $3 AND state IN ('replied', 'not_handled', 'closed')",
                site,
                year,
            )
            .await?;
        let avg: Option<f64> = sqlx::query_scalar(
            "SELECT CAST(AVG(CAST(reply_working_days AS DOUBLE PRECISION)) AS DOUBLE PRECISION) FROM letters \
             WHERE site_id = $1 AND arrived_on >= $2 AND arrived_on < $3 AND reply_working_days IS NOT NULL",
        )
        .bind(site)
        .bind(format!("{year:04}-01-01"))
        .bind(format!("{:04}-01-01", year + 1))
        .fetch_one(&self.db.pool)
        .await?;
        let published_letters = self
            .count_days(
                "SELECT COUNT(*) FROM letters WHERE site_id = $1 AND arrived_on >= $2 AND arrived_on < $3 AND may_publish = 1 AND state IN ('replied', 'closed')",
                site,
                year,
            )
            .await?;
        let consultations = self
            .count(
                "SELECT COUNT(*) FROM consultations WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let comments = self
            .count(
                "SELECT COUNT(*) FROM consultation_comments c JOIN consultations k ON k.id = c.consultation_id \
                 WHERE k.site_id = $1 AND k.created_at >= $2 AND k.created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let surveys = self
            .count(
                "SELECT COUNT(*) FROM surveys WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let interviews = self
            .count(
                "SELECT COUNT(*) FROM interviews WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let questions = self
            .count(
                "SELECT COUNT(*) FROM interview_questions q JOIN interviews i ON i.id = q.interview_id \
                 WHERE i.site_id = $1 AND i.created_at >= $2 AND i.created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let answers = self
            .count(
                "SELECT COUNT(*) FROM interview_questions q JOIN interviews i ON i.id = q.interview_id \
                 WHERE i.site_id = $1 AND i.created_at >= $2 AND i.created_at < $3 AND q.answer IS NOT NULL",
                site,
                a,
                b,
            )
            .await?;
        let error_reports = self
            .count_days(
                "SELECT COUNT(*) FROM error_reports WHERE site_id = $1 AND received_on >= $2 AND received_on < $3",
                site,
                year,
            )
            .await?;
        let error_answered = self
            .count_days(
                "SELECT COUNT(*) FROM error_reports WHERE site_id = $1 AND received_on >= $2 AND received_on < $3 AND state = 'answered'",
                site,
                year,
            )
            .await?;
        let visits = self.visits_in_year(site, year).await?;
        let checks = self
            .count(
                "SELECT COUNT(*) FROM monitor_runs WHERE site_id = $1 AND finished_at >= $2 AND finished_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let found = self
            .count(
                "SELECT COUNT(*) FROM monitor_notices WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
                site,
                a,
                b,
            )
            .await?;
        let fixed = self
            .count(
                "SELECT COUNT(*) FROM monitor_notices WHERE site_id = $1 AND created_at >= $2 AND created_at < $3 AND state = 'closed'",
                site,
                a,
                b,
            )
            .await?;
        let officer: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_people p JOIN bodies b ON b.id = p.body_id WHERE b.site_id = $1 AND p.active = 1 AND p.role IN ('officer', 'supervisor')",
        )
        .bind(site)
        .fetch_one(&self.db.pool)
        .await?;
        let yes = |b: bool| if b { "是" } else { "否" }.to_string();
        let n = |v: i64| v.to_string();
        Ok(vec![
            ("name".into(), "基本信息", "网站名称", s.0),
            ("sponsor".into(), "基本信息", "主办单位", s.1),
            ("domain".into(), "基本信息", "首页网址", s.2.unwrap_or_default()),
            ("site_code".into(), "基本信息", "网站标识码", s.3.unwrap_or_default()),
            ("icp".into(), "基本信息", "ICP备案号", s.4.unwrap_or_default()),
            ("psb".into(), "基本信息", "公安机关备案号", s.5.unwrap_or_default()),
            ("visits".into(), "访问", "网站总访问量（页面浏览次数）", n(visits)),
            ("published".into(), "信息发布", "信息发布总数（条）", n(published)),
            ("disclosed".into(), "信息发布", "其中：信息公开目录信息（条）", n(disclosed)),
            ("topics_all".into(), "专栏专题", "维护数量（个）", n(topics_all)),
            ("topics_new".into(), "专栏专题", "新开设数量（个）", n(topics_new)),
            ("interpretations".into(), "解读回应", "解读信息发布总数（条）", n(interpretations)),
            ("responses".into(), "解读回应", "回应公众关注热点或重大舆情（次）", n(responses)),
            ("services".into(), "办事服务", "政务服务事项数量（项）", "0".into()),
            ("unified_platform".into(), "互动交流", "是否使用统一平台", yes(true)),
            ("letters".into(), "互动交流", "收到留言数量（条）", n(letters)),
            ("letters_done".into(), "互动交流", "办结留言数量（条）", n(answered)),
            (
                "reply_days".into(),
                "互动交流",
                "平均办理时间（工作日）",
                avg.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into()),
            ),
            ("letters_public".into(), "互动交流", "公开答复数量（条）", n(published_letters)),
            ("consultations".into(), "互动交流", "征集调查期数（期）", n(consultations + surveys)),
            ("comments".into(), "互动交流", "收到意见数量（条）", n(comments)),
            ("interviews".into(), "互动交流", "在线访谈期数（期）", n(interviews)),
            ("questions".into(), "互动交流", "网民留言数量（条）", n(questions)),
            ("answers".into(), "互动交流", "答复网民提问数量（条）", n(answers)),
            ("error_reports".into(), "互动交流", "“我为政府网站找错”收到（条）", n(error_reports)),
            ("error_answered".into(), "互动交流", "“我为政府网站找错”答复（条）", n(error_answered)),
            ("checks".into(), "安全防护", "安全检测评估次数（次）", n(checks)),
            ("problems".into(), "安全防护", "发现问题数量（个）", n(found)),
            ("fixed".into(), "安全防护", "问题整改数量（个）", n(fixed)),
            ("monitoring".into(), "安全防护", "是否建立安全监测预警机制", yes(true)),
            ("responsible".into(), "安全防护", "是否明确网站安全责任人", yes(officer > 0)),
            ("new_media".into(), "移动新媒体", "是否有移动新媒体", yes(false)),
            ("innovation".into(), "创新发展", "创新发展情况", String::new()),
        ])
    }

    /// A site's report for `year`: published as published, otherwise computed now with the
    /// admins' changes (the site's staff and the web office).
    pub async fn annual_report(&self, actor: &Actor, site: i64, year: i32) -> AppResult<AnnualReport> {
        {
            let mut conn = self.db.pool.acquire().await?;
            crate::sites::load_site(&mut conn, site).await?;
            crate::kernel::actor::require_any_role(&mut conn, actor, site).await?;
        }
        self.annual_report_unchecked(site, year).await
    }

    async fn annual_report_unchecked(&self, site: i64, year: i32) -> AppResult<AnnualReport> {
        if !(2000..=today().year()).contains(&year) {
            return Err(AppError::field("year", "range", format!("年份应为 2000 到 {} 年", today().year())));
        }
        let row: Option<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT edits, notes, published_figures, published_at FROM site_annual_reports WHERE site_id = $1 AND year = $2",
        )
        .bind(site)
        .bind(i64::from(year))
        .fetch_optional(&self.db.pool)
        .await?;
        let site_name: String =
            sqlx::query_scalar("SELECT name FROM sites WHERE id = $1").bind(site).fetch_one(&self.db.pool).await?;
        let due_on = format!("{:04}-01-31", year + 1);
        let (edits, notes, published, published_at) = row.unwrap_or_default();
        let figures = match published {
            Some(p) => serde_json::from_str(&p)?,
            None => {
                let edits: BTreeMap<String, String> = serde_json::from_str(&edits).unwrap_or_default();
                self.computed_figures(site, year)
                    .await?
                    .into_iter()
                    .map(|(key, section, label, computed)| {
                        let edited = edits.get(&key).cloned();
                        Figure {
                            value: edited.clone().unwrap_or_else(|| computed.clone()),
                            edited: edited.is_some(),
                            key,
                            section: section.into(),
                            label: label.into(),
                            computed,
                        }
                    })
                    .collect()
            }
        };
        Ok(AnnualReport {
            site_id: site,
            site_name,
            year,
            overdue: published_at.is_none() && today().to_string() > due_on,
            due_on,
            published: published_at.is_some(),
            published_at: published_at.map(crate::kernel::time::fmt_time),
            figures,
            notes,
        })
    }

    /// Changes items of a report not yet published (the site's admins).
    pub async fn edit_annual_report(
        &self,
        actor: &Actor,
        site: i64,
        year: i32,
        e: ReportEdits,
    ) -> AppResult<AnnualReport> {
        let current = self.annual_report(actor, site, year).await?;
        let mut errors = zhanqun_domain::FieldErrors::new();
        for (k, v) in &e.values {
            if !current.figures.iter().any(|f| f.key == *k) {
                errors.add(&format!("values.{k}"), "exists", format!("报表中没有「{k}」这一项"));
            } else if v.chars().count() > 2000 {
                errors.add(&format!("values.{k}"), "length", "每项不超过 2000 个字");
            }
        }
        if e.notes.chars().count() > 5000 {
            errors.add("notes", "length", "说明不超过 5000 个字");
        }
        let mut cmd = self.begin(actor).await?;
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        errors.into_result()?;
        if current.published {
            return Err(AppError::Conflict(format!("{year} 年度报表已发布，不能再修改")));
        }
        let row: Option<String> =
            sqlx::query_scalar("SELECT edits FROM site_annual_reports WHERE site_id = $1 AND year = $2")
                .bind(site)
                .bind(i64::from(year))
                .fetch_optional(cmd.conn())
                .await?;
        let mut edits: BTreeMap<String, String> =
            row.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
        for (k, v) in &e.values {
            let computed = current.figures.iter().find(|f| f.key == *k).map(|f| f.computed.as_str()).unwrap_or("");
            if v.trim().is_empty() || v.trim() == computed {
                edits.remove(k);
            } else {
                edits.insert(k.clone(), v.trim().to_string());
            }
        }
        let json = serde_json::to_string(&edits)?;
        sqlx::query("DELETE FROM site_annual_reports WHERE site_id = $1 AND year = $2")
            .bind(site)
            .bind(i64::from(year))
            .execute(cmd.conn())
            .await?;
        sqlx::query(
            "INSERT INTO site_annual_reports (site_id, year, edits, notes, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(site)
        .bind(i64::from(year))
        .bind(&json)
        .bind(e.notes.trim())
        .bind(&actor.name)
        .bind(now_ms())
        .execute(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            Some(site),
            "annual_report",
            i64::from(year),
            "edit",
            serde_json::json!({"edits": edits}),
        ))
        .await?;
        cmd.commit().await?;
        self.annual_report_unchecked(site, year).await
    }

    /// Publishes a year's report as it stands (the site's admins); the year must be over.
    pub async fn publish_annual_report(&self, actor: &Actor, site: i64, year: i32) -> AppResult<AnnualReport> {
        let current = self.annual_report(actor, site, year).await?;
        let mut cmd = self.begin(actor).await?;
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        if current.published {
            return Err(AppError::Conflict(format!("{year} 年度报表已经发布")));
        }
        if year >= today().year() {
            return Err(AppError::Conflict(format!("{year} 年尚未结束，年度报表在次年发布")));
        }
        let figures = serde_json::to_string(&current.figures)?;
        let n = sqlx::query(
            "UPDATE site_annual_reports SET published_figures = $1, published_at = $2, published_by = $3 WHERE site_id = $4 AND year = $5",
        )
        .bind(&figures)
        .bind(now_ms())
        .bind(&actor.name)
        .bind(site)
        .bind(i64::from(year))
        .execute(cmd.conn())
        .await?
        .rows_affected();
        if n == 0 {
            sqlx::query(
                "INSERT INTO site_annual_reports (site_id, year, edits, notes, published_figures, published_at, published_by, updated_by, updated_at) \
                 VALUES ($1, $2, '{}', '', $3, $4, $5, $5, $4)",
            )
            .bind(site)
            .bind(i64::from(year))
            .bind(&figures)
            .bind(now_ms())
            .bind(&actor.name)
            .execute(cmd.conn())
            .await?;
        }
        cmd.audit(Audit::event(Some(site), "annual_report", i64::from(year), "publish", serde_json::json!({}))).await?;
        cmd.commit().await?;
        self.annual_report_unchecked(site, year).await
    }

    /// The published report, for the public.
    pub async fn published_annual_report(&self, site: i64, year: i32) -> AppResult<Option<AnnualReport>> {
        let r = self.annual_report_unchecked(site, year).await?;
        Ok(r.published.then_some(r))
    }
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The report as an XLSX workbook: one sheet, a row per item.
pub fn xlsx(r: &AnnualReport) -> AppResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(format!("{}年度报表", r.year)).map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    ws.write_string_with_format(0, 0, format!("{}　{} 年度网站工作报表", r.site_name, r.year), &bold).map_err(fail)?;
    for (c, h) in ["类别", "项目", "数据"].iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &bold).map_err(fail)?;
    }
    for (i, f) in r.figures.iter().enumerate() {
        let row = 3 + i as u32;
        ws.write_string(row, 0, crate::kernel::export::cell(&f.section)).map_err(fail)?;
        ws.write_string(row, 1, crate::kernel::export::cell(&f.label)).map_err(fail)?;
        match f.value.parse::<f64>() {
            Ok(n) if !f.value.is_empty() && f.key != "site_code" && f.key != "domain" => {
                ws.write_number(row, 2, n).map_err(fail)?
            }
            _ => ws.write_string(row, 2, crate::kernel::export::cell(&f.value)).map_err(fail)?,
        };
    }
    let last = 4 + r.figures.len() as u32;
    ws.write_string(last, 0, "说明").map_err(fail)?;
    ws.write_string(last, 1, crate::kernel::export::cell(&r.notes)).map_err(fail)?;
    ws.set_column_width(0, 14).map_err(fail)?;
    ws.set_column_width(1, 40).map_err(fail)?;
    ws.set_column_width(2, 30).map_err(fail)?;
    wb.save_to_buffer().map_err(fail)
}
