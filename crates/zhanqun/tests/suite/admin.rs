//! The admin UI over real HTTP with cookies, as editors and reviewers use it.

use crate::common::{Backend, Newsroom, PW, TestServer};
use reqwest::StatusCode;

behaviour!(
    an_editor_writes_and_both_reviewers_publish_through_the_admin,
    a_rejection_reason_reaches_the_editor,
    bad_input_is_explained_in_chinese_and_nothing_typed_is_lost,
    a_double_submitted_form_creates_one_document,
    two_editors_saving_at_once_keep_both_texts,
    an_expired_session_does_not_lose_the_text,
    forms_without_the_csrf_token_are_refused,
    a_handler_answers_a_letter_and_an_administrator_keeps_the_calendar,
    every_admin_screen_opens,
    editors_run_consultations_surveys_and_interviews_from_the_admin,
    disclosure_metadata_is_kept_in_the_admin,
    reposts_interpretations_topics_and_the_inventory_are_kept_in_the_admin,
);

/// A browser session: a cookie jar, no automatic redirects.
pub(crate) struct Browser {
    pub(crate) c: reqwest::Client,
    pub(crate) base: String,
}

pub(crate) fn hidden<'a>(html: &'a str, name: &str) -> &'a str {
    let key = format!("name=\"{name}\" value=\"");
    let i = html.find(&key).unwrap_or_else(|| panic!("no hidden {name} in page")) + key.len();
    &html[i..i + html[i..].find('"').unwrap()]
}

