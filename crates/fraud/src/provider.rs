//! Provider risk: features per provider from the rule engine's aggregates, a peer-outlier
//! score when no labels exist, and gradient-boosted trees when they do, with per-provider
//! explanations.

use crate::error::FraudError;
use crate::rules::{Engine, RULES, Rule};
use foldhash::{HashMap, HashMapExt};
use serde::{Deserialize, Serialize};
use ward_ml::Matrix;
use ward_ml::gbdt::{Gbdt, GbdtParams};

/// The provider features, in the order of a row.
pub const FEATURES: [&str; 32] = [
    "claims_log",
    "beneficiaries_log",
    "claims_per_beneficiary",
    "inpatient_share",
    "mean_amount_log",
    "mean_inpatient_amount_log",
    "mean_stay_days",
    "diagnoses_per_claim",
    "procedures_per_claim",
    "physicians_per_claim",
    "operated_share",
    "chronic_per_claim",
    "mean_age",
    "code_mix_distance",
    "amount_vs_peers_log",
    "busiest_day_ratio",
    "shared_with_flagged",
    "deductible_share",
    "beneficiary_states",
    "excess_excluded_provider",
    "excess_after_death",
    "excess_overlapping_stay",
    "excess_duplicate_claim",
    "excess_impossible_day",
    "excess_unbundling",
    "excess_overbilling",
    "excess_identity_distance",
    "excess_identity_burst",
    "rules_in_excess",
    "claims_per_day",
    "over_peers_share",
    "hard_findings_log",
];

/// Rules an honest provider can hardly trigger: a dead patient, an excluded biller, an exact
/// repeat, a 24-hour day, overlapping stays, a code with its own component.
const HARD: [Rule; 6] = [
    Rule::ExcludedProvider,
    Rule::AfterDeath,
    Rule::DuplicateClaim,
    Rule::ImpossibleDay,
    Rule::OverlappingStay,
    Rule::Unbundling,
];

/// Index of the first rule-excess feature.
const EXCESS0: usize = 19;

/// How surprising `k` hits are where `expected` were due (the Poisson log-likelihood ratio,
/// in nats; 0 when no more than expected): about 3 at p = 0.01, about 5 at p = 0.001.
fn excess(k: f64, expected: f64) -> f64 {
    let e = expected.max(1e-9);
    if k <= e {
        0.0
    } else {
        k * (k / e).ln() - k + e
    }
}

/// Surprise at which a rule counts as in excess for a provider.
const IN_EXCESS: f64 = 5.0;

/// Features where a high value (against peers) is suspicious, for the peer-outlier score.
const OUTLIER: [&str; 10] = [
    "claims_per_beneficiary",
    "mean_amount_log",
    "diagnoses_per_claim",
    "procedures_per_claim",
    "code_mix_distance",
    "amount_vs_peers_log",
    "busiest_day_ratio",
    "shared_with_flagged",
    "claims_per_day",
    "over_peers_share",
];

/// How strongly one hit of each rule speaks for fraud in the peer-outlier score (the share
/// of a provider's claims a hit rate is compared with).
fn rule_weight(r: Rule) -> f32 {
    match r {
        Rule::ExcludedProvider | Rule::AfterDeath | Rule::ImpossibleDay => 0.9,
        Rule::DuplicateClaim | Rule::Unbundling | Rule::Overbilling => 0.7,
        Rule::OverlappingStay | Rule::IdentityDistance => 0.5,
        Rule::IdentityBurst => 0.3,
    }
}

/// The features of every provider that has claims, with its name.
#[derive(Debug, Clone)]
pub struct Table {
    /// Provider names, one per row.
    pub providers: Vec<String>,
    /// Provider ids (interned), one per row.
    pub ids: Vec<u32>,
    /// One row per provider, [`FEATURES`] wide.
    pub x: Matrix,
}

