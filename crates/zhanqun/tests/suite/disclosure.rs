//! Disclosure metadata, index numbers and the catalog (issue #4, first part), on both engines.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(
    metadata_is_validated_and_index_numbers_are_assigned_at_publication,
    interpretations_link_both_ways_and_important_policies_wait_for_one,
    an_emergency_topic_shows_its_timeline_and_when_the_next_update_is_due,
    the_subject_list_has_two_levels_and_the_city_keeps_it,
    guides_annual_reports_genres_and_responses_reach_the_public,
);

/// A body with a valid credit code, for index numbers.
pub(crate) async fn coded_body(s: &TestServer, name: &str) -> i64 {
    let (_, body) = s.post("/api/v1/bodies", s.admin.as_str(), json!({"name": name})).await;
    let id = body["id"].as_i64().unwrap();
    let (st, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/bodies/{id}/code"),
            Some(&s.admin),
            Some(json!({"code": "91440300708461136T"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    id
}

async fn the_subject_list_has_two_levels_and_the_city_keeps_it(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let body_id = coded_body(&s, "青岛市教育局").await;
    let (st, list) = s.call(Method::GET, "/api/v1/subjects", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let general = list.as_array().unwrap().iter().find(|x| x["name"] == "综合政务").unwrap();
    assert!(general["children"].as_array().unwrap().iter().any(|c| c["path"] == "综合政务/政务公开"), "{general}");
    let science = list.as_array().unwrap().iter().find(|x| x["name"] == "科技、教育").unwrap()["id"].as_i64().unwrap();

    // Adding: the web office only, two levels only, no twins, no separator in names.
    let (st, _) = s.post("/api/v1/subjects", &nr.editor.1, json!({"name": "人工智能", "parent_id": science})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, ai) = s.post("/api/v1/subjects", &s.admin, json!({"name": "人工智能", "parent_id": science})).await;
    assert_eq!(st, StatusCode::CREATED, "{ai}");
    assert_eq!(ai["path"], "科技、教育/人工智能");
    for (bad, rule) in [
        (json!({"name": "人工智能", "parent_id": science}), "unique"),
        (json!({"name": "大模型", "parent_id": ai["id"]}), "depth"),
        (json!({"name": "a/b"}), "chars"),
        (json!({"name": ""}), "length"),
    ] {
        let (st, e) = s.post("/api/v1/subjects", &s.admin, bad.clone()).await;
        assert_eq!(
            (st, e["errors"][0]["rule"].as_str().unwrap_or("")),
            (StatusCode::UNPROCESSABLE_ENTITY, rule),
            "{bad}"
        );
    }

    let doc = nr.draft(&s, "人工智能进课堂的实施方案").await["id"].as_i64().unwrap();
    let put = |v: Value| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move { s.call(Method::PUT, &format!("/api/v1/documents/{doc}/disclosure"), Some(&token), Some(v)).await }
    };
    let mut m = meta(body_id, Some("青教发〔2026〕9号"), "2026-02-01");
    m["subject"] = json!("科技、教育/不存在");
    let (st, e) = put(m.clone()).await;
    assert_eq!((st, e["errors"][0]["field"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "subject"));
    m["subject"] = json!("科技、教育/人工智能");
    let (st, d) = put(m.clone()).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    nr.publish(&s, doc).await;
    // Browsing the first level finds what is filed under its second level.
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog?subject=科技、教育", None, None).await;
    assert_eq!(cat["total"], 1, "{cat}");

    // A rename carries the filed documents along; a retired category takes no new ones.
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/api/v1/subjects/{science}"),
            Some(&s.admin),
            Some(json!({"name": "科技、教育、人才"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog?subject=科技、教育、人才", None, None).await;
    assert_eq!(cat["entries"][0]["subject"], "科技、教育、人才/人工智能", "{cat}");
    let (st, _) = s
        .call(Method::PATCH, &format!("/api/v1/subjects/{}", ai["id"]), Some(&s.admin), Some(json!({"retired": true})))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    m["subject"] = json!("科技、教育、人才/人工智能");
    let (st, _) = put(m).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a retired category takes no new documents");
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog", None, None).await;
    assert_eq!(cat["entries"][0]["subject"], "科技、教育、人才/人工智能", "the filed document keeps it");
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", "/catalog/").await;
    assert!(
        page.contains("<option value=\"科技、教育、人才\">科技、教育、人才</option>")
            && !page.contains(">　科技、教育、人才 / 人工智能<"),
        "{page}"
    );
    s.finish().await;
}

async fn guides_annual_reports_genres_and_responses_reach_the_public(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let body_id = coded_body(&s, "青岛市教育局").await;
    let put = |doc: i64, v: Value| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move { s.call(Method::PUT, &format!("/api/v1/documents/{doc}/disclosure"), Some(&token), Some(v)).await }
    };
    let typed = |t: &str, written: &str| {
        let mut m = meta(body_id, None, written);
        m["doc_type"] = json!(t);
        m
    };
    let guide = nr.draft(&s, "青岛市教育局政府信息公开指南").await["id"].as_i64().unwrap();
    let r2024 = nr.draft(&s, "青岛市教育局2024年政府信息公开工作年度报告").await["id"].as_i64().unwrap();
    let r2025 = nr.draft(&s, "青岛市教育局2025年政府信息公开工作年度报告").await["id"].as_i64().unwrap();
    let policy = nr.draft(&s, "关于规范校外培训的通知").await["id"].as_i64().unwrap();
    let response = nr.draft(&s, "关于校外培训收费问题的回应").await["id"].as_i64().unwrap();
    assert_eq!(put(guide, typed("guide", "2026-01-10")).await.0, StatusCode::OK);
    assert_eq!(put(r2024, typed("annual_report", "2025-01-20")).await.0, StatusCode::OK);
    assert_eq!(put(r2025, typed("annual_report", "2026-01-20")).await.0, StatusCode::OK);

    // Genre and keywords: from the list, and tidied.
    let mut p = meta(body_id, Some("青教发〔2026〕5号"), "2026-03-01");
    p["genre"] = json!("公函");
    let (st, e) = put(policy, p.clone()).await;
    assert_eq!((st, e["errors"][0]["field"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "genre"));
    p["genre"] = json!("通知");
    p["keywords"] = json!("校外培训，收费  监管");
    let (st, d) = put(policy, p).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["keywords"], "校外培训,收费,监管");
    assert_eq!(put(response, typed("response", "2026-03-05")).await.0, StatusCode::OK);
    for d in [guide, r2024, r2025, policy, response] {
        nr.publish(&s, d).await;
    }

    // A response to a hot issue links to the policy concerned, both ways.
    let (st, e) = s
        .post(
            &format!("/api/v1/documents/{response}/interprets"),
            &nr.editor.1,
            json!({"policy_id": policy, "kind": "text"}),
        )
        .await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "doc_type"));
    let (st, _) = s
        .post(
            &format!("/api/v1/documents/{response}/interprets"),
            &nr.editor.1,
            json!({"policy_id": policy, "kind": "response"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{policy}.html")).await;
    assert!(
        page.contains(&format!("<h2>回应关切</h2>\n<ul class=\"list\"><li><a href=\"/articles/{response}.html\">关于校外培训收费问题的回应</a>")),
        "{page}"
    );
    assert!(!page.contains("<h2>政策解读</h2>"), "a response is not an interpretation");
    assert!(
        page.contains("<td colspan=\"3\">校外培训,收费,监管</td>") && page.contains("<td>政策文件（通知）</td>"),
        "{page}"
    );

    // The catalog by genre, and its exports carry genre and keywords.
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog?genre=通知", None, None).await;
    assert_eq!(cat["total"], 1);
    assert_eq!(cat["entries"][0]["url"], format!("https://jyj.qingdao.gov.cn/articles/{policy}.html"));
    let (st, headers, json) = s.page("jyj.qingdao.gov.cn", "/catalog.json?genre=通知").await;
    assert_eq!((st, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "application/json"));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["total"], 1);
    assert_eq!(json["entries"][0]["document_number"], "青教发〔2026〕5号");
    assert_eq!(json["entries"][0]["keywords"], "校外培训,收费,监管");
    let (_, _, csv) = s.page("jyj.qingdao.gov.cn", "/catalog.csv?genre=通知").await;
    assert!(csv.contains(",有效,通知,\"校外培训,收费,监管\","), "{csv}");

    // The body's guide and annual reports have pages of their own.
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/catalog/?body={body_id}")).await;
    assert!(
        page.contains(&format!(
            "<a href=\"/catalog/bodies/{body_id}/annual-reports/\">政府信息公开工作年度报告</a>（2 份）"
        )),
        "{page}"
    );
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/catalog/bodies/{body_id}/guide", s.base))
        .header("host", "jyj.qingdao.gov.cn")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], format!("https://jyj.qingdao.gov.cn/articles/{guide}.html"));
    let (st, _, reports) = s.page("jyj.qingdao.gov.cn", &format!("/catalog/bodies/{body_id}/annual-reports/")).await;
    assert_eq!(st, StatusCode::OK);
    let (a, b2) = (
        reports.find("2025年政府信息公开工作年度报告").unwrap(),
        reports.find("2024年政府信息公开工作年度报告").unwrap(),
    );
    assert!(a < b2, "newest year first");
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", "/catalog/bodies/999/annual-reports/").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.finish().await;
}

pub(crate) fn meta(body: i64, number: Option<&str>, written: &str) -> Value {
    json!({"doc_type": "policy", "issuing_body_id": body, "document_number": number, "subject": "科技、教育", "date_written": written})
}

async fn metadata_is_validated_and_index_numbers_are_assigned_at_publication(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (_, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    let old = nr.draft(&s, "旧的实施办法").await["id"].as_i64().unwrap();
    let new = nr.draft(&s, "新的实施办法").await["id"].as_i64().unwrap();
    let put = |doc: i64, v: Value| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move { s.call(Method::PUT, &format!("/api/v1/documents/{doc}/disclosure"), Some(&token), Some(v)).await }
    };

    let (st, e) = put(old, meta(body_id, Some("青教发〔2024〕3号"), "2024-03-01")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["rule"], "body_code", "no index number without the body's code: {e}");
    let (st, e) = s
        .call(
            Method::PUT,
            &format!("/api/v1/bodies/{body_id}/code"),
            Some(&s.admin),
            Some(json!({"code": "91350100M000100Y44"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["detail"].as_str().unwrap().contains("校验位"));
    let (st, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/bodies/{body_id}/code"),
            Some(&s.admin),
            Some(json!({"code": "91350100M000100Y43"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let (st, e) = put(old, meta(body_id, Some("青教发[2024]3号"), "2024-03-01")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["rule"], "document_number_brackets");
    assert!(e["detail"].as_str().unwrap().contains("六角括号〔〕"));
    let (st, d) = put(old, meta(body_id, Some("青教发〔2024〕3号"), "2024-03-01")).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["index_number"], Value::Null, "assigned at publication, not before");
    let (st, _) = put(new, meta(body_id, Some("青教发〔2026〕1号"), "2026-01-05")).await;
    assert_eq!(st, StatusCode::OK);

    // Repeals: not by itself, not by an earlier document.
    let mut repeal = meta(body_id, Some("青教发〔2024〕3号"), "2024-03-01");
    repeal["validity"] = json!("repealed");
    repeal["validity_changed_on"] = json!("2026-01-05");
    repeal["changed_by_document_id"] = json!(old);
    let (st, e) = put(old, repeal.clone()).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "not_self"));
    let mut backwards = meta(body_id, Some("青教发〔2026〕1号"), "2026-01-05");
    backwards["validity"] = json!("repealed");
    backwards["validity_changed_on"] = json!("2026-02-01");
    backwards["changed_by_document_id"] = json!(old);
    let (st, e) = put(new, backwards).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "not_earlier"));

    nr.publish(&s, old).await;
    nr.publish(&s, new).await;
    repeal["changed_by_document_id"] = json!(new);
    let (st, d) = put(old, repeal).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let year = zhanqun::kernel::time::today().year();
    assert_eq!(d["index_number"], format!("91350100M000100Y43/{year}-00001"));
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog", None, None).await;
    assert_eq!(cat["total"], 2);
    let numbers: Vec<&str> =
        cat["entries"].as_array().unwrap().iter().map(|e| e["index_number"].as_str().unwrap()).collect();
    assert!(numbers.contains(&format!("91350100M000100Y43/{year}-00002").as_str()));
    // A new edition keeps its number.
    let (_, doc) = s.get(&format!("/api/v1/documents/{new}"), &nr.editor.1).await;
    s.patch(
        &format!("/api/v1/documents/{new}"),
        &nr.editor.1,
        json!({"version": doc["version"], "title": "新的实施办法（修订）"}),
    )
    .await;
    nr.publish(&s, new).await;
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog?validity=valid", None, None).await;
    assert_eq!(cat["total"], 1);
    assert_eq!(cat["entries"][0]["index_number"], format!("91350100M000100Y43/{year}-00002"));
    assert_eq!(cat["entries"][0]["title"], "新的实施办法（修订）");
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", "/catalog/?subject=科技、教育").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("青教发〔2024〕3号") && page.contains("废止") && page.contains("共 2 条"), "{page}");
    // The repealed policy's page says so, when and by what, above the text.
    let (_, _, old_page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{old}.html")).await;
    assert!(
        old_page.contains(&format!("废止（2026-01-05，见<a href=\"/articles/{new}.html\">新的实施办法（修订）</a>）"))
            && old_page.contains(&format!("<td>91350100M000100Y43/{year}-00001</td>"))
            && old_page.contains("<td>青教发〔2024〕3号</td>"),
        "{old_page}"
    );
    let (_, _, none) = s.page("jyj.qingdao.gov.cn", "/catalog/?year=2019").await;
    assert!(none.contains("共 0 条"));
    let (st, headers, csv) = s.page("jyj.qingdao.gov.cn", "/catalog.csv?validity=repealed").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.starts_with('\u{feff}') && csv.contains("索引号,名称,发文机关"));
    assert!(
        csv.contains(&format!("91350100M000100Y43/{year}-00001,旧的实施办法,青岛市教育局,青教发〔2024〕3号"))
            && !csv.contains("新的实施办法"),
        "{csv}"
    );
    let (st, headers, feed) = s.page("jyj.qingdao.gov.cn", "/catalog/feed.atom").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/atom+xml; charset=utf-8");
    assert_eq!(feed.matches("<entry>").count(), 2);
    assert!(feed.contains("<title>新的实施办法（修订）</title>") && feed.contains(&format!("/articles/{new}.html")));
    // A body's own scheme applies to numbers assigned from then on; assigned ones stay.
    let scheme = |v: Value| {
        let s = &s;
        async move { s.call(Method::PUT, &format!("/api/v1/bodies/{body_id}/index-scheme"), Some(&s.admin), Some(v)).await }
    };
    let (st, e) = scheme(json!({"scheme": "{code}-{nnnnn}"})).await;
    assert_eq!(
        (st, e["errors"][0]["rule"].as_str().unwrap()),
        (StatusCode::UNPROCESSABLE_ENTITY, "index_scheme"),
        "no year: {e}"
    );
    let (st, _) = scheme(json!({"scheme": "青教-{yyyy}-{nnnn}"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let third = nr.draft(&s, "第三份文件").await["id"].as_i64().unwrap();
    assert_eq!(put(third, meta(body_id, Some("青教发〔2026〕2号"), "2026-01-06")).await.0, StatusCode::OK);
    nr.publish(&s, third).await;
    let (_, cat) = s.call(Method::GET, "/api/v1/catalog", None, None).await;
    let numbers: Vec<&str> =
        cat["entries"].as_array().unwrap().iter().map(|e| e["index_number"].as_str().unwrap()).collect();
    assert!(numbers.contains(&format!("青教-{year}-0003").as_str()), "{numbers:?}");
    assert!(numbers.contains(&format!("91350100M000100Y43/{year}-00001").as_str()), "assigned numbers never change");
    let (st, _) = scheme(json!({"scheme": null})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    s.finish().await;
}

async fn interpretations_link_both_ways_and_important_policies_wait_for_one(b: Backend) {
    let s = TestServer::start_with_config(b, Some("interpretation_days = 0\n")).await;
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
    let policy = nr.draft(&s, "关于推进义务教育优质均衡发展的实施意见").await["id"].as_i64().unwrap();
    let reading = nr.draft(&s, "图解：义务教育优质均衡发展实施意见").await["id"].as_i64().unwrap();
    let notice = nr.draft(&s, "关于放假的通知").await["id"].as_i64().unwrap();
    let put = |doc: i64, v: Value| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move { s.call(Method::PUT, &format!("/api/v1/documents/{doc}/disclosure"), Some(&token), Some(v)).await }
    };
    let mut p = meta(body_id, Some("青教发〔2026〕8号"), "2026-01-05");
    p["important"] = json!(true);
    assert_eq!(put(policy, p).await.0, StatusCode::OK);
    let mut r = meta(body_id, None, "2026-01-06");
    r["doc_type"] = json!("interpretation");
    assert_eq!(put(reading, r).await.0, StatusCode::OK);
    let mut n = meta(body_id, None, "2026-01-06");
    n["doc_type"] = json!("notice");
    assert_eq!(put(notice, n).await.0, StatusCode::OK);
    nr.publish(&s, policy).await;
    let app = s.app();
    let admin = zhanqun::kernel::Actor::system("t");
    let waiting = app.policies_awaiting_interpretation(&admin).await.unwrap();
    assert_eq!(
        waiting.iter().map(|w| w.document_id).collect::<Vec<_>>(),
        [policy],
        "an important policy without interpretation is listed"
    );

    let link = |from: i64, to: i64| {
        let (s, token) = (&s, nr.editor.1.clone());
        async move {
            s.post(&format!("/api/v1/documents/{from}/interprets"), &token, json!({"policy_id": to, "kind": "graphic"}))
                .await
        }
    };
    let (st, e) = link(reading, notice).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a notice is not a policy: {e}");
    assert_eq!(e["errors"][0]["rule"], "doc_type");
    let (st, _) = link(notice, policy).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "only interpretations interpret");
    let (st, e) = link(reading, policy).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a graphic without a described image: {e}");
    assert_eq!(e["errors"][0]["rule"], "graphic_alt");
    let (st, d) = s
        .call(
            Method::PATCH,
            &format!("/api/v1/documents/{reading}"),
            Some(&nr.editor.1),
            Some(json!({"version": 1, "body": "![图解：优质均衡发展三步走，2027 年全部达标](/files/tujie.png)"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (st, _) = link(reading, policy).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        app.policies_awaiting_interpretation(&admin).await.unwrap().len(),
        1,
        "a draft interpretation does not count"
    );
    nr.publish(&s, reading).await;
    assert!(app.policies_awaiting_interpretation(&admin).await.unwrap().is_empty());
    let (_, _, policy_page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{policy}.html")).await;
    assert!(
        policy_page.contains("<h2>政策解读</h2>")
            && policy_page.contains(&format!(
                "/articles/{reading}.html\">图解：义务教育优质均衡发展实施意见</a><span>图解</span>"
            ))
    );
    let (_, _, reading_page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{reading}.html")).await;
    assert!(
        reading_page.contains("<h2>相关政策</h2>")
            && reading_page.contains(&format!("/articles/{policy}.html\">关于推进义务教育优质均衡发展的实施意见</a>"))
    );
    let (st, e) = s
        .post(
            &format!("/api/v1/documents/{policy}/transitions"),
            &nr.editorial.1,
            json!({"action": "unpublish", "mode": "gone"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "a policy with interpretations is not deleted: {e}");
    assert!(e["detail"].as_str().unwrap().contains("1 篇解读"));
    s.finish().await;
}

async fn an_emergency_topic_shows_its_timeline_and_when_the_next_update_is_due(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (st, e) = s
        .post(
            &format!("/api/v1/sites/{}/topics", nr.site),
            &nr.editor.1,
            json!({"title": "台风防御", "emergency": true}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "an emergency topic names its procedure and time limits: {e}");
    assert_eq!(e["errors"].as_array().unwrap().len(), 3);
    let (st, t) = s
        .post(
            &format!("/api/v1/sites/{}/topics", nr.site),
            &nr.editor.1,
            json!({"title": "台风“海葵”防御", "summary": "全市防汛防台风工作进展", "emergency": true,
                   "release_procedure": "按《青岛市防汛应急预案》由市防指统一发布", "first_release_hours": 5, "update_hours": 24}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert!(t["next_due"].is_string() && t["overdue"] == false, "the first release is due within five hours: {t}");
    let (_, _, home) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert!(home.contains(&format!("<a href=\"/topics/{id}/\">台风“海葵”防御</a>")), "a banner on the home page");
    let first = nr.draft(&s, "市防指启动防台风Ⅳ级应急响应").await["id"].as_i64().unwrap();
    let second = nr.draft(&s, "全市转移群众情况通报").await["id"].as_i64().unwrap();
    for d in [first, second] {
        let (st, _) = s.post(&format!("/api/v1/topics/{id}/items"), &nr.editor.1, json!({"document_id": d})).await;
        assert_eq!(st, StatusCode::OK);
    }
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/topics/{id}/")).await;
    assert!(page.contains("暂无发布的信息"), "drafts do not show");
    nr.publish(&s, first).await;
    nr.publish(&s, second).await;
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/topics/{id}/")).await;
    let (a, b2) = (page.find("全市转移群众情况通报").unwrap(), page.find("市防指启动防台风").unwrap());
    assert!(a < b2, "newest first");
    assert!(page.contains("发布程序：按《青岛市防汛应急预案》由市防指统一发布"));
    let (_, t) = s.call(Method::GET, &format!("/api/v1/topics/{id}"), None, None).await;
    assert_eq!(t["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(t["timeline"][0]["at"].as_str().unwrap().len(), 16, "stamped to the minute");
    let (st, _) = s.post(&format!("/api/v1/topics/{id}/items"), &nr.editor.1, json!({"document_id": 99999})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    s.finish().await;
}
