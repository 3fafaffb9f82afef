//! The check for wrong and sensitive expressions (错敏词): a 50,000-character document
//! against a 10,000-entry list, against the same work at a tenth of the size (5,000
//! characters, 1,000 entries); building the matcher for each list too.
//!
//! `cargo bench -p zhanqun-domain --bench expressions` (`-- N` runs of each, default 200).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use zhanqun_domain::expressions::{Entry, Kind, Matcher};

/// Characters of the government vocabulary the synthetic list and texts are made of.
const CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质务";

fn pick(seed: &mut u64, n: usize) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % n as u64) as usize
}

/// `n` distinct entries of 3 to 8 characters, a third of each kind.
fn list(n: usize, seed: &mut u64) -> Vec<Entry> {
    let chars: Vec<char> = CHARS.chars().collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let len = 3 + pick(seed, 6);
        let w: String = (0..len).map(|_| chars[pick(seed, chars.len())]).collect();
        if seen.insert(w.clone()) {
            let kind = Kind::ALL[out.len() % 3];
            let suggestion = (kind == Kind::Wrong).then(|| format!("{w}（正）"));
            out.push(Entry { word: w, kind, suggestion });
        }
    }
    out
}

/// A text of `n` characters with punctuation, and one entry of the list every ~500 chars.
fn text(n: usize, entries: &[Entry], seed: &mut u64) -> String {
    let chars: Vec<char> = CHARS.chars().collect();
    let mut s = String::with_capacity(n * 3);
    let mut count = 0;
    while count < n {
        if pick(seed, 500) == 0 {
            let e = &entries[pick(seed, entries.len())];
            s.push_str(&e.word);
            count += e.word.chars().count();
        } else if pick(seed, 20) == 0 {
            s.push('，');
            count += 1;
        } else {
            s.push(chars[pick(seed, chars.len())]);
            count += 1;
        }
    }
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (build, check p50, check p95, hits) of one size.
fn measure(chars: usize, entries: usize, runs: usize) -> (Duration, Duration, Duration, usize) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (chars as u64);
    let l = list(entries, &mut seed);
    let t = text(chars, &l, &mut seed);
    let t0 = Instant::now();
    let m = Matcher::new(l);
    let build = t0.elapsed();
    let mut times = Vec::with_capacity(runs);
    let mut hits = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        hits = std::hint::black_box(m.find(std::hint::black_box(&t))).len();
        times.push(t0.elapsed());
    }
    times.sort();
    (build, percentile(&times, 0.5), percentile(&times, 0.95), hits)
}

fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    println!("expression check, {runs} runs each (one thread)");
    println!(
        "{:>10} {:>8} {:>10} {:>10} {:>10} {:>6}",
        "characters", "entries", "build ms", "p50 ms", "p95 ms", "hits"
    );
    let mut rows = Vec::new();
    for (chars, entries) in [(5_000, 1_000), (50_000, 10_000)] {
        let (build, p50, p95, hits) = measure(chars, entries, runs);
        println!("{chars:>10} {entries:>8} {:>10.2} {:>10.3} {:>10.3} {hits:>6}", ms(build), ms(p50), ms(p95));
        rows.push(p95);
    }
    println!(
        "p95 ratio, 50,000 characters × 10,000 entries against 5,000 × 1,000: {:.1}× (the target: under 50 ms)",
        rows[1].as_secs_f64() / rows[0].as_secs_f64()
    );
}
