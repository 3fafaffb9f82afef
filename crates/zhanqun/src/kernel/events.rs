//! Events: what a command changed, written to the outbox in the command's own transaction
//! and delivered after commit to every subscriber, on this node and on every other.
//!
//! - **In-transaction handlers** ([`TxHandler`]) run inside the emitting command's
//!   transaction, for state that must change together with it (index numbers at publication).
//! - **Node subscribers** ([`Scope::Node`]) keep a node's memory in step: its page cache,
//!   host table and calendar. Each node follows the outbox from where it started; what it
//!   committed itself it applies at once, before the command returns.
//! - **Cluster subscribers** ([`Scope::Cluster`]) change shared state once for the whole
//!   cluster (the catalog listing). Each has a durable cursor in `outbox_cursors`, read by
//!   whichever node holds its lease, so an event committed just before a crash is delivered
//!   after the restart. Delivery is at least once: subscribers are idempotent. A failed
//!   delivery becomes a `redeliver` job (retried with backoff, visible to administrators)
//!   and the cursor moves on, so the rest still flow.
//!
//! On PostgreSQL ids are not committed in order, so readers read only events whose
//! transaction is older than the oldest transaction still running (`pg_snapshot_xmin`) and
//! keep their place as (transaction id, event id): an event that commits late is never
//! skipped. Nodes are woken by `LISTEN/NOTIFY`; polling stays as the fallback. SQLite has
//! one writer at a time and commits in id order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::db::Backend;
use super::error::{AppError, AppResult};
use super::time::now_ms;
use crate::app::App;

/// What happened, as subscribers learn of it. Stored as JSON (`{"event": "document_published", …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A site was registered or changed: its name, domains, labels or state.
    SiteChanged { site_id: i64 },
    /// A column was created, changed, merged or closed.
    ColumnChanged { site_id: i64, column_id: i64 },
    /// A document's live edition changed: first publication or a new edition published.
    DocumentPublished { site_id: i64, document_id: i64 },
    /// Something the public page of a published document shows changed without a new
    /// edition: attachments, disclosure metadata, links to other documents, its columns.
    DocumentChanged { site_id: i64, document_id: i64, columns_changed: bool },
    /// Taken off the public site, its page kept with a notice or redirected elsewhere.
    DocumentWithdrawn { site_id: i64, document_id: i64, redirected: bool },
    /// Taken off the public site for good: its address answers 410.
    DocumentDeleted { site_id: i64, document_id: i64 },
    /// A document of another site is now shown on `site_id`, in `column_id`.
    RepostReceived { site_id: i64, document_id: i64, column_id: i64 },
    /// A reposted document is no longer shown on `site_id`.
    RepostRemoved { site_id: i64, document_id: i64, column_id: i64 },
    /// A topic page or its timeline changed.
    TopicChanged { site_id: i64, topic_id: i64 },
    /// The subject list changed (every catalog shows it).
    SubjectsChanged,
    /// A holiday or make-up working day was set or removed.
    CalendarChanged,
    /// The list of wrong and sensitive expressions (错敏词) changed.
    ExpressionsChanged,
    /// A citizen's letter arrived.
    LetterReceived { letter_id: i64, site_id: Option<i64> },
}

