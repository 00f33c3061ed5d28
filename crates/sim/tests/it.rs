//! Integration tests for the simulated hospital: determinism, ground truth, timing, the Zeek
//! output format and the shape of the traffic.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;
use ward_core::{Flow, FlowLabel, Proto, Timestamp};
use ward_sim::{
    AttackKind, AttackTruth, Criticality, DeviceRole, SimConfig, SimDevice, SimError, SimFlow,
    SimOutput, generate, write_attacks_json, write_devices, write_truth, write_zeek_conn,
};

/// Seed and scale of the shared small run; override with `SIM_SEED` / `SIM_SCALE` to sweep.
fn small_cfg() -> SimConfig {
    let seed = std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let scale = std::env::var("SIM_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.05);
    SimConfig {
        scale,
        seed,
        ..SimConfig::default()
    }
}

/// One small day (scale 0.05), shared by the tests that only read it.
fn small() -> &'static SimOutput {
    static OUT: OnceLock<SimOutput> = OnceLock::new();
    OUT.get_or_init(|| generate(&small_cfg()))
}

fn conn_log(flows: &[SimFlow]) -> Vec<u8> {
    let mut v = Vec::new();
    write_zeek_conn(&mut v, flows).unwrap();
    v
}

fn truth_csv(out: &SimOutput) -> String {
    let mut v = Vec::new();
    write_truth(&mut v, out).unwrap();
    String::from_utf8(v).unwrap()
}

fn hour_of(cfg: &SimConfig, ts: Timestamp) -> i64 {
    (ts.0 - cfg.start.0)
        .div_euclid(3_600_000_000)
        .rem_euclid(24)
}

fn role_of(out: &SimOutput) -> BTreeMap<IpAddr, DeviceRole> {
    out.devices.iter().map(|d| (d.addr, d.role)).collect()
}

// ---------------------------------------------------------------- determinism and config

#[test]
fn same_seed_gives_byte_identical_output() {
    let a = generate(&small_cfg());
    let b = small();
    assert_eq!(conn_log(&a.flows), conn_log(&b.flows));
    assert_eq!(truth_csv(&a), truth_csv(b));
    assert_eq!(&a, b);
    let c = generate(&SimConfig {
        seed: small_cfg().seed.wrapping_add(1),
        ..small_cfg()
    });
    assert_ne!(conn_log(&c.flows), conn_log(&b.flows));
}

#[test]
fn attacks_do_not_change_benign_traffic() {
    let quiet = generate(&SimConfig {
        attacks: false,
        ..small_cfg()
    });
    assert!(quiet.attacks.is_empty());
    assert_eq!(quiet.attack_flow_count(), 0);
    let benign: Vec<&SimFlow> = small()
        .flows
        .iter()
        .filter(|f| f.attack.is_none())
        .collect();
    assert_eq!(benign.len(), quiet.flows.len());
    assert!(benign.iter().zip(&quiet.flows).all(|(a, b)| *a == b));
}

