//! The claim rules and identity-theft signals: one streaming pass over the claims, with state
//! per beneficiary (a bounded buffer of recent claims and the providers it has seen), per
//! physician-day over a moving horizon of days, per provider and per pair of providers that
//! saw one beneficiary on one day, so that memory grows with beneficiaries, physicians and
//! providers, not with claims. Findings are handed out as they are made
//! ([`Engine::take_findings`]); a few per provider and rule are kept for its explanation.

use crate::date::{self, Day};
use crate::load::{Bene, Claim, Entry, Exclusion, Ids, Kind};
use foldhash::{HashMap, HashMapExt};
use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hash, Hasher};

/// The rules' settings. Defaults in brackets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// Minutes of the attending physician's time an outpatient claim stands for. [15]
    pub outpatient_minutes: u32,
    /// Minutes each procedure code on an outpatient claim adds. [30]
    pub procedure_minutes: u32,
    /// Minutes of the attending physician's time an inpatient claim stands for on its first
    /// day. [30]
    pub inpatient_minutes: u32,
    /// A physician billing more than this many minutes in one day is flagged. [1440]
    pub day_minutes: u32,
    /// Procedure-code pairs that must not be billed together on one claim (the first is
    /// the comprehensive code, the second its component). [a stand-in list; see
    /// `default_unbundling`]
    pub unbundling: Vec<(String, String)>,
    /// A provider whose mean reimbursement for a code is this many times the peer median is
    /// flagged. [3.0]
    pub overbilling_ratio: f32,
    /// Peer claims a code needs before its median counts. [30]
    pub min_peer_claims: u32,
    /// A provider's claims of a code before its mean counts. [3]
    pub min_provider_claims: u32,
    /// Two providers seeing one beneficiary on the same day at least this far apart (state
    /// centroids) is an identity-theft signal. [800]
    pub far_km: f32,
    /// New providers for one beneficiary within `burst_days` that make a burst. [5]
    pub burst_providers: u32,
    /// The burst window in days. [30]
    pub burst_days: i32,
    /// Claims remembered per beneficiary for duplicates, overlapping stays and same-day
    /// visits (the earliest are forgotten first). [48]
    pub bene_memory: usize,
    /// Providers remembered per beneficiary, with the day each was first seen, for bursts.
    /// [32]
    pub bene_providers: usize,
    /// The moving horizon, in days behind the latest day of service seen: a day this far
    /// behind is closed (its impossible-day check made, its claims counted into the
    /// providers' busy days) and a remembered claim that ended this far behind is forgotten.
    /// A claim for a closed day is counted as late and left out of the day totals. Claims
    /// spanning less than the horizon are checked exactly in any order; longer inputs need
    /// roughly date-ordered files (files are read side by side by day). Held within 1 to
    /// 100,000. [450]
    pub day_horizon: i32,
    /// Findings kept per provider and rule to explain it (counts stay exact). [5]
    pub examples: usize,
}

/// The stand-in unbundling list: ICD-9-CM procedure codes `(comprehensive, component)` where
/// the second is part of the first (the same list as the simulator's; a real deployment loads
/// the payer's edit list instead).
pub fn default_unbundling() -> Vec<(String, String)> {
    [
        ("8154", "8026"),
        ("8154", "806"),
        ("8154", "8086"),
        ("8151", "7785"),
        ("3723", "3721"),
        ("3723", "3722"),
        ("4523", "4524"),
        ("4516", "4513"),
        ("4443", "4513"),
        ("5123", "5421"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
    .collect()
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            outpatient_minutes: 15,
            procedure_minutes: 30,
            inpatient_minutes: 30,
            day_minutes: 1440,
            unbundling: default_unbundling(),
            overbilling_ratio: 3.0,
            min_peer_claims: 30,
            min_provider_claims: 3,
            far_km: 800.0,
            burst_providers: 5,
            burst_days: 30,
            bene_memory: 48,
            bene_providers: 32,
            day_horizon: 450,
            examples: 5,
        }
    }
}

/// The rules and signals, in the order of a provider's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Billing by or through an excluded provider or physician after the exclusion.
    ExcludedProvider,
    /// Service after the beneficiary's death.
    AfterDeath,
    /// Two inpatient stays of one beneficiary overlap.
    OverlappingStay,
    /// The same service billed twice under two claim ids.
    DuplicateClaim,
    /// A physician billed more hours in a day than it has.
    ImpossibleDay,
    /// A comprehensive code billed with its component on one claim.
    Unbundling,
    /// Reimbursement far above peers for the same code.
    Overbilling,
    /// One beneficiary seen the same day by providers far apart.
    IdentityDistance,
    /// A burst of new providers for one beneficiary.
    IdentityBurst,
}

/// Every rule, in order.
pub const RULES: [Rule; 9] = [
    Rule::ExcludedProvider,
    Rule::AfterDeath,
    Rule::OverlappingStay,
    Rule::DuplicateClaim,
    Rule::ImpossibleDay,
    Rule::Unbundling,
    Rule::Overbilling,
    Rule::IdentityDistance,
    Rule::IdentityBurst,
];

