//! The mailbox through the API, on SQLite and PostgreSQL.

use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(
    a_letter_is_assigned_answered_rated_and_counted,
    the_handling_rules_hold,
    personal_data_is_for_the_handlers_only_and_every_look_is_recorded,
    bad_letters_floods_and_guessed_codes_are_refused,
    sensitive_words_hold_a_letter_for_moderation,
    a_daily_job_reminds_handlers_of_late_and_near_letters,
);

struct Office {
    body: i64,
    other_body: i64,
    handler: String,
    outsider: String,
}

async fn office(s: &TestServer) -> Office {
    let (st, b) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (_, o) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市卫生健康委员会"})).await;
    let (hid, handler) = s.person("handler").await;
    let (_, outsider) = s.person("outsider").await;
    let (st, _) = s.post(&format!("/api/v1/bodies/{}/members", b["id"]), &s.admin, json!({"user_id": hid})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    Office { body: b["id"].as_i64().unwrap(), other_body: o["id"].as_i64().unwrap(), handler, outsider }
}

fn letter(subject: &str, contact: &str) -> Value {
    json!({"channel": "mayor", "subject": subject, "body": "孩子上学路上的人行横道没有信号灯，希望尽快加装。",
           "writer_name": "张先生", "writer_contact": contact, "may_publish": true})
}

async fn submit(s: &TestServer, body: Value) -> (StatusCode, Value) {
    s.call(Method::POST, "/api/v1/letters", None, Some(body)).await
}

async fn act(s: &TestServer, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/v1/letters/{id}/actions"), token, body).await
}

async fn due_after(s: &TestServer, from: &str, days: u32) -> String {
    let (_, d) =
        s.call(Method::GET, &format!("/api/v1/calendar/working-days?from={from}&days={days}"), None, None).await;
    d["due"].as_str().unwrap().to_string()
}

async fn a_letter_is_assigned_answered_rated_and_counted(b: Backend) {
    let s = TestServer::start(b).await;
    let o = office(&s).await;
    let (st, receipt) = submit(&s, letter("关于学校门口加装信号灯的建议", "13800138000")).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let id = receipt["id"].as_i64().unwrap();
    let code = receipt["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 19, "ABCD-EFGH-JKMN-PQRS");
    let (_, tracked) = s
        .call(Method::POST, "/api/v1/letters/track", None, Some(json!({"code": code.to_lowercase().replace('-', " ")})))
        .await;
    assert_eq!(tracked["state"], "received");
    let arrived = tracked["arrived_on"].as_str().unwrap().to_string();
    assert_eq!(tracked["due_on"], due_after(&s, &arrived, 7).await, "7 working days from arrival");
    assert!(tracked.get("writer_contact").is_none() && tracked.get("writer_name").is_none());

    let (st, l) =
        act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body, "contact_person": "李老师"})).await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!((l["state"].as_str().unwrap(), l["contact_person"].as_str().unwrap()), ("assigned", "李老师"));
    let (st, l) =
        act(&s, &o.handler, id, json!({"action": "reply", "reply": "已协调交警部门，下月加装信号灯。"})).await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "replied");
    let (st, rated) = s
        .call(Method::POST, "/api/v1/letters/rate", None, Some(json!({"code": code, "rating": 5, "comment": "满意"})))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rated["rating"], 5);
    let (st, _) = s.call(Method::POST, "/api/v1/letters/rate", None, Some(json!({"code": code, "rating": 1}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "rated once");
    let (st, l) = act(&s, &s.admin, id, json!({"action": "close"})).await;
    assert_eq!((st, l["state"].as_str().unwrap()), (StatusCode::OK, "closed"));

    let year = &arrived[..4];
    let (_, stats) = s.call(Method::GET, &format!("/api/v1/mailbox/stats?year={year}"), None, None).await;
    let edu = stats.as_array().unwrap().iter().find(|r| r["body_id"] == o.body).unwrap();
    assert_eq!(
        (edu["received"].as_i64(), edu["replied"].as_i64(), edu["on_time"].as_i64(), edu["overdue"].as_i64()),
        (Some(1), Some(1), Some(1), Some(0))
    );
    assert_eq!(edu["avg_working_days"].as_f64(), Some(0.0));
    let steps: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'letter' AND entity_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&s.app().db.pool)
            .await
            .unwrap();
    assert_eq!(steps, ["submit", "assign", "reply", "rate", "close"]);
    s.finish().await;
}

