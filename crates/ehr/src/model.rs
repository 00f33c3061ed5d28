//! The in-memory access model: dense `u32` indexes, CSR arrays, no per-access allocation.

use std::collections::HashMap;
use ward_core::time::Timestamp;

/// Dense index of a user (roster users and ids only seen in the log alike).
pub type UserIx = u32;
/// Dense index of a patient.
pub type PatientIx = u32;
/// "No value" for optional dense indexes (empty workstation, no employee link, open end).
pub const NONE: u32 = u32::MAX;
/// Open end of an encounter or care-team spell, in microseconds.
pub const OPEN_END: i64 = i64::MAX;

/// Maps string ids to dense `u32` indexes in first-seen order, and back. Hashes with
/// foldhash, seeded per process (fast on short ids, and input crafted to collide cannot
/// know the seed).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    map: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The index of `s`, adding it if new. `None` only when more than `u32::MAX - 1` distinct
    /// strings were seen.
    pub fn intern(&mut self, s: &str) -> Option<u32> {
        if let Some(&i) = self.map.get(s) {
            return Some(i);
        }
        let i = u32::try_from(self.names.len())
            .ok()
            .filter(|i| *i != NONE)?;
        let b: Box<str> = s.into();
        self.names.push(b.clone());
        self.map.insert(b, i);
        Some(i)
    }
    /// The index of `s` if it was seen.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    /// The string of index `i` (empty when out of range).
    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |b| b)
    }
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What a user did with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read the record.
    View,
    /// Created, changed or deleted something in it.
    Modify,
    /// Printed it.
    Print,
    /// Exported it.
    Export,
    /// Emergency access overriding normal restrictions.
    BreakGlass,
    /// An action outside the contract's list (kept and counted, never dropped).
    Other,
}

impl Action {
    /// Parses the contract's action names (ASCII case-insensitive, `-`/space as `_`), with a
    /// few common synonyms (`read`, `update`, `edit`, `create`, `delete`, `btg`). Anything else
    /// is [`Action::Other`].
    pub fn parse(s: &[u8]) -> Self {
        let mut buf = [0u8; 16];
        let s = trim(s);
        if s.len() > buf.len() {
            return Self::Other;
        }
        for (d, c) in buf.iter_mut().zip(s) {
            *d = match c.to_ascii_lowercase() {
                b'-' | b' ' => b'_',
                c => c,
            };
        }
        match buf.get(..s.len()).unwrap_or_default() {
            b"view" | b"read" | b"open" => Self::View,
            b"modify" | b"update" | b"edit" | b"create" | b"delete" | b"write" => Self::Modify,
            b"print" => Self::Print,
            b"export" | b"download" => Self::Export,
            b"break_glass" | b"breakglass" | b"btg" | b"emergency" => Self::BreakGlass,
            _ => Self::Other,
        }
    }
}

/// Trims ASCII whitespace from both ends.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// One access event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// 0-based data row in the access file (header excluded; for NDJSON the 0-based event
    /// index, blank lines skipped).
    pub row: u64,
    /// When it happened.
    pub time: Timestamp,
    /// Who.
    pub user: UserIx,
    /// Whose record.
    pub patient: PatientIx,
    /// What.
    pub action: Action,
    /// EHR module (interned free text, [`NONE`] when empty).
    pub module: u32,
    /// Workstation (interned, [`NONE`] when empty).
    pub workstation: u32,
}

/// Up to three normalised last-name parts, interned ([`NONE`] = unused slot).
pub type NameParts = [u32; 3];

/// A roster (HR) user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// False for ids only seen in the log or encounters, not in users.csv.
    pub in_roster: bool,
    /// Interned role ([`NONE`] when unknown).
    pub role: u32,
    /// Interned department, normalised to lowercase ([`NONE`] when unknown).
    pub department: u32,
    /// Normalised last-name parts.
    pub last_name: NameParts,
    /// Interned normalised street address: number and street ([`NONE`] when none).
    pub address: u32,
    /// Interned normalised street name without number ([`NONE`] when none).
    pub street: u32,
    /// 5-digit ZIP as a number ([`NONE`] when none).
    pub zip: u32,
}

impl User {
    /// A user seen only in the log.
    pub const UNKNOWN: Self = Self {
        in_roster: false,
        role: NONE,
        department: NONE,
        last_name: [NONE; 3],
        address: NONE,
        street: NONE,
        zip: NONE,
    };
}

/// A patient from patients.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patient {
    /// False for ids only seen in the log or encounters.
    pub in_list: bool,
    /// Normalised last-name parts.
    pub last_name: NameParts,
    /// Interned normalised street address ([`NONE`] when none).
    pub address: u32,
    /// Interned normalised street name ([`NONE`] when none).
    pub street: u32,
    /// 5-digit ZIP ([`NONE`] when none).
    pub zip: u32,
    /// Flagged as a VIP.
    pub vip: bool,
    /// Time of death (start of the day for a date), `i64::MAX` when alive.
    pub deceased: i64,
    /// The user this patient is as an employee ([`NONE`] when not an employee).
    pub employee: UserIx,
}