/// Builds the feature table from a finished engine.
pub fn table(engine: &Engine, ids: &crate::load::Ids) -> Table {
    let aggs = &engine.providers;
    // code-mix vectors and the peer centroid per specialty (all providers without one)
    let spec = |p: u32| engine.specialty(p).unwrap_or("").to_string();
    let mut centroid: HashMap<String, HashMap<u32, f64>> = HashMap::new();
    let mut members: HashMap<String, f64> = HashMap::new();
    for (pi, a) in aggs.iter().enumerate() {
        if a.claims == 0 {
            continue;
        }
        let c = centroid.entry(spec(pi as u32)).or_default();
        for (k, st) in &a.codes {
            *c.entry(*k).or_default() += f64::from(st.n) / f64::from(a.claims);
        }
        *members.entry(spec(pi as u32)).or_default() += 1.0;
    }
    // peer mean amount per code (for amount vs peers)
    let mut code_sum: HashMap<u32, (f64, f64)> = HashMap::new();
    for a in aggs {
        for (k, st) in &a.codes {
            let e = code_sum.entry(*k).or_default();
            e.0 += f64::from(st.n);
            e.1 += st.sum;
        }
    }
    // each rule's rate over the whole run: the baseline a provider's hits are measured against
    let total: f64 = aggs
        .iter()
        .map(|a| f64::from(a.claims))
        .sum::<f64>()
        .max(1.0);
    let base: Vec<f64> = RULES
        .iter()
        .map(|r| {
            let hits: f64 = aggs.iter().map(|a| f64::from(a.hits[r.index()])).sum();
            (hits + 1.0) / total
        })
        .collect();
    // providers with any rule hit, and which beneficiaries they saw
    let flagged: Vec<bool> = aggs.iter().map(|a| a.hits.iter().any(|&h| h > 0)).collect();
    let mut bene_flagged: HashMap<u32, u32> = HashMap::new();
    for (a, f) in aggs.iter().zip(&flagged) {
        if *f {
            for b in &a.benes {
                *bene_flagged.entry(*b).or_default() += 1;
            }
        }
    }
    let mut x = Matrix::with_cols(FEATURES.len());
    let mut providers = Vec::new();
    let mut pids = Vec::new();
    for (pi, a) in aggs.iter().enumerate() {
        if a.claims == 0 {
            continue;
        }
        let n = f64::from(a.claims);
        let inp = f64::from(a.inpatient);
        let sp = spec(pi as u32);
        let m = members.get(&sp).copied().unwrap_or(1.0);
        let distance = centroid.get(&sp).map_or(0.0, |c| {
            let (mut dot, mut na, mut nc) = (0.0, 0.0, 0.0);
            for (k, st) in &a.codes {
                let v = f64::from(st.n) / n;
                dot += v * c.get(k).copied().unwrap_or(0.0) / m;
                na += v * v;
            }
            for v in c.values() {
                nc += (v / m) * (v / m);
            }
            if na > 0.0 && nc > 0.0 {
                1.0 - dot / (na.sqrt() * nc.sqrt())
            } else {
                0.0
            }
        });
        let mut ratio_sum = 0.0;
        let mut ratio_n = 0.0;
        for (k, st) in &a.codes {
            let (cnt, s) = (f64::from(st.n), st.sum);
            if let Some((pn, ps)) = code_sum.get(k)
                && *pn > cnt
            {
                // peers without this provider
                let peer_mean = (ps - s) / (pn - cnt);
                if peer_mean > 0.0 {
                    ratio_sum += cnt * ((s / cnt).max(1.0) / peer_mean).ln();
                    ratio_n += cnt;
                }
            }
        }
        let days = a.days.max(1) as f64;
        let busiest = f64::from(a.busiest);
        let shared = if a.benes.is_empty() {
            0.0
        } else {
            let own = u32::from(flagged.get(pi).copied().unwrap_or(false));
            a.benes
                .iter()
                .filter(|b| bene_flagged.get(b).copied().unwrap_or(0) > own)
                .count() as f64
                / a.benes.len() as f64
        };
        let mut row = vec![
            n.ln_1p(),
            (a.benes.len() as f64).ln_1p(),
            n / a.benes.len().max(1) as f64,
            inp / n,
            (a.amount / n).max(0.0).ln_1p(),
            if inp > 0.0 {
                (a.inpatient_amount / inp).max(0.0).ln_1p()
            } else {
                0.0
            },
            if inp > 0.0 { a.stay_days / inp } else { 0.0 },
            a.dx as f64 / n,
            a.px as f64 / n,
            a.physicians.len() as f64 / n,
            f64::from(a.operated) / n,
            a.chronic as f64 / n,
            if a.aged > 0 {
                a.age_sum / f64::from(a.aged)
            } else {
                f64::NAN
            },
            distance,
            if ratio_n > 0.0 {
                ratio_sum / ratio_n
            } else {
                0.0
            },
            busiest / (n / days),
            shared,
            if a.amount > 0.0 {
                a.deductible / (a.amount + a.deductible)
            } else {
                0.0
            },
            engine.bene_states(pi as u32).len() as f64,
        ];
        let mut in_excess = 0.0;
        for r in RULES {
            let e = excess(
                f64::from(a.hits[r.index()]),
                n * base.get(r.index()).copied().unwrap_or(0.0),
            );
            if e >= IN_EXCESS {
                in_excess += 1.0;
            }
            row.push(e.ln_1p());
        }
        row.push(in_excess);
        row.push(n / days);
        row.push(f64::from(a.over_peers) / n);
        row.push(
            HARD.iter()
                .map(|r| f64::from(a.hits[r.index()]))
                .sum::<f64>()
                .ln_1p(),
        );
        let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
        x.push_row(&row);
        providers.push(ids.providers.name(pi as u32).to_string());
        pids.push(pi as u32);
    }
    relative(&mut x);
    Table {
        providers,
        ids: pids,
        x,
    }
}

