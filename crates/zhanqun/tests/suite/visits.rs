//! Visits counted by the server itself (issue #13, part 9): pages people read, by page,
//! device and referring site; robots, feeds, HEAD and errors not; no cookie, no address.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::StatusCode;

behaviour!(page_views_are_counted_without_personal_data_and_reported);

const HOST: &str = "jyj.qingdao.gov.cn";
const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";

async fn page_views_are_counted_without_personal_data_and_reported(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let doc = nr.draft(&s, "关于秋季入学的通知").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let get = |path: String, ua: &'static str, referer: Option<&'static str>| {
        let mut rb = s.client.get(format!("{}{path}", s.base)).header("host", HOST).header("user-agent", ua);
        if let Some(r) = referer {
            rb = rb.header("referer", r);
        }
        async move {
            let r = rb.send().await.unwrap();
            assert!(r.headers().get("set-cookie").is_none(), "no cookie for counting: {path}");
            r.status()
        }
    };
    for _ in 0..3 {
        assert_eq!(get("/".into(), DESKTOP, None).await, StatusCode::OK);
    }
    for _ in 0..2 {
        let st =
            get(format!("/articles/{doc}.html"), PHONE, Some("https://www.baidu.com/s?wd=%E5%85%A5%E5%AD%A6")).await;
        assert_eq!(st, StatusCode::OK);
    }
    assert_eq!(get("/columns/news/".into(), DESKTOP, Some("http://jyj.qingdao.gov.cn/")).await, StatusCode::OK);
    // Not counted: a robot, a feed, an address that does not exist, a HEAD.
    assert_eq!(get("/".into(), "Mozilla/5.0 (compatible; Baiduspider/2.0)", None).await, StatusCode::OK);
    assert_eq!(get("/rss.xml".into(), DESKTOP, None).await, StatusCode::OK);
    assert_eq!(get("/articles/99999.html".into(), DESKTOP, None).await, StatusCode::NOT_FOUND);
    let r = s.client.head(format!("{}/", s.base)).header("host", HOST).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Written off the request path every few seconds (here at once).
    s.app().flush_visits().await.unwrap();
    let (st, v) = s.get(&format!("/api/v1/sites/{}/visits?days=7", nr.site), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 6, "{v}");
    assert_eq!(v["daily"].as_array().unwrap().len(), 7);
    assert_eq!(v["daily"][6]["views"], 6);
    let month = v["monthly"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(month["views"], 6);
    assert_eq!(v["documents"][0]["name"], "关于秋季入学的通知");
    assert_eq!(v["documents"][0]["views"], 2);
    assert_eq!(v["columns"][0]["name"], "首页");
    assert_eq!(v["columns"][0]["views"], 3);
    assert_eq!(v["referrers"].as_array().unwrap().len(), 1, "the site's own pages are no referral: {v}");
    assert_eq!(v["referrers"][0]["name"], "www.baidu.com");
    let devices: Vec<(&str, i64)> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["key"].as_str().unwrap(), d["views"].as_i64().unwrap()))
        .collect();
    assert_eq!(devices, vec![("desktop", 4), ("mobile", 2)]);
    // Counting goes on across writes: the next views add up.
    assert_eq!(get("/".into(), DESKTOP, None).await, StatusCode::OK);
    s.app().flush_visits().await.unwrap();
    let (_, v) = s.get(&format!("/api/v1/sites/{}/visits", nr.site), &nr.editor.1).await;
    assert_eq!(v["total"], 7);

    let (_, stranger) = s.person("stranger").await;
    let (st, _) = s.get(&format!("/api/v1/sites/{}/visits", nr.site), &stranger).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let editor = crate::admin::Browser::login(&s, "editor", crate::common::PW).await;
    let (st, html) = editor.get(&format!("/admin/visits?site={}", nr.site)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("关于秋季入学的通知") && html.contains("www.baidu.com"), "{html}");
    s.finish().await;
}
