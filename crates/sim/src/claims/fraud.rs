//! The twelve schemes, injected into the honest claims of the fraudulent providers, and the
//! exclusion list.

use super::care::{self, Book, FRAUD_CAP, HONEST_CAP};
use super::codes::{DRGS, Specialty};
use super::world::{World, new_npi};
use super::{
    Claim, ClaimKind, ClaimsSimConfig, Excluded, Exclusion, Scheme, Truth, UNBUNDLING_PAIRS,
};
use crate::rng::Rng;

/// `YYYY-MM-DD` of a day since 1970-01-01.
pub(super) fn fmt_day(day: i32) -> String {
    let (y, m, d) = ward_core::time::civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The price of a procedure code in any specialty's table (800 when unknown).
fn price(code: &str) -> f64 {
    Specialty::CLINICS
        .iter()
        .map(|&(s, _)| s)
        .chain([Specialty::Hospital])
        .flat_map(|s| s.procedures().iter())
        .find(|(c, _)| *c == code)
        .map_or(800.0, |&(_, p)| p)
}

struct Ctx<'a> {
    cfg: &'a ClaimsSimConfig,
    world: &'a mut World,
    book: &'a mut Book,
    rng: &'a mut Rng,
    truth: Vec<Truth>,
    /// Honest claims of each provider when injection began.
    by_provider: Vec<Vec<u32>>,
    /// Every claim of each beneficiary, kept up to date.
    by_bene: Vec<Vec<u32>>,
    benes_by_state: Vec<Vec<u32>>,
}

impl Ctx<'_> {
    fn state_of(&self, p: u32) -> u8 {
        self.world.providers.get(p as usize).map_or(0, |p| p.state)
    }

    fn volume(&self, p: u32) -> usize {
        self.by_provider.get(p as usize).map_or(0, Vec::len)
    }

    /// `intensity x volume x factor`, at least `min`.
    fn count(&self, p: u32, factor: f64, min: usize) -> usize {
        ((self.cfg.fraud_intensity * self.volume(p) as f64 * factor).round() as usize).max(min)
    }

    fn day(&mut self) -> i32 {
        self.world.start + self.rng.index((self.world.end - self.world.start) as usize) as i32
    }

    /// Alive on `day` and without a claim that day in a state other than `state`.
    fn bene_ok(&self, bene: u32, day: i32, state: u8) -> bool {
        self.world.alive(bene, day)
            && self.by_bene.get(bene as usize).is_none_or(|cs| {
                cs.iter().all(|&c| {
                    self.book
                        .claims
                        .get(c as usize)
                        .is_none_or(|c| c.start != day || self.state_of(c.provider) == state)
                })
            })
    }

    /// A physician of `p` with room for `minutes` more on `day` under `cap`.
    fn free_phys(&mut self, p: u32, day: i32, minutes: u32, cap: u32) -> Option<u32> {
        let phys = self.world.providers.get(p as usize)?.physicians.clone();
        for _ in 0..6 {
            let ph = *self.rng.pick(&phys)?;
            if self.book.load.get(ph, day) + minutes <= cap {
                return Some(ph);
            }
        }
        phys.into_iter()
            .find(|&ph| self.book.load.get(ph, day) + minutes <= cap)
    }

    /// The provider's distinct patients.
    fn patients(&self, p: u32) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .by_provider
            .get(p as usize)
            .into_iter()
            .flatten()
            .filter_map(|&c| self.book.claims.get(c as usize).map(|c| c.bene))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// A beneficiary of the state (any, when the state has none).
    fn bene_in(&mut self, state: u8) -> Option<u32> {
        match self.benes_by_state.get(usize::from(state)) {
            Some(v) if !v.is_empty() => self.rng.pick(v).copied(),
            _ => {
                let n = self.world.benes.len();
                (n > 0).then(|| self.rng.index(n) as u32)
            }
        }
    }

    fn honest(&self, c: u32) -> bool {
        self.book
            .claims
            .get(c as usize)
            .is_some_and(|c| c.truth.is_none())
    }

    /// Marks an existing claim as fraudulent.
    fn mark(&mut self, c: u32, scheme: Scheme, detail: String, related: Option<u32>) {
        let t = self.truth.len() as u32;
        let Some(claim) = self.book.claims.get_mut(c as usize) else {
            return;
        };
        claim.truth = Some(t);
        self.truth.push(Truth {
            scheme,
            provider: claim.provider,
            bene: claim.bene,
            claim: Some(c),
            related,
            detail,
        });
    }

    /// Adds a fraudulent claim.
    fn add(&mut self, c: Claim, scheme: Scheme, detail: String, related: Option<u32>) -> u32 {
        let bene = c.bene;
        let i = self.book.push(c);
        if let Some(v) = self.by_bene.get_mut(bene as usize) {
            v.push(i);
        }
        self.mark(i, scheme, detail, related);
        i
    }

    /// An outpatient claim at `p` for `bene` on `day` by a physician with room under `cap`.
    fn visit(&mut self, p: u32, bene: u32, day: i32, cap: u32) -> Option<Claim> {
        let ph = self.free_phys(p, day, 75, cap)?;
        let c = care::outpatient(
            self.rng,
            &mut self.book.codes,
            self.world,
            bene,
            p,
            ph,
            day,
            0.0,
        );
        Some(c)
    }

    fn shuffled_honest(&mut self, p: u32, keep: impl Fn(&Claim) -> bool) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .by_provider
            .get(p as usize)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&c| {
                self.book
                    .claims
                    .get(c as usize)
                    .is_some_and(|c| c.truth.is_none() && keep(c))
            })
            .collect();
        for i in (1..v.len()).rev() {
            v.swap(i, self.rng.index(i + 1));
        }
        v
    }
}

