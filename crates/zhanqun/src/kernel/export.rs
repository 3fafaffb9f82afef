//! Spreadsheets for download (CSV in UTF-8 with a byte-order mark, which Excel and WPS
//! open as UTF-8). Every cell is neutralised against formula injection: text that a
//! spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, or a leading tab or
//! carriage return) gets a leading apostrophe, so it shows as the text it is.

use std::borrow::Cow;

use super::{AppError, AppResult};

/// `cell` as a spreadsheet shows it, never as a formula.
pub fn cell(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV file being written, row by row, each cell through [`cell`].
pub struct Csv {
    w: csv::Writer<Vec<u8>>,
}

impl Default for Csv {
    fn default() -> Self {
        Csv { w: csv::Writer::from_writer(Vec::new()) }
    }
}

impl Csv {
    pub fn row<I, S>(&mut self, cells: I) -> AppResult<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells.into_iter().map(|c| cell(c.as_ref()).into_owned()).collect();
        self.w.write_record(&cells).map_err(|e| AppError::Internal(e.into()))
    }

    /// The file's text, with the byte-order mark.
    pub fn finish(self) -> AppResult<String> {
        let bytes = self.w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))?;
        Ok(format!("\u{feff}{text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_as_text() {
        for (raw, shown) in [
            ("=HYPERLINK(\"http://evil.example\",\"点击\")", "'=HYPERLINK(\"http://evil.example\",\"点击\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("关于=的说明", "关于=的说明"),
            ("青政办发〔2015〕12号", "青政办发〔2015〕12号"),
            ("", ""),
        ] {
            assert_eq!(cell(raw), shown, "{raw:?}");
        }
        let mut c = Csv::default();
        c.row(["名称", "内容"]).unwrap();
        c.row(["=1+1", "正常"]).unwrap();
        assert_eq!(c.finish().unwrap(), "\u{feff}名称,内容\n'=1+1,正常\n");
    }
}
