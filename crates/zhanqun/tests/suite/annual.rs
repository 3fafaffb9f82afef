//! Each site's annual work report (年度报表, issue #13 part 10): computed from the platform's
//! records, edited by the site's admins, published once the year is over, as a page and XLSX.

use std::io::Cursor;

use crate::common::{Backend, Newsroom, TestServer};
use calamine::Reader;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

behaviour!(the_annual_report_is_computed_edited_published_and_exported);

fn figure<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["figures"].as_array().unwrap().iter().find(|f| f["key"] == key).unwrap_or_else(|| panic!("no {key} in {r}"))
}

async fn the_annual_report_is_computed_edited_published_and_exported(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let (boss, boss_token) = s.person("jyj_admin").await;
    s.grant(nr.site, boss, "site_admin").await;
    let year = zhanqun::kernel::time::today().year();
    for t in ["教育局召开年度工作会议", "关于秋季入学的通知"] {
        let id = nr.draft(&s, t).await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
    }
    for _ in 0..3 {
        s.page("jyj.qingdao.gov.cn", "/").await;
    }
    s.app().flush_visits().await.unwrap();

    let url = format!("/api/v1/sites/{}/annual-reports/{year}", nr.site);
    let (st, r) = s.get(&url, &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(figure(&r, "published")["value"], "2");
    assert_eq!(figure(&r, "visits")["value"], "3");
    assert_eq!(figure(&r, "name")["value"], "jyj网站");
    assert_eq!(figure(&r, "site_code")["value"], "3702000012");
    assert_eq!(r["due_on"], format!("{}-01-31", year + 1));
    assert_eq!(r["published"], false);

    // Edited by the site's admins only; unknown items are refused.
    let (st, _) = s.call(Method::PUT, &url, Some(&nr.editor.1), Some(json!({"values": {"new_media": "是"}}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s.call(Method::PUT, &url, Some(&boss_token), Some(json!({"values": {"nonsense": "1"}}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (st, r) = s
        .call(
            Method::PUT,
            &url,
            Some(&boss_token),
            Some(json!({"values": {"new_media": "是", "innovation": "开通政务微信"}, "notes": "数据截至年底"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(figure(&r, "new_media")["value"], "是");
    assert_eq!(figure(&r, "new_media")["computed"], "否");
    assert_eq!(figure(&r, "new_media")["edited"], true);
    assert_eq!(r["notes"], "数据截至年底");
    // Back to the computed value by emptying it.
    let (_, r) = s
        .call(Method::PUT, &url, Some(&boss_token), Some(json!({"values": {"new_media": ""}, "notes": "数据截至年底"})))
        .await;
    assert_eq!(figure(&r, "new_media")["edited"], false);
    assert_eq!(figure(&r, "innovation")["value"], "开通政务微信", "other changes stay");

    // XLSX with the figures.
    let x = s.client.get(format!("{}{url}/xlsx", s.base)).bearer_auth(&nr.editor.1).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    let bytes = x.bytes().await.unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert!(rows.iter().any(|r| r.len() >= 3 && r[1] == "信息发布总数（条）" && r[2] == "2"), "{rows:?}");
    assert!(rows.iter().any(|r| r.len() >= 3 && r[1] == "创新发展情况" && r[2] == "开通政务微信"), "{rows:?}");

    // Published once the year is over; then kept as published.
    let (st, p) = s.post(&format!("{url}/publish"), &boss_token, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "this year is not over: {p}");
    let last = format!("/api/v1/sites/{}/annual-reports/{}", nr.site, year - 1);
    let (_, before) = s.get(&last, &nr.editor.1).await;
    let (st, p) = s.get(&format!("/api/v1/sites/{}/annual-reports/{}", nr.site, year - 2), &nr.editor.1).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p["overdue"], true, "due January 31 and not published: {p}");
    let (st, pubd) = s.post(&format!("{last}/publish"), &boss_token, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{pubd}");
    assert_eq!(pubd["published"], true);
    assert_eq!(pubd["figures"], before["figures"]);
    let (st, _) = s.post(&format!("{last}/publish"), &boss_token, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = s.call(Method::PUT, &last, Some(&boss_token), Some(json!({"values": {"new_media": "是"}}))).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/site-report/{}/", year - 1)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("年度网站工作报表") && page.contains("信息发布总数"), "{page}");
    let (st, _, _) = s.page("jyj.qingdao.gov.cn", &format!("/site-report/{year}/")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not published, not public");
    let (st, _) = s.get(&format!("/api/v1/sites/{}/annual-reports/1999", nr.site), &nr.editor.1).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, stranger) = s.person("stranger").await;
    let (st, _) = s.get(&url, &stranger).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let admin = crate::admin::Browser::login(&s, "jyj_admin", crate::common::PW).await;
    let (st, html) = admin.get(&format!("/admin/annual?site={}&year={year}", nr.site)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("年度报表") && html.contains("v_new_media") && html.contains("导出 XLSX"), "{html}");
    s.finish().await;
}
