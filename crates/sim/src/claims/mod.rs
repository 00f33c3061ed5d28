//! Simulated Medicare-style claims with labelled provider fraud (issue 8), in the layout of the
//! Kaggle "Healthcare Provider Fraud Detection" files (see `docs/claims-format.md`).
//!
//! [`generate`] builds a country of beneficiaries (chronic conditions, SSA state and county
//! codes, some of whom die during the period and some of whom winter in another state),
//! providers (hospitals and specialty practices of very different sizes), the physicians who
//! work for them and a provider directory with NPIs, then the claims that honest care causes:
//! outpatient visits whose codes and amounts follow the specialty and the patient's conditions,
//! inpatient stays by DRG with their lengths of stay, transfers between hospitals, follow-up
//! visits that look like duplicates, busy (but human) physicians and honest outliers. A share of
//! the providers ([`ClaimsSimConfig::fraud_share`]) then runs one to three of twelve published
//! fraud schemes ([`Scheme`]) on a small share of their volume; every fraudulent claim or event is
//! a row of `truth.csv`. The `write_*` functions write the seven files of the contract.
//!
//! Pure and deterministic: the same configuration gives byte-identical files. See
//! `crates/sim/README.md` ("Claims").

mod care;
mod codes;
mod fraud;
mod world;
mod write;

use serde::{Deserialize, Serialize};

pub use codes::Specialty;
pub use write::{
    BENEFICIARY_HEADER, ClaimsSummary, ClaimsWriters, EXCLUSIONS_HEADER, FILES, INPATIENT_HEADER,
    LABELS_HEADER, OUTPATIENT_HEADER, PROVIDERS_HEADER, TRUTH_HEADER, write_all,
    write_beneficiary_csv, write_exclusions_csv, write_inpatient_csv, write_labels_csv,
    write_outpatient_csv, write_providers_csv, write_truth_csv,
};

/// Pairs of ICD-9-CM procedure codes `(comprehensive, component)` where the second is part of
/// the first, so billing both on one claim is unbundling: a stand-in for a real edit list such
/// as the National Correct Coding Initiative's (which is in CPT/HCPCS, not ICD-9). Honest
/// providers of the simulator never bill both codes of a pair on one claim; the `unbundling`
/// scheme does. The claims detector ships the same list as its default.
pub const UNBUNDLING_PAIRS: &[(&str, &str)] = &[
    // total knee replacement and what it includes
    ("8154", "8026"), // knee arthroscopy
    ("8154", "806"),  // excision of semilunar cartilage (meniscectomy)
    ("8154", "8086"), // local excision of a knee joint lesion
    // total hip replacement includes the femoral ostectomy
    ("8151", "7785"),
    // combined right and left heart catheterisation includes each side
    ("3723", "3721"),
    ("3723", "3722"),
    // colonoscopy includes the flexible sigmoidoscopy
    ("4523", "4524"),
    // upper endoscopy with biopsy, or with control of bleeding, includes the endoscopy itself
    ("4516", "4513"),
    ("4443", "4513"),
    // laparoscopic cholecystectomy includes the laparoscopy
    ("5123", "5421"),
];

/// Minutes of the attending physician's day that the claims detector assumes by default for an
/// outpatient claim: this plus [`MINUTES_PER_PROCEDURE`] per procedure code.
pub const OUTPATIENT_MINUTES: u32 = 15;
/// Minutes per procedure code of an outpatient claim (see [`OUTPATIENT_MINUTES`]).
pub const MINUTES_PER_PROCEDURE: u32 = 30;
/// Minutes of the attending physician on the first day of an inpatient claim.
pub const INPATIENT_MINUTES: u32 = 30;

/// Largest accepted [`ClaimsSimConfig::days`]: three years.
pub const MAX_DAYS: u32 = 1096;
/// Smallest accepted [`ClaimsSimConfig::beneficiaries`].
pub const MIN_BENEFICIARIES: u32 = 100;
/// Largest accepted [`ClaimsSimConfig::beneficiaries`].
pub const MAX_BENEFICIARIES: u32 = 2_000_000;
/// Smallest accepted [`ClaimsSimConfig::providers`].
pub const MIN_PROVIDERS: u32 = 10;
/// Largest accepted [`ClaimsSimConfig::providers`].
pub const MAX_PROVIDERS: u32 = 200_000;
/// Largest expected number of honest claims (beneficiaries x yearly rates x years): about 1 GB
/// of memory.
pub const MAX_CLAIMS: f64 = 10_000_000.0;

