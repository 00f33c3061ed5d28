//! Per-access case signals. Each has a plain-language reason that names ids, never names or
//! addresses.

use crate::explain::Explained;
use crate::model::{Action, Dataset, NONE, UserIx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

/// A case signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The patient is the user (employee_user_id = user_id).
    SelfAccess,
    /// The patient died before the access.
    Deceased,
    /// Break-the-glass without an encounter of that patient around it.
    BreakGlassNoEncounter,
    /// User and patient share a normalised last-name part that is not common.
    FamilyName,
    /// User and patient share a street address (number and street).
    SameAddress,
    /// User and patient live on the same street in the same ZIP (different number).
    SameStreet,
    /// The patient is an employee of the user's own department.
    CoworkerSameDepartment,
    /// The patient is an employee of another department.
    Coworker,
    /// The patient is flagged VIP.
    Vip,
    /// At an hour in which the user rarely works.
    OffHours,
    /// The user's distinct patients that day are far above their peer group.
    HighVolume,
    /// The user opened this patient's record without a clinical reason on several days.
    RepeatPatient,
    /// The user's share of unexplained accesses is far above their peer group.
    ManyUnexplained,
    /// The patient has no encounter in any department the user works with, and none of the
    /// patient's clinically explained accessors is from one of those departments.
    OutsideCommunity,
    /// The user is not in the HR roster.
    UnknownUser,
    /// The patient is not in the patient list.
    UnknownPatient,
    /// The patient had no encounter in any department around the access (nobody was caring
    /// for them at the hospital then).
    NoEncounter,
}

impl Signal {
    /// Every signal, in bit order.
    pub const ALL: [Self; 17] = [
        Self::SelfAccess,
        Self::Deceased,
        Self::BreakGlassNoEncounter,
        Self::FamilyName,
        Self::SameAddress,
        Self::SameStreet,
        Self::CoworkerSameDepartment,
        Self::Coworker,
        Self::Vip,
        Self::OffHours,
        Self::HighVolume,
        Self::RepeatPatient,
        Self::ManyUnexplained,
        Self::OutsideCommunity,
        Self::UnknownUser,
        Self::UnknownPatient,
        Self::NoEncounter,
    ];

    /// The bit of this signal in a mask.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// True when this signal's bit is set in `mask`.
    pub fn is_in(self, mask: u32) -> bool {
        mask & self.bit() != 0
    }

    /// Strong signals make even an explained access a candidate.
    pub fn is_strong(self) -> bool {
        matches!(
            self,
            Self::SelfAccess | Self::Deceased | Self::BreakGlassNoEncounter
        )
    }

    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfAccess => "self_access",
            Self::Deceased => "deceased",
            Self::BreakGlassNoEncounter => "break_glass_no_encounter",
            Self::FamilyName => "family_name",
            Self::SameAddress => "same_address",
            Self::SameStreet => "same_street",
            Self::CoworkerSameDepartment => "coworker_same_department",
            Self::Coworker => "coworker",
            Self::Vip => "vip",
            Self::OffHours => "off_hours",
            Self::HighVolume => "high_volume",
            Self::RepeatPatient => "repeat_patient",
            Self::ManyUnexplained => "many_unexplained",
            Self::OutsideCommunity => "outside_community",
            Self::UnknownUser => "unknown_user",
            Self::UnknownPatient => "unknown_patient",
            Self::NoEncounter => "no_encounter",
        }
    }
}

