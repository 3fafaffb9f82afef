//! Government information disclosure (R3.2): the codes and numbers a disclosed item carries.

use crate::validate::FieldError;

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// 统一社会信用代码 (GB 32100): 18 characters, the last a check character.
pub fn check_credit_code(field: &str, code: &str) -> Result<(), FieldError> {
    let err = |why: &str| FieldError::new(field, "credit_code", format!("统一社会信用代码「{code}」无效：{why}"));
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(err("应为 18 位"));
    }
    let mut sum = 0;
    for (c, w) in chars[..17].iter().zip(USCC_WEIGHTS) {
        let v = USCC_CHARS
            .find(*c)
            .ok_or_else(|| err(&format!("含有不允许的字符「{c}」（不使用 I、O、Z、S、V 和小写字母）")))?;
        sum += v as u32 * w;
    }
    let expected = USCC_CHARS.chars().nth(((31 - sum % 31) % 31) as usize).unwrap_or('0');
    if chars[17] == expected { Ok(()) } else { Err(err("校验位不符，请核对")) }
}

/// 组织机构代码 (GB 11714): eight characters and a check character (digit or X).
pub fn check_org_code(field: &str, code: &str) -> Result<(), FieldError> {
    let err = |why: &str| FieldError::new(field, "org_code", format!("组织机构代码「{code}」无效：{why}"));
    let c: Vec<char> = code.chars().filter(|c| *c != '-').collect();
    if c.len() != 9 {
        return Err(err("应为 9 位（可写作 XXXXXXXX-X）"));
    }
    let mut sum = 0;
    for (ch, w) in c[..8].iter().zip([3u32, 7, 9, 10, 5, 8, 4, 2]) {
        let v = ch
            .to_digit(36)
            .filter(|_| ch.is_ascii_digit() || ch.is_ascii_uppercase())
            .ok_or_else(|| err("只能包含数字和大写字母"))?;
        sum += v * w;
    }
    let expected = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    };
    if c[8] == expected { Ok(()) } else { Err(err("校验位不符，请核对")) }
}

/// 发文字号: issuing-body abbreviation, the year in hexagonal brackets 〔〕, a number and 号,
/// e.g. `青政办发〔2015〕12号`. Returns (abbreviation, year, number).
pub fn parse_document_number(field: &str, s: &str) -> Result<(String, i32, u32), FieldError> {
    let s = s.trim();
    let example = "例如 青政办发〔2015〕12号";
    for (open, close, name) in [
        ('[', ']', "方括号 [ ]"),
        ('【', '】', "方头括号【】"),
        ('(', ')', "圆括号 ( )"),
        ('（', '）', "圆括号（）"),
        ('［', '］', "全角方括号［］"),
    ] {
        if s.contains(open) || s.contains(close) {
            return Err(FieldError::new(
                field,
                "document_number_brackets",
                format!("发文字号的年份须用六角括号〔〕，不能用{name}，{example}"),
            ));
        }
    }
    let err =
        |why: &str| FieldError::new(field, "document_number", format!("发文字号「{s}」格式不对：{why}，{example}"));
    let (abbr, rest) = s.split_once('〔').ok_or_else(|| err("缺少年份和六角括号〔〕"))?;
    let (year, rest) = rest.split_once('〕').ok_or_else(|| err("六角括号〔〕不完整"))?;
    let number = rest.strip_suffix('号').ok_or_else(|| err("应以「号」结尾"))?;
    if abbr.trim().is_empty() {
        return Err(err("缺少机关代字"));
    }
    let year: i32 = year.parse().ok().filter(|y| (1949..=2100).contains(y)).ok_or_else(|| err("年份应为四位数字"))?;
    let number: u32 =
        number.parse().ok().filter(|n| *n > 0).ok_or_else(|| err("序号应为正整数，不加「第」字和前导零"))?;
    if rest.starts_with('0') {
        return Err(err("序号不加前导零"));
    }
    Ok((abbr.trim().to_string(), year, number))
}

/// The national default index-number scheme.
pub const DEFAULT_INDEX_SCHEME: &str = "{code}/{yyyy}-{nnnnn}";