#[test]
fn config_defaults_and_serde() {
    let d: SimConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(d, SimConfig::default());
    assert_eq!(
        (d.hours, d.scale, d.benign_hours, d.attacks),
        (24.0, 1.0, 8.0, true)
    );
    assert_eq!(d.start.to_string(), "2024-05-06T00:00:00.000000Z");
    assert!(serde_json::from_str::<SimConfig>(r#"{"sede": 1}"#).is_err());
    let c: SimConfig =
        serde_json::from_str(r#"{"seed": 9, "hours": 2.5, "start": "2024-01-01T06:00:00Z"}"#)
            .unwrap();
    assert_eq!((c.seed, c.hours, c.scale), (9, 2.5, 1.0));
    assert_eq!(
        serde_json::from_str::<SimConfig>(&serde_json::to_string(&c).unwrap()).unwrap(),
        c
    );
    assert_eq!(d.end().0 - d.start.0, 24 * 3_600_000_000);
    assert_eq!(d.benign_end().0 - d.start.0, 8 * 3_600_000_000);
}

#[test]
fn validate_rejects_out_of_range_values() {
    let check = |cfg: SimConfig, expect: Result<(), SimError>| {
        assert_eq!(cfg.validate(), expect, "{cfg:?}")
    };
    let d = SimConfig::default;
    check(d(), Ok(()));
    assert!(matches!(
        SimConfig {
            hours: f64::NAN,
            ..d()
        }
        .validate(),
        Err(SimError::Hours(_))
    ));
    check(SimConfig { hours: 0.0, ..d() }, Err(SimError::Hours(0.0)));
    check(SimConfig { hours: 1e9, ..d() }, Err(SimError::Hours(1e9)));
    check(SimConfig { scale: 0.0, ..d() }, Err(SimError::Scale(0.0)));
    check(
        SimConfig {
            scale: f64::INFINITY,
            ..d()
        },
        Err(SimError::Scale(f64::INFINITY)),
    );
    check(
        SimConfig {
            benign_hours: -1.0,
            ..d()
        },
        Err(SimError::BenignHours(-1.0)),
    );
    check(
        SimConfig {
            hours: 700.0,
            scale: 5.0,
            ..d()
        },
        Err(SimError::TooLarge(3500.0)),
    );
    let msg = SimConfig { scale: -2.0, ..d() }
        .validate()
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "scale must be a finite number in [0.01, 10], got -2");
}

#[test]
fn hostile_config_is_clamped_not_a_panic() {
    let c = SimConfig {
        hours: f64::INFINITY,
        scale: 1e12,
        benign_hours: f64::NAN,
        ..SimConfig::default()
    }
    .clamped();
    assert!(c.validate().is_ok(), "{c:?}");
    assert_eq!((c.scale, c.benign_hours), (10.0, 8.0));
    assert!(c.hours * c.scale <= ward_sim::MAX_SCALE_HOURS);
    // A one-minute run at the smallest scale, with the benign window longer than the run.
    let out = generate(&SimConfig {
        hours: -5.0,
        scale: -1.0,
        benign_hours: 1e300,
        ..SimConfig::default()
    });
    assert!(out.attacks.is_empty());
    assert!(out.flows.len() < 2_000, "{}", out.flows.len());
    assert!(!out.devices.is_empty());
}

// ---------------------------------------------------------------- ground truth

#[test]
fn every_attack_kind_is_present_with_ground_truth_flows() {
    let out = small();
    let kinds: Vec<AttackKind> = out.attacks.iter().map(|a| a.kind).collect();
    for kind in AttackKind::ALL {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            1,
            "{kind:?} in {kinds:?}"
        );
    }
    for (i, a) in out.attacks.iter().enumerate() {
        assert_eq!(a.id as usize, i + 1);
        assert_eq!(a.category, a.kind.category());
        assert_eq!(
            a.mitre,
            a.kind
                .mitre()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        );
        assert!(a.start <= a.end);
        let flows: Vec<&Flow> = out
            .flows
            .iter()
            .filter(|f| f.attack == Some(a.id))
            .map(|f| &f.flow)
            .collect();
        assert!(!flows.is_empty(), "{:?} has no flows", a.kind);
        let mut seen = BTreeSet::new();
        for f in &flows {
            let label = f.label.as_ref().unwrap();
            assert!(label.attack);
            assert_eq!(label.category, a.category);
            assert!(label.name.is_some());
            assert_eq!(f.src, Some(a.attacker), "{:?}", a.kind);
            let dst = f.dst.unwrap();
            assert!(
                a.targets.contains(&dst),
                "{:?}: {dst} not in targets",
                a.kind
            );
            seen.insert(dst);
            assert!(f.ts.unwrap() >= a.start);
        }
        assert_eq!(
            seen.len(),
            a.targets.len(),
            "{:?}: every target gets a flow",
            a.kind
        );
        assert_eq!(flows.iter().map(|f| f.ts.unwrap()).min(), Some(a.start));
    }
    for f in &out.flows {
        let label = f.flow.label.as_ref().expect("every flow is labelled");
        match f.attack {
            None => assert_eq!(
                label,
                &FlowLabel {
                    attack: false,
                    category: "Normal".into(),
                    name: None
                }
            ),
            Some(id) => assert!(out.attacks.iter().any(|a| a.id == id)),
        }
    }
}

#[test]
fn truth_csv_lists_exactly_the_attack_flows() {
    let out = small();
    let csv = truth_csv(out);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("uid,attack_id,category,name"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), out.attack_flow_count());
    let by_uid: BTreeMap<&str, &SimFlow> = out
        .flows
        .iter()
        .map(|f| (f.flow.uid.as_deref().unwrap(), f))
        .collect();
    for r in &rows {
        assert_eq!(r.len(), 4);
        let f = by_uid[r[0]];
        assert_eq!(f.attack.map(|a| a.to_string()).as_deref(), Some(r[1]));
        let label = f.flow.label.as_ref().unwrap();
        assert_eq!(
            (label.category.as_str(), label.name.as_deref()),
            (r[2], Some(r[3]))
        );
    }
}

