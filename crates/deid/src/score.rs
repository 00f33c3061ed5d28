//! Scoring found spans against gold spans with the PhysioNet scorer's convention: a gold span
//! counts as found when any found span of the same note overlaps it; precision is over found
//! spans (a found span is correct when it overlaps any gold span).

use crate::physionet::GoldSpan;
use std::collections::{BTreeMap, HashMap};

/// A span found by a de-identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Patient number.
    pub patient: u32,
    /// Note number.
    pub note: u32,
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

/// Span-level figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Score {
    /// Gold spans.
    pub gold: usize,
    /// Gold spans overlapped by a found span.
    pub found_gold: usize,
    /// Found spans.
    pub found: usize,
    /// Found spans overlapping a gold span.
    pub correct: usize,
    /// Per category: (gold spans, found).
    pub by_category: BTreeMap<String, (usize, usize)>,
    /// Indexes into the gold list of the missed spans.
    pub missed: Vec<usize>,
    /// Indexes into the found list of the spans overlapping no gold span.
    pub wrong: Vec<usize>,
}

impl Score {
    /// Recall over gold spans.
    pub fn recall(&self) -> f64 {
        ratio(self.found_gold, self.gold)
    }
    /// Precision over found spans.
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.found)
    }
    /// Harmonic mean.
    pub fn f1(&self) -> f64 {
        harmonic(self.precision(), self.recall())
    }
}

fn harmonic(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Scores `found` against `gold`.
pub fn score(gold: &[GoldSpan], found: &[Span]) -> Score {
    let mut by_note: HashMap<(u32, u32), Vec<(usize, usize)>> = HashMap::new();
    for f in found {
        by_note
            .entry((f.patient, f.note))
            .or_default()
            .push((f.start, f.end));
    }
    let mut gold_by_note: HashMap<(u32, u32), Vec<(usize, usize)>> = HashMap::new();
    for g in gold {
        gold_by_note
            .entry((g.patient, g.note))
            .or_default()
            .push((g.start, g.end));
    }
    let mut s = Score {
        gold: gold.len(),
        found: found.len(),
        ..Score::default()
    };
    for (i, g) in gold.iter().enumerate() {
        let hit = by_note
            .get(&(g.patient, g.note))
            .is_some_and(|v| v.iter().any(|f| overlaps(*f, (g.start, g.end))));
        let e = s.by_category.entry(g.category.clone()).or_default();
        e.0 += 1;
        if hit {
            e.1 += 1;
            s.found_gold += 1;
        } else {
            s.missed.push(i);
        }
    }
    for (i, f) in found.iter().enumerate() {
        let right = gold_by_note
            .get(&(f.patient, f.note))
            .is_some_and(|v| v.iter().any(|g| overlaps(*g, (f.start, f.end))));
        if right {
            s.correct += 1;
        } else {
            s.wrong.push(i);
        }
    }
    s
}

/// Token-level figures: each alphanumeric token of a note is PHI in the gold standard when a
/// gold span covers part of it, and found when a found span does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenScore {
    /// Gold PHI tokens.
    pub gold: usize,
    /// Found tokens.
    pub found: usize,
    /// Tokens both gold and found.
    pub both: usize,
    /// Per gold category: (gold tokens, found among them).
    pub by_category: BTreeMap<String, (usize, usize)>,
}

impl TokenScore {
    /// Recall over gold tokens.
    pub fn recall(&self) -> f64 {
        ratio(self.both, self.gold)
    }
    /// Precision over found tokens.
    pub fn precision(&self) -> f64 {
        ratio(self.both, self.found)
    }
    /// Harmonic mean.
    pub fn f1(&self) -> f64 {
        harmonic(self.precision(), self.recall())
    }
}

/// Scores `found` against `gold` token by token over `notes` (offsets in characters).
pub fn token_score(notes: &[crate::Note], gold: &[GoldSpan], found: &[Span]) -> TokenScore {
    type Cat<'a> = (usize, usize, &'a str);
    let mut g: HashMap<(u32, u32), Vec<Cat>> = HashMap::new();
    for s in gold {
        g.entry((s.patient, s.note))
            .or_default()
            .push((s.start, s.end, &s.category));
    }
    let mut f: HashMap<(u32, u32), Vec<(usize, usize)>> = HashMap::new();
    for s in found {
        f.entry((s.patient, s.note))
            .or_default()
            .push((s.start, s.end));
    }
    let mut out = TokenScore::default();
    for n in notes {
        let key = (n.patient, n.note);
        let (gs, fs) = (g.get(&key), f.get(&key));
        if gs.is_none() && fs.is_none() {
            continue;
        }
        let toks: Vec<_> = crate::features::tokenize(&n.body)
            .into_iter()
            .filter(|t| {
                n.body
                    .get(t.start..t.end)
                    .is_some_and(|w| w.chars().all(char::is_alphanumeric))
            })
            .collect();
        let offs: Vec<usize> = toks.iter().flat_map(|t| [t.start, t.end]).collect();
        let chars = crate::char_offsets(&n.body, &offs);
        for c in chars.chunks(2) {
            let &[s, e] = c else { continue };
            let gold_cat =
                gs.and_then(|v| v.iter().find(|x| overlaps((x.0, x.1), (s, e))).map(|x| x.2));
            let hit = fs.is_some_and(|v| v.iter().any(|x| overlaps(*x, (s, e))));
            if hit {
                out.found += 1;
            }
            if let Some(cat) = gold_cat {
                out.gold += 1;
                let entry = out.by_category.entry(cat.to_string()).or_default();
                entry.0 += 1;
                if hit {
                    out.both += 1;
                    entry.1 += 1;
                }
            }
        }
    }
    out
}
