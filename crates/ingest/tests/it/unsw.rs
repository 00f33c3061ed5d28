//! UNSW-NB15, both layouts.

use crate::run;
use ward_core::{FlowLabel, Proto, Timestamp};
use ward_ingest::{Format, extras};

fn partition_row(id: u32, proto: &str, service: &str, cat: &str, label: u8) -> String {
    let mut cols = vec![
        id.to_string(),
        "0.121478".into(),
        proto.into(),
        service.into(),
        "FIN".into(),
    ];
    cols.extend(["6", "4", "258", "172"].map(String::from));
    // 34 extra columns from `rate` to `is_sm_ips_ports`: value k + 0.5
    cols.extend((0..34).map(|k| format!("{}.5", k)));
    cols.push(cat.into());
    cols.push(label.to_string());
    cols.join(",")
}

#[test]
fn reads_the_partition_layout() {
    let text = format!(
        "{}\n{}\n{}\n{}\n",
        extras::UNSW_PARTITION_COLUMNS.join(","),
        partition_row(1, "tcp", "-", "Normal", 0),
        partition_row(2, "udp", "dns", " Fuzzers ", 1),
        partition_row(3, "sctp", "http", "Backdoors", 1),
    );
    let r = run(None, text.as_bytes());
    assert_eq!(r.format, Format::Unsw);
    assert_eq!(r.schema.extra.len(), 34);
    assert_eq!(r.schema.extra.first().map(String::as_str), Some("rate"));
    assert_eq!(
        r.schema.extra.last().map(String::as_str),
        Some("is_sm_ips_ports")
    );
    assert!(
        !r.schema
            .extra
            .iter()
            .any(|n| n == "id" || n == "label" || n == "attack_cat")
    );
    let f = r.ok();
    assert_eq!(r.lines(), vec![2, 3, 4]);
    assert_eq!(f[0].duration, Some(0.121478));
    assert_eq!(f[0].proto, Proto::Tcp);
    assert_eq!(f[0].service, None);
    assert_eq!(f[0].state.as_deref(), Some("FIN"));
    assert_eq!(
        (f[0].src_pkts, f[0].dst_pkts, f[0].src_bytes, f[0].dst_bytes),
        (Some(6), Some(4), Some(258), Some(172))
    );
    assert_eq!(
        f[0].extra,
        (0..34).map(|k| k as f64 + 0.5).collect::<Vec<_>>()
    );
    assert_eq!(
        f[0].label,
        Some(FlowLabel {
            attack: false,
            category: "Normal".into(),
            name: None
        })
    );
    assert_eq!(
        f[1].label,
        Some(FlowLabel {
            attack: true,
            category: "Fuzzers".into(),
            name: None
        })
    );
    assert_eq!(
        f[2].label,
        Some(FlowLabel {
            attack: true,
            category: "Backdoor".into(),
            name: None
        })
    );
    assert_eq!(f[2].proto, Proto::Other("sctp".into()));
}

#[test]
fn reads_the_raw_layout() {
    let raw = "59.166.0.1,1390,149.171.126.6,0x0035,udp,CON,0.001055,132,164,31,29,0,0,dns,500473.9375,621800.9375,2,2,0,0,0,0,66,82,0,0,0,0,1421927414,1421927415,0.017,0.013,0,0,0,0,0,0,0,,3,7,1,3,1,1,1,,0\n\
175.45.176.1,-,149.171.126.16,80,tcp,FIN,1.5,1000,2000,62,252,1,1,http,1,1,10,8,255,255,1,1,100,250,1,0,1,1,1421927416,1421927418,1,1,0.1,0.05,0.05,0,1,1,0,0,1,1,1,1,1,1,1,Exploits,1\n";
    let r = run(None, raw.as_bytes());
    assert_eq!(r.format, Format::Unsw);
    assert_eq!(r.schema.extra.len(), 33);
    let f = r.ok();
    assert_eq!(f[0].src, Some("59.166.0.1".parse().unwrap()));
    assert_eq!(f[0].dst_port, Some(53));
    assert_eq!(f[0].ts, Some(Timestamp(1_421_927_414_000_000)));
    assert_eq!(f[0].label.as_ref().map(|l| l.attack), Some(false));
    assert_eq!(f[1].src_port, None);
    assert_eq!(
        f[1].label,
        Some(FlowLabel {
            attack: true,
            category: "Exploits".into(),
            name: None
        })
    );
}

#[test]
fn unsw_errors() {
    let header = extras::UNSW_PARTITION_COLUMNS.join(",");
    let good = partition_row(1, "tcp", "-", "Normal", 0);
    let cases: Vec<(String, &str)> = vec![
        ("1,2".into(), "expected 45 columns, found 2"),
        (
            good.replacen(",258,", ",2x8,", 1),
            "field sbytes: invalid count \"2x8\"",
        ),
        (
            good.replacen(",0.5,", ",abc,", 1),
            "field rate: invalid number \"abc\"",
        ),
        (
            good.replace(",Normal,0", ",Normal,2"),
            "field label: expected 0 or 1, found \"2\"",
        ),
    ];
    for (line, want) in cases {
        let text = format!("{header}\n{line}\n{good}\n");
        let r = run(Some(Format::Unsw), text.as_bytes());
        assert_eq!(r.errors(), vec![format!("test:2: {want}")], "{line}");
        assert_eq!(r.flows().len(), 1);
    }
    // A first line that is neither a header nor a raw record cannot be read at all.
    let e = crate::run_with("t.csv", b"1,2,3\n", &crate::opts(Some(Format::Unsw)))
        .err()
        .unwrap();
    assert!(e.is_fatal());
    assert_eq!(
        e.to_string(),
        "t.csv:1: unsw-nb15: first line is neither a header nor a raw record (column \"1\")"
    );
}

#[test]
fn shared_unsw_sample_reads_cleanly() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/network/unsw-nb15/unsw-nb15-dev.csv");
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let mut r = ward_ingest::open(&path, &ward_ingest::ReadOptions::default()).unwrap();
    assert_eq!(r.format(), Format::Unsw);
    assert_eq!(r.schema().extra.len(), 34);
    let n = (&mut r)
        .map(|i| i.unwrap())
        .filter(|rec| rec.flow.label.as_ref().unwrap().attack)
        .count();
    assert_eq!(r.stats().bad, 0);
    assert!(r.stats().records > 50_000);
    assert!(n > 10_000);
}
