//! The care-link explanation of an access, as the issue defines it: an encounter in the user's
//! department at that time, the user attending, a care-team membership, or a recent encounter
//! the user took part in. Used to keep snooping targets unrelated and to report the share of
//! accesses that care explains.

use super::world::EhrUser;
use super::{CareTeam, CaseType, EhrSimOutput, Encounter};
use std::collections::BTreeMap;

/// An access up to this long before an encounter or care-team start is explained by it.
pub const PRE_SECS: u32 = 2 * 3600;
/// An access up to this long after an encounter ends is explained by the department link.
pub const DEPT_GRACE_SECS: u32 = 24 * 3600;
/// An attending or care-team member stays explained this long after the encounter ends.
pub const RECENT_SECS: u32 = 30 * 86_400;

/// Per-patient index of encounters and care-team rows.
#[derive(Debug, Clone)]
pub struct Explainer {
    enc_off: Vec<u32>,
    /// (start, end or MAX, department, attending) per patient, by start.
    enc: Vec<(u32, u32, u16, u32)>,
    team_off: Vec<u32>,
    /// (start, end, user) per patient.
    team: Vec<(u32, u32, u32)>,
    user_dept: Vec<u16>,
}

fn csr<T: Copy>(n: usize, items: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<u32>, Vec<T>) {
    let mut off = vec![0u32; n + 1];
    for (p, _) in items.clone() {
        if let Some(o) = off.get_mut(p as usize + 1) {
            *o += 1;
        }
    }
    for i in 1..off.len() {
        let prev = off.get(i - 1).copied().unwrap_or(0);
        if let Some(o) = off.get_mut(i) {
            *o += prev;
        }
    }
    let mut fill = off.clone();
    let mut out: Vec<Option<T>> = vec![None; off.last().copied().unwrap_or(0) as usize];
    for (p, v) in items {
        if let Some(f) = fill.get_mut(p as usize)
            && let Some(slot) = out.get_mut(*f as usize)
        {
            *slot = Some(v);
            *f += 1;
        }
    }
    (off, out.into_iter().flatten().collect())
}

impl Explainer {
    /// Indexes a simulation's encounters and care team.
    pub fn new(out: &EhrSimOutput) -> Explainer {
        Self::from_parts(
            out.patients.len(),
            &out.encounters,
            &out.care_team,
            &out.users,
        )
    }

    pub(crate) fn from_parts(
        patients: usize,
        encounters: &[Encounter],
        care_team: &[CareTeam],
        users: &[EhrUser],
    ) -> Explainer {
        // Encounters are sorted by start, so each patient's list is too.
        let (enc_off, enc) = csr(
            patients,
            encounters.iter().map(|e| {
                (
                    e.patient,
                    (
                        e.start,
                        e.end.unwrap_or(u32::MAX),
                        e.department,
                        e.attending,
                    ),
                )
            }),
        );
        let (team_off, team) = csr(
            patients,
            care_team
                .iter()
                .map(|c| (c.patient, (c.start, c.end, c.user))),
        );
        Explainer {
            enc_off,
            enc,
            team_off,
            team,
            user_dept: users.iter().map(|u| u.department).collect(),
        }
    }

    fn encounters_of(&self, p: u32) -> &[(u32, u32, u16, u32)] {
        let a = self.enc_off.get(p as usize).copied().unwrap_or(0) as usize;
        let b = self.enc_off.get(p as usize + 1).copied().unwrap_or(0) as usize;
        self.enc.get(a..b).unwrap_or(&[])
    }

    /// Whether a care link explains `user` opening `patient`'s record at `t`.
    pub fn explained(&self, user: u32, patient: u32, t: u32) -> bool {
        let dept = self.user_dept.get(user as usize).copied();
        let t_pre = t.saturating_add(PRE_SECS);
        for &(start, end, d, att) in self.encounters_of(patient) {
            if start > t_pre {
                break;
            }
            if Some(d) == dept && t <= end.saturating_add(DEPT_GRACE_SECS) {
                return true;
            }
            if att == user && t <= end.saturating_add(RECENT_SECS) {
                return true;
            }
        }
        let a = self.team_off.get(patient as usize).copied().unwrap_or(0) as usize;
        let b = self
            .team_off
            .get(patient as usize + 1)
            .copied()
            .unwrap_or(0) as usize;
        self.team
            .get(a..b)
            .unwrap_or(&[])
            .iter()
            .any(|&(start, end, u)| {
                u == user && start <= t_pre && t <= end.saturating_add(RECENT_SECS)
            })
    }

    /// Whether the patient has an encounter ongoing at `t` or starting within `after` seconds.
    pub fn encounter_near(&self, patient: u32, t: u32, after: u32) -> bool {
        self.encounters_of(patient)
            .iter()
            .any(|&(start, end, _, _)| start <= t.saturating_add(after) && end >= t)
    }

    /// Whether the patient has any encounter overlapping `[from, to]`.
    pub fn has_encounter_in(&self, patient: u32, from: u32, to: u32) -> bool {
        self.encounters_of(patient)
            .iter()
            .any(|&(start, end, _, _)| start <= to && end >= from)
    }

    /// Counts and shares for a simulation.
    pub fn summary(&self, out: &EhrSimOutput) -> EhrSummary {
        let mut s = EhrSummary {
            accesses: out.accesses.len(),
            users: out.users.len(),
            patients: out.patients.len(),
            encounters: out.encounters.len(),
            care_team: out.care_team.len(),
            ..EhrSummary::default()
        };
        for a in &out.accesses {
            let ex = self.explained(a.user, a.patient, a.time);
            match a.case {
                Some(c) => {
                    s.snooping += 1;
                    *s.by_case.entry(c).or_insert(0) += 1;
                    if ex {
                        s.snooping_explained += 1;
                    }
                }
                None => {
                    if ex {
                        s.legit_explained += 1;
                    }
                    if a.action == super::Action::BreakGlass {
                        s.legit_break_glass += 1;
                    }
                }
            }
        }
        s
    }
}

/// What one simulation contains.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EhrSummary {
    pub accesses: usize,
    pub users: usize,
    pub patients: usize,
    pub encounters: usize,
    pub care_team: usize,
    /// Snooping accesses (rows of `truth.csv`).
    pub snooping: usize,
    pub by_case: BTreeMap<CaseType, usize>,
    /// Legitimate accesses a care link explains.
    pub legit_explained: usize,
    /// Snooping accesses a care link explains (0 by construction).
    pub snooping_explained: usize,
    /// Legitimate break-the-glass accesses (emergencies).
    pub legit_break_glass: usize,
}

impl EhrSummary {
    /// Share of all accesses that are snooping.
    pub fn snoop_share(&self) -> f64 {
        self.snooping as f64 / self.accesses.max(1) as f64
    }

    /// Share of legitimate accesses explained by a care link.
    pub fn legit_explained_share(&self) -> f64 {
        self.legit_explained as f64 / (self.accesses - self.snooping).max(1) as f64
    }

    /// Share of all accesses explained by a care link.
    pub fn explained_share(&self) -> f64 {
        (self.legit_explained + self.snooping_explained) as f64 / self.accesses.max(1) as f64
    }
}
