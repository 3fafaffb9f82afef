//! The national inspection of government websites (政府网站检查指标, 国办秘函〔2019〕19号)
//! as pure rules: the dates a page shows, robots.txt, the kind of a column by its name, the
//! single-veto thresholds and the 100-point scoring with its per-indicator caps.
//!
//! The monitor (`zhanqun::monitor`) fetches and parses pages; everything it decides from
//! what it found is decided here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

/// A date shown on a page, with its time of day when the page gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShownDate {
    pub date: Date,
    /// Minutes after midnight, when shown.
    pub minutes: Option<u16>,
}

/// Every date in `text` in the forms Chinese government sites show them: `2024-05-06`,
/// `2024/5/6`, `2024.05.06`, `2024年5月6日`, optionally followed by `HH:MM`. Years before
/// 1990 or after 2099 are not dates (they are document numbers, phone numbers…).
pub fn dates_in(text: &str) -> Vec<ShownDate> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= chars.len() {
        // A year starts at a digit not preceded by a digit.
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        match date_at(&chars, i) {
            Some((d, next)) => {
                out.push(d);
                i = next;
            }
            None => i += 1,
        }
    }
    out
}

fn digits(chars: &[char], at: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut n = 0u32;
    let mut k = 0;
    while k < max && at + k < chars.len() && chars[at + k].is_ascii_digit() {
        n = n * 10 + chars[at + k].to_digit(10).unwrap_or(0);
        k += 1;
    }
    if k < min || (at + k < chars.len() && chars[at + k].is_ascii_digit()) {
        return None;
    }
    Some((n, at + k))
}

fn date_at(chars: &[char], i: usize) -> Option<(ShownDate, usize)> {
    let (year, p) = digits(chars, i, 4, 4)?;
    if !(1990..=2099).contains(&year) {
        return None;
    }
    let sep = *chars.get(p)?;
    let chinese = sep == '年';
    if !matches!(sep, '-' | '/' | '.' | '年') {
        return None;
    }
    let (month, p) = digits(chars, p + 1, 1, 2)?;
    let sep2 = *chars.get(p)?;
    if (chinese && sep2 != '月') || (!chinese && sep2 != sep) {
        return None;
    }
    let (day, mut p) = digits(chars, p + 1, 1, 2)?;
    if chinese {
        if chars.get(p) == Some(&'日') {
            p += 1;
        } else if chars.get(p) != Some(&'号') {
            return None;
        } else {
            p += 1;
        }
    }
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year as i32, month, u8::try_from(day).ok()?).ok()?;
    // A time of day: one space (or none, or a full-width one), then HH:MM.
    let mut q = p;
    while q < chars.len() && q < p + 2 && matches!(chars[q], ' ' | '\u{3000}' | 'T') {
        q += 1;
    }
    let mut minutes = None;
    if let Some((h, r)) = digits(chars, q, 1, 2)
        && matches!(chars.get(r), Some(':') | Some('：'))
        && let Some((m, r2)) = digits(chars, r + 1, 2, 2)
        && h < 24
        && m < 60
    {
        minutes = Some((h * 60 + m) as u16);
        p = r2;
        // Seconds, if shown, belong to the same time.
        if chars.get(p) == Some(&':')
            && let Some((_, r3)) = digits(chars, p + 1, 2, 2)
        {
            p = r3;
        }
    }
    Some((ShownDate { date, minutes }, p))
}

/// Whether a `PubDate` meta value has the form the national page rules ask for,
/// `YYYY-MM-DD HH:MM` (seconds allowed), and is a real date and time.
pub fn is_pubdate_format(v: &str) -> bool {
    let v = v.trim();
    let b = v.as_bytes();
    let shape = |n: usize| {
        b.len() == n
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b' ',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            })
    };
    if !(shape(16) || shape(19)) {
        return false;
    }
    matches!(dates_in(v).first(), Some(ShownDate { minutes: Some(_), .. }))
}