/// Runs every fraudulent provider's schemes, then the patient-sharing rings.
pub(super) fn inject(
    cfg: &ClaimsSimConfig,
    world: &mut World,
    book: &mut Book,
    rng: &mut Rng,
) -> Vec<Truth> {
    let mut by_provider = vec![Vec::new(); world.providers.len()];
    let mut by_bene = vec![Vec::new(); world.benes.len()];
    for (i, c) in book.claims.iter().enumerate() {
        if let Some(v) = by_provider.get_mut(c.provider as usize) {
            v.push(i as u32);
        }
        if let Some(v) = by_bene.get_mut(c.bene as usize) {
            v.push(i as u32);
        }
    }
    let mut benes_by_state = vec![Vec::new(); 55];
    for (i, b) in world.benes.iter().enumerate() {
        if let Some(v) = benes_by_state.get_mut(usize::from(b.state)) {
            v.push(i as u32);
        }
    }
    let fraud = world.fraud.clone();
    let rings = world.rings.clone();
    let mut cx = Ctx {
        cfg,
        world,
        book,
        rng,
        truth: Vec::new(),
        by_provider,
        by_bene,
        benes_by_state,
    };
    for &p in &fraud {
        let schemes = cx
            .world
            .providers
            .get(p as usize)
            .map(|p| p.schemes.clone())
            .unwrap_or_default();
        for s in schemes {
            if s == Scheme::PatientSharing {
                continue;
            }
            let before = cx.truth.len();
            run(&mut cx, p, s);
            if cx.truth.len() == before && s != Scheme::PhantomBilling {
                // nothing to work on (no stays, no deceased patients): bill phantoms instead
                run(&mut cx, p, Scheme::PhantomBilling);
            }
        }
    }
    for ring in &rings {
        patient_sharing(&mut cx, ring);
    }
    cx.truth
}

fn run(cx: &mut Ctx, p: u32, s: Scheme) {
    match s {
        Scheme::PhantomBilling => phantom(cx, p),
        Scheme::Upcoding => upcoding(cx, p),
        Scheme::Unbundling => unbundling(cx, p),
        Scheme::ExcludedProvider => excluded(cx, p),
        Scheme::AfterDeath => after_death(cx, p),
        Scheme::OverlappingStay => overlapping(cx, p),
        Scheme::DuplicateClaim => duplicate(cx, p),
        Scheme::ImpossibleDay => impossible(cx, p),
        Scheme::Overbilling => overbilling(cx, p),
        Scheme::IdentityDistance => identity_distance(cx, p),
        Scheme::IdentityBurst => identity_burst(cx, p),
        Scheme::PatientSharing => {}
    }
}