/// What to simulate. Every field has a default, so `{}` is a valid configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimsSimConfig {
    /// Random seed: the same seed gives byte-identical files. Default 42.
    pub seed: u64,
    /// First day of the claims period, `YYYY-MM-DD`, between 1990 and 2100. Default
    /// `2009-01-01` (the Kaggle files cover 2009).
    pub start: String,
    /// Length of the period in days, 1 to [`MAX_DAYS`]. Default 365.
    pub days: u32,
    /// Beneficiaries, [`MIN_BENEFICIARIES`] to [`MAX_BENEFICIARIES`]. Default 20,000 (about
    /// 86,000 claims a year; 250,000 give a little over a million).
    pub beneficiaries: u32,
    /// Provider organisations, [`MIN_PROVIDERS`] to [`MAX_PROVIDERS`] and at most the number of
    /// beneficiaries. Default 1,000.
    pub providers: u32,
    /// Share of providers that are hospitals (the only ones with inpatient claims), in
    /// `[0.01, 1]`. Default 0.15.
    pub hospital_share: f64,
    /// Mean number of physicians per provider, in `[1, 50]`; larger providers have more.
    /// Default 3.
    pub physicians_per_provider: f64,
    /// Mean outpatient claims per beneficiary per year, in `[0, 50]`; beneficiaries with more
    /// chronic conditions have more. Default 4.
    pub outpatient_per_year: f64,
    /// Mean inpatient stays per beneficiary per year, in `[0, 5]`. Default 0.3.
    pub inpatient_per_year: f64,
    /// Share of outpatient visits followed by an honest repeat visit (same provider, physician,
    /// codes and amount, another day), in `[0, 0.5]`. Default 0.08.
    pub repeat_visit_share: f64,
    /// Share of inpatient stays ending in a transfer to another hospital, admitted the day of
    /// discharge, in `[0, 0.5]`. Default 0.03.
    pub transfer_share: f64,
    /// Share of beneficiaries from northern states who spend the winter (December to March) in
    /// Florida, Arizona, Texas or California and see providers there, in `[0, 0.5]`.
    /// Default 0.05.
    pub snowbird_share: f64,
    /// Share of outpatient visits at a provider in another state (on a day without other
    /// claims), in `[0, 0.5]`. Default 0.03.
    pub out_of_state_share: f64,
    /// Share of beneficiaries who die during the period (`DOD` set; no honest claim after it),
    /// in `[0, 0.5]`. Default 0.02.
    pub deceased_share: f64,
    /// Share of honest claims billed at three to eight times the usual amount (rare, real
    /// cases), in `[0, 0.05]`. Default 0.003.
    pub outlier_share: f64,
    /// Share of providers that commit fraud, in `[0, 0.5]`. Default 0.10.
    pub fraud_share: f64,
    /// How much of a fraudulent provider's volume each of its schemes touches (new or altered
    /// claims as a share of its honest claims), in `[0, 1]`; most of its claims stay honest.
    /// Default 0.06.
    pub fraud_intensity: f64,
    /// Fraudulent providers that run each scheme at least (when there are enough fraudulent
    /// providers, and hospitals for the inpatient schemes), 0 to 100. Default 2.
    pub min_providers_per_scheme: u32,
    /// Relative weight of each scheme when fraudulent providers pick theirs.
    pub scheme_weights: SchemeWeights,
    /// Rows of the exclusion list for people and businesses that never appear in the claims,
    /// 0 to 1,000,000. Default 1,500.
    pub excluded_others: u32,
    /// Share of honest physicians on the exclusion list with a reinstatement before the period
    /// (and as many excluded only after it ends), in `[0, 0.1]`. Default 0.005.
    pub reinstated_share: f64,
}

impl Default for ClaimsSimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            start: "2009-01-01".into(),
            days: 365,
            beneficiaries: 20_000,
            providers: 1_000,
            hospital_share: 0.15,
            physicians_per_provider: 3.0,
            outpatient_per_year: 4.0,
            inpatient_per_year: 0.3,
            repeat_visit_share: 0.08,
            transfer_share: 0.03,
            snowbird_share: 0.05,
            out_of_state_share: 0.03,
            deceased_share: 0.02,
            outlier_share: 0.003,
            fraud_share: 0.10,
            fraud_intensity: 0.06,
            min_providers_per_scheme: 2,
            scheme_weights: SchemeWeights::default(),
            excluded_others: 1_500,
            reinstated_share: 0.005,
        }
    }
}

