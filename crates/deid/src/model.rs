//! The learned PHI token classifier: multinomial logistic regression over hashed word, context
//! and rule features ([`crate::features`]), trained with AdaGrad on annotated notes
//! (`ward train deid`).
//!
//! Each token gets a probability per class (`O` for not PHI, then one class per PHI category). A
//! token is PHI when its PHI probability reaches the model's threshold, which is set low: recall
//! comes first. Adjacent PHI tokens of one category join into one span.
//!
//! Inference sums the weights of each distinct word once (its own features and its features as
//! a neighbour) in a bounded per-[`Finder`] cache, so that the cost per token is a handful of
//! vector additions.

use crate::features::{self, Token};
use crate::hints;
use crate::rules::{self, Category, Found};
use crate::{GoldSpan, Note};
use std::collections::HashMap;

/// A hash map with a fast, fixed hasher (the keys are not attacker-chosen in any way that
/// matters: at worst a slow note).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// The classes, index 0 being "not PHI".
pub const CLASSES: [Option<Category>; K] = [
    None,
    Some(Category::Date),
    Some(Category::DateYear),
    Some(Category::Phone),
    Some(Category::Age),
    Some(Category::HcpName),
    Some(Category::PtName),
    Some(Category::RelativeProxyName),
    Some(Category::Location),
    Some(Category::Other),
];

/// The number of classes.
pub const K: usize = 10;

/// The default PHI probability from which a token is flagged.
pub const DEFAULT_THRESHOLD: f32 = 0.065;

/// The probability from which a name or place marks the word's other occurrences.
pub const PROPAGATE_SURE: f32 = 0.5;

/// A name or place span grows into neighbours with at least this share of the threshold.
pub const EXTEND_FACTOR: f32 = 0.1;

/// The classes whose words propagate: names and places.
const PROPAGATES: [usize; 4] = [5, 6, 7, 8];

/// A word used as non-PHI in this many training patients' notes is common: it never
/// propagates.
const COMMON_PATIENTS: u32 = 6;

/// The classes of persons' names.
const PERSONS: [usize; 3] = [5, 6, 7];

/// Raises class `k` of `p` to a little over `threshold` (so that rounding cannot leave it just
/// below) and makes it the most likely PHI class.
fn lift_to(p: &mut [f32; K], k: usize, threshold: f32) {
    let lift = (threshold - (1.0 - p[0])).max(0.0) + 1e-4;
    p[0] -= lift;
    if let Some(v) = p.get_mut(k) {
        *v += lift;
    }
    let (b, bp) = best_phi(p);
    if b != k
        && let Some(v) = p.get_mut(k)
    {
        *v = bp + 1e-6;
    }
}

/// The class of the person's name that token `i` is the initial of (`W` of `W. Marotta`, the
/// name flagged, the initial not), if it is one: an initial joins the name whatever its
/// probability.
fn initial_before_name(
    text: &str,
    probs: &[(Token, [f32; K])],
    i: usize,
    threshold: f32,
) -> Option<usize> {
    let word = |t: &Token| text.get(t.start..t.end).unwrap_or_default();
    let (name, q) = probs.get(i + 2)?;
    let (t, p) = probs.get(i)?;
    // (the cheap tests first: this runs for every token)
    if 1.0 - q[0] < threshold || 1.0 - p[0] >= threshold || t.end - t.start > 4 {
        return None;
    }
    let (dot, _) = probs.get(i + 1)?;
    let (best, _) = best_phi(q);
    let mut letters = word(t).chars();
    let single = letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none();
    let gap = text.get(dot.end..name.start)?;
    (single
        && word(dot) == "."
        && t.end == dot.start
        && (1..=2).contains(&gap.len())
        && gap.bytes().all(|b| b == b' ')
        && PERSONS.contains(&best))
    .then_some(best)
}

/// The most likely PHI class of a distribution and its probability.
fn best_phi(p: &[f32; K]) -> (usize, f32) {
    p.iter().enumerate().skip(1).fold(
        (1, f32::MIN),
        |a, (k, v)| if *v > a.1 { (k, *v) } else { a },
    )
}

/// The most distinct words a [`Finder`] keeps summed before it starts afresh.
const CACHE_WORDS: usize = 1 << 17;

