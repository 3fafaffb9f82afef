//! The site registry (R1): registering sites, their labels, domains and lifecycle. Domains
//! are checked against the cluster's domain rules; every step is recorded.

pub mod admin;
pub mod api;
pub mod queries;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::domain_rules::DomainRules;
use zhanqun_domain::site::{
    SiteAction, SiteKind, SiteState, check_icp_filing, check_party_label_url, check_psb_filing, check_site_code,
    normalize_hostname,
};
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::time::{fmt_time, now_ms};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

pub use queries::load_site;

/// A site as the database holds it.
#[derive(Debug, Clone, FromRow)]
pub struct SiteRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: SiteKind,
    pub name: String,
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    pub contact: String,
    pub party_label_url: Option<String>,
    pub robots_txt: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: SiteState,
    pub require_distinct_reviewer: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// `city_portal`, `district_portal`, `department`, `zone`, `subsite` or `column`.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// 网站标识码 (10 digits).
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    /// The 党政机关网站标识 link the registering authority issued (https, on conac.cn); the
    /// footer shows the red label with it.
    pub party_label_url: Option<String>,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub require_distinct_reviewer: bool,
}

/// A change to a site. `version` is the version the change was based on.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    pub version: i64,
    pub name: Option<String>,
    pub sponsor: Option<String>,
    pub primary_domain: Option<String>,
    pub aliases: Option<Vec<String>>,
    /// An empty string removes the value.
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    pub party_label_url: Option<String>,
    /// The site's own `robots.txt`; an empty string returns to the platform's default.
    pub robots_txt: Option<String>,
    pub contact: Option<String>,
    pub require_distinct_reviewer: Option<bool>,
}

