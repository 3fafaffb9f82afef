//! Use cases. Every mutation is one action: it checks the actor's role on the site,
//! changes state and writes its audit entry in one transaction, so the API, the admin
//! UI, the CLI and importers behave identically.

pub mod auth;
pub mod calendar;
pub mod columns;
pub mod disclosure;
pub mod documents;
pub mod import;
pub mod interviews;
pub mod inventory;
pub mod limits;
pub mod mailbox;
pub mod participation;
pub mod reposts;
pub mod sessions;
pub mod sites;
pub mod topics;
pub mod users;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use sqlx::AnyConnection;
use zhanqun_domain::workflow::Role;

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::render::cache::PageCache;
use crate::render::hosts::HostMap;
use crate::render::theme::Themes;
use crate::store::{Db, now_ms};

/// Everything an action needs.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub data_dir: PathBuf,
    /// Woken when a job is queued, so the worker need not wait for its next poll.
    pub jobs_notify: Arc<tokio::sync::Notify>,
    pub themes: Arc<Themes>,
    /// Rendered public pages; actions invalidate what they change, after commit.
    pub pages: Arc<PageCache>,
    /// Which site answers for which host name; rebuilt whole and swapped in.
    pub hosts: Arc<ArcSwap<HostMap>>,
    /// Holidays and make-up working days, as deadlines are counted.
    pub calendar: Arc<ArcSwap<zhanqun_domain::calendar::Calendar>>,
    /// Public form submissions per client address.
    pub form_limiter: Arc<limits::RateLimiter>,
    /// The key that signs public-form challenges (from the database, shared by all nodes).
    pub challenge_key: Arc<ArcSwap<Vec<u8>>>,
    /// Set in the demo to the port being served: links between sites then use the sites'
    /// `NAME.localhost` addresses on this machine instead of their real domains.
    pub local_links: Arc<std::sync::OnceLock<u16>>,
    /// Catalog totals per filter, with the catalog generation they were counted at.
    pub(crate) catalog_counts: Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>>,
}

impl App {
    pub fn new(db: Db, config: Config, data_dir: PathBuf) -> App {
        App {
            db,
            config: Arc::new(config),
            themes: Arc::new(Themes::new(data_dir.join("themes"))),
            data_dir,
            jobs_notify: Arc::new(tokio::sync::Notify::new()),
            pages: Arc::new(PageCache::default()),
            hosts: Arc::new(ArcSwap::from_pointee(HostMap::default())),
            calendar: Arc::new(ArcSwap::from_pointee(zhanqun_domain::calendar::Calendar::default())),
            form_limiter: Arc::new(limits::RateLimiter::new(10, 10 * 60_000)),
            challenge_key: Arc::new(ArcSwap::from_pointee(Vec::new())),
            local_links: Arc::new(std::sync::OnceLock::new()),
            catalog_counts: Arc::new(std::sync::Mutex::new(std::collections::HashMap::new())),
        }
    }

    /// Where a site's pages are, for links from other sites: its own domain, or in the demo
    /// its `NAME.localhost` address on this machine. None when it has no address.
    pub fn site_base(&self, site_id: i64) -> Option<String> {
        let hosts = self.hosts.load();
        let s = hosts.sites.get(&site_id)?;
        match (self.local_links.get(), &s.primary_domain) {
            (Some(port), _) => Some(format!("http://{}:{port}", s.local_host)),
            (None, Some(d)) => Some(format!("{}://{d}", self.config.public_scheme)),
            (None, None) => None,
        }
    }

    /// A link from a page of `from_site` to a document of `site_id`.
    pub fn document_link(&self, from_site: i64, site_id: i64, doc_id: i64) -> String {
        match self.site_base(site_id).filter(|_| site_id != from_site) {
            Some(b) => format!("{b}/articles/{doc_id}.html"),
            None => format!("/articles/{doc_id}.html"),
        }
    }

    /// Reads the challenge-signing key.
    pub async fn load_secrets(&self) -> AppResult<()> {
        let key: Option<String> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'form_challenge'")
            .fetch_optional(&self.db.pool)
            .await?;
        let key = key
            .and_then(|k| hex::decode(k).ok())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("form challenge key missing")))?;
        self.challenge_key.store(Arc::new(key));
        Ok(())
    }

    /// Rebuilds the host table from the database and swaps it in.
    pub async fn reload_hosts(&self) -> AppResult<()> {
        let mut c = self.db.pool.acquire().await?;
        let map = HostMap::load(&mut c).await?;
        self.hosts.store(Arc::new(map));
        Ok(())
    }

    /// After a site changed: new host table, and none of its pages kept.
    pub(crate) async fn site_changed(&self, site_id: i64) {
        self.pages.invalidate_site(site_id);
        if let Err(e) = self.reload_hosts().await {
            tracing::error!(error = %e, "reloading the host table failed; the old one stays");
        }
    }

    /// After a document changed on the public side: its page, the home page and its columns' pages go.
    pub(crate) async fn document_changed(&self, site_id: i64, doc_id: i64) {
        let slugs: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            "SELECT c.slug FROM document_columns dc JOIN columns c ON c.id = dc.column_id WHERE dc.document_id = $1",
        )
        .bind(doc_id)
        .fetch_all(&self.db.pool)
        .await;
        match slugs {
            Ok(slugs) => {
                let paths: Vec<String> = slugs.iter().map(|s| format!("/columns/{s}/")).collect();
                self.pages.invalidate_document(site_id, doc_id, &paths);
            }
            Err(_) => self.pages.invalidate_site(site_id),
        }
        // The sites it was reposted to show it too.
        let receivers = match self.db.pool.acquire().await {
            Ok(mut c) => reposts::receivers(&mut c, doc_id).await,
            Err(e) => Err(e),
        };
        match receivers {
            Ok(rs) => {
                for (site, slug) in rs {
                    self.pages.invalidate_document(site, doc_id, &[format!("/columns/{slug}/")]);
                }
            }
            Err(_) => self.pages.invalidate_all(),
        }
    }
}