impl Event {
    /// The stored kind, e.g. `document_published`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SiteChanged { .. } => "site_changed",
            Event::ColumnChanged { .. } => "column_changed",
            Event::DocumentPublished { .. } => "document_published",
            Event::DocumentChanged { .. } => "document_changed",
            Event::DocumentWithdrawn { .. } => "document_withdrawn",
            Event::DocumentDeleted { .. } => "document_deleted",
            Event::RepostReceived { .. } => "repost_received",
            Event::RepostRemoved { .. } => "repost_removed",
            Event::TopicChanged { .. } => "topic_changed",
            Event::SubjectsChanged => "subjects_changed",
            Event::CalendarChanged => "calendar_changed",
            Event::ExpressionsChanged => "expressions_changed",
            Event::LetterReceived { .. } => "letter_received",
        }
    }

    /// The site it concerns, if one.
    pub fn site_id(&self) -> Option<i64> {
        match self {
            Event::SiteChanged { site_id }
            | Event::ColumnChanged { site_id, .. }
            | Event::DocumentPublished { site_id, .. }
            | Event::DocumentChanged { site_id, .. }
            | Event::DocumentWithdrawn { site_id, .. }
            | Event::DocumentDeleted { site_id, .. }
            | Event::RepostReceived { site_id, .. }
            | Event::RepostRemoved { site_id, .. }
            | Event::TopicChanged { site_id, .. } => Some(*site_id),
            Event::LetterReceived { site_id, .. } => *site_id,
            Event::SubjectsChanged | Event::CalendarChanged | Event::ExpressionsChanged => None,
        }
    }

    /// The document it concerns, if one.
    pub fn document_id(&self) -> Option<i64> {
        match self {
            Event::DocumentPublished { document_id, .. }
            | Event::DocumentChanged { document_id, .. }
            | Event::DocumentWithdrawn { document_id, .. }
            | Event::DocumentDeleted { document_id, .. }
            | Event::RepostReceived { document_id, .. }
            | Event::RepostRemoved { document_id, .. } => Some(*document_id),
            _ => None,
        }
    }
}

/// An event as read back from the outbox.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub tx_id: i64,
    pub at: i64,
    pub event: Event,
}

/// A place in the outbox: (transaction id, event id). On SQLite the transaction id is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Position {
    pub tx_id: i64,
    pub event_id: i64,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position { tx_id: self.tx_id, event_id: self.id }
    }
}

/// Where a subscriber's changes live, which decides how it is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This node's memory: fed by every node from where it started.
    Node,
    /// Shared state: fed once for the cluster, from a durable cursor.
    Cluster,
}

/// Something that reacts to events after they are committed. Must be idempotent: an event
/// may be delivered more than once (after a crash, a retry, or on the node that made it).
pub trait Subscriber: Send + Sync {
    /// A stable name; a cluster subscriber's cursor is kept under it.
    fn name(&self) -> &'static str;
    fn scope(&self) -> Scope;
    fn handle<'a>(&'a self, app: &'a App, event: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>>;
}

/// Something that reacts to an event inside the transaction that emits it; its failure
/// fails the command.
pub trait TxHandler: Send + Sync {
    fn handle<'a, 'c>(
        &'a self,
        cmd: &'a mut super::command::Command<'c>,
        event: &'a Event,
    ) -> BoxFuture<'a, AppResult<()>>
    where
        'c: 'a;
}

/// How often a node looks at the outbox when no notification wakes it.
const POLL: Duration = Duration::from_secs(1);
/// How soon it looks again when committed events wait behind a transaction still running.
const RETRY_SOON: Duration = Duration::from_millis(5);
const BATCH: i64 = 500;
/// The notification channel (PostgreSQL).
pub const CHANNEL: &str = "zhanqun_outbox";

/// Delivery figures, for administrators.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SubscriberStatus {
    pub name: String,
    /// `node` or `cluster`.
    pub scope: String,
    /// Events this node delivered to it since it started.
    pub delivered: u64,
    /// Deliveries that failed on this node since it started (each became a retry job).
    pub failed: u64,
    /// Cluster subscribers: the event it has read up to, and which node reads for it.
    pub cursor: Option<i64>,
    pub leased_by: Option<String>,
    /// Events committed after its cursor (cluster subscribers).
    pub behind: Option<i64>,
}

#[derive(Default)]
struct Counts {
    delivered: u64,
    failed: u64,
}

