//! The detector: explanations, signals, scores, cases and the budget, end to end.

use crate::EhrError;
use crate::explain::{self, ExplainConfig, Explained, Link};
use crate::model::{Action, Dataset};
use crate::score::{self, ScoreConfig, Weights};
use crate::signals::{self, Signal, SignalConfig, day_of};
use serde::{Deserialize, Serialize};
use ward_core::time::Timestamp;

/// The detector's whole configuration (`[ehr]` in ward.toml). Every field has a default;
/// unknown fields are an error.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EhrConfig {
    /// When an access counts as clinically explained.
    pub explain: ExplainConfig,
    /// Signal thresholds.
    pub signals: SignalConfig,
    /// Score and budget.
    pub score: ScoreConfig,
}

impl EhrConfig {
    /// Checks every section.
    pub fn validate(&self) -> Result<(), EhrError> {
        self.explain
            .validate()
            .and_then(|()| self.signals.validate())
            .and_then(|()| self.score.validate())
            .map_err(EhrError::Config)
    }
}

/// Case number, dense from 0, ranked: case 0 has the highest score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CaseId(pub u32);

/// One plain-language reason of a flagged access.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `unexplained`, an explanation link (`attending`, ...) or a signal name.
    pub code: &'static str,
    /// A sentence naming ids, never names or addresses.
    pub text: String,
    /// Its part in the score, in log-odds (0 for context).
    pub weight: f64,
}

/// An access that is flagged for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedAccess {
    /// 0-based data row in the access file.
    pub row: u64,
    /// When.
    pub time: Timestamp,
    /// Who.
    pub user_id: String,
    /// Whose record.
    pub patient_id: String,
    /// What.
    pub action: Action,
    /// Risk, in log-odds.
    pub score: f64,
    /// How the access was explained, if at all.
    pub link: Link,
    /// At least one reason, strongest first.
    pub reasons: Vec<Reason>,
    /// Its case.
    pub case: CaseId,
}

/// Flagged accesses of one user on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Rank: 0 is the highest score.
    pub id: CaseId,
    /// The user.
    pub user_id: String,
    /// Start of the UTC day.
    pub day: Timestamp,
    /// First flagged access.
    pub first: Timestamp,
    /// Last flagged access.
    pub last: Timestamp,
    /// Case score: its best access's score plus half the log of its size.
    pub score: f64,
    /// Rows of its flagged accesses, in time order.
    pub rows: Vec<u64>,
    /// Distinct patients.
    pub patients: u32,
    /// Signals on any of its accesses.
    pub signals: Vec<Signal>,
    /// The case in a few sentences.
    pub summary: String,
}

/// Counts of one detection run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectReport {
    /// Accesses scanned.
    pub accesses: u64,
    /// Accesses per explanation link, in [`Link::ALL`] order.
    pub links: Vec<(Link, u64)>,
    /// Candidates (unexplained, or explained with a strong signal).
    pub candidates: u64,
    /// Accesses flagged within the budget.
    pub flagged: u64,
    /// Candidates left out by the budget.
    pub over_budget: u64,
    /// Cases.
    pub cases: u64,
    /// The learned weights.
    pub weights: Weights,
}

/// The result of [`Detector::detect`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Flagged accesses, by case rank then time.
    pub flagged: Vec<FlaggedAccess>,
    /// Cases, best first.
    pub cases: Vec<Case>,
    /// Counts.
    pub report: DetectReport,
    /// Name of the access source, for evidence.
    pub source: String,
}

/// The EHR-snooping detector.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    config: EhrConfig,
}

struct Candidate {
    ix: u32,
    score: f64,
}

impl Detector {
    /// A detector with a validated configuration.
    pub fn new(config: EhrConfig) -> Result<Self, EhrError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Its configuration.
    pub fn config(&self) -> &EhrConfig {
        &self.config
    }

