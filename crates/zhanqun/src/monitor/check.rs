//! One check of one site by its address: probes of the home page, a polite crawl within a
//! depth and page budget, every link tried, and the findings judged against the national
//! indicators (`zhanqun_domain::inspection`) into vetoes, a score and evidence.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use time::Date;
use tokio::task::JoinSet;
use url::Url;
use zhanqun_domain::inspection::{
    self, ARTICLE_METAS, BONUS, BONUS_MAX, BonusSign, ColumnKind, FOOTER_LABELS, Robots, SERVICE_GUIDE_ELEMENTS,
    SITE_METAS, ShownDate, Thresholds, Weight,
};

use zhanqun_domain::expressions::{self, Kind, Matcher};

use super::fetch::{FetchError, FetchLimits, Fetched, Fetcher, USER_AGENT};
use super::page::{self, PageFacts};

/// How one check runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: FetchLimits,
    /// Pages read (parsed and judged) at most.
    pub max_pages: usize,
    /// Links away from the home page followed at most.
    pub max_depth: u32,
    /// Addresses only tried (files, pages past the budget, other sites) at most.
    pub max_link_checks: usize,
    /// Try links to other sites too.
    pub external_links: bool,
    /// Probes of the home page and the pause between them.
    pub probes: u32,
    pub probe_interval: Duration,
    pub thresholds: Thresholds,
    pub weights: BTreeMap<String, Weight>,
    /// Judge the 30-point bonus part too (portals: the city's and the districts').
    pub portal: bool,
    /// The points of each bonus indicator.
    pub bonus: BTreeMap<String, f64>,
    /// The expressions (错敏词) looked for: wrong and forbidden ones on a page are serious
    /// errors.
    pub expressions: Arc<Matcher>,
    /// The day the check judges ages against.
    pub today: Date,
    /// A home page heavier than this is a finding.
    pub max_home_bytes: u64,
    /// A home page slower than this on average is a finding.
    pub slow_home: Duration,
}

impl Default for Options {
    fn default() -> Self {
        let thresholds = Thresholds::default();
        Options {
            limits: FetchLimits {
                timeout: Duration::from_secs(thresholds.probe_timeout_seconds),
                ..Default::default()
            },
            max_pages: 500,
            max_depth: 4,
            max_link_checks: 2000,
            external_links: true,
            probes: thresholds.oneoff_probes,
            probe_interval: Duration::from_secs(1),
            thresholds,
            weights: inspection::default_weights(),
            portal: false,
            bonus: inspection::bonus_points(&BTreeMap::new()),
            expressions: seeded_matcher(),
            today: crate::kernel::time::today(),
            max_home_bytes: 3 * 1024 * 1024,
            slow_home: Duration::from_secs(3),
        }
    }
}

/// What became of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The site was read and judged.
    Checked,
    /// The home page did not load on any probe.
    Unreachable,
    /// robots.txt forbids the monitor the home page: nothing was read.
    RobotsForbidden,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub detail: String,
}

/// A single-veto indicator the site fails (or nearly fails: then it is a warning).
#[derive(Debug, Clone, Serialize)]
pub struct Veto {
    /// `unreachable`, `home_not_updated`, `columns_not_updated`, `interaction`,
    /// `services`, `serious_error`.
    pub indicator: &'static str,
    /// For `columns_not_updated`: `stale`, `should_update` or `blank`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

/// One thing found on one page.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub page: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoredRule {
    pub rule: String,
    pub label: &'static str,
    pub count: usize,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub value: f64,
    pub deductions: Vec<ScoredRule>,
}

/// One indicator of the bonus part: earned or not, and where.
#[derive(Debug, Clone, Serialize)]
pub struct BonusItem {
    pub indicator: &'static str,
    pub label: &'static str,
    /// What it is worth.
    pub points: f64,
    pub earned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// The 30-point bonus part of a portal.
#[derive(Debug, Clone, Serialize)]
pub struct Bonus {
    /// Points earned, at most `max`.
    pub value: f64,
    pub max: f64,
    pub items: Vec<BonusItem>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Probes {
    pub total: u32,
    pub failed: u32,
    pub average_ms: u64,
    pub errors: Vec<String>,
}

/// The report of one check, as `zhanqun monitor check --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub checked_at: String,
    pub status: Status,
    pub pages_checked: usize,
    pub links_checked: usize,
    /// Addresses left untried because the page or link budget ran out.
    pub not_checked: usize,
    /// Addresses robots.txt keeps the monitor from.
    pub robots_skipped: usize,
    pub elapsed_ms: u64,
    pub probes: Probes,
    pub vetoes: Vec<Veto>,
    pub warnings: Vec<Veto>,
    /// None when the site could not be read.
    pub score: Option<Score>,
    /// The bonus part, for a portal that could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bonus: Option<Bonus>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn vetoed(&self) -> bool {
        !self.vetoes.is_empty()
    }
}

