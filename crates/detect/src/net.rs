//! The network detector: a supervised model trained on attack history, an attack-family model,
//! and an unsupervised anomaly model trained on benign traffic only, fused into one verdict per
//! flow, and turned into alerts that explain themselves.
//!
//! - `net.supervised`: gradient-boosted trees over the tree layout of [`FeatureSpec`]; the
//!   explanation names the features with the largest per-prediction contributions.
//! - `net.anomaly`: KitNET (an ensemble of small autoencoders, Mirsky et al., NDSS 2018) or an
//!   Isolation Forest over the dense layout; its threshold is a high quantile of benign
//!   training scores. Catches what the labelled history never showed.
//!
//! A flow is an attack when the supervised probability reaches its threshold, or (when
//! `fuse_anomaly` is on) when the anomaly model flags it. Pure: no IO, no clock.

use crate::context::{Context, ContextConfig};
use crate::device::{DeviceConfig, DeviceProfiler, ProfilerState};
use crate::features::FeatureSpec;
use crate::mitre;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ward_core::{
    Alert, Contribution, EntityId, EventId, Evidence, Explanation, Flow, FlowSchema, Timestamp,
};
use ward_ml::Matrix;
use ward_ml::calibrate::{CalibrationMethod, Calibrator};
use ward_ml::gbdt::{ClassWeight, Gbdt, GbdtParams, top_contributions};
use ward_ml::iforest::{IForestConfig, IsolationForest};
use ward_ml::kitnet::{KitNet, KitNetConfig, Threshold, ThresholdMethod};
use ward_ml::logreg::{LogReg, LogRegParams};
use ward_ml::scaler::ValueCounts;

/// Version of the [`NetModel`] layout inside model files.
pub const MODEL_VERSION: u32 = 1;
/// The model kind written in model manifests.
pub const MODEL_KIND: &str = "ward.net";

/// Errors from training or scoring the network detector.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("no training flows")]
    NoData,
    #[error(
        "model has neither a supervised nor an anomaly part: train with labelled data or enable an anomaly model"
    )]
    NothingToTrain,
    #[error(
        "the model was trained on {model} records but the input is {input}: train a model on this source (ward train net) or give --format"
    )]
    Schema { model: String, input: String },
    #[error("model file is version {found}, this ward reads version {MODEL_VERSION}")]
    Version { found: u32 },
    #[error("training the {part} model failed")]
    Ml {
        part: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn ml_err(part: &'static str) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> NetError {
    move |source| NetError::Ml { part, source }
}

/// The supervised attack model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SupervisedKind {
    #[default]
    Gbdt,
    Logreg,
}

/// Probability calibration of the attack model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationChoice {
    #[default]
    None,
    Platt,
    Isotonic,
}

/// The unsupervised model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AnomalyKind {
    /// KitNET and an Isolation Forest side by side: a flow is anomalous when either flags it
    /// (each at half the benign flag budget), and ranks by their summed benign-tail surprise.
    #[default]
    Both,
    /// KitNET autoencoder ensemble.
    Kitnet,
    /// Isolation Forest (batch baseline).
    Iforest,
    /// No anomaly model.
    None,
}

/// How to train a [`NetModel`]. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetTrainConfig {
    /// Train the supervised attack model when the data carries labels of both classes. [true]
    pub supervised: bool,
    /// Also train an attack-family model (needs at least two labelled families). [true]
    pub families: bool,
    /// The attack model: `gbdt` (gradient-boosted trees over the tree layout) or `logreg`
    /// (L2-regularised logistic regression over the dense layout, a simpler and more
    /// transparent baseline). [gbdt]
    pub supervised_model: SupervisedKind,
    /// Logistic regression parameters, for `supervised_model = "logreg"`.
    pub logreg: LogRegParams,
    /// Calibrate the attack probability on 10% of the labelled rows held out from fitting:
    /// `none`, `platt` or `isotonic`. The threshold then applies to the calibrated
    /// probability. [none: boosted trees trained on log-loss are close to calibrated already]
    pub calibration: CalibrationChoice,
    /// Gradient-boosted trees of the attack model. [300 rounds, otherwise the GBDT defaults:
    /// learning rate 0.1, 31 leaves, depth 6]. A partial table changes only the keys it names.
    #[serde(deserialize_with = "de_gbdt")]
    pub gbdt: GbdtParams,
    /// Gradient-boosted trees of the family model (one tree per family per round). [400 rounds,
    /// learning rate 0.05, square-root balanced class weights, early stopping on 10% of the rows]
    #[serde(deserialize_with = "de_family_gbdt")]
    pub family_gbdt: GbdtParams,
    /// Most labelled rows the supervised models train on. Beyond it every attack row is kept and
    /// the benign rows are evenly subsampled, weighted up so the model's probabilities keep the
    /// data's class balance. [150000]
    pub supervised_max_rows: usize,
    /// Attack-probability threshold of the supervised model. [0.5]
    pub threshold: f32,
    /// The unsupervised model: `both` (KitNET and Isolation Forest), `kitnet`, `iforest` or
    /// `none`. [both]
    pub anomaly: AnomalyKind,
    /// KitNET parameters. [hidden_ratio 0.5, otherwise KitNET's defaults]
    #[serde(deserialize_with = "de_kitnet")]
    pub kitnet: KitNetConfig,
    /// Passes over the benign rows when training KitNET in batch. [10]
    pub kitnet_epochs: usize,
    /// Isolation Forest parameters.
    pub iforest: IForestConfig,
    /// The anomaly flag budget: the models together flag about `1 - anomaly_quantile` of
    /// held-out benign flows (with two models, each flags at half of it). [0.999]
    pub anomaly_quantile: f64,
    /// Most benign rows the anomaly model trains on (an evenly spaced subsample beyond). [60000]
    pub anomaly_max_rows: usize,
    /// Let the anomaly model's verdict count as "attack" in the fused decision. [true]
    pub fuse_anomaly: bool,
    /// Learn medical-device behaviour profiles from the benign training flows, when they carry
    /// addresses. [true]
    pub devices: bool,
    /// Device inventory and profiling settings.
    pub device: DeviceConfig,
    /// Traffic-context features (per host, host pair and socket statistics) for sources with
    /// timestamps and addresses.
    pub context: ContextConfig,
    /// Seed for every model. [0]
    pub seed: u64,
}

impl Default for NetTrainConfig {
    fn default() -> Self {
        Self {
            supervised: true,
            families: true,
            gbdt: GbdtParams {
                n_rounds: 300,
                ..GbdtParams::default()
            },
            family_gbdt: GbdtParams {
                n_rounds: 400,
                learning_rate: 0.05,
                class_weight: ClassWeight::SqrtBalanced,
                validation_fraction: Some(0.1),
                ..GbdtParams::default()
            },
            supervised_max_rows: 150_000,
            supervised_model: SupervisedKind::Gbdt,
            logreg: LogRegParams::default(),
            calibration: CalibrationChoice::None,
            threshold: 0.5,
            anomaly: AnomalyKind::Both,
            kitnet: KitNetConfig {
                hidden_ratio: 0.5,
                ..KitNetConfig::default()
            },
            kitnet_epochs: 10,
            iforest: IForestConfig::default(),
            anomaly_quantile: 0.999,
            anomaly_max_rows: 60_000,
            fuse_anomaly: true,
            devices: true,
            device: DeviceConfig::default(),
            context: ContextConfig::default(),
            seed: 0,
        }
    }
}

/// Reads a partial table over `base`: keys it names replace base's, the rest stay (so a
/// one-key `[net.train.gbdt]` table does not reset the other documented defaults).
fn overlay<'de, D, T>(d: D, base: T) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Serialize + serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let partial = serde_json::Value::deserialize(d)?;
    let serde_json::Value::Object(partial) = partial else {
        return Err(D::Error::custom("expected a table"));
    };
    let mut v = serde_json::to_value(&base).map_err(D::Error::custom)?;
    if let Some(obj) = v.as_object_mut() {
        obj.extend(partial);
    }
    serde_json::from_value(v).map_err(D::Error::custom)
}

