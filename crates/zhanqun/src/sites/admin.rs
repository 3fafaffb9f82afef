//! Admin screens of the registry: the site list, a site's page (labels, lifecycle, columns,
//! roles) and its audit trail.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::{NewSite, SitePatch};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/sites", get(sites).post(create_site))
        .route("/admin/sites/{id}", get(site).post(update_site))
        .route("/admin/sites/{id}/transition", post(site_transition))
        .route("/admin/sites/{id}/audit", get(site_audit))
}

const KINDS: &[(&str, &str)] = &[
    ("department", "部门网站"),
    ("district_portal", "区（市）门户网站"),
    ("city_portal", "市政府门户网站"),
    ("zone", "功能区网站"),
    ("subsite", "子站"),
    ("column", "栏目"),
];

async fn sites_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let read = async {
        let sites = app.list_sites(false).await?;
        let form_token = app.new_form_token(a.actor()).await?;
        Ok::<_, AppError>(context! { title => "站点", sites, kinds => KINDS, form_token })
    };
    match read.await {
        Ok(ctx) => a.render_shown("sites", "sites.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看站点", "/admin/"),
    }
}

async fn sites(State(app): State<App>, a: Signed) -> Response {
    sites_screen(&app, &a, Shown::none()).await
}

async fn create_site(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewSite {
        kind: f.get("kind").into(),
        name: f.get("name").into(),
        sponsor: f.get("sponsor").into(),
        parent_id: f.int("parent_id"),
        primary_domain: f.text("primary_domain"),
        aliases: vec![],
        site_code: f.text("site_code"),
        icp_filing: None,
        psb_filing: None,
        party_label_url: None,
        contact: f.get("contact").into(),
        require_distinct_reviewer: false,
    };
    let actor = p.actor().clone();
    match p
        .once(&app, || async { app.create_site(&actor, input).await.map(|s| format!("/admin/sites/{}", s.id)) })
        .await
    {
        Ok(to) => p.done(&to, "已提交登记申请"),
        Err(Ok(r)) => r,
        Err(Err(e)) => sites_screen(&app, &p, p.shown(&e)).await,
    }
}

/// A site's page: its labels and lifecycle, columns, people; `shown` after a refused form.
pub async fn site_screen(app: &App, a: &Admin, id: i64, shown: Shown) -> Response {
    let read = async {
        let site = app.get_site(id).await?;
        let columns = app.list_columns(id).await?;
        let roles = app.site_roles(a.actor(), id).await?;
        let users = app.users_to_grant(a.actor()).await?;
        let local = a.site_url(app, id).map(|b| format!("{b}/"));

        let crate::people::SitePowers { oversees, moves, grants } = app.site_powers(a.actor(), id).await?;
        // Only the steps the site's state allows, and only to those who may take them.
        let lifecycle: Vec<(&str, &str)> = if moves {
            zhanqun_domain::site::SiteAction::ALL
                .iter()
                .filter(|act| act.apply(site.state).is_some())
                .map(|act| (act.as_str(), act.label()))
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, AppError>(context! {
            title => site.name.clone(), template_error => app.themes.error(id), site, columns, roles, users, local,
            oversees, lifecycle, moves, grants,
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("sites", "site.html", ctx, shown),
        Err(e) => a.fail(&e, "无法打开站点", "/admin/sites"),
    }
}

async fn site(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    site_screen(&app, &a, id, Shown::none()).await
}

async fn update_site(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let patch = SitePatch {
        version: f.id("version"),
        name: f.opt("name"),
        sponsor: f.opt("sponsor"),
        primary_domain: f.opt("primary_domain"),
        aliases: Some(f.get("aliases").lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()),
        site_code: f.opt("site_code"),
        icp_filing: f.opt("icp_filing"),
        psb_filing: f.opt("psb_filing"),
        party_label_url: f.opt("party_label_url"),
        robots_txt: f.opt("robots_txt"),
        contact: f.opt("contact"),
        // Shown as a checkbox only to those who may change it (see the site screen).
        require_distinct_reviewer: f.opt("distinct_reviewer_shown").map(|_| f.checked("require_distinct_reviewer")),
    };
    match app.update_site(p.actor(), id, patch).await {
        Ok(_) => p.done(&format!("/admin/sites/{id}"), "已保存"),
        Err(e) => site_screen(&app, &p, id, p.shown(&e)).await,
    }
}

async fn site_transition(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.transition_site(p.actor(), id, p.form.get("action"), p.form.get("comment").trim()).await {
        Ok(s) => p.done(&format!("/admin/sites/{id}"), &format!("站点状态已变为「{}」", s.state_label)),
        Err(e) => site_screen(&app, &p, id, p.shown(&e).as_form("tv")).await,
    }
}

async fn site_audit(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    let read = async {
        let site = app.get_site(id).await?;
        let entries = app.site_audit(a.actor(), id).await?;
        Ok::<_, AppError>(context! { title => "操作记录", site, entries })
    };
    match read.await {
        Ok(ctx) => a.render("sites", "audit.html", ctx),
        Err(e) => a.fail(&e, "无法查看操作记录", &format!("/admin/sites/{id}")),
    }
}
