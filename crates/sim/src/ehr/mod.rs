//! A simulated hospital's EHR audit trail: who opened which patient record, why, and which of
//! those accesses were snooping.
//!
//! [`generate`] builds a hospital (clinical units, the emergency department, outpatient clinics,
//! the laboratory, radiology, pharmacy, health-information management, billing and scheduling),
//! its staff roster with shifts and home addresses, a patient registry with households (shared
//! surnames with spelling variants, shared addresses), employees who are patients, VIPs and
//! deceased patients, then encounters, care teams and the record accesses that clinical and
//! administrative workflows cause. A small, configurable share of snooping accesses of ten kinds
//! ([`CaseType`]) is injected and labelled. The `write_*` functions write the input contract of
//! ward's EHR detector (`access.csv`, `users.csv`, `patients.csv`, `encounters.csv`,
//! `care_team.csv`), the ground truth (`truth.csv`) and, optionally, the accesses as FHIR R4
//! `AuditEvent` NDJSON. See `crates/sim/README.md` ("EHR access logs").
//!
//! Pure and deterministic: the same configuration gives byte-identical files.

mod care;
mod explain;
mod snoop;
mod world;
mod write;

use serde::{Deserialize, Serialize};
use ward_core::Timestamp;

pub use explain::{EhrSummary, Explainer};
pub use write::{
    write_access_csv, write_access_fhir, write_all, write_care_team_csv, write_encounters_csv,
    write_patients_csv, write_truth_csv, write_users_csv,
};

/// Largest accepted [`EhrSimConfig::days`].
pub const MAX_DAYS: u32 = 366;
/// Largest accepted [`EhrSimConfig::history_days`].
pub const MAX_HISTORY_DAYS: u32 = 366;
/// Largest accepted [`EhrSimConfig::patients`].
pub const MAX_PATIENTS: u32 = 20_000_000;
/// Largest accepted [`EhrSimConfig::users`].
pub const MAX_USERS: u32 = 1_000_000;
/// Largest accepted [`EhrSimConfig::encounters`].
pub const MAX_ENCOUNTERS: u32 = 50_000_000;
/// Largest accepted [`EhrSimConfig::snoop_rate`].
pub const MAX_SNOOP_RATE: f64 = 0.2;
/// Smallest accepted [`EhrSimConfig::users`]: every department needs its staff.
pub const MIN_USERS: u32 = 100;
/// Smallest accepted [`EhrSimConfig::patients`].
pub const MIN_PATIENTS: u32 = 200;

/// What to simulate. Every field has a default, so `{}` is a valid configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EhrSimConfig {
    /// Random seed: the same seed gives byte-identical files. Default 42.
    pub seed: u64,
    /// Start of the audited window (accesses are written from here). The hospital keeps UTC as
    /// its wall clock. Default 2024-05-06T00:00:00Z, a Monday.
    pub start: Timestamp,
    /// Length of the audited window in days, 1 to [`MAX_DAYS`]. Default 14.
    pub days: u32,
    /// Days of encounter history before `start`, 0 to [`MAX_HISTORY_DAYS`]: encounters (and
    /// deaths) that explain follow-up accesses in the window. Default 30.
    pub history_days: u32,
    /// Patients in the registry, [`MIN_PATIENTS`] to [`MAX_PATIENTS`], at least `users`.
    /// Default 20,000.
    pub patients: u32,
    /// Staff on the HR roster, [`MIN_USERS`] to [`MAX_USERS`]. Default 1,500.
    pub users: u32,
    /// Encounters over history plus window. `None`: half an encounter per user per day (about
    /// 33,000 at the default size). At most [`MAX_ENCOUNTERS`].
    pub encounters: Option<u32>,
    /// Snooping accesses as a share of all accesses, in `[0, MAX_SNOOP_RATE]`. Default 0.002.
    pub snoop_rate: f64,
    /// Share of snooping incidents other than `off_hours`, `volume` and `break_glass` that
    /// happen outside the snooper's usual hours (they keep their primary case type), in
    /// `[0, 1]`. Default 0.15.
    pub off_hours_share: f64,
    /// Incidents of each case type injected at least, whatever the rate (so every type is
    /// present in a small run). 0 to 1,000. Default 3.
    pub min_incidents_per_type: u32,
    /// Relative weight of each case type in the snooping accesses.
    pub case_weights: CaseWeights,
    /// Share of patients who are VIPs, in `[0, 0.05]`. Default 0.001.
    pub vip_share: f64,
    /// Share of users who are also patients (`employee_user_id`), in `[0, 1]`. Default 0.35.
    pub employee_patient_share: f64,
    /// Share of patients who died before the history began, in `[0, 0.5]` (their records are
    /// still opened, by release-of-information staff). Default 0.03.
    pub deceased_share: f64,
    /// Share of emergency encounters preceded by a legitimate break-the-glass access, in
    /// `[0, 1]`. Default 0.04.
    pub emergency_break_glass_share: f64,
}

