//! The admin's 网站检查 screens: every watched site ranked with yesterday's vetoes, score and
//! trend (charts drawn as inline SVG, no script); one run's report with each deduction and
//! its evidence; external sites added and removed; a check on request; the ranking as CSV.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use serde::Serialize;

use super::daily::{Subject, TargetInput, TrendPoint, Watched, status_label};
use super::notices::{AnswerInput, NoticeInput};
use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::export::Csv;
use crate::web::admin::{Admin, Posted, Shown, Signed, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/monitor", get(overview))
        .route("/admin/monitor.csv", get(csv))
        .route("/admin/monitor.xlsx", get(xlsx))
        .route("/admin/monitor/runs/{id}", get(run))
        .route("/admin/monitor/runs/{id}/report.xlsx", get(run_export))
        .route("/admin/monitor/targets", post(add_target))
        .route("/admin/monitor/targets/{id}/remove", post(remove_target))
        .route("/admin/monitor/check", post(request_check))
        .route("/admin/monitor/notices", post(send_notice))
        .route("/admin/monitor/notices/{id}/answer", post(answer_notice))
}

/// A trend drawn in a `w`×`h` box: the score line's points, and the runs with a veto.
#[derive(Serialize)]
struct Chart {
    w: u32,
    h: u32,
    line: String,
    vetoed: Vec<(f64, f64)>,
    first: String,
    last: String,
}

fn chart(points: &[TrendPoint], w: u32, h: u32) -> Option<Chart> {
    if points.is_empty() {
        return None;
    }
    let n = points.len();
    let x = |i: usize| if n == 1 { f64::from(w) / 2.0 } else { i as f64 * f64::from(w) / (n - 1) as f64 };
    let y = |s: f64| f64::from(h) - s.clamp(0.0, 100.0) * f64::from(h) / 100.0;
    let line = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.score.map(|s| format!("{:.1},{:.1}", x(i), y(s))))
        .collect::<Vec<_>>()
        .join(" ");
    let vetoed = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.vetoes > 0 || p.score.is_none())
        .map(|(i, _)| (x(i), f64::from(h) - 2.0))
        .collect();
    Some(Chart {
        w,
        h,
        line,
        vetoed,
        first: points.first().map(|p| p.day.clone()).unwrap_or_default(),
        last: points.last().map(|p| p.day.clone()).unwrap_or_default(),
    })
}

fn indicator_labels(list: &[String]) -> Vec<&'static str> {
    list.iter().map(|i| super::indicator_label(i)).collect()
}

async fn overview(State(app): State<App>, a: Signed) -> Response {
    monitor_screen(&app, &a, Shown::none()).await
}