/// The registry of subscribers and the state of this node's delivery.
pub struct Events {
    subscribers: ArcSwap<Vec<Arc<dyn Subscriber>>>,
    tx_handlers: ArcSwap<Vec<Arc<dyn TxHandler>>>,
    /// Bumped whenever new events may be in the outbox (a local commit, a notification).
    wake: watch::Sender<u64>,
    /// Where each cluster subscriber this node reads for has got to.
    progress: watch::Sender<HashMap<&'static str, Position>>,
    /// Events this node applied to its node subscribers when it committed them.
    applied: Mutex<Applied>,
    counts: Mutex<HashMap<&'static str, Counts>>,
    /// Whether this process delivers (a server does; a one-off CLI command does not).
    delivering: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Applied {
    order: VecDeque<i64>,
    ids: HashSet<i64>,
}

const APPLIED_MAX: usize = 10_000;

impl Default for Events {
    fn default() -> Self {
        Events {
            subscribers: ArcSwap::from_pointee(Vec::new()),
            tx_handlers: ArcSwap::from_pointee(Vec::new()),
            wake: watch::Sender::new(0),
            progress: watch::Sender::new(HashMap::new()),
            applied: Mutex::new(Applied::default()),
            counts: Mutex::new(HashMap::new()),
            delivering: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Events {
    /// Adds a subscriber (before the server starts).
    pub fn subscribe(&self, s: Arc<dyn Subscriber>) {
        self.subscribers.rcu(|list| {
            let mut l = Vec::clone(list);
            l.push(s.clone());
            l
        });
    }

    /// Adds an in-transaction handler.
    pub fn on_commit_of(&self, h: Arc<dyn TxHandler>) {
        self.tx_handlers.rcu(|list| {
            let mut l = Vec::clone(list);
            l.push(h.clone());
            l
        });
    }

    pub(crate) fn tx_handlers(&self) -> Arc<Vec<Arc<dyn TxHandler>>> {
        self.tx_handlers.load_full()
    }

    fn subscribers(&self, scope: Scope) -> Vec<Arc<dyn Subscriber>> {
        self.subscribers.load().iter().filter(|s| s.scope() == scope).cloned().collect()
    }

    pub fn subscriber(&self, name: &str) -> Option<Arc<dyn Subscriber>> {
        self.subscribers.load().iter().find(|s| s.name() == name).cloned()
    }

    /// A receiver that changes whenever new events may be in the outbox.
    pub fn wake_receiver(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// Reports how far a reader of this node other than a cluster subscriber (this node's
    /// search index) has got, so that a command that commits waits for it too; None while it
    /// cannot keep up (the index is being rebuilt), so that nothing waits for it.
    pub(crate) fn set_progress(&self, name: &'static str, at: Option<Position>) {
        self.progress.send_modify(|p| match at {
            Some(at) => {
                p.insert(name, at);
            }
            None => {
                p.remove(name);
            }
        });
    }

    /// Tells every reader of this node that new events may be there.
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn count(&self, name: &'static str, ok: bool) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let e = c.entry(name).or_default();
        if ok {
            e.delivered += 1;
        } else {
            e.failed += 1;
        }
    }

    /// Remembers events applied here at commit, so following the outbox skips them.
    pub(crate) fn mark_applied(&self, ids: &[i64]) {
        let mut a = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        for &id in ids {
            if a.ids.insert(id) {
                a.order.push_back(id);
            }
        }
        while a.order.len() > APPLIED_MAX {
            if let Some(old) = a.order.pop_front() {
                a.ids.remove(&old);
            }
        }
    }

    fn take_applied(&self, id: i64) -> bool {
        self.applied.lock().unwrap_or_else(|p| p.into_inner()).ids.remove(&id)
    }
}

/// Reads events after `after` that are safe to read (see the module comment); also says
/// whether committed events wait behind a transaction still running.
pub async fn read_after(app: &App, after: Position, limit: i64) -> AppResult<(Vec<StoredEvent>, bool)> {
    type Row = (i64, i64, i64, String);
    let rows: Vec<Row> = match app.db.backend {
        Backend::Sqlite => {
            sqlx::query_as("SELECT id, tx_id, at, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after.event_id)
                .bind(limit)
                .fetch_all(&app.db.pool)
                .await?
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT id, tx_id, at, payload FROM outbox WHERE (tx_id > $1 OR (tx_id = $1 AND id > $2)) \
                 AND tx_id < CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT) \
                 ORDER BY tx_id, id LIMIT $3",
            )
            .bind(after.tx_id)
            .bind(after.event_id)
            .bind(limit)
            .fetch_all(&app.db.pool)
            .await?
        }
    };
    let waiting = match app.db.backend {
        Backend::Sqlite => false,
        Backend::Postgres if (rows.len() as i64) < limit => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE \
                 tx_id >= CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT) LIMIT 1) w",
            )
            .fetch_one(&app.db.pool)
            .await?
                > 0
        }
        Backend::Postgres => false,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (id, tx_id, at, payload) in rows {
        match serde_json::from_str::<Event>(&payload) {
            Ok(event) => out.push(StoredEvent { id, tx_id, at, event }),
            // Written by a newer version of the program: nothing here knows what to do with it.
            Err(e) => tracing::warn!(event = id, error = %e, "skipping an event this version does not know"),
        }
    }
    Ok((out, waiting))
}

/// The newest position every event before which is committed or will never be.
pub async fn head(app: &App) -> AppResult<Position> {
    match app.db.backend {
        Backend::Sqlite => {
            let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM outbox").fetch_one(&app.db.pool).await?;
            Ok(Position { tx_id: 0, event_id: id.unwrap_or(0) })
        }
        Backend::Postgres => {
            // Transactions from the oldest still running on may yet commit events: start
            // just before them.
            let xmin: i64 =
                sqlx::query_scalar("SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)")
                    .fetch_one(&app.db.pool)
                    .await?;
            Ok(Position { tx_id: xmin - 1, event_id: i64::MAX })
        }
    }
}

/// Reads one event by id (redelivery).
pub async fn load(app: &App, id: i64) -> AppResult<Option<StoredEvent>> {
    let row: Option<(i64, i64, i64, String)> =
        sqlx::query_as("SELECT id, tx_id, at, payload FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&app.db.pool)
            .await?;
    match row {
        None => Ok(None),
        Some((id, tx_id, at, payload)) => {
            let event = serde_json::from_str(&payload)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("event {id} cannot be read: {e}")))?;
            Ok(Some(StoredEvent { id, tx_id, at, event }))
        }
    }
}

