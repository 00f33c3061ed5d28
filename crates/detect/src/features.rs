//! Turning flows into feature vectors.
//!
//! A [`FeatureSpec`] is learned from training flows: which standard fields the source has,
//! the vocabularies of its categorical fields (proto, service, state), and the names of its
//! source-specific `extra` features. It then encodes any flow of the same source into a fixed
//! vector, in two layouts:
//!
//! - **tree layout** ([`FeatureSpec::encode_tree`]): one column per field; categoricals as
//!   frequency-rank codes (0 = most common in training, unseen values get their own code);
//!   missing values are `NaN`. Used by gradient-boosted trees and isolation forests.
//! - **dense layout** ([`FeatureSpec::encode_dense`]): numerics `log1p`-compressed (heavy-tailed
//!   byte and packet counts), categoricals one-hot over the top values plus an "other" slot;
//!   extra features that took at most [`MAX_CODE_VALUES`] distinct whole-number values in
//!   training (TTLs, window sizes, flags) are one-hot too, since their numbers are codes, not
//!   magnitudes; extras that are identifiers ([`IDENTIFIER_EXTRAS`]) are left out; missing
//!   values are 0. Used by autoencoders and other models that need every input on a comparable
//!   scale.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ward_core::{Flow, FlowSchema};

/// The standard numeric fields, in the order they appear in both layouts.
pub const STANDARD_NUMERIC: [&str; 6] = [
    "duration",
    "src_bytes",
    "dst_bytes",
    "src_pkts",
    "dst_pkts",
    "dst_port",
];
/// The standard categorical fields.
pub const CATEGORICAL: [&str; 3] = ["proto", "service", "state"];

/// Most one-hot slots a categorical field gets in the dense layout (plus one for "other").
pub const MAX_ONEHOT: usize = 48;

/// An extra feature with at most this many distinct whole-number values in training is a code
/// and is one-hot encoded in the dense layout.
pub const MAX_CODE_VALUES: usize = 16;

/// Extra features that identify rather than describe a connection (random TCP initial sequence
/// numbers in UNSW-NB15): kept for trees, left out of the dense layout.
pub const IDENTIFIER_EXTRAS: [&str; 2] = ["stcpb", "dtcpb"];

/// A categorical field's vocabulary, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Vocab {
    pub values: Vec<String>,
}

impl Vocab {
    fn code(&self, v: Option<&str>) -> Option<usize> {
        let v = v?;
        self.values.iter().position(|x| x == v)
    }
}

/// Counts seen while fitting a [`FeatureSpec`].
#[derive(Debug, Default)]
pub struct SpecBuilder {
    schema: Option<FlowSchema>,
    present: [u64; STANDARD_NUMERIC.len()],
    cats: [BTreeMap<String, u64>; 3],
    /// Distinct values per extra while there are at most MAX_CODE_VALUES of them; `None` once
    /// an extra is known to be a magnitude (too many values, or a fraction).
    extra_values: Vec<Option<BTreeMap<u64, u64>>>,
    rows: u64,
}

fn standard_numeric(f: &Flow) -> [Option<f64>; STANDARD_NUMERIC.len()] {
    [
        f.duration,
        f.src_bytes.map(|v| v as f64),
        f.dst_bytes.map(|v| v as f64),
        f.src_pkts.map(|v| v as f64),
        f.dst_pkts.map(|v| v as f64),
        f.dst_port.map(f64::from),
    ]
}

fn categorical(f: &Flow) -> [Option<&str>; 3] {
    [
        Some(f.proto.as_str()),
        f.service.as_deref(),
        f.state.as_deref(),
    ]
}

impl SpecBuilder {
    pub fn new(schema: &FlowSchema) -> Self {
        Self {
            schema: Some(schema.clone()),
            extra_values: vec![Some(BTreeMap::new()); schema.extra.len()],
            ..Default::default()
        }
    }

    pub fn observe(&mut self, f: &Flow) {
        self.rows += 1;
        for (i, v) in standard_numeric(f).iter().enumerate() {
            if v.is_some() {
                self.present[i] += 1;
            }
        }
        for (i, v) in categorical(f).iter().enumerate() {
            if let Some(v) = v {
                if let Some(c) = self.cats[i].get_mut(*v) {
                    *c += 1;
                } else {
                    self.cats[i].insert((*v).to_owned(), 1);
                }
            }
        }
        for (slot, v) in self.extra_values.iter_mut().zip(&f.extra) {
            if let Some(map) = slot {
                if v.fract() != 0.0 || !v.is_finite() || v.abs() > 1e15 {
                    *slot = None;
                    continue;
                }
                *map.entry(v.to_bits()).or_default() += 1;
                if map.len() > MAX_CODE_VALUES {
                    *slot = None;
                }
            }
        }
    }