impl Default for EhrSimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            start: Timestamp(1_714_953_600_000_000),
            days: 14,
            history_days: 30,
            patients: 20_000,
            users: 1_500,
            encounters: None,
            snoop_rate: 0.002,
            off_hours_share: 0.15,
            min_incidents_per_type: 3,
            case_weights: CaseWeights::default(),
            vip_share: 0.001,
            employee_patient_share: 0.35,
            deceased_share: 0.03,
            emergency_break_glass_share: 0.04,
        }
    }
}

/// Relative weights of the snooping case types, in snooping accesses (a `volume` incident has
/// dozens of accesses, a `self` incident one to three). Each weight is finite and `>= 0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseWeights {
    /// A relative of the snooper (shared household). Default 0.14.
    pub family: f64,
    /// Someone living on the snooper's street. Default 0.09.
    pub neighbour: f64,
    /// A colleague who is a patient. Default 0.12.
    pub coworker: f64,
    /// A VIP. Default 0.08.
    pub vip: f64,
    /// A deceased patient, after death. Default 0.05.
    pub deceased: f64,
    /// The snooper's own record. Default 0.06.
    #[serde(rename = "self")]
    pub self_: f64,
    /// Break-the-glass with no encounter following. Default 0.06.
    pub break_glass: f64,
    /// An unrelated patient, outside the snooper's usual hours. Default 0.08.
    pub off_hours: f64,
    /// Many unrelated patients in one day. Default 0.22.
    pub volume: f64,
    /// One unrelated patient, again and again across days. Default 0.10.
    pub repeated: f64,
}

impl Default for CaseWeights {
    fn default() -> Self {
        Self {
            family: 0.14,
            neighbour: 0.09,
            coworker: 0.12,
            vip: 0.08,
            deceased: 0.05,
            self_: 0.06,
            break_glass: 0.06,
            off_hours: 0.08,
            volume: 0.22,
            repeated: 0.10,
        }
    }
}