/// The class of a PhysioNet (or ward) category name; `None` when it is not one.
pub fn class_of(category: &str) -> Option<usize> {
    let c = match category {
        "PTNameInitial" => Category::PtName,
        other => match crate::presidio::category_of(other) {
            Some(c) => Category::parse(c)?,
            None => Category::parse(other)?,
        },
    };
    let coarse = match c {
        Category::Address => Category::Location,
        Category::Email
        | Category::Url
        | Category::IpAddress
        | Category::Ssn
        | Category::IdNumber => Category::Other,
        c => c,
    };
    CLASSES.iter().position(|k| *k == Some(coarse))
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Passes over the tokens.
    pub epochs: usize,
    /// AdaGrad learning rate.
    pub rate: f32,
    /// The PHI probability from which the trained model flags a token.
    pub threshold: f32,
    /// Seed of the token order.
    pub seed: u64,
    /// The weight of a PHI token's loss against a non-PHI token's.
    pub phi_weight: f32,
    /// L2 penalty per update on the active rows (lazy shrinkage).
    pub l2: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 8,
            rate: 0.3,
            threshold: DEFAULT_THRESHOLD,
            seed: 0x5eed_dead_beef,
            phi_weight: 1.0,
            l2: 0.003,
        }
    }
}

/// A trained classifier. It serialises (serde) as its threshold and its weight rows, sorted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "ModelFile", into = "ModelFile")]
pub struct Model {
    weights: FastMap<u32, [f32; K]>,
    /// Per word key ([`features::word_key`]): how many training patients' notes use the word
    /// as a word that is not PHI. (Hashes only: no word of the notes is kept.)
    vocab: FastMap<u32, u32>,
    /// The PHI probability from which a token is flagged.
    pub threshold: f32,
}

/// The serialised form of a [`Model`].
#[derive(serde::Serialize, serde::Deserialize)]
struct ModelFile {
    classes: Vec<String>,
    threshold: f32,
    rows: Vec<(u32, [f32; K])>,
    /// (absent from models written before the vocabulary feature)
    #[serde(default)]
    vocab: Vec<(u32, u32)>,
}

impl From<Model> for ModelFile {
    fn from(m: Model) -> Self {
        let mut rows: Vec<_> = m.weights.into_iter().collect();
        rows.sort_unstable_by_key(|(k, _)| *k);
        let mut vocab: Vec<_> = m.vocab.into_iter().collect();
        vocab.sort_unstable();
        Self {
            vocab,
            classes: CLASSES
                .iter()
                .map(|c| c.map_or("O", Category::physionet).to_string())
                .collect(),
            threshold: m.threshold,
            rows,
        }
    }
}

impl From<ModelFile> for Model {
    fn from(f: ModelFile) -> Self {
        Self {
            weights: f.rows.into_iter().collect(),
            vocab: f.vocab.into_iter().collect(),
            threshold: f.threshold,
        }
    }
}

/// Per-note token features for training: token offsets, rule categories per token.
struct Prepared {
    tokens: Vec<Token>,
    feats: Vec<Vec<u32>>,
}

/// `vocab` gives, per word, the number of training patients (other than the note's own) whose
/// notes use it as a word that is not PHI.
fn prepare(text: &str, vocab: &dyn Fn(&str) -> u32) -> Prepared {
    let tokens = features::tokenize(text);
    let rule_cats = rule_categories(&rules::find(text), &tokens);
    let hint_cats = hint_categories(&hints::find_in(text, &tokens), &tokens);
    let chunks = features::chunk_features(text, &tokens);
    let caps = features::caps_note(text);
    let none: Vec<u32> = Vec::new();
    let mut own: Vec<Vec<u32>> = Vec::with_capacity(tokens.len());
    let mut ctx: Vec<[Vec<u32>; 4]> = Vec::with_capacity(tokens.len());
    let mut shapes = Vec::with_capacity(tokens.len());
    let mut novelty = Vec::with_capacity(tokens.len());
    for t in &tokens {
        let w = text.get(t.start..t.end).unwrap_or_default();
        let patients = vocab(w);
        novelty.push(features::vocab_bucket(patients));
        let mut o = Vec::new();
        features::known_word_features(w, 0, patients, &mut o);
        own.push(o);
        let mut c: [Vec<u32>; 4] = Default::default();
        for (slot, off) in c.iter_mut().zip(OFFSETS) {
            features::known_word_features(w, off, patients, slot);
        }
        ctx.push(c);
        shapes.push(features::shape(w));
    }
    let mut bound: [Vec<u32>; 4] = Default::default();
    for (slot, off) in bound.iter_mut().zip(OFFSETS) {
        features::word_features(BOUNDARY, off, slot);
    }
    let mut feats = Vec::with_capacity(tokens.len());
    for i in 0..tokens.len() {
        let mut f = own.get(i).cloned().unwrap_or_default();
        for (j, off) in OFFSETS.iter().enumerate() {
            let at = i as isize + *off as isize;
            let src = usize::try_from(at)
                .ok()
                .and_then(|a| ctx.get(a))
                .and_then(|c| c.get(j))
                .or_else(|| bound.get(j))
                .unwrap_or(&none);
            f.extend_from_slice(src);
        }
        features::token_features(
            &place(
                text,
                &tokens,
                &rule_cats,
                &hint_cats,
                i,
                caps,
                novelty.get(i).copied().unwrap_or(0),
            ),
            &mut f,
        );
        if let Some(Some(c)) = chunks.get(i) {
            f.push(*c);
        }
        if caps {
            f.push(features::caps_shape_feature(
                shapes.get(i).map_or("", String::as_str),
            ));
        }
        feats.push(f);
    }
    Prepared { tokens, feats }
}

