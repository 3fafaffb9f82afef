//! The public sites as citizens and national checkers see them, on SQLite and PostgreSQL.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::StatusCode;
use serde_json::json;

behaviour!(
    a_published_document_is_served_by_host_with_the_meta_tags_checkers_read,
    publishing_shows_on_the_public_site_at_once,
    pages_revalidate_and_compress,
    unknown_malformed_and_odd_requests_get_plain_answers,
    unpublished_merged_and_closed_things_answer_as_they_should,
    column_pages_are_paginated_newest_first,
    a_broken_site_template_never_blanks_the_site,
);

const HOST: &str = "jyj.qingdao.gov.cn";

async fn a_published_document_is_served_by_host_with_the_meta_tags_checkers_read(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "关于做好2026年寒假安全工作的通知", "body": "各区市教育局：\n\n请做好寒假安全工作。", "columns": [nr.column],
                   "source": "青岛市教育局", "keywords": "寒假,安全", "summary": "部署寒假安全工作"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = d["id"].as_i64().unwrap();
    let (st, _, _) = s.page(HOST, &format!("/articles/{id}.html")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a draft is not public");
    let d = nr.publish(&s, id).await;
    let published = d["first_published_at"].as_str().unwrap().replace('T', " ")[..16].to_string();
    for host in [HOST, "JYJ.qingdao.gov.cn:8080", "jyj.localhost"] {
        let (st, _, html) = s.page(host, &format!("/articles/{id}.html")).await;
        assert_eq!(st, StatusCode::OK, "{host}");
        for want in [
            "<meta name=\"SiteName\" content=\"jyj网站\">",
            "<meta name=\"SiteDomain\" content=\"jyj.qingdao.gov.cn\">",
            "<meta name=\"SiteIDCode\" content=\"3702000012\">",
            "<meta name=\"ColumnName\" content=\"栏目news\">",
            "<meta name=\"ColumnType\" content=\"要闻动态\">",
            "<meta name=\"ArticleTitle\" content=\"关于做好2026年寒假安全工作的通知\">",
            &format!("<meta name=\"PubDate\" content=\"{published}\">"),
            "<meta name=\"ContentSource\" content=\"青岛市教育局\">",
            "<meta name=\"Keywords\" content=\"寒假,安全\">",
            "<meta name=\"Description\" content=\"部署寒假安全工作\">",
            "<h1>关于做好2026年寒假安全工作的通知</h1>",
            "我为政府网站找错",
            "网站标识码：3702000012",
            "主办单位：青岛市jyj",
            "lang=\"zh-CN\"",
            "href=\"#main\"",
        ] {
            assert!(html.contains(want), "{host}: missing {want}");
        }
    }
    let (_, _, home) = s.page(HOST, "/").await;
    assert!(home.contains(&format!("href=\"/articles/{id}.html\">关于做好2026年寒假安全工作的通知</a>")), "{home}");
    let (_, _, col) = s.page(HOST, "/columns/news/").await;
    assert!(col.contains("关于做好2026年寒假安全工作的通知"));
    s.finish().await;
}

async fn publishing_shows_on_the_public_site_at_once(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    // Warm the cache with the pages the new document will appear on.
    for path in ["/", "/columns/news/"] {
        let (_, _, html) = s.page(HOST, path).await;
        assert!(!html.contains("新学期开学通知"));
    }
    let id = nr.draft(&s, "新学期开学通知").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    // The very next requests after the approval see it (no waiting, no retry); how fast is
    // the `publish` benchmark's business, not a test's.
    nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
    let (st, _, article) = s.page(HOST, &format!("/articles/{id}.html")).await;
    let (_, _, home) = s.page(HOST, "/").await;
    let (_, _, column) = s.page(HOST, "/columns/news/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(article.contains("新学期开学通知") && home.contains("新学期开学通知") && column.contains("新学期开学通知"));
    // A new edition replaces the live page only when it is published.
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    s.patch(
        &format!("/api/v1/documents/{id}"),
        &nr.editor.1,
        json!({"version": d["version"], "title": "新学期开学通知（更正）"}),
    )
    .await;
    let (_, _, article) = s.page(HOST, &format!("/articles/{id}.html")).await;
    assert!(!article.contains("（更正）"), "drafts stay private");
    nr.publish(&s, id).await;
    let (_, _, article) = s.page(HOST, &format!("/articles/{id}.html")).await;
    assert!(article.contains("新学期开学通知（更正）"));
    s.finish().await;
}

async fn pages_revalidate_and_compress(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "缓存测试").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    let url = format!("{}/articles/{id}.html", s.base);
    let r = raw.get(&url).header("host", HOST).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(r.headers().contains_key("last-modified"));
    let plain = r.bytes().await.unwrap();
    let r = raw.get(&url).header("host", HOST).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    for (enc, want) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br"), ("identity", "")] {
        let r = raw.get(&url).header("host", HOST).header("accept-encoding", enc).send().await.unwrap();
        let got = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(got, want, "Accept-Encoding: {enc}");
        let body = r.bytes().await.unwrap();
        if want.is_empty() {
            assert_eq!(body, plain);
        } else {
            assert!(body.len() < plain.len(), "{enc} is smaller");
        }
    }
    // Through a decoding client the compressed bytes are the same page.
    let (_, _, html) = s.page(HOST, &format!("/articles/{id}.html")).await;
    assert_eq!(html.as_bytes(), &plain[..]);
    s.finish().await;
}