/// The overview, with a refused form shown again when `shown` holds one.
pub async fn monitor_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let read = async {
        let mut list = app.watched_sites(a.actor()).await?;
        list.sort_by_key(|w| (w.rank.is_none(), w.rank));
        let rows: Vec<_> = list
            .iter()
            .map(|w| {
                context! {
                    w => w,
                    key => key(w.subject),
                    status => w.last.as_ref().map(|l| status_label(&l.status)),
                    vetoes => w.last.as_ref().map(|l| indicator_labels(&l.indicators)).unwrap_or_default(),
                    chart => chart(&w.trend, 120, 28),
                }
            })
            .collect();
        let checked: Vec<&Watched> = list.iter().filter(|w| w.last.is_some()).collect();
        let vetoed = checked.iter().filter(|w| w.last.as_ref().is_some_and(|l| l.vetoes > 0)).count();
        let scores: Vec<f64> = checked.iter().filter_map(|w| w.last.as_ref().and_then(|l| l.score)).collect();
        let average = (!scores.is_empty()).then(|| format!("{:.1}", scores.iter().sum::<f64>() / scores.len() as f64));
        let mut notices = app.notices(a.actor(), None, None).await?;
        // Pending first (overdue at the top), the settled after.
        notices.sort_by_key(|n| (n.state == "closed", !n.overdue && n.state != "escalated", std::cmp::Reverse(n.id)));
        let overdue = notices.iter().filter(|n| n.overdue || n.state == "escalated").count();
        let answerable: Vec<i64> = notices
            .iter()
            .filter(|n| a.actor().holds(n.site_id, zhanqun_domain::workflow::Role::SiteAdmin) || a.actor().is_admin)
            .map(|n| n.id)
            .collect();
        Ok::<_, crate::kernel::AppError>(context! {
            title => "网站检查", rows, total => list.len(), checked => checked.len(), vetoed, average,
            is_admin => a.actor().is_admin, notices, overdue, answerable,
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("monitor", "monitor.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看网站检查", "/admin/"),
    }
}

fn key(s: Subject) -> String {
    match (s.site_id, s.target_id) {
        (Some(id), _) => format!("site_id={id}"),
        (_, Some(id)) => format!("target_id={id}"),
        _ => String::new(),
    }
}

/// The ranking's rows, header first.
fn ranking_rows(list: &[Watched]) -> Vec<Vec<String>> {
    let header = [
        "排名",
        "网站",
        "网址",
        "集群内",
        "检查日期",
        "状态",
        "得分",
        "门户加分",
        "单项否决",
        "否决项",
        "预警",
        "问题数",
        "检查页面数",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect()];
    let mut sorted: Vec<&Watched> = list.iter().collect();
    sorted.sort_by_key(|w| (w.rank.is_none(), w.rank));
    for w in sorted {
        let l = w.last.as_ref();
        rows.push(vec![
            w.rank.map(|r| r.to_string()).unwrap_or_default(),
            w.name.clone(),
            w.url.clone().unwrap_or_default(),
            if w.in_cluster { "是" } else { "否" }.to_string(),
            l.map(|l| l.day.clone()).unwrap_or_default(),
            l.map(|l| status_label(&l.status).to_string()).unwrap_or_else(|| "未检查".into()),
            l.and_then(|l| l.score).map(|s| format!("{s:.1}")).unwrap_or_default(),
            l.and_then(|l| l.bonus).map(|s| format!("{s:.1}")).unwrap_or_default(),
            l.map(|l| l.vetoes.to_string()).unwrap_or_default(),
            l.map(|l| indicator_labels(&l.indicators).join("、")).unwrap_or_default(),
            l.map(|l| l.warnings.to_string()).unwrap_or_default(),
            l.map(|l| l.findings.to_string()).unwrap_or_default(),
            l.map(|l| l.pages.to_string()).unwrap_or_default(),
        ]);
    }
    rows
}

/// The ranking as a spreadsheet (CSV).
pub fn ranking_csv(list: &[Watched]) -> AppResult<String> {
    let mut c = Csv::default();
    for r in ranking_rows(list) {
        c.row(r)?;
    }
    c.finish()
}

fn xlsx_fail(e: rust_xlsxwriter::XlsxError) -> crate::kernel::AppError {
    crate::kernel::AppError::Internal(anyhow::anyhow!("xlsx: {e}"))
}

/// A cell that is a figure (digits, one point, a leading minus), written as a number.
fn figure(cell: &str) -> Option<f64> {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && !digits.starts_with('.');
    ok.then(|| cell.parse().ok()).flatten()
}

/// One worksheet of `rows` (header first, bold): figures as numbers, text neutralised as in
/// the CSV exports; `widths` sets the first columns' widths.
fn sheet(wb: &mut rust_xlsxwriter::Workbook, name: &str, rows: &[Vec<String>], widths: &[f64]) -> AppResult<()> {
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(xlsx_fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match figure(cell) {
                _ if r == 0 => ws.write_string_with_format(r, c, cell, &bold).map_err(xlsx_fail)?,
                Some(n) => ws.write_number(r, c, n).map_err(xlsx_fail)?,
                None => ws.write_string(r, c, crate::kernel::export::cell(cell)).map_err(xlsx_fail)?,
            };
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(xlsx_fail)?;
    }
    Ok(())
}

/// The ranking as an XLSX workbook: figures as numbers, text neutralised as in the CSV.
pub fn ranking_xlsx(list: &[Watched]) -> AppResult<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    sheet(&mut wb, "网站检查排名", &ranking_rows(list), &[6.0, 30.0, 36.0])?;
    wb.save_to_buffer().map_err(xlsx_fail)
}