type Group = (Vec<String>, Vec<(bool, String)>);

/// robots.txt as the monitor obeys it: the group for its own user agent if there is one,
/// else the `*` group; the longest matching rule wins, Allow on a tie (RFC 9309).
#[derive(Debug, Clone, Default)]
pub struct Robots {
    rules: Vec<(bool, String)>,
}

impl Robots {
    pub fn parse(text: &str, agent: &str) -> Robots {
        let agent = agent.to_ascii_lowercase();
        // Each group: its user agents and its (allow, pattern) rules.
        let mut groups: Vec<Group> = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else { continue };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().to_string();
            match key.as_str() {
                "user-agent" => {
                    if !in_agents || groups.is_empty() {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    in_agents = true;
                    if let Some(g) = groups.last_mut() {
                        g.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut() {
                        // An empty Disallow allows everything: no rule.
                        if !value.is_empty() {
                            g.1.push((key == "allow", value));
                        }
                    }
                }
                _ => {}
            }
        }
        let mine = groups.iter().find(|(a, _)| a.iter().any(|a| a != "*" && agent.contains(a.as_str())));
        let any = groups.iter().find(|(a, _)| a.iter().any(|a| a == "*"));
        Robots { rules: mine.or(any).map(|g| g.1.clone()).unwrap_or_default() }
    }

    /// Whether the monitor may fetch `path` (with its query).
    pub fn allows(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if let Some(len) = robots_match(pattern, path) {
                let better = match best {
                    None => true,
                    Some((l, a)) => len > l || (len == l && *allow && !a),
                };
                if better {
                    best = Some((len, *allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// The length of `pattern` when it matches the start of `path` (`*` any run, `$` the end).
fn robots_match(pattern: &str, path: &str) -> Option<usize> {
    let (pat, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pat.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return None;
            }
            pos = part.len();
        } else {
            let found = path[pos..].find(part)?;
            pos += found + part.len();
        }
    }
    if anchored && pos != path.len() {
        // With a trailing `*` before `$` the rest may be anything.
        if !pat.ends_with('*') {
            return None;
        }
    }
    Some(pattern.len())
}

/// What a column is judged as, from its name when the monitor sees it from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// 动态、要闻、新闻: at most two weeks between updates.
    News,
    /// 通知公告、政策文件: at most six months.
    NoticePolicy,
    /// Any other column with dated items.
    Other,
}

impl ColumnKind {
    pub fn of_name(name: &str) -> ColumnKind {
        const NEWS: [&str; 5] = ["动态", "要闻", "新闻", "资讯", "快讯"];
        const NOTICE: [&str; 7] = ["通知", "公告", "公示", "政策", "文件", "法规", "规划"];
        if NEWS.iter().any(|w| name.contains(w)) {
            ColumnKind::News
        } else if NOTICE.iter().any(|w| name.contains(w)) {
            ColumnKind::NoticePolicy
        } else {
            ColumnKind::Other
        }
    }
}

/// The thresholds of the single-veto indicators, the national defaults unless configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Probes of the home page a day for a site checked daily.
    pub daily_probes: u32,
    /// Probes of a one-off check.
    pub oneoff_probes: u32,
    /// A probe fails when the home page does not load within this.
    pub probe_timeout_seconds: u64,
    /// Veto at this share of failed probes over `availability_days` (percent).
    pub unreachable_veto_percent: f64,
    pub unreachable_warn_percent: f64,
    pub availability_days: u32,
    /// Home page: no dated item within this many days is a veto.
    pub home_stale_days: i64,
    pub home_warn_days: i64,
    /// News columns older than this are stale.
    pub news_stale_days: i64,
    /// Notice and policy columns older than this are stale.
    pub notice_stale_days: i64,
    /// Stale columns (news + notice/policy) that make a veto.
    pub stale_columns_veto: usize,
    pub stale_columns_warn: usize,
    /// Columns that should be updated (by their duty) and are not.
    pub should_update_veto: usize,
    pub should_update_warn: usize,
    /// Columns empty since they were opened.
    pub blank_columns_veto: usize,
    pub blank_columns_warn: usize,
    /// A consultation of the past year unanswered this long is a veto.
    pub unanswered_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            daily_probes: 20,
            oneoff_probes: 3,
            probe_timeout_seconds: 15,
            unreachable_veto_percent: 5.0,
            unreachable_warn_percent: 3.0,
            availability_days: 7,
            home_stale_days: 14,
            home_warn_days: 10,
            news_stale_days: 14,
            notice_stale_days: 183,
            stale_columns_veto: 5,
            stale_columns_warn: 3,
            should_update_veto: 10,
            should_update_warn: 6,
            blank_columns_veto: 5,
            blank_columns_warn: 2,
            unanswered_days: 90,
        }
    }
}

/// The elements a service guide (办事指南) must show.
pub const SERVICE_GUIDE_ELEMENTS: [&str; 10] = [
    "事项名称",
    "设定依据",
    "申请条件",
    "办理材料",
    "办理地点",
    "办理机构",
    "收费标准",
    "办理时间",
    "联系电话",
    "办理流程",
];

/// The footer labels every government site carries.
pub const FOOTER_LABELS: [(&str, &[&str]); 5] = [
    ("网站标识码", &["网站标识码"]),
    ("ICP备案编号", &["ICP备", "ICP证"]),
    ("公安机关备案号", &["公网安备"]),
    ("主办单位", &["主办"]),
    ("我为政府网站找错", &["我为政府网站找错"]),
];

/// The checker's meta tags every page carries; articles carry the second set too.
pub const SITE_METAS: [&str; 3] = ["SiteName", "SiteDomain", "SiteIDCode"];
pub const ARTICLE_METAS: [&str; 3] = ["ArticleTitle", "PubDate", "ContentSource"];

/// Wrong official names and expressions the monitor looks for, until the office keeps
/// its own list: (wrong, right).
pub const SEEDED_WRONG_EXPRESSIONS: [(&str, &str); 12] = [
    ("国务院办公室", "国务院办公厅"),
    ("中共中央办公室", "中共中央办公厅"),
    ("全国人大常务委员会", "全国人大常委会"),
    ("全国政协常务委员会", "全国政协常委会"),
    ("一带一路战略", "“一带一路”倡议"),
    ("十四五计划", "“十四五”规划"),
    ("十三五计划", "“十三五”规划"),
    ("中华人民共和国宪法修正案草案", "宪法修正案"),
    ("两学一做教育", "“两学一做”学习教育"),
    ("依法治国战略", "全面依法治国"),
    ("党的十九大精神学习", "学习贯彻党的十九大精神"),
    ("台湾总统", "台湾地区领导人"),
];

/// Points and cap of one rule of the 100-point part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    /// Points deducted per finding.
    pub points: f64,
    /// At most this many points for the rule.
    pub cap: f64,
}