async fn unknown_malformed_and_odd_requests_get_plain_answers(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (st, _, html) = s.page("unknown.example.com", "/").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("jyj"), "an unknown host lists nothing: {html}");
    let (st, _, _) = s.page("bad host<script>", "/").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    for path in [
        "/../../etc/passwd",
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/columns/%E0%A4%A/",
        "/articles/99999999999999999999.html",
        "/%00",
        "/columns//",
    ] {
        let (st, _, _) = s.page(HOST, path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (st, _, html) = s.page(HOST, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("<script>alert"), "the query is escaped");
    let r = s.client.post(format!("{}/", s.base)).header("host", HOST).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let _ = nr;
    s.finish().await;
}

async fn unpublished_merged_and_closed_things_answer_as_they_should(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let noredirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: String| noredirect.get(format!("{}{path}", s.base)).header("host", HOST).send();
    let mut ids = Vec::new();
    for t in ["撤回说明", "跳转", "删除"] {
        let id = nr.draft(&s, t).await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        ids.push(id);
    }
    nr.act(&s, &nr.editorial.1, ids[0], json!({"action": "unpublish", "comment": "该通知已被新通知替代"})).await;
    nr.act(
        &s,
        &nr.editorial.1,
        ids[1],
        json!({"action": "unpublish", "mode": "redirect", "redirect_url": format!("/articles/{}.html", ids[2])}),
    )
    .await;
    nr.act(&s, &nr.editorial.1, ids[2], json!({"action": "unpublish", "mode": "gone"})).await;
    let r = get(format!("/articles/{}.html", ids[0])).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("该通知已被新通知替代"));
    let r = get(format!("/articles/{}.html", ids[1])).await.unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers()["location"], format!("/articles/{}.html", ids[2]));
    assert_eq!(get(format!("/articles/{}.html", ids[2])).await.unwrap().status(), StatusCode::GONE);

    let other = s.column(nr.site, "tzgg", None).await;
    s.post(&format!("/api/v1/columns/{}/merge", nr.column), &s.admin, json!({"into": other})).await;
    let r = get("/columns/news/".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers()["location"], "/columns/tzgg/");
    s.post(&format!("/api/v1/columns/{other}/close"), &s.admin, json!({})).await;
    assert_eq!(get("/columns/tzgg/".into()).await.unwrap().status(), StatusCode::GONE);

    s.post(&format!("/api/v1/sites/{}/transitions", nr.site), &s.admin, json!({"action": "close"})).await;
    let r = get("/".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("网站已关停"));
    s.finish().await;
}

async fn column_pages_are_paginated_newest_first(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    for i in 0..22 {
        let id = nr.draft(&s, &format!("第{i:02}号信息")).await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
    }
    let (_, _, p1) = s.page(HOST, "/columns/news/").await;
    assert!(p1.contains("第 1 / 2 页"));
    let first = p1.find("第21号信息").unwrap();
    let later = p1.find("第20号信息").unwrap();
    assert!(first < later, "newest first");
    assert!(!p1.contains("第01号信息"));
    let (st, _, p2) = s.page(HOST, "/columns/news/?page=2").await;
    assert_eq!(st, StatusCode::OK);
    assert!(p2.contains("第00号信息") && p2.contains("第01号信息") && !p2.contains("第21号信息"));
    let (st, _, _) = s.page(HOST, "/columns/news/?page=3").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.finish().await;
}

async fn a_broken_site_template_never_blanks_the_site(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "模板测试").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let dir = s.app().themes.site_dir(nr.site);
    std::fs::create_dir_all(&dir).unwrap();
    // A working override changes the page…
    std::fs::write(
        dir.join("message.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>自定义：{{ heading }}</h1>{% endblock %}",
    )
    .unwrap();
    let (st, _, html) = s.page(HOST, "/no-such-page").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("自定义：页面不存在"), "{html}");
    // …a broken one falls back to the default theme, and the admin is told.
    std::fs::write(
        dir.join("article.html"),
        "{% extends \"base.html\" %}{% block content %}{{ doc.title | no_such_filter }}{% endblock %}",
    )
    .unwrap();
    s.app().pages.invalidate(&[zhanqun::kernel::cache::Tag::Site(nr.site)]);
    let (st, _, html) = s.page(HOST, &format!("/articles/{id}.html")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("<h1>模板测试</h1>"), "the default theme rendered the page");
    let err = s.app().themes.error(nr.site).expect("the error is kept for the admin");
    assert!(err.contains("article.html"), "{err}");
    s.finish().await;
}
