//! Zeek conn.log TSV.

use crate::{gzip, run};
use ward_core::{Flow, Proto, Timestamp};
use ward_ingest::Format;

pub const HEADER: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2024-05-01-12-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
";

pub const LINE1: &str = "1714564800.123456\tCAbc1\t10.0.0.5\t51234\t10.0.0.9\t2575\ttcp\t-\t1.500000\t1200\t80\tSF\tT\tT\t3\tShADadFf\t10\t1720\t8\t500\t(empty)";
pub const LINE2: &str = "1714564801.000000\tCAbc2\tfe80::1\t5353\tff02::fb\t5353\tudp\tdns\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t100\t0\t0\t(empty)";

pub fn conn_log(lines: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("#close\t2024-05-01-13-00-00\n");
    s
}

pub fn flow1() -> Flow {
    Flow {
        ts: Some(Timestamp(1_714_564_800_123_456)),
        uid: Some("CAbc1".into()),
        src: Some("10.0.0.5".parse().unwrap()),
        src_port: Some(51234),
        dst: Some("10.0.0.9".parse().unwrap()),
        dst_port: Some(2575),
        proto: Proto::Tcp,
        service: None,
        state: Some("SF".into()),
        duration: Some(1.5),
        src_bytes: Some(1200),
        dst_bytes: Some(80),
        src_pkts: Some(10),
        dst_pkts: Some(8),
        extra: vec![3.0, 1720.0, 500.0],
        label: None,
    }
}

fn flow2() -> Flow {
    Flow {
        ts: Some(Timestamp(1_714_564_801_000_000)),
        uid: Some("CAbc2".into()),
        src: Some("fe80::1".parse().unwrap()),
        src_port: Some(5353),
        dst: Some("ff02::fb".parse().unwrap()),
        dst_port: Some(5353),
        proto: Proto::Udp,
        service: Some("dns".into()),
        state: Some("S0".into()),
        duration: None,
        src_bytes: None,
        dst_bytes: None,
        src_pkts: Some(1),
        dst_pkts: Some(0),
        extra: vec![0.0, 100.0, 0.0],
        label: None,
    }
}

#[test]
fn reads_a_conn_log() {
    let r = run(None, conn_log(&[LINE1, LINE2]).as_bytes());
    assert_eq!(r.format, Format::Zeek);
    assert_eq!(r.schema.format, "zeek");
    assert_eq!(
        r.schema.extra,
        vec!["missed_bytes", "orig_ip_bytes", "resp_ip_bytes"]
    );
    assert_eq!(r.ok(), vec![flow1(), flow2()]);
    assert_eq!(r.lines(), vec![9, 10]);
    assert_eq!(r.stats.records, 2);
    assert_eq!(r.stats.bad, 0);
}

#[test]
fn reads_gzip_and_crlf() {
    let text = conn_log(&[LINE1, LINE2]).replace('\n', "\r\n");
    let r = run(None, &gzip(text.as_bytes()));
    assert_eq!(r.ok(), vec![flow1(), flow2()]);
}

#[test]
fn maps_columns_by_name_and_tolerates_missing_ones() {
    let text = "#separator \\x09\n#fields\tid.resp_p\tproto\tid.orig_h\tts\tnew_column\n80\ttcp\t192.168.1.2\t10.5\twhatever\n";
    let r = run(None, text.as_bytes());
    let want = Flow {
        ts: Some(Timestamp(10_500_000)),
        src: Some("192.168.1.2".parse().unwrap()),
        dst_port: Some(80),
        proto: Proto::Tcp,
        extra: vec![0.0; 3],
        ..Flow::default()
    };
    assert_eq!(r.ok(), vec![want]);
}

#[test]
fn custom_separator_and_unset_markers() {
    let text =
        "#separator ,\n#unset_field,NONE\n#fields,ts,id.orig_h,orig_bytes\n1.0,1.2.3.4,NONE\n";
    let r = run(None, text.as_bytes());
    let f = r.ok();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].src_bytes, None);
    assert_eq!(f[0].src, Some("1.2.3.4".parse().unwrap()));
}