impl App {
    /// Applies events this node just committed to its node subscribers, before the command
    /// returns; then wakes every reader and, when this node reads for a cluster subscriber,
    /// waits (briefly) until it has read them too, so the caller sees what it did.
    pub(crate) async fn after_commit(&self, events: &[StoredEvent]) {
        if events.is_empty() {
            return;
        }
        for s in self.events.subscribers(Scope::Node) {
            for e in events {
                self.deliver_to_node_subscriber(&*s, e).await;
            }
        }
        self.events.wake();
        if !self.events.delivering.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let Some(last) = events.iter().map(StoredEvent::position).max() else { return };
        let mine: Vec<&'static str> = self.events.progress.borrow().keys().copied().collect();
        if mine.is_empty() {
            return;
        }
        let mut rx = self.events.progress.subscribe();
        let caught_up = rx.wait_for(|p| mine.iter().all(|n| p.get(n).is_none_or(|at| *at >= last)));
        if tokio::time::timeout(Duration::from_secs(2), caught_up).await.is_err() {
            tracing::warn!("cluster subscribers had not read a new event after 2 s; they will");
        }
    }

    async fn deliver_to_node_subscriber(&self, s: &dyn Subscriber, e: &StoredEvent) {
        // Retried a few times; a node subscriber's state is this node's memory, so what it
        // cannot do is logged and counted rather than kept.
        for attempt in 0..3 {
            match s.handle(self, e).await {
                Ok(()) => {
                    self.events.count(s.name(), true);
                    return;
                }
                Err(err) if attempt == 2 => {
                    self.events.count(s.name(), false);
                    tracing::error!(subscriber = s.name(), event = e.id, error = %err, "node subscriber failed");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20 << attempt)).await,
            }
        }
    }

    /// Delivery figures of every subscriber.
    pub async fn subscriber_status(&self) -> AppResult<Vec<SubscriberStatus>> {
        type CursorRow = (String, i64, i64, Option<String>, Option<i64>);
        let cursors: Vec<CursorRow> =
            sqlx::query_as("SELECT name, tx_id, event_id, leased_by, lease_until FROM outbox_cursors")
                .fetch_all(&self.db.pool)
                .await?;
        let counts = {
            let c = self.events.counts.lock().unwrap_or_else(|p| p.into_inner());
            c.iter().map(|(k, v)| (*k, (v.delivered, v.failed))).collect::<HashMap<_, _>>()
        };
        let mut out = Vec::new();
        for s in self.events.subscribers.load().iter() {
            let (delivered, failed) = counts.get(s.name()).copied().unwrap_or_default();
            let mut st = SubscriberStatus {
                name: s.name().into(),
                scope: if s.scope() == Scope::Node { "node".into() } else { "cluster".into() },
                delivered,
                failed,
                ..Default::default()
            };
            if let Some((_, tx_id, event_id, leased_by, until)) = cursors.iter().find(|c| c.0 == s.name()) {
                st.cursor = Some(*event_id);
                st.leased_by = leased_by.clone().filter(|_| until.is_some_and(|u| u > now_ms()));
                let behind: i64 = match self.db.backend {
                    Backend::Sqlite => {
                        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE id > $1")
                            .bind(event_id)
                            .fetch_one(&self.db.pool)
                            .await?
                    }
                    Backend::Postgres => {
                        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE tx_id > $1 OR (tx_id = $1 AND id > $2)")
                            .bind(tx_id)
                            .bind(event_id)
                            .fetch_one(&self.db.pool)
                            .await?
                    }
                };
                st.behind = Some(behind);
            }
            out.push(st);
        }
        Ok(out)
    }
}