impl CaseWeights {
    /// The weight of one case type.
    pub fn get(&self, c: CaseType) -> f64 {
        match c {
            CaseType::Family => self.family,
            CaseType::Neighbour => self.neighbour,
            CaseType::Coworker => self.coworker,
            CaseType::Vip => self.vip,
            CaseType::Deceased => self.deceased,
            CaseType::SelfAccess => self.self_,
            CaseType::BreakGlass => self.break_glass,
            CaseType::OffHours => self.off_hours,
            CaseType::Volume => self.volume,
            CaseType::Repeated => self.repeated,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EhrSimError {
    #[error("days must be in 1..={MAX_DAYS}, got {0}")]
    Days(u32),
    #[error("history_days must be at most {MAX_HISTORY_DAYS}, got {0}")]
    HistoryDays(u32),
    #[error("users must be in {MIN_USERS}..={MAX_USERS}, got {0}")]
    Users(u32),
    #[error(
        "patients must be in {MIN_PATIENTS}..={MAX_PATIENTS} and at least users ({users}), got {patients}"
    )]
    Patients { patients: u32, users: u32 },
    #[error("encounters must be in 1..={MAX_ENCOUNTERS}, got {0}")]
    Encounters(u32),
    #[error("{field} must be a finite number in [{min}, {max}], got {got}")]
    Range {
        field: &'static str,
        min: f64,
        max: f64,
        got: f64,
    },
    #[error("case_weights must not all be zero while snoop_rate or min_incidents_per_type is set")]
    NoCaseWeight,
    #[error("the start time must be between 1971 and 9000, got {0}")]
    Start(Timestamp),
}

impl EhrSimConfig {
    /// Checks every field is in range, with a message naming the field.
    pub fn validate(&self) -> Result<(), EhrSimError> {
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(EhrSimError::Days(self.days));
        }
        if self.history_days > MAX_HISTORY_DAYS {
            return Err(EhrSimError::HistoryDays(self.history_days));
        }
        if !(MIN_USERS..=MAX_USERS).contains(&self.users) {
            return Err(EhrSimError::Users(self.users));
        }
        if !(MIN_PATIENTS..=MAX_PATIENTS).contains(&self.patients) || self.patients < self.users {
            return Err(EhrSimError::Patients {
                patients: self.patients,
                users: self.users,
            });
        }
        if let Some(e) = self.encounters
            && !(1..=MAX_ENCOUNTERS).contains(&e)
        {
            return Err(EhrSimError::Encounters(e));
        }
        // Between 1971 and 9000: the history fits and the years print with four digits.
        if !(31_536_000_000_000..=221_845_392_000_000_000).contains(&self.start.0) {
            return Err(EhrSimError::Start(self.start));
        }
        let ranges: [(&'static str, f64, f64, f64); 6] = [
            ("snoop_rate", self.snoop_rate, 0.0, MAX_SNOOP_RATE),
            ("off_hours_share", self.off_hours_share, 0.0, 1.0),
            ("vip_share", self.vip_share, 0.0, 0.05),
            (
                "employee_patient_share",
                self.employee_patient_share,
                0.0,
                1.0,
            ),
            ("deceased_share", self.deceased_share, 0.0, 0.5),
            (
                "emergency_break_glass_share",
                self.emergency_break_glass_share,
                0.0,
                1.0,
            ),
        ];
        for (field, got, min, max) in ranges {
            if !(got.is_finite() && (min..=max).contains(&got)) {
                return Err(EhrSimError::Range {
                    field,
                    min,
                    max,
                    got,
                });
            }
        }
        if self.min_incidents_per_type > 1000 {
            return Err(EhrSimError::Range {
                field: "min_incidents_per_type",
                min: 0.0,
                max: 1000.0,
                got: f64::from(self.min_incidents_per_type),
            });
        }
        let mut total = 0.0;
        for c in CaseType::ALL {
            let w = self.case_weights.get(c);
            if !(w.is_finite() && (0.0..=1e6).contains(&w)) {
                return Err(EhrSimError::Range {
                    field: c.weight_field(),
                    min: 0.0,
                    max: 1e6,
                    got: w,
                });
            }
            total += w;
        }
        if total <= 0.0 && (self.snoop_rate > 0.0 || self.min_incidents_per_type > 0) {
            return Err(EhrSimError::NoCaseWeight);
        }
        Ok(())
    }

    /// The number of encounters generated ([`EhrSimConfig::encounters`] or its default).
    pub fn encounter_count(&self) -> u32 {
        self.encounters.unwrap_or_else(|| {
            let per_day = f64::from(self.users) * 0.5;
            let n = per_day * f64::from(self.days + self.history_days);
            (n as u32).clamp(1, MAX_ENCOUNTERS)
        })
    }
}

/// What a user (or an access) did to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Action {
    View,
    Modify,
    Print,
    Export,
    BreakGlass,
}

impl Action {
    /// The name written to `access.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Modify => "modify",
            Self::Print => "print",
            Self::Export => "export",
            Self::BreakGlass => "break_glass",
        }
    }
}

/// The part of the EHR an access opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Module {
    ChartReview,
    Results,
    Orders,
    Notes,
    Mar,
    Billing,
    Scheduling,
    Demographics,
    Imaging,
    Coding,
}

