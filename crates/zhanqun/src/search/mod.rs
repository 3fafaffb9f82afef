//! Site search's full-text engine: tantivy, embedded, with jieba word segmentation
//! ([`tokenizer`]). Each node keeps its own replica of the index in `DATA_DIR/search/`,
//! fed from the outbox by [`indexer`], with the outbox position it has applied stored in the
//! index's own commit (so the index and its cursor never disagree). `CURRENT` names the
//! directory in use: a rebuild writes a new directory and then swaps `CURRENT`, while the
//! old one keeps answering. When no index can answer (never built, deleted, corrupt, being
//! rebuilt at start), `App::search` answers from the database instead and says so.
//!
//! Decision record: docs/decisions/0007-search.md.

pub mod admin;
pub mod extract;
pub mod indexer;
pub mod stats;
pub mod tokenizer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, DocId, Index, IndexReader, Order, ReloadPolicy, Score, Searcher, SegmentReader, TantivyDocument, Term,
};

use crate::kernel::events::Position;

/// Bumped when the schema or the tokenizer changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 2;
/// The most results one query pages through (50 pages of 20).
pub const MAX_RESULTS: usize = 1000;

/// The fields of the index.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    /// The document's own site (stored, for its address).
    pub site: Field,
    /// Every site that shows it: its own and those that accepted a repost (filter, facet).
    pub sites: Field,
    pub columns: Field,
    /// Disclosure document type, as 1 + its place in `DOC_TYPES`; 0 for none.
    pub dtype: Field,
    /// Issuing body id; 0 for none.
    pub body: Field,
    /// Year of first publication (local time).
    pub year: Field,
    /// First publication, ms.
    pub published: Field,
    /// Every word of the document in one field: title, subtitle, keywords, issuing body,
    /// body text, attachment names and text, document numbers. A word is looked for here,
    /// in one list of postings, and the short fields below only lift where it is found.
    pub all: Field,
    pub title: Field,
    pub subtitle: Field,
    pub keywords: Field,
    /// The body as plain text, stored only: snippets are cut from it (its words are in `all`).
    pub text: Field,
    pub issuer: Field,
    /// Document and index numbers, each one normalised token.
    pub codes: Field,
    /// Document and index numbers as words (a number cited in part).
    pub numbers: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer::JIEBA)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored { o.set_stored() } else { o }
    };
    let code = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(tokenizer::CODE).set_index_option(IndexRecordOption::Basic),
    );
    let f = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        site: b.add_u64_field("site", STORED | FAST),
        sites: b.add_u64_field("sites", INDEXED | FAST),
        columns: b.add_u64_field("columns", INDEXED | FAST),
        dtype: b.add_u64_field("dtype", INDEXED | FAST),
        body: b.add_u64_field("body", INDEXED | FAST),
        year: b.add_u64_field("year", INDEXED | FAST),
        published: b.add_i64_field("published", STORED | FAST),
        all: b.add_text_field("all", words(false)),
        title: b.add_text_field("title", words(true)),
        subtitle: b.add_text_field("subtitle", words(false)),
        keywords: b.add_text_field("keywords", words(false)),
        text: b.add_text_field("text", STORED),
        issuer: b.add_text_field("issuer", words(false)),
        codes: b.add_text_field("codes", code),
        numbers: b.add_text_field("numbers", words(false)),
    };
    (b.build(), f)
}

fn register_tokenizers(index: &Index) {
    index.tokenizers().register(tokenizer::JIEBA, TextAnalyzer::from(tokenizer::Jieba));
    index.tokenizers().register(tokenizer::CODE, TextAnalyzer::from(tokenizer::Code));
}

/// A document as the index holds it.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    pub id: i64,
    pub site_id: i64,
    pub sites: Vec<i64>,
    pub columns: Vec<i64>,
    pub doc_type: Option<String>,
    pub body_id: Option<i64>,
    pub issuer: String,
    pub published_at: i64,
    pub title: String,
    pub subtitle: String,
    pub keywords: String,
    pub text: String,
    pub files: String,
    pub codes: Vec<String>,
}

