//! Site search at city scale: a synthetic corpus of Chinese government documents over 500
//! sites and ten years, indexed by the platform's engine (tantivy with jieba, the same
//! schema, tokenizer and query code as `/search`) and, in the same run, by SQLite FTS5 with
//! the trigram tokenizer, the reference a user might pick instead. Prints indexing
//! throughput, index size, resident memory, and query latency p50/p95/p99 for two- and
//! four-character words, phrases, document numbers and filtered queries.
//!
//! `cargo bench -p zhanqun --bench search` (10,000 and 1,000,000 documents; `-- small`
//! for 10,000 only, `-- 50000` for any sizes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zhanqun::search::{IndexDoc, Live, Plan};

const SITES: u64 = 500;
const DISTRICTS: &[&str] = &[
    "市南区",
    "市北区",
    "李沧区",
    "崂山区",
    "黄岛区",
    "城阳区",
    "即墨区",
    "胶州市",
    "平度市",
    "莱西市",
    "高新区",
    "保税区",
];
const DEPARTMENTS: &[&str] = &[
    "教育局",
    "卫生健康委员会",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "生态环境局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "文化和旅游局",
    "应急管理局",
    "市场监督管理局",
    "医疗保障局",
    "民政局",
    "司法局",
    "财政局",
    "自然资源和规划局",
    "水务管理局",
    "城市管理局",
    "科学技术局",
    "工业和信息化局",
    "公安局",
    "税务局",
    "统计局",
    "审计局",
    "退役军人事务局",
    "行政审批服务局",
    "大数据发展管理局",
    "地方金融监督管理局",
    "林业局",
    "体育局",
    "档案馆",
    "政务服务管理办公室",
    "发展和改革委员会",
    "人民政府办公室",
    "国有资产监督管理委员会",
    "海洋发展局",
    "园林和林业局",
    "粮食和物资储备局",
    "信访局",
    "口岸办公室",
    "民族宗教事务局",
    "外事办公室",
];
const VERBS: &[&str] = &[
    "做好", "印发", "加强", "开展", "推进", "落实", "规范", "优化", "深化", "组织", "实施", "完善", "公布", "调整",
    "启动", "部署", "召开", "发布", "征求", "转发",
];
const TOPICS: &[&str] = &[
    "义务教育",
    "招生入学",
    "营商环境",
    "政务公开",
    "乡村振兴",
    "安全生产",
    "疫情防控",
    "医疗保险",
    "养老保险",
    "住房公积金",
    "城市更新",
    "老旧小区改造",
    "生态环境保护",
    "河湖长制",
    "垃圾分类",
    "食品安全",
    "药品监管",
    "就业创业",
    "人才引进",
    "科技创新",
    "数字政府",
    "一网通办",
    "政务服务",
    "行政审批",
    "双随机一公开",
    "知识产权",
    "文化旅游",
    "体育健身",
    "公共交通",
    "道路建设",
    "防汛抗旱",
    "森林防火",
    "最低生活保障",
    "社会救助",
    "退役军人服务",
    "法治政府",
    "信用体系",
    "财政预算",
    "政府采购",
    "统计调查",
    "审计整改",
    "农村宅基地",
    "耕地保护",
    "海洋经济",
    "港口物流",
    "招商引资",
    "中小企业",
    "减税降费",
    "普惠金融",
    "学前教育",
    "职业教育",
    "高中阶段教育",
    "校园安全",
    "健康促进",
    "基层医疗",
];
const KINDS: &[&str] = &[
    "工作的通知",
    "实施方案",
    "管理办法",
    "工作要点",
    "若干措施",
    "情况的报告",
    "有关事项的公告",
    "意见",
    "工作总结",
    "行动计划",
];
const WORDS: &[&str] = &[
    "各区市",
    "人民政府",
    "有关部门",
    "单位",
    "全市",
    "工作",
    "要求",
    "按照",
    "根据",
    "规定",
    "进一步",
    "提高",
    "水平",
    "服务",
    "群众",
    "企业",
    "办理",
    "材料",
    "申请",
    "条件",
    "时间",
    "地点",
    "联系",
    "电话",
    "责任",
    "分工",
    "督促",
    "检查",
    "考核",
    "机制",
    "制度",
    "建设",
    "发展",
    "保障",
    "政策",
    "措施",
    "任务",
    "目标",
    "重点",
    "领域",
    "项目",
    "资金",
    "管理",
    "使用",
    "监督",
    "公开",
    "透明",
    "依法",
    "依规",
    "统筹",
    "协调",
    "推动",
    "高质量",
    "现代化",
    "数字化",
    "信息化",
    "便民",
    "利民",
    "惠民",
    "改革",
    "创新",
    "试点",
    "示范",
    "经验",
    "做法",
    "成效",
    "问题",
    "短板",
    "整改",
    "落实情况",
    "年度",
    "季度",
    "月底",
    "之前",
    "以来",
    "期间",
    "同时",
    "其中",
    "包括",
    "主要",
    "内容",
    "如下",
    "通知",
    "会议",
    "研究",
    "决定",
    "同意",
    "批复",
    "报送",
    "审核",
    "备案",
    "登记",
    "核查",
    "统计",
    "数据",
    "平台",
    "系统",
    "窗口",
    "线上",
    "线下",
    "街道",
    "社区",
    "村庄",
    "学校",
    "医院",
    "养老机构",
    "市场主体",
    "个体工商户",
    "居民",
    "家庭",
    "儿童",
    "老年人",
    "残疾人",
    "困难群众",
    "农民工",
    "高校毕业生",
    "适龄儿童",
    "学位",
    "学区",
    "户籍",
    "居住证",
    "社会保险",
    "缴费",
    "待遇",
    "补贴",
    "标准",
    "发放",
    "审批",
    "许可",
    "备案",
    "处罚",
    "执法",
    "安全",
    "隐患",
    "排查",
    "应急",
    "预案",
    "演练",
    "宣传",
    "培训",
    "指导",
    "咨询",
    "投诉",
];
const PREFIXES: &[&str] =
    &["青政发", "青政办发", "青政字", "青教发", "青卫发", "青人社发", "青建发", "青环发", "青财发"];

