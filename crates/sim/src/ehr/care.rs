//! Encounters, care teams, deaths and the legitimate record accesses that clinical and
//! administrative workflows cause.

use super::world::{DeptKind, Role, World};
use super::{Access, Action, CareRole, CareTeam, EhrSimConfig, Encounter, EncounterKind, Module};
use crate::rng::Rng;

const HOUR: u32 = 3600;
const DAY: u32 = 86_400;

pub(crate) struct Care {
    pub(crate) encounters: Vec<Encounter>,
    pub(crate) care_team: Vec<CareTeam>,
    pub(crate) accesses: Vec<Access>,
}

const NURSE_MODS: &[Module] = &[
    Module::Mar,
    Module::Mar,
    Module::Notes,
    Module::ChartReview,
    Module::Results,
    Module::Orders,
];
const PHYS_MODS: &[Module] = &[
    Module::ChartReview,
    Module::Results,
    Module::Results,
    Module::Notes,
    Module::Orders,
    Module::Imaging,
];
const CLERK_MODS: &[Module] = &[
    Module::Demographics,
    Module::Demographics,
    Module::Scheduling,
];
const LAB_MODS: &[Module] = &[Module::Results, Module::Results, Module::Orders];
const RAD_MODS: &[Module] = &[
    Module::Imaging,
    Module::Imaging,
    Module::Results,
    Module::Orders,
];
const PHARM_MODS: &[Module] = &[Module::Orders, Module::Orders, Module::Mar, Module::Results];
const HIM_MODS: &[Module] = &[
    Module::Coding,
    Module::Notes,
    Module::ChartReview,
    Module::Results,
];
const ROI_MODS: &[Module] = &[
    Module::ChartReview,
    Module::Notes,
    Module::Results,
    Module::Imaging,
];
const BILL_MODS: &[Module] = &[
    Module::Billing,
    Module::Billing,
    Module::Demographics,
    Module::Coding,
];
const SCHED_MODS: &[Module] = &[Module::Scheduling, Module::Scheduling, Module::Demographics];
const CM_MODS: &[Module] = &[Module::ChartReview, Module::Notes, Module::Demographics];
const QUAL_MODS: &[Module] = &[
    Module::ChartReview,
    Module::Notes,
    Module::Orders,
    Module::Mar,
];

/// Appends accesses inside the audited window.
pub(crate) struct Emitter<'a> {
    pub(crate) world: &'a World,
    pub(crate) out: Vec<Access>,
}

impl Emitter<'_> {
    /// One working session: `rows` accesses a few seconds to minutes apart, starting at `t`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn session(
        &mut self,
        user: u32,
        patient: u32,
        t: u32,
        rows: u32,
        mods: &[Module],
        remote: bool,
        heavy_output: bool,
        rng: &mut Rng,
    ) {
        let (w0, w1) = self.world.window;
        let ws = if remote || rng.chance(0.03) {
            0
        } else {
            self.world.workstation(rng, user)
        };
        let mut t = t;
        for _ in 0..rows.max(1) {
            if t >= w1 {
                break;
            }
            let module = rng.pick(mods).copied().unwrap_or(Module::ChartReview);
            let x = rng.f64();
            let action = if heavy_output && x < 0.25 {
                Action::Print
            } else if heavy_output && x < 0.4 {
                Action::Export
            } else if x < 0.012 {
                Action::Print
            } else if x < 0.014 {
                Action::Export
            } else if matches!(
                module,
                Module::Notes
                    | Module::Orders
                    | Module::Mar
                    | Module::Demographics
                    | Module::Scheduling
                    | Module::Coding
                    | Module::Billing
            ) && x < 0.4
            {
                Action::Modify
            } else {
                Action::View
            };
            if t >= w0 {
                self.out.push(Access {
                    time: t,
                    user,
                    patient,
                    action,
                    module,
                    workstation: ws,
                    case: None,
                });
            }
            t = t.saturating_add(5 + rng.index(120) as u32);
        }
    }

    /// Whether the user's usual shift covers `t` (for choosing a remote workstation).
    fn off_shift(&self, user: u32, t: u32) -> bool {
        self.world
            .users
            .get(user as usize)
            .is_none_or(|u| !u.shift.covers_minute((t % DAY) / 60, 0))
    }
}

fn rows(rng: &mut Rng, lo: u32, hi: u32) -> u32 {
    lo + rng.index((hi.saturating_sub(lo) + 1) as usize) as u32
}

