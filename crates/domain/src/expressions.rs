//! Wrong and sensitive expressions (错敏词): what an entry of the web office's list is, the
//! checks an entry passes, and the matcher that finds every entry of a list in a text in
//! one pass (Aho–Corasick, leftmost-longest), shared by the editor's check, the submit
//! gate and the monitor.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// What an expression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A wrong form (an official name or title misspelt or outdated): submitting needs an
    /// explicit confirmation, kept in the audit trail; the monitor counts it as an error.
    Wrong,
    /// A sensitive expression: shown to the writer and the secrecy reviewer.
    Sensitive,
    /// A forbidden expression: a document carrying one is not submitted.
    Forbidden,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Wrong, Kind::Sensitive, Kind::Forbidden];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Wrong => "wrong",
            Kind::Sensitive => "sensitive",
            Kind::Forbidden => "forbidden",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Wrong => "错误表述",
            Kind::Sensitive => "敏感表述",
            Kind::Forbidden => "禁用表述",
        }
    }
}

/// Longest expression kept, in characters.
pub const MAX_WORD_CHARS: usize = 50;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub word: String,
    pub kind: Kind,
    /// What to write instead (a wrong form should name it).
    pub suggestion: Option<String>,
}

/// Checks an entry as the office types it: the word trimmed, 2 to 50 characters, no line
/// breaks; a suggestion differs from the word and is at most 100 characters.
pub fn check_entry(word: &str, suggestion: Option<&str>, e: &mut FieldErrors) {
    let w = word.trim();
    e.required("word", "表述", w);
    if !w.is_empty() && w.chars().count() < 2 {
        e.add("word", "min_chars", "表述至少 2 个字，单字会在几乎每篇文稿中误报");
    }
    e.max_chars("word", "表述", w, MAX_WORD_CHARS);
    if w.chars().any(char::is_control) {
        e.add("word", "format", "表述不能含换行或控制字符");
    }
    if let Some(s) = suggestion.map(str::trim).filter(|s| !s.is_empty()) {
        e.max_chars("suggestion", "建议改为", s, 100);
        if s == w {
            e.add("suggestion", "differs", "建议改为的写法与表述相同");
        }
    }
}

/// One place an expression was found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Offset of its first character, in characters (what an editor highlights by).
    pub start: usize,
    /// Offset after its last character, in characters.
    pub end: usize,
    pub word: String,
    pub kind: Kind,
    pub suggestion: Option<String>,
}

/// Every entry of a list, ready to find in texts. Latin letters match whatever their case.
pub struct Matcher {
    ac: Option<AhoCorasick>,
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Matcher({} entries)", self.entries.len())
    }
}

