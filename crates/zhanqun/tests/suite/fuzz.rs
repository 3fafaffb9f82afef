//! Fuzz targets (issue 10's standing attack suite): the HTML sanitiser, the Markdown
//! renderer, public text in Markdown, the import parser (CSV in every encoding, XLSX) and
//! every code validator, fed generated input built from the pieces attackers use. Each
//! property says what must hold for any input: nothing panics, nothing that runs survives,
//! what a validator accepts is what it would accept again.
//!
//! `cargo test` runs each target for `ZHANQUN_FUZZ_SECONDS` (default 2) seconds;
//! `bench/fuzz.sh SECONDS` runs them longer, optimised.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use zhanqun::kernel::content::{BodyFormat, markdown_literal, render_body, sanitize_html};
use zhanqun_domain::disclosure::{check_credit_code, check_org_code, parse_document_number};
use zhanqun_domain::site::{check_icp_filing, check_psb_filing, check_site_code, normalize_hostname};

fn budget() -> Duration {
    let s = std::env::var("ZHANQUN_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(s.max(0.1))
}

/// Runs `property` on values of `strategy` until the budget is spent; a failure is shrunk
/// and reported with the smallest input found.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let end = Instant::now() + budget();
    let mut rounds = 0u32;
    while Instant::now() < end {
        let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
        if let Err(e) = runner.run(&strategy, &property) {
            panic!("fuzz target {name}: {e}");
        }
        rounds += 1;
    }
    eprintln!("fuzz target {name}: {} cases", u64::from(rounds) * 256);
}

/// Text an attacker would try: markup, handlers, script URLs, entities, control characters,
/// CJK and plain noise, in any order.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<script>alert(1)</script>".to_string()),
        Just("<scr<script>ipt>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("<a href=\"javascript:alert(1)\">".to_string()),
        Just("<a href=\"JaVaScRiPt:alert(1)\">".to_string()),
        Just("<a href=\"java\tscript:x\">".to_string()),
        Just("<svg onload=alert(1)>".to_string()),
        Just("<iframe src=//evil>".to_string()),
        Just("<style>body{}</style>".to_string()),
        Just("<p style=\"x:expression(1)\">".to_string()),
        Just("\" onmouseover=\"x".to_string()),
        Just("&lt;script&gt;".to_string()),
        Just("&#106;avascript:".to_string()),
        Just("[链接](javascript:alert(1))".to_string()),
        Just("![图](https://evil.example/x.png)".to_string()),
        Just("<https://evil.example>".to_string()),
        Just("**粗体** _斜_ `代码`".to_string()),
        Just("\n\n# 标题\n".to_string()),
        Just("| a | b |\n|---|---|\n| 1 | 2 |\n".to_string()),
        Just("```\ncode\n```".to_string()),
        Just("<!-- x -->".to_string()),
        Just("</p></div></body>".to_string()),
        Just("政府网站".to_string()),
        any::<char>().prop_map(String::from),
        proptest::collection::vec(any::<char>(), 0..12).prop_map(|v| v.into_iter().collect()),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// The tags of serialised HTML (text's `<` is always `&lt;` there): each tag's name and its
/// attributes, read with quoted values kept whole.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let mut quoted = false;
        let end = after.char_indices().find(|&(_, c)| {
            if c == '"' {
                quoted = !quoted;
            }
            c == '>' && !quoted
        });
        let Some((end, _)) = end else { break };
        let inner = &after[..end];
        rest = &after[end + 1..];
        let inner = inner.trim_start_matches('/');
        let (name, mut attrs_text) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        let mut attrs = Vec::new();
        while let Some(eq) = attrs_text.find('=') {
            let key = attrs_text[..eq].trim().to_lowercase();
            let value_text = attrs_text[eq + 1..].trim_start();
            let (value, next) = match value_text.strip_prefix('"') {
                Some(v) => v.split_once('"').unwrap_or((v, "")),
                None => value_text.split_once(char::is_whitespace).unwrap_or((value_text, "")),
            };
            attrs.push((key, value.to_string()));
            attrs_text = next;
        }
        out.push((name.to_lowercase(), attrs));
    }
    out
}

/// What must never be in sanitised HTML: tags that run or embed, handlers, script URLs.
fn runs_nothing(html: &str) -> Result<(), TestCaseError> {
    for (name, attrs) in tags(html) {
        prop_assert!(
            !["script", "iframe", "svg", "style", "object", "embed", "form", "math"].contains(&name.as_str()),
            "<{name}> survived in {html:?}"
        );
        for (key, value) in attrs {
            prop_assert!(!key.starts_with("on"), "handler {key} survived in {html:?}");
            let v: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            prop_assert!(!v.to_lowercase().starts_with("javascript:"), "{key}={value:?} survived in {html:?}");
        }
    }
    Ok(())
}

