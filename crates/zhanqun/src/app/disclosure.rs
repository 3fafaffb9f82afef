//! Disclosure metadata on documents (R3.2), index numbers assigned at publication, and the
//! disclosure catalog (R3.1). Part of issue #4; interpretations, topics, reposting and the
//! content inventory are not built yet.

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::disclosure::{
    DOC_TYPES, MODES, SUBJECTS, VALIDITY, check_credit_code, check_org_code, index_number, label_of,
    parse_document_number,
};
use zhanqun_domain::workflow::Role;

use super::calendar::today;
use super::{Actor, App, Audit, audit, require_role};
use crate::error::{AppError, AppResult};
use crate::store::now_ms;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureInput {
    pub doc_type: String,
    pub issuing_body_id: i64,
    pub document_number: Option<String>,
    pub subject: String,
    pub date_written: String,
    #[serde(default = "valid")]
    pub validity: String,
    pub validity_changed_on: Option<String>,
    pub changed_by_document_id: Option<i64>,
    #[serde(default = "proactive")]
    pub disclosure_mode: String,
    pub nondisclosure_reason: Option<String>,
    /// An important policy should get a published interpretation within
    /// `interpretation_days` working days (R4.1).
    #[serde(default)]
    pub important: bool,
}

fn valid() -> String {
    "valid".into()
}
fn proactive() -> String {
    "proactive".into()
}

#[derive(Debug, Clone, Serialize, FromRow)]
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
    pub index_number: Option<String>,
    pub important: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct CatalogEntry {
    pub document_id: i64,
    pub site_id: i64,
    pub title: String,
    pub index_number: Option<String>,
    pub body: String,
    pub document_number: Option<String>,
    pub subject: String,
    pub doc_type: String,
    pub date_written: String,
    pub published_at: Option<i64>,
    pub validity: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogFilter {
    pub body: Option<i64>,
    pub subject: Option<String>,
    pub year: Option<i32>,
    pub validity: Option<String>,
    pub doc_type: Option<String>,
}

/// Assigns the index number of a published document with disclosure metadata, once:
/// `{body code}/{year}-{sequence}`, the sequence per body and year, never reused.
pub(crate) async fn assign_index_number(conn: &mut AnyConnection, doc_id: i64) -> AppResult<Option<String>> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT d.issuing_body_id, b.code FROM disclosures d JOIN bodies b ON b.id = d.issuing_body_id \
         WHERE d.document_id = $1 AND d.index_number IS NULL",
    )
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((body, Some(code))) = row else { return Ok(None) };
    let year = i64::from(today().year());
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO index_counters (body_id, year, next) VALUES ($1, $2, 1) \
         ON CONFLICT (body_id, year) DO UPDATE SET next = index_counters.next + 1 RETURNING next",
    )
    .bind(body)
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    let number = index_number(&code, year as i32, seq as u32);
    sqlx::query("UPDATE disclosures SET index_number = $1 WHERE document_id = $2")
        .bind(&number)
        .bind(doc_id)
        .execute(&mut *conn)
        .await?;
    Ok(Some(number))
}

