//! Consultations on drafts and surveys, through the API and the public pages.

use crate::common::{Backend, Newsroom, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use zhanqun_domain::calendar::fmt_date;

behaviour!(
    a_consultation_collects_moderated_comments_and_reports_back,
    a_survey_takes_one_answer_per_person_and_shows_results,
    an_interview_takes_moderated_questions_and_its_transcript_goes_through_review,
);

const HOST: &str = "jyj.qingdao.gov.cn";

fn day(offset: i64) -> String {
    fmt_date(zhanqun::kernel::time::today() + time::Duration::days(offset))
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

fn solve(html: &str) -> (String, String) {
    let q = between(html, "验证问题：", "</label>");
    let n: Vec<u32> = q.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    ((n[0] + n[1]).to_string(), between(html, "name=\"token\" value=\"", "\"").to_string())
}

async fn a_consultation_collects_moderated_comments_and_reports_back(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let draft =
        "第一条 为规范校外培训，制定本办法。\n\n第二条 培训机构应当公示收费标准。\n\n第三条 本办法自发布之日起施行。";
    let (st, body) = s
        .post(&format!("/api/v1/sites/{}/consultations", nr.site), &nr.editor.1, json!({"title": "校外培训管理办法（征求意见稿）", "draft": draft, "opens_on": day(-1), "closes_on": day(10)}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["paragraphs"].as_array().unwrap().len(), 3);
    let (st, body) = s
        .post(
            &format!("/api/v1/sites/{}/consultations", nr.site),
            &nr.editor.1,
            json!({"title": "x", "draft": "y", "opens_on": day(5), "closes_on": day(1)}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "closes_on");

    // A citizen comments on paragraph 2 through the public page.
    let (_, _, page) = s.page(HOST, &format!("/consultations/{id}/")).await;
    let (answer, token) = solve(&page);
    let r = s
        .client
        .post(format!("{}/consultations/{id}/", s.base))
        .header("host", HOST)
        .form(&[
            ("paragraph", "2"),
            ("body", "建议明确退费规则。"),
            ("name", "赵先生"),
            ("contact", "13800001234"),
            ("answer", answer.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.text().await.unwrap().contains("审核后公开"));
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/api/v1/consultations/{id}/comments"),
            None,
            Some(json!({"paragraph": 9, "name": "钱", "contact": "x@y.cn", "body": "意见"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "no paragraph 9");
    let (_, _, page) = s.page(HOST, &format!("/consultations/{id}/")).await;
    assert!(!page.contains("建议明确退费规则"), "held until moderated");
    let (_, pending) = s.get(&format!("/api/v1/consultations/{id}/comments/pending"), &nr.editor.1).await;
    let cid = pending[0]["id"].as_i64().unwrap();
    let (st, _) = s.get(&format!("/api/v1/consultations/{id}/comments/pending"), &nr.secrecy.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "moderation is for the site's editors");
    let (st, _) = s.post(&format!("/api/v1/comments/{cid}/moderation"), &nr.editor.1, json!({"approve": true})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.post(&format!("/api/v1/comments/{cid}/moderation"), &nr.editor.1, json!({"approve": false})).await;
    assert_eq!(st, StatusCode::CONFLICT, "moderated once");
    let (_, _, page) = s.page(HOST, &format!("/consultations/{id}/")).await;
    let p2 = between(&page, "id=\"p2\"", "</section>");
    assert!(p2.contains("赵先生：建议明确退费规则。") && !page.contains("13800001234"));
    let (st, body) = s
        .call(
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&nr.editor.1),
            Some(json!({"report": "采纳"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "feedback comes after closing: {body}");

    // A closed consultation takes no comments and carries its feedback report.
    let (_, closed) = s
        .post(
            &format!("/api/v1/sites/{}/consultations", nr.site),
            &nr.editor.1,
            json!({"title": "已结束的征集", "draft": "全文", "opens_on": day(-20), "closes_on": day(-1)}),
        )
        .await;
    let cid2 = closed["id"].as_i64().unwrap();
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/api/v1/consultations/{cid2}/comments"),
            None,
            Some(json!({"name": "钱", "contact": "x@y.cn", "body": "晚了"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, body) = s
        .call(
            Method::PUT,
            &format!("/api/v1/consultations/{cid2}/feedback"),
            Some(&nr.editor.1),
            Some(json!({"report": "共收到意见 12 条，采纳 8 条；未采纳的 4 条涉及上位法规定。"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, _, page) = s.page(HOST, &format!("/consultations/{cid2}/")).await;
    assert!(page.contains("意见采纳情况反馈") && page.contains("采纳 8 条"));
    assert!(!page.contains("提交意见</button>"));
    s.finish().await;
}

async fn a_survey_takes_one_answer_per_person_and_shows_results(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let questions = json!([
        {"kind": "single", "prompt": "您对课后服务满意吗？", "required": true, "options": ["满意", "一般", "不满意"]},
        {"kind": "multiple", "prompt": "希望增加哪些活动？", "options": ["体育", "艺术", "科技"]},
        {"kind": "scale", "prompt": "请为午餐打分", "max": 5},
        {"kind": "text", "prompt": "其他建议"}
    ]);
    let (st, body) = s
        .post(&format!("/api/v1/sites/{}/surveys", nr.site), &nr.editor.1, json!({"title": "课后服务满意度调查", "questions": [{"kind": "single", "prompt": "只有一个选项", "options": ["是"]}], "opens_on": day(-1), "closes_on": day(5)}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (st, survey) = s
        .post(
            &format!("/api/v1/sites/{}/surveys", nr.site),
            &nr.editor.1,
            json!({"title": "课后服务满意度调查", "questions": questions, "opens_on": day(-1), "closes_on": day(5)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{survey}");
    let id = survey["id"].as_i64().unwrap();
    let path = format!("{}/surveys/{id}/", s.base);
    // Two browsers, each with its own cookie jar.
    let alice = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let bob = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let send = |c: &reqwest::Client, form: Vec<(&'static str, &'static str)>| {
        c.post(&path).header("host", HOST).form(&form).send()
    };
    let r = send(&alice, vec![("q1", "体育")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请回答第 1 题"));
    let r = send(&alice, vec![("q0", "非常满意")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "not an option");
    let r = send(&alice, vec![("q0", "满意"), ("q1", "体育"), ("q1", "科技"), ("q2", "4"), ("q3", "希望增加阅读课")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = send(&alice, vec![("q0", "不满意")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "one answer per person");
    assert!(r.text().await.unwrap().contains("已经参加过"));
    let r = send(&bob, vec![("q0", "一般"), ("q1", "体育"), ("q2", "2")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (_, results) = s.call(Method::GET, &format!("/api/v1/surveys/{id}/results"), None, None).await;
    assert_eq!(results["responses"], 2);
    assert_eq!(results["questions"][0]["options"][0], json!({"label": "满意", "count": 1, "percent": 50.0}));
    assert_eq!(results["questions"][1]["options"][0], json!({"label": "体育", "count": 2, "percent": 100.0}));
    assert_eq!(results["questions"][3]["answered"], 1);
    let (st, _, page) = s.page(HOST, &format!("/surveys/{id}/results")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("共 2 人参加") && page.contains("width:50.0%") && !page.contains("希望增加阅读课"),
        "charts, not free text"
    );
    let r = s
        .client
        .get(format!("{}/api/v1/surveys/{id}/responses.csv", s.base))
        .bearer_auth(&nr.editor.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(csv.contains("您对课后服务满意吗？") && csv.contains("体育；科技") && csv.contains("希望增加阅读课"));
    let (st, _) = s.get(&format!("/api/v1/surveys/{id}/responses.csv"), &nr.secrecy.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The stronger rule: one answer per phone number, whatever the browser.
    let (st, strict) = s
        .post(
            &format!("/api/v1/sites/{}/surveys", nr.site),
            &nr.editor.1,
            json!({"title": "实名调查", "require_contact": true, "questions": [{"kind": "single", "prompt": "是否同意？", "required": true, "options": ["同意", "不同意"]}], "opens_on": day(-1), "closes_on": day(5)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{strict}");
    let spath = format!("{}/surveys/{}/", s.base, strict["id"]);
    let (_, _, form) = s.page(HOST, &format!("/surveys/{}/", strict["id"])).await;
    assert!(form.contains("每个只能参加一次"));
    let answer = |c: reqwest::Client, contact: &'static str| {
        let spath = spath.clone();
        async move {
            c.post(&spath)
                .header("host", HOST)
                .form(&[("q0", "同意"), ("contact", contact)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let fresh = || reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(answer(fresh(), "").await, StatusCode::UNPROCESSABLE_ENTITY, "the contact is required");
    assert_eq!(answer(fresh(), "138 0000 9999").await, StatusCode::CREATED);
    assert_eq!(answer(fresh(), "13800009999").await, StatusCode::CONFLICT, "the same number from another browser");
    s.finish().await;
}

async fn an_interview_takes_moderated_questions_and_its_transcript_goes_through_review(b: Backend) {
    let s = TestServer::start(b).await;
    let nr = Newsroom::new(&s).await;
    let starts = (time::OffsetDateTime::now_utc() + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (st, body) = s
        .post(
            &format!("/api/v1/sites/{}/interviews", nr.site),
            &nr.editor.1,
            json!({"title": "2026年中考政策解读", "guests": "市教育局副局长", "starts_at": "下午三点"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (st, i) = s
        .post(
            &format!("/api/v1/sites/{}/interviews", nr.site),
            &nr.editor.1,
            json!({"title": "2026年中考政策解读", "guests": "市教育局副局长", "starts_at": starts}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{i}");
    assert_eq!(i["state"], "upcoming");
    let id = i["id"].as_i64().unwrap();
    // Questions in advance, through the public page.
    let (_, _, page) = s.page(HOST, &format!("/interviews/{id}/")).await;
    let (answer, token) = solve(&page);
    let r = s
        .client
        .post(format!("{}/interviews/{id}/", s.base))
        .header("host", HOST)
        .form(&[
            ("body", "今年中考体育分值有变化吗？"),
            ("name", "初三家长"),
            ("contact", "13800005678"),
            ("answer", answer.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (st, q2) = s
        .call(
            Method::POST,
            &format!("/api/v1/interviews/{id}/questions"),
            None,
            Some(json!({"name": "路人", "contact": "x@y.cn", "body": "无关广告"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, pending) = s.get(&format!("/api/v1/interviews/{id}/questions/pending"), &nr.editor.1).await;
    assert_eq!(pending.as_array().unwrap().len(), 2);
    let q1 = pending[0]["id"].as_i64().unwrap();
    let (st, _) = s.post(&format!("/api/v1/questions/{}", q2["id"]), &nr.editor.1, json!({"action": "reject"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, body) = s.post(&format!("/api/v1/questions/{q1}"), &nr.editor.1, json!({"action": "answer"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "an answer needs text: {body}");
    let (st, _) = s
        .post(
            &format!("/api/v1/questions/{q1}"),
            &nr.editor.1,
            json!({"action": "answer", "answer": "体育分值保持不变。"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, _, page) = s.page(HOST, &format!("/interviews/{id}/")).await;
    assert!(page.contains("今年中考体育分值有变化吗？") && page.contains("体育分值保持不变。"));
    assert!(
        !page.contains("无关广告") && !page.contains("13800005678"),
        "rejected questions and contacts stay private"
    );
    // Ending it writes the transcript as a draft that must pass both reviews.
    let (st, ended) =
        s.post(&format!("/api/v1/interviews/{id}/end"), &nr.editor.1, json!({"column_id": nr.column})).await;
    assert_eq!(st, StatusCode::OK, "{ended}");
    assert_eq!(ended["state"], "ended");
    let doc = ended["transcript_document_id"].as_i64().unwrap();
    let (_, d) = s.get(&format!("/api/v1/documents/{doc}"), &nr.editor.1).await;
    assert_eq!(d["state"], "draft");
    assert!(d["draft"]["body"].as_str().unwrap().contains("体育分值保持不变。"));
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/api/v1/interviews/{id}/questions"),
            None,
            Some(json!({"name": "迟到", "contact": "x@y.cn", "body": "还能问吗"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = s.post(&format!("/api/v1/interviews/{id}/end"), &nr.editor.1, json!({"column_id": nr.column})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // Unknown ones are plainly not there, on every kind of page.
    for (path, what) in [
        ("/consultations/99999/", "意见征集不存在"),
        ("/surveys/99999/", "调查不存在"),
        ("/surveys/99999/results", "调查不存在"),
        ("/interviews/99999/", "在线访谈不存在"),
        ("/topics/99999/", "专题不存在"),
    ] {
        let (st, _, page) = s.page(HOST, path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains(what), "{path}: {page}");
    }
    s.finish().await;
}