/// Checks a body's index-number scheme: `{code}` (the body's code), `{yyyy}` (the year, which
/// must be there: sequences restart each year) and one sequence `{nnn}` … `{nnnnnnnn}` (its
/// width, zero-padded); anything else is literal text of at most 40 characters.
pub fn check_index_scheme(field: &str, scheme: &str) -> Result<(), FieldError> {
    let err = |why: &str| {
        FieldError::new(
            field,
            "index_scheme",
            format!("索引号规则「{scheme}」无效：{why}，例如 {DEFAULT_INDEX_SCHEME}"),
        )
    };
    if scheme.chars().count() > 40 || scheme.trim().is_empty() {
        return Err(err("长度应为 1 到 40 个字符"));
    }
    let mut years = 0;
    let mut seqs = 0;
    let mut rest = scheme;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| err("花括号不成对"))? + open;
        match &rest[open + 1..close] {
            "code" => {}
            "yyyy" => years += 1,
            n if (3..=8).contains(&n.len()) && n.bytes().all(|b| b == b'n') => seqs += 1,
            other => return Err(err(&format!("不认识的占位符 {{{other}}}"))),
        }
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(err("花括号不成对"));
    }
    if years != 1 || seqs != 1 {
        return Err(err("须恰好包含一个 {yyyy} 和一个流水号 {nnnnn}（3 到 8 位）"));
    }
    Ok(())
}

/// 索引号 by a body's scheme (checked with [`check_index_scheme`]); the sequence is per body
/// and year.
pub fn index_number_by(scheme: &str, body_code: &str, year: i32, seq: u32) -> String {
    let mut out = String::new();
    let mut rest = scheme;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| c + open) else { break };
        match &rest[open + 1..close] {
            "code" => out.push_str(body_code),
            "yyyy" => out.push_str(&format!("{year:04}")),
            n => out.push_str(&format!("{seq:0width$}", width = n.len())),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// 索引号 by the national default: `{body code}/{yyyy}-{nnnnn}`.
pub fn index_number(body_code: &str, year: i32, seq: u32) -> String {
    index_number_by(DEFAULT_INDEX_SCHEME, body_code, year, seq)
}

/// Kinds of disclosed document.
pub const DOC_TYPES: &[(&str, &str)] = &[
    ("policy", "政策文件"),
    ("normative", "规范性文件"),
    ("notice", "通知公告"),
    ("interpretation", "政策解读"),
    ("response", "回应关切"),
    ("guide", "政府信息公开指南"),
    ("annual_report", "政府信息公开工作年度报告"),
    ("general", "其他"),
];

/// Validity of a document, with the Chinese label.
pub const VALIDITY: &[(&str, &str)] =
    &[("valid", "有效"), ("expired", "失效"), ("repealed", "废止"), ("amended", "已修改")];

/// Disclosure modes.
pub const MODES: &[(&str, &str)] = &[("proactive", "主动公开"), ("on_request", "依申请公开"), ("withheld", "不予公开")];

/// The national default subject categories (主题分类), two levels, after the State Council's
/// subject list for government documents. Each city can change the list (it lives in the
/// database); this is what a new installation starts with.
pub const DEFAULT_SUBJECTS: &[(&str, &[&str])] = &[
    ("综合政务", &["应急管理", "电子政务", "政务公开", "政务督查", "信访", "其他"]),
    ("国民经济管理、国有资产监管", &["发展规划", "经济运行", "国有资产监管", "其他"]),
    ("财政、金融、审计", &["财政", "税务", "金融", "审计", "其他"]),
    ("国土资源、能源", &["土地", "矿产", "能源", "其他"]),
    ("农业、林业、水利", &["农业、畜牧业、渔业", "林业", "水利", "其他"]),
    ("工业、交通", &["工业", "交通", "信息产业", "其他"]),
    ("商贸、海关、旅游", &["商贸", "海关", "旅游", "其他"]),
    ("市场监管、安全生产监管", &["市场监管", "食品药品监管", "安全生产监管", "其他"]),
    ("城乡建设、环境保护", &["城乡建设", "住房保障", "环境保护", "其他"]),
    ("科技、教育", &["科技", "教育", "其他"]),
    ("文化、广电、新闻出版", &["文化", "广播影视", "新闻出版", "其他"]),
    ("卫生、体育", &["卫生", "体育", "其他"]),
    ("人口与计划生育、妇女儿童工作", &["人口与计划生育", "妇女儿童", "其他"]),
    ("劳动、人事、监察", &["劳动就业", "社会保障", "人事工作", "其他"]),
    ("公安、安全、司法", &["公安", "司法", "其他"]),
    ("民政、扶贫、救灾", &["民政", "扶贫", "救灾", "其他"]),
    ("民族、宗教", &[]),
    ("对外事务", &[]),
    ("港澳台侨工作", &[]),
    ("国防", &[]),
    ("其他", &[]),
];

/// 体裁: the kinds of official document (党政机关公文处理工作条例, art. 8) and the usual
/// web genres.
pub const GENRES: &[&str] = &[
    "决议",
    "决定",
    "命令（令）",
    "公报",
    "公告",
    "通告",
    "意见",
    "通知",
    "通报",
    "报告",
    "请示",
    "批复",
    "议案",
    "函",
    "纪要",
    "办法",
    "规定",
    "规划",
    "方案",
    "其他",
];

/// A subject category name: the list's own separator and LIKE's wildcards are not allowed.
pub fn check_subject_name(field: &str, name: &str) -> Result<(), FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 40 {
        return Err(FieldError::new(field, "length", "分类名称应为 1 到 40 个字"));
    }
    if n.contains(['/', '%', '_', '\\']) {
        return Err(FieldError::new(field, "chars", "分类名称不能包含 / % _ \\ 字符"));
    }
    Ok(())
}

