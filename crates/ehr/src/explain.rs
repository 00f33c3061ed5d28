//! Explanation-based auditing: an access is explained when a clinical reason links the user
//! and the patient at that time (after Fabbri & LeFevre, "Explanation-based auditing", VLDB
//! 2011). Unexplained accesses are the candidates for review.

use crate::model::{Access, Dataset, NONE};
use serde::{Deserialize, Serialize};

const HOUR: f64 = 3_600_000_000.0;
const DAY: f64 = 24.0 * HOUR;

/// How far around encounters and care-team spells an access still counts as explained.
/// Every field has a default; unknown fields are an error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplainConfig {
    /// (a) Hours before an encounter starts during which an access by a user of the
    /// encounter's department is explained (pre-admission review, scheduling). Default 24.
    pub department_before_hours: f64,
    /// (a) Days after an encounter ends during which department access is still explained
    /// (discharge summary, results, billing). Open encounters count until the end of the log.
    /// Default 3.
    pub department_after_days: f64,
    /// (b) Hours before the start of an encounter the user is attending on. Default 24.
    pub attending_before_hours: f64,
    /// (b) Days after the end of an encounter the user is attending on. Default 14.
    pub attending_after_days: f64,
    /// (c) Hours of slack on both sides of a care-team spell. Default 24.
    pub care_team_slack_hours: f64,
    /// (d) Days after an encounter the user took part in (attending, or on the care team)
    /// during which follow-up access is explained. Default 30.
    pub recent_days: f64,
    /// (e) Days after an access explained by (a)-(d) during which the same user's accesses to
    /// the same patient are explained by repeat. Repeats do not chain: only (a)-(d) anchor.
    /// 0 disables. Default 30.
    pub repeat_days: f64,
    /// (e) Days *before* an access explained by (a)-(d) during which the same user's accesses
    /// to the same patient are explained by repeat (the relationship began before the records
    /// show it). 0 disables. Default 7.
    pub repeat_before_days: f64,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        Self {
            department_before_hours: 24.0,
            department_after_days: 3.0,
            attending_before_hours: 24.0,
            attending_after_days: 14.0,
            care_team_slack_hours: 24.0,
            recent_days: 30.0,
            repeat_days: 30.0,
            repeat_before_days: 7.0,
        }
    }
}

impl ExplainConfig {
    /// Checks that every slack is finite and not negative.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            ("department_before_hours", self.department_before_hours),
            ("department_after_days", self.department_after_days),
            ("attending_before_hours", self.attending_before_hours),
            ("attending_after_days", self.attending_after_days),
            ("care_team_slack_hours", self.care_team_slack_hours),
            ("recent_days", self.recent_days),
            ("repeat_days", self.repeat_days),
            ("repeat_before_days", self.repeat_before_days),
        ];
        for (name, v) in fields {
            if !v.is_finite() || !(0.0..=36_500.0).contains(&v) {
                return Err(format!("explain.{name} must be between 0 and 36500"));
            }
        }
        Ok(())
    }
}

/// Microseconds of a slack in hours or days, saturating.
fn us(v: f64, unit: f64) -> i64 {
    (v * unit) as i64
}

/// Which clinical reason explains an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Nothing links user and patient at that time.
    Unexplained,
    /// (b) The user is attending on an encounter of the patient around that time.
    Attending,
    /// (c) The user is on the patient's care team at that time.
    CareTeam,
    /// (a) The patient has an encounter in the user's department at that time.
    Department,
    /// (d) The user took part in a recent encounter of the patient.
    RecentEncounter,
    /// (e) The user had an explained access to the same patient shortly before.
    Repeat,
}

impl Link {
    /// Every reason, in priority order (most specific first), then `Unexplained`.
    pub const ALL: [Self; 6] = [
        Self::Attending,
        Self::CareTeam,
        Self::Department,
        Self::RecentEncounter,
        Self::Repeat,
        Self::Unexplained,
    ];
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unexplained => "unexplained",
            Self::Attending => "attending",
            Self::CareTeam => "care_team",
            Self::Department => "department",
            Self::RecentEncounter => "recent_encounter",
            Self::Repeat => "repeat",
        }
    }
}