/// Volume, amount and mix features that depend on the payer's size, prices and period.
const LOG_RELATIVE: [&str; 4] = [
    "claims_log",
    "beneficiaries_log",
    "mean_amount_log",
    "mean_inpatient_amount_log",
];
const RATIO_RELATIVE: [&str; 11] = [
    "claims_per_beneficiary",
    "mean_stay_days",
    "diagnoses_per_claim",
    "procedures_per_claim",
    "physicians_per_claim",
    "chronic_per_claim",
    "mean_age",
    "busiest_day_ratio",
    "beneficiary_states",
    "claims_per_day",
    "code_mix_distance",
];

/// Expresses the size-dependent features against the median provider of the same run (a
/// difference of logs, or the log of the ratio), so that a model trained on one payer's
/// claims reads another's on the same scale. Shares and rule rates stay as they are.
fn relative(x: &mut Matrix) {
    let cols = x.n_cols();
    let mut data = std::mem::replace(x, Matrix::with_cols(cols)).into_vec();
    let median = |data: &[f32], j: usize| {
        let mut v: Vec<f32> = data
            .chunks(cols)
            .filter_map(|r| r.get(j).copied())
            .filter(|v| v.is_finite())
            .collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    for name in LOG_RELATIVE {
        let j = feature_index(name);
        let m = median(&data, j);
        for r in data.chunks_mut(cols) {
            if let Some(v) = r.get_mut(j) {
                *v -= m;
            }
        }
    }
    for name in RATIO_RELATIVE {
        let j = feature_index(name);
        let m = median(&data, j).max(1e-6);
        for r in data.chunks_mut(cols) {
            if let Some(v) = r.get_mut(j) {
                *v = (v.max(0.0) + m * 0.01).ln() - (m * 1.01).ln();
            }
        }
    }
    *x = Matrix::from_vec(data, cols).unwrap_or_else(|| Matrix::with_cols(cols));
}

/// A provider's score and the reasons behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Provider name.
    pub provider: String,
    /// Probability-like score in [0, 1].
    pub score: f32,
    /// Over the flag threshold.
    pub flag: bool,
    /// The features that pushed the score up most, in words.
    pub reasons: Vec<String>,
    /// The same for the trees, structured: feature, value in words, log-odds pushed (empty
    /// for the peer-outlier score).
    pub contributions: Vec<ward_core::Contribution>,
}

fn feature_index(name: &str) -> usize {
    FEATURES.iter().position(|f| *f == name).unwrap_or_default()
}

