//! Labelled snooping: incidents of each [`CaseType`] by randomly chosen users, on patients no
//! care link connects them to.

use super::explain::Explainer;
use super::world::{Role, USUAL_SLACK_MIN, World};
use super::{Access, Action, CaseType, EhrSimConfig, Module};
use crate::rng::Rng;

const DAY: u32 = 86_400;
/// An illegitimate break-the-glass has no encounter ongoing or starting within this long.
pub const BREAK_GLASS_HORIZON_SECS: u32 = 24 * 3600;
/// Off-hours snooping happens at least this far outside the snooper's shift.
const OFF_MARGIN_MIN: u32 = 3 * 60;

const SNOOP_MODS: &[Module] = &[
    Module::Demographics,
    Module::ChartReview,
    Module::ChartReview,
    Module::Results,
    Module::Notes,
    Module::Imaging,
];

struct Ctx<'a> {
    cfg: &'a EhrSimConfig,
    world: &'a World,
    ex: &'a Explainer,
    /// Patients by street: offsets and patient ids.
    street_off: Vec<u32>,
    street_pat: Vec<u32>,
    vips: Vec<u32>,
    deceased: Vec<u32>,
    employees: Vec<u32>,
    general_from: usize,
}

pub(crate) fn inject(
    cfg: &EhrSimConfig,
    world: &World,
    ex: &Explainer,
    accesses: &mut Vec<Access>,
    rng: &mut Rng,
) {
    let n_streets = world.street_zip.len();
    let mut street_off = vec![0u32; n_streets + 1];
    for p in &world.patients {
        if let Some(o) = street_off.get_mut(p.address.street as usize + 1) {
            *o += 1;
        }
    }
    for i in 1..street_off.len() {
        let prev = street_off.get(i - 1).copied().unwrap_or(0);
        if let Some(o) = street_off.get_mut(i) {
            *o += prev;
        }
    }
    let mut fill = street_off.clone();
    let mut street_pat = vec![0u32; world.patients.len()];
    for (i, p) in world.patients.iter().enumerate() {
        if let Some(f) = fill.get_mut(p.address.street as usize)
            && let Some(slot) = street_pat.get_mut(*f as usize)
        {
            *slot = i as u32;
            *f += 1;
        }
    }
    let ctx = Ctx {
        cfg,
        world,
        ex,
        street_off,
        street_pat,
        vips: idx(world, |p| p.vip),
        deceased: idx(world, |p| p.deceased_day.is_some()),
        employees: world.users.iter().filter_map(|u| u.patient).collect(),
        general_from: world
            .households
            .get(world.users.len())
            .map_or(world.patients.len(), |h| h.0 as usize),
    };
    let legit = accesses.len() as f64;
    let total_w: f64 = CaseType::ALL.iter().map(|&c| cfg.case_weights.get(c)).sum();
    if total_w <= 0.0 {
        return;
    }
    let target_all = legit * cfg.snoop_rate / (1.0 - cfg.snoop_rate).max(0.01);
    for case in CaseType::ALL {
        let w = cfg.case_weights.get(case);
        if w <= 0.0 {
            continue;
        }
        let target = (target_all * w / total_w).round() as usize;
        let mut made = 0usize;
        let mut incidents = 0u32;
        let mut attempts = 0u32;
        while (made < target || incidents < cfg.min_incidents_per_type) && attempts < 20_000 {
            attempts += 1;
            let before = accesses.len();
            if incident(&ctx, rng, case, accesses) {
                incidents += 1;
                made += accesses.len() - before;
            } else {
                accesses.truncate(before);
            }
        }
    }
}

fn idx(world: &World, f: impl Fn(&super::EhrPatient) -> bool) -> Vec<u32> {
    world
        .patients
        .iter()
        .enumerate()
        .filter(|(_, p)| f(p))
        .map(|(i, _)| i as u32)
        .collect()
}

