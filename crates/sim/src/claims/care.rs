//! Honest care: the inpatient stays and outpatient visits that beneficiaries' conditions cause,
//! with the confounders a detector must live with (big hospitals, expensive specialties,
//! snowbirds, transfers, busy physicians, repeat visits, rare honest outliers).

use super::codes::{CHRONIC, COMMON_DX, DRGS, Drg, Specialty};
use super::world::{World, weekday};
use super::{Claim, ClaimKind, ClaimsSimConfig, UNBUNDLING_PAIRS};
use crate::rng::Rng;
use std::collections::HashMap;

/// The most minutes an honest physician bills in a day under the detector's assumption (15
/// minutes per outpatient claim, 30 per procedure, 30 per admission): 12 hours, a long but
/// human day.
pub(super) const HONEST_CAP: u32 = 12 * 60;
/// The most minutes fraudulent additions other than `impossible_day` push a physician to.
pub(super) const FRAUD_CAP: u32 = 20 * 60;

/// Interned diagnosis and procedure codes (index 0 is the empty code).
#[derive(Debug)]
pub(super) struct Codes {
    pub list: Vec<&'static str>,
    index: HashMap<&'static str, u16>,
}

impl Codes {
    fn new() -> Self {
        Codes {
            list: vec![""],
            index: HashMap::new(),
        }
    }

    pub(super) fn id(&mut self, code: &'static str) -> u16 {
        if let Some(&i) = self.index.get(code) {
            return i;
        }
        let i = self.list.len() as u16;
        self.list.push(code);
        self.index.insert(code, i);
        i
    }
}

/// Minutes billed per physician and day.
#[derive(Debug, Default)]
pub(super) struct Load(HashMap<u64, u32>);

impl Load {
    fn key(phys: u32, day: i32) -> u64 {
        (u64::from(phys) << 32) | u64::from(day as u32)
    }

    pub(super) fn get(&self, phys: u32, day: i32) -> u32 {
        self.0.get(&Self::key(phys, day)).copied().unwrap_or(0)
    }

    pub(super) fn add(&mut self, phys: u32, day: i32, minutes: u32) {
        *self.0.entry(Self::key(phys, day)).or_default() += minutes;
    }

    pub(super) fn sub(&mut self, phys: u32, day: i32, minutes: u32) {
        if let Some(m) = self.0.get_mut(&Self::key(phys, day)) {
            *m = m.saturating_sub(minutes);
        }
    }

    /// Records a claim's minutes on its attending physician.
    pub(super) fn book(&mut self, c: &Claim) {
        self.add(c.attending, c.start, c.minutes());
    }
}

/// The claims so far, the code table and the physicians' days.
#[derive(Debug)]
pub(super) struct Book {
    pub claims: Vec<Claim>,
    pub codes: Codes,
    pub load: Load,
}

impl Book {
    pub(super) fn push(&mut self, c: Claim) -> u32 {
        self.load.book(&c);
        self.claims.push(c);
        self.claims.len() as u32 - 1
    }
}

fn round_to(v: f64, step: f64) -> u32 {
    ((v / step).round() * step).clamp(0.0, 4e9) as u32
}

/// A random code of one of the beneficiary's chronic conditions, if it has any.
fn chronic_code(rng: &mut Rng, chronic: u16) -> Option<&'static str> {
    let n = chronic.count_ones();
    if n == 0 {
        return None;
    }
    let mut k = rng.index(n as usize);
    for (i, (_, _, codes)) in CHRONIC.iter().enumerate() {
        if chronic & (1 << i) != 0 {
            if k == 0 {
                return rng.pick(codes).copied();
            }
            k -= 1;
        }
    }
    None
}

