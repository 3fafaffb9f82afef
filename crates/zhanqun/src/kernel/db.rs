//! The database: one SQL dialect for SQLite (embedded default) and PostgreSQL (several nodes).
//!
//! The queries are written once in the portable subset both engines share (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`, BIGINT times in Unix milliseconds) and run
//! through sqlx's `Any` driver; where the engines differ (auto-increment keys, triggers,
//! job claiming, backup) the code says so by [`Backend`]. See `docs/decisions/0001-storage.md`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Connection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            bail!("unsupported database URL (use sqlite://PATH or postgres://…): {}", redact(url))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The database handle shared by the whole program.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The URL it was opened with (PostgreSQL's `LISTEN` needs a connection of its own).
    pub url: Arc<str>,
    /// SQLite allows one writer at a time; writers queue here instead of failing with
    /// `SQLITE_BUSY` when a deferred transaction tries to upgrade its lock.
    write_lock: Option<Arc<Mutex<()>>>,
    /// Who holds the writer lock and since when: named when another writer waits long.
    holder: Holder,
}

type Holder = Arc<std::sync::Mutex<Option<(&'static std::panic::Location<'static>, std::time::Instant)>>>;

/// A write transaction. On SQLite it also holds the process-wide writer lock.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    // Dropped before the guard: the holder is cleared before the next writer sets itself.
    _held: Held,
    _guard: Option<OwnedMutexGuard<()>>,
}

/// How long a write transaction has been open, and who opened it: one held past [`LONG`]
/// is logged when it ends, because on SQLite every other write waits for it.
struct Held {
    since: std::time::Instant,
    by: &'static std::panic::Location<'static>,
    holder: Holder,
}

const LONG: Duration = Duration::from_secs(1);

/// A writer waiting longer than this for the lock names the one holding it.
const LONG_WAIT: Duration = Duration::from_secs(5);

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut h) = self.holder.lock() {
            *h = None;
        }
        let took = self.since.elapsed();
        if took >= LONG {
            tracing::warn!(opened_at = %self.by, ms = took.as_millis() as u64, "a write transaction was held long");
        }
    }
}

impl WriteTx {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Builds a statement at run time with its values bound, never spliced in: `bind` writes
/// the next numbered placeholder (`$1`, `$2`, …, which both engines read) and keeps the
/// value. (sqlx's own `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL
/// refuses.)
pub struct QueryBuilder {
    sql: String,
    args: sqlx::any::AnyArguments,
    n: usize,
    error: Option<String>,
}

impl QueryBuilder {
    pub fn new(sql: &str) -> QueryBuilder {
        QueryBuilder { sql: sql.to_string(), args: Default::default(), n: 0, error: None }
    }

    /// Appends SQL text (never a value).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'t> sqlx::Encode<'t, Any> + sqlx::Type<Any>,
    {
        use sqlx::Arguments;
        self.n += 1;
        self.sql.push('$');
        self.sql.push_str(&self.n.to_string());
        if let Err(e) = self.args.add(value)
            && self.error.is_none()
        {
            self.error = Some(e.to_string());
        }
        self
    }

    /// Appends `$i, $j, …`, one placeholder per value.
    pub fn push_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: for<'t> sqlx::Encode<'t, Any> + sqlx::Type<Any>,
    {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(v);
        }
        self
    }

    fn parts(self) -> Result<(String, sqlx::any::AnyArguments), sqlx::Error> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e.into())),
            None => Ok((self.sql, self.args)),
        }
    }

    pub async fn execute(self, conn: &mut AnyConnection) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        let (sql, args) = self.parts()?;
        sqlx::query_with(AssertSqlSafe(sql), args).execute(conn).await
    }

    pub async fn fetch_all<O>(self, pool: &AnyPool) -> Result<Vec<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_as_with(AssertSqlSafe(sql), args).fetch_all(pool).await
    }

    pub async fn fetch_optional<O>(self, pool: &AnyPool) -> Result<Option<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_as_with(AssertSqlSafe(sql), args).fetch_optional(pool).await
    }

    pub async fn fetch_all_on<O>(self, conn: &mut AnyConnection) -> Result<Vec<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_as_with(AssertSqlSafe(sql), args).fetch_all(conn).await
    }

    pub async fn fetch_optional_on<O>(self, conn: &mut AnyConnection) -> Result<Option<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_as_with(AssertSqlSafe(sql), args).fetch_optional(conn).await
    }

    pub async fn fetch_scalar<O>(self, pool: &AnyPool) -> Result<O, sqlx::Error>
    where
        O: Send + Unpin + sqlx::Type<Any> + for<'r> sqlx::Decode<'r, Any>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_scalar_with(AssertSqlSafe(sql), args).fetch_one(pool).await
    }

    pub async fn fetch_optional_scalar<O>(self, pool: &AnyPool) -> Result<Option<O>, sqlx::Error>
    where
        O: Send + Unpin + sqlx::Type<Any> + for<'r> sqlx::Decode<'r, Any>,
    {
        let (sql, args) = self.parts()?;
        sqlx::query_scalar_with(AssertSqlSafe(sql), args).fetch_optional(pool).await
    }
}

