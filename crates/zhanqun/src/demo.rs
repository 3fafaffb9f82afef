//! The demo cluster (`zhanqun serve --demo`): a realistic city in Chinese, seeded once
//! through the same actions people use, so its audit trail is real too.

use crate::app::columns::NewColumn;
use crate::app::documents::{NewDocument, TransitionInput};
use crate::app::sites::NewSite;
use crate::app::users::NewUser;
use crate::app::{Actor, App};
use crate::store::now_ms;
use anyhow::Context;

/// Demo people: (user name, display name, password, what they do). Printed at start in demo mode only.
pub const DEMO_USERS: &[(&str, &str, &str, &str)] = &[
    ("admin", "市政府办公厅网站办", "demo-admin-2026", "系统管理员"),
    ("editor", "王编辑", "demo-editor-2026", "各站点编辑"),
    ("secrecy", "李保密", "demo-secrecy-2026", "各站点保密审查员"),
    ("editorial", "赵把关", "demo-editorial-2026", "各站点编辑审核员"),
    ("jyj-admin", "教育局网站管理员", "demo-siteadmin-2026", "教育局网站站点管理员"),
    ("handler", "孙经办", "demo-handler-2026", "教育局来信经办人"),
];

struct SiteSpec {
    kind: &'static str,
    name: &'static str,
    sponsor: &'static str,
    domain: &'static str,
    code: &'static str,
    contact: &'static str,
    topics: &'static [&'static str],
}

const SITES: &[SiteSpec] = &[
    SiteSpec {
        kind: "city_portal",
        name: "青岛政务网",
        sponsor: "青岛市人民政府办公厅",
        domain: "www.qingdao.gov.cn",
        code: "3702000001",
        contact: "0532-12345",
        topics: &["全市", "政务服务", "营商环境", "城市更新", "民生实事"],
    },
    SiteSpec {
        kind: "district_portal",
        name: "市南区政务网",
        sponsor: "青岛市市南区人民政府办公室",
        domain: "www.shinan.gov.cn",
        code: "3702020001",
        contact: "0532-82871234",
        topics: &["市南区", "街道", "社区治理", "老城区", "海滨"],
    },
    SiteSpec {
        kind: "department",
        name: "青岛市教育局",
        sponsor: "青岛市教育局",
        domain: "jyj.qingdao.gov.cn",
        code: "3702000012",
        contact: "0532-85912345",
        topics: &["义务教育", "招生", "中小学", "学前教育", "职业教育"],
    },
    SiteSpec {
        kind: "department",
        name: "青岛市卫生健康委员会",
        sponsor: "青岛市卫生健康委员会",
        domain: "wsjkw.qingdao.gov.cn",
        code: "3702000023",
        contact: "0532-85912120",
        topics: &["家庭医生", "疫苗接种", "医疗机构", "健康科普", "医保"],
    },
    SiteSpec {
        kind: "department",
        name: "青岛市自然资源和规划局",
        sponsor: "青岛市自然资源和规划局",
        domain: "zrzyj.qingdao.gov.cn",
        code: "3702000034",
        contact: "0532-85731234",
        topics: &["国土空间规划", "不动产登记", "耕地保护", "海域使用", "测绘"],
    },
];

const COLUMNS: &[(&str, &str, &str, &str, Option<i64>)] = &[
    ("要闻动态", "yw", "news", "daily", None),
    ("通知公告", "tzgg", "notices", "periodic", Some(7)),
    ("政策文件", "zcwj", "policy", "instant", None),
    ("工作动态", "gzdt", "general", "periodic", Some(15)),
];

fn title_for(kind: &str, topic: &str, i: usize) -> String {
    let news =
        ["召开专题会议部署{t}重点工作", "{t}工作取得阶段性成效", "我市{t}改革经验获推广", "{t}领域开展专项督导检查"];
    let notices =
        ["关于做好{t}相关工作的通知", "关于{t}事项的公告", "关于开展{t}情况调查的通知", "关于{t}有关安排的公示"];
    let policy = ["关于进一步加强{t}工作的实施意见", "{t}管理办法", "关于促进{t}高质量发展的若干措施", "{t}工作方案"];
    let general = ["{t}工作情况通报", "{t}服务窗口延长办理时间", "{t}业务培训班举办", "{t}志愿服务活动开展"];
    let set = match kind {
        "news" => news,
        "notices" => notices,
        "policy" => policy,
        _ => general,
    };
    set[i % set.len()].replace("{t}", topic)
}

