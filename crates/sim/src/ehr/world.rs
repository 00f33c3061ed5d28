//! The hospital's departments, staff roster (roles, shifts, homes) and patient registry
//! (households with surname variants, employees, VIPs, the long deceased).

use super::EhrSimConfig;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a department does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeptKind {
    /// A ward or intensive care unit with beds.
    Inpatient,
    /// The emergency department.
    Emergency,
    /// An outpatient clinic (including employee health).
    Clinic,
    Laboratory,
    Radiology,
    Pharmacy,
    /// Health-information management: coding, release of information.
    Him,
    Billing,
    Scheduling,
    /// Float-pool nurses who cover any unit.
    FloatPool,
    /// Graduate medical education: residents rotating through the units.
    Residency,
    It,
    /// Quality and patient safety: chart reviews.
    Quality,
}

/// One department.
#[derive(Debug, Clone, PartialEq)]
pub struct Department {
    /// Short code used in workstation names (`ICU`).
    pub code: &'static str,
    /// The name written to `users.csv` and `encounters.csv`.
    pub name: &'static str,
    pub kind: DeptKind,
}

/// (code, name, kind, staff weight, encounter weight within its kind)
const DEPTS: &[(&str, &str, DeptKind, f64, f64)] = &[
    ("ICU", "Intensive Care", DeptKind::Inpatient, 6.0, 0.6),
    ("MEDA", "Medicine A", DeptKind::Inpatient, 7.0, 1.6),
    ("MEDB", "Medicine B", DeptKind::Inpatient, 7.0, 1.6),
    ("SURG", "General Surgery", DeptKind::Inpatient, 6.0, 1.2),
    ("CARD", "Cardiology", DeptKind::Inpatient, 5.0, 1.0),
    ("ONC", "Oncology", DeptKind::Inpatient, 4.0, 0.7),
    ("PEDS", "Pediatrics", DeptKind::Inpatient, 3.0, 0.6),
    ("OB", "Obstetrics", DeptKind::Inpatient, 3.0, 0.8),
    ("ORTH", "Orthopedics", DeptKind::Inpatient, 3.0, 0.6),
    ("NEUR", "Neurology", DeptKind::Inpatient, 3.0, 0.5),
    ("ED", "Emergency Department", DeptKind::Emergency, 9.0, 1.0),
    ("PCC", "Primary Care Clinic", DeptKind::Clinic, 6.0, 3.0),
    ("CCL", "Cardiology Clinic", DeptKind::Clinic, 2.0, 1.0),
    ("OCL", "Oncology Clinic", DeptKind::Clinic, 2.0, 1.0),
    ("OPC", "Orthopedic Clinic", DeptKind::Clinic, 2.0, 1.0),
    ("DERM", "Dermatology Clinic", DeptKind::Clinic, 1.0, 0.5),
    ("WHC", "Women's Health Clinic", DeptKind::Clinic, 2.0, 0.9),
    ("PCL", "Pediatric Clinic", DeptKind::Clinic, 2.0, 0.9),
    ("EHC", "Employee Health", DeptKind::Clinic, 0.6, 0.0),
    ("LAB", "Laboratory", DeptKind::Laboratory, 4.0, 0.0),
    ("RAD", "Radiology", DeptKind::Radiology, 4.0, 0.0),
    ("PHR", "Pharmacy", DeptKind::Pharmacy, 3.0, 0.0),
    (
        "HIM",
        "Health Information Management",
        DeptKind::Him,
        2.5,
        0.0,
    ),
    (
        "BIL",
        "Patient Financial Services",
        DeptKind::Billing,
        2.5,
        0.0,
    ),
    (
        "SCH",
        "Patient Access and Scheduling",
        DeptKind::Scheduling,
        2.0,
        0.0,
    ),
    ("FLT", "Nursing Float Pool", DeptKind::FloatPool, 3.0, 0.0),
    (
        "GME",
        "Graduate Medical Education",
        DeptKind::Residency,
        4.0,
        0.0,
    ),
    ("IT", "Information Technology", DeptKind::It, 1.5, 0.0),
    (
        "QPS",
        "Quality and Patient Safety",
        DeptKind::Quality,
        0.6,
        0.0,
    ),
];

