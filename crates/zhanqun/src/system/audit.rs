//! The whole audit trail, for the audit administrator (三员分立): read with filters, exported
//! as CSV, and its hash chain verified. Every one of these looks is itself recorded.

use serde::Deserialize;

use crate::app::App;
use crate::kernel::audit::{self, AuditRow, AuditView, ChainReport};
use crate::kernel::export::Csv;
use crate::kernel::time::fmt_time;
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// Which entries: all filters optional, combined with AND.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
pub struct AuditFilter {
    /// From this day on (`YYYY-MM-DD`, China Standard Time).
    pub since: Option<String>,
    /// Up to and including this day.
    pub until: Option<String>,
    /// Who acted (user name, exactly).
    pub actor: Option<String>,
    /// `document`, `site`, `user`, `letter`, …
    pub entity: Option<String>,
    /// `create`, `approve`, `login`, `login_failed`, `locked`, …
    pub action: Option<String>,
    pub site_id: Option<i64>,
    /// At most this many, newest first (1–1000, default 200).
    #[serde(skip_serializing)]
    pub limit: Option<i64>,
    /// Entries with an id below this (the next page: the last id seen).
    #[serde(skip_serializing)]
    pub before_id: Option<i64>,
}

fn day_start(field: &str, s: &str) -> AppResult<i64> {
    let d = zhanqun_domain::calendar::parse_date(s.trim())
        .ok_or_else(|| AppError::field(field, "date", format!("日期「{s}」格式应为 YYYY-MM-DD")))?;
    Ok(crate::kernel::time::local_ms(d, 0))
}

impl AuditFilter {
    fn sql(&self) -> AppResult<(String, Vec<Bind>)> {
        let mut wh = Vec::new();
        let mut binds = Vec::new();
        let mut push = |cond: &str, b: Bind| {
            binds.push(b);
            wh.push(cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(s) = self.since.as_deref().filter(|s| !s.trim().is_empty()) {
            push("at >= ?", Bind::Int(day_start("since", s)?));
        }
        if let Some(s) = self.until.as_deref().filter(|s| !s.trim().is_empty()) {
            push("at < ?", Bind::Int(day_start("until", s)? + 86_400_000));
        }
        if let Some(a) = self.actor.as_deref().filter(|s| !s.trim().is_empty()) {
            push("actor_name = ?", Bind::Text(a.trim().to_string()));
        }
        if let Some(e) = self.entity.as_deref().filter(|s| !s.trim().is_empty()) {
            push("entity = ?", Bind::Text(e.trim().to_string()));
        }
        if let Some(a) = self.action.as_deref().filter(|s| !s.trim().is_empty()) {
            push("action = ?", Bind::Text(a.trim().to_string()));
        }
        if let Some(s) = self.site_id {
            push("site_id = ?", Bind::Int(s));
        }
        if let Some(b) = self.before_id {
            push("id < ?", Bind::Int(b));
        }
        let limit = self.limit.unwrap_or(200);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::field("limit", "range", "每次最多 1000 条"));
        }
        let wh = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        Ok((format!("SELECT * FROM audit_log{wh} ORDER BY id DESC LIMIT {limit}"), binds))
    }

    /// The filter as the trail records a look with it (without paging).
    fn described(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

impl App {
    /// The chain checked in one snapshot of the database, so entries written (or archived)
    /// while it walks do not look like a break.
    async fn verify_chain(&self) -> AppResult<ChainReport> {
        use sqlx::Connection;
        let mut c = self.db.pool.acquire().await?;
        let mut tx = c.begin().await?;
        if self.db.backend == crate::kernel::db::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        }
        let report = audit::verify(&mut tx).await?;
        tx.rollback().await?;
        Ok(report)
    }

    async fn audit_rows(&self, f: &AuditFilter) -> AppResult<Vec<AuditRow>> {
        let (sql, binds) = f.sql()?;
        let mut q = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        Ok(q.fetch_all(&self.db.pool).await?)
    }

    /// Records that the audit administrator looked (`audit_read`, `audit_export`,
    /// `audit_verify`): the auditor's own reads are in the trail too.
    async fn note_audit_look(&self, actor: &Actor, action: &str, detail: serde_json::Value) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        cmd.audit(Audit::event(None, "audit_log", 0, action, detail)).await?;
        cmd.commit().await
    }

