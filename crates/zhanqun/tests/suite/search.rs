//! Site search as citizens, editors and operators meet it (issue #12): the full-text engine
//! ranks, highlights, filters and counts; the index follows publications through the
//! outbox, survives being deleted or damaged, and is rebuilt from the console while the old
//! one answers; hot searches and the report of searches that found nothing.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, Newsroom, TestServer};

behaviour!(
    search_ranks_highlights_filters_and_survives_any_query,
    editors_see_what_citizens_search_and_do_not_find,
    the_index_follows_every_change,
    the_index_comes_back_when_deleted_or_damaged
);

/// Publishes a document with `body` in `column`, with disclosure metadata when given.
pub(crate) async fn publish(
    s: &TestServer,
    nr: &Newsroom,
    title: &str,
    body: &str,
    column: i64,
    meta: Option<Value>,
) -> i64 {
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": title, "body": body, "columns": [column], "source": "青岛市教育局"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let id = d["id"].as_i64().unwrap();
    if let Some(m) = meta {
        let (st, e) =
            s.call(Method::PUT, &format!("/api/v1/documents/{id}/disclosure"), Some(&nr.editor.1), Some(m)).await;
        assert!(st.is_success(), "{e}");
    }
    nr.publish(s, id).await;
    id
}

async fn api(s: &TestServer, query: &str) -> (StatusCode, Value) {
    s.call(Method::GET, &format!("/api/v1/search?{query}"), None, None).await
}

