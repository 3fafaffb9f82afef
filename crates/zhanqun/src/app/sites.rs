//! The site registry (R1): registering sites, their labels, domains and lifecycle.

use serde::Deserialize;
use sqlx::AnyConnection;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::domain_rules::DomainRules;
use zhanqun_domain::site::{
    SiteAction, SiteKind, SiteState, check_icp_filing, check_psb_filing, check_site_code, normalize_hostname,
};
use zhanqun_domain::workflow::Role;

use super::views::{AuditView, Compliance, SiteView, fmt_time};
use super::{Actor, App, Audit, ancestors, audit, require_any_role, require_role};
use crate::error::{AppError, AppResult};
use crate::store::now_ms;
use crate::store::rows::{AuditRow, SiteRow};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub require_distinct_reviewer: bool,
}

/// A change to a site. `version` is the version the change was based on.
#[derive(Debug, Clone, Deserialize)]
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
    pub contact: Option<String>,
    pub require_distinct_reviewer: Option<bool>,
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
                Ok(a) => aliases.push(a),
                Err(fe) => e.push(fe),
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

pub(crate) async fn load_site(conn: &mut AnyConnection, id: i64) -> AppResult<SiteRow> {
    sqlx::query_as("SELECT * FROM sites WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("站点", id))
}

async fn aliases_of(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT domain FROM site_domains WHERE site_id = $1 AND is_primary = 0 ORDER BY domain")
        .bind(site_id)
        .fetch_all(conn)
        .await?)
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
    fn site_view(&self, s: &SiteRow, aliases: Vec<String>) -> SiteView {
        let kind = SiteKind::parse(&s.kind).unwrap_or(SiteKind::Department);
        let state = SiteState::parse(&s.state).unwrap_or(SiteState::Applied);
        let compliance = match s.primary_domain.as_deref().map(|d| self.config.rules().check(kind, d)) {
            Some(Err(v)) => Compliance { compliant: false, message: Some(v.message()), rule: Some(v.rule) },
            _ => Compliance { compliant: true, rule: None, message: None },
        };
        SiteView {
            id: s.id,
            kind,
            kind_label: kind.label(),
            name: s.name.clone(),
            sponsor: s.sponsor.clone(),
            parent_id: s.parent_id,
            primary_domain: s.primary_domain.clone(),
            aliases,
            site_code: s.site_code.clone(),
            icp_filing: s.icp_filing.clone(),
            psb_filing: s.psb_filing.clone(),
            contact: s.contact.clone(),
            state,
            state_label: state.label(),
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
            contact: input.contact,
            require_distinct_reviewer: input.require_distinct_reviewer,
        };
        let validated = fields.validate(&self.config.rules());
        let mut errs = FieldErrors::new();
        let mut w = self.db.begin_write().await?;
        match input.parent_id {
            Some(pid) => {
                let parent: Option<SiteRow> =
                    sqlx::query_as("SELECT * FROM sites WHERE id = $1").bind(pid).fetch_optional(w.conn()).await?;
                match parent {
                    None => errs.add("parent_id", "exists", format!("上级站点 #{pid} 不存在")),
                    Some(p) if p.kind == SiteKind::Column.as_str() => {
                        errs.add("parent_id", "parent_kind", "栏目形式的站点下不能再开设站点")
                    }
                    Some(p) if p.state == SiteState::Closed.as_str() => {
                        errs.add("parent_id", "parent_state", format!("上级站点「{}」已关停", p.name))
                    }
                    Some(_) if kind == SiteKind::CityPortal => {
                        errs.add("parent_id", "no_parent", "市政府门户网站没有上级站点")
                    }
                    Some(_) => {}
                }
            }
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
            Some(pid) => require_role(w.conn(), actor, pid, &[Role::SiteAdmin]).await?,
            None => actor.require_admin()?,
        }
        check_unique(w.conn(), &fields, None).await?;
        let now = now_ms();
        let row: SiteRow = sqlx::query_as(
            "INSERT INTO sites (kind, name, sponsor, parent_id, primary_domain, site_code, icp_filing, psb_filing, contact, \
             state, require_distinct_reviewer, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *",
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
        .fetch_one(w.conn())
        .await?;
        write_domains(w.conn(), row.id, &fields).await?;
        audit(
            w.conn(),
            actor,
            Audit::event(
                Some(row.id),
                "site",
                row.id,
                "apply",
                serde_json::json!({"name": row.name, "kind": row.kind, "domains": fields.all_domains()}),
            )
            .moved(None, Some(SiteState::Applied.as_str())),
        )
        .await?;
        w.commit().await?;
        self.site_changed(row.id).await;
        Ok(self.site_view(&row, fields.aliases))
    }

    pub async fn get_site(&self, id: i64) -> AppResult<SiteView> {
        let mut c = self.db.pool.acquire().await?;
        let row = load_site(&mut c, id).await?;
        let aliases = aliases_of(&mut c, id).await?;
        Ok(self.site_view(&row, aliases))
    }

    /// All sites, optionally only those whose domain breaks a rule of the current configuration.
    pub async fn list_sites(&self, only_noncompliant: bool) -> AppResult<Vec<SiteView>> {
        let mut c = self.db.pool.acquire().await?;
        let rows: Vec<SiteRow> = sqlx::query_as("SELECT * FROM sites ORDER BY id").fetch_all(&mut *c).await?;
        let aliases: Vec<(i64, String)> =
            sqlx::query_as("SELECT site_id, domain FROM site_domains WHERE is_primary = 0 ORDER BY domain")
                .fetch_all(&mut *c)
                .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let a = aliases.iter().filter(|(s, _)| *s == r.id).map(|(_, d)| d.clone()).collect();
                self.site_view(r, a)
            })
            .filter(|v| !only_noncompliant || !v.domain_compliance.compliant)
            .collect())
    }

    /// Changes a site's labels or domains. Refused with 409 when based on an old version.
    pub async fn update_site(&self, actor: &Actor, id: i64, p: SitePatch) -> AppResult<SiteView> {
        let mut w = self.db.begin_write().await?;
        let cur = load_site(w.conn(), id).await?;
        require_role(w.conn(), actor, id, &[Role::SiteAdmin]).await?;
        if cur.version != p.version {
            return Err(AppError::StaleVersion {
                message: format!("站点已被他人修改（您基于第 {} 版，当前为第 {} 版），未保存", p.version, cur.version),
                current_version: cur.version,
            });
        }
        let kind = SiteKind::parse(&cur.kind).unwrap_or(SiteKind::Department);
        let cur_aliases = aliases_of(w.conn(), id).await?;
        let pick = |new: Option<String>, old: Option<String>| match new {
            Some(n) => non_empty(Some(n)),
            None => old,
        };
        let fields = SiteFields {
            kind,
            name: p.name.unwrap_or(cur.name.clone()),
            sponsor: p.sponsor.unwrap_or(cur.sponsor.clone()),
            primary_domain: pick(p.primary_domain, cur.primary_domain.clone()),
            aliases: p.aliases.unwrap_or(cur_aliases),
            site_code: pick(p.site_code, cur.site_code.clone()),
            icp_filing: pick(p.icp_filing, cur.icp_filing.clone()),
            psb_filing: pick(p.psb_filing, cur.psb_filing.clone()),
            contact: p.contact.unwrap_or(cur.contact.clone()),
            require_distinct_reviewer: p.require_distinct_reviewer.unwrap_or(cur.require_distinct_reviewer != 0),
        }
        .validate(&self.config.rules())?;
        check_unique(w.conn(), &fields, Some(id)).await?;
        let row: SiteRow = sqlx::query_as(
            "UPDATE sites SET name = $1, sponsor = $2, primary_domain = $3, site_code = $4, icp_filing = $5, psb_filing = $6, \
             contact = $7, require_distinct_reviewer = $8, version = version + 1, updated_at = $9 \
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
        .fetch_optional(w.conn())
        .await?
        .ok_or_else(|| AppError::StaleVersion { message: "站点已被他人修改，未保存".into(), current_version: cur.version + 1 })?;
        write_domains(w.conn(), id, &fields).await?;
        audit(
            w.conn(),
            actor,
            Audit {
                site_id: Some(id),
                entity: "site",
                entity_id: id,
                action: "update",
                from_state: None,
                to_state: None,
                comment: "",
                detail: serde_json::json!({
                    "before": {"name": cur.name, "primary_domain": cur.primary_domain, "site_code": cur.site_code},
                    "after": {"name": row.name, "primary_domain": row.primary_domain, "site_code": row.site_code, "domains": fields.all_domains()},
                }),
            },
        )
        .await?;
        w.commit().await?;
        self.site_changed(id).await;
        Ok(self.site_view(&row, fields.aliases))
    }

    /// Moves a site along its lifecycle. Only a system administrator or a site admin of a
    /// site above it may: nobody approves their own site.
    pub async fn transition_site(&self, actor: &Actor, id: i64, action: &str, comment: &str) -> AppResult<SiteView> {
        let act = SiteAction::parse(action).ok_or_else(|| {
            let all: Vec<&str> = SiteAction::ALL.iter().map(|a| a.as_str()).collect();
            AppError::field("action", "one_of", format!("操作「{action}」无效，应为：{}", all.join("、")))
        })?;
        let mut w = self.db.begin_write().await?;
        let cur = load_site(w.conn(), id).await?;
        if !actor.is_admin {
            let above = ancestors(w.conn(), id).await?;
            if !above.iter().any(|&a| actor.holds(a, Role::SiteAdmin)) {
                return Err(AppError::Forbidden(format!(
                    "没有权限：「{}」须由系统管理员或上级站点管理员办理",
                    act.label()
                )));
            }
        }
        let from = SiteState::parse(&cur.state).unwrap_or(SiteState::Applied);
        let to = act.apply(from).ok_or_else(|| {
            AppError::Conflict(format!("站点当前状态为「{}」，不能执行「{}」", from.label(), act.label()))
        })?;
        if matches!(act, SiteAction::Register | SiteAction::Online) && cur.site_code.is_none() {
            return Err(AppError::field("site_code", "required", "登记和上线前须填写网站标识码"));
        }
        if matches!(act, SiteAction::Online | SiteAction::Resume) {
            let kind = SiteKind::parse(&cur.kind).unwrap_or(SiteKind::Department);
            if let Some(d) = &cur.primary_domain
                && let Err(v) = self.config.rules().check(kind, d)
            {
                return Err(AppError::field(
                    "primary_domain",
                    "domain_rule",
                    format!("{}，整改后才能上线", v.message()),
                ));
            }
        }
        let row: SiteRow = sqlx::query_as(
            "UPDATE sites SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4 RETURNING *",
        )
        .bind(to.as_str())
        .bind(now_ms())
        .bind(id)
        .bind(cur.version)
        .fetch_optional(w.conn())
        .await?
        .ok_or_else(|| AppError::Conflict("站点刚刚已被他人处理，请刷新后查看最新状态".into()))?;
        audit(
            w.conn(),
            actor,
            Audit {
                site_id: Some(id),
                entity: "site",
                entity_id: id,
                action: act.as_str(),
                from_state: Some(from.as_str()),
                to_state: Some(to.as_str()),
                comment,
                detail: serde_json::json!({}),
            },
        )
        .await?;
        let aliases = aliases_of(w.conn(), id).await?;
        w.commit().await?;
        self.site_changed(id).await;
        Ok(self.site_view(&row, aliases))
    }

    /// The site's audit trail, oldest first: the site itself, its columns, documents and roles.
    pub async fn site_audit(&self, actor: &Actor, site_id: i64) -> AppResult<Vec<AuditView>> {
        let mut c = self.db.pool.acquire().await?;
        load_site(&mut c, site_id).await?;
        require_any_role(&mut c, actor, site_id).await?;
        let rows: Vec<AuditRow> = sqlx::query_as("SELECT * FROM audit_log WHERE site_id = $1 ORDER BY id")
            .bind(site_id)
            .fetch_all(&mut *c)
            .await?;
        Ok(rows.iter().map(AuditView::from).collect())
    }
}