impl Browser {
    pub(crate) async fn login(s: &TestServer, user: &str, pw: &str) -> Browser {
        let c =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let b = Browser { c, base: s.base.clone() };
        let (_, html) = b.get("/admin/login").await;
        let pre = hidden(&html, "_pre").to_string();
        let (st, loc, _) =
            b.post("/admin/login", &[("_pre", &pre), ("username", user), ("password", pw), ("next", "/admin/")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "login as {user}");
        assert_eq!(loc, "/admin/");
        b
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.c.get(format!("{}{path}", self.base)).header("host", "localhost").send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form from a page of the admin, as a browser does (with `Origin` and
    /// `Sec-Fetch-Site`); returns status, Location and body.
    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let r = self
            .c
            .post(format!("{}{path}", self.base))
            .header("host", "localhost")
            .header("origin", "http://localhost")
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap();
        let loc = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (r.status(), loc, r.text().await.unwrap())
    }

    /// The page a form led to: where a done form redirects, or the screen shown again with
    /// the reasons a refused one was not done.
    pub(crate) async fn outcome(&self, (st, loc, body): (StatusCode, String, String)) -> String {
        if st == StatusCode::SEE_OTHER {
            self.get(&loc).await.1
        } else {
            assert!(st.is_client_error(), "a form answers a redirect or a refusal, not {st}: {body}");
            body
        }
    }

    /// Opens `page`, takes its CSRF (and one-time form) token, and posts `form` to `action`.
    pub(crate) async fn submit(&self, page: &str, action: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let (st, html) = self.get(page).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let csrf = hidden(&html, "_csrf").to_string();
        let mut f: Vec<(&str, &str)> = vec![("_csrf", &csrf)];
        let token;
        if html.contains("name=\"_form\"") {
            token = hidden(&html, "_form").to_string();
            f.push(("_form", &token));
        }
        f.extend_from_slice(form);
        self.post(action, &f).await
    }
}

async fn new_document(b: &Browser, nr: &Newsroom, title: &str, body: &str) -> i64 {
    let column = nr.column.to_string();
    let (st, loc, html) = b
        .submit(
            &format!("/admin/sites/{}/documents/new", nr.site),
            &format!("/admin/sites/{}/documents", nr.site),
            &[("title", title), ("body", body), ("columns", &column), ("body_format", "markdown")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    loc.rsplit('/').next().unwrap().parse().unwrap()
}

async fn act(b: &Browser, doc: i64, action: &str, comment: &str) -> String {
    let page = format!("/admin/documents/{doc}");
    let (_, html) = b.get(&page).await;
    let version = hidden(&html, "version").to_string();
    let answer = b
        .submit(
            &page,
            &format!("/admin/documents/{doc}/transition"),
            &[("action", action), ("comment", comment), ("version", &version)],
        )
        .await;
    b.outcome(answer).await
}

async fn an_editor_writes_and_both_reviewers_publish_through_the_admin(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let id = new_document(&editor, &nr, "关于举办教师节表彰活动的通知", "为弘扬尊师重教的良好风尚……").await;
    let html = act(&editor, id, "submit", "").await;
    assert!(html.contains("稿件现为「待保密审查」"), "{html}");

    let secrecy = Browser::login(&s, "secrecy", PW).await;
    let (_, dash) = secrecy.get("/admin/").await;
    let queue = &dash[dash.find("待我保密审查").unwrap()..dash.find("待我编辑把关").unwrap()];
    assert!(queue.contains("关于举办教师节表彰活动的通知"), "the secrecy reviewer sees it waiting");
    act(&secrecy, id, "approve", "不涉密").await;

    let editorial = Browser::login(&s, "editorial", PW).await;
    let html = act(&editorial, id, "approve", "").await;
    assert!(html.contains("稿件现为「已发布」"), "{html}");
    let (st, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{id}.html")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("关于举办教师节表彰活动的通知"));
    // The trail on the document page names everyone.
    let (_, html) = editor.get(&format!("/admin/documents/{id}")).await;
    for who in ["editor", "secrecy", "editorial"] {
        assert!(html.contains(&format!("<td>{who}</td>")), "{who} in the trail");
    }
    // The preview is the public page.
    let (st, preview) = editor.get(&format!("/admin/documents/{id}/preview")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(preview, page);
    s.finish().await;
}

async fn a_rejection_reason_reaches_the_editor(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let id = new_document(&editor, &nr, "待退回的稿件", "正文").await;
    act(&editor, id, "submit", "").await;
    let secrecy = Browser::login(&s, "secrecy", PW).await;
    let html = act(&secrecy, id, "reject", "").await;
    assert!(html.contains("退回时请填写退回理由"), "a reason is required: {html}");
    act(&secrecy, id, "reject", "附件含有内部资料，请删除").await;
    let (_, dash) = editor.get("/admin/").await;
    let returned = &dash[dash.find("被退回的稿件").unwrap()..dash.find("待我保密审查").unwrap()];
    assert!(returned.contains("待退回的稿件") && returned.contains("附件含有内部资料，请删除"), "{returned}");
    let (_, page) = editor.get(&format!("/admin/documents/{id}")).await;
    assert!(page.contains("退回理由：</strong>附件含有内部资料，请删除"));
    s.finish().await;
}

async fn bad_input_is_explained_in_chinese_and_nothing_typed_is_lost(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let long = "长".repeat(201);
    let (st, _, html) = editor
        .submit(
            &format!("/admin/sites/{}/documents/new", nr.site),
            &format!("/admin/sites/{}/documents", nr.site),
            &[("title", &long), ("body", "这段正文不能丢")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("标题不能超过 200 个字符"), "{html}");
    assert!(html.contains("请至少选择一个栏目"));
    assert!(html.contains("这段正文不能丢"), "the typed body is still in the form");
    let (_, docs) = s.get(&format!("/api/v1/sites/{}/documents", nr.site), &s.admin).await;
    assert_eq!(docs.as_array().unwrap().len(), 0);
    // Pages an editor may not use say so.
    let (st, html) = editor.get("/admin/users").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("需要安全管理员权限"), "{html}");
    s.finish().await;
}

async fn a_double_submitted_form_creates_one_document(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let (_, html) = editor.get(&format!("/admin/sites/{}/documents/new", nr.site)).await;
    let csrf = hidden(&html, "_csrf").to_string();
    let token = hidden(&html, "_form").to_string();
    let column = nr.column.to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("_form", &token),
        ("title", "只应创建一次"),
        ("body", "正文"),
        ("columns", &column),
    ];
    let path = format!("/admin/sites/{}/documents", nr.site);
    let (a, b) = tokio::join!(editor.post(&path, &form), editor.post(&path, &form));
    assert_eq!((a.0, b.0), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(a.1, b.1, "both clicks land on the same document");
    let (_, docs) = s.get(&format!("/api/v1/sites/{}/documents", nr.site), &s.admin).await;
    assert_eq!(docs.as_array().unwrap().len(), 1);
    s.finish().await;
}

async fn two_editors_saving_at_once_keep_both_texts(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let (e2, _) = s.person("editor2").await;
    s.grant(nr.site, e2, "editor").await;
    let a = Browser::login(&s, "editor", PW).await;
    let b = Browser::login(&s, "editor2", PW).await;
    let id = new_document(&a, &nr, "共同编辑的稿件", "初稿").await;
    let page = format!("/admin/documents/{id}");
    let (_, html_a) = a.get(&page).await;
    let (_, html_b) = b.get(&page).await;
    let column = nr.column.to_string();
    let save = |html: &str, body: &'static str| {
        let csrf = hidden(html, "_csrf").to_string();
        let version = hidden(html, "version").to_string();
        (csrf, version, body)
    };
    let (ca, va, ta) = save(&html_a, "甲写的正文");
    let (cb, vb, tb) = save(&html_b, "乙写的正文");
    let (st, _, _) = a
        .post(
            &page,
            &[("_csrf", &ca), ("version", &va), ("title", "共同编辑的稿件"), ("body", ta), ("columns", &column)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _, html) = b
        .post(
            &page,
            &[("_csrf", &cb), ("version", &vb), ("title", "共同编辑的稿件"), ("body", tb), ("columns", &column)],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(html.contains("他人已修改此稿件"));
    assert!(html.contains("乙写的正文"), "the second editor's text is still in the form");
    assert!(html.contains("甲写的正文"), "the first editor's saved text is shown beside it");
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &s.admin).await;
    assert_eq!(d["draft"]["body"], "甲写的正文", "nothing was overwritten");
    s.finish().await;
}

async fn an_expired_session_does_not_lose_the_text(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let id = new_document(&editor, &nr, "写到一半", "开头").await;
    let page = format!("/admin/documents/{id}");
    let (_, html) = editor.get(&page).await;
    let csrf = hidden(&html, "_csrf").to_string();
    let version = hidden(&html, "version").to_string();
    // The session runs out while the editor types.
    sqlx::query("UPDATE sessions SET last_seen_at = 0").execute(&s.app().db.pool).await.unwrap();
    let column = nr.column.to_string();
    let long_text = "这是编辑花了一个小时写的正文，不能丢失。";
    let (st, _, login) = editor
        .post(
            &page,
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("title", "写到一半"),
                ("body", long_text),
                ("columns", &column),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(login.contains("登录已过期"));
    assert!(login.contains(long_text), "the login page carries the text");
    let pre = hidden(&login, "_pre").to_string();
    let mut form: Vec<(String, String)> = vec![
        ("_pre".into(), pre),
        ("username".into(), "editor".into()),
        ("password".into(), PW.into()),
        ("next".into(), page.clone()),
    ];
    for key in ["version", "title", "body", "columns"] {
        form.push((format!("carry:{key}"), hidden(&login, &format!("carry:{key}")).to_string()));
    }
    let form_ref: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (st, _, resume) = editor.post("/admin/login", &form_ref).await;
    assert_eq!(st, StatusCode::OK);
    assert!(resume.contains("继续提交") && resume.contains(long_text));
    let new_csrf = hidden(&resume, "_csrf").to_string();
    let (st, _, _) = editor
        .post(
            &page,
            &[
                ("_csrf", &new_csrf),
                ("version", &version),
                ("title", "写到一半"),
                ("body", long_text),
                ("columns", &column),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &s.admin).await;
    assert_eq!(d["draft"]["body"], long_text);
    s.finish().await;
}

async fn forms_without_the_csrf_token_are_refused(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let id = new_document(&editor, &nr, "跨站请求测试", "正文").await;
    let (st, _, html) = editor.post(&format!("/admin/documents/{id}/transition"), &[("action", "submit")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("表单已失效"));
    let (st, _, _) =
        editor.post(&format!("/admin/documents/{id}/transition"), &[("action", "submit"), ("_csrf", "forged")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &s.admin).await;
    assert_eq!(d["state"], "draft", "nothing happened");
    s.finish().await;
}

async fn a_handler_answers_a_letter_and_an_administrator_keeps_the_calendar(bk: Backend) {
    let s = TestServer::start(bk).await;
    let (hid, _) = s.person("handler").await;
    let (_, body) = s.post("/api/v1/bodies", &s.admin, serde_json::json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    s.post(&format!("/api/v1/bodies/{body_id}/members"), &s.admin, serde_json::json!({"user_id": hid})).await;
    let (_, r) = s
        .call(
            reqwest::Method::POST,
            "/api/v1/letters",
            None,
            Some(serde_json::json!({"channel": "mayor", "subject": "午餐质量", "body": "学校午餐质量有待提高。", "writer_name": "陈女士", "writer_contact": "13911112222"})),
        )
        .await;
    let id = r["id"].as_i64().unwrap();
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (_, list) = admin.get("/admin/letters?filter=received").await;
    assert!(list.contains("午餐质量"));
    let page = format!("/admin/letters/{id}");
    let (_, html) = admin.get(&page).await;
    let version = hidden(&html, "version").to_string();
    let body_s = body_id.to_string();
    let (st, _, _) = admin
        .submit(
            &page,
            &format!("/admin/letters/{id}/action"),
            &[("action", "assign"), ("body_id", &body_s), ("contact_person", "孙老师"), ("version", &version)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let handler = Browser::login(&s, "handler", PW).await;
    let (_, html) = handler.get(&page).await;
    assert!(html.contains("陈女士") && html.contains("13911112222"), "the handler sees who wrote");
    assert!(html.contains("本次查看已记录"));
    let version = hidden(&html, "version").to_string();
    let html = handler
        .outcome(
            handler
                .submit(
                    &page,
                    &format!("/admin/letters/{id}/action"),
                    &[("action", "reply"), ("reply", "已督促学校改进。"), ("version", &version)],
                )
                .await,
        )
        .await;
    assert!(html.contains("来信现为「已答复」"), "{html}");
    let (st, html) = handler.get("/admin/calendar").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("年节假日安排"), "the page opens for anyone signed in");
    // The administrator adds a day of a coming year and cannot touch the past.
    let y = zhanqun::kernel::time::today().year() + 1;
    let day = format!("{y}-10-01");
    let (st, loc, _) = admin
        .submit(
            "/admin/calendar",
            "/admin/calendar",
            &[
                ("date", &day),
                ("kind", "holiday"),
                ("name", "国庆节"),
                ("source", "国务院办公厅通知"),
                ("year", &y.to_string()),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = admin.get(&loc).await;
    assert!(html.contains(&day) && html.contains("国庆节"));
    let (st, _, html) = admin
        .submit(
            "/admin/calendar",
            "/admin/calendar",
            &[("date", "2020-01-01"), ("kind", "workday"), ("name", "x"), ("source", "y"), ("year", "2020")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a refused form is shown again with its status");
    assert!(html.contains("已经过去，不能修改"), "{html}");
    s.finish().await;
}

async fn every_admin_screen_opens(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let id = nr.draft(&s, "屏幕测试稿件").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    for (path, want) in [
        ("/admin/".to_string(), "我的工作台"),
        ("/admin/reviews".into(), "审核队列"),
        ("/admin/sites".into(), "登记新站点"),
        (format!("/admin/sites/{}", nr.site), "人员与角色"),
        (format!("/admin/sites/{}/audit", nr.site), "操作记录只能追加"),
        (format!("/admin/sites/{}/documents", nr.site), "屏幕测试稿件"),
        (format!("/admin/sites/{}/documents?state=published", nr.site), "屏幕测试稿件"),
        (format!("/admin/sites/{}/documents/new", nr.site), "写新稿件"),
        (format!("/admin/documents/{id}"), "屏幕测试稿件"),
        (format!("/admin/columns/{}", nr.column), "合并或关闭"),
        ("/admin/users".into(), "添加机构"),
        ("/admin/letters".into(), "来信办理"),
        ("/admin/letters?filter=overdue".into(), "来信办理"),
        ("/admin/calendar".into(), "年节假日安排"),
        ("/admin/calendar?year=2026".into(), "2026 年节假日安排"),
        ("/admin/participation".into(), "发起意见征集"),
        (format!("/admin/sites/{}/disclosure", nr.site), "信息内容清单"),
        ("/admin/subjects".into(), "添加分类"),
        ("/admin/password".into(), "再次输入新密码"),
        ("/admin/two-factor".into(), "开始设置"),
        ("/admin/monitor".into(), "加入集群外网站"),
    ] {
        let (st, html) = admin.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {html}");
        assert!(html.contains(want), "{path} should show {want}");
    }
    let (st, _) = admin.get("/admin/sites/99999").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = admin.get("/admin/documents/99999").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.finish().await;
}

async fn editors_run_consultations_surveys_and_interviews_from_the_admin(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let site = nr.site.to_string();
    let today = zhanqun::kernel::time::today();
    let (open, close) = (
        zhanqun_domain::calendar::fmt_date(today),
        zhanqun_domain::calendar::fmt_date(today + time::Duration::days(7)),
    );
    let (st, _, _) = editor
        .submit(
            "/admin/participation",
            "/admin/participation/consultations",
            &[
                ("site_id", &site),
                ("title", "课后服务办法（征求意见稿）"),
                ("draft", "第一段。\n\n第二段。"),
                ("opens_on", &open),
                ("closes_on", &close),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _, html) = editor
        .submit(
            "/admin/participation",
            "/admin/participation/surveys",
            &[
                ("site_id", &site),
                ("title", "满意度调查"),
                ("questions", "选择|题目"),
                ("opens_on", &open),
                ("closes_on", &close),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("第 1 行的类型应为"), "a bad question line is explained");
    let (st, _, _) = editor
        .submit(
            "/admin/participation",
            "/admin/participation/surveys",
            &[
                ("site_id", &site),
                ("title", "满意度调查"),
                ("questions", "单选|*您满意吗？|满意;不满意\n量表|请打分|5"),
                ("opens_on", &open),
                ("closes_on", &close),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _, _) = editor
        .submit(
            "/admin/participation",
            "/admin/participation/interviews",
            &[("site_id", &site), ("title", "局长访谈"), ("guests", "局长"), ("starts_at", "2030-01-01T09:30")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, consultations) = s.call(reqwest::Method::GET, "/api/v1/consultations", None, None).await;
    let cid = consultations[0]["id"].as_i64().unwrap();
    s.call(
        reqwest::Method::POST,
        &format!("/api/v1/consultations/{cid}/comments"),
        None,
        Some(serde_json::json!({"paragraph": 2, "name": "周", "contact": "z@q.cn", "body": "建议补充收费标准"})),
    )
    .await;
    let (_, html) = editor.get("/admin/participation").await;
    assert!(html.contains("课后服务办法") && html.contains("满意度调查") && html.contains("局长访谈"));
    assert!(html.contains("第 2 段 · 周：建议补充收费标准"));
    let comment_id =
        html.split("/admin/participation/comments/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (st, _, _) = editor
        .submit(
            "/admin/participation",
            &format!("/admin/participation/comments/{comment_id}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", &format!("/consultations/{cid}/")).await;
    assert!(page.contains("周：建议补充收费标准"));
    let (_, survey) = s.call(reqwest::Method::GET, "/api/v1/surveys/1", None, None).await;
    assert_eq!(survey["questions"][0]["required"], true);
    assert_eq!(survey["questions"][1]["max"], 5);
    let (_, interview) = s.call(reqwest::Method::GET, "/api/v1/interviews/1", None, None).await;
    assert_eq!(interview["starts_at"], "2030-01-01T09:30:00+08:00", "the admin's local time is China Standard Time");
    assert_eq!(interview["starts_local"], "2030-01-01 09:30");
    s.finish().await;
}

async fn disclosure_metadata_is_kept_in_the_admin(bk: Backend) {
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let (st, _, _) = admin.submit("/admin/users", "/admin/bodies", &[("name", "青岛市教育局")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = admin.get("/admin/users").await;
    let body_id = html.split("/admin/bodies/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let html = admin
        .outcome(
            admin
                .submit("/admin/users", &format!("/admin/bodies/{body_id}/code"), &[("code", "91350100M000100Y40")])
                .await,
        )
        .await;
    assert!(html.contains("校验位不符"), "a wrong code is refused with the reason");
    admin.submit("/admin/users", &format!("/admin/bodies/{body_id}/code"), &[("code", "91350100M000100Y43")]).await;
    let editor = Browser::login(&s, "editor", PW).await;
    let id = new_document(&editor, &nr, "关于印发实施办法的通知", "正文").await;
    let page = format!("/admin/documents/{id}");
    let form = [
        ("doc_type", "policy"),
        ("issuing_body_id", body_id.as_str()),
        ("document_number", "青教发（2026）5号"),
        ("subject", "科技、教育"),
        ("date_written", "2026-01-05"),
        ("validity", "valid"),
        ("disclosure_mode", "proactive"),
    ];
    let html = editor.outcome(editor.submit(&page, &format!("{page}/disclosure"), &form).await).await;
    assert!(html.contains("六角括号"), "the bracket rule is explained");
    let mut good = form;
    good[2] = ("document_number", "青教发〔2026〕5号");
    let html = editor.outcome(editor.submit(&page, &format!("{page}/disclosure"), &good).await).await;
    assert!(html.contains("发布时编制索引号"));
    nr.publish(&s, id).await;
    s.post(
        &format!("/api/v1/sites/{}/topics", nr.site),
        &nr.editor.1,
        serde_json::json!({"title": "暴雨应对", "emergency": true, "release_procedure": "市防指统一发布", "first_release_hours": 2, "update_hours": 12}),
    )
    .await;
    let (_, dash) = editor.get("/admin/").await;
    assert!(
        dash.contains("突发事件专题") && dash.contains("暴雨应对：下次发布应在"),
        "the dashboard says when the next release is due"
    );
    let (_, html) = editor.get(&page).await;
    let year = zhanqun::kernel::time::today().year();
    assert!(
        html.contains(&format!("索引号：<strong>91350100M000100Y43/{year}-00001</strong>")),
        "the index number shows once published"
    );
    s.finish().await;
}

async fn reposts_interpretations_topics_and_the_inventory_are_kept_in_the_admin(bk: Backend) {
    use serde_json::json;
    let s = TestServer::start(bk).await;
    let nr = Newsroom::new(&s).await;
    let other = s.department("wsjkw").await;
    s.bring_online(other, "3702000013").await;
    let (st, c) = s
        .post(
            &format!("/api/v1/sites/{other}/columns"),
            &s.admin,
            json!({"name": "上级文件", "slug": "shangji", "kind": "policy", "source": "上级机关", "owner": "办公室", "duty": "instant"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let (_, body) = s.post("/api/v1/bodies", &s.admin, json!({"name": "青岛市教育局"})).await;
    let body_id = body["id"].as_i64().unwrap();
    s.call(
        reqwest::Method::PUT,
        &format!("/api/v1/bodies/{body_id}/code"),
        Some(&s.admin),
        Some(json!({"code": "91440300708461136T"})),
    )
    .await;
    let policy = nr.draft(&s, "关于加强课后服务的意见").await["id"].as_i64().unwrap();
    let reading = nr.draft(&s, "一图读懂课后服务").await["id"].as_i64().unwrap();
    for (doc, t, n) in [(policy, "policy", Some("青教发〔2026〕7号")), (reading, "interpretation", None)] {
        let (st, d) = s
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/documents/{doc}/disclosure"),
                Some(&nr.editor.1),
                Some(json!({"doc_type": t, "issuing_body_id": body_id, "document_number": n, "subject": "科技、教育", "date_written": "2026-02-01"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{d}");
    }
    nr.publish(&s, policy).await;

    let editor = Browser::login(&s, "editor", PW).await;
    let page = format!("/admin/documents/{reading}");
    let html = editor
        .outcome(
            editor
                .submit(&page, &format!("{page}/interprets"), &[("policy_id", &policy.to_string()), ("kind", "text")])
                .await,
        )
        .await;
    assert!(html.contains(&format!("已关联到稿件 #{policy}")), "{html}");
    assert!(html.contains("关于加强课后服务的意见</a>（本文解读它）"));
    let back = format!("/admin/documents/{reading}");
    let (_, loc, _) = editor
        .submit(&page, &format!("/admin/documents/{reading}/interprets/{policy}/delete"), &[("back", &back)])
        .await;
    assert_eq!(loc, back);
    let (_, html) = editor.get(&loc).await;
    assert!(html.contains("已取消关联") && html.contains("还没有关联的解读或政策"), "{html}");

    let page = format!("/admin/documents/{policy}");
    let html = editor
        .outcome(
            editor
                .submit(
                    &page,
                    &format!("{page}/reposts"),
                    &[("site_kind", ""), ("sites", "abc"), ("column", "上级文件")],
                )
                .await,
        )
        .await;
    assert!(html.contains("网站编号应为数字：abc"), "bad input is explained");
    let html = editor
        .outcome(
            editor
                .submit(
                    &page,
                    &format!("{page}/reposts"),
                    &[("site_kind", "department"), ("sites", ""), ("column", "上级文件")],
                )
                .await,
        )
        .await;
    assert!(html.contains("已转载到 1 个网站，其中 1 个网站须由其审核人员接受后才会显示"), "{html}");
    assert!(
        html.contains("<td>wsjkw网站（待对方接受）</td><td>上级文件</td>"),
        "the document page lists where it went"
    );

    // The receiving site sees the offer and accepts it.
    let admin = Browser::login(&s, "admin", crate::common::ADMIN_PW).await;
    let disclosure = format!("/admin/sites/{other}/disclosure");
    let (_, html) = admin.get(&disclosure).await;
    assert!(
        html.contains("<td>关于加强课后服务的意见 <strong>待接受</strong></td><td>jyj网站</td><td>上级文件</td>"),
        "{html}"
    );
    let offer = s.get(&format!("/api/v1/sites/{other}/received"), &s.admin).await.1[0]["id"].as_i64().unwrap();
    let html = admin
        .outcome(admin.submit(&disclosure, &format!("/admin/reposts/{offer}/accept"), &[("back", &disclosure)]).await)
        .await;
    assert!(html.contains("已接受转载「关于加强课后服务的意见」，本站现已显示"), "{html}");
    assert!(html.contains("<td>关于加强课后服务的意见</td><td>jyj网站</td><td>上级文件</td>"), "{html}");

    // The inventory: an immediate item whose event is a month old is late on the dashboard.
    let inv = format!("/admin/sites/{}/disclosure", nr.site);
    let column = s.column(nr.site, "yingji", None).await.to_string();
    let html = admin
        .outcome(
            admin
                .submit(
                    &inv,
                    &format!("/admin/sites/{}/inventory", nr.site),
                    &[
                        ("name", "突发事件处置信息"),
                        ("category", "immediate"),
                        ("limit_days", "0"),
                        ("owner", "应急处"),
                        ("column_id", &column),
                    ],
                )
                .await,
        )
        .await;
    assert!(html.contains("时限应为 1 到 366 天"), "{html}");
    admin
        .submit(
            &inv,
            &format!("/admin/sites/{}/inventory", nr.site),
            &[
                ("name", "突发事件处置信息"),
                ("category", "immediate"),
                ("limit_days", "5"),
                ("owner", "应急处"),
                ("column_id", &column),
            ],
        )
        .await;
    let (_, html) = admin.get(&inv).await;
    let item = html.split("/admin/inventory/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let month_ago = zhanqun_domain::calendar::fmt_date(zhanqun::kernel::time::today() - time::Duration::days(30));
    let back = inv.clone();
    let (_, loc, _) = admin
        .submit(
            &inv,
            &format!("/admin/inventory/{item}/event"),
            &[("occurred_on", &month_ago), ("note", "暴雨"), ("back", &back)],
        )
        .await;
    assert_eq!(loc, inv);
    let (_, dash) = admin.get("/admin/").await;
    assert!(dash.contains("信息内容清单：到期和逾期") && dash.contains("突发事件处置信息"), "{dash}");
    assert!(dash.contains("<span class=\"field-error\">已逾期</span>"));

    // Topics are opened, fed and closed here too.
    let html = admin
        .outcome(
            admin
                .submit(
                    &inv,
                    &format!("/admin/sites/{}/topics", nr.site),
                    &[("title", "暑期安全"), ("summary", "暑期安全提示")],
                )
                .await,
        )
        .await;
    assert!(html.contains("专题「暑期安全」已开设"), "{html}");
    let topic = html.split("/admin/topics/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let html = admin
        .outcome(
            admin
                .submit(
                    &inv,
                    &format!("/admin/topics/{topic}/items"),
                    &[("document_id", &policy.to_string()), ("back", &back)],
                )
                .await,
        )
        .await;
    assert!(html.contains("已加入专题「暑期安全」") && html.contains("关于加强课后服务的意见</a>"), "{html}");
    let html =
        admin.outcome(admin.submit(&inv, &format!("/admin/topics/{topic}/close"), &[("back", &back)]).await).await;
    assert!(html.contains("专题「暑期安全」已关闭"));

    // The subject list.
    let (_, html) = admin.get("/admin/subjects").await;
    let science = html
        .split("<option value=\"")
        .find(|x| x.contains("\">科技、教育<"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let html = admin
        .outcome(
            admin.submit("/admin/subjects", "/admin/subjects", &[("parent_id", &science), ("name", "人工智能")]).await,
        )
        .await;
    assert!(html.contains("已添加分类「科技、教育/人工智能」"), "{html}");
    let (st, html) = editor.get("/admin/subjects").await;
    assert_eq!(st, StatusCode::OK);
    let csrf = hidden(&html, "_csrf").to_string();
    let html = editor.outcome(editor.post("/admin/subjects", &[("_csrf", &csrf), ("name", "越权")]).await).await;
    assert!(!html.contains("已添加分类「越权」"), "only the web office keeps the list");
    s.finish().await;
}