/// The fraud schemes the simulator injects (the `Scheme` column of `truth.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Scheme {
    /// Claims for visits that never took place, for the provider's patients and for people of
    /// its state it never saw.
    PhantomBilling,
    /// An inpatient stay billed under the more severe DRG of its family, with a complication
    /// code added to justify it.
    Upcoding,
    /// A procedure billed together with one of its own components on the same claim.
    Unbundling,
    /// Claims whose attending physician was on the exclusion list before the service date.
    ExcludedProvider,
    /// Services dated after the beneficiary's death.
    AfterDeath,
    /// An inpatient stay that overlaps another hospital's stay for the same beneficiary.
    OverlappingStay,
    /// The same claim submitted twice (same beneficiary, dates, codes and amount).
    DuplicateClaim,
    /// A physician billing more than 24 hours of services in one day.
    ImpossibleDay,
    /// Amounts several times the peers' for the same DRG or codes.
    Overbilling,
    /// Medical identity theft: a beneficiary seen the same day by providers in far-apart states.
    IdentityDistance,
    /// Medical identity theft: a burst of many new providers for one beneficiary.
    IdentityBurst,
    /// A ring of providers sharing the same beneficiaries (kickbacks, recruited patients).
    PatientSharing,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 12] = [
        Self::PhantomBilling,
        Self::Upcoding,
        Self::Unbundling,
        Self::ExcludedProvider,
        Self::AfterDeath,
        Self::OverlappingStay,
        Self::DuplicateClaim,
        Self::ImpossibleDay,
        Self::Overbilling,
        Self::IdentityDistance,
        Self::IdentityBurst,
        Self::PatientSharing,
    ];

    /// The name written to `truth.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhantomBilling => "phantom_billing",
            Self::Upcoding => "upcoding",
            Self::Unbundling => "unbundling",
            Self::ExcludedProvider => "excluded_provider",
            Self::AfterDeath => "after_death",
            Self::OverlappingStay => "overlapping_stay",
            Self::DuplicateClaim => "duplicate_claim",
            Self::ImpossibleDay => "impossible_day",
            Self::Overbilling => "overbilling",
            Self::IdentityDistance => "identity_distance",
            Self::IdentityBurst => "identity_burst",
            Self::PatientSharing => "patient_sharing",
        }
    }

    /// Schemes only a hospital (a provider with inpatient stays) can run.
    pub fn needs_hospital(self) -> bool {
        matches!(self, Self::Upcoding | Self::OverlappingStay)
    }
}

/// Relative weights of the schemes when a fraudulent provider picks its one to three schemes.
/// Each weight is finite and in `[0, 1e6]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchemeWeights {
    /// Default 1.0.
    pub phantom_billing: f64,
    /// Default 1.0.
    pub upcoding: f64,
    /// Default 0.8.
    pub unbundling: f64,
    /// Default 0.5.
    pub excluded_provider: f64,
    /// Default 0.6.
    pub after_death: f64,
    /// Default 0.6.
    pub overlapping_stay: f64,
    /// Default 1.0.
    pub duplicate_claim: f64,
    /// Default 0.6.
    pub impossible_day: f64,
    /// Default 1.0.
    pub overbilling: f64,
    /// Default 0.5.
    pub identity_distance: f64,
    /// Default 0.4.
    pub identity_burst: f64,
    /// Default 0.8.
    pub patient_sharing: f64,
}

impl Default for SchemeWeights {
    fn default() -> Self {
        Self {
            phantom_billing: 1.0,
            upcoding: 1.0,
            unbundling: 0.8,
            excluded_provider: 0.5,
            after_death: 0.6,
            overlapping_stay: 0.6,
            duplicate_claim: 1.0,
            impossible_day: 0.6,
            overbilling: 1.0,
            identity_distance: 0.5,
            identity_burst: 0.4,
            patient_sharing: 0.8,
        }
    }
}

impl SchemeWeights {
    /// The weight of one scheme.
    pub fn get(&self, s: Scheme) -> f64 {
        match s {
            Scheme::PhantomBilling => self.phantom_billing,
            Scheme::Upcoding => self.upcoding,
            Scheme::Unbundling => self.unbundling,
            Scheme::ExcludedProvider => self.excluded_provider,
            Scheme::AfterDeath => self.after_death,
            Scheme::OverlappingStay => self.overlapping_stay,
            Scheme::DuplicateClaim => self.duplicate_claim,
            Scheme::ImpossibleDay => self.impossible_day,
            Scheme::Overbilling => self.overbilling,
            Scheme::IdentityDistance => self.identity_distance,
            Scheme::IdentityBurst => self.identity_burst,
            Scheme::PatientSharing => self.patient_sharing,
        }
    }