fn pick<'a>(r: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[r.random_range(0..list.len())]
}

/// Document `i` of the corpus: the same every time (its own seed), so the FTS5 run reads
/// exactly the corpus the engine indexed without keeping it in memory.
fn doc(i: u64) -> (IndexDoc, u64) {
    let mut r = StdRng::seed_from_u64(i);
    let site = r.random_range(0..SITES);
    let year = 2016 + r.random_range(0..10u64);
    let published = zhanqun::kernel::time::local_ms(
        time::Date::from_ordinal_date(year as i32, 1 + r.random_range(0..365u16)).unwrap(),
        8 + r.random_range(0..10u8),
    );
    let topic = pick(&mut r, TOPICS);
    let title = format!("关于{}{}年{}{}", pick(&mut r, VERBS), year, topic, pick(&mut r, KINDS));
    // Lengths as government sites have them: many short notices, fewer long policies.
    let len = match r.random_range(0..100) {
        0..45 => r.random_range(120..400),
        45..85 => r.random_range(400..1000),
        _ => r.random_range(1000..3000),
    };
    let mut text = String::with_capacity(len * 3 + 64);
    let mut chars = 0;
    while chars < len {
        let n = r.random_range(6..16);
        for k in 0..n {
            let w = if k == 2 && r.random_bool(0.5) { topic } else { pick(&mut r, WORDS) };
            text.push_str(w);
            chars += w.chars().count();
        }
        text.push(if r.random_bool(0.7) { '，' } else { '。' });
        chars += 1;
    }
    text.push('。');
    let codes = if r.random_bool(0.3) {
        vec![format!("{}〔{}〕{}号", pick(&mut r, PREFIXES), year, 1 + i % 300)]
    } else {
        Vec::new()
    };
    let name =
        format!("{}{}", DISTRICTS[(site as usize) % DISTRICTS.len()], DEPARTMENTS[(site as usize) % DEPARTMENTS.len()]);
    let d = IndexDoc {
        id: i as i64 + 1,
        site_id: site as i64 + 1,
        sites: vec![site as i64 + 1],
        columns: vec![(site * 10 + r.random_range(0..10)) as i64 + 1],
        doc_type: Some(["policy", "notice", "normative", "general"][r.random_range(0..4)].to_string()),
        body_id: Some(site as i64 + 1),
        issuer: name,
        published_at: published,
        title,
        subtitle: String::new(),
        keywords: topic.to_string(),
        text,
        files: String::new(),
        codes,
    };
    (d, year)
}

fn rss_mib() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

fn dir_mib(p: &std::path::Path) -> f64 {
    let mut total = 0u64;
    if let Ok(d) = std::fs::read_dir(p) {
        for e in d.flatten() {
            let m = e.metadata().unwrap();
            total += if m.is_dir() { (dir_mib(&e.path()) * 1048576.0) as u64 } else { m.len() };
        }
    }
    total as f64 / 1048576.0
}

#[derive(Clone)]
enum Q {
    Word(String),
    Phrase(String),
    Filtered { word: String, site: i64, year: i32 },
}