/// A staff member's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Physician,
    Resident,
    Nurse,
    NursingAssistant,
    MedicalAssistant,
    UnitClerk,
    CaseManager,
    LabTech,
    Radiologist,
    RadiologyTech,
    Pharmacist,
    HimCoder,
    HimSpecialist,
    BillingSpecialist,
    Scheduler,
    ItAnalyst,
    QualityAnalyst,
}

impl Role {
    /// The name written to `users.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Physician => "physician",
            Self::Resident => "resident",
            Self::Nurse => "nurse",
            Self::NursingAssistant => "nursing_assistant",
            Self::MedicalAssistant => "medical_assistant",
            Self::UnitClerk => "unit_clerk",
            Self::CaseManager => "case_manager",
            Self::LabTech => "lab_tech",
            Self::Radiologist => "radiologist",
            Self::RadiologyTech => "radiology_tech",
            Self::Pharmacist => "pharmacist",
            Self::HimCoder => "him_coder",
            Self::HimSpecialist => "him_specialist",
            Self::BillingSpecialist => "billing_specialist",
            Self::Scheduler => "scheduler",
            Self::ItAnalyst => "it_analyst",
            Self::QualityAnalyst => "quality_analyst",
        }
    }
}

/// Roles every department of a kind needs first, then the mix for the rest.
fn roles_of(kind: DeptKind) -> (&'static [Role], &'static [(Role, f64)]) {
    use Role::*;
    match kind {
        DeptKind::Inpatient => (
            &[Physician, Nurse, Nurse, Nurse],
            &[
                (Nurse, 0.68),
                (Physician, 0.14),
                (NursingAssistant, 0.07),
                (UnitClerk, 0.06),
                (CaseManager, 0.05),
            ],
        ),
        DeptKind::Emergency => (
            &[Physician, Nurse, Nurse, UnitClerk],
            &[
                (Nurse, 0.55),
                (Physician, 0.22),
                (UnitClerk, 0.13),
                (NursingAssistant, 0.10),
            ],
        ),
        DeptKind::Clinic => (
            &[Physician, MedicalAssistant, UnitClerk],
            &[
                (Physician, 0.33),
                (MedicalAssistant, 0.35),
                (Nurse, 0.15),
                (UnitClerk, 0.17),
            ],
        ),
        DeptKind::Laboratory => (&[LabTech, LabTech, LabTech], &[(LabTech, 1.0)]),
        DeptKind::Radiology => (
            &[Radiologist, RadiologyTech, RadiologyTech],
            &[(Radiologist, 0.3), (RadiologyTech, 0.7)],
        ),
        DeptKind::Pharmacy => (&[Pharmacist, Pharmacist, Pharmacist], &[(Pharmacist, 1.0)]),
        DeptKind::Him => (
            &[HimCoder, HimSpecialist],
            &[(HimCoder, 0.7), (HimSpecialist, 0.3)],
        ),
        DeptKind::Billing => (&[BillingSpecialist], &[(BillingSpecialist, 1.0)]),
        DeptKind::Scheduling => (&[Scheduler], &[(Scheduler, 1.0)]),
        DeptKind::FloatPool => (&[Nurse, Nurse, Nurse], &[(Nurse, 1.0)]),
        DeptKind::Residency => (&[Resident, Resident], &[(Resident, 1.0)]),
        DeptKind::It => (&[ItAnalyst], &[(ItAnalyst, 1.0)]),
        DeptKind::Quality => (&[QualityAnalyst], &[(QualityAnalyst, 1.0)]),
    }
}

/// A user's usual working hours: a shift starting at `start_min` (minutes after midnight UTC)
/// for `minutes`, on the weekdays in `days` (bit 0 Monday ... bit 6 Sunday; the day the shift
/// starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shift {
    pub start_min: u16,
    pub minutes: u16,
    pub days: u8,
}

/// Slack around a shift that still counts as usual hours (arriving early, staying late).
pub const USUAL_SLACK_MIN: u32 = 60;