async fn the_handling_rules_hold(b: Backend) {
    let s = TestServer::start(b).await;
    let o = office(&s).await;
    let (_, r) = submit(&s, letter("复杂问题", "13800138001")).await;
    let id = r["id"].as_i64().unwrap();
    let (st, _) = act(&s, &o.handler, id, json!({"action": "reply", "reply": "答复"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not yet this body's letter");
    let (st, _) = act(&s, &s.admin, id, json!({"action": "reply", "reply": "答复"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "assign before replying");
    let (st, _) = act(&s, &o.handler, id, json!({"action": "assign", "body_id": o.body, "contact_person": "王"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the city office assigns");
    let (st, body) = act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "contact_person");
    act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body, "contact_person": "王老师"})).await;
    let (st, body) = act(&s, &o.handler, id, json!({"action": "extend"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "an extension needs a reason: {body}");
    let (st, l) = act(&s, &o.handler, id, json!({"action": "extend", "reason": "涉及多个部门，需要联合调查"})).await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!(l["due_on"], due_after(&s, l["arrived_on"].as_str().unwrap(), 15).await, "15 working days from arrival");
    let (st, body) = act(&s, &o.handler, id, json!({"action": "extend", "reason": "再延一次"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains("不能再次延期"));
    // A transfer keeps the arrival date and the deadline.
    let (st, t) =
        act(&s, &s.admin, id, json!({"action": "transfer", "body_id": o.other_body, "contact_person": "赵医生"})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(
        (t["arrived_on"].clone(), t["due_on"].clone(), t["state"].clone()),
        (l["arrived_on"].clone(), l["due_on"].clone(), json!("extended"))
    );
    let (st, _) = act(&s, &o.handler, id, json!({"action": "reply", "reply": "答复"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the first body no longer handles it");
    let (st, _) = act(
        &s,
        &s.admin,
        id,
        json!({"action": "not_handled", "reason": "不属于行政机关职责范围，建议通过司法途径解决"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    act(&s, &s.admin, id, json!({"action": "close"})).await;
    let (st, _) = act(&s, &s.admin, id, json!({"action": "reply", "reply": "迟到的答复"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "no reply after closing");
    let (st, _) = act(&s, &s.admin, id, json!({"action": "escalate"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    s.finish().await;
}

async fn personal_data_is_for_the_handlers_only_and_every_look_is_recorded(b: Backend) {
    let s = TestServer::start(b).await;
    let o = office(&s).await;
    let (_, r) = submit(&s, letter("隐私测试", "li@example.cn")).await;
    let id = r["id"].as_i64().unwrap();
    act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body, "contact_person": "李"})).await;
    let (st, l) = s.get(&format!("/api/v1/letters/{id}"), &o.handler).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (l["writer_name"].as_str().unwrap(), l["writer_contact"].as_str().unwrap()),
        ("张先生", "li@example.cn")
    );
    let (st, _) = s.get(&format!("/api/v1/letters/{id}"), &o.outsider).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, list) = s.get("/api/v1/letters", &o.outsider).await;
    assert_eq!(list, json!([]), "an outsider's list is empty");
    let looks: Vec<(Option<i64>, String)> =
        sqlx::query_as("SELECT actor_id, actor_name FROM audit_log WHERE entity = 'letter' AND entity_id = $1 AND action = 'view_personal_data'")
            .bind(id)
            .fetch_all(&s.app().db.pool)
            .await
            .unwrap();
    assert_eq!(looks.len(), 1);
    assert_eq!(looks[0].1, "handler");
    s.finish().await;
}

async fn bad_letters_floods_and_guessed_codes_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    for (patch, field) in [
        (json!({"subject": ""}), "subject"),
        (json!({"body": "长".repeat(5001)}), "body"),
        (json!({"writer_contact": "不告诉你"}), "writer_contact"),
        (json!({"channel": "gossip"}), "channel"),
        (json!({"channel": "body"}), "to_body_id"),
    ] {
        let mut l = letter("正常标题", "13800138002");
        for (k, v) in patch.as_object().unwrap() {
            l[k] = v.clone();
        }
        let (st, body) = submit(&s, l).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{field}: {body}");
    }
    // Script is kept as the text the writer typed; pages escape it.
    let (st, r) = submit(&s, letter("<script>alert(1)</script>", "13800138003")).await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, t) = s.call(Method::POST, "/api/v1/letters/track", None, Some(json!({"code": r["code"]}))).await;
    assert_eq!(t["subject"], "<script>alert(1)</script>");
    // One contact: five an hour.
    for i in 0..4 {
        let (st, _) = submit(&s, letter(&format!("第{i}封"), "13800138003")).await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let (st, _) = submit(&s, letter("第六封", "13800138003")).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    // One address: ten attempts in ten minutes, refused ones included (eleven so far).
    let (st, body) = submit(&s, letter("洪水", "13900000000")).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters").fetch_one(&s.app().db.pool).await.unwrap();
    assert_eq!(n, 5, "every accepted letter is there, none of the refused");
    for code in ["AAAA-BBBB-CCCC-DDDD", "1234", ""] {
        let (st, _) = s.call(Method::POST, "/api/v1/letters/track", None, Some(json!({"code": code}))).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{code}");
    }
    s.finish().await;
}

async fn sensitive_words_hold_a_letter_for_moderation(b: Backend) {
    let s = TestServer::start(b).await;
    let o = office(&s).await;
    let (st, words) = s
        .call(
            Method::PUT,
            "/api/v1/mailbox/sensitive-words",
            Some(&s.admin),
            Some(json!({"words": ["内部文件", " ", "内部文件"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(words, json!(["内部文件"]));
    let (st, r) = submit(&s, letter("我手上有一份内部文件", "13800138009")).await;
    assert_eq!(st, StatusCode::CREATED, "held, not dropped");
    assert_eq!(r["held"], true);
    let id = r["id"].as_i64().unwrap();
    act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body, "contact_person": "李"})).await;
    act(&s, &o.handler, id, json!({"action": "reply", "reply": "已收到"})).await;
    assert!(s.app().published_letters(10).await.unwrap().is_empty(), "a held letter is not published");
    let (st, _) = s.post(&format!("/api/v1/letters/{id}/release"), &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.app().published_letters(10).await.unwrap().len(), 1);
    s.finish().await;
}

async fn a_daily_job_reminds_handlers_of_late_and_near_letters(b: Backend) {
    let s = TestServer::start(b).await;
    let o = office(&s).await;
    let mut ids = Vec::new();
    for (i, subject) in ["已经逾期的来信", "快到期的来信", "还早的来信"].iter().enumerate() {
        let (_, r) = submit(&s, letter(subject, &format!("1380013900{i}"))).await;
        let id = r["id"].as_i64().unwrap();
        act(&s, &s.admin, id, json!({"action": "assign", "body_id": o.body, "contact_person": "李"})).await;
        ids.push(id);
    }
    let pool = &s.app().db.pool;
    sqlx::query("UPDATE letters SET due_on = '2020-01-01' WHERE id = $1").bind(ids[0]).execute(pool).await.unwrap();
    let today = zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today());
    sqlx::query("UPDATE letters SET due_on = $1 WHERE id = $2").bind(&today).bind(ids[1]).execute(pool).await.unwrap();
    // The chain started at boot; make its next run due now, as tomorrow morning would.
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE kind = 'letter_reminders' AND done_at IS NULL")
        .execute(pool)
        .await
        .unwrap();
    s.app().jobs.wake();
    let mut got = serde_json::Value::Null;
    for _ in 0..50 {
        let (_, r) = s.get("/api/v1/letters/reminders", &o.handler).await;
        if r.as_array().is_some_and(|a| a.len() == 2) {
            got = r;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kinds: Vec<(String, String)> = got
        .as_array()
        .expect("two reminders")
        .iter()
        .map(|r| (r["subject"].as_str().unwrap().into(), r["kind"].as_str().unwrap().into()))
        .collect();
    assert!(
        kinds.contains(&("已经逾期的来信".into(), "overdue".into()))
            && kinds.contains(&("快到期的来信".into(), "near".into())),
        "{kinds:?}"
    );
    let (_, none) = s.get("/api/v1/letters/reminders", &o.outsider).await;
    assert_eq!(none, json!([]), "reminders go to the handlers");
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'letter_reminders' AND done_at IS NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(pending, 1, "the chain goes on: exactly one next run is scheduled");
    s.finish().await;
}