    /// Entries of the whole trail, newest first (the audit administrator).
    pub async fn audit_trail(&self, actor: &Actor, f: &AuditFilter) -> AppResult<Vec<AuditView>> {
        actor.require_audit()?;
        let rows = self.audit_rows(f).await?;
        self.note_audit_look(actor, "audit_read", serde_json::json!({"filter": f.described(), "entries": rows.len()}))
            .await?;
        let mut c = self.db.pool.acquire().await?;
        audit::with_display_names(&mut c, rows.iter().map(AuditView::from).collect()).await
    }

    /// The same entries as CSV, oldest first within what was asked for (the audit administrator).
    pub async fn audit_csv(&self, actor: &Actor, f: &AuditFilter) -> AppResult<String> {
        actor.require_audit()?;
        let f = AuditFilter { limit: Some(f.limit.unwrap_or(1000)), ..f.clone() };
        let mut rows = self.audit_rows(&f).await?;
        rows.reverse();
        let mut csv = Csv::default();
        csv.row(["编号", "时间", "操作人", "站点", "对象", "对象编号", "操作", "原状态", "新状态", "说明", "详情"])?;
        for r in &rows {
            csv.row([
                r.id.to_string(),
                fmt_time(r.at),
                r.actor_name.clone(),
                r.site_id.map(|s| s.to_string()).unwrap_or_default(),
                r.entity.clone(),
                r.entity_id.to_string(),
                r.action.clone(),
                r.from_state.clone().unwrap_or_default(),
                r.to_state.clone().unwrap_or_default(),
                r.comment.clone(),
                r.detail.clone(),
            ])?;
        }
        self.note_audit_look(
            actor,
            "audit_export",
            serde_json::json!({"filter": f.described(), "entries": rows.len()}),
        )
        .await?;
        csv.finish()
    }

    /// Checks the trail's hash chain from its first entry to its head (the audit
    /// administrator; also `zhanqun audit verify` at the console).
    pub async fn verify_audit(&self, actor: &Actor) -> AppResult<ChainReport> {
        actor.require_audit()?;
        let report = self.verify_chain().await?;
        self.note_audit_look(
            actor,
            "audit_verify",
            serde_json::json!({"intact": report.intact, "checked": report.checked, "broken_at": report.broken_at}),
        )
        .await?;
        Ok(report)
    }
}

/// What [`App::archive_audit`] did.
#[derive(Debug, Clone)]
pub struct ArchiveReport {
    /// Entries written to the file and removed (0: none was old enough; no file written).
    pub entries: i64,
    /// Entries older than this were archived (RFC 3339).
    pub before: String,
    /// Hex SHA-256 of the file, as recorded in the trail.
    pub sha256: String,
}

