//! Document bodies and attachments: Markdown or HTML in, sanitised HTML out; files
//! accepted by what their bytes are, not by what their names say.

use crate::kernel::error::AppError;

/// How a body was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub fn parse(s: &str) -> Result<BodyFormat, AppError> {
        match s {
            "markdown" => Ok(BodyFormat::Markdown),
            "html" => Ok(BodyFormat::Html),
            other => {
                Err(AppError::field("body_format", "one_of", format!("正文格式「{other}」无效，应为 markdown 或 html")))
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }
}

/// Text for XML or HTML, in content or in a quoted attribute (characters XML does not
/// allow at all are dropped).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders a body to HTML that is safe to put on a public page: no script, no event
/// handler, no `javascript:` URL, links to other sites marked `noopener noreferrer`.
pub fn render_body(format: BodyFormat, source: &str) -> String {
    let html = match format {
        BodyFormat::Html => source.to_string(),
        BodyFormat::Markdown => {
            use pulldown_cmark::{Options, Parser, html};
            let mut opts = Options::empty();
            opts.insert(Options::ENABLE_TABLES);
            opts.insert(Options::ENABLE_STRIKETHROUGH);
            let mut out = String::with_capacity(source.len() * 2);
            html::push_html(&mut out, Parser::new_ext(source, opts));
            out
        }
    };
    sanitize_html(&html)
}

/// Public text (a citizen's question, a name) put into Markdown as it is: every character
/// Markdown or HTML would read as markup is escaped, so `[链接](…)`, `![图](…)`, `<a>` and
/// `**` show as written; line breaks stay line breaks.
pub fn markdown_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    // CommonMark ends a line at `\n`, `\r` or `\r\n`; a lone `\r` left inside a line would
    // start a new one there, and one indented by a tab after a blank line is a code block
    // (found by the fuzz target).
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            // A backslash at the end of a line is a hard line break in CommonMark.
            out.push_str("\\\n");
        }
        for ch in line.trim().chars() {
            if ch.is_ascii_punctuation() {
                out.push('\\');
            }
            out.push(ch);
        }
    }
    out
}

/// Cleans untrusted HTML with an allow-list.
pub fn sanitize_html(html: &str) -> String {
    let clean = ammonia::Builder::default().link_rel(Some("noopener noreferrer")).clean(html).to_string();
    // A byte-order mark left at the start (when what came before it was removed) would be
    // dropped by the next parse: without it, cleaning what is clean changes nothing (found by
    // the fuzz target).
    match clean.strip_prefix('\u{feff}') {
        Some(rest) => rest.trim_start_matches('\u{feff}').to_string(),
        None => clean,
    }
}

/// Kinds of file an attachment may be, by extension, with what the bytes must turn out to be.
const ALLOWED: &[(&str, &[&str])] = &[
    ("pdf", &["application/pdf"]),
    ("png", &["image/png"]),
    ("jpg", &["image/jpeg"]),
    ("jpeg", &["image/jpeg"]),
    ("gif", &["image/gif"]),
    ("webp", &["image/webp"]),
    ("docx", &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"]),
    ("xlsx", &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]),
    ("pptx", &["application/vnd.openxmlformats-officedocument.presentationml.presentation"]),
    ("doc", &[OLE]),
    ("xls", &[OLE]),
    ("ppt", &[OLE]),
    ("wps", &[OLE]),
    ("et", &[OLE]),
    ("ofd", &["application/zip"]),
    ("zip", &["application/zip"]),
    ("mp4", &["video/mp4"]),
    ("mp3", &["audio/mpeg"]),
    ("txt", &[TEXT]),
    ("csv", &[TEXT]),
];

/// Compound-file (OLE2) documents: legacy Word, Excel, PowerPoint and WPS files.
const OLE: &str = "application/x-ole-storage";
const TEXT: &str = "text/plain";

/// An attachment that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    pub file_name: String,
    pub media_type: String,
}

/// Checks an upload: size, a safe file name, an allowed extension, and bytes that are
/// really of that kind. A renamed program or a picture called `.pdf` is refused.
pub fn check_attachment(file_name: &str, bytes: &[u8], max_bytes: usize) -> Result<CheckedFile, AppError> {
    if bytes.len() > max_bytes {
        return Err(AppError::TooLarge(format!(
            "附件过大：{:.1} MB，上限 {} MB",
            bytes.len() as f64 / 1048576.0,
            max_bytes / 1048576
        )));
    }
    if bytes.is_empty() {
        return Err(AppError::field("file", "not_empty", "附件是空文件"));
    }
    let name = clean_file_name(file_name)?;
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let allowed_names: Vec<&str> = ALLOWED.iter().map(|(e, _)| *e).collect();
    let Some((_, expected)) = ALLOWED.iter().find(|(e, _)| *e == ext) else {
        return Err(AppError::field(
            "file",
            "file_type",
            format!("不允许上传「.{ext}」类型的附件；允许的类型：{}", allowed_names.join("、")),
        ));
    };
    let detected = sniff(bytes);
    if detected.as_deref().is_some_and(is_executable) {
        return Err(AppError::field("file", "file_content", "附件内容是可执行程序，不能上传"));
    }
    let actual = detected.unwrap_or_else(|| if looks_like_text(bytes) { TEXT.to_string() } else { String::new() });
    if !expected.contains(&actual.as_str()) {
        let seen = if actual.is_empty() { "无法识别".to_string() } else { format!("是 {actual}") };
        return Err(AppError::field(
            "file",
            "file_content",
            format!("附件扩展名为 .{ext}，但文件内容{seen}，与扩展名不符"),
        ));
    }
    let media_type = match (actual.as_str(), ext.as_str()) {
        (TEXT, "csv") => "text/csv; charset=utf-8".to_string(),
        (TEXT, _) => "text/plain; charset=utf-8".to_string(),
        (OLE, "doc" | "wps") => "application/msword".to_string(),
        (OLE, "xls" | "et") => "application/vnd.ms-excel".to_string(),
        (OLE, _) => "application/vnd.ms-powerpoint".to_string(),
        ("application/zip", "ofd") => "application/ofd".to_string(),
        _ => actual,
    };
    Ok(CheckedFile { file_name: name, media_type })
}