impl Module {
    /// The name written to `access.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChartReview => "chart_review",
            Self::Results => "results",
            Self::Orders => "orders",
            Self::Notes => "notes",
            Self::Mar => "mar",
            Self::Billing => "billing",
            Self::Scheduling => "scheduling",
            Self::Demographics => "demographics",
            Self::Imaging => "imaging",
            Self::Coding => "coding",
        }
    }
}

/// The kinds of snooping the simulator injects (the `case_type` column of `truth.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum CaseType {
    /// A member of the snooper's household (shared last name or address).
    Family,
    /// Someone living on the snooper's street, in the same ZIP.
    Neighbour,
    /// A colleague who is a patient (`employee_user_id` set).
    Coworker,
    /// A VIP patient.
    Vip,
    /// A deceased patient, after the death date.
    Deceased,
    /// The snooper's own record.
    #[serde(rename = "self")]
    SelfAccess,
    /// Break-the-glass with no encounter for the patient ongoing or within 24 hours after.
    BreakGlass,
    /// An unrelated patient, outside the snooper's usual hours.
    OffHours,
    /// Curiosity browsing of many unrelated patients in one day.
    Volume,
    /// One unrelated patient, opened again and again across days.
    Repeated,
}

impl CaseType {
    /// Every case type.
    pub const ALL: [CaseType; 10] = [
        Self::Family,
        Self::Neighbour,
        Self::Coworker,
        Self::Vip,
        Self::Deceased,
        Self::SelfAccess,
        Self::BreakGlass,
        Self::OffHours,
        Self::Volume,
        Self::Repeated,
    ];

    /// The name written to `truth.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Neighbour => "neighbour",
            Self::Coworker => "coworker",
            Self::Vip => "vip",
            Self::Deceased => "deceased",
            Self::SelfAccess => "self",
            Self::BreakGlass => "break_glass",
            Self::OffHours => "off_hours",
            Self::Volume => "volume",
            Self::Repeated => "repeated",
        }
    }

    fn weight_field(self) -> &'static str {
        match self {
            Self::Family => "case_weights.family",
            Self::Neighbour => "case_weights.neighbour",
            Self::Coworker => "case_weights.coworker",
            Self::Vip => "case_weights.vip",
            Self::Deceased => "case_weights.deceased",
            Self::SelfAccess => "case_weights.self_",
            Self::BreakGlass => "case_weights.break_glass",
            Self::OffHours => "case_weights.off_hours",
            Self::Volume => "case_weights.volume",
            Self::Repeated => "case_weights.repeated",
        }
    }
}

pub use world::{Department, DeptKind, EhrPatient, EhrUser, Role, Shift};

/// One encounter. Times are seconds since [`EhrSimOutput::epoch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encounter {
    pub patient: u32,
    /// Index into [`EhrSimOutput::departments`].
    pub department: u16,
    pub kind: EncounterKind,
    pub start: u32,
    /// `None` while the encounter is still open at the end of the window.
    pub end: Option<u32>,
    /// Index into [`EhrSimOutput::users`].
    pub attending: u32,
}

/// The kind of an encounter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncounterKind {
    Inpatient,
    Emergency,
    Outpatient,
}

/// One care-team membership. Times are seconds since [`EhrSimOutput::epoch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareTeam {
    pub patient: u32,
    pub user: u32,
    pub role: CareRole,
    pub start: u32,
    pub end: u32,
}

/// The role of a user on a patient's care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareRole {
    Attending,
    PrimaryNurse,
    Resident,
    Consultant,
    CaseManager,
    Pharmacist,
    EdNurse,
}

impl CareRole {
    /// The name written to `care_team.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attending => "attending",
            Self::PrimaryNurse => "primary_nurse",
            Self::Resident => "resident",
            Self::Consultant => "consultant",
            Self::CaseManager => "case_manager",
            Self::Pharmacist => "pharmacist",
            Self::EdNurse => "ed_nurse",
        }
    }
}