/// An SQLite file holds password hashes and sealed personal data: only its owner reads it
/// (SQLite gives its `-wal` and `-shm` files the same permissions).
fn private_file(url: &str) {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(path, error = %e, "cannot make the database file readable by its owner only");
        }
    }
}

impl Db {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`) without migrating.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let opts: AnyConnectOptions = url.parse().with_context(|| format!("bad database URL {}", redact(url)))?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;",
                            )
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
            }
        }
        .map_err(|e| {
            // One sentence: sqlx's database errors repeat themselves through their source.
            let why = match &e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => {
                    format!("{}（先创建它，例如 createdb；见 README「PostgreSQL and several nodes」）", d.message())
                }
                sqlx::Error::Database(d) => d.message().to_string(),
                other => other.to_string(),
            };
            anyhow::anyhow!("cannot open database {}: {why}", redact(url))
        })?;
        if backend == Backend::Sqlite {
            private_file(url);
        }
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db { pool, backend, url: url.into(), write_lock, holder: Holder::default() })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Starts a write transaction.
    #[track_caller]
    pub fn begin_write(&self) -> impl Future<Output = Result<WriteTx, sqlx::Error>> + Send + '_ {
        self.begin_write_for(std::panic::Location::caller())
    }

    /// [`Db::begin_write`] on behalf of `by`, the code that asked (a command's caller).
    pub async fn begin_write_for(&self, by: &'static std::panic::Location<'static>) -> Result<WriteTx, sqlx::Error> {
        let guard = match &self.write_lock {
            Some(l) => Some(match tokio::time::timeout(LONG_WAIT, l.clone().lock_owned()).await {
                Ok(g) => g,
                Err(_) => {
                    let held = self.holder.lock().ok().and_then(|h| *h);
                    tracing::warn!(
                        waiting_at = %by,
                        held_by = %held.map_or("?".to_string(), |(at, _)| at.to_string()),
                        held_ms = held.map_or(0, |(_, t)| t.elapsed().as_millis() as u64),
                        "waiting long for the write lock"
                    );
                    l.clone().lock_owned().await
                }
            }),
            None => None,
        };
        let since = std::time::Instant::now();
        if let Ok(mut h) = self.holder.lock() {
            *h = Some((by, since));
        }
        let held = Held { since, by, holder: self.holder.clone() };
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _held: held, _guard: guard })
    }

    /// Applies the embedded migrations that are not applied yet, each in its own
    /// transaction. On PostgreSQL an advisory lock keeps nodes starting together in line.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let mut w = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7301903)").execute(w.conn()).await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(w.conn())
        .await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations").fetch_all(w.conn()).await?;
        for m in MIGRATIONS {
            if applied.contains(&m.version) {
                continue;
            }
            let (id_pk, extra) = match self.backend {
                Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", m.sqlite),
                Backend::Postgres => ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", m.postgres),
            };
            let sql = m.common.replace("ID_PK", id_pk);
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(w.conn())
                .await
                .with_context(|| format!("migration {} ({})", m.version, m.name))?;
            if !extra.trim().is_empty() {
                sqlx::raw_sql(AssertSqlSafe(extra))
                    .execute(w.conn())
                    .await
                    .with_context(|| format!("migration {} ({}), {} part", m.version, m.name, self.backend.name()))?;
            }
            seed(w.conn(), m.version).await.with_context(|| format!("migration {} ({}), data", m.version, m.name))?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now_ms())
                .execute(w.conn())
                .await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        w.commit().await?;
        Ok(())
    }

    /// Writes a consistent copy of an SQLite database to `dest` while it is in use.
    pub async fn backup_to(&self, dest: &std::path::Path) -> anyhow::Result<()> {
        if self.backend != Backend::Sqlite {
            bail!("backup 复制内置的 SQLite 数据库；PostgreSQL 请用 pg_dump 备份");
        }
        if dest.exists() {
            bail!("{} 已经存在：请换一个新文件名，备份不会覆盖已有文件", dest.display());
        }
        let dest = dest.to_str().context("备份文件的路径须为 UTF-8")?;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("VACUUM INTO $1").bind(dest).execute(&mut *conn).await?;
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let mut c = self.pool.acquire().await?;
        c.ping().await
    }
}

struct Migration {
    version: i64,
    name: &'static str,
    common: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        common: include_str!("../../migrations/0001_core.sql"),
        sqlite: include_str!("../../migrations/0001_core.sqlite.sql"),
        postgres: include_str!("../../migrations/0001_core.postgres.sql"),
    },
    Migration {
        version: 2,
        name: "admin sessions",
        common: include_str!("../../migrations/0002_admin_sessions.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 3,
        name: "calendar",
        common: include_str!("../../migrations/0003_calendar.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 4,
        name: "mailbox",
        common: include_str!("../../migrations/0004_mailbox.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 5,
        name: "consultations, surveys, reminders",
        common: include_str!("../../migrations/0005_participation.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 6,
        name: "interviews",
        common: include_str!("../../migrations/0006_interviews.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 7,
        name: "disclosure",
        common: include_str!("../../migrations/0007_disclosure.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 8,
        name: "topics",
        common: include_str!("../../migrations/0008_topics.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 9,
        name: "subjects, reposts, content inventory",
        common: include_str!("../../migrations/0009_cluster_disclosure.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 10,
        name: "outbox, subscriber cursors, job states",
        common: include_str!("../../migrations/0010_backbone.sql"),
        sqlite: "",
        postgres: include_str!("../../migrations/0010_backbone.postgres.sql"),
    },
    Migration {
        version: 11,
        name: "separation of duties",
        common: include_str!("../../migrations/0011_separation_of_duties.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 12,
        name: "reposts accepted by the receiving site",
        common: include_str!("../../migrations/0012_repost_acceptance.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 13,
        name: "one-time form challenges",
        common: include_str!("../../migrations/0013_used_challenges.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 14,
        name: "three administrators, the audit chain",
        common: include_str!("../../migrations/0014_three_administrators.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 15,
        name: "password change, reset, reuse and expiry",
        common: include_str!("../../migrations/0015_password_rules.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 16,
        name: "two-factor sign-in",
        common: include_str!("../../migrations/0016_two_factor.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 17,
        name: "personal data sealed at rest",
        common: include_str!("../../migrations/0017_personal_data.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 18,
        name: "staff sign-in through OpenID Connect",
        common: include_str!("../../migrations/0018_oidc.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 19,
        name: "audit trail archive and prune",
        common: include_str!("../../migrations/0019_audit_archive.sql"),
        sqlite: include_str!("../../migrations/0019_audit_archive.sqlite.sql"),
        postgres: include_str!("../../migrations/0019_audit_archive.postgres.sql"),
    },
    Migration {
        version: 20,
        name: "party-and-government site label",
        common: include_str!("../../migrations/0020_party_label.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 21,
        name: "robots.txt per site",
        common: include_str!("../../migrations/0021_robots.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 22,
        name: "search synonyms",
        common: include_str!("../../migrations/0022_search_synonyms.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 23,
        name: "search engine",
        common: include_str!("../../migrations/0023_search_engine.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 24,
        name: "monitor",
        common: include_str!("../../migrations/0024_monitor.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 25,
        name: "corrections",
        common: include_str!("../../migrations/0025_corrections.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 26,
        name: "staffing",
        common: include_str!("../../migrations/0026_staffing.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 27,
        name: "visits",
        common: include_str!("../../migrations/0027_visits.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 28,
        name: "annual reports",
        common: include_str!("../../migrations/0028_annual_reports.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 29,
        name: "monitor bonus part",
        common: include_str!("../../migrations/0029_monitor_bonus.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 30,
        name: "expressions",
        common: include_str!("../../migrations/0030_expressions.sql"),
        sqlite: "",
        postgres: "",
    },
];

/// Data a migration brings with it, once: the shipped holiday calendar, the default
/// subjects, the seeded expression list.
async fn seed(conn: &mut AnyConnection, version: i64) -> anyhow::Result<()> {
    if version == 4 {
        // The key that signs public-form challenges, shared by every node.
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        sqlx::query("INSERT INTO secrets (name, value) VALUES ('form_challenge', $1)")
            .bind(hex::encode(key))
            .execute(&mut *conn)
            .await?;
    }
    if version == 9 {
        // The national default subject categories, two levels.
        let now = now_ms();
        for (i, (first, seconds)) in zhanqun_domain::disclosure::DEFAULT_SUBJECTS.iter().enumerate() {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subject_categories (parent_id, name, sort_order, updated_at) VALUES (NULL, $1, $2, $3) RETURNING id",
            )
            .bind(*first)
            .bind(i as i64)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            for (j, second) in seconds.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO subject_categories (parent_id, name, sort_order, updated_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(*second)
                .bind(j as i64)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    if version == 3 {
        for d in zhanqun_domain::calendar::shipped_days() {
            sqlx::query(
                "INSERT INTO calendar_days (day, kind, name, source, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(zhanqun_domain::calendar::fmt_date(d.date))
            .bind(d.kind.as_str())
            .bind(&d.name)
            .bind(&d.source)
            .bind("随项目发布的数据")
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
        }
    }
    if version == 30 {
        // Common errors in official names and titles (错敏词); what the office deletes
        // stays deleted.
        let now = now_ms();
        for e in zhanqun_domain::expressions::seeded() {
            sqlx::query(
                "INSERT INTO expressions (word, kind, suggestion, note, updated_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, '', $4, $5, $5)",
            )
            .bind(&e.word)
            .bind(e.kind.as_str())
            .bind(&e.suggestion)
            .bind("随项目发布的数据")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub use super::time::now_ms;

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
