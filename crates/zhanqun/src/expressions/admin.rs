//! The admin's 错敏词 screen: the office's list (kept by system administrators, read by all
//! staff) and a check of any pasted text against it.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use zhanqun_domain::expressions::Kind;

use super::{CheckResult, ExpressionInput};
use crate::app::App;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/expressions", get(list).post(create))
        .route("/admin/expressions/delete", post(delete))
        .route("/admin/expressions/check", post(check))
}

/// The text shown with its hits marked: (text, kind of the hit or "") pieces.
fn marked(text: &str, r: &CheckResult) -> Vec<(String, &'static str, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for h in &r.hits {
        if h.start > at {
            out.push((chars[at..h.start].iter().collect(), "", String::new()));
        }
        let note = match &h.suggestion {
            Some(s) => format!("{}，建议改为“{s}”", h.kind.label()),
            None => h.kind.label().to_string(),
        };
        out.push((chars[h.start..h.end].iter().collect(), h.kind.as_str(), note));
        at = h.end;
    }
    if at < chars.len() {
        out.push((chars[at..].iter().collect(), "", String::new()));
    }
    out
}

async fn screen(
    app: &App,
    a: &Admin,
    q: &HashMap<String, String>,
    checked: Option<(String, CheckResult)>,
    shown: Shown,
) -> Response {
    let kind = q.get("kind").map(String::as_str).filter(|k| !k.is_empty());
    let find = q.get("q").map(String::as_str).filter(|k| !k.is_empty());
    match app.list_expressions(a.actor(), kind, find).await {
        Ok(list) => {
            let kinds: Vec<(&str, &str)> = Kind::ALL.iter().map(|k| (k.as_str(), k.label())).collect();
            let label = |k: &str| Kind::parse(k).map_or("", Kind::label);
            let rows: Vec<_> = list
                .iter()
                .map(|x| {
                    context! { id => x.id, word => x.word, kind => x.kind, kind_label => label(&x.kind),
                    suggestion => x.suggestion, note => x.note, updated_by => x.updated_by }
                })
                .collect();
            let checked = checked.map(|(text, r)| {
                context! { text => text.clone(), pieces => marked(&text, &r), wrong => r.wrong, sensitive => r.sensitive,
                    forbidden => r.forbidden, total => r.hits.len() }
            });
            a.render_shown(
                "expressions",
                "expressions.html",
                context! { title => "错敏词库", rows, kinds, kind, find, checked, count => list.len() },
                shown,
            )
        }
        Err(e) => a.fail(&e, "无法查看", "/admin/expressions"),
    }
}

async fn list(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    screen(&app, &a, &q, None, Shown::none()).await
}

async fn create(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let i = ExpressionInput {
        word: f.get("word").to_string(),
        kind: f.get("kind").to_string(),
        suggestion: Some(f.get("suggestion").to_string()),
        note: f.get("note").to_string(),
    };
    match app.create_expression(p.actor(), &i).await {
        Ok(x) => p.done("/admin/expressions", &format!("已加入「{}」", x.word)),
        Err(e) => screen(&app, &p, &HashMap::new(), None, p.shown(&e)).await,
    }
}

async fn delete(State(app): State<App>, p: Posted) -> Response {
    let id: i64 = p.form.get("id").parse().unwrap_or(0);
    match app.delete_expression(p.actor(), id).await {
        Ok(()) => p.done("/admin/expressions", "已从词库删除"),
        Err(e) => screen(&app, &p, &HashMap::new(), None, p.shown(&e).as_form("dv")).await,
    }
}

async fn check(State(app): State<App>, p: Posted) -> Response {
    let text = p.form.get("text").to_string();
    match app.check_expressions(p.actor(), &text).await {
        Ok(r) => screen(&app, &p, &HashMap::new(), Some((text, r)), Shown::none()).await,
        Err(e) => screen(&app, &p, &HashMap::new(), None, p.shown(&e).as_form("cv")).await,
    }
}
