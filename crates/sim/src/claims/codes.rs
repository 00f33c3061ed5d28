//! The coding world: specialties with their diagnosis and procedure pools, chronic conditions
//! and their ICD-9 codes, DRGs with base payments and lengths of stay, state weights. Every code
//! is a plausible ICD-9-CM (without the dot) or MS-DRG; payments are round 2009-like dollars.

/// Specialty of a provider or physician (the `Specialty` column of `providers.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Specialty {
    Hospital,
    InternalMedicine,
    FamilyPractice,
    Cardiology,
    Orthopedics,
    Gastroenterology,
    Oncology,
    Nephrology,
    Pulmonology,
    Psychiatry,
    Ophthalmology,
    GeneralSurgery,
    Radiology,
    Laboratory,
    EmergencyMedicine,
    Neurology,
}

impl Specialty {
    /// Specialties of organisations other than hospitals, with their share of those.
    pub const CLINICS: [(Specialty, f64); 14] = [
        (Self::InternalMedicine, 0.20),
        (Self::FamilyPractice, 0.18),
        (Self::Cardiology, 0.08),
        (Self::Orthopedics, 0.07),
        (Self::Gastroenterology, 0.05),
        (Self::Oncology, 0.04),
        (Self::Nephrology, 0.04),
        (Self::Pulmonology, 0.04),
        (Self::Psychiatry, 0.06),
        (Self::Ophthalmology, 0.06),
        (Self::GeneralSurgery, 0.04),
        (Self::Radiology, 0.05),
        (Self::Laboratory, 0.05),
        (Self::Neurology, 0.04),
    ];

    /// Specialties of a hospital's physicians, with their share.
    pub const HOSPITAL_STAFF: [(Specialty, f64); 10] = [
        (Self::InternalMedicine, 0.25),
        (Self::EmergencyMedicine, 0.12),
        (Self::Cardiology, 0.12),
        (Self::Orthopedics, 0.09),
        (Self::GeneralSurgery, 0.10),
        (Self::Pulmonology, 0.07),
        (Self::Radiology, 0.08),
        (Self::Gastroenterology, 0.06),
        (Self::Oncology, 0.06),
        (Self::Neurology, 0.05),
    ];

