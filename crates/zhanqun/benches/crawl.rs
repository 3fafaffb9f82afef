//! A crawler against one node's memory: the demo cluster (release binary, SQLite) asked for
//! 200,000 distinct public addresses: every column and article of every site, every article
//! under many other spellings of its number (`/articles/0086.html`: answered 301 to its one
//! spelling, never rendered or kept), and one in ten a number that does not exist (404).
//! Redirects are not followed. The node's resident memory before and after, and its peak,
//! are set against the page-cache budget of its configuration.
//!
//! `cargo bench -p zhanqun --bench crawl` (`-- N MIB` for N addresses and a budget of MIB,
//! default 200000 and 256, the configured default).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

const HOSTS: &[&str] =
    &["www.qingdao.gov.cn", "www.shinan.gov.cn", "jyj.qingdao.gov.cn", "wsjkw.qingdao.gov.cn", "zrzyj.qingdao.gov.cn"];

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Every `/articles/…` and `/columns/…` address a site links to from its home and column pages.
async fn site_links(client: &reqwest::Client, base: &str, host: &str) -> (Vec<String>, Vec<String>) {
    let mut seen = BTreeSet::from(["/".to_string()]);
    let mut queue = VecDeque::from(["/".to_string()]);
    let (mut articles, mut columns) = (BTreeSet::new(), BTreeSet::new());
    while let Some(path) = queue.pop_front() {
        let html = client.get(format!("{base}{path}")).header("host", host).send().await.unwrap().text().await.unwrap();
        for part in html.split("href=\"").skip(1) {
            let link = part.split('"').next().unwrap_or("").replace("&amp;", "&");
            if link.starts_with("/articles/") && link.ends_with(".html") {
                articles.insert(link);
            } else if link.starts_with("/columns/") && seen.insert(link.clone()) {
                columns.insert(link.clone());
                queue.push_back(link);
            }
        }
    }
    (articles.into_iter().collect(), columns.into_iter().collect())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let total: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let budget: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zhanqun.toml"), format!("page_cache_mib = {budget}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhanqun"))
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("ZHANQUN_DATABASE_URL")
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // The rest of what it prints (the demo accounts) must not block it.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let node = Node(child);
    let pid = node.0.id();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut per_site = Vec::new();
        for &host in HOSTS {
            let (articles, columns) = site_links(&client, &base, host).await;
            assert!(!articles.is_empty(), "{host} links to no article");
            per_site.push((host, articles, columns));
        }
        let pages: usize = per_site.iter().map(|(_, a, c)| a.len() + c.len()).sum();
        let (rss0, _) = memory(pid);

        // The addresses: each site's columns, then its articles spelt with 0, 1, 2 … leading
        // zeros in turn, one in ten an article number that does not exist, until `total`.
        let mut addresses = Vec::with_capacity(total);
        for (host, _, columns) in &per_site {
            addresses.extend(columns.iter().map(|c| (*host, c.clone())));
        }
        let mut zeros = 0usize;
        'fill: loop {
            for (host, articles, _) in &per_site {
                for a in articles {
                    if addresses.len() >= total {
                        break 'fill;
                    }
                    let n = a.trim_start_matches("/articles/").trim_end_matches(".html");
                    let pad = "0".repeat(zeros);
                    if addresses.len() % 10 == 9 {
                        addresses.push((*host, format!("/articles/{pad}9{n}9.html")));
                    } else {
                        addresses.push((*host, format!("/articles/{pad}{n}.html")));
                    }
                }
            }
            zeros += 1;
        }
        let distinct: BTreeSet<_> = addresses.iter().collect();
        assert_eq!(distinct.len(), addresses.len(), "the addresses are distinct");

        let t0 = Instant::now();
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let mut peak_rss = rss0;
        let mut done = 0usize;
        let mut answers = futures::stream::iter(addresses.into_iter().map(|(host, path)| {
            let c = client.clone();
            let url = format!("{base}{path}");
            async move {
                let r = c.get(url).header("host", host).header("accept-encoding", "gzip, br").send().await.unwrap();
                let st = r.status().as_u16();
                r.bytes().await.unwrap();
                st
            }
        }))
        .buffer_unordered(32);
        while let Some(st) = answers.next().await {
            *statuses.entry(st).or_default() += 1;
            done += 1;
            if done.is_multiple_of(5_000) {
                let now = memory(pid).0;
                peak_rss = peak_rss.max(now);
                if done.is_multiple_of(25_000) {
                    println!("  after {done:>7} addresses: {:.0} MiB resident", mib(now));
                }
            }
        }
        let took = t0.elapsed();
        let (rss1, hwm) = memory(pid);

        let token: Value = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&serde_json::json!({"username": "admin", "password": "demo-admin-2026"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status: Value = client
            .get(format!("{base}/api/v1/system/status"))
            .bearer_auth(token["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cache = &status["page_cache"];

        println!(
            "crawl: {done} distinct addresses over {} sites ({pages} linked pages), 32 at a time, {took:.1?}",
            HOSTS.len()
        );
        println!("answers: {statuses:?}");
        println!(
            "page cache: budget {budget} MiB, holds {:.1} MiB in {} pages; {} misses, {} evictions",
            cache["bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
            cache["entries"],
            cache["misses"],
            cache["evictions"]
        );
        println!(
            "resident memory: {:.0} MiB before, {:.0} MiB after, peak {:.0} MiB (sampled {:.0} MiB); \
             after − before = {:.0} MiB against the {budget} MiB budget",
            mib(rss0),
            mib(rss1),
            mib(hwm),
            mib(peak_rss),
            mib(rss1.saturating_sub(rss0))
        );
    });
    drop(node);
}