fn sniff(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(OLE.to_string());
    }
    infer::get(bytes).map(|t| t.mime_type().to_string())
}

fn is_executable(mime: &str) -> bool {
    matches!(
        mime,
        "application/x-executable"
            | "application/vnd.microsoft.portable-executable"
            | "application/x-mach-binary"
            | "application/x-msdownload"
            | "application/vnd.android.package-archive"
            | "application/x-shockwave-flash"
    )
}

fn looks_like_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

/// The last path component, without control characters, at most 200 characters.
fn clean_file_name(raw: &str) -> Result<String, AppError> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim().trim_start_matches('.').to_string();
    if name.is_empty() {
        return Err(AppError::field("file", "file_name", "附件需要文件名"));
    }
    if name.chars().count() > 200 {
        return Err(AppError::field("file", "file_name", "附件文件名不能超过 200 个字符"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_for_markup() {
        assert_eq!(xml_escape("A&B <c> \"d\" 'e'\u{1}"), "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;");
    }

    #[test]
    fn script_handlers_and_javascript_urls_do_not_survive() {
        let dirty = r#"<p onclick="steal()">正文<script>alert(1)</script><a href="javascript:alert(2)">链接</a><img src="x.png" onerror="x()"></p>"#;
        for f in [BodyFormat::Html, BodyFormat::Markdown] {
            let clean = render_body(f, dirty);
            assert!(!clean.contains("<script"), "{clean}");
            assert!(!clean.contains("onclick"), "{clean}");
            assert!(!clean.contains("onerror"), "{clean}");
            assert!(!clean.contains("javascript:"), "{clean}");
            assert!(clean.contains("正文"), "{clean}");
        }
    }

    #[test]
    fn public_text_in_markdown_stays_text() {
        let q =
            "看 [官网](https://evil.example) ![x](https://evil.example/t.png) <a href=x>y</a> **粗**\n# 标题\n1. 列表";
        let html = render_body(BodyFormat::Markdown, &markdown_literal(q));
        assert!(!html.contains("<a") && !html.contains("<img") && !html.contains("<strong>"), "{html}");
        assert!(!html.contains("<h1>") && !html.contains("<ol>"), "{html}");
        assert!(html.contains("[官网](https://evil.example)"), "{html}");
        assert!(html.contains("&lt;a href=x&gt;y&lt;/a&gt;"), "{html}");
        assert!(html.contains("<br>"), "line breaks kept: {html}");
        // A carriage return alone ends a line too: what follows it is still only text.
        let html = render_body(BodyFormat::Markdown, &markdown_literal("¡\r\r\t<script>alert(1)</script>"));
        assert!(!html.contains("<code") && !html.contains("<pre"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    }

    #[test]
    fn markdown_becomes_html() {
        let html = render_body(BodyFormat::Markdown, "# 标题\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>标题</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];

    #[test]
    fn files_are_checked_by_content() {
        assert_eq!(check_attachment("图.png", PNG, 1000).unwrap().media_type, "image/png");
        let e = check_attachment("通知.pdf", PNG, 1000).unwrap_err();
        assert!(e.to_string().contains("与扩展名不符"), "{e}");
        let elf = [&b"\x7fELF\x02\x01\x01\x00"[..], &[0u8; 56][..]].concat();
        let e = check_attachment("通知.pdf", &elf, 1000).unwrap_err();
        assert!(e.to_string().contains("可执行程序"), "{e}");
        assert!(check_attachment("run.exe", b"MZ", 1000).is_err());
        assert!(check_attachment("说明.txt", "第一行\n".as_bytes(), 1000).is_ok());
        assert!(matches!(check_attachment("big.txt", &[b'a'; 11], 10), Err(AppError::TooLarge(_))));
        assert_eq!(check_attachment("../../etc/说明.txt", b"x", 10).unwrap().file_name, "说明.txt");
        assert!(check_attachment("a.pdf", b"%PDF-1.7\n", 100).is_ok());
    }
}