impl Shift {
    /// Whether a minute of the day falls within the shift widened by `slack` minutes on each
    /// side (the day of the week is not considered).
    pub fn covers_minute(&self, minute_of_day: u32, slack: u32) -> bool {
        let start = (u32::from(self.start_min) + 1440 - slack % 1440) % 1440;
        let len = u32::from(self.minutes) + 2 * slack;
        if len >= 1440 {
            return true;
        }
        (minute_of_day % 1440 + 1440 - start) % 1440 < len
    }

    /// Whether the shift starts on this weekday (0 = Monday).
    pub fn works(&self, weekday: u32) -> bool {
        weekday < 7 && self.days & (1 << weekday) != 0
    }
}

/// A street address: street index, house number, apartment (0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    pub street: u32,
    pub house: u16,
    pub apt: u16,
}

/// One staff member on the HR roster.
#[derive(Debug, Clone, PartialEq)]
pub struct EhrUser {
    /// Index into [`super::EhrSimOutput::strings`].
    pub first_name: u32,
    /// Index into [`super::EhrSimOutput::strings`].
    pub last_name: u32,
    pub role: Role,
    /// Index into [`super::EhrSimOutput::departments`].
    pub department: u16,
    pub address: Address,
    /// The user's usual hours (not written to `users.csv`: a detector has to learn them).
    pub shift: Shift,
    /// The user's household (shared with the relatives in the patient registry).
    pub household: u32,
    /// The user's own patient record, if any.
    pub patient: Option<u32>,
}

/// One patient in the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct EhrPatient {
    /// Index into [`super::EhrSimOutput::strings`].
    pub first_name: u32,
    /// Index into [`super::EhrSimOutput::strings`].
    pub last_name: u32,
    /// Days since 1970-01-01.
    pub birth_day: i32,
    pub address: Address,
    pub vip: bool,
    /// Date of death, days since 1970-01-01.
    pub deceased_day: Option<i32>,
    /// The user this patient is, for employees.
    pub employee: Option<u32>,
    pub household: u32,
}

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "García",
    "Miller",
    "Davis",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Pérez",
    "Thompson",
    "White",
    "Harris",
    "Sánchez",
    "Clark",
    "Ramírez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gómez",
    "Phillips",
    "Evans",
    "Turner",
    "Díaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutiérrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chávez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Álvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jiménez",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Bell",
    "Coleman",
    "Butler",
    "Henderson",
    "Barnes",
    "Gonzales",
    "Fisher",
    "Vásquez",
    "Simmons",
    "Romero",
    "Jordan",
    "Patterson",
    "Alexander",
    "Hamilton",
    "Graham",
    "Reynolds",
    "Griffin",
    "Wallace",
    "Moreno",
    "West",
    "Cole",
    "Hayes",
    "Bryant",
    "Herrera",
    "Gibson",
    "Ellis",
    "Tran",
    "Medina",
    "Aguilar",
    "Stevens",
    "Murray",
    "Ford",
    "Castro",
    "Marshall",
    "Owens",
    "Harrison",
    "Fernández",
    "McDonald",
    "Woods",
    "Washington",
    "Kennedy",
    "Wells",
    "Vargas",
    "Henry",
    "Chen",
    "Freeman",
    "Webb",
    "Tucker",
    "Guzmán",
    "Burns",
    "Crawford",
    "Olson",
    "Simpson",
    "Porter",
    "Hunter",
    "Gordon",
    "Mendez",
    "Silva",
    "Shaw",
    "Snyder",
    "Mason",
    "Dixon",
    "Muñoz",
    "Hunt",
    "Hicks",
    "Holmes",
    "Palmer",
    "Wagner",
    "Black",
    "Robertson",
    "Boyd",
    "Rose",
    "Stone",
    "Salazar",
    "Fox",
    "Warren",
    "Mills",
    "Meyer",
    "Rice",
    "Schmidt",
    "García-Lopez",
    "O'Brien",
    "Müller",
    "Novák",
    "Kowalski",
    "Nowak",
    "Ivanov",
    "Haddad",
    "Nakamura",
    "Okafor",
    "Singh",
    "Khan",
    "Yilmaz",
    "Søndergaard",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Bianchi",
    "Costa",
    "Santos",
    "Oliveira",
    "Pereira",
    "Björk",
    "Nieminen",
    "Schäfer",
    "Weiß",
    "Çelik",
    "Doğan",
];

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Dorothy",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "José",
    "María",
    "Luis",
    "Ana",
    "Carlos",
    "Sofía",
    "Juan",
    "Lucía",
    "Miguel",
    "Camila",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Ahmed",
    "Fatima",
    "Omar",
    "Aisha",
    "Raj",
    "Priya",
    "Olga",
    "Ivan",
    "Chloé",
    "François",
    "Zoë",
    "Noah",
    "Liam",
    "Olivia",
    "Emma",
    "Ava",
    "Mia",
    "Ethan",
    "Mason",
    "Isabella",
    "Harper",
    "Lucas",
    "Amelia",
    "Elijah",
    "Evelyn",
    "Logan",
    "Abigail",
    "Jacob",
    "Ella",
    "Aiden",
    "Grace",
    "Jackson",
    "Nora",
    "Leo",
    "Hannah",
    "Sebastian",
    "Zoe",
    "Jack",
];