    pub fn finish(self) -> FeatureSpec {
        let schema = self.schema.unwrap_or_default();
        let numeric: Vec<usize> = (0..STANDARD_NUMERIC.len())
            .filter(|&i| self.present[i] > 0)
            .collect();
        let vocabs = self.cats.map(|m| {
            let mut v: Vec<(String, u64)> = m.into_iter().collect();
            // most frequent first; ties by name so the order is deterministic
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            Vocab {
                values: v.into_iter().map(|(s, _)| s).collect(),
            }
        });
        let mut extra_codes = Vec::new();
        for (i, slot) in self.extra_values.into_iter().enumerate() {
            if let Some(map) = slot.filter(|m| m.len() >= 2) {
                let mut v: Vec<(u64, u64)> = map.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                extra_codes.push((
                    i,
                    v.into_iter()
                        .map(|(bits, _)| f64::from_bits(bits))
                        .collect(),
                ));
            }
        }
        let dense_skip = schema
            .extra
            .iter()
            .enumerate()
            .filter(|(_, n)| IDENTIFIER_EXTRAS.contains(&n.as_str()))
            .map(|(i, _)| i)
            .collect();
        FeatureSpec {
            format: schema.format,
            numeric,
            vocabs,
            extra: schema.extra,
            extra_codes,
            dense_skip,
        }
    }
}

/// How flows of one source become feature vectors. Serialised inside model files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// The source format the spec was learned from.
    pub format: String,
    /// Indexes into [`STANDARD_NUMERIC`] of the fields present in training.
    pub numeric: Vec<usize>,
    /// Vocabularies of proto, service, state.
    pub vocabs: [Vocab; 3],
    /// Names of the source's extra features.
    pub extra: Vec<String>,
    /// Extras that are codes (index, values most frequent first): one-hot in the dense layout.
    #[serde(default)]
    pub extra_codes: Vec<(usize, Vec<f64>)>,
    /// Extras left out of the dense layout (identifiers).
    #[serde(default)]
    pub dense_skip: Vec<usize>,
}

