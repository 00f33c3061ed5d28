//! Prints the shape of one EHR simulation: `ehr_stats SEED PATIENTS USERS DAYS [ENCOUNTERS] [OUT_DIR]`.

use std::time::Instant;
use ward_sim::ehr::{EhrSimConfig, generate, write_all};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok());
    let d = EhrSimConfig::default();
    let cfg = EhrSimConfig {
        seed: num(0).unwrap_or(d.seed),
        patients: num(1).map_or(d.patients, |v| v as u32),
        users: num(2).map_or(d.users, |v| v as u32),
        days: num(3).map_or(d.days, |v| v as u32),
        encounters: num(4).filter(|&v| v > 0).map(|v| v as u32),
        ..d
    };
    cfg.validate()?;
    let t = Instant::now();
    let out = generate(&cfg);
    let gen_s = t.elapsed().as_secs_f64();
    let s = out.summary();
    println!("generated in {gen_s:.2} s: {s:#?}");
    println!(
        "snoop share {:.4}%, legit explained {:.2}%, all explained {:.2}%",
        100.0 * s.snoop_share(),
        100.0 * s.legit_explained_share(),
        100.0 * s.explained_share()
    );
    // Legitimate unexplained accesses by role.
    let ex = ward_sim::ehr::Explainer::new(&out);
    let mut by_role = std::collections::BTreeMap::new();
    for a in out.accesses.iter().filter(|a| a.case.is_none()) {
        let role = out.users[a.user as usize].role.as_str();
        let e = by_role.entry(role).or_insert((0usize, 0usize));
        e.0 += 1;
        if !ex.explained(a.user, a.patient, a.time) {
            e.1 += 1;
        }
    }
    for (r, (n, un)) in by_role {
        println!(
            "{r:20} {n:9} accesses, {un:8} unexplained ({:.1}% of all)",
            100.0 * un as f64 / s.accesses as f64
        );
    }
    if let Some(dir) = args.get(5) {
        let t = Instant::now();
        write_all(std::path::Path::new(dir), &out, true)?;
        println!("written in {:.2} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}