impl Rule {
    /// The rule's code (`excluded_provider`).
    pub fn code(self) -> &'static str {
        match self {
            Rule::ExcludedProvider => "excluded_provider",
            Rule::AfterDeath => "after_death",
            Rule::OverlappingStay => "overlapping_stay",
            Rule::DuplicateClaim => "duplicate_claim",
            Rule::ImpossibleDay => "impossible_day",
            Rule::Unbundling => "unbundling",
            Rule::Overbilling => "overbilling",
            Rule::IdentityDistance => "identity_distance",
            Rule::IdentityBurst => "identity_burst",
        }
    }
    /// Index in [`RULES`].
    pub fn index(self) -> usize {
        RULES.iter().position(|r| *r == self).unwrap_or_default()
    }
}

/// One finding: a rule that fired, on which provider, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The rule.
    pub rule: Rule,
    /// Billing provider id (interned).
    pub provider: u32,
    /// Beneficiary id, when the finding is about one.
    pub bene: Option<u32>,
    /// The claim, when the finding is about one.
    pub claim: Option<String>,
    /// The day.
    pub day: Day,
    /// Plain-language reason, with ids only.
    pub reason: String,
}

/// A claim id held compactly: up to 15 bytes inline (every id of the Kaggle layout), longer
/// ones on the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClaimRef {
    Inline(u8, [u8; 15]),
    Heap(Box<str>),
}

impl ClaimRef {
    fn new(s: &str) -> Self {
        let b = s.as_bytes();
        match u8::try_from(b.len()) {
            Ok(n) if b.len() <= 15 => {
                let mut a = [0u8; 15];
                if let Some(dst) = a.get_mut(..b.len()) {
                    dst.copy_from_slice(b);
                }
                ClaimRef::Inline(n, a)
            }
            _ => ClaimRef::Heap(s.into()),
        }
    }
    fn as_str(&self) -> &str {
        match self {
            ClaimRef::Inline(n, a) => a
                .get(..usize::from(*n))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            ClaimRef::Heap(s) => s,
        }
    }
    fn heap_bytes(&self) -> usize {
        match self {
            ClaimRef::Inline(..) => 0,
            ClaimRef::Heap(s) => s.len(),
        }
    }
}

/// A claim remembered for a beneficiary: its service days (the stay for an inpatient claim).
#[derive(Debug, Clone)]
struct Seen {
    start: Day,
    end: Day,
    provider: u32,
    inpatient: bool,
    fingerprint: u64,
    claim: ClaimRef,
}

/// What is remembered per beneficiary.
#[derive(Debug, Clone, Default)]
struct BeneState {
    /// Recent claims (at most `bene_memory`, none behind the horizon).
    recent: Vec<Seen>,
    /// Providers seen, with the first day each was seen (at most `bene_providers`).
    known: Vec<(u32, Day)>,
}

/// The longest horizon, in days (`day_horizon` is held within 1 to this).
pub const MAX_HORIZON: i32 = 100_000;

/// Claims in a row that move the open days to dates far from them.
pub const CONFIRM: u32 = 32;

/// Providers named per physician-day (a physician billing through more on one day has the
/// first ones named).
const DAY_PROVIDERS: usize = 3;

/// Per physician-day: minutes billed and the providers billing them (`u32::MAX`: none), held
/// inline so that a physician-day costs no allocation.
#[derive(Debug, Clone, Copy)]
struct PhysDay {
    minutes: u32,
    providers: [u32; DAY_PROVIDERS],
}

impl Default for PhysDay {
    fn default() -> Self {
        Self {
            minutes: 0,
            providers: [u32::MAX; DAY_PROVIDERS],
        }
    }
}

/// One open day of service: minutes per physician and claims per provider.
#[derive(Debug, Default)]
struct DaySlot {
    /// The day held, when open.
    day: Option<Day>,
    physicians: HashMap<u32, PhysDay>,
    providers: HashMap<u32, u32>,
}

/// Two providers that saw one beneficiary on one day: how often, and the first time.
#[derive(Debug, Clone)]
struct SameDay {
    n: u32,
    bene: u32,
    day: Day,
    /// The claims of the lower and the higher provider id.
    claims: [ClaimRef; 2],
}

/// Per provider: what the provider features are built from.
#[derive(Debug, Default, Clone)]
pub struct ProviderAgg {
    /// Claims.
    pub claims: u32,
    /// Inpatient claims.
    pub inpatient: u32,
    /// Reimbursed total.
    pub amount: f64,
    /// Inpatient reimbursed total.
    pub inpatient_amount: f64,
    /// Deductibles total.
    pub deductible: f64,
    /// Days of inpatient stays.
    pub stay_days: f64,
    /// Diagnosis codes over all claims.
    pub dx: u64,
    /// Procedure codes over all claims.
    pub px: u64,
    /// Claims with an operating physician.
    pub operated: u32,
    /// Distinct beneficiaries.
    pub benes: foldhash::HashSet<u32>,
    /// Distinct physicians.
    pub physicians: foldhash::HashSet<u32>,
    /// Chronic conditions over the claims' beneficiaries.
    pub chronic: u64,
    /// Ages at service over claims with a known birth date (years), and their count.
    pub age_sum: f64,
    /// Claims with a known age.
    pub aged: u32,
    /// Claims per code key (DRG, first procedure or first diagnosis): count, amount and a
    /// coarse histogram of the amounts.
    pub codes: HashMap<u32, CodeStats>,
    /// Rule hits, by [`Rule::index`].
    pub hits: [u32; RULES.len()],
    /// The latest day of its findings (0: none dated).
    pub last_finding: Day,
    /// Days with claims (counted as days close).
    pub days: u32,
    /// Claims on the busiest day.
    pub busiest: u32,
    /// Claims at `overbilling_ratio` times the peer median of their code or more (set when
    /// the run finishes).
    pub over_peers: u32,
}