/// Whether a site's domain keeps the cluster's current rules.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compliance {
    pub compliant: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteView {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: SiteKind,
    pub kind_label: &'static str,
    pub name: String,
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    pub aliases: Vec<String>,
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    pub party_label_url: Option<String>,
    /// The site's own `robots.txt`, if its site admin wrote one.
    pub robots_txt: Option<String>,
    pub contact: String,
    /// `applied`, `approved`, `registered`, `online`, `suspended` or `closed`.
    #[schema(value_type = String)]
    pub state: SiteState,
    pub state_label: &'static str,
    pub require_distinct_reviewer: bool,
    pub domain_compliance: Compliance,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The editable fields of a site, validated as a whole on create and on every change.
#[derive(Debug, Clone)]
struct SiteFields {
    kind: SiteKind,
    name: String,
    sponsor: String,
    primary_domain: Option<String>,
    aliases: Vec<String>,
    site_code: Option<String>,
    icp_filing: Option<String>,
    psb_filing: Option<String>,
    party_label_url: Option<String>,
    robots_txt: Option<String>,
    contact: String,
    require_distinct_reviewer: bool,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl SiteFields {
    /// Checks every field and normalises domains; all broken rules are reported together.
    fn validate(mut self, rules: &DomainRules) -> Result<SiteFields, FieldErrors> {
        let mut e = FieldErrors::new();
        e.required("name", "网站名称", &self.name);
        e.max_chars("name", "网站名称", &self.name, 100);
        e.required("sponsor", "主办单位", &self.sponsor);
        e.max_chars("sponsor", "主办单位", &self.sponsor, 100);
        e.max_chars("contact", "联系方式", &self.contact, 200);
        self.name = self.name.trim().to_string();
        self.sponsor = self.sponsor.trim().to_string();
        match self.primary_domain.as_deref() {
            Some(d) => match normalize_hostname("primary_domain", d) {
                Ok(d) => {
                    if let Err(v) = rules.check(self.kind, &d) {
                        e.add("primary_domain", "domain_rule", v.message());
                    }
                    self.primary_domain = Some(d);
                }
                Err(fe) => e.push(fe),
            },
            None if self.kind.needs_domain() => {
                e.add("primary_domain", "required", format!("{}须有主域名", self.kind.label()))
            }
            None => {}
        }
        let mut aliases = Vec::new();
        for (i, a) in self.aliases.iter().enumerate() {
            match normalize_hostname(&format!("aliases[{i}]"), a) {
                Ok(a) if Some(&a) == self.primary_domain.as_ref() || aliases.contains(&a) => {
                    e.add(&format!("aliases[{i}]"), "unique", format!("域名「{a}」重复"))
                }
                Ok(a) => {
                    // An alias follows the domain rules as the primary domain does; only the
                    // bare form of a `www.` primary (qingdao.gov.cn for www.qingdao.gov.cn)
                    // is allowed besides.
                    let bare = self.primary_domain.as_deref().and_then(|p| p.strip_prefix("www.")) == Some(a.as_str());
                    if !bare && let Err(v) = rules.check(self.kind, &a) {
                        e.add(&format!("aliases[{i}]"), "domain_rule", format!("别名「{a}」：{}", v.message()));
                    }
                    aliases.push(a);
                }
                Err(fe) => e.push(fe),
            }
        }
        for (field, name) in self
            .primary_domain
            .iter()
            .map(|d| ("primary_domain".to_string(), d))
            .chain(aliases.iter().enumerate().map(|(i, a)| (format!("aliases[{i}]"), a)))
        {
            if name == "localhost" || name.ends_with(".localhost") {
                e.add(&field, "reserved", format!("「{name}」是本机访问地址，由系统为每个网站生成，不能登记"));
            }
        }
        if !aliases.is_empty() && self.primary_domain.is_none() {
            e.add("aliases", "requires_primary", "有别名域名时须先有主域名");
        }
        self.aliases = aliases;
        if let Some(c) = &self.site_code
            && let Err(fe) = check_site_code("site_code", c)
        {
            e.push(fe);
        }
        if let Some(c) = &self.icp_filing
            && let Err(fe) = check_icp_filing("icp_filing", c)
        {
            e.push(fe);
        }
        if let Some(c) = &self.psb_filing
            && let Err(fe) = check_psb_filing("psb_filing", c)
        {
            e.push(fe);
        }
        if let Some(u) = &self.party_label_url
            && let Err(fe) = check_party_label_url("party_label_url", u)
        {
            e.push(fe);
        }
        if let Some(r) = &self.robots_txt {
            e.max_chars("robots_txt", "robots.txt", r, 10_000);
            if r.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                e.add("robots_txt", "chars", "robots.txt 只能是文本：不能含控制字符");
            }
        }
        e.into_result().map(|()| self)
    }

    fn all_domains(&self) -> Vec<(String, bool)> {
        self.primary_domain
            .iter()
            .map(|d| (d.clone(), true))
            .chain(self.aliases.iter().map(|a| (a.clone(), false)))
            .collect()
    }
}

/// Refuses domains or a site code that another site already uses.
async fn check_unique(conn: &mut AnyConnection, f: &SiteFields, self_id: Option<i64>) -> AppResult<()> {
    let mut e = FieldErrors::new();
    for (i, (d, primary)) in f.all_domains().into_iter().enumerate() {
        let owner: Option<(i64, String)> = sqlx::query_as(
            "SELECT s.id, s.name FROM site_domains d JOIN sites s ON s.id = d.site_id WHERE d.domain = $1",
        )
        .bind(&d)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((id, name)) = owner.filter(|(id, _)| Some(*id) != self_id) {
            let field = if primary { "primary_domain".to_string() } else { format!("aliases[{}]", i - 1) };
            e.add(&field, "unique", format!("域名「{d}」已被站点「{name}」（#{id}）使用"));
        }
    }
    if let Some(code) = &f.site_code {
        let owner: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM sites WHERE site_code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some((id, name)) = owner.filter(|(id, _)| Some(*id) != self_id) {
            e.add("site_code", "unique", format!("网站标识码「{code}」已被站点「{name}」（#{id}）使用"));
        }
    }
    e.into_result().map_err(AppError::from)
}

async fn write_domains(conn: &mut AnyConnection, site_id: i64, f: &SiteFields) -> AppResult<()> {
    sqlx::query("DELETE FROM site_domains WHERE site_id = $1").bind(site_id).execute(&mut *conn).await?;
    for (d, primary) in f.all_domains() {
        sqlx::query("INSERT INTO site_domains (domain, site_id, is_primary) VALUES ($1, $2, $3)")
            .bind(d)
            .bind(site_id)
            .bind(i64::from(primary))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl App {
    pub(crate) fn site_view(&self, s: &SiteRow, aliases: Vec<String>) -> SiteView {
        let compliance = match s.primary_domain.as_deref().map(|d| self.config.rules().check(s.kind, d)) {
            Some(Err(v)) => Compliance { compliant: false, message: Some(v.message()), rule: Some(v.rule) },
            _ => Compliance { compliant: true, rule: None, message: None },
        };
        SiteView {
            id: s.id,
            kind: s.kind,
            kind_label: s.kind.label(),
            name: s.name.clone(),
            sponsor: s.sponsor.clone(),
            parent_id: s.parent_id,
            primary_domain: s.primary_domain.clone(),
            aliases,
            site_code: s.site_code.clone(),
            icp_filing: s.icp_filing.clone(),
            psb_filing: s.psb_filing.clone(),
            party_label_url: s.party_label_url.clone(),
            robots_txt: s.robots_txt.clone(),
            contact: s.contact.clone(),
            state: s.state,
            state_label: s.state.label(),
            require_distinct_reviewer: s.require_distinct_reviewer != 0,
            domain_compliance: compliance,
            version: s.version,
            created_at: fmt_time(s.created_at),
            updated_at: fmt_time(s.updated_at),
        }
    }

    /// Registers a site application (state `applied`). System administrators may, and the
    /// site admins of the parent site for sites under it.
    pub async fn create_site(&self, actor: &Actor, input: NewSite) -> AppResult<SiteView> {
        let kind = SiteKind::parse(&input.kind).ok_or_else(|| {
            let all: Vec<&str> = SiteKind::ALL.iter().map(|k| k.as_str()).collect();
            AppError::field("kind", "one_of", format!("网站类型「{}」无效，应为：{}", input.kind, all.join("、")))
        })?;
        let fields = SiteFields {
            kind,
            name: input.name,
            sponsor: input.sponsor,
            primary_domain: non_empty(input.primary_domain),
            aliases: input.aliases,
            site_code: non_empty(input.site_code),
            icp_filing: non_empty(input.icp_filing),
            psb_filing: non_empty(input.psb_filing),
            party_label_url: non_empty(input.party_label_url),
            robots_txt: None,
            contact: input.contact,
            require_distinct_reviewer: input.require_distinct_reviewer,
        };
        let validated = fields.validate(&self.config.rules());
        let mut errs = FieldErrors::new();
        let mut cmd = self.begin(actor).await?;
        match input.parent_id {
            Some(pid) => match queries::find_site(cmd.conn(), pid).await? {
                None => errs.add("parent_id", "exists", format!("上级站点 #{pid} 不存在")),
                Some(p) if p.kind == SiteKind::Column => {
                    errs.add("parent_id", "parent_kind", "栏目形式的站点下不能再开设站点")
                }
                Some(p) if p.state == SiteState::Closed => {
                    errs.add("parent_id", "parent_state", format!("上级站点「{}」已关停", p.name))
                }
                Some(_) if kind == SiteKind::CityPortal => {
                    errs.add("parent_id", "no_parent", "市政府门户网站没有上级站点")
                }
                Some(_) => {}
            },
            None if kind.needs_parent() => errs.add("parent_id", "required", format!("{}须指定上级站点", kind.label())),
            None => {}
        }
        let fields = match validated {
            Ok(f) if errs.is_empty() => f,
            Ok(_) => return Err(errs.into()),
            Err(mut e) => {
                e.0.extend(errs.0);
                return Err(e.into());
            }
        };
        match input.parent_id {
            Some(pid) => cmd.require_role(pid, &[Role::SiteAdmin]).await?,
            None => cmd.require_admin()?,
        }
        check_unique(cmd.conn(), &fields, None).await?;
        let now = now_ms();
        let row: SiteRow = sqlx::query_as(
            "INSERT INTO sites (kind, name, sponsor, parent_id, primary_domain, site_code, icp_filing, psb_filing, contact, \
             state, require_distinct_reviewer, created_at, updated_at, party_label_url) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING *",
        )
        .bind(kind.as_str())
        .bind(&fields.name)
        .bind(&fields.sponsor)
        .bind(input.parent_id)
        .bind(&fields.primary_domain)
        .bind(&fields.site_code)
        .bind(&fields.icp_filing)
        .bind(&fields.psb_filing)
        .bind(&fields.contact)
        .bind(SiteState::Applied.as_str())
        .bind(i64::from(fields.require_distinct_reviewer))
        .bind(now)
        .bind(&fields.party_label_url)
        .fetch_one(cmd.conn())
        .await?;
        write_domains(cmd.conn(), row.id, &fields).await?;
        cmd.audit(
            Audit::event(
                Some(row.id),
                "site",
                row.id,
                "apply",
                serde_json::json!({"name": row.name, "kind": kind.as_str(), "domains": fields.all_domains()}),
            )
            .moved(None, Some(SiteState::Applied.as_str())),
        )
        .await?;
        cmd.emit(Event::SiteChanged { site_id: row.id }).await?;
        cmd.commit().await?;
        Ok(self.site_view(&row, fields.aliases))
    }

    /// Changes a site's labels or domains. Refused with 409 when based on an old version.
    pub async fn update_site(&self, actor: &Actor, id: i64, p: SitePatch) -> AppResult<SiteView> {
        let mut cmd = self.begin(actor).await?;
        let cur = load_site(cmd.conn(), id).await?;
        cmd.require_role(id, &[Role::SiteAdmin]).await?;
        if cur.version != p.version {
            return Err(AppError::StaleVersion {
                message: format!("站点已被他人修改（您基于第 {} 版，当前为第 {} 版），未保存", p.version, cur.version),
                current_version: cur.version,
            });
        }
        if p.require_distinct_reviewer.is_some_and(|r| r != (cur.require_distinct_reviewer != 0)) {
            cmd.require_oversight(id, "更改「审核人不能是作者」设置").await?;
        }
        let cur_aliases = queries::aliases_of(cmd.conn(), id).await?;
        let pick = |new: Option<String>, old: Option<String>| match new {
            Some(n) => non_empty(Some(n)),
            None => old,
        };
        let fields = SiteFields {
            kind: cur.kind,
            name: p.name.unwrap_or(cur.name.clone()),
            sponsor: p.sponsor.unwrap_or(cur.sponsor.clone()),
            primary_domain: pick(p.primary_domain, cur.primary_domain.clone()),
            aliases: p.aliases.unwrap_or(cur_aliases),
            site_code: pick(p.site_code, cur.site_code.clone()),
            icp_filing: pick(p.icp_filing, cur.icp_filing.clone()),
            psb_filing: pick(p.psb_filing, cur.psb_filing.clone()),
            party_label_url: pick(p.party_label_url, cur.party_label_url.clone()),
            robots_txt: pick(p.robots_txt, cur.robots_txt.clone()),
            contact: p.contact.unwrap_or(cur.contact.clone()),
            require_distinct_reviewer: p.require_distinct_reviewer.unwrap_or(cur.require_distinct_reviewer != 0),
        }
        .validate(&self.config.rules())?;
        check_unique(cmd.conn(), &fields, Some(id)).await?;
        let row: SiteRow = sqlx::query_as(
            "UPDATE sites SET name = $1, sponsor = $2, primary_domain = $3, site_code = $4, icp_filing = $5, psb_filing = $6, \
             contact = $7, require_distinct_reviewer = $8, version = version + 1, updated_at = $9, party_label_url = $12, robots_txt = $13 \
             WHERE id = $10 AND version = $11 RETURNING *",
        )
        .bind(&fields.name)
        .bind(&fields.sponsor)
        .bind(&fields.primary_domain)
        .bind(&fields.site_code)
        .bind(&fields.icp_filing)
        .bind(&fields.psb_filing)
        .bind(&fields.contact)
        .bind(i64::from(fields.require_distinct_reviewer))
        .bind(now_ms())
        .bind(id)
        .bind(p.version)
        .bind(&fields.party_label_url)
        .bind(&fields.robots_txt)
        .fetch_optional(cmd.conn())
        .await?
        .ok_or_else(|| AppError::StaleVersion { message: "站点已被他人修改，未保存".into(), current_version: cur.version + 1 })?;
        write_domains(cmd.conn(), id, &fields).await?;
        cmd.audit(Audit::event(
            Some(id),
            "site",
            id,
            "update",
            serde_json::json!({
                "before": {"name": cur.name, "primary_domain": cur.primary_domain, "site_code": cur.site_code},
                "after": {"name": row.name, "primary_domain": row.primary_domain, "site_code": row.site_code, "domains": fields.all_domains()},
            }),
        ))
        .await?;
        cmd.emit(Event::SiteChanged { site_id: id }).await?;
        cmd.commit().await?;
        Ok(self.site_view(&row, fields.aliases))
    }

    /// Moves a site along its lifecycle. Only a system administrator or a site admin of a
    /// site above it may: nobody approves their own site.
    pub async fn transition_site(&self, actor: &Actor, id: i64, action: &str, comment: &str) -> AppResult<SiteView> {
        let act = SiteAction::parse(action).ok_or_else(|| {
            let all: Vec<&str> = SiteAction::ALL.iter().map(|a| a.as_str()).collect();
            AppError::field("action", "one_of", format!("操作「{action}」无效，应为：{}", all.join("、")))
        })?;
        let mut cmd = self.begin(actor).await?;
        let cur = load_site(cmd.conn(), id).await?;
        if !actor.is_admin && !crate::kernel::actor::admin_above(cmd.conn(), actor, id).await? {
            return Err(AppError::Forbidden(format!(
                "没有权限：「{}」须由系统管理员或上级站点管理员办理",
                act.label()
            )));
        }
        let from = cur.state;
        let to = act.apply(from).ok_or_else(|| {
            AppError::Conflict(format!("站点当前状态为「{}」，不能执行「{}」", from.label(), act.label()))
        })?;
        if matches!(act, SiteAction::Register | SiteAction::Online) && cur.site_code.is_none() {
            return Err(AppError::field("site_code", "required", "登记和上线前须填写网站标识码"));
        }
        if matches!(act, SiteAction::Online | SiteAction::Resume)
            && let Some(d) = &cur.primary_domain
            && let Err(v) = self.config.rules().check(cur.kind, d)
        {
            return Err(AppError::field("primary_domain", "domain_rule", format!("{}，整改后才能上线", v.message())));
        }
        let row: SiteRow = sqlx::query_as(
            "UPDATE sites SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4 RETURNING *",
        )
        .bind(to.as_str())
        .bind(now_ms())
        .bind(id)
        .bind(cur.version)
        .fetch_optional(cmd.conn())
        .await?
        .ok_or_else(|| AppError::Conflict("站点刚刚已被他人处理，请刷新后查看最新状态".into()))?;
        cmd.audit(
            Audit::event(Some(id), "site", id, act.as_str(), serde_json::json!({}))
                .moved(Some(from.as_str()), Some(to.as_str()))
                .saying(comment),
        )
        .await?;
        let aliases = queries::aliases_of(cmd.conn(), id).await?;
        cmd.emit(Event::SiteChanged { site_id: id }).await?;
        cmd.commit().await?;
        Ok(self.site_view(&row, aliases))
    }
}