    fn get_mut(&mut self, s: Scheme) -> &mut f64 {
        match s {
            Scheme::PhantomBilling => &mut self.phantom_billing,
            Scheme::Upcoding => &mut self.upcoding,
            Scheme::Unbundling => &mut self.unbundling,
            Scheme::ExcludedProvider => &mut self.excluded_provider,
            Scheme::AfterDeath => &mut self.after_death,
            Scheme::OverlappingStay => &mut self.overlapping_stay,
            Scheme::DuplicateClaim => &mut self.duplicate_claim,
            Scheme::ImpossibleDay => &mut self.impossible_day,
            Scheme::Overbilling => &mut self.overbilling,
            Scheme::IdentityDistance => &mut self.identity_distance,
            Scheme::IdentityBurst => &mut self.identity_burst,
            Scheme::PatientSharing => &mut self.patient_sharing,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClaimsSimError {
    #[error("start must be a date YYYY-MM-DD between 1990-01-01 and 2100-12-31, got {0:?}")]
    Start(String),
    #[error("days must be in 1..={MAX_DAYS}, got {0}")]
    Days(u32),
    #[error("beneficiaries must be in {MIN_BENEFICIARIES}..={MAX_BENEFICIARIES}, got {0}")]
    Beneficiaries(u32),
    #[error(
        "providers must be in {MIN_PROVIDERS}..={MAX_PROVIDERS} and at most beneficiaries ({beneficiaries}), got {providers}"
    )]
    Providers { providers: u32, beneficiaries: u32 },
    #[error("{field} must be a finite number in [{min}, {max}], got {got}")]
    Range {
        field: &'static str,
        min: f64,
        max: f64,
        got: f64,
    },
    #[error(
        "about {0:.0} claims expected (beneficiaries x yearly rates x years); at most {MAX_CLAIMS} are simulated"
    )]
    TooLarge(f64),
    #[error("scheme_weights must not all be zero while fraud_share is above zero")]
    NoSchemeWeight,
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date between 1990 and 2100.
fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1990..=2100).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let day = ward_core::time::days_from_civil(y, m, d);
    // the day must exist (no 2009-02-30)
    (ward_core::time::civil_from_days(day) == (y, m, d)).then_some(day)
}

/// The ranges [`ClaimsSimConfig::varied`] draws from: (field, low, high), uniform.
pub const VARIED_RANGES: [(&str, f64, f64); 12] = [
    ("hospital_share", 0.08, 0.45),
    ("physicians_per_provider", 2.0, 9.0),
    ("outpatient_per_year", 3.0, 10.0),
    ("inpatient_per_year", 0.2, 0.8),
    ("repeat_visit_share", 0.04, 0.22),
    ("transfer_share", 0.01, 0.11),
    ("snowbird_share", 0.02, 0.22),
    ("out_of_state_share", 0.01, 0.14),
    ("deceased_share", 0.01, 0.08),
    ("outlier_share", 0.001, 0.025),
    ("fraud_share", 0.03, 0.15),
    ("fraud_intensity", 0.02, 0.09),
];

impl ClaimsSimConfig {
    /// A payer of the default size whose rates are drawn from [`VARIED_RANGES`] (from about
    /// half to twice or more the defaults), each scheme's weight scaled by 0.5 to 1.5 and the
    /// start month drawn from 2008-2010, all from `seed`: the payers a model is trained on to
    /// carry to payers it has not seen.
    pub fn varied(seed: u64) -> Self {
        let mut r = crate::rng::Rng::new(seed ^ 0x5641_5249_4544);
        let mut c = Self {
            seed,
            ..Self::default()
        };
        for (field, lo, hi) in VARIED_RANGES {
            let v = r.uniform(lo, hi);
            let slot = match field {
                "hospital_share" => &mut c.hospital_share,
                "physicians_per_provider" => &mut c.physicians_per_provider,
                "outpatient_per_year" => &mut c.outpatient_per_year,
                "inpatient_per_year" => &mut c.inpatient_per_year,
                "repeat_visit_share" => &mut c.repeat_visit_share,
                "transfer_share" => &mut c.transfer_share,
                "snowbird_share" => &mut c.snowbird_share,
                "out_of_state_share" => &mut c.out_of_state_share,
                "deceased_share" => &mut c.deceased_share,
                "outlier_share" => &mut c.outlier_share,
                "fraud_share" => &mut c.fraud_share,
                _ => &mut c.fraud_intensity,
            };
            *slot = v;
        }
        let w = &mut c.scheme_weights;
        for x in [
            &mut w.phantom_billing,
            &mut w.upcoding,
            &mut w.unbundling,
            &mut w.excluded_provider,
            &mut w.after_death,
            &mut w.overlapping_stay,
            &mut w.duplicate_claim,
            &mut w.impossible_day,
            &mut w.overbilling,
            &mut w.identity_distance,
            &mut w.identity_burst,
            &mut w.patient_sharing,
        ] {
            *x *= r.uniform(0.5, 1.5);
        }
        let month = r.index(36);
        c.start = format!("{}-{:02}-01", 2008 + month / 12, month % 12 + 1);
        c
    }

