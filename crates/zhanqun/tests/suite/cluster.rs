//! Reposting across the cluster (R9.2) and the content inventory (R2.3), issue #4, on both
//! engines: what the receiving sites' readers see, and what the dashboard shows as due.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(
    a_policy_reposted_to_the_department_sites_follows_the_original,
    a_site_cannot_repost_back_into_a_loop,
    the_content_inventory_shows_what_is_due_or_late,
);

/// A column named `name` on `site`.
pub(crate) async fn named_column(s: &TestServer, site: i64, name: &str, slug: &str) -> i64 {
    let (st, c) = s
        .post(
            &format!("/api/v1/sites/{site}/columns"),
            &s.admin,
            json!({"name": name, "slug": slug, "kind": "policy", "source": "上级机关", "owner": "办公室", "duty": "instant"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}

async fn online_department(s: &TestServer, name: &str, code: &str) -> i64 {
    let id = s.department(name).await;
    s.bring_online(id, code).await;
    id
}

async fn repost(s: &TestServer, token: &str, doc: i64, body: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/v1/documents/{doc}/reposts"), token, body).await
}

/// `token`, a reviewer of `site`, accepts every repost offered to it.
async fn accept_all(s: &TestServer, token: &str, site: i64) {
    let (_, received) = s.get(&format!("/api/v1/sites/{site}/received"), token).await;
    for r in received.as_array().unwrap().iter().filter(|r| r["pending"] == true) {
        let (st, v) = s.post(&format!("/api/v1/reposts/{}/accept", r["id"]), token, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["pending"], false);
    }
}

async fn a_policy_reposted_to_the_department_sites_follows_the_original(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let wsjkw = online_department(&s, "wsjkw", "3702000013").await;
    let zrzyj = online_department(&s, "zrzyj", "3702000014").await;
    named_column(&s, wsjkw, "上级文件", "shangji").await;

    let doc = nr.draft(&s, "关于做好2026年冬季供暖工作的通知").await["id"].as_i64().unwrap();
    let (st, e) = repost(&s, &nr.editor.1, doc, json!({"site_kind": "department", "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "only published documents are reposted: {e}");
    nr.publish(&s, doc).await;
    let (st, e) = repost(&s, &nr.editor.1, doc, json!({"site_kind": "department", "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["field"], "column");
    assert!(e["detail"].as_str().unwrap().contains("zrzyj网站"), "the sites without the column are named: {e}");
    assert!(!e["detail"].as_str().unwrap().contains("wsjkw网站"));
    let (st, e) = repost(&s, &nr.editor.1, doc, json!({"site_kind": "department"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the column is required: {e}");
    named_column(&s, zrzyj, "上级文件", "shangji").await;
    let outsider = s.person("outsider").await;
    let (st, _) = repost(&s, &outsider.1, doc, json!({"site_kind": "department", "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only the original site's staff repost it");

    let (st, out) = repost(&s, &nr.editor.1, doc, json!({"site_kind": "department", "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    let mut got: Vec<i64> = out["created"].as_array().unwrap().iter().map(|r| r["site_id"].as_i64().unwrap()).collect();
    got.sort();
    assert_eq!(got, [wsjkw, zrzyj], "every other department site, not the original's own");
    // Sibling sites show it only once they accept it, each by its own reviewer.
    assert!(out["created"].as_array().unwrap().iter().all(|r| r["pending"] == true), "{out}");
    let (st, _, _) = s.page("wsjkw.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not shown before it is accepted");
    let (_, _, column) = s.page("wsjkw.qingdao.gov.cn", "/columns/shangji/").await;
    assert!(!column.contains("冬季供暖"), "{column}");
    let offer = out["created"][0]["id"].as_i64().unwrap();
    let (st, _) = s.post(&format!("/api/v1/reposts/{offer}/accept"), &nr.editorial.1, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the sending site's reviewer does not accept for the receiver");
    for (site, name) in [(wsjkw, "wsjkw-reviewer"), (zrzyj, "zrzyj-reviewer")] {
        let reviewer = s.person(name).await;
        s.grant(site, reviewer.0, "editorial_reviewer").await;
        accept_all(&s, &reviewer.1, site).await;
    }

    // The receiving site lists it in the column and shows it under its own frame, naming the
    // original and pointing search engines at it.
    let (st, _, column) = s.page("wsjkw.qingdao.gov.cn", "/columns/shangji/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(column.contains(&format!("/articles/{doc}.html\">关于做好2026年冬季供暖工作的通知")), "{column}");
    let (st, _, page) = s.page("wsjkw.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("<title>关于做好2026年冬季供暖工作的通知 - wsjkw网站</title>"), "{page}");
    assert!(page.contains(&format!("转载自<a href=\"https://jyj.qingdao.gov.cn/articles/{doc}.html\">jyj网站</a>")));
    assert!(
        page.contains(&format!("<link rel=\"canonical\" href=\"https://jyj.qingdao.gov.cn/articles/{doc}.html\">"))
    );
    let (st, _, _) = s.page("wsjkw.qingdao.gov.cn", &format!("/articles/{}.html", doc + 1000)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Each receiving site sees what it received.
    let (st, received) = s.get(&format!("/api/v1/sites/{wsjkw}/received"), &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["origin_site_name"], "jyj网站");
    assert_eq!(received[0]["column_name"], "上级文件");

    // An edit of the original shows on the copies at once (the cached page goes).
    let (_, d) = s.get(&format!("/api/v1/documents/{doc}"), &nr.editor.1).await;
    let (st, d) = s
        .patch(
            &format!("/api/v1/documents/{doc}"),
            &nr.editor.1,
            json!({"version": d["version"], "title": "关于做好2026年冬季供暖工作的通知（更正）"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    nr.publish(&s, doc).await;
    let (_, _, page) = s.page("zrzyj.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert!(page.contains("<h1>关于做好2026年冬季供暖工作的通知（更正）</h1>"), "{page}");
    let (_, _, column) = s.page("wsjkw.qingdao.gov.cn", "/columns/shangji/").await;
    assert!(column.contains("通知（更正）"));

    // A receiving site may decline it; the other keeps it.
    let (_, received) = s.get(&format!("/api/v1/sites/{zrzyj}/received"), &s.admin).await;
    let id = received[0]["id"].as_i64().unwrap();
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/reposts/{id}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _, _) = s.page("zrzyj.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, _) = s.page("wsjkw.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::OK);

    // When the original goes, the copy goes with it.
    let (st, d) = nr.act(&s, &nr.editorial.1, doc, json!({"action": "unpublish", "mode": "gone"})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (st, _, _) = s.page("wsjkw.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::GONE);
    let (_, _, column) = s.page("wsjkw.qingdao.gov.cn", "/columns/shangji/").await;
    assert!(!column.contains("冬季供暖"), "{column}");
    s.finish().await;
}

async fn a_site_cannot_repost_back_into_a_loop(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let jyj_column = named_column(&s, nr.site, "上级文件", "shangji").await;
    let _ = jyj_column;
    let wsjkw = online_department(&s, "wsjkw", "3702000013").await;
    let zrzyj = online_department(&s, "zrzyj", "3702000014").await;
    named_column(&s, wsjkw, "上级文件", "shangji").await;
    named_column(&s, zrzyj, "上级文件", "shangji").await;
    let wsjkw_editor = s.person("wsjkw-editor").await;
    s.grant(wsjkw, wsjkw_editor.0, "editor").await;
    let doc = nr.draft(&s, "市级政策").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;

    let (st, e) = repost(&s, &nr.editor.1, doc, json!({"sites": [nr.site], "column": "上级文件"})).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "not_self"));
    let (st, e) =
        repost(&s, &wsjkw_editor.1, doc, json!({"sites": [zrzyj], "column": "上级文件", "from_site_id": wsjkw})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a site passes on only what it received: {e}");
    assert_eq!(e["errors"][0]["rule"], "received");

    let (st, out) = repost(&s, &nr.editor.1, doc, json!({"sites": [wsjkw], "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    let (st, e) =
        repost(&s, &wsjkw_editor.1, doc, json!({"sites": [zrzyj], "column": "上级文件", "from_site_id": wsjkw})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a site passes on only what it accepted: {e}");
    assert_eq!(e["errors"][0]["rule"], "accepted");
    accept_all(&s, &s.admin, wsjkw).await;
    // B reposting back to A is a loop, and says so.
    let (st, e) =
        repost(&s, &wsjkw_editor.1, doc, json!({"sites": [nr.site], "column": "上级文件", "from_site_id": wsjkw}))
            .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["rule"], "repost_loop");
    assert!(e["detail"].as_str().unwrap().contains("循环转载"), "{e}");
    // Passing it on to a site that does not have it yet is fine; to one that has it is not.
    let (st, out) =
        repost(&s, &wsjkw_editor.1, doc, json!({"sites": [zrzyj], "column": "上级文件", "from_site_id": wsjkw})).await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert_eq!(out["created"][0]["via_site_id"], wsjkw);
    let (st, e) = repost(&s, &nr.editor.1, doc, json!({"sites": [zrzyj], "column": "上级文件"})).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "repost_loop"));
    // By kind, the sites that have it are left out and reported, not refused.
    let (st, out) = repost(&s, &nr.editor.1, doc, json!({"site_kind": "department", "column": "上级文件"})).await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert_eq!(out["created"].as_array().unwrap().len(), 0);
    assert_eq!(out["skipped"].as_array().unwrap().len(), 2, "{out}");
    // Taking it back from B takes it from the site B passed it on to.
    let (_, list) = s.get(&format!("/api/v1/documents/{doc}/reposts"), &nr.editor.1).await;
    let to_b = list.as_array().unwrap().iter().find(|r| r["site_id"] == wsjkw).unwrap()["id"].as_i64().unwrap();
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/reposts/{to_b}"), Some(&nr.editor.1), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = s.get(&format!("/api/v1/documents/{doc}/reposts"), &nr.editor.1).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
    let (st, _, _) = s.page("zrzyj.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let history = s.get(&format!("/api/v1/sites/{zrzyj}/audit"), &s.admin).await.1.to_string();
    assert!(history.contains("repost") && history.contains("repost_removed"), "{history}");
    s.finish().await;
}

async fn the_content_inventory_shows_what_is_due_or_late(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let stats = s.column(nr.site, "stats", None).await;
    let other = s.department("other").await;
    let foreign = s.column(other, "x", None).await;
    let add = |v: Value| {
        let s = &s;
        async move { s.post(&format!("/api/v1/sites/{}/inventory", nr.site), &s.admin, v).await }
    };
    let (st, e) =
        add(json!({"name": "", "category": "weekly", "limit_days": 0, "owner": " ", "column_id": foreign})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|x| x["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["category", "column_id", "limit_days", "name", "owner"], "every broken rule at once: {e}");
    let (st, _) = s
        .post(
            &format!("/api/v1/sites/{}/inventory", nr.site),
            &nr.editor.1,
            json!({"name": "x", "category": "routine", "limit_days": 5, "owner": "a", "column_id": stats}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the site admin keeps the inventory");

    let (st, emergency) = add(
        json!({"name": "突发事件处置信息", "category": "immediate", "limit_days": 5, "owner": "应急处 王五", "column_id": nr.column}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{emergency}");
    assert_eq!(emergency["status"], "ok", "nothing has happened yet");
    assert_eq!(emergency["due"], Value::Null);
    let (_, monthly) = add(
        json!({"name": "月度统计数据", "category": "periodic", "limit_days": 1, "owner": "统计科 李四", "column_id": stats}),
    )
    .await;
    assert_eq!(monthly["status"], "due", "due tomorrow: {monthly}");
    assert_eq!(monthly["category_label"], "定期");

    // A routine item with nothing released yet counts from when it joined the inventory.
    let empty = s.column(nr.site, "empty", None).await;
    let (_, routine) =
        add(json!({"name": "工作动态", "category": "routine", "limit_days": 5, "owner": "办公室", "column_id": empty}))
            .await;
    assert_eq!(routine["status"], "ok", "{routine}");
    sqlx::query("UPDATE inventory_items SET created_at = created_at - $1 WHERE id = $2")
        .bind(60 * 86_400_000i64)
        .bind(routine["id"].as_i64().unwrap())
        .execute(&s.app().db.pool)
        .await
        .unwrap();
    let (_, list) = s.get(&format!("/api/v1/sites/{}/inventory", nr.site), &s.admin).await;
    let item = list.as_array().unwrap().iter().find(|i| i["id"] == routine["id"]).unwrap();
    assert_eq!(item["status"], "late", "added two months ago, never released: {item}");
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/inventory/{}", routine["id"]), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let id = emergency["id"].as_i64().unwrap();
    let event = |on: String| {
        let s = &s;
        async move {
            s.post(&format!("/api/v1/inventory/{id}/events"), &s.admin, json!({"occurred_on": on, "note": "暴雨"}))
                .await
        }
    };
    let today = zhanqun::kernel::time::today();
    let fmt = zhanqun_domain::calendar::fmt_date;
    let (st, e) = event(fmt(today + time::Duration::days(2))).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "not_future"));
    let (st, late) = event(fmt(today - time::Duration::days(30))).await;
    assert_eq!(st, StatusCode::OK, "{late}");
    assert_eq!(late["status"], "late", "five working days after an event a month ago: {late}");
    let (st, e) = s
        .post(&format!("/api/v1/inventory/{}/events", monthly["id"]), &s.admin, json!({"occurred_on": fmt(today)}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "only immediate items take events: {e}");

    // The dashboard lists what is due or late, the late first.
    let app = s.app();
    let attention = app.inventory_attention(&zhanqun::kernel::Actor::system("t")).await.unwrap();
    assert_eq!(attention.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["突发事件处置信息", "月度统计数据"]);

    // A release in the column answers the event.
    let doc = nr.draft(&s, "关于暴雨灾害处置情况的通报").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let (_, list) = s.get(&format!("/api/v1/sites/{}/inventory", nr.site), &s.admin).await;
    let item = list.as_array().unwrap().iter().find(|i| i["id"] == id).unwrap();
    assert_eq!(item["status"], "ok", "{item}");
    assert!(item["last_release"].as_str().is_some());
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/inventory/{}", monthly["id"]), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(app.inventory_attention(&zhanqun::kernel::Actor::system("t")).await.unwrap().is_empty());
    s.finish().await;
}
