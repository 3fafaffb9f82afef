//! The platform itself, for system administrators: background jobs (queued, running,
//! failed, done) with retry, event delivery, and this node's page cache; and the whole
//! audit trail for the audit administrator ([`audit`]).

pub mod admin;
pub mod api;
pub mod audit;

use serde::Serialize;

use crate::app::App;
use crate::kernel::cache::CacheStats;
use crate::kernel::events::SubscriberStatus;
use crate::kernel::jobs::JobCounts;
use crate::kernel::{Actor, AppResult};

/// How the platform is doing, as one node sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// This process among the nodes.
    pub node: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub jobs: JobCounts,
    pub subscribers: Vec<SubscriberStatus>,
    pub page_cache: CacheStats,
    /// This node's full-text index.
    pub search_index: crate::search::IndexStatus,
}

impl App {
    pub async fn status(&self, actor: &Actor) -> AppResult<Status> {
        actor.require_admin()?;
        Ok(Status {
            node: self.node.to_string(),
            database: self.db.backend.name().into(),
            jobs: self.job_counts(actor).await?,
            subscribers: self.subscriber_status().await?,
            page_cache: self.pages.stats(),
            search_index: self.search_index_status(),
        })
    }
}
