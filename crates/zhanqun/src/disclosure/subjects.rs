//! The subject list (主题分类): two levels, the national default seeded, kept by the web
//! office. Documents store a subject as its path (`first` or `first/second`), so the
//! catalog filters a first-level category with its second level without a join.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use zhanqun_domain::disclosure::check_subject_name;

use crate::app::App;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

/// A category of the subject list, with its second-level categories.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectNode {
    pub id: i64,
    pub name: String,
    /// What documents store: "first" or "first/second".
    pub path: String,
    pub retired: bool,
    #[schema(no_recursion)]
    pub children: Vec<SubjectNode>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    pub name: String,
    /// A first-level category: the new one is second-level under it.
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    pub name: Option<String>,
    pub retired: Option<bool>,
}

type SubjectRow = (i64, Option<i64>, String, i64);

async fn check_sibling_free(
    conn: &mut AnyConnection,
    parent: Option<i64>,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM subject_categories WHERE parent_id IS NOT DISTINCT FROM $1 AND name = $2 AND id <> $3",
    )
    .bind(parent)
    .bind(name)
    .bind(except.unwrap_or(0))
    .fetch_optional(&mut *conn)
    .await?;
    match taken {
        Some(_) => Err(AppError::field("name", "unique", format!("同一级下已有名为「{name}」的分类"))),
        None => Ok(()),
    }
}

/// Whether `subject` ("first" or "first/second") names a category in use.
pub(super) async fn in_list(conn: &mut AnyConnection, subject: &str) -> AppResult<bool> {
    let (first, second) = match subject.split_once('/') {
        Some((f, s)) => (f, Some(s)),
        None => (subject, None),
    };
    let parent: Option<i64> =
        sqlx::query_scalar("SELECT id FROM subject_categories WHERE parent_id IS NULL AND name = $1 AND retired = 0")
            .bind(first)
            .fetch_optional(&mut *conn)
            .await?;
    let (Some(parent), Some(second)) = (parent, second) else { return Ok(parent.is_some()) };
    let child: Option<i64> =
        sqlx::query_scalar("SELECT id FROM subject_categories WHERE parent_id = $1 AND name = $2 AND retired = 0")
            .bind(parent)
            .bind(second)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(child.is_some())
}

impl App {
    /// The subject list as a tree, in its order; retired categories only when asked for.
    pub async fn subjects(&self, include_retired: bool) -> AppResult<Vec<SubjectNode>> {
        let rows: Vec<SubjectRow> =
            sqlx::query_as("SELECT id, parent_id, name, retired FROM subject_categories ORDER BY sort_order, id")
                .fetch_all(&self.db.pool)
                .await?;
        let keep = |r: &&SubjectRow| include_retired || r.3 == 0;
        Ok(rows
            .iter()
            .filter(|r| r.1.is_none())
            .filter(keep)
            .map(|p| SubjectNode {
                id: p.0,
                name: p.2.clone(),
                path: p.2.clone(),
                retired: p.3 != 0,
                children: rows
                    .iter()
                    .filter(|c| c.1 == Some(p.0))
                    .filter(keep)
                    .map(|c| SubjectNode {
                        id: c.0,
                        name: c.2.clone(),
                        path: format!("{}/{}", p.2, c.2),
                        retired: c.3 != 0,
                        children: Vec::new(),
                    })
                    .collect(),
            })
            .collect())
    }

    /// Adds a category (first level, or second level under `parent_id`). The web office's job.
    pub async fn add_subject(&self, actor: &Actor, input: SubjectInput) -> AppResult<SubjectNode> {
        actor.require_admin()?;
        check_subject_name("name", &input.name)?;
        let name = input.name.trim().to_string();
        let mut cmd = self.begin(actor).await?;
        let mut path = name.clone();
        if let Some(p) = input.parent_id {
            let parent: Option<(Option<i64>, String)> =
                sqlx::query_as("SELECT parent_id, name FROM subject_categories WHERE id = $1")
                    .bind(p)
                    .fetch_optional(cmd.conn())
                    .await?;
            match parent {
                None => return Err(AppError::field("parent_id", "exists", format!("上级分类 #{p} 不存在"))),
                Some((Some(_), _)) => {
                    return Err(AppError::field("parent_id", "depth", "主题分类只有两级，二级分类下不能再建分类"));
                }
                Some((None, pname)) => path = format!("{pname}/{name}"),
            }
        }
        check_sibling_free(cmd.conn(), input.parent_id, &name, None).await?;
        let order: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(sort_order), 0) + 1 FROM subject_categories WHERE parent_id IS NOT DISTINCT FROM $1",
        )
        .bind(input.parent_id)
        .fetch_one(cmd.conn())
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO subject_categories (parent_id, name, sort_order, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(input.parent_id)
        .bind(&name)
        .bind(order)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(None, "subject", id, "create", serde_json::json!({"path": path}))).await?;
        cmd.commit().await?;
        Ok(SubjectNode { id, name, path, retired: false, children: Vec::new() })
    }

    /// Renames or retires (or brings back) a category. A rename carries the documents filed
    /// under it along; a retired category stays on its documents but takes no new ones.
    pub async fn update_subject(&self, actor: &Actor, id: i64, patch: SubjectPatch) -> AppResult<()> {
        actor.require_admin()?;
        let mut cmd = self.begin(actor).await?;
        let row: Option<SubjectRow> =
            sqlx::query_as("SELECT id, parent_id, name, retired FROM subject_categories WHERE id = $1")
                .bind(id)
                .fetch_optional(cmd.conn())
                .await?;
        let Some((_, parent, old_name, _)) = row else { return Err(AppError::not_found("主题分类", id)) };
        let prefix = match parent {
            Some(p) => {
                let pname: String = sqlx::query_scalar("SELECT name FROM subject_categories WHERE id = $1")
                    .bind(p)
                    .fetch_one(cmd.conn())
                    .await?;
                format!("{pname}/")
            }
            None => String::new(),
        };
        let old_path = format!("{prefix}{old_name}");
        if let Some(name) = patch.name.as_deref().map(str::trim).filter(|n| *n != old_name) {
            check_subject_name("name", name)?;
            check_sibling_free(cmd.conn(), parent, name, Some(id)).await?;
            let new_path = format!("{prefix}{name}");
            sqlx::query("UPDATE subject_categories SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name)
                .bind(now_ms())
                .bind(id)
                .execute(cmd.conn())
                .await?;
            // Documents filed under the category, or under one of its second-level categories.
            sqlx::query(
                "UPDATE disclosures SET subject = $1 || SUBSTR(subject, LENGTH($2) + 1) WHERE subject = $2 OR subject LIKE $3",
            )
            .bind(&new_path)
            .bind(&old_path)
            .bind(format!("{old_path}/%"))
            .execute(cmd.conn())
            .await?;
            cmd.audit(Audit::event(
                None,
                "subject",
                id,
                "rename",
                serde_json::json!({"from": old_path, "to": new_path}),
            ))
            .await?;
            super::catalog::bump(cmd.conn()).await?;
        }
        if let Some(retired) = patch.retired {
            sqlx::query("UPDATE subject_categories SET retired = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(retired))
                .bind(now_ms())
                .bind(id)
                .execute(cmd.conn())
                .await?;
            let action = if retired { "retire" } else { "restore" };
            cmd.audit(Audit::event(None, "subject", id, action, serde_json::json!({"path": old_path}))).await?;
        }
        // Documents' pages show their subject.
        cmd.emit(Event::SubjectsChanged).await?;
        cmd.commit().await
    }
}
