//! The assembled application: the kernel's services, each capability's state, and the
//! wiring of every capability's subscribers and job kinds. Handlers, jobs and the CLI all
//! hold an [`App`] (cheap to clone) and call the capabilities' commands and queries on it.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::kernel::blobs::Blobs;
use crate::kernel::cache::PageCache;
use crate::kernel::config::Config;
use crate::kernel::db::Db;
use crate::kernel::events::Events;
use crate::kernel::jobs::Jobs;
use crate::kernel::limits::RateLimiter;
use crate::public::hosts::HostMap;
use crate::public::theme::Themes;

pub use crate::kernel::{Actor, AppError, AppResult};

/// The application: one pointer to everything it holds, so that handing it to each request
/// (axum clones the state per request) costs one atomic increment.
#[derive(Clone)]
pub struct App(Arc<Services>);

impl std::ops::Deref for App {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What an [`App`] holds.
pub struct Services {
    pub db: Db,
    pub config: Arc<Config>,
    pub data_dir: PathBuf,
    pub blobs: Blobs,
    /// Subscribers, and this node's delivery of the outbox.
    pub events: Arc<Events>,
    /// Job kinds, and this node's worker.
    pub jobs: Arc<Jobs>,
    /// This process among the nodes (leases of jobs and subscribers name it).
    pub node: Arc<str>,
    /// Public sites: rendered pages within the configured budget.
    pub pages: Arc<PageCache>,
    /// Public sites: which site answers for which host name; rebuilt whole and swapped in.
    pub hosts: Arc<ArcSwap<HostMap>>,
    /// Public sites: the default theme and per-site overrides.
    pub themes: Arc<Themes>,
    /// Calendar: holidays and make-up working days, as deadlines are counted.
    pub calendar: Arc<ArcSwap<zhanqun_domain::calendar::Calendar>>,
    /// Wrong and sensitive expressions (错敏词): the office's list, ready to find in texts.
    pub expressions: Arc<ArcSwap<zhanqun_domain::expressions::Matcher>>,
    /// Public forms: submissions per client address (bounded).
    pub form_limiter: Arc<RateLimiter>,
    /// Searches per client address (the database search scans; a flood must not).
    pub search_limiter: Arc<RateLimiter>,
    /// Logins: failed attempts per client address.
    pub login_limiter: Arc<RateLimiter>,
    /// Which peers' `X-Forwarded-For` names the client.
    pub proxies: crate::web::client::TrustedProxies,
    /// Public forms: the key that signs challenges (from the database, shared by all nodes).
    pub challenge_key: Arc<ArcSwap<Vec<u8>>>,
    /// Set in the demo to the port being served: links between sites then use the sites'
    /// `NAME.localhost` addresses on this machine instead of their real domains.
    pub local_links: Arc<std::sync::OnceLock<u16>>,
    /// Disclosure: catalog totals per filter, with the catalog generation they were counted at.
    pub catalog_counts: moka::sync::Cache<String, (i64, i64)>,
    /// Personal data at rest: the key that seals names, contacts and second-factor secrets.
    pub personal: crate::kernel::personal::PersonalData,
    /// Staff sign-in: this node's view of the identity provider (fetched at first use).
    pub oidc: crate::people::oidc::Oidc,
    /// Site search: this node's full-text index and the searches counted in memory.
    pub search: Arc<crate::search::Engine>,
    /// Page views counted since they were last written (统计分析).
    pub visits: Arc<crate::visits::Visits>,
}

impl App {
    /// The application over `db`, with every capability's subscribers and job kinds.
    pub fn new(db: Db, config: Config, data_dir: PathBuf, personal: crate::kernel::personal::PersonalData) -> App {
        install_crypto();
        let budget = config.page_cache_mib.saturating_mul(1024 * 1024);
        let node: Arc<str> =
            format!("{}-{}-{:x}", hostname(), std::process::id(), rand::RngCore::next_u32(&mut rand::rng())).into();
        let app = App(Arc::new(Services {
            db,
            themes: Arc::new(Themes::new(data_dir.join("themes"))),
            search: Arc::new(crate::search::Engine::new(&data_dir)),
            visits: Arc::default(),
            blobs: Blobs::new(&data_dir),
            data_dir,
            events: Arc::new(Events::default()),
            jobs: Arc::new(Jobs::default()),
            node,
            pages: Arc::new(PageCache::new(budget)),
            hosts: Arc::new(ArcSwap::from_pointee(HostMap::default())),
            calendar: Arc::new(ArcSwap::from_pointee(zhanqun_domain::calendar::Calendar::default())),
            expressions: Arc::new(ArcSwap::from_pointee(zhanqun_domain::expressions::Matcher::new(Vec::new()))),
            form_limiter: Arc::new(RateLimiter::new(10, 10 * 60_000, 100_000)),
            search_limiter: Arc::new(RateLimiter::new(120, 60_000, 100_000)),
            login_limiter: Arc::new(RateLimiter::new(
                config.login_failures_per_address,
                config.lockout_minutes.saturating_mul(60_000),
                100_000,
            )),
            proxies: config.proxies(),
            challenge_key: Arc::new(ArcSwap::from_pointee(Vec::new())),
            local_links: Arc::new(std::sync::OnceLock::new()),
            catalog_counts: moka::sync::Cache::new(10_000),
            personal,
            oidc: Default::default(),
            config: Arc::new(config),
        }));
        app.wire();
        app
    }

    /// Who reacts to what. Each capability offers its subscribers and job kinds; this is the
    /// one place they are joined.
    fn wire(&self) {
        use crate::kernel::events::{PruneOutbox, Redeliver};
        let e = &self.events;
        e.subscribe(Arc::new(crate::public::PageInvalidation));
        e.subscribe(Arc::new(crate::public::HostTable));
        e.subscribe(Arc::new(crate::calendar::CalendarReload));
        e.subscribe(Arc::new(crate::expressions::ExpressionsReload));
        e.subscribe(Arc::new(crate::disclosure::CatalogListing));
        e.on_commit_of(Arc::new(crate::disclosure::IndexNumbers));
        let j = &self.jobs;
        j.register(Arc::new(crate::documents::ScheduledPublication));
        j.register(Arc::new(crate::mailbox::LetterReminders));
        j.register(Arc::new(crate::monitor::daily::MonitorDaily));
        j.register(Arc::new(crate::monitor::daily::MonitorCheck));
        j.register(Arc::new(crate::monitor::daily::MonitorProbes));
        j.register(Arc::new(Redeliver));
        j.register(Arc::new(PruneOutbox));
    }
}

/// Makes ring rustls's crypto for the whole process (the identity provider's HTTPS,
/// PostgreSQL's TLS); any HTTP client built before needs this first. Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}
