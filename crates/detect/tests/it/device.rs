//! `ward_detect::device`: protocol recognition, inventory, profiles and `net.device` alerts.
//!
//! Scenarios are data: flows written one per line in a small notation (see [`flow`]), a
//! training baseline of a small hospital network, and the alerts expected out (entity, words in
//! the explanation, MITRE ids, score bounds).

use std::net::IpAddr;
use ward_core::{Alert, EventId, Flow, Proto, Severity, Timestamp};
use ward_detect::device::{
    Criticality, DeviceConfig, DeviceConfigError, DeviceOverride, DeviceProfiler, DeviceRecord,
    DeviceRole, ProfilerState, Protocol, recognise,
};

/// 2024-05-01T00:00:00Z.
const BASE: i64 = 1_714_521_600_000_000;
const DAY: i64 = 86_400;

/// Parses one flow: `<secs> <src> > <dst>:<port>/<proto> [svc=S] [bytes=N] [uid=U] [state=S]`.
/// `<secs>` is seconds after [`BASE`] or `-` for no timestamp; IPv6 destinations are written
/// `[fd00::5]:104`; `:<port>` may be omitted.
fn flow(spec: &str) -> Flow {
    let mut it = spec.split_whitespace();
    let ts = match it.next() {
        Some("-") | None => None,
        Some(s) => Some(Timestamp(BASE + s.parse::<i64>().unwrap() * 1_000_000)),
    };
    let src: IpAddr = it.next().unwrap().parse().unwrap();
    assert_eq!(it.next(), Some(">"), "{spec}");
    let dst_spec = it.next().unwrap();
    let (dst_port, proto) = match dst_spec.rsplit_once('/') {
        Some((d, p)) => (d, Proto::parse(p)),
        None => (dst_spec, Proto::Tcp),
    };
    let (dst, port) = if let Some(rest) = dst_port.strip_prefix('[') {
        let (a, p) = rest.split_once(']').unwrap();
        (a, p.strip_prefix(':'))
    } else {
        match dst_port.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (dst_port, None),
        }
    };
    let mut f = Flow {
        ts,
        src: Some(src),
        dst: Some(dst.parse().unwrap()),
        dst_port: port.map(|p| p.parse().unwrap()),
        src_port: Some(49_152),
        proto,
        ..Default::default()
    };
    for kv in it {
        let (k, v) = kv.split_once('=').unwrap();
        match k {
            "svc" => f.service = Some(v.to_owned()),
            "bytes" => {
                let b: u64 = v.parse().unwrap();
                f.src_bytes = Some(b / 2);
                f.dst_bytes = Some(b - b / 2);
            }
            "uid" => f.uid = Some(v.to_owned()),
            "state" => f.state = Some(v.to_owned()),
            other => panic!("unknown key {other} in {spec}"),
        }
    }
    f
}

fn ev(line: u64) -> EventId {
    EventId {
        source: "conn.log".into(),
        line,
    }
}

// The hospital: addresses and what they do.
const CT: &str = "10.3.0.5"; // CT scanner: serves DICOM on 104, pushes studies to the PACS
const PACS: &str = "10.3.0.10"; // serves DICOM on 11112
const WS: &str = "10.1.0.20"; // reading workstation: DICOM to PACS, web, RDP
const ENGINE: &str = "10.4.0.2"; // HL7 interface engine on 2575
const LAB: &str = "10.4.0.30"; // lab analyser: sends HL7 to the engine
const PUMP: &str = "10.20.0.9"; // infusion pump: HTTPS to its server
const PUMP_SRV: &str = "10.20.0.2";
const FHIR: &str = "10.6.0.3"; // FHIR server (configured endpoint), HTTPS
const DNS: &str = "10.0.0.53";
const INTRANET: &str = "10.5.0.2";

fn hospital_config() -> DeviceConfig {
    DeviceConfig {
        fhir_endpoints: vec![FHIR.into()],
        overrides: vec![
            DeviceOverride {
                net: "10.20.0.0/24".into(),
                role: Some("infusion_pump".into()),
                criticality: Some(Criticality::LifeSustaining),
                label: Some("infusion pump".into()),
            },
            // The pump server inside the pump network: more specific entry wins.
            DeviceOverride {
                net: PUMP_SRV.into(),
                role: None,
                criticality: Some(Criticality::Clinical),
                label: None,
            },
            DeviceOverride {
                net: CT.into(),
                role: None,
                criticality: None,
                label: Some("CT scanner".into()),
            },
        ],
        ..Default::default()
    }
}

