//! What a new installer, a citizen, an editor and an API user meet first: the landing page
//! on the server's own address, the sections every government site has in its navigation
//! and footer, the article page's tools, the actions each person may take, the audit trail
//! in Chinese, one time format in the API and every missing field at once.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin::{Browser, hidden};
use crate::common::{Backend, Newsroom, PW, TestServer};

behaviour!(
    the_servers_own_address_shows_the_cluster,
    every_site_leads_to_disclosure_interaction_the_site_map_and_the_cluster,
    each_person_is_offered_only_what_they_may_do,
    the_admin_speaks_chinese_and_guides_a_fresh_installation,
    the_api_has_one_time_format_and_names_every_missing_field,
);

async fn the_servers_own_address_shows_the_cluster(b: Backend) {
    let s = TestServer::start(b).await;
    // A department site, online.
    let _newsroom = Newsroom::new(&s).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "192.168.1.20:8080".to_string()] {
        let (st, h, html) = s.page(&host, "/").await;
        assert_eq!(st, StatusCode::OK, "{host}: {html}");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(html.contains("<h1>站群平台</h1>"), "{html}");
        let p = host.rsplit(':').next().unwrap();
        assert!(html.contains(&format!("href=\"http://jyj.localhost:{p}/\">jyj网站</a>")), "{html}");
        assert!(html.contains("正式域名 jyj.qingdao.gov.cn"), "{html}");
        assert!(html.contains(&format!("href=\"http://localhost:{p}/admin/\">管理后台</a>")), "{html}");
        assert!(html.contains("/api/v1/docs/\">API 说明</a>"), "{html}");
    }
    // Another address on this machine: the same page, saying the address is no site's.
    let (st, _, html) = s.page(&format!("127.0.0.1:{port}"), "/columns/news/").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("这个地址不属于任何网站") && html.contains("jyj网站"), "{html}");
    // A public name nobody registered is simply not found: the list is for this machine.
    let (st, _, html) = s.page("nosuch.example.cn", "/").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("站点不存在") && !html.contains("jyj网站"), "{html}");
    // The bare address answers, and the site itself still answers on its own name.
    let (st, _, html) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("站群平台</h1>"));
    s.finish().await;
}

