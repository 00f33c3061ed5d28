//! Phishing and AI-written lure detection for hospital mail.
//!
//! A message ([`mail::Mail`], from raw RFC 5322 bytes or a CSV row) gets a score from 0 to
//! 100, a verdict (clean, suspicious, phishing, or unparseable with the reason) and its
//! reasons, strongest first. The reasons are the rule signals ([`signals`]) and, with a
//! trained model ([`PhishModel`]), the words that pushed the model towards phishing.
//!
//! Pure: no IO, no clock. Readers of corpora are in [`corpus`] and take their input from the
//! caller.

pub mod corpus;
pub mod error;
pub mod html;
pub mod mail;
pub mod model;
pub mod signals;
pub mod text;
pub mod url;
pub mod urlmodel;

pub use error::{PhishError, Unparseable};
pub use mail::{Limits, Mail};
pub use signals::{Org, Signal};

use model::{PHISH, TextModel};
use serde::{Deserialize, Serialize};

/// The verdict on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing to act on.
    Clean,
    /// Worth a look: quarantine for review.
    Suspicious,
    /// Phishing: quarantine.
    Phishing,
    /// The message could not be read; the reason says why.
    Unparseable,
}

/// One reason for a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable code (`url.ip_host`, `model.wording`, ...).
    pub code: String,
    /// How strongly it points to phishing, 0 to 1.
    pub strength: f32,
    /// In plain words.
    pub text: String,
}

/// A scored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// 0 to 100.
    pub score: u8,
    /// The verdict.
    pub verdict: Verdict,
    /// The model's probability of phishing, when a model was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f32>,
    /// The text model's probability that the message is spam (unwanted, not phishing), when
    /// a model was used: for gateways that also file bulk mail away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spam: Option<f32>,
    /// The reasons, strongest first.
    pub reasons: Vec<Reason>,
}

impl Scored {
    /// The verdict for a message that could not be read.
    pub fn unparseable(why: &Unparseable) -> Self {
        Self {
            score: 0,
            verdict: Verdict::Unparseable,
            probability: None,
            spam: None,
            reasons: vec![Reason {
                code: "unparseable".into(),
                strength: 0.0,
                text: why.to_string(),
            }],
        }
    }
}

/// Score thresholds of the verdicts (probabilities of phishing). Defaults in brackets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: phishing. [0.5]
    pub phishing: f32,
    /// At or above: suspicious. [0.2]
    pub suspicious: f32,
}

impl Thresholds {
    /// The verdict for a probability of phishing.
    pub fn verdict(&self, p: f32) -> Verdict {
        if p >= self.phishing {
            Verdict::Phishing
        } else if p >= self.suspicious {
            Verdict::Suspicious
        } else {
            Verdict::Clean
        }
    }
}

/// Signal strengths combined as independent pieces of evidence: `1 - Π(1 - strength)` (how
/// the rules alone score, without a model).
pub fn combine(signals: &[Signal]) -> f32 {
    1.0 - signals.iter().map(|s| 1.0 - s.strength).product::<f32>()
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            phishing: 0.5,
            suspicious: 0.2,
        }
    }
}

/// The magic string of a model file.
pub const MODEL_FORMAT: &str = "ward-phish-model";
/// The model file version this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

/// A trained phishing model: the text model, optionally the URL model, and the verdict
/// thresholds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhishModel {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// [`MODEL_VERSION`].
    pub version: u32,
    /// The text model.
    pub text: TextModel,
    /// The URL model (trained when URLs were given).
    #[serde(default)]
    pub urls: Option<urlmodel::UrlModel>,
    /// Maps the text model's probability of phishing to a calibrated one (fitted on
    /// out-of-fold scores of the training messages); none: used as it is.
    #[serde(default)]
    pub calibration: Option<ward_ml::calibrate::Calibrator>,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
}

impl PhishModel {
    /// Wraps a trained text model.
    pub fn new(text: TextModel, thresholds: Thresholds) -> Self {
        Self {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            text,
            urls: None,
            calibration: None,
            thresholds,
        }
    }