/// Visits that never took place: for the provider's own patients and for people of its state
/// it never saw (Medicare Fraud Strike Force cases; NHCAA "billing for services not rendered").
fn phantom(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 1.0, 3);
    let state = cx.state_of(p);
    let patients = cx.patients(p);
    for _ in 0..n {
        let bene = if !patients.is_empty() && cx.rng.chance(0.5) {
            cx.rng.pick(&patients).copied()
        } else {
            cx.bene_in(state)
        };
        let Some(bene) = bene else { continue };
        for _ in 0..5 {
            let day = cx.day();
            if !cx.bene_ok(bene, day, state) {
                continue;
            }
            if let Some(c) = cx.visit(p, bene, day, FRAUD_CAP) {
                cx.add(
                    c,
                    Scheme::PhantomBilling,
                    "visit billed that never took place".into(),
                    None,
                );
                break;
            }
        }
    }
}

/// Stays billed under the most severe DRG of their family, with a complication code added
/// (OIG reports on DRG upcoding).
fn upcoding(cx: &mut Ctx, p: u32) {
    let cands = cx.shuffled_honest(p, |c| {
        c.kind == ClaimKind::Inpatient
            && usize::from(c.drg)
                .checked_sub(1)
                .and_then(|i| DRGS.get(i))
                .is_some_and(|d| d.upcode.is_some())
    });
    let n = ((cx.cfg.fraud_intensity * 4.0 * cands.len() as f64).ceil() as usize).max(3);
    const MCC: [&str; 5] = ["51881", "5849", "99592", "42831", "4275"];
    for c in cands.into_iter().take(n) {
        let Some(claim) = cx.book.claims.get(c as usize) else {
            continue;
        };
        let Some(from) = usize::from(claim.drg)
            .checked_sub(1)
            .and_then(|i| DRGS.get(i))
        else {
            continue;
        };
        let Some((up_i, up)) = from
            .upcode
            .and_then(|u| DRGS.iter().enumerate().find(|(_, d)| d.code == u))
        else {
            continue;
        };
        let factor = up.base / from.base * cx.rng.uniform(1.0, 1.1);
        let mcc = cx
            .book
            .codes
            .id(cx.rng.pick(&MCC).copied().unwrap_or("51881"));
        let detail = format!(
            "stay of DRG {} billed as DRG {} with an added complication code",
            from.code, up.code
        );
        if let Some(claim) = cx.book.claims.get_mut(c as usize) {
            claim.drg = up_i as u8 + 1;
            claim.amount = ((f64::from(claim.amount) * factor / 100.0).round() * 100.0) as u32;
            if !claim.dx.contains(&mcc) {
                let slot = claim.dx.iter().position(|&d| d == 0).unwrap_or(9);
                if let Some(d) = claim.dx.get_mut(slot) {
                    *d = mcc;
                }
            }
        }
        cx.mark(c, Scheme::Upcoding, detail, None);
    }
}

