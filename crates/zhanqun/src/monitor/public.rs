//! The public evaluation (R11.2): `/evaluation/` on the city portal shows every checked
//! site's latest published result (合格 or the failed single vetoes, the score, the number of
//! problems) and the method with its thresholds and weights, so that process and results
//! are public. The web office may publish with a delay (`monitor.publish_delay_days`) and
//! shows evidence only when `monitor.publish_evidence` is set.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use zhanqun_domain::site::SiteKind;

use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::time::now_ms;
use crate::web::public::Visitor;

pub fn router() -> Router<App> {
    Router::new().route("/evaluation/", get(index)).route("/evaluation/runs/{id}", get(run))
}

/// One site's published result.
#[derive(Debug, Clone, Serialize)]
pub struct PublicResult {
    pub run_id: i64,
    pub name: String,
    pub url: String,
    pub day: String,
    pub passed: bool,
    pub vetoes: Vec<&'static str>,
    pub score: Option<f64>,
    /// A portal's bonus part, out of 30.
    pub bonus: Option<f64>,
    pub findings: i64,
    pub rank: usize,
}

/// Run, site name, target name, url, day, score ×10, vetoes, findings, indicators, bonus ×10.
type ResultRow = (i64, Option<String>, Option<String>, String, String, Option<i64>, i64, i64, String, Option<i64>);

impl App {
    /// The latest run of each watched site finished before the publishing delay, ranked.
    pub async fn public_results(&self) -> AppResult<Vec<PublicResult>> {
        let cutoff = now_ms() - i64::from(self.config.monitor.publish_delay_days) * 86_400_000;
        let rows: Vec<ResultRow> = sqlx::query_as(
            "SELECT r.id, s.name, t.name, r.url, r.day, r.score_tenths, r.vetoes, r.findings, r.indicators, r.bonus_tenths \
             FROM monitor_runs r LEFT JOIN sites s ON s.id = r.site_id LEFT JOIN monitor_targets t ON t.id = r.target_id \
             WHERE r.id IN (SELECT MAX(id) FROM monitor_runs WHERE finished_at <= $1 GROUP BY site_id, target_id) \
             AND (s.state = 'online' OR t.active = 1)",
        )
        .bind(cutoff)
        .fetch_all(&self.db.pool)
        .await?;
        let mut out: Vec<PublicResult> = rows
            .into_iter()
            .map(|(run_id, site, target, url, day, score, vetoes, findings, ind, bonus)| PublicResult {
                run_id,
                name: site.or(target).unwrap_or_default(),
                url,
                day,
                passed: vetoes == 0,
                vetoes: ind.split(',').filter(|s| !s.is_empty()).map(super::indicator_label).collect(),
                score: score.map(|s| s as f64 / 10.0),
                bonus: bonus.map(|b| b as f64 / 10.0),
                findings,
                rank: 0,
            })
            .collect();
        out.sort_by_key(|r| (!r.passed, -(r.score.unwrap_or(-1.0) * 10.0) as i64, r.run_id));
        for (i, r) in out.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        Ok(out)
    }
}

fn method(app: &App) -> minijinja::Value {
    let t = &app.config.monitor.thresholds;
    let mut weights: Vec<(String, &'static str, f64, f64)> = app
        .config
        .monitor
        .options()
        .weights
        .into_iter()
        .map(|(rule, w)| (rule.clone(), super::check::rule_label(&rule), w.points, w.cap))
        .collect();
    weights.sort_by(|a, b| a.0.cmp(&b.0));
    let points = app.config.monitor.options().bonus;
    let bonus: Vec<(&str, &str, f64)> = zhanqun_domain::inspection::BONUS
        .iter()
        .map(|(k, label, ..)| (*k, *label, points.get(*k).copied().unwrap_or(0.0)))
        .collect();
    context! {
        t => minijinja::Value::from_serialize(t), weights, bonus,
        bonus_max => zhanqun_domain::inspection::BONUS_MAX, delay => app.config.monitor.publish_delay_days,
    }
}

async fn index(State(app): State<App>, v: Visitor) -> Response {
    if v.site.kind != SiteKind::CityPortal {
        return v.not_found(&app).await;
    }
    match app.public_results().await {
        Ok(results) => {
            let passed = results.iter().filter(|r| r.passed).count();
            let ctx =
                context! { results, passed, method => method(&app), evidence => app.config.monitor.publish_evidence };
            v.page(&app, StatusCode::OK, "evaluation.html", ctx).await
        }
        Err(e) => v.failed(&app, &e).await,
    }
}

async fn run(State(app): State<App>, v: Visitor, Path(id): Path<i64>) -> Response {
    if v.site.kind != SiteKind::CityPortal {
        return v.not_found(&app).await;
    }
    let read = async {
        let published = app.public_results().await?.into_iter().find(|r| r.run_id == id);
        let Some(result) = published else { return Ok(None) };
        let report: Option<String> = sqlx::query_scalar("SELECT report FROM monitor_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&app.db.pool)
            .await?;
        let mut report: serde_json::Value = serde_json::from_str(&report.unwrap_or_default()).unwrap_or_default();
        if !app.config.monitor.publish_evidence {
            // Counts and messages only: no pages, links or internal records.
            for key in ["vetoes", "warnings"] {
                if let Some(list) = report.get_mut(key).and_then(|l| l.as_array_mut()) {
                    for v in list {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("evidence");
                        }
                    }
                }
            }
            if let Some(o) = report.as_object_mut() {
                o.remove("findings");
            }
            if let Some(items) = report.pointer_mut("/bonus/items").and_then(|l| l.as_array_mut()) {
                for i in items {
                    if let Some(o) = i.as_object_mut() {
                        o.remove("evidence");
                    }
                }
            }
        }
        let vetoes: Vec<_> = report
            .get("vetoes")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .map(|v| {
                let ind = v.get("indicator").and_then(|i| i.as_str()).unwrap_or("");
                context! { label => super::indicator_label(ind), v => minijinja::Value::from_serialize(v) }
            })
            .collect();
        Ok::<_, crate::kernel::AppError>(Some((result, report, vetoes)))
    };
    match read.await {
        Ok(Some((result, report, vetoes))) => {
            let ctx = context! { result, report => minijinja::Value::from_serialize(&report), vetoes, evidence => app.config.monitor.publish_evidence };
            v.page(&app, StatusCode::OK, "evaluation_run.html", ctx).await
        }
        Ok(None) => v.not_found(&app).await,
        Err(e) => v.failed(&app, &e).await,
    }
}