    /// The word written to `providers.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::InternalMedicine => "internal_medicine",
            Self::FamilyPractice => "family_practice",
            Self::Cardiology => "cardiology",
            Self::Orthopedics => "orthopedics",
            Self::Gastroenterology => "gastroenterology",
            Self::Oncology => "oncology",
            Self::Nephrology => "nephrology",
            Self::Pulmonology => "pulmonology",
            Self::Psychiatry => "psychiatry",
            Self::Ophthalmology => "ophthalmology",
            Self::GeneralSurgery => "general_surgery",
            Self::Radiology => "radiology",
            Self::Laboratory => "laboratory",
            Self::EmergencyMedicine => "emergency_medicine",
            Self::Neurology => "neurology",
        }
    }

    /// The LEIE `SPECIALTY` word for an excluded individual of this specialty.
    pub fn leie(self) -> &'static str {
        match self {
            Self::Hospital => "HOSPITAL",
            Self::InternalMedicine => "INTERNAL MEDICINE",
            Self::FamilyPractice => "FAMILY PRACTICE",
            Self::Cardiology => "CARDIOLOGY",
            Self::Orthopedics => "ORTHOPEDIC SURGERY",
            Self::Gastroenterology => "GASTROENTEROLOGY",
            Self::Oncology => "ONCOLOGY",
            Self::Nephrology => "NEPHROLOGY",
            Self::Pulmonology => "PULMONARY DISEASE",
            Self::Psychiatry => "PSYCHIATRY",
            Self::Ophthalmology => "OPHTHALMOLOGY",
            Self::GeneralSurgery => "GENERAL SURGERY",
            Self::Radiology => "DIAGNOSTIC RADIOLOGY",
            Self::Laboratory => "PATHOLOGY",
            Self::EmergencyMedicine => "EMERGENCY MEDICINE",
            Self::Neurology => "NEUROLOGY",
        }
    }

    /// Median of an outpatient visit without procedures, in dollars.
    pub fn visit_median(self) -> f64 {
        match self {
            Self::Hospital | Self::EmergencyMedicine => 250.0,
            Self::InternalMedicine | Self::FamilyPractice | Self::Psychiatry => 70.0,
            Self::Laboratory => 40.0,
            Self::Radiology => 120.0,
            Self::Oncology => 300.0,
            Self::Nephrology => 150.0,
            _ => 110.0,
        }
    }

    /// Chance that an outpatient claim of this specialty carries a procedure code.
    pub fn procedure_chance(self) -> f64 {
        match self {
            Self::Gastroenterology | Self::Radiology | Self::Nephrology => 0.45,
            Self::Oncology | Self::Ophthalmology | Self::GeneralSurgery => 0.35,
            Self::Cardiology | Self::Orthopedics | Self::Laboratory => 0.25,
            Self::Pulmonology | Self::Neurology => 0.15,
            Self::Hospital | Self::EmergencyMedicine => 0.12,
            Self::Psychiatry => 0.08,
            Self::InternalMedicine | Self::FamilyPractice => 0.05,
        }
    }

    /// Outpatient procedure codes of this specialty with their price in dollars.
    pub fn procedures(self) -> &'static [(&'static str, f64)] {
        match self {
            Self::InternalMedicine | Self::FamilyPractice => &[
                ("8952", 40.0),
                ("9955", 30.0),
                ("3893", 120.0),
                ("8604", 150.0),
            ],
            Self::Cardiology => &[
                ("8952", 40.0),
                ("8872", 400.0),
                ("3722", 2500.0),
                ("3723", 3200.0),
                ("8856", 2200.0),
            ],
            Self::Orthopedics => &[
                ("8191", 150.0),
                ("8026", 1800.0),
                ("806", 2100.0),
                ("8147", 1900.0),
                ("8086", 1500.0),
            ],
            Self::Gastroenterology => &[
                ("4523", 900.0),
                ("4524", 400.0),
                ("4513", 700.0),
                ("4516", 950.0),
                ("4542", 1100.0),
            ],
            Self::Oncology => &[("9925", 1500.0), ("9229", 900.0), ("4131", 800.0)],
            Self::Nephrology => &[("3995", 300.0), ("3927", 1800.0)],
            Self::Pulmonology => &[("3322", 900.0), ("3324", 1200.0), ("8938", 150.0)],
            Self::Psychiatry => &[("9408", 120.0), ("9444", 80.0), ("9433", 90.0)],
            Self::Ophthalmology => &[("1341", 1700.0), ("1371", 900.0), ("1424", 700.0)],
            Self::GeneralSurgery => &[
                ("5123", 4200.0),
                ("5421", 1500.0),
                ("5300", 2500.0),
                ("8604", 150.0),
            ],
            Self::Radiology => &[
                ("8741", 350.0),
                ("8703", 300.0),
                ("8876", 200.0),
                ("8891", 600.0),
                ("8872", 400.0),
            ],
            Self::Laboratory => &[("9059", 30.0), ("9143", 40.0)],
            Self::Hospital | Self::EmergencyMedicine => &[
                ("8703", 300.0),
                ("8741", 350.0),
                ("8952", 40.0),
                ("8604", 150.0),
                ("9904", 600.0),
            ],
            Self::Neurology => &[("8891", 600.0), ("8914", 250.0), ("0331", 400.0)],
        }
    }

    /// Diagnosis codes this specialty sees besides the chronic conditions.
    pub fn diagnoses(self) -> &'static [&'static str] {
        match self {
            Self::Hospital | Self::EmergencyMedicine => &[
                "78650", "78079", "486", "5990", "7802", "8472", "78900", "7295",
            ],
            Self::InternalMedicine | Self::FamilyPractice => &[
                "4019", "2724", "V700", "2720", "78079", "4659", "V5869", "2449", "53081",
            ],
            Self::Cardiology => &["42731", "4019", "41401", "78650", "4240", "4280"],
            Self::Orthopedics => &["71536", "7242", "71596", "7194", "7295", "82021"],
            Self::Gastroenterology => &["53081", "5589", "V1272", "2113", "5789", "56210"],
            Self::Oncology => &["1749", "1629", "185", "1539", "V5811", "2859"],
            Self::Nephrology => &["5859", "5853", "40390", "2859", "V4511"],
            Self::Pulmonology => &["496", "49121", "4928", "78605", "7862", "32723"],
            Self::Psychiatry => &["311", "2962", "29630", "3004", "30000"],
            Self::Ophthalmology => &["36616", "3659", "36250", "36511", "3662"],
            Self::GeneralSurgery => &["5750", "57410", "55090", "6826", "2113"],
            Self::Radiology => &["78650", "7242", "7862", "78900", "V7612"],
            Self::Laboratory => &["2724", "25000", "2859", "V5869", "V5861"],
            Self::Neurology => &["3310", "43491", "3320", "7802", "78039", "3540"],
        }
    }
}