fn de_gbdt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<GbdtParams, D::Error> {
    overlay(d, NetTrainConfig::default().gbdt)
}

fn de_family_gbdt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<GbdtParams, D::Error> {
    overlay(d, NetTrainConfig::default().family_gbdt)
}

fn de_kitnet<'de, D: serde::Deserializer<'de>>(d: D) -> Result<KitNetConfig, D::Error> {
    overlay(d, NetTrainConfig::default().kitnet)
}

impl NetTrainConfig {
    /// Checks the ranges a bad configuration file could break; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!(
                "net.train.threshold must be between 0 and 1, got {}",
                self.threshold
            ));
        }
        if !(self.anomaly_quantile > 0.0 && self.anomaly_quantile < 1.0) {
            return Err(format!(
                "net.train.anomaly_quantile must be strictly between 0 and 1, got {}",
                self.anomaly_quantile
            ));
        }
        if self.anomaly_max_rows < 20 {
            return Err(format!(
                "net.train.anomaly_max_rows must be at least 20, got {}",
                self.anomaly_max_rows
            ));
        }
        if self.supervised_max_rows < 2 {
            return Err(format!(
                "net.train.supervised_max_rows must be at least 2, got {}",
                self.supervised_max_rows
            ));
        }
        if self.kitnet_epochs == 0 {
            return Err("net.train.kitnet_epochs must be at least 1".to_owned());
        }
        self.gbdt
            .validate()
            .map_err(|e| format!("net.train.gbdt: {e}"))?;
        self.family_gbdt
            .validate()
            .map_err(|e| format!("net.train.family_gbdt: {e}"))?;
        if !(self.context.min_share.is_finite()
            && self
                .context
                .lambdas
                .iter()
                .all(|l| l.is_finite() && *l > 0.0))
        {
            return Err(
                "net.train.context: min_share must be a number and lambdas positive".to_owned(),
            );
        }
        Ok(())
    }
}

/// The attack-family classifier: class 0 is benign, the others are families.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FamilyModel {
    /// Class names; index 0 is the benign class.
    pub names: Vec<String>,
    pub gbdt: Gbdt,
}

/// The unsupervised part.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AnomalyModel {
    Kitnet {
        net: Box<KitNet>,
        threshold: Threshold,
    },
    Iforest {
        forest: IsolationForest,
        threshold: Threshold,
    },
}

impl AnomalyModel {
    fn threshold(&self) -> &Threshold {
        match self {
            Self::Kitnet { threshold, .. } | Self::Iforest { threshold, .. } => threshold,
        }
    }

    fn raw_score(&self, dense: &[f32], buf: &mut Vec<f64>) -> f64 {
        match self {
            Self::Kitnet { net, .. } => {
                buf.clear();
                buf.extend(dense.iter().map(|v| f64::from(*v)));
                net.score(buf).unwrap_or(f64::NAN)
            }
            Self::Iforest { forest, .. } => forest.score(dense).unwrap_or(f64::NAN),
        }
    }
}

/// Device behaviour profiles learned at training time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceModel {
    pub config: DeviceConfig,
    pub state: ProfilerState,
}

impl DeviceModel {
    /// A profiler in detection phase, starting from the learned profiles.
    pub fn profiler(&self) -> Option<DeviceProfiler> {
        DeviceProfiler::restore(self.config.clone(), self.state.clone()).ok()
    }
}

/// Extra features whose exact values feed the rarity inputs: mean packet sizes per direction.
pub const RARITY_EXTRAS: [&str; 2] = ["smean", "dmean"];

/// One input of [`Rarity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RarityField {
    SrcBytes,
    DstBytes,
    Extra(usize),
}

/// Exact-value rarity of byte counts and packet sizes, learned from benign training flows and
/// appended to the anomaly model's input as `ln(1 + times seen)`. Machine traffic repeats exact
/// sizes, so a size never seen in benign traffic is a cue even inside the benign range.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rarity {
    fields: Vec<RarityField>,
    counts: Vec<ValueCounts>,
}

impl Rarity {
    fn value(field: RarityField, f: &Flow) -> Option<f64> {
        match field {
            RarityField::SrcBytes => f.src_bytes.map(|v| v as f64),
            RarityField::DstBytes => f.dst_bytes.map(|v| v as f64),
            RarityField::Extra(j) => f.extra.get(j).copied(),
        }
    }

    /// Learns value counts over `flows` for the fields the source has.
    pub fn fit(spec: &FeatureSpec, flows: &[&Flow]) -> Self {
        let mut fields = Vec::new();
        if spec.numeric.contains(&1) {
            fields.push(RarityField::SrcBytes);
        }
        if spec.numeric.contains(&2) {
            fields.push(RarityField::DstBytes);
        }
        for (j, name) in spec.extra.iter().enumerate() {
            if RARITY_EXTRAS.contains(&name.as_str()) {
                fields.push(RarityField::Extra(j));
            }
        }
        let counts = fields
            .iter()
            .map(|&fd| ValueCounts::fit(flows.iter().filter_map(|f| Self::value(fd, f))))
            .collect();
        Self { fields, counts }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn names(&self, spec: &FeatureSpec) -> Vec<String> {
        self.fields
            .iter()
            .map(|f| match f {
                RarityField::SrcBytes => "rarity(src_bytes)".to_owned(),
                RarityField::DstBytes => "rarity(dst_bytes)".to_owned(),
                RarityField::Extra(j) => {
                    format!("rarity({})", spec.extra.get(*j).map_or("?", String::as_str))
                }
            })
            .collect()
    }

    /// Writes one input per field into `out`; `in_fit` for flows that were part of the fitting
    /// data (leave-one-out, so a value seen once encodes like an unseen one).
    fn encode(&self, f: &Flow, in_fit: bool, out: &mut [f32]) {
        for ((fd, c), o) in self.fields.iter().zip(&self.counts).zip(out.iter_mut()) {
            *o = match Self::value(*fd, f) {
                Some(v) if in_fit => c.encode_excluding_self(v) as f32,
                Some(v) => c.encode(v) as f32,
                None => 0.0,
            };
        }
    }
}

/// A trained network model: features, supervised and family models, anomaly model, device
/// profiles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetModel {
    pub version: u32,
    pub spec: FeatureSpec,
    pub supervised: Option<Gbdt>,
    /// The logistic-regression attack model, when chosen instead of `supervised`.
    #[serde(default)]
    pub linear: Option<LogReg>,
    /// Calibration of the attack probability.
    #[serde(default)]
    pub calibration: Option<Calibrator>,
    pub threshold: f32,
    pub families: Option<FamilyModel>,
    /// The anomaly models (none, one, or KitNET and Isolation Forest).
    #[serde(default)]
    pub anomaly: Vec<AnomalyModel>,
    pub fuse_anomaly: bool,
    /// Rarity inputs appended to the dense layout for the anomaly model.
    #[serde(default)]
    pub rarity: Option<Rarity>,
    /// Traffic-context features appended to both layouts, when the source has them.
    #[serde(default)]
    pub context: Option<ContextConfig>,
    /// Seed of the context key mixing.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub devices: Option<DeviceModel>,
}

/// What training did, for the manifest and the user.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TrainReport {
    pub rows: usize,
    pub attacks: usize,
    pub benign: usize,
    pub features: usize,
    pub families: Vec<(String, usize)>,
    pub anomaly_rows: usize,
    pub anomaly_thresholds: Vec<f64>,
    /// Devices inventoried during training (0 when the flows carry no addresses).
    pub devices: usize,
}