/// A procedure billed with one of its own components (NCCI edits; OIG "unbundling").
fn unbundling(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 1.0, 3);
    let mut done = 0;
    // first the provider's own claims that carry a comprehensive code
    let pair_of = |cx: &Ctx, c: &Claim| -> Option<(&'static str, &'static str)> {
        let codes: Vec<&str> = c
            .procs
            .iter()
            .filter(|&&x| x != 0)
            .filter_map(|&x| cx.book.codes.list.get(usize::from(x)).copied())
            .collect();
        UNBUNDLING_PAIRS
            .iter()
            .copied()
            .find(|(a, b)| codes.contains(a) && !codes.contains(b))
    };
    let cands = cx.shuffled_honest(p, |c| c.procs.iter().any(|&x| x != 0) && c.procs[5] == 0);
    for c in cands {
        if done >= n {
            break;
        }
        let Some(claim) = cx.book.claims.get(c as usize) else {
            continue;
        };
        let Some((a, b)) = pair_of(cx, claim) else {
            continue;
        };
        let (ph, day) = (claim.attending, claim.start);
        if cx.book.load.get(ph, day) + super::MINUTES_PER_PROCEDURE > FRAUD_CAP {
            continue;
        }
        let bid = cx.book.codes.id(b);
        let extra = price(b) * cx.rng.lognormal(1.0, 0.1);
        if let Some(claim) = cx.book.claims.get_mut(c as usize)
            && let Some(slot) = claim.procs.iter().position(|&x| x == 0)
        {
            claim.procs[slot] = bid;
            claim.amount += ((extra / 10.0).round() * 10.0) as u32;
            if claim.kind == ClaimKind::Outpatient {
                cx.book.load.add(ph, day, super::MINUTES_PER_PROCEDURE);
            }
        }
        cx.mark(
            c,
            Scheme::Unbundling,
            format!("procedure {b} billed on the same claim as {a} which includes it"),
            None,
        );
        done += 1;
    }
    // then new visits billing a pair that fits the provider's specialty
    let state = cx.state_of(p);
    let patients = cx.patients(p);
    let mut tries = 0;
    while done < n && tries < n * 5 {
        tries += 1;
        let Some(bene) = cx
            .rng
            .pick(&patients)
            .copied()
            .or_else(|| cx.bene_in(state))
        else {
            break;
        };
        let day = cx.day();
        if !cx.bene_ok(bene, day, state) {
            continue;
        }
        let Some(mut c) = cx.visit(p, bene, day, FRAUD_CAP - 60) else {
            continue;
        };
        let spec = cx
            .world
            .physicians
            .get(c.attending as usize)
            .map_or(Specialty::InternalMedicine, |ph| ph.specialty);
        let fitting: Vec<(&str, &str)> = UNBUNDLING_PAIRS
            .iter()
            .copied()
            .filter(|(a, _)| spec.procedures().iter().any(|(x, _)| x == a))
            .collect();
        let Some(&(a, b)) = cx.rng.pick(if fitting.is_empty() {
            UNBUNDLING_PAIRS
        } else {
            &fitting
        }) else {
            break;
        };
        c.procs = [cx.book.codes.id(a), cx.book.codes.id(b), 0, 0, 0, 0];
        let amount = spec.visit_median() * cx.rng.lognormal(1.0, 0.3) + price(a) + price(b);
        c.amount = ((amount / 10.0).round() * 10.0) as u32;
        cx.add(
            c,
            Scheme::Unbundling,
            format!("procedure {b} billed on the same claim as {a} which includes it"),
            None,
        );
        done += 1;
    }
}

/// Claims of a physician on the federal exclusion list (LEIE) since before the service dates.
fn excluded(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 1.0, 5);
    let ph = cx.world.add_physician(p, cx.rng);
    let excl_day = cx.world.start - 60 - cx.rng.index(1500) as i32;
    let statute = cx
        .rng
        .pick(&["1128a1", "1128a3", "1128b4", "1128b7"])
        .copied()
        .unwrap_or("1128a1");
    cx.world.excluded.push((ph, excl_day, statute));
    let detail = format!(
        "attending physician on the exclusion list since {}",
        fmt_day(excl_day)
    );
    let cands = cx.shuffled_honest(p, |c| c.kind == ClaimKind::Outpatient);
    let mut done = 0;
    for c in cands {
        if done >= n {
            break;
        }
        let Some(claim) = cx.book.claims.get(c as usize) else {
            continue;
        };
        let (old, day, m) = (claim.attending, claim.start, claim.minutes());
        if cx.book.load.get(ph, day) + m > HONEST_CAP {
            continue;
        }
        cx.book.load.sub(old, day, m);
        cx.book.load.add(ph, day, m);
        if let Some(claim) = cx.book.claims.get_mut(c as usize) {
            claim.attending = ph;
            if claim.operating == Some(old) {
                claim.operating = Some(ph);
            }
        }
        cx.mark(c, Scheme::ExcludedProvider, detail.clone(), None);
        done += 1;
    }
}