impl FeatureSpec {
    /// Learns a spec from an iterator of training flows.
    pub fn fit<'a>(schema: &FlowSchema, flows: impl IntoIterator<Item = &'a Flow>) -> Self {
        let mut b = SpecBuilder::new(schema);
        for f in flows {
            b.observe(f);
        }
        b.finish()
    }

    /// Width of the tree layout.
    pub fn tree_width(&self) -> usize {
        self.numeric.len() + CATEGORICAL.len() + self.extra.len()
    }

    /// Column names of the tree layout.
    pub fn tree_names(&self) -> Vec<String> {
        let mut n: Vec<String> = self
            .numeric
            .iter()
            .map(|&i| STANDARD_NUMERIC[i].to_owned())
            .collect();
        n.extend(CATEGORICAL.iter().map(|s| (*s).to_owned()));
        n.extend(self.extra.iter().cloned());
        n
    }

    /// Encodes a flow in the tree layout into `out` (length [`Self::tree_width`]).
    pub fn encode_tree(&self, f: &Flow, out: &mut [f32]) {
        let num = standard_numeric(f);
        let mut k = 0;
        for &i in &self.numeric {
            out[k] = num[i].map_or(f32::NAN, |v| v as f32);
            k += 1;
        }
        for (i, v) in categorical(f).iter().enumerate() {
            out[k] = match v {
                None => f32::NAN,
                Some(_) => self.vocabs[i]
                    .code(*v)
                    .unwrap_or(self.vocabs[i].values.len()) as f32,
            };
            k += 1;
        }
        for (j, slot) in out[k..k + self.extra.len()].iter_mut().enumerate() {
            *slot = f.extra.get(j).map_or(f32::NAN, |v| *v as f32);
        }
    }

    fn onehot_len(&self, i: usize) -> usize {
        self.vocabs[i].values.len().min(MAX_ONEHOT) + 1
    }

    /// How extra feature `j` appears in the dense layout.
    fn extra_kind(&self, j: usize) -> ExtraKind<'_> {
        if self.dense_skip.contains(&j) {
            return ExtraKind::Skip;
        }
        match self.extra_codes.iter().find(|(i, _)| *i == j) {
            Some((_, values)) => ExtraKind::Code(values),
            None => ExtraKind::Magnitude,
        }
    }

    /// Width of the dense layout.
    pub fn dense_width(&self) -> usize {
        let extras: usize = (0..self.extra.len())
            .map(|j| match self.extra_kind(j) {
                ExtraKind::Skip => 0,
                ExtraKind::Code(v) => v.len() + 1,
                ExtraKind::Magnitude => 1,
            })
            .sum();
        self.numeric.len() + (0..3).map(|i| self.onehot_len(i)).sum::<usize>() + extras
    }

    /// Column names of the dense layout (`service=http`, `service=other`, ...).
    pub fn dense_names(&self) -> Vec<String> {
        let mut n: Vec<String> = self
            .numeric
            .iter()
            .map(|&i| STANDARD_NUMERIC[i].to_owned())
            .collect();
        for (i, cat) in CATEGORICAL.iter().enumerate() {
            let len = self.onehot_len(i);
            n.extend(
                self.vocabs[i]
                    .values
                    .iter()
                    .take(len - 1)
                    .map(|v| format!("{cat}={v}")),
            );
            n.push(format!("{cat}=other"));
        }
        for (j, name) in self.extra.iter().enumerate() {
            match self.extra_kind(j) {
                ExtraKind::Skip => {}
                ExtraKind::Code(values) => {
                    n.extend(values.iter().map(|v| format!("{name}={v}")));
                    n.push(format!("{name}=other"));
                }
                ExtraKind::Magnitude => n.push(name.clone()),
            }
        }
        n
    }

    /// Encodes a flow in the dense layout into `out` (length [`Self::dense_width`]).
    pub fn encode_dense(&self, f: &Flow, out: &mut [f32]) {
        out.fill(0.0);
        let num = standard_numeric(f);
        let mut k = 0;
        for &i in &self.numeric {
            out[k] = num[i].map_or(0.0, signed_log1p);
            k += 1;
        }
        for (i, v) in categorical(f).iter().enumerate() {
            let len = self.onehot_len(i);
            if let Some(v) = v {
                let slot = self.vocabs[i]
                    .code(Some(v))
                    .filter(|&c| c < len - 1)
                    .unwrap_or(len - 1);
                out[k + slot] = 1.0;
            }
            k += len;
        }
        for j in 0..self.extra.len() {
            let v = f.extra.get(j).copied();
            match self.extra_kind(j) {
                ExtraKind::Skip => {}
                ExtraKind::Code(values) => {
                    if let Some(v) = v {
                        let slot = values.iter().position(|x| *x == v).unwrap_or(values.len());
                        out[k + slot] = 1.0;
                    }
                    k += values.len() + 1;
                }
                ExtraKind::Magnitude => {
                    out[k] = v.map_or(0.0, signed_log1p);
                    k += 1;
                }
            }
        }
    }

    /// The extra feature behind a dense-layout column, if it comes from one.
    pub fn dense_extra(&self, col: usize) -> Option<usize> {
        let mut k = self.numeric.len() + (0..3).map(|i| self.onehot_len(i)).sum::<usize>();
        if col < k {
            return None;
        }
        for j in 0..self.extra.len() {
            let w = match self.extra_kind(j) {
                ExtraKind::Skip => 0,
                ExtraKind::Code(v) => v.len() + 1,
                ExtraKind::Magnitude => 1,
            };
            if col < k + w {
                return Some(j);
            }
            k += w;
        }
        None
    }

    /// Renders the value behind a tree-layout column for people (`service` -> `http`).
    pub fn describe_tree_value(&self, col: usize, f: &Flow) -> String {
        let n = self.numeric.len();
        if col < n {
            return match standard_numeric(f)[self.numeric[col]] {
                Some(v) => fmt_num(v),
                None => "unknown".into(),
            };
        }
        if col < n + 3 {
            return categorical(f)[col - n].unwrap_or("unknown").to_owned();
        }
        f.extra
            .get(col - n - 3)
            .map_or("unknown".into(), |v| fmt_num(*v))
    }
}

enum ExtraKind<'a> {
    Skip,
    Code(&'a [f64]),
    Magnitude,
}

