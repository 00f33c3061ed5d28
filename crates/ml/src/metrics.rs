//! Evaluation metrics: ROC-AUC, average precision, confusion matrices, F1, false-alarm rates,
//! threshold search, and printable reports.
//!
//! Conventions: binary labels are `0` (negative, benign) or `1` (positive, attack); a row is
//! predicted positive when its score is `>= threshold`. Ratios with a zero denominator are `0`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

fn check_binary(labels: &[u32], scores: &[f32]) -> Result<(usize, usize)> {
    if labels.is_empty() {
        return Err(MlError::Empty("labels"));
    }
    if labels.len() != scores.len() {
        return Err(MlError::LengthMismatch {
            what: "scores",
            expected: labels.len(),
            got: scores.len(),
        });
    }
    let mut pos = 0;
    for (row, (&l, &s)) in labels.iter().zip(scores).enumerate() {
        if l > 1 {
            return Err(MlError::LabelOutOfRange {
                label: u64::from(l),
                row,
                n_classes: 2,
            });
        }
        if s.is_nan() {
            return Err(MlError::NonFiniteScore { row });
        }
        pos += l as usize;
    }
    Ok((pos, labels.len() - pos))
}

fn require_both_classes(pos: usize, neg: usize) -> Result<()> {
    if pos == 0 {
        return Err(MlError::EmptyClass { class: 1 });
    }
    if neg == 0 {
        return Err(MlError::EmptyClass { class: 0 });
    }
    Ok(())
}

/// Indices sorted by descending score (stable, so equal scores keep input order).
fn order_desc(scores: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// Walks distinct score values from highest to lowest, calling `f(threshold, tp, fp)` with the
/// cumulative counts of rows whose score is `>= threshold`.
fn walk_thresholds(labels: &[u32], scores: &[f32], mut f: impl FnMut(f32, usize, usize)) {
    let order = order_desc(scores);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        f(s, tp, fp);
    }
}

