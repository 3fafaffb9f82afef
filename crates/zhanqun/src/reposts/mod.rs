//! Reposting across the cluster (转载, R9.2): a published document shown on other sites, in a
//! named column of each. The receiving site shows the original itself (its live edition), so
//! the copy changes when the original does and goes when it goes; the page names the
//! original's site and points search engines at the original's address.
//!
//! A repost from a site into a site below it (the city portal into a district's sites, a
//! district portal into its departments) goes live at once; any other waits until a reviewer
//! (or the site admin) of the receiving site accepts it, so no site shows what it never
//! agreed to. A site that received a document (and accepted it) may pass it on; it can never
//! go back to a site that already has it, the original's own site included (no repost loops).

pub mod admin;
pub mod api;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::site::{SiteKind, SiteState};
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::actor::require_any_role;
use crate::kernel::time::now_ms;
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

const STAFF: &[Role] = &[Role::Editor, Role::SiteAdmin];
/// Who may take a repost off the receiving site, or decline one offered to it.
const RECEIVERS: &[Role] = &[Role::Editor, Role::SiteAdmin, Role::EditorialReviewer];
/// Who accepts a repost into their site.
const ACCEPTORS: &[Role] = &[Role::EditorialReviewer, Role::SiteAdmin];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepostInput {
    /// Sites chosen one by one.
    #[serde(default)]
    pub sites: Vec<i64>,
    /// Every site of a kind as well (`district_portal`, `department`, …).
    pub site_kind: Option<String>,
    /// The name of the column each receiving site shows it in.
    pub column: String,
    /// The site doing the reposting: the original's own site (default) or a site that
    /// received the document and passes it on.
    pub from_site_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RepostView {
    pub id: i64,
    pub document_id: i64,
    pub title: String,
    pub site_id: i64,
    pub site_name: String,
    pub column_id: i64,
    pub column_name: String,
    pub origin_site_id: i64,
    pub origin_site_name: String,
    pub via_site_id: i64,
    pub created_by: String,
    /// RFC 3339, China Standard Time.
    #[serde(serialize_with = "crate::kernel::time::ser_time")]
    #[schema(value_type = String)]
    pub created_at: i64,
    /// Whether the original is published now (a withdrawn original shows its notice).
    pub live: bool,
    /// Waiting for the receiving site to accept it; not shown there until then.
    pub pending: bool,
    /// Who accepted it on the receiving site (the reposter, when it came from a site above).
    pub accepted_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RepostOutcome {
    pub created: Vec<RepostView>,
    /// Sites of the chosen kind that were left out: (site, reason).
    pub skipped: Vec<(i64, String)>,
}

const VIEW_SQL: &str = "SELECT r.id, r.document_id, e.title, r.site_id, s.name AS site_name, r.column_id, c.name AS column_name, \
    d.site_id AS origin_site_id, os.name AS origin_site_name, r.via_site_id, r.created_by, r.created_at, \
    CASE WHEN e.state = 'published' THEN 1 ELSE 0 END AS live_n, r.accepted_by, r.accepted_at \
    FROM reposts r JOIN documents d ON d.id = r.document_id JOIN editions e ON e.id = d.live_edition_id \
    JOIN sites s ON s.id = r.site_id JOIN sites os ON os.id = d.site_id JOIN columns c ON c.id = r.column_id";

#[derive(FromRow)]
struct ViewRow {
    id: i64,
    document_id: i64,
    title: String,
    site_id: i64,
    site_name: String,
    column_id: i64,
    column_name: String,
    origin_site_id: i64,
    origin_site_name: String,
    via_site_id: i64,
    created_by: String,
    created_at: i64,
    live_n: i64,
    accepted_by: Option<String>,
    accepted_at: Option<i64>,
}

impl From<ViewRow> for RepostView {
    fn from(r: ViewRow) -> Self {
        RepostView {
            id: r.id,
            document_id: r.document_id,
            title: r.title,
            site_id: r.site_id,
            site_name: r.site_name,
            column_id: r.column_id,
            column_name: r.column_name,
            origin_site_id: r.origin_site_id,
            origin_site_name: r.origin_site_name,
            via_site_id: r.via_site_id,
            created_by: r.created_by,
            created_at: r.created_at,
            live: r.live_n != 0,
            pending: r.accepted_at.is_none(),
            accepted_by: r.accepted_by,
        }
    }
}

/// The receiving sites of a document's active reposts, with the column each shows it in.
pub async fn receivers(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT site_id, column_id FROM reposts WHERE document_id = $1 AND removed_at IS NULL AND accepted_at IS NOT NULL",
    )
        .bind(doc_id)
        .fetch_all(conn)
        .await?)
}

