//! Disclosure metadata on documents (R3.2), index numbers assigned at publication, the
//! configurable subject list, interpretations and responses linked to policies (R4, R5.2)
//! and the disclosure catalog (R3.1).

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::disclosure::{
    DEFAULT_INDEX_SCHEME, DOC_TYPES, GENRES, MODES, VALIDITY, check_credit_code, check_index_scheme, check_org_code,
    check_subject_name, index_number_by, label_of, parse_document_number,
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
    pub genre: Option<String>,
    pub keywords: String,
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
    pub genre: Option<String>,
    pub keywords: String,
    pub issuing_body_id: i64,
    /// The document's address on its own site.
    #[sqlx(skip)]
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogFilter {
    pub body: Option<i64>,
    pub subject: Option<String>,
    pub year: Option<i32>,
    pub validity: Option<String>,
    pub doc_type: Option<String>,
    pub genre: Option<String>,
}

/// Keywords as one comma-separated list, whatever separators were typed.
fn normalise_keywords(k: &str) -> String {
    k.split([',', '，', '、', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

async fn check_sibling_free(
    conn: &mut AnyConnection,
    parent: Option<i64>,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM subject_categories WHERE parent_id IS NOT DISTINCT FROM $1 AND name = $2 AND id <> $3",
    )
    .bind(parent)
    .bind(name)
    .bind(except.unwrap_or(0))
    .fetch_optional(&mut *conn)
    .await?;
    match taken {
        Some(_) => Err(AppError::field("name", "unique", format!("同一级下已有名为「{name}」的分类"))),
        None => Ok(()),
    }
}

async fn subject_audit(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    action: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
    audit(conn, actor, Audit::event(None, "subject", id, action, detail)).await
}

/// Whether sanitised HTML holds an image with a non-empty text alternative.
fn has_described_image(html: &str) -> bool {
    html.match_indices("<img").any(|(i, _)| {
        let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
        tag.split("alt=\"").nth(1).and_then(|r| r.split('"').next()).is_some_and(|a| !a.trim().is_empty())
    })
}

/// Whether `subject` ("first" or "first/second") names a category in use.
async fn subject_in_list(conn: &mut AnyConnection, subject: &str) -> AppResult<bool> {
    let (first, second) = match subject.split_once('/') {
        Some((f, s)) => (f, Some(s)),
        None => (subject, None),
    };
    let parent: Option<i64> =
        sqlx::query_scalar("SELECT id FROM subject_categories WHERE parent_id IS NULL AND name = $1 AND retired = 0")
            .bind(first)
            .fetch_optional(&mut *conn)
            .await?;
    let (Some(parent), Some(second)) = (parent, second) else { return Ok(parent.is_some()) };
    let child: Option<i64> =
        sqlx::query_scalar("SELECT id FROM subject_categories WHERE parent_id = $1 AND name = $2 AND retired = 0")
            .bind(parent)
            .bind(second)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(child.is_some())
}

/// Keeps the catalog's own copy of "is this listed, and since when" in step with the document:
/// called by every publish, unpublish and metadata change.
pub(crate) async fn sync_listing(conn: &mut AnyConnection, doc_id: i64) -> AppResult<()> {
    let listed: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT doc.first_published_at FROM documents doc JOIN editions e ON e.id = doc.live_edition_id \
         WHERE doc.id = $1 AND e.state = 'published'",
    )
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query("UPDATE disclosures SET listed_at = $1 WHERE document_id = $2")
        .bind(listed.flatten())
        .bind(doc_id)
        .execute(&mut *conn)
        .await?;
    bump_catalog(conn).await
}

/// Marks the catalog as changed (counts kept by any node are then recounted).
async fn bump_catalog(conn: &mut AnyConnection) -> AppResult<()> {
    sqlx::query("UPDATE catalog_state SET generation = generation + 1 WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// Assigns the index number of a published document with disclosure metadata, once:
/// `{body code}/{year}-{sequence}`, the year that of first publication, the sequence per body
/// and year, never reused.
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
    let year = published
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
        .map_or(today().year(), |t| t.to_offset(super::views::CST).year());
    let year = i64::from(year);
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

/// A category of the subject list, with its second-level categories.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectNode {
    pub id: i64,
    pub name: String,
    /// What documents store: "first" or "first/second".
    pub path: String,
    pub retired: bool,
    pub children: Vec<SubjectNode>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    pub name: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    pub name: Option<String>,
    pub retired: Option<bool>,
}

type SubjectRow = (i64, Option<i64>, String, i64);

/// A link to a published document, as the catalog shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DocLink {
    pub document_id: i64,
    pub title: String,
    pub url: String,
    pub date_written: String,
}

/// A body's disclosure guide and annual reports (R3.1).
#[derive(Debug, Clone, Serialize)]
pub struct BodyDocs {
    pub body_id: i64,
    pub body: String,
    /// The newest published guide.
    pub guide: Option<DocLink>,
    /// Annual reports, newest first.
    pub reports: Vec<DocLink>,
}

/// A link between an interpretation (or response) and a policy, seen from one of them.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct LinkView {
    pub interpretation_id: i64,
    pub policy_id: i64,
    /// The document at the other end, and its title.
    pub other_id: i64,
    pub other_title: String,
    pub kind: String,
}

impl App {
    /// The interpretation links a document is part of, at either end.
    pub async fn interpretation_links(&self, doc_id: i64) -> AppResult<Vec<LinkView>> {
        Ok(sqlx::query_as(
            "SELECT l.interpretation_id, l.policy_id, d.id AS other_id, e.title AS other_title, l.kind FROM interpretation_links l \
             JOIN documents d ON d.id = CASE WHEN l.policy_id = $1 THEN l.interpretation_id ELSE l.policy_id END \
             JOIN editions e ON e.id = COALESCE(d.live_edition_id, d.draft_edition_id) \
             WHERE l.policy_id = $1 OR l.interpretation_id = $1 ORDER BY l.created_at",
        )
        .bind(doc_id)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Removes a link between an interpretation and a policy.
    pub async fn unlink_interpretation(&self, actor: &Actor, interpretation: i64, policy: i64) -> AppResult<()> {
        let mut w = self.db.begin_write().await?;
        let doc = super::documents::load_document(w.conn(), interpretation).await?;
        require_role(w.conn(), actor, doc.site_id, &[Role::Editor, Role::SiteAdmin]).await?;
        let n = sqlx::query("DELETE FROM interpretation_links WHERE interpretation_id = $1 AND policy_id = $2")
            .bind(interpretation)
            .bind(policy)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("解读关联", policy));
        }
        audit(
            w.conn(),
            actor,
            Audit::event(
                Some(doc.site_id),
                "document",
                interpretation,
                "interprets_removed",
                serde_json::json!({"policy": policy}),
            ),
        )
        .await?;
        let policy_site: Option<i64> = sqlx::query_scalar("SELECT site_id FROM documents WHERE id = $1")
            .bind(policy)
            .fetch_optional(w.conn())
            .await?;
        w.commit().await?;
        self.document_changed(doc.site_id, interpretation).await;
        if let Some(s) = policy_site {
            self.document_changed(s, policy).await;
        }
        Ok(())
    }

    /// A body's disclosure guide and annual reports, as published.
    pub async fn body_disclosure_docs(&self, body_id: i64) -> AppResult<BodyDocs> {
        let body: Option<String> = sqlx::query_scalar("SELECT name FROM bodies WHERE id = $1")
            .bind(body_id)
            .fetch_optional(&self.db.pool)
            .await?;
        let body = body.ok_or_else(|| AppError::not_found("机构", body_id))?;
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT d.document_id, doc.site_id, e.title, d.date_written, d.doc_type FROM disclosures d \
             JOIN documents doc ON doc.id = d.document_id JOIN editions e ON e.id = doc.live_edition_id \
             WHERE d.issuing_body_id = $1 AND d.doc_type IN ('guide', 'annual_report') AND d.listed_at IS NOT NULL \
             ORDER BY d.date_written DESC, d.document_id DESC",
        )
        .bind(body_id)
        .fetch_all(&self.db.pool)
        .await?;
        let mut guide = None;
        let mut reports = Vec::new();
        for (id, site, title, date_written, doc_type) in rows {
            // Links to the document's own site (the catalog may be shown on the portal).
            let link = DocLink { document_id: id, title, url: self.document_link(-1, site, id), date_written };
            if doc_type == "guide" {
                guide.get_or_insert(link);
            } else {
                reports.push(link);
            }
        }
        Ok(BodyDocs { body_id, body, guide, reports })
    }

    /// The subject list as a tree, in its order; retired categories only when asked for.
    pub async fn subjects(&self, include_retired: bool) -> AppResult<Vec<SubjectNode>> {
        let rows: Vec<SubjectRow> =
            sqlx::query_as("SELECT id, parent_id, name, retired FROM subject_categories ORDER BY sort_order, id")
                .fetch_all(&self.db.pool)
                .await?;
        let keep = |r: &&SubjectRow| include_retired || r.3 == 0;
        Ok(rows
            .iter()
            .filter(|r| r.1.is_none())
            .filter(keep)
            .map(|p| SubjectNode {
                id: p.0,
                name: p.2.clone(),
                path: p.2.clone(),
                retired: p.3 != 0,
                children: rows
                    .iter()
                    .filter(|c| c.1 == Some(p.0))
                    .filter(keep)
                    .map(|c| SubjectNode {
                        id: c.0,
                        name: c.2.clone(),
                        path: format!("{}/{}", p.2, c.2),
                        retired: c.3 != 0,
                        children: Vec::new(),
                    })
                    .collect(),
            })
            .collect())
    }

    /// Adds a category (first level, or second level under `parent_id`). The web office's job.
    pub async fn add_subject(&self, actor: &Actor, input: SubjectInput) -> AppResult<SubjectNode> {
        actor.require_admin()?;
        check_subject_name("name", &input.name)?;
        let name = input.name.trim().to_string();
        let mut w = self.db.begin_write().await?;
        let mut path = name.clone();
        if let Some(p) = input.parent_id {
            let parent: Option<(Option<i64>, String)> =
                sqlx::query_as("SELECT parent_id, name FROM subject_categories WHERE id = $1")
                    .bind(p)
                    .fetch_optional(w.conn())
                    .await?;
            match parent {
                None => return Err(AppError::field("parent_id", "exists", format!("上级分类 #{p} 不存在"))),
                Some((Some(_), _)) => {
                    return Err(AppError::field("parent_id", "depth", "主题分类只有两级，二级分类下不能再建分类"));
                }
                Some((None, pname)) => path = format!("{pname}/{name}"),
            }
        }
        check_sibling_free(w.conn(), input.parent_id, &name, None).await?;
        let order: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(sort_order), 0) + 1 FROM subject_categories WHERE parent_id IS NOT DISTINCT FROM $1",
        )
        .bind(input.parent_id)
        .fetch_one(w.conn())
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO subject_categories (parent_id, name, sort_order, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(input.parent_id)
        .bind(&name)
        .bind(order)
        .bind(now_ms())
        .fetch_one(w.conn())
        .await?;
        subject_audit(w.conn(), actor, id, "create", serde_json::json!({"path": path})).await?;
        w.commit().await?;
        Ok(SubjectNode { id, name, path, retired: false, children: Vec::new() })
    }

    /// Renames or retires (or brings back) a category. A rename carries the documents filed
    /// under it along; a retired category stays on its documents but takes no new ones.
    pub async fn update_subject(&self, actor: &Actor, id: i64, patch: SubjectPatch) -> AppResult<()> {
        actor.require_admin()?;
        let mut w = self.db.begin_write().await?;
        let row: Option<SubjectRow> =
            sqlx::query_as("SELECT id, parent_id, name, retired FROM subject_categories WHERE id = $1")
                .bind(id)
                .fetch_optional(w.conn())
                .await?;
        let Some((_, parent, old_name, _)) = row else { return Err(AppError::not_found("主题分类", id)) };
        let prefix = match parent {
            Some(p) => {
                let pname: String = sqlx::query_scalar("SELECT name FROM subject_categories WHERE id = $1")
                    .bind(p)
                    .fetch_one(w.conn())
                    .await?;
                format!("{pname}/")
            }
            None => String::new(),
        };
        let old_path = format!("{prefix}{old_name}");
        if let Some(name) = patch.name.as_deref().map(str::trim).filter(|n| *n != old_name) {
            check_subject_name("name", name)?;
            check_sibling_free(w.conn(), parent, name, Some(id)).await?;
            let new_path = format!("{prefix}{name}");
            sqlx::query("UPDATE subject_categories SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name)
                .bind(now_ms())
                .bind(id)
                .execute(w.conn())
                .await?;
            // Documents filed under the category, or under one of its second-level categories.
            sqlx::query(
                "UPDATE disclosures SET subject = $1 || SUBSTR(subject, LENGTH($2) + 1) WHERE subject = $2 OR subject LIKE $3",
            )
            .bind(&new_path)
            .bind(&old_path)
            .bind(format!("{old_path}/%"))
            .execute(w.conn())
            .await?;
            subject_audit(w.conn(), actor, id, "rename", serde_json::json!({"from": old_path, "to": new_path})).await?;
            bump_catalog(w.conn()).await?;
        }
        if let Some(retired) = patch.retired {
            sqlx::query("UPDATE subject_categories SET retired = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(retired))
                .bind(now_ms())
                .bind(id)
                .execute(w.conn())
                .await?;
            let action = if retired { "retire" } else { "restore" };
            subject_audit(w.conn(), actor, id, action, serde_json::json!({"path": old_path})).await?;
        }
        w.commit().await?;
        self.pages.invalidate_all();
        Ok(())
    }

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
        audit(w.conn(), actor, Audit::event(None, "body", body_id, "set_code", serde_json::json!({"code": code})))
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// Sets a body's index-number scheme (None: the national default). Numbers already
    /// assigned keep their form; the sequence carries on.
    pub async fn set_body_index_scheme(&self, actor: &Actor, body_id: i64, scheme: Option<&str>) -> AppResult<()> {
        actor.require_admin()?;
        let scheme = scheme.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = scheme {
            check_index_scheme("scheme", s)?;
        }
        let mut w = self.db.begin_write().await?;
        let n = sqlx::query("UPDATE bodies SET index_scheme = $1 WHERE id = $2")
            .bind(scheme)
            .bind(body_id)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("机构", body_id));
        }
        let detail = serde_json::json!({"index_scheme": scheme.unwrap_or(DEFAULT_INDEX_SCHEME)});
        audit(w.conn(), actor, Audit::event(None, "body", body_id, "set_index_scheme", detail)).await?;
        w.commit().await?;
        Ok(())
    }

    /// A document's disclosure metadata, if it has any.
    pub async fn disclosure(&self, doc_id: i64) -> AppResult<Option<Disclosure>> {
        Ok(sqlx::query_as(
            "SELECT document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, \
             changed_by_document_id, disclosure_mode, nondisclosure_reason, index_number, important, genre, keywords FROM disclosures WHERE document_id = $1",
        )
        .bind(doc_id)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Bodies with their codes, for the admin.
    pub async fn bodies_with_codes(&self) -> AppResult<Vec<(i64, String, Option<String>, Option<String>)>> {
        Ok(sqlx::query_as("SELECT id, name, code, index_scheme FROM bodies ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?)
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
        if !subject_in_list(w.conn(), &d.subject).await? {
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
        .execute(w.conn())
        .await?;
        if doc.first_published_at.is_some() {
            assign_index_number(w.conn(), doc_id).await?;
        }
        sync_listing(w.conn(), doc_id).await?;
        audit(
            w.conn(),
            actor,
            Audit::event(
                Some(doc.site_id),
                "document",
                doc_id,
                "disclosure",
                serde_json::json!({"validity": d.validity, "document_number": number}),
            ),
        )
        .await?;
        let out: Disclosure = sqlx::query_as("SELECT document_id, doc_type, issuing_body_id, document_number, subject, date_written, validity, validity_changed_on, changed_by_document_id, disclosure_mode, nondisclosure_reason, index_number, important, genre, keywords FROM disclosures WHERE document_id = $1")
            .bind(doc_id)
            .fetch_one(w.conn())
            .await?;
        w.commit().await?;
        self.document_changed(doc.site_id, doc_id).await;
        Ok(out)
    }

    /// Links an interpretation to the policy it explains, or a response to a hot issue to a
    /// policy concerned (kind `response`). Both need disclosure metadata: the first as an
    /// interpretation (or response), the second as a policy or normative document.
    pub async fn link_interpretation(
        &self,
        actor: &Actor,
        interpretation: i64,
        policy: i64,
        kind: &str,
    ) -> AppResult<()> {
        if !matches!(kind, "text" | "graphic" | "interview" | "video" | "response") {
            return Err(AppError::field(
                "kind",
                "one_of",
                "形式应为 text（文字解读）、graphic（图解）、interview（访谈）、video（视频）或 response（回应关切）",
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
        match (kind, type_of(interpretation)) {
            ("response", Some("response")) => {}
            ("response", _) => {
                return Err(AppError::field("interpretation", "doc_type", "请先把本文的文件类型设为「回应关切」"));
            }
            (_, Some("interpretation")) => {}
            _ => return Err(AppError::field("interpretation", "doc_type", "请先把本文的文件类型设为「政策解读」")),
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
        if kind == "graphic" {
            // A graphic interpretation is an image; people who cannot see it get its text.
            let edition = doc.draft_edition_id.or(doc.live_edition_id);
            let html: Option<String> = sqlx::query_scalar("SELECT body_html FROM editions WHERE id = $1")
                .bind(edition)
                .fetch_optional(w.conn())
                .await?;
            if !html.as_deref().is_some_and(has_described_image) {
                return Err(AppError::field(
                    "kind",
                    "graphic_alt",
                    "图解须含有图片，并为图片写上文字说明（alt），方便视障读者使用读屏软件",
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
            Audit::event(
                Some(doc.site_id),
                "document",
                interpretation,
                "interprets",
                serde_json::json!({"policy": policy, "kind": kind}),
            ),
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
        // Counting and filtering read the disclosures table alone (listed_at is set while the
        // document is published); titles and bodies are joined for the one page shown.
        let mut sql =
            String::from(" FROM disclosures d WHERE d.listed_at IS NOT NULL AND d.disclosure_mode = 'proactive'");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut binds: Vec<String> = Vec::new();
        if let Some(site) = site {
            sql.push_str(&format!(" AND d.site_id = CAST({} AS BIGINT)", next()));
            binds.push(site.to_string());
        }
        if let Some(b) = f.body {
            sql.push_str(&format!(" AND d.issuing_body_id = CAST({} AS BIGINT)", next()));
            binds.push(b.to_string());
        }
        if let Some(s) = f.subject.as_deref().filter(|s| !s.is_empty()) {
            // A first-level category includes its second-level ones.
            sql.push_str(&format!(" AND (d.subject = {} OR d.subject LIKE {})", next(), next()));
            binds.push(s.to_string());
            binds.push(format!("{s}/%"));
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
        if let Some(g) = f.genre.as_deref().filter(|g| !g.is_empty()) {
            sql.push_str(&format!(" AND d.genre = {}", next()));
            binds.push(g.to_string());
        }
        // Only placeholders were added to the statement; every value is bound.
        // Counting a large catalog reads the whole index range; the count is kept per filter
        // until the catalog's generation moves.
        let generation: i64 =
            sqlx::query_scalar("SELECT generation FROM catalog_state WHERE id = 1").fetch_one(&self.db.pool).await?;
        let key = format!("{site:?}|{binds:?}");
        let kept = self.catalog_counts.lock().unwrap_or_else(|p| p.into_inner()).get(&key).copied();
        let total = match kept {
            Some((g, total)) if g == generation => total,
            _ => {
                let count_sql = format!("SELECT COUNT(*){sql}");
                let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
                for b in &binds {
                    q = q.bind(b.clone());
                }
                let total = q.fetch_one(&self.db.pool).await?;
                let mut counts = self.catalog_counts.lock().unwrap_or_else(|p| p.into_inner());
                if counts.len() >= 10_000 {
                    counts.clear();
                }
                counts.insert(key, (generation, total));
                total
            }
        };
        let (l, o) = (next(), next());
        let list_sql = format!(
            "SELECT p.document_id, p.site_id, e.title, p.index_number, b.name AS body, p.document_number, p.subject, p.doc_type, \
             p.date_written, p.listed_at AS published_at, p.validity, p.genre, p.keywords, p.issuing_body_id \
             FROM (SELECT d.document_id{sql} ORDER BY d.listed_at DESC, d.document_id DESC LIMIT CAST({l} AS BIGINT) OFFSET CAST({o} AS BIGINT)) k \
             JOIN disclosures p ON p.document_id = k.document_id JOIN documents doc ON doc.id = p.document_id \
             JOIN editions e ON e.id = doc.live_edition_id JOIN bodies b ON b.id = p.issuing_body_id \
             ORDER BY p.listed_at DESC, p.document_id DESC"
        );
        let mut q = sqlx::query_as::<_, CatalogEntry>(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let mut rows = q.bind(limit.to_string()).bind(offset.to_string()).fetch_all(&self.db.pool).await?;
        for r in &mut rows {
            r.url = self.document_link(-1, r.site_id, r.document_id);
        }
        Ok((total, rows))
    }
}