/// Neighbour offsets of the context features, in the order of the per-word cache.
const OFFSETS: [i8; 4] = [-2, -1, 1, 2];
/// The pseudo-word beyond either end of a note.
const BOUNDARY: &str = "<|>";

fn rule_categories(found: &[Found], tokens: &[Token]) -> Vec<&'static str> {
    let mut out = vec!["-"; tokens.len()];
    let mut j = 0;
    for (i, t) in tokens.iter().enumerate() {
        while found.get(j).is_some_and(|f| f.end <= t.start) {
            j += 1;
        }
        if let (Some(f), Some(slot)) = (found.get(j), out.get_mut(i))
            && f.start < t.end
        {
            *slot = f.category.physionet();
        }
    }
    out
}

fn hint_categories(hints: &[hints::Hint], tokens: &[Token]) -> Vec<&'static str> {
    let mut out = vec!["-"; tokens.len()];
    for h in hints {
        let first = tokens.partition_point(|t| t.end <= h.start);
        for (t, slot) in tokens.iter().zip(out.iter_mut()).skip(first) {
            if t.start >= h.end {
                break;
            }
            if *slot == "-" {
                *slot = h.name;
            }
        }
    }
    out
}

fn context(cats: &[&'static str], i: usize) -> [&'static str; 3] {
    let at = |j: Option<usize>| j.and_then(|j| cats.get(j)).copied().unwrap_or("|");
    [at(Some(i)), at(i.checked_sub(1)), at(i.checked_add(1))]
}

fn place(
    text: &str,
    tokens: &[Token],
    rule_cats: &[&'static str],
    hint_cats: &[&'static str],
    i: usize,
    caps: bool,
    novelty: u8,
) -> features::Place {
    let (line_start, mid_capital) = place_flags(text, tokens, i, caps);
    features::Place {
        novelty,
        rules: context(rule_cats, i),
        hints: context(hint_cats, i),
        line_start,
        mid_capital,
    }
}

/// The `line_start` and `mid_capital` of a token's [`features::Place`].
fn place_flags(text: &str, tokens: &[Token], i: usize, caps: bool) -> (bool, bool) {
    let line_start = line_start(text, tokens, i);
    (
        line_start,
        !caps && !line_start && mid_capital(text, tokens, i),
    )
}

/// A capitalised word (`Towson`) after a word or comma, in the middle of a sentence.
fn mid_capital(text: &str, tokens: &[Token], i: usize) -> bool {
    let word = |j: usize| {
        tokens
            .get(j)
            .and_then(|t| text.get(t.start..t.end))
            .unwrap_or_default()
    };
    let mut w = word(i).chars();
    let title = w.next().is_some_and(char::is_uppercase) && w.any(char::is_lowercase);
    let prev = i.checked_sub(1).map(word).unwrap_or_default();
    title && (prev == "," || prev.chars().next().is_some_and(char::is_alphanumeric))
}

fn line_start(text: &str, tokens: &[Token], i: usize) -> bool {
    let from = i
        .checked_sub(1)
        .and_then(|p| tokens.get(p))
        .map_or(0, |p| p.end);
    let to = tokens.get(i).map_or(from, |t| t.start);
    from == 0 || text.get(from..to).is_some_and(|g| g.contains('\n'))
}

/// The class of each token from the gold spans of its note (character offsets into the body).
fn gold_classes(text: &str, tokens: &[Token], gold: &[&GoldSpan]) -> Vec<usize> {
    // character offset -> byte offset
    let mut byte_of: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    byte_of.push(text.len());
    let mut out = vec![0usize; tokens.len()];
    for g in gold {
        let (Some(&s), Some(&e)) = (byte_of.get(g.start), byte_of.get(g.end)) else {
            continue;
        };
        let Some(class) = class_of(&g.category) else {
            continue;
        };
        for (t, slot) in tokens.iter().zip(out.iter_mut()) {
            if t.start < e && s < t.end {
                *slot = class;
            }
        }
    }
    out
}

fn softmax(s: &mut [f32; K]) {
    let m = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut z = 0.0;
    for v in s.iter_mut() {
        *v = (*v - m).exp();
        z += *v;
    }
    for v in s.iter_mut() {
        *v /= z;
    }
}

impl Model {
    /// Trains a model on annotated notes: `gold` holds the PHI spans of `notes` (matched by
    /// patient and note number, character offsets into each body).
    pub fn train(notes: &[Note], gold: &[GoldSpan], opts: &TrainOptions) -> Self {
        let mut by_note: HashMap<(u32, u32), Vec<&GoldSpan>> = HashMap::new();
        for g in gold {
            by_note.entry((g.patient, g.note)).or_default().push(g);
        }
        // interned feature rows, flat token feature lists
        let mut row_of: HashMap<u32, u32> = HashMap::new();
        let mut fids: Vec<u32> = Vec::new();
        let mut feats: Vec<u32> = Vec::new();
        let mut bounds: Vec<(usize, usize, usize)> = Vec::new(); // start, end, class
        let empty = Vec::new();
        // the vocabulary: per patient, the words of their notes that are not PHI
        let mut own: HashMap<u32, std::collections::HashSet<u32>> = HashMap::new();
        for n in notes {
            let tokens = features::tokenize(&n.body);
            let g = by_note.get(&(n.patient, n.note)).unwrap_or(&empty);
            let set = own.entry(n.patient).or_default();
            for (t, c) in tokens.iter().zip(gold_classes(&n.body, &tokens, g)) {
                if c == 0 {
                    set.insert(features::word_key(n.body.get(t.start..t.end).unwrap_or("")));
                }
            }
        }
        let mut vocab: FastMap<u32, u32> = FastMap::default();
        for set in own.values() {
            for k in set {
                *vocab.entry(*k).or_default() += 1;
            }
        }
        for n in notes {
            // a note's own patient does not count (at use, no note's patient was trained on)
            let mine = own.get(&n.patient);
            let count = |w: &str| {
                let k = features::word_key(w);
                let all = vocab.get(&k).copied().unwrap_or(0);
                all - u32::from(mine.is_some_and(|m| m.contains(&k)))
            };
            let p = prepare(&n.body, &count);
            let g = by_note.get(&(n.patient, n.note)).unwrap_or(&empty);
            let classes = gold_classes(&n.body, &p.tokens, g);
            for (f, c) in p.feats.iter().zip(classes) {
                let s = feats.len();
                for id in f {
                    let r = *row_of.entry(*id).or_insert_with(|| {
                        fids.push(*id);
                        (fids.len() - 1) as u32
                    });
                    feats.push(r);
                }
                bounds.push((s, feats.len(), c));
            }
        }
        let rows = fids.len();
        let mut w = vec![[0f32; K]; rows];
        let mut g2 = vec![[1e-6f32; K]; rows];
        let mut order: Vec<usize> = (0..bounds.len()).collect();
        let mut rng = opts.seed | 1;
        for _ in 0..opts.epochs {
            // Fisher-Yates with xorshift64
            for i in (1..order.len()).rev() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                order.swap(i, (rng % (i as u64 + 1)) as usize);
            }
            for &t in &order {
                let Some(&(s, e, class)) = bounds.get(t) else {
                    continue;
                };
                let active = feats.get(s..e).unwrap_or_default();
                let mut p = [0f32; K];
                for &r in active {
                    if let Some(row) = w.get(r as usize) {
                        for (a, b) in p.iter_mut().zip(row) {
                            *a += b;
                        }
                    }
                }
                softmax(&mut p);
                let mut grad = p;
                if let Some(g) = grad.get_mut(class) {
                    *g -= 1.0;
                }
                if class != 0 {
                    for g in &mut grad {
                        *g *= opts.phi_weight;
                    }
                }
                for &r in active {
                    let (Some(row), Some(acc)) = (w.get_mut(r as usize), g2.get_mut(r as usize))
                    else {
                        continue;
                    };
                    for k in 0..K {
                        let g = grad[k] + opts.l2 * row[k];
                        acc[k] += g * g;
                        row[k] -= opts.rate * g / acc[k].sqrt();
                    }
                }
            }
        }
        let weights = fids
            .into_iter()
            .zip(w)
            .filter(|(_, row)| row.iter().any(|v| v.abs() > 1e-4))
            .collect();
        Self {
            weights,
            vocab,
            threshold: opts.threshold,
        }
    }

    /// The number of weight rows.
    pub fn rows(&self) -> usize {
        self.weights.len()
    }

    /// A finder with its own word cache (one per thread).
    pub fn finder(&self) -> Finder<'_> {
        Finder {
            model: self,
            cache: FastMap::default(),
            arena: Vec::new(),
            novelty: Vec::new(),
            places: FastMap::default(),
            shapes: FastMap::default(),
            fast: FastPaths::default(),
        }
    }

    /// Checks a model read from a file: a threshold that is a probability, finite weights.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!("threshold {} is not a probability", self.threshold));
        }
        if self.weights.values().flatten().any(|w| !w.is_finite()) {
            return Err("the model has non-finite weights".into());
        }
        Ok(())
    }

    fn sum(&self, ids: &[u32]) -> [f32; K] {
        let mut s = [0f32; K];
        for id in ids {
            if let Some(row) = self.weights.get(id) {
                for (a, b) in s.iter_mut().zip(row) {
                    *a += b;
                }
            }
        }
        s
    }
}