/// Fills the diagnosis codes after `first`, up to `n`, from the chronic conditions and the
/// common codes, without repeats.
fn fill_dx(
    rng: &mut Rng,
    codes: &mut Codes,
    dx: &mut [u16; 10],
    first: usize,
    n: usize,
    chronic: u16,
    extra: &[&'static str],
) {
    let mut i = first;
    let mut tries = 0;
    while i < n.min(10) && tries < 40 {
        tries += 1;
        let r = rng.f64();
        let code = if r < 0.5 {
            chronic_code(rng, chronic)
        } else if r < 0.8 {
            rng.pick(&COMMON_DX).copied()
        } else {
            rng.pick(extra).copied()
        };
        let Some(code) = code else { continue };
        let id = codes.id(code);
        if dx.iter().take(i).any(|&d| d == id) {
            continue;
        }
        if let Some(slot) = dx.get_mut(i) {
            *slot = id;
        }
        i += 1;
    }
}

/// Whether two procedure codes form an unbundling pair (either way round).
pub(super) fn is_pair(a: &str, b: &str) -> bool {
    UNBUNDLING_PAIRS
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// An honest-looking outpatient claim (codes and amount from the specialty and the patient's
/// conditions). `outlier_share` is the chance of an honest outlier amount.
#[allow(clippy::too_many_arguments)]
pub(super) fn outpatient(
    rng: &mut Rng,
    codes: &mut Codes,
    world: &World,
    bene: u32,
    provider: u32,
    attending: u32,
    day: i32,
    outlier_share: f64,
) -> Claim {
    let p = world.providers.get(provider as usize);
    let phys = world.physicians.get(attending as usize);
    let spec = phys.map_or(Specialty::InternalMedicine, |p| p.specialty);
    let chronic = world.benes.get(bene as usize).map_or(0, |b| b.chronic);
    let mut procs = [0u16; 6];
    let mut price = 0.0;
    if rng.chance(spec.procedure_chance()) {
        let pool = spec.procedures();
        let n = if rng.chance(0.15) { 2 } else { 1 };
        let mut chosen: Vec<&'static str> = Vec::new();
        for _ in 0..n * 3 {
            if chosen.len() >= n {
                break;
            }
            let Some(&(code, cost)) = rng.pick(pool) else {
                break;
            };
            if chosen.contains(&code) || chosen.iter().any(|c| is_pair(c, code)) {
                continue;
            }
            if let Some(slot) = procs.get_mut(chosen.len()) {
                *slot = codes.id(code);
            }
            chosen.push(code);
            price += cost * rng.lognormal(1.0, 0.15);
        }
    }
    let mut dx = [0u16; 10];
    let r = rng.f64();
    let n_dx = if r < 0.3 {
        1
    } else if r < 0.55 {
        2
    } else if r < 0.75 {
        3
    } else if r < 0.85 {
        4
    } else {
        5 + rng.index(6)
    };
    let first = if rng.chance(0.5) {
        rng.pick(spec.diagnoses()).copied()
    } else {
        chronic_code(rng, chronic)
    }
    .or_else(|| rng.pick(&COMMON_DX).copied())
    .unwrap_or("4019");
    dx[0] = codes.id(first);
    fill_dx(rng, codes, &mut dx, 1, n_dx, chronic, spec.diagnoses());
    let mut amount = spec.visit_median() * rng.lognormal(1.0, 0.5) + price;
    if rng.chance(outlier_share) {
        amount *= rng.uniform(3.0, 8.0);
    }
    let operating = (procs[0] != 0 && rng.chance(0.4))
        .then(|| p.and_then(|p| rng.pick(&p.physicians).copied()))
        .flatten();
    let other = rng
        .chance(0.15)
        .then(|| p.and_then(|p| rng.pick(&p.physicians).copied()))
        .flatten();
    let end = if rng.chance(0.92) {
        day
    } else {
        day + 1 + rng.index(3) as i32
    };
    Claim {
        kind: ClaimKind::Outpatient,
        bene,
        provider,
        start: day,
        end,
        amount: round_to(amount, 10.0).max(10),
        deductible: if rng.chance(0.12) {
            round_to(rng.uniform(0.0, 200.0), 10.0)
        } else {
            0
        },
        attending,
        operating,
        other,
        admit_dx: if rng.chance(0.2) { dx[0] } else { 0 },
        drg: 0,
        dx,
        procs,
        truth: None,
    }
}

/// Picks a DRG for a beneficiary: conditions make their DRGs three times likelier.
pub(super) fn pick_drg(rng: &mut Rng, chronic: u16) -> usize {
    let table: Vec<(usize, f64)> = DRGS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let boost = d.condition.is_some_and(|c| chronic & (1 << c) != 0);
            (i, d.weight * if boost { 3.0 } else { 1.0 })
        })
        .collect();
    super::world::pick_weighted(rng, &table).unwrap_or(0)
}

/// Length of stay in days for a DRG (0 for a same-day discharge).
pub(super) fn length_of_stay(rng: &mut Rng, d: &Drg) -> i32 {
    if rng.chance(0.04) {
        0
    } else {
        1 + rng.poisson((d.los - 1.0).max(0.1)) as i32
    }
}

