//! Reading columns.

use sqlx::AnyConnection;

use super::{ColumnRow, ColumnView};
use crate::app::App;
use crate::kernel::{AppError, AppResult};

pub async fn find_column(conn: &mut AnyConnection, id: i64) -> AppResult<Option<ColumnRow>> {
    Ok(sqlx::query_as("SELECT * FROM columns WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn load_column(conn: &mut AnyConnection, id: i64) -> AppResult<ColumnRow> {
    find_column(conn, id).await?.ok_or_else(|| AppError::not_found("栏目", id))
}

/// A site's columns by sort order.
pub async fn of_site(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<ColumnRow>> {
    Ok(sqlx::query_as("SELECT * FROM columns WHERE site_id = $1 ORDER BY sort_order, id")
        .bind(site_id)
        .fetch_all(conn)
        .await?)
}

/// The active column of a site with this name (reposts name their receiving column).
pub async fn active_named(conn: &mut AnyConnection, site_id: i64, name: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM columns WHERE site_id = $1 AND name = $2 AND status = 'active' ORDER BY id LIMIT 1",
    )
    .bind(site_id)
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

impl App {
    /// A site's columns in tree order (parents before children, then by sort order).
    pub async fn list_columns(&self, site_id: i64) -> AppResult<Vec<ColumnView>> {
        let mut c = self.db.pool.acquire().await?;
        crate::sites::load_site(&mut c, site_id).await?;
        let rows = of_site(&mut c, site_id).await?;
        let mut out = Vec::with_capacity(rows.len());
        fn walk(rows: &[ColumnRow], parent: Option<i64>, out: &mut Vec<ColumnView>) {
            for r in rows.iter().filter(|r| r.parent_id == parent) {
                out.push(ColumnView::from(r));
                walk(rows, Some(r.id), out);
            }
        }
        walk(&rows, None, &mut out);
        Ok(out)
    }

    /// A site's active columns in tree order.
    pub async fn active_columns(&self, site_id: i64) -> AppResult<Vec<ColumnView>> {
        Ok(self.list_columns(site_id).await?.into_iter().filter(|c| c.status == "active").collect())
    }

    /// A column of a site by its path segment.
    pub async fn column_id(&self, site_id: i64, slug: &str) -> AppResult<i64> {
        sqlx::query_scalar("SELECT id FROM columns WHERE site_id = $1 AND slug = $2")
            .bind(site_id)
            .bind(slug)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("站点 #{site_id} 没有栏目「{slug}」")))
    }

    pub async fn get_column(&self, id: i64) -> AppResult<ColumnView> {
        let mut c = self.db.pool.acquire().await?;
        Ok(ColumnView::from(&load_column(&mut c, id).await?))
    }
}