/// The rules of the 100-point part and their national default weights.
pub const DEFAULT_WEIGHTS: [(&str, f64, f64); 14] = [
    ("broken_link_home", 1.0, 5.0),
    ("broken_link", 0.2, 5.0),
    ("footer_missing", 1.0, 5.0),
    ("meta_missing", 0.5, 5.0),
    ("pubdate_format", 0.2, 3.0),
    ("undated_items", 0.1, 2.0),
    ("no_viewport", 3.0, 3.0),
    ("img_no_alt", 0.1, 3.0),
    ("no_lang", 1.0, 1.0),
    ("no_https", 2.0, 2.0),
    ("no_ipv6", 2.0, 2.0),
    ("page_weight", 1.0, 2.0),
    ("slow_home", 2.0, 2.0),
    // Sites of the cluster: an important policy left without an interpretation.
    ("interpretation_missing", 1.0, 5.0),
];

pub fn default_weights() -> BTreeMap<String, Weight> {
    DEFAULT_WEIGHTS.iter().map(|(r, p, c)| (r.to_string(), Weight { points: *p, cap: *c })).collect()
}

/// The most points the bonus part of a portal adds.
pub const BONUS_MAX: f64 = 30.0;

/// How a bonus indicator is earned from the pages alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BonusSign {
    /// A page of the site whose title holds one of the words, or a working link whose text
    /// does (the page of that kind exists and opens).
    Words(&'static [&'static str]),
    /// A search box on the home page whose results page answers.
    SearchBox,
}

