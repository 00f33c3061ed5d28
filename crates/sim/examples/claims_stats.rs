//! Prints the shape of one claims simulation and how long it took:
//! `claims_stats SEED BENEFICIARIES PROVIDERS [OUT_DIR]`.
//!
//! With `OUT_DIR`, also writes the seven files there.

use std::io::Write as _;
use std::time::Instant;
use ward_sim::claims::{ClaimsSimConfig, ClaimsWriters, FILES, generate, write_all};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok());
    let d = ClaimsSimConfig::default();
    let cfg = ClaimsSimConfig {
        seed: num(0).unwrap_or(d.seed),
        beneficiaries: num(1).map_or(d.beneficiaries, |v| v as u32),
        providers: num(2).map_or(d.providers, |v| v as u32),
        ..d
    };
    cfg.validate()?;
    let t = Instant::now();
    let sim = generate(&cfg);
    let gen_s = t.elapsed().as_secs_f64();
    println!("generated in {gen_s:.2} s: {:#?}", sim.summary());
    if let Some(dir) = args.get(3) {
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| -> std::io::Result<std::io::BufWriter<std::fs::File>> {
            Ok(std::io::BufWriter::new(std::fs::File::create(
                dir.join(name),
            )?))
        };
        let t = Instant::now();
        let mut w = ClaimsWriters {
            inpatient: open(FILES[0])?,
            outpatient: open(FILES[1])?,
            beneficiary: open(FILES[2])?,
            providers: open(FILES[3])?,
            exclusions: open(FILES[4])?,
            labels: open(FILES[5])?,
            truth: open(FILES[6])?,
        };
        write_all(&sim, &mut w)?;
        for f in [
            &mut w.inpatient,
            &mut w.outpatient,
            &mut w.beneficiary,
            &mut w.providers,
            &mut w.exclusions,
            &mut w.labels,
            &mut w.truth,
        ] {
            f.flush()?;
        }
        println!("written in {:.2} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}
