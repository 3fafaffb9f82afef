//! 我为政府网站找错 on every public site (`/jiucuo/`): a citizen reports an error on the
//! site and gets a query code to read the answer with (`/jiucuo/track`). No JavaScript, no
//! personal data asked for; a signed arithmetic question and per-address limits keep
//! floods out. The national platform's address is given too.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::{KINDS, NewReport};
use crate::app::App;
use crate::kernel::limits::new_challenge;
use crate::web::client::ClientAddr;
use crate::web::public::{Visitor, form_fields, kept_text};

pub fn router() -> Router<App> {
    Router::new().route("/jiucuo/", get(index).post(submit)).route("/jiucuo/track", post(track))
}

async fn form_page(
    app: &App,
    v: &Visitor,
    status: StatusCode,
    typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let challenge = new_challenge(&app.challenge_key.load());
    let ctx = context! { kinds => KINDS, challenge, v => typed, errors, days => super::ANSWER_DAYS };
    v.page(app, status, "jiucuo.html", ctx).await
}

async fn index(State(app): State<App>, v: Visitor) -> Response {
    form_page(&app, &v, StatusCode::OK, HashMap::new(), vec![]).await
}

async fn submit(
    State(app): State<App>,
    ClientAddr(client): ClientAddr,
    v: Visitor,
    RawForm(body): RawForm,
) -> Response {
    let f = form_fields(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("", client, Some((&get("token"), &get("answer")))).await {
        return form_page(&app, &v, e.status(), f, kept_text(&e)).await;
    }
    let report = NewReport { kind: get("kind"), page_url: get("page_url"), description: get("description") };
    match app.submit_error_report(v.site.id, report).await {
        Ok(receipt) => v.page(&app, StatusCode::CREATED, "jiucuo_receipt.html", context! { receipt }).await,
        Err(e) => {
            app.release_challenge(&get("token")).await;
            form_page(&app, &v, e.status(), f, e.messages()).await
        }
    }
}

async fn track(State(app): State<App>, ClientAddr(client): ClientAddr, v: Visitor, RawForm(body): RawForm) -> Response {
    let f = form_fields(&body);
    let code = f.get("code").cloned().unwrap_or_default();
    if let Err(e) = app.check_public_write("track:", client, None).await {
        return v.page(&app, e.status(), "jiucuo_receipt.html", context! { code, error => e.public_message() }).await;
    }
    match app.track_error_report(v.site.id, &code).await {
        Ok(report) => v.page(&app, StatusCode::OK, "jiucuo_receipt.html", context! { code, report }).await,
        Err(e) => v.page(&app, e.status(), "jiucuo_receipt.html", context! { code, error => e.public_message() }).await,
    }
}