/// Thresholds of the signals. Every field has a default; unknown fields are an error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// Hours after `deceased_date` (midnight UTC for a date) before an access counts as
    /// after death. Default 24 (the day of death itself is not flagged).
    pub deceased_grace_hours: f64,
    /// Break-glass is covered by an encounter active at the access or starting up to this
    /// many hours before it. Default 12.
    pub break_glass_before_hours: f64,
    /// ... or starting up to this many hours after it. Default 24.
    pub break_glass_after_hours: f64,
    /// A user needs at least this many active days in the log besides the day of an access
    /// for that access to be judged against their usual hours. Default 2.
    pub off_hours_min_days: u32,
    /// An access is outside the user's usual hours when, on at most this share of their
    /// other active days, they accessed any record within an hour of that time of day.
    /// Default 0.2.
    pub off_hours_max_share: f64,
    /// A last-name part carried by more than this share of patients (and by more than
    /// `family_common_min` patients) is common and does not count as family on its own
    /// ("Smith"). Default 0.005.
    pub family_common_share: f64,
    /// See `family_common_share`. Default 20.
    pub family_common_min: u32,
    /// Robust z (median/MAD of the peer group's per-user daily distinct-patient counts) above
    /// which a user-day is high volume. Default 3.5.
    pub volume_z: f64,
    /// A user-day below this many distinct patients is never high volume. Default 10.
    pub volume_min_distinct: u32,
    /// A user-day is high volume only when it is also more than this many times the user's
    /// own median over their other active days (when they have `volume_self_min_days` of
    /// them): a user whose every day is busy is busy, not snooping. 0 turns the check off.
    /// Default 2.
    pub volume_self_factor: f64,
    /// See `volume_self_factor`. Default 2.
    pub volume_self_min_days: u32,
    /// A peer group (role + department) with fewer users falls back to the role, then to all
    /// users. Default 5.
    pub min_peers: u32,
    /// Distinct days with unexplained accesses by one user to one patient that make a
    /// repeat (at least 2). Default 2.
    pub repeat_min_days: u32,
    /// Robust z of a user's share of unexplained accesses against their peers. Default 3.5.
    pub unexplained_z: f64,
    /// A user with fewer unexplained accesses is never flagged for their share. Default 5.
    pub unexplained_min: u32,
    /// Days around an access in which a patient's encounters count for the community
    /// check. Default 365.
    pub community_window_days: f64,
    /// An unexplained access is `no_encounter` when the patient had no encounter in any
    /// department from this many days before to this many days after it. Default 7.
    pub no_encounter_days: f64,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            deceased_grace_hours: 24.0,
            family_common_share: 0.005,
            family_common_min: 20,
            break_glass_before_hours: 12.0,
            break_glass_after_hours: 24.0,
            off_hours_min_days: 2,
            off_hours_max_share: 0.2,
            volume_z: 3.5,
            volume_min_distinct: 10,
            volume_self_factor: 2.0,
            volume_self_min_days: 2,
            min_peers: 5,
            repeat_min_days: 2,
            unexplained_z: 3.5,
            unexplained_min: 5,
            community_window_days: 365.0,
            no_encounter_days: 7.0,
        }
    }
}

impl SignalConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            ("deceased_grace_hours", self.deceased_grace_hours),
            ("family_common_share", self.family_common_share),
            ("break_glass_before_hours", self.break_glass_before_hours),
            ("break_glass_after_hours", self.break_glass_after_hours),
            ("volume_z", self.volume_z),
            ("volume_self_factor", self.volume_self_factor),
            ("unexplained_z", self.unexplained_z),
            ("community_window_days", self.community_window_days),
            ("no_encounter_days", self.no_encounter_days),
        ];
        for (name, v) in fields {
            if !v.is_finite() || !(0.0..=1.0e6).contains(&v) {
                return Err(format!("signals.{name} must be between 0 and 1000000"));
            }
        }
        if !(0.0..=1.0).contains(&self.off_hours_max_share) {
            return Err("signals.off_hours_max_share must be between 0 and 1".to_owned());
        }
        Ok(())
    }
}

fn us(v: f64, unit: i64) -> i64 {
    (v * unit as f64) as i64
}

/// Day number (UTC) of a time in microseconds.
pub fn day_of(t: i64) -> i32 {
    i32::try_from(t.div_euclid(DAY_US)).unwrap_or(i32::MAX)
}

/// Hour of day (UTC) of a time in microseconds.
pub fn hour_of(t: i64) -> usize {
    usize::try_from(t.div_euclid(HOUR_US).rem_euclid(24)).unwrap_or(0)
}

