//! Who is acting, and what they may do. Rights follow the management tree (R1.5): a site
//! admin of a site also acts as site admin of every site below it.

use sqlx::AnyConnection;
use zhanqun_domain::workflow::Role;

use super::error::{AppError, AppResult};

/// The administrators besides the system administrator (三员分立): each does their own job
/// and nothing of another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// People, their roles, passwords and sessions.
    Security,
    /// Reads and exports the audit trail, nothing else.
    Audit,
}

impl Duty {
    pub fn parse(s: &str) -> Option<Duty> {
        match s {
            "security" => Some(Duty::Security),
            "audit" => Some(Duty::Audit),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Duty::Security => "security",
            Duty::Audit => "audit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Duty::Security => "安全管理员",
            Duty::Audit => "审计管理员",
        }
    }
}

/// Who is acting: a signed-in person, or the system itself (scheduled jobs, the CLI).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    /// The system administrator: sites, columns, the calendar, jobs, the platform's settings.
    pub is_admin: bool,
    /// The security or audit administrator.
    pub duty: Option<Duty>,
    /// (site id, role) pairs held directly.
    pub roles: Vec<(i64, Role)>,
    /// The password was reset or has expired: nothing but choosing a new one until then.
    pub must_change_password: bool,
    /// Staff without two-factor sign-in where the configuration requires it: nothing but
    /// enrolling until then.
    pub must_enroll_two_factor: bool,
}

impl Actor {
    /// The platform itself, for work it does on its own (scheduled publishing) and for the
    /// operator at the server's console (the CLI), who holds every duty.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_string(),
            is_admin: true,
            duty: None,
            roles: Vec::new(),
            must_change_password: false,
            must_enroll_two_factor: false,
        }
    }

    /// Someone from the public without an account (a letter's writer, a commenter), as the
    /// audit trail names them.
    pub fn public(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_string(),
            is_admin: false,
            duty: None,
            roles: Vec::new(),
            must_change_password: false,
            must_enroll_two_factor: false,
        }
    }

    /// The platform itself or the console (no account): every duty is theirs.
    fn is_console(&self) -> bool {
        self.user_id.is_none() && self.is_admin
    }

    /// Whether the actor manages people, roles, passwords and sessions.
    pub fn manages_people(&self) -> bool {
        self.duty == Some(Duty::Security) || self.is_console()
    }

    /// Whether the actor reads and exports the whole audit trail.
    pub fn audits(&self) -> bool {
        self.duty == Some(Duty::Audit) || self.is_console()
    }

    pub fn require_security(&self) -> AppResult<()> {
        if self.manages_people() {
            Ok(())
        } else {
            Err(AppError::Forbidden("需要安全管理员权限：人员、角色、密码和会话由安全管理员管理（三员分立）".into()))
        }
    }

    pub fn require_audit(&self) -> AppResult<()> {
        if self.audits() {
            Ok(())
        } else {
            Err(AppError::Forbidden("需要审计管理员权限：全部操作记录由审计管理员查阅和导出（三员分立）".into()))
        }
    }

    pub fn holds(&self, site_id: i64, role: Role) -> bool {
        self.roles.iter().any(|&(s, r)| s == site_id && r == role)
    }

    /// Whether the actor holds any role directly on the site.
    pub fn on_site(&self, site_id: i64) -> bool {
        self.is_admin || self.roles.iter().any(|&(s, _)| s == site_id)
    }

    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin { Ok(()) } else { Err(AppError::Forbidden("需要系统管理员权限".into())) }
    }
}

/// Ids of the site's ancestors, nearest first. Stops at a cycle, which the API never lets
/// form. The one query of the site tree the kernel owns: permissions need it.
pub async fn ancestors(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut cur = site_id;
    while out.len() < 32 {
        let parent: Option<Option<i64>> = sqlx::query_scalar("SELECT parent_id FROM sites WHERE id = $1")
            .bind(cur)
            .fetch_optional(&mut *conn)
            .await?;
        match parent.flatten() {
            Some(p) if p != site_id && !out.contains(&p) => {
                out.push(p);
                cur = p;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Checks that `actor` holds one of `roles` on `site_id`. A site admin of an ancestor site
/// also counts as site admin here.
pub async fn require_role(conn: &mut AnyConnection, actor: &Actor, site_id: i64, roles: &[Role]) -> AppResult<()> {
    if actor.is_admin || roles.iter().any(|&r| actor.holds(site_id, r)) {
        return Ok(());
    }
    if roles.contains(&Role::SiteAdmin) && admin_above(conn, actor, site_id).await? {
        return Ok(());
    }
    let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    Err(AppError::Forbidden(format!("没有权限：需要本站点（#{site_id}）的「{}」角色", names.join("」或「"))))
}

/// Refuses unless the actor oversees `site_id` from outside it: a system administrator, or
/// site admin of a site above it. Separation of duties: the rules that keep a site's staff
/// in check (who reviews, whether reviewers must be independent) are not the staff's to set.
pub async fn require_oversight(conn: &mut AnyConnection, actor: &Actor, site_id: i64, what: &str) -> AppResult<()> {
    if actor.is_admin || actor.manages_people() || admin_above(conn, actor, site_id).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("{what}须由上级站点的管理员或系统管理员办理，本站人员不能自行设定")))
}

/// Whether the actor is site admin of a site above `site_id`.
pub async fn admin_above(conn: &mut AnyConnection, actor: &Actor, site_id: i64) -> AppResult<bool> {
    if actor.roles.iter().all(|&(_, r)| r != Role::SiteAdmin) {
        return Ok(false);
    }
    Ok(ancestors(conn, site_id).await?.into_iter().any(|a| actor.holds(a, Role::SiteAdmin)))
}

/// Checks that `actor` may see a site's internal data: any role on it, or site admin above it.
pub async fn require_any_role(conn: &mut AnyConnection, actor: &Actor, site_id: i64) -> AppResult<()> {
    if actor.on_site(site_id) || admin_above(conn, actor, site_id).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("没有权限：您在站点 #{site_id} 没有任何角色")))
}
