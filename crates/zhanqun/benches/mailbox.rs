//! Mailbox at scale, each figure against the same work at a hundredth of the size:
//! - importing historical letters from CSV: 1,000 and 100,000 rows;
//! - the public per-body statistics page (over HTTP) with 10,000 and 1,000,000 letters.
//!
//! `cargo bench -p zhanqun --bench mailbox` (SQLite; `-- small` runs 100 / 1,000 and
//! 1,000 / 10,000 for a quick check).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, Newsroom, TestServer};
use zhanqun::app::Actor;

const BODIES: usize = 10;

fn csv_file(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let path = dir.join(format!("letters-{n}.csv"));
    let mut s = String::from("来信日期,标题,内容,姓名,联系方式,承办机构,答复日期,答复内容\n");
    for i in 0..n {
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        let body = i % BODIES;
        if i % 3 == 0 {
            s.push_str(&format!(
                "2025-{month:02}-{day:02},来信{i},关于第{i}件事的来信内容,市民{i},138{i:08},机构{body},,\n"
            ));
        } else {
            let rday = (day + 5).min(28);
            s.push_str(&format!("2025-{month:02}-{day:02},来信{i},关于第{i}件事的来信内容,市民{i},138{i:08},机构{body},2025-{month:02}-{rday:02},已答复\n"));
        }
    }
    std::fs::write(&path, s).unwrap();
    path
}

async fn import(n: usize) -> Duration {
    let s = TestServer::start(Backend::Sqlite).await;
    let admin = Actor::system("bench");
    for b in 0..BODIES {
        s.app().create_body(&admin, &format!("机构{b}"), None).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), n);
    let t0 = Instant::now();
    let table = zhanqun::mailbox::import::read_table(&path).unwrap();
    let r = s.app().import_letters(&admin, table, false, &|_| {}).await.unwrap();
    let took = t0.elapsed();
    assert_eq!(r.imported, n, "{:?}", r.rejected.first());
    s.finish().await;
    took
}

/// Fills the letters table with `n` letters of 2025 in one statement.
async fn fill(s: &TestServer, n: usize) {
    let admin = Actor::system("bench");
    for b in 0..BODIES {
        s.app().create_body(&admin, &format!("机构{b}"), None).await.unwrap();
    }
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1) \
         INSERT INTO letters (channel, subject, body, writer_name, writer_contact, may_publish, code_hash, state, handling_body_id, \
           arrived_on, due_on, replied_on, reply_working_days, on_time, imported, created_at, updated_at) \
         SELECT 'mayor', '来信' || i, '内容', '市民', 'c' || i, 0, 'h' || i, CASE WHEN i % 3 = 0 THEN 'assigned' ELSE 'closed' END, \
           1 + i % 10, date('2025-01-01', '+' || (i % 365) || ' days'), date('2025-01-01', '+' || (i % 365 + 9) || ' days'), \
           CASE WHEN i % 3 = 0 THEN NULL ELSE date('2025-01-01', '+' || (i % 365 + i % 12) || ' days') END, \
           CASE WHEN i % 3 = 0 THEN NULL ELSE i % 12 END, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 12 <= 7 THEN 1 ELSE 0 END, 1, 0, 0 FROM seq",
    )
    .bind(n as i64)
    .execute(&s.app().db.pool)
    .await
    .unwrap();
}

async fn stats_page(n: usize) -> Duration {
    let s = TestServer::start(Backend::Sqlite).await;
    let _nr = Newsroom::new(&s).await;
    fill(&s, n).await;
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let (st, _, html) = s.page("jyj.qingdao.gov.cn", "/mailbox/stats?year=2025").await;
        runs.push(t0.elapsed());
        assert!(st.is_success() && html.contains("机构9"));
    }
    runs.sort();
    s.finish().await;
    runs[2]
}

fn main() {
    let small = std::env::args().any(|a| a == "small");
    let (imp, stat) = if small { ((100, 1_000), (1_000, 10_000)) } else { ((1_000, 100_000), (10_000, 1_000_000)) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let a = import(imp.0).await;
        let b = import(imp.1).await;
        println!(
            "import {} rows: {:.2?} ({:.0} rows/s); {} rows: {:.2?} ({:.0} rows/s); time ratio {:.1}x for {}x the rows",
            imp.0,
            a,
            imp.0 as f64 / a.as_secs_f64(),
            imp.1,
            b,
            imp.1 as f64 / b.as_secs_f64(),
            b.as_secs_f64() / a.as_secs_f64(),
            imp.1 / imp.0
        );
        let a = stats_page(stat.0).await;
        let b = stats_page(stat.1).await;
        println!(
            "public statistics page over {} letters: {:.2?}; over {} letters: {:.2?}; time ratio {:.1}x for {}x the letters (median of 5)",
            stat.0,
            a,
            stat.1,
            b,
            b.as_secs_f64() / a.as_secs_f64(),
            stat.1 / stat.0
        );
    });
}
