//! The behaviour suite of the cluster core, run against SQLite and PostgreSQL alike.

use std::time::{Duration, Instant};

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(
    site_lifecycle_is_recorded_step_by_step,
    site_fields_are_validated_with_the_rule_named,
    noncompliant_sites_are_listed_when_the_rules_change,
    site_admins_rule_the_sites_below_them,
    stale_site_edit_is_refused,
    column_tree_refuses_cycles_and_merge_moves_documents,
    document_goes_through_both_reviews_and_is_recorded,
    workflow_refuses_wrong_state_and_wrong_role,
    rejection_returns_to_draft_with_the_reason,
    reviewer_must_not_be_the_author_when_the_site_says_so,
    second_editor_with_a_stale_version_gets_409_and_nothing_is_lost,
    editing_a_published_document_makes_a_new_edition,
    scheduled_publish_survives_a_restart,
    unpublish_modes,
    script_in_a_body_does_not_survive,
    attachments_are_checked_by_content_and_size,
    malformed_requests_get_problems_not_crashes,
    repeated_wrong_passwords_lock_the_account,
    tokens_stop_working_when_revoked_or_disabled,
    audit_trail_cannot_be_edited,
    concurrent_approvals_publish_once,
);

fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["field"].as_str().unwrap().to_string(), e["rule"].as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

async fn site_lifecycle_is_recorded_step_by_step(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, portal) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "city_portal", "name": "青岛政务网", "sponsor": "青岛市人民政府办公厅",
                   "primary_domain": "www.qingdao.gov.cn", "aliases": ["qingdao.gov.cn"],
                   "icp_filing": "鲁ICP备05001234号", "psb_filing": "鲁公网安备37020202000123号"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{portal}");
    assert_eq!(portal["state"], "applied");
    assert_eq!(portal["aliases"], json!(["qingdao.gov.cn"]));
    let id = portal["id"].as_i64().unwrap();
    let path = format!("/api/v1/sites/{id}/transitions");
    let tr = |action: &'static str| s.post(&path, &s.admin, json!({"action": action}));

    let (st, _) = tr("online").await;
    assert_eq!(st, StatusCode::CONFLICT, "cannot go online before review and registration");
    assert_eq!(tr("approve").await.0, StatusCode::OK);
    let (st, body) = tr("register").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "registration needs the site code: {body}");
    assert_eq!(field_errors(&body), vec![("site_code".into(), "required".into())]);
    let (st, p) =
        s.patch(&format!("/api/v1/sites/{id}"), &s.admin, json!({"version": 2, "site_code": "3702000001"})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    for (action, state) in [
        ("register", "registered"),
        ("online", "online"),
        ("suspend", "suspended"),
        ("resume", "online"),
        ("close", "closed"),
    ] {
        let (st, body) = tr(action).await;
        assert_eq!(st, StatusCode::OK, "{action}: {body}");
        assert_eq!(body["state"], state);
    }
    let (_, trail) = s.get(&format!("/api/v1/sites/{id}/audit"), &s.admin).await;
    let steps: Vec<(String, String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity"] == "site")
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["to"].as_str().unwrap_or("").into(),
                e["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    let actions: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(actions, ["apply", "approve", "update", "register", "online", "suspend", "resume", "close"]);
    assert!(steps.iter().all(|s| s.2 == "admin"), "every step names who did it: {steps:?}");
    s.finish().await;
}

async fn site_fields_are_validated_with_the_rule_named(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, body) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "department", "name": "教育局", "sponsor": "青岛市教育局", "primary_domain": "jyj.qd.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("primary_domain".into(), "domain_rule".into())]);
    assert!(body["detail"].as_str().unwrap().contains("department-domain"), "the rule is named: {body}");
    assert!(body["detail"].as_str().unwrap().contains("NAME.qingdao.gov.cn"), "{body}");

    let (st, body) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "department", "name": "教育局", "sponsor": "青岛市教育局", "primary_domain": "jyj.qingdao.gov.cn",
                   "site_code": "37020000", "icp_filing": "ICP备123号"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let errs = field_errors(&body);
    assert!(errs.contains(&("site_code".into(), "site_code_format".into())), "{errs:?}");
    assert!(errs.contains(&("icp_filing".into(), "icp_filing_format".into())), "{errs:?}");

    let (st, body) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "subsite", "name": "子站", "sponsor": "某处", "parent_id": 9999}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("parent_id".into(), "exists".into())]);

    let (st, body) = s.post("/api/v1/sites", &s.admin, json!({"kind": "ministry", "name": "x", "sponsor": "y"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body)[0].0, "kind");

    let first = s.department("jyj").await;
    let (st, body) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": "department", "name": "另一个", "sponsor": "x", "primary_domain": "JYJ.qingdao.gov.cn"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "domains are unique across the cluster, case-insensitively");
    assert!(body["detail"].as_str().unwrap().contains(&format!("#{first}")), "{body}");
    let (_, all) = s.get("/api/v1/sites", &s.admin).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "nothing half-written by refused requests");
    s.finish().await;
}

