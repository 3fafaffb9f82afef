//! The mailbox on every public site: write a letter, follow it with the query code, rate
//! the answer, read published answers and every body's figures. No JavaScript; a signed
//! arithmetic question and per-address limits keep floods out without third parties.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, RawForm, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use zhanqun_domain::mailbox::Channel;

use super::NewLetter;
use crate::app::App;
use crate::kernel::limits::new_challenge;
use crate::kernel::{AppError, AppResult};
use crate::web::client::ClientAddr;
use crate::web::public::{Visitor, form_fields, kept_text};

pub fn router() -> Router<App> {
    Router::new()
        .route("/mailbox/", get(index).post(submit).layer(DefaultBodyLimit::disable()))
        .route("/mailbox/track", get(track_form).post(track))
        .route("/mailbox/rate", post(rate))
        .route("/mailbox/letters/{file}", get(letter))
        .route("/mailbox/stats", get(stats))
}

fn channels() -> Vec<(&'static str, &'static str)> {
    Channel::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
}

async fn write_page(
    app: &App,
    v: &Visitor,
    status: StatusCode,
    typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let read = async {
        let bodies = app.list_bodies().await?;
        let letters = app.published_letters(20).await?;
        Ok::<_, AppError>((bodies, letters))
    };
    match read.await {
        Ok((bodies, letters)) => {
            let challenge = new_challenge(&app.challenge_key.load());
            let ctx = context! {
                channels => channels(), bodies, letters, challenge, v => typed, errors, max_mib => app.config.max_attachment_mib,
            };
            v.page(app, status, "mailbox.html", ctx).await
        }
        Err(e) => v.failed(app, &e).await,
    }
}

async fn index(State(app): State<App>, v: Visitor) -> Response {
    write_page(&app, &v, StatusCode::OK, HashMap::new(), vec![]).await
}

/// The letter form's fields and its optional file: `multipart/form-data` from the page,
/// or a plain urlencoded form (no file).
async fn read_letter_form(app: &App, req: Request) -> AppResult<(HashMap<String, String>, Option<(String, Vec<u8>)>)> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let body = axum::body::to_bytes(req.into_body(), 1024 * 1024)
            .await
            .map_err(|_| AppError::TooLarge("提交的内容过大".into()))?;
        return Ok((form_fields(&body), None));
    }
    let mut mp = Multipart::from_request(req, app).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut fields = HashMap::new();
    let mut file = None;
    let limit = app.config.max_attachment_bytes();
    while let Some(field) = mp.next_field().await.map_err(crate::web::api::multipart_error)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = crate::web::api::read_part(field, limit).await.map_err(|e| match e {
                AppError::TooLarge(_) => {
                    AppError::TooLarge(format!("附件过大，上限 {} MB", app.config.max_attachment_mib))
                }
                e => e,
            })?;
            if !file_name.is_empty() && !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            let text = crate::web::api::read_part(field, 64 * 1024).await?;
            fields.insert(name, String::from_utf8_lossy(&text).into_owned());
        }
    }
    Ok((fields, file))
}

async fn submit(State(app): State<App>, ClientAddr(client): ClientAddr, v: Visitor, req: Request) -> Response {
    let (f, attachment) = match read_letter_form(&app, req).await {
        Ok(x) => x,
        Err(e) => return write_page(&app, &v, e.status(), HashMap::new(), e.messages()).await,
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("", client, Some((&get("token"), &get("answer")))).await {
        return write_page(&app, &v, e.status(), f, kept_text(&e)).await;
    }
    let letter = NewLetter {
        channel: get("channel"),
        to_body_id: get("to_body_id").trim().parse().ok(),
        site_id: Some(v.site.id),
        subject: get("subject"),
        body: get("body"),
        writer_name: get("writer_name"),
        writer_contact: get("writer_contact"),
        may_publish: get("may_publish") == "1",
        attachment,
    };
    match app.submit_letter(letter).await {
        Ok(receipt) => v.page(&app, StatusCode::CREATED, "receipt.html", context! { receipt }).await,
        Err(e) => {
            app.release_challenge(&get("token")).await;
            write_page(&app, &v, e.status(), f, e.messages()).await
        }
    }
}

async fn track_form(State(app): State<App>, v: Visitor) -> Response {
    v.page(&app, StatusCode::OK, "track.html", context! { code => "" }).await
}

async fn track(State(app): State<App>, ClientAddr(client): ClientAddr, v: Visitor, RawForm(body): RawForm) -> Response {
    let f = form_fields(&body);
    let code = f.get("code").cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("track:", client, None).await {
        return v.page(&app, e.status(), "track.html", context! { code, error => "查询过于频繁，请稍后再试。" }).await;
    }
    match app.track_letter(&code).await {
        Ok(letter) => v.page(&app, StatusCode::OK, "track.html", context! { code, letter }).await,
        Err(e) => v.page(&app, e.status(), "track.html", context! { code, error => e.public_message() }).await,
    }
}

async fn rate(State(app): State<App>, ClientAddr(client): ClientAddr, v: Visitor, RawForm(body): RawForm) -> Response {
    let f = form_fields(&body);
    let code = f.get("code").cloned().unwrap_or_default();
    // A rating names a query code, as tracking does: both count against the same limit, so
    // codes cannot be guessed through either.
    if let Err(e) = app.check_public_write("track:", client, None).await {
        return v.page(&app, e.status(), "track.html", context! { code, error => "操作过于频繁，请稍后再试。" }).await;
    }
    let rating = f.get("rating").and_then(|r| r.parse().ok()).unwrap_or(0);
    match app.rate_letter(&code, rating, f.get("comment").map(String::as_str).unwrap_or("")).await {
        Ok(letter) => v.page(&app, StatusCode::OK, "track.html", context! { code, letter }).await,
        Err(e) => v.page(&app, e.status(), "track.html", context! { code, error => e.public_message() }).await,
    }
}

async fn letter(State(app): State<App>, v: Visitor, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".html").and_then(|n| n.parse::<i64>().ok()) else {
        return v.not_found(&app).await;
    };
    match app.published_letter(id).await {
        Ok(letter) => v.page(&app, StatusCode::OK, "letter.html", context! { letter }).await,
        Err(AppError::NotFound(m)) => v.message(&app, StatusCode::NOT_FOUND, "来信未公开", &m).await,
        Err(e) => v.failed(&app, &e).await,
    }
}

async fn stats(State(app): State<App>, v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    let year = q.get("year").and_then(|y| y.trim().parse().ok()).unwrap_or_else(|| crate::kernel::time::today().year());
    let month: Option<u32> = q.get("month").and_then(|m| m.trim().parse().ok());
    match app.mailbox_stats(year, month).await {
        Ok(rows) => v.page(&app, StatusCode::OK, "mailbox_stats.html", context! { rows, year, month }).await,
        Err(e) => v.message(&app, e.status(), "无法统计", &e.public_message()).await,
    }
}