pub(crate) fn enc(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

pub(crate) fn ids(r: &Value) -> Vec<i64> {
    r["hits"].as_array().unwrap().iter().map(|h| h["document_id"].as_i64().unwrap()).collect()
}

async fn portal(s: &TestServer) -> i64 {
    let (st, portal) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "city_portal", "name": "青岛政务网", "sponsor": "青岛市人民政府办公厅", "primary_domain": "www.qingdao.gov.cn"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{portal}");
    let id = portal["id"].as_i64().unwrap();
    s.bring_online(id, "3702000001").await;
    id
}

async fn search_ranks_highlights_filters_and_survives_any_query(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    portal(&s).await;
    let policy_column = s.column(nr.site, "policy", None).await;
    let body_id = crate::disclosure::coded_body(&s, "青岛市教育局").await;
    let meta = |t: &str, number: Option<&str>| {
        let mut m = crate::disclosure::meta(body_id, number, "2026-03-01");
        m["doc_type"] = json!(t);
        m
    };
    let notice = publish(
        &s,
        &nr,
        "关于做好2026年义务教育入学工作的通知",
        "各区市教育局：\n\n现就适龄儿童少年入学登记工作通知如下。",
        nr.column,
        Some(meta("policy", Some("青政办发〔2015〕12号"))),
    )
    .await;
    let meeting = publish(
        &s,
        &nr,
        "市教育局召开年度工作会议",
        "会议总结了一年来的工作，部署了学前教育、义务教育和高中阶段教育的重点任务。",
        policy_column,
        None,
    )
    .await;
    let faq =
        publish(&s, &nr, "义务教育阶段学校招生问答", "家长关心的问题解答。", nr.column, Some(meta("notice", None)))
            .await;
    let citing = publish(
        &s,
        &nr,
        "关于转发招生文件的说明",
        "根据青政办发〔2015〕12号文件精神，现将有关事项说明如下。",
        nr.column,
        None,
    )
    .await;

    // The engine answers, ranked: a title that holds the word before a body that mentions it.
    let (st, r) = api(&s, &format!("q={}", enc("义务教育"))).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["engine"], "fulltext", "{r}");
    assert_eq!(r["total"], 3, "{r}");
    let found = ids(&r);
    assert_eq!(found.last(), Some(&meeting), "the body-only match ranks last: {r}");
    assert!(found[..2].contains(&notice) && found[..2].contains(&faq), "{r}");
    let marked: Vec<&Value> =
        r["hits"][0]["title_highlight"].as_array().unwrap().iter().filter(|p| p["hit"] == true).collect();
    assert_eq!(marked[0]["text"], "义务教育", "{r}");
    // A longer word the segmenter cuts in two finds the document that has both.
    let (_, r) = api(&s, &format!("q={}", enc("义务教育入学"))).await;
    assert_eq!(ids(&r)[0], notice, "{r}");
    // A part of a word (教育 in 义务教育) is found too.
    let (_, r) = api(&s, &format!("q={}", enc("教育"))).await;
    assert!(r["total"].as_i64().unwrap() >= 3, "{r}");
    // Document numbers whatever the brackets: the document that carries it first, then one
    // that cites it.
    for typed in ["青政办发〔2015〕12号", "青政办发[2015]12号", "青政办发【2015】12号", "青政办发(2015)12号"]
    {
        let (_, r) = api(&s, &format!("q={}", enc(typed))).await;
        assert_eq!(ids(&r), [notice, citing], "{typed}: {r}");
    }
    // The index number assigned at publication finds its document.
    // (Saving the metadata of a published document again answers with it, and is an edit
    // of the live document the index follows.)
    let (st, d) = s
        .call(
            Method::PUT,
            &format!("/api/v1/documents/{notice}/disclosure"),
            Some(&nr.editor.1),
            Some(meta("policy", Some("青政办发〔2015〕12号"))),
        )
        .await;
    assert!(st.is_success(), "{d}");
    let index_number = d["index_number"].as_str().unwrap().to_string();
    let (_, r) = api(&s, &format!("q={}", enc(&index_number))).await;
    assert_eq!(ids(&r)[0], notice, "{index_number}: {r}");
    // A quoted phrase: the words one after the other.
    let (_, r) = api(&s, &format!("q={}", enc("\"入学工作\""))).await;
    assert_eq!(ids(&r), [notice], "{r}");
    assert_eq!(r["phrases"][0], "入学工作");
    let (_, r) = api(&s, &format!("q={}", enc("\"工作入学\""))).await;
    assert_eq!(r["total"], 0, "the words in another order are not the phrase: {r}");

    // Filters and facets: site, column, type, body, year; and by date.
    let (_, r) = api(&s, &format!("q={}", enc("教育"))).await;
    let types: Vec<(String, u64)> = r["facets"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["value"].as_str().unwrap().to_string(), f["count"].as_u64().unwrap()))
        .collect();
    assert!(types.contains(&("policy".into(), 1)) && types.contains(&("notice".into(), 1)), "{r}");
    assert!(r["facets"]["sites"].as_array().unwrap().iter().any(|f| f["label"] == "jyj网站"), "{r}");
    assert!(
        r["facets"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"].as_str() == Some(policy_column.to_string().as_str())),
        "{r}"
    );
    assert_eq!(r["facets"]["bodies"][0]["label"], "青岛市教育局", "{r}");
    let (_, r) = api(&s, &format!("q={}&type=policy", enc("教育"))).await;
    assert_eq!(ids(&r), [notice], "{r}");
    let (_, r) = api(&s, &format!("q={}&column={policy_column}", enc("教育"))).await;
    assert_eq!(ids(&r), [meeting], "{r}");
    let (_, r) = api(&s, &format!("q={}&body={body_id}", enc("教育"))).await;
    assert_eq!(r["total"], 2, "{r}");
    let year = zhanqun::kernel::time::today().year();
    let (_, r) = api(&s, &format!("q={}&year={year}&site={}", enc("教育"), nr.site)).await;
    assert!(r["total"].as_i64().unwrap() >= 3, "{r}");
    let (_, r) = api(&s, &format!("q={}&year=2001", enc("教育"))).await;
    assert_eq!(r["total"], 0);
    let (_, r) = api(&s, &format!("q={}&sort=date", enc("教育"))).await;
    let dates: Vec<&str> = r["hits"].as_array().unwrap().iter().map(|h| h["published_at"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
    // Unknown filter values: the API says what is allowed; the page finds nothing and says
    // to drop the filter.
    let (st, p) = api(&s, &format!("q={}&type=xyz&sort=best", enc("教育"))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["type", "sort"], "{p}");
    let (st, p) = api(&s, "q=x&site=abc").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let (st, r) = api(&s, &format!("q={}&page=100000", enc("教育"))).await;
    assert_eq!(st, StatusCode::OK);
    assert!(r["hits"].as_array().unwrap().is_empty() && r["total"].as_i64().unwrap() >= 3, "{r}");

    // The page: ranked, marked, facets as links, the query kept, filters removable.
    let search = |host: &'static str, query: String| {
        let s = &s;
        async move { s.page(host, &format!("/search?{query}")).await }
    };
    let (st, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("义务教育"))).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("找到 3 条") && page.contains("<mark>义务教育</mark>"), "{page}");
    assert!(page.contains("value=\"义务教育\""), "the query stays in the box");
    assert!(!page.contains("数据库检索"), "the engine answered: {page}");
    assert!(page.contains("文件类型") && page.contains("政策文件") && page.contains("按相关度"), "{page}");
    assert!(page.contains("type=policy"), "a facet is a link that filters: {page}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}&type=policy", enc("义务教育"))).await;
    assert!(page.contains("找到 1 条") && page.contains("政策文件 ✕"), "{page}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}&type=xyz", enc("义务教育"))).await;
    assert!(page.contains("没有找到") && page.contains("去掉已选的条件"), "{page}");
    // The portal searches the whole city and names the site; with the site as a facet.
    let (_, _, page) = search("www.qingdao.gov.cn", format!("q={}", enc("年度工作会议"))).await;
    assert!(page.contains("全市政府网站搜索") && page.contains("找到 1 条") && page.contains("jyj网站"), "{page}");
    assert!(page.contains(">网站</h2>"), "{page}");
    let (_, _, page) = search("www.qingdao.gov.cn", format!("q={}&site={}", enc("义务教育"), nr.site)).await;
    assert!(
        page.contains("找到 3 条")
            && page.contains(&format!("<option value=\"{}\" selected>jyj网站</option>", nr.site)),
        "{page:.3000}"
    );

    // Withdrawn: gone from the very next search.
    let (st, _) = nr
        .act(&s, &nr.editorial.1, notice, json!({"action": "unpublish", "mode": "withdrawn", "comment": "已过期"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, r) = api(&s, &format!("q={}", enc("义务教育"))).await;
    assert!(!ids(&r).contains(&notice) && r["total"] == 2, "{r}");

    // Whatever the query, a page and never a 5xx.
    let long = format!("{}{}", "教".repeat(2_000), "a".repeat(8_000));
    for q in [
        "",
        "   ",
        "!!!，。。",
        "title:x OR",
        "\"unbalanced",
        "“全角引号",
        "*",
        "%",
        "_",
        "\\",
        "'; DROP TABLE documents; --",
        "教育 education 2026",
        "AND OR NOT ( ) [ ] { } ^ ~ : +",
        long.as_str(),
    ] {
        let (st, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc(q))).await;
        assert_eq!(st, StatusCode::OK, "{q:.20}: {page:.300}");
        assert!(page.contains("站内搜索"), "{q:.20}");
        let (st, r) = api(&s, &format!("q={}", enc(q))).await;
        assert_eq!(st, StatusCode::OK, "{q:.20}: {r}");
    }
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc(&long))).await;
    assert!(page.contains("只按前 100 个字检索"));
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("%"))).await;
    assert!(!page.contains("找到 "), "a % is a character, not a wildcard: {page:.400}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("\"unbalanced"))).await;
    assert!(page.contains("没有找到含「unbalanced」"), "an open quote counts as none: {page:.2000}");
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/search?q=%E4%B9%89%E5%8A%A1&page=100000").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("没有第 100000 页"), "{page:.400}");
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/search?q=%FF%FE&page=-3&site=x&year=99999&column=&body=-1").await;
    assert_eq!(st, StatusCode::OK, "bytes that are not UTF-8, a negative page, odd filters");

    // Synonyms the web office keeps: 医保 finds 医疗保险 (from the shipped list); the system
    // administrator replaces the list; nobody else may; a bad list is refused whole.
    publish(&s, &nr, "2026年城乡居民医疗保险参保缴费公告", "缴费时间为每年9月至12月。", nr.column, None).await;
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("医保"))).await;
    assert!(page.contains("找到 1 条") && page.contains("同时查找了同义词：医疗保险"), "{page:.3000}");
    let (st, groups) = s.get("/api/v1/search/synonyms", &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK);
    assert!(groups.as_array().unwrap().iter().any(|g| g[0] == "社保"), "{groups}");
    let put = |token: String, body: Value| {
        let s = &s;
        async move { s.call(Method::PUT, "/api/v1/search/synonyms", Some(&token), Some(body)).await }
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
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("投保"))).await;
    assert!(page.contains("找到 1 条"), "the new group works: {page:.2000}");
    let (_, _, page) = search("jyj.qingdao.gov.cn", format!("q={}", enc("医保"))).await;
    assert!(!page.contains("找到 "), "the old list is gone: {page:.2000}");
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, system) = admin.get("/admin/system").await;
    assert!(system.contains("站内搜索同义词") && system.contains("投保 参保"), "{system:.3000}");
    assert!(system.contains("全文索引") && system.contains("篇文档"), "{system:.5000}");
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
    assert!(limited.is_some_and(|n| n <= 121), "{limited:?}");
    let (st, p) = api(&s, "q=x").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{p}");
    s.finish().await;
}

