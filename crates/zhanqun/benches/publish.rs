//! Publish-to-readable: how long from the editorial reviewer's `approve` call until
//! `GET /api/v1/documents/{id}` shows the document published with its public URL, and
//! until the public site serves its page and lists it on the (cached) home page, over real
//! HTTP on 127.0.0.1. Runs on SQLite, and on PostgreSQL too when
//! `ZHANQUN_TEST_POSTGRES` names a server.
//!
//! `cargo bench -p zhanqun --bench publish` (`-- N` for N documents, default 200).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, Newsroom, TestServer};
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(b: Backend, n: usize) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let mut approve = Vec::with_capacity(n);
    let mut readable = Vec::with_capacity(n);
    let mut visible = Vec::with_capacity(n);
    for i in 0..n {
        let id = nr.draft(&s, &format!("基准测试文档 {i}")).await["id"].as_i64().unwrap();
        nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
        nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
        let t0 = Instant::now();
        let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
        assert!(st.is_success());
        approve.push(t0.elapsed());
        let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
        assert_eq!(d["state"], "published");
        assert!(d["public_url"].is_string());
        readable.push(t0.elapsed());
        let title = format!("基准测试文档 {i}");
        let (st, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{id}.html")).await;
        assert!(st.is_success() && page.contains(&title));
        let (_, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
        assert!(home.contains(&title));
        visible.push(t0.elapsed());
    }
    approve.sort();
    readable.sort();
    visible.sort();
    println!(
        "{b:?}: {n} documents; approve call p50 {:.2?} p95 {:.2?}; publish-to-readable p50 {:.2?} p95 {:.2?} max {:.2?}",
        percentile(&approve, 0.5),
        percentile(&approve, 0.95),
        percentile(&readable, 0.5),
        percentile(&readable, 0.95),
        readable[n - 1]
    );
    println!(
        "{b:?}: publish-to-visible on the public site (article page and home page served) p50 {:.2?} p95 {:.2?} max {:.2?}",
        percentile(&visible, 0.5),
        percentile(&visible, 0.95),
        visible[n - 1]
    );
    s.finish().await;
}

fn main() {
    let n = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        run(Backend::Sqlite, n).await;
        if std::env::var("ZHANQUN_TEST_POSTGRES").is_ok() {
            run(Backend::Postgres, n).await;
        }
    });
}
