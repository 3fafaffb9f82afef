//! The monitor against real small sites on 127.0.0.1 with planted defects, and against
//! sites that misbehave: each gets its finding or a clear status, within its time budget.
#![allow(clippy::field_reassign_with_default)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::Value;
use zhanqun::monitor::{Options, Report, Status, check};

async fn serve(app: Router) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn day(ago: i64) -> String {
    let d = zhanqun::kernel::time::today() - time::Duration::days(ago);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

const METAS: &str = r#"<meta name="SiteName" content="青岛市示范局"><meta name="SiteDomain" content="sfj.qingdao.gov.cn"><meta name="SiteIDCode" content="3702000001">"#;
const FOOTER: &str = "<div class=footer>主办：青岛市示范局 网站标识码：3702000001 鲁ICP备05001234号 鲁公网安备37020202000123号 <a href=/jiucuo/>我为政府网站找错</a></div>";

fn page(title: &str, head_extra: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">{METAS}{head_extra}<title>{title}</title></head><body>{body}{FOOTER}</body></html>"#
    )
}

fn list(items: &[(String, String, String)]) -> String {
    let mut s = String::from("<ul class=list>");
    for (href, title, date) in items {
        s.push_str(&format!("<li><a href=\"{href}\">{title}</a><span>{date}</span></li>"));
    }
    s.push_str("</ul>");
    s
}

fn article(title: &str, pubdate: &str, text: &str) -> String {
    page(
        title,
        &format!(
            r#"<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{pubdate}"><meta name="ContentSource" content="示范局">"#
        ),
        &format!("<h1>{title}</h1><p>{text}</p>"),
    )
}

/// A department site with one of each defect planted, and the rest right.
fn planted_site() -> Router {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
                let nav = format!(
                    "<nav><a href=\"news/\">工作动态</a> <a href=\"/notice/\">通知公告</a> <a href=\"//{host}/policy/\">政策文件</a> \
                     <a href=\"/zhuanti/\">专题专栏</a> <a href=\"/mailbox/\">领导信箱</a> <a href=\"/service/\">办事服务</a> \
                     <a href=\"javascript:void(0)\">打印</a> <a href=\"mailto:ban@example.cn\">联系我们</a> <a href=\"#top\">顶部</a></nav>"
                );
                let mut items = vec![
                    ("news/1.html".to_string(), "示范局召开年度工作会议".to_string(), day(1)),
                    ("news/2.html".to_string(), "示范局开展安全检查".to_string(), day(3)),
                    ("news/3.html".to_string(), "示范局学习会".to_string(), day(4)),
                ];
                items.push(("/missing.html".into(), "已删除的信息".into(), day(5)));
                let mut body = nav + &list(&items);
                body.push_str("<ul><li><a href=\"news/4.html\">一条不标日期的信息</a></li></ul>");
                body.push_str("<ul><li><a href=\"news/5.html\">示范局调研</a> 2026-01-01</li><li><a href=\"news/6.html\">示范局座谈</a> 2026-01-01</li><li><a href=\"news/7.html\">示范局部署</a> 2026-01-01</li><li><a href=\"news/4.html\">又一条不标日期的信息</a></li></ul>");
                body.push_str("<img src=\"/logo.png\"><img src=\"/banner.png\" alt=\"横幅\">");
                html(page("青岛市示范局", "", &body).replace("鲁ICP备05001234号", ""))
            }),
        )
        .route(
            "/news/",
            get(|| async {
                html(page(
                    "工作动态",
                    "",
                    &list(&[
                        ("1.html".into(), "示范局召开年度工作会议".into(), day(1)),
                        ("2.html".into(), "示范局开展安全检查".into(), day(3)),
                        ("3.html".into(), "示范局学习会".into(), day(4)),
                    ]),
                ))
            }),
        )
        .route("/news/1.html", get(|| async { html(article("示范局召开年度工作会议", &day(1).replace('-', "/"), "会议总结了全年工作。")) }))
        .route("/news/2.html", get(|| async { html(article("示范局开展安全检查", &format!("{} 09:00", day(13)), "检查了重点单位。")) }))
        .route("/news/3.html", get(|| async { html(article("示范局学习会", &format!("{} 09:00", day(4)), "会议学习了一带一路战略的有关内容。")) }))
        .route("/news/{n}", get(|| async { html(article("示范局信息", "2026-01-01 09:00", "正文。")) }))
        .route(
            "/notice/",
            get(|| async {
                html(page("通知公告", "", &list(&[("/notice/1.html".into(), "关于年度报表的通知".into(), day(300)), ("/notice/2.html".into(), "关于放假的通知".into(), day(320))])))
            }),
        )
        .route("/notice/{n}", get(|| async { html(article("通知", &format!("{} 10:00", day(300)), "通知正文。")) }))
        .route(
            "/policy/",
            get(|| async {
                // This list page forgets one checker meta tag.
                html(page("政策文件", "", &list(&[("../policy/1.html".into(), "示范局管理办法".into(), day(10))])).replace(r#"<meta name="SiteIDCode" content="3702000001">"#, ""))
            }),
        )
        .route("/policy/1.html", get(|| async { html(article("示范局管理办法", &format!("{} 10:00", day(10)), "办法全文。")) }))
        .route("/zhuanti/", get(|| async { html(page("专题专栏", "", "<p>暂无信息</p>")) }))
        .route("/mailbox/", get(|| async { html(page("领导信箱", "", "<form><textarea></textarea></form>")) }))
        .route("/jiucuo/", get(|| async { html(page("我为政府网站找错", "", "<p>找错</p>")) }))
        .route(
            "/service/",
            get(|| async { html(page("办事服务", "", "<ul><li><a href=\"/service/guide.html\">户外广告设置许可办事指南</a></li></ul>")) }),
        )
        .route(
            "/service/guide.html",
            get(|| async {
                html(page("户外广告设置许可办事指南", "", "<h1>办事指南</h1><p>事项名称：户外广告设置许可</p><p>申请条件：……</p><p>办理材料：申请表</p><p>办理地点：市民中心</p>"))
            }),
        )
        .route("/logo.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 16]) }))
        .route("/banner.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 16]) }))
}

fn quick() -> Options {
    let mut o = Options::default();
    o.probes = 2;
    o.probe_interval = Duration::from_millis(50);
    o.limits.timeout = Duration::from_secs(2);
    o.limits.rate_per_second = 0.0;
    o.external_links = false;
    o
}

async fn run(url: &str, o: Options) -> Report {
    check(url, o, &|_, _| {}).await.unwrap()
}

fn findings<'a>(r: &'a Report, rule: &str) -> Vec<&'a zhanqun::monitor::check::Finding> {
    r.findings.iter().filter(|f| f.rule == rule).collect()
}

fn veto<'a>(r: &'a Report, indicator: &str) -> Option<&'a zhanqun::monitor::check::Veto> {
    r.vetoes.iter().find(|v| v.indicator == indicator)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_finds_every_planted_defect_with_its_page_and_evidence() {
    let addr = serve(planted_site()).await;
    let base = format!("http://{addr}");
    let r = run(&format!("{base}/"), quick()).await;
    assert_eq!(r.status, Status::Checked);
    assert_eq!(r.probes.total, 2);
    assert_eq!(r.probes.failed, 0);
    // Every page of the site was read, the protocol-relative and the relative links included.
    let pages = r.pages_checked;
    assert!(pages >= 14, "{pages} pages: {:#?}", r.findings);

    let broken = findings(&r, "broken_link");
    assert_eq!(broken.len(), 1, "{broken:#?}");
    assert_eq!(broken[0].page, format!("{base}/"));
    assert_eq!(broken[0].target.as_deref(), Some(format!("{base}/missing.html").as_str()));
    assert_eq!(broken[0].evidence, "HTTP 404");
    // javascript:, mailto: and anchors are not links to try.
    assert!(r.findings.iter().all(|f| f.target.as_deref().is_none_or(|t| t.starts_with("http"))));

    let footer = findings(&r, "footer_missing");
    assert_eq!(footer.len(), 1);
    assert_eq!(footer[0].element.as_deref(), Some("ICP备案编号"));
    let alt = findings(&r, "img_no_alt");
    assert_eq!(alt.len(), 1);
    assert_eq!(alt[0].element.as_deref(), Some("img src=/logo.png"));
    let pubdate = findings(&r, "pubdate_format");
    assert_eq!(pubdate.len(), 1, "{pubdate:#?}");
    assert_eq!(pubdate[0].page, format!("{base}/news/1.html"));
    let meta = findings(&r, "meta_missing");
    assert_eq!(meta.len(), 1, "{meta:#?}");
    assert_eq!(meta[0].page, format!("{base}/policy/"));
    assert_eq!(meta[0].element.as_deref(), Some("SiteIDCode"));
    let undated = findings(&r, "undated_items");
    assert_eq!(undated.len(), 1, "only lists that date other entries: {undated:#?}");
    assert_eq!(undated[0].element.as_deref(), Some("又一条不标日期的信息"));
    assert!(findings(&r, "no_viewport").is_empty() && findings(&r, "no_lang").is_empty());
    assert_eq!(findings(&r, "no_https").len(), 1);

    // Single vetoes: the wrong expression, the back-dated article, the incomplete guide.
    let serious = veto(&r, "serious_error").expect("serious errors");
    assert!(
        serious
            .evidence
            .iter()
            .any(|e| e.page.as_deref() == Some(&format!("{base}/news/3.html")) && e.detail.contains("一带一路战略"))
    );
    assert!(
        serious
            .evidence
            .iter()
            .any(|e| e.page.as_deref() == Some(&format!("{base}/news/2.html")) && e.detail.contains("不一致"))
    );
    let services = veto(&r, "services").expect("incomplete guide");
    assert_eq!(services.evidence.len(), 1);
    assert!(services.evidence[0].detail.contains("设定依据"), "{services:?}");
    assert!(!services.evidence[0].detail.contains("办理材料"));
    // Updated home page, channels working, one stale and one blank column: below the lines.
    assert!(veto(&r, "home_not_updated").is_none(), "{:#?}", r.vetoes);
    assert!(veto(&r, "interaction").is_none());
    assert!(veto(&r, "columns_not_updated").is_none());
    assert!(veto(&r, "unreachable").is_none());

    let score = r.score.as_ref().unwrap();
    let points = |rule: &str| score.deductions.iter().find(|d| d.rule == rule).map(|d| d.points);
    assert_eq!(points("broken_link_home"), Some(1.0));
    assert_eq!(points("footer_missing"), Some(1.0));
    assert_eq!(points("img_no_alt"), Some(0.1));
    let total: f64 = score.deductions.iter().map(|d| d.points).sum();
    assert!((score.value - (100.0 - total)).abs() < 0.01);
}