/// 1 + the place of a disclosure document type in `DOC_TYPES`; 0 for none or unknown.
pub fn dtype_code(t: Option<&str>) -> u64 {
    t.and_then(|t| zhanqun_domain::disclosure::DOC_TYPES.iter().position(|(k, _)| *k == t)).map_or(0, |p| p as u64 + 1)
}

/// The document type of a code.
pub fn dtype_of(code: u64) -> Option<(&'static str, &'static str)> {
    code.checked_sub(1).and_then(|i| zhanqun_domain::disclosure::DOC_TYPES.get(i as usize)).copied()
}

impl IndexDoc {
    pub fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, self.id as u64);
        d.add_u64(f.site, self.site_id as u64);
        for s in &self.sites {
            d.add_u64(f.sites, *s as u64);
        }
        for c in &self.columns {
            d.add_u64(f.columns, *c as u64);
        }
        d.add_u64(f.dtype, dtype_code(self.doc_type.as_deref()));
        d.add_u64(f.body, self.body_id.unwrap_or(0) as u64);
        d.add_u64(f.year, crate::kernel::time::local_date(self.published_at).year().max(0) as u64);
        d.add_i64(f.published, self.published_at);
        d.add_text(f.title, &self.title);
        d.add_text(f.subtitle, &self.subtitle);
        d.add_text(f.keywords, &self.keywords);
        d.add_text(f.text, &self.text);
        d.add_text(f.issuer, &self.issuer);
        for c in &self.codes {
            d.add_text(f.codes, c);
            d.add_text(f.numbers, c);
        }
        // One value after another: tantivy leaves a position between values, so a phrase
        // is never found across the end of one and the start of the next.
        for v in [&self.title, &self.subtitle, &self.keywords, &self.issuer, &self.text, &self.files] {
            if !v.is_empty() {
                d.add_text(f.all, v);
            }
        }
        for c in &self.codes {
            d.add_text(f.all, c);
        }
        d
    }
}

/// What an index's commit records besides its documents.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Payload {
    pub v: u32,
    pub tx_id: i64,
    pub event_id: i64,
}

impl Payload {
    pub fn at(p: Position) -> Payload {
        Payload { v: SCHEMA_VERSION, tx_id: p.tx_id, event_id: p.event_id }
    }
    pub fn position(&self) -> Position {
        Position { tx_id: self.tx_id, event_id: self.event_id }
    }
}

/// One open index directory.
pub struct Live {
    /// Its directory's name under `DATA_DIR/search/`.
    pub name: String,
    pub index: Index,
    pub reader: IndexReader,
    pub f: Fields,
}

/// Why an index cannot be used as it is.
#[derive(Debug)]
pub enum Unusable {
    Missing,
    Corrupt(String),
    OtherVersion(u32),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => write!(f, "no index yet"),
            Unusable::Corrupt(e) => write!(f, "the index cannot be read: {e}"),
            Unusable::OtherVersion(v) => {
                write!(f, "the index is of schema version {v}, this program writes {SCHEMA_VERSION}")
            }
        }
    }
}

impl Live {
    /// Opens the index `CURRENT` names, with the position its last commit reached.
    pub fn open_current(root: &Path) -> Result<(Live, Position), Unusable> {
        let name = std::fs::read_to_string(root.join("CURRENT")).map_err(|_| Unusable::Missing)?.trim().to_string();
        if name.is_empty() || name.contains('/') || name.contains("..") {
            return Err(Unusable::Corrupt(format!("CURRENT names {name:?}")));
        }
        Live::open(root, &name)
    }