/// Area under the ROC curve (the Mann–Whitney statistic); tied scores count one half.
///
/// Errors on empty or mismatched input, labels other than 0/1, NaN scores, or when either class
/// is absent (the AUC is then undefined).
pub fn roc_auc(labels: &[u32], scores: &[f32]) -> Result<f64> {
    let (pos, neg) = check_binary(labels, scores)?;
    require_both_classes(pos, neg)?;
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of (average, 1-based) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < idx.len() {
        let s = scores[idx[i]];
        let mut j = i;
        let mut pos_in_group = 0usize;
        while j < idx.len() && scores[idx[j]] == s {
            pos_in_group += labels[idx[j]] as usize;
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * pos_in_group as f64;
        i = j;
    }
    let (p, n) = (pos as f64, neg as f64);
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision: the area under the precision–recall curve as a step function,
/// `sum_k (R_k - R_{k-1}) * P_k` over distinct score thresholds (tied scores form one step).
///
/// Errors as [`roc_auc`], except that only the positive class must be present.
pub fn average_precision(labels: &[u32], scores: &[f32]) -> Result<f64> {
    let (pos, _) = check_binary(labels, scores)?;
    if pos == 0 {
        return Err(MlError::EmptyClass { class: 1 });
    }
    let mut ap = 0.0f64;
    let mut prev_recall = 0.0f64;
    walk_thresholds(labels, scores, |_, tp, fp| {
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    });
    Ok(ap)
}

/// PR-AUC, computed as [`average_precision`].
pub fn pr_auc(labels: &[u32], scores: &[f32]) -> Result<f64> {
    average_precision(labels, scores)
}

/// Mean squared error between probabilities and 0/1 labels.
pub fn brier_score(labels: &[u32], probs: &[f32]) -> Result<f64> {
    check_binary(labels, probs)?;
    let sum: f64 = labels
        .iter()
        .zip(probs)
        .map(|(&l, &p)| (f64::from(p) - f64::from(l)).powi(2))
        .sum();
    Ok(sum / labels.len() as f64)
}

/// Mean binary cross-entropy of probabilities (clipped to `[1e-15, 1 - 1e-15]`).
pub fn log_loss(labels: &[u32], probs: &[f32]) -> Result<f64> {
    check_binary(labels, probs)?;
    let sum: f64 = labels
        .iter()
        .zip(probs)
        .map(|(&l, &p)| {
            let p = f64::from(p).clamp(1e-15, 1.0 - 1e-15);
            if l == 1 { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Ok(sum / labels.len() as f64)
}

/// Fraction of equal entries in two label vectors.
pub fn accuracy(y_true: &[u32], y_pred: &[u32]) -> Result<f64> {
    if y_true.is_empty() {
        return Err(MlError::Empty("labels"));
    }
    if y_true.len() != y_pred.len() {
        return Err(MlError::LengthMismatch {
            what: "predictions",
            expected: y_true.len(),
            got: y_pred.len(),
        });
    }
    let hits = y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count();
    Ok(hits as f64 / y_true.len() as f64)
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1_of(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// Binary confusion counts at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BinaryCounts {
    /// Positives scored `>= threshold`.
    pub tp: u64,
    /// Negatives scored `>= threshold` (false alarms).
    pub fp: u64,
    /// Negatives scored below the threshold.
    pub tn: u64,
    /// Positives scored below the threshold (misses).
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl BinaryCounts {
    /// Counts at `threshold` (positive when `score >= threshold`).
    pub fn at_threshold(labels: &[u32], scores: &[f32], threshold: f32) -> Result<Self> {
        check_binary(labels, scores)?;
        let mut c = Self::default();
        for (&l, &s) in labels.iter().zip(scores) {
            match (l == 1, s >= threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        Ok(c)
    }

    /// Counts from predicted 0/1 labels.
    pub fn from_predictions(y_true: &[u32], y_pred: &[u32]) -> Result<Self> {
        let as_scores: Vec<f32> = y_pred
            .iter()
            .map(|&p| if p == 0 { 0.0 } else { 1.0 })
            .collect();
        if let Some(row) = y_pred.iter().position(|&p| p > 1) {
            return Err(MlError::LabelOutOfRange {
                label: u64::from(y_pred[row]),
                row,
                n_classes: 2,
            });
        }
        Self::at_threshold(y_true, &as_scores, 0.5)
    }

    /// Total rows.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    /// `(tp + tn) / total`.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }
    /// `tp / (tp + fp)`.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// `tp / (tp + fn)` (detection rate).
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        f1_of(self.precision(), self.recall())
    }
    /// `fp / (fp + tn)`: the share of benign rows that raise an alarm.
    pub fn false_alarm_rate(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn)
    }
}

/// The lowest threshold whose false-alarm rate on `(labels, scores)` is at most `max_far`, which
/// maximises recall under that constraint. The threshold is one of the scores (use it with
/// `score >= threshold`); if even the highest score would exceed the budget, it returns a value
/// just above the highest score so nothing is flagged.
pub fn threshold_for_false_alarm_rate(labels: &[u32], scores: &[f32], max_far: f64) -> Result<f32> {
    let (_, neg) = check_binary(labels, scores)?;
    if !(0.0..=1.0).contains(&max_far) {
        return Err(MlError::InvalidParam {
            name: "max_far",
            reason: format!("{max_far} not in [0, 1]"),
        });
    }
    let max_score = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut best = max_score.next_up();
    walk_thresholds(labels, scores, |t, _, fp| {
        if neg == 0 || fp as f64 / neg as f64 <= max_far {
            best = t;
        }
    });
    Ok(best)
}

/// The threshold (one of the scores) that maximises F1; ties go to the higher threshold.
pub fn threshold_for_max_f1(labels: &[u32], scores: &[f32]) -> Result<f32> {
    let (pos, _) = check_binary(labels, scores)?;
    if pos == 0 {
        return Err(MlError::EmptyClass { class: 1 });
    }
    let mut best = (f64::NEG_INFINITY, f32::INFINITY);
    walk_thresholds(labels, scores, |t, tp, fp| {
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / pos as f64;
        let f1 = f1_of(precision, recall);
        if f1 > best.0 {
            best = (f1, t);
        }
    });
    Ok(best.1)
}

/// A multi-class confusion matrix: `counts[actual * n_classes + predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Tallies `(y_true, y_pred)` pairs; every label must be `< n_classes`.
    pub fn new(y_true: &[u32], y_pred: &[u32], n_classes: usize) -> Result<Self> {
        crate::error::check_n_classes(n_classes, 1)?;
        crate::error::check_labels(y_true, n_classes)?;
        if y_pred.len() != y_true.len() {
            return Err(MlError::LengthMismatch {
                what: "predictions",
                expected: y_true.len(),
                got: y_pred.len(),
            });
        }
        crate::error::check_labels(y_pred, n_classes)?;
        let mut counts = vec![0u64; n_classes * n_classes];
        for (&a, &p) in y_true.iter().zip(y_pred) {
            counts[a as usize * n_classes + p as usize] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// Rows of class `actual` predicted as `predicted` (0 when out of range).
    pub fn get(&self, actual: usize, predicted: usize) -> u64 {
        if actual >= self.n_classes || predicted >= self.n_classes {
            return 0;
        }
        self.counts[actual * self.n_classes + predicted]
    }
    /// Rows whose true class is `c`.
    pub fn support(&self, c: usize) -> u64 {
        (0..self.n_classes).map(|p| self.get(c, p)).sum()
    }
    /// Rows predicted as `c`.
    pub fn predicted(&self, c: usize) -> u64 {
        (0..self.n_classes).map(|a| self.get(a, c)).sum()
    }
    /// Total rows.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// Precision of class `c`.
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.get(c, c), self.predicted(c))
    }
    /// Recall of class `c`.
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.get(c, c), self.support(c))
    }
    /// F1 of class `c`.
    pub fn f1(&self, c: usize) -> f64 {
        f1_of(self.precision(c), self.recall(c))
    }
    /// Share of rows on the diagonal.
    pub fn accuracy(&self) -> f64 {
        ratio(
            (0..self.n_classes).map(|c| self.get(c, c)).sum(),
            self.total(),
        )
    }
    /// Classes that occur as truth or prediction (those a macro average runs over).
    fn present(&self) -> Vec<usize> {
        (0..self.n_classes)
            .filter(|&c| self.support(c) > 0 || self.predicted(c) > 0)
            .collect()
    }
    /// Unweighted mean F1 over classes that occur in the truth or the predictions.
    pub fn macro_f1(&self) -> f64 {
        let present = self.present();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&c| self.f1(c)).sum::<f64>() / present.len() as f64
    }
    /// Support-weighted mean F1.
    pub fn weighted_f1(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        (0..self.n_classes)
            .map(|c| self.f1(c) * self.support(c) as f64)
            .sum::<f64>()
            / total as f64
    }
}

/// Everything worth knowing about a binary detector on one evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryReport {
    /// Rows evaluated.
    pub n: u64,
    /// Rows labelled 1.
    pub positives: u64,
    /// Decision threshold (`score >= threshold` is positive).
    pub threshold: f32,
    /// Confusion counts at the threshold.
    pub counts: BinaryCounts,
    /// Accuracy at the threshold.
    pub accuracy: f64,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall (detection rate) at the threshold.
    pub recall: f64,
    /// F1 at the threshold.
    pub f1: f64,
    /// False-alarm rate `fp / (fp + tn)` at the threshold.
    pub false_alarm_rate: f64,
    /// Threshold-free ROC-AUC (`None` when a class is absent).
    pub roc_auc: Option<f64>,
    /// Threshold-free average precision (`None` when there are no positives).
    pub pr_auc: Option<f64>,
    /// Brier score, when every score is a probability in `[0, 1]`.
    pub brier: Option<f64>,
}

impl BinaryReport {
    /// Evaluates `scores` against 0/1 `labels` at `threshold`.
    pub fn new(labels: &[u32], scores: &[f32], threshold: f32) -> Result<Self> {
        let counts = BinaryCounts::at_threshold(labels, scores, threshold)?;
        let probabilities = scores.iter().all(|s| (0.0..=1.0).contains(s));
        Ok(Self {
            n: counts.total(),
            positives: counts.tp + counts.fn_,
            threshold,
            counts,
            accuracy: counts.accuracy(),
            precision: counts.precision(),
            recall: counts.recall(),
            f1: counts.f1(),
            false_alarm_rate: counts.false_alarm_rate(),
            roc_auc: roc_auc(labels, scores).ok(),
            pr_auc: average_precision(labels, scores).ok(),
            brier: if probabilities {
                brier_score(labels, scores).ok()
            } else {
                None
            },
        })
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"))
}

impl fmt::Display for BinaryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "binary report: n={} positives={} threshold={:.4}",
            self.n, self.positives, self.threshold
        )?;
        let rows: [(&str, String); 8] = [
            ("roc_auc", opt(self.roc_auc)),
            ("pr_auc", opt(self.pr_auc)),
            ("accuracy", format!("{:.4}", self.accuracy)),
            ("precision", format!("{:.4}", self.precision)),
            ("recall", format!("{:.4}", self.recall)),
            ("f1", format!("{:.4}", self.f1)),
            ("false_alarm_rate", format!("{:.4}", self.false_alarm_rate)),
            ("brier", opt(self.brier)),
        ];
        for (name, value) in rows {
            writeln!(f, "  {name:<18}{value:>10}")?;
        }
        let c = &self.counts;
        writeln!(f, "  {:<18}{:>10}{:>10}", "", "pred 1", "pred 0")?;
        writeln!(f, "  {:<18}{:>10}{:>10}", "actual 1", c.tp, c.fn_)?;
        write!(f, "  {:<18}{:>10}{:>10}", "actual 0", c.fp, c.tn)
    }
}

