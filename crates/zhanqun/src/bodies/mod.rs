//! Bodies (机构): the government bodies that handle letters and issue documents, with the
//! organisation or unified social credit code their index numbers are made from, and the
//! people who handle letters for them.

pub mod admin;
pub mod api;

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::disclosure::{DEFAULT_INDEX_SCHEME, check_credit_code, check_index_scheme, check_org_code};

use crate::app::App;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Body {
    pub id: i64,
    pub name: String,
    pub site_id: Option<i64>,
}

/// A body with the code and index-number scheme it issues documents under.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct CodedBody {
    pub id: i64,
    pub name: String,
    pub code: Option<String>,
    pub index_scheme: Option<String>,
}

pub async fn name_of(conn: &mut AnyConnection, id: i64) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM bodies WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// A body's code, if the body exists: `Some(None)` when it has none yet.
pub async fn code_of(conn: &mut AnyConnection, id: i64) -> AppResult<Option<Option<String>>> {
    Ok(sqlx::query_scalar("SELECT code FROM bodies WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn by_name(conn: &mut AnyConnection, name: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM bodies WHERE name = $1").bind(name).fetch_optional(conn).await?)
}

/// Adds a body in the caller's command (the letter importer creates the bodies it meets).
pub async fn insert(conn: &mut AnyConnection, name: &str, site_id: Option<i64>) -> AppResult<Body> {
    Ok(sqlx::query_as("INSERT INTO bodies (name, site_id, created_at) VALUES ($1, $2, $3) RETURNING id, name, site_id")
        .bind(name)
        .bind(site_id)
        .bind(now_ms())
        .fetch_one(conn)
        .await?)
}

impl App {
    /// Creates a handling body (system administrators).
    pub async fn create_body(&self, actor: &Actor, name: &str, site_id: Option<i64>) -> AppResult<Body> {
        actor.require_admin()?;
        let mut e = FieldErrors::new();
        e.required("name", "机构名称", name);
        e.max_chars("name", "机构名称", name, 100);
        e.into_result()?;
        let mut cmd = self.begin(actor).await?;
        if let Some(sid) = site_id {
            match crate::sites::load_site(cmd.conn(), sid).await {
                Ok(_) => {}
                Err(AppError::NotFound(_)) => {
                    return Err(AppError::field("site_id", "exists", format!("站点 #{sid} 不存在")));
                }
                Err(e) => return Err(e),
            }
        }
        if by_name(cmd.conn(), name.trim()).await?.is_some() {
            return Err(AppError::field("name", "unique", format!("机构「{}」已存在", name.trim())));
        }
        let b = insert(cmd.conn(), name.trim(), site_id).await?;
        cmd.audit(Audit::event(site_id, "body", b.id, "create", serde_json::json!({"name": b.name}))).await?;
        cmd.commit().await?;
        Ok(b)
    }

    pub async fn list_bodies(&self) -> AppResult<Vec<Body>> {
        Ok(sqlx::query_as("SELECT id, name, site_id FROM bodies ORDER BY id").fetch_all(&self.db.pool).await?)
    }

    /// A body by its name.
    pub async fn body_id(&self, name: &str) -> AppResult<i64> {
        let mut c = self.db.pool.acquire().await?;
        by_name(&mut c, name).await?.ok_or_else(|| AppError::NotFound(format!("机构「{name}」不存在")))
    }

    pub async fn body_name(&self, id: Option<i64>) -> AppResult<Option<String>> {
        match id {
            Some(id) => {
                let mut c = self.db.pool.acquire().await?;
                name_of(&mut c, id).await
            }
            None => Ok(None),
        }
    }

    /// Bodies with their codes, for the admin.
    pub async fn bodies_with_codes(&self) -> AppResult<Vec<CodedBody>> {
        Ok(sqlx::query_as("SELECT id, name, code, index_scheme FROM bodies ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Makes a person one of a body's letter handlers.
    pub async fn add_body_member(&self, actor: &Actor, body_id: i64, user_id: i64) -> AppResult<()> {
        actor.require_admin()?;
        let mut cmd = self.begin(actor).await?;
        sqlx::query(
            "INSERT INTO body_members (user_id, body_id) VALUES ($1, $2) ON CONFLICT (user_id, body_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(body_id)
        .execute(cmd.conn())
        .await
        .map_err(|_| AppError::field("user_id", "exists", "机构或用户不存在"))?;
        cmd.audit(Audit::event(None, "body", body_id, "add_member", serde_json::json!({"user_id": user_id}))).await?;
        cmd.commit().await
    }

    /// Whether the actor handles letters for the body (the city office handles all).
    pub async fn is_member(&self, actor: &Actor, body_id: Option<i64>) -> AppResult<bool> {
        if actor.is_admin {
            return Ok(true);
        }
        let (Some(u), Some(b)) = (actor.user_id, body_id) else { return Ok(false) };
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM body_members WHERE user_id = $1 AND body_id = $2")
            .bind(u)
            .bind(b)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(n > 0)
    }

    /// Sets a body's organisation code (9 characters) or unified social credit code (18).
    pub async fn set_body_code(&self, actor: &Actor, body_id: i64, code: &str) -> AppResult<()> {
        actor.require_admin()?;
        let code = code.trim().to_ascii_uppercase();
        if code.chars().count() == 18 {
            check_credit_code("code", &code)?;
        } else {
            check_org_code("code", &code)?;
        }
        let mut cmd = self.begin(actor).await?;
        let n = sqlx::query("UPDATE bodies SET code = $1 WHERE id = $2")
            .bind(&code)
            .bind(body_id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("机构", body_id));
        }
        cmd.audit(Audit::event(None, "body", body_id, "set_code", serde_json::json!({"code": code}))).await?;
        cmd.commit().await
    }

    /// Sets a body's index-number scheme (None: the national default). Numbers already
    /// assigned keep their form; the sequence carries on.
    pub async fn set_body_index_scheme(&self, actor: &Actor, body_id: i64, scheme: Option<&str>) -> AppResult<()> {
        actor.require_admin()?;
        let scheme = scheme.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = scheme {
            check_index_scheme("scheme", s)?;
        }
        let mut cmd = self.begin(actor).await?;
        let n = sqlx::query("UPDATE bodies SET index_scheme = $1 WHERE id = $2")
            .bind(scheme)
            .bind(body_id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("机构", body_id));
        }
        let detail = serde_json::json!({"index_scheme": scheme.unwrap_or(DEFAULT_INDEX_SCHEME)});
        cmd.audit(Audit::event(None, "body", body_id, "set_index_scheme", detail)).await?;
        cmd.commit().await
    }
}