/// The eleven chronic conditions of the beneficiary file, in column order, with their share of
/// beneficiaries (close to the Kaggle file's) and a few ICD-9 codes each.
pub const CHRONIC: [(&str, f64, &[&str]); 11] = [
    ("ChronicCond_Alzheimer", 0.33, &["3310", "2900", "29410"]),
    (
        "ChronicCond_Heartfailure",
        0.49,
        &["4280", "42832", "42833", "4281"],
    ),
    (
        "ChronicCond_KidneyDisease",
        0.31,
        &["5859", "5853", "40390", "5854"],
    ),
    (
        "ChronicCond_Cancer",
        0.12,
        &["1749", "1629", "185", "1539", "V1005"],
    ),
    (
        "ChronicCond_ObstrPulmonary",
        0.24,
        &["496", "49121", "4912", "4928"],
    ),
    ("ChronicCond_Depression", 0.36, &["311", "2962", "29630"]),
    (
        "ChronicCond_Diabetes",
        0.60,
        &["25000", "25002", "25060", "25040"],
    ),
    (
        "ChronicCond_IschemicHeart",
        0.68,
        &["41401", "4139", "412", "41400"],
    ),
    ("ChronicCond_Osteoporasis", 0.27, &["73300", "73301"]),
    (
        "ChronicCond_rheumatoidarthritis",
        0.26,
        &["7140", "71536", "7159"],
    ),
    ("ChronicCond_stroke", 0.08, &["43491", "4359", "438"]),
];

/// Common diagnoses any claim may carry as secondary codes.
pub const COMMON_DX: [&str; 12] = [
    "4019", "2724", "V5869", "42731", "2720", "53081", "2449", "V5861", "2859", "4011", "27651",
    "V4581",
];

/// One diagnosis-related group.
#[derive(Debug, Clone, Copy)]
pub struct Drg {
    pub code: &'static str,
    /// Base payment in dollars.
    pub base: f64,
    /// Mean length of stay in days.
    pub los: f64,
    /// Relative frequency.
    pub weight: f64,
    /// Chronic condition (index into [`CHRONIC`]) that makes it likelier, if any.
    pub condition: Option<usize>,
    /// Principal diagnoses.
    pub dx: &'static [&'static str],
    /// Procedure codes billed with it (all of them, in order), empty for medical DRGs.
    pub procs: &'static [&'static str],
    /// The DRG of the same family with a higher severity (what upcoding bills instead).
    pub upcode: Option<&'static str>,
    /// Specialty of the attending physician.
    pub specialty: Specialty,
}

macro_rules! drg {
    ($code:expr, $base:expr, $los:expr, $w:expr, $cond:expr, $dx:expr, $procs:expr, $up:expr, $sp:ident) => {
        Drg {
            code: $code,
            base: $base,
            los: $los,
            weight: $w,
            condition: $cond,
            dx: $dx,
            procs: $procs,
            upcode: $up,
            specialty: Specialty::$sp,
        }
    };
}