/// An inpatient claim for a stay from `start` to `end` (discharge day) under DRG `drg`;
/// `None` when the hospital has no physician with room for the admission.
#[allow(clippy::too_many_arguments)]
pub(super) fn inpatient(
    rng: &mut Rng,
    book: &mut Book,
    world: &World,
    bene: u32,
    hospital: u32,
    drg: usize,
    start: i32,
    end: i32,
    outlier_share: f64,
    cap: u32,
) -> Option<Claim> {
    let d = DRGS.get(drg)?;
    let h = world.providers.get(hospital as usize)?;
    let chronic = world.benes.get(bene as usize).map_or(0, |b| b.chronic);
    let fits = |p: u32, book: &Book| book.load.get(p, start) + super::INPATIENT_MINUTES <= cap;
    let matching: Vec<u32> = h
        .physicians
        .iter()
        .copied()
        .filter(|&p| {
            world
                .physicians
                .get(p as usize)
                .is_some_and(|ph| ph.specialty == d.specialty)
        })
        .collect();
    let pool = if matching.is_empty() {
        &h.physicians
    } else {
        &matching
    };
    let mut attending = None;
    for _ in 0..4 {
        let p = *rng.pick(pool)?;
        if fits(p, book) {
            attending = Some(p);
            break;
        }
    }
    let attending = attending.or_else(|| h.physicians.iter().copied().find(|&p| fits(p, book)))?;
    let operating = if d.procs.is_empty() {
        rng.chance(0.1)
            .then(|| rng.pick(&h.physicians).copied())
            .flatten()
    } else if rng.chance(0.7) {
        rng.pick(pool).copied()
    } else {
        Some(attending)
    };
    let other = rng
        .chance(0.3)
        .then(|| rng.pick(&h.physicians).copied())
        .flatten();
    let mut dx = [0u16; 10];
    let principal = rng.pick(d.dx).copied().unwrap_or("4019");
    dx[0] = book.codes.id(principal);
    let r = rng.f64();
    let n_dx = if r < 0.6 {
        10
    } else if r < 0.8 {
        9
    } else {
        5 + rng.index(4)
    };
    fill_dx(rng, &mut book.codes, &mut dx, 1, n_dx, chronic, d.dx);
    let mut procs = [0u16; 6];
    for (slot, &code) in procs.iter_mut().zip(d.procs) {
        *slot = book.codes.id(code);
    }
    if d.procs.is_empty() && rng.chance(0.25) {
        let code = rng
            .pick(&["9904", "3893", "8872", "8703"])
            .copied()
            .unwrap_or("3893");
        procs[0] = book.codes.id(code);
    }
    let admit = if rng.chance(0.7) {
        principal
    } else {
        rng.pick(&["78650", "78605", "7802", "78079", "78900", "7862"])
            .copied()
            .unwrap_or("78079")
    };
    let los = (end - start).max(0);
    let mut amount =
        d.base * rng.lognormal(1.0, 0.18) * ((f64::from(los) + 1.0) / (d.los + 1.0)).powf(0.35);
    if rng.chance(outlier_share) {
        amount *= rng.uniform(3.0, 8.0);
    }
    Some(Claim {
        kind: ClaimKind::Inpatient,
        bene,
        provider: hospital,
        start,
        end,
        amount: round_to(amount, 100.0).max(100),
        deductible: if rng.chance(0.93) { 1068 } else { 0 },
        attending,
        operating,
        other,
        admit_dx: book.codes.id(admit),
        drg: drg as u8 + 1,
        dx,
        procs,
        truth: None,
    })
}

/// Whether the beneficiary already has a claim on `day` in a state other than `state`.
fn conflict(day_states: &[(i32, u8)], day: i32, state: u8) -> bool {
    day_states.iter().any(|&(d, s)| d == day && s != state)
}

fn overlaps(stays: &[(i32, i32)], s: i32, e: i32) -> bool {
    // stays may touch (a transfer is discharged and admitted the same day) but not overlap
    stays
        .iter()
        .any(|&(s2, e2)| s < e2.max(s2 + 1) && s2 < e.max(s + 1))
}