impl App {
    /// Sets a body's organisation code (9 characters) or unified social credit code (18).
    pub async fn set_body_code(&self, actor: &Actor, body_id: i64, code: &str) -> AppResult<()> {
        actor.require_admin()?;
        let code = code.trim().to_ascii_uppercase();
        if code.chars().count() == 18 {
            check_credit_code("code", &code)?;
        } else {
            check_org_code("code", &code)?;
        }
        let mut w = self.db.begin_write().await?;
        let n = sqlx::query("UPDATE bodies SET code = $1 WHERE id = $2")
            .bind(&code)
            .bind(body_id)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("机构", body_id));
        }
        audit(
            w.conn(),
            actor,
            Audit {
                site_id: None,
                entity: "body",
                entity_id: body_id,
                action: "set_code",
                from_state: None,
                to_state: None,
                comment: "",
                detail: serde_json::json!({"code": code}),
            },
        )
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// A document's disclosure metadata, if it has any.
    pub async fn disclosure(&self, doc_id: i64) -> AppResult<Option<Disclosure>> {
        Ok(sqlx::query_as(
            "SELECT document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, \
             changed_by_document_id, disclosure_mode, nondisclosure_reason, index_number, important FROM disclosures WHERE document_id = $1",
        )
        .bind(doc_id)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Bodies with their codes, for the admin.
    pub async fn bodies_with_codes(&self) -> AppResult<Vec<(i64, String, Option<String>)>> {
        Ok(sqlx::query_as("SELECT id, name, code FROM bodies ORDER BY id").fetch_all(&self.db.pool).await?)
    }

    /// Sets a document's disclosure metadata. Every rule is checked and all broken ones reported.
    pub async fn set_disclosure(&self, actor: &Actor, doc_id: i64, d: DisclosureInput) -> AppResult<Disclosure> {
        let mut e = FieldErrors::new();
        if label_of(DOC_TYPES, &d.doc_type).is_none() {
            e.add("doc_type", "one_of", "文件类型应为 policy、normative、notice、interpretation 或 general");
        }
        if !SUBJECTS.contains(&d.subject.as_str()) {
            e.add("subject", "one_of", format!("主题分类「{}」不在分类表中", d.subject));
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
        let mut w = self.db.begin_write().await?;
        let doc = super::documents::load_document(w.conn(), doc_id).await?;
        require_role(w.conn(), actor, doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        let body: Option<Option<String>> = sqlx::query_scalar("SELECT code FROM bodies WHERE id = $1")
            .bind(d.issuing_body_id)
            .fetch_optional(w.conn())
            .await?;
        match body {
            None => e.add("issuing_body_id", "exists", "发文机关不存在"),
            Some(None) => {
                e.add("issuing_body_id", "body_code", "发文机关还没有组织机构代码或统一社会信用代码，无法编制索引号")
            }
            Some(Some(_)) => {}
        }
        if let (Some(other), Some(written)) = (d.changed_by_document_id.filter(|o| *o != doc_id), written) {
            let theirs: Option<String> =
                sqlx::query_scalar("SELECT date_written FROM disclosures WHERE document_id = $1")
                    .bind(other)
                    .fetch_optional(w.conn())
                    .await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM documents WHERE id = $1")
                .bind(other)
                .fetch_optional(w.conn())
                .await?;
            if exists.is_none() {
                e.add("changed_by_document_id", "exists", format!("文档 #{other} 不存在"));
            } else if theirs.as_deref().and_then(parse_date).is_some_and(|t| t < written) {
                e.add("changed_by_document_id", "not_earlier", "废止或修改它的文件不能早于它本身");
            }
        }
        e.into_result()?;
        sqlx::query(
            "INSERT INTO disclosures (document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, \
             changed_by_document_id, disclosure_mode, nondisclosure_reason, updated_at, important) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (document_id) DO UPDATE SET doc_type = $2, issuing_body_id = $3, document_number = $4, subject = $5, date_written = $6, \
             validity = $7, validity_changed_on = $8, changed_by_document_id = $9, disclosure_mode = $10, nondisclosure_reason = $11, updated_at = $12, important = $13",
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
        .execute(w.conn())
        .await?;
        if doc.first_published_at.is_some() {
            assign_index_number(w.conn(), doc_id).await?;
        }
        audit(
            w.conn(),
            actor,
            Audit {
                site_id: Some(doc.site_id),
                entity: "document",
                entity_id: doc_id,
                action: "disclosure",
                from_state: None,
                to_state: None,
                comment: "",
                detail: serde_json::json!({"validity": d.validity, "document_number": number}),
            },
        )
        .await?;
        let out: Disclosure = sqlx::query_as("SELECT document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, changed_by_document_id, disclosure_mode, nondisclosure_reason, index_number, important FROM disclosures WHERE document_id = $1")
            .bind(doc_id)
            .fetch_one(w.conn())
            .await?;
        w.commit().await?;
        self.document_changed(doc.site_id, doc_id).await;
        Ok(out)
    }

    /// Links an interpretation to the policy it explains. Both need disclosure metadata: the
    /// first as an interpretation, the second as a policy or normative document.
    pub async fn link_interpretation(
        &self,
        actor: &Actor,
        interpretation: i64,
        policy: i64,
        kind: &str,
    ) -> AppResult<()> {
        if !matches!(kind, "text" | "graphic" | "interview" | "video") {
            return Err(AppError::field(
                "kind",
                "one_of",
                "解读形式应为 text（文字）、graphic（图解）、interview（访谈）或 video（视频）",
            ));
        }
        if interpretation == policy {
            return Err(AppError::field("policy_id", "not_self", "文件不能解读它自己"));
        }
        let mut w = self.db.begin_write().await?;
        let doc = super::documents::load_document(w.conn(), interpretation).await?;
        require_role(w.conn(), actor, doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        let types: Vec<(i64, String)> =
            sqlx::query_as("SELECT document_id, doc_type FROM disclosures WHERE document_id IN ($1, $2)")
                .bind(interpretation)
                .bind(policy)
                .fetch_all(w.conn())
                .await?;
        let type_of = |id: i64| types.iter().find(|(d, _)| *d == id).map(|(_, t)| t.as_str());
        if type_of(interpretation) != Some("interpretation") {
            return Err(AppError::field("interpretation", "doc_type", "请先把本文的文件类型设为「政策解读」"));
        }
        match type_of(policy) {
            Some("policy" | "normative") => {}
            _ => {
                return Err(AppError::field(
                    "policy_id",
                    "doc_type",
                    format!("文档 #{policy} 不是政策文件或规范性文件，不能作为解读对象"),
                ));
            }
        }
        sqlx::query(
            "INSERT INTO interpretation_links (interpretation_id, policy_id, kind, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (interpretation_id, policy_id) DO UPDATE SET kind = $3",
        )
        .bind(interpretation)
        .bind(policy)
        .bind(kind)
        .bind(&actor.name)
        .bind(now_ms())
        .execute(w.conn())
        .await?;
        audit(
            w.conn(),
            actor,
            Audit {
                site_id: Some(doc.site_id),
                entity: "document",
                entity_id: interpretation,
                action: "interprets",
                from_state: None,
                to_state: None,
                comment: "",
                detail: serde_json::json!({"policy": policy, "kind": kind}),
            },
        )
        .await?;
        let policy_site: i64 =
            sqlx::query_scalar("SELECT site_id FROM documents WHERE id = $1").bind(policy).fetch_one(w.conn()).await?;
        w.commit().await?;
        self.document_changed(doc.site_id, interpretation).await;
        self.document_changed(policy_site, policy).await;
        Ok(())
    }

    /// Important published policies of the actor's sites still without a published
    /// interpretation after `interpretation_days` working days: (document, title, published).
    pub async fn policies_awaiting_interpretation(&self, actor: &Actor) -> AppResult<Vec<(i64, String, String)>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT doc.id, doc.site_id, e.title, doc.first_published_at FROM disclosures d JOIN documents doc ON doc.id = d.document_id \
             JOIN editions e ON e.id = doc.live_edition_id WHERE d.important = 1 AND e.state = 'published' \
             AND NOT EXISTS (SELECT 1 FROM interpretation_links l JOIN documents i ON i.id = l.interpretation_id \
               JOIN editions ie ON ie.id = i.live_edition_id WHERE l.policy_id = doc.id AND ie.state = 'published') ORDER BY doc.first_published_at",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let cal = self.calendar.load();
        let today_d = today();
        let mut out = Vec::new();
        for (id, site, title, published) in rows {
            if !(actor.is_admin || actor.roles.iter().any(|(s, _)| *s == site)) {
                continue;
            }
            let Some(p) = published else { continue };
            let day = time::OffsetDateTime::from_unix_timestamp(p / 1000)
                .map(|t| t.to_offset(super::views::CST).date())
                .unwrap_or(today_d);
            if cal.working_days_between(day, today_d) >= self.config.interpretation_days {
                out.push((id, title, super::views::fmt_local(p)));
            }
        }
        Ok(out)
    }

    /// The catalog: published, proactively disclosed documents with their metadata, newest first.
    /// `site` limits it to one site (a department's part of the city-wide catalog).
    pub async fn catalog(
        &self,
        site: Option<i64>,
        f: &CatalogFilter,
        limit: i64,
        offset: i64,
    ) -> AppResult<(i64, Vec<CatalogEntry>)> {
        let mut sql = String::from(
            " FROM disclosures d JOIN documents doc ON doc.id = d.document_id JOIN editions e ON e.id = doc.live_edition_id \
             JOIN bodies b ON b.id = d.issuing_body_id WHERE e.state = 'published' AND d.disclosure_mode = 'proactive'",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut binds: Vec<String> = Vec::new();
        if site.is_some() {
            sql.push_str(&format!(" AND doc.site_id = CAST({} AS BIGINT)", next()));
            binds.push(site.unwrap_or_default().to_string());
        }
        if let Some(b) = f.body {
            sql.push_str(&format!(" AND d.issuing_body_id = CAST({} AS BIGINT)", next()));
            binds.push(b.to_string());
        }
        if let Some(s) = f.subject.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND d.subject = {}", next()));
            binds.push(s.to_string());
        }
        if let Some(y) = f.year {
            sql.push_str(&format!(" AND d.date_written >= {} AND d.date_written <= {}", next(), next()));
            binds.push(format!("{y:04}-01-01"));
            binds.push(format!("{y:04}-12-31"));
        }
        if let Some(v) = f.validity.as_deref().filter(|v| !v.is_empty()) {
            sql.push_str(&format!(" AND d.validity = {}", next()));
            binds.push(v.to_string());
        }
        if let Some(t) = f.doc_type.as_deref().filter(|t| !t.is_empty()) {
            sql.push_str(&format!(" AND d.doc_type = {}", next()));
            binds.push(t.to_string());
        }
        // Only placeholders were added to the statement; every value is bound.
        let count_sql = format!("SELECT COUNT(*){sql}");
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let total = q.fetch_one(&self.db.pool).await?;
        let (l, o) = (next(), next());
        let list_sql = format!(
            "SELECT doc.id AS document_id, doc.site_id, e.title, d.index_number, b.name AS body, d.document_number, d.subject, d.doc_type, \
             d.date_written, doc.first_published_at AS published_at, d.validity{sql} ORDER BY doc.first_published_at DESC, doc.id DESC LIMIT CAST({l} AS BIGINT) OFFSET CAST({o} AS BIGINT)"
        );
        let mut q = sqlx::query_as::<_, CatalogEntry>(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.bind(limit.to_string()).bind(offset.to_string()).fetch_all(&self.db.pool).await?;
        Ok((total, rows))
    }
}