impl App {
    /// Writes the entries older than `audit_retention_days` to `out` (a new file: a header
    /// line, then one JSON line per entry, with the chain), makes sure it is on disk, then
    /// removes them and records where it stopped, in the trail and in `audit_archived`.
    /// Refuses when no retention is configured or the chain is broken (pruning would
    /// destroy the evidence). The audit administrator's, or the console's.
    pub async fn archive_audit(&self, actor: &Actor, out: &std::path::Path) -> AppResult<ArchiveReport> {
        use sha2::{Digest, Sha256};
        use std::io::Write;
        actor.require_audit()?;
        let days = self.config.audit_retention_days;
        if days == 0 {
            return Err(AppError::Conflict(
                "未设置操作记录留存期限（audit_retention_days，至少 180 天）：全部记录永久保存，不归档".into(),
            ));
        }
        let cutoff = crate::kernel::time::now_ms() - i64::from(days) * 86_400_000;
        let before = fmt_time(cutoff);
        let report = self.verify_chain().await?;
        if !report.intact {
            return Err(AppError::Conflict(format!(
                "操作记录链已断（{}），先查明原因；未归档",
                report.problem.unwrap_or_default()
            )));
        }
        let mut c = self.db.pool.acquire().await?;
        let anchor = audit::archived(&mut c).await?;
        // The longest run of entries from the start that are all older than the cutoff.
        let first_kept: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM audit_log WHERE id > $1 AND at >= $2")
            .bind(anchor.through_id)
            .bind(cutoff)
            .fetch_one(&mut *c)
            .await?;
        let through_id: Option<i64> = match first_kept {
            Some(k) => {
                sqlx::query_scalar("SELECT MAX(id) FROM audit_log WHERE id > $1 AND id < $2")
                    .bind(anchor.through_id)
                    .bind(k)
                    .fetch_one(&mut *c)
                    .await?
            }
            None => {
                sqlx::query_scalar("SELECT MAX(id) FROM audit_log WHERE id > $1")
                    .bind(anchor.through_id)
                    .fetch_one(&mut *c)
                    .await?
            }
        };
        let Some(through_id) = through_id else {
            return Ok(ArchiveReport { entries: 0, before, sha256: String::new() });
        };
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(out).map_err(|e| {
            AppError::Conflict(format!("无法新建归档文件 {}：{e}（文件须不存在，目录须可写）", out.display()))
        })?;
        let write_failed = |e: std::io::Error| AppError::Internal(anyhow::anyhow!("writing {}: {e}", out.display()));
        let mut sha = Sha256::new();
        let mut put = |file: &mut std::fs::File, line: String| -> AppResult<()> {
            sha.update(line.as_bytes());
            sha.update(b"\n");
            writeln!(file, "{line}").map_err(write_failed)
        };
        let header = audit::ArchiveHeader {
            format: "zhanqun-audit-archive".into(),
            version: 1,
            after_seq: anchor.through_seq,
            after_hash: anchor.through_hash.clone(),
            before: before.clone(),
        };
        put(&mut file, serde_json::to_string(&header).map_err(|e| AppError::Internal(e.into()))?)?;
        let (mut entries, mut last_id) = (0i64, anchor.through_id);
        let (mut through_seq, mut through_hash) = (anchor.through_seq, anchor.through_hash.clone());
        loop {
            let page: Vec<AuditRow> =
                sqlx::query_as("SELECT * FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT 2000")
                    .bind(last_id)
                    .bind(through_id)
                    .fetch_all(&mut *c)
                    .await?;
            let Some(last) = page.last() else { break };
            last_id = last.id;
            for l in &page {
                if let (Some(seq), Some(hash)) = (l.seq, &l.hash) {
                    through_seq = seq;
                    through_hash = hash.clone();
                }
                put(&mut file, serde_json::to_string(l).map_err(|e| AppError::Internal(e.into()))?)?;
                entries += 1;
            }
        }
        drop(c);
        file.sync_all().map_err(write_failed)?;
        drop(file);
        // The file's name in its directory must survive a crash too.
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            d.sync_all().ok();
        }
        let sha256 = hex::encode(sha.finalize());
        let mut cmd = self.begin(actor).await?;
        let moved = sqlx::query(
            "UPDATE audit_archived SET through_id = $1, through_seq = $2, through_hash = $3 WHERE id = 1 AND through_id = $4",
        )
        .bind(through_id)
        .bind(through_seq)
        .bind(&through_hash)
        .bind(anchor.through_id)
        .execute(cmd.conn())
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(AppError::Conflict(format!(
                "另一次归档刚刚完成；本次写出的 {} 未生效，可删除后重试",
                out.display()
            )));
        }
        let removed = sqlx::query("DELETE FROM audit_log WHERE id > $1 AND id <= $2")
            .bind(anchor.through_id)
            .bind(through_id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if removed != entries as u64 {
            return Err(AppError::Internal(anyhow::anyhow!(
                "archived {entries} audit entries but {removed} were there to remove; nothing removed"
            )));
        }
        cmd.audit(Audit::event(
            None,
            "audit_log",
            0,
            audit::ARCHIVE_ACTION,
            serde_json::json!({
                "through_id": through_id,
                "through_seq": through_seq,
                "through_hash": through_hash,
                "entries": entries,
                "before": before,
                "file": out.display().to_string(),
                "sha256": sha256,
            }),
        ))
        .await?;
        cmd.commit().await?;
        Ok(ArchiveReport { entries, before, sha256 })
    }
}
