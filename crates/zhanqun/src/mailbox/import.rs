//! Importing historical letters from the departments' retired mailboxes (R6.1), so the
//! statistics cover the past too. CSV (UTF-8 or GBK) or XLSX; every row is checked and a
//! rejected row is reported with its number and the reason; accepted rows go in together
//! in batches.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use serde::Serialize;
use time::Date;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::mailbox::{Channel, REPLY_DAYS};

use crate::app::App;
use crate::kernel::db::QueryBuilder;
use crate::kernel::personal::Field;
use crate::kernel::time::{now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

/// The columns a file may have, by their English or Chinese names.
const COLUMNS: &[(&str, &[&str])] = &[
    ("arrived_on", &["arrived_on", "来信日期"]),
    ("subject", &["subject", "标题"]),
    ("body", &["body", "内容", "来信内容"]),
    ("writer_name", &["writer_name", "姓名", "来信人"]),
    ("writer_contact", &["writer_contact", "联系方式"]),
    ("handling_body", &["handling_body", "承办机构", "承办单位"]),
    ("replied_on", &["replied_on", "答复日期"]),
    ("reply", &["reply", "答复内容"]),
    ("channel", &["channel", "类别"]),
    ("may_publish", &["may_publish", "是否公开"]),
];
const REQUIRED: &[&str] = &["arrived_on", "subject", "body", "writer_name", "writer_contact", "handling_body"];

/// A row that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// Row number in the file, the header being row 1.
    pub row: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub total: usize,
    pub imported: usize,
    pub rejected: Vec<Rejected>,
}

/// A file's table: its header and rows, as text.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a CSV (UTF-8, with or without BOM, or GBK) or an XLSX file.
pub fn read_table(path: &Path) -> AppResult<Table> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut all: Vec<Vec<String>> = if ext == "xlsx" {
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> =
            open_workbook(path).map_err(|e| AppError::BadRequest(format!("无法读取 XLSX 文件：{e}")))?;
        let sheet = wb.worksheet_range_at(0).ok_or_else(|| AppError::BadRequest("XLSX 文件没有工作表".into()))?;
        let range = sheet.map_err(|e| AppError::BadRequest(format!("无法读取工作表：{e}")))?;
        range.rows().map(|r| r.iter().map(cell_text).collect()).collect()
    } else {
        let bytes = std::fs::read(path)?;
        let text = decode(&bytes);
        let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut out = Vec::new();
        for (i, rec) in rd.records().enumerate() {
            let rec = rec.map_err(|e| AppError::BadRequest(format!("CSV 第 {} 行格式错误：{e}", i + 1)))?;
            out.push(rec.iter().map(|s| s.to_string()).collect());
        }
        out
    };
    if all.is_empty() {
        return Err(AppError::BadRequest("文件是空的".into()));
    }
    let header = all.remove(0).into_iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_string()).collect();
    Ok(Table { header, rows: all })
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        // Excel counts days from 1899-12-30.
        Data::DateTime(d) => time::Date::from_calendar_date(1899, time::Month::December, 30)
            .ok()
            .and_then(|base| base.checked_add(time::Duration::days(d.as_f64().floor() as i64)))
            .map(fmt_date)
            .unwrap_or_default(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// UTF-8 (BOM stripped) when it is valid UTF-8, else GBK — what Chinese office software writes.
fn decode(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(b).0.into_owned(),
    }
}

/// Dates as office software writes them: 2015-06-03, 2015/6/3, 2015年6月3日, 2015.06.03.
fn parse_loose_date(s: &str) -> Option<Date> {
    let t = s.trim().replace(['/', '.', '年', '月'], "-").replace('日', "");
    let mut parts = t.split('-');
    let (y, m, d) = (parts.next()?.trim(), parts.next()?.trim(), parts.next()?.trim());
    if parts.next().is_some_and(|p| !p.trim().is_empty()) {
        return None;
    }
    let d = d.split_whitespace().next()?;
    parse_date(&format!("{:0>4}-{:0>2}-{:0>2}", y, m, d))
}

fn key_hash(arrived: &str, subject: &str, contact: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (arrived, subject, contact).hash(&mut h);
    h.finish()
}

struct Row {
    arrived: Date,
    subject: String,
    body: String,
    writer_name: String,
    writer_contact: String,
    body_id: i64,
    replied: Option<Date>,
    reply: Option<String>,
    channel: Channel,
    may_publish: bool,
}

