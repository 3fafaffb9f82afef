//! Starting and stopping the whole service: database, event delivery, job worker and HTTP
//! listener.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::App;
use crate::kernel::config::Config;
use crate::kernel::db::Db;

/// Where the data lives and how to reach the database.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub config_file: Option<PathBuf>,
}

impl Settings {
    /// The database URL: the one given, or an SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("zhanqun.db").display()),
        }
    }

    /// Creates the data directory, opens (and migrates) the database, loads configuration.
    pub async fn open_app(&self) -> anyhow::Result<App> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        let config = Config::load(self.config_file.as_deref(), &self.data_dir)?;
        // The database first: a key is made only for a database that opens.
        let db = Db::open(&self.database_url()).await?;
        let personal =
            crate::kernel::personal::PersonalData::load(config.personal_data_key_file.as_deref(), &self.data_dir)?;
        let app = App::new(db, config, absolute(&self.data_dir), personal);
        app.reload_calendar().await.map_err(|e| anyhow::anyhow!("loading the calendar: {e}"))?;
        app.reload_expressions().await.map_err(|e| anyhow::anyhow!("loading the expression list: {e}"))?;
        app.load_secrets().await.map_err(|e| anyhow::anyhow!("loading secrets: {e}"))?;
        app.seal_personal_data().await.map_err(|e| anyhow::anyhow!("personal data: {e}"))?;
        Ok(app)
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A running server, for the CLI and for tests.
pub struct Running {
    pub addr: SocketAddr,
    /// The admin UI's own address, when `admin_listen` is configured.
    pub admin_addr: Option<SocketAddr>,
    pub app: App,
    shutdown: tokio::sync::watch::Sender<bool>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    admin_http: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops delivery and the worker.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        if let Some(a) = self.admin_http {
            let _ = a.await;
        }
        for t in self.background {
            let _ = t.await;
        }
        self.app.db.pool.close().await;
    }

    /// `http://ADDR`, for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Writes what was searched every few seconds, and once more when the server stops.
async fn flush_search_counts(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => false,
            _ = shutdown.changed() => true,
        };
        if let Err(e) = app.flush_search_counts().await {
            tracing::warn!(error = %e, "writing search counts");
        }
        if stop {
            return;
        }
    }
}

/// Writes the page views counted every few seconds, and once more when the server stops.
async fn flush_visits(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => false,
            _ = shutdown.changed() => true,
        };
        if let Err(e) = app.flush_visits().await {
            tracing::warn!(error = %e, "writing page views");
        }
        if stop {
            return;
        }
    }
}

/// How long requests in flight may take to finish when the server stops.
const DRAIN: Duration = Duration::from_secs(20);

/// Accepts connections until `shutdown` changes, each served by HTTP/1.1 on a task of its
/// own; then lets the requests in flight finish (at most [`DRAIN`]).
///
/// Slow clients cannot hold connections: the headers must arrive within
/// `header_read_seconds` (an idle keep-alive connection is closed after as long), a body
/// within `body_read_seconds` plus a second per 64 KiB ([`crate::web::public::Deadline`]);
/// and at most `max_connections` are served at once, the rest waiting in the listen queue.
async fn serve(
    listener: TcpListener,
    service: crate::web::public::CachedFirst,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let config = service.app.config.clone();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_read_seconds.max(1)));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            crate::web::public::CachedFirst { peer: Some(peer), ..service.clone() },
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after {DRAIN:?}; stopping anyway");
    }
    Ok(())
}

/// Binds `listen` and serves `app`, with its event delivery and job worker.
pub async fn start(app: App, listen: &str) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            "：这个端口已被占用（可能是另一个 zhanqun 在运行），请停掉它，或用 --listen 换一个端口，例如 --listen 127.0.0.1:8081"
        } else {
            ""
        };
        anyhow::anyhow!("无法在 {listen} 上监听（{e}）{hint}")
    })?;
    app.reload_hosts().await.map_err(|e| anyhow::anyhow!("loading the host table: {e}"))?;
    app.ensure_recurring_jobs().await.map_err(|e| anyhow::anyhow!("scheduling recurring jobs: {e}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut background = crate::kernel::events::run(app.clone(), rx.clone())
        .await
        .map_err(|e| anyhow::anyhow!("starting event delivery: {e}"))?;
    background.push(tokio::spawn(crate::kernel::jobs::run_worker(app.clone(), rx.clone())));
    // The search index: opened (or rebuilt) before serving when that is quick; a large
    // rebuild goes on while the database answers searches.
    background.push(crate::search::indexer::start(&app, rx.clone(), Duration::from_secs(10)).await);
    background.push(tokio::spawn(flush_search_counts(app.clone(), rx.clone())));
    background.push(tokio::spawn(flush_visits(app.clone(), rx.clone())));
    let service = crate::web::service(app.clone());
    let (admin_addr, admin_http) = match app.config.admin_listen.as_deref() {
        Some(admin_listen) => {
            let l = TcpListener::bind(admin_listen)
                .await
                .with_context(|| format!("cannot listen on {admin_listen} (admin_listen)"))?;
            let a = l.local_addr()?;
            let door = crate::web::public::CachedFirst { admin_door: true, ..service.clone() };
            (Some(a), Some(tokio::spawn(serve(l, door, rx.clone()))))
        }
        None => (None, None),
    };
    let http = tokio::spawn(serve(listener, service, rx));
    Ok(Running { addr, admin_addr, app, shutdown: tx, http, admin_http, background })
}