/// The model's verdict on one flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Supervised attack probability, when the model has a supervised part.
    pub attack_prob: Option<f32>,
    /// Anomaly probability (the benign-score CDF at this flow's score), when there is an anomaly part.
    pub anomaly_prob: Option<f32>,
    /// Anomaly surprise, summed over the anomaly models: -log10 of the share of held-out
    /// benign flows expected to score at least this high (for ranking: unlike the probability
    /// it does not saturate).
    pub anomaly_raw: Option<f64>,
    /// Each anomaly model's own surprise: `[KitNET, Isolation Forest]`, NaN where the model
    /// has no such member (for evaluating the members apart).
    pub anomaly_members: [f32; 2],
    /// Whether the anomaly model flags the flow.
    pub anomalous: bool,
    /// Fused decision.
    pub attack: bool,
    /// Fused score in `0..=1`.
    pub score: f32,
    /// Most likely attack family (index into [`FamilyModel::names`], never 0 when `attack`).
    pub family: Option<u32>,
}

fn label_of(f: &Flow) -> Option<bool> {
    f.label.as_ref().map(|l| l.attack)
}

/// Caps labelled rows at `max`: every attack row, benign rows evenly subsampled. Returns the
/// rows and the weight that restores the benign rows' share (1 when nothing was dropped).
fn cap_benign(idx: &[usize], labels: &[Option<bool>], max: usize) -> (Vec<usize>, f32) {
    if idx.len() <= max {
        return (idx.to_vec(), 1.0);
    }
    let (attacks, benign): (Vec<usize>, Vec<usize>) =
        idx.iter().partition(|&&i| labels[i] == Some(true));
    let keep = max.saturating_sub(attacks.len()).max(1).min(benign.len());
    let weight = benign.len() as f32 / keep.max(1) as f32;
    let mut rows = attacks;
    rows.extend(spaced(benign, keep));
    rows.sort_unstable();
    (rows, weight)
}

/// Evenly spaced subsample of at most `max` indices, deterministic.
fn spaced(idx: Vec<usize>, max: usize) -> Vec<usize> {
    if idx.len() <= max || max == 0 {
        return idx;
    }
    let step = idx.len() as f64 / max as f64;
    (0..max)
        .filter_map(|i| idx.get((i as f64 * step) as usize).copied())
        .collect()
}

