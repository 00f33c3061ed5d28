//! NSL-KDD.

use crate::run;
use ward_core::{FlowLabel, Proto};
use ward_ingest::{Format, extras};

/// A KDD line: duration, protocol, service, flag, bytes, then 35 numeric features where feature
/// `k` (0-based from `land`) is `k / 100`, then the attack name and optional difficulty.
fn kdd_line(
    proto: &str,
    service: &str,
    flag: &str,
    attack: &str,
    difficulty: Option<u32>,
) -> String {
    let mut cols = vec![
        "2".to_string(),
        proto.into(),
        service.into(),
        flag.into(),
        "491".into(),
        "17".into(),
    ];
    cols.extend((0..35).map(|k| format!("{:.2}", k as f64 / 100.0)));
    cols.push(attack.into());
    if let Some(d) = difficulty {
        cols.push(d.to_string());
    }
    cols.join(",")
}

#[test]
fn reads_nsl_kdd_43_and_42_columns() {
    let text = [
        kdd_line("tcp", "ftp_data", "SF", "normal", Some(20)),
        kdd_line("udp", "private", "S0", "neptune", Some(19)),
        kdd_line("icmp", "ecr_i", "SF", "smurf.", None),
        kdd_line("tcp", "http", "RSTR", "apache2", Some(3)),
        kdd_line("tcp", "telnet", "SF", "sqlattack", Some(1)),
        kdd_line("tcp", "other", "SF", "brandnew", Some(1)),
    ]
    .join("\n");
    let r = run(None, format!("\u{feff}{text}").as_bytes());
    assert_eq!(r.format, Format::NslKdd);
    assert_eq!(r.schema.extra.len(), 35);
    assert_eq!(r.schema.extra, extras::nsl_kdd());
    assert_eq!(r.schema.extra[0], "land");
    assert_eq!(r.schema.extra[34], "dst_host_srv_rerror_rate");
    let f = r.ok();
    assert_eq!(f.len(), 6);
    assert_eq!(f[0].proto, Proto::Tcp);
    assert_eq!(f[0].service.as_deref(), Some("ftp_data"));
    assert_eq!(f[0].state.as_deref(), Some("SF"));
    assert_eq!(
        (f[0].duration, f[0].src_bytes, f[0].dst_bytes),
        (Some(2.0), Some(491), Some(17))
    );
    assert_eq!(
        f[0].extra,
        (0..35)
            .map(|k| ((k as f64) / 100.0 * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    assert!(f[0].ts.is_none() && f[0].src.is_none());
    let labels: Vec<FlowLabel> = f.iter().map(|x| x.label.clone().unwrap()).collect();
    let l = |attack: bool, cat: &str, name: Option<&str>| FlowLabel {
        attack,
        category: cat.into(),
        name: name.map(Into::into),
    };
    assert_eq!(
        labels,
        vec![
            l(false, "Normal", None),
            l(true, "DoS", Some("neptune")),
            l(true, "DoS", Some("smurf")),
            l(true, "DoS", Some("apache2")),
            l(true, "U2R", Some("sqlattack")),
            l(true, "Unknown", Some("brandnew")),
        ]
    );
}

#[test]
fn kdd_record_errors() {
    let good = kdd_line("tcp", "http", "SF", "normal", Some(21));
    let cases: Vec<(String, &str)> = vec![
        (
            "1,2,3".into(),
            "expected 42 or 43 comma-separated columns, found 3",
        ),
        (
            good.replacen("491", "4x1", 1),
            "field src_bytes: invalid count \"4x1\"",
        ),
        (
            good.replacen("2,tcp", "-2,tcp", 1),
            "field duration: invalid duration \"-2\"",
        ),
        (
            good.replacen("0.05", "five", 1),
            "field logged_in: invalid number \"five\"",
        ),
        (good.replace(",normal,", ",,"), "field attack: empty"),
    ];
    for (line, want) in cases {
        let text = format!("{line}\n{good}\n");
        let r = run(Some(Format::NslKdd), text.as_bytes());
        assert_eq!(r.errors(), vec![format!("test:1: {want}")], "{line}");
        assert_eq!(r.flows().len(), 1);
    }
}

/// The real NSL-KDD 20% training file, when the shared datasets are beside the repository.
#[test]
fn shared_nsl_kdd_sample_reads_cleanly() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/network/nsl-kdd/KDDTrain+_20Percent.txt");
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let mut r = ward_ingest::open(&path, &ward_ingest::ReadOptions::default()).unwrap();
    assert_eq!(r.format(), Format::NslKdd);
    let mut attacks = 0;
    for item in &mut r {
        let rec = item.unwrap();
        let label = rec.flow.label.unwrap();
        assert_ne!(label.category, "Unknown", "line {}", rec.id.line);
        attacks += u64::from(label.attack);
    }
    assert_eq!(r.stats().bad, 0);
    assert!(r.stats().records > 20_000);
    assert!(attacks > 5_000);
}