/// Services dated after the beneficiary's death (OIG reports on payments for deceased
/// beneficiaries).
fn after_death(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 0.3, 2);
    let state = cx.state_of(p);
    let end = cx.world.end;
    let dead = |cx: &Ctx, b: u32| {
        cx.world
            .benes
            .get(b as usize)
            .and_then(|b| b.dod)
            .is_some_and(|d| d < end - 2)
    };
    let mut pool: Vec<u32> = cx
        .patients(p)
        .into_iter()
        .filter(|&b| dead(cx, b))
        .collect();
    if pool.len() < n {
        let more: Vec<u32> = cx
            .benes_by_state
            .get(usize::from(state))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&b| dead(cx, b))
            .collect();
        pool.extend(more);
    }
    if pool.is_empty() {
        pool = (0..cx.world.benes.len() as u32)
            .filter(|&b| dead(cx, b))
            .collect();
    }
    if pool.is_empty() {
        return;
    }
    let hospital = cx
        .world
        .providers
        .get(p as usize)
        .is_some_and(|p| p.hospital);
    for _ in 0..n {
        let Some(bene) = cx.rng.pick(&pool).copied() else {
            break;
        };
        let Some(dod) = cx.world.benes.get(bene as usize).and_then(|b| b.dod) else {
            continue;
        };
        let room = (end - 1 - dod).clamp(1, 90);
        let day = dod + 1 + cx.rng.index(room as usize) as i32;
        if day >= end {
            continue;
        }
        let claim = if hospital && cx.rng.chance(0.2) {
            let chronic = cx.world.benes.get(bene as usize).map_or(0, |b| b.chronic);
            let drg = care::pick_drg(cx.rng, chronic);
            let e = (day + 1 + cx.rng.index(4) as i32).min(end - 1);
            care::inpatient(
                cx.rng, cx.book, cx.world, bene, p, drg, day, e, 0.0, FRAUD_CAP,
            )
        } else {
            cx.visit(p, bene, day, FRAUD_CAP)
        };
        if let Some(c) = claim {
            let detail = format!("service {} days after the beneficiary's death", day - dod);
            cx.add(c, Scheme::AfterDeath, detail, None);
        }
    }
}

/// An inpatient stay that overlaps another hospital's stay for the same beneficiary.
fn overlapping(cx: &mut Ctx, p: u32) {
    let state = cx.state_of(p);
    let n_in = cx.by_provider.get(p as usize).map_or(0, |v| {
        v.iter()
            .filter(|&&c| {
                cx.book
                    .claims
                    .get(c as usize)
                    .is_some_and(|c| c.kind == ClaimKind::Inpatient)
            })
            .count()
    });
    let n = ((cx.cfg.fraud_intensity * 2.0 * n_in as f64).round() as usize).max(2);
    let mut cands: Vec<u32> = (0..cx.book.claims.len() as u32)
        .filter(|&c| {
            cx.honest(c)
                && cx.book.claims.get(c as usize).is_some_and(|c| {
                    c.kind == ClaimKind::Inpatient
                        && c.provider != p
                        && c.end - c.start >= 2
                        && cx.state_of(c.provider) == state
                })
        })
        .collect();
    for i in (1..cands.len()).rev() {
        cands.swap(i, cx.rng.index(i + 1));
    }
    let mut done = 0;
    for c0 in cands {
        if done >= n {
            break;
        }
        let Some(other) = cx.book.claims.get(c0 as usize) else {
            continue;
        };
        let (bene, s0, e0) = (other.bene, other.start, other.end);
        let s = s0 + 1 + cx.rng.index((e0 - s0 - 1).max(1) as usize) as i32;
        if !cx.world.alive(bene, s) {
            continue;
        }
        let chronic = cx.world.benes.get(bene as usize).map_or(0, |b| b.chronic);
        let drg = care::pick_drg(cx.rng, chronic);
        let los = DRGS
            .get(drg)
            .map_or(2, |d| care::length_of_stay(cx.rng, d).max(1));
        let mut e = (s + los).min(cx.world.end - 1);
        if let Some(dod) = cx.world.benes.get(bene as usize).and_then(|b| b.dod) {
            e = e.min(dod);
        }
        let Some(c) = care::inpatient(
            cx.rng, cx.book, cx.world, bene, p, drg, s, e, 0.0, FRAUD_CAP,
        ) else {
            continue;
        };
        let detail = format!(
            "stay overlaps another hospital's stay from {} to {}",
            fmt_day(s0),
            fmt_day(e0)
        );
        cx.add(c, Scheme::OverlappingStay, detail, Some(c0));
        done += 1;
    }
}

/// The same claim submitted twice.
fn duplicate(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 1.0, 3);
    let cands = cx.shuffled_honest(p, |_| true);
    for c0 in cands.into_iter().take(n) {
        let Some(orig) = cx.book.claims.get(c0 as usize) else {
            continue;
        };
        if cx.book.load.get(orig.attending, orig.start) + orig.minutes() > FRAUD_CAP {
            continue;
        }
        let copy = Claim {
            truth: None,
            ..orig.clone()
        };
        cx.add(
            copy,
            Scheme::DuplicateClaim,
            "second submission of the same claim".into(),
            Some(c0),
        );
    }
}

