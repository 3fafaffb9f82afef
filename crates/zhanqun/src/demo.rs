//! The demo cluster (`zhanqun serve --demo`): a realistic city in Chinese, seeded once
//! through the same actions people use, so its audit trail is real too.

use crate::app::App;
use crate::columns::NewColumn;
use crate::documents::NewDocument;
use crate::documents::workflow::TransitionInput;
use crate::kernel::Actor;
use crate::kernel::time::now_ms;
use crate::people::NewUser;
use crate::sites::NewSite;
use anyhow::Context;

/// Demo people: (user name, display name, password, what they do). Printed at start in demo mode only.
pub const DEMO_USERS: &[(&str, &str, &str, &str)] = &[
    ("admin", "市政府办公厅网站办", "demo-admin-2026", "系统管理员"),
    ("editor", "王编辑", "demo-editor-2026", "各站点编辑"),
    ("secrecy", "李保密", "demo-secrecy-2026", "各站点保密审查员"),
    ("editorial", "赵把关", "demo-editorial-2026", "各站点编辑审核员"),
    ("jyj-admin", "教育局网站管理员", "demo-siteadmin-2026", "教育局网站站点管理员"),
    ("handler", "孙经办", "demo-handler-2026", "教育局来信经办人"),
    ("security", "钱安全", "demo-security-2026", "安全管理员（人员、角色、密码、会话）"),
    ("auditor", "孔审计", "demo-auditor-2026", "审计管理员（查阅和导出操作记录）"),
];

/// The people who write and review the demo content.
struct Crew<'a> {
    sys: &'a Actor,
    editor: &'a Actor,
    secrecy: &'a Actor,
    editorial: &'a Actor,
}

/// A unified social credit code from its first 17 characters (demo bodies only).
fn with_check_char(stem: &str) -> String {
    "0123456789ABCDEFGHJKLMNPQRTUWXY"
        .chars()
        .map(|c| format!("{stem}{c}"))
        .find(|code| zhanqun_domain::disclosure::check_credit_code("code", code).is_ok())
        .unwrap_or_else(|| stem.to_string())
}

const READING: &str = "## 一、出台背景\n\n为贯彻落实《国务院办公厅关于加强政府网站信息内容建设的意见》，进一步提升我市政府网站发布信息、解读政策、回应关切的能力，市政府办公厅印发了本通知。\n\n\
## 二、主要内容\n\n通知从完善建设管理体系、加强信息发布、做好政策解读、积极回应关切、强化互动交流等方面提出了要求，明确政府网站栏目须有信息来源、责任人和更新要求，网民留言原则上 7 个工作日内答复。\n\n\
## 三、工作要求\n\n各区（市）政府、市政府各部门要按照通知要求，逐一对照整改，确保政府网站信息内容准确、及时、权威。";

const RESPONSE: &str = "近期，有网民反映部分政府网站栏目长期不更新。对此，市政府办公厅高度重视，已组织对全市政府网站进行全面检查，对 3 个长期未更新的栏目责令整改，整改情况将在本网站公布。根据《关于加强政府网站信息内容建设的通知》，各栏目须明确更新要求，我们将持续通报检查结果。";

const SCHOOL_RULES: &str = "第一条 为规范我市中小学学籍管理，维护学生合法权益，制定本细则。\n\n第二条 本细则适用于本市行政区域内的普通中小学校。\n\n第三条 学籍管理实行市、区（市）两级管理，学校具体实施。";

const GUIDE: &str = "## 一、主动公开\n\n本机关主动公开的政府信息，通过青岛市教育局网站“政府信息公开”栏目发布。\n\n## 二、依申请公开\n\n公民、法人或者其他组织可以通过网站、信函或当面方式提出政府信息公开申请。\n\n## 三、监督和救济\n\n认为本机关在政府信息公开工作中侵犯其合法权益的，可以依法申请行政复议或者提起行政诉讼。";

const TYPHOON: &str = "市防汛抗旱指挥部提醒广大市民：关注天气预报和预警信息，减少不必要的外出；沿海地区人员注意防范风暴潮，远离危险区域。如遇险情，请拨打 110、119 求助。";

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

/// What [`App::seed_demo`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSeed {
    /// The database was empty; the demo city is in it now.
    Seeded,
    /// The demo city was seeded before (its accounts and sites are there).
    AlreadyThere,
    /// The database holds something else (a real installation): nothing was written.
    NotEmpty { users: usize, sites: i64 },
}

