//! The URL model: judges a URL from its string alone (no page is fetched, no DNS is asked).
//!
//! Learners, stacked:
//! - a logistic regression over hashed character 3- to 5-grams of the lower-cased URL
//!   ([`CharModel`]), and another over the path and query alone ([`path_grams`]);
//! - naive-Bayes log-count ratios of the URL's grams ([`NbModel`]);
//! - label counts of the URL's registrable domain, host, TLD and first path segment
//!   ([`PartCounts`]: domains recur, a free host's subdomains most of all);
//! - gradient-boosted trees ([`ward_ml::gbdt::Gbdt`]) over hand-made features of the URL's
//!   parts ([`FEATURES`]) plus the scores above ([`STACKED`]). In training those scores come
//!   from models that did not see the URL (out-of-fold), so the trees learn how far to trust
//!   them on unseen URLs.

use crate::error::PhishError;
use crate::url::{self, Parsed};
use serde::{Deserialize, Serialize};
use ward_ml::Matrix;
use ward_ml::gbdt::{Gbdt, GbdtParams};

/// Names of the hand-made features, in the order of [`features`]' row (the stacked scores,
/// [`STACKED`], are appended after them).
pub const FEATURES: &[&str] = &[
    "length",
    "host_length",
    "path_length",
    "query_length",
    "dots",
    "hyphens",
    "at_signs",
    "question_marks",
    "ampersands",
    "equals",
    "underscores",
    "tildes",
    "percents",
    "slashes",
    "colons",
    "semicolons",
    "digits_ratio",
    "host_digits_ratio",
    "host_labels",
    "https",
    "ip_host",
    "port",
    "punycode",
    "userinfo",
    "www",
    "com_count",
    "double_slash_in_path",
    "http_in_path",
    "tld_in_path",
    "tld_in_subdomain",
    "hyphen_in_domain",
    "risky_tld",
    "shortener",
    "random_label",
    "longest_host_word",
    "longest_path_word",
    "mean_word_length",
    "hint_words",
    "brand_elsewhere",
    "path_extension",
    "host_entropy",
    "consonant_run",
    "tld_length",
    "subdomain_length",
];

const HINT_WORDS: &[&str] = &[
    "login", "logon", "signin", "verify", "secure", "account", "update", "banking", "confirm",
    "webscr", "password", "wp-", "admin", "auth", "session", "billing", "support", "service",
    "client", "recover", "unlock", "payment", "invoice", "wallet", "token",
];
const TLDS_IN_TEXT: &[&str] = &["com", "net", "org", "info", "biz", "co", "io", "gov", "edu"];

/// Shannon entropy of a string's characters, in bits.
fn entropy(s: &str) -> f32 {
    // (a sorted map: the sum's order, and so its last bits, never vary)
    let mut counts: std::collections::BTreeMap<char, usize> = std::collections::BTreeMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = s.chars().count().max(1) as f32;
    -counts
        .values()
        .map(|&c| {
            let p = c as f32 / n;
            p * p.log2()
        })
        .sum::<f32>()
}