/// The explanation of one access: the reason and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explained {
    /// The reason.
    pub link: Link,
    /// For encounter reasons: the position in `Dataset::encounters.items()`; for `Repeat`:
    /// the index in `Dataset::accesses` of the anchoring access; else [`NONE`].
    pub reference: u32,
}

impl Explained {
    /// Not explained.
    pub const NONE: Self = Self {
        link: Link::Unexplained,
        reference: NONE,
    };

    /// True when a clinical reason was found.
    pub fn is_explained(&self) -> bool {
        self.link != Link::Unexplained
    }

    /// A sentence naming the reason by ids and row numbers (no names, no addresses).
    pub fn describe(&self, ds: &Dataset, a: &Access, cfg: &ExplainConfig) -> String {
        let u = ds.user_ids.name(a.user);
        let p = ds.patient_ids.name(a.patient);
        let enc = ds.encounters.items().get(self.reference as usize);
        let enc_row = enc.map_or(0, |e| e.row);
        let dept = enc.map_or("", |e| ds.departments.name(e.department));
        match self.link {
            Link::Unexplained => format!(
                "No encounter, attending or care-team link between user {u} and patient {p} at that time."
            ),
            Link::Attending => format!(
                "User {u} is the attending on patient {p}'s encounter (encounters.csv row {enc_row})."
            ),
            Link::CareTeam => format!("User {u} is on patient {p}'s care team at that time."),
            Link::Department => format!(
                "Patient {p} had an encounter in user {u}'s department ({dept}) at that time (encounters.csv row {enc_row})."
            ),
            Link::RecentEncounter => format!(
                "User {u} took part in patient {p}'s care within the previous {} days.",
                cfg.recent_days
            ),
            Link::Repeat => {
                let row = ds
                    .accesses
                    .get(self.reference as usize)
                    .map_or(0, |a| a.row);
                format!(
                    "User {u} had a clinically explained access to patient {p} within the previous {} days ({} row {row}).",
                    cfg.repeat_days, ds.access_source
                )
            }
        }
    }
}

/// Explains one access by (a)-(d): attending, care team, department, recent encounter.
pub fn explain_direct(ds: &Dataset, cfg: &ExplainConfig, a: &Access) -> Explained {
    let t = a.time.0;
    let user = ds.user(a.user);
    let dept = user.department;
    let (dept_before, dept_after) = (
        us(cfg.department_before_hours, HOUR),
        us(cfg.department_after_days, DAY),
    );
    let (att_before, att_after) = (
        us(cfg.attending_before_hours, HOUR),
        us(cfg.attending_after_days, DAY),
    );
    let recent = us(cfg.recent_days, DAY);
    let slack = us(cfg.care_team_slack_hours, HOUR);
    let mut best = Explained::NONE;
    let rank = |r: Link| Link::ALL.iter().position(|x| *x == r).unwrap_or(usize::MAX);
    let take = |best: &mut Explained, reason: Link, reference: u32| {
        if rank(reason) < rank(best.link) {
            *best = Explained {
                link: reason,
                reference,
            };
        }
    };
    let range = ds.encounters.range(a.patient);
    let base = range.start;
    for (i, e) in ds.encounters.get(a.patient).iter().enumerate() {
        let pos = u32::try_from(base + i).unwrap_or(NONE);
        if e.attending == a.user && a.user != NONE {
            if t >= e.start.saturating_sub(att_before) && t <= e.end.saturating_add(att_after) {
                take(&mut best, Link::Attending, pos);
                break;
            }
            if t >= e.end && t <= e.end.saturating_add(recent) {
                take(&mut best, Link::RecentEncounter, pos);
            }
        }
        if dept != NONE
            && e.department == dept
            && t >= e.start.saturating_sub(dept_before)
            && t <= e.end.saturating_add(dept_after)
        {
            take(&mut best, Link::Department, pos);
        }
    }
    if best.link == Link::Attending {
        return best;
    }
    for c in ds.care_team.get(a.patient) {
        if c.user != a.user {
            continue;
        }
        if t >= c.start.saturating_sub(slack) && t <= c.end.saturating_add(slack) {
            take(&mut best, Link::CareTeam, NONE);
            break;
        }
        if t >= c.end && t <= c.end.saturating_add(recent) {
            take(&mut best, Link::RecentEncounter, NONE);
        }
    }
    best
}