impl NetModel {
    /// Trains on `flows` read from a source with `schema`.
    pub fn train(
        schema: &FlowSchema,
        flows: &[Flow],
        cfg: &NetTrainConfig,
    ) -> Result<(Self, TrainReport), NetError> {
        if flows.is_empty() {
            return Err(NetError::NoData);
        }
        let spec = FeatureSpec::fit(schema, flows);
        let mut report = TrainReport {
            rows: flows.len(),
            features: spec.tree_width(),
            ..Default::default()
        };
        let labels: Vec<Option<bool>> = flows.iter().map(label_of).collect();
        report.attacks = labels.iter().filter(|l| **l == Some(true)).count();
        report.benign = labels.iter().filter(|l| **l == Some(false)).count();
        let labelled = report.attacks > 0 && report.benign > 0;

        // Context features, computed once in input (time) order.
        let context = cfg.context.applies(flows).then(|| cfg.context.clone());
        let (cw, ctx) = match &context {
            Some(c) => {
                let mut cx =
                    Context::new(c, cfg.seed).map_err(|e| ml_err("context")(Box::new(e)))?;
                let cw = cx.width();
                let mut ctx = vec![0f32; flows.len() * cw];
                for (f, row) in flows.iter().zip(ctx.chunks_exact_mut(cw)) {
                    cx.update(f, row);
                }
                (cw, ctx)
            }
            None => (0, Vec::new()),
        };
        let ctx_row = |i: usize| -> &[f32] { ctx.get(i * cw..(i + 1) * cw).unwrap_or(&[]) };
        report.features = spec.tree_width() + cw;

        let mut supervised = None;
        let mut linear = None;
        let mut calibration = None;
        let mut families = None;
        if cfg.supervised && labelled {
            let labelled_idx: Vec<usize> =
                (0..flows.len()).filter(|&i| labels[i].is_some()).collect();
            let is_attack = |i: usize| u32::from(labels[i] == Some(true));
            // With calibration, 10% of the labelled rows (stratified) are held out before any
            // benign capping, so the calibrator sees the data's own class balance.
            let (pool, cal_idx): (Vec<usize>, Vec<usize>) = match cfg.calibration {
                CalibrationChoice::None => (labelled_idx, Vec::new()),
                _ => {
                    let ly: Vec<u32> = labelled_idx.iter().map(|&i| is_attack(i)).collect();
                    let (fit, cal) = ward_ml::cv::stratified_split(&ly, 0.1, cfg.seed)
                        .map_err(|e| ml_err("calibration")(Box::new(e)))?;
                    (
                        fit.iter().map(|&r| labelled_idx[r]).collect(),
                        cal.iter().map(|&r| labelled_idx[r]).collect(),
                    )
                }
            };
            let (idx, benign_weight) = cap_benign(&pool, &labels, cfg.supervised_max_rows);
            let x = tree_matrix(&spec, idx.iter().map(|&i| (&flows[i], ctx_row(i))));
            let y: Vec<u32> = idx.iter().map(|&i| is_attack(i)).collect();
            let cal_y: Vec<u32> = cal_idx.iter().map(|&i| is_attack(i)).collect();
            let mut cal_scores = vec![0f32; cal_idx.len()];
            match cfg.supervised_model {
                SupervisedKind::Gbdt => {
                    let mut params = GbdtParams {
                        seed: cfg.seed,
                        ..cfg.gbdt.clone()
                    };
                    if benign_weight > 1.0 && params.class_weight == ClassWeight::None {
                        params.class_weight = ClassWeight::Explicit(vec![benign_weight, 1.0]);
                    }
                    let g = Gbdt::fit(&x, &y, 2, &params)
                        .map_err(|e| ml_err("supervised")(Box::new(e)))?;
                    if !cal_idx.is_empty() {
                        let xc =
                            tree_matrix(&spec, cal_idx.iter().map(|&i| (&flows[i], ctx_row(i))));
                        g.predict_into(&xc, &mut cal_scores)
                            .map_err(|e| ml_err("calibration")(Box::new(e)))?;
                    }
                    supervised = Some(g);
                }
                SupervisedKind::Logreg => {
                    let d = linear_matrix(&spec, idx.iter().map(|&i| (&flows[i], ctx_row(i))));
                    let mut params = cfg.logreg.clone();
                    if benign_weight > 1.0 && params.class_weight == ClassWeight::None {
                        params.class_weight = ClassWeight::Explicit(vec![benign_weight, 1.0]);
                    }
                    let lr = LogReg::fit(&d, &y, 2, &params)
                        .map_err(|e| ml_err("supervised")(Box::new(e)))?;
                    if !cal_idx.is_empty() {
                        let dc =
                            linear_matrix(&spec, cal_idx.iter().map(|&i| (&flows[i], ctx_row(i))));
                        lr.predict_into(&dc, &mut cal_scores)
                            .map_err(|e| ml_err("calibration")(Box::new(e)))?;
                    }
                    linear = Some(lr);
                }
            }
            calibration = match cfg.calibration {
                CalibrationChoice::None => None,
                c => {
                    let method = if c == CalibrationChoice::Platt {
                        CalibrationMethod::PlattLogit
                    } else {
                        CalibrationMethod::Isotonic
                    };
                    Some(
                        Calibrator::fit(method, &cal_scores, &cal_y)
                            .map_err(|e| ml_err("calibration")(Box::new(e)))?,
                    )
                }
            };

            if cfg.families {
                // Families by frequency, benign first; ties by name for determinism.
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for &i in &idx {
                    if let Some(l) = flows[i].label.as_ref().filter(|l| l.attack) {
                        *counts.entry(l.category.as_str()).or_default() += 1;
                    }
                }
                let mut fams: Vec<(&str, usize)> = counts.into_iter().collect();
                fams.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                if fams.len() >= 2 {
                    let mut names = vec!["Normal".to_owned()];
                    names.extend(fams.iter().map(|(n, _)| (*n).to_owned()));
                    report.families = fams.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect();
                    let yf: Vec<u32> = idx
                        .iter()
                        .map(|&i| match flows[i].label.as_ref().filter(|l| l.attack) {
                            None => 0,
                            Some(l) => {
                                names.iter().position(|n| *n == l.category).unwrap_or(0) as u32
                            }
                        })
                        .collect();
                    let fparams = GbdtParams {
                        seed: cfg.seed,
                        ..cfg.family_gbdt.clone()
                    };
                    let gbdt = Gbdt::fit(&x, &yf, names.len(), &fparams)
                        .map_err(|e| ml_err("family")(Box::new(e)))?;
                    families = Some(FamilyModel { names, gbdt });
                }
            }
        }

        let mut anomaly = Vec::new();
        let mut rarity = None;
        if cfg.anomaly != AnomalyKind::None {
            // Benign rows only: labelled benign, or everything when the data has no labels.
            let benign: Vec<usize> = (0..flows.len())
                .filter(|&i| labels[i] != Some(true))
                .collect();
            // Every fifth benign flow is held out: the threshold is a quantile of their scores,
            // encoded exactly as detection will encode new flows, rather than of the (optimistic)
            // scores of the rows the model was fitted on.
            let hold: Vec<usize> = benign.iter().skip(4).step_by(5).copied().collect();
            let fit: Vec<usize> = benign
                .iter()
                .enumerate()
                .filter(|(k, _)| k % 5 != 4)
                .map(|(_, i)| *i)
                .collect();
            let fit_flows: Vec<&Flow> = fit.iter().map(|&i| &flows[i]).collect();
            let r = Rarity::fit(&spec, &fit_flows);
            let fit = spaced(fit, cfg.anomaly_max_rows);
            let hold = spaced(hold, cfg.anomaly_max_rows / 4);
            report.anomaly_rows = fit.len();
            if fit.len() >= 16 && hold.len() >= 4 {
                let r = (!r.is_empty()).then_some(r);
                let m = anomaly_matrix(
                    &spec,
                    r.as_ref(),
                    fit.iter().map(|&i| (&flows[i], ctx_row(i))),
                    true,
                );
                let h = anomaly_matrix(
                    &spec,
                    r.as_ref(),
                    hold.iter().map(|&i| (&flows[i], ctx_row(i))),
                    false,
                );
                rarity = r;
                let n_members = if cfg.anomaly == AnomalyKind::Both {
                    2.0
                } else {
                    1.0
                };
                // Each member gets an equal share of the benign flag budget, so the ensemble
                // flags about 1 - anomaly_quantile of benign flows whatever its size.
                let method = ThresholdMethod::Quantile {
                    quantile: 1.0 - (1.0 - cfg.anomaly_quantile) / n_members,
                };
                let err = |e: Box<dyn std::error::Error + Send + Sync>| NetError::Ml {
                    part: "anomaly",
                    source: e,
                };
                let kinds: &[AnomalyKind] = match cfg.anomaly {
                    AnomalyKind::Both => &[AnomalyKind::Kitnet, AnomalyKind::Iforest],
                    AnomalyKind::Kitnet => &[AnomalyKind::Kitnet],
                    AnomalyKind::Iforest => &[AnomalyKind::Iforest],
                    AnomalyKind::None => &[],
                };
                for kind in kinds {
                    let model = match kind {
                        AnomalyKind::Kitnet => {
                            let kcfg = KitNetConfig {
                                seed: cfg.seed,
                                ..cfg.kitnet.clone()
                            };
                            let mut net =
                                KitNet::new(m.n_cols(), kcfg).map_err(|e| err(Box::new(e)))?;
                            net.fit_batch(&m, cfg.kitnet_epochs.max(1))
                                .map_err(|e| err(Box::new(e)))?;
                            let scores = net.score_matrix(&h).map_err(|e| err(Box::new(e)))?;
                            let threshold =
                                Threshold::fit(&scores, method).map_err(|e| err(Box::new(e)))?;
                            AnomalyModel::Kitnet {
                                net: Box::new(net),
                                threshold,
                            }
                        }
                        _ => {
                            let icfg = IForestConfig {
                                seed: cfg.seed,
                                ..cfg.iforest.clone()
                            };
                            let forest =
                                IsolationForest::fit(&m, icfg).map_err(|e| err(Box::new(e)))?;
                            let scores = forest.score_matrix(&h).map_err(|e| err(Box::new(e)))?;
                            let threshold =
                                Threshold::fit(&scores, method).map_err(|e| err(Box::new(e)))?;
                            AnomalyModel::Iforest { forest, threshold }
                        }
                    };
                    report.anomaly_thresholds.push(model.threshold().value);
                    anomaly.push(model);
                }
            }
        }
        let mut devices = None;
        if cfg.devices
            && flows
                .iter()
                .filter(|f| f.src.is_some() && f.dst.is_some())
                .take(16)
                .count()
                == 16
        {
            let mut p = DeviceProfiler::new(cfg.device.clone())
                .map_err(|e| ml_err("device")(Box::new(e)))?;
            for (f, l) in flows.iter().zip(&labels) {
                if *l != Some(true) {
                    p.train(f);
                }
            }
            p.finish_training();
            report.devices = p.devices().len();
            devices = Some(DeviceModel {
                config: cfg.device.clone(),
                state: p.state().clone(),
            });
        }
        if supervised.is_none() && linear.is_none() && anomaly.is_empty() {
            return Err(NetError::NothingToTrain);
        }
        let model = Self {
            version: MODEL_VERSION,
            spec,
            supervised,
            linear,
            calibration,
            threshold: cfg.threshold,
            families,
            anomaly,
            fuse_anomaly: cfg.fuse_anomaly,
            rarity,
            context,
            seed: cfg.seed,
            devices,
        };
        Ok((model, report))
    }

    /// Checks that flows from a source with `schema` can be scored by this model: the same
    /// format and the same extra features, in the same order.
    pub fn check_schema(&self, schema: &FlowSchema) -> Result<(), NetError> {
        if schema.format != self.spec.format || schema.extra != self.spec.extra {
            return Err(NetError::Schema {
                model: self.spec.format.clone(),
                input: schema.format.clone(),
            });
        }
        Ok(())
    }

    /// Checks a loaded model's version.
    pub fn check_version(&self) -> Result<(), NetError> {
        if self.version == MODEL_VERSION {
            Ok(())
        } else {
            Err(NetError::Version {
                found: self.version,
            })
        }
    }

    /// The anomaly model's input for one flow: dense layout, rarity inputs, context row.
    pub fn anomaly_input(&self, f: &Flow, ctx: &[f32]) -> Vec<f32> {
        let dw = self.spec.dense_width();
        let rw = self.rarity.as_ref().map_or(0, Rarity::len);
        let mut v = vec![0f32; dw + rw];
        self.spec.encode_dense(f, &mut v[..dw]);
        if let Some(r) = &self.rarity {
            r.encode(f, false, &mut v[dw..]);
        }
        v.extend_from_slice(ctx);
        v
    }

    /// Names of the context features (empty without context).
    pub fn context_names(&self) -> Vec<String> {
        self.context
            .as_ref()
            .and_then(|c| Context::new(c, self.seed).ok())
            .map_or_else(Vec::new, |c| c.names())
    }

    /// Names of the anomaly model's inputs.
    pub fn anomaly_names(&self) -> Vec<String> {
        let mut n = self.spec.dense_names();
        if let Some(r) = &self.rarity {
            n.extend(r.names(&self.spec));
        }
        n.extend(self.context_names());
        n
    }