/// Per-class figures inside a [`MulticlassReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name (or its index when unnamed).
    pub name: String,
    /// Rows whose true class this is.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Per-class precision/recall/F1, macro and weighted averages, and the confusion matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassReport {
    /// Rows evaluated.
    pub n: u64,
    /// Accuracy.
    pub accuracy: f64,
    /// Mean F1 over classes present in truth or predictions.
    pub macro_f1: f64,
    /// Support-weighted mean F1.
    pub weighted_f1: f64,
    /// One entry per class, in class order.
    pub classes: Vec<ClassMetrics>,
    /// The confusion matrix (rows actual, columns predicted).
    pub confusion: ConfusionMatrix,
}

impl MulticlassReport {
    /// Evaluates predicted classes against true classes. `class_names`, when given, must have
    /// `n_classes` entries.
    pub fn new(
        y_true: &[u32],
        y_pred: &[u32],
        n_classes: usize,
        class_names: Option<&[String]>,
    ) -> Result<Self> {
        if let Some(names) = class_names
            && names.len() != n_classes
        {
            return Err(MlError::LengthMismatch {
                what: "class names",
                expected: n_classes,
                got: names.len(),
            });
        }
        let cm = ConfusionMatrix::new(y_true, y_pred, n_classes)?;
        let classes = (0..n_classes)
            .map(|c| ClassMetrics {
                name: class_names
                    .and_then(|n| n.get(c))
                    .cloned()
                    .unwrap_or_else(|| c.to_string()),
                support: cm.support(c),
                predicted: cm.predicted(c),
                precision: cm.precision(c),
                recall: cm.recall(c),
                f1: cm.f1(c),
            })
            .collect();
        Ok(Self {
            n: cm.total(),
            accuracy: cm.accuracy(),
            macro_f1: cm.macro_f1(),
            weighted_f1: cm.weighted_f1(),
            classes,
            confusion: cm,
        })
    }
}