/// A provider's claims of one code key.
#[derive(Debug, Clone)]
pub struct CodeStats {
    /// Claims.
    pub n: u32,
    /// Amount reimbursed.
    pub sum: f64,
    /// Claims per amount bin (a quarter of a doubling each, from $1).
    pub bins: Box<[u16; COARSE]>,
}

impl Default for CodeStats {
    fn default() -> Self {
        Self {
            n: 0,
            sum: 0.0,
            bins: Box::new([0; COARSE]),
        }
    }
}

/// Coarse amount bins: a quarter of a doubling each, $1 to about $16,000,000.
pub const COARSE: usize = 96;

/// The coarse bin of an amount.
fn coarse(v: f32) -> usize {
    ((v.max(1.0).log2() * 4.0) as usize).min(COARSE - 1)
}

/// The lowest amount of a coarse bin.
fn coarse_floor(b: usize) -> f32 {
    2f32.powf(b as f32 / 4.0)
}

/// Key of a code for peer comparison: kind, and the DRG, first procedure or first diagnosis.
fn code_key(c: &Claim) -> Option<u32> {
    let (space, id) = if let Some(d) = c.drg {
        (0u32, d)
    } else if let Some(&p) = c.procedures().first() {
        (1, p)
    } else {
        (2, *c.diagnoses().first()?)
    };
    let kind = u32::from(c.kind == Kind::Inpatient);
    Some(space << 29 | kind << 28 | (id & 0x0FFF_FFFF))
}

/// A histogram of log amounts for peer medians: constant memory per code.
#[derive(Debug, Clone)]
struct LogHist {
    bins: [u32; 128],
    n: u32,
}

impl Default for LogHist {
    fn default() -> Self {
        Self {
            bins: [0; 128],
            n: 0,
        }
    }
}

impl LogHist {
    /// Bins of 1/8 of a doubling from $1 to about $60,000,000.
    fn bin(v: f32) -> usize {
        let l = (v.max(1.0)).log2() * 8.0;
        (l as usize).min(127)
    }
    fn add(&mut self, v: f32) {
        if let Some(b) = self.bins.get_mut(Self::bin(v)) {
            *b += 1;
        }
        self.n += 1;
    }
    fn median(&self) -> f32 {
        let half = self.n.div_ceil(2);
        let mut acc = 0;
        for (i, &c) in self.bins.iter().enumerate() {
            acc += c;
            if acc >= half {
                return 2f32.powf((i as f32 + 0.5) / 8.0);
            }
        }
        0.0
    }
}

/// The streaming rule engine.
#[derive(Debug)]
pub struct Engine {
    cfg: RuleConfig,
    benes: Vec<Bene>,
    bene_state: Vec<BeneState>,
    provider_excl: HashMap<u32, Vec<Exclusion>>,
    physician_excl: HashMap<u32, Vec<Exclusion>>,
    provider_state: HashMap<u32, u8>,
    provider_specialty: HashMap<u32, String>,
    pairs: Vec<(u32, u32)>,
    /// Open days of service, a slot per day of the horizon (`day mod (horizon + 1)`).
    days: Vec<DaySlot>,
    /// The latest day of service seen.
    newest: Option<Day>,
    /// Provider pairs that saw one beneficiary on one day, keyed (lower id, higher id).
    same_day: HashMap<(u32, u32), SameDay>,
    peers: HashMap<u32, LogHist>,
    /// Per provider aggregates, indexed by provider id.
    pub providers: Vec<ProviderAgg>,
    /// Findings not yet taken.
    pending: Vec<Hit>,
    /// The first findings per provider and rule.
    examples: HashMap<(u32, Rule), Vec<Hit>>,
    /// Findings made.
    pub findings: u64,
    /// Claims observed.
    pub claims: u64,
    /// Claims outside the open days (for a day already closed, or far ahead of the open
    /// days): left out of the day totals.
    pub late: u64,
    /// Claims in a row far ahead of the open days, and far behind them.
    ahead_run: u32,
    behind_run: u32,
    /// Claims counted into the open days since the window was last started.
    window_claims: u64,
    /// `finish` has run: the whole-run signals are not made twice.
    finished: bool,
    hasher: foldhash::fast::FixedState,
}

