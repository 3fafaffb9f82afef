//! The mailbox as a citizen uses it on a public site: write, keep the code, follow, rate.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::StatusCode;
use serde_json::json;

behaviour!(
    a_citizen_writes_follows_and_rates_on_a_public_site,
    a_wrong_answer_or_a_flood_keeps_the_text,
    a_letter_carries_a_file_seen_only_by_its_handlers,
);

const HOST: &str = "jyj.qingdao.gov.cn";

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

/// Reads the arithmetic question and its token from the form.
fn solve(html: &str) -> (String, String) {
    let q = between(html, "验证问题：", "</label>");
    let n: Vec<u32> = q.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    ((n[0] + n[1]).to_string(), between(html, "name=\"token\" value=\"", "\"").to_string())
}

async fn post_form(s: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = s.client.post(format!("{}{path}", s.base)).header("host", HOST).form(form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn a_citizen_writes_follows_and_rates_on_a_public_site(b: Backend) {
    let s = TestServer::start(b).await;
    let _nr = Newsroom::new(&s).await;
    let (_, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    let (st, _, page) = s.page(HOST, "/mailbox/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("政府信箱") && page.contains("青岛市教育局"));
    let (answer, token) = solve(&page);
    let (st, receipt) = post_form(
        &s,
        "/mailbox/",
        &[
            ("channel", "body"),
            ("to_body_id", &body_id.to_string()),
            ("subject", "<b>关于校车</b>的咨询"),
            ("body", "校车什么时候开通？"),
            ("writer_name", "王女士"),
            ("writer_contact", "13900001111"),
            ("may_publish", "1"),
            ("answer", &answer),
            ("token", &token),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let code = between(&receipt, "letter-spacing:.1em\">", "</strong>").to_string();
    assert_eq!(code.len(), 19);
    let id: i64 = between(&receipt, "来信编号：", "</p>").parse().unwrap();
    let (st, tracked) = post_form(&s, "/mailbox/track", &[("code", &code)]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(tracked.contains("已受理") && tracked.contains("&lt;b&gt;关于校车&lt;/b&gt;的咨询"), "escaped, not markup");
    assert!(!tracked.contains("13900001111") && !tracked.contains("王女士"), "no personal data on public pages");
    s.post(
        &format!("/api/v1/letters/{id}/actions"),
        &s.admin,
        json!({"action": "assign", "body_id": body_id, "contact_person": "孙老师"}),
    )
    .await;
    s.post(
        &format!("/api/v1/letters/{id}/actions"),
        &s.admin,
        json!({"action": "reply", "reply": "校车将于下学期开通。"}),
    )
    .await;
    let (_, tracked) = post_form(&s, "/mailbox/track", &[("code", &code)]).await;
    assert!(tracked.contains("校车将于下学期开通") && tracked.contains("对答复的评价"));
    let (st, rated) = post_form(&s, "/mailbox/rate", &[("code", &code), ("rating", "4")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(rated.contains("您的评价：4 星"));
    let (_, _, index) = s.page(HOST, "/mailbox/").await;
    assert!(index.contains(&format!("/mailbox/letters/{id}.html")));
    let (st, _, public) = s.page(HOST, &format!("/mailbox/letters/{id}.html")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(public.contains("校车将于下学期开通") && !public.contains("13900001111"));
    let (st, _, stats) = s.page(HOST, "/mailbox/stats").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        stats.contains("<th scope=\"row\">青岛市教育局</th><td>1</td><td>1</td><td>1</td><td>0</td><td>0.0</td>"),
        "{stats}"
    );
    let (st, _) = post_form(&s, "/mailbox/track", &[("code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ")]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.finish().await;
}

async fn a_wrong_answer_or_a_flood_keeps_the_text(b: Backend) {
    let s = TestServer::start(b).await;
    let _nr = Newsroom::new(&s).await;
    let (_, _, page) = s.page(HOST, "/mailbox/").await;
    let (answer, token) = solve(&page);
    let wrong = (answer.parse::<u32>().unwrap() + 1).to_string();
    let letter = [
        ("channel", "mayor"),
        ("subject", "路灯不亮"),
        ("body", "某某路的路灯坏了一个月，请尽快修理。"),
        ("writer_name", "刘"),
        ("writer_contact", "13900002222"),
    ];
    let mut f = letter.to_vec();
    f.extend([("answer", wrong.as_str()), ("token", token.as_str())]);
    let (st, html) = post_form(&s, "/mailbox/", &f).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("验证问题回答不正确") && html.contains("某某路的路灯坏了一个月"), "the text is kept");
    let mut f = letter.to_vec();
    f.extend([("answer", answer.as_str()), ("token", "1.2.3")]);
    assert_eq!(post_form(&s, "/mailbox/", &f).await.0, StatusCode::UNPROCESSABLE_ENTITY, "a forged token");
    let mut f = letter.to_vec();
    f[2] = ("body", "");
    f.extend([("answer", answer.as_str()), ("token", token.as_str())]);
    let (st, html) = post_form(&s, "/mailbox/", &f).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写内容"));
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        // Each letter answers a question of its own: a solved one works once.
        let (_, _, page) = s.page(HOST, "/mailbox/").await;
        let (answer, token) = solve(&page);
        let mut f = letter.to_vec();
        f.extend([("answer", answer.as_str()), ("token", token.as_str())]);
        last = post_form(&s, "/mailbox/", &f).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters").fetch_one(&s.app().db.pool).await.unwrap();
    assert_eq!(n, 5, "five accepted before the contact limit; nothing refused was stored");
    s.finish().await;
}

async fn a_letter_carries_a_file_seen_only_by_its_handlers(b: Backend) {
    let s = TestServer::start(b).await;
    let _nr = Newsroom::new(&s).await;
    let (_, _, page) = s.page(HOST, "/mailbox/").await;
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let (answer, token) = solve(&page);
    let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 64][..]].concat();
    let send = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("channel", "mayor")
            .text("subject", "路面坑洼（附照片）")
            .text("body", "某路有一个大坑，照片见附件。")
            .text("writer_name", "吴")
            .text("writer_contact", "13900003333")
            .text("answer", answer.clone())
            .text("token", token.clone())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        s.client.post(format!("{}/mailbox/", s.base)).header("host", HOST).multipart(form).send()
    };
    let r = send("照片.pdf", png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("与扩展名不符") && html.contains("某路有一个大坑"), "refused, text kept");
    let r = send("照片.png", png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let receipt = r.text().await.unwrap();
    let id: i64 = between(&receipt, "来信编号：", "</p>").parse().unwrap();
    let (_, l) = s.get(&format!("/api/v1/letters/{id}"), &s.admin).await;
    let aid = l["attachments"][0]["id"].as_i64().unwrap();
    assert_eq!(l["attachments"][0]["file_name"], "照片.png");
    let got =
        s.client.get(format!("{}/api/v1/letter-attachments/{aid}", s.base)).bearer_auth(&s.admin).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    let (_, stranger) = s.person("stranger").await;
    let (st, _) = s.get(&format!("/api/v1/letter-attachments/{aid}"), &stranger).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.finish().await;
}
