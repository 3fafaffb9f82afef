//! Rows as the database holds them. Enum columns are TEXT here and parsed by the app layer.

use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: i64,
    pub disabled: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct SiteRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub sponsor: String,
    pub parent_id: Option<i64>,
    pub primary_domain: Option<String>,
    pub site_code: Option<String>,
    pub icp_filing: Option<String>,
    pub psb_filing: Option<String>,
    pub contact: String,
    pub state: String,
    pub require_distinct_reviewer: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ColumnRow {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub source: String,
    pub owner: String,
    pub duty: String,
    pub duty_days: Option<i64>,
    pub status: String,
    pub merged_into: Option<i64>,
    pub sort_order: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub id: i64,
    pub site_id: i64,
    pub locale: String,
    pub state: String,
    pub canonical_column_id: Option<i64>,
    pub draft_edition_id: Option<i64>,
    pub live_edition_id: Option<i64>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_published_at: Option<i64>,
    pub unpublish_mode: Option<String>,
    pub unpublish_note: Option<String>,
    pub redirect_url: Option<String>,
    pub reject_reason: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct EditionRow {
    pub id: i64,
    pub document_id: i64,
    pub number: i64,
    pub state: String,
    pub title: String,
    pub subtitle: String,
    pub source: String,
    pub author: String,
    pub keywords: String,
    pub summary: String,
    pub body_format: String,
    pub body_source: String,
    pub body_html: String,
    pub publish_at: Option<i64>,
    pub published_at: Option<i64>,
    pub created_by: i64,
    pub submitted_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub document_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_by: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub comment: String,
    pub detail: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub run_at: i64,
    pub attempts: i64,
}