/// How long a starting node waits for the cluster subscribers it reads for to deliver what
/// was committed while no node read for them (the demo's seed, the CLI, a node that
/// crashed), before it serves anyway and lets them finish in the background.
const CATCH_UP: Duration = Duration::from_secs(30);

/// Runs this node's delivery until `shutdown` changes: following the outbox for the node
/// subscribers, reading for every cluster subscriber whose lease it holds, and on
/// PostgreSQL listening for notifications. Returns once the subscribers this node reads
/// for have caught up (or [`CATCH_UP`] passed), so that what a starting node serves already
/// reflects every committed event: the catalog lists the demo's documents on the first
/// request.
pub async fn run(app: App, shutdown: watch::Receiver<bool>) -> AppResult<Vec<tokio::task::JoinHandle<()>>> {
    app.events.delivering.store(true, std::sync::atomic::Ordering::Relaxed);
    let start = head(&app).await?;
    let mut tasks = vec![tokio::spawn(follow(app.clone(), start, shutdown.clone()))];
    let mut waiting = Vec::new();
    for s in app.events.subscribers(Scope::Cluster) {
        // A subscriber met for the first time reads every event still kept (the outbox is
        // as old as the migration that made it, and pruned after a week): what was committed
        // before any server ran (the CLI, the demo) reaches it too.
        sqlx::query(
            "INSERT INTO outbox_cursors (name, tx_id, event_id, updated_at) VALUES ($1, 0, 0, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(s.name())
        .bind(now_ms())
        .execute(&app.db.pool)
        .await?;
        let (ready, caught_up) = tokio::sync::oneshot::channel();
        tasks.push(tokio::spawn(read_for(app.clone(), s, shutdown.clone(), ready)));
        waiting.push(caught_up);
    }
    if app.db.backend == Backend::Postgres {
        tasks.push(tokio::spawn(listen(app.clone(), shutdown)));
    }
    let all = futures_util::future::join_all(waiting);
    if tokio::time::timeout(CATCH_UP, all).await.is_err() {
        tracing::warn!("cluster subscribers are still catching up after {CATCH_UP:?}; serving meanwhile");
    }
    Ok(tasks)
}

/// Waits until woken, the poll interval passes, or shutdown; false on shutdown.
async fn pause(wake: &mut watch::Receiver<u64>, shutdown: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = wake.changed() => true,
        _ = tokio::time::sleep(d) => true,
        _ = shutdown.changed() => false,
    }
}

