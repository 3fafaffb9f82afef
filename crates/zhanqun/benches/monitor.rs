//! The monitor's crawl with every check on: pages checked per second and memory per crawl
//! on a generated government site served on 127.0.0.1 (a home page, columns of articles,
//! attachments and images, with defects planted here and there), at 10,000 pages against
//! the same site at 100 pages. Goal: ≥ 200 pages/s on a 2-core machine.
//!
//! `cargo bench -p zhanqun --bench monitor` (both sizes), or `-- 100` / `-- 10000`.
#![allow(clippy::unwrap_used, clippy::field_reassign_with_default)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PER_COLUMN: usize = 100;

#[derive(Clone)]
struct Site {
    pages: usize,
}

impl Site {
    fn columns(&self) -> usize {
        (self.pages.saturating_sub(1)).div_ceil(PER_COLUMN + 1).max(1)
    }
}

fn day(ago: usize) -> String {
    let d = zhanqun::kernel::time::today() - time::Duration::days(ago as i64);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn shell(title: &str, extra_head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <meta name=\"SiteName\" content=\"青岛市示范局\"><meta name=\"SiteDomain\" content=\"sfj.qingdao.gov.cn\"><meta name=\"SiteIDCode\" content=\"3702000001\">{extra_head}\
         <title>{title}</title><link rel=stylesheet href=/style.css></head><body><header><a href=/>首页</a> <a href=/col/0/>工作动态</a> <a href=/mailbox/>领导信箱</a> <a href=/service/>办事服务</a></header>\
         {body}<footer>主办：青岛市示范局 网站标识码：3702000001 鲁ICP备05001234号 鲁公网安备37020202000123号 <a href=/jiucuo/>我为政府网站找错</a></footer></body></html>"
    )
}

async fn home(State(s): State<Site>) -> impl IntoResponse {
    let mut b = String::from("<nav>");
    for c in 0..s.columns() {
        b.push_str(&format!(
            "<a href=/col/{c}/>{}</a> ",
            if c % 3 == 0 { format!("工作动态{c}") } else { format!("通知公告{c}") }
        ));
    }
    b.push_str("</nav><ul>");
    for i in 0..10 {
        b.push_str(&format!("<li><a href=/col/0/{i}.html>示范局工作信息第{i}条</a><span>{}</span></li>", day(i)));
    }
    b.push_str("</ul><img src=/logo.png alt=标志>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], shell("青岛市示范局", "", &b))
}

async fn column(State(s): State<Site>, Path(c): Path<usize>) -> impl IntoResponse {
    let mut b = String::from("<ul class=list>");
    let n = PER_COLUMN.min(s.pages.saturating_sub(1 + c * (PER_COLUMN + 1) + 1));
    for i in 0..n {
        b.push_str(&format!(
            "<li><a href=/col/{c}/{i}.html>关于做好第{i}项工作的通知</a><span>{}</span></li>",
            day(i % 30)
        ));
    }
    b.push_str("</ul>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], shell("栏目", "", &b))
}

async fn article(Path((c, i)): Path<(usize, String)>) -> impl IntoResponse {
    let i: usize = i.trim_end_matches(".html").parse().unwrap_or(0);
    let mut p = String::new();
    for k in 0..12 {
        p.push_str("<p>为进一步做好政务公开工作，提升政府网站信息发布、解读回应和办事服务水平，现就有关事项通知如下。各单位要高度重视，认真落实。</p>");
        if k == 5 && i.is_multiple_of(50) {
            p.push_str("<img src=/img/photo.jpg>");
        }
    }
    // A few dead links and files, as real sites have.
    if i.is_multiple_of(40) {
        p.push_str(&format!("<a href=/files/{c}-{i}.pdf>附件</a> <a href=/gone/{c}-{i}.html>相关链接</a>"));
    }
    let head = format!(
        "<meta name=\"ArticleTitle\" content=\"第{i}项\"><meta name=\"PubDate\" content=\"{} 09:00\"><meta name=\"ContentSource\" content=\"示范局\">",
        day(i % 30)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], shell(&format!("关于做好第{i}项工作的通知"), &head, &p))
}

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

async fn run(pages: usize) {
    let site = Site { pages };
    let app = Router::new()
        .route("/", get(home))
        .route("/col/{c}/", get(column))
        .route("/col/{c}/{i}", get(article))
        .route("/files/{f}", get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], vec![0u8; 512]) }))
        .route("/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css")], "body{}") }))
        .route("/logo.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 64]) }))
        .route("/img/photo.jpg", get(|| async { ([(header::CONTENT_TYPE, "image/jpeg")], vec![0u8; 64]) }))
        .route(
            "/mailbox/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], shell("领导信箱", "", "<form></form>")) }),
        )
        .route(
            "/service/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], shell("办事服务", "", "<p>服务</p>")) }),
        )
        .route("/jiucuo/", get(|| async { ([(header::CONTENT_TYPE, "text/html")], shell("找错", "", "<p>找错</p>")) }))
        .with_state(site.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    let mut o = zhanqun::monitor::Options::default();
    o.max_pages = pages + 10;
    o.max_link_checks = pages;
    o.max_depth = 4;
    o.probes = 1;
    o.limits.rate_per_second = 0.0;
    o.limits.per_host = 8;
    o.limits.timeout = Duration::from_secs(15);
    o.external_links = false;
    let base = rss_mib();
    let peak = Arc::new(AtomicU64::new(0));
    let p = peak.clone();
    let t = Instant::now();
    let progress = move |done: usize, _: usize| {
        if done.is_multiple_of(100) {
            let r = (rss_mib() * 1024.0) as u64;
            p.fetch_max(r, Ordering::Relaxed);
        }
    };
    let r = zhanqun::monitor::check(&format!("http://{addr}/"), o, &progress).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = (peak.load(Ordering::Relaxed) as f64 / 1024.0).max(rss_mib());
    let broken = r.findings.iter().filter(|f| f.rule == "broken_link").count();
    println!(
        "| {pages} | {} | {} | {:.1} | {:.0} | {:.0} | {broken} | {} |",
        r.pages_checked,
        r.links_checked,
        secs,
        r.pages_checked as f64 / secs,
        (peak - base).max(0.0),
        r.score.map(|s| s.value).unwrap_or(0.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> =
        std::env::args().skip(1).filter(|a| !a.starts_with("--")).filter_map(|a| a.parse().ok()).collect();
    let sizes = if args.is_empty() { vec![100, 10_000] } else { args };
    println!(
        "# 监测基准：全部检查项，回环地址上的生成网站（{} 核）",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("\n| 网站页数 | 检查页面 | 检测链接 | 用时 (秒) | 页面/秒 | 抓取内存增量 (MiB) | 不可用链接 | 得分 |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        run(n).await;
    }
}