/// One record access. Times are seconds since [`EhrSimOutput::epoch`]; 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    pub time: u32,
    /// Index into [`EhrSimOutput::users`].
    pub user: u32,
    /// Index into [`EhrSimOutput::patients`].
    pub patient: u32,
    pub action: Action,
    pub module: Module,
    /// Index into [`EhrSimOutput::workstations`] plus one; 0 for no workstation (remote access).
    pub workstation: u32,
    /// The snooping case this access belongs to; `None` for a legitimate access.
    pub case: Option<CaseType>,
}

/// Everything one EHR simulation produced. Ids are indices; the writers format them
/// (`U000123`, `MRN00012345`, `E000001234`).
#[derive(Debug, Clone, PartialEq)]
pub struct EhrSimOutput {
    /// Unix seconds of time 0 (the start of the history).
    pub epoch: i64,
    /// Seconds since `epoch` of the audited window's start and end.
    pub window: (u32, u32),
    pub departments: Vec<Department>,
    pub users: Vec<EhrUser>,
    pub patients: Vec<EhrPatient>,
    /// Sorted by start.
    pub encounters: Vec<Encounter>,
    /// Sorted by start.
    pub care_team: Vec<CareTeam>,
    /// Sorted by time (ties by user, patient, action, module, workstation): the row order of
    /// `access.csv`.
    pub accesses: Vec<Access>,
    /// Workstation names: department index and number (`WS-ICU-012`).
    pub workstations: Vec<(u16, u16)>,
    /// Interned name and street strings that [`EhrUser`] and [`EhrPatient`] point into.
    pub strings: Vec<String>,
    /// The medical record number of each patient (a permutation of `1..=patients`, so that
    /// numbers say nothing about households or employees).
    pub patient_mrn: Vec<u32>,
    /// ZIP codes, indexed by street.
    pub street_zip: Vec<u32>,
    /// Street names (index into `strings`), indexed by street.
    pub street_name: Vec<u32>,
}

impl EhrSimOutput {
    /// Unix seconds of a simulation time.
    pub fn unix(&self, t: u32) -> i64 {
        self.epoch + i64::from(t)
    }

    /// A simulation time as a [`Timestamp`].
    pub fn timestamp(&self, t: u32) -> Timestamp {
        Timestamp(self.unix(t).saturating_mul(1_000_000))
    }

    /// The medical record number of a patient (`MRN` and eight digits in the files).
    pub fn mrn(&self, patient: u32) -> u32 {
        self.patient_mrn.get(patient as usize).copied().unwrap_or(0)
    }

    /// The `patient_id` written for a patient, such as `MRN00012345`.
    pub fn patient_id(&self, patient: u32) -> String {
        format!("MRN{:08}", self.mrn(patient))
    }

    /// The `user_id` written for a user, such as `U000123`.
    pub fn user_id(&self, user: u32) -> String {
        format!("U{:06}", u64::from(user) + 1)
    }

    /// An interned string (empty when out of range).
    pub fn string(&self, i: u32) -> &str {
        self.strings.get(i as usize).map_or("", String::as_str)
    }

    /// A street address such as `120 Maple Street` or `14 Oak Avenue Apt 3`.
    pub fn address(&self, a: world::Address) -> String {
        let name = self
            .street_name
            .get(a.street as usize)
            .map_or("", |&s| self.string(s));
        if a.apt == 0 {
            format!("{} {name}", a.house)
        } else {
            format!("{} {name} Apt {}", a.house, a.apt)
        }
    }

    /// The five-digit ZIP code of a street.
    pub fn zip(&self, a: world::Address) -> u32 {
        self.street_zip.get(a.street as usize).copied().unwrap_or(0)
    }

    /// Rows of `access.csv` (0-based) that are snooping, with their case type.
    pub fn truth(&self) -> impl Iterator<Item = (usize, &Access, CaseType)> {
        self.accesses
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.case.map(|c| (i, a, c)))
    }

    /// Counts, snoop shares and the share of accesses explained by care links.
    pub fn summary(&self) -> EhrSummary {
        Explainer::new(self).summary(self)
    }
}

pub use world::Address;

