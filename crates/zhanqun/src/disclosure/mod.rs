//! Government information disclosure (R3): the standard metadata of a document (R3.2),
//! index numbers assigned at publication, the catalog (R3.1, [`catalog`]), the subject list
//! ([`subjects`]), interpretations and responses linked to policies (R4, R5.2,
//! [`interpretations`]), and each body's guide and annual reports.

pub mod admin;
pub mod api;
pub mod catalog;
pub mod interpretations;
pub mod public;
pub mod subjects;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::disclosure::{
    DEFAULT_INDEX_SCHEME, DOC_TYPES, GENRES, MODES, VALIDITY, index_number_by, label_of, parse_document_number,
};
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::kernel::events::TxHandler;
use crate::kernel::time::{local_date, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit, Command, Event};

pub use catalog::CatalogListing;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureInput {
    /// `policy`, `normative`, `notice`, `interpretation`, `response`, `guide`, `annual_report` or `general`.
    pub doc_type: String,
    pub issuing_body_id: i64,
    /// 发文字号, e.g. `青政办发〔2015〕12号` (hexagonal brackets checked).
    pub document_number: Option<String>,
    /// `first` or `first/second` of the subject list.
    pub subject: String,
    /// 成文日期, `YYYY-MM-DD`.
    pub date_written: String,
    /// `valid` (default), `expired`, `repealed` or `amended`.
    #[serde(default = "valid")]
    pub validity: String,
    pub validity_changed_on: Option<String>,
    pub changed_by_document_id: Option<i64>,
    /// `proactive` (default), `on_request` or `withheld`.
    #[serde(default = "proactive")]
    pub disclosure_mode: String,
    pub nondisclosure_reason: Option<String>,
    /// An important policy should get a published interpretation within
    /// `interpretation_days` working days (R4.1).
    #[serde(default)]
    pub important: bool,
    /// 体裁, one of [`GENRES`].
    pub genre: Option<String>,
    /// Keywords, separated by commas or spaces.
    pub keywords: Option<String>,
}