    pub fn open(root: &Path, name: &str) -> Result<(Live, Position), Unusable> {
        let dir = root.join(name);
        if !dir.join("meta.json").exists() {
            return Err(Unusable::Missing);
        }
        let corrupt = |e: tantivy::TantivyError| Unusable::Corrupt(e.to_string());
        let mut index = Index::open_in_dir(&dir).map_err(corrupt)?;
        register_tokenizers(&index);
        // Segments are searched on every core: one query answers sooner.
        index.set_default_multithread_executor().map_err(corrupt)?;
        let payload: Payload = index
            .load_metas()
            .map_err(corrupt)?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .ok_or_else(|| Unusable::Corrupt("its last commit records no outbox position".into()))?;
        if payload.v != SCHEMA_VERSION {
            return Err(Unusable::OtherVersion(payload.v));
        }
        let (_, f) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(corrupt)?;
        // Read every segment once: a damaged file shows now, not in a citizen's search.
        let searcher = reader.searcher();
        for seg in searcher.segment_readers() {
            seg.inverted_index(f.title).map_err(|e| Unusable::Corrupt(e.to_string()))?;
            seg.fast_fields().u64("sites").map_err(corrupt)?;
        }
        Ok((Live { name: name.to_string(), index, reader, f }, payload.position()))
    }

    /// A new, empty index directory `name` (it must not exist).
    pub fn create(root: &Path, name: &str) -> tantivy::Result<Live> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        let (schema, f) = schema();
        let mut index = Index::create_in_dir(&dir, schema)?;
        register_tokenizers(&index);
        index.set_default_multithread_executor()?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Live { name: name.to_string(), index, reader, f })
    }
}

/// Makes `name` the index in use, atomically (write, sync, rename).
pub fn set_current(root: &Path, name: &str) -> std::io::Result<()> {
    let tmp = root.join("CURRENT.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(name.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, root.join("CURRENT"))?;
    std::fs::File::open(root)?.sync_all()
}

/// This node's search engine: the index in use (none while there is none that can answer)
/// and what the searches asked, counted before they are written.
pub struct Engine {
    pub root: PathBuf,
    live: ArcSwapOption<Live>,
    /// Why there is no index answering, for the page and the log.
    pub(crate) why_not: Mutex<String>,
    pub(crate) stats: stats::Pending,
}

impl Engine {
    pub fn new(data_dir: &Path) -> Engine {
        Engine {
            root: data_dir.join("search"),
            live: ArcSwapOption::empty(),
            why_not: Mutex::new("全文索引尚未建立".into()),
            stats: Default::default(),
        }
    }

    pub fn live(&self) -> Option<Arc<Live>> {
        self.live.load_full()
    }

    pub(crate) fn set_live(&self, l: Option<Arc<Live>>) {
        self.live.store(l);
    }

    pub(crate) fn set_why_not(&self, why: &str) {
        *self.why_not.lock().unwrap_or_else(|p| p.into_inner()) = why.to_string();
    }
}

/// How this node's index stands, for the system screen.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct IndexStatus {
    pub ready: bool,
    /// Why the database answers searches, when it does.
    pub why_not: Option<String>,
    pub name: Option<String>,
    pub documents: u64,
    pub bytes: u64,
    pub event_id: Option<i64>,
}

impl crate::app::App {
    pub fn search_index_status(&self) -> IndexStatus {
        match self.search.live() {
            Some(l) => {
                let bytes = std::fs::read_dir(self.search.root.join(&l.name))
                    .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
                    .unwrap_or(0);
                let event_id = l
                    .index
                    .load_metas()
                    .ok()
                    .and_then(|m| m.payload)
                    .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
                    .map(|p| p.event_id);
                IndexStatus {
                    ready: true,
                    why_not: None,
                    name: Some(l.name.clone()),
                    documents: l.num_docs(),
                    bytes,
                    event_id,
                }
            }
            None => IndexStatus {
                why_not: Some(self.search.why_not.lock().unwrap_or_else(|p| p.into_inner()).clone()),
                ..Default::default()
            },
        }
    }
}

/// A query as the engine runs it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Each word of the query with its synonyms: one of them must be found.
    pub words: Vec<Vec<String>>,
    /// Quoted phrases: found word after word.
    pub phrases: Vec<String>,
    pub site: Option<i64>,
    pub column: Option<i64>,
    pub dtype: Option<u64>,
    pub body: Option<i64>,
    pub year: Option<i32>,
    pub by_date: bool,
    pub offset: usize,
    pub limit: usize,
}