/// The DRGs of the simulated inpatient stays.
pub const DRGS: &[Drg] = &[
    drg!(
        "470",
        12_000.0,
        3.2,
        6.0,
        Some(9),
        &["71536", "71596", "71516"],
        &["8154"],
        Some("469"),
        Orthopedics
    ),
    drg!(
        "469",
        20_000.0,
        6.0,
        0.6,
        Some(9),
        &["71536", "71596"],
        &["8151"],
        None,
        Orthopedics
    ),
    drg!(
        "291",
        9_500.0,
        5.0,
        3.0,
        Some(1),
        &["42833", "4280", "42823"],
        &[],
        None,
        Cardiology
    ),
    drg!(
        "292",
        6_500.0,
        4.0,
        3.0,
        Some(1),
        &["4280", "42832"],
        &[],
        Some("291"),
        Cardiology
    ),
    drg!(
        "293",
        4_500.0,
        3.0,
        3.0,
        Some(1),
        &["4280", "4281"],
        &[],
        Some("291"),
        Cardiology
    ),
    drg!(
        "190",
        8_000.0,
        4.8,
        2.0,
        Some(4),
        &["49121", "4928"],
        &[],
        None,
        Pulmonology
    ),
    drg!(
        "191",
        6_200.0,
        3.9,
        2.0,
        Some(4),
        &["49121", "496"],
        &[],
        Some("190"),
        Pulmonology
    ),
    drg!(
        "192",
        4_800.0,
        3.1,
        2.0,
        Some(4),
        &["4912", "496"],
        &[],
        Some("190"),
        Pulmonology
    ),
    drg!(
        "193",
        9_000.0,
        5.2,
        2.0,
        None,
        &["486", "4820"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "194",
        6_300.0,
        4.1,
        3.0,
        None,
        &["486", "481"],
        &[],
        Some("193"),
        InternalMedicine
    ),
    drg!(
        "195",
        4_500.0,
        3.2,
        3.0,
        None,
        &["486"],
        &[],
        Some("193"),
        InternalMedicine
    ),
    drg!(
        "689",
        6_600.0,
        4.2,
        1.5,
        Some(2),
        &["5990", "5909"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "690",
        4_300.0,
        3.2,
        3.0,
        None,
        &["5990"],
        &[],
        Some("689"),
        InternalMedicine
    ),
    drg!(
        "871",
        12_500.0,
        6.0,
        2.5,
        None,
        &["0389", "99591"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "064",
        10_500.0,
        5.2,
        1.0,
        Some(10),
        &["43491", "43411"],
        &[],
        None,
        Neurology
    ),
    drg!(
        "065",
        6_400.0,
        3.8,
        1.5,
        Some(10),
        &["43491", "4359"],
        &[],
        Some("064"),
        Neurology
    ),
    drg!(
        "682",
        10_000.0,
        5.5,
        1.2,
        Some(2),
        &["5849", "5859"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "683",
        6_500.0,
        4.0,
        2.0,
        Some(2),
        &["5849", "5853"],
        &[],
        Some("682"),
        InternalMedicine
    ),
    drg!(
        "637",
        8_500.0,
        4.8,
        1.0,
        Some(6),
        &["25013", "25080"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "638",
        5_500.0,
        3.5,
        1.5,
        Some(6),
        &["25002", "25080"],
        &[],
        Some("637"),
        InternalMedicine
    ),
    drg!(
        "377",
        11_000.0,
        5.0,
        0.8,
        None,
        &["5789", "5780"],
        &["4516"],
        None,
        Gastroenterology
    ),
    drg!(
        "378",
        6_300.0,
        3.6,
        1.5,
        None,
        &["5789", "5781"],
        &["4513"],
        Some("377"),
        Gastroenterology
    ),
    drg!(
        "308",
        7_800.0,
        4.2,
        1.0,
        Some(7),
        &["42731", "4271"],
        &[],
        None,
        Cardiology
    ),
    drg!(
        "309",
        5_400.0,
        3.0,
        2.0,
        Some(7),
        &["42731", "42732"],
        &[],
        Some("308"),
        Cardiology
    ),
    drg!(
        "247",
        12_500.0,
        2.0,
        1.5,
        Some(7),
        &["41401", "41071"],
        &["0066", "3606", "3722"],
        None,
        Cardiology
    ),
    drg!(
        "233",
        45_000.0,
        10.0,
        0.3,
        Some(7),
        &["41401", "41071"],
        &["3612", "3961", "3723"],
        None,
        Cardiology
    ),
    drg!(
        "418",
        10_500.0,
        3.2,
        1.0,
        None,
        &["57410", "5750"],
        &["5123"],
        None,
        GeneralSurgery
    ),
    drg!(
        "329",
        30_000.0,
        11.0,
        0.4,
        Some(3),
        &["1539", "56211"],
        &["4573"],
        None,
        GeneralSurgery
    ),
    drg!(
        "460",
        24_000.0,
        3.5,
        0.7,
        None,
        &["7213", "7242"],
        &["8108"],
        None,
        Orthopedics
    ),
    drg!(
        "481",
        13_000.0,
        5.0,
        0.8,
        Some(8),
        &["82021", "82009"],
        &["7935"],
        None,
        Orthopedics
    ),
    drg!(
        "885",
        5_500.0,
        8.0,
        1.0,
        Some(5),
        &["29630", "2962", "29534"],
        &[],
        None,
        Psychiatry
    ),
    drg!(
        "057",
        5_600.0,
        4.5,
        1.0,
        Some(0),
        &["3310", "2900"],
        &[],
        None,
        Neurology
    ),
    drg!(
        "313",
        3_600.0,
        1.8,
        2.0,
        Some(7),
        &["78650", "78659"],
        &[],
        None,
        Cardiology
    ),
    drg!(
        "603",
        5_000.0,
        3.6,
        1.5,
        None,
        &["6826", "6821"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "812",
        4_700.0,
        3.0,
        1.0,
        Some(2),
        &["2859", "2851"],
        &[],
        None,
        InternalMedicine
    ),
    drg!(
        "391",
        7_000.0,
        4.2,
        0.8,
        None,
        &["5589", "53081"],
        &[],
        None,
        Gastroenterology
    ),
    drg!(
        "392",
        4_300.0,
        2.9,
        2.0,
        None,
        &["5589", "00845"],
        &[],
        Some("391"),
        Gastroenterology
    ),
];

/// Relative number of Medicare beneficiaries per SSA state code (index = code - 1): about the
/// 2009 population, with extra weight on the retirement states. Puerto Rico, the Virgin
/// Islands and "others" get none.
pub const STATE_WEIGHT: [f64; 54] = [
    4.7, 0.7, 6.6, 2.9, 37.0, 5.0, 3.5, 0.9, 0.6, 22.0, 9.8, 1.3, 1.5, 12.9, 6.4, 3.0, 2.8, 4.3,
    4.5, 1.3, 5.7, 6.6, 9.9, 5.3, 2.9, 6.0, 1.0, 1.8, 2.6, 1.3, 8.7, 2.0, 19.5, 9.4, 0.65, 11.5,
    3.7, 3.8, 12.6, 0.0, 1.0, 4.6, 0.8, 6.3, 24.8, 2.8, 0.6, 0.0, 7.9, 6.7, 1.8, 5.7, 0.55, 0.0,
];

/// Where snowbirds spend the winter: Florida, Arizona, Texas, California.
pub const SNOWBIRD_STATES: [(u8, f64); 4] = [(10, 0.5), (3, 0.25), (45, 0.15), (5, 0.1)];

/// Counties per state in the simulated file (County = 10, 20, ... as in the Kaggle file).
pub fn counties(state: u8) -> u16 {
    let w = STATE_WEIGHT
        .get(usize::from(state).saturating_sub(1))
        .copied()
        .unwrap_or(1.0);
    (8.0 + 4.0 * w).min(99.0) as u16
}
