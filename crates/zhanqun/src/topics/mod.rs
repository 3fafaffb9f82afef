//! Topics for public concerns (专题, R5.1–R5.2): a page whose timeline shows each linked
//! update as it is published, newest first, stamped to the minute. An emergency topic names
//! its release procedure and the time allowed for the first release and for each update.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;
pub mod public;

use crate::app::App;
use crate::kernel::time::{fmt_local, now_ms};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

const STAFF: &[Role] = &[Role::Editor, Role::SiteAdmin];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTopic {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub emergency: bool,
    pub release_procedure: Option<String>,
    pub first_release_hours: Option<i64>,
    pub update_hours: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
struct TopicRow {
    id: i64,
    site_id: i64,
    title: String,
    summary: String,
    emergency: i64,
    release_procedure: Option<String>,
    first_release_hours: Option<i64>,
    update_hours: Option<i64>,
    created_at: i64,
    closed_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    pub document_id: i64,
    pub title: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicView {
    pub id: i64,
    pub site_id: i64,
    pub title: String,
    pub summary: String,
    pub emergency: bool,
    pub release_procedure: Option<String>,
    pub open: bool,
    /// Published updates, newest first.
    pub timeline: Vec<TimelineItem>,
    /// For an open emergency topic: when the next release is due.
    pub next_due: Option<String>,
    pub overdue: bool,
}

impl App {
    pub async fn create_topic(&self, actor: &Actor, site_id: i64, t: NewTopic) -> AppResult<TopicView> {
        let mut e = FieldErrors::new();
        e.required("title", "专题名称", &t.title);
        e.max_chars("title", "专题名称", &t.title, 100);
        e.max_chars("summary", "简介", &t.summary, 2000);
        if t.emergency {
            if t.release_procedure.as_deref().is_none_or(|p| p.trim().is_empty()) {
                e.add("release_procedure", "required", "突发事件专题须写明应急预案规定的发布程序");
            }
            if !t.first_release_hours.is_some_and(|h| (1..=72).contains(&h)) {
                e.add("first_release_hours", "range", "首次发布时限应为 1 到 72 小时");
            }
            if !t.update_hours.is_some_and(|h| (1..=168).contains(&h)) {
                e.add("update_hours", "range", "后续发布间隔应为 1 到 168 小时");
            }
        }
        e.into_result()?;
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, STAFF).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO topics (site_id, title, summary, emergency, release_procedure, first_release_hours, update_hours, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(site_id)
        .bind(t.title.trim())
        .bind(t.summary.trim())
        .bind(i64::from(t.emergency))
        .bind(t.release_procedure.as_deref().map(str::trim).filter(|_| t.emergency))
        .bind(t.first_release_hours.filter(|_| t.emergency))
        .bind(t.update_hours.filter(|_| t.emergency))
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(Some(site_id), "topic", id, "create", serde_json::json!({"emergency": t.emergency})))
            .await?;
        cmd.emit(Event::TopicChanged { site_id, topic_id: id }).await?;
        cmd.commit().await?;
        self.topic(id).await
    }

    /// Adds a document of the topic's site to its timeline (it shows once published).
    pub async fn add_topic_item(&self, actor: &Actor, topic_id: i64, document_id: i64) -> AppResult<TopicView> {
        let t = self.topic_row(topic_id).await?;
        let mut cmd = self.begin(actor).await?;
        cmd.require_role(t.site_id, STAFF).await?;
        let doc = crate::documents::load_document(cmd.conn(), document_id)
            .await
            .map_err(|_| AppError::field("document_id", "exists", format!("文档 #{document_id} 不存在")))?;
        if doc.site_id != t.site_id {
            return Err(AppError::field("document_id", "same_site", "只能加入本站的文档"));
        }
        if t.closed_at.is_some() {
            return Err(AppError::Conflict("专题已关闭".into()));
        }
        sqlx::query("INSERT INTO topic_items (topic_id, document_id, added_at) VALUES ($1, $2, $3) ON CONFLICT (topic_id, document_id) DO NOTHING")
            .bind(topic_id)
            .bind(document_id)
            .bind(now_ms())
            .execute(cmd.conn())
            .await?;
        cmd.audit(Audit::event(
            Some(t.site_id),
            "topic",
            topic_id,
            "add_item",
            serde_json::json!({"document": document_id}),
        ))
        .await?;
        cmd.emit(Event::TopicChanged { site_id: t.site_id, topic_id }).await?;
        cmd.commit().await?;
        self.topic(topic_id).await
    }

    async fn topic_row(&self, id: i64) -> AppResult<TopicRow> {
        sqlx::query_as(
            "SELECT id, site_id, title, summary, emergency, release_procedure, first_release_hours, update_hours, created_at, closed_at FROM topics WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| AppError::not_found("专题", id))
    }

    pub async fn topic(&self, id: i64) -> AppResult<TopicView> {
        let t = self.topic_row(id).await?;
        let items: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT d.id, e.title, d.first_published_at FROM topic_items i JOIN documents d ON d.id = i.document_id \
             JOIN editions e ON e.id = d.live_edition_id WHERE i.topic_id = $1 AND e.state = 'published' ORDER BY d.first_published_at DESC, d.id DESC",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        let last = items.iter().filter_map(|(_, _, at)| *at).max();
        let due_ms = match (t.emergency != 0 && t.closed_at.is_none(), last) {
            (true, Some(l)) => t.update_hours.map(|h| l + h * 3_600_000),
            (true, None) => t.first_release_hours.map(|h| t.created_at + h * 3_600_000),
            _ => None,
        };
        Ok(TopicView {
            id: t.id,
            site_id: t.site_id,
            title: t.title,
            summary: t.summary,
            emergency: t.emergency != 0,
            release_procedure: t.release_procedure,
            open: t.closed_at.is_none(),
            timeline: items
                .into_iter()
                .map(|(document_id, title, at)| TimelineItem {
                    document_id,
                    title,
                    at: at.map(fmt_local).unwrap_or_default(),
                })
                .collect(),
            next_due: due_ms.map(fmt_local),
            overdue: due_ms.is_some_and(|d| d < now_ms()),
        })
    }

    /// Open emergency topics of the actor's sites, with when their next release is due.
    pub async fn emergency_topics(&self, actor: &Actor) -> AppResult<Vec<TopicView>> {
        let ids: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, site_id FROM topics WHERE emergency = 1 AND closed_at IS NULL ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?;
        let mut out = Vec::new();
        for (id, site) in ids {
            if actor.is_admin || actor.roles.iter().any(|(s, _)| *s == site) {
                out.push(self.topic(id).await?);
            }
        }
        Ok(out)
    }

    /// Open topics of a site, newest first (for the home page banners).
    pub async fn open_topics(&self, site_id: i64) -> AppResult<Vec<TopicView>> {
        self.site_topics_where(site_id, false).await
    }

    /// Every topic of a site, open ones first, newest first (for the admin).
    pub async fn site_topics(&self, site_id: i64) -> AppResult<Vec<TopicView>> {
        self.site_topics_where(site_id, true).await
    }

    async fn site_topics_where(&self, site_id: i64, closed_too: bool) -> AppResult<Vec<TopicView>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM topics WHERE site_id = $1 AND (closed_at IS NULL OR $2 = 1) \
             ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END, id DESC",
        )
        .bind(site_id)
        .bind(i64::from(closed_too))
        .fetch_all(&self.db.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.topic(id).await?);
        }
        Ok(out)
    }

    /// Closes a topic: its page stays, its banner and its due updates go.
    pub async fn close_topic(&self, actor: &Actor, id: i64) -> AppResult<TopicView> {
        let t = self.topic_row(id).await?;
        let mut cmd = self.begin(actor).await?;
        cmd.require_role(t.site_id, STAFF).await?;
        let n = sqlx::query("UPDATE topics SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::Conflict("专题已关闭".into()));
        }
        cmd.audit(
            Audit::event(Some(t.site_id), "topic", id, "close", serde_json::json!({}))
                .moved(Some("open"), Some("closed")),
        )
        .await?;
        cmd.emit(Event::TopicChanged { site_id: t.site_id, topic_id: id }).await?;
        cmd.commit().await?;
        self.topic(id).await
    }
}