/// Simulates the hospital's EHR audit trail for `cfg`. Deterministic: no clock, no IO. Call
/// [`EhrSimConfig::validate`] first; out-of-range values are clamped here.
pub fn generate(cfg: &EhrSimConfig) -> EhrSimOutput {
    let cfg = clamp(cfg);
    let mut rng = crate::rng::Rng::new(cfg.seed ^ 0x4548_5253_494d);
    let mut world = world::World::build(&cfg, &mut rng.fork());
    let mut care = care::simulate(&cfg, &mut world, &mut rng.fork());
    let explainer = Explainer::from_parts(
        world.patients.len(),
        &care.encounters,
        &care.care_team,
        &world.users,
    );
    snoop::inject(
        &cfg,
        &world,
        &explainer,
        &mut care.accesses,
        &mut rng.fork(),
    );
    care.accesses.sort_unstable_by(|a, b| {
        (
            a.time,
            a.user,
            a.patient,
            a.action,
            a.module,
            a.workstation,
            a.case,
        )
            .cmp(&(
                b.time,
                b.user,
                b.patient,
                b.action,
                b.module,
                b.workstation,
                b.case,
            ))
    });
    let mut patient_mrn: Vec<u32> = (1..=world.patients.len() as u32).collect();
    let mut prng = rng.fork();
    for i in (1..patient_mrn.len()).rev() {
        patient_mrn.swap(i, prng.index(i + 1));
    }
    EhrSimOutput {
        patient_mrn,
        epoch: world.epoch,
        window: world.window,
        departments: world.departments,
        users: world.users,
        patients: world.patients,
        encounters: care.encounters,
        care_team: care.care_team,
        accesses: care.accesses,
        workstations: world.workstations,
        strings: world.strings,
        street_zip: world.street_zip,
        street_name: world.street_name,
    }
}

fn clamp(cfg: &EhrSimConfig) -> EhrSimConfig {
    let d = EhrSimConfig::default();
    let f = |v: f64, dflt: f64, lo: f64, hi: f64| {
        if v.is_finite() { v.clamp(lo, hi) } else { dflt }
    };
    let users = cfg.users.clamp(MIN_USERS, MAX_USERS);
    let mut weights = cfg.case_weights.clone();
    for w in [
        &mut weights.family,
        &mut weights.neighbour,
        &mut weights.coworker,
        &mut weights.vip,
        &mut weights.deceased,
        &mut weights.self_,
        &mut weights.break_glass,
        &mut weights.off_hours,
        &mut weights.volume,
        &mut weights.repeated,
    ] {
        *w = f(*w, 0.0, 0.0, 1e6);
    }
    let start = if (31_536_000_000_000..=221_845_392_000_000_000).contains(&cfg.start.0) {
        cfg.start
    } else {
        d.start
    };
    EhrSimConfig {
        seed: cfg.seed,
        start,
        days: cfg.days.clamp(1, MAX_DAYS),
        history_days: cfg.history_days.min(MAX_HISTORY_DAYS),
        users,
        patients: cfg
            .patients
            .clamp(MIN_PATIENTS.max(users), MAX_PATIENTS.max(users)),
        encounters: cfg.encounters.map(|e| e.clamp(1, MAX_ENCOUNTERS)),
        snoop_rate: f(cfg.snoop_rate, d.snoop_rate, 0.0, MAX_SNOOP_RATE),
        off_hours_share: f(cfg.off_hours_share, d.off_hours_share, 0.0, 1.0),
        min_incidents_per_type: cfg.min_incidents_per_type.min(1000),
        case_weights: weights,
        vip_share: f(cfg.vip_share, d.vip_share, 0.0, 0.05),
        employee_patient_share: f(
            cfg.employee_patient_share,
            d.employee_patient_share,
            0.0,
            1.0,
        ),
        deceased_share: f(cfg.deceased_share, d.deceased_share, 0.0, 0.5),
        emergency_break_glass_share: f(
            cfg.emergency_break_glass_share,
            d.emergency_break_glass_share,
            0.0,
            1.0,
        ),
    }
}
