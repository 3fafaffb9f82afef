//! The holes found when the demo was attacked from outside (issue 10), each tried the way
//! the attacker tried it, over HTTP.

use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{Browser, hidden};
use crate::common::{ADMIN_PW, Backend, Newsroom, SECURITY_PW, TestServer};

behaviour!(
    a_form_posted_from_another_site_never_rides_on_a_login,
    a_form_carried_through_a_new_login_is_shown_whole_before_it_is_sent,
    a_withdrawn_document_is_gone_under_every_spelling_of_its_address,
    a_site_admin_cannot_make_themself_a_one_person_newsroom,
    spreadsheet_exports_show_formulas_as_text,
    every_answer_carries_the_browser_security_headers,
    smaller_holes_stay_closed,
    a_strangers_guesses_stop_the_stranger_not_the_owner,
    slow_clients_cannot_hold_connections,
    a_repost_shows_only_where_the_receiving_site_agreed_or_from_above,
    names_pickers_challenges_ratings_and_public_text_are_closed,
    three_administrators_each_do_their_own_job_and_nothing_else,
    the_audit_trail_shows_tampering_done_in_the_database,
    the_admin_answers_only_on_its_own_host_and_address,
    passwords_are_changed_reset_never_reused_and_expire,
    two_factor_sign_in_takes_a_code_once_and_is_required_of_staff,
    personal_data_is_sealed_at_rest_and_masked_in_lists,
);

/// A client with no cookie (a page elsewhere posting into the admin).
fn stranger() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

const EVIL: &[(&str, &str)] =
    &[("username", "evil"), ("display_name", "攻击者"), ("password", "evil-pass-2026"), ("is_admin", "1")];

async fn a_form_posted_from_another_site_never_rides_on_a_login(b: Backend) {
    let s = TestServer::start(b).await;
    // What the browser says of a page elsewhere auto-posting the form: a cross-site or a
    // sibling-site page, an Origin of another host, or nothing at all (a client that is
    // not a browser, or one that hides where it came from).
    let senders: &[&[(&str, &str)]] = &[
        &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        &[("origin", "http://jyj.localhost"), ("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[],
    ];
    for headers in senders {
        let c = stranger();
        let mut req = c.post(format!("{}/admin/users", s.base)).header("host", "localhost").form(EVIL);
        for (k, v) in *headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
        let login = r.text().await.unwrap();
        assert!(login.contains("登录站群管理后台"), "{headers:?}: the login page");
        assert!(!login.contains("carry:"), "{headers:?}: nothing of the form is carried: {login}");
        assert!(!login.contains("evil") && !login.contains("攻击者"), "{headers:?}");

        // The security administrator (who may add people) logs in on that very page: no form comes back to confirm, and
        // with the attacker's fields added to the login form by hand, still none.
        let pre = hidden(&login, "_pre").to_string();
        let mut form: Vec<(&str, &str)> =
            vec![("_pre", &pre), ("username", "security"), ("password", SECURITY_PW), ("next", "/admin/users")];
        form.extend([("carry:username", "evil"), ("carry:is_admin", "1"), ("carry:display_name", "攻击者")]);
        let mut req = c.post(format!("{}/admin/login", s.base)).header("host", "localhost").form(&form);
        for (k, v) in *headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let page = r.text().await.unwrap();
        assert!(!page.contains("继续提交"), "{headers:?}: no resubmission offered: {page}");
        assert!(status == StatusCode::SEE_OTHER || status == StatusCode::UNAUTHORIZED, "{headers:?}: {status}");
    }
    let (_, users) = s.get("/api/v1/users", &s.security).await;
    assert!(!users.as_array().unwrap().iter().any(|u| u["username"] == "evil"), "{users}");
    s.finish().await;
}

async fn a_form_carried_through_a_new_login_is_shown_whole_before_it_is_sent(b: Backend) {
    let s = TestServer::start(b).await;
    let admin = Browser::login(&s, "security", SECURITY_PW).await;
    let (_, html) = admin.get("/admin/users").await;
    let csrf = hidden(&html, "_csrf").to_string();
    // The session runs out while the administrator fills in the form.
    sqlx::query("UPDATE sessions SET last_seen_at = 0").execute(&s.app().db.pool).await.unwrap();
    let (st, _, login) = admin
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "liu"),
                ("display_name", "刘审核"),
                ("password", "a-long-password-2026"),
                ("duty", "system"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(login.contains("carry:username"), "a form of this site is carried: {login}");
    assert!(!login.contains("a-long-password-2026"), "passwords are never carried");
    let pre = hidden(&login, "_pre").to_string();
    let mut form: Vec<(String, String)> = vec![
        ("_pre".into(), pre),
        ("username".into(), "security".into()),
        ("password".into(), SECURITY_PW.into()),
        ("next".into(), "/admin/users".into()),
    ];
    for key in ["username", "display_name", "duty"] {
        form.push((format!("carry:{key}"), hidden(&login, &format!("carry:{key}")).to_string()));
    }
    let form_ref: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (st, _, resume) = admin.post("/admin/login", &form_ref).await;
    assert_eq!(st, StatusCode::OK);
    assert!(resume.contains("继续提交"));
    // Every field is shown, none hidden: where it goes and each name with its value.
    assert!(resume.contains("提交到：<code>/admin/users</code>"), "{resume}");
    for (k, v) in [("username", "liu"), ("display_name", "刘审核"), ("duty", "system")] {
        assert!(resume.contains(&format!("<code>{k}</code>")), "{k} is named: {resume}");
        assert!(
            resume.contains(&format!("<input type=\"text\" name=\"{k}\" value=\"{v}\" readonly")),
            "{k} is shown: {resume}"
        );
        assert!(!resume.contains(&format!("type=\"hidden\" name=\"{k}\"")), "{k} is not hidden");
    }
    // Nothing was created before the person looked.
    let (_, users) = s.get("/api/v1/users", &s.security).await;
    assert!(!users.as_array().unwrap().iter().any(|u| u["username"] == "liu"));
    s.finish().await;
}

async fn a_withdrawn_document_is_gone_under_every_spelling_of_its_address(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let noredirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get =
        |host: &'static str, path: String| noredirect.get(format!("{}{path}", s.base)).header("host", host).send();
    let id = nr.draft(&s, "将被删除的通知").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let spellings =
        [format!("/articles/0{id}.html"), format!("/articles/+{id}.html"), format!("/articles/000{id}.html")];
    let hosts = ["jyj.localhost", "jyj.qingdao.gov.cn"];
    let canonical = format!("/articles/{id}.html");
    // Every other spelling, on every host of the site, is sent to the one spelling: twice,
    // so that a page kept in the cache under it would show.
    for _ in 0..2 {
        for host in hosts {
            assert_eq!(get(host, canonical.clone()).await.unwrap().status(), StatusCode::OK);
            for p in &spellings {
                let r = get(host, p.clone()).await.unwrap();
                assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{host}{p}");
                assert_eq!(r.headers()["location"], canonical.as_str(), "{host}{p}");
                assert!(!r.text().await.unwrap().contains("将被删除的通知"), "{host}{p}: no text under it");
            }
        }
    }
    // Withdrawn for good: 410 at the address, and every other spelling leads only there.
    let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "unpublish", "mode": "gone"})).await;
    assert!(st.is_success());
    for host in hosts {
        let r = get(host, canonical.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::GONE, "{host}");
        assert!(!r.text().await.unwrap().contains("将被删除的通知"));
        for p in &spellings {
            let r = get(host, p.clone()).await.unwrap();
            assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{host}{p}");
            assert!(!r.text().await.unwrap().contains("将被删除的通知"), "{host}{p}");
        }
    }
    // Columns too: one spelling, in lower case with its closing slash.
    for p in ["/columns/news", "/columns/NEWS/", "/columns/News"] {
        let r = get("jyj.localhost", p.into()).await.unwrap();
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{p}");
        assert_eq!(r.headers()["location"], "/columns/news/", "{p}");
    }
    s.finish().await;
}

