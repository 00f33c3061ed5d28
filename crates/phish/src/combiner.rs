//! The combiner: a logistic regression over the text model's out-of-fold probability and
//! the message's other evidence (the URL model's worst link, the URL signals and the
//! link-text signals), fitted on the training messages, so its output is a calibrated
//! probability of phishing.
//!
//! Only evidence that every training message can carry is learned. Header signals (SPF,
//! DKIM, DMARC, Reply-To, Return-Path) and attachment signals are absent from the bare
//! message rows of the development phishing corpus by construction, so a model fitted there
//! would learn that their presence means "not phishing"; they raise verdicts by rule instead
//! (see [`crate::score`]).

use crate::error::PhishError;
use crate::mail::Mail;
use crate::signals::Signal;
use crate::urlmodel::UrlModel;
use serde::{Deserialize, Serialize};
use ward_ml::Matrix;
use ward_ml::logreg::{LogReg, LogRegParams};

/// The names of the combiner's inputs, in the order of a row.
pub const INPUTS: [&str; 4] = ["text_phishing", "url_model", "url_signals", "link_signals"];

/// Links per message the URL model judges (the first ones).
pub const MODEL_LINKS: usize = 50;

/// The evidence of one message besides its text: what the combiner weighs with the text
/// model's probabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Context {
    /// The URL model's probability of phishing for the message's worst link (0 without a URL
    /// model or links).
    pub worst_link: f32,
    /// Index in `mail.links` of that link.
    pub worst_index: Option<usize>,
    /// The strongest URL signal (`url.*`), 0 without one.
    pub url_signals: f32,
    /// The strongest link-text signal (`link.*`), 0 without one.
    pub link_signals: f32,
}

/// The context of a message: its signals' strengths and the URL model's worst link.
pub fn context(mail: &Mail, signals: &[Signal], urls: Option<&UrlModel>) -> Context {
    let strongest = |prefix: &str| {
        signals
            .iter()
            .filter(|s| s.code.starts_with(prefix))
            .map(|s| s.strength)
            .fold(0.0f32, f32::max)
    };
    let mut c = Context {
        url_signals: strongest("url."),
        link_signals: strongest("link."),
        ..Context::default()
    };
    if let Some(um) = urls {
        c.judge_links(mail, um);
    }
    c
}

impl Context {
    /// Sets the worst link by the URL model (the first [`MODEL_LINKS`] links).
    pub fn judge_links(&mut self, mail: &Mail, um: &UrlModel) {
        let worst = mail
            .links
            .iter()
            .take(MODEL_LINKS)
            .enumerate()
            .map(|(i, l)| (um.probability(&l.url), i))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        self.worst_link = worst.map_or(0.0, |w| w.0);
        self.worst_index = worst.map(|w| w.1);
    }
}

/// Log-odds of a probability, bounded so that 0 and 1 stay finite.
fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// The combiner's input row: the text model's probability of phishing as log-odds, then the
/// context. (The probability of spam is left out: it adds little, and where the training had
/// no spam it is nearly constant, so that any message with a trace of spam would be pushed
/// far outside what the combiner saw.)
fn row(phishing: f32, c: &Context) -> [f32; INPUTS.len()] {
    [logit(phishing), c.worst_link, c.url_signals, c.link_signals]
}

/// Inputs that are evidence of phishing besides the text model's probability: their weight
/// may not be negative.
const EVIDENCE_FROM: usize = 1;

/// `r` with the inputs in `dropped` held at 0.
fn masked(mut r: [f32; INPUTS.len()], dropped: &[usize]) -> [f32; INPUTS.len()] {
    for &i in dropped {
        if let Some(v) = r.get_mut(i) {
            *v = 0.0;
        }
    }
    r
}

/// A fitted combiner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Combiner {
    model: LogReg,
    /// Inputs left out (held at 0): evidence that the training messages showed more often in
    /// ham than in phishing.
    dropped: Vec<usize>,
}

impl Combiner {
    /// Fits on one row per training message: the text model's out-of-fold probability of
    /// phishing, the message's context, and whether it is phishing.
    pub fn fit(text: &[f32], context: &[Context], phishing: &[bool]) -> Result<Self, PhishError> {
        if text.len() != context.len() || text.len() != phishing.len() {
            return Err(PhishError::Data(format!(
                "combiner: {} text scores, {} contexts and {} labels",
                text.len(),
                context.len(),
                phishing.len()
            )));
        }
        let y: Vec<u32> = phishing.iter().map(|&b| u32::from(b)).collect();
        // a light penalty: a handful of inputs and thousands of rows
        let params = LogRegParams {
            l2: 1e-3,
            ..LogRegParams::default()
        };
        // Evidence of phishing must never count against it: a link the URL model dislikes
        // is common in mailing-list ham, and a weight learned from that would clear a
        // phishing message for its worst link. Such inputs are left out, one at a time (the
        // most negative first), and the rest refitted.
        let mut dropped = Vec::new();
        loop {
            let mut x = Matrix::with_cols(INPUTS.len());
            for (p, c) in text.iter().zip(context) {
                x.push_row(&masked(row(*p, c), &dropped));
            }
            let model =
                LogReg::fit(&x, &y, 2, &params).map_err(|e| PhishError::Model(e.to_string()))?;
            let worst = model
                .coefficients()
                .iter()
                .enumerate()
                .skip(EVIDENCE_FROM)
                .filter(|(i, w)| **w < 0.0 && !dropped.contains(i))
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            match worst {
                Some(i) => dropped.push(i),
                None => return Ok(Self { model, dropped }),
            }
        }
    }

    fn row(&self, phishing: f32, c: &Context) -> [f32; INPUTS.len()] {
        masked(row(phishing, c), &self.dropped)
    }

    /// The probability of phishing.
    pub fn probability(&self, phishing: f32, c: &Context) -> f32 {
        self.model
            .predict_proba(&self.row(phishing, c))
            .ok()
            .and_then(|p| p.get(1).copied())
            .unwrap_or(phishing)
    }

    /// Each input's push on the log-odds of phishing (positive: towards phishing), in the
    /// order of [`INPUTS`], then the intercept.
    pub fn contributions(&self, phishing: f32, c: &Context) -> Vec<f32> {
        self.model
            .contributions(&self.row(phishing, c))
            .unwrap_or_default()
    }

    /// The weights per standardised input, in the order of [`INPUTS`] (0 for an input left
    /// out).
    pub fn weights(&self) -> &[f64] {
        self.model.coefficients()
    }

    /// Whether the combiner weighs a signal (by its code's family, `url.` or `link.`).
    pub fn weighs(&self, code: &str) -> bool {
        let input = if code.starts_with("url.") {
            "url_signals"
        } else if code.starts_with("link.") {
            "link_signals"
        } else {
            return false;
        };
        INPUTS
            .iter()
            .position(|n| *n == input)
            .is_some_and(|i| !self.dropped.contains(&i))
    }

    /// Whether the combiner weighs the URL model's worst link.
    pub fn weighs_url_model(&self) -> bool {
        INPUTS
            .iter()
            .position(|n| *n == "url_model")
            .is_some_and(|i| !self.dropped.contains(&i))
    }

    /// The inputs left out because the training messages showed them more in ham.
    pub fn dropped(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.dropped.iter().filter_map(|&i| INPUTS.get(i).copied())
    }
}
