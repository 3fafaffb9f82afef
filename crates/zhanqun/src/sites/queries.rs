//! Reading the site registry.

use sqlx::AnyConnection;
use zhanqun_domain::site::{SiteKind, SiteState};

use super::{SiteRow, SiteView};
use crate::app::App;
use crate::kernel::audit::{self, AuditView};
use crate::kernel::{Actor, AppError, AppResult};

pub async fn find_site(conn: &mut AnyConnection, id: i64) -> AppResult<Option<SiteRow>> {
    Ok(sqlx::query_as("SELECT * FROM sites WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn load_site(conn: &mut AnyConnection, id: i64) -> AppResult<SiteRow> {
    find_site(conn, id).await?.ok_or_else(|| AppError::not_found("站点", id))
}

pub(super) async fn aliases_of(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT domain FROM site_domains WHERE site_id = $1 AND is_primary = 0 ORDER BY domain")
        .bind(site_id)
        .fetch_all(conn)
        .await?)
}

/// What the public side needs of every site, for the host table.
pub struct HostRows {
    /// (id, name, kind, state, primary domain)
    pub sites: Vec<(i64, String, SiteKind, SiteState, Option<String>)>,
    /// (domain, site id): primary domains and aliases.
    pub domains: Vec<(String, i64)>,
}

pub async fn host_rows(conn: &mut AnyConnection) -> AppResult<HostRows> {
    let rows: Vec<SiteRow> = sqlx::query_as("SELECT * FROM sites ORDER BY id").fetch_all(&mut *conn).await?;
    let domains: Vec<(String, i64)> =
        sqlx::query_as("SELECT domain, site_id FROM site_domains").fetch_all(&mut *conn).await?;
    Ok(HostRows {
        sites: rows.into_iter().map(|s| (s.id, s.name, s.kind, s.state, s.primary_domain)).collect(),
        domains,
    })
}

/// Sites with their kind and state, for choosing reposting targets.
pub async fn kinds_and_states(conn: &mut AnyConnection) -> AppResult<Vec<(i64, String, SiteKind, SiteState)>> {
    let rows: Vec<SiteRow> = sqlx::query_as("SELECT * FROM sites ORDER BY id").fetch_all(conn).await?;
    Ok(rows.into_iter().map(|s| (s.id, s.name, s.kind, s.state)).collect())
}

impl App {
    pub async fn get_site(&self, id: i64) -> AppResult<SiteView> {
        let mut c = self.db.pool.acquire().await?;
        let row = load_site(&mut c, id).await?;
        let aliases = aliases_of(&mut c, id).await?;
        Ok(self.site_view(&row, aliases))
    }

    /// A site's row (kind, state, names), when only that is needed.
    pub async fn site_row(&self, id: i64) -> AppResult<SiteRow> {
        let mut c = self.db.pool.acquire().await?;
        load_site(&mut c, id).await
    }

    /// All sites, optionally only those whose domain breaks a rule of the current configuration.
    pub async fn list_sites(&self, only_noncompliant: bool) -> AppResult<Vec<SiteView>> {
        let mut c = self.db.pool.acquire().await?;
        let rows: Vec<SiteRow> = sqlx::query_as("SELECT * FROM sites ORDER BY id").fetch_all(&mut *c).await?;
        let aliases: Vec<(i64, String)> =
            sqlx::query_as("SELECT site_id, domain FROM site_domains WHERE is_primary = 0 ORDER BY domain")
                .fetch_all(&mut *c)
                .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let a = aliases.iter().filter(|(s, _)| *s == r.id).map(|(_, d)| d.clone()).collect();
                self.site_view(r, a)
            })
            .filter(|v| !only_noncompliant || !v.domain_compliance.compliant)
            .collect())
    }

    /// The sites a person works on: every site for a system administrator, else those they
    /// hold a role on.
    pub async fn sites_of(&self, actor: &Actor) -> AppResult<Vec<SiteView>> {
        let all = self.list_sites(false).await?;
        Ok(all.into_iter().filter(|s| actor.on_site(s.id)).collect())
    }

    /// The site's audit trail, oldest first: the site itself, its columns, documents and roles.
    pub async fn site_audit(&self, actor: &Actor, site_id: i64) -> AppResult<Vec<AuditView>> {
        let mut c = self.db.pool.acquire().await?;
        load_site(&mut c, site_id).await?;
        crate::kernel::actor::require_any_role(&mut c, actor, site_id).await?;
        audit::of_site(&mut c, site_id).await
    }
}