impl App {
    /// Seeds the demo city into an empty database; says what it found otherwise.
    pub async fn seed_demo(&self) -> anyhow::Result<DemoSeed> {
        let users: Vec<String> = sqlx::query_scalar("SELECT username FROM users").fetch_all(&self.db.pool).await?;
        let sites: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites").fetch_one(&self.db.pool).await?;
        if DEMO_USERS.iter().all(|(name, ..)| users.iter().any(|u| u == name)) && sites > 0 {
            return Ok(DemoSeed::AlreadyThere);
        }
        if !users.is_empty() || sites > 0 {
            return Ok(DemoSeed::NotEmpty { users: users.len(), sites });
        }
        let sys = Actor::system("演示数据");
        let e = |e: crate::kernel::AppError| anyhow::anyhow!("{e}");
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
                        duty: match *name {
                            "security" => Some("security".into()),
                            "auditor" => Some("audit".into()),
                            _ => None,
                        },
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
                        // A demo value in the issued link's form; a real site enters its own.
                        party_label_url: Some(format!(
                            "https://bszs.conac.cn/sitename?method=show&id=DEMO{}",
                            spec.code
                        )),
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
                self.demo_backdate(d.id, at).await?;
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
        let policy_col = self.column_id(portal_id, "zcwj").await.map_err(e)?;
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
        self.demo_backdate(d.id, 1_433_293_200_000).await?;
        self.seed_demo_letters(&sys, users[5]).await?;
        self.seed_demo_participation(&editor, portal_id).await?;
        let crew = Crew { sys: &sys, editor: &editor, secrecy: &secrecy, editorial: &editorial };
        let site_ids: Vec<i64> = sites.iter().map(|(id, _)| *id).collect();
        self.seed_demo_disclosure(&crew, &site_ids, d.id).await?;
        self.pages.invalidate_all();
        Ok(DemoSeed::Seeded)
    }

