//! The working-day calendar through the API and the command line, on SQLite and PostgreSQL.

use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(
    deadlines_follow_the_state_council_arrangements,
    bad_dates_and_counts_are_explained,
    administrators_keep_the_calendar_but_not_the_past,
);

async fn due(s: &TestServer, from: &str, days: &str) -> (StatusCode, Value) {
    s.call(Method::GET, &format!("/api/v1/calendar/working-days?from={from}&days={days}"), None, None).await
}

async fn deadlines_follow_the_state_council_arrangements(b: Backend) {
    let s = TestServer::start(b).await;
    for (from, days, want) in [
        ("2025-01-24", "7", "2025-02-10"),
        ("2025-09-26", "7", "2025-10-13"),
        ("2026-02-12", "7", "2026-02-28"),
        ("2026-02-12", "15", "2026-03-11"),
        ("2026-09-30", "7", "2026-10-15"),
    ] {
        let (st, body) = due(&s, from, days).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body, json!({"due": want, "estimated": false}), "{from} + {days}");
    }
    let (_, body) = due(&s, "2026-12-28", "7").await;
    assert_eq!(body, json!({"due": "2027-01-06", "estimated": true}), "2027 has no arrangement yet");
    let (_, days) = s.get("/api/v1/calendar/days?year=2026", &s.admin).await;
    let spring: Vec<&Value> = days.as_array().unwrap().iter().filter(|d| d["name"] == "春节").collect();
    assert_eq!(spring.len(), 9, "nine days off for the 2026 Spring Festival");
    assert!(days.as_array().unwrap().iter().any(|d| d["day"] == "2026-02-28" && d["kind"] == "workday"));
    s.finish().await;
}

async fn bad_dates_and_counts_are_explained(b: Backend) {
    let s = TestServer::start(b).await;
    for (from, days, field) in [
        ("2026-13-01", "7", "from"),
        ("明天", "7", "from"),
        ("", "7", "from"),
        ("2026-01-05", "abc", "days"),
        ("2026-01-05", "-1", "days"),
        ("2026-01-05", "5000", "days"),
    ] {
        let (st, body) = due(&s, from, days).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{from} {days}");
        assert_eq!(body["errors"][0]["field"], field);
    }
    s.finish().await;
}

async fn administrators_keep_the_calendar_but_not_the_past(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, editor) = s.person("editor").await;
    // A weekday of a coming year that has no arrangement yet (so the test keeps working).
    let y = zhanqun::kernel::time::today().year().max(2026) + 1;
    let mut day = time::Date::from_calendar_date(y, time::Month::March, 2).unwrap();
    while matches!(day.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
        day = day.next_day().unwrap();
    }
    let fmt = zhanqun_domain::calendar::fmt_date;
    let (next_day, eve) = (fmt(day), fmt(day.previous_day().unwrap()));
    let (_, before) = due(&s, &eve, "1").await;
    assert_eq!(before, json!({"due": next_day, "estimated": true}), "{y} has no arrangement yet");
    let body =
        json!({"kind": "holiday", "name": "假日", "source": format!("国务院办公厅关于{y}年部分节假日安排的通知")});
    let path = format!("/api/v1/calendar/days/{next_day}");
    let (st, _) = s.call(Method::PUT, &path, Some(&editor), Some(body.clone())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, saved) = s.call(Method::PUT, &path, Some(&s.admin), Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{saved}");
    assert_eq!(saved["updated_by"], "admin");
    // The day is no longer counted, and the year is now an arranged one.
    let (_, after) = due(&s, &eve, "1").await;
    let mut want = day.next_day().unwrap();
    while matches!(want.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
        want = want.next_day().unwrap();
    }
    assert_eq!(after, json!({"due": fmt(want), "estimated": false}));
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/calendar/days/2026-02-14",
            Some(&s.admin),
            Some(json!({"kind": "holiday", "name": "改动", "source": "无"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a past day cannot change: {body}");
    assert_eq!(body["errors"][0]["rule"], "not_past");
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/calendar/days/2027-02-30",
            Some(&s.admin),
            Some(json!({"kind": "holiday", "name": "x", "source": "y"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s.call(Method::DELETE, &path, Some(&s.admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, again) = due(&s, &eve, "1").await;
    assert_eq!(again, json!({"due": next_day, "estimated": true}));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'calendar'")
        .fetch_one(&s.app().db.pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "both edits are on record");
    s.finish().await;
}
