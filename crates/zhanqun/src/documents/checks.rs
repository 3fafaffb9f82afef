//! The 错敏词 check of an edition and the submit gate it feeds (R2.3; issue 14, part 4):
//! every field a reader sees is checked against the office's list. A forbidden expression
//! keeps the edition from being submitted; a wrong one needs the editor's explicit
//! confirmation, which the audit trail keeps with the hits; sensitive ones are shown to the
//! writer and the reviewers.

use serde::Serialize;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::expressions::{Kind, Matcher};

use super::EditionRow;
use super::queries::{load_document, load_edition};
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
    pub kind: &'static str,
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

/// Checks every field of `e` a reader sees (the body as the editor wrote it).
pub fn check_edition(m: &Matcher, e: &EditionRow) -> EditionCheck {
    let fields: [(&'static str, &'static str, &str); 5] = [
        ("title", "标题", &e.title),
        ("subtitle", "副标题", &e.subtitle),
        ("keywords", "关键词", &e.keywords),
        ("summary", "摘要", &e.summary),
        ("body", "正文", &e.body_source),
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
                kind: h.kind.as_str(),
                kind_label: h.kind.label(),
                suggestion: h.suggestion,
                start: h.start,
                end: h.end,
                before: one_line(chars[from..h.start].iter().collect()),
                after: one_line(chars[h.end..to].iter().collect()),
            });
        }
    }
    let n = |k: Kind| hits.iter().filter(|h| h.kind == k.as_str()).count();
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
            "forbidden" => errors.add(
                h.field,
                "forbidden_expression",
                format!("{}含禁用表述「{}」，删除后才能报送审核", h.field_label, h.word),
            ),
            "wrong" if !confirmed => errors.add(
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
        drop(c);
        let m = self.expressions.load_full();
        tokio::task::spawn_blocking(move || check_edition(&m, &edition))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("checking expressions: {e}")))
    }
}