    /// An open consultation, an open survey and an interview coming up, on the portal.
    async fn seed_demo_participation(&self, editor: &Actor, portal: i64) -> anyhow::Result<()> {
        use crate::participation::interviews::NewInterview;
        use crate::participation::{NewConsultation, NewSurvey, Question};
        let e = |e: crate::kernel::AppError| anyhow::anyhow!("{e}");
        let today = crate::kernel::time::today();
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
        use crate::mailbox::{LetterActionInput, NewLetter};
        let e = |e: crate::kernel::AppError| anyhow::anyhow!("{e}");
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
                let arrived = crate::kernel::time::today() - time::Duration::days(*ago);
                self.backdate_letter(id, arrived).await.map_err(e)?;
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

    /// Issue #4 in the demo: the notice as a policy with its interpretation and a response, a
    /// repealed policy, a guide and an annual report, an emergency topic with a timeline, the
    /// notice reposted to every department site, and a content inventory with something late.
    async fn seed_demo_disclosure(&self, c: &Crew<'_>, sites: &[i64], notice: i64) -> anyhow::Result<()> {
        use crate::disclosure::DisclosureInput;
        use crate::inventory::{EventInput, InventoryInput};
        use crate::reposts::RepostInput;
        use crate::topics::NewTopic;
        let e = |e: crate::kernel::AppError| anyhow::anyhow!("{e}");
        let (portal, jyj) = (sites[0], sites[2]);
        let office = self.create_body(c.sys, "青岛市人民政府办公厅", None).await.map_err(e)?.id;
        let edu = self.body_id("青岛市教育局").await.map_err(e)?;
        for (body, stem) in [(office, "11370200MB1512345"), (edu, "11370200MB1523456")] {
            self.set_body_code(c.sys, body, &with_check_char(stem)).await.map_err(e)?;
        }
        let col = |site: i64, slug: &'static str| self.column_id(site, slug);
        let meta = |doc_type: &str, body: i64, number: Option<&str>, subject: &str, written: &str| DisclosureInput {
            doc_type: doc_type.into(),
            issuing_body_id: body,
            document_number: number.map(Into::into),
            subject: subject.into(),
            date_written: written.into(),
            validity: "valid".into(),
            validity_changed_on: None,
            changed_by_document_id: None,
            disclosure_mode: "proactive".into(),
            nondisclosure_reason: None,
            important: false,
            genre: None,
            keywords: None,
        };

        // The notice: a policy with an interpretation and a response to public concern.
        let mut m = meta("policy", office, Some("青政办发〔2015〕12号"), "综合政务/政务公开", "2015-05-27");
        m.genre = Some("通知".into());
        m.keywords = Some("政府网站 信息内容建设 政务公开".into());
        m.important = true;
        self.set_disclosure(c.editor, notice, m).await.map_err(e)?;
        let portal_policy = col(portal, "zcwj").await?;
        let reading = self
            .demo_doc(
                c,
                portal,
                portal_policy,
                "《关于加强政府网站信息内容建设的通知》政策解读",
                READING,
                "青岛市人民政府办公厅",
            )
            .await?;
        self.demo_publish(c.editor, c.secrecy, c.editorial, reading).await?;
        self.demo_backdate(reading, 1_433_322_000_000).await?;
        self.set_disclosure(c.editor, reading, meta("interpretation", office, None, "综合政务/政务公开", "2015-06-03"))
            .await
            .map_err(e)?;
        self.link_interpretation(c.editor, reading, notice, "text").await.map_err(e)?;
        let response = self
            .demo_doc(
                c,
                portal,
                portal_policy,
                "关于部分政府网站栏目长期不更新问题的回应",
                RESPONSE,
                "青岛市人民政府办公厅",
            )
            .await?;
        self.set_disclosure(c.editor, response, meta("response", office, None, "综合政务/政务公开", "2026-03-10"))
            .await
            .map_err(e)?;
        self.link_interpretation(c.editor, response, notice, "response").await.map_err(e)?;
        self.demo_publish(c.editor, c.secrecy, c.editorial, response).await?;

        // Reposted to every department site, into their 上级文件 column.
        for &site in &sites[2..] {
            self.create_column(
                c.sys,
                site,
                NewColumn {
                    name: "上级文件".into(),
                    slug: "sjwj".into(),
                    kind: "policy".into(),
                    source: "青岛市人民政府".into(),
                    owner: "王编辑".into(),
                    duty: "instant".into(),
                    duty_days: None,
                    parent_id: None,
                    sort_order: 9,
                },
            )
            .await
            .map_err(e)?;
        }
        self.repost(
            c.editor,
            notice,
            RepostInput {
                sites: vec![],
                site_kind: Some("department".into()),
                column: "上级文件".into(),
                from_site_id: None,
            },
        )
        .await
        .map_err(e)?;

        // The education bureau: a policy repealed by its successor, its guide and annual report.
        let jyj_policy = col(jyj, "zcwj").await?;
        let old = self
            .demo_doc(c, jyj, jyj_policy, "青岛市中小学学籍管理实施细则（2019年）", SCHOOL_RULES, "青岛市教育局")
            .await?;
        self.demo_publish(c.editor, c.secrecy, c.editorial, old).await?;
        self.demo_backdate(old, 1_565_060_400_000).await?;
        let mut m = meta("normative", edu, Some("青教发〔2019〕21号"), "科技、教育/教育", "2019-08-01");
        m.genre = Some("规定".into());
        self.set_disclosure(c.editor, old, m).await.map_err(e)?;
        let new =
            self.demo_doc(c, jyj, jyj_policy, "青岛市中小学学籍管理实施细则", SCHOOL_RULES, "青岛市教育局").await?;
        let mut m = meta("normative", edu, Some("青教发〔2026〕6号"), "科技、教育/教育", "2026-02-20");
        m.genre = Some("规定".into());
        m.keywords = Some("学籍 中小学".into());
        self.set_disclosure(c.editor, new, m.clone()).await.map_err(e)?;
        self.demo_publish(c.editor, c.secrecy, c.editorial, new).await?;
        let mut repeal = meta("normative", edu, Some("青教发〔2019〕21号"), "科技、教育/教育", "2019-08-01");
        repeal.genre = Some("规定".into());
        repeal.validity = "repealed".into();
        repeal.validity_changed_on = Some("2026-03-01".into());
        repeal.changed_by_document_id = Some(new);
        self.set_disclosure(c.editor, old, repeal).await.map_err(e)?;
        let jyj_notices = col(jyj, "tzgg").await?;
        for (title, kind, written) in [
            ("青岛市教育局政府信息公开指南", "guide", "2026-01-05"),
            ("青岛市教育局2025年政府信息公开工作年度报告", "annual_report", "2026-01-20"),
        ] {
            let d = self.demo_doc(c, jyj, jyj_notices, title, GUIDE, "青岛市教育局").await?;
            self.set_disclosure(c.editor, d, meta(kind, edu, None, "综合政务/政务公开", written)).await.map_err(e)?;
            self.demo_publish(c.editor, c.secrecy, c.editorial, d).await?;
        }

        // An emergency topic on the portal, with three releases a few hours apart.
        let topic = self
            .create_topic(
                c.editor,
                portal,
                NewTopic {
                    title: "防御台风“海葵”".into(),
                    summary: "市防汛抗旱指挥部发布的台风防御工作信息。".into(),
                    emergency: true,
                    release_procedure: Some("按《青岛市防汛应急预案》由市防指统一发布".into()),
                    first_release_hours: Some(5),
                    update_hours: Some(24),
                },
            )
            .await
            .map_err(e)?;
        let news = col(portal, "yw").await?;
        let now = now_ms();
        for (i, title) in ["市防指启动防台风Ⅳ级应急响应", "台风“海葵”最新动态及防御提示", "全市转移安置群众情况通报"]
            .iter()
            .enumerate()
        {
            let d = self.demo_doc(c, portal, news, title, TYPHOON, "青岛市防汛抗旱指挥部").await?;
            self.demo_publish(c.editor, c.secrecy, c.editorial, d).await?;
            self.add_topic_item(c.editor, topic.id, d).await.map_err(e)?;
            self.demo_backdate(d, now - (3 - i as i64) * 6 * 3_600_000).await?;
        }

        // The education bureau's content inventory: one kind of information is late.
        let urgent = self
            .create_column(
                c.sys,
                jyj,
                NewColumn {
                    name: "应急信息".into(),
                    slug: "yjxx".into(),
                    kind: "notices".into(),
                    source: "青岛市教育局".into(),
                    owner: "安全处".into(),
                    duty: "instant".into(),
                    duty_days: None,
                    parent_id: None,
                    sort_order: 8,
                },
            )
            .await
            .map_err(e)?;
        for (name, category, days, owner, column) in [
            ("招生入学政策", "routine", 20, "基础教育处 张老师", jyj_policy),
            ("教育统计月报", "periodic", 31, "发展规划处 李老师", col(jyj, "gzdt").await?),
            ("校园安全突发事件信息", "immediate", 1, "安全处 王老师", urgent.id),
        ] {
            let item = self
                .add_inventory_item(
                    c.sys,
                    jyj,
                    InventoryInput {
                        name: name.into(),
                        category: category.into(),
                        limit_days: days,
                        owner: owner.into(),
                        column_id: column,
                    },
                )
                .await
                .map_err(e)?;
            if category == "immediate" {
                let on = crate::kernel::time::today() - time::Duration::days(6);
                let ev = EventInput {
                    occurred_on: zhanqun_domain::calendar::fmt_date(on),
                    note: "暴雨致部分学校停课".into(),
                };
                self.record_inventory_event(c.editor, item.id, ev).await.map_err(e)?;
            }
        }
        Ok(())
    }

    /// A document written and published by the demo crew, in one column.
    async fn demo_doc(
        &self,
        c: &Crew<'_>,
        site: i64,
        column: i64,
        title: &str,
        body: &str,
        source: &str,
    ) -> anyhow::Result<i64> {
        let d = self
            .create_document(
                c.editor,
                site,
                NewDocument {
                    title: title.into(),
                    subtitle: String::new(),
                    source: source.into(),
                    author: String::new(),
                    keywords: String::new(),
                    summary: String::new(),
                    body: body.into(),
                    body_format: "markdown".into(),
                    locale: "zh-CN".into(),
                    columns: vec![column],
                    canonical_column_id: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(d.id)
    }

    /// Gives a published demo document an earlier publication time (and the catalog with it).
    async fn demo_backdate(&self, doc: i64, at: i64) -> anyhow::Result<()> {
        self.backdate_document(doc, at).await.map_err(|e| anyhow::anyhow!("{e}"))
    }

    async fn demo_publish(&self, editor: &Actor, secrecy: &Actor, editorial: &Actor, id: i64) -> anyhow::Result<()> {
        let e = |e: crate::kernel::AppError| anyhow::anyhow!("{e}");
        let t = |a: &str| TransitionInput { action: a.into(), ..Default::default() };
        self.transition_document(editor, id, t("submit")).await.map_err(e)?;
        self.transition_document(secrecy, id, t("approve")).await.map_err(e)?;
        self.transition_document(editorial, id, t("approve")).await.map_err(e).context("publishing demo document")?;
        Ok(())
    }
}