impl Patient {
    /// A patient seen only in the log.
    pub const UNKNOWN: Self = Self {
        in_list: false,
        last_name: [NONE; 3],
        address: NONE,
        street: NONE,
        zip: NONE,
        vip: false,
        deceased: i64::MAX,
        employee: NONE,
    };
}

/// An encounter, stored under its patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encounter {
    /// Start, microseconds since the epoch.
    pub start: i64,
    /// End, or [`OPEN_END`] while open.
    pub end: i64,
    /// Interned lowercase department.
    pub department: u32,
    /// Attending user ([`NONE`] when empty).
    pub attending: UserIx,
    /// 0-based data row in encounters.csv (for explanation text).
    pub row: u32,
}

/// A care-team membership spell, stored under its patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareSpell {
    /// The member.
    pub user: UserIx,
    /// Start, microseconds (`i64::MIN` when empty).
    pub start: i64,
    /// End, or [`OPEN_END`].
    pub end: i64,
}

/// Compressed sparse rows: the items of key `k` are `items[offsets[k]..offsets[k+1]]`.
#[derive(Debug, Clone)]
pub struct Csr<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Csr<T> {
    fn default() -> Self {
        Self {
            offsets: Vec::new(),
            items: Vec::new(),
        }
    }
}

impl<T: Copy> Csr<T> {
    /// Builds from `(key, item)` pairs for keys `0..n`, sorting each row with `order`.
    /// Pairs whose key is `>= n` are ignored (they cannot occur for interned keys).
    pub fn build(
        n: usize,
        mut pairs: Vec<(u32, T)>,
        order: impl Fn(&T, &T) -> std::cmp::Ordering,
    ) -> Self {
        pairs.retain(|(k, _)| (*k as usize) < n);
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| order(&a.1, &b.1)));
        let mut offsets = vec![0u32; n + 1];
        for (k, _) in &pairs {
            if let Some(o) = offsets.get_mut(*k as usize + 1) {
                *o += 1;
            }
        }
        for i in 1..offsets.len() {
            let prev = offsets.get(i - 1).copied().unwrap_or(0);
            if let Some(o) = offsets.get_mut(i) {
                *o += prev;
            }
        }
        Self {
            offsets,
            items: pairs.into_iter().map(|(_, t)| t).collect(),
        }
    }

    /// The items of key `k` (empty when out of range).
    pub fn get(&self, k: u32) -> &[T] {
        let k = k as usize;
        match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => self.items.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }

    /// Positions of key `k`'s items in [`Csr::items`] (empty when out of range).
    pub fn range(&self, k: u32) -> std::ops::Range<usize> {
        let k = k as usize;
        match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// All items, grouped by key.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Total number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// What the loaders saw: counts, so nothing accepted is dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    /// Access events loaded.
    pub accesses: u64,
    /// Roster users (users.csv rows).
    pub users: u64,
    /// Patients (patients.csv rows).
    pub patients: u64,
    /// Encounters loaded.
    pub encounters: u64,
    /// Care-team spells loaded.
    pub care_team: u64,
    /// Distinct user ids in the access log that are not in the roster.
    pub unknown_users: u64,
    /// Access events by a user not in the roster.
    pub unknown_user_accesses: u64,
    /// Distinct patient ids in the access log that are not in the patient list.
    pub unknown_patients: u64,
    /// Access events on a patient not in the patient list.
    pub unknown_patient_accesses: u64,
    /// Encounters or care-team rows whose patient is not in the patient list (kept).
    pub unknown_patient_encounters: u64,
    /// Access events whose action is not one of the contract's five (kept as `other`).
    pub other_actions: u64,
    /// Duplicate user rows in users.csv (the last one wins).
    pub duplicate_users: u64,
    /// Duplicate patient rows in patients.csv (the last one wins).
    pub duplicate_patients: u64,
    /// Earliest access time.
    pub first_access: Option<Timestamp>,
    /// Latest access time.
    pub last_access: Option<Timestamp>,
}

/// Everything the detector needs, loaded and joined.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// User ids.
    pub user_ids: Interner,
    /// Patient ids.
    pub patient_ids: Interner,
    /// Lowercase department names.
    pub departments: Interner,
    /// Roles as given.
    pub roles: Interner,
    /// Normalised last-name parts.
    pub name_parts: Interner,
    /// Normalised street addresses and street names.
    pub addresses: Interner,
    /// Modules and workstations.
    pub labels: Interner,
    /// Per user index.
    pub users: Vec<User>,
    /// Per patient index.
    pub patients: Vec<Patient>,
    /// Encounters by patient, sorted by start.
    pub encounters: Csr<Encounter>,
    /// Care-team spells by patient, sorted by start.
    pub care_team: Csr<CareSpell>,
    /// Access events in file order.
    pub accesses: Vec<Access>,
    /// Name of the access source (file name), for alert evidence.
    pub access_source: String,
    /// Counts.
    pub report: LoadReport,
}

impl Dataset {
    /// The user record of `u` (unknown when out of range).
    pub fn user(&self, u: UserIx) -> &User {
        self.users.get(u as usize).unwrap_or(&User::UNKNOWN)
    }
    /// The patient record of `p` (unknown when out of range).
    pub fn patient(&self, p: PatientIx) -> &Patient {
        self.patients.get(p as usize).unwrap_or(&Patient::UNKNOWN)
    }
}
