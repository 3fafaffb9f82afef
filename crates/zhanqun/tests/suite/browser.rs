//! End-to-end tests in a real browser: Debian's Chromium, driven through chromedriver.
//! They are `#[ignore]`d for a plain `cargo test` (no browser needed there); `.ci/run`
//! installs chromium, chromium-driver and axe-core and runs them with `--ignored browser::`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{Backend, Newsroom, PW, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_driver() -> (Driver, Client) {
    let port = free_port();
    let child = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (Debian package chromium-driver; .ci/run installs it)");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver { child, port, _profile: profile };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1280,900", format!("--user-data-dir={}", driver._profile.path().display())],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("cannot start Chromium through chromedriver");
    (driver, client)
}

fn port(s: &TestServer) -> u16 {
    s.base.rsplit(':').next().unwrap().parse().unwrap()
}

async fn login(c: &Client, s: &TestServer, user: &str) {
    c.goto(&format!("http://localhost:{}/admin/login", port(s))).await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(PW).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., '我的工作台')]")).await.unwrap();
}

async fn logout(c: &Client) {
    // From the workbench, a page that has finished loading: a click on a page still being
    // replaced (after a form's redirect) can land on an element that is already gone.
    let home = c.current_url().await.unwrap().join("/admin/").unwrap();
    c.goto(home.as_str()).await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., '我的工作台')]")).await.unwrap();
    c.find(Locator::XPath("//button[contains(., '退出')]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("username")).await.unwrap();
}

async fn press(c: &Client, label: &str) {
    c.find(Locator::XPath(&format!("//button[contains(., '{label}')]"))).await.unwrap().click().await.unwrap();
}

/// Clicks the button whose whole label is `label`.
async fn press_exact(c: &Client, label: &str) {
    c.find(Locator::XPath(&format!("//button[normalize-space()='{label}']"))).await.unwrap().click().await.unwrap();
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

/// Writes a document in the admin as the editor; returns its admin URL.
async fn write_document(c: &Client, s: &TestServer, nr: &Newsroom, title: &str) -> String {
    c.goto(&format!("http://localhost:{}/admin/sites/{}/documents/new", port(s), nr.site)).await.unwrap();
    c.find(Locator::Id("title")).await.unwrap().send_keys(title).await.unwrap();
    c.find(Locator::Id("body")).await.unwrap().send_keys("为做好相关工作，现将有关事项通知如下。").await.unwrap();
    c.find(Locator::Css(&format!("input[name=columns][value='{}']", nr.column))).await.unwrap().click().await.unwrap();
    press(c, "保存草稿").await;
    c.wait().for_element(Locator::XPath("//p[contains(., '草稿已保存')]")).await.unwrap();
    c.current_url().await.unwrap().to_string()
}

mod chromium {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver (.ci/run runs it)"]
    async fn an_editor_writes_both_reviewers_approve_and_the_public_finds_it() {
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let (_d, c) = start_driver().await;
        login(&c, &s, "editor").await;
        let url = write_document(&c, &s, &nr, "关于做好冬季校园安全工作的通知").await;
        press(&c, "报送审核").await;
        c.wait().for_element(Locator::XPath("//p[contains(., '待保密审查')]")).await.unwrap();
        logout(&c).await;

        login(&c, &s, "secrecy").await;
        c.find(Locator::LinkText("关于做好冬季校园安全工作的通知")).await.unwrap().click().await.unwrap();
        press(&c, "保密审查通过").await;
        c.wait().for_element(Locator::XPath("//p[contains(., '待编辑把关')]")).await.unwrap();
        logout(&c).await;

        login(&c, &s, "editorial").await;
        c.goto(&url).await.unwrap();
        press(&c, "编辑把关通过并发布").await;
        c.wait().for_element(Locator::XPath("//p[contains(., '已发布')]")).await.unwrap();
        c.find(Locator::LinkText("查看公开页面")).await.unwrap().click().await.unwrap();
        let h1 = c.wait().for_element(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert_eq!(h1, "关于做好冬季校园安全工作的通知");
        assert!(
            c.current_url()
                .await
                .unwrap()
                .as_str()
                .starts_with(&format!("http://jyj.localhost:{}/articles/", port(&s)))
        );
        // And from the site's home page, as a citizen would.
        c.goto(&format!("http://jyj.localhost:{}/", port(&s))).await.unwrap();
        c.find(Locator::LinkText("关于做好冬季校园安全工作的通知")).await.unwrap().click().await.unwrap();
        assert!(text(&c).await.contains("现将有关事项通知如下"));
        c.close().await.unwrap();
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver (.ci/run runs it)"]
    async fn a_reviewer_rejects_with_a_reason_and_the_editor_sees_it() {
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let (_d, c) = start_driver().await;
        login(&c, &s, "editor").await;
        let url = write_document(&c, &s, &nr, "需要修改的稿件").await;
        press(&c, "报送审核").await;
        c.wait().for_element(Locator::XPath("//p[contains(., '待保密审查')]")).await.unwrap();
        logout(&c).await;
        login(&c, &s, "secrecy").await;
        c.goto(&url).await.unwrap();
        c.find(Locator::Id("comment")).await.unwrap().send_keys("第二段涉及未公开数据，请删除").await.unwrap();
        press(&c, "退回").await;
        c.wait().for_element(Locator::XPath("//p[contains(., '草稿')]")).await.unwrap();
        logout(&c).await;
        login(&c, &s, "editor").await;
        let dash = text(&c).await;
        assert!(dash.contains("需要修改的稿件") && dash.contains("退回理由：第二段涉及未公开数据，请删除"), "{dash}");
        c.close().await.unwrap();
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver (.ci/run runs it)"]
    async fn a_phone_reads_a_document_without_scrolling_sideways() {
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let long = format!(
            "{}\n\n| 项目 | 内容 | 负责单位 | 完成时限 | 备注 |\n|---|---|---|---|---|\n| 校舍安全 | 全面排查校舍、围墙、消防设施 | 各区市教育局 | 2026年12月31日 | 每月报送进展情况 |\n\nhttps://www.qingdao.gov.cn/a/very/long/address/that/does/not/break/naturally/{}",
            "青岛市教育局关于进一步加强中小学校园安全管理工作的通知要求各单位认真落实。".repeat(6),
            "x".repeat(80)
        );
        let (_, d) = s
            .post(&format!("/api/v1/sites/{}/documents", nr.site), &nr.editor.1, json!({"title": "手机阅读测试：一个很长很长的标题用来检验换行是否正常", "body": long, "columns": [nr.column]}))
            .await;
        let id = d["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        let (_d, c) = start_driver().await;
        c.set_window_size(375, 812).await.unwrap();
        // The measurement can fail: a page wider than the phone is caught.
        c.goto("data:text/html,<meta name=viewport content='width=device-width'><div style='width:900px'>wide</div>")
            .await
            .unwrap();
        let v: Value =
            c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
        assert!(v[0].as_i64().unwrap() > v[1].as_i64().unwrap(), "control page must overflow: {v}");
        for path in [format!("/articles/{id}.html"), "/".into(), "/columns/news/".into()] {
            c.goto(&format!("http://jyj.localhost:{}{path}", port(&s))).await.unwrap();
            let v: Value =
                c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
            let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
            assert!(inner <= 400, "a phone-sized viewport: {inner}");
            assert!(scroll <= inner, "{path}: page is {scroll}px wide in a {inner}px viewport");
        }
        c.close().await.unwrap();
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver (.ci/run runs it)"]
    async fn a_citizen_finds_the_sections_and_reads_an_article_larger_or_prints_it() {
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let id = nr.draft(&s, "关于开展读书月活动的通知").await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        let (_d, c) = start_driver().await;
        let home = format!("http://jyj.localhost:{}/", port(&s));
        // From the home page's main navigation to the disclosure catalog and the interaction
        // platform, and from the footer to the site map.
        for (label, heading) in [("政府信息公开", "政府信息公开"), ("互动交流", "互动交流")] {
            c.goto(&home).await.unwrap();
            c.find(Locator::XPath(&format!("//nav[@aria-label='栏目导航']//a[normalize-space()='{label}']")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let h1 = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
            assert!(h1.contains(heading), "{label} leads to {h1}");
        }
        c.goto(&home).await.unwrap();
        c.find(Locator::XPath("//footer//a[normalize-space()='网站地图']")).await.unwrap().click().await.unwrap();
        assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "网站地图");
        c.find(Locator::XPath("//main//a[normalize-space()='网上调查']")).await.unwrap().click().await.unwrap();
        assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "网上调查");

        // The search box in the header finds the article, the words marked.
        c.goto(&home).await.unwrap();
        c.find(Locator::Id("q")).await.unwrap().send_keys("读书月").await.unwrap();
        press_exact(&c, "搜索").await;
        c.wait().for_element(Locator::XPath("//h1[contains(., '站内搜索')]")).await.unwrap();
        let hit = c.find(Locator::Css("ul.results a mark")).await.unwrap().text().await.unwrap();
        assert_eq!(hit, "读书月");

        // The article: 大 makes the text larger, 小 smaller, and the pressed one says so.
        c.goto(&format!("http://jyj.localhost:{}/articles/{id}.html", port(&s))).await.unwrap();
        let size = |c: Client| async move {
            let v: Value = c
                .execute(
                    "return parseFloat(getComputedStyle(document.querySelector('article .body p')).fontSize);",
                    vec![],
                )
                .await
                .unwrap();
            v.as_f64().unwrap()
        };
        let medium = size(c.clone()).await;
        press_exact(&c, "大").await;
        let large = size(c.clone()).await;
        assert!(large > medium, "大: {large} > {medium}");
        press_exact(&c, "小").await;
        let small = size(c.clone()).await;
        assert!(small < medium, "小: {small} < {medium}");
        let pressed = c.find(Locator::XPath("//button[normalize-space()='小']")).await.unwrap();
        assert_eq!(pressed.attr("aria-pressed").await.unwrap().as_deref(), Some("true"));
        press_exact(&c, "中").await;
        assert_eq!(size(c.clone()).await, medium);
        // 打印本页 opens the browser's print (recorded here instead of a dialog).
        c.execute("window.__printed = 0; window.print = () => { window.__printed += 1; };", vec![]).await.unwrap();
        press_exact(&c, "打印本页").await;
        let printed: Value = c.execute("return window.__printed;", vec![]).await.unwrap();
        assert_eq!(printed, 1);
        c.close().await.unwrap();
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver (.ci/run runs it)"]
    async fn a_citizen_searches_a_department_site_and_the_portal_with_a_filter() {
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let (_, portal) = s
            .post(
                "/api/v1/sites",
                &s.admin,
                json!({"kind": "city_portal", "name": "青岛政务网", "sponsor": "青岛市人民政府办公厅", "primary_domain": "www.qingdao.gov.cn"}),
            )
            .await;
        let portal = portal["id"].as_i64().unwrap();
        s.bring_online(portal, "3702000001").await;
        let body = crate::disclosure::coded_body(&s, "青岛市教育局").await;
        for (title, policy) in [("关于义务教育入学工作的通知", true), ("义务教育阶段招生问答", false)]
        {
            let id = nr.draft(&s, title).await["id"].as_i64().unwrap();
            if policy {
                let (st, e) = s
                    .call(
                        reqwest::Method::PUT,
                        &format!("/api/v1/documents/{id}/disclosure"),
                        Some(&nr.editor.1),
                        Some(crate::disclosure::meta(body, Some("青教发〔2026〕1号"), "2026-03-01")),
                    )
                    .await;
                assert!(st.is_success(), "{e}");
            }
            nr.publish(&s, id).await;
        }
        let (_d, c) = start_driver().await;
        let count = |c: Client| async move { c.find_all(Locator::Css("ul.results > li")).await.unwrap().len() };

        // A department site: the box in the header, then the 文件类型 facet, then the chip
        // that removes it.
        c.goto(&format!("http://jyj.localhost:{}/", port(&s))).await.unwrap();
        c.find(Locator::Id("q")).await.unwrap().send_keys("义务教育").await.unwrap();
        press_exact(&c, "搜索").await;
        c.wait().for_element(Locator::XPath("//h1[contains(., '站内搜索')]")).await.unwrap();
        assert_eq!(count(c.clone()).await, 2);
        c.find(Locator::XPath("//aside//a[normalize-space()='政策文件']")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::XPath("//ul[@class='chips']//a[contains(., '政策文件')]")).await.unwrap();
        assert_eq!(count(c.clone()).await, 1);
        assert!(text(&c).await.contains("关于义务教育入学工作的通知"));
        c.find(Locator::XPath("//ul[@class='chips']//a[contains(., '政策文件')]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait().for_element(Locator::XPath("//p[contains(., '找到 2 条')]")).await.unwrap();

        // The portal searches the whole city; the site chosen in its form narrows it.
        let local = s.app().hosts.load().sites[&portal].local_host.clone();
        c.goto(&format!("http://{local}:{}/", port(&s))).await.unwrap();
        c.find(Locator::Id("q")).await.unwrap().send_keys("招生").await.unwrap();
        press_exact(&c, "搜索").await;
        c.wait().for_element(Locator::XPath("//h1[contains(., '全市政府网站搜索')]")).await.unwrap();
        assert_eq!(count(c.clone()).await, 1);
        // The form on the results page, not the one in the header.
        let search_again = |c: Client| async move {
            c.find(Locator::XPath("//select[@id='s-site']/ancestor::form//button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        };
        c.find(Locator::Css(&format!("#s-site option[value='{}']", nr.site))).await.unwrap().click().await.unwrap();
        search_again(c.clone()).await;
        c.wait().for_element(Locator::XPath("//ul[@class='chips']//a[contains(., 'jyj网站')]")).await.unwrap();
        assert_eq!(count(c.clone()).await, 1);
        assert!(c.current_url().await.unwrap().as_str().contains(&format!("site={}", nr.site)));
        c.find(Locator::Css(&format!("#s-site option[value='{portal}']"))).await.unwrap().click().await.unwrap();
        search_again(c.clone()).await;
        c.wait().for_element(Locator::XPath("//p[contains(., '没有找到')]")).await.unwrap();
        assert!(text(&c).await.contains("去掉已选的条件"));
        c.close().await.unwrap();
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser test: needs chromium + chromium-driver and axe-core (.ci/run runs it)"]
    async fn axe_finds_no_serious_violations_on_the_public_pages_and_forms() {
        let axe_path = std::env::var("ZHANQUN_AXE").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/node_modules/axe-core/axe.min.js").into()
        });
        let axe = std::fs::read_to_string(&axe_path)
            .unwrap_or_else(|e| panic!("axe-core at {axe_path}: {e} (npm ci in tests/browser)"));
        let s = TestServer::start(Backend::Sqlite).await;
        let nr = Newsroom::new(&s).await;
        let mut last = 0;
        for t in ["关于做好冬季校园安全工作的通知", "市教育局召开年度工作会议", "关于公布2026年义务教育招生政策的公告"]
        {
            last = nr.draft(&s, t).await["id"].as_i64().unwrap();
            nr.publish(&s, last).await;
        }
        // The last one is a policy with its metadata table, listed in the catalog.
        let (_, body) = s.post("/api/v1/bodies", &s.admin, serde_json::json!({"name": "青岛市教育局"})).await;
        let body = body["id"].as_i64().unwrap();
        s.call(
            reqwest::Method::PUT,
            &format!("/api/v1/bodies/{body}/code"),
            Some(&s.admin),
            Some(serde_json::json!({"code": "91440300708461136T"})),
        )
        .await;
        let (st, d) = s
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/documents/{last}/disclosure"),
                Some(&nr.editor.1),
                Some(serde_json::json!({"doc_type": "policy", "issuing_body_id": body, "document_number": "青教发〔2026〕3号",
                    "subject": "科技、教育/教育", "date_written": "2026-01-05", "genre": "公告", "keywords": "招生 义务教育"})),
            )
            .await;
        assert_eq!(st, reqwest::StatusCode::OK, "{d}");
        let (_d, c) = start_driver().await;
        // The check can fail: a page with an unlabelled image and input is caught.
        c.goto("data:text/html,<html><body><img src='x.png'><input type='text'></body></html>").await.unwrap();
        c.execute(&axe, vec![]).await.unwrap();
        let control = c
            .execute_async("const done = arguments[arguments.length - 1]; axe.run(document).then(r => done(r.violations.map(v => v.impact)));", vec![])
            .await
            .unwrap();
        assert!(
            control.as_array().unwrap().iter().any(|i| i == "critical" || i == "serious"),
            "control page: {control}"
        );
        for path in [
            "/".to_string(),
            "/columns/news/".into(),
            format!("/articles/{last}.html"),
            "/mailbox/".into(),
            "/mailbox/stats".into(),
            "/mailbox/track".into(),
            "/catalog/".into(),
            format!("/catalog/?body={body}"),
            format!("/catalog/bodies/{body}/annual-reports/"),
            "/interaction/".into(),
            "/surveys/".into(),
            "/sitemap/".into(),
            "/search?q=%E9%80%9A%E7%9F%A5".into(),
            "/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8".into(),
        ] {
            c.goto(&format!("http://jyj.localhost:{}{path}", port(&s))).await.unwrap();
            c.execute(&axe, vec![]).await.unwrap();
            let result = c
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))));",
                    vec![],
                )
                .await
                .unwrap();
            let serious: Vec<&Value> = result
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
                .collect();
            assert!(serious.is_empty(), "{path}: {serious:#?}");
        }
        c.close().await.unwrap();
        s.finish().await;
    }
}