fn valid() -> String {
    "valid".into()
}
fn proactive() -> String {
    "proactive".into()
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Disclosure {
    pub document_id: i64,
    pub doc_type: String,
    pub issuing_body_id: i64,
    pub document_number: Option<String>,
    pub subject: String,
    pub date_written: String,
    pub validity: String,
    pub validity_changed_on: Option<String>,
    pub changed_by_document_id: Option<i64>,
    pub disclosure_mode: String,
    pub nondisclosure_reason: Option<String>,
    /// Assigned once at publication, never reused or changed.
    pub index_number: Option<String>,
    pub important: i64,
    pub genre: Option<String>,
    pub keywords: String,
}

/// Keywords as one comma-separated list, whatever separators were typed.
fn normalise_keywords(k: &str) -> String {
    k.split([',', '，', '、', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn find(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<Disclosure>> {
    Ok(sqlx::query_as(
        "SELECT document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, \
         validity_changed_on, changed_by_document_id, disclosure_mode, nondisclosure_reason, index_number, important, genre, keywords \
         FROM disclosures WHERE document_id = $1",
    )
        .bind(doc_id)
        .fetch_optional(conn)
        .await?)
}

/// Assigns the index number of a published document with disclosure metadata, once:
/// `{body code}/{year}-{sequence}` (or the body's own scheme), the year that of first
/// publication, the sequence per body and year, never reused.
pub(crate) async fn assign_index_number(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<String>> {
    // (body, its code, first published, its scheme)
    type Row = (i64, Option<String>, Option<i64>, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT d.issuing_body_id, b.code, doc.first_published_at, b.index_scheme FROM disclosures d JOIN bodies b ON b.id = d.issuing_body_id \
         JOIN documents doc ON doc.id = d.document_id WHERE d.document_id = $1 AND d.index_number IS NULL",
    )
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((body, Some(code), published, scheme)) = row else { return Ok(None) };
    // The year the document was first published (metadata added later keeps that year).
    let year = i64::from(published.map_or(today(), local_date).year());
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO index_counters (body_id, year, next) VALUES ($1, $2, 1) \
         ON CONFLICT (body_id, year) DO UPDATE SET next = index_counters.next + 1 RETURNING next",
    )
    .bind(body)
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    let number = index_number_by(scheme.as_deref().unwrap_or(DEFAULT_INDEX_SCHEME), &code, year as i32, seq as u32);
    sqlx::query("UPDATE disclosures SET index_number = $1 WHERE document_id = $2")
        .bind(&number)
        .bind(doc_id)
        .execute(&mut *conn)
        .await?;
    Ok(Some(number))
}

/// Numbers a document when it is published, in the publishing command's transaction:
/// the number is part of the publication.
pub struct IndexNumbers;

impl TxHandler for IndexNumbers {
    fn handle<'a, 'c>(&'a self, cmd: &'a mut Command<'c>, event: &'a Event) -> BoxFuture<'a, AppResult<()>>
    where
        'c: 'a,
    {
        Box::pin(async move {
            if let Event::DocumentPublished { document_id, .. } = event {
                assign_index_number(cmd.conn(), *document_id).await?;
            }
            Ok(())
        })
    }
}

/// What the head of a disclosed document's page shows.
#[derive(Debug, Clone, FromRow)]
pub struct ArticleMeta {
    pub doc_type: String,
    pub body: String,
    pub document_number: Option<String>,
    pub subject: String,
    pub date_written: String,
    pub validity: String,
    pub validity_changed_on: Option<String>,
    pub changed_by_document_id: Option<i64>,
    pub index_number: Option<String>,
    pub genre: Option<String>,
    pub keywords: String,
}

pub async fn article_meta(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<ArticleMeta>> {
    Ok(sqlx::query_as(
        "SELECT d.doc_type, b.name AS body, d.document_number, d.subject, d.date_written, d.validity, d.validity_changed_on, \
         d.changed_by_document_id, d.index_number, d.genre, d.keywords \
         FROM disclosures d JOIN bodies b ON b.id = d.issuing_body_id WHERE d.document_id = $1",
    )
    .bind(doc_id)
    .fetch_optional(conn)
    .await?)
}

/// A document's type, when it has disclosure metadata.
pub async fn doc_types(conn: &mut AnyConnection, ids: &[i64]) -> AppResult<Vec<(i64, String)>> {
    let mut q =
        crate::kernel::db::QueryBuilder::new("SELECT document_id, doc_type FROM disclosures WHERE document_id IN (");
    q.push_list(ids.iter().copied()).push(")");
    Ok(q.fetch_all_on(conn).await?)
}

impl App {
    /// A document's disclosure metadata, if it has any.
    pub async fn disclosure(&self, doc_id: i64) -> AppResult<Option<Disclosure>> {
        let mut c = self.db.pool.acquire().await?;
        find(&mut c, doc_id).await
    }

    /// Sets a document's disclosure metadata. Every rule is checked and all broken ones reported.
    pub async fn set_disclosure(&self, actor: &Actor, doc_id: i64, d: DisclosureInput) -> AppResult<Disclosure> {
        let mut e = FieldErrors::new();
        if label_of(DOC_TYPES, &d.doc_type).is_none() {
            e.add("doc_type", "one_of", "文件类型应为 policy、normative、notice、interpretation 或 general");
        }
        if let Some(g) = d.genre.as_deref().map(str::trim).filter(|g| !g.is_empty())
            && !GENRES.contains(&g)
        {
            e.add("genre", "one_of", format!("体裁「{g}」不在体裁表中，可选：{}", GENRES.join("、")));
        }
        let keywords = normalise_keywords(d.keywords.as_deref().unwrap_or(""));
        if keywords.chars().count() > 200 {
            e.add("keywords", "length", "关键词合计不能超过 200 个字");
        }
        let written = parse_date(&d.date_written);
        match written {
            None => e.add("date_written", "date", "成文日期格式应为 YYYY-MM-DD"),
            Some(w) if w > today() => e.add("date_written", "not_future", "成文日期不能晚于今天"),
            _ => {}
        }
        let number = d.document_number.as_deref().map(str::trim).filter(|n| !n.is_empty());
        match number {
            Some(n) => {
                if let Err(fe) = parse_document_number("document_number", n) {
                    e.push(fe);
                }
            }
            None if matches!(d.doc_type.as_str(), "policy" | "normative") => {
                e.add("document_number", "required", "政策文件和规范性文件须填写发文字号")
            }
            None => {}
        }
        if label_of(VALIDITY, &d.validity).is_none() {
            e.add(
                "validity",
                "one_of",
                "效力应为 valid（有效）、expired（失效）、repealed（废止）或 amended（已修改）",
            );
        }
        if d.validity != "valid" && d.validity_changed_on.as_deref().and_then(parse_date).is_none() {
            e.add("validity_changed_on", "required", "失效、废止或修改的须填写日期");
        }
        if matches!(d.validity.as_str(), "repealed" | "amended") && d.changed_by_document_id.is_none() {
            e.add("changed_by_document_id", "required", "废止或修改的须指明是哪份文件废止或修改了它");
        }
        if d.changed_by_document_id == Some(doc_id) {
            e.add("changed_by_document_id", "not_self", "文件不能废止或修改它自己");
        }
        if label_of(MODES, &d.disclosure_mode).is_none() {
            e.add(
                "disclosure_mode",
                "one_of",
                "公开方式应为 proactive（主动公开）、on_request（依申请公开）或 withheld（不予公开）",
            );
        }
        if d.disclosure_mode == "withheld" && d.nondisclosure_reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            e.add("nondisclosure_reason", "required", "不予公开须说明理由");
        }
        let mut cmd = self.begin(actor).await?;
        let doc = crate::documents::load_document(cmd.conn(), doc_id).await?;
        cmd.require_role(doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        match crate::bodies::code_of(cmd.conn(), d.issuing_body_id).await? {
            None => e.add("issuing_body_id", "exists", "发文机关不存在"),
            Some(None) => {
                e.add("issuing_body_id", "body_code", "发文机关还没有组织机构代码或统一社会信用代码，无法编制索引号")
            }
            Some(Some(_)) => {}
        }
        if let (Some(other), Some(written)) = (d.changed_by_document_id.filter(|o| *o != doc_id), written) {
            let theirs = find(cmd.conn(), other).await?.map(|t| t.date_written);
            if crate::documents::find_document(cmd.conn(), other).await?.is_none() {
                e.add("changed_by_document_id", "exists", format!("文档 #{other} 不存在"));
            } else if theirs.as_deref().and_then(parse_date).is_some_and(|t| t < written) {
                e.add("changed_by_document_id", "not_earlier", "废止或修改它的文件不能早于它本身");
            }
        }
        if !subjects::in_list(cmd.conn(), &d.subject).await? {
            e.add("subject", "one_of", format!("主题分类「{}」不在分类表中（二级分类写作「一级/二级」）", d.subject));
        }
        e.into_result()?;
        sqlx::query(
            "INSERT INTO disclosures (document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, \
             changed_by_document_id, disclosure_mode, nondisclosure_reason, updated_at, important, genre, keywords, site_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (document_id) DO UPDATE SET doc_type = $2, issuing_body_id = $3, document_number = $4, subject = $5, date_written = $6, \
             validity = $7, validity_changed_on = $8, changed_by_document_id = $9, disclosure_mode = $10, nondisclosure_reason = $11, updated_at = $12, \
             important = $13, genre = $14, keywords = $15, site_id = $16",
        )
        .bind(doc_id)
        .bind(&d.doc_type)
        .bind(d.issuing_body_id)
        .bind(number)
        .bind(&d.subject)
        .bind(written.map(fmt_date))
        .bind(&d.validity)
        .bind(d.validity_changed_on.as_deref().and_then(parse_date).map(fmt_date))
        .bind(d.changed_by_document_id)
        .bind(&d.disclosure_mode)
        .bind(d.nondisclosure_reason.as_deref().map(str::trim))
        .bind(now_ms())
        .bind(i64::from(d.important))
        .bind(d.genre.as_deref().map(str::trim).filter(|g| !g.is_empty()))
        .bind(&keywords)
        .bind(doc.site_id)
        .execute(cmd.conn())
        .await?;
        if doc.first_published_at.is_some() {
            assign_index_number(cmd.conn(), doc_id).await?;
        }
        cmd.audit(Audit::event(
            Some(doc.site_id),
            "document",
            doc_id,
            "disclosure",
            serde_json::json!({"validity": d.validity, "document_number": number}),
        ))
        .await?;
        let out = find(cmd.conn(), doc_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("disclosure vanished")))?;
        cmd.emit(Event::DocumentChanged { site_id: doc.site_id, document_id: doc_id, columns_changed: false }).await?;
        cmd.commit().await?;
        Ok(out)
    }
}
