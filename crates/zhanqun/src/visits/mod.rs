//! 统计分析 (a mandatory function of the platform): page views per site, column and
//! document, the sites that sent visitors, and devices, counted by the server itself — no
//! third-party script, no cookie, no address or anything else about who visited. A view is
//! counted in memory on the way out (a lock and a map entry, never a database write on the
//! request path) and written every few seconds by the server's background task; robots are
//! not counted. The admin draws daily and monthly charts; the annual report reads the totals.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, header};
use serde::Serialize;

pub mod admin;
pub mod api;

use crate::app::App;
use crate::kernel::time::today;
use crate::kernel::{Actor, AppError, AppResult};

/// What a public address shows, as counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Shown {
    Home,
    Document(i64),
    Column(String),
    Other,
}

impl Shown {
    fn of(path: &str) -> Shown {
        if path == "/" || path == "/index.html" {
            return Shown::Home;
        }
        if let Some(id) =
            path.strip_prefix("/articles/").and_then(|r| r.strip_suffix(".html")).and_then(|n| n.parse().ok())
        {
            return Shown::Document(id);
        }
        if let Some(rest) = path.strip_prefix("/columns/") {
            let slug = rest.split('/').next().unwrap_or("");
            if !slug.is_empty()
                && slug.len() <= 64
                && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Shown::Column(slug.to_string());
            }
        }
        Shown::Other
    }

    fn key(&self) -> String {
        match self {
            Shown::Home => "home".into(),
            Shown::Document(id) => format!("doc:{id}"),
            Shown::Column(s) => format!("column:{s}"),
            Shown::Other => "other".into(),
        }
    }
}

/// The kind of device, from the user agent; `None` for robots (not counted).
fn device(headers: &HeaderMap) -> Option<&'static str> {
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let lower = ua.to_ascii_lowercase();
    if ["bot", "spider", "crawl", "slurp", "curl/", "wget/", "python-", "go-http-client", "zhanqun-monitor"]
        .iter()
        .any(|b| lower.contains(b))
    {
        return None;
    }
    Some(if lower.contains("ipad") || lower.contains("tablet") {
        "tablet"
    } else if lower.contains("mobile") || lower.contains("android") || lower.contains("iphone") {
        "mobile"
    } else {
        "desktop"
    })
}

/// The host that sent the visitor, when it is another site.
fn referrer(headers: &HeaderMap) -> Option<String> {
    let r = headers.get(header::REFERER)?.to_str().ok()?;
    let host = url::Url::parse(r).ok()?.host_str()?.to_ascii_lowercase();
    let own = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let own = own.rsplit_once(':').map_or(own, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { own });
    (host != own.to_ascii_lowercase() && host.len() <= 253).then_some(host)
}

type ViewKey = (i64, Shown, &'static str);
type Counted = (Vec<(ViewKey, u64)>, Vec<((i64, String), u64)>);
const SHARDS: usize = 8;

/// Views counted since the last write, in shards so that requests on different cores
/// rarely meet on one lock.
#[derive(Default)]
pub struct Visits {
    views: [Mutex<HashMap<ViewKey, u64>>; SHARDS],
    referrers: Mutex<HashMap<(i64, String), u64>>,
}

impl Visits {
    /// Counts a page view of `site` at `path` (a public HTML page answered 200).
    pub fn count(&self, site: i64, path: &str, headers: &HeaderMap) {
        let Some(dev) = device(headers) else { return };
        let shown = Shown::of(path);
        let shard = (site as usize).wrapping_mul(31).wrapping_add(path.len()) % SHARDS;
        if let Ok(mut m) = self.views[shard].lock() {
            *m.entry((site, shown, dev)).or_default() += 1;
        }
        if let Some(r) = referrer(headers)
            && let Ok(mut m) = self.referrers.lock()
        {
            *m.entry((site, r)).or_default() += 1;
        }
    }

    fn take(&self) -> Counted {
        let mut views = Vec::new();
        for s in &self.views {
            if let Ok(mut m) = s.lock() {
                views.extend(m.drain());
            }
        }
        let refs = self.referrers.lock().map(|mut m| m.drain().collect()).unwrap_or_default();
        (views, refs)
    }

    /// Puts counts back after a failed write, so none are lost.
    fn restore(&self, views: Vec<(ViewKey, u64)>, refs: Vec<((i64, String), u64)>) {
        for (k, n) in views {
            let shard = (k.0 as usize) % SHARDS;
            if let Ok(mut m) = self.views[shard].lock() {
                *m.entry(k).or_default() += n;
            }
        }
        if let Ok(mut m) = self.referrers.lock() {
            for (k, n) in refs {
                *m.entry(k).or_default() += n;
            }
        }
    }
}

/// One site's visits over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitReport {
    pub site_id: i64,
    pub from: String,
    pub to: String,
    pub total: i64,
    /// Each day of the period, oldest first.
    pub daily: Vec<DayCount>,
    /// Each month of the period's year up to now.
    pub monthly: Vec<DayCount>,
    /// The most viewed documents.
    pub documents: Vec<Named>,
    pub columns: Vec<Named>,
    pub referrers: Vec<Named>,
    pub devices: Vec<Named>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    /// YYYY-MM-DD, or YYYY-MM for a month.
    pub day: String,
    pub views: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub key: String,
    pub name: String,
    pub views: i64,
}