/// Feeds the node subscribers with every event committed after `start`, by any node.
async fn follow(app: App, start: Position, mut shutdown: watch::Receiver<bool>) {
    let mut wake = app.events.wake.subscribe();
    let mut at = start;
    loop {
        let mut soon = false;
        match read_after(&app, at, BATCH).await {
            Ok((events, waiting)) => {
                let subs = app.events.subscribers(Scope::Node);
                for e in &events {
                    if !app.events.take_applied(e.id) {
                        for s in &subs {
                            app.deliver_to_node_subscriber(&**s, e).await;
                        }
                    }
                    at = e.position();
                }
                soon = waiting || events.len() as i64 == BATCH;
            }
            Err(e) => tracing::warn!(error = %e, "reading the outbox"),
        }
        if !pause(&mut wake, &mut shutdown, if soon { RETRY_SOON } else { POLL }).await {
            return;
        }
    }
}

/// Takes (or keeps) the lease of a cluster subscriber. Returns its cursor and when the
/// lease ends, when this node holds it.
async fn lease(app: &App, name: &str) -> AppResult<Option<(Position, i64)>> {
    let now = now_ms();
    let until = now + app.config.lease_ms();
    let mut w = app.db.begin_write().await?;
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE outbox_cursors SET leased_by = $1, lease_until = $2 \
         WHERE name = $3 AND (leased_by IS NULL OR leased_by = $1 OR lease_until IS NULL OR lease_until < $4) \
         RETURNING tx_id, event_id",
    )
    .bind(&*app.node)
    .bind(until)
    .bind(name)
    .bind(now)
    .fetch_optional(w.conn())
    .await?;
    w.commit().await?;
    Ok(row.map(|(tx_id, event_id)| (Position { tx_id, event_id }, until)))
}

/// Reads the outbox for one cluster subscriber while this node holds its lease. The lease
/// is renewed when half of it has passed, and with every cursor update; nothing is written
/// while there is nothing to deliver. `ready` is told the first time there is nothing more
/// to read for it now (or another node reads for it, or reading failed and waits for its
/// retry).
async fn read_for(
    app: App,
    s: Arc<dyn Subscriber>,
    mut shutdown: watch::Receiver<bool>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let name = s.name();
    let mut wake = app.events.wake.subscribe();
    let mut held: Option<(Position, i64)> = None;
    loop {
        let mut soon = false;
        if held.is_none_or(|(_, until)| until - now_ms() < app.config.lease_ms() / 2) {
            held = match lease(&app, name).await {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(subscriber = name, error = %e, "taking the subscriber's lease");
                    None
                }
            };
            app.events.progress.send_modify(|p| match held {
                Some((at, _)) => {
                    p.insert(name, at);
                }
                // Another node reads for it.
                None => {
                    p.remove(name);
                }
            });
        }
        if let Some((mut at, _)) = held {
            match read_after(&app, at, BATCH).await {
                Ok((events, waiting)) => {
                    for e in &events {
                        deliver_durably(&app, &*s, e).await;
                        at = e.position();
                    }
                    if !events.is_empty() {
                        held = match advance(&app, name, at, events.len() as i64).await {
                            Ok(Some(until)) => Some((at, until)),
                            Ok(None) => None,
                            Err(e) => {
                                tracing::warn!(subscriber = name, error = %e, "saving the cursor");
                                None
                            }
                        };
                        app.events.progress.send_modify(|p| {
                            p.insert(name, at);
                        });
                    }
                    soon = waiting || events.len() as i64 == BATCH;
                }
                Err(e) => tracing::warn!(subscriber = name, error = %e, "reading the outbox"),
            }
        }
        if !soon && let Some(r) = ready.take() {
            let _ = r.send(());
        }
        if !pause(&mut wake, &mut shutdown, if soon { RETRY_SOON } else { POLL }).await {
            // Let another node take over at once.
            let _ = release(&app, name).await;
            return;
        }
    }
}

