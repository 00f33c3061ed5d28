//! Zeek JSON and Suricata EVE.

use crate::run;
use ward_core::{Flow, Proto, Timestamp};
use ward_ingest::Format;

const ZEEK_JSON: &str = r#"{"_path":"conn","ts":1714564800.123456,"uid":"CAbc1","id.orig_h":"10.0.0.5","id.orig_p":51234,"id.resp_h":"10.0.0.9","id.resp_p":2575,"proto":"tcp","duration":1.5,"orig_bytes":1200,"resp_bytes":80,"conn_state":"SF","local_orig":true,"missed_bytes":3,"history":"ShADadFf","orig_pkts":10,"orig_ip_bytes":1720,"resp_pkts":8,"resp_ip_bytes":500,"tunnel_parents":[]}"#;

#[test]
fn zeek_json_matches_tsv() {
    let text = format!("{ZEEK_JSON}\n{{\"_path\":\"dns\",\"ts\":1.0,\"id.orig_h\":\"1.1.1.1\"}}\n");
    let r = run(None, text.as_bytes());
    assert_eq!(r.format, Format::ZeekJson);
    assert_eq!(r.ok(), vec![crate::zeek::flow1()]);
    assert_eq!(r.stats.skipped, 1);
}

#[test]
fn zeek_json_iso_timestamps_and_missing_fields() {
    let text = r#"{"ts":"2024-05-01T12:00:00.500000Z","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","proto":"udp"}"#;
    let r = run(Some(Format::ZeekJson), text.as_bytes());
    let f = r.ok();
    assert_eq!(f[0].ts, Timestamp::parse_rfc3339("2024-05-01T12:00:00.5Z"));
    assert_eq!(f[0].proto, Proto::Udp);
    assert_eq!(f[0].src_bytes, None);
    assert_eq!(f[0].extra, vec![0.0; 3]);
}