const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Walnut",
    "Sunset",
    "Lincoln",
    "Church",
    "River",
    "Willow",
    "Jackson",
    "Highland",
    "Spring",
    "Meadow",
    "Forest",
    "Chestnut",
    "Franklin",
    "Center",
    "Union",
    "Mill",
    "Ridge",
    "Adams",
    "Jefferson",
    "Madison",
    "Birch",
    "Dogwood",
    "Hickory",
    "Magnolia",
    "Laurel",
    "Aspen",
    "Sycamore",
    "Poplar",
    "Cherry",
    "Valley",
    "Prospect",
    "Broad",
    "Market",
    "Water",
    "Bridge",
    "Orchard",
    "Harbor",
    "Summit",
    "Grove",
    "College",
];

const SUFFIXES: &[&str] = &[
    "Street",
    "Avenue",
    "Road",
    "Lane",
    "Drive",
    "Court",
    "Place",
    "Boulevard",
    "Way",
    "Terrace",
];

const STREETS_PER_ZIP: u32 = 30;

/// Interned strings: names and street names are stored once.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    pub(crate) strings: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// Folds the accented letters of the name tables to ASCII (`García` -> `Garcia`).
pub(crate) fn fold_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'Á' | 'À' | 'Ä' | 'Â' => 'A',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'É' | 'È' => 'E',
            'í' | 'ï' | 'î' => 'i',
            'Í' => 'I',
            'ó' | 'ö' | 'ô' | 'ø' => 'o',
            'Ó' | 'Ö' | 'Ø' => 'O',
            'ú' | 'ü' | 'û' => 'u',
            'Ú' | 'Ü' => 'U',
            'ñ' => 'n',
            'Ñ' => 'N',
            'ç' => 'c',
            'Ç' => 'C',
            'ğ' => 'g',
            'ß' => 's',
            other => other,
        })
        .collect()
}

/// Everything [`World::build`] makes: the input to the care simulation.
pub(crate) struct World {
    pub(crate) epoch: i64,
    pub(crate) window: (u32, u32),
    /// Weekday (0 = Monday) of day 0.
    pub(crate) weekday0: u32,
    pub(crate) departments: Vec<Department>,
    pub(crate) dept_weight: Vec<f64>,
    pub(crate) users: Vec<EhrUser>,
    pub(crate) patients: Vec<EhrPatient>,
    pub(crate) workstations: Vec<(u16, u16)>,
    /// Per department: first workstation index and count.
    pub(crate) dept_ws: Vec<(u32, u32)>,
    pub(crate) strings: Vec<String>,
    pub(crate) street_zip: Vec<u32>,
    pub(crate) street_name: Vec<u32>,
    /// Users of a department with a role.
    pub(crate) staff: HashMap<(u16, Role), Vec<u32>>,
    /// Users of a department with a role on duty in each hour of the week (168 lists).
    pub(crate) on_duty: HashMap<(u16, Role), Vec<Vec<u32>>>,
    /// Users by role, hospital-wide.
    pub(crate) by_role: HashMap<Role, Vec<u32>>,
    /// Patient households: the first patient of each household and its size.
    pub(crate) households: Vec<(u32, u16)>,
}

