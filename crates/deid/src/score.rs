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
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
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
