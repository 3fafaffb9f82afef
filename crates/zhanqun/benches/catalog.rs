//! The disclosure catalog at scale: the public catalog page (over HTTP, rendered) browsed and
//! filtered with 100,000 entries, against the same pages with 1,000 entries.
//!
//! `cargo bench -p zhanqun --bench catalog` (SQLite; `-- small` compares 100 with 10,000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, Newsroom, TestServer};
use zhanqun::app::Actor;

const BODIES: i64 = 10;
const HOST: &str = "jyj.qingdao.gov.cn";

/// Published documents with disclosure metadata, `n` of them, in three statements: ten
/// bodies, ten years, four subjects, one in fifty repealed.
async fn fill(s: &TestServer, site: i64, n: usize) -> i64 {
    let admin = Actor::system("bench");
    let mut first_body = 0;
    for b in 0..BODIES {
        let body = s.app().create_body(&admin, &format!("机构{b}"), None).await.unwrap();
        if b == 0 {
            first_body = body.id;
        }
        assert_eq!(body.id, first_body + b, "body ids are consecutive");
    }
    let seq = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)";
    let pool = &s.app().db.pool;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{seq} INSERT INTO documents (id, site_id, locale, state, version, created_by, created_at, updated_at, first_published_at, live_edition_id) \
         SELECT 1000000 + i, $2, 'zh-CN', 'published', 1, 1, 0, 0, 1600000000000 + i * 60000, 1000000 + i FROM seq"
    )))
    .bind(n as i64)
    .bind(site)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{seq} INSERT INTO editions (id, document_id, number, state, title, body_format, body_source, body_html, published_at, created_by, created_at, updated_at) \
         SELECT 1000000 + i, 1000000 + i, 1, 'published', '关于第' || i || '项工作的通知', 'markdown', '', '', 1600000000000 + i * 60000, 1, 0, 0 FROM seq"
    )))
    .bind(n as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{seq} INSERT INTO disclosures (document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, \
           validity_changed_on, disclosure_mode, index_number, important, updated_at, genre, keywords, site_id, listed_at) \
         SELECT 1000000 + i, CASE WHEN i % 3 = 0 THEN 'policy' ELSE 'notice' END, $2 + i % 10, '青政发〔' || (2016 + i % 10) || '〕' || i || '号', \
           CASE i % 4 WHEN 0 THEN '综合政务/政务公开' WHEN 1 THEN '科技、教育/教育' WHEN 2 THEN '城乡建设、环境保护' ELSE '卫生、体育/卫生' END, \
           (2016 + i % 10) || '-' || printf('%02d', 1 + i % 12) || '-15', CASE WHEN i % 50 = 0 THEN 'repealed' ELSE 'valid' END, \
           CASE WHEN i % 50 = 0 THEN '2026-01-01' END, 'proactive', 'BENCH/' || i, 0, 0, '通知', '', $3, 1600000000000 + i * 60000 FROM seq"
    )))
    .bind(n as i64)
    .bind(first_body)
    .bind(site)
    .execute(pool)
    .await
    .unwrap();
    first_body
}

/// For each page: the load right after the catalog changed (everything counted afresh), and
/// the median of seven loads after it.
async fn pages(n: usize) -> Vec<(String, Duration, Duration, usize)> {
    let s = TestServer::start(Backend::Sqlite).await;
    let nr = Newsroom::new(&s).await;
    let body = fill(&s, nr.site, n).await;
    let paths = [
        "/catalog/".to_string(),
        format!("/catalog/?body={}&year=2020", body + 4),
        "/catalog/?subject=科技、教育&doc_type=policy".to_string(),
        "/catalog/?subject=城乡建设、环境保护&validity=repealed".to_string(),
        "/catalog/?page=10".to_string(),
    ];
    // One load to bring the database file into memory, as on a running server.
    s.page(HOST, "/catalog/").await;
    let mut out = Vec::new();
    for p in paths {
        let load = || async {
            let t0 = Instant::now();
            let (st, _, html) = s.page(HOST, &p).await;
            let took = t0.elapsed();
            assert!(st.is_success(), "{p}: {st}");
            (took, html.matches("<tr><td>BENCH/").count())
        };
        sqlx::query("UPDATE catalog_state SET generation = generation + 1").execute(&s.app().db.pool).await.unwrap();
        let (fresh, shown) = load().await;
        assert!(shown > 0, "{p} shows entries");
        let mut runs = Vec::new();
        for _ in 0..7 {
            runs.push(load().await.0);
        }
        runs.sort();
        out.push((p, fresh, runs[3], shown));
    }
    s.finish().await;
    out
}

fn main() {
    let small = std::env::args().any(|a| a == "small");
    let (a, b) = if small { (100, 10_000) } else { (1_000, 100_000) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let small_pages = pages(a).await;
        let big_pages = pages(b).await;
        println!("catalog page (HTML over HTTP): right after a change / median of 7 repeats; {a} entries vs {b} entries");
        for ((path, fa, ra, na), (_, fb, rb, nb)) in small_pages.iter().zip(&big_pages) {
            println!(
                "  {path:<48} {a}: {fa:>8.2?} / {ra:>8.2?} ({na} shown)   {b}: {fb:>8.2?} / {rb:>8.2?} ({nb} shown)   ratio {:.1}x / {:.1}x",
                fb.as_secs_f64() / fa.as_secs_f64(),
                rb.as_secs_f64() / ra.as_secs_f64()
            );
        }
    });
}