/// A portal with some of the bonus part's marks: a search box (working or not), an
/// interview page found by its title, an infographic found by a working link, an elderly
/// mode link that is broken, and an online-processing link.
fn portal_site(search_works: bool) -> Router {
    let action = if search_works { "/search/" } else { "/nosearch/" };
    Router::new()
        .route(
            "/",
            get(move || async move {
                let body = format!(
                    "<form action=\"{action}\" method=\"get\"><input type=\"text\" name=\"q\"><button>搜索</button></form>\
                     <nav><a href=\"/fangtan/\">访谈</a> <a href=\"/tujie/1.html\">一图读懂营商环境新政</a> \
                     <a href=\"/zhangzhe/\">长者模式</a> <a href=\"/banshi/\">在线办理</a> <a href=\"/mailbox/\">市长信箱</a></nav>{}",
                    list(&[("/news/1.html".into(), "市政府常务会议召开".into(), day(1))])
                );
                html(page("青岛市人民政府", "", &body))
            }),
        )
        .route("/search/", get(|| async { html(page("搜索结果", "", "<p>找到 3 条</p>")) }))
        .route("/fangtan/", get(|| async { html(page("在线访谈 - 青岛市人民政府", "", "<p>访谈</p>")) }))
        .route("/tujie/1.html", get(|| async { html(article("图说新政", &format!("{} 09:00", day(2)), "正文。")) }))
        .route("/banshi/", get(|| async { html(page("办事大厅", "", "<p>办事</p>")) }))
        .route("/mailbox/", get(|| async { html(page("市长信箱", "", "<form><textarea></textarea></form>")) }))
        .route("/news/1.html", get(|| async { html(article("市政府常务会议召开", &format!("{} 09:00", day(1)), "会议。")) }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_earns_the_bonus_part_by_what_its_pages_show() {
    let addr = serve(portal_site(true)).await;
    let base = format!("http://{addr}");
    let mut o = quick();
    // Not a portal: no bonus part at all.
    let r = run(&format!("{base}/"), o.clone()).await;
    assert!(r.bonus.is_none());
    o.portal = true;
    let r = run(&format!("{base}/"), o.clone()).await;
    let b = r.bonus.as_ref().expect("a portal's bonus part");
    assert_eq!(b.max, 30.0);
    assert_eq!(b.items.len(), 9, "every indicator is listed, earned or not");
    let item = |k: &str| b.items.iter().find(|i| i.indicator == k).unwrap();
    let earned: Vec<&str> = b.items.iter().filter(|i| i.earned).map(|i| i.indicator).collect();
    assert_eq!(earned, ["interpretation_forms", "online_service", "interviews", "search"], "{b:#?}");
    assert_eq!(b.value, 4.0 + 4.0 + 3.0 + 3.0);
    // Evidence: the page found by its title, the working link by its text.
    let interview = item("interviews").evidence.as_ref().unwrap();
    assert_eq!(interview.page.as_deref(), Some(format!("{base}/fangtan/").as_str()));
    assert!(interview.detail.contains("在线访谈"), "{interview:?}");
    let forms = item("interpretation_forms").evidence.as_ref().unwrap();
    assert_eq!(forms.target.as_deref(), Some(format!("{base}/tujie/1.html").as_str()));
    assert!(forms.detail.contains("一图读懂"), "{forms:?}");
    let search = item("search").evidence.as_ref().unwrap();
    assert!(search.target.as_deref().unwrap().starts_with(&format!("{base}/search/?q=")), "{search:?}");
    // A link that does not open earns nothing.
    assert!(!item("accessibility").earned && item("accessibility").evidence.is_none());
    // The text report says so too.
    let text = zhanqun::monitor::render_text(&r);
    assert!(text.contains("加分：14.0 / 30") && text.contains("无障碍与适老化：未见"), "{text}");

    // A search box whose results page does not open is not a working search.
    let addr = serve(portal_site(false)).await;
    let r = run(&format!("http://{addr}/"), o.clone()).await;
    let b = r.bonus.as_ref().unwrap();
    assert!(!b.items.iter().find(|i| i.indicator == "search").unwrap().earned);
    assert_eq!(b.value, 11.0);
    // The points are configuration; their sum never passes 30.
    o.bonus.insert("search".into(), 25.0);
    let addr = serve(portal_site(true)).await;
    let r = run(&format!("http://{addr}/"), o).await;
    assert_eq!(r.bonus.unwrap().value, 30.0);
}

/// A neglected site: old news on the home page, stale and empty columns, no way to write
/// in and no services.
fn neglected_site() -> Router {
    let mut r = Router::new().route(
        "/",
        get(|| async {
            let mut nav = String::new();
            for i in 0..5 {
                nav.push_str(&format!("<a href=\"/dongtai{i}/\">工作动态{i}</a> "));
                nav.push_str(&format!("<a href=\"/empty{i}/\">专栏{i}</a> "));
            }
            html(page("老旧网站", "", &(nav + &list(&[("/a.html".into(), "旧闻".into(), day(30))]))))
        }),
    );
    for i in 0..5 {
        r = r
            .route(
                &format!("/dongtai{i}/"),
                get(|| async { html(page("动态", "", &list(&[("/a.html".into(), "旧闻".into(), day(40))]))) }),
            )
            .route(&format!("/empty{i}/"), get(|| async { html(page("专栏", "", "<p>暂无内容</p>")) }));
    }
    r.route("/a.html", get(|| async { html(article("旧闻", &format!("{} 08:00", day(40)), "旧闻。")) }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neglected_site_fails_the_single_vetoes_with_evidence() {
    let addr = serve(neglected_site()).await;
    let r = run(&format!("http://{addr}/"), quick()).await;
    let home = veto(&r, "home_not_updated").expect("home page stale");
    assert_eq!(home.evidence[0].date.as_deref(), Some(day(30).as_str()));
    let cols: Vec<_> = r.vetoes.iter().filter(|v| v.indicator == "columns_not_updated").collect();
    let kinds: Vec<_> = cols.iter().map(|v| v.kind.unwrap()).collect();
    assert_eq!(kinds, vec!["stale", "blank"], "{cols:#?}");
    assert_eq!(cols[0].evidence.len(), 5);
    assert!(cols[0].evidence[0].detail.contains("工作动态"));
    assert_eq!(cols[1].evidence.len(), 5);
    assert!(veto(&r, "interaction").is_some());
    assert!(veto(&r, "services").is_some());
    assert!(r.vetoed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_never_answers_or_answers_slowly_is_judged_on_its_probes_in_time() {
    // Accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let mut o = quick();
    o.limits.timeout = Duration::from_secs(1);
    let t = Instant::now();
    let r = run(&format!("http://{silent_addr}/"), o.clone()).await;
    assert!(t.elapsed() < Duration::from_secs(6), "took {:?}", t.elapsed());
    assert_eq!(r.status, Status::Unreachable);
    let v = veto(&r, "unreachable").unwrap();
    assert!(v.evidence[0].detail.contains("超时"), "{v:?}");
    assert!(r.score.is_none());

    // Slower than the timeout: a failed probe; slower than `slow_home` only: a finding.
    let slow = serve(Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1300)).await;
            html(page("慢", "", "<a href=/mailbox/>信箱</a>"))
        }),
    ))
    .await;
    let r = run(&format!("http://{slow}/"), o.clone()).await;
    assert_eq!(r.status, Status::Unreachable);
    let mut patient = o;
    patient.limits.timeout = Duration::from_secs(5);
    patient.slow_home = Duration::from_secs(1);
    let r = run(&format!("http://{slow}/"), patient).await;
    assert_eq!(r.status, Status::Checked);
    assert_eq!(findings(&r, "slow_home").len(), 1);

    // Nobody listens at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let r = run(&format!("http://{closed}/"), quick()).await;
    assert_eq!(r.status, Status::Unreachable);
    assert!(veto(&r, "unreachable").unwrap().evidence[0].detail.contains("无法连接"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_huge_pages_broken_html_and_unlabelled_gbk_each_get_a_finding() {
    let mut big = page("大页面", "", "<p>");
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("示范局示范局示范局示范局示范局示范局示范局示范局示范局示范局。");
    }
    let gbk = encoding_rs::GBK
        .encode(
            &page("旧站", "", &list(&[("/a.html".into(), "信息".into(), day(1))]))
                .replace(r#"<meta charset="utf-8">"#, ""),
        )
        .0
        .into_owned();
    let app = Router::new()
        .route("/", get(|| async { html(page("首页", "", "<a href=/loop-a>循环</a> <a href=/big.html>大页面</a> <a href=/broken.html>残缺</a>")) }))
        .route("/loop-a", get(|| async { Redirect::temporary("/loop-b") }))
        .route("/loop-b", get(|| async { Redirect::temporary("/loop-a") }))
        .route("/big.html", get(move || { let b = big.clone(); async move { html(b) } }))
        .route(
            "/broken.html",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/html")], format!("<html><body><div><li><a href=/a.html>未闭合的条目 {}<li><a href='/b.html'>第二条</a> {}</div></div></span><img src=/x.png><p>没有结束的段落<table><td>", day(2), day(3)))
            }),
        )
        .route("/gbk/", get(move || { let b = gbk.clone(); async move { ([(header::CONTENT_TYPE, "text/html")], b) } }))
        .route("/a.html", get(|| async { html(article("信息", &format!("{} 08:00", day(1)), "正文")) }))
        .route("/b.html", get(|| async { html(article("第二条", &format!("{} 08:00", day(3)), "正文")) }))
        .route("/x.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 4]) }));
    let addr = serve(app).await;
    let base = format!("http://{addr}");
    let mut o = quick();
    o.limits.max_bytes = 2 * 1024 * 1024;
    let r = run(&format!("{base}/"), o.clone()).await;
    let looped = findings(&r, "broken_link");
    assert!(
        looped.iter().any(|f| f.target.as_deref() == Some(&format!("{base}/loop-a")) && f.evidence == "重定向循环"),
        "{looped:#?}"
    );
    // The broken page was read as a browser reads it: both entries and their image.
    assert!(findings(&r, "img_no_alt").iter().any(|f| f.page == format!("{base}/broken.html")));
    // Home, the big page, the broken one and the two entries it links to.
    assert!(r.pages_checked >= 5, "{}", r.pages_checked);

    // The 10 MB page as a home page: read up to the budget, said so.
    let r = run(&format!("{base}/big.html"), o.clone()).await;
    assert_eq!(r.status, Status::Checked);
    let w = findings(&r, "page_weight");
    assert_eq!(w.len(), 1);
    assert!(w[0].evidence.contains("超过读取上限"), "{w:?}");

    // GBK with neither a header nor a meta charset: the labels are read as the site wrote them.
    let r = run(&format!("{base}/gbk/"), o).await;
    assert!(findings(&r, "footer_missing").is_empty(), "{:#?}", findings(&r, "footer_missing"));
    assert!(veto(&r, "home_not_updated").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_forbidding_everything_and_thousands_of_links_are_respected() {
    let forbidden = serve(
        Router::new()
            .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /\n" }))
            .route("/", get(|| async { html(page("首页", "", "")) })),
    )
    .await;
    let r = run(&format!("http://{forbidden}/"), quick()).await;
    assert_eq!(r.status, Status::RobotsForbidden);
    assert_eq!(r.pages_checked, 0);
    assert_eq!(r.probes.total, 0, "the home page was not fetched");
    assert_eq!(findings(&r, "robots_forbidden").len(), 1);

    let many = serve(
        Router::new()
            .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /private/\n" }))
            .route(
                "/",
                get(|| async {
                    let mut s = String::from("<a href=/private/x.html>内部</a>");
                    for i in 0..5000 {
                        s.push_str(&format!("<a href=/p/{i}.html>第{i}页</a>"));
                    }
                    html(page("首页", "", &s))
                }),
            )
            .route("/p/{n}", get(|| async { html(page("页", "", "<a href=/>首页</a>")) }))
            .route("/private/{n}", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "must not be fetched") })),
    )
    .await;
    let mut o = quick();
    o.max_pages = 50;
    o.max_link_checks = 100;
    let t = Instant::now();
    let r = run(&format!("http://{many}/"), o).await;
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(r.pages_checked, 50, "the home page and 49 more");
    assert_eq!(r.links_checked, 100);
    // The 5,000 pages and the footer's 我为政府网站找错, less what was read or tried.
    assert_eq!(r.not_checked, 5001 - 49 - 100);
    assert_eq!(r.robots_skipped, 1);
    assert!(findings(&r, "broken_link").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_error_is_a_clear_status() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let a = acceptor.clone();
            tokio::spawn(async move {
                let _ = a.accept(s).await;
            });
        }
    });
    let r = run(&format!("https://localhost:{port}/"), quick()).await;
    assert_eq!(r.status, Status::Unreachable);
    let v = veto(&r, "unreachable").unwrap();
    assert!(v.evidence[0].detail.contains("证书"), "{v:?}");
}

/// `zhanqun monitor check ARGS…`, with no data directory (a check needs none).
async fn monitor_cli(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_zhanqun"))
            .args(["monitor", "check"])
            .args(args)
            .env("ZHANQUN_DATA_DIR", "/nonexistent-zhanqun")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_checks_a_site_before_its_dns_points_at_it() {
    let addr = serve(planted_site()).await;
    let port = addr.port();
    let url = format!("http://sfj.qingdao.gov.cn:{port}/");
    let resolve = format!("sfj.qingdao.gov.cn:{port}:127.0.0.1");
    let args = |more: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec![url.clone(), "--probes".into(), "1".into(), "--no-external".into()];
        a.extend(more.iter().map(|s| s.to_string()));
        a.extend(["--resolve".to_string(), resolve.clone()]);
        a
    };
    let out = monitor_cli(args(&["--json", "--rate", "0"])).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v[0];
    assert_eq!(r["url"], format!("http://sfj.qingdao.gov.cn:{port}/"));
    assert_eq!(r["status"], "checked");
    assert!(r["score"]["value"].as_f64().unwrap() < 100.0);
    let rules: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    for rule in
        ["broken_link", "footer_missing", "img_no_alt", "pubdate_format", "meta_missing", "undated_items", "no_ipv6"]
    {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    let vetoes: Vec<&str> = r["vetoes"].as_array().unwrap().iter().map(|v| v["indicator"].as_str().unwrap()).collect();
    assert!(vetoes.contains(&"serious_error") && vetoes.contains(&"services"), "{vetoes:?}");

    // Text for a person, and a clear error for a mistyped --resolve or address.
    let out = monitor_cli(args(&[])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("单项否决") && text.contains("严重表述错误") && text.contains("得分："), "{text}");
    let bad = monitor_cli(vec!["ftp://x".into(), "--resolve".into(), "nonsense".into()]).await;
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--resolve 的格式"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let ftp = monitor_cli(vec!["ftp://x.gov.cn/".into()]).await;
    assert!(!ftp.status.success());
    assert!(
        String::from_utf8_lossy(&ftp.stderr).contains("只能检查 http 或 https 网址"),
        "{}",
        String::from_utf8_lossy(&ftp.stderr)
    );
}

// ---------- daily checks of every watched site, kept and shown (both databases) ----------

behaviour!(
    the_office_watches_every_site_and_sees_findings_trends_and_ranking,
    a_check_killed_halfway_is_run_again_and_kept_once,
    a_rectification_notice_is_answered_rechecked_and_closed_or_escalated,
    the_portal_publishes_the_results_and_the_method,
    important_policies_without_an_interpretation_cost_points
);

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::Method;
use serde_json::json;

async fn until<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(t0.elapsed() < limit, "after {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Workbook = calamine::Xlsx<std::io::Cursor<Vec<u8>>>;

fn workbook(bytes: Vec<u8>) -> Workbook {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap()
}

/// A worksheet's cells as text, row by row.
fn rows_of(wb: &mut Workbook, name: &str) -> Vec<Vec<String>> {
    let range = calamine::Reader::worksheet_range(wb, name).unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

fn watched<'a>(list: &'a Value, key: &str, id: i64) -> &'a Value {
    list.as_array().unwrap().iter().find(|w| w[key] == id).unwrap_or_else(|| panic!("{key} {id} not watched: {list}"))
}

const QUICK: &str =
    "[monitor]\nmax_pages = 40\nexternal_links = false\nrate_per_second = 0\n[monitor.thresholds]\noneoff_probes = 1\n";

async fn the_office_watches_every_site_and_sees_findings_trends_and_ranking(bk: Backend) {
    let s = TestServer::start_with_config(bk, Some(QUICK)).await;
    let port: u16 = s.base.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    // Cluster sites answer here on their NAME.localhost addresses, as in the demo.
    let _ = s.app().local_links.set(port);
    let nr = Newsroom::new(&s).await;
    let external = serve(planted_site()).await;
    let url = format!("http://{external}/");

    // Bad input is refused field by field, in Chinese; nothing is added.
    for (body, field) in [
        (json!({"name": "", "url": url}), "name"),
        (json!({"name": "示范局", "url": "ftp://example.cn/"}), "url"),
        (json!({"name": "示范局", "url": "http://"}), "url"),
    ] {
        let (st, p) = s.post("/api/v1/monitor/sites", &s.admin, body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let (st, p) = s.post("/api/v1/monitor/sites", &s.admin, json!({"name": "示范局", "url": url, "owner": "x"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {p}");
    // An editor may not add sites to the list.
    let (st, _) = s.post("/api/v1/monitor/sites", &nr.editor.1, json!({"name": "示范局", "url": url})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (st, t) =
        s.post("/api/v1/monitor/sites", &s.admin, json!({"name": "青岛市示范局（未迁入）", "url": url})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let target = t["target_id"].as_i64().unwrap();
    let (st, p) = s.post("/api/v1/monitor/sites", &s.admin, json!({"name": "重复", "url": url})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the same address twice: {p}");

    // The daily job checks every watched site: the external one and the cluster's.
    let now = zhanqun::kernel::time::now_ms();
    s.app().enqueue_job("monitor_daily", "{}", now).await.unwrap();
    let list = until(Duration::from_secs(60), "both sites checked", || async {
        let (_, l) = s.get("/api/v1/monitor/sites", &s.admin).await;
        let both =
            !watched(&l, "target_id", target)["last"].is_null() && !watched(&l, "site_id", nr.site)["last"].is_null();
        both.then_some(l)
    })
    .await;
    let ext = watched(&list, "target_id", target);
    assert_eq!(ext["in_cluster"], false);
    assert_eq!(ext["last"]["status"], "checked", "{ext}");
    let ours = watched(&list, "site_id", nr.site);
    assert_eq!(ours["in_cluster"], true);
    assert_eq!(ours["last"]["status"], "checked", "the cluster site is read over HTTP like any other: {ours}");
    assert!(ours["rank"].as_i64().is_some() && ext["rank"].as_i64().is_some());

    // The run keeps the whole report: the planted broken link with the page it is on.
    let run_id = ext["last"]["id"].as_i64().unwrap();
    let (st, r) = s.get(&format!("/api/v1/monitor/runs/{run_id}"), &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let broken: Vec<&Value> =
        r["report"]["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "broken_link").collect();
    assert!(
        broken.iter().any(|f| f["target"].as_str().is_some_and(|t| t.ends_with("/missing.html")) && f["page"] == url),
        "{broken:?}"
    );
    assert_eq!(r["run"]["findings"].as_u64().unwrap() as usize, r["report"]["findings"].as_array().unwrap().len());

    // A second check on request: two runs, a trend of two points.
    let (st, q) = s.post("/api/v1/monitor/checks", &s.admin, json!({"target_id": target})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{q}");
    let runs = until(Duration::from_secs(60), "a second run", || async {
        let (_, r) = s.get(&format!("/api/v1/monitor/runs?target_id={target}"), &s.admin).await;
        (r.as_array().unwrap().len() == 2).then_some(r)
    })
    .await;
    assert!(runs[0]["id"].as_i64() > runs[1]["id"].as_i64(), "newest first");
    let (_, list) = s.get("/api/v1/monitor/sites", &s.admin).await;
    assert_eq!(watched(&list, "target_id", target)["trend"].as_array().unwrap().len(), 2);
    let (st, p) = s.post("/api/v1/monitor/checks", &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (st, _) = s.post("/api/v1/monitor/checks", &s.admin, json!({"target_id": 99999})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // An editor sees their own site only, and not the external site's runs.
    let (_, mine) = s.get("/api/v1/monitor/sites", &nr.editor.1).await;
    let mine = mine.as_array().unwrap();
    assert!(mine.iter().all(|w| w["site_id"] == nr.site), "{mine:?}");
    let (st, _) = s.get(&format!("/api/v1/monitor/runs/{run_id}"), &nr.editor.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.post("/api/v1/monitor/checks", &nr.editor.1, json!({"site_id": nr.site})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "checks on request are for the site's admins");

    // The admin screens: the ranking with its trend chart, the report with the evidence.
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (st, html) = admin.get("/admin/monitor").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("青岛市示范局（未迁入）") && html.contains("<svg") && html.contains("<polyline"), "{html}");
    assert!(!html.contains("<script"), "charts are drawn without scripts");
    let (st, html) = admin.get(&format!("/admin/monitor/runs/{run_id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("链接不可用") || html.contains("missing.html"), "{html}");
    assert!(html.contains("/missing.html"));
    let (st, html) = admin.get("/admin/monitor/runs/99999").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{html}");
    // Adding a site from the admin: a refused form keeps what was typed.
    let out = admin
        .outcome(
            admin
                .submit("/admin/monitor", "/admin/monitor/targets", &[("name", "某某局"), ("url", "gopher://x")])
                .await,
        )
        .await;
    assert!(out.contains("只能检查 http 或 https 网址") && out.contains("某某局"), "{out}");
    let (st, _, csv) = s.download("/api/v1/monitor/sites.csv", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{feff}排名,网站,网址"), "{csv}");
    assert!(csv.contains("青岛市示范局（未迁入）"));
    let (st, _, bytes) = s.download("/api/v1/monitor/sites.xlsx", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let mut wb = workbook(bytes);
    let rows = rows_of(&mut wb, "网站检查排名");
    assert_eq!(rows[0][0], "排名");
    assert!(rows.iter().any(|r| r[1] == "青岛市示范局（未迁入）" && r[3] == "否"), "{rows:?}");

    // One run's report as XLSX: overview, vetoes with evidence, deductions, every finding.
    let (_, rep) = s.get(&format!("/api/v1/monitor/runs/{run_id}"), &s.admin).await;
    let (st, headers, bytes) = s.download(&format!("/api/v1/monitor/runs/{run_id}/report.xlsx"), &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap().to_string();
    assert!(disposition.contains("attachment") && disposition.contains(".xlsx"), "{disposition}");
    let mut wb = workbook(bytes);
    let names = calamine::Reader::sheet_names(&wb);
    assert_eq!(names, ["概况", "单项否决", "百分制扣分", "问题明细"], "not a portal: no bonus sheet");
    let overview = rows_of(&mut wb, "概况");
    assert!(overview.iter().any(|r| r[0] == "网站" && r[1] == "青岛市示范局（未迁入）"), "{overview:?}");
    let score = rep["run"]["score"].as_f64().unwrap();
    let cell = overview.iter().find(|r| r[0] == "百分制得分").unwrap()[1].clone();
    assert_eq!(cell.parse::<f64>().unwrap(), score, "the score is a number: {cell}");
    let vetoes = rows_of(&mut wb, "单项否决");
    assert!(vetoes.iter().any(|r| r[1] == "严重表述错误" && r[4].contains("一带一路战略")), "{vetoes:?}");
    let found = rows_of(&mut wb, "问题明细");
    assert_eq!(found.len() - 1, rep["report"]["findings"].as_array().unwrap().len());
    assert!(found.iter().any(|r| r[1] == "broken_link" && r[3].ends_with("/missing.html")), "{found:?}");
    let (st, html) = admin.get(&format!("/admin/monitor/runs/{run_id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("/admin/monitor/runs/{run_id}/report.xlsx")));
    let (st, _) = admin.get(&format!("/admin/monitor/runs/{run_id}/report.xlsx")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = s.download(&format!("/api/v1/monitor/runs/{run_id}/report.xlsx"), &nr.editor.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the external site's report is the office's");

    // A portal outside the cluster is judged on the bonus part too; the ranking shows it.
    let portal = serve(portal_site(true)).await;
    let (st, t) = s
        .post(
            "/api/v1/monitor/sites",
            &s.admin,
            json!({"name": "某区政府门户（未迁入）", "url": format!("http://{portal}/"), "portal": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let portal_id = t["target_id"].as_i64().unwrap();
    let last = until(Duration::from_secs(60), "the portal checked", || async {
        let (_, l) = s.get("/api/v1/monitor/sites", &s.admin).await;
        let last = watched(&l, "target_id", portal_id)["last"].clone();
        (!last.is_null()).then_some(last)
    })
    .await;
    assert_eq!(last["bonus"], 14.0, "{last}");
    let (_, l) = s.get("/api/v1/monitor/sites", &s.admin).await;
    assert!(watched(&l, "site_id", nr.site)["last"]["bonus"].is_null(), "a department site has no bonus part");
    let (_, pr) = s.get(&format!("/api/v1/monitor/runs/{}", last["id"]), &s.admin).await;
    assert_eq!(pr["report"]["bonus"]["value"], 14.0);
    let (_, _, csv) = s.download("/api/v1/monitor/sites.csv", &s.admin).await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().next().unwrap().contains("门户加分"), "{csv}");
    assert!(csv.lines().any(|l| l.contains("某区政府门户（未迁入）") && l.contains(",14.0,")), "{csv}");
    let (_, html) = admin.get(&format!("/admin/monitor/runs/{}", last["id"])).await;
    assert!(html.contains("门户网站加分：14") && html.contains("在线访谈"), "{html}");

    // Off the list: the runs stay on record.
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/monitor/targets/{target}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/monitor/targets/{target}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/api/v1/monitor/sites", &s.admin).await;
    assert!(list.as_array().unwrap().iter().all(|w| w["target_id"] != target));
    let (st, _) = s.get(&format!("/api/v1/monitor/runs/{run_id}"), &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    s.finish().await;
}

/// A site whose pages each take a while, so a check is still going when the server stops.
fn slow_site() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async {
                let links: String = (0..12).map(|i| format!("<a href=\"/p/{i}.html\">第{i}页</a> ")).collect();
                html(page("慢网站", "", &links))
            }),
        )
        .route(
            "/p/{n}",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1000)).await;
                html(article("慢页面", "2026-11-30 09:00", "正文。"))
            }),
        )
}

async fn a_check_killed_halfway_is_run_again_and_kept_once(bk: Backend) {
    let cfg = "lease_seconds = 2\n[monitor]\nper_host = 1\nexternal_links = false\nrate_per_second = 0\n[monitor.thresholds]\noneoff_probes = 1\n";
    let mut s = TestServer::start_with_config(bk, Some(cfg)).await;
    let addr = serve(slow_site()).await;
    let (st, t) =
        s.post("/api/v1/monitor/sites", &s.admin, json!({"name": "慢网站", "url": format!("http://{addr}/")})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let target = t["target_id"].as_i64().unwrap();
    // Adding it queued its first check; stop the server while that check is running.
    until(Duration::from_secs(20), "the check runs", || async {
        let (_, jobs) = s.get("/api/v1/jobs?state=running", &s.admin).await;
        jobs.as_array().unwrap().iter().any(|j| j["kind"] == "monitor_check").then_some(())
    })
    .await;
    s.restart().await;
    let runs = until(Duration::from_secs(60), "the check is taken over and finished", || async {
        let (_, r) = s.get(&format!("/api/v1/monitor/runs?target_id={target}"), &s.admin).await;
        (!r.as_array().unwrap().is_empty()).then_some(r)
    })
    .await;
    assert_eq!(runs.as_array().unwrap().len(), 1, "one run kept, not a half one and a whole one: {runs}");
    assert_eq!(runs[0]["pages"], 13, "the whole site was read: {runs}");
    let (_, jobs) = s.get("/api/v1/jobs?limit=1000", &s.admin).await;
    let checks: Vec<&Value> = jobs.as_array().unwrap().iter().filter(|j| j["kind"] == "monitor_check").collect();
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0]["state"], "done", "{checks:?}");
    s.finish().await;
}

async fn notice_state(s: &TestServer, id: i64, want: &str) -> Value {
    until(Duration::from_secs(60), &format!("notice {id} becomes {want}"), || async {
        let (_, n) = s.get(&format!("/api/v1/monitor/notices/{id}"), &s.admin).await;
        (n["state"] == want).then_some(n)
    })
    .await
}

async fn a_rectification_notice_is_answered_rechecked_and_closed_or_escalated(bk: Backend) {
    let s = TestServer::start_with_config(bk, Some(QUICK)).await;
    let port: u16 = s.base.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let _ = s.app().local_links.set(port);
    let nr = Newsroom::new(&s).await;
    let (boss, boss_token) = s.person("jyj_admin").await;
    s.grant(nr.site, boss, "site_admin").await;

    // A site with nothing published: its home page fails the 14-day rule.
    let first_run = |n: usize| {
        let s = &s;
        let site = nr.site;
        async move {
            until(Duration::from_secs(60), "a run of the site", || async {
                let (_, r) = s.get(&format!("/api/v1/monitor/runs?site_id={site}"), &s.admin).await;
                (r.as_array().unwrap().len() >= n).then(|| r[0]["id"].as_i64().unwrap())
            })
            .await
        }
    };
    let (st, _) = s.post("/api/v1/monitor/checks", &s.admin, json!({"site_id": nr.site})).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let run = first_run(1).await;
    let (_, r) = s.get(&format!("/api/v1/monitor/runs/{run}"), &s.admin).await;
    assert!(
        r["report"]["vetoes"].as_array().unwrap().iter().any(|v| v["indicator"] == "home_not_updated"),
        "{}",
        r["report"]
    );

    // Refused: a problem this run did not find, a deadline out of range, not the office.
    for (body, field) in [
        (json!({"run_id": run, "problem": "serious_error", "request": "改", "working_days": 3}), "problem"),
        (json!({"run_id": run, "problem": "home_not_updated", "request": "改", "working_days": 0}), "working_days"),
        (json!({"run_id": run, "problem": "home_not_updated", "request": " ", "working_days": 3}), "request"),
    ] {
        let (st, p) = s.post("/api/v1/monitor/notices", &s.admin, body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let body =
        json!({"run_id": run, "problem": "home_not_updated", "request": "请在期限内更新首页信息", "working_days": 3});
    let (st, _) = s.post("/api/v1/monitor/notices", &boss_token, body.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, n) = s.post("/api/v1/monitor/notices", &s.admin, body).await;
    assert_eq!(st, StatusCode::CREATED, "{n}");
    let id = n["id"].as_i64().unwrap();
    assert_eq!(n["state"], "open");
    let cal = s.app().calendar.load();
    let due = cal.add_working_days(zhanqun::kernel::time::today(), 3).unwrap().due;
    assert_eq!(n["due_on"], zhanqun_domain::calendar::fmt_date(due), "three working days on the holiday calendar");

    // Only the site's admins answer; an empty answer is refused.
    let (st, _) =
        s.post(&format!("/api/v1/monitor/notices/{id}/answer"), &nr.editor.1, json!({"answer": "改了"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s.post(&format!("/api/v1/monitor/notices/{id}/answer"), &boss_token, json!({"answer": ""})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // Answered without fixing: the recheck finds it still and sends the notice back.
    let (st, a) =
        s.post(&format!("/api/v1/monitor/notices/{id}/answer"), &boss_token, json!({"answer": "已整改"})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["state"], "answered");
    let back = notice_state(&s, id, "open").await;
    assert!(back["checked_note"].as_str().unwrap().contains("仍发现"), "{back}");
    // Fixed for real: something published; the recheck closes it.
    let doc = nr.draft(&s, "教育局召开年度工作会议").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let (st, _) =
        s.post(&format!("/api/v1/monitor/notices/{id}/answer"), &boss_token, json!({"answer": "已发布工作动态"})).await;
    assert_eq!(st, StatusCode::OK);
    let closed = notice_state(&s, id, "closed").await;
    assert!(closed["checked_run_id"].as_i64().unwrap() > run, "{closed}");
    let (st, _) = s.post(&format!("/api/v1/monitor/notices/{id}/answer"), &boss_token, json!({"answer": "再答"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "a closed notice takes no answer");

    // A notice left past its deadline escalates on the next morning's round.
    let latest = first_run(3).await;
    let (_, r) = s.get(&format!("/api/v1/monitor/runs/{latest}"), &s.admin).await;
    let rule = r["report"]["findings"][0]["rule"].as_str().expect("the site has some finding").to_string();
    let (st, late) = s
        .post(
            "/api/v1/monitor/notices",
            &s.admin,
            json!({"run_id": latest, "problem": rule, "request": "限期整改", "working_days": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{late}");
    let late = late["id"].as_i64().unwrap();
    sqlx::query("UPDATE monitor_notices SET due_on = '2026-01-05' WHERE id = $1")
        .bind(late)
        .execute(&s.app().db.pool)
        .await
        .unwrap();
    s.app().enqueue_job("monitor_daily", "{}", zhanqun::kernel::time::now_ms()).await.unwrap();
    let e = notice_state(&s, late, "escalated").await;
    assert!(e["escalated_at"].is_string());
    // The office's overview lists it as overdue; the site's admin sees their notices.
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, html) = admin.get("/admin/monitor").await;
    assert!(html.contains("份逾期") && html.contains("逾期未整改"), "{html}");
    let (_, mine) = s.get("/api/v1/monitor/notices", &boss_token).await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (_, none) = s.get("/api/v1/monitor/notices?state=open", &s.admin).await;
    assert!(none.as_array().unwrap().is_empty(), "{none}");
    // Every step is in the audit trail.
    let (_, trail) = s.get("/api/v1/audit?entity=monitor_notice&limit=100", &s.auditor).await;
    let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["send", "answer", "recheck", "escalate"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    s.finish().await;
}

async fn the_portal_publishes_the_results_and_the_method(bk: Backend) {
    let mut s = TestServer::start_with_config(bk, Some(QUICK)).await;
    let (st, portal) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "city_portal", "name": "青岛市人民政府", "sponsor": "青岛市人民政府办公厅", "primary_domain": "www.qingdao.gov.cn"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{portal}");
    s.bring_online(portal["id"].as_i64().unwrap(), "3702000001").await;
    let dept = s.department("jyj").await;
    s.bring_online(dept, "3702000012").await;
    let external = serve(planted_site()).await;
    let (st, t) = s
        .post("/api/v1/monitor/sites", &s.admin, json!({"name": "青岛市示范局", "url": format!("http://{external}/")}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let target = t["target_id"].as_i64().unwrap();
    let run = until(Duration::from_secs(60), "the first check", || async {
        let (_, r) = s.get(&format!("/api/v1/monitor/runs?target_id={target}"), &s.admin).await;
        r[0]["id"].as_i64()
    })
    .await;

    let (st, _, page) = s.page("www.qingdao.gov.cn", "/evaluation/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("青岛市示范局") && page.contains("检查方法") && page.contains("每处扣分"), "{page}");
    assert!(
        page.contains("门户加分") && page.contains("站内搜索可用") && page.contains("不超过 30"),
        "the bonus method too: {page}"
    );
    assert!(page.contains(&format!("/evaluation/runs/{run}")));
    let (st, _, detail) = s.page("www.qingdao.gov.cn", &format!("/evaluation/runs/{run}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        detail.contains("扣分") && !detail.contains("/missing.html"),
        "no evidence unless the office says so: {detail}"
    );
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/evaluation/").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the evaluation is the portal's");
    // Citizens find it from the portal's footer; a department site does not link it.
    let (_, _, home) = s.page("www.qingdao.gov.cn", "/").await;
    assert!(home.contains(r#"<a href="/evaluation/">政府网站检查结果</a>"#), "{home}");
    let (_, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert!(!home.contains("/evaluation/"), "{home}");
    let (st, _, _) = s.page("www.qingdao.gov.cn", "/evaluation/runs/99999").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // With evidence switched on the pages and links show; with a delay, today's run waits.
    s.restart_with_config(&QUICK.replace("[monitor]\n", "[monitor]\npublish_evidence = true\n")).await;
    let (_, _, detail) = s.page("www.qingdao.gov.cn", &format!("/evaluation/runs/{run}")).await;
    assert!(detail.contains("/missing.html"), "{detail}");
    s.restart_with_config(&QUICK.replace("[monitor]\n", "[monitor]\npublish_delay_days = 3\n")).await;
    let (_, _, page) = s.page("www.qingdao.gov.cn", "/evaluation/").await;
    assert!(page.contains("暂无公开的检查结果") && !page.contains("青岛市示范局"), "{page}");
    let (st, _, _) = s.page("www.qingdao.gov.cn", &format!("/evaluation/runs/{run}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.finish().await;
}

async fn important_policies_without_an_interpretation_cost_points(bk: Backend) {
    let s = TestServer::start_with_config(bk, Some(&format!("interpretation_days = 0\n{QUICK}"))).await;
    let port: u16 = s.base.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let _ = s.app().local_links.set(port);
    let nr = Newsroom::new(&s).await;
    let (_, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    s.call(
        Method::PUT,
        &format!("/api/v1/bodies/{body_id}/code"),
        Some(&s.admin),
        Some(json!({"code": "91440300708461136T"})),
    )
    .await;
    let meta = |doc_type: &str, important: bool, number: Option<&str>| {
        json!({"doc_type": doc_type, "issuing_body_id": body_id, "document_number": number, "subject": "科技、教育",
               "date_written": "2026-01-05", "important": important})
    };
    let put = |doc: i64, v: Value| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move { s.call(Method::PUT, &format!("/api/v1/documents/{doc}/disclosure"), Some(&token), Some(v)).await }
    };
    let policy = nr.draft(&s, "关于推进义务教育优质均衡发展的实施意见").await["id"].as_i64().unwrap();
    assert_eq!(put(policy, meta("policy", true, Some("青教发〔2026〕8号"))).await.0, StatusCode::OK);
    nr.publish(&s, policy).await;
    let ordinary = nr.draft(&s, "关于做好寒假安全工作的通知").await["id"].as_i64().unwrap();
    assert_eq!(put(ordinary, meta("policy", false, Some("青教发〔2026〕9号"))).await.0, StatusCode::OK);
    nr.publish(&s, ordinary).await;

    let check = |n: usize| {
        let s = &s;
        let site = nr.site;
        async move {
            let (st, _) = s.post("/api/v1/monitor/checks", &s.admin, json!({"site_id": site})).await;
            assert_eq!(st, StatusCode::ACCEPTED);
            let id = until(Duration::from_secs(60), "a run", || async {
                let (_, r) = s.get(&format!("/api/v1/monitor/runs?site_id={site}"), &s.admin).await;
                (r.as_array().unwrap().len() >= n).then(|| r[0]["id"].as_i64().unwrap())
            })
            .await;
            s.get(&format!("/api/v1/monitor/runs/{id}"), &s.admin).await.1
        }
    };
    let r = check(1).await;
    let missing: Vec<&Value> =
        r["report"]["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "interpretation_missing").collect();
    assert_eq!(missing.len(), 1, "only the important policy: {missing:?}");
    assert_eq!(missing[0]["target"], format!("文档 {policy}"));
    assert!(missing[0]["page"].as_str().unwrap().ends_with(&format!("/articles/{policy}.html")));
    let d = r["report"]["score"]["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "interpretation_missing")
        .cloned();
    assert_eq!(d.map(|d| d["points"].as_f64()), Some(Some(1.0)), "{}", r["report"]["score"]);

    // Interpreted: the next run no longer finds it.
    let reading = nr.draft(&s, "解读：义务教育优质均衡发展实施意见").await["id"].as_i64().unwrap();
    assert_eq!(put(reading, meta("interpretation", false, None)).await.0, StatusCode::OK);
    let (st, l) = s
        .post(
            &format!("/api/v1/documents/{reading}/interprets"),
            &nr.editor.1,
            json!({"policy_id": policy, "kind": "text"}),
        )
        .await;
    assert!(st.is_success(), "{l}");
    nr.publish(&s, reading).await;
    let r = check(2).await;
    assert!(
        r["report"]["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "interpretation_missing"),
        "{}",
        r["report"]["findings"]
    );
    s.finish().await;
}