/// The 30-point bonus part for portals (加分指标): where a portal does more than the
/// 100-point part asks — interpretation in many forms, answers to public concerns, online
/// processing, published replies, consultations with their results, interviews, a working
/// search, accessibility and the elderly mode. (indicator, label, national default points,
/// how it is earned.) The points are configuration (`[monitor.bonus]`); their sum is capped
/// at `BONUS_MAX`.
pub const BONUS: [(&str, &str, f64, BonusSign); 9] = [
    (
        "interpretation_forms",
        "解读形式多样",
        4.0,
        BonusSign::Words(&["图解", "一图读懂", "一图看懂", "视频解读", "动漫解读", "音频解读", "H5解读", "图表解读"]),
    ),
    (
        "leader_interpretation",
        "负责人解读",
        3.0,
        BonusSign::Words(&["负责人解读", "负责同志解读", "主要负责人", "负责人谈", "局长解读", "主任解读"]),
    ),
    (
        "response",
        "回应关切",
        3.0,
        BonusSign::Words(&["回应关切", "热点回应", "回应社会关切", "新闻发布会", "政策问答"]),
    ),
    (
        "online_service",
        "在线办理",
        4.0,
        BonusSign::Words(&["在线办理", "网上办理", "在线申报", "一网通办", "网上办事", "在线申请"]),
    ),
    (
        "letters_public",
        "留言办理公开",
        4.0,
        BonusSign::Words(&[
            "信件公开",
            "来信选登",
            "留言选登",
            "答复公开",
            "留言公开",
            "信件查询",
            "来信公开",
            "办理公开",
        ]),
    ),
    (
        "collection_feedback",
        "征集调查结果反馈",
        4.0,
        BonusSign::Words(&["征集结果", "调查结果", "意见采纳", "采纳情况", "反馈情况", "结果反馈", "意见反馈"]),
    ),
    ("interviews", "在线访谈", 3.0, BonusSign::Words(&["在线访谈", "网上访谈", "访谈实录", "访谈直播"])),
    ("search", "站内搜索可用", 3.0, BonusSign::SearchBox),
    ("accessibility", "无障碍与适老化", 2.0, BonusSign::Words(&["无障碍", "长者模式", "适老化", "关怀版", "读屏"])),
];

/// The bonus points of each indicator: the national defaults with `overrides` applied.
pub fn bonus_points(overrides: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    BONUS.iter().map(|(k, _, p, _)| (k.to_string(), overrides.get(*k).copied().unwrap_or(*p))).collect()
}

/// The bonus of the indicators earned: their points summed, at most `BONUS_MAX`.
pub fn bonus_total<'a>(earned: impl IntoIterator<Item = &'a str>, points: &BTreeMap<String, f64>) -> f64 {
    let sum: f64 = earned.into_iter().filter_map(|k| points.get(k)).sum();
    (sum.min(BONUS_MAX) * 100.0).round() / 100.0
}

/// One rule's deduction: findings counted, points (capped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deduction {
    pub rule: String,
    pub count: usize,
    pub points: f64,
}