#[test]
fn without_header_assumes_default_column_order() {
    let text = format!("{LINE1}\n");
    let r = run(Some(Format::Zeek), text.as_bytes());
    assert_eq!(r.ok(), vec![flow1()]);
    // Zeek versions with one column less (no tunnel_parents) still read.
    let short = LINE1.rsplit_once('\t').unwrap().0;
    assert_eq!(
        run(Some(Format::Zeek), short.as_bytes()).ok(),
        vec![flow1()]
    );
}

#[test]
fn concatenated_logs_re_read_the_header() {
    let mut text = conn_log(&[LINE1]);
    text.push_str("#separator \\x09\n#fields\tts\tid.orig_h\n5.0\t9.9.9.9\n");
    let f = run(None, text.as_bytes()).ok();
    assert_eq!(f.len(), 2);
    assert_eq!(f[1].src, Some("9.9.9.9".parse().unwrap()));
}

/// Bad fields: each line is reported with its line number and a reason naming the field, and
/// reading goes on with the next line.
#[test]
fn bad_fields_are_record_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id.orig_p",
            "7000000",
            "field id.orig_p: invalid port \"7000000\"",
        ),
        ("id.resp_p", "-1", "field id.resp_p: invalid port \"-1\""),
        (
            "orig_bytes",
            "12kb",
            "field orig_bytes: invalid count \"12kb\"",
        ),
        ("resp_pkts", "1.5", "field resp_pkts: invalid count \"1.5\""),
        (
            "id.orig_h",
            "10.0.0.256",
            "field id.orig_h: invalid address \"10.0.0.256\"",
        ),
        (
            "ts",
            "yesterday",
            "field ts: invalid timestamp \"yesterday\"",
        ),
        ("duration", "-3", "field duration: invalid duration \"-3\""),
        (
            "duration",
            "NaN",
            "field duration: invalid duration \"NaN\"",
        ),
        (
            "missed_bytes",
            "x",
            "field missed_bytes: invalid count \"x\"",
        ),
    ];
    let names: Vec<&str> = HEADER
        .lines()
        .find(|l| l.starts_with("#fields"))
        .unwrap()
        .split('\t')
        .skip(1)
        .collect();
    for (field, value, want) in cases {
        let idx = names.iter().position(|n| n == field).unwrap();
        let mut cols: Vec<&str> = LINE1.split('\t').collect();
        cols[idx] = value;
        let bad = cols.join("\t");
        let r = run(None, conn_log(&[&bad, LINE2]).as_bytes());
        assert_eq!(r.errors(), vec![format!("test:9: {want}")], "{field}");
        assert_eq!(r.flows(), vec![flow2()], "{field}");
        assert_eq!((r.stats.records, r.stats.bad), (1, 1));
        assert_eq!(r.stats.errors[0].line, 9);
        assert_eq!(r.stats.errors[0].reason, *want);
    }
}

#[test]
fn wrong_column_count() {
    let r = run(None, conn_log(&["1.0\tC1\t1.2.3.4", LINE1]).as_bytes());
    assert_eq!(r.errors(), vec!["test:9: expected 21 fields, found 3"]);
    assert_eq!(r.flows(), vec![flow1()]);
}

#[test]
fn errors_never_echo_the_line() {
    let secret = "CPatientJaneDoe4711";
    let bad = LINE1.replace("CAbc1", secret).replace("51234", "99999999");
    let r = run(None, conn_log(&[&bad]).as_bytes());
    let errs = r.errors();
    assert_eq!(errs.len(), 1);
    assert!(!errs[0].contains(secret), "{}", errs[0]);
    let long = LINE1.replace("51234", &"7".repeat(5000));
    let r = run(None, conn_log(&[&long]).as_bytes());
    assert!(r.errors()[0].len() < 120, "{}", r.errors()[0]);
}

#[test]
fn other_zeek_logs_are_refused() {
    let text = "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\n1.0\t1.2.3.4\n";
    let r = run(None, text.as_bytes());
    assert_eq!(
        r.errors(),
        vec!["test:2: zeek header: #path is \"dns\", expected a conn log"]
    );
    assert!(r.items.len() == 1 && r.items[0].as_ref().unwrap_err().is_fatal());
    let text = "#separator \\x09\n#fields\tquery\tanswers\n";
    let r = run(None, text.as_bytes());
    assert_eq!(
        r.errors(),
        vec!["test:2: zeek header: #fields has none of the conn.log columns"]
    );
}