    /// Checks every field is in range, with a message naming the field.
    pub fn validate(&self) -> Result<(), ClaimsSimError> {
        if parse_day(&self.start).is_none() {
            return Err(ClaimsSimError::Start(self.start.clone()));
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(ClaimsSimError::Days(self.days));
        }
        if !(MIN_BENEFICIARIES..=MAX_BENEFICIARIES).contains(&self.beneficiaries) {
            return Err(ClaimsSimError::Beneficiaries(self.beneficiaries));
        }
        if !(MIN_PROVIDERS..=MAX_PROVIDERS).contains(&self.providers)
            || self.providers > self.beneficiaries
        {
            return Err(ClaimsSimError::Providers {
                providers: self.providers,
                beneficiaries: self.beneficiaries,
            });
        }
        let ranges: [(&'static str, f64, f64, f64); 15] = [
            ("hospital_share", self.hospital_share, 0.01, 1.0),
            (
                "physicians_per_provider",
                self.physicians_per_provider,
                1.0,
                50.0,
            ),
            ("outpatient_per_year", self.outpatient_per_year, 0.0, 50.0),
            ("inpatient_per_year", self.inpatient_per_year, 0.0, 5.0),
            ("repeat_visit_share", self.repeat_visit_share, 0.0, 0.5),
            ("transfer_share", self.transfer_share, 0.0, 0.5),
            ("snowbird_share", self.snowbird_share, 0.0, 0.5),
            ("out_of_state_share", self.out_of_state_share, 0.0, 0.5),
            ("deceased_share", self.deceased_share, 0.0, 0.5),
            ("outlier_share", self.outlier_share, 0.0, 0.05),
            ("fraud_share", self.fraud_share, 0.0, 0.5),
            ("fraud_intensity", self.fraud_intensity, 0.0, 1.0),
            ("reinstated_share", self.reinstated_share, 0.0, 0.1),
            (
                "min_providers_per_scheme",
                f64::from(self.min_providers_per_scheme),
                0.0,
                100.0,
            ),
            ("excluded_others", f64::from(self.excluded_others), 0.0, 1e6),
        ];
        for (field, got, min, max) in ranges {
            if !(got.is_finite() && (min..=max).contains(&got)) {
                return Err(ClaimsSimError::Range {
                    field,
                    min,
                    max,
                    got,
                });
            }
        }
        let mut total = 0.0;
        for s in Scheme::ALL {
            let w = self.scheme_weights.get(s);
            if !(w.is_finite() && (0.0..=1e6).contains(&w)) {
                return Err(ClaimsSimError::Range {
                    field: weight_field(s),
                    min: 0.0,
                    max: 1e6,
                    got: w,
                });
            }
            total += w;
        }
        if total <= 0.0 && self.fraud_share > 0.0 {
            return Err(ClaimsSimError::NoSchemeWeight);
        }
        let expected = self.expected_claims();
        if expected > MAX_CLAIMS {
            return Err(ClaimsSimError::TooLarge(expected));
        }
        Ok(())
    }

    /// The number of honest claims to expect: beneficiaries x (outpatient + inpatient rate) x
    /// years, plus repeat visits.
    pub fn expected_claims(&self) -> f64 {
        f64::from(self.beneficiaries)
            * (self.outpatient_per_year * (1.0 + self.repeat_visit_share) + self.inpatient_per_year)
            * f64::from(self.days)
            / 365.0
    }

    /// Days since 1970-01-01 of [`ClaimsSimConfig::start`] (`None` when it is not a valid date).
    pub fn start_day(&self) -> Option<i64> {
        parse_day(&self.start)
    }
}

fn weight_field(s: Scheme) -> &'static str {
    match s {
        Scheme::PhantomBilling => "scheme_weights.phantom_billing",
        Scheme::Upcoding => "scheme_weights.upcoding",
        Scheme::Unbundling => "scheme_weights.unbundling",
        Scheme::ExcludedProvider => "scheme_weights.excluded_provider",
        Scheme::AfterDeath => "scheme_weights.after_death",
        Scheme::OverlappingStay => "scheme_weights.overlapping_stay",
        Scheme::DuplicateClaim => "scheme_weights.duplicate_claim",
        Scheme::ImpossibleDay => "scheme_weights.impossible_day",
        Scheme::Overbilling => "scheme_weights.overbilling",
        Scheme::IdentityDistance => "scheme_weights.identity_distance",
        Scheme::IdentityBurst => "scheme_weights.identity_burst",
        Scheme::PatientSharing => "scheme_weights.patient_sharing",
    }
}