/// A time inside the user's usual hours on a random day of the window.
fn on_time(ctx: &Ctx<'_>, rng: &mut Rng, user: u32) -> Option<u32> {
    let (w0, w1) = ctx.world.window;
    let day = w0 / DAY + rng.index(((w1 - w0) / DAY) as usize) as u32;
    let t = ctx.world.time_in_shift(user, day, w1, rng)?;
    (t >= w0).then_some(t)
}

/// A time well outside the user's usual hours on a random day of the window.
fn off_time(ctx: &Ctx<'_>, rng: &mut Rng, user: u32) -> Option<u32> {
    let (w0, w1) = ctx.world.window;
    let u = ctx.world.users.get(user as usize)?;
    let busy = u32::from(u.shift.minutes) + 2 * OFF_MARGIN_MIN;
    let free = 1440u32.checked_sub(busy).filter(|&f| f > 30)?;
    let end_margin =
        (u32::from(u.shift.start_min) + u32::from(u.shift.minutes) + OFF_MARGIN_MIN) % 1440;
    let minute = (end_margin + rng.index(free as usize) as u32) % 1440;
    let day = w0 / DAY + rng.index(((w1 - w0) / DAY) as usize) as u32;
    let t = day * DAY + minute * 60 + rng.index(60) as u32;
    // Leave room for the session to stay outside the shift.
    (t >= w0 && t + 3600 < w1 && !u.shift.covers_minute(minute, USUAL_SLACK_MIN)).then_some(t)
}

fn random_user(ctx: &Ctx<'_>, rng: &mut Rng) -> u32 {
    rng.index(ctx.world.users.len()) as u32
}

/// An unrelated, living, ordinary patient: not a VIP, employee, relative or neighbour.
fn unrelated(ctx: &Ctx<'_>, rng: &mut Rng, user: u32) -> Option<u32> {
    let u = ctx.world.users.get(user as usize)?;
    let span = ctx.world.patients.len().checked_sub(ctx.general_from)?;
    for _ in 0..20 {
        let p = (ctx.general_from + rng.index(span)) as u32;
        let pat = ctx.world.patients.get(p as usize)?;
        if pat.vip
            || pat.deceased_day.is_some()
            || pat.employee.is_some()
            || pat.household == u.household
            || ctx.world.street_zip.get(pat.address.street as usize)
                == ctx.world.street_zip.get(u.address.street as usize)
        {
            continue;
        }
        return Some(p);
    }
    None
}

/// Writes one snooping session; false when care would explain it (the caller retries).
#[allow(clippy::too_many_arguments)]
fn session(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    out: &mut Vec<Access>,
    case: CaseType,
    user: u32,
    patient: u32,
    t: u32,
    rows: u32,
    off: bool,
) -> bool {
    let (w0, w1) = ctx.world.window;
    let ws = if off && rng.chance(0.4) {
        0
    } else {
        ctx.world.workstation(rng, user)
    };
    let mut t = t;
    for i in 0..rows.max(1) {
        if t < w0 || t >= w1 || ctx.ex.explained(user, patient, t) {
            return false;
        }
        let (action, module) = if case == CaseType::BreakGlass && i == 0 {
            (Action::BreakGlass, Module::ChartReview)
        } else if rng.chance(0.03) {
            (Action::Print, Module::ChartReview)
        } else {
            (
                Action::View,
                rng.pick(SNOOP_MODS).copied().unwrap_or(Module::ChartReview),
            )
        };
        out.push(Access {
            time: t,
            user,
            patient,
            action,
            module,
            workstation: ws,
            case: Some(case),
        });
        t += 10 + rng.index(150) as u32;
    }
    true
}

