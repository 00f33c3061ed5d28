//! Measures load and detection time on a folder in the input contract and, when the folder has
//! a `truth.csv` (`row,...,case_type`), recall per case type, precision and the share of
//! accesses flagged. A measuring tool for development; the CLI's `ward eval ehr` is the real
//! thing.
//!
//! `cargo run --release -p ward-ehr --example ehr_eval -- DIR`

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;
use ward_ehr::{Detector, EhrConfig};

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: ehr_eval DIR")?;
    let dir = std::path::Path::new(&dir);
    let t0 = Instant::now();
    let files = ward_ehr::InputFiles::in_dir(dir)?;
    let mut l = ward_ehr::Loader::new();
    let open = |p: &std::path::Path| std::fs::File::open(p);
    let mut lap = Instant::now();
    let mut phase = |name: &str| {
        eprintln!("  {name}: {:.2} s", lap.elapsed().as_secs_f64());
        lap = Instant::now();
    };
    l.users("users.csv", open(&files.users)?)?;
    phase("users");
    l.patients("patients.csv", open(&files.patients)?)?;
    phase("patients");
    l.encounters("encounters.csv", open(&files.encounters)?)?;
    phase("encounters");
    if let Some(c) = &files.care_team {
        l.care_team("care_team.csv", open(c)?)?;
    }
    phase("care_team");
    if files.access.extension().is_some_and(|e| e == "ndjson") {
        l.access_fhir(
            "access.ndjson",
            std::io::BufReader::new(open(&files.access)?),
        )?;
    } else {
        l.access_csv("access.csv", open(&files.access)?)?;
    }
    phase("access");
    let ds = l.finish();
    phase("finish");
    let load = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut cfg = EhrConfig::default();
    if let Some(d) = std::env::var("BUDGET_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.score.budget_days = d;
    }
    // development overrides: BUDGET, OFF_MAX_SHARE, SNOOP_RATE, OFF_MIN_DAYS
    for (k, slot) in [
        ("BUDGET", &mut cfg.score.daily_budget_share),
        ("OFF_MAX_SHARE", &mut cfg.signals.off_hours_max_share),
        ("SNOOP_RATE", &mut cfg.score.snoop_signal_rate),
    ] {
        if let Some(v) = std::env::var(k).ok().and_then(|v| v.parse().ok()) {
            *slot = v;
        }
    }
    if let Some(v) = std::env::var("OFF_MIN_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.signals.off_hours_min_days = v;
    }
    let det = Detector::new(cfg)?.detect(&ds);
    let detect = t1.elapsed().as_secs_f64();
    let n = ds.accesses.len();
    println!(
        "load: {load:.2} s; detect: {detect:.2} s = {:.0} accesses/s",
        n as f64 / detect.max(1e-9)
    );
    println!("{}", serde_json::to_string(&ds.report)?);
    println!("links: {:?}", det.report.links);
    println!(
        "candidates {} flagged {} ({:.3}% of {n}) cases {} over budget {}",
        det.report.candidates,
        det.report.flagged,
        100.0 * det.report.flagged as f64 / n.max(1) as f64,
        det.report.cases,
        det.report.over_budget
    );
    for w in &det.report.weights.signals {
        println!(
            "  {:<26} w {:>5.2}  unexpl {:>7} expl {:>8}",
            w.signal.as_str(),
            w.weight,
            w.unexplained,
            w.explained
        );
    }
    println!("  prior {:.2}", det.report.weights.prior);
    let truth = dir.join("truth.csv");
    if truth.is_file() {
        let flagged: HashSet<u64> = det.flagged.iter().map(|f| f.row).collect();
        let mut rdr = csv::Reader::from_path(&truth)?;
        let h = rdr.headers()?.clone();
        let ri = h
            .iter()
            .position(|c| c == "row")
            .ok_or("truth.csv: no row column")?;
        let ci = h.iter().position(|c| c == "case_type");
        let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut unexpl_truth = 0u64;
        let (mut tp, mut total) = (0u64, 0u64);
        let expl_of: std::collections::HashMap<u64, usize> = ds
            .accesses
            .iter()
            .enumerate()
            .map(|(i, a)| (a.row, i))
            .collect();
        let order = ward_ehr::explain::pair_order(&ds);
        let expl = ward_ehr::explain::explain_all(&ds, &cfg.explain, &order);
        let sig = ward_ehr::signals::compute(&ds, &cfg.signals, &expl, &order);
        let mut fired: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
        let truth_set: HashSet<u64> = {
            let mut r2 = csv::Reader::from_path(&truth)?;
            r2.records()
                .filter_map(|r| r.ok().and_then(|r| r.get(ri).and_then(|v| v.parse().ok())))
                .collect()
        };
        if std::env::var_os("DIAG_EM").is_some() {
            let t: HashSet<usize> = ds
                .accesses
                .iter()
                .enumerate()
                .filter(|(_, a)| truth_set.contains(&a.row))
                .map(|(i, _)| i)
                .collect();
            em_probe(&sig.bits, &expl, &t);
        }
        if std::env::var_os("DIAG_ROLE").is_some() {
            // per role: unexplained accesses (legit, snoop) and the share whose patient has an
            // encounter in any department within +-7 days
            let near = |a: &ward_ehr::Access| {
                let t = a.time.0;
                let w = 7 * 86_400_000_000i64;
                ds.encounters
                    .get(a.patient)
                    .iter()
                    .any(|e| e.start <= t.saturating_add(w) && e.end.saturating_add(w) >= t)
            };
            let mut per_role: BTreeMap<String, [u64; 6]> = BTreeMap::new();
            for (i, a) in ds.accesses.iter().enumerate() {
                let role = ds.roles.name(ds.user(a.user).role).to_owned();
                let e = per_role.entry(role).or_default();
                let ex = expl.get(i).is_some_and(|x| x.is_explained());
                let snoop = truth_set.contains(&a.row);
                let k = if ex {
                    0
                } else if snoop {
                    2
                } else {
                    4
                };
                e[k] += 1;
                if near(a) {
                    e[k + 1] += 1;
                }
            }
            for (r, c) in per_role {
                eprintln!(
                    "{r:<20} expl {:>8} near {:.2} | snoop-unexpl {:>5} near {:.2} | legit-unexpl {:>7} near {:.2}",
                    c[0],
                    c[1] as f64 / c[0].max(1) as f64,
                    c[2],
                    c[3] as f64 / c[2].max(1) as f64,
                    c[4],
                    c[5] as f64 / c[4].max(1) as f64
                );
            }
        }
        for r in rdr.records() {
            let r = r?;
            let row: u64 = r.get(ri).ok_or("bad row")?.parse()?;
            let ct = ci.and_then(|c| r.get(c)).unwrap_or("?").to_owned();
            if let Some(m) = expl_of.get(&row).and_then(|i| sig.bits.get(*i)) {
                let f = fired.entry(ct.clone()).or_default();
                for s in ward_ehr::signals::Signal::ALL {
                    if s.is_in(*m) {
                        *f.entry(s.as_str()).or_default() += 1;
                    }
                }
            }
            if std::env::var_os("DIAG_OFF").is_some()
                && ct == "off_hours"
                && let Some(i) = expl_of.get(&row)
                && let Some(a) = ds.accesses.get(*i)
            {
                let h = ward_ehr::signals::hour_of(a.time.0);
                let share = sig.hour_share_of(&ds, *i);
                let m = sig.bits.get(*i).copied().unwrap_or(0);
                eprintln!(
                    "off_hours row {row} user {} hour {h} share {share:.4} fired {} flagged {}",
                    a.user,
                    ward_ehr::signals::Signal::OffHours.is_in(m),
                    flagged.contains(&row)
                );
            }
            let hit = flagged.contains(&row);
            let e = per.entry(ct).or_default();
            e.0 += 1;
            total += 1;
            if hit {
                e.1 += 1;
                tp += 1;
            }
            if expl_of
                .get(&row)
                .and_then(|i| expl.get(*i))
                .is_some_and(|x| !x.is_explained())
            {
                unexpl_truth += 1;
            }
        }
        println!(
            "recall {:.3} ({tp}/{total}); precision {:.3}; snooping accesses left unexplained {unexpl_truth}",
            tp as f64 / total.max(1) as f64,
            tp as f64 / det.flagged.len().max(1) as f64
        );
        let truth_rows: HashSet<u64> = {
            let mut rdr = csv::Reader::from_path(&truth)?;
            rdr.records()
                .filter_map(|r| r.ok().and_then(|r| r.get(ri).and_then(|v| v.parse().ok())))
                .collect()
        };
        let mut fp: BTreeMap<String, u64> = BTreeMap::new();
        for f in det.flagged.iter().filter(|f| !truth_rows.contains(&f.row)) {
            let mut codes: Vec<&str> = f.reasons.iter().map(|r| r.code).collect();
            codes.sort_unstable();
            *fp.entry(codes.join("+")).or_default() += 1;
        }
        let mut fp: Vec<(String, u64)> = fp.into_iter().collect();
        fp.sort_by_key(|x| std::cmp::Reverse(x.1));
        println!("false positives by reasons:");
        for (k, v) in fp.iter().take(12) {
            println!("  {v:>6} {k}");
        }
        for (ct, (t, h)) in per {
            println!(
                "  {ct:<12} {h:>5}/{t:<5} {:.2}  {:?}",
                h as f64 / t.max(1) as f64,
                fired.get(&ct)
            );
        }
    }
    if let Some(m) = peak_rss_mib() {
        println!("peak RSS {m:.0} MiB");
    }
    Ok(())
}

