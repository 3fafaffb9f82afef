//! The admin's participation screen (互动交流): consultations with their moderation queue,
//! surveys, interviews with their questions, for the sites the person works on.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};

use super::interviews::NewInterview;
use super::{NewConsultation, NewSurvey, Question};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, local_datetime};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/participation", get(participation))
        .route("/admin/participation/consultations", post(new_consultation))
        .route("/admin/participation/consultations/{id}/feedback", post(consultation_feedback))
        .route("/admin/participation/comments/{id}", post(moderate_comment))
        .route("/admin/participation/surveys", post(new_survey))
        .route("/admin/participation/interviews", post(new_interview))
        .route("/admin/participation/interviews/{id}/end", post(end_interview))
        .route("/admin/participation/questions/{id}", post(handle_question))
}

const PART: &str = "/admin/participation";

async fn participation_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let actor = a.actor();
    let read = async {
        let sites = app.sites_of(actor).await?;
        let mine = |site: i64| sites.iter().any(|s| s.id == site);
        let mut consultations = Vec::new();
        for c in app.list_consultations(None).await?.into_iter().filter(|c| mine(c.site_id)) {
            let pending = app.pending_comments(actor, c.id).await?;
            let public = a.site_url(app, c.site_id).map(|b| format!("{b}/consultations/{}/", c.id)).unwrap_or_default();
            consultations.push(context! { ..Value::from_serialize(&c), ..context! { pending, public } });
        }
        let mut surveys = Vec::new();
        for s in app.list_surveys().await?.into_iter().filter(|s| mine(s.site_id)) {
            let base = a.site_url(app, s.site_id).unwrap_or_default();
            let (public, results) = (format!("{base}/surveys/{}/", s.id), format!("{base}/surveys/{}/results", s.id));
            surveys.push(context! { ..Value::from_serialize(&s), ..context! { public, results } });
        }
        let mut interviews = Vec::new();
        for i in app.list_interviews().await?.into_iter().filter(|i| mine(i.site_id)) {
            let pending = app.pending_questions(actor, i.id).await?;
            let columns = app.active_columns(i.site_id).await?;
            let public = a.site_url(app, i.site_id).map(|b| format!("{b}/interviews/{}/", i.id)).unwrap_or_default();
            interviews.push(context! { ..Value::from_serialize(&i), ..context! { pending, columns, public } });
        }
        Ok::<_, AppError>(context! { title => "互动交流", sites, consultations, surveys, interviews })
    };
    match read.await {
        Ok(ctx) => a.render_shown("participation", "participation.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看互动交流", "/admin/"),
    }
}

async fn participation(State(app): State<App>, a: Signed) -> Response {
    participation_screen(&app, &a, Shown::none()).await
}

async fn new_consultation(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewConsultation {
        title: f.get("title").into(),
        draft: f.get("draft").into(),
        opens_on: f.get("opens_on").into(),
        closes_on: f.get("closes_on").into(),
    };
    match app.create_consultation(p.actor(), f.id("site_id"), input).await {
        Ok(c) => p.done(PART, &format!("已发起意见征集「{}」", c.title)),
        Err(e) => participation_screen(&app, &p, p.shown(&e)).await,
    }
}

async fn consultation_feedback(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.publish_feedback(p.actor(), id, p.form.get("report")).await {
        Ok(_) => p.done(PART, "反馈已发布"),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("fv")).await,
    }
}

async fn moderate_comment(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.moderate_comment(p.actor(), id, p.form.get("decision") == "approve").await {
        Ok(()) => p.done(PART, "已审核"),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("mv")).await,
    }
}

/// `单选|*题目|选项1;选项2` per line (`*` marks a required question; a scale's third part is its top).
fn parse_questions(text: &str) -> Result<Vec<Question>, AppError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = match parts.first().copied() {
            Some("单选" | "single") => "single",
            Some("多选" | "multiple") => "multiple",
            Some("量表" | "scale") => "scale",
            Some("问答" | "text") => "text",
            _ => {
                return Err(AppError::field(
                    "questions",
                    "format",
                    format!("第 {} 行的类型应为 单选、多选、量表 或 问答", n + 1),
                ));
            }
        };
        let prompt = parts.get(1).copied().unwrap_or("");
        let (required, prompt) = match prompt.strip_prefix('*') {
            Some(p) => (true, p.trim()),
            None => (false, prompt),
        };
        let third = parts.get(2).copied().unwrap_or("");
        out.push(Question {
            kind: kind.into(),
            prompt: prompt.into(),
            required,
            options: if matches!(kind, "single" | "multiple") {
                third.split(';').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect()
            } else {
                vec![]
            },
            max: if kind == "scale" { third.parse().ok().or(Some(5)) } else { None },
        });
    }
    Ok(out)
}

async fn new_survey(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let res = match parse_questions(f.get("questions")) {
        Ok(questions) => {
            let input = NewSurvey {
                title: f.get("title").into(),
                intro: String::new(),
                questions,
                opens_on: f.get("opens_on").into(),
                closes_on: f.get("closes_on").into(),
                require_contact: f.checked("require_contact"),
            };
            app.create_survey(p.actor(), f.id("site_id"), input).await
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(s) => p.done(PART, &format!("已发起网上调查「{}」", s.title)),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("sv")).await,
    }
}

async fn new_interview(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewInterview {
        title: f.get("title").into(),
        guests: f.get("guests").into(),
        starts_at: local_datetime(f.get("starts_at")).unwrap_or_default(),
    };
    match app.create_interview(p.actor(), f.id("site_id"), input).await {
        Ok(i) => p.done(PART, &format!("已安排在线访谈「{}」", i.title)),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("iv")).await,
    }
}

async fn end_interview(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.end_interview(p.actor(), id, p.form.id("column_id")).await {
        Ok(i) => p.done(
            PART,
            &format!("访谈已结束，实录稿为稿件 #{}，请报送审核", i.transcript_document_id.unwrap_or_default()),
        ),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("ev")).await,
    }
}

async fn handle_question(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.handle_question(p.actor(), id, p.form.get("action"), p.form.opt("answer").as_deref()).await {
        Ok(()) => p.done(PART, "已处理"),
        Err(e) => participation_screen(&app, &p, p.shown(&e).as_form("qv")).await,
    }
}
