//! The seven files of the claims contract (`docs/claims-format.md`), formatted by hand into one
//! reused buffer so that millions of rows stay fast.

use super::codes::CHRONIC;
use super::{Claim, ClaimKind, ClaimsSim, Excluded, Scheme};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Header of `inpatient.csv`.
pub const INPATIENT_HEADER: &str = "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed,AttendingPhysician,OperatingPhysician,OtherPhysician,AdmissionDt,ClmAdmitDiagnosisCode,DeductibleAmtPaid,DischargeDt,DiagnosisGroupCode,ClmDiagnosisCode_1,ClmDiagnosisCode_2,ClmDiagnosisCode_3,ClmDiagnosisCode_4,ClmDiagnosisCode_5,ClmDiagnosisCode_6,ClmDiagnosisCode_7,ClmDiagnosisCode_8,ClmDiagnosisCode_9,ClmDiagnosisCode_10,ClmProcedureCode_1,ClmProcedureCode_2,ClmProcedureCode_3,ClmProcedureCode_4,ClmProcedureCode_5,ClmProcedureCode_6";
/// Header of `outpatient.csv`.
pub const OUTPATIENT_HEADER: &str = "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed,AttendingPhysician,OperatingPhysician,OtherPhysician,ClmDiagnosisCode_1,ClmDiagnosisCode_2,ClmDiagnosisCode_3,ClmDiagnosisCode_4,ClmDiagnosisCode_5,ClmDiagnosisCode_6,ClmDiagnosisCode_7,ClmDiagnosisCode_8,ClmDiagnosisCode_9,ClmDiagnosisCode_10,ClmProcedureCode_1,ClmProcedureCode_2,ClmProcedureCode_3,ClmProcedureCode_4,ClmProcedureCode_5,ClmProcedureCode_6,DeductibleAmtPaid,ClmAdmitDiagnosisCode";
/// Header of `beneficiary.csv`.
pub const BENEFICIARY_HEADER: &str = "BeneID,DOB,DOD,Gender,Race,RenalDiseaseIndicator,State,County,NoOfMonths_PartACov,NoOfMonths_PartBCov,ChronicCond_Alzheimer,ChronicCond_Heartfailure,ChronicCond_KidneyDisease,ChronicCond_Cancer,ChronicCond_ObstrPulmonary,ChronicCond_Depression,ChronicCond_Diabetes,ChronicCond_IschemicHeart,ChronicCond_Osteoporasis,ChronicCond_rheumatoidarthritis,ChronicCond_stroke,IPAnnualReimbursementAmt,IPAnnualDeductibleAmt,OPAnnualReimbursementAmt,OPAnnualDeductibleAmt";
/// Header of `providers.csv`.
pub const PROVIDERS_HEADER: &str = "Id,NPI,Kind,Specialty,State";
/// Header of `exclusions.csv` (the LEIE layout).
pub const EXCLUSIONS_HEADER: &str = "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE";
/// Header of `labels.csv`.
pub const LABELS_HEADER: &str = "Provider,PotentialFraud";
/// Header of `truth.csv`.
pub const TRUTH_HEADER: &str = "Scheme,Provider,BeneID,ClaimID,Detail";

/// The file names, in the order of [`ClaimsWriters`]' fields.
pub const FILES: [&str; 7] = [
    "inpatient.csv",
    "outpatient.csv",
    "beneficiary.csv",
    "providers.csv",
    "exclusions.csv",
    "labels.csv",
    "truth.csv",
];

/// One writer per file of the contract (see [`FILES`] for their names).
#[derive(Debug)]
pub struct ClaimsWriters<W> {
    pub inpatient: W,
    pub outpatient: W,
    pub beneficiary: W,
    pub providers: W,
    pub exclusions: W,
    pub labels: W,
    pub truth: W,
}

/// Writes all seven files.
pub fn write_all<W: Write>(sim: &ClaimsSim, w: &mut ClaimsWriters<W>) -> io::Result<()> {
    write_inpatient_csv(&mut w.inpatient, sim)?;
    write_outpatient_csv(&mut w.outpatient, sim)?;
    write_beneficiary_csv(&mut w.beneficiary, sim)?;
    write_providers_csv(&mut w.providers, sim)?;
    write_exclusions_csv(&mut w.exclusions, sim)?;
    write_labels_csv(&mut w.labels, sim)?;
    write_truth_csv(&mut w.truth, sim)
}