/// The name of a rule in Chinese.
pub fn rule_label(rule: &str) -> &'static str {
    match rule {
        "broken_link" => "不可用链接",
        "broken_link_home" => "首页不可用链接",
        "footer_missing" => "页脚标识缺失",
        "meta_missing" => "网页元数据缺失",
        "pubdate_format" => "发布时间格式不规范",
        "undated_items" => "信息未标注日期",
        "no_viewport" => "未适配移动终端",
        "img_no_alt" => "图片缺少替代文本",
        "no_lang" => "页面未声明语言",
        "no_https" => "未支持 HTTPS",
        "no_ipv6" => "未支持 IPv6",
        "interpretation_missing" => "重要政策未解读",
        "page_weight" => "页面体积过大",
        "slow_home" => "首页打开缓慢",
        "robots_forbidden" => "robots.txt 禁止检查",
        _ => "其他",
    }
}

/// A page the crawl read, reduced to what the judging needs (its HTML and text are gone:
/// a crawl of ten thousand pages keeps kilobytes a page, not the pages).
struct PageRecord {
    url: Url,
    depth: u32,
    title: String,
    /// The text of the first link that led here.
    via: Option<String>,
    lang: bool,
    viewport: bool,
    /// The checker meta tags it lacks (the article ones judged later, when it is known
    /// whether the page is an article).
    missing_site_metas: Vec<&'static str>,
    missing_article_metas: Vec<&'static str>,
    has_article_title: bool,
    pubdate: Option<String>,
    images_without_alt: Vec<String>,
    /// The dated entries: where they lead and the date shown.
    dated: Vec<(Option<Url>, ShownDate)>,
    /// Entries without a date, in a list that dates others.
    undated: Vec<(String, Option<Url>)>,
    /// Wrong and forbidden expressions on the page, each once, with what to write instead.
    wrong: Vec<(String, Option<String>)>,
    blank: bool,
    /// For a service guide, the elements it lacks.
    guide_missing: Option<Vec<&'static str>>,
    /// The footer labels it lacks (kept for the home page).
    footer_missing: Vec<&'static str>,
    /// Its search box's results address for a sample query.
    search: Option<Url>,
    bytes: u64,
    truncated: bool,
}

/// The seeded expressions, made ready once per process.
fn seeded_matcher() -> Arc<Matcher> {
    static SEEDED: std::sync::OnceLock<Arc<Matcher>> = std::sync::OnceLock::new();
    SEEDED.get_or_init(|| Arc::new(Matcher::new(expressions::seeded()))).clone()
}

/// The wrong and forbidden expressions in `text`, each once (sensitive ones need a
/// person's judgement: the monitor leaves them to the editor's check).
fn serious_expressions(m: &Matcher, text: &str) -> Vec<(String, Option<String>)> {
    let mut seen = HashSet::new();
    m.find(text)
        .into_iter()
        .filter(|h| h.kind != Kind::Sensitive && seen.insert(h.word.clone()))
        .map(|h| (h.word, if h.kind == Kind::Wrong { h.suggestion } else { None }))
        .collect()
}

