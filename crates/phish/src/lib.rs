//! Phishing and AI-written lure detection for hospital mail.
//!
//! A message ([`mail::Mail`], from raw RFC 5322 bytes or a CSV row) gets a score from 0 to
//! 100, a verdict (clean, suspicious, phishing, or unparseable with the reason) and its
//! reasons, strongest first. The reasons are the rule signals ([`signals`]) and, with a
//! trained model ([`PhishModel`]), the words that pushed the model towards phishing.
//!
//! Pure: no IO, no clock. Readers of corpora are in [`corpus`] and take their input from the
//! caller.

pub mod combiner;
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

use combiner::{Combiner, Context};
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
pub const MODEL_VERSION: u32 = 3;

/// A trained phishing model: the text model, optionally the URL model, the combiner and the
/// verdict thresholds.
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
    /// Weighs the text model's probabilities with the message's other evidence into a
    /// calibrated probability of phishing (fitted on out-of-fold scores of the training
    /// messages); none: the text model's probability is used as it is.
    #[serde(default)]
    pub combiner: Option<Combiner>,
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
            combiner: None,
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
        // the version first, so that an older file gets a clear message rather than a
        // complaint about a missing field
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
        }
        let h: Head = serde_json::from_slice(body).map_err(|e| PhishError::Model(e.to_string()))?;
        if h.format != MODEL_FORMAT || h.version != MODEL_VERSION {
            return Err(PhishError::Model(format!(
                "model version {} is not the version {MODEL_VERSION} this build reads: train it again with `ward train phish`",
                h.version
            )));
        }
        serde_json::from_slice(body).map_err(|e| PhishError::Model(e.to_string()))
    }
}

/// Folds of the out-of-fold scores the combiner is fitted on.
const COMBINER_FOLDS: usize = 5;

/// Trains a phishing model: the text model on all `examples`, and the combiner on the text
/// model's out-of-fold probability of phishing with each message's `contexts` (computed with `urls`, the
/// URL model stored in the result), so that a probability of 0.8 means about 8 in 10 such
/// messages were phishing in training.
pub fn train(
    examples: &[model::Example],
    contexts: &[Context],
    urls: Option<urlmodel::UrlModel>,
    opts: &model::TrainOptions,
    thresholds: Thresholds,
) -> Result<PhishModel, PhishError> {
    if contexts.len() != examples.len() {
        return Err(PhishError::Data(format!(
            "{} examples but {} contexts",
            examples.len(),
            contexts.len()
        )));
    }
    let text = TextModel::train(examples, opts)?;
    let mut m = PhishModel::new(text, thresholds);
    m.urls = urls;
    let mut oof = vec![0f32; examples.len()];
    for k in 0..COMBINER_FOLDS {
        let part: Vec<model::Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % COMBINER_FOLDS != k)
            .map(|(_, e)| e.clone())
            .collect();
        // a fold with one class cannot train: the model goes without a combiner
        let Ok(fold) = TextModel::train(&part, opts) else {
            return Ok(m);
        };
        for (i, e) in examples.iter().enumerate() {
            if i % COMBINER_FOLDS == k
                && let Some(o) = oof.get_mut(i)
            {
                *o = fold
                    .probabilities(&e.features)
                    .get(PHISH)
                    .copied()
                    .unwrap_or(0.0);
            }
        }
    }
    let labels: Vec<bool> = examples.iter().map(|e| e.class == PHISH).collect();
    let Ok(c) = Combiner::fit(&oof, contexts, &labels) else {
        return Ok(m);
    };
    let mut ham: Vec<f32> = examples
        .iter()
        .zip(&oof)
        .zip(contexts)
        .filter(|((e, _), _)| e.class == 0)
        .map(|((_, p), ctx)| c.probability(*p, ctx))
        .collect();
    m.thresholds.phishing = ham_threshold(&mut ham, opts.ham_flagged, thresholds);
    m.combiner = Some(c);
    Ok(m)
}

