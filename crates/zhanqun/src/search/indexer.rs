//! Keeping this node's index in step with the outbox, building it from the database, and
//! the checks at start.
//!
//! The loop ([`run`]) reads every event after the position the index's last commit
//! recorded: a document's events re-read that document (published: indexed again; anything
//! else: removed), a column's or a site's events re-read every document it holds or held.
//! Re-reading the database makes an event delivered twice harmless. The index commits the
//! position it reached together with the documents, so after a crash it resumes exactly
//! there. The writer is taken per batch, so `zhanqun search reindex --site` can take it in
//! between.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio::sync::watch;

use super::{IndexDoc, Live, Payload};
use crate::app::App;
use crate::kernel::events::{Event, Position, StoredEvent};
use crate::kernel::time::now_ms;
use crate::kernel::{AppError, AppResult};

/// The name under which the index's progress is reported: a command that commits waits
/// (briefly) until the index has applied it, so the editor's next search finds the document.
pub const PROGRESS: &str = "search_index";
const BATCH: i64 = 500;
/// A writer's memory budget per thread.
const WRITER_MEMORY: usize = 50_000_000;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("search index: {e}"))
}

#[derive(sqlx::FromRow)]
struct DocRow {
    id: i64,
    site_id: i64,
    first_published_at: Option<i64>,
    title: String,
    subtitle: String,
    keywords: String,
    body_html: String,
    doc_type: Option<String>,
    issuing_body_id: Option<i64>,
    issuer: Option<String>,
    document_number: Option<String>,
    index_number: Option<String>,
}

fn in_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The documents among `ids` that the public can see, as the index holds them: published,
/// on a site that is online; with the sites that accepted a repost of them (and are online).
pub async fn load_docs(app: &App, ids: &[i64]) -> AppResult<Vec<IndexDoc>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = in_list(ids);
    let rows: Vec<DocRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT d.id, d.site_id, d.first_published_at, e.title, e.subtitle, e.keywords, e.body_html, \
         x.doc_type, x.issuing_body_id, b.name AS issuer, x.document_number, x.index_number \
         FROM documents d JOIN editions e ON e.id = d.live_edition_id JOIN sites s ON s.id = d.site_id \
         LEFT JOIN disclosures x ON x.document_id = d.id LEFT JOIN bodies b ON b.id = x.issuing_body_id \
         WHERE e.state = 'published' AND s.state = 'online' AND d.id IN ({list})"
    )))
    .fetch_all(&app.db.pool)
    .await?;
    let columns: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT document_id, column_id FROM document_columns WHERE document_id IN ({list})"
    )))
    .fetch_all(&app.db.pool)
    .await?;
    let reposts: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.document_id, r.site_id, r.column_id FROM reposts r JOIN sites s ON s.id = r.site_id \
         WHERE r.removed_at IS NULL AND r.accepted_at IS NOT NULL AND s.state = 'online' AND r.document_id IN ({list})"
    )))
    .fetch_all(&app.db.pool)
    .await?;
    let files: Vec<(i64, String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT document_id, file_name, media_type, sha256 FROM attachments WHERE document_id IN ({list}) ORDER BY id"
    )))
    .fetch_all(&app.db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut sites = vec![r.site_id];
        let mut cols: Vec<i64> = columns.iter().filter(|c| c.0 == r.id).map(|c| c.1).collect();
        for (_, s, c) in reposts.iter().filter(|p| p.0 == r.id) {
            if !sites.contains(s) {
                sites.push(*s);
            }
            cols.push(*c);
        }
        let mut text_of_files = String::new();
        for (_, name, media, sha) in files.iter().filter(|f| f.0 == r.id) {
            text_of_files.push_str(name);
            text_of_files.push('\n');
            if let Ok(bytes) = app.blobs.read(sha).await
                && let Some(t) = super::extract::text_of(media, &bytes)
            {
                text_of_files.push_str(&t);
                text_of_files.push('\n');
            }
        }
        out.push(IndexDoc {
            id: r.id,
            site_id: r.site_id,
            sites,
            columns: cols,
            doc_type: r.doc_type,
            body_id: r.issuing_body_id,
            issuer: r.issuer.unwrap_or_default(),
            published_at: r.first_published_at.unwrap_or(0),
            title: r.title,
            subtitle: r.subtitle,
            keywords: r.keywords,
            text: crate::public::pages::plain_text(&r.body_html),
            files: text_of_files,
            codes: [r.document_number, r.index_number].into_iter().flatten().filter(|c| !c.is_empty()).collect(),
        });
    }
    Ok(out)
}