impl App {
    /// Imports historical letters. `create_bodies` adds handling bodies the file names but
    /// the platform does not know yet; without it such rows are rejected. `progress` is
    /// called with the rows handled so far.
    pub async fn import_letters(
        &self,
        actor: &Actor,
        table: Table,
        create_bodies: bool,
        progress: &(dyn Fn(usize) + Sync),
    ) -> AppResult<ImportReport> {
        actor.require_admin()?;
        let mut idx: HashMap<&str, usize> = HashMap::new();
        for (name, aliases) in COLUMNS {
            if let Some(i) = table.header.iter().position(|h| aliases.iter().any(|a| a.eq_ignore_ascii_case(h))) {
                idx.insert(name, i);
            }
        }
        let missing: Vec<&str> = REQUIRED.iter().filter(|c| !idx.contains_key(*c)).copied().collect();
        if !missing.is_empty() {
            let expected: Vec<String> = COLUMNS.iter().map(|(n, a)| format!("{n}（{}）", a[1])).collect();
            return Err(AppError::field(
                "file",
                "columns",
                format!("缺少必需的列：{}。可用的列：{}", missing.join("、"), expected.join("、")),
            ));
        }
        let mut bodies: HashMap<String, i64> = self.list_bodies().await?.into_iter().map(|b| (b.name, b.id)).collect();
        let existing: Vec<(String, String, String)> =
            sqlx::query_as("SELECT arrived_on, subject, COALESCE(writer_contact_index, '') FROM letters")
                .fetch_all(&self.db.pool)
                .await?;
        let mut seen: HashSet<u64> = existing.iter().map(|(a, s, c)| key_hash(a, s, c)).collect();
        let cal = self.calendar.load_full();
        let today_d = today();
        let mut report = ImportReport { total: table.rows.len(), imported: 0, rejected: Vec::new() };
        let mut batch: Vec<Row> = Vec::with_capacity(1000);
        for (i, raw) in table.rows.into_iter().enumerate() {
            let row_no = i + 2;
            let get = |c: &str| idx.get(c).and_then(|&j| raw.get(j)).map(|s| s.trim().to_string()).unwrap_or_default();
            let reject = |reason: String| Rejected { row: row_no, reason };
            let checked: Result<Row, Rejected> = (|| {
                let arrived = parse_loose_date(&get("arrived_on"))
                    .ok_or_else(|| reject(format!("来信日期「{}」无法识别", get("arrived_on"))))?;
                if arrived > today_d {
                    return Err(reject(format!("来信日期 {} 晚于今天", fmt_date(arrived))));
                }
                for (c, label, max) in [
                    ("subject", "标题", 100),
                    ("body", "内容", 5000),
                    ("writer_name", "姓名", 30),
                    ("writer_contact", "联系方式", 100),
                ] {
                    let v = get(c);
                    if v.is_empty() {
                        return Err(reject(format!("{label}为空")));
                    }
                    if v.chars().count() > max {
                        return Err(reject(format!("{label}超过 {max} 个字符")));
                    }
                }
                let body_name = get("handling_body");
                if body_name.is_empty() {
                    return Err(reject("承办机构为空".into()));
                }
                let body_id = match bodies.get(&body_name) {
                    Some(id) => *id,
                    None if create_bodies => 0,
                    None => {
                        return Err(reject(format!(
                            "承办机构「{body_name}」不在平台上（可先添加，或导入时允许自动添加）"
                        )));
                    }
                };
                let replied = match get("replied_on") {
                    s if s.is_empty() => None,
                    s => Some(parse_loose_date(&s).ok_or_else(|| reject(format!("答复日期「{s}」无法识别")))?),
                };
                if let Some(r) = replied {
                    if r < arrived {
                        return Err(reject("答复日期早于来信日期".into()));
                    }
                    if r > today_d {
                        return Err(reject("答复日期晚于今天".into()));
                    }
                }
                let reply = Some(get("reply")).filter(|r| !r.is_empty());
                if replied.is_some() != reply.is_some() {
                    return Err(reject("答复日期和答复内容须同时填写".into()));
                }
                let channel = match get("channel").as_str() {
                    "" => Channel::Mayor,
                    c => Channel::parse(c)
                        .or_else(|| Channel::ALL.into_iter().find(|x| x.label() == c))
                        .ok_or_else(|| reject(format!("类别「{c}」无效")))?,
                };
                let may_publish = matches!(get("may_publish").as_str(), "是" | "1" | "true" | "yes");
                let (subject, contact) = (get("subject"), get("writer_contact"));
                if !seen.insert(key_hash(&fmt_date(arrived), &subject, &self.personal.index(&contact))) {
                    return Err(reject("与已有来信重复（同一日期、标题和联系方式）".into()));
                }
                Ok(Row {
                    arrived,
                    subject,
                    body: get("body"),
                    writer_name: get("writer_name"),
                    writer_contact: contact,
                    body_id,
                    replied,
                    reply,
                    channel,
                    may_publish,
                })
            })();
            match checked {
                Ok(mut row) => {
                    if row.body_id == 0 {
                        let name = get("handling_body");
                        let b = self.create_body(actor, &name, None).await?;
                        bodies.insert(name, b.id);
                        row.body_id = b.id;
                    }
                    batch.push(row);
                }
                Err(r) => report.rejected.push(r),
            }
            if batch.len() == 1000 {
                report.imported += self.insert_batch(&mut batch, &cal).await?;
            }
            if (i + 1) % 1000 == 0 {
                progress(i + 1);
            }
        }
        report.imported += self.insert_batch(&mut batch, &cal).await?;
        progress(report.total);
        let mut cmd = self.begin(actor).await?;
        cmd.audit(Audit::event(
            None,
            "letter",
            0,
            "import",
            serde_json::json!({"total": report.total, "imported": report.imported, "rejected": report.rejected.len()}),
        ))
        .await?;
        cmd.commit().await?;
        Ok(report)
    }

