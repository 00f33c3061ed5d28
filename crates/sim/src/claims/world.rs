//! The people and organisations: beneficiaries, providers, physicians, which providers are
//! fraudulent and which schemes they run.

use super::codes::{self, CHRONIC, SNOWBIRD_STATES, STATE_WEIGHT, Specialty};
use super::{Beneficiary, ClaimsSimConfig, Physician, Provider, Scheme};
use crate::rng::Rng;
use std::collections::HashSet;

/// A weighted choice among items by cumulative weights (binary search).
#[derive(Debug, Clone, Default)]
pub(super) struct Weighted {
    items: Vec<u32>,
    cum: Vec<f64>,
}

impl Weighted {
    pub(super) fn push(&mut self, item: u32, w: f64) {
        if w > 0.0 && w.is_finite() {
            let last = self.cum.last().copied().unwrap_or(0.0);
            self.items.push(item);
            self.cum.push(last + w);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn pick(&self, rng: &mut Rng) -> Option<u32> {
        let total = *self.cum.last()?;
        let x = rng.f64() * total;
        let i = self.cum.partition_point(|&c| c <= x);
        self.items.get(i.min(self.items.len() - 1)).copied()
    }
}

/// A weighted choice among a small static table.
pub(super) fn pick_weighted<T: Copy>(rng: &mut Rng, table: &[(T, f64)]) -> Option<T> {
    let total: f64 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.f64() * total;
    for &(t, w) in table {
        if x < w {
            return Some(t);
        }
        x -= w;
    }
    table.last().map(|&(t, _)| t)
}

/// A 10-digit NPI: `1` or `2` and eight digits, then the Luhn check digit computed with the
/// `80840` prefix as the NPI standard does. Unique within `used`.
pub(super) fn new_npi(rng: &mut Rng, used: &mut HashSet<u64>) -> u64 {
    loop {
        let base = 100_000_000 + (rng.f64() * 200_000_000.0) as u64; // 9 digits, 1xxxxxxxx or 2xxxxxxxx
        let mut sum = 24; // the digits of the prefix 80840, doubled as Luhn wants
        let mut n = base;
        let mut double = true;
        while n > 0 {
            let d = n % 10;
            sum += if double {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            };
            double = !double;
            n /= 10;
        }
        let npi = base * 10 + (10 - sum % 10) % 10;
        if used.insert(npi) {
            return npi;
        }
    }
}

/// Day of the week of a day since 1970-01-01 (0 = Monday).
pub(super) fn weekday(day: i32) -> u8 {
    (day + 3).rem_euclid(7) as u8
}

pub(super) struct World {
    /// First day of the period and the day after its last (days since 1970-01-01).
    pub start: i32,
    pub end: i32,
    pub benes: Vec<Beneficiary>,
    /// How much care each beneficiary needs: the mean of the multipliers is 1.
    pub frailty: Vec<f32>,
    pub providers: Vec<Provider>,
    pub physicians: Vec<Physician>,
    /// Providers (all, and hospitals only) by state code, weighted by size; a state without
    /// any borrows its nearest neighbour's.
    pub state_providers: Vec<Weighted>,
    pub state_hospitals: Vec<Weighted>,
    /// Fraudulent providers, in the order they were chosen.
    pub fraud: Vec<u32>,
    /// Rings of providers running `patient_sharing` together (same state).
    pub rings: Vec<Vec<u32>>,
    /// NPIs in use.
    pub npis: HashSet<u64>,
    /// Physician numbers in use, and the range they are drawn from.
    pub phy_numbers: HashSet<u32>,
    pub phy_range: u32,
    /// Physicians put on the exclusion list by the `excluded_provider` scheme: physician,
    /// exclusion day, statute.
    pub excluded: Vec<(u32, i32, &'static str)>,
}

impl World {
    pub(super) fn build(cfg: &ClaimsSimConfig, rng: &mut Rng) -> World {
        let start = cfg.start_day().unwrap_or(14_245) as i32;
        let end = start + cfg.days as i32;
        let mut states = Weighted::default();
        for (i, &w) in STATE_WEIGHT.iter().enumerate() {
            states.push(i as u32 + 1, w);
        }
        let mut npis = HashSet::new();

        // providers
        let mut prng = rng.fork();
        let mut providers: Vec<Provider> = (0..cfg.providers)
            .map(|_| {
                let state = states.pick(&mut prng).unwrap_or(5) as u8;
                let hospital = prng.chance(cfg.hospital_share);
                let specialty = if hospital {
                    Specialty::Hospital
                } else {
                    pick_weighted(&mut prng, &Specialty::CLINICS)
                        .unwrap_or(Specialty::InternalMedicine)
                };
                let size = prng.lognormal(1.0, 1.5) * if hospital { 3.0 } else { 1.0 };
                Provider {
                    npi: new_npi(&mut prng, &mut npis),
                    specialty,
                    state,
                    hospital,
                    size,
                    physicians: Vec::new(),
                    schemes: Vec::new(),
                }
            })
            .collect();
        if !providers.iter().any(|p| p.hospital)
            && let Some(p) = providers.first_mut()
        {
            p.hospital = true;
            p.specialty = Specialty::Hospital;
        }

        // fraudulent providers: weighted by size squared without replacement (Efraimidis-Spirakis),
        // so they tend to be larger, as in the Kaggle data
        let n_fraud =
            ((cfg.fraud_share * f64::from(cfg.providers)).round() as usize).min(providers.len());
        let mut keyed: Vec<(f64, u32)> = providers
            .iter()
            .enumerate()
            .map(|(i, p)| ((1.0 - prng.f64()).ln() / p.size.powi(2).max(1e-9), i as u32))
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let fraud: Vec<u32> = keyed.iter().take(n_fraud).map(|&(_, i)| i).collect();
        assign_schemes(cfg, &mut providers, &fraud, &mut prng);
        let rings = form_rings(&mut providers, &fraud, &mut prng);

        // physicians
        let mean_size =
            providers.iter().map(|p| p.size).sum::<f64>() / providers.len().max(1) as f64;
        let mut phy_numbers = HashSet::new();
        let expected = (cfg.physicians_per_provider * f64::from(cfg.providers) * 1.3) as u32;
        let phy_range = (8 * expected).max(600_000);
        let mut physicians = Vec::new();
        let mut frng = rng.fork();
        for (pi, p) in providers.iter_mut().enumerate() {
            let mean = cfg.physicians_per_provider * p.size / mean_size.max(1e-9);
            let n = frng.poisson(mean).clamp(1, 500);
            for _ in 0..n {
                let specialty = if p.hospital {
                    pick_weighted(&mut frng, &Specialty::HOSPITAL_STAFF)
                        .unwrap_or(Specialty::InternalMedicine)
                } else if frng.chance(0.85) {
                    p.specialty
                } else {
                    Specialty::InternalMedicine
                };
                let idx = physicians.len() as u32;
                physicians.push(new_physician(
                    &mut frng,
                    &mut npis,
                    &mut phy_numbers,
                    phy_range,
                    specialty,
                    p.state,
                    pi as u32,
                ));
                p.physicians.push(idx);
            }
            // the lead physician of a large practice sees a good part of its patients; some
            // hold one clinic day a week, which makes for long (but human) days
            if p.size > 3.0 * mean_size
                && frng.chance(0.5)
                && let Some(lead) = p
                    .physicians
                    .first()
                    .and_then(|&i| physicians.get_mut(i as usize))
            {
                lead.weekdays = 1 << frng.index(5);
            }
        }

        // beneficiaries
        let mut brng = rng.fork();
        let mut benes = Vec::with_capacity(cfg.beneficiaries as usize);
        let mut frailty = Vec::with_capacity(cfg.beneficiaries as usize);
        for _ in 0..cfg.beneficiaries {
            let state = states.pick(&mut brng).unwrap_or(5) as u8;
            let z = brng.normal();
            let mut chronic = 0u16;
            for (i, &(_, prev, _)) in CHRONIC.iter().enumerate() {
                let logit = (prev / (1.0 - prev)).ln() + 0.9 * z;
                if brng.chance(1.0 / (1.0 + (-logit).exp())) {
                    chronic |= 1 << i;
                }
            }
            let age_band = brng.f64();
            let year = if age_band < 0.80 {
                1914 + brng.index(31) as i64
            } else if age_band < 0.95 {
                1945 + brng.index(41) as i64
            } else {
                1910 + brng.index(4) as i64
            };
            let dob = ward_core::time::days_from_civil(year, 1, 1) as i32 + brng.index(365) as i32;
            let kidney = chronic & (1 << 2) != 0;
            let renal = if kidney {
                brng.chance(0.45)
            } else {
                brng.chance(0.03)
            };
            let northern = ward_core::geo::state_centroid(state).is_some_and(|(lat, _)| lat > 38.0);
            let winter_state = if northern && brng.chance(cfg.snowbird_share) {
                pick_weighted(&mut brng, &SNOWBIRD_STATES).filter(|&s| s != state)
            } else {
                None
            };
            let race = pick_weighted(
                &mut brng,
                &[(1u8, 0.84), (2, 0.10), (3, 0.03), (4, 0.01), (5, 0.02)],
            )
            .unwrap_or(1);
            let months = |r: &mut Rng| {
                if r.chance(0.97) {
                    12
                } else {
                    r.index(12) as u8
                }
            };
            frailty
                .push((0.22 * f64::from(chronic.count_ones()) + 0.35 * brng.normal()).exp() as f32);
            benes.push(Beneficiary {
                dob,
                dod: None,
                gender: if brng.chance(0.43) { 1 } else { 2 },
                race,
                renal,
                state,
                county: 10 * (1 + brng.index(usize::from(codes::counties(state))) as u16),
                months_part_a: months(&mut brng),
                months_part_b: months(&mut brng),
                chronic,
                winter_state,
            });
        }
        let mean_frailty =
            frailty.iter().map(|&f| f64::from(f)).sum::<f64>() / frailty.len().max(1) as f64;
        for f in &mut frailty {
            *f = (f64::from(*f) / mean_frailty.max(1e-9)) as f32;
        }
        // deaths during the period, likelier for the frail
        for (b, &f) in benes.iter_mut().zip(&frailty) {
            if brng.chance(cfg.deceased_share * f64::from(f).clamp(0.2, 4.0)) {
                b.dod = Some(start + brng.index(cfg.days as usize) as i32);
            }
        }

        let (state_providers, state_hospitals) = state_indexes(&providers);
        World {
            start,
            end,
            benes,
            frailty,
            providers,
            physicians,
            state_providers,
            state_hospitals,
            fraud,
            rings,
            npis,
            phy_numbers,
            phy_range,
            excluded: Vec::new(),
        }
    }

    /// Adds a physician to a provider (used by the `excluded_provider` scheme).
    pub(super) fn add_physician(&mut self, provider: u32, rng: &mut Rng) -> u32 {
        let (specialty, state) =
            self.providers
                .get(provider as usize)
                .map_or((Specialty::InternalMedicine, 5), |p| {
                    let s = if p.hospital {
                        Specialty::InternalMedicine
                    } else {
                        p.specialty
                    };
                    (s, p.state)
                });
        let ph = new_physician(
            rng,
            &mut self.npis,
            &mut self.phy_numbers,
            self.phy_range,
            specialty,
            state,
            provider,
        );
        let idx = self.physicians.len() as u32;
        self.physicians.push(Physician {
            weekdays: 0b1_1111,
            ..ph
        });
        if let Some(p) = self.providers.get_mut(provider as usize) {
            p.physicians.push(idx);
        }
        idx
    }

    /// Whether a beneficiary is alive on a day.
    pub(super) fn alive(&self, bene: u32, day: i32) -> bool {
        self.benes
            .get(bene as usize)
            .is_some_and(|b| b.dod.is_none_or(|d| day <= d))
    }

    /// The state a beneficiary lives in on a day (snowbirds winter elsewhere).
    pub(super) fn state_on(&self, bene: u32, day: i32) -> u8 {
        let Some(b) = self.benes.get(bene as usize) else {
            return 0;
        };
        match b.winter_state {
            Some(w) => {
                let (_, m, _) = ward_core::time::civil_from_days(i64::from(day));
                if m <= 3 || m == 12 { w } else { b.state }
            }
            None => b.state,
        }
    }
}

fn new_physician(
    rng: &mut Rng,
    npis: &mut HashSet<u64>,
    numbers: &mut HashSet<u32>,
    range: u32,
    specialty: Specialty,
    state: u8,
    provider: u32,
) -> Physician {
    let number = loop {
        let n = 300_000 + rng.index(range as usize) as u32;
        if numbers.insert(n) {
            break n;
        }
    };
    let r = rng.f64();
    let weekdays = if r < 0.80 {
        0b1_1111
    } else if r < 0.92 {
        // part time at this provider: two or three days a week, so those days are busy
        let mut m = 0u8;
        while m.count_ones() < 2 + rng.index(2) as u32 {
            m |= 1 << rng.index(5);
        }
        m
    } else {
        0b11_1111
    };
    Physician {
        npi: new_npi(rng, npis),
        number,
        specialty,
        state,
        provider,
        weekdays,
    }
}

/// Each fraudulent provider runs one to three schemes: first every scheme gets its minimum
/// number of providers, then the rest are drawn by weight (inpatient schemes for hospitals only).
fn assign_schemes(cfg: &ClaimsSimConfig, providers: &mut [Provider], fraud: &[u32], rng: &mut Rng) {
    let eligible =
        |p: &Provider, s: Scheme| (!s.needs_hospital() || p.hospital) && !p.schemes.contains(&s);
    let targets: Vec<usize> = fraud
        .iter()
        .map(|_| 1 + usize::from(rng.chance(0.45)) + usize::from(rng.chance(0.2)))
        .collect();
    let mut order: Vec<u32> = fraud.to_vec();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.index(i + 1));
    }
    for s in Scheme::ALL {
        if cfg.scheme_weights.get(s) <= 0.0 {
            continue;
        }
        let mut need = cfg.min_providers_per_scheme;
        // rotate so the minimum is spread over different providers
        let shift = usize::from(s as u8) % order.len().max(1);
        order.rotate_left(shift);
        for &pi in &order {
            if need == 0 {
                break;
            }
            if let Some(p) = providers.get_mut(pi as usize)
                && p.schemes.len() < 3
                && eligible(p, s)
            {
                p.schemes.push(s);
                need -= 1;
            }
        }
    }
    for (&pi, &k) in fraud.iter().zip(&targets) {
        let Some(p) = providers.get_mut(pi as usize) else {
            continue;
        };
        while p.schemes.len() < k {
            let table: Vec<(Scheme, f64)> = Scheme::ALL
                .iter()
                .filter(|&&s| eligible(p, s))
                .map(|&s| (s, cfg.scheme_weights.get(s)))
                .filter(|&(_, w)| w > 0.0)
                .collect();
            match pick_weighted(rng, &table) {
                Some(s) if !table.is_empty() => p.schemes.push(s),
                _ => break,
            }
        }
    }
}

/// Patient-sharing providers form rings of two to five in one state (the first member's): a
/// lone member recruits another fraudulent provider.
fn form_rings(providers: &mut [Provider], fraud: &[u32], rng: &mut Rng) -> Vec<Vec<u32>> {
    let has = |p: &Provider| p.schemes.contains(&Scheme::PatientSharing);
    let mut members: Vec<u32> = fraud
        .iter()
        .copied()
        .filter(|&i| providers.get(i as usize).is_some_and(has))
        .collect();
    if members.len() == 1
        && let Some(&other) = fraud.iter().find(|&&i| !members.contains(&i))
    {
        if let Some(p) = providers.get_mut(other as usize) {
            p.schemes.push(Scheme::PatientSharing);
        }
        members.push(other);
    }
    if members.len() < 2 {
        return Vec::new();
    }
    for i in (1..members.len()).rev() {
        members.swap(i, rng.index(i + 1));
    }
    let n_rings = (members.len() / 4).max(1);
    let mut rings = vec![Vec::new(); n_rings];
    for (i, m) in members.into_iter().enumerate() {
        if let Some(r) = rings.get_mut(i % n_rings) {
            r.push(m);
        }
    }
    for ring in &rings {
        let state = ring
            .first()
            .and_then(|&l| providers.get(l as usize))
            .map_or(5, |p| p.state);
        for &m in ring {
            if let Some(p) = providers.get_mut(m as usize) {
                p.state = state;
            }
        }
    }
    rings
}

/// Providers and hospitals by state, weighted by size; empty states borrow the nearest state's.
fn state_indexes(providers: &[Provider]) -> (Vec<Weighted>, Vec<Weighted>) {
    let mut all = vec![Weighted::default(); 55];
    let mut hosp = vec![Weighted::default(); 55];
    for (i, p) in providers.iter().enumerate() {
        if let Some(w) = all.get_mut(usize::from(p.state)) {
            w.push(i as u32, p.size);
        }
        if p.hospital
            && let Some(w) = hosp.get_mut(usize::from(p.state))
        {
            w.push(i as u32, p.size);
        }
    }
    let fill = |v: &mut Vec<Weighted>| {
        let filled: Vec<usize> = (1..55).filter(|&s| !v[s].is_empty()).collect();
        for s in 1..55usize {
            if !v[s].is_empty() {
                continue;
            }
            let nearest = filled.iter().copied().min_by(|&a, &b| {
                let d = |x: usize| {
                    ward_core::geo::state_distance_km(s as u8, x as u8).unwrap_or(f32::MAX)
                };
                d(a).total_cmp(&d(b)).then(a.cmp(&b))
            });
            if let Some(n) = nearest {
                v[s] = v[n].clone();
            }
        }
    };
    fill(&mut all);
    fill(&mut hosp);
    (all, hosp)
}
