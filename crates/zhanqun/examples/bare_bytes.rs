//! The reference for `bench/serve-vs-nginx.sh`: a bare axum handler answering every request
//! with one file's bytes from memory, on the same axum, hyper and tokio as the platform.
//! What zhanqun spends beyond it is the platform's own per-request work.
//!
//!     cargo run --release --example bare_bytes -- PAGE.html 127.0.0.1:18183

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use bytes::Bytes;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_bytes PAGE.html ADDRESS");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(file)?);
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response() }
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await
}