async fn editors_see_what_citizens_search_and_do_not_find(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    publish(&s, &nr, "2026年秋季学期开学时间安排", "全市中小学9月1日开学。", nr.column, None).await;
    let search = |q: &'static str| {
        let s = &s;
        async move { s.page("jyj.qingdao.gov.cn", &format!("/search?q={}", enc(q))).await }
    };
    // The web office's hot searches show on a page that found nothing, and with no query.
    let (_, _, page) = search("校车补贴").await;
    assert!(page.contains("大家都在搜") && page.contains("义务教育入学"), "{page:.3000}");
    let (_, _, page) = search("").await;
    assert!(page.contains("热门搜索") && page.contains("义务教育入学"), "{page:.3000}");
    for q in ["校车补贴", "开学时间", "开学时间", "开学时间", "某个只问一次的名字"] {
        search(q).await;
    }
    // Paging through a search counts it once.
    s.page("jyj.qingdao.gov.cn", &format!("/search?q={}&page=2", enc("开学时间"))).await;
    s.app().flush_search_counts().await.unwrap();
    let (st, r) = s.get(&format!("/api/v1/search/report?site={}", nr.site), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["not_found"][0]["query"], "校车补贴", "{r}");
    assert_eq!(r["not_found"][0]["empty"], 2, "{r}");
    assert_eq!(r["top"][0]["query"], "开学时间", "{r}");
    assert_eq!(r["top"][0]["searches"], 3, "{r}");
    let all = r.to_string();
    assert!(!all.contains("只问一次"), "a query asked once is in no list: {r}");
    // The most frequent searches that found something join the hot searches.
    let (st, hot) = s.call(Method::GET, &format!("/api/v1/search/hot?site={}", nr.site), None, None).await;
    assert_eq!(st, StatusCode::OK, "{hot}");
    assert_eq!(hot[0], "义务教育入学", "the web office's list first: {hot}");
    assert!(hot.as_array().unwrap().iter().any(|h| h == "开学时间"), "{hot}");
    assert!(!hot.as_array().unwrap().iter().any(|h| h == "校车补贴"), "not what found nothing: {hot}");
    let (st, _) = s.call(Method::GET, "/api/v1/search/hot?site=99999", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Only the site's people see its report; only the system administrator keeps the list.
    let (_, outsider) = s.person("outsider").await;
    let (st, _) = s.get(&format!("/api/v1/search/report?site={}", nr.site), &outsider).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.call(Method::PUT, "/api/v1/search/hot", Some(&nr.editor.1), Some(json!({"terms": ["x"]}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let many: Vec<String> = (0..21).map(|i| format!("词{i}")).collect();
    let (st, p) = s.call(Method::PUT, "/api/v1/search/hot", Some(&s.admin), Some(json!({"terms": many}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (st, p) =
        s.call(Method::PUT, "/api/v1/search/hot", Some(&s.admin), Some(json!({"terms": ["开学", "校车"]}))).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, _, page) = search("").await;
    assert!(page.contains(">开学</a>") && !page.contains(">义务教育入学</a>"), "{page:.3000}");
    // The admin's screen, for the editor.
    let editor = crate::admin::Browser::login(&s, "editor", crate::common::PW).await;
    let (st, screen) = editor.get(&format!("/admin/search?site={}", nr.site)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(screen.contains("搜索了却没有找到") && screen.contains("校车补贴"), "{screen:.4000}");
    // And the system administrator keeps the hot searches on the system screen.
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let answer = admin.submit("/admin/system", "/admin/system/hot-searches", &[("hot", &"长".repeat(30))]).await;
    let refused = admin.outcome(answer).await;
    assert!(refused.contains("每个不超过 20 个字") && refused.contains(&"长".repeat(30)), "kept: {refused:.3000}");
    s.finish().await;
}

/// Every kind of change reaches the index by the next search: a new edition, a merged
/// column, a repost accepted and removed, a deletion, a site closed.
async fn the_index_follows_every_change(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let titles = |r: &Value| -> Vec<String> {
        r["hits"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_string()).collect()
    };
    // A new edition of a live document replaces the old text.
    let id = publish(&s, &nr, "冬季供暖第一版通知", "供暖时间。", nr.column, None).await;
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    let (st, d) = s
        .patch(
            &format!("/api/v1/documents/{id}"),
            &nr.editor.1,
            json!({"version": d["version"], "title": "冬季供暖修订版通知"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (_, r) = api(&s, &format!("q={}", enc("修订版"))).await;
    assert_eq!(r["total"], 0, "a draft edition is not public yet: {r}");
    nr.publish(&s, id).await;
    let (_, r) = api(&s, &format!("q={}", enc("冬季供暖"))).await;
    assert_eq!(titles(&r), ["冬季供暖修订版通知"], "{r}");

    // A merged column: its documents are found under the column they moved to.
    let old = s.column(nr.site, "old", None).await;
    let moved = publish(&s, &nr, "栏目合并后的供暖答问", "答问。", old, None).await;
    let (_, r) = api(&s, &format!("q={}&column={old}", enc("供暖"))).await;
    assert_eq!(ids(&r), [moved], "{r}");
    let (st, m) = s.post(&format!("/api/v1/columns/{old}/merge"), &s.admin, json!({"into": nr.column})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    // A merge touches every document of the column; on a loaded machine the index may
    // take longer than the command's own wait, so look again for a few seconds.
    let t0 = Instant::now();
    loop {
        let (_, gone) = api(&s, &format!("q={}&column={old}", enc("供暖"))).await;
        let (_, there) = api(&s, &format!("q={}&column={}", enc("供暖"), nr.column)).await;
        if gone["total"] == 0 && ids(&there).contains(&moved) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "after a merge: {gone} / {there}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A repost: found on the receiving site once accepted, gone when removed.
    let other = s.department("wsjkw").await;
    s.bring_online(other, "3702000013").await;
    crate::cluster::named_column(&s, other, "上级文件", "shangji").await;
    let (st, out) = s
        .post(
            &format!("/api/v1/documents/{id}/reposts"),
            &nr.editor.1,
            json!({"site_kind": "department", "column": "上级文件"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    let offer = out["created"][0]["id"].as_i64().unwrap();
    let (_, r) = api(&s, &format!("q={}&site={other}", enc("冬季供暖"))).await;
    assert_eq!(r["total"], 0, "not shown before it is accepted: {r}");
    let (st, v) = s.post(&format!("/api/v1/reposts/{offer}/accept"), &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, _, page) = s.page("wsjkw.qingdao.gov.cn", &format!("/search?q={}", enc("冬季供暖"))).await;
    assert!(
        page.contains("找到 1 条") && page.contains("修订版通知") && page.contains("上级文件"),
        "{}",
        &page[page.find("<main").unwrap_or(0)..]
    );
    let (_, r) = api(&s, &format!("q={}&site={other}", enc("冬季供暖"))).await;
    let columns: Vec<&str> =
        r["facets"]["columns"].as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert_eq!(columns, ["上级文件"], "only the site's own columns are offered: {r}");
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/reposts/{offer}"), Some(&s.admin), None).await;
    assert!(st.is_success());
    let (_, r) = api(&s, &format!("q={}&site={other}", enc("冬季供暖"))).await;
    assert_eq!(r["total"], 0, "{r}");

    // Deleted for good: gone.
    let (st, d) = nr.act(&s, &nr.editorial.1, moved, json!({"action": "unpublish", "mode": "gone"})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (_, r) = api(&s, &format!("q={}", enc("答问"))).await;
    assert_eq!(r["total"], 0, "{r}");

    // A site closed: none of its documents is found any more.
    let (st, c) = s.post(&format!("/api/v1/sites/{}/transitions", nr.site), &s.admin, json!({"action": "close"})).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (_, r) = api(&s, &format!("q={}", enc("冬季供暖"))).await;
    assert_eq!(r["total"], 0, "{r}");
    s.finish().await;
}

/// Polls the API until the engine answers with `want` among the hits.
async fn until_engine_finds(s: &TestServer, q: &str, want: i64) -> Value {
    let t0 = Instant::now();
    loop {
        let (st, r) = api(s, &format!("q={}", enc(q))).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        if r["engine"] == "fulltext" && ids(&r).contains(&want) {
            return r;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the index did not come back: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_index_comes_back_when_deleted_or_damaged(b: Backend) {
    let mut s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let first = publish(&s, &nr, "第一份招生简章", "招生对象为本市户籍适龄儿童。", nr.column, None).await;
    let (_, r) = api(&s, &format!("q={}", enc("招生简章"))).await;
    assert_eq!((r["engine"].as_str(), ids(&r)), (Some("fulltext"), vec![first]), "{r}");

    // The index directory deleted while serving: searches keep answering (from the database
    // while the index is rebuilt), and the rebuilt index holds everything, a document
    // published meanwhile too.
    let dir = s.settings.data_dir.join("search");
    std::fs::remove_dir_all(&dir).unwrap();
    let second = publish(&s, &nr, "第二份招生简章", "补充说明。", nr.column, None).await;
    let (st, r) = api(&s, &format!("q={}", enc("招生简章"))).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(ids(&r).contains(&second), "found, by whichever search answers: {r}");
    if r["engine"] == "database" {
        assert!(r["notice"].as_str().unwrap().contains("全文索引"), "{r}");
    }
    let r = until_engine_finds(&s, "招生简章", second).await;
    assert!(ids(&r).contains(&first), "{r}");

    // Damaged on disk while stopped: rebuilt at start, and says so on the system screen
    // until then; the database answers meanwhile.
    s.stop_server().await;
    let current = std::fs::read_to_string(dir.join("CURRENT")).unwrap();
    std::fs::write(dir.join(current.trim()).join("meta.json"), b"{ not json").unwrap();
    s.restart().await;
    let r = until_engine_finds(&s, "招生简章", second).await;
    assert_eq!(r["total"], 2, "{r}");
    // Missing altogether at start: the same.
    s.stop_server().await;
    std::fs::remove_dir_all(&dir).unwrap();
    s.restart().await;
    until_engine_finds(&s, "招生简章", first).await;
    s.finish().await;
}

/// `zhanqun search reindex` from the console while the demo is served: the old index keeps
/// answering, the server takes the new one; a reindex killed half-way leaves the index in
/// use complete and its half-built directory is cleared at the next start; `--site` redoes
/// one site in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_from_the_console_while_serving_and_after_a_crash() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = || {
        crate::cli::Reaped(
            crate::cli::zhanqun(&data)
                .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    let mut server = serve();
    let mut line = String::new();
    std::io::BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    let client = reqwest::Client::new();
    let search = |q: &str| {
        let url = format!("{base}/api/v1/search?q={}", enc(q));
        let c = client.clone();
        async move { c.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let before = search("营商环境").await;
    assert_eq!(before["engine"], "fulltext", "{before}");
    assert!(before["total"].as_i64().unwrap() >= 1, "{before}");
    let current = |d: &std::path::Path| std::fs::read_to_string(d.join("search/CURRENT")).unwrap();
    let first = current(&data);

    // A whole rebuild while serving: a progress bar on a terminal, the count when done, and
    // the server swaps to it.
    let out = crate::cli::zhanqun(&data).args(["search", "reindex"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("全文索引已重建") && said.contains("篇文档"), "{said}");
    let second = current(&data);
    assert_ne!(first, second);
    let t0 = Instant::now();
    while data.join("search").join(first.trim()).exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "the server did not take the new index");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(search("营商环境").await["total"], before["total"]);

    // Killed half-way: the index in use is untouched and answers; the next start clears the
    // half-built directory.
    let out = crate::cli::zhanqun(&data)
        .args(["search", "reindex"])
        .env("ZHANQUN_FAILPOINTS", "search_reindex_midway")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the failpoint kills it");
    assert_eq!(current(&data), second, "CURRENT still names the complete index");
    let leftovers = || {
        std::fs::read_dir(data.join("search"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".building"))
            .count()
    };
    assert_eq!(leftovers(), 1);
    let after = search("营商环境").await;
    assert_eq!((after["engine"].clone(), after["total"].clone()), (before["engine"].clone(), before["total"].clone()));
    let out = crate::cli::zhanqun(&data).args(["search", "status"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("篇文档") && said.contains(second.trim()), "{said}");

    // One site again, in the index in use, while the server writes to it too.
    let sites = crate::cli::zhanqun(&data).args(["site", "list"]).output().unwrap();
    let sites = String::from_utf8_lossy(&sites.stdout);
    let portal = sites.lines().find(|l| l.contains("市政府门户")).unwrap();
    let id: String = portal.trim().chars().take_while(char::is_ascii_digit).collect();
    let out = crate::cli::zhanqun(&data).args(["search", "reindex", "--site", &id]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains(&format!("站点 #{id} 的")),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(search("营商环境").await["total"], before["total"]);

    sigterm_and_wait(&mut server);
    let mut server = serve();
    let mut line = String::new();
    std::io::BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(leftovers(), 0, "the half-built index was cleared at start");
    sigterm_and_wait(&mut server);
}

fn sigterm_and_wait(server: &mut crate::cli::Reaped) {
    std::process::Command::new("kill").arg("-TERM").arg(server.0.id().to_string()).status().unwrap();
    let _ = server.0.wait();
}
