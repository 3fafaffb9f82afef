//! Admin screens for disclosure work beyond the document form: interpretation links,
//! reposting, a site's content inventory, what it received, its topics, and the subject list.

use axum::extract::{Path, RawForm, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{Value, context};

use super::{Admin, FormData, checked, clear_flash, ctx, error_page, non_empty, opt_i64, page, to_login};
use super::{redirect_error, redirect_flash};
use crate::app::App;

/// Where to go back to after a form: an admin page named by the form, or `fallback`.
fn back(form: &FormData, fallback: &str) -> String {
    let b = form.get("back");
    if b.starts_with("/admin/") && !b.contains("//") { b.to_string() } else { fallback.to_string() }
}

/// A posted form with a live session and its CSRF token, and the page to return to (the
/// form's `back`, or `fallback`).
async fn accept(
    admin: Option<Admin>,
    headers: &HeaderMap,
    body: &[u8],
    fallback: &str,
) -> Result<(Admin, FormData, String), Response> {
    let form = FormData::parse(body);
    let to = back(&form, fallback);
    let (admin, form) = checked(admin, headers, &to, form)?;
    Ok((admin, form, to))
}

/// The result of a form action as a redirect with its message.
fn done<T>(
    headers: &HeaderMap,
    to: &str,
    r: Result<T, crate::error::AppError>,
    ok: impl FnOnce(T) -> String,
) -> Response {
    match r {
        Ok(v) => redirect_flash(headers, to, &ok(v)),
        Err(e) => redirect_error(headers, to, &e.messages().join("；")),
    }
}

pub(super) async fn site_disclosure(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
) -> Response {
    let path = format!("/admin/sites/{id}/disclosure");
    let Some(admin) = admin else { return to_login(&path) };
    let loaded = async {
        let site = app.get_site(id).await?;
        let received = app.received(&admin.s.actor, id).await?;
        let inventory = app.inventory(Some(id)).await?;
        let topics = app.site_topics(id).await?;
        let columns = app.list_columns(id).await?;
        Ok::<_, crate::error::AppError>((site, received, inventory, topics, columns))
    }
    .await;
    match loaded {
        Ok((site, received, inventory, topics, columns)) => {
            let r = page(
                "site_disclosure.html",
                ctx(
                    admin.base("sites"),
                    context! {
                        title => "公开清单、转载与专题", site, received, inventory, topics, columns,
                        categories => crate::app::inventory::CATEGORIES,
                        site_kinds => zhanqun_domain::site::SiteKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect::<Vec<_>>(),
                    },
                ),
            );
            clear_flash(r, &headers, &admin)
        }
        Err(e) => error_page(Some(&admin), e.status(), "无法打开", &e.public_message(), "/admin/sites"),
    }
}

pub(super) async fn add_inventory(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, path) = match accept(admin, &headers, &body, &format!("/admin/sites/{id}/disclosure")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::inventory::InventoryInput {
        name: form.get("name").into(),
        category: form.get("category").into(),
        limit_days: opt_i64(form.get("limit_days")).unwrap_or(0),
        owner: form.get("owner").into(),
        column_id: opt_i64(form.get("column_id")).unwrap_or(-1),
    };
    done(&headers, &path, app.add_inventory_item(&admin.s.actor, id, input).await, |i| {
        format!("已加入清单：{}", i.name)
    })
}

pub(super) async fn inventory_event(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, "/admin/").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ev = crate::app::inventory::EventInput {
        occurred_on: form.get("occurred_on").into(),
        note: form.get("note").into(),
    };
    done(&headers, &to, app.record_inventory_event(&admin.s.actor, id, ev).await, |i| match i.due {
        Some(due) => format!("已登记，「{}」应在 {due} 之前发布", i.name),
        None => format!("已登记；「{}」的栏目在事项发生后已有发布", i.name),
    })
}

pub(super) async fn retire_inventory(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, _, to) = match accept(admin, &headers, &body, "/admin/").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    done(&headers, &to, app.retire_inventory_item(&admin.s.actor, id).await, |_| "已从清单中移除".into())
}