/// Seven days of ordinary traffic, every hour.
fn baseline() -> Vec<Flow> {
    let mut v = Vec::new();
    for h in 0..(7 * 24) {
        let t = h * 3600;
        let wobble = (h * 7919) % 1000;
        for spec in [
            format!(
                "{t} {CT} > {PACS}:11112/tcp svc=dicom bytes={}",
                40_000_000 + wobble * 20_000
            ),
            format!(
                "{} {WS} > {PACS}:11112/tcp svc=dicom bytes={}",
                t + 60,
                5_000_000 + wobble * 5_000
            ),
            format!("{} {PACS} > {CT}:104/tcp bytes={}", t + 90, 2_000 + wobble),
            format!(
                "{} {WS} > {INTRANET}:443/tcp bytes={}",
                t + 120,
                30_000 + wobble * 10
            ),
            format!(
                "{} {WS} > {FHIR}:443/tcp svc=ssl bytes={}",
                t + 150,
                8_000 + wobble
            ),
            format!(
                "{} {LAB} > {ENGINE}:2575/tcp bytes={}",
                t + 180,
                4_000 + wobble
            ),
            format!(
                "{} {PUMP} > {PUMP_SRV}:443/tcp bytes={}",
                t + 210,
                2_500 + wobble
            ),
            format!("{} {WS} > {DNS}:53/udp bytes=120", t + 240),
            format!("{} {CT} > {DNS}:53/udp bytes=110", t + 250),
        ] {
            v.push(flow(&spec));
        }
        if h % 24 == 9 {
            v.push(flow(&format!(
                "{} {WS} > 10.1.0.1:3389/tcp bytes=900000",
                t + 300
            )));
        }
    }
    v
}

fn trained(config: DeviceConfig) -> DeviceProfiler {
    let mut p = DeviceProfiler::new(config).unwrap();
    for f in baseline() {
        p.train(&f);
    }
    p.finish_training();
    p
}

/// One expected alert.
struct Expect {
    entity: &'static str,
    /// Words that must all appear in the explanation summary.
    words: &'static [&'static str],
    mitre: &'static [&'static str],
    min_score: u8,
    max_score: u8,
}

const fn exp(
    entity: &'static str,
    words: &'static [&'static str],
    mitre: &'static [&'static str],
) -> Expect {
    Expect {
        entity,
        words,
        mitre,
        min_score: 0,
        max_score: 100,
    }
}

/// Observes `flows` (one line each, after the 7-day training) and compares the alerts raised
/// with `expect`, in order.
fn check(config: DeviceConfig, flows: &[&str], expect: &[Expect]) -> Vec<Alert> {
    let mut p = trained(config);
    let mut got = Vec::new();
    for (i, spec) in flows.iter().enumerate() {
        got.extend(p.observe(&flow(spec), &ev(i as u64 + 1)));
    }
    let show = |a: &[Alert]| {
        a.iter()
            .map(|a| format!("{} | {} | {}", a.entity, a.title, a.explanation.summary))
            .collect::<Vec<_>>()
    };
    assert_eq!(got.len(), expect.len(), "alerts: {:#?}", show(&got));
    for (a, e) in got.iter().zip(expect) {
        assert_eq!(a.detector, "net.device");
        assert_eq!(a.entity.to_string(), e.entity, "{:#?}", show(&got));
        for w in e.words {
            assert!(
                a.explanation.summary.contains(w),
                "{w:?} not in {:?}",
                a.explanation.summary
            );
        }
        for m in e.mitre {
            assert!(a.mitre.iter().any(|x| x == m), "{m} not in {:?}", a.mitre);
        }
        assert!(
            (e.min_score..=e.max_score).contains(&a.score),
            "score {} for {}",
            a.score,
            a.title
        );
        assert_eq!(a.severity, Severity::from_score(a.score));
        assert!(!a.explanation.contributions.is_empty());
        assert!(!a.evidence.events.is_empty());
        assert!(!a.title.is_empty() && a.title.len() < 160);
    }
    got
}

fn day(d: i64, secs: i64) -> i64 {
    d * DAY + secs
}

#[test]
fn ordinary_traffic_after_training_raises_nothing() {
    let flows: Vec<String> = [
        format!(
            "{} {CT} > {PACS}:11112/tcp svc=dicom bytes=45000000",
            day(8, 0)
        ),
        format!(
            "{} {WS} > {PACS}:11112/tcp svc=dicom bytes=6000000",
            day(8, 10)
        ),
        format!("{} {LAB} > {ENGINE}:2575/tcp bytes=4500", day(8, 20)),
        format!("{} {PUMP} > {PUMP_SRV}:443/tcp bytes=2600", day(8, 30)),
        format!("{} {WS} > {DNS}:53/udp bytes=120", day(8, 40)),
    ]
    .to_vec();
    let refs: Vec<&str> = flows.iter().map(String::as_str).collect();
    check(hospital_config(), &refs, &[]);
}

