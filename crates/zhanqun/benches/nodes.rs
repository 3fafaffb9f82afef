//! Cross-node visibility: two nodes on one PostgreSQL database. Node B has a document's
//! page and its site's home page cached; node A publishes a new edition of it; how long
//! until node B serves the new text (p50, p95, max), over real HTTP on 127.0.0.1.
//!
//! `ZHANQUN_TEST_POSTGRES=postgres://… cargo bench -p zhanqun --bench nodes` (`-- N` for N
//! publications, default 100).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, Newsroom, TestServer};
use serde_json::json;
use zhanqun::server::Settings;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(n: usize) {
    let s = TestServer::start(Backend::Postgres).await;
    let nr = Newsroom::new(&s).await;
    let other = s.other_node_dir();
    let settings = Settings {
        data_dir: other.path().to_path_buf(),
        database_url: s.settings.database_url.clone(),
        config_file: None,
    };
    let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
    let b = node_b.base_url();
    let client = reqwest::Client::new();
    let fetch = |path: String| {
        let c = client.clone();
        let url = format!("{b}{path}");
        async move { c.get(url).header("host", "jyj.qingdao.gov.cn").send().await.unwrap().text().await.unwrap() }
    };
    let id = nr.draft(&s, "跨节点可见性 0").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let article = format!("/articles/{id}.html");
    let mut seen = Vec::with_capacity(n);
    for i in 1..=n {
        // Node B serves (and caches) the current edition first.
        let before = format!("跨节点可见性 {}", i - 1);
        let t = Instant::now();
        while !fetch(article.clone()).await.contains(&before) {
            assert!(t.elapsed() < Duration::from_secs(10), "node B never served edition {}", i - 1);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
        let title = format!("跨节点可见性 {i}");
        let (st, _) = s
            .patch(&format!("/api/v1/documents/{id}"), &nr.editor.1, json!({"version": d["version"], "title": title}))
            .await;
        assert!(st.is_success());
        nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
        nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
        let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
        // The change is committed when the approve call returns.
        let t0 = Instant::now();
        assert!(st.is_success());
        loop {
            if fetch(article.clone()).await.contains(&format!("<h1>{title}</h1>")) {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "node B still serves the old page");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        seen.push(t0.elapsed());
    }
    seen.sort();
    println!(
        "PostgreSQL, two nodes: {n} publications on node A; served by node B after p50 {:.1?} p95 {:.1?} max {:.1?}",
        percentile(&seen, 0.5),
        percentile(&seen, 0.95),
        seen[n - 1]
    );
    node_b.stop().await;
    s.finish().await;
}

fn main() {
    let n = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100);
    if std::env::var("ZHANQUN_TEST_POSTGRES").is_err() {
        eprintln!(
            "set ZHANQUN_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test): this benchmark needs PostgreSQL"
        );
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(n));
}