/// One run's report as an XLSX workbook: an overview, the single-veto indicators (and
/// warnings) with each piece of evidence, the deductions, the portal bonus, every finding.
pub fn run_xlsx(name: &str, run: &super::daily::RunSummary, report: &serde_json::Value) -> AppResult<Vec<u8>> {
    let text = |v: &serde_json::Value, k: &str| -> String {
        match v.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
            _ => String::new(),
        }
    };
    let list = |v: &serde_json::Value, k: &str| v.get(k).and_then(|l| l.as_array()).cloned().unwrap_or_default();
    let probes = report.get("probes").cloned().unwrap_or_default();
    let figure_or_dash = |x: Option<f64>| x.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into());
    let overview: Vec<Vec<String>> = [
        ("项目", "内容".to_string()),
        ("网站", name.to_string()),
        ("网址", run.url.clone()),
        ("检查日期", run.day.clone()),
        ("完成时间", run.finished_at.clone()),
        ("状态", run.status_label.to_string()),
        ("百分制得分", figure_or_dash(run.score)),
        ("门户加分（满分 30）", figure_or_dash(run.bonus)),
        ("单项否决", run.vetoes.to_string()),
        ("预警", run.warnings.to_string()),
        ("问题数", run.findings.to_string()),
        ("检查页面数", text(report, "pages_checked")),
        ("检查链接数", text(report, "links_checked")),
        ("超出预算未检", text(report, "not_checked")),
        ("robots.txt 不允许", text(report, "robots_skipped")),
        ("首页探测次数", text(&probes, "total")),
        ("首页探测失败", text(&probes, "failed")),
        ("首页平均用时（毫秒）", text(&probes, "average_ms")),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect();
    let mut vetoes = vec![["类别", "指标", "类型", "结论", "证据", "页面", "对象", "日期"].map(String::from).to_vec()];
    for (key, what) in [("vetoes", "单项否决"), ("warnings", "预警")] {
        for v in list(report, key) {
            let ind = text(&v, "indicator");
            let label = super::indicator_label(&ind).to_string();
            let evidence = list(&v, "evidence");
            let head = [what.to_string(), label, text(&v, "kind"), text(&v, "message")];
            if evidence.is_empty() {
                let mut row = head.to_vec();
                row.extend([String::new(), String::new(), String::new(), String::new()]);
                vetoes.push(row);
            }
            for e in evidence {
                let mut row = head.to_vec();
                row.extend([text(&e, "detail"), text(&e, "page"), text(&e, "target"), text(&e, "date")]);
                vetoes.push(row);
            }
        }
    }
    let score = report.get("score").cloned().unwrap_or_default();
    let mut deductions = vec![["扣分项", "规则", "问题数", "扣分"].map(String::from).to_vec()];
    for d in list(&score, "deductions") {
        deductions.push(vec![text(&d, "label"), text(&d, "rule"), text(&d, "count"), text(&d, "points")]);
    }
    let mut findings = vec![["问题", "规则", "所在页面", "对象", "元素", "说明"].map(String::from).to_vec()];
    for f in list(report, "findings") {
        let rule = text(&f, "rule");
        findings.push(vec![
            super::check::rule_label(&rule).to_string(),
            rule,
            text(&f, "page"),
            text(&f, "target"),
            text(&f, "element"),
            text(&f, "evidence"),
        ]);
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    sheet(&mut wb, "概况", &overview, &[22.0, 50.0])?;
    sheet(&mut wb, "单项否决", &vetoes, &[10.0, 18.0, 14.0, 30.0, 40.0, 40.0, 30.0, 12.0])?;
    sheet(&mut wb, "百分制扣分", &deductions, &[20.0, 22.0, 8.0, 8.0])?;
    if let Some(bonus) = report.get("bonus").filter(|b| !b.is_null()) {
        let mut rows = vec![["加分项", "指标", "分值", "结果", "依据", "页面", "对象"].map(String::from).to_vec()];
        for i in list(bonus, "items") {
            let e = i.get("evidence").cloned().unwrap_or_default();
            let earned = i.get("earned").and_then(|b| b.as_bool()).unwrap_or(false);
            rows.push(vec![
                text(&i, "label"),
                text(&i, "indicator"),
                text(&i, "points"),
                if earned { "得分" } else { "未见" }.to_string(),
                text(&e, "detail"),
                text(&e, "page"),
                text(&e, "target"),
            ]);
        }
        sheet(&mut wb, "门户加分", &rows, &[18.0, 22.0, 8.0, 8.0, 40.0, 40.0, 30.0])?;
    }
    sheet(&mut wb, "问题明细", &findings, &[18.0, 18.0, 50.0, 40.0, 20.0, 50.0])?;
    wb.save_to_buffer().map_err(xlsx_fail)
}

/// The file name of a run's report.
pub fn run_file_name(name: &str, run: &super::daily::RunSummary) -> String {
    let safe: String = name.chars().filter(|c| !"\\/:*?\"<>|".contains(*c)).collect();
    format!("检查报告-{safe}-{}.xlsx", run.day)
}

async fn run_export(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    let made = async {
        let (run, report) = app.monitor_run(a.actor(), id).await?;
        let name = app.monitor_site_name(a.actor(), &run).await?;
        Ok::<_, crate::kernel::AppError>((run_file_name(&name, &run), run_xlsx(&name, &run, &report)?))
    };
    match made.await {
        Ok((file, bytes)) => crate::web::api::download(bytes, crate::annual::XLSX_TYPE, &file),
        Err(e) => a.fail(&e, "无法导出检查报告", "/admin/monitor"),
    }
}

async fn xlsx(State(app): State<App>, a: Signed) -> Response {
    match app.watched_sites(a.actor()).await.and_then(|l| ranking_xlsx(&l)) {
        Ok(bytes) => crate::web::api::download(bytes, crate::annual::XLSX_TYPE, "网站检查排名.xlsx"),
        Err(e) => a.fail(&e, "无法导出排名", "/admin/monitor"),
    }
}

async fn csv(State(app): State<App>, a: Signed) -> Response {
    match app.watched_sites(a.actor()).await.and_then(|l| ranking_csv(&l)) {
        Ok(csv) => crate::web::api::download(csv.into_bytes(), "text/csv; charset=utf-8", "网站检查排名.csv"),
        Err(e) => a.fail(&e, "无法导出排名", "/admin/monitor"),
    }
}

async fn run(
    State(app): State<App>,
    a: Signed,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    run_screen(&app, &a, id, q.contains_key("all"), Shown::none()).await
}

/// One run's report; `all`: every finding of each rule, not the first 20.
pub async fn run_screen(app: &App, a: &Admin, id: i64, all: bool, shown: Shown) -> Response {
    let read = async {
        let (run, report) = app.monitor_run(a.actor(), id).await?;
        let history = app.monitor_runs(a.actor(), run.subject, 60).await?;
        let trend: Vec<TrendPoint> =
            history.iter().rev().map(|r| TrendPoint { day: r.day.clone(), score: r.score, vetoes: r.vetoes }).collect();
        let name = app.monitor_site_name(a.actor(), &run).await?;
        // Findings grouped by rule, each group's first entries shown (all with ?all=1).
        let mut groups: Vec<(String, &'static str, Vec<serde_json::Value>, usize)> = Vec::new();
        if let Some(list) = report.get("findings").and_then(|f| f.as_array()) {
            for f in list {
                let rule = f.get("rule").and_then(|r| r.as_str()).unwrap_or("").to_string();
                match groups.iter_mut().find(|g| g.0 == rule) {
                    Some(g) => {
                        g.3 += 1;
                        if all || g.2.len() < 20 {
                            g.2.push(f.clone());
                        }
                    }
                    None => groups.push((rule.clone(), super::check::rule_label(&rule), vec![f.clone()], 1)),
                }
            }
        }
        let vetoes: Vec<_> = ["vetoes", "warnings"]
            .iter()
            .map(|k| {
                report
                    .get(*k)
                    .and_then(|v| v.as_array())
                    .map(|l| {
                        l.iter()
                            .map(|v| {
                                let ind = v.get("indicator").and_then(|i| i.as_str()).unwrap_or("");
                                context! { label => super::indicator_label(ind), v => v }
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let problems = if run.subject.site_id.is_some() && a.actor().is_admin {
            super::notices::problems(&report)
        } else {
            Vec::new()
        };
        let notices: Vec<_> = match run.subject.site_id {
            Some(site) => app.notices(a.actor(), Some(site), None).await?,
            None => Vec::new(),
        };
        Ok::<_, crate::kernel::AppError>(context! {
            title => format!("检查报告：{name}"), name, run, report, groups, all, problems, notices,
            status => status_label(&run.status), vetoes => vetoes[0].clone(), warnings => vetoes[1].clone(),
            chart => chart(&trend, 600, 120), history, key => key(run.subject),
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("monitor", "monitor_run.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看检查报告", "/admin/monitor"),
    }
}

async fn add_target(State(app): State<App>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/monitor");
    let input = TargetInput {
        name: p.form.get("name").into(),
        url: p.form.get("url").into(),
        portal: p.form.get("portal") == "1",
    };
    match app.add_monitor_target(p.actor(), input).await {
        Ok(w) => p.done(&to, &format!("已加入检查名单：{}，正在进行首次检查", w.name)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("target")).await,
    }
}

async fn remove_target(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/monitor");
    match app.remove_monitor_target(p.actor(), id).await {
        Ok(()) => p.done(&to, "已移出检查名单，以往的检查记录保留"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("remove")).await,
    }
}

async fn request_check(State(app): State<App>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/monitor");
    let s = Subject { site_id: p.form.int("site_id"), target_id: p.form.int("target_id") };
    match app.request_monitor_check(p.actor(), s).await {
        Ok(_) => p.done(&to, "已排入检查，几分钟后刷新本页查看结果"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("check")).await,
    }
}

async fn send_notice(State(app): State<App>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/monitor");
    let input = NoticeInput {
        run_id: p.form.id("run_id"),
        problem: p.form.get("problem").into(),
        request: p.form.get("request").into(),
        working_days: p.form.int("working_days").unwrap_or(0),
    };
    match app.send_notice(p.actor(), input).await {
        Ok(n) => p.done(&to, &format!("已向{}发出整改通知，期限 {}", n.site_name, n.due_on)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("notice")).await,
    }
}

async fn answer_notice(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/monitor");
    match app.answer_notice(p.actor(), id, AnswerInput { answer: p.form.get("answer").into() }).await {
        Ok(_) => p.done(&to, "已答复，正在复查该网站"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("answer")).await,
    }
}