#[test]
fn unknown_host_opening_dicom_to_the_ct_scanner() {
    let f = format!(
        "{} 10.2.0.7 > {CT}:104/tcp svc=dicom bytes=3000 uid=CdIc0m",
        day(8, 0)
    );
    let got = check(
        hospital_config(),
        &[&f],
        &[Expect {
            min_score: 70,
            max_score: 79,
            ..exp(
                "host:10.2.0.7",
                &[
                    "10.2.0.7 has never opened DICOM to the CT scanner 10.3.0.5",
                    "during the 7-day training window",
                    "not a known PACS",
                ],
                &["T0846", "T0882"],
            )
        }],
    );
    let a = &got[0];
    assert_eq!(a.evidence.uids, vec!["CdIc0m".to_string()]);
    assert_eq!(a.evidence.events, vec![ev(1)]);
    assert_eq!(a.title, "unknown host 10.2.0.7 opened DICOM to 10.3.0.5");
    assert!(
        a.explanation
            .contributions
            .iter()
            .any(|c| c.feature == "known_clinical_system" && c.value == "no")
    );
}

#[test]
fn unknown_host_sending_hl7_and_rejected_attempts() {
    let f = format!(
        "{} 10.9.9.9 > {ENGINE}:2575/tcp bytes=0 state=REJ",
        day(8, 0)
    );
    check(
        hospital_config(),
        &[&f],
        &[Expect {
            min_score: 80,
            ..exp(
                "host:10.9.9.9",
                &["never opened HL7", "interface engine", "state REJ"],
                &["T0836", "T0830"],
            )
        }],
    );
}

#[test]
fn access_alerts_are_deduplicated_per_period() {
    let a = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 0));
    let b = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 3600));
    let c = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 3600 * 23));
    let d = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(9, 3601));
    // A different device is a different finding.
    let e = format!("{} 10.2.0.7 > {PACS}:11112/tcp svc=dicom", day(8, 7200));
    check(
        hospital_config(),
        &[&a, &b, &c, &d, &e],
        &[
            exp("host:10.2.0.7", &["CT scanner"], &[]),
            exp("host:10.2.0.7", &["CT scanner"], &[]),
            exp("host:10.2.0.7", &["DICOM modality or PACS 10.3.0.10"], &[]),
        ],
    );
}

#[test]
fn dedup_period_is_configurable() {
    let cfg = DeviceConfig {
        dedup_period_secs: 60,
        ..hospital_config()
    };
    let a = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 0));
    let b = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 30));
    let c = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 61));
    check(
        cfg,
        &[&a, &b, &c],
        &[
            exp("host:10.2.0.7", &[], &[]),
            exp("host:10.2.0.7", &[], &[]),
        ],
    );
}

#[test]
fn configured_clinical_system_is_not_an_intruder_but_is_a_new_peer() {
    let cfg = DeviceConfig {
        clinical_systems: vec!["10.2.0.0/24".into()],
        ..hospital_config()
    };
    let f = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom bytes=3000", day(8, 0));
    check(
        cfg,
        &[&f],
        &[exp(
            "device:10.3.0.5",
            &[
                "The CT scanner 10.3.0.5 behaved in a way not seen",
                "10.2.0.7 connected to 10.3.0.5",
                "not among the 2 peers seen in training",
            ],
            &["T1021"],
        )],
    );
}

#[test]
fn learned_dicom_client_reaching_a_new_device() {
    // The workstation opened DICOM to the PACS in training, so it is a known clinical client;
    // reaching the CT directly is new for both ends.
    let f = format!("{} {WS} > {CT}:104/tcp svc=dicom bytes=3000", day(8, 0));
    // By default only the CT is watched for novelty: a workstation's peers change daily.
    check(
        hospital_config(),
        &[&f],
        &[exp(
            "device:10.3.0.5",
            &["10.1.0.20 connected to 10.3.0.5"],
            &[],
        )],
    );
    let general = DeviceConfig {
        novelty_for_general_hosts: true,
        ..hospital_config()
    };
    check(
        general,
        &[&f],
        &[
            exp(
                "device:10.1.0.20",
                &[
                    "connected to 10.3.0.5",
                    "tcp/104 on 10.3.0.5",
                    "a port it did not use",
                ],
                &["T0846"],
            ),
            exp("device:10.3.0.5", &["10.1.0.20 connected to 10.3.0.5"], &[]),
        ],
    );
}

#[test]
fn life_sustaining_pump_speaking_smb_to_a_new_peer() {
    let f = format!("{} {PUMP} > 10.1.0.99:445/tcp bytes=40000", day(8, 0));
    let got = check(
        hospital_config(),
        &[&f],
        &[Expect {
            min_score: 80,
            ..exp(
                "device:10.20.0.9",
                &[
                    "The infusion pump 10.20.0.9 behaved in a way not seen during the 7-day training window.",
                    "10.20.0.9 connected to 10.1.0.99; it was not among the 1 peer seen in training.",
                    "spoke SMB as a client for the first time; during training it spoke HTTPS",
                    "classed life-sustaining",
                ],
                &["T1021", "T0846", "T1021.002"],
            )
        }],
    );
    assert_eq!(got[0].severity, Severity::Critical);
    assert!(
        got[0]
            .title
            .starts_with("device 10.20.0.9 (infusion_pump): new peer 10.1.0.99"),
        "{}",
        got[0].title
    );

    // The same behaviour from an ordinary workstation scores lower.
    let ws = format!("{} {WS} > 10.1.0.99:445/tcp bytes=40000", day(8, 0));
    assert!(check(hospital_config(), &[&ws], &[]).is_empty());
    let general = DeviceConfig {
        novelty_for_general_hosts: true,
        ..hospital_config()
    };
    let got_ws = check(
        general,
        &[&ws],
        &[exp("device:10.1.0.20", &["spoke SMB"], &[])],
    );
    assert!(
        got_ws[0].score < got[0].score,
        "{} vs {}",
        got_ws[0].score,
        got[0].score
    );
}