    /// Serialises the model: a checksum line, then the JSON body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PhishError> {
        let body = serde_json::to_vec(self).map_err(|e| PhishError::Model(e.to_string()))?;
        let sum = hex(ring::digest::digest(&ring::digest::SHA256, &body).as_ref());
        let mut out = format!("{MODEL_FORMAT} sha256={sum}\n").into_bytes();
        out.extend(body);
        Ok(out)
    }

    /// Reads a model written by [`PhishModel::to_bytes`], checking its checksum and version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PhishError> {
        let nl = bytes.iter().position(|&b| b == b'\n').ok_or_else(|| {
            PhishError::Model("not a ward phishing model (no header line)".into())
        })?;
        let head = std::str::from_utf8(bytes.get(..nl).unwrap_or_default())
            .map_err(|_| PhishError::Model("not a ward phishing model".into()))?;
        let sum = head
            .strip_prefix(&format!("{MODEL_FORMAT} sha256="))
            .ok_or_else(|| PhishError::Model("not a ward phishing model".into()))?;
        let body = bytes.get(nl + 1..).unwrap_or_default();
        if hex(ring::digest::digest(&ring::digest::SHA256, body).as_ref()) != sum {
            return Err(PhishError::Model(
                "checksum mismatch: the file was altered or truncated".into(),
            ));
        }
        let m: Self = serde_json::from_slice(body).map_err(|e| PhishError::Model(e.to_string()))?;
        if m.format != MODEL_FORMAT || m.version != MODEL_VERSION {
            return Err(PhishError::Model(format!(
                "model version {} is not the version {MODEL_VERSION} this build reads",
                m.version
            )));
        }
        Ok(m)
    }
}

/// Folds of the out-of-fold scores the calibration is fitted on.
const CALIBRATION_FOLDS: usize = 5;

/// Trains a phishing model: the text model on all `examples`, and a calibration of its
/// probability of phishing (Platt scaling of the log-odds) fitted on out-of-fold scores, so
/// that a probability of 0.8 means about 8 in 10 such messages were phishing in training.
pub fn train(
    examples: &[model::Example],
    opts: &model::TrainOptions,
    thresholds: Thresholds,
) -> Result<PhishModel, PhishError> {
    let text = TextModel::train(examples, opts)?;
    let mut oof = vec![0f32; examples.len()];
    for k in 0..CALIBRATION_FOLDS {
        let part: Vec<model::Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % CALIBRATION_FOLDS != k)
            .map(|(_, e)| e.clone())
            .collect();
        // a fold with one class cannot train: those messages keep no calibration score
        let Ok(m) = TextModel::train(&part, opts) else {
            return Ok(PhishModel::new(text, thresholds));
        };
        for (i, e) in examples.iter().enumerate() {
            if i % CALIBRATION_FOLDS == k
                && let Some(o) = oof.get_mut(i)
            {
                *o = m
                    .probabilities(&e.features)
                    .get(PHISH)
                    .copied()
                    .unwrap_or(0.0);
            }
        }
    }
    let labels: Vec<u32> = examples
        .iter()
        .map(|e| u32::from(e.class == PHISH))
        .collect();
    let calibration = ward_ml::calibrate::Calibrator::fit(
        ward_ml::calibrate::CalibrationMethod::PlattLogit,
        &oof,
        &labels,
    )
    .ok();
    let mut m = PhishModel::new(text, thresholds);
    m.calibration = calibration;
    Ok(m)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Links per message the URL model judges (the first ones).
const MODEL_LINKS: usize = 50;

/// Signals the model cannot learn from bare text rows (headers, link targets, attachments):
/// they raise a verdict by rule.
fn rule_only(code: &str) -> bool {
    !(code.starts_with("text.") || code.starts_with("sender."))
}