fn pick_dept(rng: &mut Rng, world: &World, kind: DeptKind) -> u16 {
    let total: f64 = world
        .departments
        .iter()
        .zip(&world.dept_weight)
        .filter(|(d, _)| d.kind == kind)
        .map(|(_, w)| *w)
        .sum();
    let mut x = rng.f64() * total;
    let mut last = 0;
    for (i, (d, w)) in world.departments.iter().zip(&world.dept_weight).enumerate() {
        if d.kind != kind || *w <= 0.0 {
            continue;
        }
        last = i as u16;
        if x < *w {
            return i as u16;
        }
        x -= w;
    }
    last
}

fn dept_of(world: &World, code: &str) -> u16 {
    world
        .departments
        .iter()
        .position(|d| d.code == code)
        .unwrap_or(0) as u16
}

/// The primary-care physician of a patient (a stable hash onto the clinic's physicians).
pub(crate) fn pcp_of(world: &World, pcc: u16, patient: u32) -> Option<u32> {
    let list = world.staff.get(&(pcc, Role::Physician))?;
    if list.is_empty() {
        return None;
    }
    let h = u64::from(patient).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    list.get((h % list.len() as u64) as usize).copied()
}

pub(crate) fn simulate(cfg: &EhrSimConfig, world: &mut World, rng: &mut Rng) -> Care {
    let (w0, w1) = world.window;
    let total_days = w1 / DAY;
    let n_pat = world.patients.len();
    let pcc = dept_of(world, "PCC");
    let ehc = dept_of(world, "EHC");
    let ed = dept_of(world, "ED");
    let flt = dept_of(world, "FLT");
    let gme = dept_of(world, "GME");
    let lab = dept_of(world, "LAB");
    let rad = dept_of(world, "RAD");
    let phr = dept_of(world, "PHR");
    let him = dept_of(world, "HIM");
    let bil = dept_of(world, "BIL");
    let sch = dept_of(world, "SCH");
    let qps = dept_of(world, "QPS");

    // The long deceased: never seen again, except by release of information.
    let general_from = world
        .households
        .get(world.users.len())
        .map_or(n_pat, |h| h.0 as usize);
    let mut excluded = vec![false; n_pat];
    let n_dead = (n_pat as f64 * cfg.deceased_share) as usize;
    let epoch_day = (world.epoch / 86_400) as i32;
    for _ in 0..n_dead {
        let span = n_pat.saturating_sub(general_from);
        if span == 0 {
            break;
        }
        let p = general_from + rng.index(span);
        if let Some(pat) = world.patients.get_mut(p)
            && !pat.vip
        {
            pat.deceased_day = Some(epoch_day - 30 - rng.index(3650) as i32);
            if let Some(x) = excluded.get_mut(p) {
                *x = true;
            }
        }
    }
    let vips: Vec<u32> = (0..n_pat as u32)
        .filter(|&p| world.patients.get(p as usize).is_some_and(|x| x.vip))
        .collect();
    let employees: Vec<u32> = world.users.iter().filter_map(|u| u.patient).collect();

    // Encounters.
    let n_enc = cfg.encounter_count() as usize;
    let mut encounters: Vec<Encounter> = Vec::with_capacity(n_enc + n_enc / 20);
    let pick_patient = |rng: &mut Rng| -> u32 {
        for _ in 0..16 {
            let p = if rng.chance(0.4) && n_pat >= 8 {
                8 * rng.index(n_pat / 8)
            } else {
                rng.index(n_pat)
            };
            if !excluded.get(p).copied().unwrap_or(true) {
                return p as u32;
            }
        }
        0
    };
    while encounters.len() < n_enc {
        let x = rng.f64();
        let kind = if x < 0.11 {
            EncounterKind::Inpatient
        } else if x < 0.33 {
            EncounterKind::Emergency
        } else {
            EncounterKind::Outpatient
        };
        let mut patient = pick_patient(rng);
        if !vips.is_empty() && rng.chance(0.004) {
            patient = rng.pick(&vips).copied().unwrap_or(patient);
        }
        let mut day = rng.index(total_days as usize) as u32;
        let (dept, start, dur) = match kind {
            EncounterKind::Outpatient => {
                for _ in 0..8 {
                    if world.weekday(day * DAY) < 5 {
                        break;
                    }
                    day = rng.index(total_days as usize) as u32;
                }
                let mut dept = pick_dept(rng, world, DeptKind::Clinic);
                if !employees.is_empty() && rng.chance(0.03) {
                    dept = ehc;
                    patient = rng.pick(&employees).copied().unwrap_or(patient);
                }
                let start = day * DAY + 8 * HOUR + 15 * 60 * rng.index(34) as u32;
                (dept, start, 15 * 60 + rng.index(45 * 60) as u32)
            }
            EncounterKind::Emergency => {
                // Busier from late morning to late evening.
                let hour = if rng.chance(0.75) {
                    10 + rng.index(12) as u32
                } else {
                    rng.index(24) as u32
                };
                let start = day * DAY + hour * HOUR + rng.index(HOUR as usize) as u32;
                let dur = rng.lognormal(4.0 * 3600.0, 0.5).clamp(3600.0, 86_400.0) as u32;
                (ed, start, dur)
            }
            EncounterKind::Inpatient => {
                let dept = pick_dept(rng, world, DeptKind::Inpatient);
                let hour = if rng.chance(0.6) {
                    7 + rng.index(5) as u32
                } else {
                    rng.index(24) as u32
                };
                let start = day * DAY + hour * HOUR + rng.index(HOUR as usize) as u32;
                let median = if world
                    .departments
                    .get(usize::from(dept))
                    .is_some_and(|d| d.code == "ICU")
                {
                    2.5
                } else {
                    3.5
                };
                let dur = rng
                    .lognormal(median * 86_400.0, 0.7)
                    .clamp(6.0 * 3600.0, 30.0 * 86_400.0) as u32;
                (dept, start, dur)
            }
        };
        let attending = attending_for(rng, world, dept, patient, start, pcc);
        let end = start.saturating_add(dur);
        encounters.push(Encounter {
            patient,
            department: dept,
            kind,
            start,
            end: (end < w1).then_some(end),
            attending,
        });
        // Some emergency visits end in an admission.
        if kind == EncounterKind::Emergency && end < w1 && rng.chance(0.18) {
            let dept = pick_dept(rng, world, DeptKind::Inpatient);
            let dur = rng
                .lognormal(3.5 * 86_400.0, 0.7)
                .clamp(6.0 * 3600.0, 30.0 * 86_400.0) as u32;
            let e2 = end.saturating_add(dur);
            encounters.push(Encounter {
                patient,
                department: dept,
                kind: EncounterKind::Inpatient,
                start: end,
                end: (e2 < w1).then_some(e2),
                attending: attending_for(rng, world, dept, patient, end, pcc),
            });
        }
    }
    encounters.truncate(n_enc.max(1));
    encounters.sort_unstable_by_key(|e| {
        (
            e.start,
            e.patient,
            e.department,
            e.attending,
            e.end,
            e.kind as u8,
        )
    });

    // Deaths in hospital: some inpatients die at the end of their last encounter.
    let mut last_start = vec![u32::MAX; n_pat];
    for e in &encounters {
        if let Some(l) = last_start.get_mut(e.patient as usize) {
            *l = e.start;
        }
    }
    for e in &encounters {
        let (Some(end), EncounterKind::Inpatient) = (e.end, e.kind) else {
            continue;
        };
        if last_start.get(e.patient as usize) != Some(&e.start) {
            continue;
        }
        let code = world
            .departments
            .get(usize::from(e.department))
            .map_or("", |d| d.code);
        let p_death = match code {
            "ICU" => 0.09,
            "ONC" => 0.06,
            _ => 0.015,
        };
        if let Some(p) = world.patients.get_mut(e.patient as usize)
            && p.deceased_day.is_none()
            && !p.vip
            && rng.chance(p_death)
        {
            p.deceased_day = Some(epoch_day + (end / DAY) as i32);
        }
    }

    // Care teams and accesses, encounter by encounter.
    let mut care_team = Vec::with_capacity(encounters.len() * 2);
    let mut em = Emitter {
        world,
        // About 45 accesses per encounter in the window: reserve once, no doubling at scale.
        out: Vec::with_capacity(
            (encounters.len() as f64 * f64::from(cfg.days) / f64::from(cfg.days + cfg.history_days)
                * 48.0) as usize,
        ),
    };
    let follow_up = 30 * DAY;
    for e in &encounters {
        let end_or = e.end.unwrap_or(w1);
        let touches_window = end_or.saturating_add(follow_up) >= w0;
        let team_end = end_or;
        let p = e.patient;
        let w = em.world;
        let mut team = |u: Option<u32>, role: CareRole, start: u32| {
            if let Some(user) = u {
                care_team.push(CareTeam {
                    patient: p,
                    user,
                    role,
                    start,
                    end: team_end.max(start),
                });
            }
        };
        match e.kind {
            EncounterKind::Inpatient => {
                team(Some(e.attending), CareRole::Attending, e.start);
                let nurse = w
                    .on_duty_at(rng, e.department, Role::Nurse, e.start)
                    .or_else(|| w.any_staff(rng, e.department, Role::Nurse));
                team(nurse, CareRole::PrimaryNurse, e.start);
                let resident = rng
                    .chance(0.6)
                    .then(|| w.any_staff(rng, gme, Role::Resident))
                    .flatten();
                team(
                    resident,
                    CareRole::Resident,
                    e.start + rng.index(6 * HOUR as usize) as u32,
                );
                let consultant = if rng.chance(0.35) {
                    let d = pick_dept(rng, w, DeptKind::Inpatient);
                    (d != e.department)
                        .then(|| w.any_staff(rng, d, Role::Physician))
                        .flatten()
                } else {
                    None
                };
                // Some consultants are never added to the care team.
                let consultant_on_team = consultant.filter(|_| rng.chance(0.6));
                team(consultant_on_team, CareRole::Consultant, e.start + DAY / 2);
                let cm = rng
                    .chance(0.5)
                    .then(|| w.any_staff(rng, e.department, Role::CaseManager))
                    .flatten();
                team(cm, CareRole::CaseManager, e.start + DAY / 2);
                let pharm = rng
                    .chance(0.8)
                    .then(|| w.any_staff(rng, phr, Role::Pharmacist))
                    .flatten();
                team(pharm, CareRole::Pharmacist, e.start);
                if touches_window {
                    inpatient(
                        &mut em,
                        rng,
                        e,
                        Staffing {
                            nurse,
                            resident,
                            consultant,
                            cm,
                            pharm,
                        },
                        Depts {
                            flt,
                            lab,
                            rad,
                            phr,
                            him,
                            bil,
                            qps,
                            pcc,
                        },
                    );
                }
            }
            EncounterKind::Emergency => {
                team(Some(e.attending), CareRole::Attending, e.start);
                let nurse = w
                    .on_duty_at(rng, e.department, Role::Nurse, e.start)
                    .or_else(|| w.any_staff(rng, e.department, Role::Nurse));
                if rng.chance(0.5) {
                    team(nurse, CareRole::EdNurse, e.start);
                }
                if touches_window {
                    emergency(cfg, &mut em, rng, e, nurse, lab, rad, phr, him, bil);
                }
            }
            EncounterKind::Outpatient => {
                if rng.chance(0.3) {
                    team(Some(e.attending), CareRole::Attending, e.start);
                }
                if touches_window {
                    outpatient(&mut em, rng, e, lab, phr, bil, sch, pcc);
                }
            }
        }
    }
    care_team.sort_unstable_by_key(|c| (c.start, c.patient, c.user, c.role as u8, c.end));

    // Work not tied to one encounter: primary-care physicians answering their panel's
    // messages and refills, release-of-information requests, quality chart reviews.
    let days_in_window = (w1 - w0) / DAY;
    let pcps: Vec<u32> = em
        .world
        .staff
        .get(&(pcc, Role::Physician))
        .cloned()
        .unwrap_or_default();
    let alive = |world: &World, p: u32| {
        world
            .patients
            .get(p as usize)
            .is_some_and(|x| x.deceased_day.is_none())
    };
    for _ in 0..(pcps.len() as u32 * days_in_window * 3) {
        let p = rng.index(n_pat) as u32;
        if !alive(em.world, p) {
            continue;
        }
        let Some(doc) = pcp_of(em.world, pcc, p) else {
            continue;
        };
        let day = w0 / DAY + rng.index(days_in_window as usize) as u32;
        if let Some(t) = em.world.time_in_shift(doc, day, w1, rng) {
            let n = rows(rng, 1, 3);
            em.session(
                doc,
                p,
                t,
                n,
                &[Module::Results, Module::Notes, Module::Orders],
                false,
                false,
                rng,
            );
        }
    }
    let roi: Vec<u32> = em
        .world
        .staff
        .get(&(him, Role::HimSpecialist))
        .cloned()
        .unwrap_or_default();
    let quality: Vec<u32> = em
        .world
        .staff
        .get(&(qps, Role::QualityAnalyst))
        .cloned()
        .unwrap_or_default();
    let n_encounters = encounters.len();
    for (staff, per_day, mods, heavy) in [
        (&roi, 3.0, ROI_MODS, true),
        (&quality, 2.0, QUAL_MODS, false),
    ] {
        for &u in staff {
            for d in 0..days_in_window {
                let day = w0 / DAY + d;
                if !em
                    .world
                    .users
                    .get(u as usize)
                    .is_some_and(|x| x.shift.works(em.world.weekday(day * DAY)))
                {
                    continue;
                }
                for _ in 0..rng.poisson(per_day) {
                    // Mostly patients with a recent encounter; release of information also
                    // serves requests for anyone, the long deceased included.
                    let p = if heavy && rng.chance(0.4) {
                        rng.index(n_pat) as u32
                    } else {
                        encounters
                            .get(rng.index(n_encounters))
                            .map_or(0, |e| e.patient)
                    };
                    if let Some(t) = em.world.time_in_shift(u, day, w1, rng) {
                        let n = rows(rng, 2, 5);
                        em.session(u, p, t, n, mods, false, heavy, rng);
                    }
                }
            }
        }
    }
    let _ = sch;
    Care {
        encounters,
        care_team,
        accesses: em.out,
    }
}