/// One beneficiary. Days are days since 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub struct Beneficiary {
    pub dob: i32,
    /// Day of death, within the period; `None` while alive.
    pub dod: Option<i32>,
    /// 1 or 2.
    pub gender: u8,
    /// 1 to 5.
    pub race: u8,
    pub renal: bool,
    /// SSA state code.
    pub state: u8,
    /// County number within the state (10, 20, ...).
    pub county: u16,
    pub months_part_a: u8,
    pub months_part_b: u8,
    /// Bit `i` set when the beneficiary has chronic condition `i` (column order of the file).
    pub chronic: u16,
    /// The state a snowbird spends December to March in.
    pub winter_state: Option<u8>,
}

/// One provider organisation (`PRV…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub npi: u64,
    pub specialty: Specialty,
    /// SSA state code.
    pub state: u8,
    /// Hospitals bill the inpatient stays.
    pub hospital: bool,
    /// Relative size (share of the patients that choose it).
    pub size: f64,
    /// Indices into [`ClaimsSim::physicians`].
    pub physicians: Vec<u32>,
    /// The schemes it runs; empty for an honest provider.
    pub schemes: Vec<Scheme>,
}

/// One physician (`PHY…`), attached to one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Physician {
    pub npi: u64,
    /// The number written after `PHY`.
    pub number: u32,
    pub specialty: Specialty,
    pub state: u8,
    /// Index into [`ClaimsSim::providers`].
    pub provider: u32,
    /// Bit `d` set when the physician works on weekday `d` (0 = Monday).
    pub weekdays: u8,
}

/// Inpatient or outpatient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClaimKind {
    Inpatient,
    Outpatient,
}

/// One claim. Days are days since 1970-01-01; codes are indices into [`ClaimsSim::codes`]
/// (0 = none).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub kind: ClaimKind,
    /// Index into [`ClaimsSim::beneficiaries`].
    pub bene: u32,
    /// Index into [`ClaimsSim::providers`].
    pub provider: u32,
    /// `ClaimStartDt` (and `AdmissionDt` of a stay).
    pub start: i32,
    /// `ClaimEndDt` (and `DischargeDt` of a stay).
    pub end: i32,
    pub amount: u32,
    pub deductible: u32,
    /// Indices into [`ClaimsSim::physicians`].
    pub attending: u32,
    pub operating: Option<u32>,
    pub other: Option<u32>,
    pub admit_dx: u16,
    /// Index into the DRG table plus one (inpatient only), 0 for none.
    pub drg: u8,
    pub dx: [u16; 10],
    pub procs: [u16; 6],
    /// Index into [`ClaimsSim::truth`] when the claim is fraudulent.
    pub truth: Option<u32>,
}

impl Claim {
    /// Procedure codes on the claim.
    pub fn proc_count(&self) -> u32 {
        self.procs.iter().filter(|&&c| c != 0).count() as u32
    }

    /// Minutes of the attending physician's day under the detector's default assumption.
    pub fn minutes(&self) -> u32 {
        match self.kind {
            ClaimKind::Inpatient => INPATIENT_MINUTES,
            ClaimKind::Outpatient => OUTPATIENT_MINUTES + MINUTES_PER_PROCEDURE * self.proc_count(),
        }
    }
}