/// Every document of a site, and every document reposted to it.
async fn ids_of_site(app: &App, site_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM documents WHERE site_id = $1 UNION SELECT document_id FROM reposts WHERE site_id = $1",
    )
    .bind(site_id)
    .fetch_all(&app.db.pool)
    .await?)
}

/// Every document in a column, and every document reposted into it.
async fn ids_of_column(app: &App, column_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT document_id FROM document_columns WHERE column_id = $1 UNION SELECT document_id FROM reposts WHERE column_id = $1",
    )
    .bind(column_id)
    .fetch_all(&app.db.pool)
    .await?)
}

/// Ids the index holds under a value of `field` (documents that left a column or a site).
fn indexed_ids(live: &Live, field: tantivy::schema::Field, v: u64) -> tantivy::Result<Vec<i64>> {
    use tantivy::collector::DocSetCollector;
    use tantivy::schema::Value;
    let searcher = live.reader.searcher();
    let q = tantivy::query::TermQuery::new(Term::from_field_u64(field, v), tantivy::schema::IndexRecordOption::Basic);
    let mut out = Vec::new();
    for a in searcher.search(&q, &DocSetCollector)? {
        let d: TantivyDocument = searcher.doc(a)?;
        if let Some(id) = d.get_first(live.f.id).and_then(|v| v.as_u64()) {
            out.push(id as i64);
        }
    }
    Ok(out)
}

/// The documents an event asks to look at again.
async fn touched(app: &App, live: &Live, e: &Event, into: &mut BTreeSet<i64>) -> AppResult<()> {
    if let Some(id) = e.document_id() {
        into.insert(id);
        return Ok(());
    }
    match e {
        Event::SiteChanged { site_id } => {
            into.extend(ids_of_site(app, *site_id).await?);
            into.extend(indexed_ids(live, live.f.sites, *site_id as u64).map_err(internal)?);
        }
        Event::ColumnChanged { column_id, .. } => {
            into.extend(ids_of_column(app, *column_id).await?);
            into.extend(indexed_ids(live, live.f.columns, *column_id as u64).map_err(internal)?);
        }
        _ => {}
    }
    Ok(())
}

/// Takes the index's writer, waiting while another process (a `reindex --site`) holds it.
fn writer(live: &Live, threads: usize) -> AppResult<IndexWriter> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        match live.index.writer_with_num_threads(threads, WRITER_MEMORY * threads) {
            Ok(w) => return Ok(w),
            Err(tantivy::TantivyError::LockFailure(..)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(internal(e)),
        }
    }
}

/// Removes `ids` from the index and adds those of them the public can see; commits with
/// `at` (or, when None, the position the index already records).
pub async fn apply(app: &App, live: &Arc<Live>, ids: BTreeSet<i64>, at: Option<Position>) -> AppResult<()> {
    let ids: Vec<i64> = ids.into_iter().collect();
    let mut docs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH as usize) {
        docs.extend(load_docs(app, chunk).await?);
    }
    let live = live.clone();
    tokio::task::spawn_blocking(move || -> AppResult<()> {
        let w = writer(&live, 1)?;
        for id in &ids {
            w.delete_term(Term::from_field_u64(live.f.id, *id as u64));
        }
        for d in &docs {
            w.add_document(d.to_tantivy(&live.f)).map_err(internal)?;
        }
        commit(&live, w, at)?;
        Ok(())
    })
    .await
    .map_err(internal)?
}

/// Commits with the outbox position (the one recorded before, when `at` is None), lets
/// merges finish, and shows the result to searches.
fn commit(live: &Live, mut w: IndexWriter, at: Option<Position>) -> AppResult<()> {
    let at = match at {
        Some(p) => p,
        None => live
            .index
            .load_metas()
            .map_err(internal)?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .map(|p| p.position())
            .unwrap_or_default(),
    };
    let payload = serde_json::to_string(&Payload::at(at)).map_err(internal)?;
    let mut c = w.prepare_commit().map_err(internal)?;
    c.set_payload(&payload);
    c.commit().map_err(internal)?;
    w.wait_merging_threads().map_err(internal)?;
    live.reader.reload().map_err(internal)?;
    Ok(())
}