/// The queries of each kind: the same for both engines.
fn queries(n: u64) -> Vec<(&'static str, Vec<Q>)> {
    let two = [
        "公开", "教育", "医保", "补贴", "招生", "学位", "户籍", "安全", "执法", "养老", "就业", "许可", "投诉", "社区",
        "缴费",
    ];
    let four = [
        "义务教育",
        "营商环境",
        "政务公开",
        "乡村振兴",
        "安全生产",
        "垃圾分类",
        "食品安全",
        "科技创新",
        "数字政府",
        "社会救助",
        "适龄儿童",
        "困难群众",
        "高校毕业生",
        "一网通办",
        "防汛抗旱",
    ];
    let phrases = [
        "义务教育入学",
        "优化营商环境",
        "最低生活保障",
        "住房公积金",
        "老旧小区改造",
        "生态环境保护",
        "政府采购",
        "减税降费",
    ];
    let mut r = StdRng::seed_from_u64(7);
    let mut numbers = Vec::new();
    while numbers.len() < 15 {
        let (d, _) = doc(r.random_range(0..n));
        if let Some(c) = d.codes.first() {
            numbers.push(Q::Word(c.clone()));
        }
    }
    // A filter a citizen would use: the site and year of a real document, with a word of
    // its topic, so that every filtered query has hits to rank.
    let mut filtered = Vec::new();
    while filtered.len() < 15 {
        let (d, year) = doc(r.random_range(0..n));
        filtered.push(Q::Filtered { word: d.keywords, site: d.site_id, year: year as i32 });
    }
    vec![
        ("两字词", two.iter().map(|w| Q::Word(w.to_string())).collect()),
        ("四字词", four.iter().map(|w| Q::Word(w.to_string())).collect()),
        ("短语", phrases.iter().map(|w| Q::Phrase(w.to_string())).collect()),
        ("文号", numbers),
        ("带筛选", filtered),
    ]
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95), at(0.99))
}

