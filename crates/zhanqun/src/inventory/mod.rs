//! The content inventory (信息内容清单, R2.3): for each kind of information a site releases,
//! its release category, time limit and owner, and the column it is released in. The
//! dashboard shows what is due or late:
//! - 日常 (routine): the column should be updated at least every `limit_days` working days;
//! - 定期 (periodic): a release every `limit_days` calendar days (monthly statistics: 30);
//! - 即时 (immediate): within `limit_days` working days of each recorded event.

use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;

use crate::app::App;
use crate::kernel::time::{fmt_local, local_date, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Release categories with their labels.
pub const CATEGORIES: &[(&str, &str)] = &[("routine", "日常"), ("periodic", "定期"), ("immediate", "即时")];

/// Days before the due date from which an item shows as due.
const DUE_SOON_DAYS: i64 = 3;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryInput {
    pub name: String,
    pub category: String,
    pub limit_days: i64,
    pub owner: String,
    pub column_id: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub occurred_on: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InventoryItem {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub name: String,
    pub category: String,
    pub category_label: &'static str,
    pub limit_days: i64,
    pub owner: String,
    pub column_id: i64,
    pub column_name: String,
    /// The last release in the column, as local time.
    pub last_release: Option<String>,
    /// When the next release is due (YYYY-MM-DD); none when nothing is pending.
    pub due: Option<String>,
    /// `ok`, `due` (within three days) or `late`.
    pub status: &'static str,
    pub status_label: &'static str,
}

type ItemRow = (i64, i64, String, String, String, i64, String, i64, String, Option<i64>, i64);

impl App {
    /// Adds a kind of information to a site's inventory.
    pub async fn add_inventory_item(&self, actor: &Actor, site_id: i64, i: InventoryInput) -> AppResult<InventoryItem> {
        let mut e = FieldErrors::new();
        let name = i.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            e.add("name", "length", "信息名称应为 1 到 60 个字");
        }
        if !CATEGORIES.iter().any(|(k, _)| *k == i.category) {
            e.add("category", "one_of", "发布类别应为 routine（日常）、periodic（定期）或 immediate（即时）");
        }
        if !(1..=366).contains(&i.limit_days) {
            e.add("limit_days", "range", "时限应为 1 到 366 天");
        }
        if i.owner.trim().is_empty() {
            e.add("owner", "required", "请填写责任人或责任处室");
        }
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, &[Role::SiteAdmin]).await?;
        let col: Option<i64> = sqlx::query_scalar("SELECT site_id FROM columns WHERE id = $1 AND status = 'active'")
            .bind(i.column_id)
            .fetch_optional(cmd.conn())
            .await?;
        if col != Some(site_id) {
            e.add("column_id", "exists", "发布栏目须是本网站正在使用的栏目");
        }
        e.into_result()?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO inventory_items (site_id, name, category, limit_days, owner, column_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(site_id)
        .bind(name)
        .bind(&i.category)
        .bind(i.limit_days)
        .bind(i.owner.trim())
        .bind(i.column_id)
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(inventory_audit(site_id, id, "create", serde_json::json!({"name": name, "category": i.category})))
            .await?;
        cmd.commit().await?;
        self.inventory_item(id).await
    }

    /// Takes a kind of information off the inventory (kept in the record).
    pub async fn retire_inventory_item(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        let site: Option<i64> =
            sqlx::query_scalar("SELECT site_id FROM inventory_items WHERE id = $1 AND retired_at IS NULL")
                .bind(id)
                .fetch_optional(cmd.conn())
                .await?;
        let site = site.ok_or_else(|| AppError::not_found("清单项", id))?;
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        sqlx::query("UPDATE inventory_items SET retired_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(cmd.conn())
            .await?;
        cmd.audit(inventory_audit(site, id, "retire", serde_json::json!({}))).await?;
        cmd.commit().await?;
        Ok(())
    }

    /// Records an event that starts the clock of an immediate item.
    pub async fn record_inventory_event(&self, actor: &Actor, id: i64, ev: EventInput) -> AppResult<InventoryItem> {
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT site_id, category FROM inventory_items WHERE id = $1 AND retired_at IS NULL")
                .bind(id)
                .fetch_optional(cmd.conn())
                .await?;
        let (site, category) = row.ok_or_else(|| AppError::not_found("清单项", id))?;
        cmd.require_role(site, &[Role::Editor, Role::SiteAdmin]).await?;
        if category != "immediate" {
            return Err(AppError::field("occurred_on", "category", "只有即时发布类的信息需要登记发生的事项"));
        }
        let day = parse_date(&ev.occurred_on)
            .ok_or_else(|| AppError::field("occurred_on", "date", "日期格式应为 YYYY-MM-DD"))?;
        if day > today() {
            return Err(AppError::field("occurred_on", "not_future", "发生日期不能晚于今天"));
        }
        sqlx::query(
            "INSERT INTO inventory_events (item_id, occurred_on, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(fmt_date(day))
        .bind(ev.note.trim())
        .bind(&actor.name)
        .bind(now_ms())
        .execute(cmd.conn())
        .await?;
        cmd.audit(inventory_audit(site, id, "event", serde_json::json!({"occurred_on": fmt_date(day)}))).await?;
        cmd.commit().await?;
        self.inventory_item(id).await
    }

    /// One item of the inventory, with when it is due.
    async fn inventory_item(&self, id: i64) -> AppResult<InventoryItem> {
        self.inventory_where(None, Some(id)).await?.pop().ok_or_else(|| AppError::not_found("清单项", id))
    }

    /// The inventory of one site, or of every site, each item with when it is due.
    pub async fn inventory(&self, site: Option<i64>) -> AppResult<Vec<InventoryItem>> {
        self.inventory_where(site, None).await
    }

    async fn inventory_where(&self, site: Option<i64>, item: Option<i64>) -> AppResult<Vec<InventoryItem>> {
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT i.id, i.site_id, s.name, i.name, i.category, i.limit_days, i.owner, i.column_id, c.name, \
             (SELECT MAX(d.first_published_at) FROM document_columns dc JOIN documents d ON d.id = dc.document_id \
               JOIN editions e ON e.id = d.live_edition_id WHERE dc.column_id = i.column_id AND e.state = 'published'), i.created_at \
             FROM inventory_items i JOIN sites s ON s.id = i.site_id JOIN columns c ON c.id = i.column_id \
             WHERE i.retired_at IS NULL AND (CAST($1 AS BIGINT) IS NULL OR i.site_id = $1) \
             AND (CAST($2 AS BIGINT) IS NULL OR i.id = $2) ORDER BY i.site_id, i.id",
        )
        .bind(site)
        .bind(item)
        .fetch_all(&self.db.pool)
        .await?;
        let cal = self.calendar.load();
        let today_d = today();
        let mut out = Vec::with_capacity(rows.len());
        for (id, site_id, site_name, name, category, limit, owner, column_id, column_name, last, created) in rows {
            let last_day = last.map(local_date);
            // Counted from the last release, or from when the item joined the inventory.
            let since = last_day.unwrap_or_else(|| local_date(created));
            let due = match category.as_str() {
                "periodic" => Some(since + time::Duration::days(limit)),
                "routine" => cal.add_working_days(since, limit as u32).map(|d| d.due),
                _ => {
                    // The oldest event after the last release day (a release on the event's
                    // own day answers it).
                    let pending: Option<String> = sqlx::query_scalar(
                        "SELECT MIN(occurred_on) FROM inventory_events WHERE item_id = $1 AND occurred_on > $2",
                    )
                    .bind(id)
                    .bind(last_day.map(fmt_date).unwrap_or_default())
                    .fetch_one(&self.db.pool)
                    .await?;
                    let pending = pending.as_deref().and_then(parse_date);
                    pending.and_then(|d| cal.add_working_days(d, limit as u32)).map(|d| d.due)
                }
            };
            let (status, status_label) = match due {
                Some(d) if d < today_d => ("late", "已逾期"),
                Some(d) if (d - today_d).whole_days() <= DUE_SOON_DAYS => ("due", "即将到期"),
                _ => ("ok", "正常"),
            };
            out.push(InventoryItem {
                id,
                site_id,
                site_name,
                name,
                category_label: CATEGORIES.iter().find(|(k, _)| *k == category).map_or("", |(_, l)| *l),
                category,
                limit_days: limit,
                owner,
                column_id,
                column_name,
                last_release: last.map(fmt_local),
                due: due.map(fmt_date),
                status,
                status_label,
            });
        }
        Ok(out)
    }

    /// Inventory items due or late on the sites the actor works on, latest first.
    pub async fn inventory_attention(&self, actor: &Actor) -> AppResult<Vec<InventoryItem>> {
        let mut items: Vec<InventoryItem> = self
            .inventory(None)
            .await?
            .into_iter()
            .filter(|i| i.status != "ok")
            .filter(|i| actor.on_site(i.site_id))
            .collect();
        items.sort_by(|a, b| a.due.cmp(&b.due));
        Ok(items)
    }
}

fn inventory_audit(site: i64, id: i64, action: &str, detail: serde_json::Value) -> Audit<'_> {
    Audit::event(Some(site), "inventory", id, action, detail)
}
