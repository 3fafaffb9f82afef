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

/// The ranking as a spreadsheet.
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

/// The ranking as an XLSX workbook: figures as numbers, text neutralised as in the CSV.
pub fn ranking_xlsx(list: &[Watched]) -> AppResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| crate::kernel::AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("网站检查排名").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in ranking_rows(list).iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell.parse::<f64>() {
                _ if r == 0 => ws.write_string_with_format(r, c, cell, &bold).map_err(fail)?,
                Ok(n) if !cell.is_empty() => ws.write_number(r, c, n).map_err(fail)?,
                _ => ws.write_string(r, c, crate::kernel::export::cell(cell)).map_err(fail)?,
            };
        }
    }
    ws.set_column_width(1, 30).map_err(fail)?;
    ws.set_column_width(2, 36).map_err(fail)?;
    wb.save_to_buffer().map_err(fail)
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
        let name = app
            .watched_sites(a.actor())
            .await?
            .into_iter()
            .find(|w| w.subject == run.subject)
            .map(|w| w.name)
            .unwrap_or_else(|| run.url.clone());
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
    let input = TargetInput { name: p.form.get("name").into(), url: p.form.get("url").into() };
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