/// One physician billing more than 24 hours of services in a day (OIG "impossible days").
fn impossible(cx: &mut Ctx, p: u32) {
    let Some(phys_list) = cx
        .world
        .providers
        .get(p as usize)
        .map(|p| p.physicians.clone())
    else {
        return;
    };
    // the provider's busiest physician
    let mut counts = vec![0usize; phys_list.len()];
    for &c in cx.by_provider.get(p as usize).into_iter().flatten() {
        if let Some(claim) = cx.book.claims.get(c as usize)
            && let Some(i) = phys_list.iter().position(|&ph| ph == claim.attending)
        {
            counts[i] += 1;
        }
    }
    let Some(ph) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))
        .and_then(|(i, _)| phys_list.get(i).copied())
    else {
        return;
    };
    let spec = cx
        .world
        .physicians
        .get(ph as usize)
        .map_or(Specialty::InternalMedicine, |x| x.specialty);
    let days = ((cx.cfg.fraud_intensity * cx.volume(p) as f64 / 30.0).round() as usize).clamp(1, 5);
    let state = cx.state_of(p);
    let patients = cx.patients(p);
    for _ in 0..days {
        let day = cx.day();
        let target = 24 * 60 + 60 + cx.rng.index(480) as u32;
        let first = cx.truth.len();
        let mut guard = 0;
        while cx.book.load.get(ph, day) < target && guard < 300 {
            guard += 1;
            let bene = if !patients.is_empty() && cx.rng.chance(0.7) {
                cx.rng.pick(&patients).copied()
            } else {
                cx.bene_in(state)
            };
            let Some(bene) = bene else { break };
            if !cx.bene_ok(bene, day, state) {
                continue;
            }
            let mut c =
                care::outpatient(cx.rng, &mut cx.book.codes, cx.world, bene, p, ph, day, 0.0);
            let pool = spec.procedures();
            let k = 1 + cx.rng.index(3);
            let mut procs = [0u16; 6];
            let mut chosen: Vec<&str> = Vec::new();
            let mut amount = spec.visit_median();
            for _ in 0..k * 3 {
                if chosen.len() >= k {
                    break;
                }
                let Some(&(code, cost)) = cx.rng.pick(pool) else {
                    break;
                };
                if chosen.contains(&code) || chosen.iter().any(|x| care::is_pair(x, code)) {
                    continue;
                }
                procs[chosen.len()] = cx.book.codes.id(code);
                chosen.push(code);
                amount += cost;
            }
            c.procs = procs;
            c.amount = ((amount * cx.rng.lognormal(1.0, 0.2) / 10.0).round() * 10.0) as u32;
            c.end = day;
            cx.add(c, Scheme::ImpossibleDay, String::new(), None);
        }
        let hours = f64::from(cx.book.load.get(ph, day)) / 60.0;
        for t in cx.truth.iter_mut().skip(first) {
            t.detail =
                format!("attending physician billed {hours:.1} hours of services on this day");
        }
    }
}

/// Amounts several times the peers' for the same codes.
fn overbilling(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 1.0, 3);
    let cands = cx.shuffled_honest(p, |_| true);
    for c in cands.into_iter().take(n) {
        let factor = cx.rng.uniform(3.0, 6.0);
        let step = if cx
            .book
            .claims
            .get(c as usize)
            .is_some_and(|c| c.kind == ClaimKind::Inpatient)
        {
            100.0
        } else {
            10.0
        };
        if let Some(claim) = cx.book.claims.get_mut(c as usize) {
            claim.amount = ((f64::from(claim.amount) * factor / step).round() * step) as u32;
        }
        cx.mark(
            c,
            Scheme::Overbilling,
            format!("billed {factor:.1} times the usual amount for the same codes"),
            None,
        );
    }
}