async fn every_site_leads_to_disclosure_interaction_the_site_map_and_the_cluster(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    // A second site of the cluster, and a child column for the site map.
    let (st, portal) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "city_portal", "name": "青岛政务网", "sponsor": "青岛市人民政府办公厅",
                   "primary_domain": "www.qingdao.gov.cn",
                   "party_label_url": "https://bszs.conac.cn/sitename?method=show&id=0A1B2C3D"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{portal}");
    let portal_id = portal["id"].as_i64().unwrap();
    s.bring_online(portal_id, "3702000001").await;
    s.column(nr.site, "notices", Some(nr.column)).await;
    let (st, survey) = s
        .post(
            &format!("/api/v1/sites/{}/surveys", nr.site),
            &nr.editor.1,
            json!({"title": "市民阅读习惯调查", "intro": "请花两分钟", "opens_on": "2026-01-01", "closes_on": "2099-12-31",
                   "questions": [{"kind": "single", "prompt": "您每周读书几次？", "options": ["0", "1-3", "4+"]}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{survey}");

    let (st, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert_eq!(st, StatusCode::OK);
    for link in [
        "<a href=\"/catalog/\">政府信息公开</a>",
        "<a href=\"/interaction/\">互动交流</a>",
        "<a href=\"/surveys/\">网上调查</a>",
        "<a href=\"/sitemap/\">网站地图</a>",
        "<a href=\"/mailbox/\">政府信箱</a>",
        "<a href=\"/consultations/\">意见征集</a>",
        "<a href=\"/interviews/\">在线访谈</a>",
    ] {
        assert!(home.contains(link), "home page lacks {link}");
    }
    assert!(home.contains("站群导航"), "{home}");
    assert!(home.contains("<a href=\"https://www.qingdao.gov.cn/\">青岛政务网</a>"), "the other site: {home}");
    assert!(home.contains("市政府门户网站") && home.contains("部门网站"), "grouped by kind");
    // The label shows only where the site has one.
    assert!(!home.contains("party-label.svg"), "jyj has no label");
    let (_, _, portal_home) = s.page("www.qingdao.gov.cn", "/").await;
    assert!(
        portal_home.contains("href=\"https://bszs.conac.cn/sitename?method=show&amp;id=0A1B2C3D\"")
            && portal_home.contains("src=\"/assets/party-label.svg\" alt=\"党政机关网站标识\""),
        "{portal_home}"
    );
    assert!(portal_home.contains("<a href=\"https://jyj.qingdao.gov.cn/\">jyj网站</a>"), "and back: {portal_home}");
    let (st, h, svg) = s.page("www.qingdao.gov.cn", "/assets/party-label.svg").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "image/svg+xml");
    assert!(svg.contains("党政机关网站标识"));

    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/surveys/").await;
    assert_eq!(st, StatusCode::OK, "/surveys/ answers");
    assert!(page.contains("市民阅读习惯调查") && page.contains("进行中"), "{page}");
    assert!(page.contains("aria-current=\"page\">互动交流"), "the section is marked: {page}");
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/interaction/").await;
    assert_eq!(st, StatusCode::OK);
    for l in ["/mailbox/", "/consultations/", "/surveys/", "/interviews/"] {
        assert!(page.contains(&format!("href=\"{l}\"")), "{page}");
    }
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/catalog/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("aria-current=\"page\">政府信息公开"), "{page}");
    let (st, _, map) = s.page("jyj.qingdao.gov.cn", "/sitemap/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(map.contains("<h1>网站地图</h1>"));
    assert!(
        map.contains("href=\"/columns/news/\">栏目news</a>")
            && map.contains("href=\"/columns/notices/\">栏目notices</a>")
    );
    assert!(map.contains("青岛政务网"), "the cluster on the site map");

    // The article page: font size, print, publish time and source.
    let doc = nr.draft(&s, "关于开展读书月活动的通知").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let (st, _, article) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::OK);
    for tool in ["data-font=\"large\"", ">大</button>", ">中</button>", ">小</button>", ">打印本页</button>"] {
        assert!(article.contains(tool), "article lacks {tool}");
    }
    assert!(article.contains("<script src=\"/assets/article.js\" defer></script>"));
    assert!(article.contains("发布时间：") && article.contains("来源：青岛市教育局"));
    let (st, h, js) = s.page("jyj.qingdao.gov.cn", "/assets/article.js").await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.contains("window.print()"));

    // A label link that is not the issuing authority's is refused with a message.
    let (st, p) = s
        .patch(
            &format!("/api/v1/sites/{portal_id}"),
            &s.admin,
            json!({"version": s.get(&format!("/api/v1/sites/{portal_id}"), &s.admin).await.1["version"],
                   "party_label_url": "https://evil.example.cn/label"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("党政机关网站标识链接"), "{p}");
    s.finish().await;
}

/// The buttons on a document's admin page.
fn buttons(html: &str) -> Vec<&str> {
    html.split("name=\"action\" value=\"").skip(1).filter_map(|r| r.split('"').next()).collect()
}

async fn each_person_is_offered_only_what_they_may_do(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let doc = nr.draft(&s, "只给能办的人看按钮").await["id"].as_i64().unwrap();
    let page = format!("/admin/documents/{doc}");
    let editor = Browser::login(&s, "editor", PW).await;
    let secrecy = Browser::login(&s, "secrecy", PW).await;
    let editorial = Browser::login(&s, "editorial", PW).await;

    assert_eq!(buttons(&editor.get(&page).await.1), ["submit"]);
    let (_, html) = secrecy.get(&page).await;
    assert!(buttons(&html).is_empty(), "a reviewer does not submit an editor's draft: {:?}", buttons(&html));
    nr.act(&s, &nr.editor.1, doc, json!({"action": "submit"})).await;
    let (_, html) = editor.get(&page).await;
    assert!(buttons(&html).is_empty(), "the editor sees no review buttons: {:?}", buttons(&html));
    assert!(html.contains("等待保密审查员审查"), "and is told who acts now");
    assert_eq!(buttons(&secrecy.get(&page).await.1), ["approve", "reject"]);
    assert!(secrecy.get(&page).await.1.contains(">保密审查通过</button>"));
    assert!(buttons(&editorial.get(&page).await.1).is_empty());
    nr.act(&s, &nr.secrecy.1, doc, json!({"action": "approve"})).await;
    assert_eq!(buttons(&editorial.get(&page).await.1), ["approve", "reject"]);
    assert!(buttons(&secrecy.get(&page).await.1).is_empty());
    nr.act(&s, &nr.editorial.1, doc, json!({"action": "approve"})).await;
    // Published: the editorial reviewer may withdraw it; the editor may not.
    assert_eq!(buttons(&editorial.get(&page).await.1), ["unpublish"]);
    assert!(buttons(&editor.get(&page).await.1).is_empty());

    // A site's lifecycle offers only what its state allows, and only to who may do it.
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, site) = admin.get(&format!("/admin/sites/{}", nr.site)).await;
    let options: Vec<&str> = site.split("<option value=\"").skip(1).filter_map(|r| r.split('"').next()).collect();
    assert!(options.contains(&"suspend") && options.contains(&"close"), "{options:?}");
    for gone in ["approve", "register", "online", "resume"] {
        assert!(!options.contains(&gone), "an online site is not offered {gone}: {options:?}");
    }
    // The system administrator grants no roles (三员分立): no form for it on the site page;
    // the security administrator has it.
    assert!(!site.contains("/roles\" class=\"row\"") && site.contains("系统管理员不管理人员"), "{site}");
    let security = Browser::login(&s, "security", crate::common::SECURITY_PW).await;
    let (_, site_for_security) = security.get(&format!("/admin/sites/{}", nr.site)).await;
    assert!(site_for_security.contains(&format!("action=\"/admin/sites/{}/roles\" class=\"row\"", nr.site)));
    // And none of the three administrators can be given a site role.
    for who in [&s.admin, &s.auditor] {
        let id = s.get("/api/v1/me", who).await.1["user_id"].as_i64().unwrap();
        let (st, p) = s
            .post(&format!("/api/v1/sites/{}/roles", nr.site), &s.security, json!({"user_id": id, "role": "editor"}))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
        assert!(p["detail"].as_str().unwrap_or("").contains("三员分立"), "{p}");
    }
    let (_, site) = editor.get(&format!("/admin/sites/{}", nr.site)).await;
    assert!(!site.contains("name=\"action\""), "an editor moves no site");
    assert!(site.contains("由系统管理员或上级站点管理员办理"));
    s.finish().await;
}

async fn the_admin_speaks_chinese_and_guides_a_fresh_installation(b: Backend) {
    let s = TestServer::start(b).await;
    // A fresh installation: no site yet. The first administrator is shown where to begin.
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, home) = admin.get("/admin/").await;
    assert!(home.contains("开始使用") && home.contains("登记第一个网站"), "{home}");
    let security = Browser::login(&s, "security", crate::common::SECURITY_PW).await;
    let (_, home) = security.get("/admin/").await;
    assert!(home.contains("开始使用") && home.contains("人员与机构"), "{home}");
    let (_, login) = Browser::login(&s, "admin", crate::common::ADMIN_PW).await.get("/admin/login").await;
    assert!(login.contains("<title>站群管理后台</title>"), "no dangling dash: {login}");

    // People by their display names and actions in Chinese, in a document's history and the
    // audit administrator's trail.
    let nr = Newsroom::new(&s).await;
    let (_, home) = admin.get("/admin/").await;
    assert!(!home.contains("开始使用"), "once there is a site, no guide");
    let (st, u) = s
        .post(
            "/api/v1/users",
            &s.security,
            json!({"username": "wangjing", "display_name": "王静", "password": crate::common::FIRST_PW}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    s.grant(nr.site, u["id"].as_i64().unwrap(), "secrecy_reviewer").await;
    let first = s.login("wangjing", crate::common::FIRST_PW).await;
    s.post("/api/v1/me/password", &first, json!({"current_password": crate::common::FIRST_PW, "new_password": PW}))
        .await;
    let wang = s.login("wangjing", PW).await;
    let doc = nr.draft(&s, "操作记录说中文").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, doc, json!({"action": "submit"})).await;
    let (st, d) = nr.act(&s, &wang, doc, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let editor = Browser::login(&s, "editor", PW).await;
    let (_, html) = editor.get(&format!("/admin/documents/{doc}")).await;
    let history = &html[html.find("<h2>操作记录").unwrap_or(0)..];
    assert!(history.contains("<td>王静</td><td>保密审查通过</td><td>待保密审查</td><td>待编辑把关</td>"), "{history}");
    assert!(history.contains("<td>报送审核</td>"), "{history}");
    assert!(!history.contains("<td>approve</td>") && !history.contains("<td>wangjing</td>"));
    let auditor = Browser::login(&s, "auditor", crate::common::AUDITOR_PW).await;
    let (_, trail) = auditor.get("/admin/audit").await;
    assert!(trail.contains("保密审查通过") && trail.contains("王静") && trail.contains("登录"), "{trail}");
    let (_, entries) = s.get("/api/v1/audit?entity=document&action=approve", &s.auditor).await;
    let e = &entries[0];
    assert_eq!(
        (e["action_label"].as_str(), e["actor_display"].as_str(), e["actor"].as_str()),
        (Some("保密审查通过"), Some("王静"), Some("wangjing"))
    );

    // Over plain HTTP to a name other than this machine the admin cannot keep a session:
    // the login page says so instead of failing with "the form expired".
    let r =
        s.client.get(format!("{}/admin/login", s.base)).header("host", "admin.qingdao.gov.cn").send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("需要 HTTPS") && html.contains("localhost"), "{html}");
    let r = s
        .client
        .get(format!("{}/admin/login", s.base))
        .header("host", "admin.qingdao.gov.cn")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(!r.text().await.unwrap().contains("需要 HTTPS"), "behind HTTPS nothing to say");
    let pre = hidden(&login, "_pre").to_string();
    let r = s
        .client
        .post(format!("{}/admin/login", s.base))
        .header("host", "admin.qingdao.gov.cn")
        .header("origin", "http://admin.qingdao.gov.cn")
        .form(&[("_pre", pre.as_str()), ("username", "admin"), ("password", crate::common::ADMIN_PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("通过 HTTP 访问管理后台") && !html.contains("登录表单已过期"), "{html}");
    s.finish().await;
}

async fn the_api_has_one_time_format_and_names_every_missing_field(b: Backend) {
    let s = TestServer::start(b).await;
    // Every required field left out is named at once, each with its message.
    let (st, p) = s.post("/api/v1/sites", &s.admin, json!({"sponsor": "青岛市教育局"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"kind") && fields.contains(&"name"), "{p}");
    assert!(p.to_string().contains("缺少必填字段 kind") && p.to_string().contains("缺少必填字段 name"), "{p}");
    let (st, p) = s.post("/api/v1/users", &s.security, json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"username") && fields.contains(&"password"), "{p}");
    // A wrong type is still reported by its field.
    let (st, p) = s.post("/api/v1/sites", &s.admin, json!({"kind": 7, "name": "x"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "kind", "{p}");

    // Catalog entries carry their publication time as RFC 3339, like every other time.
    let nr = Newsroom::new(&s).await;
    let body_id = crate::disclosure::coded_body(&s, "青岛市教育局").await;
    let doc = nr.draft(&s, "关于公布2026年教育收费标准的通知").await["id"].as_i64().unwrap();
    let (st, d) = s
        .call(
            Method::PUT,
            &format!("/api/v1/documents/{doc}/disclosure"),
            Some(&nr.editor.1),
            Some(crate::disclosure::meta(body_id, Some("青教发〔2026〕12号"), "2026-11-30")),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    nr.publish(&s, doc).await;
    let (st, cat) = s.call(Method::GET, "/api/v1/catalog", None, None).await;
    assert_eq!(st, StatusCode::OK, "{cat}");
    let t = cat["entries"][0]["published_at"].as_str().unwrap_or_else(|| panic!("a time string: {cat}"));
    assert!(t.len() >= 25 && &t[10..11] == "T" && t.ends_with("+08:00"), "RFC 3339 in China Standard Time: {t}");
    let (_, d) = s.get(&format!("/api/v1/documents/{doc}"), &nr.editor.1).await;
    assert_eq!(&d["first_published_at"].as_str().unwrap()[..16], &t[..16], "the same instant as the document says");
    s.finish().await;
}