/// Median and scaled MAD of each column.
fn robust(x: &Matrix) -> Vec<(f32, f32)> {
    (0..x.n_cols())
        .map(|j| {
            let mut v: Vec<f32> = x
                .rows()
                .filter_map(|r| r.get(j).copied())
                .filter(|v| v.is_finite())
                .collect();
            v.sort_by(f32::total_cmp);
            let med = v.get(v.len() / 2).copied().unwrap_or(0.0);
            let mut d: Vec<f32> = v.iter().map(|a| (a - med).abs()).collect();
            d.sort_by(f32::total_cmp);
            let mut mad = d.get(d.len() / 2).copied().unwrap_or(0.0) * 1.4826;
            if mad <= 0.0 {
                // most providers share one value (often 0): the mean absolute deviation,
                // scaled to a standard deviation, measures the rest
                mad = d.iter().sum::<f32>() / d.len().max(1) as f32 * 1.2533;
            }
            // a column that barely varies is measured against a tenth of its median instead
            (med, mad.max(med.abs() * 0.1).max(1e-3))
        })
        .collect()
}

/// The peer-outlier score (no labels): rule evidence combined as independent pieces, then
/// raised by how far the provider stands above its peers on the [`OUTLIER`] features
/// (robust z-scores, median and MAD over all providers).
pub fn outlier_scores(t: &Table) -> Vec<(f32, Vec<String>)> {
    let stats = robust(&t.x);
    t.x.rows()
        .map(|row| {
            let mut reasons: Vec<(f32, String)> = Vec::new();
            let mut clean = 1.0f32;
            for r in RULES {
                // the evidence of a rule grows with how far its hits exceed the run's rate
                let e = f64::from(row.get(EXCESS0 + r.index()).copied().unwrap_or(0.0)).exp_m1();
                if e > 0.0 {
                    let s = rule_weight(r) * (1.0 - (-e / IN_EXCESS).exp()) as f32;
                    clean *= 1.0 - s;
                    reasons.push((
                        s,
                        format!(
                            "rule {}: more findings than the run's rate predicts (surprise {e:.1})",
                            r.code()
                        ),
                    ));
                }
            }
            // findings an honest provider can hardly have, however many claims it bills
            let hard = f64::from(
                row.get(feature_index("hard_findings_log"))
                    .copied()
                    .unwrap_or(0.0),
            )
            .exp_m1();
            if hard >= 1.0 {
                let s = 0.8 * (1.0 - (-hard / 3.0).exp()) as f32;
                clean *= 1.0 - s;
                reasons.push((
                    s,
                    format!(
                        "{hard:.0} findings of rules an honest provider can hardly trigger (deaths, exclusions, exact repeats, 24-hour days, overlapping stays, unbundling)"
                    ),
                ));
            }
            let mut zs: Vec<(f32, &str)> = OUTLIER
                .iter()
                .map(|name| {
                    let j = feature_index(name);
                    let (med, mad) = stats.get(j).copied().unwrap_or((0.0, 1.0));
                    let v = row.get(j).copied().unwrap_or(0.0);
                    (if v.is_finite() { (v - med) / mad } else { 0.0 }, *name)
                })
                .collect();
            zs.sort_by(|a, b| b.0.total_cmp(&a.0));
            // the mean of the three largest positive deviations
            let top: f32 = zs.iter().take(3).map(|z| z.0.max(0.0)).sum::<f32>() / 3.0;
            let peer = 1.0 - (-(top / 4.0).powi(2)).exp();
            for (z, name) in zs.iter().take(3).filter(|z| z.0 >= 3.0) {
                let v = row.get(feature_index(name)).copied().unwrap_or(f32::NAN);
                reasons.push((
                    peer,
                    format!("{} ({z:.1} deviations above peers)", describe(name, v)),
                ));
            }
            clean *= 1.0 - 0.8 * peer;
            reasons.sort_by(|a, b| b.0.total_cmp(&a.0));
            (
                1.0 - clean,
                reasons.into_iter().map(|(_, r)| r).take(5).collect(),
            )
        })
        .collect()
}

