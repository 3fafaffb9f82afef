//! Interpretations linked to the policies they explain, and responses to hot issues linked
//! to the policies concerned (R4.1, R5.2); both pages show the link.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::time::{fmt_local, local_date, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

/// A link between an interpretation (or response) and a policy, seen from one of them.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct LinkView {
    pub interpretation_id: i64,
    pub policy_id: i64,
    /// The document at the other end, and its title.
    pub other_id: i64,
    pub other_title: String,
    /// `text`, `graphic`, `interview`, `video` or `response`.
    pub kind: String,
}

/// An important policy still waiting for a published interpretation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Awaiting {
    pub document_id: i64,
    pub title: String,
    /// `YYYY-MM-DD HH:MM`, China Standard Time.
    pub published: String,
}

/// How many interpretations a policy has (a policy with any cannot be deleted).
pub async fn count_for_policy(conn: &mut AnyConnection, policy: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM interpretation_links WHERE policy_id = $1")
        .bind(policy)
        .fetch_one(conn)
        .await?)
}

/// A published document linked to `doc_id`, for its page: (id, site, title, kind).
pub type Linked = (i64, i64, String, String);

/// The published interpretations and responses of a policy, and the published policies a
/// document interprets.
pub async fn published_links(conn: &mut AnyConnection, doc_id: i64) -> AppResult<(Vec<Linked>, Vec<Linked>)> {
    let of: Vec<Linked> = sqlx::query_as(
        "SELECT d.id, d.site_id, e.title, l.kind FROM interpretation_links l JOIN documents d ON d.id = l.interpretation_id \
         JOIN editions e ON e.id = d.live_edition_id WHERE l.policy_id = $1 AND e.state = 'published' ORDER BY d.id",
    )
    .bind(doc_id)
    .fetch_all(&mut *conn)
    .await?;
    let interprets: Vec<Linked> = sqlx::query_as(
        "SELECT d.id, d.site_id, e.title, l.kind FROM interpretation_links l JOIN documents d ON d.id = l.policy_id \
         JOIN editions e ON e.id = d.live_edition_id WHERE l.interpretation_id = $1 AND e.state = 'published' ORDER BY d.id",
    )
    .bind(doc_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok((of, interprets))
}

/// Whether sanitised HTML holds an image with a non-empty text alternative.
fn has_described_image(html: &str) -> bool {
    html.match_indices("<img").any(|(i, _)| {
        let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
        tag.split("alt=\"").nth(1).and_then(|r| r.split('"').next()).is_some_and(|a| !a.trim().is_empty())
    })
}

impl App {
    /// The interpretation links a document is part of, at either end.
    pub async fn interpretation_links(&self, doc_id: i64) -> AppResult<Vec<LinkView>> {
        Ok(sqlx::query_as(
            "SELECT l.interpretation_id, l.policy_id, d.id AS other_id, e.title AS other_title, l.kind FROM interpretation_links l \
             JOIN documents d ON d.id = CASE WHEN l.policy_id = $1 THEN l.interpretation_id ELSE l.policy_id END \
             JOIN editions e ON e.id = COALESCE(d.live_edition_id, d.draft_edition_id) \
             WHERE l.policy_id = $1 OR l.interpretation_id = $1 ORDER BY l.created_at",
        )
        .bind(doc_id)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Links an interpretation to the policy it explains, or a response to a hot issue to a
    /// policy concerned (kind `response`). Both need disclosure metadata: the first as an
    /// interpretation (or response), the second as a policy or normative document.
    pub async fn link_interpretation(
        &self,
        actor: &Actor,
        interpretation: i64,
        policy: i64,
        kind: &str,
    ) -> AppResult<()> {
        if !matches!(kind, "text" | "graphic" | "interview" | "video" | "response") {
            return Err(AppError::field(
                "kind",
                "one_of",
                "形式应为 text（文字解读）、graphic（图解）、interview（访谈）、video（视频）或 response（回应关切）",
            ));
        }
        if interpretation == policy {
            return Err(AppError::field("policy_id", "not_self", "文件不能解读它自己"));
        }
        let mut cmd = self.begin(actor).await?;
        let doc = crate::documents::load_document(cmd.conn(), interpretation).await?;
        cmd.require_role(doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        let types = super::doc_types(cmd.conn(), &[interpretation, policy]).await?;
        let type_of = |id: i64| types.iter().find(|(d, _)| *d == id).map(|(_, t)| t.as_str());
        match (kind, type_of(interpretation)) {
            ("response", Some("response")) => {}
            ("response", _) => {
                return Err(AppError::field("interpretation", "doc_type", "请先把本文的文件类型设为「回应关切」"));
            }
            (_, Some("interpretation")) => {}
            _ => return Err(AppError::field("interpretation", "doc_type", "请先把本文的文件类型设为「政策解读」")),
        }
        match type_of(policy) {
            Some("policy" | "normative") => {}
            _ => {
                return Err(AppError::field(
                    "policy_id",
                    "doc_type",
                    format!("文档 #{policy} 不是政策文件或规范性文件，不能作为解读对象"),
                ));
            }
        }
        if kind == "graphic" {
            // A graphic interpretation is an image; people who cannot see it get its text.
            let edition = doc.draft_edition_id.or(doc.live_edition_id);
            let html = match edition {
                Some(e) => Some(crate::documents::load_edition(cmd.conn(), e).await?.body_html),
                None => None,
            };
            if !html.as_deref().is_some_and(has_described_image) {
                return Err(AppError::field(
                    "kind",
                    "graphic_alt",
                    "图解须含有图片，并为图片写上文字说明（alt），方便视障读者使用读屏软件",
                ));
            }
        }
        sqlx::query(
            "INSERT INTO interpretation_links (interpretation_id, policy_id, kind, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (interpretation_id, policy_id) DO UPDATE SET kind = $3",
        )
        .bind(interpretation)
        .bind(policy)
        .bind(kind)
        .bind(&actor.name)
        .bind(now_ms())
        .execute(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            Some(doc.site_id),
            "document",
            interpretation,
            "interprets",
            serde_json::json!({"policy": policy, "kind": kind}),
        ))
        .await?;
        let policy_site = crate::documents::load_document(cmd.conn(), policy).await?.site_id;
        cmd.emit(Event::DocumentChanged { site_id: doc.site_id, document_id: interpretation, columns_changed: false })
            .await?;
        cmd.emit(Event::DocumentChanged { site_id: policy_site, document_id: policy, columns_changed: false }).await?;
        cmd.commit().await
    }

    /// Removes a link between an interpretation and a policy.
    pub async fn unlink_interpretation(&self, actor: &Actor, interpretation: i64, policy: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        let doc = crate::documents::load_document(cmd.conn(), interpretation).await?;
        cmd.require_role(doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        let n = sqlx::query("DELETE FROM interpretation_links WHERE interpretation_id = $1 AND policy_id = $2")
            .bind(interpretation)
            .bind(policy)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("解读关联", policy));
        }
        cmd.audit(Audit::event(
            Some(doc.site_id),
            "document",
            interpretation,
            "interprets_removed",
            serde_json::json!({"policy": policy}),
        ))
        .await?;
        cmd.emit(Event::DocumentChanged { site_id: doc.site_id, document_id: interpretation, columns_changed: false })
            .await?;
        if let Some(p) = crate::documents::find_document(cmd.conn(), policy).await? {
            cmd.emit(Event::DocumentChanged { site_id: p.site_id, document_id: policy, columns_changed: false })
                .await?;
        }
        cmd.commit().await
    }

    /// Important published policies of the actor's sites still without a published
    /// interpretation after `interpretation_days` working days.
    pub async fn policies_awaiting_interpretation(&self, actor: &Actor) -> AppResult<Vec<Awaiting>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT doc.id, doc.site_id, e.title, doc.first_published_at FROM disclosures d JOIN documents doc ON doc.id = d.document_id \
             JOIN editions e ON e.id = doc.live_edition_id WHERE d.important = 1 AND e.state = 'published' \
             AND NOT EXISTS (SELECT 1 FROM interpretation_links l JOIN documents i ON i.id = l.interpretation_id \
               JOIN editions ie ON ie.id = i.live_edition_id WHERE l.policy_id = doc.id AND ie.state = 'published') ORDER BY doc.first_published_at",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let cal = self.calendar.load();
        let today_d = today();
        let mut out = Vec::new();
        for (id, site, title, published) in rows {
            let Some(p) = published.filter(|_| actor.on_site(site)) else { continue };
            if cal.working_days_between(local_date(p), today_d) >= self.config.interpretation_days {
                out.push(Awaiting { document_id: id, title, published: fmt_local(p) });
            }
        }
        Ok(out)
    }
}