#[test]
fn attack_list_and_devices_round_trip_as_json() {
    let out = small();
    let mut v = Vec::new();
    write_attacks_json(&mut v, &out.attacks).unwrap();
    let back: Vec<AttackTruth> = serde_json::from_slice(&v).unwrap();
    assert_eq!(back, out.attacks);
    let text = String::from_utf8(v).unwrap();
    assert!(text.contains("\"kind\": \"hl7_injection\"") && text.contains("\"T0836\""));

    let mut v = Vec::new();
    write_devices(&mut v, &out.devices).unwrap();
    let text = String::from_utf8(v).unwrap();
    let back: Vec<SimDevice> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, out.devices);
    assert!(text.contains(r#""role":"infusion_pump","criticality":"life_sustaining""#));
}

#[test]
fn no_attack_in_the_benign_window_and_nothing_outside_the_run() {
    let out = small();
    let cfg = small_cfg();
    for f in &out.flows {
        let ts = f.flow.ts.unwrap();
        assert!(ts >= cfg.start && ts < cfg.end(), "{ts}");
        if f.attack.is_some() {
            assert!(ts >= cfg.benign_end(), "attack flow at {ts}");
        }
    }
    assert!(out.attacks.iter().all(|a| a.start >= cfg.benign_end()));
}

#[test]
fn attacks_fit_short_windows_and_vanish_without_one() {
    // (hours, benign_hours, expected number of attacks)
    for (hours, benign, expect) in [
        (9.0, 8.0, 7),
        (8.5, 8.0, 7),
        (3.0, 0.0, 7),
        (8.0, 8.0, 0),
        (4.0, 12.0, 0),
    ] {
        let cfg = SimConfig {
            hours,
            benign_hours: benign,
            scale: 0.02,
            ..SimConfig::default()
        };
        let out = generate(&cfg);
        assert_eq!(out.attacks.len(), expect, "{hours} {benign}");
        for f in out.flows.iter().filter(|f| f.attack.is_some()) {
            let ts = f.flow.ts.unwrap();
            assert!(
                ts >= cfg.benign_end() && ts < cfg.end(),
                "{hours} {benign}: {ts}"
            );
        }
    }
}

#[test]
fn flows_are_sorted_by_time_with_unique_zeek_uids() {
    let out = small();
    assert!(out.flows.windows(2).all(|w| w[0].flow.ts <= w[1].flow.ts));
    let mut uids = HashSet::new();
    for f in &out.flows {
        let uid = f.flow.uid.as_deref().unwrap();
        assert!(
            uid.len() == 18
                && uid.starts_with('C')
                && uid.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{uid}"
        );
        assert!(uids.insert(uid), "duplicate uid {uid}");
    }
}

// ---------------------------------------------------------------- Zeek conn.log

const FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";

/// The few columns the tests compare, parsed from one conn.log row.
#[derive(Debug, PartialEq)]
struct Row {
    ts: Option<Timestamp>,
    uid: Option<String>,
    src: Option<IpAddr>,
    sport: Option<u16>,
    dst: Option<IpAddr>,
    dport: Option<u16>,
    proto: String,
    service: Option<String>,
    duration: Option<f64>,
    ob: Option<u64>,
    rb: Option<u64>,
    state: Option<String>,
    op: Option<u64>,
    rp: Option<u64>,
}

fn opt<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s == "-" {
        None
    } else {
        Some(s.parse().ok().unwrap_or_else(|| panic!("bad value {s:?}")))
    }
}