/// Development: a two-class latent naive Bayes (EM) over the signal masks of unexplained
/// accesses, printing what it learns next to the label-free weights.
pub fn em_probe(bits: &[u32], expl: &[ward_ehr::explain::Explained], truth: &HashSet<usize>) {
    use ward_ehr::signals::Signal;
    let mut hist: std::collections::HashMap<u32, (f64, f64)> = std::collections::HashMap::new();
    for (i, (m, e)) in bits.iter().zip(expl).enumerate() {
        if !e.is_explained() {
            let h = hist.entry(*m).or_default();
            h.0 += 1.0;
            if truth.contains(&i) {
                h.1 += 1.0;
            }
        }
    }
    let masks: Vec<(u32, f64, f64)> = hist.into_iter().map(|(m, (n, t))| (m, n, t)).collect();
    let n: f64 = masks.iter().map(|x| x.1).sum();
    let k = Signal::ALL.len();
    let mut pi: f64 = 0.05;
    let mut ps: Vec<f64> = vec![0.5; k];
    let mut pl: Vec<f64> = (0..k)
        .map(|j| {
            (masks
                .iter()
                .filter(|x| x.0 & (1 << j) != 0)
                .map(|x| x.1)
                .sum::<f64>()
                + 1.0)
                / (n + 2.0)
        })
        .collect();
    for it in 0..200 {
        let mut rs = 0.0;
        let mut cs = vec![0.0; k];
        let mut cl = vec![0.0; k];
        for &(m, cnt, _) in &masks {
            let (mut ls, mut ll) = (pi.ln(), (1.0 - pi).ln());
            for j in 0..k {
                let on = m & (1 << j) != 0;
                ls += if on { ps[j] } else { 1.0 - ps[j] }.max(1e-12).ln();
                ll += if on { pl[j] } else { 1.0 - pl[j] }.max(1e-12).ln();
            }
            let r = 1.0 / (1.0 + (ll - ls).exp());
            rs += r * cnt;
            for j in 0..k {
                if m & (1 << j) != 0 {
                    cs[j] += r * cnt;
                    cl[j] += (1.0 - r) * cnt;
                }
            }
        }
        pi = rs / n;
        for j in 0..k {
            ps[j] = (cs[j] + 0.5) / (rs + 1.0);
            pl[j] = (cl[j] + 0.5) / (n - rs + 1.0);
        }
        if it % 50 == 49 {
            eprintln!("em iter {it}: pi {pi:.4}");
        }
    }
    let tn: f64 = masks.iter().map(|x| x.2).sum();
    eprintln!(
        "em: pi {pi:.4} (true snoop share of unexplained {:.4})",
        tn / n
    );
    for (j, s) in Signal::ALL.iter().enumerate() {
        let true_s = masks
            .iter()
            .filter(|x| x.0 & (1 << j) != 0)
            .map(|x| x.2)
            .sum::<f64>()
            / tn.max(1.0);
        let true_l = masks
            .iter()
            .filter(|x| x.0 & (1 << j) != 0)
            .map(|x| x.1 - x.2)
            .sum::<f64>()
            / (n - tn).max(1.0);
        eprintln!(
            "  {:<26} P(s|S) {:.3} (true {:.3})  P(s|L) {:.4} (true {:.4})  w {:+.2} (true {:+.2})",
            s.as_str(),
            ps[j],
            true_s,
            pl[j],
            true_l,
            (ps[j] / pl[j]).ln(),
            ((true_s + 1e-4) / (true_l + 1e-6)).ln()
        );
    }
}