impl PageRecord {
    fn new(url: Url, depth: u32, via: Option<String>, f: PageFacts, fetched: &Fetched, opts: &Options) -> PageRecord {
        let missing = |names: &[&'static str]| -> Vec<&'static str> {
            names.iter().filter(|m| f.meta(m).is_none_or(|v| v.is_empty())).copied().collect()
        };
        let dated_count = f.items.iter().filter(|i| i.date.is_some()).count();
        // A list that dates some of its entries (three or more) must date them all.
        let mut per_list: HashMap<usize, usize> = HashMap::new();
        for i in f.items.iter().filter(|i| i.date.is_some()) {
            *per_list.entry(i.list).or_default() += 1;
        }
        let undated = f
            .items
            .iter()
            .filter(|i| i.date.is_none() && per_list.get(&i.list).is_some_and(|n| *n >= 3) && !is_pagination(&i.text))
            .map(|i| (super::shorten(&i.text, 60), i.target.clone()))
            .collect();
        let guide = depth > 0 && (f.title.contains("办事指南") || f.text.contains("办事指南"));
        let guide_missing = guide
            .then(|| SERVICE_GUIDE_ELEMENTS.iter().filter(|e| !f.text.contains(*e)).copied().collect::<Vec<_>>())
            // A page that only links to guides names none of their elements: not a guide.
            .filter(|m| m.len() < SERVICE_GUIDE_ELEMENTS.len());
        PageRecord {
            depth,
            via,
            lang: f.lang.is_some(),
            viewport: f.viewport,
            missing_site_metas: missing(&SITE_METAS),
            missing_article_metas: missing(&ARTICLE_METAS),
            has_article_title: f.meta("ArticleTitle").is_some(),
            pubdate: f.meta("PubDate").map(str::to_string),
            images_without_alt: f.images.iter().filter(|(_, alt)| !alt).map(|(s, _)| s.clone()).collect(),
            dated: f.items.iter().filter_map(|i| i.date.map(|d| (i.target.clone(), d))).collect(),
            undated,
            wrong: serious_expressions(&opts.expressions, &f.text),
            blank: dated_count == 0 && BLANK_WORDS.iter().any(|w| f.text.contains(w)),
            guide_missing,
            footer_missing: FOOTER_LABELS
                .iter()
                .filter(|(_, words)| !words.iter().any(|w| f.text.contains(w)))
                .map(|(label, _)| *label)
                .collect(),
            search: f.search,
            title: f.title,
            url,
            bytes: fetched.bytes,
            truncated: fetched.truncated,
        }
    }

    /// The newest date it shows that is not after `today`.
    fn newest(&self, today: Date) -> Option<ShownDate> {
        self.dated.iter().map(|(_, d)| *d).filter(|d| d.date <= today).max()
    }
}

/// One check's crawl: what is known, what was tried, what was read.
struct Crawl {
    fetcher: Arc<Fetcher>,
    opts: Arc<Options>,
    robots: Robots,
    origin: Url,
    seen: HashSet<Url>,
    /// Every address tried and what it answered.
    status: HashMap<Url, Result<u16, FetchError>>,
    /// Where each address was linked from (the first few pages).
    sources: HashMap<Url, Vec<Url>>,
    link_text: HashMap<Url, String>,
    pages: Vec<PageRecord>,
    pages_queued: usize,
    links_queued: usize,
    not_checked: usize,
    robots_skipped: usize,
}

const PAGINATION: [&str; 8] = ["下一页", "上一页", "下页", "上页", "尾页", "末页", "首页", "更多"];

fn is_pagination(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.chars().all(|c| c.is_ascii_digit() || "[]<>»«…".contains(c)) || PAGINATION.contains(&t)
}

/// The part of an address robots.txt rules match: the path with its query.
fn robots_path(u: &Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// Addresses that are files, tried but not read as pages.
fn is_file(u: &Url) -> bool {
    let p = u.path().to_ascii_lowercase();
    const EXT: [&str; 22] = [
        ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z", ".jpg", ".jpeg", ".png",
        ".gif", ".bmp", ".svg", ".mp4", ".mp3", ".wps", ".ofd", ".txt", ".csv",
    ];
    EXT.iter().any(|e| p.ends_with(e))
}

impl Crawl {
    fn same_site(&self, u: &Url) -> bool {
        u.host_str() == self.origin.host_str()
            && (u.port_or_known_default() == self.origin.port_or_known_default() || u.scheme() != self.origin.scheme())
    }

    fn robots_allow(&self, u: &Url) -> bool {
        self.robots.allows(&robots_path(u))
    }

    /// Takes what a page links to into the queue (pages to read, addresses to try).
    fn discover(&mut self, from: &Url, depth: u32, links: Vec<(Url, String)>, queue: &mut VecDeque<Job>) {
        for (target, text) in links {
            let s = self.sources.entry(target.clone()).or_default();
            if s.len() < 5 && !s.contains(from) {
                s.push(from.clone());
            }
            if !self.seen.insert(target.clone()) {
                continue;
            }
            self.link_text.insert(target.clone(), text.clone());
            let same = self.same_site(&target);
            if same && !self.robots_allow(&target) {
                self.robots_skipped += 1;
                continue;
            }
            let as_page = same && !is_file(&target) && depth < self.opts.max_depth;
            if as_page && self.pages_queued < self.opts.max_pages {
                self.pages_queued += 1;
                queue.push_back(Job { url: target, depth: depth + 1, page: true, via: Some(text) });
            } else if (same || self.opts.external_links) && self.links_queued < self.opts.max_link_checks {
                self.links_queued += 1;
                queue.push_back(Job { url: target, depth: depth + 1, page: false, via: Some(text) });
            } else {
                self.not_checked += 1;
            }
        }
    }
}

struct Job {
    url: Url,
    depth: u32,
    page: bool,
    /// The text of the link that led here.
    via: Option<String>,
}

/// What a finished fetch gives back to the crawl: its status, and for a page read its
/// record and links (the HTML and its text are dropped in the task, which also does the
/// parsing, so pages are parsed on every core).
struct Done {
    job: Job,
    fetched: Fetched,
    read: Option<(PageRecord, Vec<(Url, String)>)>,
}

async fn run_job(fetcher: Arc<Fetcher>, opts: Arc<Options>, job: Job) -> Done {
    let fetched = fetcher.fetch(&job.url, job.page).await;
    if fetched.text.is_none() {
        return done(job, fetched, &opts);
    }
    // Parsing a page is CPU work: on the blocking pool, so that a crawl (of this very
    // server, in the demo) never holds up the runtime's workers answering requests.
    // A panic there ends this task as it did before: the crawl skips the address.
    match tokio::task::spawn_blocking(move || done(job, fetched, &opts)).await {
        Ok(d) => d,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn done(job: Job, mut fetched: Fetched, opts: &Options) -> Done {
    let read = match (&fetched.text, job.page && fetched.ok()) {
        (Some(text), true) => {
            let facts = page::read(text, &fetched.final_url);
            let mut links: Vec<(Url, String)> =
                facts.links.iter().map(|l| (l.target.clone(), l.text.clone())).collect();
            links.extend(
                facts
                    .images
                    .iter()
                    .filter_map(|(src, _)| page::resolve(&fetched.final_url, src).map(|u| (u, String::new()))),
            );
            let record = PageRecord::new(fetched.final_url.clone(), job.depth, job.via.clone(), facts, &fetched, opts);
            Some((record, links))
        }
        _ => None,
    };
    fetched.text = None;
    Done { job, fetched, read }
}

/// Checks the site at `url`. `progress(done, known)` is told as addresses finish.
pub async fn check(url: &str, opts: Options, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Report, String> {
    let started = Instant::now();
    let checked_at = crate::kernel::time::now_ms();
    let home = parse_site_url(url)?;
    let opts = Arc::new(opts);
    let fetcher = Arc::new(Fetcher::new(opts.limits.clone())?);
    let mut report = Report {
        url: home.to_string(),
        checked_at: crate::kernel::time::fmt_time(checked_at),
        status: Status::Checked,
        pages_checked: 0,
        links_checked: 0,
        not_checked: 0,
        robots_skipped: 0,
        elapsed_ms: 0,
        probes: Probes::default(),
        vetoes: Vec::new(),
        warnings: Vec::new(),
        score: None,
        bonus: None,
        findings: Vec::new(),
    };

    // robots.txt first: the monitor obeys it like any crawler.
    let robots_url = home.join("/robots.txt").map_err(|e| e.to_string())?;
    let r = fetcher.fetch(&robots_url, true).await;
    let robots = match (&r.status, &r.text) {
        (Ok(200), Some(t)) => Robots::parse(t, USER_AGENT),
        _ => Robots::default(),
    };
    if !robots.allows(&robots_path(&home)) {
        report.status = Status::RobotsForbidden;
        report.findings.push(Finding {
            rule: "robots_forbidden",
            page: robots_url.to_string(),
            target: Some(home.to_string()),
            element: None,
            evidence: "robots.txt 不允许访问首页，网站无法被检查（也无法被搜索引擎收录）".into(),
        });
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    }

    // Probes of the home page.
    let mut first_ok: Option<Fetched> = None;
    let mut total_ms = 0u128;
    for i in 0..opts.probes.max(1) {
        if i > 0 {
            tokio::time::sleep(opts.probe_interval).await;
        }
        let f = fetcher.fetch(&home, true).await;
        report.probes.total += 1;
        total_ms += f.elapsed.as_millis();
        match &f.status {
            Ok(s) if *s < 400 => {
                if first_ok.is_none() {
                    first_ok = Some(f);
                }
            }
            Ok(s) => {
                report.probes.failed += 1;
                report.probes.errors.push(format!("HTTP {s}"));
            }
            Err(e) => {
                report.probes.failed += 1;
                report.probes.errors.push(e.label());
            }
        }
        progress(0, 1);
    }
    report.probes.average_ms = (total_ms / u128::from(report.probes.total.max(1))) as u64;
    availability(&mut report, &opts.thresholds);
    let Some(home_fetch) = first_ok else {
        report.status = Status::Unreachable;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    };

    let origin = home_fetch.final_url.clone();
    let mut crawl = Crawl {
        fetcher: fetcher.clone(),
        opts: opts.clone(),
        robots,
        origin: origin.clone(),
        seen: HashSet::from([home.clone(), origin.clone()]),
        status: HashMap::new(),
        sources: HashMap::new(),
        link_text: HashMap::new(),
        pages: Vec::new(),
        pages_queued: 1,
        links_queued: 0,
        not_checked: 0,
        robots_skipped: 0,
    };
    let mut queue = VecDeque::new();
    let first = done(Job { url: origin.clone(), depth: 0, page: true, via: None }, home_fetch, &opts);
    handle(&mut crawl, first, &mut queue);

    let in_flight_cap = (opts.limits.per_host.max(1) * 2).max(4);
    let mut tasks: JoinSet<Done> = JoinSet::new();
    let mut done = 1usize;
    loop {
        while tasks.len() < in_flight_cap
            && let Some(job) = queue.pop_front()
        {
            tasks.spawn(run_job(crawl.fetcher.clone(), crawl.opts.clone(), job));
        }
        let Some(next) = tasks.join_next().await else { break };
        done += 1;
        if let Ok(d) = next {
            handle(&mut crawl, d, &mut queue);
        }
        progress(done, done + tasks.len() + queue.len());
    }

    judge(&mut report, &crawl, &origin, &opts).await;
    report.pages_checked = crawl.pages.len();
    report.links_checked = crawl.status.len().saturating_sub(crawl.pages.len());
    report.not_checked = crawl.not_checked;
    report.robots_skipped = crawl.robots_skipped;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// A site's address as typed: `http(s)://host[:port]/…`, or a bare host (taken as http).
pub fn parse_site_url(url: &str) -> Result<Url, String> {
    let t = url.trim();
    let with_scheme = if t.contains("://") { t.to_string() } else { format!("http://{t}") };
    let u = Url::parse(&with_scheme).map_err(|e| format!("不是有效的网址：{t}（{e}）"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(format!("只能检查 http 或 https 网址：{t}"));
    }
    Ok(u)
}

fn handle(crawl: &mut Crawl, d: Done, queue: &mut VecDeque<Job>) {
    crawl.status.insert(d.job.url.clone(), d.fetched.status.clone());
    if d.fetched.final_url != d.job.url {
        crawl.status.insert(d.fetched.final_url.clone(), d.fetched.status.clone());
    }
    let Some((record, links)) = d.read else { return };
    if !crawl.same_site(&record.url) {
        return;
    }
    crawl.discover(&record.url, d.job.depth, links, queue);
    crawl.pages.push(record);
}

pub(crate) fn availability(report: &mut Report, t: &Thresholds) {
    let p = &report.probes;
    if p.total == 0 || p.failed == 0 {
        return;
    }
    let share = f64::from(p.failed) * 100.0 / f64::from(p.total);
    let evidence = vec![Evidence {
        page: Some(report.url.clone()),
        detail: format!("{} 次探测中 {} 次失败：{}", p.total, p.failed, p.errors.join("；")),
        ..Default::default()
    }];
    let v = Veto {
        indicator: "unreachable",
        kind: None,
        message: format!("首页访问失败率 {share:.0}%（否决线 {}%）", t.unreachable_veto_percent),
        evidence,
    };
    if share >= t.unreachable_veto_percent {
        report.vetoes.push(v);
    } else if share >= t.unreachable_warn_percent {
        report.warnings.push(v);
    }
}

fn fmt_date(d: ShownDate) -> String {
    let s = d.date.to_string();
    match d.minutes {
        Some(m) => format!("{s} {:02}:{:02}", m / 60, m % 60),
        None => s,
    }
}

fn status_label(s: &Result<u16, FetchError>) -> String {
    match s {
        Ok(code) => format!("HTTP {code}"),
        Err(e) => e.label(),
    }
}

const INTERACTION_WORDS: [&str; 8] = ["信箱", "留言", "咨询", "互动", "访谈", "征集", "信访", "问政"];
const SERVICE_WORDS: [&str; 4] = ["办事", "服务", "政务服务", "网上办"];
const BLANK_WORDS: [&str; 4] = ["暂无信息", "暂无数据", "暂无内容", "暂无记录"];

async fn judge(report: &mut Report, crawl: &Crawl, origin: &Url, opts: &Options) {
    let t = &opts.thresholds;
    let today = opts.today;
    let Some(home) = crawl.pages.first() else { return };
    let mut f: Vec<Finding> = Vec::new();
    let finding =
        |rule: &'static str, page: &Url, target: Option<String>, element: Option<String>, evidence: String| Finding {
            rule,
            page: page.to_string(),
            target,
            element,
            evidence,
        };

    // Broken links, each with the pages it was found on.
    let mut broken: Vec<(&Url, &Result<u16, FetchError>)> =
        crawl.status.iter().filter(|(_, s)| !matches!(s, Ok(c) if *c < 400)).collect();
    broken.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (target, status) in &broken {
        for page in crawl.sources.get(*target).into_iter().flatten() {
            f.push(finding("broken_link", page, Some(target.to_string()), None, status_label(status)));
        }
    }

    // The home page's own marks.
    for label in &home.footer_missing {
        f.push(finding("footer_missing", &home.url, None, Some(label.to_string()), format!("首页页脚未见“{label}”")));
    }
    if !home.viewport {
        f.push(finding(
            "no_viewport",
            &home.url,
            None,
            Some("meta[name=viewport]".into()),
            "首页未声明 viewport，移动终端无法适配".into(),
        ));
    }
    if !home.lang {
        f.push(finding(
            "no_lang",
            &home.url,
            None,
            Some("html[lang]".into()),
            "首页未声明页面语言（html lang）".into(),
        ));
    }
    if home.bytes > opts.max_home_bytes || home.truncated {
        f.push(finding(
            "page_weight",
            &home.url,
            None,
            None,
            format!(
                "首页 {:.1} MiB{}",
                home.bytes as f64 / 1048576.0,
                if home.truncated { "（超过读取上限，仅检查了前部）" } else { "" }
            ),
        ));
    }
    if report.probes.average_ms > opts.slow_home.as_millis() as u64 {
        f.push(finding(
            "slow_home",
            &home.url,
            None,
            None,
            format!("首页平均打开用时 {} 毫秒", report.probes.average_ms),
        ));
    }
    if origin.scheme() == "http" {
        let mut https = origin.clone();
        let _ = https.set_scheme("https");
        let _ = https.set_port(None);
        let r = crawl.fetcher.fetch(&https, false).await;
        if !r.ok() {
            f.push(finding(
                "no_https",
                &home.url,
                Some(https.to_string()),
                None,
                format!("HTTPS 不可用：{}", status_label(&r.status)),
            ));
        }
    }
    if !has_ipv6(origin, &opts.limits.resolve).await {
        f.push(finding("no_ipv6", &home.url, None, None, "域名没有 IPv6（AAAA）地址".into()));
    }

    // Articles: the pages dated items lead to.
    let mut list_date: HashMap<&Url, (&Url, ShownDate)> = HashMap::new();
    for p in &crawl.pages {
        for (target, d) in &p.dated {
            if let Some(target) = target {
                list_date.entry(target).or_insert((&p.url, *d));
            }
        }
    }
    let is_article = |p: &PageRecord| list_date.contains_key(&p.url) || p.has_article_title;

    let mut serious = Vec::new();
    for p in &crawl.pages {
        let mut missing = p.missing_site_metas.clone();
        if is_article(p) {
            missing.extend(&p.missing_article_metas);
        }
        if !missing.is_empty() {
            f.push(finding(
                "meta_missing",
                &p.url,
                None,
                Some(missing.join(", ")),
                format!("缺少网页元数据：{}", missing.join("、")),
            ));
        }
        if let Some(v) = &p.pubdate {
            if !inspection::is_pubdate_format(v) {
                f.push(finding(
                    "pubdate_format",
                    &p.url,
                    None,
                    Some(format!("PubDate={v}")),
                    "发布时间应为“YYYY-MM-DD HH:MM”格式".into(),
                ));
            }
            if let Some(d) = inspection::dates_in(v).first() {
                if d.date > today {
                    serious.push(Evidence {
                        page: Some(p.url.to_string()),
                        date: Some(fmt_date(*d)),
                        detail: "发布时间晚于检查日期".into(),
                        ..Default::default()
                    });
                } else if let Some((list, shown)) = list_date.get(&p.url)
                    && (shown.date - d.date).whole_days().abs() > 1
                {
                    serious.push(Evidence {
                        page: Some(p.url.to_string()),
                        target: Some(list.to_string()),
                        date: Some(fmt_date(*d)),
                        detail: format!("正文发布时间与栏目列表所示 {} 不一致（发布时间倒填或篡改）", fmt_date(*shown)),
                    });
                }
            }
        }
        for src in &p.images_without_alt {
            f.push(finding("img_no_alt", &p.url, None, Some(format!("img src={src}")), "图片缺少 alt 替代文本".into()));
        }
        for (text, target) in &p.undated {
            f.push(finding(
                "undated_items",
                &p.url,
                target.as_ref().map(|u| u.to_string()),
                Some(text.clone()),
                "列表中的信息未标注发布日期".into(),
            ));
        }
        for (wrong, right) in &p.wrong {
            serious.push(Evidence {
                page: Some(p.url.to_string()),
                detail: match right {
                    Some(r) => format!("错误表述“{wrong}”，应为“{r}”"),
                    None => format!("禁用表述“{wrong}”"),
                },
                ..Default::default()
            });
        }
    }
    if !serious.is_empty() {
        report.vetoes.push(Veto {
            indicator: "serious_error",
            kind: None,
            message: format!("发现 {} 处严重错误", serious.len()),
            evidence: serious,
        });
    }

    // The home page updated: its dated items, or for a navigation-only home page, those of
    // the pages it leads to.
    let newest = |p: &PageRecord| p.newest(today);
    let (latest, judged_by) = match newest(home) {
        Some(d) => (Some(d), "首页"),
        None => (crawl.pages.iter().filter(|p| p.depth == 1).filter_map(newest).max(), "首页为导航页，按二级页面"),
    };
    match latest {
        Some(d) => {
            let age = (today - d.date).whole_days();
            let v = Veto {
                indicator: "home_not_updated",
                kind: None,
                message: format!("{judged_by}最新信息为 {} 天前（否决线 {} 天）", age, t.home_stale_days),
                evidence: vec![Evidence {
                    page: Some(home.url.to_string()),
                    date: Some(fmt_date(d)),
                    detail: "最新一条信息的日期".into(),
                    ..Default::default()
                }],
            };
            if age > t.home_stale_days {
                report.vetoes.push(v);
            } else if age > t.home_warn_days {
                report.warnings.push(v);
            }
        }
        None => report.vetoes.push(Veto {
            indicator: "home_not_updated",
            kind: None,
            message: "首页及其二级页面没有标注日期的信息（未标日期的信息不算更新）".into(),
            evidence: vec![Evidence {
                page: Some(home.url.to_string()),
                detail: "未找到带日期的信息".into(),
                ..Default::default()
            }],
        }),
    }

    // Columns: pages of dated entries (or none, saying so) reached by a column's link, not
    // by paging through one and not articles.
    let mut stale = Vec::new();
    let mut blank = Vec::new();
    for p in crawl.pages.iter().skip(1) {
        if is_article(p) || p.via.as_deref().is_some_and(is_pagination) {
            continue;
        }
        let name = p.via.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| p.title.clone());
        match p.newest(today) {
            Some(d) => {
                let age = (today - d.date).whole_days();
                let limit = match ColumnKind::of_name(&name) {
                    ColumnKind::News => Some(t.news_stale_days),
                    ColumnKind::NoticePolicy => Some(t.notice_stale_days),
                    ColumnKind::Other => None,
                };
                if let Some(limit) = limit
                    && age > limit
                {
                    stale.push(Evidence {
                        page: Some(p.url.to_string()),
                        date: Some(fmt_date(d)),
                        detail: format!("栏目“{name}”{age} 天未更新（应不超过 {limit} 天）"),
                        ..Default::default()
                    });
                }
            }
            None if p.blank => blank.push(Evidence {
                page: Some(p.url.to_string()),
                detail: format!("栏目“{name}”为空"),
                ..Default::default()
            }),
            None => {}
        }
    }
    for (kind, list, veto_at, warn_at, what) in [
        ("stale", stale, t.stale_columns_veto, t.stale_columns_warn, "栏目长期未更新"),
        ("blank", blank, t.blank_columns_veto, t.blank_columns_warn, "空白栏目"),
    ] {
        if list.is_empty() {
            continue;
        }
        let v = Veto {
            indicator: "columns_not_updated",
            kind: Some(kind),
            message: format!("{what} {} 个（否决线 {veto_at} 个）", list.len()),
            evidence: list,
        };
        if v.evidence.len() >= veto_at {
            report.vetoes.push(v);
        } else if v.evidence.len() >= warn_at {
            report.warnings.push(v);
        }
    }

    // Interaction and services: a working channel reached from the home page.
    let home_links: Vec<(&Url, &str)> = crawl
        .link_text
        .iter()
        .filter(|(u, _)| crawl.sources.get(*u).is_some_and(|s| s.contains(&home.url)))
        .map(|(u, t)| (u, t.as_str()))
        .collect();
    for (indicator, words, none_msg) in [
        ("interaction", &INTERACTION_WORDS[..], "首页没有咨询、留言等互动渠道"),
        ("services", &SERVICE_WORDS[..], "首页没有办事服务入口"),
    ] {
        let channels: Vec<&(&Url, &str)> =
            home_links.iter().filter(|(_, t)| words.iter().any(|w| t.contains(w))).collect();
        let working = channels.iter().any(|(u, _)| crawl.status.get(*u).is_none_or(|s| matches!(s, Ok(c) if *c < 400)));
        if channels.is_empty() {
            report.vetoes.push(Veto {
                indicator,
                kind: None,
                message: none_msg.into(),
                evidence: vec![Evidence {
                    page: Some(home.url.to_string()),
                    detail: none_msg.into(),
                    ..Default::default()
                }],
            });
        } else if !working {
            report.vetoes.push(Veto {
                indicator,
                kind: None,
                message: "入口均无法打开".into(),
                evidence: channels
                    .iter()
                    .map(|(u, t)| Evidence {
                        page: Some(home.url.to_string()),
                        target: Some(u.to_string()),
                        detail: format!("“{t}”{}", crawl.status.get(*u).map(status_label).unwrap_or_default()),
                        ..Default::default()
                    })
                    .collect(),
            });
        }
    }
    let mut guides = Vec::new();
    for p in &crawl.pages {
        if let Some(missing) = &p.guide_missing
            && !missing.is_empty()
        {
            guides.push(Evidence {
                page: Some(p.url.to_string()),
                detail: format!("办事指南缺少要素：{}", missing.join("、")),
                ..Default::default()
            });
        }
    }
    if !guides.is_empty() {
        report.vetoes.push(Veto {
            indicator: "services",
            kind: None,
            message: format!("{} 个办事指南要素不全", guides.len()),
            evidence: guides,
        });
    }

    // The 100-point part.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for x in &f {
        let rule = if x.rule == "broken_link" && x.page == home.url.as_str() { "broken_link_home" } else { x.rule };
        *counts.entry(rule.to_string()).or_default() += 1;
    }
    let (value, deductions) = inspection::score(&counts, &opts.weights);
    report.score = Some(Score {
        value,
        deductions: deductions
            .into_iter()
            .map(|d| ScoredRule { label: rule_label(&d.rule), rule: d.rule, count: d.count, points: d.points })
            .collect(),
    });
    report.findings = f;
    if opts.portal {
        report.bonus = Some(bonus(crawl, home, opts).await);
    }
}

/// The bonus part: each indicator earned by a page of its kind (by its title), a working
/// link to one (by its text), or for the search, a search box whose results page opens.
async fn bonus(crawl: &Crawl, home: &PageRecord, opts: &Options) -> Bonus {
    let mut items = Vec::new();
    for (indicator, label, _, sign) in BONUS {
        let evidence = match sign {
            BonusSign::Words(words) => {
                let has = |t: &str| words.iter().find(|w| t.contains(**w));
                let page = crawl
                    .pages
                    .iter()
                    .filter_map(|p| has(&p.title).map(|w| (p, w)))
                    .min_by(|a, b| a.0.url.as_str().cmp(b.0.url.as_str()))
                    .map(|(p, w)| Evidence {
                        page: Some(p.url.to_string()),
                        detail: format!("页面“{}”（{w}）", super::shorten(&p.title, 40)),
                        ..Default::default()
                    });
                page.or_else(|| {
                    crawl
                        .link_text
                        .iter()
                        .filter(|(u, _)| matches!(crawl.status.get(*u), Some(Ok(c)) if *c < 400))
                        .filter_map(|(u, t)| has(t).map(|w| (u, t, w)))
                        .min_by(|a, b| a.0.as_str().cmp(b.0.as_str()))
                        .map(|(u, t, w)| Evidence {
                            page: crawl.sources.get(u).and_then(|s| s.first()).map(Url::to_string),
                            target: Some(u.to_string()),
                            detail: format!("链接“{}”可以打开（{w}）", super::shorten(t, 40)),
                            ..Default::default()
                        })
                })
            }
            BonusSign::SearchBox => match &home.search {
                Some(u) => {
                    let r = crawl.fetcher.fetch(u, false).await;
                    r.ok().then(|| Evidence {
                        page: Some(home.url.to_string()),
                        target: Some(u.to_string()),
                        detail: format!("首页搜索框检索“{}”可以打开结果页", page::SAMPLE_QUERY),
                        ..Default::default()
                    })
                }
                None => None,
            },
        };
        items.push(BonusItem {
            indicator,
            label,
            points: opts.bonus.get(indicator).copied().unwrap_or(0.0),
            earned: evidence.is_some(),
            evidence,
        });
    }
    let value = inspection::bonus_total(items.iter().filter(|i| i.earned).map(|i| i.indicator), &opts.bonus);
    Bonus { value, max: BONUS_MAX, items }
}

/// Whether the site's host has an IPv6 address (as overridden by `--resolve`, if it is).
async fn has_ipv6(u: &Url, resolve: &[(String, u16, std::net::IpAddr)]) -> bool {
    let Some(host) = u.host_str() else { return false };
    if let Some(url::Host::Ipv6(_)) = u.host() {
        return true;
    }
    let overridden: Vec<_> = resolve.iter().filter(|(h, _, _)| h == host).collect();
    if !overridden.is_empty() {
        return overridden.iter().any(|(_, _, a)| a.is_ipv6());
    }
    let port = u.port_or_known_default().unwrap_or(80);
    match tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, port))).await {
        Ok(Ok(mut addrs)) => addrs.any(|a| a.is_ipv6()),
        _ => false,
    }
}