    /// Names of the supervised models' inputs.
    pub fn tree_names(&self) -> Vec<String> {
        let mut n = self.spec.tree_names();
        n.extend(self.context_names());
        n
    }

    /// A scorer with reusable buffers, for scoring many flows.
    pub fn scorer(&self) -> Scorer<'_> {
        let context = self
            .context
            .as_ref()
            .and_then(|c| Context::new(c, self.seed).ok());
        let cw = context.as_ref().map_or(0, Context::width);
        Scorer {
            model: self,
            context,
            ctx: Vec::new(),
            cw,
            tree: Vec::new(),
            lin: Vec::new(),
            prob: Vec::new(),
            fam: Vec::new(),
            dense: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Builds the alert for a flow the model called an attack (or anomalous). `None` for a flow
    /// it did not flag.
    ///
    /// `ctx` is the flow's context row ([`Scorer::context_row`]); empty without context.
    pub fn alert(&self, flow: &Flow, id: &EventId, v: &Verdict, ctx: &[f32]) -> Option<Alert> {
        self.build_alert(flow, id, v, ctx, true)
    }

    /// The same alert without the feature contributions (no tree or KitNET explanation, the
    /// costly part): detector, entity, title, score, time and MITRE techniques are those of
    /// [`NetModel::alert`], so a repeat filter can decide before paying for the explanation.
    pub fn alert_brief(&self, flow: &Flow, id: &EventId, v: &Verdict) -> Option<Alert> {
        self.build_alert(flow, id, v, &[], false)
    }

    fn build_alert(
        &self,
        flow: &Flow,
        id: &EventId,
        v: &Verdict,
        ctx: &[f32],
        explain: bool,
    ) -> Option<Alert> {
        if !v.attack {
            return None;
        }
        let supervised_hit = v.attack_prob.is_some_and(|p| p >= self.threshold);
        let family = v
            .family
            .and_then(|c| self.families.as_ref().and_then(|f| f.names.get(c as usize)))
            .filter(|n| *n != "Normal" && supervised_hit)
            .cloned();
        let src = flow.src.map(|a| a.to_string());
        let target = match (flow.dst, flow.dst_port) {
            (Some(d), Some(p)) => Some(format!("{d}:{p}")),
            (Some(d), None) => Some(d.to_string()),
            _ => None,
        };
        let service = flow
            .service
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "-");
        let what = match (&family, supervised_hit) {
            (Some(f), true) => format!("likely {f}"),
            (None, true) => "likely attack".to_owned(),
            (_, false) => "anomalous traffic".to_owned(),
        };
        let title = match (&src, &target) {
            (Some(s), Some(t)) => format!("{what} from {s} to {t}"),
            (Some(s), None) => format!("{what} from {s}"),
            _ => format!("{what} in {} record {}", id.source, id.line),
        };
        let conn = match (&src, &target, service) {
            (Some(s), Some(t), Some(svc)) => format!("The {svc} connection from {s} to {t}"),
            (Some(s), Some(t), None) => format!("The connection from {s} to {t}"),
            (_, _, Some(svc)) => format!("This {svc} flow"),
            _ => "This flow".to_owned(),
        };
        let mut contributions = Vec::new();
        let mut sentences = Vec::new();
        let detector;
        if supervised_hit {
            detector = "net.supervised";
            let p = v.attack_prob.unwrap_or(0.0);
            sentences.push(match &family {
                Some(f) => format!(
                    "{conn} resembles {f} attacks seen in training (attack probability {p:.2})."
                ),
                None => format!(
                    "{conn} resembles attacks seen in training (attack probability {p:.2})."
                ),
            });
            if let Some(lr) = self.linear.as_ref().filter(|_| explain) {
                let mut row = vec![0f32; self.spec.dense_width()];
                self.spec.encode_dense(flow, &mut row);
                row.extend_from_slice(ctx);
                if let Ok(c) = lr.contributions(&row) {
                    let mut names = self.spec.dense_names();
                    names.extend(self.context_names());
                    for (col, w) in top_contributions(&c, row.len(), 0, 8) {
                        let name = names.get(col).cloned().unwrap_or_default();
                        // an inactive one-hot column is about values the flow does not have
                        if w.abs() < 1e-4 || (name.contains('=') && row.get(col) == Some(&0.0)) {
                            continue;
                        }
                        contributions.push(Contribution {
                            value: dense_value(&name, flow, &self.spec, col, &row),
                            feature: name,
                            weight: f64::from(w),
                        });
                    }
                }
            }
            if let Some(g) = self.supervised.as_ref().filter(|_| explain) {
                let mut row = vec![0f32; self.spec.tree_width()];
                self.spec.encode_tree(flow, &mut row);
                row.extend_from_slice(ctx);
                if let Ok(c) = g.contributions(&row) {
                    let names = self.tree_names();
                    for (col, w) in top_contributions(&c, row.len(), 0, 5) {
                        if w.abs() < 1e-4 {
                            continue;
                        }
                        contributions.push(Contribution {
                            feature: names.get(col).cloned().unwrap_or_default(),
                            value: match col.checked_sub(self.spec.tree_width()) {
                                Some(k) => fmt_stat(ctx.get(k).copied().unwrap_or(0.0)),
                                None => self.spec.describe_tree_value(col, flow),
                            },
                            weight: f64::from(w),
                        });
                    }
                }
            }
            let pushing: Vec<String> = contributions
                .iter()
                .filter(|c| c.weight > 0.0)
                .take(3)
                .map(|c| describe(&c.feature, &c.value))
                .collect();
            if !pushing.is_empty() {
                sentences.push(format!(
                    "What pushed it most towards attack: {}.",
                    pushing.join(", ")
                ));
            }
            if v.anomalous {
                sentences.push(
                    "It is also unlike the benign traffic the anomaly model learned.".to_owned(),
                );
            }
        } else {
            detector = "net.anomaly";
            // for anomaly verdicts `anomaly_raw` is the ensemble's surprise
            let surprise = v.anomaly_raw.unwrap_or(0.0);
            sentences.push(format!(
                "{conn} is unlike the benign traffic the anomaly model learned: about one benign flow in {} scores this high.",
                fmt_odds(surprise)
            ));
            if let Some(AnomalyModel::Kitnet { net, .. }) = self
                .anomaly
                .iter()
                .find(|a| explain && matches!(a, AnomalyModel::Kitnet { .. }))
            {
                let dense = self.anomaly_input(flow, ctx);
                let x: Vec<f64> = dense.iter().map(|v| f64::from(*v)).collect();
                if let Ok(e) = net.explain(&x, 5) {
                    let names = self.anomaly_names();
                    let total: f64 = e
                        .top_features
                        .iter()
                        .map(|f| f.squared_error)
                        .sum::<f64>()
                        .max(1e-12);
                    for f in &e.top_features {
                        let name = names.get(f.feature).cloned().unwrap_or_default();
                        contributions.push(Contribution {
                            value: dense_value(&name, flow, &self.spec, f.feature, &dense),
                            feature: name,
                            weight: f.squared_error / total,
                        });
                    }
                }
            }
            let odd: Vec<String> = contributions
                .iter()
                .take(3)
                .map(|c| describe(&c.feature, &c.value))
                .collect();
            if !odd.is_empty() {
                sentences.push(format!("Least like normal: {}.", odd.join(", ")));
            }
        }
        let entity = match &src {
            Some(s) => EntityId::host(s.as_str()),
            None => EntityId::host("unknown"),
        };
        let score = (v.score.clamp(0.0, 1.0) * 100.0).round() as u8;
        let evidence = Evidence {
            events: vec![id.clone()],
            uids: flow.uid.iter().cloned().collect(),
        };
        let explanation = Explanation {
            summary: sentences.join(" "),
            contributions,
            rules: Vec::new(),
        };
        let alert = Alert::new(
            flow.ts.unwrap_or(Timestamp(0)),
            detector,
            score,
            entity,
            title,
            explanation,
            evidence,
        );
        let techniques = family.as_deref().map(mitre::techniques).unwrap_or(&[]);
        Some(alert.with_mitre(techniques))
    }
}