pub(super) async fn repost(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, &format!("/admin/documents/{id}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut bad = Vec::new();
    let sites: Vec<i64> = form
        .get("sites")
        .split([',', '，', ' ', '、'])
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| {
            let n = s.trim().parse().ok();
            if n.is_none() {
                bad.push(s.trim().to_string());
            }
            n
        })
        .collect();
    if !bad.is_empty() {
        return redirect_error(&headers, &to, &format!("网站编号应为数字：{}", bad.join("、")));
    }
    let input = crate::app::reposts::RepostInput {
        sites,
        site_kind: non_empty(form.get("site_kind")),
        column: form.get("column").into(),
        from_site_id: opt_i64(form.get("from_site_id")),
    };
    done(&headers, &to, app.repost(&admin.s.actor, id, input).await, |o| {
        let mut m = format!("已转载到 {} 个网站", o.created.len());
        if !o.skipped.is_empty() {
            let why: Vec<String> = o.skipped.into_iter().map(|(_, w)| w).collect();
            m.push_str(&format!("；未转：{}", why.join("，")));
        }
        m
    })
}

pub(super) async fn remove_repost(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, _, to) = match accept(admin, &headers, &body, "/admin/").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    done(&headers, &to, app.remove_repost(&admin.s.actor, id).await, |_| "转载已撤下".into())
}

pub(super) async fn link_interpretation(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, &format!("/admin/documents/{id}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(policy) = opt_i64(form.get("policy_id")) else {
        return redirect_error(&headers, &to, "请填写政策的稿件编号（数字）");
    };
    let kind = form.opt("kind").unwrap_or_else(|| "text".into());
    done(&headers, &to, app.link_interpretation(&admin.s.actor, id, policy, &kind).await, |_| {
        format!("已关联到稿件 #{policy}")
    })
}

pub(super) async fn unlink_interpretation(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path((id, policy)): Path<(i64, i64)>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, _, to) = match accept(admin, &headers, &body, &format!("/admin/documents/{id}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    done(&headers, &to, app.unlink_interpretation(&admin.s.actor, id, policy).await, |_| "已取消关联".into())
}

pub(super) async fn create_topic(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, &format!("/admin/sites/{id}/disclosure")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let t = crate::app::topics::NewTopic {
        title: form.get("title").into(),
        summary: form.get("summary").into(),
        emergency: form.get("emergency") == "1",
        release_procedure: non_empty(form.get("release_procedure")),
        first_release_hours: opt_i64(form.get("first_release_hours")),
        update_hours: opt_i64(form.get("update_hours")),
    };
    done(&headers, &to, app.create_topic(&admin.s.actor, id, t).await, |t| format!("专题「{}」已开设", t.title))
}

pub(super) async fn add_topic_item(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, "/admin/").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(doc) = opt_i64(form.get("document_id")) else {
        return redirect_error(&headers, &to, "请填写稿件编号（数字）");
    };
    done(&headers, &to, app.add_topic_item(&admin.s.actor, id, doc).await, |t| {
        format!("已加入专题「{}」，发布后显示在时间线上", t.title)
    })
}

pub(super) async fn close_topic(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, _, to) = match accept(admin, &headers, &body, "/admin/").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    done(&headers, &to, app.close_topic(&admin.s.actor, id).await, |t| format!("专题「{}」已关闭", t.title))
}

pub(super) async fn subjects(State(app): State<App>, headers: HeaderMap, admin: Option<Admin>) -> Response {
    let Some(admin) = admin else { return to_login("/admin/subjects") };
    match app.subjects(true).await {
        Ok(subjects) => {
            let r = page(
                "subjects.html",
                ctx(
                    admin.base("subjects"),
                    context! { title => "主题分类", subjects => Value::from_serialize(&subjects) },
                ),
            );
            clear_flash(r, &headers, &admin)
        }
        Err(e) => error_page(Some(&admin), e.status(), "无法读取主题分类", &e.public_message(), "/admin/"),
    }
}

pub(super) async fn add_subject(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, "/admin/subjects").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = crate::app::disclosure::SubjectInput {
        name: form.get("name").into(),
        parent_id: opt_i64(form.get("parent_id")),
    };
    done(&headers, &to, app.add_subject(&admin.s.actor, input).await, |s| format!("已添加分类「{}」", s.path))
}

pub(super) async fn update_subject(
    State(app): State<App>,
    headers: HeaderMap,
    admin: Option<Admin>,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> Response {
    let (admin, form, to) = match accept(admin, &headers, &body, "/admin/subjects").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let patch = crate::app::disclosure::SubjectPatch {
        name: non_empty(form.get("name")),
        retired: form.opt("retired").map(|r| r == "1"),
    };
    done(&headers, &to, app.update_subject(&admin.s.actor, id, patch).await, |_| "分类已更新".into())
}