impl World {
    pub(crate) fn build(cfg: &EhrSimConfig, rng: &mut Rng) -> World {
        let start_unix = cfg.start.0.div_euclid(1_000_000);
        let start_day = start_unix.div_euclid(86_400);
        let epoch = (start_day - i64::from(cfg.history_days)) * 86_400;
        let w0 = cfg.history_days * 86_400;
        let window = (w0, w0 + cfg.days * 86_400);
        let weekday0 = ((start_day - i64::from(cfg.history_days)) + 3).rem_euclid(7) as u32;

        let departments: Vec<Department> = DEPTS
            .iter()
            .map(|&(code, name, kind, _, _)| Department { code, name, kind })
            .collect();
        let dept_weight: Vec<f64> = DEPTS.iter().map(|d| d.4).collect();
        let mut strings = Interner::default();

        // Streets: ZIP codes, each with its streets. Names repeat across ZIPs.
        let zips = (cfg.patients / 4000).clamp(8, 400);
        let n_streets = zips * STREETS_PER_ZIP;
        let mut street_zip = Vec::with_capacity(n_streets as usize);
        let mut street_name = Vec::with_capacity(n_streets as usize);
        for z in 0..zips {
            let zip = 20_000 + z * 13 + (z % 7);
            for _ in 0..STREETS_PER_ZIP {
                let name = format!(
                    "{} {}",
                    rng.pick(STREETS).copied().unwrap_or("Main"),
                    rng.pick(SUFFIXES).copied().unwrap_or("Street")
                );
                street_zip.push(zip);
                street_name.push(strings.intern(&name));
            }
        }
        let near = (zips / 4).max(1) * STREETS_PER_ZIP;
        let new_address = |rng: &mut Rng, staff: bool| {
            let street = if staff && rng.chance(0.75) {
                rng.index(near as usize) as u32
            } else {
                rng.index(n_streets as usize) as u32
            };
            // A few buildings with apartments per street, houses otherwise.
            let (house, apt) = if rng.chance(0.25) {
                (10 + 100 * rng.range_u16(0, 4), rng.range_u16(1, 40))
            } else {
                (rng.range_u16(1, 1999), 0)
            };
            Address { street, house, apt }
        };

        // Staff counts per department: the essential roles first, the rest by weight.
        let essential: usize = DEPTS.iter().map(|d| roles_of(d.2).0.len()).sum();
        let spare = (cfg.users as usize).saturating_sub(essential);
        let total_w: f64 = DEPTS.iter().map(|d| d.3).sum();
        let mut counts: Vec<usize> = DEPTS
            .iter()
            .map(|d| roles_of(d.2).0.len() + (spare as f64 * d.3 / total_w) as usize)
            .collect();
        let mut assigned: usize = counts.iter().sum();
        let mut k = 0;
        while assigned < cfg.users as usize {
            if let Some(c) = counts.get_mut(k % DEPTS.len()) {
                *c += 1;
            }
            assigned += 1;
            k += 1;
        }

        let mut users = Vec::with_capacity(assigned);
        let mut households: Vec<(u32, u16)> = Vec::new();
        let mut user_addr = Vec::with_capacity(assigned);
        for (d, &(_, _, kind, _, _)) in DEPTS.iter().enumerate() {
            let (first, mix) = roles_of(kind);
            let n = counts.get(d).copied().unwrap_or(0);
            for i in 0..n {
                let role = match first.get(i) {
                    Some(&r) => r,
                    None => pick_weighted(rng, mix).unwrap_or(first[0]),
                };
                let shift = shift_for(rng, kind, role, i);
                let last = pick_last(rng);
                let first_name = rng.pick(FIRST_NAMES).copied().unwrap_or("Alex");
                let address = new_address(rng, true);
                user_addr.push(address);
                users.push(EhrUser {
                    first_name: strings.intern(first_name),
                    last_name: strings.intern(last),
                    role,
                    department: d as u16,
                    address,
                    shift,
                    household: u32::MAX,
                    patient: None,
                });
            }
        }

        // Patients: employees' households first (the employee, if a patient, and relatives
        // with surname variants), then the general population.
        let mut patients: Vec<EhrPatient> = Vec::with_capacity(cfg.patients as usize);
        let cap = cfg.patients as usize;
        let family_cap = cap / 2;
        let birth = |rng: &mut Rng, min_age: f64, max_age: f64, start_day: i64| {
            let age = rng.uniform(min_age, max_age);
            (start_day as f64 - age * 365.25) as i32
        };
        for u in 0..users.len() {
            let hh = households.len() as u32;
            let first_pat = patients.len() as u32;
            let Some(user) = users.get_mut(u) else {
                continue;
            };
            user.household = hh;
            let base = strings.strings.get(user.last_name as usize).cloned();
            let base = base.unwrap_or_default();
            // HR sometimes holds the ASCII spelling of an accented name.
            if rng.chance(0.3) {
                let folded = fold_ascii(&base);
                user.last_name = strings.intern(&folded);
            }
            if patients.len() < family_cap && rng.chance(cfg.employee_patient_share) {
                let ln = variant(rng, &base, &mut strings);
                let address = if rng.chance(0.08) {
                    new_address(rng, true)
                } else {
                    user.address
                };
                user.patient = Some(patients.len() as u32);
                patients.push(EhrPatient {
                    first_name: user.first_name,
                    last_name: ln,
                    birth_day: birth(rng, 20.0, 67.0, start_day),
                    address,
                    vip: false,
                    deceased_day: None,
                    employee: Some(u as u32),
                    household: hh,
                });
            }
            let relatives = rng.poisson(1.4).min(6);
            for _ in 0..relatives {
                if patients.len() >= family_cap {
                    break;
                }
                let ln = if rng.chance(0.08) {
                    strings.intern(pick_last(rng))
                } else {
                    variant(rng, &base, &mut strings)
                };
                let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Sam");
                let address = if rng.chance(0.1) {
                    new_address(rng, true)
                } else {
                    user.address
                };
                patients.push(EhrPatient {
                    first_name: strings.intern(first),
                    last_name: ln,
                    birth_day: birth(rng, 0.0, 90.0, start_day),
                    address,
                    vip: false,
                    deceased_day: None,
                    employee: None,
                    household: hh,
                });
            }
            let size = (patients.len() as u32 - first_pat).min(u32::from(u16::MAX)) as u16;
            households.push((first_pat, size));
        }
        while patients.len() < cap {
            let hh = households.len() as u32;
            let first_pat = patients.len() as u32;
            let base = pick_last(rng).to_owned();
            let address = new_address(rng, false);
            let size = 1 + rng.poisson(1.0).min(6) as usize;
            for _ in 0..size.min(cap - patients.len()) {
                let ln = if rng.chance(0.1) {
                    strings.intern(pick_last(rng))
                } else {
                    variant(rng, &base, &mut strings)
                };
                let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Sam");
                patients.push(EhrPatient {
                    first_name: strings.intern(first),
                    last_name: ln,
                    birth_day: birth(rng, 0.0, 95.0, start_day),
                    address,
                    vip: false,
                    deceased_day: None,
                    employee: None,
                    household: hh,
                });
            }
            households.push((first_pat, (patients.len() as u32 - first_pat) as u16));
        }
        // VIPs: anyone outside the staff households.
        let n_vip = (cfg.patients as f64 * cfg.vip_share).round() as usize;
        let general_from = households
            .get(users.len())
            .map_or(patients.len(), |h| h.0 as usize);
        for _ in 0..n_vip {
            let span = patients.len().saturating_sub(general_from);
            if span == 0 {
                break;
            }
            if let Some(p) = patients.get_mut(general_from + rng.index(span)) {
                p.vip = true;
            }
        }

        // Workstations: about one per three staff, at least two per department.
        let mut workstations = Vec::new();
        let mut dept_ws = Vec::with_capacity(DEPTS.len());
        for (d, &n) in counts.iter().enumerate() {
            let k = (n / 3).max(2).min(usize::from(u16::MAX));
            dept_ws.push((workstations.len() as u32, k as u32));
            for i in 0..k {
                workstations.push((d as u16, (i + 1) as u16));
            }
        }

        let mut staff: HashMap<(u16, Role), Vec<u32>> = HashMap::new();
        let mut on_duty: HashMap<(u16, Role), Vec<Vec<u32>>> = HashMap::new();
        let mut by_role: HashMap<Role, Vec<u32>> = HashMap::new();
        for (i, u) in users.iter().enumerate() {
            let i = i as u32;
            staff.entry((u.department, u.role)).or_default().push(i);
            by_role.entry(u.role).or_default().push(i);
            let hours = on_duty
                .entry((u.department, u.role))
                .or_insert_with(|| vec![Vec::new(); 168]);
            for wd in 0..7u32 {
                if !u.shift.works(wd) {
                    continue;
                }
                let first_h = u32::from(u.shift.start_min).div_ceil(60);
                let last_h = (u32::from(u.shift.start_min) + u32::from(u.shift.minutes)) / 60;
                for h in first_h..last_h {
                    let how = (wd * 24 + h) % 168;
                    if let Some(l) = hours.get_mut(how as usize) {
                        l.push(i);
                    }
                }
            }
        }

        World {
            epoch,
            window,
            weekday0,
            departments,
            dept_weight,
            users,
            patients,
            workstations,
            dept_ws,
            strings: strings.strings,
            street_zip,
            street_name,
            staff,
            on_duty,
            by_role,
            households,
        }
    }