/// Saves the cursor and renews the lease; None when the lease was lost meanwhile.
async fn advance(app: &App, name: &str, at: Position, n: i64) -> AppResult<Option<i64>> {
    let until = now_ms() + app.config.lease_ms();
    let mut w = app.db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE outbox_cursors SET tx_id = $1, event_id = $2, delivered = delivered + $3, updated_at = $4, lease_until = $5 \
         WHERE name = $6 AND leased_by = $7",
    )
    .bind(at.tx_id)
    .bind(at.event_id)
    .bind(n)
    .bind(now_ms())
    .bind(until)
    .bind(name)
    .bind(&*app.node)
    .execute(w.conn())
    .await?
    .rows_affected();
    w.commit().await?;
    Ok((done == 1).then_some(until))
}

async fn release(app: &App, name: &str) -> AppResult<()> {
    let mut w = app.db.begin_write().await?;
    sqlx::query("UPDATE outbox_cursors SET leased_by = NULL, lease_until = NULL WHERE name = $1 AND leased_by = $2")
        .bind(name)
        .bind(&*app.node)
        .execute(w.conn())
        .await?;
    w.commit().await?;
    Ok(())
}

/// Delivers one event to a cluster subscriber; a failure is handed to the job queue, which
/// retries it with backoff and shows it to administrators.
async fn deliver_durably(app: &App, s: &dyn Subscriber, e: &StoredEvent) {
    match s.handle(app, e).await {
        Ok(()) => app.events.count(s.name(), true),
        Err(err) => {
            app.events.count(s.name(), false);
            tracing::warn!(subscriber = s.name(), event = e.id, error = %err, "delivery failed; queued for retry");
            let payload = serde_json::json!({"subscriber": s.name(), "event_id": e.id, "first_error": err.to_string()});
            if let Err(qe) = app.enqueue_job(REDELIVER, &payload.to_string(), now_ms() + 1_000).await {
                tracing::error!(subscriber = s.name(), event = e.id, error = %qe, "could not queue the retry");
            }
        }
    }
}

/// The job kind that delivers one event again to one cluster subscriber.
pub const REDELIVER: &str = "redeliver";

#[derive(Deserialize)]
struct RedeliverPayload {
    subscriber: String,
    event_id: i64,
}

/// Retries a failed delivery, as a job.
pub struct Redeliver;

impl super::jobs::JobKind for Redeliver {
    fn name(&self) -> &'static str {
        REDELIVER
    }

    fn label(&self) -> &'static str {
        "重新投递事件"
    }

    fn max_attempts(&self) -> i64 {
        6
    }

    /// 2 s, 4 s, 8 s …: a subscriber that fails for a moment catches up soon.
    fn backoff(&self, attempts: i64) -> Duration {
        Duration::from_secs(1u64 << attempts.clamp(1, 8))
    }

    fn run<'a>(&'a self, ctx: &'a super::jobs::JobCtx, payload: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let p: RedeliverPayload = serde_json::from_str(payload)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("bad redelivery payload: {e}")))?;
            let s = ctx.app.events.subscriber(&p.subscriber).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("no subscriber named {} on this node", p.subscriber))
            })?;
            let Some(e) = load(&ctx.app, p.event_id).await? else {
                return Err(AppError::Internal(anyhow::anyhow!("event {} is no longer in the outbox", p.event_id)));
            };
            s.handle(&ctx.app, &e).await
        })
    }
}