fn attending_for(
    rng: &mut Rng,
    world: &World,
    dept: u16,
    patient: u32,
    start: u32,
    pcc: u16,
) -> u32 {
    if dept == pcc
        && rng.chance(0.8)
        && let Some(d) = pcp_of(world, pcc, patient)
    {
        return d;
    }
    world
        .on_duty_at(rng, dept, Role::Physician, start)
        .or_else(|| world.any_staff(rng, dept, Role::Physician))
        .unwrap_or(0)
}

struct Staffing {
    nurse: Option<u32>,
    resident: Option<u32>,
    consultant: Option<u32>,
    cm: Option<u32>,
    pharm: Option<u32>,
}

struct Depts {
    flt: u16,
    lab: u16,
    rad: u16,
    phr: u16,
    him: u16,
    bil: u16,
    qps: u16,
    pcc: u16,
}

/// Someone of `dept` with `role` on duty at `t`, or (rarely staffed hours) anyone of them.
fn duty(em: &Emitter<'_>, rng: &mut Rng, dept: u16, role: Role, t: u32) -> Option<u32> {
    em.world
        .on_duty_at(rng, dept, role, t)
        .or_else(|| em.world.any_staff(rng, dept, role))
}

fn inpatient(em: &mut Emitter<'_>, rng: &mut Rng, e: &Encounter, s: Staffing, d: Depts) {
    let (w0, w1) = em.world.window;
    let p = e.patient;
    let end = e.end.unwrap_or(w1).min(w1);
    let slot = 8 * HOUR;
    // Admission: the unit clerk.
    if let Some(c) = duty(em, rng, e.department, Role::UnitClerk, e.start) {
        let n = rows(rng, 1, 2);
        em.session(
            c,
            p,
            e.start + rng.index(1800) as u32,
            n,
            CLERK_MODS,
            false,
            false,
            rng,
        );
    }
    let first_slot = e.start.max(w0.saturating_sub(slot)) / slot;
    let last_slot = end / slot;
    for sl in first_slot..=last_slot {
        let s0 = (sl * slot).max(e.start);
        let s1 = ((sl + 1) * slot).min(end);
        if s1 <= s0 {
            continue;
        }
        let span = (s1 - s0) as usize;
        let mid = s0 + (s1 - s0) / 2;
        // The nurse of this shift: the unit's, sometimes a float-pool nurse.
        let nurse = if rng.chance(0.012) {
            em.world.on_duty_at(rng, d.flt, Role::Nurse, mid)
        } else if mid < e.start + slot && s.nurse.is_some() {
            s.nurse
        } else {
            duty(em, rng, e.department, Role::Nurse, mid)
        };
        if let Some(n) = nurse {
            for _ in 0..rows(rng, 3, 7) {
                let r = rows(rng, 1, 3);
                em.session(
                    n,
                    p,
                    s0 + rng.index(span) as u32,
                    r,
                    NURSE_MODS,
                    false,
                    false,
                    rng,
                );
            }
        }
        if rng.chance(0.5)
            && let Some(a) = em
                .world
                .on_duty_at(rng, e.department, Role::NursingAssistant, mid)
        {
            em.session(
                a,
                p,
                s0 + rng.index(span) as u32,
                1,
                &[Module::ChartReview, Module::Notes],
                false,
                false,
                rng,
            );
        }
        let hour = (mid % DAY) / HOUR;
        let day_index = mid / DAY;
        let daytime = (7..15).contains(&hour);
        if daytime {
            // Rounds: the attending if working today, else whoever covers.
            let wd = em.world.weekday(mid);
            let attending_works = em
                .world
                .users
                .get(e.attending as usize)
                .is_some_and(|u| u.shift.works(wd) && u.shift.covers_minute(hour * 60, 60));
            let doc = if attending_works {
                Some(e.attending)
            } else {
                duty(em, rng, e.department, Role::Physician, mid)
            };
            if let Some(doc) = doc {
                for _ in 0..rows(rng, 2, 4) {
                    let r = rows(rng, 2, 4);
                    em.session(
                        doc,
                        p,
                        s0 + rng.index(span) as u32,
                        r,
                        PHYS_MODS,
                        false,
                        false,
                        rng,
                    );
                }
            }
            if let Some(r) = s.resident
                && let Some(t) = em.world.time_in_shift(r, day_index, end, rng)
                && t >= e.start
            {
                for k in 0..rows(rng, 1, 3) {
                    let n = rows(rng, 1, 4);
                    em.session(r, p, t + k * 1800, n, PHYS_MODS, false, false, rng);
                }
            }
            if let Some(c) = s.consultant
                && day_index <= e.start / DAY + 2
                && rng.chance(0.7)
                && let Some(t) = em.world.time_in_shift(c, day_index, end, rng)
                && t >= e.start
            {
                let n = rows(rng, 2, 5);
                em.session(c, p, t, n, PHYS_MODS, false, false, rng);
            }
            if let Some(c) = s.cm
                && rng.chance(0.5)
                && let Some(t) = em.world.time_in_shift(c, day_index, end, rng)
                && t >= e.start
            {
                let n = rows(rng, 1, 3);
                em.session(c, p, t, n, CM_MODS, false, false, rng);
            }
            // Pharmacy verifies orders; the unit's pharmacist when assigned.
            let pharm = match s.pharm {
                Some(ph) if rng.chance(0.9) => Some(ph),
                _ => em.world.on_duty_at(rng, d.phr, Role::Pharmacist, mid),
            };
            if let Some(ph) = pharm
                && rng.chance(0.7)
            {
                let n = rows(rng, 1, 2);
                em.session(
                    ph,
                    p,
                    s0 + rng.index(span) as u32,
                    n,
                    PHARM_MODS,
                    false,
                    false,
                    rng,
                );
            }
            if rng.chance(0.1)
                && let Some(t) = em.world.on_duty_at(rng, d.rad, Role::RadiologyTech, mid)
            {
                let at = s0 + rng.index(span) as u32;
                em.session(t, p, at, 1, RAD_MODS, false, false, rng);
                let read = at + HOUR + rng.index(3 * HOUR as usize) as u32;
                if let Some(r) = duty(em, rng, d.rad, Role::Radiologist, read) {
                    let n = rows(rng, 1, 2);
                    em.session(r, p, read, n, RAD_MODS, false, false, rng);
                }
            }
        } else if hour < 7 {
            // Morning labs drawn and resulted by the night lab shift.
            if rng.chance(0.22)
                && let Some(t) = em.world.on_duty_at(rng, d.lab, Role::LabTech, mid)
            {
                em.session(
                    t,
                    p,
                    s0 + rng.index(span) as u32,
                    1,
                    LAB_MODS,
                    false,
                    false,
                    rng,
                );
            }
            // Night cross-cover: any physician of the unit, often from home.
            if rng.chance(0.12)
                && let Some(doc) = duty(em, rng, e.department, Role::Physician, mid)
            {
                let at = s0 + rng.index(span) as u32;
                let remote = em.off_shift(doc, at) && rng.chance(0.7);
                let n = rows(rng, 1, 3);
                em.session(doc, p, at, n, PHYS_MODS, remote, false, rng);
            }
        }
    }
    // After discharge: the attending's summary, coding, billing, sometimes a quality review.
    let Some(dis) = e.end else {
        return;
    };
    let n = rows(rng, 2, 4);
    let at = dis + rng.index(36 * HOUR as usize) as u32;
    let remote = em.off_shift(e.attending, at) && rng.chance(0.6);
    em.session(
        e.attending,
        p,
        at,
        n,
        &[Module::Notes, Module::Results, Module::ChartReview],
        remote,
        false,
        rng,
    );
    if let Some(c) = em.world.any_staff(rng, d.him, Role::HimCoder)
        && let Some(t) = em
            .world
            .time_in_shift(c, dis / DAY + 1 + rng.index(5) as u32, w1, rng)
    {
        let n = rows(rng, 1, 3);
        em.session(c, p, t, n, HIM_MODS, false, false, rng);
    }
    if rng.chance(0.5)
        && let Some(b) = em.world.any_staff(rng, d.bil, Role::BillingSpecialist)
        && let Some(t) = em
            .world
            .time_in_shift(b, dis / DAY + 2 + rng.index(10) as u32, w1, rng)
    {
        let n = rows(rng, 1, 2);
        em.session(b, p, t, n, BILL_MODS, false, false, rng);
    }
    // The primary-care physician reads the discharge summary.
    if rng.chance(0.25)
        && let Some(doc) = pcp_of(em.world, d.pcc, p)
        && let Some(t) = em
            .world
            .time_in_shift(doc, dis / DAY + 1 + rng.index(7) as u32, w1, rng)
    {
        let n = rows(rng, 1, 3);
        em.session(
            doc,
            p,
            t,
            n,
            &[Module::Notes, Module::Results],
            false,
            false,
            rng,
        );
    }
    let _ = d.qps;
}

