//! Chinese word segmentation for the engine: jieba's dictionary cut (no HMM, so a text is
//! cut the same way in a document and in a query), each word at its own position, and the
//! 2- and 3-character dictionary words inside a longer word at the same position, so that
//! 教育 finds 义务教育 and the phrase 义务教育入学 still matches word by word. Latin letters are
//! lower-cased; punctuation and spaces are dropped (they keep no position).

use std::sync::OnceLock;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the text fields are indexed with.
pub const JIEBA: &str = "zh_jieba";
/// The name of the document-number field's tokenizer: the whole value, brackets made alike.
pub const CODE: &str = "zh_code";

/// The dictionary, loaded once per process (about 0.3 s).
pub fn jieba() -> &'static jieba_rs::Jieba {
    static J: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = jieba_rs::Jieba::new();
        // Words of government texts the general dictionary cuts apart.
        for w in WORDS {
            j.add_word(w, Some(2000), None);
        }
        j
    })
}

/// Words every government site uses that the general dictionary lacks.
const WORDS: &[&str] = &[
    "政务公开",
    "政府信息公开",
    "依申请公开",
    "一网通办",
    "放管服",
    "营商环境",
    "规范性文件",
    "政策解读",
    "互联网+",
    "双随机",
    "一公开",
    "最多跑一次",
    "跨省通办",
    "医保",
    "社保",
    "公积金",
    "低保",
    "入学",
];

/// Whether a segment is a word worth indexing (anything with a letter, digit or character).
fn is_word(w: &str) -> bool {
    w.chars().any(char::is_alphanumeric)
}

/// The words of `text` with their positions and byte offsets; the same for indexing and
/// for queries.
pub fn segment(text: &str) -> Vec<Token> {
    let j = jieba();
    let mut out = Vec::new();
    let mut position = 0usize;
    for t in j.cut(text, false) {
        if !is_word(t.word) {
            continue;
        }
        out.push(Token {
            offset_from: t.byte_start,
            offset_to: t.byte_end,
            position,
            text: t.word.to_lowercase(),
            position_length: 1,
        });
        let chars: Vec<(usize, char)> = t.word.char_indices().collect();
        let n = chars.len();
        if n > 2 && chars.iter().all(|(_, c)| !c.is_ascii()) {
            for len in [2usize, 3] {
                if n <= len {
                    continue;
                }
                for i in 0..=n - len {
                    let from = chars[i].0;
                    let to = if i + len == n { t.word.len() } else { chars[i + len].0 };
                    let gram = &t.word[from..to];
                    if j.has_word(gram) {
                        out.push(Token {
                            offset_from: t.byte_start + from,
                            offset_to: t.byte_start + to,
                            position,
                            text: gram.to_string(),
                            position_length: 1,
                        });
                    }
                }
            }
        }
        position += 1;
    }
    out
}

/// The words of a query: the dictionary cut only (the sub-words are in the index already).
pub fn query_words(text: &str) -> Vec<String> {
    jieba().cut(text, false).into_iter().filter(|t| is_word(t.word)).map(|t| t.word.to_lowercase()).collect()
}

/// A document or index number as one comparable value: brackets of every kind typed by
/// citizens (〔〕 [] 【】 () （） ［］) made 〔〕, spaces dropped, Latin letters lower-cased.
pub fn normalize_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' | '【' | '(' | '（' | '［' | '〔' => '〔',
            ']' | '】' | ')' | '）' | '］' | '〕' => '〕',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether a word of a query looks like a document number (青政办发〔2015〕12号) or an index
/// number (11370200MB0000001X/2026-00012): then it is looked for as a whole.
pub fn looks_like_code(w: &str) -> bool {
    let n = normalize_code(w);
    let digits = n.chars().filter(char::is_ascii_digit).count();
    (n.contains('〔') && n.contains('〕') && digits >= 2)
        || (digits >= 4 && n.chars().count() >= 10 && n.chars().any(|c| c == '/' || c == '-'))
}

/// The jieba tokenizer, as tantivy calls it.
#[derive(Clone, Default)]
pub struct Jieba;

/// The tokens of one text.
pub struct Tokens {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        if self.at < self.tokens.len() {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for Jieba {
    type TokenStream<'a> = Tokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens { tokens: segment(text), at: 0 }
    }
}

/// The document-number tokenizer: the normalised value as one token.
#[derive(Clone, Default)]
pub struct Code;

impl Tokenizer for Code {
    type TokenStream<'a> = Tokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let n = normalize_code(text);
        let tokens = if n.is_empty() {
            Vec::new()
        } else {
            vec![Token { offset_from: 0, offset_to: text.len(), position: 0, text: n, position_length: 1 }]
        };
        Tokens { tokens, at: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(usize, String)> {
        segment(s).into_iter().map(|t| (t.position, t.text)).collect()
    }

    #[test]
    fn words_and_their_parts_share_a_position() {
        let t = texts("义务教育入学，政府信息公开！");
        assert!(t.contains(&(0, "义务教育".into())), "{t:?}");
        assert!(t.contains(&(0, "教育".into())), "{t:?}");
        assert!(t.iter().any(|(p, w)| *p == 1 && w == "入学"), "{t:?}");
        assert!(t.iter().any(|(_, w)| w == "公开"), "{t:?}");
        assert!(!t.iter().any(|(_, w)| w == "，" || w == "！"), "punctuation is dropped: {t:?}");
        assert_eq!(query_words("义务教育入学"), ["义务教育", "入学"]);
        assert_eq!(texts("GDP Growth")[0].1, "gdp");
    }

    #[test]
    fn document_numbers_are_alike_whatever_the_brackets() {
        let want = normalize_code("青政办发〔2015〕12号");
        for typed in ["青政办发[2015]12号", "青政办发【2015】12号", "青政办发（2015）12号", "青政办发 (2015) 12号"]
        {
            assert_eq!(normalize_code(typed), want, "{typed}");
            assert!(looks_like_code(typed), "{typed}");
        }
        assert!(looks_like_code("11370200MB0000001X/2026-00012"));
        assert!(!looks_like_code("义务教育"));
        assert!(!looks_like_code("2015"));
    }
}
