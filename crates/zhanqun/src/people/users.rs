//! People and their roles on sites.

use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::workflow::Role;

use super::UserRow;
use super::auth::{check_password_strength, hash_password};
use crate::app::App;
use crate::kernel::actor::{Duty, require_any_role};
use crate::kernel::time::{fmt_time, now_ms};
use crate::kernel::{Actor, AppError, AppResult, Audit};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub password: String,
    /// A system administrator (sites, columns, the calendar, jobs).
    #[serde(default)]
    pub is_admin: bool,
    /// `security` (people, roles, passwords, sessions) or `audit` (the audit trail); none
    /// for everyone else. One duty per account, and not with `is_admin` (三员分立).
    #[serde(default)]
    pub duty: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    /// `security` or `audit`, when the account is one of those administrators.
    pub duty: Option<String>,
    pub disabled: bool,
    pub locked: bool,
    pub created_at: String,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_admin: u.is_admin != 0,
            duty: u.duty.clone(),
            disabled: u.disabled != 0,
            locked: u.locked_until.is_some_and(|t| t > now_ms()),
            created_at: fmt_time(u.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub user_id: i64,
    pub username: String,
    pub site_id: i64,
    /// `site_admin`, `editor`, `secrecy_reviewer` or `editorial_reviewer`.
    #[schema(value_type = String)]
    pub role: Role,
    pub role_label: &'static str,
}

/// Who gives and takes roles on a site: the security administrator, or a site admin of the
/// site or of one above it. Not the system administrator as such (三员分立: people are not
/// theirs to manage).
async fn require_role_granter(cmd: &mut crate::kernel::Command<'_>, site_id: i64) -> AppResult<()> {
    let actor = cmd.actor();
    if actor.manages_people() {
        return Ok(());
    }
    if actor.is_admin
        && !actor.holds(site_id, Role::SiteAdmin)
        && !crate::kernel::actor::admin_above(cmd.conn(), actor, site_id).await?
    {
        return Err(AppError::Forbidden(
            "角色由安全管理员或本站点（及上级站点）的管理员授予；系统管理员不管理人员（三员分立）".into(),
        ));
    }
    cmd.require_role(site_id, &[Role::SiteAdmin]).await
}

fn check_username(name: &str) -> AppResult<()> {
    let ok = (2..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AppError::field("username", "username_format", "用户名为 2 到 64 位英文字母、数字、点、下划线或连字符"))
    }
}

/// What a person may do to a site from outside its content ([`App::site_powers`]).
#[derive(Debug, Clone, Copy)]
pub struct SitePowers {
    /// Grants review roles and keeps the "reviewer is not the author" setting: a system
    /// administrator, the security administrator, or the admin of a site above.
    pub oversees: bool,
    /// Moves the site through its lifecycle: a system administrator or the admin of a site above.
    pub moves: bool,
    /// Grants and revokes roles on it: the security administrator, the site's own admin and
    /// the admins of the sites above — never the system administrator as such (三员分立).
    pub grants: bool,
}

