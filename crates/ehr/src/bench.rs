//! Measurement for `ward bench ehr` (wired by the binary): load and detection times and
//! throughput. The only place in this crate that reads a clock; detection itself never does.

use crate::detect::{Detector, EhrConfig};
use crate::error::EhrError;
use crate::load::{InputFiles, load_files};
use serde::Serialize;
use std::time::Instant;

/// What one benchmark run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Access events.
    pub accesses: u64,
    /// Patients, users (roster), encounters loaded.
    pub patients: u64,
    /// Roster users.
    pub users: u64,
    /// Encounters.
    pub encounters: u64,
    /// Seconds to load and join every file.
    pub load_secs: f64,
    /// Seconds to detect (explanations, signals, score, cases, budget).
    pub detect_secs: f64,
    /// Access events per second through detection.
    pub detect_per_sec: f64,
    /// Accesses flagged.
    pub flagged: u64,
}

/// Loads `files` and runs the detector once with `config`, timing both.
pub fn run(files: &InputFiles, config: EhrConfig) -> Result<BenchReport, EhrError> {
    let detector = Detector::new(config)?;
    let t0 = Instant::now();
    let ds = load_files(files)?;
    let load_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let det = detector.detect(&ds);
    let detect_secs = t1.elapsed().as_secs_f64();
    let accesses = ds.report.accesses;
    Ok(BenchReport {
        accesses,
        patients: ds.report.patients,
        users: ds.report.users,
        encounters: ds.report.encounters,
        load_secs,
        detect_secs,
        detect_per_sec: accesses as f64 / detect_secs.max(1e-9),
        flagged: det.report.flagged,
    })
}