impl Engine {
    /// An engine over the beneficiaries, exclusions (by NPI) and directory (by id); ids of the
    /// directory and the unbundling codes are interned into `ids`.
    pub fn new(
        cfg: RuleConfig,
        benes: Vec<Bene>,
        exclusions: &HashMap<String, Vec<Exclusion>>,
        directory: &HashMap<String, Entry>,
        ids: &mut Ids,
    ) -> Self {
        let mut provider_excl = HashMap::new();
        let mut physician_excl = HashMap::new();
        let mut provider_state = HashMap::new();
        let mut provider_specialty = HashMap::new();
        let mut names: Vec<&String> = directory.keys().collect();
        names.sort();
        for name in names {
            let Some(e) = directory.get(name) else {
                continue;
            };
            let individual = e.kind.eq_ignore_ascii_case("individual");
            let id = if individual {
                ids.physicians.id(name)
            } else {
                ids.providers.id(name)
            };
            if let Some(x) = exclusions.get(&e.npi) {
                if individual {
                    physician_excl.insert(id, x.clone());
                } else {
                    provider_excl.insert(id, x.clone());
                }
            }
            if !individual {
                if e.state != 0 {
                    provider_state.insert(id, e.state);
                }
                if !e.specialty.is_empty() {
                    provider_specialty.insert(id, e.specialty.clone());
                }
            }
        }
        let pairs = cfg
            .unbundling
            .iter()
            .map(|(a, b)| (ids.procedures.id(a), ids.procedures.id(b)))
            .collect();
        let n_benes = benes.len();
        let slots = cfg.day_horizon.clamp(1, MAX_HORIZON) as usize + 1;
        Self {
            cfg,
            benes,
            bene_state: vec![BeneState::default(); n_benes],
            provider_excl,
            physician_excl,
            provider_state,
            provider_specialty,
            pairs,
            days: (0..slots).map(|_| DaySlot::default()).collect(),
            newest: None,
            same_day: HashMap::new(),
            peers: HashMap::new(),
            providers: Vec::new(),
            pending: Vec::new(),
            examples: HashMap::new(),
            findings: 0,
            claims: 0,
            late: 0,
            ahead_run: 0,
            behind_run: 0,
            window_claims: 0,
            finished: false,
            hasher: foldhash::fast::FixedState::with_seed(7),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RuleConfig {
        &self.cfg
    }

    /// The specialty of a provider from the directory.
    pub fn specialty(&self, provider: u32) -> Option<&str> {
        self.provider_specialty.get(&provider).map(String::as_str)
    }

    /// The findings made since the last call, in the order they were made. What is not taken
    /// is returned by [`Engine::finish`].
    pub fn take_findings(&mut self) -> Vec<Hit> {
        std::mem::take(&mut self.pending)
    }

    /// Findings not yet taken.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The first findings of a provider (at most `examples` per rule), by rule and day.
    pub fn examples(&self, provider: u32) -> Vec<&Hit> {
        let mut v: Vec<&Hit> = RULES
            .iter()
            .filter_map(|r| self.examples.get(&(provider, *r)))
            .flatten()
            .collect();
        v.sort_by(|a, b| (a.rule, a.day, &a.claim).cmp(&(b.rule, b.day, &b.claim)));
        v
    }

    fn fingerprint(&self, c: &Claim) -> u64 {
        let mut h = self.hasher.build_hasher();
        (c.provider, c.start, c.end, c.amount.to_bits(), c.kind).hash(&mut h);
        // the codes in any order: sorted on the stack
        let mut dx = c.dx;
        let dx = dx.get_mut(..usize::from(c.n_dx)).unwrap_or_default();
        dx.sort_unstable();
        dx.hash(&mut h);
        let mut px = c.px;
        let px = px.get_mut(..usize::from(c.n_px)).unwrap_or_default();
        px.sort_unstable();
        px.hash(&mut h);
        h.finish()
    }

    /// Records a finding: `count` hits on its provider, the finding itself once.
    fn record(&mut self, h: Hit, count: u32) {
        if let Some(p) = self.providers.get_mut(h.provider as usize) {
            p.hits[h.rule.index()] += count;
            p.last_finding = p.last_finding.max(h.day);
        }
        let ex = self.examples.entry((h.provider, h.rule)).or_default();
        if ex.len() < self.cfg.examples {
            ex.push(h.clone());
        }
        self.findings += 1;
        self.pending.push(h);
    }

    fn hit(&mut self, rule: Rule, c: &Claim, reason: String) {
        self.record(
            Hit {
                rule,
                provider: c.provider,
                bene: Some(c.bene),
                claim: Some(c.claim_id.clone()),
                day: c.start,
                reason,
            },
            1,
        );
    }

    /// The horizon in days, within 1 to [`MAX_HORIZON`].
    fn horizon(&self) -> i32 {
        self.cfg.day_horizon.clamp(1, MAX_HORIZON)
    }

    /// The slot of `day`, opening it (and closing the days that fall behind the horizon);
    /// `None` when the day is outside the open days: already closed, or so far ahead of them
    /// that it is taken for a mistyped date until [`CONFIRM`] claims in a row agree (one
    /// such date must not close every open day). When the open days hold almost nothing and
    /// [`CONFIRM`] claims in a row come from far behind them (a mistyped first date), the
    /// window starts again there.
    fn open_day(&mut self, day: Day, ids: &Ids) -> Option<usize> {
        let h = self.horizon();
        let Some(newest) = self.newest else {
            self.newest = Some(day);
            self.window_claims = 1;
            return self.slot(day);
        };
        if day > newest + h {
            self.behind_run = 0;
            self.ahead_run += 1;
            if self.ahead_run < CONFIRM {
                return None;
            }
            self.ahead_run = 0;
            self.window_claims = 0;
        } else if day < newest - h {
            self.ahead_run = 0;
            self.behind_run += 1;
            if self.behind_run < CONFIRM || self.window_claims >= u64::from(CONFIRM) {
                return None;
            }
            self.behind_run = 0;
            self.close_all(ids);
            self.newest = Some(day);
            self.window_claims = 1;
            return self.slot(day);
        } else {
            self.ahead_run = 0;
            self.behind_run = 0;
        }
        if day > newest {
            // the days leaving the window [day - h, day] that may still be open
            let last = (day - h - 1).min(newest);
            for d in (newest - h)..=last {
                self.close_day(d, ids);
            }
            self.newest = Some(day);
        }
        self.window_claims += 1;
        self.slot(day)
    }

    fn slot(&mut self, day: Day) -> Option<usize> {
        let i = day.rem_euclid(self.horizon() + 1) as usize;
        let slot = self.days.get_mut(i)?;
        slot.day = Some(day);
        Some(i)
    }

    /// Closes every open day.
    fn close_all(&mut self, ids: &Ids) {
        if let Some(newest) = self.newest.take() {
            for d in (newest - self.horizon())..=newest {
                self.close_day(d, ids);
            }
        }
    }

    /// Closes a day: its impossible-day check, and its claims into the providers' day counts.
    fn close_day(&mut self, day: Day, ids: &Ids) {
        let i = day.rem_euclid(self.horizon() + 1) as usize;
        let Some(slot) = self.days.get_mut(i) else {
            return;
        };
        if slot.day != Some(day) {
            return;
        }
        slot.day = None;
        for (&p, &n) in &slot.providers {
            if let Some(a) = self.providers.get_mut(p as usize) {
                a.days += 1;
                a.busiest = a.busiest.max(n);
            }
        }
        slot.providers.clear();
        let mut over: Vec<(u32, PhysDay)> = slot
            .physicians
            .iter()
            .filter(|(_, d)| d.minutes > self.cfg.day_minutes)
            .map(|(p, d)| (*p, *d))
            .collect();
        slot.physicians.clear();
        over.sort_by_key(|(p, _)| *p);
        let cfg = &self.cfg;
        let found: Vec<Hit> = over
            .iter()
            .flat_map(|(ph, d)| {
                d.providers
                    .iter()
                    .filter(|p| **p != u32::MAX)
                    .map(move |&prov| Hit {
                        rule: Rule::ImpossibleDay,
                        provider: prov,
                        bene: None,
                        claim: None,
                        day,
                        reason: format!(
                            "physician {} billed {:.1} hours of services on {} (assuming {} min per outpatient claim, {} per procedure, {} per inpatient claim)",
                            ids.physicians.name(*ph),
                            f64::from(d.minutes) / 60.0,
                            date::format(day),
                            cfg.outpatient_minutes,
                            cfg.procedure_minutes,
                            cfg.inpatient_minutes
                        ),
                    })
            })
            .collect();
        for h in found {
            self.record(h, 1);
        }
    }

    /// Runs the claim rules on one claim and remembers what later claims are compared with.
    pub fn observe(&mut self, c: &Claim, ids: &Ids) {
        self.claims += 1;
        let pi = c.provider as usize;
        if self.providers.len() <= pi {
            self.providers.resize_with(pi + 1, ProviderAgg::default);
        }
        let bene = self.benes.get(c.bene as usize).copied();
        // aggregates
        let key = code_key(c);
        {
            let Some(p) = self.providers.get_mut(pi) else {
                return;
            };
            p.claims += 1;
            p.amount += f64::from(c.amount);
            p.deductible += f64::from(c.deductible);
            p.dx += u64::from(c.n_dx);
            p.px += u64::from(c.n_px);
            if c.kind == Kind::Inpatient {
                p.inpatient += 1;
                p.inpatient_amount += f64::from(c.amount);
                let (a, d) = (c.admission.unwrap_or(c.start), c.discharge.unwrap_or(c.end));
                p.stay_days += f64::from((d - a).max(0));
            }
            if c.physicians[1].is_some() {
                p.operated += 1;
            }
            p.benes.insert(c.bene);
            for ph in c.physicians.iter().flatten() {
                p.physicians.insert(*ph);
            }
            if let Some(b) = bene {
                p.chronic += u64::from(b.chronic.count_ones());
                if let Some(dob) = b.dob {
                    p.age_sum += f64::from(c.start - dob) / 365.25;
                    p.aged += 1;
                }
            }
            if let Some(k) = key {
                let e = p.codes.entry(k).or_default();
                e.n += 1;
                e.sum += f64::from(c.amount);
                if let Some(b) = e.bins.get_mut(coarse(c.amount)) {
                    *b = b.saturating_add(1);
                }
            }
        }
        if let Some(k) = key {
            self.peers.entry(k).or_default().add(c.amount);
        }
        // excluded provider or physician
        let excluded = |x: Option<&Vec<Exclusion>>| {
            x.and_then(|v| {
                v.iter()
                    .find(|e| e.from <= c.start && e.until.is_none_or(|u| c.start < u))
                    .cloned()
            })
        };
        if let Some(e) = excluded(self.provider_excl.get(&c.provider)) {
            let why = format!(
                "claim {} on {}: provider {} is excluded ({}) since {}",
                c.claim_id,
                date::format(c.start),
                ids.providers.name(c.provider),
                e.kind,
                date::format(e.from)
            );
            self.hit(Rule::ExcludedProvider, c, why);
        } else {
            for ph in c.physicians.iter().flatten() {
                if let Some(e) = excluded(self.physician_excl.get(ph)) {
                    let why = format!(
                        "claim {} on {}: physician {} is excluded ({}) since {}",
                        c.claim_id,
                        date::format(c.start),
                        ids.physicians.name(*ph),
                        e.kind,
                        date::format(e.from)
                    );
                    self.hit(Rule::ExcludedProvider, c, why);
                    break;
                }
            }
        }
        // after death
        if let Some(dod) = bene.and_then(|b| b.dod)
            && c.start > dod
        {
            let why = format!(
                "claim {} on {}: beneficiary {} died on {}",
                c.claim_id,
                date::format(c.start),
                ids.benes.name(c.bene),
                date::format(dod)
            );
            self.hit(Rule::AfterDeath, c, why);
        }
        // unbundling on the claim
        let px = c.procedures();
        if let Some((a, b)) = self
            .pairs
            .iter()
            .find(|(a, b)| px.contains(a) && px.contains(b))
            .copied()
        {
            let why = format!(
                "claim {}: procedure {} billed with its component {}",
                c.claim_id,
                ids.procedures.name(a),
                ids.procedures.name(b)
            );
            self.hit(Rule::Unbundling, c, why);
        }
        // the day's totals: physician minutes and provider claims
        match self.open_day(c.start, ids) {
            None => self.late += 1,
            Some(i) => {
                if let Some(slot) = self.days.get_mut(i) {
                    *slot.providers.entry(c.provider).or_default() += 1;
                    if let Some(ph) = c.physicians[0] {
                        let m = match c.kind {
                            Kind::Outpatient => self.cfg.outpatient_minutes.saturating_add(
                                self.cfg.procedure_minutes.saturating_mul(u32::from(c.n_px)),
                            ),
                            Kind::Inpatient => self.cfg.inpatient_minutes,
                        };
                        let d = slot.physicians.entry(ph).or_default();
                        d.minutes = d.minutes.saturating_add(m);
                        if !d.providers.contains(&c.provider)
                            && let Some(s) = d.providers.iter_mut().find(|p| **p == u32::MAX)
                        {
                            *s = c.provider;
                        }
                    }
                }
            }
        }
        self.remember(c, ids);
    }

    /// Duplicates, overlapping stays and same-day visits against the beneficiary's remembered
    /// claims; then remembers this one.
    fn remember(&mut self, c: &Claim, ids: &Ids) {
        let fp = self.fingerprint(c);
        let bi = c.bene as usize;
        if self.bene_state.len() <= bi {
            self.bene_state.resize_with(bi + 1, BeneState::default);
        }
        let inpatient = c.kind == Kind::Inpatient;
        let (start, end) = if inpatient {
            (c.admission.unwrap_or(c.start), c.discharge.unwrap_or(c.end))
        } else {
            (c.start, c.end)
        };
        let (cap, known_cap) = (self.cfg.bene_memory.max(1), self.cfg.bene_providers);
        let horizon_from = self
            .newest
            .map_or(Day::MIN, |n| n.saturating_sub(self.horizon()));
        let Some(st) = self.bene_state.get_mut(bi) else {
            return;
        };
        // forget what fell behind the horizon
        if st.recent.iter().any(|s| s.end < horizon_from) {
            st.recent.retain(|s| s.end >= horizon_from);
            if st.recent.capacity() > 4 * st.recent.len().max(2) {
                st.recent.shrink_to(2 * st.recent.len());
            }
        }
        let mut dup = None;
        let mut overlap = None;
        // other providers seen on this day (when this provider was not seen on it yet)
        let mut others = [u32::MAX; 4];
        let mut n_others = 0;
        let mut counted = false;
        let mut other_claims: [Option<ClaimRef>; 4] = Default::default();
        for s in &st.recent {
            if s.fingerprint == fp && s.claim.as_str() != c.claim_id {
                // a repeat of a claim already counted for this day and provider
                dup = Some(s.claim.as_str().to_string());
                counted = true;
                break;
            }
            if inpatient
                && s.inpatient
                && s.start < end
                && start < s.end
                && s.claim.as_str() != c.claim_id
            {
                overlap = Some((s.claim.as_str().to_string(), s.provider));
            }
            if s.start == start {
                if s.provider == c.provider {
                    counted = true;
                } else if !others.contains(&s.provider)
                    && let (Some(o), Some(oc)) =
                        (others.get_mut(n_others), other_claims.get_mut(n_others))
                {
                    *o = s.provider;
                    *oc = Some(s.claim.clone());
                    n_others += 1;
                }
            }
        }
        // new provider for this beneficiary?
        if let Some(k) = st.known.iter_mut().find(|k| k.0 == c.provider) {
            k.1 = k.1.min(start);
        } else if st.known.len() < known_cap {
            st.known.push((c.provider, start));
        }
        if st.recent.len() >= cap {
            // forget the earliest claim
            if let Some((i, _)) = st.recent.iter().enumerate().min_by_key(|(_, s)| s.start) {
                st.recent.swap_remove(i);
            }
        }
        let claim = ClaimRef::new(&c.claim_id);
        st.recent.push(Seen {
            start,
            end,
            provider: c.provider,
            inpatient,
            fingerprint: fp,
            claim: claim.clone(),
        });
        if !counted {
            for (&o, oc) in others.iter().zip(other_claims).take(n_others) {
                let key = (o.min(c.provider), o.max(c.provider));
                let e = self.same_day.entry(key).or_insert_with(|| {
                    let oc = oc.unwrap_or_else(|| ClaimRef::new(""));
                    SameDay {
                        n: 0,
                        bene: c.bene,
                        day: start,
                        claims: if o < c.provider {
                            [oc, claim.clone()]
                        } else {
                            [claim.clone(), oc]
                        },
                    }
                });
                e.n += 1;
            }
        }
        if let Some(first) = dup {
            let why = format!(
                "claim {} repeats claim {} (same beneficiary, provider, dates, amount and codes)",
                c.claim_id, first
            );
            self.hit(Rule::DuplicateClaim, c, why);
        } else if let Some((other, prov)) = overlap {
            let why = format!(
                "inpatient claim {} ({} to {}) overlaps stay {} at provider {} for beneficiary {}",
                c.claim_id,
                date::format(start),
                date::format(end),
                other,
                ids.providers.name(prov),
                ids.benes.name(c.bene)
            );
            self.hit(Rule::OverlappingStay, c, why);
        }
    }

    /// The state a provider practises in: the directory's, else its beneficiaries' most
    /// common.
    pub fn provider_state(&self, provider: u32) -> u8 {
        if let Some(&s) = self.provider_state.get(&provider) {
            return s;
        }
        self.bene_states(provider)
            .into_iter()
            .filter(|(s, _)| *s != 0)
            .max_by_key(|(s, n)| (*n, std::cmp::Reverse(*s)))
            .map_or(0, |(s, _)| s)
    }

    /// A provider's beneficiaries by state: (state code, beneficiaries), by state code.
    pub fn bene_states(&self, provider: u32) -> Vec<(u8, u32)> {
        let mut counts = [0u32; 256];
        if let Some(p) = self.providers.get(provider as usize) {
            for b in &p.benes {
                if let Some(bene) = self.benes.get(*b as usize)
                    && let Some(c) = counts.get_mut(usize::from(bene.state))
                {
                    *c += 1;
                }
            }
        }
        (0..=255u8).zip(counts).filter(|(_, n)| *n > 0).collect()
    }

    /// Closes the open days and runs what needs every claim (overbilling, identity signals);
    /// returns the findings not yet taken, sorted by provider, rule and day.
    pub fn finish(&mut self, ids: &Ids) -> Vec<Hit> {
        if !self.finished {
            self.finished = true;
            self.close_all(ids);
            self.whole_run_signals(ids);
        }
        let mut out = self.take_findings();
        out.sort_by(|a, b| {
            (a.provider, a.rule, a.day, &a.claim).cmp(&(b.provider, b.rule, b.day, &b.claim))
        });
        out
    }

    /// Overbilling and the identity signals, from the whole run's state.
    fn whole_run_signals(&mut self, ids: &Ids) {
        let cfg = self.cfg.clone();
        let mut late: Vec<(Hit, u32)> = Vec::new();
        // overbilling: claims at a multiple of the peer median of their code
        let medians: HashMap<u32, (f32, u32)> = self
            .peers
            .iter()
            .map(|(k, h)| (*k, (h.median(), h.n)))
            .collect();
        for (pi, p) in self.providers.iter_mut().enumerate() {
            let mut over = 0u32;
            // the code with the most claims over: (key, claims over, peer median)
            let mut worst: Option<(u32, u32, f32)> = None;
            let mut keys: Vec<&u32> = p.codes.keys().collect();
            keys.sort_unstable();
            for k in keys {
                let Some(st) = p.codes.get(k) else { continue };
                let Some(&(med, peers)) = medians.get(k) else {
                    continue;
                };
                if peers < cfg.min_peer_claims || med <= 0.0 {
                    continue;
                }
                let cut = med * cfg.overbilling_ratio;
                let n: u32 = st
                    .bins
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| coarse_floor(*b) >= cut)
                    .map(|(_, c)| u32::from(*c))
                    .sum();
                over += n;
                if n > 0 && worst.is_none_or(|w| n > w.1) {
                    worst = Some((*k, n, med));
                }
            }
            p.over_peers = over;
            if over >= cfg.min_provider_claims
                && let Some((k, n, med)) = worst
            {
                late.push((
                    Hit {
                        rule: Rule::Overbilling,
                        provider: pi as u32,
                        bene: None,
                        claim: None,
                        day: 0,
                        reason: format!(
                            "{over} claims reimbursed at {:.0} times the peer median of their code or more ({n} of {}, whose median is ${med:.0})",
                            cfg.overbilling_ratio,
                            describe_key(k, ids),
                        ),
                    },
                    1,
                ));
            }
        }
        // the same beneficiary on the same day at providers far apart
        let states: Vec<u8> = (0..self.providers.len() as u32)
            .map(|p| self.provider_state(p))
            .collect();
        let mut pairs: Vec<(&(u32, u32), &SameDay)> = self.same_day.iter().collect();
        pairs.sort_by_key(|(k, _)| **k);
        for (&(a, b), s) in pairs {
            let (sa, sb) = (
                states.get(a as usize).copied().unwrap_or(0),
                states.get(b as usize).copied().unwrap_or(0),
            );
            let Some(km) = ward_core::geo::state_distance_km(sa, sb) else {
                continue;
            };
            if km < cfg.far_km {
                continue;
            }
            let more = if s.n > 1 {
                format!(" ({} same-day visits at these two providers in all)", s.n)
            } else {
                String::new()
            };
            for (prov, claim) in [(a, &s.claims[0]), (b, &s.claims[1])] {
                late.push((
                    Hit {
                        rule: Rule::IdentityDistance,
                        provider: prov,
                        bene: Some(s.bene),
                        claim: Some(claim.as_str().to_string()),
                        day: s.day,
                        reason: format!(
                            "beneficiary {} was seen on {} by providers {} and {}, about {km:.0} km apart{more}",
                            ids.benes.name(s.bene),
                            date::format(s.day),
                            ids.providers.name(a),
                            ids.providers.name(b),
                        ),
                    },
                    s.n,
                ));
            }
        }
        // a burst of new providers
        let k = cfg.burst_providers.max(2) as usize;
        for (bi, st) in self.bene_state.iter().enumerate() {
            if st.known.len() < k {
                continue;
            }
            let mut first: Vec<(Day, u32)> = st.known.iter().map(|&(p, d)| (d, p)).collect();
            first.sort_unstable();
            let burst = first.windows(k).find(|w| match (w.first(), w.last()) {
                (Some(a), Some(b)) => b.0 - a.0 < cfg.burst_days,
                _ => false,
            });
            if let Some(w) = burst {
                let (from, to) = (w.first().map_or(0, |x| x.0), w.last().map_or(0, |x| x.0));
                for (day, prov) in w {
                    late.push((
                        Hit {
                            rule: Rule::IdentityBurst,
                            provider: *prov,
                            bene: Some(bi as u32),
                            claim: None,
                            day: *day,
                            reason: format!(
                                "beneficiary {} saw {} new providers between {} and {}",
                                ids.benes.name(bi as u32),
                                w.len(),
                                date::format(from),
                                date::format(to)
                            ),
                        },
                        1,
                    ));
                }
            }
        }
        for (h, n) in late {
            self.record(h, n);
        }
    }
}

/// A code key in words (`DRG 332 (inpatient)`).
fn describe_key(k: u32, ids: &Ids) -> String {
    let id = k & 0x0FFF_FFFF;
    let kind = if k >> 28 & 1 == 1 {
        "inpatient"
    } else {
        "outpatient"
    };
    match k >> 29 {
        0 => format!("DRG {} ({kind})", ids.drgs.name(id)),
        1 => format!("procedure {} ({kind})", ids.procedures.name(id)),
        _ => format!("diagnosis {} ({kind})", ids.diagnoses.name(id)),
    }
}

/// Approximate bytes of the engine's state, by part (allocated capacity, not just length).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Beneficiary records.
    pub benes: usize,
    /// Remembered claims and providers per beneficiary.
    pub bene_state: usize,
    /// Open days: physician minutes and provider claims.
    pub days: usize,
    /// Provider aggregates (beneficiary and physician sets, code histograms).
    pub providers: usize,
    /// Provider pairs seen on one day by one beneficiary.
    pub same_day: usize,
    /// Peer amount histograms per code.
    pub peers: usize,
    /// Findings not yet taken, and the examples kept per provider and rule.
    pub findings: usize,
}