/// The 100-point score from the number of findings per rule: each rule deducts its points
/// per finding up to its cap; rules without a weight deduct nothing. Never below zero.
pub fn score(counts: &BTreeMap<String, usize>, weights: &BTreeMap<String, Weight>) -> (f64, Vec<Deduction>) {
    let mut total = 100.0;
    let mut out = Vec::new();
    for (rule, n) in counts {
        let Some(w) = weights.get(rule) else { continue };
        if *n == 0 {
            continue;
        }
        let points = (w.points * *n as f64).min(w.cap);
        let points = (points * 100.0).round() / 100.0;
        total -= points;
        out.push(Deduction { rule: rule.clone(), count: *n, points });
    }
    ((total.max(0.0) * 100.0).round() / 100.0, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn bonus_defaults_make_thirty_and_overrides_stay_capped() {
        let points = bonus_points(&BTreeMap::new());
        assert_eq!(points.values().sum::<f64>(), BONUS_MAX);
        assert_eq!(bonus_total(["search", "interviews"], &points), 6.0);
        let mut big = BTreeMap::new();
        big.insert("search".to_string(), 25.0);
        let points = bonus_points(&big);
        assert_eq!(bonus_total(["search", "interviews", "response"], &points), 30.0);
        assert_eq!(bonus_total(["no_such"], &points), 0.0);
    }

    #[test]
    fn dates_in_every_form_sites_show() {
        let d = dates_in(
            "发布时间：2024-05-06 09:30 来源 2023/1/2，2022.12.31；2021年3月4日 [2020-02-30] 青政发〔2015〕12号 电话 0532-85912345",
        );
        let days: Vec<Date> = d.iter().map(|d| d.date).collect();
        assert_eq!(
            days,
            vec![date!(2024 - 05 - 06), date!(2023 - 01 - 02), date!(2022 - 12 - 31), date!(2021 - 03 - 04)]
        );
        assert_eq!(d[0].minutes, Some(9 * 60 + 30));
        assert_eq!(d[1].minutes, None);
        assert!(dates_in("20240506 12345-06-07 1989-01-01").is_empty());
    }

    #[test]
    fn pubdate_format_is_the_national_one() {
        assert!(is_pubdate_format("2024-05-06 09:30"));
        assert!(is_pubdate_format("2024-05-06 09:30:15"));
        assert!(!is_pubdate_format("2024-05-06"));
        assert!(!is_pubdate_format("2024/05/06 09:30"));
        assert!(!is_pubdate_format("2024-13-06 09:30"));
        assert!(!is_pubdate_format("2024-05-06 25:30"));
    }

    #[test]
    fn robots_longest_rule_wins_and_own_group_first() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /admin\nAllow: /admin/public\nDisallow: /*.pdf$\n",
            "zhanqun-monitor",
        );
        assert!(r.allows("/"));
        assert!(!r.allows("/admin/x"));
        assert!(r.allows("/admin/public/a"));
        assert!(!r.allows("/files/a.pdf"));
        assert!(r.allows("/files/a.pdf?x=1"));
        let all = Robots::parse("User-agent: *\nDisallow: /\n", "zhanqun-monitor");
        assert!(!all.allows("/"));
        let own = Robots::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: zhanqun-monitor\nDisallow:\n",
            "zhanqun-monitor/1",
        );
        assert!(own.allows("/a"));
        assert!(Robots::parse("", "x").allows("/"));
    }

    #[test]
    fn column_kind_by_name() {
        assert_eq!(ColumnKind::of_name("工作动态"), ColumnKind::News);
        assert_eq!(ColumnKind::of_name("通知公告"), ColumnKind::NoticePolicy);
        assert_eq!(ColumnKind::of_name("政策文件"), ColumnKind::NoticePolicy);
        assert_eq!(ColumnKind::of_name("机构职能"), ColumnKind::Other);
    }

    #[test]
    fn score_caps_each_rule() {
        let w = default_weights();
        let counts: BTreeMap<String, usize> =
            [("broken_link_home".to_string(), 9), ("img_no_alt".to_string(), 3), ("unknown".to_string(), 4)]
                .into_iter()
                .collect();
        let (s, d) = score(&counts, &w);
        assert_eq!(s, 100.0 - 5.0 - 0.3);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].rule, "broken_link_home");
        assert_eq!(d[0].points, 5.0);
    }
}