impl App {
    /// Creates a person. Only the security administrator may (the CLI acts as one).
    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> AppResult<UserView> {
        actor.require_security()?;
        let mut errs = FieldErrors::new();
        let duty = input.duty.as_deref().map(str::trim).filter(|d| !d.is_empty());
        match duty.map(|d| (d, Duty::parse(d))) {
            Some((d, None)) => errs.add("duty", "one_of", format!("职责「{d}」无效，应为 security 或 audit")),
            Some(_) if input.is_admin => {
                errs.add("duty", "one_duty", "三员分立：系统管理员、安全管理员、审计管理员须是三个不同的账号")
            }
            _ => {}
        }
        let duty = duty.and_then(Duty::parse);
        if let Err(AppError::Invalid(e)) = check_username(&input.username) {
            errs.0.extend(e.0);
        }
        if let Err(AppError::Invalid(e)) = check_password_strength(&input.password) {
            errs.0.extend(e.0);
        }
        errs.max_chars("display_name", "姓名", &input.display_name, 64);
        errs.into_result()?;
        let hash = hash_password(&input.password)?;
        let display = if input.display_name.trim().is_empty() {
            input.username.clone()
        } else {
            input.display_name.trim().to_string()
        };
        let mut cmd = self.begin(actor).await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(&input.username)
            .fetch_optional(cmd.conn())
            .await?;
        if exists.is_some() {
            return Err(AppError::field("username", "unique", format!("用户名「{}」已被使用", input.username)));
        }
        let row: UserRow = sqlx::query_as(
            "INSERT INTO users (username, display_name, password_hash, is_admin, duty, created_at, password_changed_at, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING *",
        )
        .bind(&input.username)
        .bind(&display)
        .bind(&hash)
        .bind(i64::from(input.is_admin))
        .bind(duty.map(Duty::as_str))
        .bind(now_ms())
        // The first password comes from the security administrator: its owner replaces it at
        // the first sign-in. (At the console the operator chooses their own.)
        .bind(i64::from(actor.user_id.is_some()))
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(
                None,
                "user",
                row.id,
                "create",
                serde_json::json!({"username": row.username, "is_admin": input.is_admin, "duty": duty.map(Duty::as_str)}),
            )
            .moved(None, Some("active")),
        )
        .await?;
        cmd.commit().await?;
        Ok(UserView::from(&row))
    }

    pub async fn list_users(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        actor.require_security()?;
        let rows: Vec<UserRow> = sqlx::query_as("SELECT * FROM users ORDER BY id").fetch_all(&self.db.pool).await?;
        Ok(rows.iter().map(UserView::from).collect())
    }

    pub async fn user_by_name(&self, username: &str) -> AppResult<UserRow> {
        sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("用户「{username}」不存在")))
    }

    /// Disables a person: their tokens stop working at once; their records stay.
    pub async fn disable_user(&self, actor: &Actor, user_id: i64) -> AppResult<UserView> {
        actor.require_security()?;
        if actor.user_id == Some(user_id) {
            return Err(AppError::Forbidden("不能停用自己的账号，请由其他安全管理员办理".into()));
        }
        let mut cmd = self.begin(actor).await?;
        let row: UserRow = sqlx::query_as("UPDATE users SET disabled = 1 WHERE id = $1 RETURNING *")
            .bind(user_id)
            .fetch_optional(cmd.conn())
            .await?
            .ok_or_else(|| AppError::not_found("用户", user_id))?;
        sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE user_id = $2 AND expires_at > $1")
            .bind(now_ms())
            .bind(user_id)
            .execute(cmd.conn())
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(cmd.conn()).await?;
        cmd.audit(
            Audit::event(None, "user", user_id, "disable", serde_json::json!({}))
                .moved(Some("active"), Some("disabled")),
        )
        .await?;
        cmd.commit().await?;
        Ok(UserView::from(&row))
    }

    /// Whether `actor` oversees `site_id` from outside it (a system administrator, or site
    /// admin of a site above): who may grant its review roles and set reviewer independence.
    pub async fn oversees(&self, actor: &Actor, site_id: i64) -> AppResult<bool> {
        Ok(self.site_powers(actor, site_id).await?.oversees)
    }

    /// What `actor` may do to a site from outside its content, in one look at the tree.
    pub async fn site_powers(&self, actor: &Actor, site_id: i64) -> AppResult<SitePowers> {
        let mut c = self.db.pool.acquire().await?;
        let above = crate::kernel::actor::admin_above(&mut c, actor, site_id).await?;
        Ok(SitePowers {
            oversees: actor.is_admin || actor.manages_people() || above,
            moves: actor.is_admin || above,
            grants: actor.manages_people() || actor.holds(site_id, Role::SiteAdmin) || above,
        })
    }

    /// Gives a person a role on a site: the security administrator, or the site admin of
    /// the site (or a site above it); review roles only from outside the site; never to
    /// oneself, never to one of the three administrators.
    pub async fn grant_role(&self, actor: &Actor, site_id: i64, user_id: i64, role: &str) -> AppResult<RoleGrant> {
        let role = Role::parse(role).ok_or_else(|| {
            AppError::field(
                "role",
                "one_of",
                "角色无效，应为 site_admin、editor、secrecy_reviewer 或 editorial_reviewer",
            )
        })?;
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        require_role_granter(&mut cmd, site_id).await?;
        if actor.user_id == Some(user_id) {
            return Err(AppError::Forbidden("不能给自己授予角色，请由其他管理员办理".into()));
        }
        if matches!(role, Role::SecrecyReviewer | Role::EditorialReviewer) {
            cmd.require_oversight(site_id, &format!("授予「{}」角色", role.label())).await?;
        }
        let user: UserRow = sqlx::query_as("SELECT * FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(cmd.conn())
            .await?
            .ok_or_else(|| AppError::field("user_id", "exists", format!("用户 #{user_id} 不存在")))?;
        if user.is_admin != 0 || user.duty.is_some() {
            return Err(AppError::Forbidden(format!(
                "「{}」是{}：系统管理员、安全管理员和审计管理员各司其职，不在网站担任角色（三员分立）",
                user.username,
                if user.is_admin != 0 {
                    "系统管理员"
                } else if user.duty.as_deref() == Some("security") {
                    "安全管理员"
                } else {
                    "审计管理员"
                }
            )));
        }
        sqlx::query(
            "INSERT INTO site_roles (user_id, site_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, site_id, role) DO NOTHING",
        )
        .bind(user_id)
        .bind(site_id)
        .bind(role.as_str())
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(Some(site_id), "user", user_id, "grant_role", serde_json::json!({"username": user.username}))
                .moved(None, Some(role.as_str())),
        )
        .await?;
        cmd.commit().await?;
        Ok(RoleGrant { user_id, username: user.username, site_id, role, role_label: role.label() })
    }

    pub async fn revoke_role(&self, actor: &Actor, site_id: i64, user_id: i64, role: &str) -> AppResult<()> {
        let role = Role::parse(role).ok_or_else(|| AppError::NotFound(format!("角色「{role}」不存在")))?;
        let mut cmd = self.begin(actor).await?;
        require_role_granter(&mut cmd, site_id).await?;
        let n = sqlx::query("DELETE FROM site_roles WHERE user_id = $1 AND site_id = $2 AND role = $3")
            .bind(user_id)
            .bind(site_id)
            .bind(role.as_str())
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::NotFound("该用户在本站点没有这个角色".into()));
        }
        cmd.audit(
            Audit::event(Some(site_id), "user", user_id, "revoke_role", serde_json::json!({}))
                .moved(Some(role.as_str()), None),
        )
        .await?;
        cmd.commit().await?;
        Ok(())
    }

    pub async fn site_roles(&self, actor: &Actor, site_id: i64) -> AppResult<Vec<RoleGrant>> {
        let mut c = self.db.pool.acquire().await?;
        if !actor.manages_people() {
            require_any_role(&mut c, actor, site_id).await?;
        }
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT r.user_id, u.username, r.role FROM site_roles r JOIN users u ON u.id = r.user_id \
             WHERE r.site_id = $1 ORDER BY u.username, r.role",
        )
        .bind(site_id)
        .fetch_all(&mut *c)
        .await?;
        rows.into_iter()
            .map(|(user_id, username, r)| {
                let role = Role::try_from(r).map_err(|e| AppError::Internal(e.into()))?;
                Ok(RoleGrant { user_id, username, site_id, role, role_label: role.label() })
            })
            .collect()
    }

    /// The people offered when giving a role on a site: for a system administrator everyone
    /// (the disabled too, on the people page); for a site admin only the people who already
    /// hold a role on a site they administer or one below it. Anyone else is granted by their
    /// exact user name, so no admin login can list every account and real name.
    pub async fn users_to_grant(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        if actor.manages_people() {
            return self.list_users(actor).await;
        }
        let tree: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, parent_id FROM sites").fetch_all(&self.db.pool).await?;
        let mut mine: Vec<i64> =
            actor.roles.iter().filter(|&&(_, r)| r == Role::SiteAdmin).map(|&(site, _)| site).collect();
        // Sites below, level by level (the tree is shallow; a cycle cannot grow the list forever).
        let mut i = 0;
        while i < mine.len() {
            let parent = mine[i];
            for &(id, p) in &tree {
                if p == Some(parent) && !mine.contains(&id) {
                    mine.push(id);
                }
            }
            i += 1;
        }
        // One query for every site in the subtree (the list is short: sites one admin runs).
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=mine.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT * FROM users WHERE disabled = 0 AND id IN (SELECT user_id FROM site_roles WHERE site_id IN ({}))",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
        for site in &mine {
            q = q.bind(*site);
        }
        let mut rows = q.fetch_all(&self.db.pool).await?;
        rows.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(rows.iter().map(UserView::from).collect())
    }
}