impl App {
    /// Writes the views counted since the last time (the server does it every few seconds
    /// and when it stops).
    pub async fn flush_visits(&self) -> AppResult<()> {
        let (views, refs) = self.visits.take();
        if views.is_empty() && refs.is_empty() {
            return Ok(());
        }
        let day = today().to_string();
        let written = async {
            let mut w = self.db.begin_write().await?;
            // Summed by key first: one statement per page, device and referrer.
            let mut by: HashMap<(i64, String, &'static str), i64> = HashMap::new();
            for ((site, shown, dev), n) in &views {
                *by.entry((*site, shown.key(), dev)).or_default() += *n as i64;
            }
            for ((site, page, dev), n) in &by {
                sqlx::query(
                    "INSERT INTO visit_counts (site_id, day, page, device, views) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (site_id, day, page, device) DO UPDATE SET views = visit_counts.views + excluded.views",
                )
                .bind(site)
                .bind(&day)
                .bind(page)
                .bind(*dev)
                .bind(n)
                .execute(w.conn())
                .await?;
            }
            for ((site, r), n) in &refs {
                sqlx::query(
                    "INSERT INTO visit_referrers (site_id, day, referrer, views) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (site_id, day, referrer) DO UPDATE SET views = visit_referrers.views + excluded.views",
                )
                .bind(site)
                .bind(&day)
                .bind(r)
                .bind(*n as i64)
                .execute(w.conn())
                .await?;
            }
            w.commit().await?;
            Ok::<_, AppError>(())
        };
        match written.await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.visits.restore(views, refs);
                Err(e)
            }
        }
    }

    /// A site's visits over the `days` days to today (its staff and the web office).
    pub async fn visit_report(&self, actor: &Actor, site: i64, days: i64) -> AppResult<VisitReport> {
        {
            let mut conn = self.db.pool.acquire().await?;
            crate::kernel::actor::require_any_role(&mut conn, actor, site).await?;
        }
        let days = days.clamp(1, 366);
        let to_d = today();
        let from_d = to_d - time::Duration::days(days - 1);
        let (from, to) = (from_d.to_string(), to_d.to_string());
        let daily_rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT day, CAST(SUM(views) AS BIGINT) FROM visit_counts WHERE site_id = $1 AND day >= $2 AND day <= $3 GROUP BY day",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        let mut daily = Vec::new();
        let mut d = from_d;
        while d <= to_d {
            let day = d.to_string();
            let views = daily_rows.iter().find(|r| r.0 == day).map_or(0, |r| r.1);
            daily.push(DayCount { day, views });
            d += time::Duration::days(1);
        }
        let year = to_d.year();
        let month_rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT SUBSTR(day, 1, 7), CAST(SUM(views) AS BIGINT) FROM visit_counts WHERE site_id = $1 AND day >= $2 \
             GROUP BY SUBSTR(day, 1, 7)",
        )
        .bind(site)
        .bind(format!("{year:04}-01-01"))
        .fetch_all(&self.db.pool)
        .await?;
        let monthly = (1..=u8::from(to_d.month()))
            .map(|m| {
                let key = format!("{year:04}-{m:02}");
                let views = month_rows.iter().find(|r| r.0 == key).map_or(0, |r| r.1);
                DayCount { day: key, views }
            })
            .collect();
        let pages: Vec<(String, i64)> = sqlx::query_as(
            "SELECT page, CAST(SUM(views) AS BIGINT) AS v FROM visit_counts WHERE site_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY page ORDER BY v DESC, page LIMIT 200",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        let mut documents = Vec::new();
        let mut columns = Vec::new();
        for (page, views) in &pages {
            if let Some(id) = page.strip_prefix("doc:").and_then(|n| n.parse::<i64>().ok()) {
                if documents.len() < 20 {
                    let title: Option<String> = sqlx::query_scalar(
                        "SELECT e.title FROM documents d JOIN editions e ON e.id = d.live_edition_id WHERE d.id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.db.pool)
                    .await?;
                    documents.push(Named {
                        key: page.clone(),
                        name: title.unwrap_or_else(|| format!("文档 {id}")),
                        views: *views,
                    });
                }
            } else if let Some(slug) = page.strip_prefix("column:") {
                if columns.len() < 20 {
                    let name: Option<String> =
                        sqlx::query_scalar("SELECT name FROM columns WHERE site_id = $1 AND slug = $2")
                            .bind(site)
                            .bind(slug)
                            .fetch_optional(&self.db.pool)
                            .await?;
                    columns.push(Named {
                        key: page.clone(),
                        name: name.unwrap_or_else(|| slug.to_string()),
                        views: *views,
                    });
                }
            } else if page == "home" {
                columns.insert(0, Named { key: page.clone(), name: "首页".into(), views: *views });
            }
        }
        let referrers: Vec<(String, i64)> = sqlx::query_as(
            "SELECT referrer, CAST(SUM(views) AS BIGINT) AS v FROM visit_referrers WHERE site_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY referrer ORDER BY v DESC, referrer LIMIT 20",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        let devices: Vec<(String, i64)> = sqlx::query_as(
            "SELECT device, CAST(SUM(views) AS BIGINT) AS v FROM visit_counts WHERE site_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY device ORDER BY v DESC",
        )
        .bind(site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.db.pool)
        .await?;
        let total = daily.iter().map(|d| d.views).sum();
        Ok(VisitReport {
            site_id: site,
            from,
            to,
            total,
            daily,
            monthly,
            documents,
            columns,
            referrers: referrers.into_iter().map(|(k, v)| Named { name: k.clone(), key: k, views: v }).collect(),
            devices: devices
                .into_iter()
                .map(|(k, v)| Named {
                    name: match k.as_str() {
                        "mobile" => "手机",
                        "tablet" => "平板",
                        _ => "电脑",
                    }
                    .into(),
                    key: k,
                    views: v,
                })
                .collect(),
        })
    }

    /// A site's views in a year (for the annual report).
    pub async fn visits_in_year(&self, site: i64, year: i32) -> AppResult<i64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(views) AS BIGINT) FROM visit_counts WHERE site_id = $1 AND day >= $2 AND day < $3",
        )
        .bind(site)
        .bind(format!("{year:04}-01-01"))
        .bind(format!("{:04}-01-01", year + 1))
        .fetch_one(&self.db.pool)
        .await?;
        Ok(n.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_counted() {
        assert_eq!(Shown::of("/"), Shown::Home);
        assert_eq!(Shown::of("/articles/42.html"), Shown::Document(42));
        assert_eq!(Shown::of("/columns/news/"), Shown::Column("news".into()));
        assert_eq!(Shown::of("/columns/news/page/2"), Shown::Column("news".into()));
        assert_eq!(Shown::of("/columns/<x>/"), Shown::Other);
        assert_eq!(Shown::of("/catalog/"), Shown::Other);
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148".parse().unwrap(),
        );
        assert_eq!(device(&h), Some("mobile"));
        h.insert(header::USER_AGENT, "Mozilla/5.0 (compatible; Baiduspider/2.0)".parse().unwrap());
        assert_eq!(device(&h), None, "robots are not counted");
        h.insert(header::USER_AGENT, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)".parse().unwrap());
        assert_eq!(device(&h), Some("desktop"));
        h.insert(header::HOST, "jyj.qingdao.gov.cn".parse().unwrap());
        h.insert(header::REFERER, "https://www.baidu.com/s?wd=%E5%85%A5%E5%AD%A6".parse().unwrap());
        assert_eq!(referrer(&h).as_deref(), Some("www.baidu.com"), "the host only, never the address");
        h.insert(header::REFERER, "http://jyj.qingdao.gov.cn/columns/news/".parse().unwrap());
        assert_eq!(referrer(&h), None, "moving inside the site is no referral");
    }
}
