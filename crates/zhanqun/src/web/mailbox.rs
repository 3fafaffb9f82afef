//! The mailbox on every public site: write a letter, follow it with the query code, rate
//! the answer, read published answers and every body's figures. No JavaScript; a signed
//! arithmetic question and per-address limits keep floods out without third parties.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Multipart, Path, Query, RawForm, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use zhanqun_domain::mailbox::Channel;

use super::public::resolve_site;
use crate::app::App;
use crate::app::limits::new_challenge;
use crate::app::mailbox::NewLetter;
use crate::error::AppError;

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn render(
    app: &App,
    site_id: i64,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> Response {
    super::public::uncached_page(app, site_id, headers, status, template, ctx).await
}

/// A refusal of a public form, saying the typed text is still there.
pub(crate) fn kept_text(e: &AppError) -> Vec<String> {
    e.messages().into_iter().map(|r| format!("{r}。您填写的内容已保留。")).collect()
}

fn channels() -> Vec<(&'static str, &'static str)> {
    Channel::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
}

async fn write_page(
    app: &App,
    site_id: i64,
    headers: &HeaderMap,
    status: StatusCode,
    v: HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let bodies = app.list_bodies().await.unwrap_or_default();
    let letters = app.published_letters(20).await.unwrap_or_default();
    let challenge = new_challenge(&app.challenge_key.load());
    let ctx = context! { channels => channels(), bodies, letters, challenge, v, errors, max_mib => app.config.max_attachment_mib };
    render(app, site_id, headers, status, "mailbox.html", ctx).await
}

pub async fn index(State(app): State<App>, headers: HeaderMap) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    write_page(&app, site.id, &headers, StatusCode::OK, HashMap::new(), vec![]).await
}

/// The letter form's fields and its optional file: `multipart/form-data` from the page,
/// or a plain urlencoded form (no file).
async fn read_letter_form(
    app: &App,
    req: Request,
) -> Result<(HashMap<String, String>, Option<(String, Vec<u8>)>), String> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let body =
            axum::body::to_bytes(req.into_body(), 1024 * 1024).await.map_err(|_| "提交的内容过大".to_string())?;
        return Ok((form(&body), None));
    }
    let mut mp = Multipart::from_request(req, app).await.map_err(|e| e.body_text())?;
    let mut fields = HashMap::new();
    let mut file = None;
    let too_big = format!("附件过大，上限 {} MB", app.config.max_attachment_mib);
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| if e.status() == StatusCode::PAYLOAD_TOO_LARGE { too_big.clone() } else { e.body_text() })?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_big.clone()
                } else {
                    format!("附件上传失败：{}", e.body_text())
                }
            })?;
            if !file_name.is_empty() && !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            let text = field.text().await.map_err(|e| e.body_text())?;
            fields.insert(name, text);
        }
    }
    Ok((fields, file))
}

pub async fn submit(State(app): State<App>, ConnectInfo(addr): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let headers = req.headers().clone();
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (f, attachment) = match read_letter_form(&app, req).await {
        Ok(x) => x,
        Err(msg) => {
            return write_page(&app, site.id, &headers, StatusCode::BAD_REQUEST, HashMap::new(), vec![msg]).await;
        }
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("", addr.ip(), Some((&get("token"), &get("answer")))) {
        return write_page(&app, site.id, &headers, e.status(), f, kept_text(&e)).await;
    }
    let letter = NewLetter {
        channel: get("channel"),
        to_body_id: get("to_body_id").trim().parse().ok(),
        site_id: Some(site.id),
        subject: get("subject"),
        body: get("body"),
        writer_name: get("writer_name"),
        writer_contact: get("writer_contact"),
        may_publish: get("may_publish") == "1",
        attachment,
    };
    match app.submit_letter(letter).await {
        Ok(receipt) => render(&app, site.id, &headers, StatusCode::CREATED, "receipt.html", context! { receipt }).await,
        Err(e) => {
            let errors = e.messages();
            write_page(&app, site.id, &headers, e.status(), f, errors).await
        }
    }
}

pub async fn track_form(State(app): State<App>, headers: HeaderMap) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    render(&app, site.id, &headers, StatusCode::OK, "track.html", context! { code => "" }).await
}

pub async fn track(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form(&body);
    let code = f.get("code").cloned().unwrap_or_default();
    if app.check_public_write("track:", addr.ip(), None).is_err() {
        return render(
            &app,
            site.id,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            "track.html",
            context! { code, error => "查询过于频繁，请稍后再试。" },
        )
        .await;
    }
    match app.track_letter(&code).await {
        Ok(letter) => render(&app, site.id, &headers, StatusCode::OK, "track.html", context! { code, letter }).await,
        Err(e) => {
            render(&app, site.id, &headers, e.status(), "track.html", context! { code, error => e.public_message() })
                .await
        }
    }
}

pub async fn rate(State(app): State<App>, headers: HeaderMap, RawForm(body): RawForm) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form(&body);
    let code = f.get("code").cloned().unwrap_or_default();
    let rating = f.get("rating").and_then(|r| r.parse().ok()).unwrap_or(0);
    match app.rate_letter(&code, rating, f.get("comment").map(String::as_str).unwrap_or("")).await {
        Ok(letter) => render(&app, site.id, &headers, StatusCode::OK, "track.html", context! { code, letter }).await,
        Err(e) => {
            render(&app, site.id, &headers, e.status(), "track.html", context! { code, error => e.public_message() })
                .await
        }
    }
}

pub async fn letter(State(app): State<App>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = file.strip_suffix(".html").and_then(|n| n.parse::<i64>().ok());
    match id {
        Some(id) => match app.published_letter(id).await {
            Ok(letter) => render(&app, site.id, &headers, StatusCode::OK, "letter.html", context! { letter }).await,
            Err(e) => {
                render(
                    &app,
                    site.id,
                    &headers,
                    e.status(),
                    "message.html",
                    context! { heading => "来信未公开", message => e.public_message() },
                )
                .await
            }
        },
        None => {
            render(
                &app,
                site.id,
                &headers,
                StatusCode::NOT_FOUND,
                "message.html",
                context! { heading => "页面不存在", message => "您访问的页面不存在。" },
            )
            .await
        }
    }
}

pub async fn stats(State(app): State<App>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let site = match resolve_site(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let year =
        q.get("year").and_then(|y| y.trim().parse().ok()).unwrap_or_else(|| crate::app::calendar::today().year());
    let month: Option<u32> = q.get("month").and_then(|m| m.trim().parse().ok());
    match app.mailbox_stats(year, month).await {
        Ok(rows) => {
            render(&app, site.id, &headers, StatusCode::OK, "mailbox_stats.html", context! { rows, year, month }).await
        }
        Err(e) => {
            render(
                &app,
                site.id,
                &headers,
                e.status(),
                "message.html",
                context! { heading => "无法统计", message => e.public_message() },
            )
            .await
        }
    }
}