/// Simulates the honest claims of every beneficiary.
pub(super) fn simulate(cfg: &ClaimsSimConfig, world: &World, rng: &mut Rng) -> Book {
    let years = f64::from(cfg.days) / 365.0;
    let mut book = Book {
        claims: Vec::with_capacity((cfg.expected_claims() * 1.1) as usize + 16),
        codes: Codes::new(),
        load: Load::default(),
    };
    for code in UNBUNDLING_PAIRS.iter().flat_map(|&(a, b)| [a, b]) {
        book.codes.id(code);
    }
    let mut day_states: Vec<(i32, u8)> = Vec::new();
    let mut stays: Vec<(i32, i32)> = Vec::new();
    let n_providers = world.providers.len();
    for (b, bene) in world.benes.iter().enumerate() {
        let b = b as u32;
        let f = f64::from(world.frailty.get(b as usize).copied().unwrap_or(1.0));
        day_states.clear();
        stays.clear();
        let home = usize::from(bene.state);
        let winter = bene.winter_state.map(usize::from);
        let pick_in =
            |rng: &mut Rng, s: usize| world.state_providers.get(s).and_then(|w| w.pick(rng));
        let primary = pick_in(rng, home);
        let secondary: Vec<u32> = (0..1 + rng.index(3))
            .filter_map(|_| pick_in(rng, home))
            .collect();
        let w_primary = winter.and_then(|w| pick_in(rng, w));
        let hosp = |rng: &mut Rng, s: usize| world.state_hospitals.get(s).and_then(|w| w.pick(rng));
        let home_hospital = hosp(rng, home);
        let winter_hospital = winter.and_then(|w| hosp(rng, w));

        // inpatient stays
        let n_in = rng.poisson(cfg.inpatient_per_year * f.powf(1.3) * years);
        for _ in 0..n_in {
            for _try in 0..4 {
                let s = world.start + rng.index(cfg.days as usize) as i32;
                if !world.alive(b, s) {
                    continue;
                }
                let state = world.state_on(b, s);
                let hospital = if usize::from(state) == home {
                    home_hospital
                } else {
                    winter_hospital
                };
                let Some(hospital) = hospital else { continue };
                let hstate = world
                    .providers
                    .get(hospital as usize)
                    .map_or(0, |p| p.state);
                if conflict(&day_states, s, hstate) {
                    continue;
                }
                let drg = pick_drg(rng, bene.chronic);
                let Some(d) = DRGS.get(drg) else { continue };
                let mut e = s + length_of_stay(rng, d);
                e = e.min(world.end - 1);
                if let Some(dod) = bene.dod {
                    e = e.min(dod);
                }
                if overlaps(&stays, s, e) || (s..=e).any(|x| conflict(&day_states, x, hstate)) {
                    continue;
                }
                let Some(c) = inpatient(
                    rng,
                    &mut book,
                    world,
                    b,
                    hospital,
                    drg,
                    s,
                    e,
                    cfg.outlier_share,
                    HONEST_CAP,
                ) else {
                    continue;
                };
                book.push(c);
                stays.push((s, e));
                day_states.extend((s..=e).map(|x| (x, hstate)));
                // a transfer: discharged from one hospital, admitted to another the same day
                if rng.chance(cfg.transfer_share) && e < world.end - 1 && world.alive(b, e) {
                    let other = (0..4)
                        .filter_map(|_| hosp(rng, usize::from(hstate)))
                        .find(|&h| h != hospital);
                    if let Some(h2) = other {
                        let d2 = DRGS
                            .get(drg)
                            .map_or(1, |d| 1 + rng.poisson((d.los - 1.0).max(0.5)) as i32);
                        let mut e2 = (e + d2).min(world.end - 1);
                        if let Some(dod) = bene.dod {
                            e2 = e2.min(dod);
                        }
                        let h2state = world.providers.get(h2 as usize).map_or(0, |p| p.state);
                        if !overlaps(&stays, e, e2)
                            && h2state == hstate
                            && let Some(c2) =
                                inpatient(rng, &mut book, world, b, h2, drg, e, e2, 0.0, HONEST_CAP)
                        {
                            book.push(c2);
                            stays.push((e, e2));
                            day_states.extend((e..=e2).map(|x| (x, hstate)));
                        }
                    }
                }
                break;
            }
        }

        // outpatient visits
        let n_out = rng.poisson(cfg.outpatient_per_year * f * years);
        for _ in 0..n_out {
            let mut day = world.start + rng.index(cfg.days as usize) as i32;
            let wd = weekday(day);
            if wd >= 5 && rng.chance(0.85) {
                day += if day - i32::from(wd - 4) >= world.start {
                    -i32::from(wd - 4)
                } else {
                    i32::from(7 - wd)
                };
            }
            let state = usize::from(world.state_on(b, day));
            let r = rng.f64();
            let provider = if r < cfg.out_of_state_share {
                // travelling: any provider elsewhere, on a day without other claims
                (0..3)
                    .map(|_| rng.index(n_providers) as u32)
                    .find(|&p| {
                        world
                            .providers
                            .get(p as usize)
                            .is_some_and(|pp| usize::from(pp.state) != state)
                    })
                    .filter(|_| !day_states.iter().any(|&(d, _)| d == day))
            } else if state == home {
                if r < 0.55 {
                    primary
                } else if r < 0.87 {
                    rng.pick(&secondary).copied()
                } else {
                    pick_in(rng, state)
                }
            } else if r < 0.6 {
                w_primary
            } else {
                pick_in(rng, state)
            };
            let Some(provider) = provider.or(primary) else {
                continue;
            };
            let Some(p) = world.providers.get(provider as usize) else {
                continue;
            };
            // the physician: pick one, then the next day they work
            let lead = p.physicians.len() >= 3 && rng.chance(0.4);
            let pick = if lead {
                p.physicians.first()
            } else {
                rng.pick_skewed(&p.physicians)
            };
            let Some(mut phys) = pick.copied() else {
                continue;
            };
            let days_off = |phys: u32, day: i32| {
                let mask = world
                    .physicians
                    .get(phys as usize)
                    .map_or(0x1f, |p| p.weekdays);
                (0..7)
                    .find(|k| mask & (1 << weekday(day + k)) != 0)
                    .unwrap_or(0)
            };
            day += days_off(phys, day);
            if day >= world.end || !world.alive(b, day) || conflict(&day_states, day, p.state) {
                continue;
            }
            let mut c = outpatient(
                rng,
                &mut book.codes,
                world,
                b,
                provider,
                phys,
                day,
                cfg.outlier_share,
            );
            let minutes = c.minutes();
            let mut ok = book.load.get(phys, day) + minutes <= HONEST_CAP;
            for _ in 0..4 {
                if ok {
                    break;
                }
                let Some(&alt) = rng.pick(&p.physicians) else {
                    break;
                };
                if days_off(alt, day) == 0 && book.load.get(alt, day) + minutes <= HONEST_CAP {
                    phys = alt;
                    ok = true;
                }
            }
            if !ok {
                continue;
            }
            c.attending = phys;
            let repeat = rng.chance(cfg.repeat_visit_share).then(|| c.clone());
            book.push(c);
            day_states.push((day, p.state));
            // an honest repeat visit: the same codes and amount another day
            if let Some(mut c2) = repeat {
                let day2 = day + 1 + rng.index(21) as i32;
                let len = c2.end - c2.start;
                if day2 < world.end
                    && world.alive(b, day2)
                    && days_off(phys, day2) == 0
                    && book.load.get(phys, day2) + minutes <= HONEST_CAP
                    && !conflict(&day_states, day2, p.state)
                {
                    c2.start = day2;
                    c2.end = day2 + len;
                    book.push(c2);
                    day_states.push((day2, p.state));
                }
            }
        }
    }
    book
}

/// Sorts claims by start day, kind, beneficiary, provider, end, attending and amount; returns
/// them with the new index of every old one.
pub(super) fn sort_claims(claims: Vec<Claim>) -> (Vec<Claim>, Vec<u32>) {
    let mut order: Vec<u32> = (0..claims.len() as u32).collect();
    let key = |i: u32| {
        let c = claims.get(i as usize);
        c.map(|c| {
            (
                c.start,
                c.kind,
                c.bene,
                c.provider,
                c.end,
                c.attending,
                c.amount,
            )
        })
    };
    order.sort_by_key(|&i| (key(i), i));
    let mut remap = vec![0u32; claims.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(r) = remap.get_mut(old as usize) {
            *r = new as u32;
        }
    }
    let mut slots: Vec<Option<Claim>> = claims.into_iter().map(Some).collect();
    let sorted = order
        .iter()
        .filter_map(|&i| slots.get_mut(i as usize).and_then(Option::take))
        .collect();
    (sorted, remap)
}