/// Medical identity theft: a beneficiary billed the same day by this provider and by a real
/// provider in a far-away state.
fn identity_distance(cx: &mut Ctx, p: u32) {
    let n = cx.count(p, 0.2, 2);
    let state = cx.state_of(p);
    let nb = cx.world.benes.len();
    for _ in 0..n {
        for _ in 0..60 {
            let bene = cx.rng.index(nb) as u32;
            let Some(claims) = cx.by_bene.get(bene as usize) else {
                continue;
            };
            let Some(&c0) = cx.rng.pick(claims) else {
                continue;
            };
            if !cx.honest(c0) {
                continue;
            }
            let Some(orig) = cx.book.claims.get(c0 as usize) else {
                continue;
            };
            let day = orig.start;
            let Some(km) = ward_core::geo::state_distance_km(state, cx.state_of(orig.provider))
            else {
                continue;
            };
            if km < 1500.0 || !cx.world.alive(bene, day) {
                continue;
            }
            if let Some(c) = cx.visit(p, bene, day, FRAUD_CAP) {
                let detail = format!("same day as a claim {:.0} km away", km);
                cx.add(c, Scheme::IdentityDistance, detail, Some(c0));
                break;
            }
        }
    }
}

/// Medical identity theft: many providers new to a beneficiary bill it within two weeks.
fn identity_burst(cx: &mut Ctx, p: u32) {
    let events = cx.count(p, 0.04, 1);
    let state = cx.state_of(p);
    let mut partners: Vec<u32> = cx.world.fraud.iter().copied().filter(|&q| q != p).collect();
    let dist = |cx: &Ctx, q: u32| {
        ward_core::geo::state_distance_km(state, cx.state_of(q)).unwrap_or(f32::MAX)
    };
    partners.sort_by(|&a, &b| dist(cx, a).total_cmp(&dist(cx, b)).then(a.cmp(&b)));
    for _ in 0..events {
        let k = 5 + cx.rng.index(4);
        let group: Vec<u32> = std::iter::once(p)
            .chain(partners.iter().copied().take(k - 1))
            .collect();
        let Some(bene) = cx.bene_in(state) else {
            return;
        };
        let span = 14.min(cx.world.end - cx.world.start);
        let d0 = cx.world.start
            + cx.rng
                .index((cx.world.end - cx.world.start - span + 1).max(1) as usize)
                as i32;
        let mut days: Vec<i32> = (d0..d0 + span).collect();
        for i in (1..days.len()).rev() {
            days.swap(i, cx.rng.index(i + 1));
        }
        let seen: Vec<u32> = cx
            .by_bene
            .get(bene as usize)
            .into_iter()
            .flatten()
            .filter_map(|&c| cx.book.claims.get(c as usize).map(|c| c.provider))
            .collect();
        let detail = format!(
            "one of {} new providers billing this beneficiary within 14 days",
            group.len()
        );
        for (&q, &day) in group.iter().zip(&days) {
            if seen.contains(&q) || !cx.bene_ok(bene, day, cx.state_of(q)) {
                continue;
            }
            if let Some(c) = cx.visit(q, bene, day, FRAUD_CAP) {
                cx.add(c, Scheme::IdentityBurst, detail.clone(), None);
            }
        }
    }
}

/// A ring of providers billing the same recruited beneficiaries (kickback schemes; the
/// "patient sharing" networks of the fraud-detection literature).
fn patient_sharing(cx: &mut Ctx, ring: &[u32]) {
    let Some(&leader) = ring.first() else { return };
    let state = cx.state_of(leader);
    let avg = ring.iter().map(|&q| cx.volume(q)).sum::<usize>() as f64 / ring.len().max(1) as f64;
    let size = ((cx.cfg.fraud_intensity * avg * 0.6).round() as usize).clamp(8, 400);
    let mut pool = Vec::new();
    for _ in 0..size * 3 {
        if pool.len() >= size {
            break;
        }
        if let Some(b) = cx.bene_in(state)
            && !pool.contains(&b)
            && cx.world.alive(b, cx.world.start + 30)
        {
            pool.push(b);
        }
    }
    let detail = format!("beneficiary shared by a ring of {} providers", ring.len());
    for &q in ring {
        for &bene in &pool {
            if !cx.rng.chance(0.75) {
                continue;
            }
            for _ in 0..1 + cx.rng.index(2) {
                let day = cx.day();
                if !cx.bene_ok(bene, day, cx.state_of(q)) {
                    continue;
                }
                if let Some(c) = cx.visit(q, bene, day, FRAUD_CAP) {
                    cx.add(c, Scheme::PatientSharing, detail.clone(), None);
                }
            }
        }
    }
}