/// `sign(x) * ln(1 + |x|)`: compresses heavy tails, keeps zero at zero; NaN/inf become 0.
pub fn signed_log1p(x: f64) -> f32 {
    if !x.is_finite() {
        return 0.0;
    }
    (x.signum() * x.abs().ln_1p()) as f32
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::Proto;

    fn flow(service: &str, bytes: u64, extra: Vec<f64>) -> Flow {
        Flow {
            proto: Proto::Tcp,
            service: Some(service.into()),
            src_bytes: Some(bytes),
            extra,
            ..Default::default()
        }
    }

    #[test]
    fn tree_layout_codes_by_frequency_and_marks_missing() {
        let schema = FlowSchema {
            format: "t".into(),
            extra: vec!["x".into()],
        };
        let train = [
            flow("http", 1, vec![1.0]),
            flow("dns", 2, vec![2.0]),
            flow("http", 3, vec![3.0]),
        ];
        let spec = FeatureSpec::fit(&schema, &train);
        assert_eq!(
            spec.tree_names(),
            ["src_bytes", "proto", "service", "state", "x"]
        );
        let mut out = vec![0.0; spec.tree_width()];
        spec.encode_tree(&flow("dns", 7, vec![]), &mut out);
        assert_eq!(out[0], 7.0);
        assert_eq!(out[1], 0.0); // tcp, the only proto
        assert_eq!(out[2], 1.0); // dns is second most common
        assert!(out[3].is_nan()); // no state
        assert!(out[4].is_nan()); // extra missing
        spec.encode_tree(&flow("dicom", 7, vec![5.0]), &mut out);
        assert_eq!(out[2], 2.0); // unseen service gets its own code
        assert_eq!(
            spec.describe_tree_value(2, &flow("dicom", 7, vec![])),
            "dicom"
        );
    }

    #[test]
    fn dense_layout_one_hots_coded_extras_and_skips_identifiers() {
        let schema = FlowSchema {
            format: "t".into(),
            extra: vec!["sttl".into(), "rate".into(), "stcpb".into()],
        };
        let train: Vec<Flow> = (0..40)
            .map(|i| {
                flow(
                    "http",
                    10,
                    vec![
                        if i % 2 == 0 { 62.0 } else { 254.0 },
                        f64::from(i) * 1.5,
                        1e9 + f64::from(i),
                    ],
                )
            })
            .collect();
        let spec = FeatureSpec::fit(&schema, &train);
        let names = spec.dense_names();
        assert_eq!(names.len(), spec.dense_width());
        assert!(names.contains(&"sttl=62".to_owned()) && names.contains(&"sttl=other".to_owned()));
        assert!(names.contains(&"rate".to_owned()));
        assert!(!names.iter().any(|n| n.starts_with("stcpb")));
        let mut out = vec![0.0; spec.dense_width()];
        spec.encode_dense(&flow("http", 10, vec![254.0, 3.0, 5.0]), &mut out);
        let col = names.iter().position(|n| n == "sttl=254").unwrap();
        assert_eq!(out[col], 1.0);
        assert_eq!(spec.dense_extra(col), Some(0));
        spec.encode_dense(&flow("http", 10, vec![31.0, 3.0, 5.0]), &mut out);
        assert_eq!(
            out[names.iter().position(|n| n == "sttl=other").unwrap()],
            1.0
        );
        assert_eq!(spec.tree_width(), 1 + 3 + 3, "trees keep every extra");
    }

    #[test]
    fn dense_layout_is_one_hot_and_log_scaled() {
        let schema = FlowSchema {
            format: "t".into(),
            extra: vec![],
        };
        let spec = FeatureSpec::fit(&schema, &[flow("http", 10, vec![])]);
        let names = spec.dense_names();
        assert_eq!(names.len(), spec.dense_width());
        let mut out = vec![9.0; spec.dense_width()];
        spec.encode_dense(&flow("smb", 10, vec![]), &mut out);
        assert!((out[0] - 11f32.ln()).abs() < 1e-6);
        let other = names.iter().position(|n| n == "service=other").unwrap();
        assert_eq!(out[other], 1.0);
        assert_eq!(out.iter().filter(|v| **v == 1.0).count(), 2); // proto=tcp, service=other
    }

    use proptest::prelude::*;

    fn arb_flow() -> impl Strategy<Value = Flow> {
        (
            proptest::option::of(any::<f64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u16>()),
            "[a-z_]{0,8}",
            proptest::collection::vec(any::<f64>(), 0..5),
        )
            .prop_map(|(duration, bytes, port, service, extra)| Flow {
                duration,
                src_bytes: bytes,
                dst_port: port,
                service: Some(service),
                extra,
                ..Default::default()
            })
    }

    proptest! {
        /// Any flow encodes into both layouts without panicking; dense values are finite.
        #[test]
        fn encoding_is_total_and_dense_is_finite(train in proptest::collection::vec(arb_flow(), 1..20), probe in arb_flow()) {
            let schema = FlowSchema { format: "p".into(), extra: vec!["a".into(), "b".into(), "c".into()] };
            let spec = FeatureSpec::fit(&schema, &train);
            let mut t = vec![0f32; spec.tree_width()];
            spec.encode_tree(&probe, &mut t);
            let mut d = vec![0f32; spec.dense_width()];
            spec.encode_dense(&probe, &mut d);
            prop_assert!(d.iter().all(|v| v.is_finite()));
            prop_assert_eq!(spec.dense_names().len(), spec.dense_width());
            prop_assert_eq!(spec.tree_names().len(), spec.tree_width());
        }
    }
}