/// Builds a complete new index from the database beside the one in use and swaps it in
/// (`CURRENT`); the index in use answers until then. `progress(done, total)`. Returns the
/// new directory's name. A build that stops half-way leaves only a `.building` directory,
/// which the next start removes; the index in use stays as it was.
pub async fn rebuild(app: &App, threads: usize, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> AppResult<String> {
    let root = app.search.root.clone();
    std::fs::create_dir_all(&root).map_err(internal)?;
    // Events from here on are applied after the swap: nothing committed meanwhile is missed.
    let at = crate::kernel::events::head(app).await?;
    let name = format!("index-{}", now_ms());
    let building = format!("{name}.building");
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM documents d JOIN editions e ON e.id = d.live_edition_id WHERE e.state = 'published'",
    )
    .fetch_one(&app.db.pool)
    .await?;
    progress(0, total as u64);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<IndexDoc>>(4);
    let (r, b) = (root.clone(), building.clone());
    let writing = tokio::task::spawn_blocking(move || -> AppResult<()> {
        let live = Live::create(&r, &b).map_err(internal)?;
        let w = writer(&live, threads)?;
        while let Some(batch) = rx.blocking_recv() {
            for d in batch {
                w.add_document(d.to_tantivy(&live.f)).map_err(internal)?;
            }
        }
        commit(&live, w, Some(at))
    });
    let mut last = 0i64;
    let mut done = 0u64;
    loop {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT d.id FROM documents d JOIN editions e ON e.id = d.live_edition_id \
             WHERE e.state = 'published' AND d.id > $1 ORDER BY d.id LIMIT $2",
        )
        .bind(last)
        .bind(BATCH)
        .fetch_all(&app.db.pool)
        .await?;
        let Some(&l) = ids.last() else { break };
        last = l;
        let docs = load_docs(app, &ids).await?;
        done += ids.len() as u64;
        if tx.send(docs).await.is_err() {
            break;
        }
        progress(done.min(total as u64), total as u64);
        if done >= (total as u64).div_ceil(2) {
            crate::kernel::failpoint::hit("search_reindex_midway");
        }
    }
    drop(tx);
    writing.await.map_err(internal)??;
    std::fs::rename(root.join(&building), root.join(&name)).map_err(internal)?;
    super::set_current(&root, &name).map_err(internal)?;
    Ok(name)
}