/// One row of `truth.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    pub scheme: Scheme,
    /// Index into [`ClaimsSim::providers`].
    pub provider: u32,
    pub bene: u32,
    /// Index into [`ClaimsSim::claims`] of the fraudulent claim.
    pub claim: Option<u32>,
    /// Another claim the detail refers to (the original of a duplicate, the overlapped stay).
    pub related: Option<u32>,
    pub detail: String,
}

/// Who an exclusion-list row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excluded {
    /// A physician of the directory (index into [`ClaimsSim::physicians`]).
    Physician(u32),
    /// Someone who never appears in the claims: an individual or a business, with an NPI or
    /// without (`0000000000`).
    Other { business: bool, npi: Option<u64> },
}

/// One row of the exclusion list (LEIE layout). Days are days since 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusion {
    /// A running number for the synthetic name (`LAST000123`, `ORG000123`).
    pub number: u32,
    pub who: Excluded,
    pub specialty: &'static str,
    pub state: u8,
    pub dob: Option<i32>,
    /// `1128a1`, `1128b4`, ...
    pub excl_type: &'static str,
    pub excl_day: i32,
    pub rein_day: Option<i32>,
}

/// Everything one claims simulation produced. Ids are indices; the writers format them
/// (`BENE11001`, `PRV51001`, `PHY311001`, `CLM100001`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsSim {
    /// Days since 1970-01-01 of the period's first day.
    pub start_day: i32,
    /// Length of the period in days.
    pub days: u32,
    /// Diagnosis and procedure codes the claims point into (index 0 is the empty code).
    pub codes: Vec<&'static str>,
    pub beneficiaries: Vec<Beneficiary>,
    pub providers: Vec<Provider>,
    pub physicians: Vec<Physician>,
    /// Sorted by start day (ties by kind, beneficiary, provider, ...): claim `i` is
    /// `CLM{100001 + i}`.
    pub claims: Vec<Claim>,
    /// Sorted by scheme, provider and claim.
    pub truth: Vec<Truth>,
    /// Sorted by exclusion date.
    pub exclusions: Vec<Exclusion>,
}

impl ClaimsSim {
    /// `BENE11001` for beneficiary 0.
    pub fn bene_id(&self, b: u32) -> String {
        format!("BENE{}", 11_001 + u64::from(b))
    }

    /// `PRV51001` for provider 0.
    pub fn provider_id(&self, p: u32) -> String {
        format!("PRV{}", 51_001 + u64::from(p))
    }

    /// `PHY…` of a physician.
    pub fn physician_id(&self, p: u32) -> String {
        format!(
            "PHY{}",
            self.physicians.get(p as usize).map_or(0, |p| p.number)
        )
    }

    /// `CLM100001` for claim 0.
    pub fn claim_id(&self, c: u32) -> String {
        format!("CLM{}", 100_001 + u64::from(c))
    }

    /// A code by index (`""` for none).
    pub fn code(&self, i: u16) -> &'static str {
        self.codes.get(usize::from(i)).copied().unwrap_or("")
    }

    /// The DRG code of a claim (`""` for none).
    pub fn drg_code(&self, c: &Claim) -> &'static str {
        usize::from(c.drg)
            .checked_sub(1)
            .and_then(|i| codes::DRGS.get(i))
            .map_or("", |d| d.code)
    }

    /// Whether a provider is fraudulent (has at least one row in the truth).
    pub fn is_fraudulent(&self, p: u32) -> bool {
        self.providers
            .get(p as usize)
            .is_some_and(|p| !p.schemes.is_empty())
    }

    /// Counts of claims, providers and schemes.
    pub fn summary(&self) -> ClaimsSummary {
        write::summary(self)
    }
}