/// The column a document reposted to `site_id` is shown in there, if it is.
pub async fn shown_in(conn: &mut AnyConnection, doc_id: i64, site_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT column_id FROM reposts WHERE document_id = $1 AND site_id = $2 AND removed_at IS NULL AND accepted_at IS NOT NULL",
    )
    .bind(doc_id)
    .bind(site_id)
    .fetch_optional(conn)
    .await?)
}

impl App {
    /// Reposts a published document to the chosen sites and/or every site of a kind.
    /// Chosen sites that cannot take it are errors; sites of the kind that cannot are skipped
    /// and reported.
    pub async fn repost(&self, actor: &Actor, doc_id: i64, input: RepostInput) -> AppResult<RepostOutcome> {
        let column = input.column.trim().to_string();
        if column.is_empty() {
            return Err(AppError::field("column", "required", "请填写接收网站上放置转载文件的栏目名称"));
        }
        let kind = match input.site_kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(SiteKind::parse(k).ok_or_else(|| {
                AppError::field(
                    "site_kind",
                    "one_of",
                    format!("网站类型「{k}」不存在，可选 district_portal、department 等"),
                )
            })?),
            None => None,
        };
        if input.sites.is_empty() && kind.is_none() {
            return Err(AppError::field("sites", "required", "请选择接收的网站，或选择一类网站（如全部部门网站）"));
        }
        let mut cmd = self.begin(actor).await?;
        let doc = crate::documents::load_document(cmd.conn(), doc_id).await?;
        if crate::documents::queries::published_title(cmd.conn(), doc_id).await?.is_none() {
            return Err(AppError::Conflict("只有已发布的文件才能转载".into()));
        }
        let from = input.from_site_id.unwrap_or(doc.site_id);
        cmd.require_role(from, STAFF).await?;
        // Every site that has the document already: the original's own and each receiver.
        let held: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT site_id, accepted_at FROM reposts WHERE document_id = $1 AND removed_at IS NULL")
                .bind(doc_id)
                .fetch_all(cmd.conn())
                .await?;
        if from != doc.site_id {
            match held.iter().find(|h| h.0 == from) {
                None => {
                    return Err(AppError::field("from_site_id", "received", "这个网站没有收到这份文件，不能再转载它"));
                }
                Some((_, None)) => {
                    return Err(AppError::field(
                        "from_site_id",
                        "accepted",
                        "这个网站还没有接受这份转载，接受之后才能再转给其他网站",
                    ));
                }
                Some(_) => {}
            }
        }
        let mut holders: Vec<i64> = held.iter().map(|h| h.0).collect();
        holders.push(doc.site_id);
        let sites = crate::sites::queries::kinds_and_states(cmd.conn()).await?;
        let name_of = |id: i64| sites.iter().find(|s| s.0 == id).map(|s| s.1.clone()).unwrap_or_default();
        let mut targets: Vec<i64> = Vec::new();
        let mut skipped: Vec<(i64, String)> = Vec::new();
        for &t in &input.sites {
            let Some(site) = sites.iter().find(|s| s.0 == t) else {
                return Err(AppError::field("sites", "exists", format!("网站 #{t} 不存在")));
            };
            if t == from {
                return Err(AppError::field(
                    "sites",
                    "not_self",
                    format!("「{}」就是转出的网站，不能转给自己", site.1),
                ));
            }
            if t == doc.site_id {
                return Err(AppError::field(
                    "sites",
                    "repost_loop",
                    format!("循环转载：这份文件原本就发布在「{}」，不能再转回去", site.1),
                ));
            }
            if holders.contains(&t) {
                return Err(AppError::field("sites", "repost_loop", format!("「{}」已经转载了这份文件", site.1)));
            }
            if site.3 == SiteState::Closed {
                return Err(AppError::field("sites", "closed", format!("「{}」已关停，不能接收转载", site.1)));
            }
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        if let Some(kind) = kind {
            for s in sites.iter().filter(|s| s.2 == kind) {
                if s.0 == from || targets.contains(&s.0) {
                    continue;
                }
                if holders.contains(&s.0) {
                    skipped.push((s.0, format!("「{}」已有这份文件", s.1)));
                } else if s.3 == SiteState::Closed {
                    skipped.push((s.0, format!("「{}」已关停", s.1)));
                } else {
                    targets.push(s.0);
                }
            }
        }
        // Every receiving site needs an active column of that name.
        let mut placed: Vec<(i64, i64)> = Vec::new();
        let mut lacking: Vec<String> = Vec::new();
        for &t in &targets {
            match crate::columns::queries::active_named(cmd.conn(), t, &column).await? {
                Some(c) => placed.push((t, c)),
                None => lacking.push(name_of(t)),
            }
        }
        if !lacking.is_empty() {
            return Err(AppError::field(
                "column",
                "exists",
                format!("这些网站没有名为「{column}」的栏目，请先由网站管理员建立：{}", lacking.join("、")),
            ));
        }
        let now = now_ms();
        let mut ids = Vec::new();
        for (t, c) in &placed {
            // Down the tree goes live at once; across or up waits for the receiver.
            let from_above = crate::kernel::actor::ancestors(cmd.conn(), *t).await?.contains(&from);
            let accepted = from_above.then_some(now);
            let accepted_by = from_above.then(|| actor.name.clone());
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reposts (document_id, site_id, column_id, via_site_id, created_by, created_at, accepted_at, accepted_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (document_id, site_id) DO UPDATE SET column_id = $3, via_site_id = $4, created_by = $5, created_at = $6, \
                 accepted_at = $7, accepted_by = $8, removed_at = NULL, removed_by = NULL RETURNING id",
            )
            .bind(doc_id)
            .bind(t)
            .bind(c)
            .bind(from)
            .bind(&actor.name)
            .bind(now)
            .bind(accepted)
            .bind(&accepted_by)
            .fetch_one(cmd.conn())
            .await?;
            cmd.audit(Audit::event(
                Some(*t),
                "document",
                doc_id,
                if from_above { "repost" } else { "repost_offered" },
                serde_json::json!({"repost": id, "from_site": from, "column": c}),
            ))
            .await?;
            if from_above {
                cmd.emit(Event::RepostReceived { site_id: *t, document_id: doc_id, column_id: *c }).await?;
            }
            ids.push(id);
        }
        let mut created = Vec::new();
        for id in ids {
            created.push(load_view(cmd.conn(), id).await?);
        }
        cmd.commit().await?;
        Ok(RepostOutcome { created, skipped })
    }