impl Footprint {
    /// The total.
    pub fn total(&self) -> usize {
        self.benes
            + self.bene_state
            + self.days
            + self.providers
            + self.same_day
            + self.peers
            + self.findings
    }
}

/// Bytes of a hash table of `cap` entries: slots plus a control byte each.
fn table_bytes<K, V>(cap: usize) -> usize {
    cap * (std::mem::size_of::<(K, V)>() + 1)
}

fn hit_bytes(h: &Hit) -> usize {
    std::mem::size_of::<Hit>() + h.reason.capacity() + h.claim.as_ref().map_or(0, String::capacity)
}

impl Engine {
    /// The approximate size of the state held now.
    pub fn footprint(&self) -> Footprint {
        use std::mem::size_of;
        let bene_state = self.bene_state.capacity() * size_of::<BeneState>()
            + self
                .bene_state
                .iter()
                .map(|b| {
                    b.recent.capacity() * size_of::<Seen>()
                        + b.recent.iter().map(|s| s.claim.heap_bytes()).sum::<usize>()
                        + b.known.capacity() * size_of::<(u32, Day)>()
                })
                .sum::<usize>();
        let providers = self.providers.capacity() * size_of::<ProviderAgg>()
            + self
                .providers
                .iter()
                .map(|p| {
                    table_bytes::<u32, ()>(p.benes.capacity())
                        + table_bytes::<u32, ()>(p.physicians.capacity())
                        + table_bytes::<u32, CodeStats>(p.codes.capacity())
                        + p.codes.len() * size_of::<[u16; COARSE]>()
                })
                .sum::<usize>();
        let days = self.days.capacity() * size_of::<DaySlot>()
            + self
                .days
                .iter()
                .map(|d| {
                    table_bytes::<u32, PhysDay>(d.physicians.capacity())
                        + table_bytes::<u32, u32>(d.providers.capacity())
                })
                .sum::<usize>();
        Footprint {
            benes: self.benes.capacity() * size_of::<Bene>(),
            bene_state,
            days,
            providers,
            same_day: table_bytes::<(u32, u32), SameDay>(self.same_day.capacity())
                + self
                    .same_day
                    .values()
                    .map(|s| s.claims.iter().map(ClaimRef::heap_bytes).sum::<usize>())
                    .sum::<usize>(),
            peers: table_bytes::<u32, LogHist>(self.peers.capacity()),
            findings: self.pending.capacity() * size_of::<Hit>()
                + self.pending.iter().map(hit_bytes).sum::<usize>()
                + self
                    .examples
                    .values()
                    .map(|v| v.iter().map(hit_bytes).sum::<usize>())
                    .sum::<usize>(),
        }
    }
}
