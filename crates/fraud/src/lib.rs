//! Claims fraud and medical identity theft detection.
//!
//! Claims in the layout of the Kaggle "Healthcare Provider Fraud Detection" data set
//! (`docs/claims-format.md`) are read one at a time ([`load`]) and pass through the rule
//! engine ([`rules::Engine`]): excluded providers, service after death, overlapping stays,
//! duplicate claims, impossible days, unbundling, overbilling against peers, and the identity
//! signals (one beneficiary far apart on one day, bursts of new providers). Every finding
//! carries a plain-language reason with ids only. The engine's per-provider aggregates become
//! provider features ([`provider::table`]), scored by a peer-outlier score without labels or
//! by gradient-boosted trees trained on labels ([`provider::RiskModel`]), with the features
//! that pushed each score.
//!
//! Pure: no IO beyond the readers given by the caller, no clock.

pub mod date;
pub mod error;
pub mod load;
pub mod provider;
pub mod rules;

pub use error::FraudError;
pub use load::{Claim, Ids, Kind};
pub use provider::{RiskModel, Scored, Table};
pub use rules::{Engine, Hit, Rule, RuleConfig};

/// Scores every provider of a table: with a model, its probability (adapted to the run's
/// estimated share of fraudulent providers, [`RiskModel::predict_run`]) and threshold;
/// without, the peer-outlier score, flagged at `unsupervised_threshold`.
pub fn score(
    table: &Table,
    model: Option<&RiskModel>,
    unsupervised_threshold: f32,
) -> Result<Vec<Scored>, FraudError> {
    Ok(score_run(table, model, unsupervised_threshold)?.0)
}

/// [`score`], and the run's estimated share of fraudulent providers when a model was
/// adapted to it.
pub fn score_run(
    table: &Table,
    model: Option<&RiskModel>,
    unsupervised_threshold: f32,
) -> Result<(Vec<Scored>, Option<f32>), FraudError> {
    match model {
        Some(m) => {
            let (p, share) = m.predict_run(&table.x)?;
            let scored = table
                .providers
                .iter()
                .zip(p)
                .enumerate()
                .map(|(i, (name, s))| {
                    let contributions = m.contributions(table.x.row(i), 5);
                    Scored {
                        provider: name.clone(),
                        score: s,
                        flag: s >= m.threshold,
                        reasons: contributions.iter().map(provider::reason).collect(),
                        contributions,
                    }
                })
                .collect();
            Ok((scored, share))
        }
        None => Ok((
            table
                .providers
                .iter()
                .zip(provider::outlier_scores(table))
                .map(|(name, (s, reasons))| Scored {
                    provider: name.clone(),
                    score: s,
                    flag: s >= unsupervised_threshold,
                    reasons,
                    contributions: Vec::new(),
                })
                .collect(),
            None,
        )),
    }
}
