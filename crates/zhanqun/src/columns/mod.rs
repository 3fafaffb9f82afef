//! Columns (栏目, R2.1): a tree per site, each with a source, an owner and an update duty;
//! merged or closed through the platform when they cannot be kept up to date.

pub mod admin;
pub mod api;
pub mod queries;

use serde::{Deserialize, Deserializer, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::column::{ColumnKind, ColumnStatus, UpdateDuty, check_slug};
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::time::{fmt_time, now_ms};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event, Versioned};

pub use queries::load_column;

/// A column as the database holds it.
#[derive(Debug, Clone, FromRow)]
pub struct ColumnRow {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    #[sqlx(try_from = "String")]
    pub kind: ColumnKind,
    pub source: String,
    pub owner: String,
    pub duty: String,
    pub duty_days: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: ColumnStatus,
    pub merged_into: Option<i64>,
    pub sort_order: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ColumnRow {
    pub fn is_active(&self) -> bool {
        self.status == ColumnStatus::Active
    }

    /// Its address on its site.
    pub fn path(&self) -> String {
        format!("/columns/{}/", self.slug)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ColumnView {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    /// `news`, `notices`, `policy` or `general`.
    pub kind: String,
    pub kind_label: &'static str,
    pub source: String,
    pub owner: String,
    /// `daily`, `periodic` (every `duty_days` days) or `instant`.
    pub duty: String,
    pub duty_days: Option<i64>,
    /// `active`, `merged` or `closed`.
    pub status: String,
    pub merged_into: Option<i64>,
    pub sort_order: i64,
    pub path: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ColumnRow> for ColumnView {
    fn from(c: &ColumnRow) -> Self {
        ColumnView {
            id: c.id,
            site_id: c.site_id,
            parent_id: c.parent_id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            kind: c.kind.as_str().into(),
            kind_label: c.kind.label(),
            source: c.source.clone(),
            owner: c.owner.clone(),
            duty: c.duty.clone(),
            duty_days: c.duty_days,
            status: c.status.as_str().into(),
            merged_into: c.merged_into,
            sort_order: c.sort_order,
            path: c.path(),
            version: c.version,
            created_at: fmt_time(c.created_at),
            updated_at: fmt_time(c.updated_at),
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewColumn {
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub source: String,
    pub owner: String,
    pub duty: String,
    pub duty_days: Option<i64>,
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub sort_order: i64,
}

/// Distinguishes a missing field (no change) from an explicit `null` (clear it).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnPatch {
    pub version: i64,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub kind: Option<String>,
    pub source: Option<String>,
    pub owner: Option<String>,
    pub duty: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub duty_days: Option<Option<i64>>,
    /// `null` moves the column to the top level.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    pub sort_order: Option<i64>,
}

struct ColumnFields {
    name: String,
    slug: String,
    kind: String,
    source: String,
    owner: String,
    duty: String,
    duty_days: Option<i64>,
}

impl ColumnFields {
    fn validate(self) -> Result<(ColumnFields, ColumnKind, UpdateDuty), FieldErrors> {
        let mut e = FieldErrors::new();
        e.required("name", "栏目名称", &self.name);
        e.max_chars("name", "栏目名称", &self.name, 60);
        e.required("source", "信息来源", &self.source);
        e.max_chars("source", "信息来源", &self.source, 100);
        e.required("owner", "责任人", &self.owner);
        e.max_chars("owner", "责任人", &self.owner, 60);
        if let Err(fe) = check_slug("slug", &self.slug) {
            e.push(fe);
        }
        let kind = ColumnKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", "one_of", format!("栏目类型「{}」无效，应为 news、notices、policy 或 general", self.kind));
        }
        let duty = UpdateDuty::from_parts(&self.duty, self.duty_days).map_err(|fe| e.push(fe)).ok();
        match (kind, duty) {
            (Some(k), Some(d)) if e.is_empty() => Ok((self, k, d)),
            _ => Err(e),
        }
    }
}

/// Checks that `parent` can hold column `moving` (None when creating) on `site_id`.
async fn check_parent(conn: &mut AnyConnection, site_id: i64, parent: i64, moving: Option<i64>) -> AppResult<()> {
    let p = queries::find_column(conn, parent).await?;
    let Some(p) = p.filter(|p| p.site_id == site_id) else {
        return Err(AppError::field("parent_id", "exists", format!("上级栏目 #{parent} 不在本站点")));
    };
    if !p.is_active() {
        return Err(AppError::field("parent_id", "parent_state", format!("上级栏目「{}」已合并或关闭", p.name)));
    }
    if let Some(m) = moving {
        let mut cur = Some(parent);
        let mut steps = 0;
        while let Some(c) = cur {
            if c == m {
                return Err(AppError::field("parent_id", "no_cycle", "不能把栏目移到它自己或它的下级栏目之下"));
            }
            steps += 1;
            if steps > 64 {
                break;
            }
            cur = sqlx::query_scalar::<_, Option<i64>>("SELECT parent_id FROM columns WHERE id = $1")
                .bind(c)
                .fetch_optional(&mut *conn)
                .await?
                .flatten();
        }
    }
    Ok(())
}

async fn check_slug_free(conn: &mut AnyConnection, site_id: i64, slug: &str, self_id: Option<i64>) -> AppResult<()> {
    let other: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM columns WHERE site_id = $1 AND slug = $2")
        .bind(site_id)
        .bind(slug)
        .fetch_optional(conn)
        .await?;
    match other {
        Some((id, name)) if Some(id) != self_id => {
            Err(AppError::field("slug", "unique", format!("栏目路径「{slug}」已被本站栏目「{name}」使用")))
        }
        _ => Ok(()),
    }
}

fn column_audit<'a>(c: &ColumnRow, action: &'a str, detail: serde_json::Value) -> Audit<'a> {
    Audit::event(Some(c.site_id), "column", c.id, action, detail)
}

impl App {
    pub async fn create_column(&self, actor: &Actor, site_id: i64, input: NewColumn) -> AppResult<ColumnView> {
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, &[Role::SiteAdmin]).await?;
        let (f, kind, duty) = ColumnFields {
            name: input.name.trim().to_string(),
            slug: input.slug,
            kind: input.kind,
            source: input.source.trim().to_string(),
            owner: input.owner.trim().to_string(),
            duty: input.duty,
            duty_days: input.duty_days,
        }
        .validate()?;
        if let Some(p) = input.parent_id {
            check_parent(cmd.conn(), site_id, p, None).await?;
        }
        check_slug_free(cmd.conn(), site_id, &f.slug, None).await?;
        let now = now_ms();
        let row: ColumnRow = sqlx::query_as(
            "INSERT INTO columns (site_id, parent_id, name, slug, kind, source, owner, duty, duty_days, sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING *",
        )
        .bind(site_id)
        .bind(input.parent_id)
        .bind(&f.name)
        .bind(&f.slug)
        .bind(kind.as_str())
        .bind(&f.source)
        .bind(&f.owner)
        .bind(duty.kind_str())
        .bind(duty.every_days())
        .bind(input.sort_order)
        .bind(now)
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(
            column_audit(&row, "create", serde_json::json!({"name": row.name, "slug": row.slug}))
                .moved(None, Some("active")),
        )
        .await?;
        cmd.emit(Event::ColumnChanged { site_id: row.site_id, column_id: row.id }).await?;
        cmd.commit().await?;
        Ok(ColumnView::from(&row))
    }

    pub async fn update_column(&self, actor: &Actor, id: i64, p: ColumnPatch) -> AppResult<ColumnView> {
        let mut cmd = self.begin(actor).await?;
        let cur = load_column(cmd.conn(), id).await?;
        cmd.require_role(cur.site_id, &[Role::SiteAdmin]).await?;
        if cur.version != p.version {
            return Err(AppError::StaleVersion {
                message: format!("栏目已被他人修改（您基于第 {} 版，当前为第 {} 版），未保存", p.version, cur.version),
                current_version: cur.version,
            });
        }
        if !cur.is_active() {
            return Err(AppError::Conflict(format!("栏目「{}」已合并或关闭，不能修改", cur.name)));
        }
        let duty = p.duty.clone().unwrap_or(cur.duty.clone());
        let duty_days = match p.duty_days {
            Some(d) => d,
            None if duty == "periodic" => cur.duty_days,
            None => None,
        };
        let (f, kind, duty) = ColumnFields {
            name: p.name.map(|s| s.trim().to_string()).unwrap_or(cur.name.clone()),
            slug: p.slug.unwrap_or(cur.slug.clone()),
            kind: p.kind.unwrap_or(cur.kind.as_str().to_string()),
            source: p.source.map(|s| s.trim().to_string()).unwrap_or(cur.source.clone()),
            owner: p.owner.map(|s| s.trim().to_string()).unwrap_or(cur.owner.clone()),
            duty,
            duty_days,
        }
        .validate()?;
        let parent = p.parent_id.unwrap_or(cur.parent_id);
        if let Some(np) = parent
            && Some(np) != cur.parent_id
        {
            check_parent(cmd.conn(), cur.site_id, np, Some(id)).await?;
        }
        check_slug_free(cmd.conn(), cur.site_id, &f.slug, Some(id)).await?;
        let row: ColumnRow = sqlx::query_as(
            "UPDATE columns SET parent_id = $1, name = $2, slug = $3, kind = $4, source = $5, owner = $6, duty = $7, \
             duty_days = $8, sort_order = $9, version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12 RETURNING *",
        )
        .bind(parent)
        .bind(&f.name)
        .bind(&f.slug)
        .bind(kind.as_str())
        .bind(&f.source)
        .bind(&f.owner)
        .bind(duty.kind_str())
        .bind(duty.every_days())
        .bind(p.sort_order.unwrap_or(cur.sort_order))
        .bind(now_ms())
        .bind(id)
        .bind(p.version)
        .fetch_optional(cmd.conn())
        .await?
        .ok_or_else(|| AppError::StaleVersion { message: "栏目已被他人修改，未保存".into(), current_version: cur.version + 1 })?;
        cmd.audit(column_audit(
            &row,
            "update",
            serde_json::json!({"before": {"name": cur.name, "slug": cur.slug, "parent_id": cur.parent_id, "duty": cur.duty},
                               "after": {"name": row.name, "slug": row.slug, "parent_id": row.parent_id, "duty": row.duty}}),
        ))
        .await?;
        cmd.emit(Event::ColumnChanged { site_id: row.site_id, column_id: row.id }).await?;
        cmd.commit().await?;
        Ok(ColumnView::from(&row))
    }

    /// Merges column `id` into `into`: its documents and sub-columns move there and its
    /// address redirects there from now on.
    pub async fn merge_column(&self, actor: &Actor, id: i64, into: i64) -> AppResult<ColumnView> {
        let mut cmd = self.begin(actor).await?;
        let src = load_column(cmd.conn(), id).await?;
        cmd.require_role(src.site_id, &[Role::SiteAdmin]).await?;
        if !src.is_active() {
            return Err(AppError::Conflict(format!("栏目「{}」已合并或关闭", src.name)));
        }
        if into == id {
            return Err(AppError::field("into", "not_self", "不能把栏目合并到它自己"));
        }
        check_parent(cmd.conn(), src.site_id, into, Some(id)).await.map_err(|e| match e {
            AppError::Invalid(mut fe) => {
                for f in &mut fe.0 {
                    f.field = "into".into();
                    if f.rule == "no_cycle" {
                        f.message = "不能把栏目合并到它自己的下级栏目".into();
                    } else {
                        f.message = f.message.replace("上级栏目", "目标栏目");
                    }
                }
                AppError::Invalid(fe)
            }
            other => other,
        })?;
        cmd.claim(Versioned::Columns, id, src.version).await?;
        let c = cmd.conn();
        // Documents already in the target keep one membership; the rest move over.
        sqlx::query(
            "DELETE FROM document_columns WHERE column_id = $1 AND document_id IN (SELECT document_id FROM document_columns WHERE column_id = $2)",
        )
        .bind(id)
        .bind(into)
        .execute(&mut *c)
        .await?;
        let moved = sqlx::query("UPDATE document_columns SET column_id = $1 WHERE column_id = $2")
            .bind(into)
            .bind(id)
            .execute(&mut *c)
            .await?
            .rows_affected();
        sqlx::query("UPDATE documents SET canonical_column_id = $1 WHERE canonical_column_id = $2")
            .bind(into)
            .bind(id)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE columns SET parent_id = $1 WHERE parent_id = $2")
            .bind(into)
            .bind(id)
            .execute(&mut *c)
            .await?;
        let now = now_ms();
        let row: ColumnRow = sqlx::query_as(
            "UPDATE columns SET status = 'merged', merged_into = $1, version = version + 1, updated_at = $2 WHERE id = $3 RETURNING *",
        )
        .bind(into)
        .bind(now)
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        cmd.audit(
            column_audit(&row, "merge", serde_json::json!({"into": into, "documents_moved": moved}))
                .moved(Some("active"), Some("merged")),
        )
        .await?;
        cmd.emit(Event::ColumnChanged { site_id: row.site_id, column_id: row.id }).await?;
        cmd.emit(Event::ColumnChanged { site_id: row.site_id, column_id: into }).await?;
        cmd.commit().await?;
        Ok(ColumnView::from(&row))
    }

    /// Closes a column: it takes no new documents; its address answers 410 on the public site.
    pub async fn close_column(&self, actor: &Actor, id: i64) -> AppResult<ColumnView> {
        let mut cmd = self.begin(actor).await?;
        let cur = load_column(cmd.conn(), id).await?;
        cmd.require_role(cur.site_id, &[Role::SiteAdmin]).await?;
        if !cur.is_active() {
            return Err(AppError::Conflict(format!("栏目「{}」已合并或关闭", cur.name)));
        }
        let children: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM columns WHERE parent_id = $1 AND status = 'active'")
                .bind(id)
                .fetch_one(cmd.conn())
                .await?;
        if children > 0 {
            return Err(AppError::Conflict(format!(
                "栏目「{}」下还有 {children} 个启用的子栏目，请先合并或关闭它们",
                cur.name
            )));
        }
        cmd.claim(Versioned::Columns, id, cur.version).await?;
        let row: ColumnRow =
            sqlx::query_as("UPDATE columns SET status = 'closed', updated_at = $1 WHERE id = $2 RETURNING *")
                .bind(now_ms())
                .bind(id)
                .fetch_one(cmd.conn())
                .await?;
        cmd.audit(column_audit(&row, "close", serde_json::json!({})).moved(Some("active"), Some("closed"))).await?;
        cmd.emit(Event::ColumnChanged { site_id: row.site_id, column_id: row.id }).await?;
        cmd.commit().await?;
        Ok(ColumnView::from(&row))
    }
}