#[test]
fn the_sanitiser_lets_nothing_run_and_is_stable() {
    fuzz("sanitize_html", hostile_text(), |s| {
        let once = sanitize_html(&s);
        runs_nothing(&once)?;
        prop_assert_eq!(sanitize_html(&once), once.clone(), "sanitising twice changes nothing");
        Ok(())
    });
}

#[test]
fn rendered_bodies_let_nothing_run() {
    fuzz("render_body", (hostile_text(), any::<bool>()), |(s, html)| {
        let out = render_body(if html { BodyFormat::Html } else { BodyFormat::Markdown }, &s);
        runs_nothing(&out)
    });
}

#[test]
fn public_text_in_markdown_is_only_text() {
    fuzz("markdown_literal", hostile_text(), |s| {
        let out = render_body(BodyFormat::Markdown, &markdown_literal(&s));
        for tag in ["<a ", "<img", "<strong", "<em>", "<h1", "<h2", "<ol", "<ul", "<table", "<code", "<pre", "<hr"] {
            prop_assert!(!out.contains(tag), "{tag:?} from {s:?}: {out:?}");
        }
        Ok(())
    });
}

/// A CSV-ish or XLSX-ish file: cells, quotes, separators and line ends in any mix, written
/// as UTF-8, UTF-8 with BOM, GBK or raw bytes.
fn table_file() -> impl Strategy<Value = (Vec<u8>, &'static str)> {
    let cell = prop_oneof![
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just(",".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("渠道,主题,内容,姓名,联系方式,收到日期".to_string()),
        Just("=HYPERLINK(\"x\")".to_string()),
        Just("2026-13-45".to_string()),
        hostile_text(),
    ];
    let text = proptest::collection::vec(cell, 0..30).prop_map(|v| v.concat());
    prop_oneof![
        text.clone().prop_map(|t| (t.into_bytes(), "csv")),
        text.clone().prop_map(|t| ([&[0xEF, 0xBB, 0xBF][..], t.as_bytes()].concat(), "csv")),
        text.prop_map(|t| (encoding_rs::GBK.encode(&t).0.into_owned(), "csv")),
        proptest::collection::vec(any::<u8>(), 0..2048).prop_map(|b| (b, "csv")),
        proptest::collection::vec(any::<u8>(), 0..2048).prop_map(|b| ([&b"PK\x03\x04"[..], &b[..]].concat(), "xlsx")),
    ]
}

#[test]
fn the_import_parser_refuses_or_reads_but_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    fuzz("read_table", table_file(), |(bytes, ext)| {
        let path = dir.path().join(format!("input.{ext}"));
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(t) = zhanqun::mailbox::import::read_table(&path) {
            prop_assert!(t.header.iter().all(|h| !h.starts_with('\u{feff}')), "the BOM is not part of a header");
        }
        Ok(())
    });
}

/// Strings near the shape of a code: digits, letters, the filing prefixes, separators.
fn code_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("鲁ICP备".to_string()),
        Just("鲁公网安备".to_string()),
        Just("号".to_string()),
        Just("-".to_string()),
        Just("〔2026〕".to_string()),
        Just("青政办发".to_string()),
        Just("www.".to_string()),
        Just(".gov.cn".to_string()),
        Just("xn--".to_string()),
        Just(" ".to_string()),
        (0u32..10).prop_map(|d| d.to_string()),
        proptest::char::range('A', 'Z').prop_map(String::from),
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

#[test]
fn code_validators_accept_only_what_they_accept_again() {
    fuzz("validators", code_like(), |s| {
        type Check = fn(&str, &str) -> Result<(), zhanqun_domain::validate::FieldError>;
        let checks: [(&str, Check); 5] = [
            ("site_code", check_site_code),
            ("icp", check_icp_filing),
            ("psb", check_psb_filing),
            ("credit", check_credit_code),
            ("org", check_org_code),
        ];
        for (name, check) in checks {
            if let Err(e) = check(name, &s) {
                prop_assert_eq!(e.field.as_str(), name, "the error names its field");
                prop_assert!(!e.message.is_empty(), "a message a person reads");
            }
        }
        if let Ok(h) = normalize_hostname("host", &s) {
            prop_assert_eq!(normalize_hostname("host", &h).ok(), Some(h.clone()), "normalising twice changes nothing");
            prop_assert!(
                h.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
                "{h:?}"
            );
        }
        if let Ok((word, year, seq)) = parse_document_number("n", &s) {
            prop_assert!(!word.is_empty() && (1949..=2100).contains(&year) && seq > 0, "{s:?} → {word} {year} {seq}");
        }
        Ok(())
    });
}
