//! 我为政府网站找错 as citizens, the national platform, editors and the web office meet it,
//! and the duty roster with its reading records (issue #13, part 7).

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

behaviour!(
    a_citizen_reports_an_error_and_reads_the_answer_given_within_three_working_days,
    reports_forwarded_from_the_national_platform_are_kept_once_and_counted,
    the_duty_roster_and_its_reading_records
);

const HOST: &str = "jyj.qingdao.gov.cn";

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}")) + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

fn solve(html: &str) -> (String, String) {
    let q = between(html, "验证问题：", "</label>");
    let n: Vec<u32> = q.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    ((n[0] + n[1]).to_string(), between(html, "name=\"token\" value=\"", "\"").to_string())
}

async fn post_form(s: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = s.client.post(format!("{}{path}", s.base)).header("host", HOST).form(form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn a_citizen_reports_an_error_and_reads_the_answer_given_within_three_working_days(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    // Every page's footer leads to the site's own form.
    let (_, _, home) = s.page(HOST, "/").await;
    assert!(home.contains("<a href=\"/jiucuo/\">我为政府网站找错</a>"), "{home}");
    let (st, _, page) = s.page(HOST, "/jiucuo/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("3 个工作日内答复") && page.contains("zfwzzc.www.gov.cn"));

    // Refused input keeps what was typed and says why, in Chinese.
    let (answer, token) = solve(&page);
    let (st, again) = post_form(
        &s,
        "/jiucuo/",
        &[
            ("kind", "content"),
            ("page_url", "javascript:alert(1)"),
            ("description", "错"),
            ("answer", &answer),
            ("token", &token),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    assert!(
        again.contains("页面地址应是以 http:// 或 https:// 开头的网址")
            && again.contains("问题描述应为 5 到 2000 个字")
    );
    assert!(again.contains("javascript:alert(1)"), "the typed address is shown again");
    // A wrong answer to the question: refused, nothing stored.
    let (_, token) = solve(&again);
    let (st, wrong) = post_form(
        &s,
        "/jiucuo/",
        &[("kind", "link"), ("description", "首页链接打不开了"), ("answer", "999"), ("token", &token)],
    )
    .await;
    assert!(st.is_client_error(), "{st}");
    assert!(wrong.contains("首页链接打不开了"), "the text is kept: {wrong}");
    let (_, none) = s.get("/api/v1/error-reports", &nr.editor.1).await;
    assert!(none.as_array().unwrap().is_empty(), "{none}");

    let (answer, token) = solve(&wrong);
    let desc = "通知公告栏目《关于<b>暑期</b>安排的通知》中日期写错了";
    let (st, receipt) = post_form(
        &s,
        "/jiucuo/",
        &[
            ("kind", "content"),
            ("page_url", "http://jyj.qingdao.gov.cn/articles/1.html"),
            ("description", desc),
            ("answer", &answer),
            ("token", &token),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let code = between(&receipt, "<strong class=\"code\">", "</strong>").to_string();
    assert_eq!(code.len(), 12);
    let cal = s.app().calendar.load();
    let due = zhanqun_domain::calendar::fmt_date(cal.add_working_days(zhanqun::kernel::time::today(), 3).unwrap().due);
    assert!(receipt.contains(&format!("将在 {due} 之前答复")), "{receipt}");

    // It reaches the site's editors, with its due day.
    let (_, list) = s.get("/api/v1/error-reports", &nr.editor.1).await;
    let r = &list[0];
    assert_eq!(r["site_id"], nr.site);
    assert_eq!(r["source"], "site");
    assert_eq!(r["due_on"], due);
    assert_eq!(r["description"], desc, "kept as typed; pages escape it");
    let id = r["id"].as_i64().unwrap();
    // Someone without a role on the site sees nothing of it.
    let (_, stranger) = s.person("stranger").await;
    let (_, theirs) = s.get("/api/v1/error-reports", &stranger).await;
    assert!(theirs.as_array().unwrap().is_empty());
    let (st, _) = s.post(&format!("/api/v1/error-reports/{id}/reply"), &stranger, json!({"reply": "好的"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s.post(&format!("/api/v1/error-reports/{id}/reply"), &nr.editor.1, json!({"reply": " "})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");

    // Before the answer the citizen sees it is being handled; the editor answers in the admin.
    let (st, tracked) = post_form(&s, "/jiucuo/track", &[("code", &code.to_lowercase())]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(tracked.contains("办理中") && !tracked.contains("暑期"), "{tracked}");
    let editor = crate::admin::Browser::login(&s, "editor", crate::common::PW).await;
    let (st, html) = editor.get("/admin/corrections").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("关于&lt;b&gt;暑期&lt;/b&gt;安排的通知"), "{html}");
    let out = editor
        .outcome(
            editor
                .submit(
                    "/admin/corrections",
                    &format!("/admin/corrections/{id}/reply"),
                    &[("reply", "已改正为 7 月 10 日，谢谢指正。")],
                )
                .await,
        )
        .await;
    assert!(out.contains("已答复"), "{out}");
    let (_, r) = s.get(&format!("/api/v1/error-reports/{id}"), &nr.editor.1).await;
    assert_eq!(r["state"], "answered");
    assert_eq!(r["on_time"], true);
    let (st, _) =
        s.post(&format!("/api/v1/error-reports/{id}/reply"), &nr.editor.1, json!({"reply": "再答一次"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, tracked) = post_form(&s, "/jiucuo/track", &[("code", &code)]).await;
    assert!(tracked.contains("已改正为 7 月 10 日"), "{tracked}");
    let (st, wrong) = post_form(&s, "/jiucuo/track", &[("code", "AAAAAAAAAAAA")]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(wrong.contains("没有找到这个查询码"));
    s.finish().await;
}

async fn reports_forwarded_from_the_national_platform_are_kept_once_and_counted(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let body = json!({"site_code": "3702000012", "external_id": "ZC2026120300017", "kind": "link",
                      "page_url": "https://jyj.qingdao.gov.cn/zwgk/", "description": "政务公开栏目链接打不开"});
    let (st, _) = s.post("/api/v1/error-reports", &nr.editor.1, body.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only the web office's integration forwards");
    for (bad, field) in [
        (
            json!({"site_code": "9999999999", "external_id": "X1", "kind": "link", "description": "链接打不开了"}),
            "site_id",
        ),
        (json!({"site_id": nr.site, "external_id": "", "kind": "link", "description": "链接打不开了"}), "external_id"),
        (json!({"site_id": nr.site, "external_id": "X1", "kind": "typo", "description": "链接打不开了"}), "kind"),
    ] {
        let (st, p) = s.post("/api/v1/error-reports", &s.admin, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{p}");
    }
    let (st, first) = s.post("/api/v1/error-reports", &s.admin, body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["source"], "national");
    assert_eq!(first["site_id"], nr.site);
    let (st, again) = s.post("/api/v1/error-reports", &s.admin, body).await;
    assert_eq!(st, StatusCode::OK, "forwarded twice, kept once: {again}");
    assert_eq!(again["id"], first["id"]);

    // One answered late: counted, and shown as late.
    let id = first["id"].as_i64().unwrap();
    sqlx::query("UPDATE error_reports SET due_on = '2026-01-05', received_on = $1 WHERE id = $2")
        .bind(zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today()))
        .bind(id)
        .execute(&s.app().db.pool)
        .await
        .unwrap();
    let (_, open) = s.get("/api/v1/error-reports?state=received", &nr.editor.1).await;
    assert_eq!(open[0]["overdue"], true);
    let (_, counts) = s.get("/api/v1/error-reports/counts", &nr.editor.1).await;
    let c: &Value = &counts[0];
    assert_eq!(
        (c["received"].as_i64(), c["open"].as_i64(), c["overdue"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{counts}"
    );
    let (st, r) =
        s.post(&format!("/api/v1/error-reports/{id}/reply"), &nr.editor.1, json!({"reply": "链接已修复"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["on_time"], false);
    let (_, counts) = s.get("/api/v1/error-reports/counts", &nr.editor.1).await;
    assert_eq!((counts[0]["answered"].as_i64(), counts[0]["on_time"].as_i64()), (Some(1), Some(0)), "{counts}");
    let (st, p) = s.get("/api/v1/error-reports?state=lost", &nr.editor.1).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    s.finish().await;
}

async fn the_duty_roster_and_its_reading_records(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (boss, boss_token) = s.person("jyj_admin").await;
    s.grant(nr.site, boss, "site_admin").await;
    let today = zhanqun::kernel::time::today();
    let day = |d: i64| zhanqun_domain::calendar::fmt_date(today + time::Duration::days(d));
    let month = &day(0)[..7];

    let (st, _) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{}/duty", nr.site),
            Some(&nr.editor.1),
            Some(json!({"day": day(0), "reader": "张三"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the site's admins keep the roster");
    let (st, p) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{}/duty", nr.site),
            Some(&boss_token),
            Some(json!({"day": day(-1), "reader": "张三"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "no rostering the past: {p}");
    let (st, p) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{}/duty", nr.site),
            Some(&boss_token),
            Some(json!({"day": "12/03", "reader": "张三"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (st, _) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{}/duty", nr.site),
            Some(&boss_token),
            Some(json!({"day": day(0), "reader": "张三"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let readings = format!("/api/v1/sites/{}/duty/readings", nr.site);
    let reading = |body: Value| s.post(&readings, &nr.editor.1, body);
    let (st, p) = reading(json!({"day": day(0), "pages_read": "首页", "problems": "首页图片不显示"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a problem needs what was done: {p}");
    assert_eq!(p["errors"][0]["field"], "actions");
    let (st, p) = reading(json!({"day": day(1), "pages_read": "首页"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not ahead of the day: {p}");
    let (st, r) = reading(json!({"day": day(0), "pages_read": "首页、通知公告", "problems": "首页图片不显示", "actions": "已通知技术人员修复"})).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");

    let (st, m) = s.get(&format!("/api/v1/sites/{}/duty?month={month}", nr.site), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK);
    let d = m.as_array().unwrap().iter().find(|d| d["day"] == day(0)).unwrap();
    assert_eq!(d["reader"], "张三");
    assert_eq!(d["readings"][0]["problems"], "首页图片不显示");
    assert_eq!(d["missed"], false);
    let (_, stranger) = s.person("stranger").await;
    let (st, _) = s.get(&format!("/api/v1/sites/{}/duty?month={month}", nr.site), &stranger).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.get(&format!("/api/v1/sites/{}/duty?month=2026-13", nr.site), &nr.editor.1).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // A rostered day gone by without a record shows as missed.
    sqlx::query("UPDATE duty_roster SET day = $1 WHERE site_id = $2")
        .bind(day(-2))
        .bind(nr.site)
        .execute(&s.app().db.pool)
        .await
        .unwrap();
    let (_, m) = s.get(&format!("/api/v1/sites/{}/duty?month={}", nr.site, &day(-2)[..7]), &nr.editor.1).await;
    let d = m.as_array().unwrap().iter().find(|d| d["day"] == day(-2)).unwrap();
    assert_eq!(d["missed"], true, "{d}");
    // In the admin: the roster and the record.
    let editor = crate::admin::Browser::login(&s, "editor", crate::common::PW).await;
    let (_, html) = editor.get(&format!("/admin/corrections?site={}", nr.site)).await;
    assert!(html.contains("首页、通知公告") && html.contains("记录读网情况"), "{html}");
    let out = editor
        .outcome(
            editor
                .submit(
                    "/admin/corrections",
                    &format!("/admin/sites/{}/duty/readings", nr.site),
                    &[("day", &day(0)), ("pages_read", "")],
                )
                .await,
        )
        .await;
    assert!(out.contains("请写明读了哪些页面或栏目"), "{out}");
    s.finish().await;
}