/// A provider-risk model trained on labels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RiskModel {
    /// The trees.
    pub trees: Gbdt,
    /// Flag at or above this probability (the best F1 on out-of-fold scores of training).
    pub threshold: f32,
    /// The share of fraudulent providers in training (0 in model files from before it was
    /// kept: no adaptation).
    #[serde(default)]
    pub prior: f32,
}

/// Providers a run needs before its share of fraudulent providers is estimated and a carried
/// model's probabilities adapted to it.
pub const MIN_ADAPT: usize = 100;

/// Adapts probabilities from a model trained where `trained` of the providers were
/// fraudulent to a run with another share, estimated from the probabilities themselves by
/// expectation-maximisation (Saerens, Latinne and Decaestecker, 2002): returns the adapted
/// probabilities and the estimated share (kept within 0.1% to 50%).
pub fn adapt_to_share(p: &[f32], trained: f32) -> (Vec<f32>, f32) {
    let t = f64::from(trained).clamp(1e-4, 1.0 - 1e-4);
    let adapted = |share: f64| {
        let (a, b) = (share / t, (1.0 - share) / (1.0 - t));
        p.iter().map(move |&v| {
            // a probability that is not a number counts as the training share
            let v = f64::from(v);
            let v = if v.is_nan() {
                t
            } else {
                v.clamp(1e-9, 1.0 - 1e-9)
            };
            a * v / (a * v + b * (1.0 - v))
        })
    };
    let mut share = t;
    for _ in 0..1000 {
        let next = (adapted(share).sum::<f64>() / p.len().max(1) as f64).clamp(0.001, 0.5);
        let done = (next - share).abs() < 1e-7;
        share = next;
        if done {
            break;
        }
    }
    (adapted(share).map(|v| v as f32).collect(), share as f32)
}

/// The tree settings of the provider model.
pub fn params() -> GbdtParams {
    GbdtParams {
        n_rounds: 400,
        learning_rate: 0.03,
        max_leaves: 7,
        min_samples_leaf: 20,
        subsample: 0.8,
        colsample: 0.5,
        seed: 11,
        ..GbdtParams::default()
    }
}

impl RiskModel {
    /// Trains on labelled rows; the threshold is the best F1 over 5-fold out-of-fold scores.
    pub fn train(x: &Matrix, y: &[u32]) -> Result<Self, FraudError> {
        let p = params();
        let trees = Gbdt::fit(x, y, 2, &p).map_err(|e| FraudError::Model(e.to_string()))?;
        let oof = oof_scores(x, y, 5, 3)?;
        let threshold = ward_ml::metrics::threshold_for_max_f1(y, &oof).unwrap_or(0.5);
        let prior = y.iter().filter(|&&v| v == 1).count() as f32 / y.len().max(1) as f32;
        Ok(Self {
            trees,
            threshold,
            prior,
        })
    }

    /// Probabilities for every provider of one run, adapted to the run's estimated share of
    /// fraudulent providers when the run has [`MIN_ADAPT`] providers or more (and the
    /// estimate).
    pub fn predict_run(&self, x: &Matrix) -> Result<(Vec<f32>, Option<f32>), FraudError> {
        let p = self.predict(x)?;
        if self.prior > 0.0 && p.len() >= MIN_ADAPT {
            let (q, share) = adapt_to_share(&p, self.prior);
            Ok((q, Some(share)))
        } else {
            Ok((p, None))
        }
    }

    /// Probability of fraud per row.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f32>, FraudError> {
        self.trees
            .predict(x)
            .map_err(|e| FraudError::Model(e.to_string()))
    }

    /// The features that pushed a row's score up most: feature, its value in words, and
    /// the log-odds it added.
    pub fn contributions(&self, row: &[f32], k: usize) -> Vec<ward_core::Contribution> {
        let Ok(c) = self.trees.contributions(row) else {
            return Vec::new();
        };
        ward_ml::gbdt::top_contributions(&c, FEATURES.len(), 0, k)
            .into_iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(j, v)| {
                let name = FEATURES.get(j).copied().unwrap_or("?");
                ward_core::Contribution {
                    feature: name.to_string(),
                    value: describe(name, row.get(j).copied().unwrap_or(f32::NAN)),
                    weight: f64::from(v),
                }
            })
            .collect()
    }
}

