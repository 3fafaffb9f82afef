//! The list of wrong and sensitive expressions (错敏词): kept by the web office, checked
//! against texts by staff, and read by the monitor; on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::Browser;
use crate::common::{Backend, Newsroom, PW, TestServer};

behaviour!(
    the_office_keeps_the_list_and_staff_check_texts_against_it,
    bad_entries_and_texts_are_explained_and_nothing_is_kept,
    the_monitor_reports_the_offices_expressions_on_a_site,
    the_screen_keeps_the_list_and_marks_a_pasted_text,
    submitting_is_gated_by_the_list_and_the_reviewer_sees_the_hits,
);

async fn check(s: &TestServer, token: &str, text: &str) -> Value {
    let (st, r) = s.post("/api/v1/expressions/check", token, json!({ "text": text })).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r
}

fn words(r: &Value) -> Vec<(String, String, u64, u64)> {
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["word"].as_str().unwrap().to_string(),
                h["kind"].as_str().unwrap().to_string(),
                h["start"].as_u64().unwrap(),
                h["end"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Waits until a check of `text` finds what `want` says (every node reloads its list from
/// the outbox, a moment after the commit).
async fn until_found(s: &TestServer, text: &str, want: impl Fn(&Value) -> bool) -> Value {
    let t0 = Instant::now();
    loop {
        let r = check(s, &s.admin, text).await;
        if want(&r) {
            return r;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "the list did not change in time: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_office_keeps_the_list_and_staff_check_texts_against_it(b: Backend) {
    let mut s = TestServer::start(b).await;
    let (_, editor) = s.person("editor").await;

    // A new installation starts with the seeded wrong forms, each with its correction.
    let (st, list) = s.get("/api/v1/expressions?kind=wrong", &editor).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let seeded = list.as_array().unwrap().iter().find(|x| x["word"] == "国务院办公室").expect("seeded");
    assert_eq!(seeded["suggestion"], "国务院办公厅");
    assert!(list.as_array().unwrap().iter().all(|x| x["kind"] == "wrong"));

    // Staff check a text: every hit where it stands (in characters), its kind, its fix.
    let text = "根据国务院办公室通知，全国人大常务委员会审议。";
    let r = check(&s, &editor, text).await;
    assert_eq!(
        words(&r),
        vec![
            ("国务院办公室".to_string(), "wrong".to_string(), 2, 8),
            ("全国人大常务委员会".to_string(), "wrong".to_string(), 11, 20)
        ]
    );
    assert_eq!(r["hits"][1]["suggestion"], "全国人大常委会");
    assert_eq!((r["wrong"].as_u64(), r["forbidden"].as_u64()), (Some(2), Some(0)));
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(chars[11..20].iter().collect::<String>(), "全国人大常务委员会", "offsets count characters");

    // The office adds a forbidden expression: checks find it at once, Latin letters in any case.
    let (st, x) = s
        .post("/api/v1/expressions", &s.admin, json!({"word": "示范禁用语ABC", "kind": "forbidden", "note": "测试用"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{x}");
    let id = x["id"].as_i64().unwrap();
    let r = until_found(&s, "正文里有示范禁用语abc。", |r| r["forbidden"] == 1).await;
    assert_eq!(words(&r), vec![("示范禁用语abc".to_string(), "forbidden".to_string(), 4, 12)]);

    // Changed to sensitive, then removed: the checks follow.
    let (st, x) = s
        .call(
            Method::PUT,
            &format!("/api/v1/expressions/{id}"),
            Some(&s.admin),
            Some(json!({"word": "示范禁用语ABC", "kind": "sensitive", "suggestion": "示范用语"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(x["kind"], "sensitive");
    let r = until_found(&s, "示范禁用语ABC", |r| r["sensitive"] == 1).await;
    assert_eq!(r["hits"][0]["suggestion"], "示范用语");
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/expressions/{id}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    until_found(&s, "示范禁用语ABC", |r| r["hits"].as_array().unwrap().is_empty()).await;
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/expressions/{id}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Editors read and check but do not keep the list; the public does neither.
    let (st, _) = s.post("/api/v1/expressions", &editor, json!({"word": "某某", "kind": "sensitive"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.call(Method::POST, "/api/v1/expressions/check", None, Some(json!({"text": "x"}))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Every change is in the audit trail, which the audit administrator reads.
    let (st, trail) = s.get("/api/v1/audit?entity=expression&limit=100", &s.auditor).await;
    assert_eq!(st, StatusCode::OK, "{trail}");
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == id)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.len(), 3, "{trail}");
    for a in ["create", "update", "delete"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }

    // A seeded entry the office deleted stays deleted after a restart.
    let seeded_id = seeded["id"].as_i64().unwrap();
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/expressions/{seeded_id}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    s.restart().await;
    let (_, list) = s.get("/api/v1/expressions?q=国务院办公", &s.admin).await;
    assert!(list.as_array().unwrap().iter().all(|x| x["word"] != "国务院办公室"), "{list}");
    let r = check(&s, &s.admin, "国务院办公室").await;
    assert!(r["hits"].as_array().unwrap().is_empty(), "after a restart the list is the table's: {r}");
    s.finish().await;
}

async fn bad_entries_and_texts_are_explained_and_nothing_is_kept(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, before) = s.get("/api/v1/expressions", &s.admin).await;
    let long = "长".repeat(51);
    for (body, field) in [
        (json!({"word": "", "kind": "sensitive"}), "word"),
        (json!({"word": "国", "kind": "sensitive"}), "word"),
        (json!({"word": long, "kind": "sensitive"}), "word"),
        (json!({"word": "两行\n表述", "kind": "sensitive"}), "word"),
        (json!({"word": "某表述", "kind": "bad"}), "kind"),
        (json!({"word": "某表述", "kind": "wrong"}), "suggestion"),
        (json!({"word": "某表述", "kind": "wrong", "suggestion": "某表述"}), "suggestion"),
        (json!({"word": "国务院办公室", "kind": "sensitive"}), "word"),
    ] {
        let (st, p) = s.post("/api/v1/expressions", &s.admin, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert!(p["errors"][0]["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    }
    let (st, _) = s.post("/api/v1/expressions", &s.admin, json!({"word": "某表述", "kind": "sensitive", "x": 1})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");
    let (st, p) = s.get("/api/v1/expressions?kind=nonsense", &s.admin).await;
    assert_eq!((st, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/expressions/999999",
            Some(&s.admin),
            Some(json!({"word": "某表述", "kind": "sensitive"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, after) = s.get("/api/v1/expressions", &s.admin).await;
    assert_eq!(before, after, "nothing was kept");

    // Texts: empty finds nothing; odd characters are only text; too long is refused.
    let r = check(&s, &s.admin, "").await;
    assert!(r["hits"].as_array().unwrap().is_empty());
    let r = check(&s, &s.admin, "%_\\'; DROP TABLE expressions; -- 国务院办公室 \u{0}\u{202e}").await;
    assert_eq!(r["wrong"], 1);
    let (st, p) = s.post("/api/v1/expressions/check", &s.admin, json!({"text": "a".repeat(1_000_001)})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "text");
    // A LIKE pattern in the filter is only text.
    let (st, l) = s.get("/api/v1/expressions?q=%25", &s.admin).await;
    assert_eq!((st, l.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    s.finish().await;
}

async fn the_monitor_reports_the_offices_expressions_on_a_site(b: Backend) {
    let s = TestServer::start_with_config(
        b,
        Some("[monitor]\nmax_pages = 5\nexternal_links = false\nrate_per_second = 0\n[monitor.thresholds]\noneoff_probes = 1\n"),
    )
    .await;
    let (st, _) = s.post("/api/v1/expressions", &s.admin, json!({"word": "示范禁用语", "kind": "forbidden"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let page = "<!doctype html><html lang=\"zh-CN\"><head><title>示范局</title></head><body>\
                <p>本局依据国务院办公室文件和示范禁用语开展工作。</p></body></html>";
    let site = Router::new().route("/", axum::routing::get(move || async move { Html(page) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, site).await;
    });
    let (st, t) =
        s.post("/api/v1/monitor/sites", &s.admin, json!({"name": "示范局", "url": format!("http://{addr}/")})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let target = t["target_id"].as_i64().unwrap();
    let (st, _) = s.post("/api/v1/monitor/checks", &s.admin, json!({"target_id": target})).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let t0 = Instant::now();
    let run = loop {
        let (_, runs) = s.get(&format!("/api/v1/monitor/runs?target_id={target}"), &s.admin).await;
        if let Some(id) = runs.as_array().and_then(|r| r.first()).and_then(|r| r["id"].as_i64()) {
            break id;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (_, r) = s.get(&format!("/api/v1/monitor/runs/{run}"), &s.admin).await;
    let veto = r["report"]["vetoes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "serious_error")
        .unwrap_or_else(|| panic!("a serious error: {r}"));
    let details: Vec<&str> = veto["evidence"].as_array().unwrap().iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(details.contains(&"错误表述“国务院办公室”，应为“国务院办公厅”"), "{details:?}");
    assert!(details.contains(&"禁用表述“示范禁用语”"), "the office's own entry: {details:?}");
    s.finish().await;
}

async fn the_screen_keeps_the_list_and_marks_a_pasted_text(b: Backend) {
    let s = TestServer::start(b).await;
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (st, html) = admin.get("/admin/expressions").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("国务院办公室") && html.contains("国务院办公厅"), "the seeded list is shown");

    // A wrong form without its correction is refused, in Chinese, with what was typed kept.
    let r = admin
        .submit(
            "/admin/expressions",
            "/admin/expressions",
            &[("word", "某某局办公室"), ("kind", "wrong"), ("suggestion", "")],
        )
        .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin.outcome(r).await;
    assert!(page.contains("错误表述请填写建议改为的正确写法") && page.contains("value=\"某某局办公室\""), "{page}");
    let r = admin
        .submit(
            "/admin/expressions",
            "/admin/expressions",
            &[("word", "某某局办公室"), ("kind", "wrong"), ("suggestion", "某某局办公厅"), ("note", "机构改革后")],
        )
        .await;
    assert_eq!(r.0, StatusCode::SEE_OTHER, "{}", r.2);
    let page = admin.outcome(r).await;
    assert!(page.contains("已加入「某某局办公室」") && page.contains("机构改革后"), "{page}");

    // A pasted text comes back with its hits marked and counted.
    let text = "某某局办公室转发国务院办公室通知<script>x</script>";
    let mut found = String::new();
    for _ in 0..50 {
        let (st, _, body) = admin.submit("/admin/expressions", "/admin/expressions/check", &[("text", text)]).await;
        assert_eq!(st, StatusCode::OK, "the check answers with the marked text");
        found = body;
        if found.contains("发现 2 处") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found.contains("发现 2 处：错误表述 2 处"), "{found}");
    assert!(
        found.contains("<mark class=\"expr-wrong\" title=\"错误表述，建议改为“某某局办公厅”\">某某局办公室</mark>"),
        "{found}"
    );
    assert!(!found.contains("<script>x"), "the pasted text is only text");

    // An editor sees the list and checks, but has no form to change it.
    let (_, _) = s.person("editor").await;
    let editor = Browser::login(&s, "editor", crate::common::PW).await;
    let (st, html) = editor.get("/admin/expressions").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("某某局办公室") && !html.contains("加入词库"), "{html}");
    let r =
        editor.submit("/admin/expressions", "/admin/expressions", &[("word", "又一表述"), ("kind", "sensitive")]).await;
    assert_eq!(r.0, StatusCode::FORBIDDEN);
    s.finish().await;
}

fn rules(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a problem with field errors: {problem}"))
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["rule"].as_str().unwrap().to_string()))
        .collect()
}

async fn submitting_is_gated_by_the_list_and_the_reviewer_sees_the_hits(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    for (word, kind) in [("示范禁用语", "forbidden"), ("示范敏感语", "sensitive")] {
        let (st, e) = s.post("/api/v1/expressions", &s.admin, json!({"word": word, "kind": kind})).await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
    }
    until_found(&s, "示范禁用语 示范敏感语", |r| r["hits"].as_array().unwrap().len() == 2).await;

    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "转发国务院办公室关于招生工作的通知", "keywords": "招生",
                   "body": "各学校：\n\n现将有关事项通知如下，其中示范禁用语一节删去。\n\n另：示范敏感语。",
                   "columns": [nr.column], "source": "青岛市教育局"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let id = d["id"].as_i64().unwrap();

    // The writer sees every hit before submitting: where, what, the fix, and its context.
    let (st, c) = s.get(&format!("/api/v1/documents/{id}/expressions"), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!((c["wrong"].as_u64(), c["sensitive"].as_u64(), c["forbidden"].as_u64()), (Some(1), Some(1), Some(1)));
    let title = c["hits"].as_array().unwrap().iter().find(|h| h["field"] == "title").expect("the title's hit");
    assert_eq!((title["word"].as_str(), title["kind"].as_str()), (Some("国务院办公室"), Some("wrong")));
    assert_eq!(title["suggestion"], "国务院办公厅");
    assert_eq!((title["before"].as_str(), title["after"].as_str()), (Some("转发"), Some("关于招生工作的通知")));
    let body = c["hits"].as_array().unwrap().iter().find(|h| h["kind"] == "forbidden").unwrap();
    assert_eq!(body["field"], "body");
    assert!(!body["before"].as_str().unwrap().contains('\n'), "context on one line: {body}");
    assert_eq!(body["before"].as_str().unwrap().chars().count(), 12, "{body}");

    // A forbidden expression is never submitted, confirmed or not; nothing changes.
    for confirm in [false, true] {
        let (st, p) = nr.act(&s, &nr.editor.1, id, json!({"action": "submit", "confirm_expressions": confirm})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(rules(&p).contains(&("body".into(), "forbidden_expression".into())), "{p}");
        assert!(p.to_string().contains("示范禁用语"), "{p}");
    }
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    assert_eq!(d["state"], "draft");

    // Without it, the wrong form still needs the editor's confirmation, which names the fix.
    let (st, d) = s
        .patch(
            &format!("/api/v1/documents/{id}"),
            &nr.editor.1,
            json!({"version": d["version"], "body": "各学校：\n\n现将有关事项通知如下。\n\n另：示范敏感语。"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (st, p) = nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(rules(&p), vec![("title".to_string(), "wrong_expression".to_string())], "{p}");
    assert!(p.to_string().contains("国务院办公厅"), "the fix is named: {p}");
    let (st, d) = nr.act(&s, &nr.editor.1, id, json!({"action": "submit", "confirm_expressions": true})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "submitted");

    // The trail keeps what was confirmed; the secrecy reviewer sees the same hits.
    let (_, h) = s.get(&format!("/api/v1/documents/{id}/history"), &nr.secrecy.1).await;
    let submit = h["entries"].as_array().unwrap().iter().rev().find(|e| e["action"] == "submit").unwrap();
    assert_eq!(submit["detail"]["expressions"]["confirmed_wrong"], true, "{submit}");
    let words: Vec<&str> = submit["detail"]["expressions"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["word"].as_str().unwrap())
        .collect();
    assert_eq!(words, vec!["国务院办公室", "示范敏感语"]);
    let (st, c) = s.get(&format!("/api/v1/documents/{id}/expressions"), &nr.secrecy.1).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!((c["wrong"].as_u64(), c["sensitive"].as_u64(), c["forbidden"].as_u64()), (Some(1), Some(1), Some(0)));
    let reviewer = Browser::login(&s, "secrecy", PW).await;
    let (st, page) = reviewer.get(&format!("/admin/documents/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("错敏词检查") && page.contains("转发<mark>国务院办公室</mark>关于"), "{page}");
    assert!(page.contains("敏感表述") && page.contains("国务院办公厅"), "{page}");

    // Someone without a role on the site sees nothing of it.
    let (_, outsider) = s.person("outsider").await;
    let (st, _) = s.get(&format!("/api/v1/documents/{id}/expressions"), &outsider).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s.get("/api/v1/documents/99999/expressions", &nr.editor.1).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");

    // In the admin: the refusal in Chinese, then the checkbox that confirms.
    let editor = Browser::login(&s, "editor", PW).await;
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "国务院办公室通知", "body": "内容。", "columns": [nr.column], "source": "青岛市教育局"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (id, version) = (d["id"].as_i64().unwrap(), d["version"].to_string());
    let page = format!("/admin/documents/{id}");
    let (_, html) = editor.get(&page).await;
    assert!(html.contains("已核对错误表述，确认报送"), "the checkbox is offered: {html}");
    let action = format!("/admin/documents/{id}/transition");
    let r = editor.submit(&page, &action, &[("version", &version), ("action", "submit")]).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.2);
    assert!(r.2.contains("标题含错误表述「国务院办公室」（建议改为「国务院办公厅」）"), "{}", r.2);
    let r = editor
        .submit(&page, &action, &[("version", &version), ("action", "submit"), ("confirm_expressions", "1")])
        .await;
    assert_eq!(r.0, StatusCode::SEE_OTHER, "{}", r.2);
    assert!(editor.outcome(r).await.contains("稿件现为「待保密审查」"));
    s.finish().await;
}