#[test]
fn flow_far_above_the_volume_profile() {
    let f = format!(
        "{} {CT} > {PACS}:11112/tcp svc=dicom bytes=9000000000",
        day(8, 0)
    );
    check(
        hospital_config(),
        &[&f],
        &[
            exp(
                "device:10.3.0.5",
                &[
                    "moved 9.0 GB in one flow on tcp/11112",
                    "flows there averaged",
                    "largest was",
                ],
                &["T0882"],
            ),
            exp("device:10.3.0.10", &["moved 9.0 GB"], &["T0882"]),
        ],
    );
    // Bigger than usual but within the learned spread: nothing.
    let g = format!(
        "{} {CT} > {PACS}:11112/tcp svc=dicom bytes=70000000",
        day(8, 0)
    );
    check(hospital_config(), &[&g], &[]);
}

#[test]
fn novelties_are_deduplicated_per_device_and_novelty() {
    let a = format!("{} {PUMP} > 10.1.0.99:445/tcp", day(8, 0));
    let b = format!("{} {PUMP} > 10.1.0.99:445/tcp", day(8, 60));
    // New peer again only: the port and protocol were already raised today.
    let c = format!("{} {PUMP} > 10.1.0.98:445/tcp", day(8, 120));
    let got = check(
        hospital_config(),
        &[&a, &b, &c],
        &[
            exp("device:10.20.0.9", &["SMB"], &[]),
            exp("device:10.20.0.9", &["connected to 10.1.0.98"], &[]),
        ],
    );
    assert!(
        !got[1].explanation.summary.contains("SMB"),
        "{}",
        got[1].explanation.summary
    );
}

#[test]
fn observe_during_training_trains_and_raises_nothing() {
    let mut p = DeviceProfiler::new(hospital_config()).unwrap();
    for (i, f) in baseline().iter().enumerate() {
        assert!(p.observe(f, &ev(i as u64)).is_empty());
    }
    assert!(p.is_training());
    assert!(
        p.observe(
            &flow(&format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(7, 0))),
            &ev(0)
        )
        .is_empty()
    );
    p.finish_training();
    // 10.2.0.7 opened DICOM during training (via observe), so it is a learned client now.
    assert!(
        p.observe(
            &flow(&format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 0))),
            &ev(1)
        )
        .is_empty()
    );
    assert_eq!(p.stats().flows_trained, baseline().len() as u64 + 1);
}

#[test]
fn training_after_finish_only_updates_the_inventory() {
    let mut p = trained(hospital_config());
    p.train(&flow(&format!(
        "{} 10.2.0.7 > {CT}:104/tcp svc=dicom",
        day(8, 0)
    )));
    let ct = p.device(CT.parse().unwrap()).unwrap();
    assert_eq!(ct.last_seen, Timestamp(BASE + day(8, 0) * 1_000_000));
    // Not learned: still an intruder.
    let got = p.observe(
        &flow(&format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 10))),
        &ev(1),
    );
    assert_eq!(got.len(), 1);
}

// --- protocol recognition --------------------------------------------------------------------