#[allow(clippy::too_many_arguments)]
fn emergency(
    cfg: &EhrSimConfig,
    em: &mut Emitter<'_>,
    rng: &mut Rng,
    e: &Encounter,
    nurse: Option<u32>,
    lab: u16,
    rad: u16,
    phr: u16,
    him: u16,
    bil: u16,
) {
    let w1 = em.world.window.1;
    let p = e.patient;
    let end = e.end.unwrap_or(w1).min(w1);
    let span = end.saturating_sub(e.start).max(1) as usize;
    // Break-the-glass before an arrival announced by ambulance, or for a restricted record.
    if rng.chance(cfg.emergency_break_glass_share) {
        let at = e.start.saturating_sub(rng.index(4 * HOUR as usize) as u32);
        let who = if rng.chance(0.5) {
            em.world.on_duty_at(rng, e.department, Role::Physician, at)
        } else {
            em.world.on_duty_at(rng, e.department, Role::Nurse, at)
        };
        if let Some(u) = who
            && at >= em.world.window.0
            && at < w1
        {
            let ws = em.world.workstation(rng, u);
            em.out.push(Access {
                time: at,
                user: u,
                patient: p,
                action: Action::BreakGlass,
                module: Module::ChartReview,
                workstation: ws,
                case: None,
            });
            let n = rows(rng, 1, 3);
            em.session(u, p, at + 30, n, PHYS_MODS, false, false, rng);
        }
    }
    if let Some(c) = duty(em, rng, e.department, Role::UnitClerk, e.start) {
        let n = rows(rng, 1, 2);
        em.session(c, p, e.start, n, CLERK_MODS, false, false, rng);
    }
    if let Some(n) = duty(em, rng, e.department, Role::Nurse, e.start) {
        let r = rows(rng, 2, 3);
        em.session(
            n,
            p,
            e.start + rng.index(900) as u32,
            r,
            NURSE_MODS,
            false,
            false,
            rng,
        );
    }
    if let Some(n) = nurse {
        for _ in 0..(span as u32 / HOUR).clamp(1, 6) {
            let r = rows(rng, 1, 3);
            em.session(
                n,
                p,
                e.start + rng.index(span) as u32,
                r,
                NURSE_MODS,
                false,
                false,
                rng,
            );
        }
    }
    for _ in 0..rows(rng, 2, 4) {
        let r = rows(rng, 1, 4);
        em.session(
            e.attending,
            p,
            e.start + rng.index(span) as u32,
            r,
            PHYS_MODS,
            false,
            false,
            rng,
        );
    }
    let lab_at = e.start + 1800 + rng.index(3600) as u32;
    if rng.chance(0.3)
        && let Some(t) = duty(em, rng, lab, Role::LabTech, lab_at)
    {
        em.session(t, p, lab_at, 1, LAB_MODS, false, false, rng);
    }
    if rng.chance(0.25) {
        let at = e.start + 1800 + rng.index(span) as u32;
        if let Some(t) = duty(em, rng, rad, Role::RadiologyTech, at) {
            em.session(t, p, at, 1, RAD_MODS, false, false, rng);
        }
        if let Some(r) = duty(em, rng, rad, Role::Radiologist, at + 1800) {
            let n = rows(rng, 1, 2);
            em.session(r, p, at + 1800, n, RAD_MODS, false, false, rng);
        }
    }
    if rng.chance(0.1)
        && let Some(ph) = duty(em, rng, phr, Role::Pharmacist, e.start + 1800)
    {
        em.session(ph, p, e.start + 1800, 1, PHARM_MODS, false, false, rng);
    }
    let Some(dis) = e.end else {
        return;
    };
    if rng.chance(0.3)
        && let Some(c) = em.world.any_staff(rng, him, Role::HimCoder)
        && let Some(t) = em
            .world
            .time_in_shift(c, dis / DAY + 1 + rng.index(4) as u32, w1, rng)
    {
        let n = rows(rng, 1, 2);
        em.session(c, p, t, n, HIM_MODS, false, false, rng);
    }
    if rng.chance(0.3)
        && let Some(b) = em.world.any_staff(rng, bil, Role::BillingSpecialist)
        && let Some(t) = em
            .world
            .time_in_shift(b, dis / DAY + 1 + rng.index(9) as u32, w1, rng)
    {
        em.session(b, p, t, 1, BILL_MODS, false, false, rng);
    }
}