/// One document found.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: i64,
    pub site_id: i64,
    pub published_at: i64,
    pub title: String,
    /// Byte ranges of `title` that matched.
    pub title_hits: Vec<std::ops::Range<usize>>,
    pub snippet: String,
    pub snippet_hits: Vec<std::ops::Range<usize>>,
}

/// Counts per value of each facet.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub sites: HashMap<u64, u64>,
    pub columns: HashMap<u64, u64>,
    pub dtypes: HashMap<u64, u64>,
    pub bodies: HashMap<u64, u64>,
    pub years: HashMap<u64, u64>,
}

impl Facets {
    fn add(&mut self, o: Facets) {
        for (mine, theirs) in [
            (&mut self.sites, o.sites),
            (&mut self.columns, o.columns),
            (&mut self.dtypes, o.dtypes),
            (&mut self.bodies, o.bodies),
            (&mut self.years, o.years),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
    }
}

/// Counts the facets of every document a query matches.
struct FacetCounts;

/// Counts per value of one facet in one segment: a plain array for the small ids facets
/// hold (sites, columns, bodies, years), a map beyond. A common word matches half the
/// corpus; this is the loop it runs for every match.
#[derive(Default)]
struct Tally {
    dense: Vec<u32>,
    sparse: HashMap<u64, u64>,
}

const DENSE_IDS: u64 = 1 << 20;

impl Tally {
    #[inline]
    fn add(&mut self, v: u64) {
        if v < DENSE_IDS {
            let i = v as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] += 1;
        } else {
            *self.sparse.entry(v).or_default() += 1;
        }
    }

    fn into_map(self) -> HashMap<u64, u64> {
        let mut m = self.sparse;
        for (v, n) in self.dense.into_iter().enumerate() {
            if n > 0 {
                *m.entry(v as u64).or_default() += u64::from(n);
            }
        }
        m
    }
}

struct FacetSegment {
    /// Sites and columns: a document may have several.
    many: [tantivy::columnar::Column<u64>; 2],
    /// Type, body and year: at most one.
    one: [tantivy::columnar::Column<u64>; 3],
    tallies: [Tally; 5],
}

impl Collector for FacetCounts {
    type Fruit = Facets;
    type Child = FacetSegment;

    fn for_segment(&self, _: tantivy::SegmentOrdinal, r: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let ff = r.fast_fields();
        Ok(FacetSegment {
            many: [ff.u64("sites")?, ff.u64("columns")?],
            one: [ff.u64("dtype")?, ff.u64("body")?, ff.u64("year")?],
            tallies: Default::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut all = Facets::default();
        for f in fruits {
            all.add(f);
        }
        Ok(all)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _: Score) {
        let [sites, columns, dtypes, bodies, years] = &mut self.tallies;
        for (col, t) in self.many.iter().zip([sites, columns]) {
            for v in col.values_for_doc(doc) {
                t.add(v);
            }
        }
        for (col, t) in self.one.iter().zip([dtypes, bodies, years]) {
            if let Some(v) = col.first(doc) {
                t.add(v);
            }
        }
    }

    fn harvest(self) -> Facets {
        let [sites, columns, dtypes, bodies, years] = self.tallies;
        Facets {
            sites: sites.into_map(),
            columns: columns.into_map(),
            dtypes: dtypes.into_map(),
            bodies: bodies.into_map(),
            years: years.into_map(),
        }
    }
}

/// What a query found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub total: usize,
    pub hits: Vec<Found>,
    pub facets: Facets,
}

fn term_u64(f: Field, v: u64) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_u64(f, v), IndexRecordOption::Basic))
}

fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if (boost - 1.0).abs() < f32::EPSILON { q } else { Box::new(BoostQuery::new(q, boost)) }
}

/// A word segment found in more documents than this is too common for its positions in the
/// text to be read on every query (the title's positions still are).
const COMMON_WORD_DOCS: u64 = 10_000;