fn body_for(title: &str, sponsor: &str) -> String {
    format!(
        "为贯彻落实市委、市政府决策部署，{sponsor}围绕「{title}」开展相关工作。\n\n\
         ## 一、主要内容\n\n一是明确责任分工，细化工作任务；二是加强统筹协调，形成工作合力；三是强化督促检查，确保取得实效。\n\n\
         ## 二、工作要求\n\n各有关单位要高度重视，结合实际认真抓好落实，工作中遇到的问题请及时反馈。\n\n\
         联系电话：0532-12345（工作日 9:00—17:00）"
    )
}

impl App {
    /// Seeds the demo cluster unless the database already has sites. Returns whether it seeded.
    pub async fn seed_demo(&self) -> anyhow::Result<bool> {
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites").fetch_one(&self.db.pool).await?;
        if existing > 0 {
            return Ok(false);
        }
        let sys = Actor::system("演示数据");
        let e = |e: crate::error::AppError| anyhow::anyhow!("{e}");
        let mut users = Vec::new();
        for (name, display, pw, _) in DEMO_USERS {
            let u = self
                .create_user(
                    &sys,
                    NewUser {
                        username: (*name).into(),
                        display_name: (*display).into(),
                        password: (*pw).into(),
                        is_admin: *name == "admin",
                    },
                )
                .await
                .map_err(e)?;
            users.push(u.id);
        }
        let mut sites = Vec::new();
        let mut portal = None;
        for spec in SITES {
            let s = self
                .create_site(
                    &sys,
                    NewSite {
                        kind: spec.kind.into(),
                        name: spec.name.into(),
                        sponsor: spec.sponsor.into(),
                        parent_id: portal,
                        primary_domain: Some(spec.domain.into()),
                        aliases: if spec.kind == "city_portal" { vec!["qingdao.gov.cn".into()] } else { vec![] },
                        site_code: Some(spec.code.into()),
                        icp_filing: Some("鲁ICP备05001234号".into()),
                        psb_filing: Some("鲁公网安备37020202000123号".into()),
                        contact: spec.contact.into(),
                        require_distinct_reviewer: true,
                    },
                )
                .await
                .map_err(e)?;
            for action in ["approve", "register", "online"] {
                self.transition_site(&sys, s.id, action, "演示数据").await.map_err(e)?;
            }
            portal = portal.or(Some(s.id));
            sites.push((s.id, spec));
        }
        for (site, _) in &sites {
            for (u, role) in [(1, "editor"), (2, "secrecy_reviewer"), (3, "editorial_reviewer")] {
                self.grant_role(&sys, *site, users[u], role).await.map_err(e)?;
            }
        }
        self.grant_role(&sys, sites[2].0, users[4], "site_admin").await.map_err(e)?;
        let editor = self.actor_by_user_id(users[1]).await.map_err(e)?;
        let secrecy = self.actor_by_user_id(users[2]).await.map_err(e)?;
        let editorial = self.actor_by_user_id(users[3]).await.map_err(e)?;

        let day = 86_400_000i64;
        let now = now_ms();
        let mut n = 0usize;
        for (si, (site, spec)) in sites.iter().enumerate() {
            let mut cols = Vec::new();
            for (ci, (name, slug, kind, duty, days)) in COLUMNS.iter().enumerate() {
                let c = self
                    .create_column(
                        &sys,
                        *site,
                        NewColumn {
                            name: (*name).into(),
                            slug: (*slug).into(),
                            kind: (*kind).into(),
                            source: spec.sponsor.into(),
                            owner: "王编辑".into(),
                            duty: (*duty).into(),
                            duty_days: *days,
                            parent_id: None,
                            sort_order: ci as i64,
                        },
                    )
                    .await
                    .map_err(e)?;
                cols.push((c.id, *kind));
            }
            // Twelve published documents per site, spread over the past six months.
            for i in 0..12usize {
                let (col, kind) = cols[i % cols.len()];
                let topic = spec.topics[(i + si) % spec.topics.len()];
                let title = title_for(kind, topic, i / cols.len() + si);
                let d = self
                    .create_document(
                        &editor,
                        *site,
                        NewDocument {
                            title: title.clone(),
                            subtitle: String::new(),
                            source: spec.sponsor.into(),
                            author: "王编辑".into(),
                            keywords: topic.into(),
                            summary: String::new(),
                            body: body_for(&title, spec.sponsor),
                            body_format: "markdown".into(),
                            locale: "zh-CN".into(),
                            columns: vec![col],
                            canonical_column_id: None,
                        },
                    )
                    .await
                    .map_err(e)?;
                self.demo_publish(&editor, &secrecy, &editorial, d.id).await?;
                // Demo content is backdated so the lists look lived-in.
                let at = now - ((n * 37 + 3) % 180) as i64 * day - (n as i64 % 9) * 3_600_000;
                sqlx::query("UPDATE documents SET first_published_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(d.id)
                    .execute(&self.db.pool)
                    .await?;
                sqlx::query("UPDATE editions SET published_at = $1 WHERE document_id = $2")
                    .bind(at)
                    .bind(d.id)
                    .execute(&self.db.pool)
                    .await?;
                n += 1;
            }
            // Work waiting in the queues.
            let waiting = [
                ("关于征集年度重点工作意见建议的通知", 1usize, "submit"),
                ("季度工作进展情况", 3, "secrecy"),
                ("关于调整办公时间的公告", 1, "reject"),
            ];
            for (title, ci, stage) in waiting {
                let d = self
                    .create_document(
                        &editor,
                        *site,
                        NewDocument {
                            title: format!("{}{}", spec.name.trim_start_matches("青岛市"), title),
                            subtitle: String::new(),
                            source: spec.sponsor.into(),
                            author: "王编辑".into(),
                            keywords: String::new(),
                            summary: String::new(),
                            body: body_for(title, spec.sponsor),
                            body_format: "markdown".into(),
                            locale: "zh-CN".into(),
                            columns: vec![cols[ci].0],
                            canonical_column_id: None,
                        },
                    )
                    .await
                    .map_err(e)?;
                let t = |a: &str, c: &str| TransitionInput {
                    action: a.into(),
                    comment: Some(c.into()),
                    ..Default::default()
                };
                self.transition_document(&editor, d.id, t("submit", "")).await.map_err(e)?;
                match stage {
                    "secrecy" => {
                        self.transition_document(&secrecy, d.id, t("approve", "不涉密")).await.map_err(e)?;
                    }
                    "reject" => {
                        self.transition_document(
                            &secrecy,
                            d.id,
                            t("reject", "第三段含有内部联系电话，请删除后重新报送"),
                        )
                        .await
                        .map_err(e)?;
                    }
                    _ => {}
                }
            }
        }
        // The city's 2015 notice on website content, as a policy document of the portal.
        let notice = include_str!("../demo/notice.txt");
        let portal_id = sites[0].0;
        let policy_col: i64 = sqlx::query_scalar("SELECT id FROM columns WHERE site_id = $1 AND slug = 'zcwj'")
            .bind(portal_id)
            .fetch_one(&self.db.pool)
            .await?;
        let body: String = notice.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n\n");
        let d = self
            .create_document(
                &editor,
                portal_id,
                NewDocument {
                    title: "青岛市人民政府办公厅关于加强政府网站信息内容建设的通知".into(),
                    subtitle: String::new(),
                    source: "青岛市人民政府办公厅".into(),
                    author: String::new(),
                    keywords: "政府网站,信息内容建设".into(),
                    summary: "为进一步做好全市政府网站信息内容建设工作，提升政府网站发布信息、解读政策、回应关切、引导舆论、服务公众的能力和水平。".into(),
                    body,
                    body_format: "markdown".into(),
                    locale: "zh-CN".into(),
                    columns: vec![policy_col],
                    canonical_column_id: None,
                },
            )
            .await
            .map_err(e)?;
        self.demo_publish(&editor, &secrecy, &editorial, d.id).await?;
        // 2015-06-03 09:00 China Standard Time.
        let at = 1_433_293_200_000i64;
        sqlx::query("UPDATE documents SET first_published_at = $1 WHERE id = $2")
            .bind(at)
            .bind(d.id)
            .execute(&self.db.pool)
            .await?;
        self.seed_demo_letters(&sys, users[5]).await?;
        self.seed_demo_participation(&editor, portal_id).await?;
        for (s, _) in &sites {
            self.pages.invalidate_site(*s);
        }
        Ok(true)
    }

    /// An open consultation, an open survey and an interview coming up, on the portal.
    async fn seed_demo_participation(&self, editor: &Actor, portal: i64) -> anyhow::Result<()> {
        use crate::app::interviews::NewInterview;
        use crate::app::participation::{NewConsultation, NewSurvey, Question};
        let e = |e: crate::error::AppError| anyhow::anyhow!("{e}");
        let today = crate::app::calendar::today();
        let day = |n: i64| zhanqun_domain::calendar::fmt_date(today + time::Duration::days(n));
        self.create_consultation(
            editor,
            portal,
            NewConsultation {
                title: "青岛市政府网站管理办法（征求意见稿）".into(),
                draft: "第一条 为加强政府网站管理，提升政府网站信息内容建设水平，制定本办法。\n\n\
                        第二条 政府网站应当在统一的技术平台上建设运行，实行集约化管理。\n\n\
                        第三条 政府网站栏目应当明确信息来源、责任人和更新要求。\n\n\
                        第四条 网民留言应当在 7 个工作日内答复，情况复杂的可延长至 15 个工作日。"
                    .into(),
                opens_on: day(-3),
                closes_on: day(27),
            },
        )
        .await
        .map_err(e)?;
        let q = |kind: &str, prompt: &str, options: &[&str], max: Option<i64>| Question {
            kind: kind.into(),
            prompt: prompt.into(),
            required: kind == "single",
            options: options.iter().map(|o| (*o).to_string()).collect(),
            max,
        };
        self.create_survey(
            editor,
            portal,
            NewSurvey {
                title: "青岛政务网使用体验调查".into(),
                intro: "您的意见将帮助我们改进网站。".into(),
                questions: vec![
                    q("single", "您多久访问一次本网站？", &["每天", "每周", "偶尔"], None),
                    q("multiple", "您最常使用哪些栏目？", &["要闻动态", "通知公告", "政策文件", "政府信箱"], None),
                    q("scale", "您对本网站的总体评价（1 到 5 分）", &[], Some(5)),
                    q("text", "其他意见和建议", &[], None),
                ],
                opens_on: day(-1),
                closes_on: day(30),
                require_contact: false,
            },
        )
        .await
        .map_err(e)?;
        let starts = time::OffsetDateTime::now_utc() + time::Duration::days(3);
        self.create_interview(
            editor,
            portal,
            NewInterview {
                title: "优化营商环境政策解读".into(),
                guests: "市政府办公厅、市发展改革委负责同志".into(),
                starts_at: starts.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            },
        )
        .await
        .map_err(e)?;
        Ok(())
    }

    /// Letters in every state, some of them weeks old (so some are overdue).
    async fn seed_demo_letters(&self, sys: &Actor, handler_id: i64) -> anyhow::Result<()> {
        use crate::app::mailbox::{LetterActionInput, NewLetter};
        let e = |e: crate::error::AppError| anyhow::anyhow!("{e}");
        let mut bodies = Vec::new();
        for name in ["青岛市教育局", "青岛市卫生健康委员会", "青岛市自然资源和规划局", "青岛市市南区人民政府"]
        {
            bodies.push(self.create_body(sys, name, None).await.map_err(e)?.id);
        }
        self.add_body_member(sys, bodies[0], handler_id).await.map_err(e)?;
        self.set_sensitive_words(sys, &["内部资料".to_string()]).await.map_err(e)?;
        let handler = self.actor_by_user_id(handler_id).await.map_err(e)?;
        // (subject, body, days ago, what happens, publish?)
        let letters: &[(&str, &str, i64, &str, bool)] = &[
            (
                "小区门口路灯不亮",
                "我住的小区门口路灯已经坏了两周，晚上出行很不方便，希望尽快修理。",
                0,
                "received",
                true,
            ),
            ("建议增加公交班次", "早高峰 5 路公交车太挤，建议增加班次。", 1, "received", true),
            ("学校周边交通安全", "学校门口上下学时段车辆乱停，存在安全隐患。", 3, "assigned", true),
            ("幼儿园入园报名咨询", "请问今年幼儿园入园报名什么时候开始？需要准备哪些材料？", 20, "assigned", false),
            ("老旧小区加装电梯", "我们小区想加装电梯，需要哪些手续？涉及规划、住建多个部门。", 10, "extended", true),
            ("义务教育招生划片", "请问今年学区划片有没有调整？", 12, "replied", true),
            ("社区卫生服务中心开放时间", "周末社区卫生服务中心是否开放？", 15, "replied", true),
            ("邻里纠纷", "邻居装修噪音很大，希望政府出面解决。", 9, "not_handled", false),
            ("课后服务收费", "学校课后服务如何收费？", 30, "closed", true),
            ("关于一份内部资料的反映", "我这里有一份内部资料，想反映情况。", 2, "held", false),
        ];
        for (i, (subject, body, ago, stage, publish)) in letters.iter().enumerate() {
            let receipt = self
                .submit_letter(NewLetter {
                    channel: if i % 3 == 1 { "suggestion" } else { "mayor" }.into(),
                    to_body_id: None,
                    site_id: None,
                    subject: (*subject).into(),
                    body: (*body).into(),
                    writer_name: format!("市民{}", i + 1),
                    writer_contact: format!("1380000{:04}", i + 1),
                    may_publish: *publish,
                    attachment: None,
                })
                .await
                .map_err(e)?;
            let id = receipt.id;
            if *ago > 0 {
                // Backdate the arrival so the demo has letters near and past their deadlines.
                let cal = self.calendar.load();
                let arrived = crate::app::calendar::today() - time::Duration::days(*ago);
                let due = cal
                    .add_working_days(arrived, zhanqun_domain::mailbox::REPLY_DAYS)
                    .map(|d| d.due)
                    .unwrap_or(arrived);
                sqlx::query("UPDATE letters SET arrived_on = $1, due_on = $2 WHERE id = $3")
                    .bind(zhanqun_domain::calendar::fmt_date(arrived))
                    .bind(zhanqun_domain::calendar::fmt_date(due))
                    .bind(id)
                    .execute(&self.db.pool)
                    .await?;
            }
            let act = |action: &str| LetterActionInput { action: action.into(), ..Default::default() };
            if matches!(*stage, "received" | "held") {
                continue;
            }
            // Even letters go to the education bureau (whose handler is a demo user), odd ones to health.
            let body_id = if i % 2 == 0 { bodies[0] } else { bodies[1] };
            let handler = if body_id == bodies[0] { &handler } else { sys };
            self.letter_action(
                sys,
                id,
                LetterActionInput {
                    body_id: Some(body_id),
                    contact_person: Some(if i % 2 == 0 { "孙经办" } else { "周医生" }.into()),
                    ..act("assign")
                },
            )
            .await
            .map_err(e)?;
            match *stage {
                "extended" => {
                    self.letter_action(
                        handler,
                        id,
                        LetterActionInput {
                            reason: Some("涉及规划、住建等多个部门，需联合办理".into()),
                            ..act("extend")
                        },
                    )
                    .await
                    .map_err(e)?;
                }
                "replied" | "closed" => {
                    self.letter_action(handler, id, LetterActionInput { reply: Some(format!("您好！关于「{subject}」，经了解，相关工作正在推进，具体安排请关注我局网站通知。感谢您的来信。")), ..act("reply") })
                        .await
                        .map_err(e)?;
                    if *stage == "closed" {
                        self.letter_action(sys, id, act("close")).await.map_err(e)?;
                    }
                }
                "not_handled" => {
                    self.letter_action(
                        handler,
                        id,
                        LetterActionInput {
                            reason: Some("邻里纠纷属于民事纠纷，建议向所在社区人民调解委员会申请调解。".into()),
                            ..act("not_handled")
                        },
                    )
                    .await
                    .map_err(e)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn demo_publish(&self, editor: &Actor, secrecy: &Actor, editorial: &Actor, id: i64) -> anyhow::Result<()> {
        let e = |e: crate::error::AppError| anyhow::anyhow!("{e}");
        let t = |a: &str| TransitionInput { action: a.into(), ..Default::default() };
        self.transition_document(editor, id, t("submit")).await.map_err(e)?;
        self.transition_document(secrecy, id, t("approve")).await.map_err(e)?;
        self.transition_document(editorial, id, t("approve")).await.map_err(e).context("publishing demo document")?;
        Ok(())
    }
}