/// Simulates the claims for `cfg`. Deterministic: no clock, no IO. Call
/// [`ClaimsSimConfig::validate`] first; out-of-range values are clamped here.
pub fn generate(cfg: &ClaimsSimConfig) -> ClaimsSim {
    let cfg = clamp(cfg);
    let mut rng = crate::rng::Rng::new(cfg.seed ^ 0x434c_4149_4d53);
    let mut world = world::World::build(&cfg, &mut rng.fork());
    let mut book = care::simulate(&cfg, &world, &mut rng.fork());
    let mut truth = fraud::inject(&cfg, &mut world, &mut book, &mut rng.fork());
    // A provider runs the schemes it has truth rows for: one whose schemes found nothing to
    // work on is honest after all, and the partners of an identity burst run that scheme.
    let mut ran: Vec<Vec<Scheme>> = vec![Vec::new(); world.providers.len()];
    for t in &truth {
        if let Some(v) = ran.get_mut(t.provider as usize)
            && !v.contains(&t.scheme)
        {
            v.push(t.scheme);
        }
    }
    for (p, mut r) in world.providers.iter_mut().zip(ran) {
        r.sort_unstable();
        p.schemes = r;
    }
    let exclusions = fraud::exclusions(&cfg, &mut world, &mut rng.fork());
    let (mut claims, remap) = care::sort_claims(std::mem::take(&mut book.claims));
    for t in &mut truth {
        t.claim = t.claim.and_then(|c| remap.get(c as usize).copied());
        t.related = t.related.and_then(|c| remap.get(c as usize).copied());
    }
    truth.sort_by(|a, b| {
        (a.scheme, a.provider, a.claim, a.bene).cmp(&(b.scheme, b.provider, b.claim, b.bene))
    });
    for c in &mut claims {
        c.truth = None;
    }
    for (i, t) in truth.iter().enumerate() {
        if let Some(c) = t.claim.and_then(|c| claims.get_mut(c as usize)) {
            c.truth = Some(i as u32);
        }
    }
    ClaimsSim {
        start_day: world.start,
        days: cfg.days,
        codes: book.codes.list,
        beneficiaries: world.benes,
        providers: world.providers,
        physicians: world.physicians,
        claims,
        truth,
        exclusions,
    }
}

fn clamp(cfg: &ClaimsSimConfig) -> ClaimsSimConfig {
    let d = ClaimsSimConfig::default();
    let f = |v: f64, dflt: f64, lo: f64, hi: f64| {
        if v.is_finite() { v.clamp(lo, hi) } else { dflt }
    };
    let mut weights = cfg.scheme_weights.clone();
    for s in Scheme::ALL {
        let w = weights.get_mut(s);
        *w = f(*w, 0.0, 0.0, 1e6);
    }
    let beneficiaries = cfg
        .beneficiaries
        .clamp(MIN_BENEFICIARIES, MAX_BENEFICIARIES);
    let mut out = ClaimsSimConfig {
        seed: cfg.seed,
        start: if parse_day(&cfg.start).is_some() {
            cfg.start.clone()
        } else {
            d.start.clone()
        },
        days: cfg.days.clamp(1, MAX_DAYS),
        beneficiaries,
        providers: cfg
            .providers
            .clamp(MIN_PROVIDERS, MAX_PROVIDERS.min(beneficiaries)),
        hospital_share: f(cfg.hospital_share, d.hospital_share, 0.01, 1.0),
        physicians_per_provider: f(
            cfg.physicians_per_provider,
            d.physicians_per_provider,
            1.0,
            50.0,
        ),
        outpatient_per_year: f(cfg.outpatient_per_year, d.outpatient_per_year, 0.0, 50.0),
        inpatient_per_year: f(cfg.inpatient_per_year, d.inpatient_per_year, 0.0, 5.0),
        repeat_visit_share: f(cfg.repeat_visit_share, d.repeat_visit_share, 0.0, 0.5),
        transfer_share: f(cfg.transfer_share, d.transfer_share, 0.0, 0.5),
        snowbird_share: f(cfg.snowbird_share, d.snowbird_share, 0.0, 0.5),
        out_of_state_share: f(cfg.out_of_state_share, d.out_of_state_share, 0.0, 0.5),
        deceased_share: f(cfg.deceased_share, d.deceased_share, 0.0, 0.5),
        outlier_share: f(cfg.outlier_share, d.outlier_share, 0.0, 0.05),
        fraud_share: f(cfg.fraud_share, d.fraud_share, 0.0, 0.5),
        fraud_intensity: f(cfg.fraud_intensity, d.fraud_intensity, 0.0, 1.0),
        min_providers_per_scheme: cfg.min_providers_per_scheme.min(100),
        scheme_weights: weights,
        excluded_others: cfg.excluded_others.min(1_000_000),
        reinstated_share: f(cfg.reinstated_share, d.reinstated_share, 0.0, 0.1),
    };
    // Too large: fewer beneficiaries rather than an out-of-memory.
    let expected = out.expected_claims();
    if expected > MAX_CLAIMS {
        let scale = MAX_CLAIMS / expected;
        out.beneficiaries = ((f64::from(out.beneficiaries) * scale) as u32).max(MIN_BENEFICIARIES);
        out.providers = out.providers.min(out.beneficiaries);
    }
    out
}