impl fmt::Display for MulticlassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .classes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "multiclass report: n={} accuracy={:.4} macro_f1={:.4} weighted_f1={:.4}",
            self.n, self.accuracy, self.macro_f1, self.weighted_f1
        )?;
        writeln!(
            f,
            "  {:>3}  {:<width$}{:>9}{:>11}{:>9}{:>9}",
            "#", "class", "support", "precision", "recall", "f1"
        )?;
        for (i, c) in self.classes.iter().enumerate() {
            writeln!(
                f,
                "  {:>3}  {:<width$}{:>9}{:>11.4}{:>9.4}{:>9.4}",
                i, c.name, c.support, c.precision, c.recall, c.f1
            )?;
        }
        let k = self.confusion.n_classes();
        let cell = (0..k * k)
            .map(|i| self.confusion.get(i / k, i % k).to_string().len())
            .max()
            .unwrap_or(1)
            .max(k.to_string().len())
            + 1;
        writeln!(f, "  confusion (rows actual #, columns predicted #)")?;
        write!(f, "  {:>3} ", "")?;
        for p in 0..k {
            write!(f, "{p:>cell$}")?;
        }
        for a in 0..k {
            write!(f, "\n  {a:>3} ")?;
            for p in 0..k {
                write!(f, "{:>cell$}", self.confusion.get(a, p))?;
            }
        }
        Ok(())
    }
}