impl Matcher {
    /// A matcher for `entries` (words already checked; an empty word is skipped, and of two
    /// entries with the same word the first counts).
    pub fn new(entries: Vec<Entry>) -> Matcher {
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<Entry> =
            entries.into_iter().filter(|e| !e.word.is_empty() && seen.insert(e.word.to_lowercase())).collect();
        let ac = if entries.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(true)
                .build(entries.iter().map(|e| e.word.as_str()))
                .ok()
        };
        Matcher { ac, entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every hit in `text`, in order, not overlapping (the longest entry wins where two
    /// start at the same place).
    pub fn find(&self, text: &str) -> Vec<Hit> {
        let Some(ac) = &self.ac else { return Vec::new() };
        let mut hits = Vec::new();
        // Byte offsets to character offsets, counting only the stretch since the last hit.
        let (mut byte, mut chars) = (0usize, 0usize);
        for m in ac.find_iter(text) {
            chars += text[byte..m.start()].chars().count();
            let start = chars;
            let len = text[m.start()..m.end()].chars().count();
            chars += len;
            byte = m.end();
            let e = &self.entries[m.pattern().as_usize()];
            hits.push(Hit {
                start,
                end: start + len,
                word: text[m.start()..m.end()].to_string(),
                kind: e.kind,
                suggestion: e.suggestion.clone(),
            });
        }
        hits
    }

    /// Whether `text` carries any entry at all.
    pub fn any(&self, text: &str) -> bool {
        self.ac.as_ref().is_some_and(|ac| ac.is_match(text))
    }
}

/// The expressions a new installation starts with: wrong official names and titles
/// (from [`crate::inspection::SEEDED_WRONG_EXPRESSIONS`]) and outdated ones.
pub fn seeded() -> Vec<Entry> {
    crate::inspection::SEEDED_WRONG_EXPRESSIONS
        .iter()
        .map(|(w, r)| Entry { word: w.to_string(), kind: Kind::Wrong, suggestion: Some(r.to_string()) })
        .chain(SEEDED_MORE.iter().map(|(w, k, r)| Entry {
            word: w.to_string(),
            kind: *k,
            suggestion: (!r.is_empty()).then(|| r.to_string()),
        }))
        .collect()
}

const SEEDED_MORE: [(&str, Kind, &str); 10] = [
    ("国务院总理办公室", Kind::Wrong, "国务院办公厅"),
    ("人大代表大会", Kind::Wrong, "人民代表大会"),
    ("政协委员会议", Kind::Wrong, "政协会议"),
    ("国家工商总局", Kind::Wrong, "国家市场监督管理总局"),
    ("国家食品药品监督管理总局", Kind::Wrong, "国家市场监督管理总局、国家药品监督管理局"),
    ("国家卫生计生委", Kind::Wrong, "国家卫生健康委员会"),
    ("环境保护部", Kind::Wrong, "生态环境部"),
    ("中华民国", Kind::Sensitive, "（涉台表述，需核对用法）"),
    ("台独", Kind::Sensitive, ""),
    ("法轮功", Kind::Forbidden, ""),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn m(list: &[(&str, Kind)]) -> Matcher {
        Matcher::new(list.iter().map(|(w, k)| Entry { word: w.to_string(), kind: *k, suggestion: None }).collect())
    }

    #[test]
    fn hits_carry_character_offsets_and_the_longest_entry_wins() {
        let m = m(&[("国务院", Kind::Sensitive), ("国务院办公室", Kind::Wrong), ("ABC", Kind::Forbidden)]);
        let hits = m.find("根据国务院办公室通知，abc 与国务院。");
        let got: Vec<(usize, usize, &str, Kind)> =
            hits.iter().map(|h| (h.start, h.end, h.word.as_str(), h.kind)).collect();
        assert_eq!(
            got,
            vec![
                (2, 8, "国务院办公室", Kind::Wrong),
                (11, 14, "abc", Kind::Forbidden),
                (16, 19, "国务院", Kind::Sensitive)
            ]
        );
        assert!(m.any("abc"));
        assert!(!m.any("国务"));
    }

    #[test]
    fn an_empty_list_finds_nothing_and_duplicates_count_once() {
        assert!(Matcher::new(Vec::new()).find("国务院办公室").is_empty());
        let m = m(&[("台独", Kind::Sensitive), ("台独", Kind::Forbidden)]);
        assert_eq!(m.len(), 1);
        assert_eq!(m.find("台独")[0].kind, Kind::Sensitive);
    }

    #[test]
    fn entries_are_checked_as_typed() {
        let errs = |w: &str, s: Option<&str>| {
            let mut e = FieldErrors::new();
            check_entry(w, s, &mut e);
            e.into_result().err().map(|e| e.0.iter().map(|f| f.rule.clone()).collect::<Vec<_>>()).unwrap_or_default()
        };
        assert!(errs("国务院办公室", Some("国务院办公厅")).is_empty());
        assert_eq!(errs("  ", None), vec!["required"]);
        assert_eq!(errs("国", None), vec!["min_chars"]);
        assert_eq!(errs("国务\n院", None), vec!["format"]);
        assert_eq!(errs("国务院", Some("国务院")), vec!["differs"]);
        assert!(errs(&"长".repeat(51), None).contains(&"max_length".to_string()));
    }

    #[test]
    fn the_seeded_list_passes_its_own_checks() {
        for e in seeded() {
            let mut errs = FieldErrors::new();
            check_entry(&e.word, e.suggestion.as_deref(), &mut errs);
            assert!(errs.is_empty(), "{}", e.word);
        }
    }
}