#[test]
fn recognises_protocols() {
    let cases: &[(&str, bool, Option<Protocol>)] = &[
        ("0 10.0.0.1 > 10.0.0.2:2575/tcp", false, Some(Protocol::Hl7)),
        (
            "0 10.0.0.1 > 10.0.0.2:9999/tcp svc=mllp",
            false,
            Some(Protocol::Hl7),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:9999/tcp svc=HL7",
            false,
            Some(Protocol::Hl7),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:104/tcp",
            false,
            Some(Protocol::Dicom),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:11112/tcp",
            false,
            Some(Protocol::Dicom),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:4242/tcp svc=dicom",
            false,
            Some(Protocol::Dicom),
        ),
        ("0 10.0.0.1 > 10.0.0.2:104/udp", false, None),
        (
            "0 10.0.0.1 > 10.0.0.2:104/unknown_transport",
            false,
            Some(Protocol::Dicom),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:8080/tcp svc=fhir",
            false,
            Some(Protocol::Fhir),
        ),
        ("0 10.0.0.1 > 10.0.0.2:443/tcp", true, Some(Protocol::Fhir)),
        (
            "0 10.0.0.1 > 10.0.0.2:80/tcp svc=http",
            true,
            Some(Protocol::Fhir),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:443/tcp",
            false,
            Some(Protocol::Https),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:5000/tcp svc=ssl",
            false,
            Some(Protocol::Https),
        ),
        ("0 10.0.0.1 > 10.0.0.2:80/tcp", false, Some(Protocol::Http)),
        ("0 10.0.0.1 > 10.0.0.2:22/tcp", false, Some(Protocol::Ssh)),
        ("0 10.0.0.1 > 10.0.0.2:3389/tcp", false, Some(Protocol::Rdp)),
        ("0 10.0.0.1 > 10.0.0.2:3389/udp", false, Some(Protocol::Rdp)),
        ("0 10.0.0.1 > 10.0.0.2:445/tcp", false, Some(Protocol::Smb)),
        (
            "0 10.0.0.1 > 10.0.0.2:9/tcp svc=gssapi,smb,krb",
            false,
            Some(Protocol::Smb),
        ),
        ("0 10.0.0.1 > 10.0.0.2:53/udp", false, Some(Protocol::Dns)),
        ("0 10.0.0.1 > 10.0.0.2:53/tcp", false, Some(Protocol::Dns)),
        ("0 10.0.0.1 > 10.0.0.2:123/udp", false, Some(Protocol::Ntp)),
        (
            "0 10.0.0.1 > 10.0.0.2:514/udp",
            false,
            Some(Protocol::Syslog),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:6514/tcp",
            false,
            Some(Protocol::Syslog),
        ),
        // The sensor's service name beats the port; clinical names win in a list.
        (
            "0 10.0.0.1 > 10.0.0.2:443/tcp svc=http,dicom",
            false,
            Some(Protocol::Dicom),
        ),
        (
            "0 10.0.0.1 > 10.0.0.2:2575/tcp svc=http",
            false,
            Some(Protocol::Http),
        ),
        ("0 10.0.0.1 > 10.0.0.2:31337/tcp", false, None),
        ("0 10.0.0.1 > 10.0.0.2/icmp", false, None),
        ("0 10.0.0.1 > 10.0.0.2:31337/tcp svc=-", false, None),
        ("0 10.0.0.1 > 10.0.0.2:31337/tcp svc=,,,", false, None),
    ];
    for (spec, fhir, want) in cases {
        assert_eq!(recognise(&flow(spec), *fhir), *want, "{spec}");
    }
}

// --- inventory ---------------------------------------------------------------------------------

#[test]
fn inventory_roles_reasons_and_criticality() {
    let p = trained(hospital_config());
    let dev = |a: &str| {
        p.device(a.parse().unwrap())
            .unwrap_or_else(|| panic!("{a} not in inventory"))
    };
    let cases: &[(&str, &str, Criticality, &str)] = &[
        (
            CT,
            "dicom_modality_or_pacs",
            Criticality::Clinical,
            "answers DICOM",
        ),
        (
            PACS,
            "dicom_modality_or_pacs",
            Criticality::Clinical,
            "answers DICOM",
        ),
        (
            WS,
            "clinical_workstation",
            Criticality::Clinical,
            "DICOM, FHIR",
        ),
        (
            ENGINE,
            "hl7_interface_engine_or_device",
            Criticality::Clinical,
            "answers HL7",
        ),
        (
            LAB,
            "hl7_interface_engine_or_device",
            Criticality::Clinical,
            "sends HL7",
        ),
        (FHIR, "fhir_server", Criticality::Clinical, "FHIR"),
        (DNS, "server", Criticality::Business, "answers DNS"),
        (INTRANET, "server", Criticality::Business, "answers HTTPS"),
        (
            PUMP,
            "infusion_pump",
            Criticality::LifeSustaining,
            "configured as infusion_pump for 10.20.0.0/24",
        ),
        (PUMP_SRV, "server", Criticality::Clinical, "answers HTTPS"),
    ];
    for (addr, role, crit, reason) in cases {
        let d = dev(addr);
        assert_eq!(d.role.as_str(), *role, "{addr}: {:?}", d.role_reasons);
        assert_eq!(d.criticality, *crit, "{addr}");
        assert!(
            d.role_reasons.iter().any(|r| r.contains(reason)),
            "{addr}: {:?}",
            d.role_reasons
        );
        assert!(d.profiled);
    }
    let ct = dev(CT);
    assert_eq!(ct.label.as_deref(), Some("CT scanner"));
    assert_eq!(ct.first_seen, Timestamp(BASE));
    assert_eq!(ct.server_protocols, vec![Protocol::Dicom]);
    assert_eq!(ct.client_protocols, vec![Protocol::Dicom, Protocol::Dns]);
    assert_eq!(ct.peers, 2);
    assert_eq!(ct.flows, 3 * 7 * 24);
    assert!(ct.bytes > 0);
    let ws = dev(WS);
    assert_eq!(
        ws.client_protocols,
        vec![
            Protocol::Dicom,
            Protocol::Fhir,
            Protocol::Https,
            Protocol::Rdp,
            Protocol::Dns
        ]
    );
    // Only addresses inside the configured networks are inventoried.
    let cfg = DeviceConfig {
        networks: vec!["10.3.0.0/24".into()],
        ..hospital_config()
    };
    let p = trained(cfg);
    let addrs: Vec<String> = p.devices().iter().map(|d| d.address.to_string()).collect();
    assert_eq!(addrs, vec![CT.to_string(), PACS.to_string()]);
}