    /// Weekday (0 = Monday) of a simulation time.
    pub(crate) fn weekday(&self, t: u32) -> u32 {
        (self.weekday0 + t / 86_400) % 7
    }

    /// Hour of the week (0 = Monday 00:00) of a simulation time.
    pub(crate) fn hour_of_week(&self, t: u32) -> u32 {
        self.weekday(t) * 24 + (t % 86_400) / 3600
    }

    /// A workstation (index plus one) of the user's department.
    pub(crate) fn workstation(&self, rng: &mut Rng, user: u32) -> u32 {
        let d = self
            .users
            .get(user as usize)
            .map_or(0, |u| usize::from(u.department));
        let (first, n) = self.dept_ws.get(d).copied().unwrap_or((0, 0));
        if n == 0 {
            0
        } else {
            first + rng.index(n as usize) as u32 + 1
        }
    }

    /// A user of the department and role on duty at `t`, if any.
    pub(crate) fn on_duty_at(&self, rng: &mut Rng, dept: u16, role: Role, t: u32) -> Option<u32> {
        let lists = self.on_duty.get(&(dept, role))?;
        // A night shift started yesterday: the hour-of-week lists already wrap.
        let l = lists.get(self.hour_of_week(t) as usize)?;
        rng.pick(l).copied()
    }