/// Adds the words of `text` the model is sure are names or places to `sure`.
/// Words that many training patients' notes use as non-PHI (`rehab`, `St`) never propagate.
fn sure_words(
    model: &Model,
    text: &str,
    probs: &[(Token, [f32; K])],
    sure: &mut HashMap<String, usize>,
) {
    for (t, p) in probs {
        if 1.0 - p[0] < PROPAGATE_SURE {
            continue;
        }
        let w = text.get(t.start..t.end).unwrap_or_default();
        let (best, pb) = best_phi(p);
        if pb >= PROPAGATE_SURE
            && PROPAGATES.contains(&best)
            && w.chars().count() >= 3
            && w.chars().all(char::is_alphabetic)
            && model
                .vocab
                .get(&features::word_key(w))
                .is_none_or(|&n| n < COMMON_PATIENTS)
        {
            sure.insert(w.to_lowercase(), best);
        }
    }
}

/// Per-[`Finder`] caches of the per-token work that does not depend on the place: the
/// capitals-shape sum of each cached word, the chunk features' weight rows, and the strings
/// of [`place_key`]. They change no figure, only how often it is computed.
#[derive(Debug, Default)]
struct FastPaths {
    /// Per word of the arena: its capitals-shape sum, once computed.
    caps: Vec<Option<[f32; K]>>,
    /// Chunk feature -> its weight row (`None`: the model has none).
    chunks: FastMap<u32, Option<[f32; K]>>,
    /// The distinct strings of the places seen, in order of first sight.
    names: Vec<&'static str>,
    /// Summed token features of the places with no rule or hint in sight, by
    /// [`plain_index`].
    plain: [Option<[f32; K]>; 32],
}