/// The lowest phishing threshold (within `[bounds.suspicious, bounds.phishing]`) at which at
/// most `share` of the ham probabilities would be flagged.
fn ham_threshold(ham: &mut [f32], share: f32, bounds: Thresholds) -> f32 {
    ham.sort_by(|a, b| b.total_cmp(a));
    let allowed = (ham.len() as f64 * f64::from(share.clamp(0.0, 1.0))).floor() as usize;
    // flagged: p >= threshold; just above the first ham that must stay unflagged
    let t = ham.get(allowed).map_or(bounds.suspicious, |p| p.next_up());
    t.clamp(bounds.suspicious, bounds.phishing.max(bounds.suspicious))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Signals that raise a verdict by rule: those the development phishing rows cannot carry
/// (headers, attachments), and URL and link-text signals when the combiner does not weigh
/// them (no combiner, or it left them out). Language and sender signals are features of the
/// text model.
fn by_rule(code: &str, combiner: Option<&Combiner>) -> bool {
    if code.starts_with("text.") || code.starts_with("sender.") {
        return false;
    }
    !combiner.is_some_and(|c| c.weighs(code))
}

/// Scores one message.
///
/// With a model: the combiner weighs the text model's probability, the URL model's
/// probability for the message's worst link and the URL and link-text signals into a probability of phishing, which sets the score and the verdict by the
/// thresholds. A signal the combiner does not weigh (header, attachment; URL and link-text
/// signals when it left them out) of strength 0.9 or more raises a suspicious message to
/// phishing, and one of 0.7 or more raises a clean one to suspicious. The URL model's worst
/// link, when the combiner left it out, raises a suspicious message to phishing at 0.9 but
/// never a clean one: it learned from web URLs whose legitimate side is mostly home pages,
/// and mailing-list and unsubscribe links look unusual to it.
/// Without a model: the signals combine as independent pieces of evidence
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
    let combiner = model.and_then(|m| m.combiner.as_ref());
    let strongest_rule = sigs
        .iter()
        .filter(|s| by_rule(s.code, combiner))
        .map(|s| s.strength)
        .fold(0.0f32, f32::max);
    let mut spam = None;
    // the URL model's probability for the worst link, when it raises a verdict by rule
    let mut worst_link = 0.0f32;
    let (p, th, probability) = match model {
        Some(m) => {
            let ids = text::feature_ids(mail, &sigs);
            let probs = m.text.probabilities(&ids);
            let raw = probs.get(PHISH).copied().unwrap_or(0.0);
            spam = probs.get(model::SPAM).copied();
            // the URL model runs on every link only when the combiner weighs it; otherwise
            // only where its rule could change the verdict (a suspicious message)
            let weighed = m.combiner.as_ref().is_none_or(Combiner::weighs_url_model);
            let mut ctx = combiner::context(mail, &sigs, m.urls.as_ref().filter(|_| weighed));
            let (p, push) = match &m.combiner {
                Some(c) => (c.probability(raw, &ctx), c.contributions(raw, &ctx)),
                None => (raw, Vec::new()),
            };
            // how the combiner moved each input (positive: towards phishing); without a
            // combiner every input counts as pushing
            let pushed = |name: &str| {
                combiner::INPUTS
                    .iter()
                    .position(|n| *n == name)
                    .and_then(|i| push.get(i))
                    .is_none_or(|v| *v > 0.0)
            };
            // the names of the features, to explain, only when there is something to explain
            let feats = if p >= m.thresholds.suspicious && pushed("text_phishing") {
                text::features(mail, &sigs)
            } else {
                Vec::new()
            };
            let top = m.text.top_phishing(&feats, 5);
            if !top.is_empty() {
                let words: Vec<String> = top.iter().map(|(n, _)| describe(n)).collect();
                reasons.push(Reason {
                    code: "model.wording".into(),
                    strength: raw,
                    text: format!(
                        "the wording resembles the phishing ward was trained on ({:.0}%): {}",
                        raw * 100.0,
                        words.join(", ")
                    ),
                });
            }
            if !weighed
                && let Some(um) = &m.urls
                && m.thresholds.verdict(p) == Verdict::Suspicious
            {
                ctx.judge_links(mail, um);
            }
            // the worst link is a reason when the combiner weighed it towards phishing, or
            // when, left out, it raises the verdict by rule
            let raises = !weighed && ctx.worst_link >= 0.9;
            let worst = ctx.worst_index.and_then(|i| mail.links.get(i));
            if let Some(link) =
                worst.filter(|_| ctx.worst_link >= 0.5 && (pushed("url_model") || raises))
            {
                let host = url::parse(&link.url).map(|p| p.host).unwrap_or_default();
                reasons.push(Reason {
                    code: "url.model".into(),
                    strength: ctx.worst_link,
                    text: format!(
                        "a link to {host} looks like the phishing URLs ward was trained on ({:.0}%)",
                        ctx.worst_link * 100.0
                    ),
                });
            }
            if !weighed {
                worst_link = ctx.worst_link;
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