async fn noncompliant_sites_are_listed_when_the_rules_change(b: Backend) {
    let mut s = TestServer::start(b).await;
    s.department("jyj").await;
    let (_, list) = s.get("/api/v1/sites?noncompliant=true", &s.admin).await;
    assert_eq!(list, json!([]));
    s.restart_with_config(
        r#"
[[domain_rules]]
name = "dept-new"
description = "部门网站须为 NAME.qd.gov.cn"
kinds = ["department"]
patterns = ["*.qd.gov.cn"]
"#,
    )
    .await;
    let (_, list) = s.get("/api/v1/sites?noncompliant=true", &s.admin).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["domain_compliance"]["rule"], "dept-new");
    s.finish().await;
}

async fn site_admins_rule_the_sites_below_them(b: Backend) {
    let s = TestServer::start(b).await;
    let dept = s.department("jyj").await;
    let (boss, boss_t) = s.person("boss").await;
    let (_, nobody_t) = s.person("nobody").await;
    s.grant(dept, boss, "site_admin").await;
    let sub =
        json!({"kind": "subsite", "name": "教育局招生考试子站", "sponsor": "青岛市教育招生考试院", "parent_id": dept});
    assert_eq!(s.post("/api/v1/sites", &nobody_t, sub.clone()).await.0, StatusCode::FORBIDDEN);
    let (st, child) = s.post("/api/v1/sites", &boss_t, sub).await;
    assert_eq!(st, StatusCode::CREATED, "{child}");
    let child = child["id"].as_i64().unwrap();
    // The parent's admin approves the child; nobody approves their own site.
    let (st, _) = s.post(&format!("/api/v1/sites/{child}/transitions"), &boss_t, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = s.post(&format!("/api/v1/sites/{dept}/transitions"), &boss_t, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // Rights flow down the tree: the department admin manages the subsite's columns.
    let (st, _) = s
        .post(
            &format!("/api/v1/sites/{child}/columns"),
            &boss_t,
            json!({"name": "招生政策", "slug": "zszc", "kind": "policy", "source": "招考院", "owner": "李四", "duty": "instant"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s.get(&format!("/api/v1/sites/{child}/audit"), &nobody_t).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.finish().await;
}

async fn stale_site_edit_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let id = s.department("jyj").await;
    let (st, _) = s.patch(&format!("/api/v1/sites/{id}"), &s.admin, json!({"version": 1, "name": "教育局门户"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = s.patch(&format!("/api/v1/sites/{id}"), &s.admin, json!({"version": 1, "name": "旧名字"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["current_version"], 2);
    let (_, site) = s.get(&format!("/api/v1/sites/{id}"), &s.admin).await;
    assert_eq!(site["name"], "教育局门户");
    s.finish().await;
}

async fn column_tree_refuses_cycles_and_merge_moves_documents(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let a = s.column(nr.site, "a", None).await;
    let b_ = s.column(nr.site, "b", Some(a)).await;
    let c = s.column(nr.site, "c", Some(b_)).await;
    let (st, body) = s.patch(&format!("/api/v1/columns/{a}"), &s.admin, json!({"version": 1, "parent_id": c})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_errors(&body), vec![("parent_id".into(), "no_cycle".into())]);
    let (st, body) = s.patch(&format!("/api/v1/columns/{a}"), &s.admin, json!({"version": 1, "parent_id": a})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (st, body) = s.patch(&format!("/api/v1/columns/{c}"), &s.admin, json!({"version": 1, "parent_id": null})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["parent_id"], Value::Null);
    let (st, body) = s
        .post(
            &format!("/api/v1/sites/{}/columns", nr.site),
            &s.admin,
            json!({"name": "定期栏目", "slug": "dq", "kind": "notices", "source": "办公室", "owner": "王五", "duty": "periodic"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("duty_days".into(), "range".into())]);
    let (st, body) = s
        .post(
            &format!("/api/v1/sites/{}/columns", nr.site),
            &s.admin,
            json!({"name": "重复", "slug": "a", "kind": "news", "source": "x", "owner": "y", "duty": "daily"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("slug".into(), "unique".into())]);

    // A document in column c, merged into column a.
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "合并前", "body": "x", "columns": [c]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let doc = d["id"].as_i64().unwrap();
    let (st, body) = s.post(&format!("/api/v1/columns/{a}/merge"), &s.admin, json!({"into": b_})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "merging into its own child: {body}");
    let (st, merged) = s.post(&format!("/api/v1/columns/{c}/merge"), &s.admin, json!({"into": a})).await;
    assert_eq!(st, StatusCode::OK, "{merged}");
    assert_eq!(merged["status"], "merged");
    assert_eq!(merged["merged_into"], a);
    let (_, d) = s.get(&format!("/api/v1/documents/{doc}"), &nr.editor.1).await;
    assert_eq!(d["columns"], json!([a]));
    assert_eq!(d["canonical_column_id"], a);
    let (st, _) = s.post(&format!("/api/v1/columns/{a}/close"), &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "a column with active children cannot close");
    let (_, cols) = s.get(&format!("/api/v1/sites/{}/columns", nr.site), &s.admin).await;
    let order: Vec<&str> = cols.as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(order, ["news", "a", "b", "c"], "tree order, parents first");
    let (st, _) = s.patch(&format!("/api/v1/columns/{a}"), &nr.editor.1, json!({"version": 1, "name": "x"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "editors do not manage columns");
    s.finish().await;
}

async fn document_goes_through_both_reviews_and_is_recorded(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let d = nr.draft(&s, "关于2026年秋季学期开学工作的通知").await;
    let id = d["id"].as_i64().unwrap();
    assert_eq!(d["state"], "draft");
    assert_eq!(d["version"], 1);
    assert_eq!(d["public_url"], Value::Null);
    assert!(d["draft"]["body_html"].as_str().unwrap().contains("<h1>正文</h1>"));

    let (st, d) = nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    assert_eq!((st, d["state"].as_str().unwrap()), (StatusCode::OK, "submitted"));
    let (st, d) = nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve", "comment": "不涉密"})).await;
    assert_eq!((st, d["state"].as_str().unwrap()), (StatusCode::OK, "editorial_review"));
    let (st, d) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
    assert_eq!((st, d["state"].as_str().unwrap()), (StatusCode::OK, "published"));
    // Readable as published by the very next request (the `publish` benchmark times it).
    let (_, read) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    assert_eq!(read["state"], "published");
    assert_eq!(read["public_url"], format!("https://jyj.qingdao.gov.cn/articles/{id}.html"));
    assert_eq!(read["live"]["title"], "关于2026年秋季学期开学工作的通知");
    assert_eq!(read["draft"], Value::Null);

    let (st, h) = s.get(&format!("/api/v1/documents/{id}/history"), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK);
    let steps: Vec<(String, String, String, String)> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
                e["from"].as_str().unwrap_or("").into(),
                e["to"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want = [
        ("create", "editor", "", "draft"),
        ("submit", "editor", "draft", "submitted"),
        ("approve", "secrecy", "submitted", "editorial_review"),
        ("approve", "editorial", "editorial_review", "published"),
    ];
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(steps, want);
    assert_eq!(h["entries"][2]["comment"], "不涉密");
    let (_, site_trail) = s.get(&format!("/api/v1/sites/{}/audit", nr.site), &nr.editor.1).await;
    assert!(site_trail.as_array().unwrap().iter().any(|e| e["entity"] == "document" && e["entity_id"] == id));
    s.finish().await;
}

async fn workflow_refuses_wrong_state_and_wrong_role(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "测试").await["id"].as_i64().unwrap();
    let (st, body) = nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "a draft cannot be approved: {body}");
    assert!(body["detail"].as_str().unwrap().contains("草稿"), "{body}");
    let (st, _) = nr.act(&s, &nr.secrecy.1, id, json!({"action": "submit"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "reviewers do not submit");
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    let (st, body) = nr.act(&s, &nr.editor.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("保密审查员"), "the missing role is named: {body}");
    let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "editorial review cannot skip secrecy review");
    let (st, body) = nr.act(&s, &nr.editor.1, id, json!({"action": "publish"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("action".into(), "one_of".into())]);
    let (st, _) =
        s.patch(&format!("/api/v1/documents/{id}"), &nr.editor.1, json!({"version": 2, "title": "审核中修改"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "no edits while in review");
    // Someone with no role on the site sees nothing of it.
    let (_, other) = s.person("other").await;
    assert_eq!(s.get(&format!("/api/v1/documents/{id}"), &other).await.0, StatusCode::FORBIDDEN);
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    assert_eq!(d["state"], "submitted", "refused actions changed nothing");
    let (_, h) = s.get(&format!("/api/v1/documents/{id}/history"), &nr.editor.1).await;
    assert_eq!(h["entries"].as_array().unwrap().len(), 2, "refused actions left no audit entries");
    s.finish().await;
}

async fn rejection_returns_to_draft_with_the_reason(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "待退回").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    let (st, body) = nr.act(&s, &nr.secrecy.1, id, json!({"action": "reject"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("comment".into(), "required".into())]);
    let (st, d) =
        nr.act(&s, &nr.secrecy.1, id, json!({"action": "reject", "comment": "第二段含内部电话，请删除"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["state"], "draft");
    assert_eq!(d["reject_reason"], "第二段含内部电话，请删除");
    let (st, d) = s
        .patch(&format!("/api/v1/documents/{id}"), &nr.editor.1, json!({"version": d["version"], "body": "已修改"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    let (_, d) = nr.act(&s, &nr.editorial.1, id, json!({"action": "reject", "comment": "标题不规范"})).await;
    assert_eq!((d["state"].as_str().unwrap(), d["reject_reason"].as_str().unwrap()), ("draft", "标题不规范"));
    s.finish().await;
}

async fn reviewer_must_not_be_the_author_when_the_site_says_so(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    // The editor is also a secrecy reviewer.
    s.grant(nr.site, nr.editor.0, "secrecy_reviewer").await;
    let id = nr.draft(&s, "自审").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    s.patch(
        &format!("/api/v1/sites/{}", nr.site),
        &s.admin,
        json!({"version": site["version"], "require_distinct_reviewer": true}),
    )
    .await;
    let (st, body) = nr.act(&s, &nr.editor.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("不能是作者"));
    let (st, _) = nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::OK, "another reviewer may");
    s.finish().await;
}

async fn second_editor_with_a_stale_version_gets_409_and_nothing_is_lost(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (e2, e2_t) = s.person("editor2").await;
    s.grant(nr.site, e2, "editor").await;
    let id = nr.draft(&s, "共同编辑").await["id"].as_i64().unwrap();
    let (st, first) =
        s.patch(&format!("/api/v1/documents/{id}"), &nr.editor.1, json!({"version": 1, "body": "甲的修改"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(first["version"], 2);
    let (st, body) =
        s.patch(&format!("/api/v1/documents/{id}"), &e2_t, json!({"version": 1, "body": "乙的修改"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["current_version"], 2);
    assert!(body["detail"].as_str().unwrap().contains("没有覆盖"), "{body}");
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &e2_t).await;
    assert_eq!(d["draft"]["body"], "甲的修改");
    // Based on the current version, the second editor's change goes through.
    let (st, d) = s.patch(&format!("/api/v1/documents/{id}"), &e2_t, json!({"version": 2, "body": "乙的修改"})).await;
    assert_eq!((st, d["draft"]["body"].as_str().unwrap()), (StatusCode::OK, "乙的修改"));
    let (st, body) = s.patch(&format!("/api/v1/documents/{id}"), &e2_t, json!({"body": "没有版本号"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("version".into(), "required".into())]);
    s.finish().await;
}

async fn editing_a_published_document_makes_a_new_edition(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "第一版").await["id"].as_i64().unwrap();
    let d = nr.publish(&s, id).await;
    let (st, d) = s
        .patch(&format!("/api/v1/documents/{id}"), &nr.editor.1, json!({"version": d["version"], "title": "第二版"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "draft");
    assert_eq!(d["live"]["title"], "第一版", "the live edition stays live while the new one is written");
    assert_eq!(d["draft"]["number"], 2);
    assert!(d["public_url"].is_string());
    let d = nr.publish(&s, id).await;
    assert_eq!(d["live"]["title"], "第二版");
    let (_, h) = s.get(&format!("/api/v1/documents/{id}/history"), &nr.editor.1).await;
    let editions: Vec<(i64, &str)> = h["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["number"].as_i64().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(editions, [(1, "superseded"), (2, "published")], "every edition is kept");
    s.finish().await;
}

async fn scheduled_publish_survives_a_restart(b: Backend) {
    let mut s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "定时发布").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    let (st, body) =
        nr.act(&s, &nr.editorial.1, id, json!({"action": "approve", "publish_at": "2020-01-01T00:00:00+08:00"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a time in the past: {body}");
    assert_eq!(field_errors(&body), vec![("publish_at".into(), "future".into())]);
    let (st, body) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve", "publish_at": "明天上午"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("publish_at".into(), "datetime".into())]);

    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (st, d) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve", "publish_at": at})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "scheduled");
    assert_eq!(d["public_url"], Value::Null);
    // The server goes down before the time comes, and is down when it passes.
    s.stop_server().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    s.restart().await;
    let token = s.login("editor", crate::common::PW).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let d = loop {
        let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &token).await;
        if d["state"] == "published" || Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(d["state"], "published", "the scheduled publication ran after the restart");
    let (_, h) = s.get(&format!("/api/v1/documents/{id}/history"), &token).await;
    let last = h["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str().unwrap(), last["actor"].as_str().unwrap()), ("publish", "定时发布"));
    let publishes = h["entries"].as_array().unwrap().iter().filter(|e| e["to"] == "published").count();
    assert_eq!(publishes, 1, "published exactly once");
    s.finish().await;
}

async fn unpublish_modes(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "撤稿测试").await["id"].as_i64().unwrap();
    let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "unpublish", "comment": "x"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "nothing to unpublish yet");
    nr.publish(&s, id).await;
    let (st, body) = nr.act(&s, &nr.editorial.1, id, json!({"action": "unpublish"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "withdrawal needs a notice: {body}");
    let (st, body) = nr
        .act(
            &s,
            &nr.editorial.1,
            id,
            json!({"action": "unpublish", "mode": "redirect", "redirect_url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("redirect_url".into(), "url".into())]);
    let (st, _) = nr.act(&s, &nr.editor.1, id, json!({"action": "unpublish", "comment": "x"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "editors cannot unpublish");
    let (st, d) = nr
        .act(
            &s,
            &nr.editorial.1,
            id,
            json!({"action": "unpublish", "mode": "redirect", "redirect_url": "/articles/1.html"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!((d["state"].as_str().unwrap(), d["unpublish_mode"].as_str().unwrap()), ("unpublished", "redirect"));
    assert_eq!(d["public_url"], Value::Null);
    s.finish().await;
}

async fn script_in_a_body_does_not_survive(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "<b>标题</b>", "body_format": "html", "columns": [nr.column],
                   "body": "<p onmouseover=\"x()\">你好</p><script>alert(1)</script><a href=\"javascript:alert(1)\">点我</a><img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let html = d["draft"]["body_html"].as_str().unwrap();
    for bad in ["<script", "onmouseover", "onerror", "javascript:"] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    assert!(html.contains("你好"));
    s.finish().await;
}

async fn attachments_are_checked_by_content_and_size(b: Backend) {
    let s = TestServer::start_with_config(b, Some("max_attachment_mib = 1\n")).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "附件").await["id"].as_i64().unwrap();
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        s.client
            .post(format!("{}/api/v1/documents/{id}/attachments", s.base))
            .bearer_auth(&nr.editor.1)
            .multipart(form)
            .send()
    };
    let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 64][..]].concat();
    let r = upload("示意图.png", png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let r = upload("通知.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00PE".to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a program called .pdf");
    let r = upload("通知.pdf", png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a picture called .pdf");
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("与扩展名不符"), "{body}");
    let r = upload("大文件.txt", vec![b'a'; 1024 * 1024 + 10]).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = upload("脚本.html", b"<script>".to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let got = s
        .client
        .get(format!("{}{}", s.base, a["url"].as_str().unwrap()))
        .bearer_auth(&nr.editor.1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    assert_eq!(d["attachments"].as_array().unwrap().len(), 1, "only the accepted file is attached");
    s.finish().await;
}

async fn malformed_requests_get_problems_not_crashes(b: Backend) {
    // A small JSON limit, so the oversized body fits the socket buffers and the client
    // reads the 413 instead of a broken pipe.
    let s = TestServer::start_with_config(b, Some("max_json_kib = 16\n")).await;
    let url = format!("{}/api/v1/sites", s.base);
    let huge = format!("{{\"name\": \"{}\"}}", "字".repeat(20 * 1024));
    // No pooled connections: the server closes the one whose oversized body it did not read,
    // and a pooled client could race that close with its next request.
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let send = |body: String, ct: &'static str| {
        fresh.post(&url).bearer_auth(&s.admin).header("content-type", ct).body(body).send()
    };
    let r = send(huge, "application/json").await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = send("{\"kind\": ".into(), "application/json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = send("kind=department".into(), "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, body) = s.post("/api/v1/sites", &s.admin, json!({"kind": "department", "name": 5, "sponsor": "x"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body)[0], ("name".into(), "type".into()));
    let (st, body) = s
        .post("/api/v1/sites", &s.admin, json!({"kind": "department", "name": "x", "sponsor": "y", "colour": "red"}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body)[0], ("colour".into(), "unknown_field".into()));
    let (st, _) = s.get("/api/v1/sites/abc", &s.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get("/api/v1/sites/99999", &s.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get("/api/v1/no-such-thing", &s.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.call(Method::PUT, "/api/v1/sites", Some(&s.admin), Some(json!({}))).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    let (st, _) = s.call(Method::GET, "/api/v1/sites", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.call(Method::GET, "/api/v1/sites", Some("zq_forged"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, h) = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((st, h["status"].as_str().unwrap()), (StatusCode::OK, "ok"));
    s.finish().await;
}

async fn repeated_wrong_passwords_lock_the_account(b: Backend) {
    // Fewer failures lock the account than stop one address, so one address can lock it here.
    let s = TestServer::start_with_config(b, Some("max_failed_logins = 3\nlogin_failures_per_address = 10\n")).await;
    s.person("zhang").await;
    let refused = "用户名或密码错误，或账号已锁定、停用";
    for _ in 0..3 {
        let (st, body) = s
            .call(
                Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"username": "zhang", "password": "guess-guess"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(body["detail"], refused);
    }
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "zhang", "password": crate::common::PW})),
        )
        .await;
    assert_eq!(
        (st, body["detail"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, refused),
        "locked even with the right password, and the answer does not say so"
    );
    let (st, body) = s
        .call(Method::POST, "/api/v1/auth/token", None, Some(json!({"username": "nobody", "password": "whatever-x"})))
        .await;
    assert_eq!(
        (st, body["detail"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, refused),
        "no hint that the user does not exist"
    );
    let (_, users) = s.get("/api/v1/users", &s.security).await;
    assert!(users.as_array().unwrap().iter().any(|u| u["username"] == "zhang" && u["locked"] == true));
    let (st, body) = s.post("/api/v1/users", &s.security, json!({"username": "weak", "password": "123"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), vec![("password".into(), "min_length".into())]);
    s.finish().await;
}

async fn tokens_stop_working_when_revoked_or_disabled(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, t) = s.person("li").await;
    assert_eq!(s.get("/api/v1/me", &t).await.0, StatusCode::OK);
    let (st, _) = s.call(Method::DELETE, "/api/v1/auth/token", Some(&t), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/api/v1/me", &t).await.0, StatusCode::UNAUTHORIZED);
    let t2 = s.login("li", crate::common::PW).await;
    let (st, _) = s.post(&format!("/api/v1/users/{id}/disable"), &t2, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only administrators disable people");
    s.post(&format!("/api/v1/users/{id}/disable"), &s.security, json!({})).await;
    assert_eq!(s.get("/api/v1/me", &t2).await.0, StatusCode::UNAUTHORIZED);
    let (st, _) = s
        .call(Method::POST, "/api/v1/auth/token", None, Some(json!({"username": "li", "password": crate::common::PW})))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.finish().await;
}

async fn audit_trail_cannot_be_edited(b: Backend) {
    let s = TestServer::start(b).await;
    let site = s.department("jyj").await;
    let pool = &s.app().db.pool;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await.unwrap();
    assert!(n >= 1);
    let upd = sqlx::query("UPDATE audit_log SET actor_name = 'someone else'").execute(pool).await;
    assert!(upd.is_err(), "UPDATE on the audit trail must fail");
    let del = sqlx::query("DELETE FROM audit_log").execute(pool).await;
    assert!(del.is_err(), "DELETE on the audit trail must fail");
    let (_, trail) = s.get(&format!("/api/v1/sites/{site}/audit"), &s.admin).await;
    assert_eq!(trail[0]["actor"], "admin");
    s.finish().await;
}

async fn concurrent_approvals_publish_once(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (e2, e2_t) = s.person("editorial2").await;
    s.grant(nr.site, e2, "editorial_reviewer").await;
    let id = nr.draft(&s, "并发审核").await["id"].as_i64().unwrap();
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    // Two editorial reviewers press "approve" at the same moment, twice each.
    let tokens = [&nr.editorial.1, &e2_t, &nr.editorial.1, &e2_t];
    let results =
        futures::future::join_all(tokens.iter().map(|t| nr.act(&s, t, id, json!({"action": "approve"})))).await;
    let ok = results.iter().filter(|(st, _)| *st == StatusCode::OK).count();
    let conflicts = results.iter().filter(|(st, _)| *st == StatusCode::CONFLICT).count();
    assert_eq!((ok, conflicts), (1, 3), "{results:?}");
    let (_, h) = s.get(&format!("/api/v1/documents/{id}/history"), &nr.editor.1).await;
    let publishes = h["entries"].as_array().unwrap().iter().filter(|e| e["to"] == "published").count();
    assert_eq!(publishes, 1);
    s.finish().await;
}