    /// Inserts accepted rows in one short transaction, many rows per statement.
    async fn insert_batch(&self, batch: &mut Vec<Row>, cal: &zhanqun_domain::calendar::Calendar) -> AppResult<usize> {
        const PER_STATEMENT: usize = 50;
        if batch.is_empty() {
            return Ok(0);
        }
        let now = now_ms();
        let mut rows = Vec::with_capacity(batch.len());
        for r in batch.iter() {
            let due = cal
                .add_working_days(r.arrived, REPLY_DAYS)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("calendar range")))?;
            rows.push((r, due));
        }
        let mut w = self.db.begin_write().await?;
        for chunk in rows.chunks(PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO letters (channel, subject, body, writer_name, writer_contact, writer_contact_index, may_publish, code_hash, state, \
                 handling_body_id, contact_person, arrived_on, due_on, due_estimated, reply, replied_on, reply_working_days, on_time, imported, \
                 created_at, updated_at) ",
            );
            for (i, (r, due)) in chunk.iter().enumerate() {
                let code: [u8; 16] = rand::random();
                q.push(if i == 0 { "VALUES (" } else { ", (" });
                q.push_bind(r.channel.as_str().to_string()).push(", ");
                q.push_bind(r.subject.clone()).push(", ");
                q.push_bind(r.body.clone()).push(", ");
                q.push_bind(self.personal.seal(Field::LetterWriterName, &r.writer_name)?).push(", ");
                q.push_bind(self.personal.seal(Field::LetterWriterContact, &r.writer_contact)?).push(", ");
                q.push_bind(self.personal.index(&r.writer_contact)).push(", ");
                q.push_bind(i64::from(r.may_publish)).push(", ");
                q.push_bind(hex::encode(code)).push(", ");
                q.push_bind(if r.replied.is_some() { "closed" } else { "assigned" }.to_string()).push(", ");
                q.push_bind(r.body_id).push(", ");
                q.push_bind("（历史数据）".to_string()).push(", ");
                q.push_bind(fmt_date(r.arrived)).push(", ");
                q.push_bind(fmt_date(due.due)).push(", ");
                q.push_bind(i64::from(due.estimated)).push(", ");
                q.push_bind(r.reply.clone()).push(", ");
                q.push_bind(r.replied.map(fmt_date)).push(", ");
                q.push_bind(r.replied.map(|d| i64::from(cal.working_days_between(r.arrived, d)))).push(", ");
                q.push_bind(r.replied.map(|d| i64::from(d <= due.due))).push(", 1, ");
                q.push_bind(now).push(", ");
                q.push_bind(now).push(")");
            }
            q.execute(w.conn()).await?;
        }
        w.commit().await?;
        let n = batch.len();
        batch.clear();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_dates() {
        for s in ["2015-06-03", "2015/6/3", "2015年6月3日", "2015.06.03", " 2015-6-3 10:00 "] {
            assert_eq!(parse_loose_date(s).map(fmt_date).as_deref(), Some("2015-06-03"), "{s}");
        }
        for s in ["", "2015-13-01", "06/03/2015", "昨天", "2015-02-30"] {
            assert_eq!(parse_loose_date(s), None, "{s}");
        }
    }

    #[test]
    fn gbk_is_recognised() {
        let (gbk, _, _) = encoding_rs::GBK.encode("来信日期,标题\n2015-06-03,路灯\n");
        assert_eq!(decode(&gbk), "来信日期,标题\n2015-06-03,路灯\n");
        assert_eq!(decode("\u{feff}标题".as_bytes()), "标题");
    }
}