/// Median and MAD of a list (both 0 when empty).
fn median_mad(v: &mut [f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    v.sort_unstable_by(f64::total_cmp);
    let med = median_sorted(v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    dev.sort_unstable_by(f64::total_cmp);
    (med, median_sorted(&dev))
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    match (v.get(n / 2), n % 2) {
        (Some(m), 1) => *m,
        (Some(m), _) => (m + v.get(n / 2 - 1).copied().unwrap_or(*m)) / 2.0,
        (None, _) => 0.0,
    }
}

/// Peer group of each user: role + department, falling back to role, then everyone, when a
/// group has fewer than `min_peers` active users.
fn peer_groups(ds: &Dataset, active: &[bool], min_peers: u32) -> Vec<u32> {
    let mut full: HashMap<(u32, u32), u32> = HashMap::new();
    let mut role: HashMap<u32, u32> = HashMap::new();
    for (u, act) in ds.users.iter().zip(active) {
        if *act {
            *full.entry((u.role, u.department)).or_default() += 1;
            *role.entry(u.role).or_default() += 1;
        }
    }
    // group ids: 0 = everyone, then role groups, then full groups
    let mut ids: HashMap<(u32, u32, u8), u32> = HashMap::new();
    ds.users
        .iter()
        .map(|u| {
            let key = if u.role == NONE {
                (NONE, NONE, 0)
            } else if full.get(&(u.role, u.department)).copied().unwrap_or(0) >= min_peers {
                (u.role, u.department, 2)
            } else if role.get(&u.role).copied().unwrap_or(0) >= min_peers {
                (u.role, NONE, 1)
            } else {
                (NONE, NONE, 0)
            };
            let next = u32::try_from(ids.len()).unwrap_or(NONE);
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

/// A flagged user-day: distinct patients and the peer group's median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeDay {
    /// The user.
    pub user: UserIx,
    /// UTC day number.
    pub day: i32,
    /// Distinct patients that day.
    pub distinct: u32,
    /// Median distinct patients per day in the peer group.
    pub peer_median: f64,
    /// True when the count is of patients opened without a clinical reason.
    pub unexplained: bool,
    /// The count above which the day is high volume for this user: the peer group's limit,
    /// or `volume_self_factor` times the user's own median if that is higher.
    pub limit: f64,
    /// The user's median over their other active days (0 when they have too few).
    pub own_median: f64,
}

/// Marks the unexplained accesses of one (user, patient, day) session with the session's
/// break-the-glass signal: the views that follow a break-the-glass belong to it.
fn session_mark(bits: &mut [u32], session: &[u32], bg: u32, explained: &impl Fn(usize) -> bool) {
    if bg == 0 {
        return;
    }
    for &i in session {
        if !explained(i as usize)
            && let Some(b) = bits.get_mut(i as usize)
        {
            *b |= bg;
        }
    }
}

/// User-days whose distinct-patient count is a robust outlier in the user's peer group.
fn volume_outliers(
    mut user_days: Vec<(u32, i32)>,
    groups: &[u32],
    ngroups: usize,
    cfg: &SignalConfig,
    unexplained: bool,
) -> Vec<VolumeDay> {
    user_days.sort_unstable();
    let mut counts: Vec<(u32, i32, u32)> = Vec::new();
    for (u, d) in user_days {
        match counts.last_mut() {
            Some(c) if c.0 == u && c.1 == d => c.2 += 1,
            _ => counts.push((u, d, 1)),
        }
    }
    let mut per_group: Vec<Vec<f64>> = vec![Vec::new(); ngroups];
    for &(u, _, c) in &counts {
        if let Some(v) = groups
            .get(u as usize)
            .and_then(|g| per_group.get_mut(*g as usize))
        {
            v.push(f64::from(c));
        }
    }
    let stats: Vec<(f64, f64)> = per_group.iter_mut().map(|v| median_mad(v)).collect();
    let mut out = Vec::new();
    let mut s = 0;
    let mut own: Vec<f64> = Vec::new();
    while s < counts.len() {
        let user = counts.get(s).map_or(0, |c| c.0);
        let mut e = s;
        while counts.get(e).is_some_and(|c| c.0 == user) {
            e += 1;
        }
        let run = counts.get(s..e).unwrap_or_default();
        own.clear();
        own.extend(run.iter().map(|c| f64::from(c.2)));
        own.sort_unstable_by(f64::total_cmp);
        let (med, mad) = groups
            .get(user as usize)
            .and_then(|g| stats.get(*g as usize))
            .copied()
            .unwrap_or((0.0, 0.0));
        let peer_limit = med + cfg.volume_z * 1.4826 * mad.max(1.0);
        for &(_, day, distinct) in run {
            let own_median = if cfg.volume_self_factor > 0.0
                && run.len() > cfg.volume_self_min_days.max(1) as usize
            {
                loo_median(&own, f64::from(distinct))
            } else {
                0.0
            };
            let limit = peer_limit.max(cfg.volume_self_factor * own_median);
            if distinct >= cfg.volume_min_distinct && f64::from(distinct) > limit {
                out.push(VolumeDay {
                    user,
                    day,
                    distinct,
                    peer_median: med,
                    unexplained,
                    limit,
                    own_median,
                });
            }
        }
        s = e;
    }
    out
}

/// The median of sorted `v` without one occurrence of `x` (which is in it).
fn loo_median(v: &[f64], x: f64) -> f64 {
    let skip = v.partition_point(|y| *y < x);
    let n = v.len().saturating_sub(1);
    if n == 0 {
        return 0.0;
    }
    let at = |k: usize| {
        let k = if k >= skip { k + 1 } else { k };
        v.get(k).copied().unwrap_or(0.0)
    };
    if n % 2 == 1 {
        at(n / 2)
    } else {
        (at(n / 2 - 1) + at(n / 2)) / 2.0
    }
}

/// All signals of a log, and what their reason sentences quote.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Per access, a mask of [`Signal::bit`]s.
    pub bits: Vec<u32>,
    /// High-volume user-days, sorted by (user, day), unexplained counts first.
    pub volume_days: Vec<VolumeDay>,
    /// Distinct days of unexplained access, for (user, patient) pairs flagged as repeats.
    pub repeat_days: HashMap<(u32, u32), u32>,
    /// Per user: (unexplained accesses, all accesses, peer median share).
    pub unexplained_share: Vec<(u32, u32, f64)>,
    /// Each user's usual hours.
    pub usual: UsualHours,
}

/// Each user's usual hours, learned from all their accesses, one vote per day: the days on
/// which they accessed any record, and per hour of day (UTC) the days on which they did so
/// within an hour of it. An access is judged against the user's *other* days (leave one day
/// out), so a single night of snooping does not make its own hours usual, and a user who
/// works nights has usual hours at night.
#[derive(Debug, Clone, Default)]
pub struct UsualHours {
    days: Vec<u32>,
    near: Vec<[u32; 24]>,
}

/// Largest dense user-by-day table, in entries; longer logs use a map.
const DENSE_USER_DAYS: u64 = 32 << 20;

impl UsualHours {
    /// Learns the profile of every user of `ds`.
    pub fn learn(ds: &Dataset) -> Self {
        let nu = ds.users.len();
        let mut out = Self {
            days: vec![0; nu],
            near: vec![[0; 24]; nu],
        };
        let (mut first, mut last) = (i32::MAX, i32::MIN);
        for a in &ds.accesses {
            let d = day_of(a.time.0);
            first = first.min(d);
            last = last.max(d);
        }
        if first > last {
            return out;
        }
        let span = u64::try_from(i64::from(last) - i64::from(first) + 1).unwrap_or(u64::MAX);
        let mut add = |u: usize, mask: u32| {
            if mask == 0 {
                return;
            }
            if let (Some(d), Some(near)) = (out.days.get_mut(u), out.near.get_mut(u)) {
                *d += 1;
                for (h, n) in near.iter_mut().enumerate() {
                    if mask & window(h) != 0 {
                        *n += 1;
                    }
                }
            }
        };
        if span.saturating_mul(nu as u64) <= DENSE_USER_DAYS {
            let span = usize::try_from(span).unwrap_or(0);
            let mut masks = vec![0u32; nu * span];
            for a in &ds.accesses {
                let d =
                    usize::try_from(i64::from(day_of(a.time.0)) - i64::from(first)).unwrap_or(0);
                if let Some(m) = masks.get_mut(a.user as usize * span + d) {
                    *m |= 1 << hour_of(a.time.0);
                }
            }
            for (k, m) in masks.iter().enumerate() {
                add(k / span.max(1), *m);
            }
        } else {
            let mut masks: HashMap<(u32, i32), u32> = HashMap::new();
            for a in &ds.accesses {
                *masks.entry((a.user, day_of(a.time.0))).or_default() |= 1 << hour_of(a.time.0);
            }
            for ((u, _), m) in masks {
                add(u as usize, m);
            }
        }
        out
    }

    /// Days on which `user` accessed any record.
    pub fn active_days(&self, user: UserIx) -> u32 {
        self.days.get(user as usize).copied().unwrap_or(0)
    }

    /// Of `user`'s active days other than the day of time `t`, how many had an access within
    /// an hour of `t`'s hour of day.
    pub fn near_days(&self, user: UserIx, t: i64) -> u32 {
        self.near
            .get(user as usize)
            .and_then(|n| n.get(hour_of(t)))
            .map_or(0, |n| n.saturating_sub(1))
    }

    /// The share of `user`'s other active days with an access within an hour of time `t`'s
    /// hour of day, or `None` when they have fewer than `min_days` other active days.
    pub fn share(&self, user: UserIx, t: i64, min_days: u32) -> Option<f64> {
        let other = self.active_days(user).saturating_sub(1);
        (other >= min_days.max(1)).then(|| f64::from(self.near_days(user, t)) / f64::from(other))
    }
}

/// The hours `h - 1`, `h` and `h + 1` (mod 24) as a mask.
fn window(h: usize) -> u32 {
    let h = h % 24;
    (1 << h) | (1 << ((h + 1) % 24)) | (1 << ((h + 23) % 24))
}

/// Computes every signal. `expl` is from [`crate::explain::explain_all`] and `order` from
/// [`crate::explain::pair_order`].
pub fn compute(ds: &Dataset, cfg: &SignalConfig, expl: &[Explained], order: &[u32]) -> Signals {
    let n = ds.accesses.len();
    let nu = ds.users.len();
    let mut bits = vec![0u32; n];
    let explained = |i: usize| expl.get(i).is_some_and(Explained::is_explained);

    // 0. how common each last-name part is among patients
    let mut part_count = vec![0u32; ds.name_parts.len()];
    for p in &ds.patients {
        for x in p.last_name {
            if let Some(c) = part_count.get_mut(x as usize) {
                *c += 1;
            }
        }
    }
    let common_limit =
        (cfg.family_common_share * ds.patients.len() as f64).max(f64::from(cfg.family_common_min));
    let rare = |x: u32| {
        part_count
            .get(x as usize)
            .is_some_and(|c| f64::from(*c) <= common_limit)
    };

    // 1. relationship and record signals, per access
    let grace = us(cfg.deceased_grace_hours, HOUR_US);
    let (bg_before, bg_after) = (
        us(cfg.break_glass_before_hours, HOUR_US),
        us(cfg.break_glass_after_hours, HOUR_US),
    );
    let mut totals = vec![0u32; nu];
    let mut unexplained = vec![0u32; nu];
    for (i, (a, b)) in ds.accesses.iter().zip(bits.iter_mut()).enumerate() {
        let u = ds.user(a.user);
        let p = ds.patient(a.patient);
        let t = a.time.0;
        let mut m = 0u32;
        if !u.in_roster {
            m |= Signal::UnknownUser.bit();
        }
        if !p.in_list {
            m |= Signal::UnknownPatient.bit();
        }
        if p.employee == a.user {
            m |= Signal::SelfAccess.bit();
        } else {
            if p.employee != NONE {
                let same = u.department != NONE && ds.user(p.employee).department == u.department;
                m |= if same {
                    Signal::CoworkerSameDepartment.bit()
                } else {
                    Signal::Coworker.bit()
                };
            }
            if u.last_name
                .iter()
                .any(|x| *x != NONE && p.last_name.contains(x) && rare(*x))
            {
                m |= Signal::FamilyName.bit();
            }
            if u.address != NONE && u.address == p.address && u.zip == p.zip {
                m |= Signal::SameAddress.bit();
            } else if u.street != NONE && u.street == p.street && u.zip != NONE && u.zip == p.zip {
                m |= Signal::SameStreet.bit();
            }
        }
        if p.vip {
            m |= Signal::Vip.bit();
        }
        if p.deceased != i64::MAX && t > p.deceased.saturating_add(grace) {
            m |= Signal::Deceased.bit();
        }
        if a.action == Action::BreakGlass {
            let covered = ds.encounters.get(a.patient).iter().any(|e| {
                (e.start <= t && t <= e.end)
                    || (e.start >= t.saturating_sub(bg_before)
                        && e.start <= t.saturating_add(bg_after))
            });
            if !covered {
                m |= Signal::BreakGlassNoEncounter.bit();
            }
        }
        *b = m;
        if let Some(tot) = totals.get_mut(a.user as usize) {
            *tot += 1;
        }
        if !explained(i)
            && let Some(c) = unexplained.get_mut(a.user as usize)
        {
            *c += 1;
        }
    }

    let no_enc = us(cfg.no_encounter_days, DAY_US);

    // 2. usual hours: on which of their days each user was active around each hour
    let usual = UsualHours::learn(ds);
    let off_hours = |a: &crate::model::Access| {
        usual
            .share(a.user, a.time.0, cfg.off_hours_min_days)
            .is_some_and(|s| s <= cfg.off_hours_max_share)
    };

    // 3. community: departments each user works with, from their explained accesses
    let mut user_depts: Vec<(u32, u32)> = Vec::new();
    for (u, user) in ds.users.iter().enumerate() {
        if user.department != NONE {
            user_depts.push((u32::try_from(u).unwrap_or(NONE), user.department));
        }
    }
    for (a, e) in ds.accesses.iter().zip(expl) {
        if let Some(enc) = ds.encounters.items().get(e.reference as usize)
            && e.link != crate::explain::Link::Repeat
        {
            user_depts.push((a.user, enc.department));
        }
    }
    user_depts.sort_unstable();
    user_depts.dedup();
    // departments of the users with an explained access to each patient (Chen & Malin: the
    // patient's accessors form the community an access should fall in)
    let mut accessor_depts: Vec<(u32, u32)> = ds
        .accesses
        .iter()
        .zip(expl)
        .filter(|(_, e)| e.is_explained())
        .filter_map(|(a, _)| {
            let d = ds.user(a.user).department;
            (d != NONE).then_some((a.patient, d))
        })
        .collect();
    accessor_depts.sort_unstable();
    accessor_depts.dedup();
    let window = us(cfg.community_window_days, DAY_US);
    let in_community = |user: u32, patient: u32, t: i64| -> bool {
        let lo = user_depts.partition_point(|x| x.0 < user);
        let hi = user_depts.partition_point(|x| x.0 <= user);
        let depts = user_depts.get(lo..hi).unwrap_or_default();
        let by_encounter = ds.encounters.get(patient).iter().any(|e| {
            e.start <= t.saturating_add(window)
                && e.end >= t.saturating_sub(window)
                && depts.binary_search(&(user, e.department)).is_ok()
        });
        let lo = accessor_depts.partition_point(|x| x.0 < patient);
        let hi = accessor_depts.partition_point(|x| x.0 <= patient);
        by_encounter
            || accessor_depts
                .get(lo..hi)
                .unwrap_or_default()
                .iter()
                .any(|&(_, d)| depts.binary_search(&(user, d)).is_ok())
    };

    for (i, (a, b)) in ds.accesses.iter().zip(bits.iter_mut()).enumerate() {
        if off_hours(a) {
            *b |= Signal::OffHours.bit();
        }
        if !explained(i) && !in_community(a.user, a.patient, a.time.0) {
            *b |= Signal::OutsideCommunity.bit();
        }
        if !explained(i) {
            let t = a.time.0;
            let near =
                ds.encounters.get(a.patient).iter().any(|e| {
                    e.start <= t.saturating_add(no_enc) && e.end.saturating_add(no_enc) >= t
                });
            if !near {
                *b |= Signal::NoEncounter.bit();
            }
        }
    }

    // 4. pairs: repeated unexplained access; distinct patients per user-day
    let mut repeat_days = HashMap::new();
    let mut user_days: Vec<(u32, i32)> = Vec::new();
    let mut unexpl_user_days: Vec<(u32, i32)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let key = |k: usize| {
            order
                .get(k)
                .and_then(|&i| ds.accesses.get(i as usize))
                .map(|a| (a.user, a.patient))
        };
        let k0 = key(start);
        let mut end = start;
        while end < order.len() && key(end) == k0 {
            end += 1;
        }
        let run = order.get(start..end).unwrap_or_default();
        let (mut last_day, mut last_unexpl_day, mut unexpl_days) = (None, None, 0u32);
        let mut day_start = 0;
        let mut day_bg = 0u32;
        for (k, &i) in run.iter().enumerate() {
            let Some(a) = ds.accesses.get(i as usize) else {
                continue;
            };
            let d = day_of(a.time.0);
            if last_day != Some(d) {
                session_mark(
                    &mut bits,
                    run.get(day_start..k).unwrap_or_default(),
                    day_bg,
                    &explained,
                );
                day_start = k;
                day_bg = 0;
                user_days.push((a.user, d));
                last_day = Some(d);
            }
            day_bg |=
                bits.get(i as usize).copied().unwrap_or(0) & Signal::BreakGlassNoEncounter.bit();
            if !explained(i as usize) && last_unexpl_day != Some(d) {
                unexpl_days += 1;
                unexpl_user_days.push((a.user, d));
                last_unexpl_day = Some(d);
            }
        }
        session_mark(
            &mut bits,
            run.get(day_start..).unwrap_or_default(),
            day_bg,
            &explained,
        );
        if unexpl_days >= cfg.repeat_min_days.max(2) {
            if let Some((u, p)) = k0 {
                repeat_days.insert((u, p), unexpl_days);
            }
            for &i in run {
                if !explained(i as usize)
                    && let Some(b) = bits.get_mut(i as usize)
                {
                    *b |= Signal::RepeatPatient.bit();
                }
            }
        }
        start = end.max(start + 1);
    }

    // 5. daily distinct patients (all, and unexplained) against the peer group
    let active: Vec<bool> = totals.iter().map(|t| *t > 0).collect();
    let groups = peer_groups(ds, &active, cfg.min_peers);
    let ngroups = groups
        .iter()
        .filter(|g| **g != NONE)
        .max()
        .map_or(0, |m| *m as usize + 1);
    let all_days = volume_outliers(user_days, &groups, ngroups, cfg, false);
    let unexpl_days_out = volume_outliers(unexpl_user_days, &groups, ngroups, cfg, true);
    for (i, (a, b)) in ds.accesses.iter().zip(bits.iter_mut()).enumerate() {
        let k = (a.user, day_of(a.time.0));
        let hit = |v: &[VolumeDay]| v.binary_search_by(|v| (v.user, v.day).cmp(&k)).is_ok();
        if hit(&all_days) || (!explained(i) && hit(&unexpl_days_out)) {
            *b |= Signal::HighVolume.bit();
        }
    }
    let mut volume_days = unexpl_days_out;
    volume_days.extend(all_days);
    volume_days.sort_by_key(|v| (v.user, v.day, !v.unexplained));

    // 6. share of unexplained accesses against the peer group
    let mut shares: Vec<Vec<f64>> = vec![Vec::new(); ngroups];
    for (u, (&x, &tot)) in unexplained.iter().zip(&totals).enumerate() {
        if tot > 0
            && let Some(v) = groups.get(u).and_then(|g| shares.get_mut(*g as usize))
        {
            v.push(f64::from(x) / f64::from(tot));
        }
    }
    let share_stats: Vec<(f64, f64)> = shares.iter_mut().map(|v| median_mad(v)).collect();
    let unexplained_share: Vec<(u32, u32, f64)> = unexplained
        .iter()
        .zip(&totals)
        .zip(&groups)
        .map(|((&x, &tot), g)| {
            let med = share_stats.get(*g as usize).map_or(0.0, |s| s.0);
            (x, tot, med)
        })
        .collect();
    let many: Vec<bool> = unexplained_share
        .iter()
        .zip(&groups)
        .map(|(&(x, tot, _), g)| {
            let (med, mad) = share_stats.get(*g as usize).copied().unwrap_or((0.0, 0.0));
            tot > 0
                && x >= cfg.unexplained_min
                && f64::from(x) / f64::from(tot) > med + cfg.unexplained_z * 1.4826 * mad.max(0.01)
        })
        .collect();
    for (i, (a, b)) in ds.accesses.iter().zip(bits.iter_mut()).enumerate() {
        if !explained(i) && many.get(a.user as usize).copied().unwrap_or(false) {
            *b |= Signal::ManyUnexplained.bit();
        }
    }

    Signals {
        bits,
        volume_days,
        repeat_days,
        unexplained_share,
        usual,
    }
}

impl Signals {
    /// How far above its peer limit access `i`'s user-day is (distinct / limit, the larger
    /// of the all-patients and, for an unexplained access, the unexplained-patients count);
    /// 0 when not high volume.
    pub fn volume_ratio(&self, ds: &Dataset, i: usize, explained: bool) -> f64 {
        let Some(a) = ds.accesses.get(i) else {
            return 0.0;
        };
        let k = (a.user, day_of(a.time.0));
        let lo = self.volume_days.partition_point(|v| (v.user, v.day) < k);
        self.volume_days
            .get(lo..)
            .unwrap_or_default()
            .iter()
            .take_while(|v| (v.user, v.day) == k)
            .filter(|v| !(v.unexplained && explained))
            .map(|v| f64::from(v.distinct) / v.limit.max(1.0))
            .fold(0.0, f64::max)
    }

    /// The share of the user's other active days with an access within an hour of access
    /// `i`'s hour of day (1 without a profile).
    pub fn hour_share_of(&self, ds: &Dataset, i: usize) -> f64 {
        ds.accesses
            .get(i)
            .and_then(|a| self.usual.share(a.user, a.time.0, 1))
            .unwrap_or(1.0)
    }

    /// Distinct days of unexplained access of access `i`'s (user, patient) pair when it is a
    /// repeat, else 0.
    pub fn repeat_days_of(&self, ds: &Dataset, i: usize) -> u32 {
        ds.accesses
            .get(i)
            .and_then(|a| self.repeat_days.get(&(a.user, a.patient)))
            .copied()
            .unwrap_or(0)
    }
}

/// The reason sentence of `signal` for access `i`.
pub fn describe(
    ds: &Dataset,
    sig: &Signals,
    cfg: &SignalConfig,
    i: usize,
    signal: Signal,
) -> String {
    let Some(a) = ds.accesses.get(i) else {
        return String::new();
    };
    let u = ds.user_ids.name(a.user);
    let p = ds.patient_ids.name(a.patient);
    match signal {
        Signal::SelfAccess => {
            format!("User {u} opened their own record (patient {p} is user {u} as an employee).")
        }
        Signal::Deceased => format!("Patient {p} had died before user {u} opened the record."),
        Signal::BreakGlassNoEncounter => format!(
            "User {u} used break-the-glass on patient {p}, and no encounter of that patient was active or started within {} hours.",
            cfg.break_glass_after_hours
        ),
        Signal::FamilyName => format!("User {u} shares the last name of patient {p}."),
        Signal::SameAddress => format!("User {u} lives at the same street address as patient {p}."),
        Signal::SameStreet => {
            format!("User {u} lives on the same street and ZIP code as patient {p}.")
        }
        Signal::CoworkerSameDepartment => {
            let e = ds.user_ids.name(ds.patient(a.patient).employee);
            format!("Patient {p} is a coworker of user {u} in the same department (employee {e}).")
        }
        Signal::Coworker => {
            let e = ds.user_ids.name(ds.patient(a.patient).employee);
            format!("Patient {p} is a hospital employee (user {e}) in another department.")
        }
        Signal::Vip => format!("Patient {p} is flagged as a VIP."),
        Signal::OffHours => {
            let near = sig.usual.near_days(a.user, a.time.0);
            let other = sig.usual.active_days(a.user).saturating_sub(1);
            format!(
                "User {u} accessed the record at {:02}:00 UTC; on {} of their {other} other active days in the log did they access any record within an hour of that time.",
                hour_of(a.time.0),
                if near == 0 {
                    "none".to_owned()
                } else {
                    format!("only {near}")
                }
            )
        }
        Signal::HighVolume => {
            let k = (a.user, day_of(a.time.0));
            match sig
                .volume_days
                .binary_search_by(|v| (v.user, v.day).cmp(&k))
                .ok()
                .and_then(|j| sig.volume_days.get(j))
            {
                Some(v) => format!(
                    "User {u} opened {} distinct patients' records{} that day, far above their peer group's median of {:.0}{}.",
                    v.distinct,
                    if v.unexplained {
                        " without a clinical reason"
                    } else {
                        ""
                    },
                    v.peer_median,
                    if v.own_median > 0.0 {
                        format!(" and their own usual {:.0} on other days", v.own_median)
                    } else {
                        String::new()
                    }
                ),
                None => format!(
                    "User {u} opened far more distinct patients' records that day than their peers."
                ),
            }
        }
        Signal::RepeatPatient => {
            let days = sig
                .repeat_days
                .get(&(a.user, a.patient))
                .copied()
                .unwrap_or(0);
            format!(
                "User {u} opened patient {p}'s record without a clinical reason on {days} different days."
            )
        }
        Signal::ManyUnexplained => {
            let (x, tot, med) = sig
                .unexplained_share
                .get(a.user as usize)
                .copied()
                .unwrap_or((0, 0, 0.0));
            format!(
                "{x} of user {u}'s {tot} accesses have no clinical reason, far above their peer group's median share of {:.1}%.",
                med * 100.0
            )
        }
        Signal::OutsideCommunity => {
            format!("Patient {p} has no encounter in any department user {u} works with.")
        }
        Signal::UnknownUser => format!("User {u} is not in the HR roster."),
        Signal::UnknownPatient => format!("Patient {p} is not in the patient list."),
        Signal::NoEncounter => format!(
            "Patient {p} had no encounter in any department within {} days of the access.",
            cfg.no_encounter_days
        ),
    }
}