/// Who is acting: a signed-in person, or the system itself (scheduled jobs).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub is_admin: bool,
    /// (site id, role) pairs held directly.
    pub roles: Vec<(i64, Role)>,
}

impl Actor {
    /// The platform itself, for work it does on its own (scheduled publishing).
    pub fn system(name: &str) -> Actor {
        Actor { user_id: None, name: name.to_string(), is_admin: true, roles: Vec::new() }
    }

    /// Someone from the public without an account (a letter's writer, a commenter), as the
    /// audit trail names them.
    pub fn public(name: &str) -> Actor {
        Actor { user_id: None, name: name.to_string(), is_admin: false, roles: Vec::new() }
    }

    pub fn holds(&self, site_id: i64, role: Role) -> bool {
        self.roles.iter().any(|&(s, r)| s == site_id && r == role)
    }

    fn require_admin(&self) -> AppResult<()> {
        if self.is_admin { Ok(()) } else { Err(AppError::Forbidden("需要系统管理员权限".into())) }
    }
}

/// Ids of the site's ancestors, nearest first. Stops at a cycle, which the API never lets form.
pub(crate) async fn ancestors(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<i64>> {
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
/// also counts as site admin here (R1.5: rights follow the management tree).
pub(crate) async fn require_role(
    conn: &mut AnyConnection,
    actor: &Actor,
    site_id: i64,
    roles: &[Role],
) -> AppResult<()> {
    if actor.is_admin || roles.iter().any(|&r| actor.holds(site_id, r)) {
        return Ok(());
    }
    if roles.contains(&Role::SiteAdmin) {
        for a in ancestors(conn, site_id).await? {
            if actor.holds(a, Role::SiteAdmin) {
                return Ok(());
            }
        }
    }
    let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    Err(AppError::Forbidden(format!("没有权限：需要本站点（#{site_id}）的「{}」角色", names.join("」或「"))))
}

/// Checks that `actor` may see a site's internal data: any role on it or above it.
pub(crate) async fn require_any_role(conn: &mut AnyConnection, actor: &Actor, site_id: i64) -> AppResult<()> {
    if actor.is_admin || actor.roles.iter().any(|&(s, _)| s == site_id) {
        return Ok(());
    }
    for a in ancestors(conn, site_id).await? {
        if actor.holds(a, Role::SiteAdmin) {
            return Ok(());
        }
    }
    Err(AppError::Forbidden(format!("没有权限：您在站点 #{site_id} 没有任何角色")))
}

/// Tables whose rows carry a `version`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Versioned {
    Columns,
    Documents,
}

/// Claims a row for the action under way: bumps its `version` only if it is still the one
/// the action loaded. On PostgreSQL the UPDATE also locks the row, so a concurrent action
/// on the same row waits, then finds the version moved on and is refused instead of
/// acting on a state that no longer holds. (SQLite serialises writers anyway.)
pub(crate) async fn claim(conn: &mut AnyConnection, table: Versioned, id: i64, loaded_version: i64) -> AppResult<()> {
    let sql = match table {
        Versioned::Columns => {
            "UPDATE columns SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3"
        }
        Versioned::Documents => {
            "UPDATE documents SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3"
        }
    };
    let n = sqlx::query(sql).bind(now_ms()).bind(id).bind(loaded_version).execute(conn).await?.rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict("刚刚已被他人处理，请刷新后查看最新状态".into()))
    }
}

/// One entry of the audit trail. Written in the same transaction as the change it records.
pub(crate) struct Audit<'a> {
    pub site_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub comment: &'a str,
    pub detail: serde_json::Value,
}

impl<'a> Audit<'a> {
    /// An entry without a state change or comment.
    pub fn event(
        site_id: Option<i64>,
        entity: &'a str,
        entity_id: i64,
        action: &'a str,
        detail: serde_json::Value,
    ) -> Audit<'a> {
        Audit { site_id, entity, entity_id, action, from_state: None, to_state: None, comment: "", detail }
    }

    /// The same entry recording a change of state.
    pub fn moved(self, from_state: Option<&'a str>, to_state: Option<&'a str>) -> Audit<'a> {
        Audit { from_state, to_state, ..self }
    }
}

pub(crate) async fn audit(conn: &mut AnyConnection, actor: &Actor, a: Audit<'_>) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(&actor.name)
    .bind(a.site_id)
    .bind(a.entity)
    .bind(a.entity_id)
    .bind(a.action)
    .bind(a.from_state)
    .bind(a.to_state)
    .bind(a.comment)
    .bind(a.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