    /// Runs every stage over a loaded dataset.
    pub fn detect(&self, ds: &Dataset) -> Detection {
        let cfg = &self.config;
        let order = explain::pair_order(ds);
        let expl = explain::explain_all(ds, &cfg.explain, &order);
        let sig = signals::compute(ds, &cfg.signals, &expl, &order);
        drop(order);
        let grade_of = |i: usize| grade(ds, &sig, &expl, i);
        let weights = score::learn(&sig.bits, &expl, grade_of, &cfg.score);

        let mut links = [0u64; Link::ALL.len()];
        for e in &expl {
            if let Some(c) = Link::ALL
                .iter()
                .position(|l| *l == e.link)
                .and_then(|p| links.get_mut(p))
            {
                *c += 1;
            }
        }

        // candidates, grouped by (user, day)
        let mut cands: Vec<Candidate> = Vec::new();
        for (i, (m, e)) in sig.bits.iter().zip(&expl).enumerate() {
            if let Some(s) = score::score(&weights, *m, e.is_explained(), grade_of(i))
                && s >= cfg.score.min_score
            {
                cands.push(Candidate {
                    ix: u32::try_from(i).unwrap_or(u32::MAX),
                    score: s,
                });
            }
        }
        let acc = |c: &Candidate| ds.accesses.get(c.ix as usize);

        // daily budget: each day's best candidates, by score
        // accesses per UTC day, dense from the first day (a sparse map when the log spans
        // more than ten years, which only hostile input does)
        let first_day = ds
            .accesses
            .iter()
            .map(|a| day_of(a.time.0))
            .min()
            .unwrap_or(0);
        let last_day = ds
            .accesses
            .iter()
            .map(|a| day_of(a.time.0))
            .max()
            .unwrap_or(0);
        let span = usize::try_from(i64::from(last_day) - i64::from(first_day) + 1).unwrap_or(0);
        let mut dense: Vec<u64> = Vec::new();
        let mut sparse: std::collections::HashMap<i32, u64> = std::collections::HashMap::new();
        if span <= 3660 {
            dense = vec![0; span];
            for a in &ds.accesses {
                let k = usize::try_from(i64::from(day_of(a.time.0)) - i64::from(first_day))
                    .unwrap_or(usize::MAX);
                if let Some(c) = dense.get_mut(k) {
                    *c += 1;
                }
            }
        } else {
            for a in &ds.accesses {
                *sparse.entry(day_of(a.time.0)).or_default() += 1;
            }
        }
        let per_day = |d: i32| -> u64 {
            if dense.is_empty() {
                sparse.get(&d).copied().unwrap_or(0)
            } else {
                usize::try_from(i64::from(d) - i64::from(first_day))
                    .ok()
                    .and_then(|k| dense.get(k))
                    .copied()
                    .unwrap_or(0)
            }
        };
        // budget windows of `budget_days` days from the first day of the log
        let n_days = cfg.score.budget_days.max(1);
        let day = |c: &Candidate| {
            acc(c).map_or(0, |a| {
                let off = (i64::from(day_of(a.time.0)) - i64::from(first_day))
                    .div_euclid(i64::from(n_days));
                i32::try_from(i64::from(first_day) + off * i64::from(n_days)).unwrap_or(0)
            })
        };
        cands.sort_unstable_by(|a, b| {
            day(a)
                .cmp(&day(b))
                .then(b.score.total_cmp(&a.score))
                .then(a.ix.cmp(&b.ix))
        });
        let n_cands = cands.len();
        let mut kept: Vec<Candidate> = Vec::new();
        let mut s = 0;
        while s < cands.len() {
            let d = cands.get(s).map_or(0, day);
            let mut e = s;
            while e < cands.len() && cands.get(e).map(day) == Some(d) {
                e += 1;
            }
            let total: u64 = (0..n_days)
                .map(|k| per_day(d.saturating_add(i32::try_from(k).unwrap_or(0))))
                .sum();
            let budget = ((total as f64 * cfg.score.daily_budget_share).floor() as u64)
                .max(u64::from(cfg.score.daily_min_accesses));
            let take = (e - s).min(usize::try_from(budget).unwrap_or(usize::MAX));
            for c in cands.get(s..s + take).unwrap_or_default() {
                kept.push(Candidate {
                    ix: c.ix,
                    score: c.score,
                });
            }
            s = e;
        }
        drop(cands);

        // cases: the kept accesses of one user on one day
        let key = |c: &Candidate| acc(c).map(|a| (a.user, day_of(a.time.0)));
        kept.sort_unstable_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then(b.score.total_cmp(&a.score))
                .then(a.ix.cmp(&b.ix))
        });
        // (start, end, case score, day)
        let mut groups: Vec<(usize, usize, f64, i32)> = Vec::new();
        let mut s = 0;
        while s < kept.len() {
            let k = kept.get(s).and_then(key);
            let mut e = s + 1;
            while e < kept.len() && kept.get(e).and_then(key) == k {
                e += 1;
            }
            let best = kept.get(s).map_or(0.0, |c| c.score);
            let n = (e - s) as f64;
            groups.push((s, e, best + 0.5 * n.ln(), k.map_or(0, |k| k.1)));
            s = e;
        }
        if cfg.score.max_cases_per_day > 0 {
            groups.sort_unstable_by(|a, b| a.3.cmp(&b.3).then(b.2.total_cmp(&a.2)));
            let mut last_day = None;
            let mut today = 0u32;
            groups.retain(|g| {
                if last_day != Some(g.3) {
                    last_day = Some(g.3);
                    today = 0;
                }
                today += 1;
                today <= cfg.score.max_cases_per_day
            });
        }
        let mut chosen: Vec<(usize, usize, f64)> = groups.iter().map(|g| (g.0, g.1, g.2)).collect();
        chosen.sort_unstable_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let cands = kept;

        let mut flagged = Vec::new();
        let mut cases = Vec::new();
        for (rank, &(s, e, sc)) in chosen.iter().enumerate() {
            let id = CaseId(u32::try_from(rank).unwrap_or(u32::MAX));
            let mut members: Vec<&Candidate> = cands.get(s..e).unwrap_or_default().iter().collect();
            members.sort_unstable_by_key(|c| acc(c).map(|a| (a.time, a.row)));
            let mut case_signals = 0u32;
            let mut patients: Vec<u32> = Vec::new();
            let first_flag = flagged.len();
            for c in &members {
                let Some(a) = acc(c) else { continue };
                let i = c.ix as usize;
                let mask = sig.bits.get(i).copied().unwrap_or(0);
                let ex = expl.get(i).copied().unwrap_or(Explained::NONE);
                case_signals |= mask;
                patients.push(a.patient);
                flagged.push(FlaggedAccess {
                    row: a.row,
                    time: a.time,
                    user_id: ds.user_ids.name(a.user).to_owned(),
                    patient_id: ds.patient_ids.name(a.patient).to_owned(),
                    action: a.action,
                    score: c.score,
                    link: ex.link,
                    reasons: self.reasons(ds, &sig, &weights, i, mask, ex),
                    case: id,
                });
            }
            patients.sort_unstable();
            patients.dedup();
            let rows: Vec<u64> = flagged
                .get(first_flag..)
                .unwrap_or_default()
                .iter()
                .map(|f| f.row)
                .collect();
            let first = flagged.get(first_flag).map_or(Timestamp(0), |f| f.time);
            let last = flagged.last().map_or(first, |f| f.time);
            let user_id = flagged
                .get(first_flag)
                .map_or_else(String::new, |f| f.user_id.clone());
            let signals: Vec<Signal> = Signal::ALL
                .into_iter()
                .filter(|s| s.is_in(case_signals))
                .collect();
            let summary = summarise(
                &user_id,
                rows.len(),
                patients.len(),
                flagged.get(first_flag..).unwrap_or_default(),
            );
            cases.push(Case {
                id,
                user_id,
                day: Timestamp(i64::from(day_of(first.0)) * 86_400_000_000),
                first,
                last,
                score: sc,
                rows,
                patients: u32::try_from(patients.len()).unwrap_or(u32::MAX),
                signals,
                summary,
            });
        }
        let report = DetectReport {
            accesses: ds.accesses.len() as u64,
            links: Link::ALL.iter().copied().zip(links).collect(),
            candidates: n_cands as u64,
            flagged: flagged.len() as u64,
            over_budget: (n_cands - flagged.len().min(n_cands)) as u64,
            cases: cases.len() as u64,
            weights,
        };
        Detection {
            flagged,
            cases,
            report,
            source: ds.access_source.clone(),
        }
    }

    /// Reasons of access `i`: each fired signal that counts for its score (strongest first),
    /// then the missing clinical link (or, for an explained access, the link it has).
    fn reasons(
        &self,
        ds: &Dataset,
        sig: &signals::Signals,
        w: &Weights,
        i: usize,
        mask: u32,
        ex: Explained,
    ) -> Vec<Reason> {
        let mut out: Vec<Reason> = Signal::ALL
            .into_iter()
            .filter(|s| s.is_in(mask) && (!ex.is_explained() || s.is_strong()))
            .map(|s| Reason {
                code: s.as_str(),
                text: signals::describe(ds, sig, &self.config.signals, i, s),
                weight: w.of_access(
                    s,
                    score::Grade {
                        repeat_days: sig.repeat_days_of(ds, i),
                        volume_ratio: sig.volume_ratio(ds, i, ex.is_explained()),
                        hour_share: sig.hour_share_of(ds, i),
                    },
                ),
            })
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        if let Some(a) = ds.accesses.get(i) {
            out.push(Reason {
                code: ex.link.as_str(),
                text: ex.describe(ds, a, &self.config.explain),
                weight: 0.0,
            });
        }
        out
    }
}

