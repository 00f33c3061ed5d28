//! Generic CSV through a mapping.

use crate::run_with;
use ward_core::{FlowLabel, Proto, Timestamp};
use ward_ingest::{Column, CsvMapping, Format, IngestError, ReadOptions};

fn mapping(toml_text: &str) -> CsvMapping {
    toml::from_str(toml_text).unwrap()
}

fn with(m: CsvMapping, format: Option<Format>) -> ReadOptions {
    ReadOptions {
        format,
        csv_mapping: Some(m),
        ..ReadOptions::default()
    }
}

const CIC: &str = r#"Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,"Fwd Pkt Len, Mean",Flow IAT Std,Label
a-1,10.0.0.1,5000,10.0.0.2,443,6,2024-05-01T12:00:00Z,2500000,10,9,51.5,0.25,BENIGN
a-2,10.0.0.3,6000,10.0.0.2,80,17,1714564800.5,1000,1,0,,-,DDoS
"#;

const CIC_MAPPING: &str = r#"
uid = "Flow ID"
src = "Src IP"
src_port = "Src Port"
dst = "dst ip"
dst_port = 4
proto = "Protocol"
ts = "Timestamp"
duration = "Flow Duration"
duration_unit = "us"
src_pkts = "Tot Fwd Pkts"
dst_pkts = "Tot Bwd Pkts"
label = "Label"
benign_values = ["BENIGN"]
extra = ["Fwd Pkt Len, Mean", "Flow IAT Std"]
"#;

#[test]
fn reads_a_cicflowmeter_like_csv() {
    let r = run_with(
        "flows.csv",
        CIC.as_bytes(),
        &with(mapping(CIC_MAPPING), None),
    )
    .unwrap();
    assert_eq!(r.format, Format::Csv);
    assert_eq!(r.schema.extra, vec!["Fwd Pkt Len, Mean", "Flow IAT Std"]);
    let f = r.ok();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].uid.as_deref(), Some("a-1"));
    assert_eq!(f[0].dst, Some("10.0.0.2".parse().unwrap()));
    assert_eq!(f[0].dst_port, Some(443));
    assert_eq!(f[0].proto, Proto::Tcp);
    assert_eq!(f[0].ts, Timestamp::parse_rfc3339("2024-05-01T12:00:00Z"));
    assert_eq!(f[0].duration, Some(2.5));
    assert_eq!((f[0].src_pkts, f[0].dst_pkts), (Some(10), Some(9)));
    assert_eq!(f[0].extra, vec![51.5, 0.25]);
    assert_eq!(
        f[0].label,
        Some(FlowLabel {
            attack: false,
            category: "Normal".into(),
            name: None
        })
    );
    assert_eq!(f[1].proto, Proto::Udp);
    assert_eq!(f[1].ts, Some(Timestamp(1_714_564_800_500_000)));
    assert_eq!(f[1].extra, vec![0.0, 0.0]);
    assert_eq!(
        f[1].label,
        Some(FlowLabel {
            attack: true,
            category: "DDoS".into(),
            name: Some("DDoS".into())
        })
    );
}

#[test]
fn headerless_by_index_with_attack_values_and_category() {
    let m = mapping(
        r#"
delimiter = ";"
has_header = false
src = 0
dst = 1
src_bytes = 2
label = 3
attack_values = ["1"]
category = 4
extra = [2]
"#,
    );
    let text =
        "10.0.0.1;10.0.0.2;100;0;\n10.0.0.1;10.0.0.9;7;1;Exfiltration\n10.0.0.1;10.0.0.9;7;1;\n";
    let r = run_with("x", text.as_bytes(), &with(m, Some(Format::Csv))).unwrap();
    assert_eq!(r.schema.extra, vec!["column 2"]);
    let labels: Vec<_> = r.ok().into_iter().map(|f| f.label.unwrap()).collect();
    assert_eq!(
        labels,
        vec![
            FlowLabel {
                attack: false,
                category: "Normal".into(),
                name: None
            },
            FlowLabel {
                attack: true,
                category: "Exfiltration".into(),
                name: None
            },
            FlowLabel {
                attack: true,
                category: "Attack".into(),
                name: None
            },
        ]
    );
}

#[test]
fn mapping_is_strict_about_unknown_keys() {
    let e = toml::from_str::<CsvMapping>("srcip = \"a\"").unwrap_err();
    assert!(e.to_string().contains("unknown field `srcip`"), "{e}");
    let m = mapping("src = 3\ndst = \"b\"");
    assert_eq!(m.src, Some(Column::Index(3)));
    assert_eq!(m.dst, Some(Column::Name("b".into())));
    assert_eq!(m.delimiter, ',');
    assert!(m.has_header);
}

#[test]
fn mapping_errors_are_fatal_at_open() {
    let cases: &[(&str, &str)] = &[
        (
            "src = \"Source\"",
            "x:1: csv mapping: column \"Source\" (for src) is not in the header",
        ),
        (
            "src = 99",
            "x:1: csv mapping: column 99 (for src) is past the header's 13 columns",
        ),
        (
            "has_header = false\nsrc = \"Src IP\"",
            "x:1: csv mapping: has_header is false, so column \"Src IP\" (for src) must be a 0-based index",
        ),
        (
            "delimiter = \"é\"",
            "x:1: csv mapping: delimiter 'é' is not a plain ASCII character",
        ),
    ];
    for (m, want) in cases {
        let e = run_with("x", CIC.as_bytes(), &with(mapping(m), Some(Format::Csv)))
            .err()
            .unwrap();
        assert!(e.is_fatal());
        assert_eq!(e.to_string(), *want);
    }
    let e = run_with("x", CIC.as_bytes(), &crate::opts(Some(Format::Csv)))
        .err()
        .unwrap();
    assert!(matches!(e, IngestError::Options { .. }));
    assert_eq!(
        e.to_string(),
        "invalid read options: the csv format needs a column mapping"
    );
}

#[test]
fn csv_record_errors() {
    let m = mapping(CIC_MAPPING);
    let header = CIC.lines().next().unwrap();
    let good = CIC.lines().nth(1).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            good.replacen(",5000,", ",500000,", 1),
            "field Src Port: invalid port \"500000\"",
        ),
        (
            good.replacen(",10,9,", ",ten,9,", 1),
            "field Tot Fwd Pkts: invalid count \"ten\"",
        ),
        ("a,b".into(), "expected 13 columns, found 2"),
        (
            good.replacen(",51.5,", ",\"51.5,", 1),
            "unterminated quoted field 11",
        ),
        (good.replacen(",BENIGN", ",", 1), "field label: empty"),
    ];
    for (line, want) in cases {
        let text = format!("{header}\n{line}\n{good}\n");
        let r = run_with("x", text.as_bytes(), &with(m.clone(), Some(Format::Csv))).unwrap();
        assert_eq!(r.errors(), vec![format!("x:2: {want}")], "{line}");
        assert_eq!(r.flows().len(), 1);
    }
}

#[test]
fn empty_csv_yields_nothing() {
    let r = run_with("x", b"", &with(mapping(CIC_MAPPING), Some(Format::Csv))).unwrap();
    assert!(r.items.is_empty());
    assert_eq!(r.schema.extra, vec!["Fwd Pkt Len, Mean", "Flow IAT Std"]);
}
