//! The admin's 人员与外包 screen: each body's officers, supervisors and staff with their
//! training (those without one in the year due flagged), and the outsourcing contracts with
//! those ending soon or ended.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::{ContractInput, PersonInput, ROLES, TrainingInput};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/staffing", get(screen))
        .route("/admin/bodies/{id}/staff", post(add_person))
        .route("/admin/staff/{id}/trainings", post(record_training))
        .route("/admin/staff/{id}/retire", post(retire_person))
        .route("/admin/contracts", post(add_contract))
}

async fn screen(State(app): State<App>, a: Signed) -> Response {
    staffing_screen(&app, &a, Shown::none()).await
}

pub async fn staffing_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let read = async {
        let actor = a.actor();
        let year = App::training_year_due();
        let bodies = app.people_records(year).await?;
        let untrained: usize = bodies.iter().map(|b| b.people.iter().filter(|p| !p.trained).count()).sum();
        let unnamed = bodies.iter().filter(|b| !b.missing_roles.is_empty()).count();
        let contracts = app.contracts(actor, None).await?;
        let sites: Vec<(i64, String)> = app
            .hosts
            .load()
            .sorted()
            .into_iter()
            .filter(|s| actor.is_admin || actor.holds(s.id, zhanqun_domain::workflow::Role::SiteAdmin))
            .map(|s| (s.id, s.name.clone()))
            .collect();
        let january = crate::kernel::time::today().month() == time::Month::January;
        Ok::<_, AppError>(context! {
            title => "人员与外包", bodies, year, untrained, unnamed, contracts, sites, roles => ROLES,
            january, is_admin => actor.is_admin, today => crate::kernel::time::today().to_string(),
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("staffing", "staffing.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看人员与外包", "/admin/"),
    }
}

async fn add_person(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/staffing");
    let input = PersonInput {
        name: p.form.get("name").into(),
        role: p.form.get("role").into(),
        position: p.form.get("position").into(),
    };
    match app.add_person(p.actor(), id, input).await {
        Ok(x) => p.done(&to, &format!("已登记：{}（{}）", x.name, x.role_label)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("person")).await,
    }
}

async fn record_training(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/staffing");
    let t = TrainingInput {
        held_on: p.form.get("held_on").into(),
        title: p.form.get("title").into(),
        organiser: p.form.get("organiser").into(),
        hours: p.form.int("hours").unwrap_or(0),
    };
    match app.record_training(p.actor(), id, t).await {
        Ok(x) => p.done(&to, &format!("已记录{}的培训", x.name)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("training")).await,
    }
}

async fn retire_person(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/staffing");
    match app.retire_person(p.actor(), id).await {
        Ok(()) => p.done(&to, "已移出名单，培训记录保留"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("retire")).await,
    }
}

async fn add_contract(State(app): State<App>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/staffing");
    let id = p.form.id("site_id");
    let c = ContractInput {
        contractor: p.form.get("contractor").into(),
        credit_code: p.form.get("credit_code").into(),
        duties: p.form.get("duties").into(),
        starts_on: p.form.get("starts_on").into(),
        ends_on: p.form.get("ends_on").into(),
    };
    match app.add_contract(p.actor(), id, c).await {
        Ok(c) => p.done(&to, &format!("已登记外包合同：{}", c.contractor)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("contract")).await,
    }
}