#[test]
fn roles_from_minimal_traffic() {
    let cases: &[(&[&str], &str, DeviceRole)] = &[
        (
            &["0 10.0.0.1 > 10.0.0.2:31337/tcp"],
            "10.0.0.1",
            DeviceRole::Unknown,
        ),
        (
            &["0 10.0.0.1 > 10.0.0.2:31337/tcp"],
            "10.0.0.2",
            DeviceRole::Unknown,
        ),
        (
            &["0 10.0.0.1 > 10.0.0.2:443/tcp"],
            "10.0.0.1",
            DeviceRole::Workstation,
        ),
        (
            &["0 10.0.0.1 > 10.0.0.2:443/tcp"],
            "10.0.0.2",
            DeviceRole::Server,
        ),
        (
            &["0 10.0.0.1 > 10.0.0.2:104/tcp"],
            "10.0.0.1",
            DeviceRole::DicomModalityOrPacs,
        ),
        (
            &[
                "0 10.0.0.1 > 10.0.0.2:104/tcp",
                "1 10.0.0.1 > 10.0.0.3:443/tcp",
            ],
            "10.0.0.1",
            DeviceRole::ClinicalWorkstation,
        ),
        (
            &["0 10.0.0.1 > 10.0.0.2:2575/tcp"],
            "10.0.0.1",
            DeviceRole::Hl7InterfaceEngineOrDevice,
        ),
        (
            &[
                "0 10.0.0.1 > 10.0.0.2:31337/tcp",
                "1 10.0.0.3 > 10.0.0.2:31337/tcp",
                "2 10.0.0.4 > 10.0.0.2:31337/tcp",
            ],
            "10.0.0.2",
            DeviceRole::Server,
        ),
    ];
    for (flows, addr, want) in cases {
        let mut p = DeviceProfiler::new(DeviceConfig::default()).unwrap();
        for f in *flows {
            p.train(&flow(f));
        }
        assert_eq!(
            p.device(addr.parse().unwrap()).unwrap().role,
            *want,
            "{flows:?} {addr}"
        );
    }
}

/// The same fixture is in `crates/store/src/device.rs`: the two `DeviceRecord`s share a shape.
const SHARED_FIXTURE: &str = r#"{"address":"10.3.0.5","role":"dicom_modality_or_pacs","role_reasons":["serves DICOM on port 104"],"criticality":"clinical","label":"CT scanner","first_seen":"2024-05-01T00:00:00.000000Z","last_seen":"2024-05-08T00:00:00.000000Z","server_protocols":["dicom"],"client_protocols":["dns"],"peers":3,"flows":120,"bytes":123456,"profiled":true}"#;

#[test]
fn device_record_has_the_store_shape() {
    let r: DeviceRecord = serde_json::from_str(SHARED_FIXTURE).unwrap();
    assert_eq!(r.role, DeviceRole::DicomModalityOrPacs);
    assert_eq!(r.server_protocols, vec![Protocol::Dicom]);
    let back: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(SHARED_FIXTURE).unwrap()
    );
    // Configured roles that are not built in, and IPv6 addresses, survive too.
    let mut pump = r.clone();
    pump.role = DeviceRole::Other("infusion_pump".into());
    pump.address = "fd00::9".parse().unwrap();
    pump.criticality = Criticality::LifeSustaining;
    let j = serde_json::to_value(&pump).unwrap();
    assert_eq!(j["role"], "infusion_pump");
    assert_eq!(j["address"], "fd00::9");
    assert_eq!(j["criticality"], "life_sustaining");
    assert_eq!(serde_json::from_value::<DeviceRecord>(j).unwrap(), pump);
}

// --- configuration -------------------------------------------------------------------------------