impl FastPaths {
    fn set_caps(&mut self, word: u32, e: [f32; K]) {
        let w = word as usize;
        if self.caps.len() <= w {
            self.caps.resize(w + 1, None);
        }
        if let Some(slot) = self.caps.get_mut(w) {
            *slot = Some(e);
        }
    }

    fn chunk_row(&mut self, model: &Model, id: u32) -> Option<[f32; K]> {
        if let Some(r) = self.chunks.get(&id) {
            return *r;
        }
        let r = model.weights.get(&id).copied();
        if self.chunks.len() < CACHE_WORDS {
            self.chunks.insert(id, r);
        }
        r
    }
}

/// The index of a place with no rule or hint in sight in [`FastPaths::plain`]: its other
/// fields, which are all it depends on (every field of [`features::Place`] is named here).
fn plain_index(p: &features::Place) -> usize {
    let features::Place {
        rules: _,
        hints: _,
        line_start,
        mid_capital,
        novelty,
    } = p;
    plain_slot(*line_start, *mid_capital, *novelty)
}

fn plain_slot(line_start: bool, mid_capital: bool, novelty: u8) -> usize {
    usize::from(line_start) | usize::from(mid_capital) << 1 | usize::from(novelty & 7) << 2
}

/// A key that two places share exactly when they are equal: each string as its index in
/// `names` (a new string is added), eight bits each. `None` when there are too many distinct
/// strings to fit. Every field of [`features::Place`] is named here, so a field added there
/// fails to compile until it joins the key.
fn place_key(p: &features::Place, names: &mut Vec<&'static str>) -> Option<u64> {
    let features::Place {
        rules,
        hints,
        line_start,
        mid_capital,
        novelty,
    } = p;
    let mut key =
        u64::from(*line_start) | u64::from(*mid_capital) << 1 | u64::from(*novelty & 7) << 2;
    for s in rules.iter().chain(hints.iter()) {
        let same = |n: &&str| std::ptr::eq(n.as_ptr(), s.as_ptr()) && n.len() == s.len();
        let id = match names.iter().position(same) {
            Some(i) => i,
            None => match names.iter().position(|n| n == s) {
                Some(i) => i,
                None => {
                    names.push(s);
                    names.len() - 1
                }
            },
        };
        let id = u8::try_from(id).ok().filter(|&i| i < u8::MAX)?;
        key = key << 8 | u64::from(id);
    }
    Some(key)
}

