//! The learned text model: multinomial logistic regression over hashed features (ham, spam,
//! phishing), trained by AdaGrad with L2 over shuffled passes, deterministic in its seed.
//! Features of one message are scaled to unit length, so long and short messages weigh alike.

use crate::error::PhishError;
use crate::text::Feature;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are already hashes (feature ids): one multiplication.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by feature ids.
pub type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// The classes, in the order of a probability row.
pub const CLASSES: [&str; 3] = ["ham", "spam", "phishing"];
/// The index of spam in [`CLASSES`].
pub const SPAM: usize = 1;
/// The index of phishing in [`CLASSES`].
pub const PHISH: usize = 2;
const K: usize = CLASSES.len();

/// Training settings. Defaults in brackets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Passes over the data. [12]
    pub epochs: usize,
    /// AdaGrad step size. [0.5]
    pub rate: f32,
    /// L2 penalty per update. [1e-6]
    pub l2: f32,
    /// Shuffling seed. [7]
    pub seed: u64,
    /// The share of the training ham (scored out of fold) that the phishing threshold may
    /// flag: training lowers the phishing threshold from its default until this share is
    /// reached, never below the suspicious threshold. [0.002]
    pub ham_flagged: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 12,
            rate: 0.5,
            l2: 1e-6,
            seed: 7,
            ham_flagged: 0.002,
        }
    }
}

/// A trained text model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextModel {
    /// Feature id -> weight per class.
    #[serde(with = "sorted")]
    weights: IdMap<[f32; K]>,
    bias: [f32; K],
    /// Messages per class it was trained on.
    pub trained_on: [usize; K],
}

/// One training example: the message's features and its class index.
#[derive(Debug, Clone)]
pub struct Example {
    /// The features ([`crate::text::features`]).
    pub features: Vec<u32>,
    /// Index into [`CLASSES`].
    pub class: usize,
}

impl TextModel {
    /// Trains on examples (at least one of each of two classes).
    pub fn train(examples: &[Example], opts: &TrainOptions) -> Result<Self, PhishError> {
        let mut counts = [0usize; K];
        for e in examples {
            if let Some(c) = counts.get_mut(e.class) {
                *c += 1;
            }
        }
        if counts.iter().filter(|&&c| c > 0).count() < 2 {
            return Err(PhishError::Data(format!(
                "training needs messages of at least two classes (ham {}, spam {}, phishing {})",
                counts[0], counts[1], counts[2]
            )));
        }
        let mut w: IdMap<[f32; K]> = IdMap::default();
        let mut g2: IdMap<[f32; K]> = IdMap::default();
        let mut bias = [0f32; K];
        let mut bias_g2 = [0f32; K];
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut x = opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n.max(1) as u64) as usize
        };
        for _ in 0..opts.epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, next(i + 1));
            }
            for &i in &order {
                let Some(e) = examples.get(i) else { continue };
                let scale = 1.0 / (e.features.len().max(1) as f32).sqrt();
                let mut s = bias;
                for f in &e.features {
                    if let Some(row) = w.get(f) {
                        for (a, b) in s.iter_mut().zip(row) {
                            *a += b * scale;
                        }
                    }
                }
                ward_ml::softmax_in_place(&mut s);
                // gradient of the log-loss per class: p - y
                let mut g = s;
                if let Some(t) = g.get_mut(e.class) {
                    *t -= 1.0;
                }
                for f in &e.features {
                    let row = w.entry(*f).or_insert([0.0; K]);
                    let acc = g2.entry(*f).or_insert([0.0; K]);
                    for ((wk, ak), gk) in row.iter_mut().zip(acc.iter_mut()).zip(g) {
                        let grad = gk * scale + opts.l2 * *wk;
                        *ak += grad * grad;
                        *wk -= opts.rate * grad / (ak.sqrt() + 1e-6);
                    }
                }
                for ((bk, ak), gk) in bias.iter_mut().zip(bias_g2.iter_mut()).zip(g) {
                    *ak += gk * gk;
                    *bk -= opts.rate * gk / (ak.sqrt() + 1e-6);
                }
            }
        }
        w.retain(|_, row| row.iter().any(|v| v.abs() > 1e-5));
        Ok(Self {
            weights: w,
            bias,
            trained_on: counts,
        })
    }

    /// Class probabilities (in the order of [`CLASSES`]).
    pub fn probabilities(&self, features: &[u32]) -> [f32; K] {
        let scale = 1.0 / (features.len().max(1) as f32).sqrt();
        let mut s = self.bias;
        for f in features {
            if let Some(row) = self.weights.get(f) {
                for (a, b) in s.iter_mut().zip(row) {
                    *a += b * scale;
                }
            }
        }
        ward_ml::softmax_in_place(&mut s);
        s
    }

    /// The features that push most towards phishing against the other classes, strongest
    /// first, with their push (a difference of scores).
    pub fn top_phishing<'f>(&self, features: &'f [Feature], n: usize) -> Vec<(&'f str, f32)> {
        let scale = 1.0 / (features.len().max(1) as f32).sqrt();
        let mut pushes: Vec<(&str, f32)> = features
            .iter()
            .filter_map(|f| {
                let row = self.weights.get(&f.id)?;
                let other = row
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != PHISH)
                    .map(|(_, v)| *v)
                    .fold(f32::NEG_INFINITY, f32::max);
                let push = (row.get(PHISH).copied().unwrap_or(0.0) - other) * scale;
                (push > 0.0).then_some((f.name.as_str(), push))
            })
            .collect();
        pushes.sort_by(|a, b| b.1.total_cmp(&a.1));
        pushes.truncate(n);
        pushes
    }

    /// Number of non-zero weight rows.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the model has no weights.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }
}

/// A hash map written as a list sorted by key, so that one model always gives the same bytes.
pub(crate) mod sorted {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    pub fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, s: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize + Ord,
        V: Serialize,
        S: Serializer,
    {
        let mut v: Vec<(&K, &V)> = map.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.serialize(s)
    }

    pub fn deserialize<'de, K, V, H, D>(d: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let v: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}
