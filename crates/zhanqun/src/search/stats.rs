//! What citizens search for: counted per site, day and query in memory, written every few
//! seconds (one upsert per query, added to what other nodes wrote), so a search costs no
//! database write. From the counts: the hot searches shown under the box and on a page that
//! found nothing (the web office's own list first, then the most frequent), and the report
//! of what was searched most and found nothing, per site.
//!
//! Only the query text is kept, never who asked; a query is shown in a list only once it was
//! asked at least [`SHOWN_FROM`] times, so a one-off query (which could be a name or a
//! number) stays in the counts only.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::app::App;
use crate::kernel::{Actor, AppError, AppResult, Audit};
use zhanqun_domain::validate::FieldErrors;

/// Times a query must have been asked before any list shows it.
pub const SHOWN_FROM: i64 = 2;
/// Days the counts are kept.
pub const KEEP_DAYS: i64 = 400;

/// (site, day, query) → (searches, of which found nothing).
type Counts = HashMap<(i64, String, String), (i64, i64)>;

/// Counts not yet written.
#[derive(Default)]
pub struct Pending(Mutex<Counts>);

impl Pending {
    fn take(&self) -> Counts {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A query as counted: trimmed, spaces made one, Latin letters lower-cased, at most 50
/// characters; None when nothing is left.
pub fn normalise(q: &str) -> Option<String> {
    let s: String = q.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().chars().take(50).collect();
    (!s.is_empty() && s.chars().any(char::is_alphanumeric)).then_some(s)
}

/// One line of the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryCount {
    pub query: String,
    pub searches: i64,
    /// Of which found nothing.
    pub empty: i64,
}

/// A site's report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchReport {
    pub site_id: i64,
    pub days: i64,
    pub searches: i64,
    /// Searches that found nothing.
    pub empty: i64,
    /// The most frequent queries.
    pub top: Vec<QueryCount>,
    /// The most frequent queries that found nothing: what citizens look for and don't find.
    pub not_found: Vec<QueryCount>,
}

fn day_of(ms: i64) -> String {
    crate::kernel::time::local_date(ms).to_string()
}

impl App {
    /// Counts one search on `site_id`.
    pub fn count_search(&self, site_id: i64, q: &str, found: i64) {
        let Some(q) = normalise(q) else { return };
        let day = day_of(crate::kernel::time::now_ms());
        let mut p = self.search.stats.0.lock().unwrap_or_else(|p| p.into_inner());
        if p.len() > 100_000 {
            return;
        }
        let e = p.entry((site_id, day, q)).or_default();
        e.0 += 1;
        if found == 0 {
            e.1 += 1;
        }
    }

    /// Writes the counts kept in memory (every few seconds, and when the server stops).
    pub async fn flush_search_counts(&self) -> AppResult<()> {
        let pending = self.search.stats.take();
        if pending.is_empty() {
            return Ok(());
        }
        let mut w = self.db.begin_write().await?;
        for ((site, day, query), (n, empty)) in &pending {
            sqlx::query(
                "INSERT INTO search_queries (site_id, day, query, searches, empty) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (site_id, day, query) DO UPDATE SET searches = search_queries.searches + excluded.searches, \
                 empty = search_queries.empty + excluded.empty",
            )
            .bind(site)
            .bind(day)
            .bind(query)
            .bind(n)
            .bind(empty)
            .execute(w.conn())
            .await?;
        }
        let cutoff = day_of(crate::kernel::time::now_ms() - KEEP_DAYS * 86_400_000);
        sqlx::query("DELETE FROM search_queries WHERE day < $1").bind(cutoff).execute(w.conn()).await?;
        w.commit().await?;
        Ok(())
    }

    /// The hot searches of a site (the city's on the portal): the web office's list first,
    /// then the most frequent of the last 30 days; at most `n`.
    pub async fn hot_searches(&self, site_id: i64, n: usize) -> AppResult<Vec<String>> {
        let mut out = self.curated_hot_searches().await?;
        let since = day_of(crate::kernel::time::now_ms() - 30 * 86_400_000);
        let frequent: Vec<String> = sqlx::query_scalar(
            "SELECT query FROM search_queries WHERE site_id = $1 AND day >= $2 GROUP BY query \
             HAVING SUM(searches) - SUM(empty) >= $3 ORDER BY SUM(searches) DESC, query LIMIT $4",
        )
        .bind(site_id)
        .bind(since)
        .bind(SHOWN_FROM + 1)
        .bind(n as i64 * 2)
        .fetch_all(&self.db.pool)
        .await?;
        for q in frequent {
            if !out.contains(&q) {
                out.push(q);
            }
        }
        out.truncate(n);
        Ok(out)
    }