/// Sessions of one incident on one patient on 1..=`max_days` days.
#[allow(clippy::too_many_arguments)]
fn sessions(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    out: &mut Vec<Access>,
    case: CaseType,
    user: u32,
    patient: u32,
    max_days: u32,
    off: bool,
    not_before: u32,
) -> bool {
    let days = 1 + rng.index(max_days as usize) as u32;
    let mut any = false;
    for _ in 0..days {
        let t = if off {
            off_time(ctx, rng, user)
        } else {
            on_time(ctx, rng, user)
        };
        let Some(t) = t.filter(|&t| t >= not_before) else {
            continue;
        };
        let rows = 1 + rng.index(4) as u32;
        if !session(ctx, rng, out, case, user, patient, t, rows, off) {
            return false;
        }
        any = true;
    }
    any
}

fn incident(ctx: &Ctx<'_>, rng: &mut Rng, case: CaseType, out: &mut Vec<Access>) -> bool {
    let w = ctx.world;
    let off = rng.chance(ctx.cfg.off_hours_share);
    match case {
        CaseType::Family => {
            let user = random_user(ctx, rng);
            let Some(u) = w.users.get(user as usize) else {
                return false;
            };
            let Some(&(first, size)) = w.households.get(u.household as usize) else {
                return false;
            };
            let members: Vec<u32> = (first..first + u32::from(size))
                .filter(|&p| Some(p) != u.patient)
                .collect();
            let Some(&p) = rng.pick(&members) else {
                return false;
            };
            // Only relatives a privacy officer could recognise: a shared surname or address.
            if !w.patients.get(p as usize).is_some_and(|pat| {
                pat.address == u.address
                    || surname_overlap(
                        w.strings
                            .get(pat.last_name as usize)
                            .map_or("", String::as_str),
                        w.strings
                            .get(u.last_name as usize)
                            .map_or("", String::as_str),
                    )
            }) {
                return false;
            }
            let not_before = death_limit(ctx, p);
            sessions(ctx, rng, out, case, user, p, 3, off, not_before)
        }
        CaseType::Neighbour => {
            let user = random_user(ctx, rng);
            let Some(u) = w.users.get(user as usize) else {
                return false;
            };
            let s = u.address.street as usize;
            let a = ctx.street_off.get(s).copied().unwrap_or(0) as usize;
            let b = ctx.street_off.get(s + 1).copied().unwrap_or(0) as usize;
            let Some(list) = ctx.street_pat.get(a..b) else {
                return false;
            };
            let Some(&p) = rng.pick(list) else {
                return false;
            };
            let Some(pat) = w.patients.get(p as usize) else {
                return false;
            };
            if pat.household == u.household
                || pat.employee.is_some()
                || pat.vip
                || pat.deceased_day.is_some()
            {
                return false;
            }
            sessions(ctx, rng, out, case, user, p, 2, off, 0)
        }
        CaseType::Coworker => {
            let user = random_user(ctx, rng);
            let Some(u) = w.users.get(user as usize) else {
                return false;
            };
            // Mostly someone from the snooper's own department.
            let p = if rng.chance(0.6) {
                let mates: Vec<u32> = w
                    .staff
                    .iter()
                    .filter(|((d, _), _)| *d == u.department)
                    .flat_map(|(_, l)| l.iter())
                    .filter_map(|&m| w.users.get(m as usize).and_then(|x| x.patient))
                    .collect();
                let mut mates = mates;
                mates.sort_unstable();
                rng.pick(&mates).copied()
            } else {
                rng.pick(&ctx.employees).copied()
            };
            let Some(p) = p else {
                return false;
            };
            let Some(pat) = w.patients.get(p as usize) else {
                return false;
            };
            if pat.employee == Some(user) || pat.household == u.household {
                return false;
            }
            sessions(ctx, rng, out, case, user, p, 3, off, 0)
        }
        CaseType::Vip => {
            let user = random_user(ctx, rng);
            let Some(&p) = rng.pick(&ctx.vips) else {
                return false;
            };
            sessions(ctx, rng, out, case, user, p, 2, off, 0)
        }
        CaseType::Deceased => {
            let user = random_user(ctx, rng);
            let Some(&p) = rng.pick(&ctx.deceased) else {
                return false;
            };
            let not_before = death_limit(ctx, p);
            sessions(ctx, rng, out, case, user, p, 2, off, not_before)
        }
        CaseType::SelfAccess => {
            let Some(&p) = rng.pick(&ctx.employees) else {
                return false;
            };
            let Some(user) = w.patients.get(p as usize).and_then(|x| x.employee) else {
                return false;
            };
            sessions(ctx, rng, out, case, user, p, 3, off, 0)
        }
        CaseType::BreakGlass => {
            let role = *rng
                .pick(&[
                    Role::Nurse,
                    Role::Nurse,
                    Role::Physician,
                    Role::Resident,
                    Role::UnitClerk,
                ])
                .unwrap_or(&Role::Nurse);
            let Some(&user) = w.by_role.get(&role).and_then(|l| rng.pick(l)) else {
                return false;
            };
            let Some(p) = unrelated(ctx, rng, user) else {
                return false;
            };
            let Some(t) = on_time(ctx, rng, user) else {
                return false;
            };
            if ctx.ex.encounter_near(p, t, BREAK_GLASS_HORIZON_SECS + 3600) {
                return false;
            }
            let rows = 2 + rng.index(4) as u32;
            session(ctx, rng, out, case, user, p, t, rows, false)
        }
        CaseType::OffHours => {
            let user = random_user(ctx, rng);
            let Some(t) = off_time(ctx, rng, user) else {
                return false;
            };
            let mut any = false;
            for k in 0..1 + rng.index(3) as u32 {
                let Some(p) = unrelated(ctx, rng, user) else {
                    return false;
                };
                let rows = 1 + rng.index(4) as u32;
                if !session(ctx, rng, out, case, user, p, t + k * 600, rows, true) {
                    return false;
                }
                any = true;
            }
            any
        }
        CaseType::Volume => {
            let user = random_user(ctx, rng);
            let Some(mut t) = on_time(ctx, rng, user) else {
                return false;
            };
            let n = 20 + rng.poisson(35.0).min(200);
            for _ in 0..n {
                let Some(p) = unrelated(ctx, rng, user) else {
                    return false;
                };
                let rows = 1 + rng.index(2) as u32;
                if !session(ctx, rng, out, case, user, p, t, rows, false) {
                    return false;
                }
                t += 60 + rng.index(360) as u32;
            }
            true
        }
        CaseType::Repeated => {
            let user = random_user(ctx, rng);
            let Some(p) = unrelated(ctx, rng, user) else {
                return false;
            };
            let days = 4 + rng.index(7);
            let mut seen = Vec::new();
            for _ in 0..days {
                let t = if off {
                    off_time(ctx, rng, user)
                } else {
                    on_time(ctx, rng, user)
                };
                let Some(t) = t else {
                    continue;
                };
                if seen.contains(&(t / DAY)) {
                    continue;
                }
                seen.push(t / DAY);
                let rows = 1 + rng.index(3) as u32;
                if !session(ctx, rng, out, case, user, p, t, rows, off) {
                    return false;
                }
            }
            seen.len() >= 3
        }
    }
}

/// The first simulation time after the patient's death day (0 when alive).
fn death_limit(ctx: &Ctx<'_>, p: u32) -> u32 {
    let epoch_day = (ctx.world.epoch / 86_400) as i32;
    match ctx
        .world
        .patients
        .get(p as usize)
        .and_then(|x| x.deceased_day)
    {
        Some(d) => {
            let rel = i64::from(d) - i64::from(epoch_day) + 1;
            (rel.max(0) as u64 * u64::from(DAY)).min(u64::from(u32::MAX)) as u32
        }
        None => 0,
    }
}

/// Whether two surnames share a part after folding case, accents and hyphenation.
pub(crate) fn surname_overlap(a: &str, b: &str) -> bool {
    let parts = |s: &str| -> Vec<String> {
        super::world::fold_ascii(s)
            .to_lowercase()
            .split(['-', ' '])
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let pa = parts(a);
    let pb = parts(b);
    pa.iter().any(|x| pb.contains(x))
}
