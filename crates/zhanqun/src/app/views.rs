//! What the API shows: rows shaped for people and clients, times in Asia/Shanghai.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use zhanqun_domain::column::ColumnKind;
use zhanqun_domain::site::{SiteKind, SiteState};
use zhanqun_domain::workflow::DocState;

use crate::store::rows::{AttachmentRow, AuditRow, ColumnRow, EditionRow};

/// China Standard Time; Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

fn to_cst(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(CST)
}

/// RFC 3339 in China Standard Time, e.g. `2026-11-29T19:34:00+08:00`.
pub fn fmt_time(ms: i64) -> String {
    to_cst(ms).format(&Rfc3339).unwrap_or_default()
}

pub fn fmt_opt(ms: Option<i64>) -> Option<String> {
    ms.map(fmt_time)
}

/// `YYYY-MM-DD HH:MM` in China Standard Time, as pages show it.
pub fn fmt_local(ms: i64) -> String {
    let t = to_cst(ms);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// Parses an RFC 3339 instant into Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    pub compliant: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub id: i64,
    pub kind: SiteKind,
    pub kind_label: &'static str,
    pub name: String,
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    pub aliases: Vec<String>,
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    pub contact: String,
    pub state: SiteState,
    pub state_label: &'static str,
    pub require_distinct_reviewer: bool,
    pub domain_compliance: Compliance,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnView {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub source: String,
    pub owner: String,
    pub duty: String,
    pub duty_days: Option<i64>,
    pub status: String,
    pub merged_into: Option<i64>,
    pub sort_order: i64,
    pub path: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ColumnRow> for ColumnView {
    fn from(c: &ColumnRow) -> Self {
        ColumnView {
            id: c.id,
            site_id: c.site_id,
            parent_id: c.parent_id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            kind: c.kind.clone(),
            kind_label: ColumnKind::parse(&c.kind).map(|k| k.label()).unwrap_or(""),
            source: c.source.clone(),
            owner: c.owner.clone(),
            duty: c.duty.clone(),
            duty_days: c.duty_days,
            status: c.status.clone(),
            merged_into: c.merged_into,
            sort_order: c.sort_order,
            path: format!("/columns/{}/", c.slug),
            version: c.version,
            created_at: fmt_time(c.created_at),
            updated_at: fmt_time(c.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EditionView {
    pub id: i64,
    pub number: i64,
    pub state: String,
    pub title: String,
    pub subtitle: String,
    pub source: String,
    pub author: String,
    pub keywords: String,
    pub summary: String,
    pub body_format: String,
    pub body: String,
    pub body_html: String,
    pub publish_at: Option<String>,
    pub published_at: Option<String>,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&EditionRow> for EditionView {
    fn from(e: &EditionRow) -> Self {
        EditionView {
            id: e.id,
            number: e.number,
            state: e.state.clone(),
            title: e.title.clone(),
            subtitle: e.subtitle.clone(),
            source: e.source.clone(),
            author: e.author.clone(),
            keywords: e.keywords.clone(),
            summary: e.summary.clone(),
            body_format: e.body_format.clone(),
            body: e.body_source.clone(),
            body_html: e.body_html.clone(),
            publish_at: fmt_opt(e.publish_at),
            published_at: fmt_opt(e.published_at),
            created_by: e.created_by,
            created_at: fmt_time(e.created_at),
            updated_at: fmt_time(e.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub url: String,
    pub created_at: String,
}

impl From<&AttachmentRow> for AttachmentView {
    fn from(a: &AttachmentRow) -> Self {
        AttachmentView {
            id: a.id,
            file_name: a.file_name.clone(),
            media_type: a.media_type.clone(),
            size_bytes: a.size_bytes,
            sha256: a.sha256.clone(),
            url: format!("/api/v1/attachments/{}", a.id),
            created_at: fmt_time(a.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: i64,
    pub site_id: i64,
    pub locale: String,
    pub state: String,
    pub state_label: &'static str,
    pub version: i64,
    pub columns: Vec<i64>,
    pub canonical_column_id: Option<i64>,
    /// The edition being worked on, if any.
    pub draft: Option<EditionView>,
    /// The edition that is (or was last) on the public site.
    pub live: Option<EditionView>,
    /// Where the public reads it, while it is published.
    pub public_url: Option<String>,
    pub reject_reason: Option<String>,
    pub unpublish_mode: Option<String>,
    pub unpublish_note: Option<String>,
    pub redirect_url: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    pub first_published_at: Option<String>,
}

pub fn doc_state_label(s: &str) -> &'static str {
    DocState::parse(s).map(|s| s.label()).unwrap_or("")
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub comment: String,
    pub detail: serde_json::Value,
}

impl From<&AuditRow> for AuditView {
    fn from(a: &AuditRow) -> Self {
        AuditView {
            id: a.id,
            at: fmt_time(a.at),
            actor_id: a.actor_id,
            actor: a.actor_name.clone(),
            site_id: a.site_id,
            entity: a.entity.clone(),
            entity_id: a.entity_id,
            action: a.action.clone(),
            from: a.from_state.clone(),
            to: a.to_state.clone(),
            comment: a.comment.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_china_standard_time() {
        // 2026-01-01T00:00:00Z
        let ms = 1_767_225_600_000;
        assert_eq!(fmt_time(ms), "2026-01-01T08:00:00+08:00");
        assert_eq!(fmt_local(ms), "2026-01-01 08:00");
        assert_eq!(parse_time("2026-01-01T08:00:00+08:00"), Some(ms));
        assert_eq!(parse_time("2026-01-01"), None);
    }
}