/// Summed weights of one word: as the token itself, then as each neighbour offset.
type WordSums = [[f32; K]; 5];

/// Finds PHI with a model; keeps a bounded cache of per-word weight sums.
#[derive(Debug)]
pub struct Finder<'m> {
    model: &'m Model,
    cache: FastMap<Box<str>, u32>,
    arena: Vec<WordSums>,
    /// Per word of the arena: its vocabulary bucket.
    novelty: Vec<u8>,
    /// Summed token features per place ([`place_key`]).
    places: FastMap<u64, [f32; K]>,
    /// Summed capitals-shape feature per shape.
    shapes: FastMap<String, [f32; K]>,
    /// Caches that spare the per-token work.
    fast: FastPaths,
}

impl Finder<'_> {
    /// Empties the word cache (and what is kept per cached word).
    fn reset(&mut self) {
        self.cache.clear();
        self.arena.clear();
        self.novelty.clear();
        self.fast.caps.clear();
    }

    /// The arena index of a word's summed weights.
    fn word(&mut self, w: &str) -> u32 {
        if let Some(&i) = self.cache.get(w) {
            return i;
        }
        if self.arena.len() >= CACHE_WORDS {
            self.reset();
        }
        let mut sums = [[0f32; K]; 5];
        let mut ids = Vec::with_capacity(16);
        let patients = self.model.vocab.get(&features::word_key(w)).copied();
        let patients = patients.unwrap_or(0);
        features::known_word_features(w, 0, patients, &mut ids);
        sums[0] = self.model.sum(&ids);
        for (slot, off) in sums.iter_mut().skip(1).zip(OFFSETS) {
            ids.clear();
            features::known_word_features(w, off, patients, &mut ids);
            *slot = self.model.sum(&ids);
        }
        let i = self.arena.len() as u32;
        self.arena.push(sums);
        self.novelty.push(features::vocab_bucket(patients));
        self.cache.insert(w.into(), i);
        i
    }

    /// Per token: its offsets and class probabilities. Tokens whose PHI probability is below a
    /// tenth of the threshold get exactly `[1, 0, ...]` (no decision looks lower).
    /// `rules` are the rule layer's spans of `text` ([`rules::find`]).
    pub fn probabilities(&mut self, text: &str, rules: &[Found]) -> Vec<(Token, [f32; K])> {
        let tokens = features::tokenize(text);
        let rule_cats = rule_categories(rules, &tokens);
        let hint_cats = hint_categories(&hints::find_in(text, &tokens), &tokens);
        let chunks = features::chunk_features(text, &tokens);
        let caps = features::caps_note(text);
        // the boundary first: a cache reset while indexing the note's words would otherwise
        // leave it dangling
        if self.arena.len() + tokens.len() + 1 >= CACHE_WORDS {
            self.reset();
        }
        // tokens with a rule's or a hint's category
        let marked: Vec<bool> = rule_cats
            .iter()
            .zip(&hint_cats)
            .map(|(r, h)| *r != "-" || *h != "-")
            .collect();
        let bound = self.word(BOUNDARY);
        let words: Vec<u32> = tokens
            .iter()
            .map(|t| self.word(text.get(t.start..t.end).unwrap_or_default()))
            .collect();
        // PHI probability < threshold / 10 when the O score leads every other by this much
        let margin = ((K - 1) as f32 * 10.0 / self.model.threshold.max(1e-6)).ln();
        let zero = [[0f32; K]; 5];
        let sums = |i: u32| self.arena.get(i as usize).unwrap_or(&zero);
        let mut out = Vec::with_capacity(tokens.len());
        let mut ids = Vec::with_capacity(8);
        for (i, t) in tokens.iter().enumerate() {
            let mut s = words.get(i).map_or([0f32; K], |&w| sums(w)[0]);
            for (j, off) in OFFSETS.iter().enumerate() {
                let at = i as isize + *off as isize;
                let src = usize::try_from(at)
                    .ok()
                    .and_then(|a| words.get(a))
                    .copied()
                    .unwrap_or(bound);
                if let Some(row) = sums(src).get(j + 1) {
                    for (a, b) in s.iter_mut().zip(row) {
                        *a += b;
                    }
                }
            }
            let novelty = words
                .get(i)
                .and_then(|&w| self.novelty.get(w as usize))
                .copied()
                .unwrap_or(0);
            // most places have no rule or hint in sight (nor the text's edge): their sums sit
            // in a small table, found without building the place
            let plain = i >= 1
                && marked
                    .get(i - 1..=i + 1)
                    .is_some_and(|m| !m.contains(&true));
            let cached = if plain {
                let (line_start, mid_capital) = place_flags(text, &tokens, i, caps);
                let slot = plain_slot(line_start, mid_capital, novelty);
                self.fast.plain.get(slot).copied().flatten()
            } else {
                None
            };
            let place = || place(text, &tokens, &rule_cats, &hint_cats, i, caps, novelty);
            let key = if cached.is_some() {
                None
            } else {
                place_key(&place(), &mut self.fast.names)
            };
            let extra = match cached.or_else(|| key.and_then(|k| self.places.get(&k).copied())) {
                Some(e) => e,
                None => {
                    let place = place();
                    ids.clear();
                    features::token_features(&place, &mut ids);
                    let e = self.model.sum(&ids);
                    if let Some(k) = key {
                        self.places.insert(k, e);
                    }
                    if plain && let Some(slot) = self.fast.plain.get_mut(plain_index(&place)) {
                        *slot = Some(e);
                    }
                    e
                }
            };
            for (a, b) in s.iter_mut().zip(extra) {
                *a += b;
            }
            if let Some(Some(c)) = chunks.get(i)
                && let Some(row) = self.fast.chunk_row(self.model, *c)
            {
                for (a, b) in s.iter_mut().zip(row) {
                    *a += b;
                }
            }
            if caps {
                let word = words.get(i).and_then(|&w| self.fast.caps.get(w as usize));
                let e = match word.copied().flatten() {
                    Some(e) => e,
                    None => {
                        let sh = features::shape(text.get(t.start..t.end).unwrap_or_default());
                        let e = match self.shapes.get(&sh) {
                            Some(e) => *e,
                            None => {
                                let e = self.model.sum(&[features::caps_shape_feature(&sh)]);
                                if self.shapes.len() < CACHE_WORDS {
                                    self.shapes.insert(sh, e);
                                }
                                e
                            }
                        };
                        if let Some(&w) = words.get(i) {
                            self.fast.set_caps(w, e);
                        }
                        e
                    }
                };
                for (a, b) in s.iter_mut().zip(e) {
                    *a += b;
                }
            }
            // confidently not PHI (a PHI probability below a tenth of the threshold, the
            // least any decision looks at): skip the exponentials
            let best_other = s.iter().skip(1).copied().fold(f32::NEG_INFINITY, f32::max);
            if s[0] - best_other > margin {
                s = [0f32; K];
                s[0] = 1.0;
            } else {
                softmax(&mut s);
            }
            out.push((*t, s));
        }
        out
    }

    /// The PHI spans the model finds (without the rules' own spans; see [`crate::Detector`]).
    ///
    /// A word the model is sure is a name or place (probability at least
    /// [`PROPAGATE_SURE`]) marks its other occurrences in the text with the same category when
    /// the model gives them at least a tenth of its threshold: notes repeat the names they use.
    /// Then a name or place span grows into the alphabetic tokens beside it (across a space,
    /// `.` or `-`) with at least [`EXTEND_FACTOR`] of the threshold (hysteresis: a high
    /// threshold starts a span, a low one continues it).
    /// `rules` are the rule layer's spans of `text` ([`rules::find`]).
    pub fn find(&mut self, text: &str, rules: &[Found]) -> Vec<Found> {
        self.find_group(&[(text, rules)]).pop().unwrap_or_default()
    }

    /// Like [`Finder::find`] over several texts about one person (one patient's notes): a
    /// word the model is sure of in one of them propagates to all.
    pub fn find_group(&mut self, texts: &[(&str, &[Found])]) -> Vec<Vec<Found>> {
        let mut sure = HashMap::new();
        let probs: Vec<_> = texts
            .iter()
            .map(|(text, rules)| {
                let p = self.probabilities(text, rules);
                sure_words(self.model, text, &p, &mut sure);
                p
            })
            .collect();
        texts
            .iter()
            .zip(probs)
            .map(|((text, _), p)| self.decide(text, p, &sure))
            .collect()
    }

    fn decide(
        &self,
        text: &str,
        mut probs: Vec<(Token, [f32; K])>,
        sure: &HashMap<String, usize>,
    ) -> Vec<Found> {
        let threshold = self.model.threshold;
        let word = |t: &Token| text.get(t.start..t.end).unwrap_or_default();
        if !sure.is_empty() {
            for (t, p) in probs.iter_mut() {
                if 1.0 - p[0] >= threshold || 1.0 - p[0] < threshold / 10.0 {
                    continue;
                }
                if let Some(&k) = sure.get(&word(t).to_lowercase()) {
                    // raise the category to (just over) the threshold, keeping the sum 1
                    let lift = (threshold - (1.0 - p[0])).max(0.0) + 1e-4;
                    p[0] -= lift;
                    if let Some(v) = p.get_mut(k) {
                        *v += lift;
                    }
                }
            }
        }
        // hysteresis: a name or place grows into the alphabetic tokens beside it (across a
        // space, `.` or `-`) whose PHI probability reaches EXTEND_FACTOR of the threshold
        let low = threshold * EXTEND_FACTOR;
        let flagged = |p: &[f32; K]| 1.0 - p[0] >= threshold;
        // a forward pass grows spans rightwards, a backward pass leftwards
        let n = probs.len();
        for i in (0..n).chain((0..n).rev()) {
            let Some(&(t, p)) = probs.get(i) else { break };
            if let Some(k) = initial_before_name(text, &probs, i, threshold) {
                if let Some((_, p)) = probs.get_mut(i) {
                    lift_to(p, k, threshold);
                }
                continue;
            }
            if flagged(&p)
                || 1.0 - p[0] < low
                || !word(&t).chars().all(char::is_alphabetic)
                || features::is_function_word(word(&t))
            {
                continue;
            }
            let joins = |j: Option<usize>| -> Option<usize> {
                let j = j?;
                let (u, q) = probs.get(j)?;
                let (best, _) = best_phi(q);
                let (a, b) = if j < i {
                    (u.end, t.start)
                } else {
                    (t.end, u.start)
                };
                let gap = text.get(a..b)?;
                (flagged(q)
                    && PROPAGATES.contains(&best)
                    && gap.len() <= 2
                    && gap.chars().all(|c| c == ' ' || c == '.' || c == '-'))
                .then_some(best)
            };
            let next = (i + 1 < n).then_some(i + 1);
            let Some(k) = joins(i.checked_sub(1)).or_else(|| joins(next)) else {
                continue;
            };
            if let Some((_, p)) = probs.get_mut(i) {
                lift_to(p, k, threshold);
            }
        }
        let mut out: Vec<Found> = Vec::new();
        let mut gap_ok = true; // only joining punctuation since the last flagged token
        for (t, p) in probs {
            let phi = 1.0 - p[0];
            if phi < threshold {
                gap_ok = gap_ok && matches!(word(&t), "-" | "'" | ".");
                continue;
            }
            let (best, _) = best_phi(&p);
            let Some(Some(category)) = CLASSES.get(best).copied() else {
                continue;
            };
            match out.last_mut() {
                Some(last)
                    if last.category == category
                        && gap_ok
                        && text
                            .get(last.end..t.start)
                            .is_some_and(|g| g.len() <= 3 && !g.contains('\n')) =>
                {
                    last.end = t.end
                }
                _ => out.push(Found {
                    start: t.start,
                    end: t.end,
                    category,
                }),
            }
            gap_ok = true;
        }
        out
    }
}