    /// Any user of the department and role.
    pub(crate) fn any_staff(&self, rng: &mut Rng, dept: u16, role: Role) -> Option<u32> {
        rng.pick(self.staff.get(&(dept, role))?).copied()
    }

    /// A random time within the user's shift on the first working day at or after `day`
    /// (looking a week ahead), if within `limit`.
    pub(crate) fn time_in_shift(
        &self,
        user: u32,
        day: u32,
        limit: u32,
        rng: &mut Rng,
    ) -> Option<u32> {
        let u = self.users.get(user as usize)?;
        for d in day..day + 7 {
            if u.shift.works((self.weekday0 + d) % 7) {
                let t = d * 86_400
                    + u32::from(u.shift.start_min) * 60
                    + rng.index(usize::from(u.shift.minutes).max(1) * 60) as u32;
                return (t < limit).then_some(t);
            }
        }
        None
    }
}

fn pick_weighted<T: Copy>(rng: &mut Rng, items: &[(T, f64)]) -> Option<T> {
    let total: f64 = items.iter().map(|i| i.1).sum();
    let mut x = rng.f64() * total;
    for &(v, w) in items {
        if x < w {
            return Some(v);
        }
        x -= w;
    }
    items.last().map(|i| i.0)
}

/// A surname with a Zipf-like skew: common names are shared by many unrelated families.
fn pick_last(rng: &mut Rng) -> &'static str {
    rng.pick_skewed(LAST_NAMES).copied().unwrap_or("Smith")
}

/// A relative's spelling of the family name: mostly the same, sometimes folded to ASCII,
/// upper-cased or hyphenated with another surname.
fn variant(rng: &mut Rng, base: &str, strings: &mut Interner) -> u32 {
    let x = rng.f64();
    if x < 0.72 {
        strings.intern(base)
    } else if x < 0.84 {
        strings.intern(&fold_ascii(base))
    } else if x < 0.89 {
        strings.intern(&base.to_uppercase())
    } else if x < 0.95 {
        strings.intern(&format!("{base}-{}", pick_last(rng)))
    } else {
        strings.intern(&format!("{}-{base}", pick_last(rng)))
    }
}

