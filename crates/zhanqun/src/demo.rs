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
        for (s, _) in &sites {
            self.pages.invalidate_site(*s);
        }
        Ok(true)
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
