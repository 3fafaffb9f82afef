//! The public sites (R1.4, R1.6): one server answers for every site by the `Host` header;
//! home, column and document pages rendered from themes and kept in the page cache until
//! something they show changes; links between the sites of the cluster.
//!
//! Its subscribers keep every node in step: [`PageInvalidation`] drops the pages an event
//! touches, [`HostTable`] rebuilds the host table when the registry changes.

pub mod feeds;
pub mod hosts;
pub mod pages;
pub mod search;
pub mod theme;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::app::App;
use crate::documents::AttachmentRow;
use crate::kernel::cache::{Page, Tag};
use crate::kernel::events::{Scope, StoredEvent, Subscriber};
use crate::kernel::{AppResult, Event};
use hosts::HostMap;

/// The answer to a request for a site's page.
pub enum Answer {
    /// A page, kept in the cache until one of the things it shows changes.
    Page(Arc<Page>, Vec<Tag>),
    /// A page that must not be cached (search, not found).
    Uncached(Arc<Page>),
    /// A permanent redirect.
    Moved(String),
    /// An attachment of a published document.
    File(AttachmentRow),
}

impl App {
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

    /// Rebuilds the host table from the registry and swaps it in (a failed rebuild keeps
    /// the old one).
    pub async fn reload_hosts(&self) -> AppResult<()> {
        let mut c = self.db.pool.acquire().await?;
        let rows = crate::sites::queries::host_rows(&mut c).await?;
        self.hosts.store(Arc::new(HostMap::build(rows)));
        Ok(())
    }

    /// The things a document's change touches: its page wherever it is shown, the home
    /// pages and column listings that list it, here and on the sites it was reposted to.
    async fn document_tags(&self, site_id: i64, doc_id: i64, columns_changed: bool) -> AppResult<Vec<Tag>> {
        let mut c = self.db.pool.acquire().await?;
        let mut tags = vec![Tag::Document(doc_id), Tag::Home(site_id)];
        if columns_changed {
            // It may have left a column: every listing of the site.
            tags.push(Tag::Site(site_id));
        }
        for col in crate::documents::queries::column_ids(&mut c, doc_id).await? {
            tags.push(Tag::Column(col));
        }
        for (site, col) in crate::reposts::receivers(&mut c, doc_id).await? {
            tags.push(Tag::Home(site));
            tags.push(Tag::Column(col));
        }
        Ok(tags)
    }
}

/// When what a change touches cannot be read, every page goes: a page must never stay stale.
fn everything(e: crate::kernel::AppError) -> Vec<Tag> {
    tracing::warn!(error = %e, "cannot tell which pages a change touches; dropping every page");
    vec![Tag::All]
}

/// Drops the cached pages an event touches, on every node.
pub struct PageInvalidation;

impl Subscriber for PageInvalidation {
    fn name(&self) -> &'static str {
        "page_cache"
    }

    fn scope(&self) -> Scope {
        Scope::Node
    }

    fn handle<'a>(&'a self, app: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let tags = match e.event {
                // Every site's pages carry the site-group navigation (站群导航): a site's
                // name, address or state shows on all of them.
                Event::SiteChanged { .. } => vec![Tag::All],
                Event::ColumnChanged { site_id, .. } | Event::TopicChanged { site_id, .. } => {
                    vec![Tag::Site(site_id)]
                }
                Event::DocumentPublished { site_id, document_id }
                | Event::DocumentWithdrawn { site_id, document_id, .. }
                | Event::DocumentDeleted { site_id, document_id } => {
                    app.document_tags(site_id, document_id, false).await.unwrap_or_else(everything)
                }
                Event::DocumentChanged { site_id, document_id, columns_changed } => {
                    app.document_tags(site_id, document_id, columns_changed).await.unwrap_or_else(everything)
                }
                Event::RepostReceived { site_id, document_id, column_id }
                | Event::RepostRemoved { site_id, document_id, column_id } => {
                    vec![Tag::Document(document_id), Tag::Home(site_id), Tag::Column(column_id)]
                }
                Event::SubjectsChanged => vec![Tag::All],
                Event::CalendarChanged | Event::ExpressionsChanged | Event::LetterReceived { .. } => return Ok(()),
            };
            app.pages.invalidate(&tags);
            Ok(())
        })
    }
}

/// Rebuilds the host table when a site is registered or changes its domains or state.
pub struct HostTable;

impl Subscriber for HostTable {
    fn name(&self) -> &'static str {
        "host_table"
    }

    fn scope(&self) -> Scope {
        Scope::Node
    }

    fn handle<'a>(&'a self, app: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match e.event {
                Event::SiteChanged { .. } => app.reload_hosts().await,
                _ => Ok(()),
            }
        })
    }
}