async fn a_site_admin_cannot_make_themself_a_one_person_newsroom(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (boss, boss_t) = s.person("boss").await;
    let (colleague, _) = s.person("colleague").await;
    s.grant(nr.site, boss, "site_admin").await;
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    let (st, _) = s
        .patch(
            &format!("/api/v1/sites/{}", nr.site),
            &s.admin,
            json!({"version": site["version"], "require_distinct_reviewer": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let grant = |site: i64, user: i64, role: &'static str| {
        let t = boss_t.clone();
        let s = &s;
        async move { s.post(&format!("/api/v1/sites/{site}/roles"), &t, json!({"user_id": user, "role": role})).await }
    };
    // Nobody grants a role to themself, not even the editor's.
    for role in ["secrecy_reviewer", "editorial_reviewer", "editor", "site_admin"] {
        let (st, body) = grant(nr.site, boss, role).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{role}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("不能给自己授予角色"), "{body}");
    }
    // Review roles on their own site come from above, not from the site's own admin.
    for role in ["secrecy_reviewer", "editorial_reviewer"] {
        let (st, body) = grant(nr.site, colleague, role).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{role}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("上级站点的管理员"), "{body}");
    }
    // An editor they may still appoint.
    assert_eq!(grant(nr.site, colleague, "editor").await.0, StatusCode::CREATED);
    // Nor can they switch off reviewer independence on their site.
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &boss_t).await;
    let (st, body) = s
        .patch(
            &format!("/api/v1/sites/{}", nr.site),
            &boss_t,
            json!({"version": site["version"], "require_distinct_reviewer": false}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    assert_eq!(site["require_distinct_reviewer"], true);
    // Other labels are still theirs to keep, the setting unchanged.
    let (st, body) = s
        .patch(&format!("/api/v1/sites/{}", nr.site), &boss_t, json!({"version": site["version"], "contact": "0532-1"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, roles) = s.get(&format!("/api/v1/sites/{}/roles", nr.site), &s.admin).await;
    let held: Vec<(i64, String)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["user_id"].as_i64().unwrap(), r["role"].as_str().unwrap().to_string()))
        .collect();
    assert!(held.contains(&(boss, "site_admin".into())));
    assert!(!held.iter().any(|(u, r)| *u == boss && r != "site_admin"), "{held:?}");
    assert!(!held.iter().any(|(u, r)| *u == colleague && r.ends_with("reviewer")), "{held:?}");

    // The admin's site screen offers each person only what they may do: the site's own
    // admin sees no review roles to grant and the independence setting as text, and saving
    // the site's labels there leaves the setting as it is.
    let boss_ui = Browser::login(&s, "boss", crate::common::PW).await;
    let (_, page) = boss_ui.get(&format!("/admin/sites/{}", nr.site)).await;
    assert!(
        !page.contains("<option value=\"secrecy_reviewer\">")
            && !page.contains("<option value=\"editorial_reviewer\">"),
        "{page}"
    );
    assert!(!page.contains("name=\"require_distinct_reviewer\""));
    assert!(page.contains("由安全管理员或上级站点管理员授予") && page.contains("审核人独立：已开启"));
    let csrf = hidden(&page, "_csrf").to_string();
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    let version = site["version"].to_string();
    let (st, _, _) = boss_ui
        .post(
            &format!("/admin/sites/{}", nr.site),
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("name", "jyj网站"),
                ("sponsor", "青岛市jyj"),
                ("contact", "0532-2"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &s.admin).await;
    assert_eq!((site["contact"].as_str(), &site["require_distinct_reviewer"]), (Some("0532-2"), &json!(true)));
    // The system administrator keeps the site's setting but grants no roles (三员分立); the
    // security administrator grants the review roles.
    let admin_ui = Browser::login(&s, "admin", ADMIN_PW).await;
    let (_, page) = admin_ui.get(&format!("/admin/sites/{}", nr.site)).await;
    assert!(
        !page.contains("<option value=\"secrecy_reviewer\">") && page.contains("name=\"require_distinct_reviewer\"")
    );
    let security_ui = Browser::login(&s, "security", crate::common::SECURITY_PW).await;
    let (_, page) = security_ui.get(&format!("/admin/sites/{}", nr.site)).await;
    assert!(page.contains("<option value=\"secrecy_reviewer\">"), "{page}");

    // The admin of a site above does grant review roles on the site below.
    let sub = json!({"kind": "subsite", "name": "教育局招生考试子站", "sponsor": "青岛市教育招生考试院", "parent_id": nr.site});
    let (st, child) = s.post("/api/v1/sites", &boss_t, sub).await;
    assert_eq!(st, StatusCode::CREATED, "{child}");
    let child = child["id"].as_i64().unwrap();
    assert_eq!(grant(child, colleague, "secrecy_reviewer").await.0, StatusCode::CREATED);

    // With reviewer independence on, one person holding both review roles cannot pass both
    // reviews of the same edition.
    let (both, both_t) = s.person("both").await;
    s.grant(nr.site, both, "secrecy_reviewer").await;
    s.grant(nr.site, both, "editorial_reviewer").await;
    let id = nr.draft(&s, "一人两审").await["id"].as_i64().unwrap();
    assert_eq!(nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await.0, StatusCode::OK);
    assert_eq!(nr.act(&s, &both_t, id, json!({"action": "approve"})).await.0, StatusCode::OK);
    let (st, body) = nr.act(&s, &both_t, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("两人分别办理"), "{body}");
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &s.admin).await;
    assert_eq!(d["state"], "editorial_review", "not published");
    let (st, _) = nr.act(&s, &nr.editorial.1, id, json!({"action": "approve"})).await;
    assert_eq!(st, StatusCode::OK, "another editorial reviewer may");
    s.finish().await;
}

/// Every cell of a CSV export, parsed as a spreadsheet would read it.
fn cells(csv_text: &str) -> Vec<String> {
    let mut r =
        csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    r.records().flat_map(|rec| rec.unwrap().iter().map(str::to_string).collect::<Vec<_>>()).collect()
}

fn no_formula(cells: &[String]) {
    for c in cells {
        assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell a spreadsheet would run: {c:?}");
    }
}

async fn spreadsheet_exports_show_formulas_as_text(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let evil = "=HYPERLINK(\"http://evil.example/\",\"点击领取补贴\")";
    // An editor's title in the disclosure catalog.
    let (_, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    let code = json!({"code": "91440300708461136T"});
    let (st, _) =
        s.call(reqwest::Method::PUT, &format!("/api/v1/bodies/{body_id}/code"), Some(&s.admin), Some(code)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let id = nr.draft(&s, evil).await["id"].as_i64().unwrap();
    let (st, d) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/documents/{id}/disclosure"),
            Some(&nr.editor.1),
            Some(json!({"doc_type": "notice", "issuing_body_id": body_id, "document_number": null,
                        "subject": "科技、教育", "date_written": "2026-03-01", "keywords": "+补贴"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    nr.publish(&s, id).await;
    let (st, _, csv_text) = s.page("jyj.qingdao.gov.cn", "/catalog.csv").await;
    assert_eq!(st, StatusCode::OK);
    let cat = cells(&csv_text);
    assert!(cat.contains(&format!("'{evil}")), "the title is there, as text: {cat:?}");
    no_formula(&cat);

    // An anonymous answer in a survey's export.
    let today = zhanqun::kernel::time::today();
    let (st, survey) = s
        .post(
            &format!("/api/v1/sites/{}/surveys", nr.site),
            &nr.editor.1,
            json!({"title": "意见调查", "questions": [{"kind": "text", "prompt": "=您的建议"}],
                   "opens_on": zhanqun_domain::calendar::fmt_date(today - time::Duration::days(1)),
                   "closes_on": zhanqun_domain::calendar::fmt_date(today + time::Duration::days(5))}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{survey}");
    let sid = survey["id"].as_i64().unwrap();
    for answer in [evil, "@SUM(1+1)", "-1+2", "\t=1"] {
        let r = stranger()
            .post(format!("{}/surveys/{sid}/", s.base))
            .header("host", "jyj.qingdao.gov.cn")
            .form(&[("q0", answer)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{answer}");
    }
    let r = s
        .client
        .get(format!("{}/api/v1/surveys/{sid}/responses.csv", s.base))
        .bearer_auth(&nr.editor.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let answers = cells(&r.text().await.unwrap());
    assert!(answers.contains(&format!("'{evil}")) && answers.contains(&"'@SUM(1+1)".to_string()), "{answers:?}");
    assert!(answers.contains(&"'=您的建议".to_string()), "{answers:?}");
    no_formula(&answers);
    s.finish().await;
}

async fn every_answer_carries_the_browser_security_headers(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "附有材料的通知").await["id"].as_i64().unwrap();
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        s.client
            .post(format!("{}/api/v1/documents/{id}/attachments", s.base))
            .bearer_auth(&nr.editor.1)
            .multipart(form)
            .send()
    };
    let r = upload("说明 材料.txt", "报名材料清单：身份证复印件、照片。".as_bytes().to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let txt: serde_json::Value = r.json().await.unwrap();
    let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 64][..]].concat();
    let r = upload("示意图.png", png).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let img: serde_json::Value = r.json().await.unwrap();
    nr.publish(&s, id).await;

    let get = |path: String, https: bool| {
        let mut r = s.client.get(format!("{}{path}", s.base)).header("host", "jyj.qingdao.gov.cn");
        if https {
            r = r.header("x-forwarded-proto", "https");
        }
        r.send()
    };
    let csp = |r: &reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_string();
    // A public page, rendered (through the router) and then from the cache (before it).
    let article = format!("/articles/{id}.html");
    for round in ["rendered", "cached"] {
        let r = get(article.clone(), false).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(csp(&r).contains("frame-ancestors 'self'") && csp(&r).contains("object-src 'none'"), "{round}");
        assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN", "{round}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{round}");
        assert_eq!(r.headers()["referrer-policy"], "strict-origin-when-cross-origin", "{round}");
        assert!(r.headers().get("strict-transport-security").is_none(), "{round}: not over plain HTTP");
        let r = get(article.clone(), true).await.unwrap();
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000", "{round}: over HTTPS");
    }
    // Public forms and errors too.
    for path in ["/mailbox/", "/no-such-page", "/catalog/"] {
        let r = get(path.into(), false).await.unwrap();
        assert!(csp(&r).contains("frame-ancestors 'self'"), "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    // The admin is never framed, nor is the API.
    for path in ["/admin/login", "/admin/", "/api/v1/docs/", "/api/v1/sites", "/api/v1/no-such"] {
        let r = s.client.get(format!("{}{path}", s.base)).header("host", "localhost").send().await.unwrap();
        assert!(csp(&r).contains("frame-ancestors 'none'"), "{path}: {}", csp(&r));
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    // An attachment a browser could run is downloaded, never shown; a picture is shown.
    let aid = txt["id"].as_i64().unwrap();
    let r = get(format!("/attachments/{aid}/x"), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename*=UTF-8''%E8%AF%B4%E6%98%8E%20%E6%9D%90%E6%96%99.txt"
    );
    assert!(csp(&r).contains("sandbox"));
    let r = get(format!("/attachments/{}/x", img["id"]), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("content-disposition").is_none(), "a picture is shown");
    assert!(csp(&r).contains("sandbox"));
    s.finish().await;
}

async fn smaller_holes_stay_closed(b: Backend) {
    let s = TestServer::start(b).await;
    // A body of a site that does not exist: a field error, not a crash.
    let (st, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "不存在站点的机构", "site_id": 999_999})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "site_id");
    // A body of no site is listed as its schema says (the contract checker reads it).
    let (st, _) = s.post("/api/v1/bodies", &s.admin, json!({"name": "市政府办公厅"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, list) = s.call(reqwest::Method::GET, "/api/v1/bodies", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(list.as_array().unwrap().iter().any(|b| b["name"] == "市政府办公厅" && b["site_id"].is_null()));
    // Tokens live a week at most.
    for hours in [169, 24 * 90] {
        let (st, e) = s
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"username": "admin", "password": ADMIN_PW, "ttl_hours": hours})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{hours}: {e}");
        assert_eq!(e["errors"][0]["field"], "ttl_hours");
    }
    let (st, _) = s
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PW, "ttl_hours": 168})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // The upload form's CSRF token travels in the form, never in the address.
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "带附件的稿件").await["id"].as_i64().unwrap();
    let editor = Browser::login(&s, "editor", crate::common::PW).await;
    let (_, html) = editor.get(&format!("/admin/documents/{id}")).await;
    assert!(!html.contains("?_csrf="), "no token in an address");
    let csrf = hidden(&html, "_csrf").to_string();
    let send = |token_field: Option<String>, token_query: Option<String>| {
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = token_field {
            form = form.text("_csrf", t);
        }
        form = form.part("file", reqwest::multipart::Part::bytes("材料清单".as_bytes().to_vec()).file_name("清单.txt"));
        let q = token_query.map(|t| format!("?_csrf={t}")).unwrap_or_default();
        editor
            .c
            .post(format!("{}/admin/documents/{id}/attachments{q}", s.base))
            .header("host", "localhost")
            .header("origin", "http://localhost")
            .header("sec-fetch-site", "same-origin")
            .multipart(form)
            .send()
    };
    assert_eq!(send(None, Some(csrf.clone())).await.unwrap().status(), StatusCode::FORBIDDEN, "token in the address");
    assert_eq!(send(Some("forged".into()), None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(Some(csrf.clone()), None).await.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    assert_eq!(d["attachments"].as_array().unwrap().len(), 1, "only the upload with its token landed");

    // Logging out ends the session on the server even when the form lacks its token: the
    // cookie, copied before, no longer opens the admin.
    let admin = Browser::login(&s, "admin", ADMIN_PW).await;
    let open = admin.c.get(format!("{}/admin/", s.base)).header("host", "localhost").send().await.unwrap().status();
    assert_eq!(open, StatusCode::OK);
    let pool = s.app().db.pool.clone();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&pool).await.unwrap();
    assert_eq!(before, 2, "the editor's and the administrator's");
    let (st, _, _) = admin.post("/admin/logout", &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&pool).await.unwrap();
    assert_eq!(after, 1, "the administrator's session is gone, not only its cookie");
    let (st, _) = admin.get("/admin/").await;
    assert_ne!(st, StatusCode::OK);
    s.finish().await;
}

/// Asks for a token as a client the trusted proxy on 127.0.0.1 says is at `from`.
async fn token_from(s: &TestServer, from: &str, username: &str, password: &str) -> (StatusCode, serde_json::Value) {
    let r = s
        .client
        .post(format!("{}/api/v1/auth/token", s.base))
        .header("x-forwarded-for", from)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or_default())
}

async fn a_strangers_guesses_stop_the_stranger_not_the_owner(b: Backend) {
    let mut s = TestServer::start_with_config(b, Some("trusted_proxies = [\"127.0.0.1\"]\n")).await;
    s.person("zhang").await;
    let (gone, _) = s.person("gone").await;
    assert_eq!(s.post(&format!("/api/v1/users/{gone}/disable"), &s.security, json!({})).await.0, StatusCode::OK);
    let refused = (StatusCode::UNAUTHORIZED, "用户名或密码错误，或账号已锁定、停用".to_string());
    let answer = |(st, body): (StatusCode, serde_json::Value)| (st, body["detail"].as_str().unwrap_or("").to_string());

    // A stranger guesses from one address: after five failures that address waits, whatever
    // it tries, and the wait is about the address, not the account.
    for i in 0..5 {
        assert_eq!(answer(token_from(&s, "203.0.113.9", "zhang", &format!("guess-{i}-guess")).await), refused);
    }
    let (st, body) = token_from(&s, "203.0.113.9", "zhang", crate::common::PW).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("网络地址"), "{body}");
    assert_eq!(token_from(&s, "203.0.113.9", "nobody", "x-x-x-x-x-x").await.0, StatusCode::TOO_MANY_REQUESTS);
    // The owner, elsewhere, signs in as ever.
    let (st, body) = token_from(&s, "198.51.100.7", "zhang", crate::common::PW).await;
    assert_eq!(st, StatusCode::OK, "the owner is not locked out by a stranger: {body}");

    // Unknown, disabled and wrong: one answer.
    assert_eq!(answer(token_from(&s, "192.0.2.1", "nobody", "whatever-whatever").await), refused);
    assert_eq!(answer(token_from(&s, "192.0.2.1", "gone", crate::common::PW).await), refused);
    assert_eq!(answer(token_from(&s, "192.0.2.1", "zhang", "wrong-wrong").await), refused);

    // Guessing from many addresses still locks the account; the owner then gets the same
    // answer as everyone else, and the lock is in the trail with the last address.
    for n in 0..20 {
        let from = format!("192.0.2.{}", 10 + n / 4);
        assert_eq!(answer(token_from(&s, &from, "zhang", "many-many-guesses").await), refused);
    }
    assert_eq!(answer(token_from(&s, "198.51.100.7", "zhang", crate::common::PW).await), refused);
    let (_, users) = s.get("/api/v1/users", &s.security).await;
    assert!(users.as_array().unwrap().iter().any(|u| u["username"] == "zhang" && u["locked"] == true));
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE entity = 'user' AND action = 'locked' ORDER BY id DESC")
            .fetch_one(&s.app().db.pool)
            .await
            .unwrap();
    assert!(detail.contains("192.0.2.14"), "{detail}");

    // Without trusted proxies the header is the client's own word, and is not believed.
    s.restart_with_config("").await;
    s.person("wang").await;
    for i in 0..5 {
        let from = format!("203.0.113.{}", 100 + i);
        assert_eq!(answer(token_from(&s, &from, "wang", "guess-guess-guess").await), refused);
    }
    assert_eq!(token_from(&s, "203.0.113.200", "wang", crate::common::PW).await.0, StatusCode::TOO_MANY_REQUESTS);
    s.finish().await;
}

/// Reads until the server closes the connection or `within` passes; what it said, and
/// whether it closed.
async fn read_until_closed(c: &mut (impl tokio::io::AsyncRead + Unpin), within: std::time::Duration) -> (String, bool) {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// Sends `first`, then `then` every 300 ms until the connection breaks (in the background).
fn trickle(c: tokio::net::TcpStream, first: &'static str, then: &'static str) -> tokio::net::tcp::OwnedReadHalf {
    use tokio::io::AsyncWriteExt;
    let (r, mut w) = c.into_split();
    tokio::spawn(async move {
        if w.write_all(first.as_bytes()).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            if w.write_all(then.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    r
}

async fn slow_clients_cannot_hold_connections(b: Backend) {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let mut s =
        TestServer::start_with_config(b, Some("header_read_seconds = 2\nbody_read_seconds = 2\nmax_connections = 2\n"))
            .await;
    let addr = s.running.as_ref().unwrap().addr;
    // The harness's own pooled connections would take the two places.
    s.client = reqwest::Client::new();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let connect = || tokio::net::TcpStream::connect(addr);

    // A header line every 300 ms: cut off once the headers are 2 s late.
    let t = tokio::time::Instant::now();
    let mut r = trickle(connect().await.unwrap(), "GET /healthz HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: 1\r\n");
    let (said, closed) = read_until_closed(&mut r, Duration::from_secs(6)).await;
    assert!(closed && !said.contains("200 OK"), "headers sent a line at a time are cut off: {said:?}");
    assert!(t.elapsed() >= Duration::from_millis(1500), "not before the limit: {:?}", t.elapsed());
    drop(r);

    // A body byte every 300 ms: answered as a broken request and closed.
    let t = tokio::time::Instant::now();
    let mut r = trickle(
        connect().await.unwrap(),
        "POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{",
        " ",
    );
    let (said, closed) = read_until_closed(&mut r, Duration::from_secs(6)).await;
    assert!(closed, "a body that trickles in is cut off: {said:?}");
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 4"), "never a 2xx or a 5xx: {said:?}");
    assert!(t.elapsed() >= Duration::from_millis(1500), "not before the limit: {:?}", t.elapsed());
    drop(r);

    // A connection that says nothing is closed too.
    let mut idle = connect().await.unwrap();
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed, "an idle connection is closed");

    // Two connections at once: a third waits for a place, and is served when one is free.
    let ask = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = connect().await.unwrap();
        c.write_all(ask).await.unwrap();
        let (said, _) = read_until_closed(&mut c, Duration::from_millis(500)).await;
        assert!(said.starts_with("HTTP/1.1 200"), "{said:?}");
        held.push(c);
    }
    let mut third = connect().await.unwrap();
    third.write_all(ask).await.unwrap();
    let (said, _) = read_until_closed(&mut third, Duration::from_millis(700)).await;
    assert!(said.is_empty(), "no place for a third connection yet: {said:?}");
    drop(held.remove(0));
    let (said, _) = read_until_closed(&mut third, Duration::from_millis(1000)).await;
    assert!(said.starts_with("HTTP/1.1 200"), "served once a place is free: {said:?}");
    drop(held);
    drop(third);
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.finish().await;
}

/// A portal site, online, with a column named 上级文件; `parent` is the site above.
async fn portal(s: &TestServer, kind: &str, name: &str, domain: &str, parent: Option<i64>, code: &str) -> i64 {
    let (st, site) = s
        .post(
            "/api/v1/sites",
            &s.admin,
            json!({"kind": kind, "name": name, "sponsor": format!("{name}主办单位"), "primary_domain": domain,
                   "parent_id": parent}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{site}");
    let id = site["id"].as_i64().unwrap();
    s.bring_online(id, code).await;
    let (st, c) = s
        .post(
            &format!("/api/v1/sites/{id}/columns"),
            &s.admin,
            json!({"name": "上级文件", "slug": "shangji", "kind": "policy", "source": "上级机关", "owner": "办公室", "duty": "instant"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    id
}

async fn a_repost_shows_only_where_the_receiving_site_agreed_or_from_above(b: Backend) {
    let s = TestServer::start(b).await;
    let city = portal(&s, "city_portal", "青岛政务网", "www.qingdao.gov.cn", None, "3702000001").await;
    let shinan = portal(&s, "district_portal", "市南区政府网", "www.shinan.gov.cn", Some(city), "3702020001").await;
    let laoshan = portal(&s, "district_portal", "崂山区政府网", "www.laoshan.gov.cn", Some(city), "3702120001").await;
    let nr = Newsroom::new(&s).await;
    let doc = nr.draft(&s, "部门自行发布的通知").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let article = format!("/articles/{doc}.html");

    // A department's editor reposts to the city portal and every district portal: nothing
    // shows anywhere yet.
    let (st, out) = s
        .post(
            &format!("/api/v1/documents/{doc}/reposts"),
            &nr.editor.1,
            json!({"sites": [city], "site_kind": "district_portal", "column": "上级文件"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert_eq!(out["created"].as_array().unwrap().len(), 3, "{out}");
    assert!(out["created"].as_array().unwrap().iter().all(|r| r["pending"] == true), "{out}");
    for host in ["www.qingdao.gov.cn", "www.shinan.gov.cn", "www.laoshan.gov.cn"] {
        assert_eq!(s.page(host, &article).await.0, StatusCode::NOT_FOUND, "{host}");
        let (_, _, column) = s.page(host, "/columns/shangji/").await;
        assert!(!column.contains("部门自行发布的通知"), "{host}: {column}");
    }
    // Nobody on the sending side accepts for the receivers, nor can the offer be passed on.
    let offer = |site: i64| {
        out["created"].as_array().unwrap().iter().find(|r| r["site_id"] == site).unwrap()["id"].as_i64().unwrap()
    };
    for t in [&nr.editor.1, &nr.secrecy.1, &nr.editorial.1] {
        let (st, _) = s.post(&format!("/api/v1/reposts/{}/accept", offer(city)), t, json!({})).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    let city_editor = s.person("city-editor").await;
    s.grant(city, city_editor.0, "editor").await;
    let (st, _) = s.post(&format!("/api/v1/reposts/{}/accept", offer(city)), &city_editor.1, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "an editor of the receiving site does not accept; its reviewer does");

    // The city portal's reviewer accepts: it shows there. Laoshan's declines: it never shows.
    let city_reviewer = s.person("city-reviewer").await;
    s.grant(city, city_reviewer.0, "editorial_reviewer").await;
    let (st, v) = s.post(&format!("/api/v1/reposts/{}/accept", offer(city)), &city_reviewer.1, json!({})).await;
    assert_eq!((st, &v["accepted_by"]), (StatusCode::OK, &json!("city-reviewer")), "{v}");
    assert_eq!(s.page("www.qingdao.gov.cn", &article).await.0, StatusCode::OK);
    let (_, _, column) = s.page("www.qingdao.gov.cn", "/columns/shangji/").await;
    assert!(column.contains("部门自行发布的通知"), "{column}");
    let (st, _) = s.post(&format!("/api/v1/reposts/{}/accept", offer(city)), &city_reviewer.1, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "accepted once");
    let laoshan_reviewer = s.person("laoshan-reviewer").await;
    s.grant(laoshan, laoshan_reviewer.0, "editorial_reviewer").await;
    let path = format!("/api/v1/reposts/{}", offer(laoshan));
    let (st, _) = s.call(reqwest::Method::DELETE, &path, Some(&laoshan_reviewer.1), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.post(&format!("/api/v1/reposts/{}/accept", offer(laoshan)), &laoshan_reviewer.1, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "a declined offer cannot be accepted later");
    assert_eq!(s.page("www.laoshan.gov.cn", &article).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.page("www.shinan.gov.cn", &article).await.0, StatusCode::NOT_FOUND, "still waiting");

    // The city portal passes it down to the districts below it: live at once there.
    let (st, out) = s
        .post(
            &format!("/api/v1/documents/{doc}/reposts"),
            &city_editor.1,
            json!({"sites": [laoshan], "column": "上级文件", "from_site_id": city}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert_eq!(out["created"][0]["pending"], false, "{out}");
    assert_eq!(s.page("www.laoshan.gov.cn", &article).await.0, StatusCode::OK);
    // Every step is in the receiving sites' trails.
    let trail = s.get(&format!("/api/v1/sites/{city}/audit"), &s.admin).await.1.to_string();
    assert!(trail.contains("repost_offered") && trail.contains("repost_accepted"), "{trail}");
    let _ = shinan;
    s.finish().await;
}

async fn names_pickers_challenges_ratings_and_public_text_are_closed(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let other = s.department("wsjkw").await;
    let (boss, boss_token) = s.person("jyj-admin").await;
    s.grant(nr.site, boss, "site_admin").await;
    let (stranger, _) = s.person("stranger-zhou").await;

    // Aliases follow the domain rules and every name a site answers to is its own.
    let (_, site) = s.get(&format!("/api/v1/sites/{}", nr.site), &boss_token).await;
    for (alias, rule) in [
        ("evil.example.com", "domain_rule"),
        ("wsjkw.qingdao.gov.cn", "unique"),
        ("wsjkw.localhost", "reserved"),
        ("www.shinan.gov.cn", "domain_rule"),
    ] {
        let (st, e) = s
            .patch(
                &format!("/api/v1/sites/{}", nr.site),
                &boss_token,
                json!({"version": site["version"], "aliases": [alias]}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{alias}: {e}");
        assert!(e["errors"].as_array().unwrap().iter().any(|x| x["rule"] == rule), "{alias}: {e}");
    }
    let (st, e) = s
        .patch(
            &format!("/api/v1/sites/{}", nr.site),
            &boss_token,
            json!({"version": site["version"], "aliases": ["jiaoyu.qingdao.gov.cn"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "an alias within the rules: {e}");
    assert_eq!(s.page("jiaoyu.qingdao.gov.cn", "/").await.0, StatusCode::OK);
    let _ = other;

    // A site admin's role picker offers the people of their own sites, not every account;
    // anybody else is named by exact user name.
    let browser = Browser::login(&s, "jyj-admin", crate::common::PW).await;
    let page = format!("/admin/sites/{}", nr.site);
    let (_, html) = browser.get(&page).await;
    assert!(html.contains("（editor）"), "the site's own people are offered");
    assert!(!html.contains("stranger-zhou"), "no listing of every account");
    let html = browser
        .outcome(
            browser.submit(&page, &format!("{page}/roles"), &[("username", "stranger-zhou"), ("role", "editor")]).await,
        )
        .await;
    assert!(html.contains("已授予 stranger-zhou 「编辑」角色"), "{html}");
    let html = browser
        .outcome(
            browser.submit(&page, &format!("{page}/roles"), &[("username", "no-such-one"), ("role", "editor")]).await,
        )
        .await;
    assert!(html.contains("没有用户名为「no-such-one」的在用账号"), "{html}");
    let (_, roles) = s.get(&format!("/api/v1/sites/{}/roles", nr.site), &s.admin).await;
    assert!(roles.as_array().unwrap().iter().any(|r| r["user_id"] == stranger && r["role"] == "editor"), "{roles}");

    // A solved question works once.
    let host = "jyj.qingdao.gov.cn";
    let (_, _, form) = s.page(host, "/mailbox/").await;
    let q = form.split("验证问题：").nth(1).unwrap().split("</label>").next().unwrap();
    let n: Vec<u32> = q.split(|c: char| !c.is_ascii_digit()).filter_map(|x| x.parse().ok()).collect();
    let answer = (n[0] + n[1]).to_string();
    let token = form.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let letter = |subject: &'static str| {
        let (answer, token) = (answer.clone(), token.clone());
        let c = s.client.clone();
        let base = s.base.clone();
        async move {
            c.post(format!("{base}/mailbox/"))
                .header("host", host)
                .form(&[
                    ("channel", "mayor"),
                    ("subject", subject),
                    ("body", "建议增加夜间公交。"),
                    ("writer_name", "市民"),
                    ("writer_contact", "13900002222"),
                    ("answer", &answer),
                    ("token", &token),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(letter("第一次").await.status(), StatusCode::CREATED);
    let again = letter("再用一次").await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("这个验证问题已经用过"), "said so");

    // Rating a letter counts against the same limit as tracking: codes cannot be guessed.
    let mut limited = false;
    for i in 0..12 {
        let (st, _) = s
            .call(
                reqwest::Method::POST,
                "/api/v1/letters/rate",
                None,
                Some(json!({"code": format!("XXXX-XXXX-XXXX-{i:04}"), "rating": 5})),
            )
            .await;
        limited |= st == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "guessed codes are throttled");

    // Public words in an interview transcript are text, not links or images.
    let starts = (time::OffsetDateTime::now_utc() + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (_, i) = s
        .post(
            &format!("/api/v1/sites/{}/interviews", nr.site),
            &nr.editor.1,
            json!({"title": "访谈", "guests": "嘉宾", "starts_at": starts}),
        )
        .await;
    let id = i["id"].as_i64().unwrap();
    let (st, q) = s
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/interviews/{id}/questions"),
            None,
            Some(json!({"name": "[客服](https://evil.example)", "contact": "x@y.cn",
                        "body": "请看 ![二维码](https://evil.example/qr.png) 和 <a href=\"https://evil.example\">这里</a>"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{q}");
    let (st, _) = s
        .post(&format!("/api/v1/questions/{}", q["id"]), &nr.editor.1, json!({"action": "answer", "answer": "好的。"}))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, ended) =
        s.post(&format!("/api/v1/interviews/{id}/end"), &nr.editor.1, json!({"column_id": nr.column})).await;
    let doc = ended["transcript_document_id"].as_i64().unwrap();
    let published = nr.publish(&s, doc).await;
    let _ = published;
    let (_, _, transcript) = s.page(host, &format!("/articles/{doc}.html")).await;
    assert!(!transcript.contains("<img"), "no image: {transcript}");
    assert!(!transcript.contains("<a href=\"https://evil.example"), "no link: {transcript}");
    assert!(transcript.contains("二维码"), "the words are kept: {transcript}");

    // An HTML body is stored sanitised, not only shown so.
    let (st, d) = s
        .post(
            &format!("/api/v1/sites/{}/documents", nr.site),
            &nr.editor.1,
            json!({"title": "HTML 正文", "body": "<p onclick=\"steal()\">正文<script>steal()</script><a href=\"javascript:steal()\">链接</a></p>",
                   "body_format": "html", "columns": [nr.column]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let (_, d) = s.get(&format!("/api/v1/documents/{}", d["id"]), &nr.editor.1).await;
    let stored = d.to_string();
    assert!(!stored.contains("script") && !stored.contains("onclick") && !stored.contains("javascript:"), "{stored}");
    assert!(stored.contains("正文") && stored.contains("链接"), "{stored}");
    s.finish().await;
}

async fn three_administrators_each_do_their_own_job_and_nothing_else(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let new_person = |name: &str| json!({"username": name, "password": "a-long-password-2026"});

    // The system administrator runs the platform, not its people.
    let (st, e) = s.post("/api/v1/users", &s.admin, new_person("by-system")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("安全管理员"), "{e}");
    assert_eq!(s.get("/api/v1/users", &s.admin).await.0, StatusCode::FORBIDDEN);
    let (st, _) =
        s.post(&format!("/api/v1/sites/{}/roles", nr.site), &s.admin, json!({"user_id": 1, "role": "editor"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "roles are not the system administrator's");
    assert_eq!(s.get("/api/v1/audit", &s.admin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/api/v1/system/status", &s.admin).await.0, StatusCode::OK);

    // The security administrator: people and roles, nothing of the sites or the trail.
    let (st, u) = s.post("/api/v1/users", &s.security, new_person("by-security")).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let (st, _) = s
        .post(&format!("/api/v1/sites/{}/roles", nr.site), &s.security, json!({"user_id": u["id"], "role": "editor"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .post(
            "/api/v1/sites",
            &s.security,
            json!({"kind": "department", "name": "某局网站", "sponsor": "某局", "primary_domain": "mj.qingdao.gov.cn"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "sites are the system administrator's");
    assert_eq!(s.get("/api/v1/audit", &s.security).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/api/v1/system/status", &s.security).await.0, StatusCode::FORBIDDEN);
    let (_, me) = s.get("/api/v1/me", &s.security).await;
    assert_eq!(me["duty"], "security");
    let (st, _) = s.post(&format!("/api/v1/users/{}/disable", me["user_id"]), &s.security, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not themself");
    let (st, e) = s
        .post(
            "/api/v1/users",
            &s.security,
            json!({"username": "two-hats", "password": "a-long-password-2026", "is_admin": true, "duty": "audit"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["rule"], "one_duty");

    // The audit administrator reads and exports the trail, and nothing else.
    let (st, trail) = s.get("/api/v1/audit?entity=user&action=create", &s.auditor).await;
    assert_eq!(st, StatusCode::OK, "{trail}");
    assert!(trail.as_array().unwrap().iter().any(|e| e["detail"]["username"] == "by-security"), "{trail}");
    let r = s
        .client
        .get(format!("{}/api/v1/audit.csv?action=create", s.base))
        .bearer_auth(&s.auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("by-security"));
    for (path, body) in [
        ("/api/v1/users", Some(new_person("by-auditor"))),
        (
            "/api/v1/sites",
            Some(
                json!({"kind": "department", "name": "某局网站", "sponsor": "某局", "primary_domain": "mj.qingdao.gov.cn"}),
            ),
        ),
    ] {
        let (st, _) = s.post(path, &s.auditor, body.unwrap()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(s.get("/api/v1/users", &s.auditor).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get(&format!("/api/v1/sites/{}/documents", nr.site), &s.auditor).await.0, StatusCode::FORBIDDEN);
    // Logins and failures are in the trail, and so are the auditor's own looks.
    let _ = s
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "editor", "password": "wrong-wrong"})),
        )
        .await;
    let (_, trail) = s.get("/api/v1/audit?entity=user", &s.auditor).await;
    let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"login") && actions.contains(&"login_failed"), "{actions:?}");
    // So is every refusal, with what was tried.
    let (_, refused) = s.get("/api/v1/audit?action=refused&actor=admin", &s.auditor).await;
    assert!(refused.as_array().unwrap().iter().any(|e| e["detail"]["path"] == "/api/v1/users"), "{refused}");
    let (_, looks) = s.get("/api/v1/audit?entity=audit_log", &s.auditor).await;
    let looks: Vec<&str> = looks.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(looks.contains(&"audit_read") && looks.contains(&"audit_export"), "{looks:?}");

    // In the admin: each sees their own screens.
    let auditor = Browser::login(&s, "auditor", crate::common::AUDITOR_PW).await;
    let (st, html) = auditor.get("/admin/audit").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("by-security") && html.contains("/admin/audit?verify=1"), "{html}");
    // The chain is checked when asked for (it walks the whole trail).
    let (st, html) = auditor.get("/admin/audit?verify=1").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("操作记录完整") && html.contains("by-security"), "{html}");
    assert_eq!(auditor.get("/admin/users").await.0, StatusCode::FORBIDDEN);
    let security = Browser::login(&s, "security", SECURITY_PW).await;
    let (_, html) = security.get("/admin/users").await;
    assert!(html.contains("添加人员"), "{html}");
    assert_eq!(security.get("/admin/audit").await.0, StatusCode::FORBIDDEN);
    let admin = Browser::login(&s, "admin", ADMIN_PW).await;
    let (_, html) = admin.get("/admin/users").await;
    assert!(!html.contains("添加人员") && html.contains("添加机构"), "{html}");
    // Every screen says when the session ends.
    assert!(html.contains("本次登录至") && html.contains("闲置 120 分钟自动退出"), "{html}");
    s.finish().await;
}

async fn the_audit_trail_shows_tampering_done_in_the_database(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let doc = nr.draft(&s, "留痕的稿件").await["id"].as_i64().unwrap();
    nr.publish(&s, doc).await;
    let (st, r) = s.get("/api/v1/audit/verify", &s.auditor).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["intact"], true, "{r}");
    assert!(r["checked"].as_i64().unwrap() > 10, "{r}");

    // Someone with the database's keys edits an approval, past the triggers.
    let pool = &s.app().db.pool;
    let victim: i64 = sqlx::query_scalar("SELECT seq FROM audit_log WHERE action = 'approve' ORDER BY seq LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let tamper = |sql: &'static str| async move {
        let mut c = pool.acquire().await.unwrap();
        if b == Backend::Sqlite {
            sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut *c).await.unwrap();
            sqlx::query("DROP TRIGGER audit_log_no_delete").execute(&mut *c).await.unwrap();
        } else {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER").execute(&mut *c).await.unwrap();
        }
        sqlx::query(sql).execute(&mut *c).await.unwrap();
    };
    tamper("UPDATE audit_log SET actor_name = 'someone-else' WHERE action = 'approve' AND seq = (SELECT MIN(seq) FROM audit_log WHERE action = 'approve')").await;
    let (_, r) = s.get("/api/v1/audit/verify", &s.auditor).await;
    assert_eq!((r["intact"].as_bool(), r["broken_at"].as_i64()), (Some(false), Some(victim)), "{r}");
    assert!(r["problem"].as_str().unwrap().contains("被修改"), "{r}");
    // The console says the same and fails.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhanqun"))
        .args(["--data-dir", s.settings.data_dir.to_str().unwrap()])
        .args(
            s.settings.database_url.as_ref().map(|u| vec!["--database-url".to_string(), u.clone()]).unwrap_or_default(),
        )
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("操作记录被篡改"), "{out:?}");
    let _ = tamper;
    s.finish().await;
}

async fn the_admin_answers_only_on_its_own_host_and_address(b: Backend) {
    let mut s = TestServer::start_with_config(b, Some("admin_hosts = [\"admin.localhost\"]\n")).await;
    let nr = Newsroom::new(&s).await;
    let _ = nr;
    let client = s.client.clone();
    let get = |base: String, host: &'static str, path: &'static str| {
        let c = client.clone();
        async move { c.get(format!("{base}{path}")).header("host", host).send().await.unwrap().status() }
    };
    for path in ["/admin/login", "/admin/", "/api/v1/docs/"] {
        assert_eq!(get(s.base.clone(), "jyj.qingdao.gov.cn", path).await, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(get(s.base.clone(), "localhost", path).await, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(get(s.base.clone(), "admin.localhost", "/admin/login").await, StatusCode::OK);
    assert_eq!(get(s.base.clone(), "jyj.qingdao.gov.cn", "/").await, StatusCode::OK, "the public site as ever");
    assert_eq!(
        get(s.base.clone(), "jyj.qingdao.gov.cn", "/api/v1/sites").await,
        StatusCode::UNAUTHORIZED,
        "the API as ever"
    );

    // On an address of its own: the public listener has no admin at all.
    s.restart_with_config("admin_listen = \"127.0.0.1:0\"\n").await;
    let admin_base = format!("http://{}", s.running.as_ref().unwrap().admin_addr.unwrap());
    assert_eq!(get(s.base.clone(), "localhost", "/admin/login").await, StatusCode::NOT_FOUND);
    assert_eq!(get(admin_base.clone(), "localhost", "/admin/login").await, StatusCode::OK);
    assert_eq!(get(s.base.clone(), "jyj.qingdao.gov.cn", "/").await, StatusCode::OK);
    s.finish().await;
}

async fn passwords_are_changed_reset_never_reused_and_expire(b: Backend) {
    let s = TestServer::start(b).await;
    let first = crate::common::FIRST_PW;
    let (st, u) = s.post("/api/v1/users", &s.security, json!({"username": "wu", "password": first})).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let id = u["id"].as_i64().unwrap();
    // The first sign-in can do nothing but choose a new password.
    let t = s.login("wu", first).await;
    let (_, me) = s.get("/api/v1/me", &t).await;
    assert_eq!(me["must_change_password"], true, "{me}");
    let (st, e) = s.get("/api/v1/sites", &t).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("须先修改密码"));
    let change = |token: String, current: &'static str, new: &'static str| {
        let s = &s;
        async move { s.post("/api/v1/me/password", &token, json!({"current_password": current, "new_password": new})).await }
    };
    let (st, e) = change(t.clone(), "not-the-password-1", "Brand-new-pass-1").await;
    assert_eq!((st, e["errors"][0]["rule"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong")), "{e}");
    let (st, e) = change(t.clone(), first, "alllowercaseletters").await;
    assert_eq!((st, e["errors"][0]["rule"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("complexity")), "{e}");
    let (st, _) = change(t.clone(), first, "Brand-new-pass-1").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/api/v1/sites", &t).await.0, StatusCode::OK, "this token goes on");
    let (st, e) = change(t.clone(), "Brand-new-pass-1", first).await;
    assert_eq!((st, e["errors"][0]["rule"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reused")), "{e}");

    // A reset by the security administrator ends every session and token; the next sign-in
    // changes it first. Nobody else resets passwords.
    let other = s.login("wu", "Brand-new-pass-1").await;
    let (st, _) =
        s.post(&format!("/api/v1/users/{id}/password"), &s.admin, json!({"new_password": "Reset-by-admin-1"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not the system administrator's");
    let (st, _) = s
        .post(&format!("/api/v1/users/{id}/password"), &s.security, json!({"new_password": "Reset-by-sec-2026"}))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/api/v1/me", &t).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/api/v1/me", &other).await.0, StatusCode::UNAUTHORIZED);
    let t = s.login("wu", "Reset-by-sec-2026").await;
    assert_eq!(s.get("/api/v1/sites", &t).await.0, StatusCode::FORBIDDEN);
    // In the admin, every screen leads to the password screen until it is changed.
    let browser = Browser::login(&s, "wu", "Reset-by-sec-2026").await;
    let r = browser.c.get(format!("{}/admin/sites", s.base)).header("host", "localhost").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/password");
    let html = browser
        .outcome(
            browser
                .submit(
                    "/admin/password",
                    "/admin/password",
                    &[
                        ("current_password", "Reset-by-sec-2026"),
                        ("new_password", "Chosen-by-wu-2026"),
                        ("new_password2", "Chosen-by-wu-2026"),
                    ],
                )
                .await,
        )
        .await;
    assert!(html.contains("密码已修改"), "{html}");
    assert_eq!(browser.get("/admin/sites").await.0, StatusCode::OK);

    // Passwords expire after `password_max_age_days`.
    sqlx::query("UPDATE users SET password_changed_at = 0 WHERE username = 'wu'")
        .execute(&s.app().db.pool)
        .await
        .unwrap();
    let t = s.login("wu", "Chosen-by-wu-2026").await;
    let (_, me) = s.get("/api/v1/me", &t).await;
    assert_eq!(me["must_change_password"], true, "expired: {me}");
    // Each step is in the trail.
    let (_, trail) = s.get("/api/v1/audit?entity=user", &s.auditor).await;
    let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"password_change") && actions.contains(&"password_reset"), "{actions:?}");
    s.finish().await;
}

fn base32_decode(s: &str) -> Vec<u8> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        let v = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".iter().position(|&a| a == c).unwrap() as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

async fn two_factor_sign_in_takes_a_code_once_and_is_required_of_staff(b: Backend) {
    use zhanqun::people::two_factor::{hotp, step_of};
    let mut s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (wang, t) = s.person("wang").await;
    let (st, en) = s.post("/api/v1/me/two-factor", &t, json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{en}");
    assert!(en["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"), "{en}");
    let secret = base32_decode(en["secret"].as_str().unwrap());
    let code =
        |offset: i64| format!("{:06}", hotp(&secret, step_of(zhanqun::kernel::time::now_ms()) + offset as u64, 6));
    let (st, e) = s.post("/api/v1/me/two-factor/confirm", &t, json!({"code": "000000"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, rc) = s.post("/api/v1/me/two-factor/confirm", &t, json!({"code": code(0)})).await;
    assert_eq!(st, StatusCode::OK, "{rc}");
    let recovery: Vec<String> =
        rc["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(recovery.len(), 10);

    let token = |otp: Option<String>| {
        let s = &s;
        async move {
            let mut body = json!({"username": "wang", "password": crate::common::PW});
            if let Some(o) = otp {
                body["otp"] = json!(o);
            }
            s.call(reqwest::Method::POST, "/api/v1/auth/token", None, Some(body)).await
        }
    };
    let (st, e) = token(None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the password alone is not enough: {e}");
    assert!(e["detail"].as_str().unwrap().contains("动态口令"), "{e}");
    assert_eq!(token(Some("123456".into())).await.0, StatusCode::UNAUTHORIZED);
    // The code used to switch it on is spent; the next one (within the drift allowed) works, once.
    assert_eq!(token(Some(code(0))).await.0, StatusCode::UNAUTHORIZED, "a code works once");
    assert_eq!(token(Some(code(1))).await.0, StatusCode::OK);
    assert_eq!(token(Some(code(1))).await.0, StatusCode::UNAUTHORIZED, "replayed");
    // A recovery code stands in once.
    assert_eq!(token(Some(recovery[3].to_lowercase())).await.0, StatusCode::OK);
    assert_eq!(token(Some(recovery[3].clone())).await.0, StatusCode::UNAUTHORIZED);
    // Lost phone: the security administrator switches it off; the person enrols again.
    let path = format!("/api/v1/users/{wang}/two-factor");
    assert_eq!(s.call(reqwest::Method::DELETE, &path, Some(&s.admin), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.call(reqwest::Method::DELETE, &path, Some(&s.security), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(token(None).await.0, StatusCode::OK);
    let (_, trail) = s.get("/api/v1/audit?entity=user", &s.auditor).await;
    let actions = trail.to_string();
    assert!(
        actions.contains("two_factor_on") && actions.contains("two_factor_reset") && actions.contains("second_factor"),
        "{actions}"
    );

    // Required of staff: a reviewer can do nothing before enrolling; an editor is not held.
    s.restart_with_config("two_factor = \"staff\"\n").await;
    let documents = format!("/api/v1/sites/{}/documents", nr.site);
    let (st, e) = s.get(&documents, &nr.editorial.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("双因素"), "{e}");
    let (_, me) = s.get("/api/v1/me", &nr.editorial.1).await;
    assert_eq!(me["must_enroll_two_factor"], true);
    assert_eq!(s.get(&documents, &nr.editor.1).await.0, StatusCode::OK);
    let (st, _) = s.post("/api/v1/me/two-factor", &nr.editorial.1, json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "enrolling is open to them");
    s.finish().await;
}

async fn personal_data_is_sealed_at_rest_and_masked_in_lists(b: Backend) {
    use reqwest::Method;
    let mut s = TestServer::start(b).await;
    let letter = |contact: &str| json!({"channel": "mayor", "subject": "夜间施工噪音扰民", "body": "工地每晚施工到凌晨。", "writer_name": "欧阳小明", "writer_contact": contact});
    let (st, r) = s.call(Method::POST, "/api/v1/letters", None, Some(letter("139 1234 5678"))).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let nr = Newsroom::new(&s).await;
    let today = zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today());
    let (st, c) = s
        .post(
            &format!("/api/v1/sites/{}/consultations", nr.site),
            &nr.editor.1,
            json!({"title": "征求意见稿", "draft": "第一条 内容。", "opens_on": today, "closes_on": today}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let comment = json!({"name": "钱先生", "contact": "qian.sir@example.com", "body": "赞成。"});
    let path = format!("/api/v1/consultations/{}/comments", c["id"]);
    assert_eq!(s.call(Method::POST, &path, None, Some(comment)).await.0, StatusCode::CREATED);
    let (st, enrol) = s.post("/api/v1/me/two-factor", &nr.editor.1, json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{enrol}");

    // What the database holds is sealed: a copy of it gives away no name, contact or secret.
    let pool = &s.app().db.pool;
    let (name, contact): (String, String) =
        sqlx::query_as("SELECT writer_name, writer_contact FROM letters WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
    let commenter: String =
        sqlx::query_scalar("SELECT author_contact FROM consultation_comments").fetch_one(pool).await.unwrap();
    let totp: String = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
        .bind(nr.editor.0)
        .fetch_one(pool)
        .await
        .unwrap();
    for v in [&name, &contact, &commenter, &totp] {
        assert!(v.starts_with("pd1:"), "{v}");
    }
    assert!(!name.contains("欧阳") && !contact.contains("5678") && !commenter.contains("qian"));
    if b == Backend::Sqlite {
        let mut raw = Vec::new();
        for f in ["zhanqun.db", "zhanqun.db-wal"] {
            raw.extend(std::fs::read(s.settings.data_dir.join(f)).unwrap_or_default());
        }
        let raw = String::from_utf8_lossy(&raw);
        for plain in ["欧阳小明", "139 1234 5678", "qian.sir@example.com"] {
            assert!(!raw.contains(plain), "the database file holds {plain}");
        }
    }

    // Lists show it masked; the one letter opened shows it whole, and that look is recorded.
    let (_, list) = s.get("/api/v1/letters", &s.admin).await;
    let mine = list.as_array().unwrap().iter().find(|l| l["id"] == id).unwrap();
    assert_eq!((mine["writer_name"].as_str(), mine["writer_contact"].as_str()), (Some("欧**"), Some("139****5678")));
    let (_, whole) = s.get(&format!("/api/v1/letters/{id}"), &s.admin).await;
    assert_eq!(
        (whole["writer_name"].as_str(), whole["writer_contact"].as_str()),
        (Some("欧阳小明"), Some("139 1234 5678"))
    );
    let (_, trail) = s.get("/api/v1/audit?entity=letter&action=view_personal_data", &s.auditor).await;
    let looks: Vec<_> = trail.as_array().unwrap().iter().filter(|e| e["entity_id"] == id).collect();
    assert_eq!((looks.len(), looks[0]["actor"].as_str()), (1, Some("admin")), "{trail}");

    // The per-contact limit still knows the same phone however it is typed.
    for spelling in ["13912345678", "139-1234-5678", " 139 1234 5678", "1391234 5678"] {
        assert_eq!(s.call(Method::POST, "/api/v1/letters", None, Some(letter(spelling))).await.0, StatusCode::CREATED);
    }
    let (st, e) = s.call(Method::POST, "/api/v1/letters", None, Some(letter("139-12345678"))).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{e}");
    assert_eq!(s.call(Method::POST, "/api/v1/letters", None, Some(letter("13912345679"))).await.0, StatusCode::CREATED);

    // Rows written in the clear before sealing existed are sealed at the next start.
    sqlx::query("UPDATE letters SET writer_name = '张三', writer_contact = '13800009999', writer_contact_index = NULL WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    s.restart().await;
    let pool = &s.app().db.pool;
    let stored: String =
        sqlx::query_scalar("SELECT writer_name FROM letters WHERE id = $1").bind(id).fetch_one(pool).await.unwrap();
    assert!(stored.starts_with("pd1:"), "{stored}");
    let (_, whole) = s.get(&format!("/api/v1/letters/{id}"), &s.admin).await;
    assert_eq!((whole["writer_name"].as_str(), whole["writer_contact"].as_str()), (Some("张三"), Some("13800009999")));

    // A node started with another key, or a missing key file, refuses to start.
    s.stop_server().await;
    let other = s.dir.path().join("other.key");
    std::fs::write(&other, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    for (file, says) in [(other.clone(), "not the key"), (s.dir.path().join("missing.key"), "does not exist")] {
        let config = format!("personal_data_key_file = \"{}\"\n", file.display());
        std::fs::write(s.settings.data_dir.join("zhanqun.toml"), config).unwrap();
        let e = s.settings.open_app().await.err().expect("must not start");
        assert!(format!("{e:#}").contains(says), "{e:#}");
    }
    std::fs::write(s.settings.data_dir.join("zhanqun.toml"), "").unwrap();
    s.restart().await;
    let (_, whole) = s.get(&format!("/api/v1/letters/{id}"), &s.admin).await;
    assert_eq!(whole["writer_name"], "张三");
    s.finish().await;
}