pub fn label_of(table: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_are_checked_by_their_check_character() {
        for ok in ["91350100M000100Y43", "91440300708461136T"] {
            assert!(check_credit_code("c", ok).is_ok(), "{ok}");
        }
        assert!(check_credit_code("c", "91350100M000100Y44").unwrap_err().message.contains("校验位"));
        assert!(check_credit_code("c", "91350100M000100Y4").unwrap_err().message.contains("18 位"));
        assert!(check_credit_code("c", "9135O100M000100Y43").unwrap_err().message.contains("不允许的字符"));
    }

    #[test]
    fn organisation_codes() {
        assert!(check_org_code("o", "708461136").is_ok());
        assert!(check_org_code("o", "70846113-6").is_ok());
        assert!(check_org_code("o", "708461137").is_err());
        assert!(check_org_code("o", "7084611").is_err());
    }

    #[test]
    fn document_numbers_need_hexagonal_brackets() {
        assert_eq!(parse_document_number("n", "青政办发〔2015〕12号").unwrap(), ("青政办发".into(), 2015, 12));
        for (bad, rule) in [
            ("青政办发[2015]12号", "document_number_brackets"),
            ("青政办发【2015】12号", "document_number_brackets"),
            ("青政办发（2015）12号", "document_number_brackets"),
            ("青政办发2015年12号", "document_number"),
            ("青政办发〔15〕12号", "document_number"),
            ("青政办发〔2015〕第12号", "document_number"),
            ("青政办发〔2015〕012号", "document_number"),
            ("青政办发〔2015〕12", "document_number"),
            ("〔2015〕12号", "document_number"),
        ] {
            assert_eq!(parse_document_number("n", bad).unwrap_err().rule, rule, "{bad}");
        }
    }

    #[test]
    fn index_numbers() {
        assert_eq!(index_number("11370200MB1234567X", 2026, 7), "11370200MB1234567X/2026-00007");
        assert_eq!(index_number_by("QD-{code}-{yyyy}-{nnnnnn}", "ABC", 2026, 42), "QD-ABC-2026-000042");
        assert!(check_index_scheme("s", "QD-{code}-{yyyy}-{nnnnnn}").is_ok());
        for bad in [
            "{code}/{nnnnn}",
            "{code}/{yyyy}",
            "{code}/{yyyy}-{nn}",
            "{code}/{yyyy}-{nnnnn",
            "{x}/{yyyy}-{nnnnn}",
            "{yyyy}{yyyy}-{nnnnn}",
            "",
        ] {
            assert_eq!(check_index_scheme("s", bad).unwrap_err().rule, "index_scheme", "{bad}");
        }
    }
}