#[test]
fn config_defaults_and_unknown_fields() {
    let d = DeviceConfig::default();
    assert_eq!(
        d.networks,
        vec!["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
    );
    assert_eq!(
        (
            d.max_devices,
            d.max_peers_per_device,
            d.max_ports_per_device
        ),
        (10_000, 256, 64)
    );
    assert_eq!(d.dedup_period_secs, 86_400);
    let parsed: DeviceConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(parsed, d);
    let parsed: DeviceConfig = serde_json::from_str(
        r#"{"clinical_systems":["10.3.0.0/24"],"overrides":[{"net":"10.20.0.0/24","criticality":"life_sustaining","label":"pumps"}]}"#,
    )
    .unwrap();
    assert_eq!(
        parsed.overrides[0].criticality,
        Some(Criticality::LifeSustaining)
    );
    for bad in [
        r#"{"max_device":1}"#,
        r#"{"overrides":[{"net":"10.0.0.1","crit":"clinical"}]}"#,
    ] {
        let e = serde_json::from_str::<DeviceConfig>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}

#[test]
fn bad_config_values_are_rejected_with_the_field() {
    let ov = |net: &str, role: Option<&str>, label: Option<&str>| DeviceOverride {
        net: net.into(),
        role: role.map(Into::into),
        criticality: None,
        label: label.map(Into::into),
    };
    let cases: Vec<(DeviceConfig, &str)> = vec![
        (
            DeviceConfig {
                networks: vec!["10.0.0.0/33".into()],
                ..Default::default()
            },
            "networks",
        ),
        (
            DeviceConfig {
                fhir_endpoints: vec!["fhir.example".into()],
                ..Default::default()
            },
            "fhir_endpoints",
        ),
        (
            DeviceConfig {
                clinical_systems: vec!["".into()],
                ..Default::default()
            },
            "clinical_systems",
        ),
        (
            DeviceConfig {
                overrides: vec![ov("nope", None, None)],
                ..Default::default()
            },
            "overrides.net",
        ),
        (
            DeviceConfig {
                overrides: vec![ov("10.0.0.1", Some("Infusion Pump"), None)],
                ..Default::default()
            },
            "overrides.role",
        ),
        (
            DeviceConfig {
                overrides: vec![ov("10.0.0.1", None, Some("bad\nlabel"))],
                ..Default::default()
            },
            "overrides.label",
        ),
        (
            DeviceConfig {
                max_devices: 0,
                ..Default::default()
            },
            "max_devices",
        ),
        (
            DeviceConfig {
                max_peers_per_device: 0,
                ..Default::default()
            },
            "max_peers_per_device",
        ),
        (
            DeviceConfig {
                volume_sigma: f64::NAN,
                ..Default::default()
            },
            "volume_sigma",
        ),
        (
            DeviceConfig {
                volume_sigma: -1.0,
                ..Default::default()
            },
            "volume_sigma",
        ),
        (
            DeviceConfig {
                dedup_period_secs: u64::MAX,
                ..Default::default()
            },
            "dedup_period_secs",
        ),
    ];
    for (cfg, field) in cases {
        let e: DeviceConfigError = DeviceProfiler::new(cfg).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("detect.device.{field}")), "{msg}");
    }
}

// --- bounds, snapshots, hostile input ----------------------------------------------------------

#[test]
fn memory_stays_bounded() {
    let cfg = DeviceConfig {
        max_devices: 10,
        max_peers_per_device: 5,
        max_ports_per_device: 4,
        max_clinical_clients: 3,
        max_dedup_entries: 8,
        ..Default::default()
    };
    let mut p = DeviceProfiler::new(cfg).unwrap();
    for i in 0..2000u32 {
        let f = flow(&format!(
            "{i} 10.0.{}.{} > 10.9.0.1:{}/tcp svc=dicom",
            i / 250,
            i % 250,
            1000 + i
        ));
        p.train(&f);
    }
    p.finish_training();
    let s = p.state();
    assert!(s.devices.len() <= 10);
    assert!(s.dicom_clients.len() <= 3);
    assert!(s.stats.endpoints_over_capacity > 0);
    let hub = s
        .devices
        .get(&"10.9.0.1".parse::<IpAddr>().unwrap())
        .unwrap();
    let prof = hub.profile.as_ref().unwrap();
    assert!(prof.peers.len() <= 5 && prof.peers_saturated);
    assert!(prof.ports.len() <= 4 && prof.ports_saturated);
    // A saturated hub is not alerted on for new peers or ports; the dedup table stays capped.
    for i in 0..500u32 {
        let f = flow(&format!(
            "{} 10.7.{}.{} > 10.9.0.1:{}/tcp svc=http",
            10_000 + i,
            i / 250,
            i % 250,
            5000 + i
        ));
        for a in p.observe(&f, &ev(u64::from(i))) {
            assert!(
                !a.explanation
                    .summary
                    .contains("connected to the device 10.9.0.1"),
                "{}",
                a.explanation.summary
            );
        }
        assert!(p.state().dedup.len() <= 8);
    }
}

#[test]
fn snapshot_and_restore_give_identical_results() {
    let mut a = trained(hospital_config());
    let json = serde_json::to_string(a.state()).unwrap();
    let state: ProfilerState = serde_json::from_str(&json).unwrap();
    assert_eq!(&state, a.state());
    let mut b = DeviceProfiler::restore(hospital_config(), state).unwrap();
    let flows = [
        format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 0)),
        format!("{} {PUMP} > 10.1.0.99:445/tcp", day(8, 10)),
        format!(
            "{} {CT} > {PACS}:11112/tcp svc=dicom bytes=9000000000",
            day(8, 20)
        ),
        format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom", day(8, 30)),
    ];
    for (i, f) in flows.iter().enumerate() {
        let f = flow(f);
        assert_eq!(a.observe(&f, &ev(i as u64)), b.observe(&f, &ev(i as u64)));
    }
    assert_eq!(a.state(), b.state());
    assert_eq!(a.devices(), b.devices());
    // A bad configuration is refused on restore too.
    let bad = DeviceConfig {
        max_devices: 0,
        ..Default::default()
    };
    assert!(DeviceProfiler::restore(bad, ProfilerState::default()).is_err());
}