const MON_FRI: u8 = 0b001_1111;

/// Five working days out of seven (two consecutive days off), or three for 12-hour shifts.
fn workdays(rng: &mut Rng, long_shift: bool) -> u8 {
    if long_shift {
        let mut days = 0u8;
        while days.count_ones() < 3 {
            days |= 1 << rng.index(7);
        }
        days
    } else {
        let off = rng.index(7) as u32;
        let off_mask = (1u8 << off) | (1u8 << ((off + 1) % 7));
        0x7f & !off_mask
    }
}

fn shift_for(rng: &mut Rng, kind: DeptKind, role: Role, i: usize) -> Shift {
    use Role::*;
    let office = |rng: &mut Rng| Shift {
        start_min: 8 * 60 + 30 * rng.range_u16(0, 2) - 30,
        minutes: 510,
        days: MON_FRI,
    };
    match role {
        Nurse | NursingAssistant | UnitClerk => {
            let twelve = matches!(
                kind,
                DeptKind::Inpatient | DeptKind::Emergency | DeptKind::FloatPool
            ) && rng.chance(0.5);
            if kind == DeptKind::Clinic {
                return Shift {
                    start_min: 8 * 60,
                    minutes: 540,
                    days: MON_FRI,
                };
            }
            if twelve {
                let day = i.is_multiple_of(2);
                Shift {
                    start_min: if day { 7 * 60 } else { 19 * 60 },
                    minutes: 12 * 60,
                    days: workdays(rng, true),
                }
            } else {
                let start = [7 * 60, 15 * 60, 23 * 60][i % 3];
                Shift {
                    start_min: start,
                    minutes: 8 * 60 + 30,
                    days: workdays(rng, false),
                }
            }
        }
        Physician if kind == DeptKind::Emergency => Shift {
            start_min: if i.is_multiple_of(2) { 7 * 60 } else { 19 * 60 },
            minutes: 12 * 60,
            days: workdays(rng, true),
        },
        Physician | CaseManager | MedicalAssistant => {
            if kind == DeptKind::Inpatient && role == Physician && rng.chance(0.15) {
                // Nocturnists.
                Shift {
                    start_min: 19 * 60,
                    minutes: 12 * 60,
                    days: workdays(rng, true),
                }
            } else {
                Shift {
                    start_min: 7 * 60 + 30 * rng.range_u16(0, 2),
                    minutes: 600,
                    days: if role == Physician && rng.chance(0.3) {
                        workdays(rng, false)
                    } else {
                        MON_FRI
                    },
                }
            }
        }
        Resident => {
            if rng.chance(0.3) {
                Shift {
                    start_min: 18 * 60,
                    minutes: 12 * 60,
                    days: workdays(rng, false),
                }
            } else {
                Shift {
                    start_min: 6 * 60,
                    minutes: 12 * 60,
                    days: workdays(rng, false) | 1,
                }
            }
        }
        LabTech | RadiologyTech | Pharmacist => Shift {
            start_min: [7 * 60, 15 * 60, 23 * 60][i % 3],
            minutes: 510,
            days: workdays(rng, false),
        },
        Radiologist => {
            if i % 4 == 3 {
                Shift {
                    start_min: 22 * 60,
                    minutes: 600,
                    days: workdays(rng, true),
                }
            } else {
                Shift {
                    start_min: 8 * 60,
                    minutes: 600,
                    days: workdays(rng, false),
                }
            }
        }
        Scheduler if rng.chance(0.25) => Shift {
            start_min: 11 * 60,
            minutes: 510,
            days: workdays(rng, false),
        },
        HimCoder if rng.chance(0.1) => Shift {
            start_min: 15 * 60,
            minutes: 510,
            days: MON_FRI,
        },
        HimCoder | HimSpecialist | BillingSpecialist | Scheduler | ItAnalyst | QualityAnalyst => {
            office(rng)
        }
    }
}
