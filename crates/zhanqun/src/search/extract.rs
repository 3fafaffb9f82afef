//! The text of attachments, for the index: plain text (UTF-8 or GBK) and DOCX (the
//! paragraphs of `word/document.xml`). Other kinds (PDF, images, spreadsheets) are found by
//! their file name only. At most [`MAX_CHARS`] characters of one file are kept.

use std::io::Read;

/// Characters kept of one attachment's text.
pub const MAX_CHARS: usize = 100_000;
/// Larger files are not read (their name is still indexed).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The text of a file of `media_type`, when it is a kind that can be read.
pub fn text_of(media_type: &str, bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    let text = match media_type {
        "text/plain" | "text/csv" => plain(bytes),
        DOCX => docx(bytes)?,
        _ => return None,
    };
    Some(text.chars().take(MAX_CHARS).collect())
}

fn plain(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

/// The words of a DOCX, a paragraph a line; None when it is not a readable DOCX.
fn docx(bytes: &[u8]) -> Option<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut xml = String::new();
    let part = zip.by_name("word/document.xml").ok()?;
    // A zip bomb stops at the limit.
    part.take(MAX_BYTES as u64 * 4).read_to_string(&mut xml).ok()?;
    // The text runs (`<w:t>…</w:t>`, `<w:t xml:space="preserve">…`), a line per paragraph.
    let mut out = String::new();
    let mut rest = xml.as_str();
    while let Some(open) = rest.find('<') {
        let tag_end = rest[open..].find('>')? + open;
        let tag = &rest[open + 1..tag_end];
        rest = &rest[tag_end + 1..];
        if tag == "w:t" || tag.starts_with("w:t ") {
            let close = rest.find("</w:t>")?;
            unescape_into(&rest[..close], &mut out);
            rest = &rest[close + 6..];
        } else if tag == "/w:p" {
            out.push('\n');
        }
        if out.len() > MAX_CHARS * 4 {
            break;
        }
    }
    Some(out)
}

/// XML's five entities and character references, as text.
fn unescape_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let Some(semi) = rest[amp..].find(';').map(|i| i + amp) else { break };
        let entity = &rest[amp + 1..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[amp..=semi]),
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DOCX as Word writes the part that holds the text.
    pub fn docx_with(paragraphs: &[&str]) -> Vec<u8> {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("[Content_Types].xml", o).unwrap();
        z.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
        z.start_file("word/document.xml", o).unwrap();
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"))
            .collect();
        write!(z, "<?xml version=\"1.0\"?><w:document xmlns:w=\"x\"><w:body>{body}</w:body></w:document>").unwrap();
        z.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn reads_docx_and_plain_text() {
        let t = text_of(DOCX, &docx_with(&["第一条 适龄儿童", "第二条 入学登记 &amp; 转学"])).unwrap();
        assert_eq!(t, "第一条 适龄儿童\n第二条 入学登记 & 转学\n");
        assert!(text_of(DOCX, b"not a zip").is_none());
        let (gbk, _, _) = encoding_rs::GBK.encode("招生简章");
        assert_eq!(text_of("text/plain", &gbk).unwrap(), "招生简章");
        assert_eq!(text_of("text/plain", "\u{feff}公告".as_bytes()).unwrap(), "公告");
        assert!(text_of("image/png", b"\x89PNG").is_none());
    }
}