    /// The web office's hot searches, in order.
    pub async fn curated_hot_searches(&self) -> AppResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT term FROM search_hot ORDER BY position, id").fetch_all(&self.db.pool).await?)
    }

    /// Replaces the web office's hot searches (the system administrator): at most 20, each
    /// 1 to 20 characters, no repeats.
    pub async fn set_hot_searches(&self, actor: &Actor, terms: &[String]) -> AppResult<Vec<String>> {
        actor.require_admin()?;
        let mut e = FieldErrors::new();
        let terms: Vec<String> = terms.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        if terms.len() > 20 {
            e.add("terms", "max_items", format!("热门搜索最多 20 个（现为 {} 个）", terms.len()));
        }
        for (i, t) in terms.iter().enumerate() {
            if t.chars().count() > 20 || t.chars().any(char::is_control) {
                e.add(&format!("terms[{i}]"), "term", format!("「{t}」太长：每个不超过 20 个字"));
            } else if terms[..i].contains(t) {
                e.add(&format!("terms[{i}]"), "unique", format!("「{t}」重复了"));
            }
        }
        e.into_result().map_err(AppError::Invalid)?;
        let mut cmd = self.begin(actor).await?;
        sqlx::query("DELETE FROM search_hot").execute(cmd.conn()).await?;
        for (i, t) in terms.iter().enumerate() {
            sqlx::query("INSERT INTO search_hot (term, position, created_by, created_at) VALUES ($1, $2, $3, $4)")
                .bind(t)
                .bind(i as i64)
                .bind(&actor.name)
                .bind(crate::kernel::time::now_ms())
                .execute(cmd.conn())
                .await?;
        }
        cmd.audit(Audit::event(None, "search_hot", 0, "replace", serde_json::json!({"terms": terms.len()}))).await?;
        cmd.commit().await?;
        Ok(terms)
    }

    /// What was searched on a site over the last `days` days (1 to 366): the most frequent
    /// queries and those that found nothing. The site's administrators and editors, and the
    /// system administrator.
    pub async fn search_report(&self, actor: &Actor, site_id: i64, days: i64) -> AppResult<SearchReport> {
        {
            let mut c = self.db.pool.acquire().await?;
            crate::kernel::actor::require_any_role(&mut c, actor, site_id).await?;
        }
        let days = days.clamp(1, 366);
        let since = day_of(crate::kernel::time::now_ms() - (days - 1) * 86_400_000);
        let (searches, empty): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT CAST(SUM(searches) AS BIGINT), CAST(SUM(empty) AS BIGINT) FROM search_queries WHERE site_id = $1 AND day >= $2")
                .bind(site_id)
                .bind(&since)
                .fetch_one(&self.db.pool)
                .await?;
        let list = |only_empty: bool| {
            let since = since.clone();
            async move {
                let sql = if only_empty {
                    "SELECT query, CAST(SUM(searches) AS BIGINT), CAST(SUM(empty) AS BIGINT) FROM search_queries WHERE site_id = $1 AND day >= $2 \
                     GROUP BY query HAVING SUM(empty) >= $3 ORDER BY SUM(empty) DESC, query LIMIT 50"
                } else {
                    "SELECT query, CAST(SUM(searches) AS BIGINT), CAST(SUM(empty) AS BIGINT) FROM search_queries WHERE site_id = $1 AND day >= $2 \
                     GROUP BY query HAVING SUM(searches) >= $3 ORDER BY SUM(searches) DESC, query LIMIT 50"
                };
                let rows: Vec<(String, i64, i64)> =
                    sqlx::query_as(sql).bind(site_id).bind(since).bind(SHOWN_FROM).fetch_all(&self.db.pool).await?;
                AppResult::Ok(
                    rows.into_iter().map(|(query, searches, empty)| QueryCount { query, searches, empty }).collect(),
                )
            }
        };
        Ok(SearchReport {
            site_id,
            days,
            searches: searches.unwrap_or(0),
            empty: empty.unwrap_or(0),
            top: list(false).await?,
            not_found: list(true).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_counted_alike() {
        assert_eq!(super::normalise("  义务教育   入学 ").as_deref(), Some("义务教育 入学"));
        assert_eq!(super::normalise("GDP").as_deref(), Some("gdp"));
        assert_eq!(super::normalise("!!! ，"), None);
        assert_eq!(super::normalise(&"字".repeat(500)).map(|s| s.chars().count()), Some(50));
    }
}