fn push_num(buf: &mut Vec<u8>, n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(c) = tmp.get_mut(i) {
            *c = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.extend_from_slice(tmp.get(i..).unwrap_or(&[]));
}

fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let start = buf.len();
    push_num(buf, n);
    let digits = buf.len() - start;
    for _ in digits..width {
        buf.insert(start, b'0');
    }
}

/// `YYYY-MM-DD`.
fn push_date(buf: &mut Vec<u8>, day: i32) {
    let (y, m, d) = ward_core::time::civil_from_days(i64::from(day));
    push_padded(buf, y.max(0) as u64, 4);
    buf.push(b'-');
    push_padded(buf, m as u64, 2);
    buf.push(b'-');
    push_padded(buf, d as u64, 2);
}

/// `YYYYMMDD` (the LEIE's dates).
fn push_leie_date(buf: &mut Vec<u8>, day: Option<i32>) {
    match day {
        Some(day) => {
            let (y, m, d) = ward_core::time::civil_from_days(i64::from(day));
            push_padded(buf, y.max(0) as u64, 4);
            push_padded(buf, m as u64, 2);
            push_padded(buf, d as u64, 2);
        }
        None => buf.extend_from_slice(b"00000000"),
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn push_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

fn push_bene(buf: &mut Vec<u8>, b: u32) {
    buf.extend_from_slice(b"BENE");
    push_num(buf, 11_001 + u64::from(b));
}

fn push_provider(buf: &mut Vec<u8>, p: u32) {
    buf.extend_from_slice(b"PRV");
    push_num(buf, 51_001 + u64::from(p));
}

fn push_claim(buf: &mut Vec<u8>, c: u32) {
    buf.extend_from_slice(b"CLM");
    push_num(buf, 100_001 + u64::from(c));
}

fn push_phys(buf: &mut Vec<u8>, sim: &ClaimsSim, p: Option<u32>) {
    if let Some(ph) = p.and_then(|p| sim.physicians.get(p as usize)) {
        buf.extend_from_slice(b"PHY");
        push_num(buf, u64::from(ph.number));
    }
}

fn push_codes(buf: &mut Vec<u8>, sim: &ClaimsSim, codes: &[u16]) {
    for (i, &c) in codes.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(sim.code(c).as_bytes());
    }
}

fn flush_if_big(w: &mut impl Write, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.len() >= 1 << 16 {
        w.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// The columns every claim file starts with: `BeneID` to `OtherPhysician`.
fn push_claim_head(buf: &mut Vec<u8>, sim: &ClaimsSim, i: u32, c: &Claim) {
    push_bene(buf, c.bene);
    buf.push(b',');
    push_claim(buf, i);
    buf.push(b',');
    push_date(buf, c.start);
    buf.push(b',');
    push_date(buf, c.end);
    buf.push(b',');
    push_provider(buf, c.provider);
    buf.push(b',');
    push_num(buf, u64::from(c.amount));
    buf.push(b',');
    push_phys(buf, sim, Some(c.attending));
    buf.push(b',');
    push_phys(buf, sim, c.operating);
    buf.push(b',');
    push_phys(buf, sim, c.other);
}

/// `inpatient.csv`: the stays, in claim order.
pub fn write_inpatient_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(INPATIENT_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, c) in sim.claims.iter().enumerate() {
        if c.kind != ClaimKind::Inpatient {
            continue;
        }
        push_claim_head(&mut buf, sim, i as u32, c);
        buf.push(b',');
        push_date(&mut buf, c.start);
        buf.push(b',');
        buf.extend_from_slice(sim.code(c.admit_dx).as_bytes());
        buf.push(b',');
        push_num(&mut buf, u64::from(c.deductible));
        buf.push(b',');
        push_date(&mut buf, c.end);
        buf.push(b',');
        buf.extend_from_slice(sim.drg_code(c).as_bytes());
        buf.push(b',');
        push_codes(&mut buf, sim, &c.dx);
        buf.push(b',');
        push_codes(&mut buf, sim, &c.procs);
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `outpatient.csv`: the visits, in claim order.
pub fn write_outpatient_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(OUTPATIENT_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, c) in sim.claims.iter().enumerate() {
        if c.kind != ClaimKind::Outpatient {
            continue;
        }
        push_claim_head(&mut buf, sim, i as u32, c);
        buf.push(b',');
        push_codes(&mut buf, sim, &c.dx);
        buf.push(b',');
        push_codes(&mut buf, sim, &c.procs);
        buf.push(b',');
        push_num(&mut buf, u64::from(c.deductible));
        buf.push(b',');
        buf.extend_from_slice(sim.code(c.admit_dx).as_bytes());
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `beneficiary.csv`: one row per beneficiary, with the year's totals from its claims.
pub fn write_beneficiary_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    // inpatient amount, inpatient deductible, outpatient amount, outpatient deductible
    let mut totals = vec![[0u64; 4]; sim.beneficiaries.len()];
    for c in &sim.claims {
        if let Some(t) = totals.get_mut(c.bene as usize) {
            let k = if c.kind == ClaimKind::Inpatient { 0 } else { 2 };
            t[k] += u64::from(c.amount);
            t[k + 1] += u64::from(c.deductible);
        }
    }
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(BENEFICIARY_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, (b, t)) in sim.beneficiaries.iter().zip(&totals).enumerate() {
        push_bene(&mut buf, i as u32);
        buf.push(b',');
        push_date(&mut buf, b.dob);
        buf.push(b',');
        if let Some(d) = b.dod {
            push_date(&mut buf, d);
        }
        buf.push(b',');
        push_num(&mut buf, u64::from(b.gender));
        buf.push(b',');
        push_num(&mut buf, u64::from(b.race));
        buf.push(b',');
        buf.push(if b.renal { b'Y' } else { b'0' });
        buf.push(b',');
        push_num(&mut buf, u64::from(b.state));
        buf.push(b',');
        push_num(&mut buf, u64::from(b.county));
        buf.push(b',');
        push_num(&mut buf, u64::from(b.months_part_a));
        buf.push(b',');
        push_num(&mut buf, u64::from(b.months_part_b));
        for k in 0..CHRONIC.len() {
            buf.push(b',');
            buf.push(if b.chronic & (1 << k) != 0 {
                b'1'
            } else {
                b'2'
            });
        }
        for v in t {
            buf.push(b',');
            push_num(&mut buf, *v);
        }
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `providers.csv`: the directory, organisations then physicians.
pub fn write_providers_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(PROVIDERS_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, p) in sim.providers.iter().enumerate() {
        push_provider(&mut buf, i as u32);
        buf.push(b',');
        push_padded(&mut buf, p.npi, 10);
        buf.extend_from_slice(b",organization,");
        buf.extend_from_slice(p.specialty.as_str().as_bytes());
        buf.push(b',');
        push_num(&mut buf, u64::from(p.state));
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    // physicians in id order: the order says nothing about their provider
    let mut order: Vec<u32> = (0..sim.physicians.len() as u32).collect();
    order.sort_unstable_by_key(|&i| sim.physicians.get(i as usize).map_or(0, |p| p.number));
    for i in order {
        let Some(p) = sim.physicians.get(i as usize) else {
            continue;
        };
        push_phys(&mut buf, sim, Some(i));
        buf.push(b',');
        push_padded(&mut buf, p.npi, 10);
        buf.extend_from_slice(b",individual,");
        buf.extend_from_slice(p.specialty.as_str().as_bytes());
        buf.push(b',');
        push_num(&mut buf, u64::from(p.state));
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `exclusions.csv`: the LEIE layout, by exclusion date. Names are synthetic tokens.
pub fn write_exclusions_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(EXCLUSIONS_HEADER.as_bytes());
    buf.push(b'\n');
    for r in &sim.exclusions {
        let (business, npi) = match r.who {
            Excluded::Physician(p) => (false, sim.physicians.get(p as usize).map(|p| p.npi)),
            Excluded::Other { business, npi } => (business, npi),
        };
        if business {
            buf.extend_from_slice(b",,,");
            buf.extend_from_slice(b"ORG");
            push_padded(&mut buf, u64::from(r.number), 6);
            buf.extend_from_slice(b",OTHER BUSINESS,");
        } else {
            buf.extend_from_slice(b"LAST");
            push_padded(&mut buf, u64::from(r.number), 6);
            buf.extend_from_slice(b",FIRST");
            push_padded(&mut buf, u64::from(r.number), 6);
            buf.extend_from_slice(b",,,IND- LIC HC SERV PRO,");
        }
        push_field(&mut buf, r.specialty);
        buf.extend_from_slice(b",,");
        push_padded(&mut buf, npi.unwrap_or(0), 10);
        buf.push(b',');
        if let Some(d) = r.dob {
            push_leie_date(&mut buf, Some(d));
        }
        buf.push(b',');
        buf.extend_from_slice(b"1 MAIN ST,CITY,");
        buf.extend_from_slice(
            ward_core::geo::state_postal(r.state)
                .unwrap_or("")
                .as_bytes(),
        );
        buf.push(b',');
        push_padded(
            &mut buf,
            10_000 + u64::from(r.state) * 1_000 + u64::from(r.number % 1000),
            5,
        );
        buf.push(b',');
        buf.extend_from_slice(r.excl_type.as_bytes());
        buf.push(b',');
        push_leie_date(&mut buf, Some(r.excl_day));
        buf.push(b',');
        push_leie_date(&mut buf, r.rein_day);
        buf.extend_from_slice(b",00000000,\n");
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `labels.csv`: `Yes` or `No` for every provider with at least one claim.
pub fn write_labels_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut has = vec![false; sim.providers.len()];
    for c in &sim.claims {
        if let Some(h) = has.get_mut(c.provider as usize) {
            *h = true;
        }
    }
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(LABELS_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, _) in has.iter().enumerate().filter(|(_, h)| **h) {
        push_provider(&mut buf, i as u32);
        buf.extend_from_slice(if sim.is_fraudulent(i as u32) {
            b",Yes\n"
        } else {
            b",No\n"
        });
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `truth.csv`: one row per fraudulent claim, by scheme, provider and claim.
pub fn write_truth_csv(mut w: impl Write, sim: &ClaimsSim) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(TRUTH_HEADER.as_bytes());
    buf.push(b'\n');
    for t in &sim.truth {
        buf.extend_from_slice(t.scheme.as_str().as_bytes());
        buf.push(b',');
        push_provider(&mut buf, t.provider);
        buf.push(b',');
        push_bene(&mut buf, t.bene);
        buf.push(b',');
        if let Some(c) = t.claim {
            push_claim(&mut buf, c);
        }
        buf.push(b',');
        let detail = match t.related {
            Some(r) => format!("{} (CLM{})", t.detail, 100_001 + u64::from(r)),
            None => t.detail.clone(),
        };
        push_field(&mut buf, &detail);
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// Counts of one simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsSummary {
    pub inpatient: usize,
    pub outpatient: usize,
    pub beneficiaries: usize,
    /// Providers with at least one claim.
    pub providers: usize,
    pub physicians: usize,
    pub fraudulent_providers: usize,
    /// Claims in the truth.
    pub fraudulent_claims: usize,
    /// Per scheme: truth rows and providers running it.
    pub by_scheme: BTreeMap<Scheme, (usize, usize)>,
}

pub(super) fn summary(sim: &ClaimsSim) -> ClaimsSummary {
    let inpatient = sim
        .claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Inpatient)
        .count();
    let mut has = vec![false; sim.providers.len()];
    for c in &sim.claims {
        if let Some(h) = has.get_mut(c.provider as usize) {
            *h = true;
        }
    }
    let mut by_scheme: BTreeMap<Scheme, (usize, usize)> = BTreeMap::new();
    for t in &sim.truth {
        by_scheme.entry(t.scheme).or_default().0 += 1;
    }
    for p in &sim.providers {
        for &s in &p.schemes {
            by_scheme.entry(s).or_default().1 += 1;
        }
    }
    ClaimsSummary {
        inpatient,
        outpatient: sim.claims.len() - inpatient,
        beneficiaries: sim.beneficiaries.len(),
        providers: has.iter().filter(|&&h| h).count(),
        physicians: sim.physicians.len(),
        fraudulent_providers: sim
            .providers
            .iter()
            .filter(|p| !p.schemes.is_empty())
            .count(),
        fraudulent_claims: sim.truth.iter().filter(|t| t.claim.is_some()).count(),
        by_scheme,
    }
}