/// A minimal Zeek TSV reader: checks the header and parses every row.
fn parse_conn_log(text: &str) -> Vec<Row> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.by_ref().take(8).collect();
    assert_eq!(header[0], "#separator \\x09");
    assert_eq!(header[1], "#set_separator\t,");
    assert_eq!(header[2], "#empty_field\t(empty)");
    assert_eq!(header[3], "#unset_field\t-");
    assert_eq!(header[4], "#path\tconn");
    assert!(
        header[5].starts_with("#open\t") && header[5].len() == "#open\t2024-05-06-00-00-00".len()
    );
    assert_eq!(header[6], format!("#fields\t{FIELDS}"));
    assert!(header[7].starts_with(
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount"
    ));
    assert_eq!(header[7].split('\t').count(), 22);
    let mut rows = Vec::new();
    let mut closed = false;
    for line in lines {
        assert!(!closed, "rows after #close");
        if line.starts_with("#close\t") {
            closed = true;
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 21, "{line}");
        let ts = opt::<f64>(c[0]).map(|s| Timestamp::from_secs_f64(s).unwrap());
        assert!(matches!(c[12], "T" | "F" | "-") && matches!(c[13], "T" | "F" | "-"));
        assert_eq!(c[14], "0");
        if let (Some(ob), Some(op), Some(oib)) =
            (opt::<u64>(c[9]), opt::<u64>(c[16]), opt::<u64>(c[17]))
        {
            assert!(oib >= ob + op * 20, "{line}");
        }
        rows.push(Row {
            ts,
            uid: opt(c[1]),
            src: opt(c[2]),
            sport: opt(c[3]),
            dst: opt(c[4]),
            dport: opt(c[5]),
            proto: c[6].to_string(),
            service: opt(c[7]),
            duration: opt(c[8]),
            ob: opt(c[9]),
            rb: opt(c[10]),
            state: opt(c[11]),
            op: opt(c[16]),
            rp: opt(c[18]),
        });
    }
    assert!(closed, "missing #close");
    rows
}

#[test]
fn zeek_conn_log_parses_back_to_the_same_flows() {
    let out = small();
    let text = String::from_utf8(conn_log(&out.flows)).unwrap();
    let rows = parse_conn_log(&text);
    assert_eq!(rows.len(), out.flows.len());
    for (row, f) in rows.iter().zip(&out.flows) {
        let f = &f.flow;
        assert_eq!(row.ts, f.ts);
        assert_eq!(row.uid, f.uid);
        assert_eq!(
            (row.src, row.sport, row.dst, row.dport),
            (f.src, f.src_port, f.dst, f.dst_port)
        );
        assert_eq!(row.proto, f.proto.as_str());
        assert_eq!((&row.service, &row.state), (&f.service, &f.state));
        assert_eq!(
            (row.ob, row.rb, row.op, row.rp),
            (f.src_bytes, f.dst_bytes, f.src_pkts, f.dst_pkts)
        );
        match (row.duration, f.duration) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{a} {b}"),
            (a, b) => assert_eq!(a, b),
        }
        // Zeek logs duration and byte counts together, only for flows of positive duration.
        assert_eq!(f.duration.is_some(), f.src_bytes.is_some());
    }
    assert!(text.contains("\tShADadFf\t") && text.contains("\tSr\t") && text.contains("\tDd\t"));
    // Labels never reach conn.log.
    let labels = [
        "Normal",
        "Probe",
        "BruteForce",
        "Ransomware",
        "tcp_connect_scan",
    ];
    assert!(
        text.lines()
            .all(|l| l.split('\t').all(|c| !labels.contains(&c)))
    );
}