/// One word found in `field`, its frequency counted for the ranking.
fn word_in(field: Field, word: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs))
}

/// The words `tokens` found one after the other in `field` (one word: found at all).
fn sequence(field: Field, tokens: &[String]) -> Box<dyn Query> {
    if tokens.len() == 1 {
        word_in(field, &tokens[0])
    } else {
        Box::new(PhraseQuery::new(tokens.iter().map(|t| Term::from_field_text(field, t)).collect()))
    }
}

impl Live {
    /// The short fields whose words lift a document where a word is found in `all`, with
    /// the lift (the body text counts 1, through `all`).
    fn lifts(&self) -> [(Field, f32); 5] {
        let f = &self.f;
        [(f.title, 3.0), (f.subtitle, 1.0), (f.keywords, 1.5), (f.numbers, 1.0), (f.issuer, 0.5)]
    }

    /// One typed word: each of its segments somewhere in the document (one list of
    /// postings, `all`), lifted where it is in the title or another short field; the whole
    /// word in the title ranked higher (and anywhere, unless its segments are so common that
    /// reading their positions in every document would cost more than the ranking gains);
    /// a document number as a whole.
    fn word_query(&self, searcher: &Searcher, word: &str) -> Option<Box<dyn Query>> {
        let tokens = tokenizer::query_words(word);
        if tokens.is_empty() {
            return None;
        }
        let f = &self.f;
        if tokenizer::looks_like_code(word) {
            let code: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(f.codes, &tokenizer::normalize_code(word)),
                IndexRecordOption::Basic,
            ));
            let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, boosted(code, 20.0))];
            for (field, w) in [(f.numbers, 3.0), (f.title, 1.0), (f.all, 1.0)] {
                any.push((Occur::Should, boosted(sequence(field, &tokens), w)));
            }
            return Some(Box::new(BooleanQuery::new(any)));
        }
        let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &tokens {
            all.push((Occur::Must, word_in(f.all, t)));
            for (field, w) in self.lifts() {
                all.push((Occur::Should, boosted(word_in(field, t), w)));
            }
        }
        if tokens.len() > 1 {
            all.push((Occur::Should, boosted(sequence(f.title, &tokens), 3.0)));
            let rare = tokens
                .iter()
                .any(|t| searcher.doc_freq(&Term::from_field_text(f.all, t)).unwrap_or(u64::MAX) <= COMMON_WORD_DOCS);
            if rare {
                all.push((Occur::Should, sequence(f.all, &tokens)));
            }
        }
        Some(Box::new(BooleanQuery::new(all)))
    }

    /// A quoted phrase: its words one after the other in one field (`all` holds each field
    /// apart from the next), higher in the title.
    fn phrase_query(&self, phrase: &str) -> Option<Box<dyn Query>> {
        let tokens = tokenizer::query_words(phrase);
        if tokens.is_empty() {
            return None;
        }
        Some(Box::new(BooleanQuery::new(vec![
            (Occur::Must, sequence(self.f.all, &tokens)),
            (Occur::Should, boosted(sequence(self.f.title, &tokens), 3.0)),
        ])))
    }

    /// Cuts snippets of `field` around the words `query` looks for anywhere (in `all`),
    /// the rarer a word the more it counts, as tantivy's own generator weighs them.
    fn snippets(&self, searcher: &Searcher, query: &dyn Query, field: Field, max_chars: usize) -> SnippetGenerator {
        let mut words: std::collections::BTreeMap<String, Score> = Default::default();
        query.query_terms(&mut |term, _| {
            if term.field() == self.f.all
                && let Some(w) = term.value().as_str()
                && !words.contains_key(w)
            {
                let df = searcher.doc_freq(term).unwrap_or(0);
                if df > 0 {
                    words.insert(w.to_string(), 1.0 / (1.0 + df as Score));
                }
            }
        });
        SnippetGenerator::new(words, TextAnalyzer::from(tokenizer::Jieba), field, max_chars)
    }

    /// The whole query: every word (or a synonym), every phrase, every filter.
    pub fn query(&self, p: &Plan) -> Option<Box<dyn Query>> {
        let searcher = self.reader.searcher();
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for variants in &p.words {
            let any: Vec<(Occur, Box<dyn Query>)> =
                variants.iter().filter_map(|v| self.word_query(&searcher, v)).map(|q| (Occur::Should, q)).collect();
            if !any.is_empty() {
                must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        for ph in &p.phrases {
            if let Some(q) = self.phrase_query(ph) {
                must.push((Occur::Must, q));
            }
        }
        if must.is_empty() {
            return None;
        }
        let f = &self.f;
        let filters = [
            p.site.map(|s| (f.sites, s as u64)),
            p.column.map(|c| (f.columns, c as u64)),
            p.dtype.map(|t| (f.dtype, t)),
            p.body.map(|b| (f.body, b as u64)),
            p.year.map(|y| (f.year, y.max(0) as u64)),
        ];
        for (field, v) in filters.into_iter().flatten() {
            must.push((Occur::Must, term_u64(field, v)));
        }
        Some(Box::new(BooleanQuery::new(must)))
    }

    /// Runs `p`: the page of hits asked for, how many in all, the facet counts.
    pub fn run(&self, p: &Plan) -> tantivy::Result<Outcome> {
        let Some(query) = self.query(p) else { return Ok(Outcome::default()) };
        let searcher = self.reader.searcher();
        let limit = p.limit.max(1);
        let offset = p.offset.min(MAX_RESULTS);
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (addrs, total, facets): (Vec<DocAddress>, usize, Facets) = if p.by_date {
            let c = top.order_by_fast_field::<i64>("published", Order::Desc);
            let (docs, total, facets) = searcher.search(&query, &(c, Count, FacetCounts))?;
            (docs.into_iter().map(|(_, a)| a).collect(), total, facets)
        } else {
            // Relevance, with a gentle lift for what is recent: ×1.5 today, ×1.25 a year
            // old, fading towards ×1 over the years.
            let now = crate::kernel::time::now_ms();
            let c = top.tweak_score(move |seg: &SegmentReader| {
                let published = seg.fast_fields().i64("published").ok().map(|c| c.first_or_default_col(0));
                move |doc: DocId, score: Score| {
                    let at = published.as_ref().map_or(0, |c| c.get_val(doc));
                    let years = ((now - at).max(0) as f32) / (365.0 * 86_400_000.0);
                    score * (1.0 + 0.5 / (1.0 + years))
                }
            });
            let (docs, total, facets) = searcher.search(&query, &(c, Count, FacetCounts))?;
            (docs.into_iter().map(|(_, a)| a).collect(), total, facets)
        };
        let body_snips = self.snippets(&searcher, &*query, self.f.text, 120);
        let title_snips = self.snippets(&searcher, &*query, self.f.title, 400);
        let mut hits = Vec::with_capacity(addrs.len());
        for a in addrs {
            let doc: TantivyDocument = searcher.doc(a)?;
            let u = |f: Field| doc.get_first(f).and_then(|v| v.as_u64()).unwrap_or(0);
            let title = doc.get_first(self.f.title).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let t = title_snips.snippet_from_doc(&doc);
            let title_hits = if t.fragment() == title { t.highlighted().to_vec() } else { Vec::new() };
            let s = body_snips.snippet_from_doc(&doc);
            let (snippet, snippet_hits) = if s.fragment().is_empty() {
                let text = doc.get_first(self.f.text).and_then(|v| v.as_str()).unwrap_or("");
                (text.chars().take(80).collect(), Vec::new())
            } else {
                (s.fragment().to_string(), s.highlighted().to_vec())
            };
            hits.push(Found {
                id: u(self.f.id) as i64,
                site_id: u(self.f.site) as i64,
                published_at: doc.get_first(self.f.published).and_then(|v| v.as_i64()).unwrap_or(0),
                title,
                title_hits,
                snippet,
                snippet_hits,
            });
        }
        Ok(Outcome { total, hits, facets })
    }

    /// How many documents the index holds.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}
