//! Admin screens of people: the people page (accounts and bodies), roles on a site's page.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::NewUser;
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/password", get(password_page).post(change_password))
        .route("/admin/two-factor", get(two_factor_page))
        .route("/admin/two-factor/start", post(two_factor_start))
        .route("/admin/two-factor/confirm", post(two_factor_confirm))
        .route("/admin/users/{id}/two-factor/reset", post(two_factor_reset))
        .route("/admin/sites/{id}/roles", post(grant_role))
        .route("/admin/sites/{id}/roles/revoke", post(revoke_role))
}

/// The people page: accounts (for the security administrator), and the bodies with their
/// codes (for the system administrator).
pub async fn users_screen(app: &App, a: &Admin, shown: Shown) -> Response {
    let read = async {
        let actor = a.actor();
        if !actor.manages_people() && !actor.is_admin {
            actor.require_security()?;
        }
        let users = if actor.manages_people() { Some(app.list_users(actor).await?) } else { None };
        let bodies = if actor.is_admin { Some(app.bodies_with_codes().await?) } else { None };
        let title = if users.is_some() { "人员与机构" } else { "机构" };
        Ok::<_, AppError>(context! { title, users, bodies })
    };
    match read.await {
        Ok(ctx) => a.render_shown("users", "users.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看人员", "/admin/"),
    }
}

async fn users(State(app): State<App>, a: Signed) -> Response {
    users_screen(&app, &a, Shown::none()).await
}

async fn create_user(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewUser {
        username: f.get("username").trim().into(),
        display_name: f.get("display_name").into(),
        password: f.get("password").into(),
        is_admin: f.get("duty") == "system",
        duty: Some(f.get("duty").to_string()).filter(|d| d == "security" || d == "audit"),
    };
    match app.create_user(p.actor(), input).await {
        Ok(u) => p.done("/admin/users", &format!("已添加 {}", u.username)),
        Err(e) => users_screen(&app, &p, p.shown(&e)).await,
    }
}

async fn disable_user(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.disable_user(p.actor(), id).await {
        Ok(u) => p.done("/admin/users", &format!("已停用 {}", u.username)),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("dv")).await,
    }
}

async fn grant_role(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    // Somebody not in the list is named by their exact user name.
    let user = match p.form.text("username") {
        Some(name) => match app.user_by_name(name.trim()).await {
            Ok(u) if u.disabled == 0 => Ok(u.id),
            _ => Err(AppError::field("username", "exists", format!("没有用户名为「{}」的在用账号", name.trim()))),
        },
        None => Ok(p.form.id("user_id")),
    };
    let granted = match user {
        Ok(user) => app.grant_role(p.actor(), id, user, p.form.get("role")).await,
        Err(e) => Err(e),
    };
    match granted {
        Ok(g) => p.done(&format!("/admin/sites/{id}"), &format!("已授予 {} 「{}」角色", g.username, g.role_label)),
        Err(e) => crate::sites::admin::site_screen(&app, &p, id, p.shown(&e).as_form("rv")).await,
    }
}

async fn revoke_role(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.revoke_role(p.actor(), id, p.form.id("user_id"), p.form.get("role")).await {
        Ok(()) => p.done(&format!("/admin/sites/{id}"), "已撤销角色"),
        Err(e) => crate::sites::admin::site_screen(&app, &p, id, p.shown(&e).as_form("rv")).await,
    }
}

/// Changing one's own password; the only screen open while a reset or expired password
/// waits to be replaced.
async fn password_page(a: Signed) -> Response {
    password_screen(&a, Shown::none())
}

fn password_screen(a: &Admin, shown: Shown) -> Response {
    let due = a.actor().must_change_password;
    a.render_shown("password", "password.html", context! { title => "修改密码", due }, shown)
}

async fn change_password(State(app): State<App>, p: Posted) -> Response {
    let (cur, new, again) = (p.form.get("current_password"), p.form.get("new_password"), p.form.get("new_password2"));
    let res = if new != again {
        Err(AppError::field("new_password2", "mismatch", "两次输入的新密码不一致"))
    } else {
        app.change_own_password(p.actor(), cur, new, Some(&p.token)).await
    };
    match res {
        Ok(()) => p.done("/admin/", "密码已修改；您在其他地方的登录已全部退出"),
        Err(e) => password_screen(&p, p.shown(&e)),
    }
}

async fn reset_password(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.reset_password(p.actor(), id, p.form.get("new_password")).await {
        Ok(()) => p.done("/admin/users", &format!("已重置用户 #{id} 的密码；其登录已全部退出，下次登录须先修改密码")),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("pv")).await,
    }
}

/// Two-factor sign-in: whether it is on, and switching it on.
async fn two_factor_page(State(app): State<App>, a: Signed) -> Response {
    two_factor_screen(&app, &a, context! {}, Shown::none()).await
}

async fn two_factor_screen(app: &App, a: &Admin, extra: minijinja::Value, shown: Shown) -> Response {
    let on = match app.two_factor_on(a.actor()).await {
        Ok(on) => on,
        Err(e) => return a.fail(&e, "无法查看双因素登录", "/admin/"),
    };
    let due = a.actor().must_enroll_two_factor;
    let ctx = context! { title => "双因素登录", on, due, ..extra };
    a.render_shown("two_factor", "two_factor.html", ctx, shown)
}

async fn two_factor_start(State(app): State<App>, p: Posted) -> Response {
    match app.start_two_factor(p.actor()).await {
        Ok(enrolment) => two_factor_screen(&app, &p, context! { enrolment }, Shown::none()).await,
        Err(e) => two_factor_screen(&app, &p, context! {}, p.shown(&e)).await,
    }
}

async fn two_factor_confirm(State(app): State<App>, p: Posted) -> Response {
    match app.confirm_two_factor(p.actor(), p.form.get("code")).await {
        Ok(codes) => two_factor_screen(&app, &p, context! { codes => codes.codes }, Shown::none()).await,
        Err(e) => {
            // The key again, so the person can try the next code.
            let enrolment = context! { secret => p.form.get("secret"), otpauth_uri => p.form.get("otpauth_uri") };
            two_factor_screen(&app, &p, context! { enrolment }, p.shown(&e)).await
        }
    }
}

async fn two_factor_reset(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.reset_two_factor(p.actor(), id).await {
        Ok(()) => p.done("/admin/users", &format!("已重置用户 #{id} 的双因素登录；其登录已全部退出，须重新设置")),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("tv")).await,
    }
}