/// Rebuilds the index of one site where it stands (the index in use, its writer taken
/// in turn with the server's): every document of the site and every document reposted to
/// it read again. `progress(done, total)`.
pub async fn reindex_site(app: &App, site_id: i64, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> AppResult<u64> {
    let (live, _) = Live::open_current(&app.search.root)
        .map_err(|e| AppError::Conflict(format!("本机还没有可用的全文索引（{e}）：请先不带 --site 重建整个索引")))?;
    let live = Arc::new(live);
    let mut ids: BTreeSet<i64> = ids_of_site(app, site_id).await?.into_iter().collect();
    ids.extend(indexed_ids(&live, live.f.sites, site_id as u64).map_err(internal)?);
    let all: Vec<i64> = ids.into_iter().collect();
    let total = all.len() as u64;
    progress(0, total);
    let mut done = 0;
    for chunk in all.chunks(BATCH as usize * 4) {
        apply(app, &live, chunk.iter().copied().collect(), None).await?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    Ok(total)
}

/// Whether another process holds the writer of index directory `dir`.
fn in_use(dir: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::File::open(dir.join(".tantivy-writer.lock")) else { return false };
    // SAFETY: flock on a file descriptor we own; released when `f` is dropped.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    r != 0
}

/// Removes index directories that are not in use: older indexes after a swap, builds that
/// stopped half-way.
fn tidy(root: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with("index-") || name == keep || !e.path().is_dir() {
            continue;
        }
        if name.ends_with(".building") && in_use(&e.path()) {
            continue;
        }
        match std::fs::remove_dir_all(e.path()) {
            Ok(()) => tracing::info!(dir = %name, "removed an index directory no longer in use"),
            Err(err) => tracing::warn!(dir = %name, error = %err, "cannot remove an old index directory"),
        }
    }
}

/// How far the outbox was pruned: an index whose position is older has missed events.
async fn horizon(app: &App) -> AppResult<Position> {
    let (tx_id, event_id): (i64, i64) =
        sqlx::query_as("SELECT tx_id, event_id FROM outbox_horizon WHERE id = 1").fetch_one(&app.db.pool).await?;
    Ok(Position { tx_id, event_id })
}

/// Opens the index in use; when there is none that can answer, rebuilds it (the database
/// answers searches meanwhile).
async fn open_or_rebuild(app: &App) -> AppResult<(Arc<Live>, Position)> {
    let root = app.search.root.clone();
    let why = match Live::open_current(&root) {
        Ok((live, at)) => {
            let h = horizon(app).await?;
            if at >= h {
                tidy(&root, &live.name);
                return Ok((Arc::new(live), at));
            }
            format!("it stops at event {} and events up to {} were pruned since", at.event_id, h.event_id)
        }
        Err(e) => e.to_string(),
    };
    tracing::warn!(reason = %why, "search index unusable: rebuilding it from the database; searches are answered from the database meanwhile");
    app.search.set_live(None);
    app.search.set_why_not("全文索引正在重建");
    app.events.set_progress(PROGRESS, None);
    let started = std::time::Instant::now();
    let name = rebuild(app, 1, &|_, _| {}).await?;
    let (live, at) = Live::open(&root, &name).map_err(|e| internal(format!("the index just built: {e}")))?;
    tracing::info!(documents = live.num_docs(), seconds = started.elapsed().as_secs_f32(), "search index rebuilt");
    tidy(&root, &name);
    Ok((Arc::new(live), at))
}

fn current_name(root: &Path) -> Option<String> {
    std::fs::read_to_string(root.join("CURRENT")).ok().map(|s| s.trim().to_string())
}

/// Follows the outbox into this node's index until `shutdown`. `ready` is told once an
/// index answers (or could not be made to).
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>, ready: tokio::sync::oneshot::Sender<()>) {
    let mut ready = Some(ready);
    let mut wake = app.events.wake_receiver();
    let mut state: Option<(Arc<Live>, Position)> = None;
    let mut unsaved = false;
    let mut saved_at = std::time::Instant::now();
    loop {
        let mut soon = false;
        // The index in use: opened at start, again when a reindex swapped `CURRENT`, and
        // rebuilt when it is missing or broken.
        let swapped = state.as_ref().is_some_and(|(l, _)| current_name(&app.search.root).as_deref() != Some(&l.name));
        if state.is_none() || swapped {
            match open_or_rebuild(&app).await {
                Ok((live, at)) => {
                    if swapped {
                        tracing::info!(index = %live.name, "search index swapped in");
                    }
                    app.search.set_live(Some(live.clone()));
                    app.events.set_progress(PROGRESS, Some(at));
                    state = Some((live, at));
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot build the search index; searches are answered from the database");
                    app.search.set_why_not("全文索引暂不可用");
                    state = None;
                }
            }
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
        }
        if let Some((live, at)) = state.clone() {
            match follow_once(&app, &live, at).await {
                Ok((next, applied, more)) => {
                    if next != at {
                        unsaved |= !applied;
                        if applied {
                            saved_at = std::time::Instant::now();
                        }
                        state = Some((live.clone(), next));
                        app.events.set_progress(PROGRESS, Some(next));
                    }
                    soon = more;
                    // Events that touched no document move the position in memory; it is
                    // written now and then, not with every letter that arrives.
                    if unsaved && saved_at.elapsed() > Duration::from_secs(60) {
                        let l = live.clone();
                        let done = tokio::task::spawn_blocking(move || commit(&l, writer(&l, 1)?, Some(next))).await;
                        if matches!(done, Ok(Ok(()))) {
                            unsaved = false;
                            saved_at = std::time::Instant::now();
                        }
                    }
                    // A `reindex --site` from the console commits into the same index.
                    let _ = live.reader.reload();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "updating the search index failed; checking the index");
                    if !app.search.root.join(&live.name).join("meta.json").exists() {
                        state = None;
                        app.search.set_live(None);
                        app.search.set_why_not("全文索引正在重建");
                        soon = true;
                    }
                }
            }
        }
        let d = if soon { Duration::from_millis(5) } else { Duration::from_secs(1) };
        tokio::select! {
            _ = wake.changed() => {}
            _ = tokio::time::sleep(d) => {}
            _ = shutdown.changed() => {
                if unsaved && let Some((live, at)) = state {
                    let _ = tokio::task::spawn_blocking(move || commit(&live, writer(&live, 1)?, Some(at))).await;
                }
                return;
            }
        }
    }
}

/// Applies the next events: returns the position reached, whether it was committed, and
/// whether more are waiting.
async fn follow_once(app: &App, live: &Arc<Live>, at: Position) -> AppResult<(Position, bool, bool)> {
    let (events, waiting): (Vec<StoredEvent>, bool) = crate::kernel::events::read_after(app, at, BATCH).await?;
    let Some(last) = events.last().map(StoredEvent::position) else { return Ok((at, false, waiting)) };
    let mut ids = BTreeSet::new();
    for e in &events {
        touched(app, live, &e.event, &mut ids).await?;
    }
    if ids.is_empty() {
        return Ok((last, false, waiting || events.len() as i64 == BATCH));
    }
    apply(app, live, ids, Some(last)).await?;
    Ok((last, true, waiting || events.len() as i64 == BATCH))
}

/// Starts this node's indexing; waits up to `wait` for an index to answer (a large rebuild
/// goes on in the background, the database answering meanwhile).
pub async fn start(app: &App, shutdown: watch::Receiver<bool>, wait: Duration) -> tokio::task::JoinHandle<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run(app.clone(), shutdown, tx));
    if tokio::time::timeout(wait, rx).await.is_err() {
        tracing::warn!("the search index is still being built; searches are answered from the database meanwhile");
    }
    task
}