/// The grade of access `i`'s graded signals.
fn grade(ds: &Dataset, sig: &signals::Signals, expl: &[Explained], i: usize) -> score::Grade {
    let explained = expl.get(i).is_some_and(Explained::is_explained);
    let mask = sig.bits.get(i).copied().unwrap_or(0);
    score::Grade {
        repeat_days: if Signal::RepeatPatient.is_in(mask) {
            sig.repeat_days_of(ds, i)
        } else {
            0
        },
        volume_ratio: if Signal::HighVolume.is_in(mask) {
            sig.volume_ratio(ds, i, explained)
        } else {
            0.0
        },
        hour_share: if Signal::OffHours.is_in(mask) {
            sig.hour_share_of(ds, i)
        } else {
            1.0
        },
    }
}

/// A case in a few sentences: size, then its most frequent reasons.
fn summarise(user: &str, accesses: usize, patients: usize, flagged: &[FlaggedAccess]) -> String {
    let mut codes: Vec<(&'static str, usize, &str)> = Vec::new();
    for f in flagged {
        for r in &f.reasons {
            match codes.iter_mut().find(|c| c.0 == r.code) {
                Some(c) => c.1 += 1,
                None => codes.push((r.code, 1, r.text.as_str())),
            }
        }
    }
    codes.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut s = format!(
        "User {user} has {accesses} flagged access{} to {patients} patient record{} that day.",
        if accesses == 1 { "" } else { "es" },
        if patients == 1 { "" } else { "s" }
    );
    for (_, n, text) in codes.iter().take(3) {
        s.push(' ');
        s.push_str(text);
        if *n > 1 {
            s.push_str(&format!(" ({n} accesses)"));
        }
    }
    s
}

impl Detection {
    /// 1-based file line of a data row: after the header for CSV, the row itself for NDJSON
    /// (exact when the NDJSON file has no blank lines).
    pub fn line_of(&self, row: u64) -> u64 {
        let lower = self.source.to_ascii_lowercase();
        let ndjson = [".ndjson", ".jsonl", ".json"]
            .iter()
            .any(|e| lower.ends_with(e));
        row.saturating_add(if ndjson { 1 } else { 2 })
    }

    /// One `ward_core::Alert` per case: detector `ehr.access`, entity `user:<user_id>`, the
    /// case summary, each signal's weight as a contribution, and the source file and line of
    /// every flagged access as evidence.
    pub fn to_alerts(&self) -> Vec<ward_core::alert::Alert> {
        use ward_core::alert::{Alert, Contribution, Evidence, Explanation};
        use ward_core::entity::{EntityId, EntityKind};
        use ward_core::event::EventId;
        self.cases
            .iter()
            .map(|c| {
                let members: Vec<&FlaggedAccess> =
                    self.flagged.iter().filter(|f| f.case == c.id).collect();
                let mut contributions: Vec<Contribution> = Vec::new();
                for f in &members {
                    for r in &f.reasons {
                        match contributions.iter_mut().find(|x| x.feature == r.code) {
                            Some(x) => x.weight = x.weight.max(r.weight),
                            None => contributions.push(Contribution {
                                feature: r.code.to_owned(),
                                value: String::new(),
                                weight: r.weight,
                            }),
                        }
                    }
                }
                for x in &mut contributions {
                    let n = members
                        .iter()
                        .filter(|f| f.reasons.iter().any(|r| r.code == x.feature))
                        .count();
                    x.value = format!("{n} of {} accesses", members.len());
                }
                contributions.sort_by(|a, b| b.weight.total_cmp(&a.weight));
                let score = (score::probability(c.score) * 100.0)
                    .round()
                    .clamp(0.0, 100.0) as u8;
                let title = format!(
                    "possible inappropriate record access by user {} ({} patient{})",
                    c.user_id,
                    c.patients,
                    if c.patients == 1 { "" } else { "s" }
                );
                Alert::new(
                    c.first,
                    "ehr.access",
                    score,
                    EntityId::new(EntityKind::User, c.user_id.clone()),
                    title,
                    Explanation {
                        summary: c.summary.clone(),
                        contributions,
                        rules: c.signals.iter().map(|s| s.as_str().to_owned()).collect(),
                    },
                    Evidence {
                        events: c
                            .rows
                            .iter()
                            .map(|r| EventId {
                                source: self.source.clone(),
                                line: self.line_of(*r),
                            })
                            .collect(),
                        uids: Vec::new(),
                    },
                )
            })
            .collect()
    }
}