#[allow(clippy::too_many_arguments)]
fn outpatient(
    em: &mut Emitter<'_>,
    rng: &mut Rng,
    e: &Encounter,
    lab: u16,
    phr: u16,
    bil: u16,
    sch: u16,
    pcc: u16,
) {
    let w1 = em.world.window.1;
    let p = e.patient;
    let end = e.end.unwrap_or(w1);
    let span = end.saturating_sub(e.start).max(1) as usize;
    // Booked by central scheduling days or weeks ahead (the rest book online or at the desk).
    if rng.chance(0.4)
        && let Some(s) = em.world.any_staff(rng, sch, Role::Scheduler)
    {
        let back = 1 + rng.index(21) as u32;
        if let Some(t) =
            em.world
                .time_in_shift(s, (e.start / DAY).saturating_sub(back), e.start, rng)
        {
            let n = rows(rng, 1, 2);
            em.session(s, p, t, n, SCHED_MODS, false, false, rng);
        }
    }
    if let Some(c) = duty(em, rng, e.department, Role::UnitClerk, e.start) {
        let n = rows(rng, 1, 2);
        em.session(
            c,
            p,
            e.start.saturating_sub(rng.index(900) as u32),
            n,
            CLERK_MODS,
            false,
            false,
            rng,
        );
    }
    if let Some(m) = duty(em, rng, e.department, Role::MedicalAssistant, e.start) {
        let n = rows(rng, 2, 3);
        em.session(
            m,
            p,
            e.start + rng.index(600) as u32,
            n,
            NURSE_MODS,
            false,
            false,
            rng,
        );
    }
    let n = rows(rng, 2, 5);
    em.session(
        e.attending,
        p,
        e.start + rng.index(span) as u32,
        n,
        PHYS_MODS,
        false,
        false,
        rng,
    );
    if rng.chance(0.6) {
        let at = end + rng.index(30 * HOUR as usize) as u32;
        let remote = em.off_shift(e.attending, at) && rng.chance(0.6);
        let n = rows(rng, 1, 3);
        em.session(
            e.attending,
            p,
            at,
            n,
            &[Module::Notes, Module::Orders, Module::Results],
            remote,
            false,
            rng,
        );
    }
    if rng.chance(0.2) {
        let at = end + HOUR + rng.index(20 * HOUR as usize) as u32;
        if let Some(t) = duty(em, rng, lab, Role::LabTech, at) {
            em.session(t, p, at, 1, LAB_MODS, false, false, rng);
        }
        // The primary-care physician follows the specialist's results.
        if e.department != pcc
            && rng.chance(0.3)
            && let Some(doc) = pcp_of(em.world, pcc, p)
            && let Some(t) =
                em.world
                    .time_in_shift(doc, at / DAY + 1 + rng.index(4) as u32, w1, rng)
        {
            let n = rows(rng, 1, 2);
            em.session(
                doc,
                p,
                t,
                n,
                &[Module::Results, Module::Notes],
                false,
                false,
                rng,
            );
        }
    }
    if em
        .world
        .departments
        .get(usize::from(e.department))
        .is_some_and(|d| d.code == "OCL")
        && rng.chance(0.25)
        && let Some(ph) = duty(em, rng, phr, Role::Pharmacist, e.start)
    {
        let n = rows(rng, 1, 3);
        em.session(ph, p, e.start, n, PHARM_MODS, false, false, rng);
    }
    if rng.chance(0.15)
        && let Some(b) = em.world.any_staff(rng, bil, Role::BillingSpecialist)
        && let Some(t) = em
            .world
            .time_in_shift(b, e.start / DAY + 1 + rng.index(9) as u32, w1, rng)
    {
        em.session(b, p, t, 1, BILL_MODS, false, false, rng);
    }
}