#[test]
fn same_input_same_alerts() {
    let f = format!("{} 10.2.0.7 > {CT}:104/tcp svc=dicom uid=C1", day(8, 0));
    let a = check(hospital_config(), &[&f], &[exp("host:10.2.0.7", &[], &[])]);
    let b = check(hospital_config(), &[&f], &[exp("host:10.2.0.7", &[], &[])]);
    assert_eq!(a, b);
    assert_eq!(a[0].id, b[0].id);
}

#[test]
fn odd_and_hostile_flows_never_panic() {
    let mut p = trained(hospital_config());
    let odd = [
        Flow::default(),
        Flow {
            src: Some("10.0.0.1".parse().unwrap()),
            ..Default::default()
        },
        Flow {
            dst: Some("10.0.0.1".parse().unwrap()),
            ..Default::default()
        },
        flow("- 10.0.0.1 > 10.0.0.2:104/tcp svc=dicom"),
        flow("-999999999 10.0.0.1 > 10.0.0.1:104/tcp svc=dicom"),
        flow(&format!(
            "{} {CT} > {PACS}:0/tcp bytes=18446744073709551615",
            day(8, 0)
        )),
        flow(&format!(
            "{} fd00::7 > [fd00::5]:104/tcp svc=dicom",
            day(8, 1)
        )),
        flow(&format!(
            "{} 10.0.0.1 > 10.0.0.2:2575/tcp svc={}",
            day(8, 2),
            "x".repeat(10_000)
        )),
        flow(&format!(
            "{} 255.255.255.255 > 0.0.0.0:65535/udp",
            day(8, 3)
        )),
    ];
    let mut n = 0;
    for (i, f) in odd.iter().enumerate() {
        p.train(f);
        n += p.observe(f, &ev(i as u64)).len();
    }
    assert_eq!(
        p.stats().flows_skipped,
        6,
        "three flows without both addresses, each trained and observed"
    );
    assert!(n > 0, "the IPv6 DICOM intruder is still reported");
    let untimed = p.observe(&flow("- 10.66.0.1 > 10.3.0.5:104/tcp svc=dicom"), &ev(99));
    assert_eq!(untimed.len(), 1);
    assert!(
        untimed[0].time >= Timestamp(BASE + day(8, 3) * 1_000_000),
        "a flow without time takes the event clock"
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn arb_flow() -> impl Strategy<Value = Flow> {
        (
            proptest::option::of(-1_000_000i64..2_000_000_000i64),
            proptest::option::of(0u8..8),
            proptest::option::of(0u8..8),
            proptest::option::of(prop_oneof![
                Just(104u16),
                Just(2575),
                Just(443),
                Just(445),
                any::<u16>()
            ]),
            prop_oneof![
                Just(Proto::Tcp),
                Just(Proto::Udp),
                Just(Proto::Unknown),
                Just(Proto::Icmp)
            ],
            proptest::option::of(prop_oneof![
                Just("dicom".to_string()),
                Just("hl7".to_string()),
                ".{0,12}"
            ]),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(t, s, d, port, proto, service, bytes)| Flow {
                ts: t.map(|t| Timestamp(BASE + t * 1000)),
                src: s.map(|s| IpAddr::from([10, 0, 0, s])),
                dst: d.map(|d| IpAddr::from([10, 0, 1, d])),
                dst_port: port,
                proto,
                service,
                src_bytes: bytes,
                ..Default::default()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_flow_sequence_is_handled(train in proptest::collection::vec(arb_flow(), 0..60), test in proptest::collection::vec(arb_flow(), 0..60)) {
            let cfg = DeviceConfig { max_devices: 6, max_peers_per_device: 3, max_ports_per_device: 3, max_dedup_entries: 5, ..Default::default() };
            let mut p = DeviceProfiler::new(cfg).unwrap();
            for f in &train { p.train(f); }
            p.finish_training();
            for (i, f) in test.iter().enumerate() {
                for a in p.observe(f, &ev(i as u64)) {
                    prop_assert_eq!(a.detector.as_str(), "net.device");
                    prop_assert!(a.score <= 100);
                    prop_assert!(!a.explanation.summary.is_empty());
                }
            }
            prop_assert!(p.state().devices.len() <= 6);
            prop_assert!(p.state().dedup.len() <= 5);
            let json = serde_json::to_string(p.state()).unwrap();
            let back: ProfilerState = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, p.state());
        }
    }
}