    /// The receiving site accepts a repost offered to it: from now on it is shown there.
    /// Its editorial reviewers and site admins decide; declining is [`App::remove_repost`].
    pub async fn accept_repost(&self, actor: &Actor, id: i64) -> AppResult<RepostView> {
        let mut cmd = self.begin(actor).await?;
        type Offer = (i64, i64, i64, Option<i64>, Option<i64>);
        let row: Option<Offer> = sqlx::query_as(
            "SELECT document_id, site_id, column_id, accepted_at, removed_at FROM reposts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(cmd.conn())
        .await?;
        let Some((doc, site, column, accepted, removed)) = row else { return Err(AppError::not_found("转载", id)) };
        cmd.require_role(site, ACCEPTORS).await?;
        if removed.is_some() {
            return Err(AppError::Conflict("这条转载已经撤下或被拒绝".into()));
        }
        if accepted.is_some() {
            return Err(AppError::Conflict("这条转载已经接受".into()));
        }
        sqlx::query("UPDATE reposts SET accepted_at = $1, accepted_by = $2 WHERE id = $3")
            .bind(now_ms())
            .bind(&actor.name)
            .bind(id)
            .execute(cmd.conn())
            .await?;
        cmd.audit(Audit::event(Some(site), "document", doc, "repost_accepted", serde_json::json!({"repost": id})))
            .await?;
        cmd.emit(Event::RepostReceived { site_id: site, document_id: doc, column_id: column }).await?;
        let view = load_view(cmd.conn(), id).await?;
        cmd.commit().await?;
        Ok(view)
    }

    /// Takes a repost off its receiving site, or declines one offered to it. The receiving
    /// site's staff may decline what they were sent; the site that reposted it may call it
    /// back.
    pub async fn remove_repost(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, i64, i64, Option<i64>)> =
            sqlx::query_as("SELECT document_id, site_id, via_site_id, removed_at FROM reposts WHERE id = $1")
                .bind(id)
                .fetch_optional(cmd.conn())
                .await?;
        let Some((doc, site, via, removed)) = row else { return Err(AppError::not_found("转载", id)) };
        if removed.is_some() {
            return Err(AppError::Conflict("这条转载已经撤下".into()));
        }
        if cmd.require_role(site, RECEIVERS).await.is_err() {
            cmd.require_role(via, STAFF).await?;
        }
        // Passed on from this site: those go too, or they would point at nothing.
        let column: i64 =
            sqlx::query_scalar("SELECT column_id FROM reposts WHERE id = $1").bind(id).fetch_one(cmd.conn()).await?;
        let mut gone: Vec<(i64, i64, i64)> = vec![(id, site, column)];
        let passed: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, site_id, column_id FROM reposts WHERE document_id = $1 AND via_site_id = $2 AND removed_at IS NULL AND id <> $3",
        )
        .bind(doc)
        .bind(site)
        .bind(id)
        .fetch_all(cmd.conn())
        .await?;
        gone.extend(passed);
        for (rid, rsite, rcolumn) in gone {
            sqlx::query("UPDATE reposts SET removed_at = $1, removed_by = $2 WHERE id = $3")
                .bind(now_ms())
                .bind(&actor.name)
                .bind(rid)
                .execute(cmd.conn())
                .await?;
            cmd.audit(Audit::event(
                Some(rsite),
                "document",
                doc,
                "repost_removed",
                serde_json::json!({"repost": rid, "because_of": id}),
            ))
            .await?;
            cmd.emit(Event::RepostRemoved { site_id: rsite, document_id: doc, column_id: rcolumn }).await?;
        }
        cmd.commit().await
    }

    /// What a site received, newest first.
    pub async fn received(&self, actor: &Actor, site_id: i64) -> AppResult<Vec<RepostView>> {
        let mut c = self.db.pool.acquire().await?;
        crate::sites::load_site(&mut c, site_id).await?;
        require_any_role(&mut c, actor, site_id).await?;
        let rows: Vec<ViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VIEW_SQL} WHERE r.site_id = $1 AND r.removed_at IS NULL ORDER BY r.created_at DESC, r.id DESC"
        )))
        .bind(site_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows.into_iter().map(RepostView::from).collect())
    }

    /// Where a document was reposted to.
    pub async fn reposts_of(&self, doc_id: i64) -> AppResult<Vec<RepostView>> {
        let rows: Vec<ViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VIEW_SQL} WHERE r.document_id = $1 AND r.removed_at IS NULL ORDER BY r.site_id"
        )))
        .bind(doc_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(RepostView::from).collect())
    }
}

async fn load_view(conn: &mut AnyConnection, id: i64) -> AppResult<RepostView> {
    let row: ViewRow =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{VIEW_SQL} WHERE r.id = $1"))).bind(id).fetch_one(conn).await?;
    Ok(row.into())
}