/// Scores one message.
///
/// With a model: the model's probability of phishing sets the score and the verdict by the
/// thresholds; a rule-only signal (header, link target, attachment) of strength 0.9 or more
/// raises a suspicious message to phishing, and one of 0.7 or more raises a clean one to
/// suspicious. The URL model's probability for the message's worst link, 0.9 or more, raises
/// a suspicious message to phishing but never a clean one: it learned from web URLs whose
/// legitimate side is mostly home pages, and mailing-list and unsubscribe links look unusual
/// to it. Without a model: the signals combine as independent pieces of evidence
/// (`1 - Π(1 - strength)`) against the same thresholds.
pub fn score(mail: &Mail, org: &Org, model: Option<&PhishModel>) -> Scored {
    let sigs = signals::signals(mail, org);
    let mut reasons: Vec<Reason> = sigs
        .iter()
        .map(|s| Reason {
            code: s.code.to_string(),
            strength: s.strength,
            text: s.reason.clone(),
        })
        .collect();
    let strongest_rule = sigs
        .iter()
        .filter(|s| rule_only(s.code))
        .map(|s| s.strength)
        .fold(0.0f32, f32::max);
    let mut spam = None;
    // the URL model's probability for the message's worst link (0 without a URL model)
    let mut worst_link = 0.0f32;
    let (p, th, probability) = match model {
        Some(m) => {
            let ids = text::feature_ids(mail, &sigs);
            let probs = m.text.probabilities(&ids);
            let raw = probs.get(PHISH).copied().unwrap_or(0.0);
            spam = probs.get(model::SPAM).copied();
            let p = m.calibration.as_ref().map_or(raw, |c| c.apply(raw));
            // the names of the features, to explain, only when there is something to explain
            let feats = if p >= m.thresholds.suspicious {
                text::features(mail, &sigs)
            } else {
                Vec::new()
            };
            let top = m.text.top_phishing(&feats, 5);
            if !top.is_empty() {
                let words: Vec<String> = top.iter().map(|(n, _)| describe(n)).collect();
                reasons.push(Reason {
                    code: "model.wording".into(),
                    strength: p,
                    text: format!(
                        "the wording resembles the phishing ward was trained on ({:.0}%): {}",
                        p * 100.0,
                        words.join(", ")
                    ),
                });
            }
            if let Some(um) = &m.urls {
                // the link the URL model likes least
                let worst = mail
                    .links
                    .iter()
                    .take(MODEL_LINKS)
                    .map(|l| (um.probability(&l.url), l))
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                if let Some((q, link)) = worst.filter(|(q, _)| *q >= 0.5) {
                    let host = url::parse(&link.url).map(|p| p.host).unwrap_or_default();
                    reasons.push(Reason {
                        code: "url.model".into(),
                        strength: q,
                        text: format!(
                            "a link to {host} looks like the phishing URLs ward was trained on ({:.0}%)",
                            q * 100.0
                        ),
                    });
                    worst_link = q;
                }
            }
            (p, m.thresholds, Some(p))
        }
        None => {
            let p = combine(&sigs);
            (p, Thresholds::default(), None)
        }
    };
    let mut verdict = th.verdict(p);
    if model.is_some() {
        if verdict == Verdict::Suspicious && strongest_rule.max(worst_link) >= 0.9 {
            verdict = Verdict::Phishing;
        } else if verdict == Verdict::Clean && strongest_rule >= 0.7 {
            verdict = Verdict::Suspicious;
        }
    }
    reasons.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    Scored {
        score: (p.clamp(0.0, 1.0) * 100.0).round() as u8,
        verdict,
        probability,
        spam,
        reasons,
    }
}

/// A feature name in words: `w:account` -> `"account"`, `b:verify_your` -> `"verify your"`.
fn describe(name: &str) -> String {
    match name.split_once(':') {
        Some(("w" | "s", w)) => format!("\"{w}\""),
        Some(("b", pair)) => format!("\"{}\"", pair.replace('_', " ")),
        Some(("sig", code)) => format!("signal {code}"),
        Some(("has", what)) => format!("has {what}"),
        Some(("len", _)) => "its length".into(),
        _ => name.to_string(),
    }
}