/// The hand-made features of a URL ([`FEATURES`]); a URL with no host gets NaN for the parts
/// it lacks.
pub fn features(raw: &str, brands: &[url::Known]) -> Vec<f32> {
    let u = raw.trim();
    let lower = u.to_lowercase();
    let p: Option<Parsed> = url::parse(u);
    let host = p.as_ref().map(|p| p.host.clone()).unwrap_or_default();
    let rest = p.as_ref().map(|p| p.rest.clone()).unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest.as_str(), ""));
    let count = |c: char| lower.matches(c).count() as f32;
    let digits = |s: &str| {
        let n = s.chars().count().max(1) as f32;
        s.chars().filter(char::is_ascii_digit).count() as f32 / n
    };
    let reg = url::registrable(&host).to_string();
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let tld = labels.last().copied().unwrap_or_default();
    let sub = host
        .strip_suffix(&reg)
        .unwrap_or_default()
        .trim_end_matches('.');
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let host_words: Vec<&str> = host.split(['.', '-']).filter(|w| !w.is_empty()).collect();
    let path_words: Vec<&str> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let longest = |ws: &[&str]| ws.iter().map(|w| w.len()).max().unwrap_or(0) as f32;
    let mean = if words.is_empty() {
        0.0
    } else {
        words.iter().map(|w| w.len()).sum::<usize>() as f32 / words.len() as f32
    };
    let path_lower = path.to_lowercase();
    let brand_elsewhere = brands.iter().any(|b| {
        b.label.len() >= 4
            && b.reg != reg
            && (sub.contains(&b.label) || path_lower.contains(&b.label))
    });
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|last| last.rsplit_once('.'))
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    let ext_code = match ext.as_str() {
        "" => 0.0,
        "php" => 1.0,
        "html" | "htm" => 2.0,
        "asp" | "aspx" | "jsp" => 3.0,
        "exe" | "zip" | "apk" | "scr" => 4.0,
        _ => 5.0,
    };
    let mut run = 0usize;
    let mut max_run = 0usize;
    for c in host.chars() {
        if c.is_ascii_alphabetic() && !"aeiouy".contains(c) {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let b = |v: bool| f32::from(u8::from(v));
    let has_host = p.is_some();
    let nan_if = |v: f32| if has_host { v } else { f32::NAN };
    vec![
        u.chars().count() as f32,
        nan_if(host.len() as f32),
        nan_if(path.len() as f32),
        nan_if(query.len() as f32),
        count('.'),
        count('-'),
        count('@'),
        count('?'),
        count('&'),
        count('='),
        count('_'),
        count('~'),
        count('%'),
        count('/'),
        count(':'),
        count(';'),
        digits(&lower),
        nan_if(digits(&host)),
        nan_if(labels.len() as f32),
        b(lower.starts_with("https://")),
        b(url::is_ip(&host)),
        b(p.as_ref().is_some_and(|p| p.port.is_some())),
        b(host.contains("xn--")),
        b(p.as_ref().is_some_and(|p| p.userinfo)),
        lower.matches("www").count() as f32,
        lower.matches(".com").count() as f32,
        b(rest.contains("//")),
        b(rest.to_lowercase().contains("http")),
        b(path_words.iter().any(|w| TLDS_IN_TEXT.contains(w))),
        b(sub.split('.').any(|l| TLDS_IN_TEXT.contains(&l))),
        b(reg.contains('-')),
        b(crate::signals::risky_tld(tld)),
        b(crate::signals::shortener(&reg)),
        b(labels.iter().any(|l| url::randomness(l) >= 0.5)),
        nan_if(longest(&host_words)),
        longest(&path_words),
        mean,
        HINT_WORDS.iter().filter(|w| lower.contains(*w)).count() as f32,
        b(brand_elsewhere),
        ext_code,
        nan_if(entropy(&host)),
        nan_if(max_run as f32),
        nan_if(tld.len() as f32),
        nan_if(sub.len() as f32),
    ]
}

/// Pushes the hashed character 3- to 5-grams of `^text$`, each named `{prefix}{n}{gram}`.
fn push_grams(text: &str, prefix: &str, out: &mut Vec<u32>) {
    let s = format!("^{text}$");
    // the byte offset of each character, and the end
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let chars = bounds.len() - 1;
    out.reserve(chars * 3 + 16);
    for (n, tag) in [(3, "3"), (4, "4"), (5, "5")] {
        for i in 0..chars.saturating_sub(n - 1) {
            if let (Some(&a), Some(&b)) = (bounds.get(i), bounds.get(i + n)) {
                out.push(crate::text::hash_parts(&[
                    prefix,
                    tag,
                    s.get(a..b).unwrap_or_default(),
                ]));
            }
        }
    }
}

/// Hashed character n-grams (3 to 5) of a lower-cased URL, each once.
pub fn char_grams(raw: &str) -> Vec<u32> {
    use crate::text::hash_parts;
    let lower = raw.trim().to_lowercase();
    let mut out = Vec::new();
    push_grams(&lower, "", &mut out);
    // the URL's words, by where they stand: host labels and path/query words
    let (host, rest) = match url::parse(&lower) {
        Some(p) => (p.host, p.rest),
        None => (String::new(), lower.clone()),
    };
    for w in host.split(['.', '-']).filter(|w| !w.is_empty()) {
        out.push(hash_parts(&["h:", w]));
    }
    for w in rest
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push(hash_parts(&["p:", w]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Hashed character n-grams (3 to 5) of a URL's lower-cased path and query, and its words,
/// each once: a second view for a second [`CharModel`], blind to the host.
pub fn path_grams(raw: &str) -> Vec<u32> {
    use crate::text::hash_parts;
    let lower = raw.trim().to_lowercase();
    let rest = url::parse(&lower).map_or(lower, |p| p.rest);
    let mut out = Vec::new();
    push_grams(&rest, "r", &mut out);
    for w in rest
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push(hash_parts(&["r", "p:", w]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Naive-Bayes log-count ratios of grams (NBSVM's `r`): each gram's log-odds of appearing in
/// a phishing URL rather than a legitimate one, smoothed; a URL's score is their sum over its
/// grams (scaled like [`CharModel`]'s) plus the prior log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NbModel {
    #[serde(with = "crate::model::sorted")]
    ratios: crate::model::IdMap<f32>,
    bias: f32,
}

/// Smoothing of [`NbModel`]'s counts.
const NB_ALPHA: f32 = 0.5;

impl NbModel {
    /// Counts the grams of (grams, is_phishing) pairs.
    pub fn train(data: &[(Vec<u32>, bool)]) -> Self {
        let mut counts: crate::model::IdMap<[u32; 2]> = Default::default();
        let mut n = [0f32; 2];
        for (grams, y) in data {
            let c = usize::from(*y);
            if let Some(v) = n.get_mut(c) {
                *v += 1.0;
            }
            for g in grams {
                if let Some(v) = counts.entry(*g).or_insert([0, 0]).get_mut(c) {
                    *v += 1;
                }
            }
        }
        let [legit, phish] = n;
        let ratios = counts
            .into_iter()
            .map(|(g, [l, p])| {
                let r = ((p as f32 + NB_ALPHA) / (phish + 2.0 * NB_ALPHA)).ln()
                    - ((l as f32 + NB_ALPHA) / (legit + 2.0 * NB_ALPHA)).ln();
                (g, r)
            })
            .collect();
        Self {
            ratios,
            bias: (phish / legit.max(1.0)).ln(),
        }
    }

    /// The URL's summed log-count ratios.
    pub fn score(&self, grams: &[u32]) -> f32 {
        let scale = 1.0 / (grams.len().max(1) as f32).sqrt();
        self.bias + grams.iter().filter_map(|g| self.ratios.get(g)).sum::<f32>() * scale
    }
}

/// The parts of a URL whose labels [`PartCounts`] counts: registrable domain, host (without
/// `www.`), TLD, and registrable domain with the first path segment.
pub fn url_parts(raw: &str) -> [u32; 4] {
    use crate::text::hash_parts;
    let lower = raw.trim().to_lowercase();
    let (host, rest) = match url::parse(&lower) {
        Some(p) => (p.host, p.rest),
        None => (String::new(), lower),
    };
    let reg = url::registrable(&host);
    let tld = host.rsplit('.').next().unwrap_or_default();
    let segment = rest
        .trim_start_matches('/')
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let bare = host.strip_prefix("www.").unwrap_or(&host);
    [
        hash_parts(&["r", reg]),
        hash_parts(&["h", bare]),
        hash_parts(&["t", tld]),
        hash_parts(&["s", reg, "/", segment]),
    ]
}

/// How often each part of a URL ([`url_parts`]) was seen in phishing and legitimate training
/// URLs (target encoding): a part's smoothed log-odds, and how often it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartCounts {
    /// (legitimate, phishing) counts per hashed part
    #[serde(with = "crate::model::sorted")]
    counts: crate::model::IdMap<[u32; 2]>,
    /// the share of phishing in training
    prior: f32,
    /// multiplies the counts: out-of-fold counts come from fewer URLs than the final ones
    scale: f32,
}

/// Pseudo-counts pulling a rare part's log-odds to the prior.
const PART_SMOOTHING: f32 = 2.0;

impl PartCounts {
    /// Counts the parts of (parts, is_phishing) pairs; `scale` multiplies the counts reported.
    pub fn train(data: &[([u32; 4], bool)], scale: f32) -> Self {
        let mut counts: crate::model::IdMap<[u32; 2]> = Default::default();
        let mut pos = 0usize;
        for (parts, y) in data {
            pos += usize::from(*y);
            for k in parts {
                if let Some(v) = counts.entry(*k).or_insert([0, 0]).get_mut(usize::from(*y)) {
                    *v += 1;
                }
            }
        }
        Self {
            counts,
            prior: pos as f32 / data.len().max(1) as f32,
            scale,
        }
    }

    /// Appends each part's log-odds (NaN when never seen) and count.
    pub fn push(&self, parts: &[u32; 4], row: &mut Vec<f32>) {
        let a = PART_SMOOTHING;
        for k in parts {
            let [l, p] = self.counts.get(k).copied().unwrap_or([0, 0]);
            let n = (l + p) as f32;
            row.push(if n == 0.0 {
                f32::NAN
            } else {
                ((p as f32 + a * self.prior) / (l as f32 + a * (1.0 - self.prior))).ln()
            });
            row.push(n * self.scale);
        }
    }
}

/// Binary logistic regression over hashed character n-grams, trained by AdaGrad with L2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharModel {
    #[serde(with = "crate::model::sorted")]
    weights: crate::model::IdMap<f32>,
    bias: f32,
}

impl CharModel {
    /// Trains on (grams, is_phishing) pairs.
    pub fn train(data: &[(Vec<u32>, bool)], epochs: usize, seed: u64) -> Self {
        let mut w: crate::model::IdMap<f32> = Default::default();
        let mut g2: crate::model::IdMap<f32> = Default::default();
        let (mut bias, mut bias_g2) = (0f32, 0f32);
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let rate = 0.5f32;
        for _ in 0..epochs {
            for i in (1..order.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for &i in &order {
                let Some((grams, y)) = data.get(i) else {
                    continue;
                };
                let scale = 1.0 / (grams.len().max(1) as f32).sqrt();
                let z = bias + grams.iter().filter_map(|g| w.get(g)).sum::<f32>() * scale;
                let p = 1.0 / (1.0 + (-z).exp());
                let g = p - f32::from(u8::from(*y));
                for gram in grams {
                    let wk = w.entry(*gram).or_insert(0.0);
                    let ak = g2.entry(*gram).or_insert(0.0);
                    let grad = g * scale + 1e-6 * *wk;
                    *ak += grad * grad;
                    *wk -= rate * grad / (ak.sqrt() + 1e-6);
                }
                bias_g2 += g * g;
                bias -= rate * g / (bias_g2.sqrt() + 1e-6);
            }
        }
        w.retain(|_, v| v.abs() > 1e-5);
        Self { weights: w, bias }
    }

    /// The log-odds of phishing.
    pub fn logit(&self, grams: &[u32]) -> f32 {
        let scale = 1.0 / (grams.len().max(1) as f32).sqrt();
        self.bias
            + grams
                .iter()
                .filter_map(|g| self.weights.get(g))
                .sum::<f32>()
                * scale
    }
}

/// Names of the stacked scores appended to [`features`]' row, in order.
pub const STACKED: &[&str] = &[
    "char_logit",
    "path_logit",
    "nb_score",
    "domain_log_odds",
    "domain_count",
    "host_log_odds",
    "host_count",
    "tld_log_odds",
    "tld_count",
    "segment_log_odds",
    "segment_count",
];

/// The stacked URL model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UrlModel {
    chars: CharModel,
    path: CharModel,
    nb: NbModel,
    parts: PartCounts,
    trees: Gbdt,
    brands: Vec<String>,
    /// `brands` worked out, once.
    #[serde(skip)]
    known: std::sync::OnceLock<Vec<url::Known>>,
}

/// Folds for the out-of-fold stacked scores in training.
const STACK_FOLDS: usize = 5;
/// Passes of the character models.
const CHAR_EPOCHS: usize = 8;

fn tree_params() -> GbdtParams {
    GbdtParams {
        n_rounds: 300,
        learning_rate: 0.05,
        max_leaves: 31,
        min_samples_leaf: 20,
        subsample: 0.8,
        colsample: 0.8,
        seed: 7,
        ..GbdtParams::default()
    }
}

/// Out-of-fold scores: for each of [`STACK_FOLDS`] folds (row `i` in fold `i % STACK_FOLDS`),
/// `train` fits on the rows of the other folds (given by index, and the fold) and `score`
/// scores the fold's rows.
fn out_of_fold<M>(
    n: usize,
    train: impl Fn(&[usize], usize) -> M,
    mut score: impl FnMut(&M, usize),
) {
    for k in 0..STACK_FOLDS {
        let rows: Vec<usize> = (0..n).filter(|i| i % STACK_FOLDS != k).collect();
        let m = train(&rows, k);
        for i in (0..n).filter(|i| i % STACK_FOLDS == k) {
            score(&m, i);
        }
    }
}

/// The rows `idx` of `data`.
fn pick<T: Clone>(data: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().filter_map(|&i| data.get(i).cloned()).collect()
}

impl UrlModel {
    /// Trains on (url, is_phishing) pairs.
    pub fn train(urls: &[(String, bool)], brands: &[String]) -> Result<Self, PhishError> {
        let pos = urls.iter().filter(|(_, y)| *y).count();
        if pos == 0 || pos == urls.len() {
            return Err(PhishError::Data(
                "the URL model needs phishing and legitimate URLs".into(),
            ));
        }
        let n = urls.len();
        let grams: Vec<(Vec<u32>, bool)> = urls.iter().map(|(u, y)| (char_grams(u), *y)).collect();
        let paths: Vec<(Vec<u32>, bool)> = urls.iter().map(|(u, y)| (path_grams(u), *y)).collect();
        let parts: Vec<([u32; 4], bool)> = urls.iter().map(|(u, y)| (url_parts(u), *y)).collect();
        // the stacked scores, out-of-fold, one row per URL
        let mut stacked: Vec<Vec<f32>> = vec![Vec::with_capacity(STACKED.len()); n];
        let mut put = |i: usize, v: f32| {
            if let Some(r) = stacked.get_mut(i) {
                r.push(v);
            }
        };
        out_of_fold(
            n,
            |rows, k| CharModel::train(&pick(&grams, rows), CHAR_EPOCHS, 11 + k as u64),
            |m, i| put(i, grams.get(i).map_or(0.0, |g| m.logit(&g.0))),
        );
        out_of_fold(
            n,
            |rows, k| CharModel::train(&pick(&paths, rows), CHAR_EPOCHS, 21 + k as u64),
            |m, i| put(i, paths.get(i).map_or(0.0, |g| m.logit(&g.0))),
        );
        out_of_fold(
            n,
            |rows, _| NbModel::train(&pick(&grams, rows)),
            |m, i| put(i, grams.get(i).map_or(0.0, |g| m.score(&g.0))),
        );
        // out-of-fold counts come from (STACK_FOLDS - 1) / STACK_FOLDS of the URLs
        let scale = STACK_FOLDS as f32 / (STACK_FOLDS - 1) as f32;
        let mut part_rows: Vec<Vec<f32>> = vec![Vec::new(); n];
        out_of_fold(
            n,
            |rows, _| PartCounts::train(&pick(&parts, rows), scale),
            |m, i| {
                if let (Some(r), Some((p, _))) = (part_rows.get_mut(i), parts.get(i)) {
                    m.push(p, r);
                }
            },
        );
        let known = url::Known::list(brands);
        let mut x = Matrix::with_cols(FEATURES.len() + STACKED.len());
        for (((u, _), s), p) in urls.iter().zip(&stacked).zip(&part_rows) {
            let mut row = features(u, &known);
            row.extend_from_slice(s);
            row.extend_from_slice(p);
            x.push_row(&row);
        }
        let y: Vec<u32> = urls.iter().map(|(_, p)| u32::from(*p)).collect();
        let trees =
            Gbdt::fit(&x, &y, 2, &tree_params()).map_err(|e| PhishError::Data(e.to_string()))?;
        Ok(Self {
            chars: CharModel::train(&grams, CHAR_EPOCHS, 11),
            path: CharModel::train(&paths, CHAR_EPOCHS, 21),
            nb: NbModel::train(&grams),
            parts: PartCounts::train(&parts, 1.0),
            trees,
            brands: brands.to_vec(),
            known: std::sync::OnceLock::new(),
        })
    }

    /// The probability that a URL is phishing.
    pub fn probability(&self, raw: &str) -> f32 {
        let known = self.known.get_or_init(|| url::Known::list(&self.brands));
        let mut row = features(raw, known);
        let grams = char_grams(raw);
        row.push(self.chars.logit(&grams));
        row.push(self.path.logit(&path_grams(raw)));
        row.push(self.nb.score(&grams));
        self.parts.push(&url_parts(raw), &mut row);
        self.trees
            .predict_proba(&row)
            .ok()
            .and_then(|p| p.get(1).copied())
            .unwrap_or(0.0)
    }

    /// The character model's probability alone (the usual baseline).
    pub fn char_probability(&self, raw: &str) -> f32 {
        1.0 / (1.0 + (-self.chars.logit(&char_grams(raw))).exp())
    }
}