#[test]
fn conn_log_round_trips_through_ward_ingest() {
    use ward_ingest::{Format, ReadOptions, from_reader};
    let out = small();
    let bytes = conn_log(&out.flows);
    let opts = ReadOptions {
        format: Some(Format::Zeek),
        ..ReadOptions::default()
    };
    let mut reader = from_reader("conn.log", Box::new(std::io::Cursor::new(bytes)), &opts).unwrap();
    let mut n = 0;
    for (rec, f) in reader.by_ref().zip(&out.flows) {
        let got = rec.unwrap().flow;
        let f = &f.flow;
        assert_eq!((&got.uid, got.ts), (&f.uid, f.ts));
        assert_eq!(
            (got.src, got.src_port, got.dst, got.dst_port),
            (f.src, f.src_port, f.dst, f.dst_port)
        );
        assert_eq!(
            (&got.proto, &got.service, &got.state),
            (&f.proto, &f.service, &f.state)
        );
        assert_eq!((got.src_bytes, got.dst_bytes), (f.src_bytes, f.dst_bytes));
        assert_eq!((got.src_pkts, got.dst_pkts), (f.src_pkts, f.dst_pkts));
        match (got.duration, f.duration) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{a} {b}"),
            (a, b) => assert_eq!(a, b),
        }
        assert_eq!(got.label, None, "labels stay out of conn.log");
        n += 1;
    }
    assert_eq!(n, out.flows.len());
    assert!(reader.next().is_none());
    assert_eq!((reader.stats().records, reader.stats().bad), (n as u64, 0));
}

#[test]
fn zeek_writer_survives_hostile_flows() {
    let hostile = [
        Flow::default(),
        Flow {
            ts: Some(Timestamp(i64::MIN)),
            uid: Some(String::new()),
            service: Some("evil\tservice\nwith\rbreaks".into()),
            state: Some("-".into()),
            duration: Some(f64::NAN),
            src_bytes: Some(u64::MAX),
            src_pkts: Some(u64::MAX),
            proto: Proto::Other("sctp".into()),
            ..Default::default()
        },
        Flow {
            ts: Some(Timestamp(i64::MAX)),
            duration: Some(f64::INFINITY),
            ..Default::default()
        },
    ];
    let flows: Vec<SimFlow> = hostile
        .into_iter()
        .map(|flow| SimFlow { flow, attack: None })
        .collect();
    let text = String::from_utf8(conn_log(&flows)).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.split('\t').count() == 21), "{rows:?}");
    assert!(
        rows[1].contains("evil\\x09service\\x0awith\\x0dbreaks") && rows[1].contains("\t(empty)\t")
    );
    assert!(
        text.starts_with("#separator")
            && text
                .trim_end()
                .lines()
                .last()
                .unwrap()
                .starts_with("#close\t")
    );

    // An empty run still writes a complete header and footer.
    let text = String::from_utf8(conn_log(&[])).unwrap();
    assert_eq!(text.lines().count(), 9);
}

#[test]
fn writers_report_io_errors() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = small();
    assert!(write_zeek_conn(&mut Broken, &out.flows).is_err());
    assert!(write_truth(&mut Broken, out).is_err());
    assert!(write_attacks_json(&mut Broken, &out.attacks).is_err());
    assert!(write_devices(&mut Broken, &out.devices).is_err());
}

// ---------------------------------------------------------------- traffic shape

#[test]
fn day_shift_carries_more_workstation_traffic_than_night() {
    let out = small();
    let cfg = small_cfg();
    let roles = role_of(out);
    let mut per_hour = [0usize; 24];
    for f in &out.flows {
        if f.attack.is_none() && roles.get(&f.flow.src.unwrap()) == Some(&DeviceRole::Workstation) {
            per_hour[hour_of(&cfg, f.flow.ts.unwrap()) as usize] += 1;
        }
    }
    let day: usize = per_hour[9..17].iter().sum::<usize>() / 8;
    let night: usize = per_hour[0..5].iter().sum::<usize>() / 5;
    assert!(
        day > 2 * night && night > 0,
        "day {day}/h vs night {night}/h: {per_hour:?}"
    );
}