/// Runs each query of a kind `rounds` times (after one warm-up round), in milliseconds.
fn measure(rounds: usize, qs: &[Q], mut run: impl FnMut(&Q) -> usize) -> (Vec<f64>, usize) {
    let mut found = 0;
    for q in qs {
        found += run(q);
    }
    let mut ms = Vec::new();
    for _ in 0..rounds {
        for q in qs {
            let t = Instant::now();
            run(q);
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    (ms, found / qs.len().max(1))
}

fn plan(q: &Q) -> Plan {
    let mut p = Plan { limit: 20, ..Default::default() };
    match q {
        Q::Word(w) => p.words = vec![vec![w.clone()]],
        Q::Phrase(w) => p.phrases = vec![w.clone()],
        Q::Filtered { word, site, year } => {
            p.words = vec![vec![word.clone()]];
            p.site = Some(*site);
            p.year = Some(*year);
        }
    }
    p
}

async fn run(n: u64, root: &std::path::Path, engine_only: bool) {
    println!("\n## {n} 篇文档（{SITES} 个网站，2016–2025 年）");
    // The engine.
    let dir = root.join(format!("engine-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let live = Live::create(&dir, "index").unwrap();
    let t = Instant::now();
    let mut chars = 0usize;
    {
        let mut w: tantivy::IndexWriter = live.index.writer_with_num_threads(2, 400_000_000).unwrap();
        for i in 0..n {
            let (d, _) = doc(i);
            chars += d.text.chars().count() + d.title.chars().count();
            w.add_document(d.to_tantivy(&live.f)).unwrap();
        }
        w.commit().unwrap();
        w.wait_merging_threads().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    live.reader.reload().unwrap();
    let (rss, peak) = rss_mib();
    let engine_size = dir_mib(&dir.join("index"));
    println!(
        "引擎（tantivy + jieba）：建索引 {:.0} 篇/秒（{:.1} 秒，正文平均 {} 字），索引 {:.0} MiB，常驻内存 {:.0} MiB（峰值 {:.0} MiB）",
        n as f64 / secs,
        secs,
        chars as u64 / n,
        engine_size,
        rss,
        peak
    );
    let qs = queries(n);
    let rounds = if n >= 1_000_000 { 3 } else { 10 };
    let mut engine = Vec::new();
    for (kind, list) in &qs {
        let (ms, found) = measure(rounds, list, |q| {
            let out = live.run(&plan(q)).unwrap();
            out.total
        });
        engine.push((kind, percentiles(ms), found));
    }
    let (rss_q, _) = rss_mib();
    drop(live);
    if engine_only {
        println!("\n| 查询 | 引擎 p50 / p95 / p99 (ms) | 平均命中 |\n|---|---|---|");
        for (kind, (a50, a95, a99), af) in &engine {
            println!("| {kind} | {a50:.1} / {a95:.1} / {a99:.1} | {af} |");
        }
        println!("（仅引擎，未与 FTS5 对照；查询时常驻内存 {rss_q:.0} MiB）");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }

    // SQLite FTS5, trigram: the same documents, the same queries.
    let db_path = root.join(format!("fts5-{n}.db"));
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db_path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    use sqlx::ConnectOptions;
    let mut c = opts.connect().await.unwrap();
    sqlx::query(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body, codes, site_id UNINDEXED, year UNINDEXED, published UNINDEXED, tokenize = 'trigram')",
    )
    .execute(&mut c)
    .await
    .unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = sqlx::Connection::begin(&mut c).await.unwrap();
        for j in i..(i + 10_000).min(n) {
            let (d, year) = doc(j);
            sqlx::query("INSERT INTO docs (rowid, title, body, codes, site_id, year, published) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(d.id)
                .bind(&d.title)
                .bind(&d.text)
                .bind(d.codes.join(" "))
                .bind(d.site_id)
                .bind(year as i64)
                .bind(d.published_at)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        i += 10_000;
    }
    let fts_secs = t.elapsed().as_secs_f64();
    sqlx::query("INSERT INTO docs(docs) VALUES('optimize')").execute(&mut c).await.unwrap();
    let fts_size = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
    println!(
        "参照（SQLite FTS5 trigram）：建索引 {:.0} 篇/秒（{:.1} 秒），数据库 {:.0} MiB",
        n as f64 / fts_secs,
        fts_secs,
        fts_size
    );
    let rt = tokio::runtime::Handle::current();
    let mut fts = Vec::new();
    for (kind, list) in &qs {
        let (ms, found) = measure(rounds, list, |q| tokio::task::block_in_place(|| rt.block_on(fts_query(&mut c, q))));
        fts.push((kind, percentiles(ms), found));
    }
    println!(
        "\n| 查询 | 引擎 p50 / p95 / p99 (ms) | FTS5 p50 / p95 / p99 (ms) | p95 之比 FTS5/引擎 | 平均命中 引擎 / FTS5 |"
    );
    println!("|---|---|---|---|---|");
    for ((kind, (a50, a95, a99), af), (_, (b50, b95, b99), bf)) in engine.iter().zip(&fts) {
        println!(
            "| {kind} | {a50:.1} / {a95:.1} / {a99:.1} | {b50:.1} / {b95:.1} / {b99:.1} | {:.1}× | {af} / {bf} |",
            b95 / a95.max(0.001)
        );
    }
    println!("（引擎每次查询含前 20 条、总数、五个分面计数和摘要高亮；查询时常驻内存 {rss_q:.0} MiB）");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&db_path);
}

/// The query a user of FTS5 trigram would write: MATCH for three characters and more (a
/// phrase is a substring), LIKE for two (trigrams cannot match fewer than three characters);
/// the first 20 by rank and the total, as a result page needs.
async fn fts_query(c: &mut sqlx::SqliteConnection, q: &Q) -> usize {
    let (word, filter) = match q {
        Q::Word(w) | Q::Phrase(w) => (w.clone(), String::new()),
        Q::Filtered { word, site, year } => (word.clone(), format!(" AND site_id = {site} AND year = {year}")),
    };
    if word.chars().count() < 3 {
        let like = format!("%{word}%");
        let sql = format!(
            "SELECT rowid, title FROM docs WHERE (title LIKE $1 OR body LIKE $1){filter} ORDER BY published DESC LIMIT 20"
        );
        let _: Vec<(i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&like).fetch_all(&mut *c).await.unwrap();
        let sql = format!("SELECT COUNT(*) FROM docs WHERE (title LIKE $1 OR body LIKE $1){filter}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&like).fetch_one(&mut *c).await.unwrap();
        return n as usize;
    }
    let m = format!("\"{}\"", word.replace('"', ""));
    let sql = format!(
        "SELECT rowid, title, snippet(docs, 1, '<mark>', '</mark>', '…', 16) FROM docs WHERE docs MATCH $1{filter} ORDER BY rank LIMIT 20"
    );
    let _: Vec<(i64, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&m).fetch_all(&mut *c).await.unwrap();
    let sql = format!("SELECT COUNT(*) FROM docs WHERE docs MATCH $1{filter}");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&m).fetch_one(&mut *c).await.unwrap();
    n as usize
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let sizes: Vec<u64> = if args.iter().any(|a| a == "small") {
        vec![10_000]
    } else if args.is_empty() {
        vec![10_000, 1_000_000]
    } else {
        args.iter().filter_map(|a| a.parse().ok()).collect()
    };
    let root = tempfile::Builder::new().prefix("zhanqun-search-bench").tempdir_in("/var/tmp").unwrap();
    println!("# 站内搜索基准（{}）", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    // `--engine-only`: the engine's side alone, for trying a change (no reference figures).
    let engine_only = std::env::args().any(|a| a == "--engine-only");
    for n in sizes {
        run(n, root.path(), engine_only).await;
    }
}