/// Wakes this node whenever another commits events (PostgreSQL `LISTEN`); reconnects when
/// the connection drops, while polling carries on.
async fn listen(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        match sqlx::postgres::PgListener::connect(&app.db.url).await {
            Ok(mut l) => {
                if let Err(e) = l.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    // Whatever was committed while not listening.
                    app.events.wake();
                    loop {
                        tokio::select! {
                            n = l.recv() => match n {
                                Ok(_) => app.events.wake(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "notification connection lost; polling until it is back");
                                    break;
                                }
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the notification connection; polling"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The job kind that removes delivered events older than a week.
pub struct PruneOutbox;

pub const PRUNE: &str = "outbox_prune";

impl super::jobs::JobKind for PruneOutbox {
    fn name(&self) -> &'static str {
        PRUNE
    }

    fn label(&self) -> &'static str {
        "清理已投递事件"
    }

    fn recurring(&self) -> Option<super::jobs::Recurring> {
        Some(super::jobs::Recurring::DailyAt(3))
    }

    fn run<'a>(&'a self, ctx: &'a super::jobs::JobCtx, _: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let cutoff = now_ms() - 7 * 86_400_000;
            let mut w = ctx.app.db.begin_write().await?;
            // Only what every cluster subscriber has read.
            const PRUNABLE: &str = "FROM outbox WHERE at < $1 AND NOT EXISTS (SELECT 1 FROM outbox_cursors c \
                 WHERE c.tx_id < outbox.tx_id OR (c.tx_id = outbox.tx_id AND c.event_id < outbox.id))";
            // Where the pruning reaches is kept: a node's search index that stops before it
            // has missed events and is rebuilt.
            let last: Option<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT tx_id, id {PRUNABLE} ORDER BY tx_id DESC, id DESC LIMIT 1"
            )))
            .bind(cutoff)
            .fetch_optional(w.conn())
            .await?;
            if let Some((tx_id, id)) = last {
                sqlx::query("UPDATE outbox_horizon SET tx_id = $1, event_id = $2 WHERE id = 1")
                    .bind(tx_id)
                    .bind(id)
                    .execute(w.conn())
                    .await?;
            }
            let n = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {PRUNABLE}")))
                .bind(cutoff)
                .execute(w.conn())
                .await?
                .rows_affected();
            w.commit().await?;
            ctx.progress(&format!("删除 {n} 条一周前已投递的事件")).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_by_name() {
        let e = Event::DocumentPublished { site_id: 2, document_id: 86 };
        let s = serde_json::to_string(&e).unwrap();
        assert_eq!(s, r#"{"event":"document_published","site_id":2,"document_id":86}"#);
        assert_eq!(serde_json::from_str::<Event>(&s).unwrap(), e);
        assert_eq!(e.kind(), "document_published");
        assert_eq!(serde_json::to_value(Event::CalendarChanged).unwrap()["event"], "calendar_changed");
        assert!(serde_json::from_str::<Event>(r#"{"event":"from_the_future"}"#).is_err());
    }

    #[test]
    fn positions_order_by_transaction_then_id() {
        let a = Position { tx_id: 10, event_id: 7 };
        let b = Position { tx_id: 11, event_id: 3 };
        assert!(a < b, "a later transaction comes later whatever its event ids");
        assert!(Position { tx_id: 0, event_id: 4 } < Position { tx_id: 0, event_id: 5 });
    }
}