#[test]
fn every_role_is_present_and_talks() {
    for scale in [0.01, 0.05] {
        let out = generate(&SimConfig {
            scale,
            hours: 4.0,
            ..SimConfig::default()
        });
        let roles: BTreeSet<DeviceRole> = out.devices.iter().map(|d| d.role).collect();
        assert_eq!(roles.len(), DeviceRole::ALL.len(), "scale {scale}");
        let talking: BTreeSet<DeviceRole> = {
            let r = role_of(&out);
            out.flows
                .iter()
                .flat_map(|f| [f.flow.src, f.flow.dst])
                .filter_map(|a| r.get(&a?).copied())
                .collect()
        };
        assert_eq!(talking, roles, "scale {scale}");
    }
    let out = small();
    for d in &out.devices {
        assert!(
            !d.name.is_empty()
                && d.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        let expect_life = matches!(d.role, DeviceRole::InfusionPump);
        if expect_life {
            assert_eq!(d.criticality, Criticality::LifeSustaining, "{}", d.name);
        }
    }
}

#[test]
fn benign_traffic_has_noisy_connection_states() {
    let out = small();
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for f in out.flows.iter().filter(|f| f.attack.is_none()) {
        *states.entry(f.flow.state.as_deref().unwrap()).or_default() += 1;
    }
    for s in ["SF", "S0", "REJ", "RSTO", "RSTR"] {
        assert!(
            states.get(s).copied().unwrap_or(0) > 0,
            "no benign {s}: {states:?}"
        );
    }
    let sf = states["SF"] as f64 / states.values().sum::<usize>() as f64;
    assert!((0.85..0.99).contains(&sf), "{sf}");
}

/// Flows of one attack, by kind.
fn attack_flows(out: &SimOutput, kind: AttackKind) -> (&AttackTruth, Vec<&Flow>) {
    let a = out.attacks.iter().find(|a| a.kind == kind).unwrap();
    (
        a,
        out.flows
            .iter()
            .filter(|f| f.attack == Some(a.id))
            .map(|f| &f.flow)
            .collect(),
    )
}

#[test]
fn each_attack_looks_like_its_technique() {
    let out = small();
    let cfg = small_cfg();
    let roles = role_of(out);
    let benign: Vec<&Flow> = out
        .flows
        .iter()
        .filter(|f| f.attack.is_none())
        .map(|f| &f.flow)
        .collect();
    type Check =
        fn(&SimOutput, &SimConfig, &BTreeMap<IpAddr, DeviceRole>, &[&Flow], &AttackTruth, &[&Flow]);
    let checks: [(AttackKind, Check); 7] = [
        (AttackKind::PortScan, |_, _, _, _, a, fl| {
            let ports: BTreeSet<u16> = fl.iter().filter_map(|f| f.dst_port).collect();
            let failed = fl
                .iter()
                .filter(|f| matches!(f.state.as_deref(), Some("S0" | "REJ")))
                .count();
            assert!(
                ports.len() >= 30 && a.targets.len() >= 20,
                "{} ports {} hosts",
                ports.len(),
                a.targets.len()
            );
            assert!(failed * 10 > fl.len() * 8, "{failed}/{}", fl.len());
            let span = (a.end.0 - a.start.0) as f64 / 1e6;
            assert!(span < 600.0, "{span}");
        }),
        (AttackKind::BruteForce, |_, _, roles, _, a, fl| {
            assert!(
                !roles.contains_key(&a.attacker),
                "brute force comes from an unknown internet host"
            );
            assert!(fl.iter().all(|f| matches!(f.dst_port, Some(22 | 3389))));
            assert!(fl.len() >= 80);
            let short = fl
                .iter()
                .filter(|f| f.duration.unwrap_or(0.0) < 5.0)
                .count();
            assert!(short * 10 >= fl.len() * 9);
        }),
        (AttackKind::LateralMovement, |_, _, roles, benign, a, fl| {
            assert_eq!(roles[&a.attacker], DeviceRole::Workstation);
            let ports: BTreeSet<u16> = fl.iter().filter_map(|f| f.dst_port).collect();
            assert!(ports.contains(&445) && ports.contains(&3389), "{ports:?}");
            assert!(a.targets.len() >= 3);
            // The workstation never used RDP in normal operation.
            assert!(
                !benign
                    .iter()
                    .any(|f| f.src == Some(a.attacker) && f.dst_port == Some(3389))
            );
        }),
        (AttackKind::DicomPull, |_, _, roles, benign, a, fl| {
            assert_eq!(roles[&a.attacker], DeviceRole::Workstation);
            assert!(fl.iter().all(|f| f.service.as_deref() == Some("dicom")));
            assert!(fl.len() >= 40);
            let pulled: u64 = fl.iter().filter_map(|f| f.dst_bytes).sum();
            assert!(pulled > 200_000_000, "{pulled}");
            let dicom = |f: &&&Flow| f.service.as_deref() == Some("dicom");
            assert!(
                !benign
                    .iter()
                    .filter(dicom)
                    .any(|f| f.src == Some(a.attacker) || f.dst == Some(a.attacker))
            );
        }),
        (AttackKind::Hl7Injection, |_, _, roles, benign, a, fl| {
            assert_ne!(roles[&a.attacker], DeviceRole::Hl7Engine);
            assert!(
                a.targets
                    .iter()
                    .all(|t| roles[t] == DeviceRole::PatientMonitor)
            );
            assert!(fl.iter().all(|f| f.dst_port == Some(2575)));
            // In normal operation only the HL7 engine opens MLLP towards monitors.
            let to_monitor: Vec<&&Flow> = benign
                .iter()
                .filter(|f| {
                    f.dst_port == Some(2575)
                        && roles.get(&f.dst.unwrap()) == Some(&DeviceRole::PatientMonitor)
                })
                .collect();
            assert!(!to_monitor.is_empty());
            assert!(
                to_monitor
                    .iter()
                    .all(|f| roles[&f.src.unwrap()] == DeviceRole::Hl7Engine)
            );
        }),
        (AttackKind::Exfiltration, |_, cfg, roles, benign, a, fl| {
            let drop = a.targets[0];
            assert_eq!(a.targets.len(), 1);
            assert!(!roles.contains_key(&drop) && !benign.iter().any(|f| f.dst == Some(drop)));
            let up: u64 = fl.iter().filter_map(|f| f.src_bytes).sum();
            let down: u64 = fl.iter().filter_map(|f| f.dst_bytes).sum();
            assert!(up > 500_000_000 && up > 100 * down, "{up} {down}");
            assert!(
                fl.iter()
                    .all(|f| f.duration.unwrap() > 300.0 && f.dst_port == Some(443))
            );
            let h = hour_of(cfg, a.start);
            assert!(!(5..22).contains(&h), "exfiltration at hour {h}");
        }),
        (AttackKind::Ransomware, |_, _, _, _, a, fl| {
            assert!(a.targets.len() >= 5);
            assert!(fl.iter().all(|f| f.dst_port == Some(445)));
            let moved: u64 = fl.iter().filter_map(|f| f.total_bytes()).sum();
            assert!(moved > 2_000_000_000, "{moved}");
            let starts = fl.iter().map(|f| f.ts.unwrap().0);
            let span = (starts.clone().max().unwrap() - starts.min().unwrap()) as f64 / 1e6;
            assert!(span < 20.0 * 60.0, "{span}");
        }),
    ];
    for (kind, check) in checks {
        let (a, fl) = attack_flows(out, kind);
        check(out, &cfg, &roles, &benign, a, &fl);
    }
}

#[test]
fn full_scale_day_has_realistic_volume() {
    let out = generate(&SimConfig::default());
    let n = out.flows.len();
    assert!((100_000..=300_000).contains(&n), "{n} flows");
    assert!(
        (350..=450).contains(&out.devices.len()),
        "{}",
        out.devices.len()
    );
    assert_eq!(out.attacks.len(), AttackKind::ALL.len());
    let attack = out.attack_flow_count();
    assert!(attack > 1_000 && attack * 20 < n, "{attack}");
    assert!(
        out.device("10.1.0.70".parse().unwrap())
            .is_some_and(|d| d.role == DeviceRole::Hl7Engine)
    );
}

// ---------------------------------------------------------------- EHR access logs

#[path = "it/ehr.rs"]
mod ehr;

// ---------------------------------------------------------------- claims

#[path = "it/claims.rs"]
mod claims;