fn fmt_stat(v: f32) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// "one benign flow in N" for a surprise of `-log10(tail share)`.
fn fmt_odds(surprise: f64) -> String {
    let s = surprise.max(0.0);
    if s >= 12.0 {
        return "a trillion or more".to_owned();
    }
    let n = 10f64.powf(s);
    if n >= 1e9 {
        format!("{:.0} billion", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.0} million", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.0} thousand", n / 1e3)
    } else {
        format!("{:.0}", n.max(1.0))
    }
}

/// A feature and its value in words, for explanation sentences. Context statistics
/// (`chan_jitter_w_l0.1`) become "connections between the two hosts, over about the last 10 s";
/// one-hot columns (`service=dicom`) become "service dicom".
fn describe(feature: &str, value: &str) -> String {
    if let Some((base, lambda)) = feature.rsplit_once("_l")
        && let Ok(l) = lambda.parse::<f64>()
        && l > 0.0
    {
        let window = match 1.0 / l {
            h if h < 1.0 => format!("{:.1} s", h),
            h if h < 120.0 => format!("{h:.0} s"),
            h => format!("{:.0} min", h / 60.0),
        };
        let what = match base {
            "host_bytes_w" => "flows from the source host (decayed count)",
            "host_bytes_mean" => "mean bytes per flow from the source host",
            "host_bytes_std" => "spread of bytes per flow from the source host",
            "chan_bytes_w" => "flows between the two hosts (decayed count)",
            "chan_bytes_mean" => "mean bytes per flow between the two hosts",
            "chan_bytes_std" => "spread of bytes per flow between the two hosts",
            "chan_bytes_magnitude" => {
                "combined traffic size in both directions between the two hosts"
            }
            "chan_bytes_radius" => "combined variability in both directions between the two hosts",
            "chan_bytes_cov" | "chan_bytes_pcc" => {
                "how requests and responses between the two hosts move together"
            }
            "socket_bytes_w" => "flows on this exact socket (decayed count)",
            "socket_bytes_mean" => "mean bytes per flow on this socket",
            "socket_bytes_std" => "spread of bytes per flow on this socket",
            "socket_bytes_magnitude" | "socket_bytes_radius" => {
                "combined request and response size on this socket"
            }
            "socket_bytes_cov" | "socket_bytes_pcc" => {
                "how requests and responses on this socket move together"
            }
            "chan_jitter_w" => "connections between the two hosts (decayed count)",
            "chan_jitter_mean" => "mean gap between connections of the two hosts",
            "chan_jitter_std" => "regularity of the gaps between connections of the two hosts",
            _ => return format!("{feature} = {value}"),
        };
        return format!("{what} over about the last {window} = {value}");
    }
    if let Some(inner) = feature
        .strip_prefix("rarity(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return format!("{inner} {value}");
    }
    if let Some((field, v)) = feature.split_once('=') {
        // one-hot column: say what the flow has, and what the column stood for if different
        return if value == v || value.is_empty() {
            format!("{field} {v}")
        } else {
            format!("{field} {value} (the model expected {v})")
        };
    }
    format!("{feature} = {value}")
}

fn dense_value(name: &str, flow: &Flow, spec: &FeatureSpec, col: usize, dense: &[f32]) -> String {
    if name.starts_with("host_") || name.starts_with("chan_") || name.starts_with("socket_") {
        return fmt_stat(dense.get(col).copied().unwrap_or(0.0));
    }
    if name.starts_with("rarity(") {
        let seen = dense
            .get(col)
            .map_or(0.0, |v| f64::from(*v).exp_m1().round());
        return format!("seen {seen} times in benign training");
    }
    // extras: show the raw value (the dense layout log-compresses or one-hots it)
    if let Some(j) = spec.dense_extra(col) {
        return spec.describe_tree_value(spec.numeric.len() + 3 + j, flow);
    }
    if let Some((cat, _)) = name.split_once('=') {
        let v = match cat {
            "proto" => Some(flow.proto.as_str().to_owned()),
            "service" => flow.service.clone(),
            "state" => flow.state.clone(),
            _ => None,
        };
        return v.unwrap_or_else(|| "unknown".into());
    }
    if col < spec.numeric.len() {
        return spec.describe_tree_value(col, flow);
    }
    format!("{:.3}", dense.get(col).copied().unwrap_or(0.0))
}

/// Builds a matrix with one row per flow: `width` columns written by `encode`, then the flow's
/// context row (empty without context).
fn rows_matrix<'a>(
    width: usize,
    rows: impl Iterator<Item = (&'a Flow, &'a [f32])>,
    mut encode: impl FnMut(&Flow, &mut [f32]),
) -> Matrix {
    let mut data = Vec::new();
    let mut total = width;
    let mut row = vec![0f32; width];
    for (f, ctx) in rows {
        encode(f, &mut row);
        data.extend_from_slice(&row);
        data.extend_from_slice(ctx);
        total = width + ctx.len();
    }
    Matrix::from_vec(data, total).unwrap_or_else(|| Matrix::with_cols(total))
}

/// Encodes flows, each with its context row, in the tree layout.
pub fn tree_matrix<'a>(
    spec: &FeatureSpec,
    rows: impl Iterator<Item = (&'a Flow, &'a [f32])>,
) -> Matrix {
    rows_matrix(spec.tree_width(), rows, |f, out| spec.encode_tree(f, out))
}

/// Encodes flows, each with its context row, in the dense layout (the linear model's input).
fn linear_matrix<'a>(
    spec: &FeatureSpec,
    rows: impl Iterator<Item = (&'a Flow, &'a [f32])>,
) -> Matrix {
    rows_matrix(spec.dense_width(), rows, |f, out| spec.encode_dense(f, out))
}

/// Encodes benign training flows as anomaly-model input: the dense layout, rarity inputs
/// (leave-one-out when `in_fit`: these flows are the ones the rarity counts came from) and
/// the context row.
fn anomaly_matrix<'a>(
    spec: &FeatureSpec,
    rarity: Option<&Rarity>,
    rows: impl Iterator<Item = (&'a Flow, &'a [f32])>,
    in_fit: bool,
) -> Matrix {
    let dw = spec.dense_width();
    let rw = rarity.map_or(0, Rarity::len);
    rows_matrix(dw + rw, rows, |f, out| {
        spec.encode_dense(f, &mut out[..dw]);
        if let Some(r) = rarity {
            r.encode(f, in_fit, &mut out[dw..]);
        }
    })
}

/// Scores batches of flows with reusable buffers.
#[derive(Debug)]
pub struct Scorer<'m> {
    model: &'m NetModel,
    /// Streaming context state (the statistics carry over from batch to batch).
    context: Option<Context>,
    /// Context rows of the last batch.
    ctx: Vec<f32>,
    cw: usize,
    tree: Vec<f32>,
    lin: Vec<f32>,
    prob: Vec<f32>,
    fam: Vec<f32>,
    dense: Vec<f32>,
    buf: Vec<f64>,
}