#[test]
fn json_record_errors() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"id.orig_p":7000000}"#,
            "field id.orig_p: invalid port 7000000",
        ),
        (
            r#"{"id.orig_p":"http"}"#,
            "field id.orig_p: invalid port \"http\"",
        ),
        (r#"{"orig_bytes":-5}"#, "field orig_bytes: invalid count -5"),
        (
            r#"{"orig_bytes":{"a":1}}"#,
            "field orig_bytes: invalid count (object or array)",
        ),
        (
            r#"{"id.orig_h":"not-an-ip"}"#,
            "field id.orig_h: invalid address \"not-an-ip\"",
        ),
        (r#"{"ts":true}"#, "field ts: invalid timestamp true"),
        (r#"{"duration":-1}"#, "field duration: negative"),
        (
            r#"{"uid":"a""#,
            "invalid json: EOF while parsing an object at line 1 column 10",
        ),
        (r#"[1,2]"#, "invalid json: expected an object"),
        (r#"nonsense"#, "invalid json: expected an object"),
        (
            r#"{"ts":1,"ts":2}"#,
            "invalid record: duplicate field `ts` at line 1 column 12",
        ),
    ];
    for (line, want) in cases {
        let text = format!("{line}\n{ZEEK_JSON}\n");
        let r = run(Some(Format::ZeekJson), text.as_bytes());
        assert_eq!(r.errors(), vec![format!("test:1: {want}")], "{line}");
        assert_eq!(r.flows().len(), 1, "{line}");
    }
}

const EVE_FLOW: &str = r#"{"timestamp":"2024-05-01T12:00:10.000000+0000","flow_id":1234567890,"in_iface":"eth0","event_type":"flow","src_ip":"10.1.1.5","src_port":49152,"dest_ip":"10.2.2.9","dest_port":11112,"proto":"TCP","app_proto":"dicom","flow":{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":4000,"bytes_toclient":90000,"start":"2024-05-01T12:00:00.000000+0000","end":"2024-05-01T12:00:02.250000+0000","age":2,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b"}}"#;
const EVE_ALERT: &str = r#"{"timestamp":"2024-05-01T12:00:01.000000+0000","flow_id":42,"event_type":"alert","src_ip":"10.2.2.9","src_port":11112,"dest_ip":"10.1.1.5","dest_port":49152,"proto":"TCP","direction":"to_client","alert":{"action":"allowed","gid":1,"signature_id":2024001,"rev":1,"signature":"ET POLICY something","category":"Potentially Bad Traffic","severity":2},"app_proto":"dicom","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":300,"bytes_toclient":200,"start":"2024-05-01T12:00:00.000000+0000","src_ip":"10.1.1.5","dest_ip":"10.2.2.9","src_port":49152,"dest_port":11112}}"#;
const EVE_DNS: &str = r#"{"timestamp":"2024-05-01T12:00:01.000000+0000","event_type":"dns","src_ip":"10.1.1.5","dest_ip":"10.0.0.53","proto":"UDP","dns":{"type":"query","rrname":"example.org"}}"#;

#[test]
fn eve_flow_and_alert_events() {
    let text = format!(
        "{EVE_FLOW}\n{EVE_DNS}\n{EVE_ALERT}\n{{\"event_type\":\"stats\",\"stats\":{{}}}}\n"
    );
    let r = run(None, text.as_bytes());
    assert_eq!(r.format, Format::Eve);
    assert_eq!(r.schema.extra, vec!["alert_signature_id", "alert_severity"]);
    let start = Timestamp::parse_rfc3339("2024-05-01T12:00:00Z");
    let flow = Flow {
        ts: start,
        uid: Some("1234567890".into()),
        src: Some("10.1.1.5".parse().unwrap()),
        src_port: Some(49152),
        dst: Some("10.2.2.9".parse().unwrap()),
        dst_port: Some(11112),
        proto: Proto::Tcp,
        service: Some("dicom".into()),
        state: Some("closed".into()),
        duration: Some(2.25),
        src_bytes: Some(4000),
        dst_bytes: Some(90000),
        src_pkts: Some(12),
        dst_pkts: Some(10),
        extra: vec![0.0, 0.0],
        label: None,
    };
    let alert = Flow {
        uid: Some("42".into()),
        state: None,
        duration: None,
        src_bytes: Some(300),
        dst_bytes: Some(200),
        src_pkts: Some(3),
        dst_pkts: Some(2),
        // The alert fired on a server-to-client packet; the flow keeps the originator's view.
        extra: vec![2024001.0, 2.0],
        ..flow.clone()
    };
    assert_eq!(r.ok(), vec![flow, alert]);
    assert_eq!(r.lines(), vec![1, 3]);
    assert_eq!(r.stats.skipped, 2);
}

#[test]
fn eve_alert_without_flow_object_uses_packet_addresses() {
    let text = r#"{"timestamp":"2024-05-01T12:00:01Z","event_type":"alert","src_ip":"10.2.2.9","src_port":80,"dest_ip":"10.1.1.5","dest_port":5000,"proto":"IPv6-ICMP","alert":{"signature_id":7,"severity":1}}"#;
    let f = run(Some(Format::Eve), text.as_bytes()).ok();
    assert_eq!(f[0].src, Some("10.2.2.9".parse().unwrap()));
    assert_eq!(f[0].proto, Proto::Icmp);
    assert_eq!(f[0].ts, Timestamp::parse_rfc3339("2024-05-01T12:00:01Z"));
    assert_eq!(f[0].extra, vec![7.0, 1.0]);
    assert_eq!(f[0].src_bytes, None);
}

#[test]
fn eve_record_errors() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"event_type":"flow","src_port":70000}"#,
            "field src_port: invalid port 70000",
        ),
        (
            r#"{"event_type":"flow","flow":{"bytes_toserver":"lots"}}"#,
            "field flow.bytes_toserver: invalid count \"lots\"",
        ),
        (
            r#"{"event_type":"flow","flow":{"start":"2024-13-01T00:00:00Z"}}"#,
            "field flow.start: invalid timestamp \"2024-13-01T00:00:00Z\"",
        ),
        (
            r#"{"event_type":"flow","flow":"x"}"#,
            "invalid record: invalid type: string \"x\", expected struct EveFlow at line 1 column 31",
        ),
        (
            r#"{"src_ip":"1.2.3.4"}"#,
            "field event_type: missing or not a string",
        ),
        (
            r#"{"event_type":"flow","#,
            "invalid json: EOF while parsing a value at line 1 column 21",
        ),
    ];
    for (line, want) in cases {
        let text = format!("{line}\n{EVE_FLOW}\n");
        let r = run(Some(Format::Eve), text.as_bytes());
        assert_eq!(r.errors(), vec![format!("test:1: {want}")], "{line}");
        assert_eq!(r.flows().len(), 1);
    }
}