/// The exclusion list: the scheme's physicians, honest physicians reinstated before the period
/// or excluded only after it, and many people and businesses that never appear in the claims.
pub(super) fn exclusions(
    cfg: &ClaimsSimConfig,
    world: &mut World,
    rng: &mut Rng,
) -> Vec<Exclusion> {
    const TYPES: [(&str, f64); 6] = [
        ("1128a1", 0.3),
        ("1128a2", 0.1),
        ("1128a3", 0.08),
        ("1128b4", 0.4),
        ("1128b7", 0.07),
        ("1128b14", 0.05),
    ];
    let dob = |rng: &mut Rng| {
        ward_core::time::days_from_civil(1935 + rng.index(45) as i64, 1, 1) as i32
            + rng.index(365) as i32
    };
    let spec_of = |world: &World, ph: u32| {
        world
            .physicians
            .get(ph as usize)
            .map_or("", |p| p.specialty.leie())
    };
    let mut rows = Vec::new();
    for &(ph, day, statute) in &world.excluded {
        rows.push(Exclusion {
            number: 0,
            who: Excluded::Physician(ph),
            specialty: spec_of(world, ph),
            state: world.physicians.get(ph as usize).map_or(0, |p| p.state),
            dob: Some(dob(rng)),
            excl_type: statute,
            excl_day: day,
            rein_day: None,
        });
    }
    let honest: Vec<u32> = (0..world.physicians.len() as u32)
        .filter(|&ph| {
            world
                .physicians
                .get(ph as usize)
                .and_then(|x| world.providers.get(x.provider as usize))
                .is_some_and(|p| p.schemes.is_empty())
        })
        .collect();
    let n = (cfg.reinstated_share * honest.len() as f64).round() as usize;
    for k in 0..2 * n {
        let Some(&ph) = rng.pick(&honest) else { break };
        if rows
            .iter()
            .any(|r: &Exclusion| r.who == Excluded::Physician(ph))
        {
            continue;
        }
        let (excl_day, rein_day) = if k % 2 == 0 {
            // excluded years ago, reinstated before the period: their claims are legitimate
            let rein = world.start - 30 - rng.index(1000) as i32;
            (rein - 365 - rng.index(2000) as i32, Some(rein))
        } else {
            // excluded only after the period ends: every claim predates it
            (world.end + 30 + rng.index(365) as i32, None)
        };
        rows.push(Exclusion {
            number: 0,
            who: Excluded::Physician(ph),
            specialty: spec_of(world, ph),
            state: world.physicians.get(ph as usize).map_or(0, |p| p.state),
            dob: Some(dob(rng)),
            excl_type: super::world::pick_weighted(rng, &TYPES).unwrap_or("1128b4"),
            excl_day,
            rein_day,
        });
    }
    let specs: Vec<&'static str> = Specialty::CLINICS.iter().map(|(s, _)| s.leie()).collect();
    for _ in 0..cfg.excluded_others {
        let business = rng.chance(0.15);
        let npi = rng.chance(0.35).then(|| new_npi(rng, &mut world.npis));
        let excl_day = world.start - rng.index(7000) as i32 + rng.index(400) as i32;
        let rein_day = rng
            .chance(0.05)
            .then(|| excl_day + 365 + rng.index(2000) as i32);
        let state = 1 + rng.index(53) as u8;
        rows.push(Exclusion {
            number: 0,
            who: Excluded::Other { business, npi },
            specialty: if business {
                rng.pick(&[
                    "HOME HEALTH AGENCY",
                    "PHARMACY",
                    "DME COMPANY",
                    "AMBULANCE CO",
                ])
                .copied()
                .unwrap_or("PHARMACY")
            } else {
                rng.pick(&specs).copied().unwrap_or("")
            },
            state: if state == 40 || state == 48 {
                33
            } else {
                state
            },
            dob: (!business).then(|| dob(rng)),
            excl_type: super::world::pick_weighted(rng, &TYPES).unwrap_or("1128b4"),
            excl_day,
            rein_day,
        });
    }
    rows.sort_by_key(|r| {
        let who = match r.who {
            Excluded::Physician(p) => (0u8, u64::from(p)),
            Excluded::Other { npi, .. } => (1, npi.unwrap_or(0)),
        };
        (r.excl_day, who)
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.number = i as u32 + 1;
    }
    rows
}
