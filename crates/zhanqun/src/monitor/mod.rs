//! Supervision (R11): the monitor that checks government sites against the national
//! inspection indicators (国办秘函〔2019〕19号) from their pages alone, as the national
//! checker does, so it judges sites outside the cluster too.
//!
//! - `fetch.rs` — polite HTTP: per-host connections and rate, timeouts, a byte budget,
//!   redirects by hand, the page's own charset.
//! - `page.rs` — one HTML page read into facts (html5ever).
//! - `check.rs` — one check of one site: probes, the crawl, the judging into vetoes, the
//!   100-point score and findings with their evidence (the rules themselves are
//!   `zhanqun_domain::inspection`).
//! - `daily.rs` — every watched site checked daily by jobs, probed hourly, each run kept;
//!   what the platform knows of its own sites; the watched sites ranked with their trends.
//! - `notices.rs` — rectification notices: sent with a deadline in working days,
//!   answered, judged by the next run, closed or escalated.
//! - `public.rs` — the public evaluation page on the city portal (`/evaluation/`).
//! - `admin.rs`, `api.rs` — the 网站检查 screens and `/api/v1/monitor/…`.

pub mod admin;
pub mod api;
pub mod check;
pub mod daily;
pub mod fetch;
pub mod notices;
pub mod page;
pub mod public;

pub use check::{Options, Report, Status, check};

/// A report as text, for the terminal: vetoes first, then the score and its deductions,
/// then the findings by rule (the first few of each).
pub fn render_text(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "== {} ==", r.url);
    let status = match r.status {
        Status::Checked => "已检查",
        Status::Unreachable => "无法访问",
        Status::RobotsForbidden => "robots.txt 禁止检查",
    };
    let _ = writeln!(
        s,
        "状态：{status}；检查页面 {} 个，检测链接 {} 个{}；首页探测 {} 次失败 {} 次（平均 {} 毫秒）；用时 {:.1} 秒",
        r.pages_checked,
        r.links_checked,
        if r.not_checked > 0 { format!("，超出预算未检 {} 个", r.not_checked) } else { String::new() },
        r.probes.total,
        r.probes.failed,
        r.probes.average_ms,
        r.elapsed_ms as f64 / 1000.0
    );
    if r.vetoes.is_empty() {
        let _ = writeln!(s, "单项否决：无");
    } else {
        let _ = writeln!(s, "单项否决（{} 项）：", r.vetoes.len());
    }
    for (title, list) in [("", &r.vetoes), ("预警：", &r.warnings)] {
        if !title.is_empty() && !list.is_empty() {
            let _ = writeln!(s, "{title}");
        }
        for v in list {
            let _ = writeln!(
                s,
                "  ✗ {}{}：{}",
                indicator_label(v.indicator),
                v.kind.map(|k| format!("（{k}）")).unwrap_or_default(),
                v.message
            );
            for e in v.evidence.iter().take(5) {
                let mut line = format!("      {}", e.detail);
                if let Some(d) = &e.date {
                    let _ = write!(line, "，日期 {d}");
                }
                if let Some(p) = &e.page {
                    let _ = write!(line, "，页面 {p}");
                }
                if let Some(t) = &e.target {
                    let _ = write!(line, " → {t}");
                }
                let _ = writeln!(s, "{line}");
            }
            if v.evidence.len() > 5 {
                let _ = writeln!(s, "      ……另有 {} 条", v.evidence.len() - 5);
            }
        }
    }
    if let Some(score) = &r.score {
        let _ = writeln!(s, "得分：{:.1} / 100", score.value);
        for d in &score.deductions {
            let _ = writeln!(s, "  −{:.1}　{}（{} 处）", d.points, d.label, d.count);
        }
    }
    if let Some(b) = &r.bonus {
        let _ = writeln!(s, "加分：{:.1} / {:.0}", b.value, b.max);
        for i in &b.items {
            match &i.evidence {
                Some(e) => {
                    let _ = writeln!(s, "  +{:.1}　{}：{}", i.points, i.label, e.detail);
                }
                None => {
                    let _ = writeln!(s, "  　　 {}：未见", i.label);
                }
            }
        }
    }
    let mut rules: Vec<&str> = Vec::new();
    for f in &r.findings {
        if !rules.contains(&f.rule) {
            rules.push(f.rule);
        }
    }
    for rule in rules {
        let of: Vec<_> = r.findings.iter().filter(|f| f.rule == rule).collect();
        let _ = writeln!(s, "{}（{rule}，{} 处）：", check::rule_label(rule), of.len());
        for f in of.iter().take(5) {
            let what = f.target.as_deref().or(f.element.as_deref()).unwrap_or("");
            let _ = writeln!(s, "  {} {}　{}", f.page, what, f.evidence);
        }
        if of.len() > 5 {
            let _ = writeln!(s, "  ……另有 {} 处", of.len() - 5);
        }
    }
    s
}

/// `s` cut to `n` characters, with an ellipsis when cut.
pub(crate) fn shorten(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A single-veto indicator in Chinese.
pub fn indicator_label(indicator: &str) -> &'static str {
    match indicator {
        "unreachable" => "站点无法访问",
        "home_not_updated" => "首页不更新",
        "columns_not_updated" => "栏目不更新",
        "interaction" => "互动回应差",
        "services" => "服务不实用",
        "serious_error" => "严重表述错误",
        _ => "其他",
    }
}
