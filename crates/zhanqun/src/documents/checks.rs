//! The 错敏词 check of an edition and the submit gate it feeds (R2.3; issue 14, part 4):
//! every field a reader sees is checked against the office's list. A forbidden expression
//! keeps the edition from being submitted; a wrong one needs the editor's explicit
//! confirmation, which the audit trail keeps with the hits; sensitive ones are shown to the
//! writer and the reviewers.

use serde::Serialize;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::expressions::{Kind, Matcher};

use super::queries::{load_document, load_edition};
use super::{EditionRow, EditionView};
use crate::app::App;
use crate::kernel::actor::require_any_role;
use crate::kernel::{Actor, AppError, AppResult};

/// Characters of text kept on each side of a hit, so a reviewer sees where it stands.
const CONTEXT_CHARS: usize = 12;

/// One expression found in one field of an edition.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionHit {
    /// `title`, `subtitle`, `keywords`, `summary` or `body`.
    pub field: &'static str,
    pub field_label: &'static str,
    pub word: String,
    /// `wrong`, `sensitive` or `forbidden`.
    #[schema(value_type = String)]
    pub kind: Kind,
    pub kind_label: &'static str,
    pub suggestion: Option<String>,
    /// Offsets in the field's text, in characters.
    pub start: usize,
    pub end: usize,
    /// The text around it (up to 12 characters each side), on one line.
    pub before: String,
    pub after: String,
}

/// Every hit of one edition, with how many of each kind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionCheck {
    /// The edition's number within its document.
    pub edition: i64,
    pub hits: Vec<EditionHit>,
    pub wrong: usize,
    pub sensitive: usize,
    pub forbidden: usize,
}

fn one_line(s: String) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The texts of an edition a reader sees, as stored ([`EditionRow`]) or as shown
/// ([`EditionView`]): the body as the editor wrote it.
pub struct EditionText<'a> {
    pub number: i64,
    pub title: &'a str,
    pub subtitle: &'a str,
    pub keywords: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
}

impl<'a> From<&'a EditionRow> for EditionText<'a> {
    fn from(e: &'a EditionRow) -> Self {
        EditionText {
            number: e.number,
            title: &e.title,
            subtitle: &e.subtitle,
            keywords: &e.keywords,
            summary: &e.summary,
            body: &e.body_source,
        }
    }
}

impl<'a> From<&'a EditionView> for EditionText<'a> {
    fn from(e: &'a EditionView) -> Self {
        EditionText {
            number: e.number,
            title: &e.title,
            subtitle: &e.subtitle,
            keywords: &e.keywords,
            summary: &e.summary,
            body: &e.body,
        }
    }
}

/// Checks every field of an edition a reader sees. A body is at most 500,000 characters:
/// one pass over it takes a millisecond or two, so this runs where it is called.
pub fn check_edition(m: &Matcher, e: EditionText<'_>) -> EditionCheck {
    let fields: [(&'static str, &'static str, &str); 5] = [
        ("title", "标题", e.title),
        ("subtitle", "副标题", e.subtitle),
        ("keywords", "关键词", e.keywords),
        ("summary", "摘要", e.summary),
        ("body", "正文", e.body),
    ];
    let mut hits = Vec::new();
    for (field, field_label, text) in fields {
        let found = m.find(text);
        if found.is_empty() {
            continue;
        }
        let chars: Vec<char> = text.chars().collect();
        for h in found {
            let from = h.start.saturating_sub(CONTEXT_CHARS);
            let to = (h.end + CONTEXT_CHARS).min(chars.len());
            hits.push(EditionHit {
                field,
                field_label,
                word: h.word,
                kind: h.kind,
                kind_label: h.kind.label(),
                suggestion: h.suggestion,
                start: h.start,
                end: h.end,
                before: one_line(chars[from..h.start].iter().collect()),
                after: one_line(chars[h.end..to].iter().collect()),
            });
        }
    }
    let n = |k: Kind| hits.iter().filter(|h| h.kind == k).count();
    EditionCheck {
        edition: e.number,
        wrong: n(Kind::Wrong),
        sensitive: n(Kind::Sensitive),
        forbidden: n(Kind::Forbidden),
        hits,
    }
}

/// Whether the check lets the edition be submitted: never with a forbidden expression, with
/// a wrong one only when the editor confirmed it (`confirm_expressions`). Each refusal
/// names the field, the expression and what to write instead.
pub fn gate(check: &EditionCheck, confirmed: bool) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    for h in &check.hits {
        match h.kind {
            Kind::Forbidden => errors.add(
                h.field,
                "forbidden_expression",
                format!("{}含禁用表述「{}」，删除后才能报送审核", h.field_label, h.word),
            ),
            Kind::Wrong if !confirmed => errors.add(
                h.field,
                "wrong_expression",
                format!(
                    "{}含错误表述「{}」{}；请修改，或核对无误后勾选「已核对错误表述，确认报送」",
                    h.field_label,
                    h.word,
                    h.suggestion.as_deref().map(|s| format!("（建议改为「{s}」）")).unwrap_or_default()
                ),
            ),
            _ => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// What the audit entry of a submission records of its check.
pub fn audit_detail(check: &EditionCheck, confirmed: bool) -> serde_json::Value {
    let hits: Vec<_> =
        check.hits.iter().map(|h| serde_json::json!({"field": h.field, "word": h.word, "kind": h.kind})).collect();
    serde_json::json!({"hits": hits, "confirmed_wrong": confirmed && check.wrong > 0})
}

impl App {
    /// The check of the edition in hand (the draft, or the live one when there is none), for
    /// anyone with a role on the document's site: the writer before submitting, the
    /// reviewers while they review.
    pub async fn document_expressions(&self, actor: &Actor, id: i64) -> AppResult<EditionCheck> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        require_any_role(&mut c, actor, doc.site_id).await?;
        let Some(eid) = doc.draft_edition_id.or(doc.live_edition_id) else {
            return Err(AppError::NotFound(format!("文档 #{id} 没有可检查的版本")));
        };
        let edition = load_edition(&mut c, eid).await?;
        Ok(check_edition(&self.expressions.load_full(), (&edition).into()))
    }
}