/// A tree contribution as a reason in words.
pub fn reason(c: &ward_core::Contribution) -> String {
    format!("{} (+{:.2} log-odds)", c.value, c.weight)
}

/// A feature's value in words, as a table row holds it (relative features against the
/// run's median provider).
pub fn describe(name: &str, v: f32) -> String {
    let times = v.exp();
    let pct = v * 100.0;
    if let Some(rule) = name.strip_prefix("excess_") {
        return format!(
            "rule {rule} fires more often than the run's rate predicts (surprise {:.0})",
            v.exp_m1()
        );
    }
    match name {
        "claims_log" => format!("{times:.1} times the median provider's claims"),
        "beneficiaries_log" => format!("{times:.1} times the median provider's beneficiaries"),
        "mean_amount_log" => format!("mean reimbursement {times:.1} times the median provider's"),
        "mean_inpatient_amount_log" => {
            format!("mean inpatient reimbursement {times:.1} times the median provider's")
        }
        "claims_per_beneficiary" => format!("claims per beneficiary {times:.1} times the median"),
        "mean_stay_days" => format!("inpatient stays {times:.1} times as long as the median"),
        "diagnoses_per_claim" => format!("diagnoses per claim {times:.1} times the median"),
        "procedures_per_claim" => format!("procedures per claim {times:.1} times the median"),
        "physicians_per_claim" => format!("physicians per claim {times:.1} times the median"),
        "chronic_per_claim" => {
            format!("chronic conditions of its patients {times:.1} times the median")
        }
        "mean_age" => format!("patients' age {times:.2} times the median"),
        "busiest_day_ratio" => {
            format!("its busiest day against its average day {times:.1} times the median")
        }
        "beneficiary_states" => {
            format!("patients from {times:.1} times as many states as the median")
        }
        "claims_per_day" => format!("claims per working day {times:.1} times the median"),
        "code_mix_distance" => {
            format!("code mix {times:.1} times further from its specialty's than the median")
        }
        "inpatient_share" => format!("{pct:.0}% inpatient claims"),
        "operated_share" => format!("{pct:.0}% of claims with an operating physician"),
        "amount_vs_peers_log" => {
            format!("reimbursed {times:.1} times its peers for the same codes")
        }
        "shared_with_flagged" => {
            format!("{pct:.0}% of its patients also seen by providers a rule flagged")
        }
        "deductible_share" => format!("deductibles {pct:.0}% of the billed total"),
        "rules_in_excess" if v < 1.5 => {
            "1 rule fires more often than the run's rate predicts".into()
        }
        "rules_in_excess" => format!("{v:.0} rules fire more often than the run's rate predicts"),
        "over_peers_share" => {
            format!("{pct:.1}% of its claims at 3 times the peer median of their code or more")
        }
        "hard_findings_log" => format!(
            "{:.0} findings of rules an honest provider can hardly trigger",
            v.exp_m1()
        ),
        _ => format!("{name} = {v:.3}"),
    }
}

/// Out-of-fold probabilities of a `k`-fold cross-validation stratified by label.
pub fn oof_scores(x: &Matrix, y: &[u32], k: usize, seed: u64) -> Result<Vec<f32>, FraudError> {
    let folds =
        ward_ml::cv::stratified_kfold(y, k, seed).map_err(|e| FraudError::Model(e.to_string()))?;
    let mut out = vec![0f32; y.len()];
    let p = params();
    for f in folds {
        let xt = x.select_rows(&f.train);
        let yt: Vec<u32> = f.train.iter().filter_map(|&i| y.get(i).copied()).collect();
        let m = Gbdt::fit(&xt, &yt, 2, &p).map_err(|e| FraudError::Model(e.to_string()))?;
        let xv = x.select_rows(&f.test);
        let pv = m
            .predict(&xv)
            .map_err(|e| FraudError::Model(e.to_string()))?;
        for (&i, v) in f.test.iter().zip(pv) {
            if let Some(o) = out.get_mut(i) {
                *o = v;
            }
        }
    }
    Ok(out)
}
