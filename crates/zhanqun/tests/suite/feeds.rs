//! Feeds, sitemaps and robots.txt (issue #12, parts 6 and 7) as feed readers and search
//! engines read them: RSS 2.0 and Atom parsed by a maintained feed parser (`feed-rs`), the
//! sitemap as XML, every one following publications and withdrawals at once. Site search is
//! in `search.rs`.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, Newsroom, TestServer};

behaviour!(feeds_and_sitemaps_follow_what_is_published);

async fn feeds_and_sitemaps_follow_what_is_published(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let other = s.column(nr.site, "notices", None).await;
    let mut ids = Vec::new();
    for t in ["关于开展读书月活动的通知", "市教育局召开年度工作会议", "2026年义务教育招生政策问答 & 说明"]
    {
        let id = nr.draft(&s, t).await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        ids.push(id);
    }
    // One document in the other column only.
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "停水通知", "body": "正文", "columns": [other], "summary": "12月3日市南区部分路段停水"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let notice = d["id"].as_i64().unwrap();
    nr.publish(&s, notice).await;

    // Every page names its feeds; a column page its own too.
    let (_, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert!(
        home.contains(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"jyj网站（RSS）\" href=\"/rss.xml\">"
        )
    );
    assert!(home.contains("type=\"application/atom+xml\"") && home.contains("href=\"/atom.xml\""));
    assert!(home.contains("<a href=\"/rss.xml\">RSS 订阅</a>"), "a link a reader can see and copy");
    let (_, _, col) = s.page("jyj.qingdao.gov.cn", "/columns/notices/").await;
    assert!(col.contains("<a href=\"/columns/notices/rss.xml\">订阅本栏目（RSS）</a>"), "{col}");
    assert!(
        col.contains("href=\"/columns/notices/rss.xml\"") && col.contains("href=\"/columns/notices/atom.xml\""),
        "{col}"
    );

    let parse = |text: &str| feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let titles = |f: &feed_rs::model::Feed| -> Vec<String> {
        f.entries.iter().map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()).collect()
    };
    for (path, kind, ct) in [
        ("/rss.xml", feed_rs::model::FeedType::RSS2, "application/rss+xml"),
        ("/atom.xml", feed_rs::model::FeedType::Atom, "application/atom+xml"),
    ] {
        let (st, h, text) = s.page("jyj.qingdao.gov.cn", path).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        assert!(h["content-type"].to_str().unwrap().starts_with(ct), "{path}: {:?}", h["content-type"]);
        let f = parse(&text);
        assert_eq!(f.feed_type, kind);
        assert_eq!(f.title.as_ref().unwrap().content, "jyj网站");
        let t = titles(&f);
        assert_eq!(t[0], "停水通知", "newest first: {t:?}");
        assert!(t.contains(&"2026年义务教育招生政策问答 & 说明".to_string()), "escaped and read back: {t:?}");
        assert_eq!(t.len(), 4);
        let first = &f.entries[0];
        assert_eq!(first.links[0].href, format!("https://jyj.qingdao.gov.cn/articles/{notice}.html"));
        assert!(first.published.is_some(), "{path}: a publication date");
        assert_eq!(first.summary.as_ref().map(|s| s.content.as_str()), Some("12月3日市南区部分路段停水"));
    }
    let (_, _, text) = s.page("jyj.qingdao.gov.cn", "/columns/notices/atom.xml").await;
    assert_eq!(titles(&parse(&text)), ["停水通知"], "a column's feed has its documents only");
    let (_, _, text) = s.page("jyj.qingdao.gov.cn", "/columns/news/rss.xml").await;
    assert_eq!(titles(&parse(&text)).len(), 3);
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/columns/nosuch/rss.xml").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The sitemap lists the home page, the columns and every published document, with when
    // each last changed; robots.txt names it.
    let (st, h, map) = s.page("jyj.qingdao.gov.cn", "/sitemap.xml").await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("application/xml"));
    assert!(map.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
    assert!(
        map.contains("<loc>https://jyj.qingdao.gov.cn/</loc>")
            && map.contains("<loc>https://jyj.qingdao.gov.cn/columns/notices/</loc>")
    );
    for id in ids.iter().chain([&notice]) {
        assert!(map.contains(&format!("<loc>https://jyj.qingdao.gov.cn/articles/{id}.html</loc><lastmod>")), "{map}");
    }
    let (st, h, robots) = s.page("jyj.qingdao.gov.cn", "/robots.txt").await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(
        robots.contains("Disallow: /admin/") && robots.contains("Sitemap: https://jyj.qingdao.gov.cn/sitemap.xml"),
        "{robots}"
    );
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/sitemap-2.xml").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "one part only");

    // A withdrawal takes the document out of the feeds and the sitemap at once (the cached
    // ones are dropped by the same event).
    let (st, b2) = nr
        .act(&s, &nr.editorial.1, notice, json!({"action": "unpublish", "mode": "gone", "comment": "已恢复供水"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{b2}");
    let (_, _, text) = s.page("jyj.qingdao.gov.cn", "/rss.xml").await;
    assert!(!titles(&parse(&text)).contains(&"停水通知".to_string()));
    let (_, _, text) = s.page("jyj.qingdao.gov.cn", "/columns/notices/atom.xml").await;
    assert!(titles(&parse(&text)).is_empty());
    let (_, _, map) = s.page("jyj.qingdao.gov.cn", "/sitemap.xml").await;
    assert!(!map.contains(&format!("/articles/{notice}.html")), "{map}");

    // The site admin writes the site's own robots.txt; the sitemap line is always there.
    let (_, v) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    let (st, p) = s
        .patch(
            &format!("/api/v1/sites/{}", nr.site),
            &s.admin,
            json!({"version": v["version"], "robots_txt": "User-agent: *\nDisallow: /mailbox/"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, _, robots) = s.page("jyj.qingdao.gov.cn", "/robots.txt").await;
    assert!(robots.starts_with("User-agent: *\nDisallow: /mailbox/"), "{robots}");
    assert!(robots.contains("Sitemap: https://jyj.qingdao.gov.cn/sitemap.xml"));
    let (st, p) = s
        .patch(
            &format!("/api/v1/sites/{}", nr.site),
            &s.admin,
            json!({"version": p["version"], "robots_txt": "User-agent: *\u{0}"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "robots_txt");
    s.finish().await;
}