/// Access indexes sorted by (user, patient, time, row): the order the repeat rule and the
/// per-pair signals walk.
pub fn pair_order(ds: &Dataset) -> Vec<u32> {
    // bucket by user (a counting sort: one sequential pass), then sort each user's few
    // accesses by (patient, time, row) with their keys copied out, so the sort stays in cache
    let nu = ds.users.len();
    let bucket = |u: u32| (u as usize).min(nu);
    let mut start = vec![0usize; nu + 2];
    for a in &ds.accesses {
        if let Some(c) = start.get_mut(bucket(a.user) + 1) {
            *c += 1;
        }
    }
    for k in 1..start.len() {
        let prev = start.get(k - 1).copied().unwrap_or(0);
        if let Some(c) = start.get_mut(k) {
            *c += prev;
        }
    }
    let mut next = start.clone();
    let mut order = vec![0u32; ds.accesses.len()];
    for (i, a) in ds.accesses.iter().enumerate() {
        if let Some(p) = next.get_mut(bucket(a.user))
            && let Some(slot) = order.get_mut(*p)
        {
            *slot = u32::try_from(i).unwrap_or(u32::MAX);
            *p += 1;
        }
    }
    let mut keys: Vec<(u32, i64, u64, u32)> = Vec::new();
    for w in start.windows(2) {
        let (s, e) = (
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
        );
        let Some(run) = order.get_mut(s..e) else {
            continue;
        };
        if run.len() < 2 {
            continue;
        }
        keys.clear();
        keys.extend(run.iter().filter_map(|&i| {
            ds.accesses
                .get(i as usize)
                .map(|a| (a.patient, a.time.0, a.row, i))
        }));
        keys.sort_unstable();
        for (slot, k) in run.iter_mut().zip(&keys) {
            *slot = k.3;
        }
    }
    order
}

/// Explains every access: (a)-(d) directly, then (e) repeat along `order` (from
/// [`pair_order`]).
pub fn explain_all(ds: &Dataset, cfg: &ExplainConfig, order: &[u32]) -> Vec<Explained> {
    let mut out: Vec<Explained> = ds
        .accesses
        .iter()
        .map(|a| explain_direct(ds, cfg, a))
        .collect();
    let window = us(cfg.repeat_days, DAY);
    // (user, patient) of the current run, and the latest directly explained access in it.
    let mut key = (NONE, NONE);
    let mut anchor: Option<(i64, u32)> = None;
    for &i in order {
        let Some(a) = ds.accesses.get(i as usize) else {
            continue;
        };
        if (a.user, a.patient) != key {
            key = (a.user, a.patient);
            anchor = None;
        }
        let Some(e) = out.get_mut(i as usize) else {
            continue;
        };
        if e.is_explained() {
            anchor = Some((a.time.0, i));
        } else if let Some((t0, j)) = anchor
            && a.time.0.saturating_sub(t0) <= window
        {
            *e = Explained {
                link: Link::Repeat,
                reference: j,
            };
        }
    }
    if cfg.repeat_before_days > 0.0 {
        let window = us(cfg.repeat_before_days, DAY);
        let mut key = (NONE, NONE);
        let mut anchor: Option<(i64, u32)> = None;
        for &i in order.iter().rev() {
            let Some(a) = ds.accesses.get(i as usize) else {
                continue;
            };
            if (a.user, a.patient) != key {
                key = (a.user, a.patient);
                anchor = None;
            }
            let Some(e) = out.get_mut(i as usize) else {
                continue;
            };
            if e.is_explained() {
                if e.link != Link::Repeat {
                    anchor = Some((a.time.0, i));
                }
            } else if let Some((t0, j)) = anchor
                && t0.saturating_sub(a.time.0) <= window
            {
                *e = Explained {
                    link: Link::Repeat,
                    reference: j,
                };
            }
        }
    }
    out
}
