//! The people responsible for content, their training, and outsourcing contracts, as the
//! web office and a site's admins keep them (issue #13, part 8).

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(officers_training_and_contracts_are_kept_and_gaps_flagged);

fn body(list: &Value, id: i64) -> &Value {
    list.as_array().unwrap().iter().find(|b| b["body_id"] == id).unwrap()
}

async fn officers_training_and_contracts_are_kept_and_gaps_flagged(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (boss, boss_token) = s.person("jyj_admin").await;
    s.grant(nr.site, boss, "site_admin").await;
    let (st, edu) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    assert_eq!(st, StatusCode::CREATED, "{edu}");
    let edu = edu["id"].as_i64().unwrap();
    let year = zhanqun::kernel::time::today().year();
    let today = zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today());

    let (_, list) = s.get(&format!("/api/v1/staff?year={year}"), &nr.editor.1).await;
    assert_eq!(body(&list, edu)["missing_roles"], json!(["officer", "supervisor"]));

    let staff = format!("/api/v1/bodies/{edu}/staff");
    let (st, _) = s.post(&staff, &nr.editor.1, json!({"name": "李四", "role": "officer"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the web office keeps the people");
    let (st, p) = s.post(&staff, &s.admin, json!({"name": "李四", "role": "boss"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "role");
    let (st, _) = s.post("/api/v1/bodies/99999/staff", &s.admin, json!({"name": "李四", "role": "officer"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, officer) =
        s.post(&staff, &s.admin, json!({"name": "李四", "role": "officer", "position": "办公室科员"})).await;
    assert_eq!(st, StatusCode::CREATED, "{officer}");
    let officer = officer["id"].as_i64().unwrap();
    let (st, sup) = s.post(&staff, &s.admin, json!({"name": "王五", "role": "supervisor", "position": "副局长"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let sup = sup["id"].as_i64().unwrap();

    // Training: refused input, then one this year for the officer only.
    let training = format!("/api/v1/staff/{officer}/trainings");
    for (bad, field) in [
        (json!({"held_on": "2999-01-01", "title": "政府网站内容建设培训", "hours": 4}), "held_on"),
        (json!({"held_on": today, "title": "训", "hours": 4}), "title"),
        (json!({"held_on": today, "title": "政府网站内容建设培训", "hours": 0}), "hours"),
    ] {
        let (st, p) = s.post(&training, &s.admin, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let (st, p) = s
        .post(
            &training,
            &s.admin,
            json!({"held_on": today, "title": "政府网站内容建设培训", "organiser": "市政府办公厅", "hours": 4}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["trained"], true);
    let (_, list) = s.get(&format!("/api/v1/staff?year={year}"), &s.admin).await;
    let people = &body(&list, edu)["people"];
    let trained: Vec<(&str, bool)> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["trained"].as_bool().unwrap()))
        .collect();
    assert_eq!(trained, vec![("李四", true), ("王五", false)]);
    assert_eq!(body(&list, edu)["missing_roles"], json!([]));
    let (_, last_year) = s.get(&format!("/api/v1/staff?year={}", year - 1), &s.admin).await;
    assert!(body(&last_year, edu)["people"].as_array().unwrap().iter().all(|p| p["trained"] == false));

    // Moved on: off the list, the record kept, no more training recorded for them.
    let (st, _) = s.call(Method::DELETE, &format!("/api/v1/staff/{sup}"), Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .post(
            &format!("/api/v1/staff/{sup}/trainings"),
            &s.admin,
            json!({"held_on": today, "title": "培训课程", "hours": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/api/v1/staff", &s.admin).await;
    assert_eq!(body(&list, edu)["missing_roles"], json!(["supervisor"]));

    // Outsourcing contracts, kept by the site's admins; ending soon and ended are flagged.
    let contracts = format!("/api/v1/sites/{}/contracts", nr.site);
    let day = |d: i64| zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today() + time::Duration::days(d));
    let good = json!({"contractor": "青岛某某信息技术有限公司", "credit_code": "91440300708461136T", "duties": "网站日常运维、安全监测",
                      "starts_on": day(-300), "ends_on": day(30)});
    let (st, _) = s.post(&contracts, &nr.editor.1, good.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let mut bad = good.clone();
    bad["credit_code"] = json!("91440300708461136X");
    let (st, p) = s.post(&contracts, &boss_token, bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "credit_code");
    let mut bad = good.clone();
    bad["ends_on"] = json!(day(-301));
    let (st, p) = s.post(&contracts, &boss_token, bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "ends_on");
    let (st, c) = s.post(&contracts, &boss_token, good).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert_eq!(c["status"], "ending");
    let (st, c) = s
        .post(
            &contracts,
            &boss_token,
            json!({"contractor": "旧承包单位有限公司", "credit_code": "91350100M000100Y43", "duties": "网站改版",
                                              "starts_on": day(-700), "ends_on": day(-1)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(c["status"], "ended");
    let (_, all) = s.get("/api/v1/contracts", &nr.editor.1).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "their site's staff see them: {all}");
    let (_, stranger) = s.person("stranger").await;
    let (_, none) = s.get("/api/v1/contracts", &stranger).await;
    assert!(none.as_array().unwrap().is_empty());

    // The admin screen flags what is missing.
    let admin = crate::admin::Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (st, html) = admin.get("/admin/staffing").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("即将到期") && html.contains("已到期") && html.contains("尚未明确网站信息员或内容审核把关负责人"),
        "{html}"
    );
    let out = admin
        .outcome(
            admin
                .submit("/admin/staffing", &format!("/admin/bodies/{edu}/staff"), &[("name", ""), ("role", "officer")])
                .await,
        )
        .await;
    assert!(out.contains("姓名应为 1 到 30 个字"), "{out}");
    s.finish().await;
}
