//! Feeds, sitemaps and robots.txt (issue #12, parts 6 and 7) as feed readers and search
//! engines read them: RSS 2.0 and Atom parsed by a maintained feed parser (`feed-rs`), the
//! sitemap as XML, every one following publications and withdrawals at once. And the site
//! search box, answered from the database until the full-text engine lands.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, Newsroom, TestServer};

behaviour!(feeds_and_sitemaps_follow_what_is_published, search_finds_published_documents_and_survives_any_query);

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

async fn search_finds_published_documents_and_survives_any_query(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (st, portal) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "city_portal", "name": "青岛政务网", "sponsor": "青岛市人民政府办公厅", "primary_domain": "www.qingdao.gov.cn"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{portal}");
    s.bring_online(portal["id"].as_i64().unwrap(), "3702000001").await;
    for t in ["关于做好2026年义务教育入学工作的通知", "市教育局召开年度工作会议", "义务教育阶段学校招生问答"]
    {
        let id = nr.draft(&s, t).await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
    }
    let draft = nr.draft(&s, "尚未发布的义务教育草稿").await["id"].as_i64().unwrap();
    let _ = draft;

    let search = |host: &'static str, q: &str| {
        let url = format!("/search?q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
        let s = &s;
        async move { s.page(host, &url).await }
    };
    let (st, _, page) = search("jyj.qingdao.gov.cn", "义务教育").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("找到 2 条"), "{page}");
    assert!(
        page.contains("<mark>义务教育</mark>入学工作的通知")
            || page.contains("关于做好2026年<mark>义务教育</mark>入学工作的通知"),
        "{page}"
    );
    assert!(!page.contains("尚未发布"), "drafts are not found");
    assert!(page.contains("value=\"义务教育\""), "the query stays in the box");
    assert!(page.contains("数据库检索"), "the page says which search answered");
    // Every word must be there.
    let (_, _, page) = search("jyj.qingdao.gov.cn", "义务教育 入学").await;
    assert!(page.contains("找到 1 条"), "{page}");
    // The portal searches the whole city and names the site; a department site only itself.
    let (_, _, page) = search("www.qingdao.gov.cn", "年度工作会议").await;
    assert!(page.contains("全市政府网站搜索") && page.contains("找到 1 条") && page.contains("jyj网站"), "{page}");
    // Nothing found: what to try instead.
    let (_, _, page) = search("jyj.qingdao.gov.cn", "不存在的词语").await;
    assert!(page.contains("没有找到含「不存在的词语」的信息") && page.contains("/catalog/"), "{page}");

    // Whatever the query, a page and never a 5xx.
    // 10,000 characters (within what an address can carry once encoded).
    let long = format!("{}{}", "教".repeat(2_000), "a".repeat(8_000));
    for q in [
        "",
        "   ",
        "!!!，。。",
        "title:x OR",
        "\"unbalanced",
        "*",
        "%",
        "_",
        "\\",
        "'; DROP TABLE documents; --",
        "教育 education 2026",
        long.as_str(),
    ] {
        let (st, _, page) = search("jyj.qingdao.gov.cn", q).await;
        assert_eq!(st, StatusCode::OK, "{q:.20}: {page:.300}");
        assert!(page.contains("站内搜索"), "{q:.20}");
    }
    let (_, _, page) = search("jyj.qingdao.gov.cn", &long).await;
    assert!(page.contains("只按前 100 个字检索"));
    let (_, _, page) = search("jyj.qingdao.gov.cn", "%").await;
    assert!(!page.contains("找到 "), "a % is a character, not a wildcard: {page:.400}");
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/search?q=%E4%B9%89%E5%8A%A1&page=100000").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("没有第 100000 页"), "{page:.400}");
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/search?q=%FF%FE&page=-3&site=x&year=99999").await;
    assert_eq!(st, StatusCode::OK, "bytes that are not UTF-8, a negative page, odd filters");

    // The portal filters by site and year; a year with nothing says to drop the filter.
    let site_id = nr.site.to_string();
    let (_, _, page) = s.page("www.qingdao.gov.cn", &format!("/search?q=%E4%B9%89%E5%8A%A1&site={site_id}")).await;
    assert!(
        page.contains("找到 2 条") && page.contains(&format!("<option value=\"{site_id}\" selected>jyj网站</option>")),
        "{page:.2000}"
    );
    let (_, _, page) = s.page("www.qingdao.gov.cn", "/search?q=%E4%B9%89%E5%8A%A1&year=2001").await;
    assert!(page.contains("去掉网站或年份的限定再试"), "{page:.2000}");

    // The same search in the API, and the OpenSearch description browsers read.
    let (st, r) =
        s.call(reqwest::Method::GET, "/api/v1/search?q=%E4%B9%89%E5%8A%A1%E6%95%99%E8%82%B2", None, None).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r["engine"].as_str(), r["total"].as_i64()), (Some("database"), Some(2)), "{r}");
    let hit = &r["hits"][0];
    assert!(hit["url"].as_str().unwrap().starts_with("https://jyj.qingdao.gov.cn/articles/"), "{hit}");
    assert!(hit["published_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(hit["site"], "jyj网站");
    let (st, r) = s.call(reqwest::Method::GET, "/api/v1/search?q=x&page=abc", None, None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
    let (st, h, xml) = s.page("jyj.qingdao.gov.cn", "/opensearch.xml").await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("application/opensearchdescription+xml"));
    assert!(xml.contains("template=\"https://jyj.qingdao.gov.cn/search?q={searchTerms}\""), "{xml}");
    let (_, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert!(home.contains("rel=\"search\" type=\"application/opensearchdescription+xml\""));

    // Synonyms the web office keeps: 医保 finds 医疗保险 (from the shipped list); the system
    // administrator replaces the list; nobody else may; a bad list is refused whole.
    let id = nr.draft(&s, "2026年城乡居民医疗保险参保缴费公告").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let (_, _, page) = search("jyj.qingdao.gov.cn", "医保").await;
    assert!(page.contains("找到 1 条") && page.contains("同时查找了同义词：医疗保险"), "{page:.3000}");
    let (st, groups) = s.get("/api/v1/search/synonyms", &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK);
    assert!(groups.as_array().unwrap().iter().any(|g| g[0] == "社保"), "{groups}");
    let put = |token: String, body: serde_json::Value| {
        let s = &s;
        async move { s.call(reqwest::Method::PUT, "/api/v1/search/synonyms", Some(&token), Some(body)).await }
    };
    let (st, _) = put(nr.editor.1.clone(), json!({"groups": [["参保", "投保"]]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) =
        put(s.admin.clone(), json!({"groups": [["参保", "投保"], ["投保", "保险"], ["单独"], ["有 空格", "x"]]})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["groups[1]", "groups[2]", "groups[3]"], "{p}");
    let (st, p) = put(s.admin.clone(), json!({"groups": [["投保", "参保"]]})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", "投保").await;
    assert!(page.contains("找到 1 条"), "the new group works: {page:.2000}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", "医保").await;
    assert!(!page.contains("找到 "), "the old list is gone: {page:.2000}");
    // The web office keeps them on the admin's 系统运行 screen too.
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, system) = admin.get("/admin/system").await;
    assert!(system.contains("站内搜索同义词") && system.contains("投保 参保"), "{system:.3000}");
    let answer = admin
        .submit("/admin/system", "/admin/system/search-synonyms", &[("synonyms", "投保 参保\n公积金 住房公积金")])
        .await;
    assert!(admin.outcome(answer).await.contains("已保存 2 组搜索同义词"));
    let answer = admin.submit("/admin/system", "/admin/system/search-synonyms", &[("synonyms", "孤词")]).await;
    let refused = admin.outcome(answer).await;
    assert!(
        refused.contains("每组同义词应有 2 到 10 个词") && refused.contains(">孤词</textarea>"),
        "kept: {refused:.3000}"
    );
    let (_, trail) = s.get("/api/v1/audit?entity=search_synonyms", &s.auditor).await;
    assert_eq!(trail[0]["action_label"], "整体替换", "{trail}");

    // A flood from one address is slowed down, with a page that says why.
    let mut limited = None;
    for n in 0..200 {
        let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/search?q=%E6%95%99%E8%82%B2").await;
        if st == StatusCode::TOO_MANY_REQUESTS {
            assert!(page.contains("最多搜索 120 次"), "{page}");
            limited = Some(n);
            break;
        }
        assert_eq!(st, StatusCode::OK);
    }
    assert!(limited.is_some_and(|n| n > 50), "limited after the allowance: {limited:?}");
    s.finish().await;
}