impl Scorer<'_> {
    /// The context row of flow `i` of the last batch (empty without context).
    pub fn context_row(&self, i: usize) -> &[f32] {
        self.ctx.get(i * self.cw..(i + 1) * self.cw).unwrap_or(&[])
    }

    /// Scores a batch of flows; `out` receives one verdict per flow, in order.
    pub fn score_batch(&mut self, flows: &[&Flow], out: &mut Vec<Verdict>) {
        let m = self.model;
        out.clear();
        let n = flows.len();
        let cw = self.cw;
        self.ctx.resize(n * cw, 0.0);
        if let Some(c) = self.context.as_mut() {
            for (f, row) in flows.iter().zip(self.ctx.chunks_exact_mut(cw)) {
                c.update(f, row);
            }
        }
        let sw = m.spec.tree_width();
        let tw = sw + cw;
        let needs_tree = m.supervised.is_some() || m.families.is_some();
        let x = if needs_tree {
            self.tree.resize(n * tw, 0.0);
            for (i, f) in flows.iter().enumerate() {
                let row = &mut self.tree[i * tw..(i + 1) * tw];
                m.spec.encode_tree(f, &mut row[..sw]);
                row[sw..].copy_from_slice(&self.ctx[i * cw..(i + 1) * cw]);
            }
            Matrix::from_vec(std::mem::take(&mut self.tree), tw)
        } else {
            None
        };
        self.prob.clear();
        if let (Some(g), Some(x)) = (&m.supervised, &x) {
            self.prob.resize(n, 0.0);
            if g.predict_into(x, &mut self.prob).is_err() {
                self.prob.fill(f32::NAN);
            }
        }
        if let Some(lr) = &m.linear {
            let dw = m.spec.dense_width();
            let lw = dw + cw;
            self.lin.resize(n * lw, 0.0);
            for (i, f) in flows.iter().enumerate() {
                let row = &mut self.lin[i * lw..(i + 1) * lw];
                m.spec.encode_dense(f, &mut row[..dw]);
                row[dw..].copy_from_slice(&self.ctx[i * cw..(i + 1) * cw]);
            }
            self.prob.resize(n, 0.0);
            match Matrix::from_vec(std::mem::take(&mut self.lin), lw) {
                Some(x) => {
                    if lr.predict_into(&x, &mut self.prob).is_err() {
                        self.prob.fill(f32::NAN);
                    }
                    self.lin = x.into_vec();
                }
                None => self.prob.fill(f32::NAN),
            }
        }
        if let Some(c) = &m.calibration {
            c.apply_in_place(&mut self.prob);
        }
        // Families only for the rows the attack model flags (most traffic is benign, and the
        // family model has one tree per family per round); the others are benign (class 0).
        self.fam.clear();
        let n_fam = m.families.as_ref().map_or(0, |f| f.names.len());
        if let (Some(fm), Some(x)) = (&m.families, &x) {
            self.fam.resize(n * n_fam, 0.0);
            let flagged: Vec<usize> = (0..n)
                .filter(|&i| self.prob.get(i).is_some_and(|p| *p >= m.threshold))
                .collect();
            if !flagged.is_empty() {
                let sub = x.select_rows(&flagged);
                let mut probs = vec![0f32; flagged.len() * n_fam];
                if fm.gbdt.predict_proba_into(&sub, &mut probs).is_ok() {
                    for (k, &i) in flagged.iter().enumerate() {
                        self.fam[i * n_fam..(i + 1) * n_fam]
                            .copy_from_slice(&probs[k * n_fam..(k + 1) * n_fam]);
                    }
                }
            }
        }
        if let Some(x) = x {
            self.tree = x.into_vec();
        }
        let dw = m.spec.dense_width();
        let rw = m.rarity.as_ref().map_or(0, Rarity::len);
        self.dense.resize(dw + rw + cw, 0.0);
        for (i, f) in flows.iter().enumerate() {
            let attack_prob = (m.supervised.is_some() || m.linear.is_some()).then(|| self.prob[i]);
            let (mut anomaly_prob, mut anomaly_raw, mut anomalous) = (None, None, false);
            let mut members = [f32::NAN; 2];
            if !m.anomaly.is_empty() {
                m.spec.encode_dense(f, &mut self.dense[..dw]);
                if let Some(r) = &m.rarity {
                    r.encode(f, false, &mut self.dense[dw..dw + rw]);
                }
                self.dense[dw + rw..].copy_from_slice(&self.ctx[i * cw..(i + 1) * cw]);
                // Members are combined on a common scale: the surprise (-log10 of the share
                // of held-out benign flows expected to score at least this high), summed, as
                // independent tail evidence multiplies.
                let (mut prob, mut surprise) = (0f64, 0f64);
                for a in &m.anomaly {
                    let raw = a.raw_score(&self.dense, &mut self.buf);
                    let t = a.threshold();
                    let slot = usize::from(matches!(a, AnomalyModel::Iforest { .. }));
                    members[slot] = t.surprise(raw) as f32;
                    anomalous |= t.is_anomalous(raw);
                    prob = prob.max(t.probability(raw));
                    surprise += t.surprise(raw);
                }
                anomaly_prob = Some(prob as f32);
                anomaly_raw = Some(surprise);
            }
            let sup_hit = attack_prob.is_some_and(|p| p >= m.threshold);
            let attack = sup_hit || ((m.fuse_anomaly || attack_prob.is_none()) && anomalous);
            // Fused score: the supervised probability; an anomaly flag lifts it to at least
            // the anomaly probability scaled into the upper half.
            let mut score = attack_prob.unwrap_or(0.0);
            if let Some(ap) = anomaly_prob
                && (anomalous || attack_prob.is_none())
            {
                // flagged flows rank among themselves by surprise (about 3 at the flag
                // threshold, 12 and more for one benign flow in a trillion)
                let surprise = anomaly_raw.unwrap_or(0.0);
                let lifted = if anomalous {
                    0.5 + 0.5 * ((surprise - 3.0) / 9.0).clamp(0.0, 1.0) as f32
                } else {
                    ap * 0.5
                };
                score = score.max(lifted);
            }
            let family = if n_fam > 0 {
                let row = &self.fam[i * n_fam..(i + 1) * n_fam];
                // best non-benign family: what the attack most resembles
                let mut best = 1usize;
                for c in 2..n_fam {
                    if row[c] > row[best] {
                        best = c;
                    }
                }
                // a family only for what the supervised model called an attack
                Some(if sup_hit { best as u32 } else { 0 })
            } else {
                None
            };
            out.push(Verdict {
                attack_prob,
                anomaly_prob,
                anomaly_raw,
                anomaly_members: members,
                anomalous,
                attack,
                score,
                family,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{FlowLabel, Proto};

    fn flow(i: usize, attack: bool) -> Flow {
        let (bytes, state, cat) = if attack {
            (0, "S0", "Probe")
        } else {
            (500 + (i % 97) as u64 * 13, "SF", "Normal")
        };
        Flow {
            proto: Proto::Tcp,
            service: Some(if i.is_multiple_of(3) { "http" } else { "dns" }.into()),
            state: Some(state.into()),
            duration: Some(if attack { 0.0 } else { 1.0 + (i % 7) as f64 }),
            src_bytes: Some(bytes),
            dst_bytes: Some(bytes / 2),
            src: Some(format!("10.0.0.{}", i % 200 + 1).parse().unwrap()),
            dst: Some("10.0.1.1".parse().unwrap()),
            dst_port: Some(80),
            label: Some(FlowLabel {
                attack,
                category: cat.into(),
                name: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn trains_scores_and_explains() {
        let flows: Vec<Flow> = (0..600).map(|i| flow(i, i.is_multiple_of(5))).collect();
        let schema = FlowSchema {
            format: "test".into(),
            extra: vec![],
        };
        let cfg = NetTrainConfig {
            gbdt: GbdtParams {
                n_rounds: 20,
                ..GbdtParams::default()
            },
            families: false,
            ..Default::default()
        };
        let (model, report) = NetModel::train(&schema, &flows, &cfg).unwrap();
        assert_eq!(report.attacks, 120);
        assert_eq!(model.anomaly.len(), 2);
        let mut s = model.scorer();
        let mut out = Vec::new();
        let batch: Vec<&Flow> = flows.iter().collect();
        s.score_batch(&batch, &mut out);
        let correct = out
            .iter()
            .zip(&flows)
            .filter(|(v, f)| v.attack == f.label.as_ref().unwrap().attack)
            .count();
        let flagged_benign = out
            .iter()
            .zip(&flows)
            .filter(|(v, f)| v.attack && !f.label.as_ref().unwrap().attack)
            .count();
        let anomalous_benign = out
            .iter()
            .zip(&flows)
            .filter(|(v, f)| v.anomalous && !f.label.as_ref().unwrap().attack)
            .count();
        assert!(
            correct >= 590,
            "correct {correct}, benign flagged {flagged_benign}, anomalous benign {anomalous_benign}"
        );
        let id = EventId {
            source: "t".into(),
            line: 1,
        };
        let alert = model
            .alert(&flows[0], &id, &out[0], &[])
            .expect("attack flow raises an alert");
        assert_eq!(alert.detector, "net.supervised");
        assert!(
            alert.explanation.summary.contains("resembles attacks"),
            "{}",
            alert.explanation.summary
        );
        assert!(!alert.explanation.contributions.is_empty());
        assert!(model.alert(&flows[1], &id, &out[1], &[]).is_none());
        // the brief alert agrees on everything a repeat filter keys on, without the explanation
        let brief = model.alert_brief(&flows[0], &id, &out[0]).expect("brief");
        assert_eq!(
            (
                &brief.detector,
                &brief.entity,
                &brief.title,
                &brief.mitre,
                brief.time,
                brief.score
            ),
            (
                &alert.detector,
                &alert.entity,
                &alert.title,
                &alert.mitre,
                alert.time,
                alert.score
            )
        );
        assert!(brief.explanation.contributions.is_empty());
        assert!(model.alert_brief(&flows[1], &id, &out[1]).is_none());
    }

    #[test]
    fn logistic_regression_with_calibration_trains_and_explains() {
        let flows: Vec<Flow> = (0..600).map(|i| flow(i, i.is_multiple_of(5))).collect();
        let schema = FlowSchema {
            format: "test".into(),
            extra: vec![],
        };
        for calibration in [CalibrationChoice::Platt, CalibrationChoice::Isotonic] {
            let cfg = NetTrainConfig {
                supervised_model: SupervisedKind::Logreg,
                calibration,
                anomaly: AnomalyKind::None,
                families: false,
                ..Default::default()
            };
            let (model, _) = NetModel::train(&schema, &flows, &cfg).unwrap();
            assert!(model.linear.is_some() && model.supervised.is_none());
            assert!(model.calibration.is_some());
            let mut s = model.scorer();
            let mut out = Vec::new();
            let batch: Vec<&Flow> = flows.iter().collect();
            s.score_batch(&batch, &mut out);
            let correct = out
                .iter()
                .zip(&flows)
                .filter(|(v, f)| v.attack == f.label.as_ref().unwrap().attack)
                .count();
            assert!(correct >= 590, "{calibration:?}: correct {correct}");
            assert!(
                out.iter()
                    .all(|v| v.attack_prob.is_some_and(|p| (0.0..=1.0).contains(&p)))
            );
            let a = model
                .alert(
                    &flows[0],
                    &EventId {
                        source: "t".into(),
                        line: 1,
                    },
                    &out[0],
                    &[],
                )
                .unwrap();
            assert!(!a.explanation.contributions.is_empty(), "{calibration:?}");
        }
    }

    #[test]
    fn unlabelled_data_trains_anomaly_only() {
        let mut flows: Vec<Flow> = (0..400).map(|i| flow(i, false)).collect();
        for f in &mut flows {
            f.label = None;
        }
        let schema = FlowSchema {
            format: "test".into(),
            extra: vec![],
        };
        let (model, _) = NetModel::train(&schema, &flows, &NetTrainConfig::default()).unwrap();
        assert!(model.supervised.is_none());
        let mut odd = flow(1, false);
        odd.src_bytes = Some(50_000_000);
        odd.service = Some("smb".into());
        odd.state = Some("REJ".into());
        let mut s = model.scorer();
        let mut out = Vec::new();
        s.score_batch(&[&odd, &flows[3]], &mut out);
        assert!(out[0].anomaly_raw > out[1].anomaly_raw);
        assert!(out[0].attack);
        let a = model
            .alert(
                &odd,
                &EventId {
                    source: "t".into(),
                    line: 9,
                },
                &out[0],
                &[],
            )
            .unwrap();
        assert_eq!(a.detector, "net.anomaly");
        let id = EventId {
            source: "t".into(),
            line: 9,
        };
        let brief = model.alert_brief(&odd, &id, &out[0]).unwrap();
        assert_eq!((&brief.title, &brief.entity), (&a.title, &a.entity));
        assert!(brief.explanation.contributions.is_empty());
    }

    #[test]
    fn partial_config_tables_keep_the_other_defaults() {
        let d = NetTrainConfig::default();
        let cases = [
            ("gbdt = { max_depth = 5 }", "gbdt"),
            ("family_gbdt = { n_rounds = 10 }", "family"),
            ("kitnet = { max_group = 8 }", "kitnet"),
        ];
        for (text, which) in cases {
            let c: NetTrainConfig = toml_like(text);
            match which {
                "gbdt" => {
                    assert_eq!(c.gbdt.max_depth, 5);
                    assert_eq!(c.gbdt.n_rounds, d.gbdt.n_rounds);
                }
                "family" => {
                    assert_eq!(c.family_gbdt.n_rounds, 10);
                    assert_eq!(c.family_gbdt.class_weight, d.family_gbdt.class_weight);
                    assert_eq!(c.family_gbdt.learning_rate, d.family_gbdt.learning_rate);
                }
                _ => {
                    assert_eq!(c.kitnet.max_group, 8);
                    assert_eq!(c.kitnet.hidden_ratio, d.kitnet.hidden_ratio);
                }
            }
        }
        assert!(
            serde_json::from_str::<NetTrainConfig>(r#"{"gbdt": {"max_dept": 5}}"#).is_err(),
            "unknown keys still fail"
        );
        let bad = NetTrainConfig {
            threshold: 7.0,
            ..NetTrainConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("threshold"));
        assert!(NetTrainConfig::default().validate().is_ok());
    }

    /// Parses `key = { ... }` TOML-ish inline tables through JSON (detect has no TOML dependency).
    fn toml_like(text: &str) -> NetTrainConfig {
        let (key, rest) = text.split_once(" = ").unwrap();
        let body = rest.trim_matches(|c| c == '{' || c == '}').trim();
        let (k, v) = body.split_once(" = ").unwrap();
        serde_json::from_str(&format!(r#"{{"{key}": {{"{k}": {v}}}}}"#)).unwrap()
    }

    #[test]
    fn features_read_as_words() {
        let cases = [
            (
                "chan_jitter_w_l0.1",
                "4",
                "connections between the two hosts (decayed count) over about the last 10 s = 4",
            ),
            (
                "host_bytes_w_l5",
                "2",
                "flows from the source host (decayed count) over about the last 0.2 s = 2",
            ),
            (
                "host_bytes_mean_l0.001",
                "9",
                "mean bytes per flow from the source host over about the last 17 min = 9",
            ),
            ("service=dicom", "dicom", "service dicom"),
            (
                "service=dicom",
                "snmp",
                "service snmp (the model expected dicom)",
            ),
            (
                "rarity(src_bytes)",
                "seen 0 times in benign training",
                "src_bytes seen 0 times in benign training",
            ),
            ("dst_bytes", "0", "dst_bytes = 0"),
        ];
        for (f, v, want) in cases {
            assert_eq!(describe(f, v), want);
        }
        assert_eq!(fmt_odds(3.0), "1000");
        assert_eq!(fmt_odds(7.0), "10 million");
        assert_eq!(fmt_odds(40.0), "a trillion or more");
    }

    #[test]
    fn empty_input_is_an_error() {
        let schema = FlowSchema::default();
        assert!(matches!(
            NetModel::train(&schema, &[], &NetTrainConfig::default()),
            Err(NetError::NoData)
        ));
    }
}
