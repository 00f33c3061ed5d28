//! `ward serve --model`: events through HTTP, syslog (UDP and TCP) and a watched folder are all
//! scored and stored, and a SIGTERM loses none of them.

use super::{text, ward, ward_pw};
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};

/// Zeek TSV `conn.log` lines as Zeek JSON lines (what `LogAscii::use_json` writes).
fn zeek_tsv_to_json(log: &str) -> Vec<String> {
    let mut fields: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in log.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut obj = serde_json::Map::new();
        for (k, v) in fields.iter().zip(line.split('\t')) {
            if v == "-" || ["local_orig", "local_resp", "history", "tunnel_parents"].contains(k) {
                continue;
            }
            let value = match *k {
                "ts" | "duration" => serde_json::json!(v.parse::<f64>().expect("number")),
                "id.orig_p" | "id.resp_p" | "orig_bytes" | "resp_bytes" | "missed_bytes"
                | "orig_pkts" | "orig_ip_bytes" | "resp_pkts" | "resp_ip_bytes" => {
                    serde_json::json!(v.parse::<u64>().expect("count"))
                }
                _ => serde_json::json!(v),
            };
            obj.insert((*k).to_owned(), value);
        }
        out.push(serde_json::Value::Object(obj).to_string());
    }
    out
}

/// One HTTP/1.1 POST over a plain socket; returns the status line and the body.
fn http_post(addr: &str, path: &str, token: &str, ctype: &str, body: &[u8]) -> (String, String) {
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    conn.write_all(body).expect("body");
    let mut resp = String::new();
    conn.read_to_string(&mut resp).expect("read");
    let status = resp.lines().next().unwrap_or_default().to_owned();
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn addr_after<'a>(lines: &'a [String], marker: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.split(marker).nth(1))
        .map(|s| s.split('/').next().unwrap_or(s))
        .unwrap_or_else(|| panic!("no {marker} in {lines:?}"))
}

/// Kills the server if the test fails half-way, so no orphan keeps running.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    // bounded: 30 s at most, checked every 50 ms
    for _ in 0..600 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("gave up waiting for {what}");
}

#[test]
fn serve_pipeline_scores_http_syslog_and_watched_events_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = ward(
        &[
            "sim",
            "net",
            "--hours",
            "2",
            "--scale",
            "0.05",
            "--benign-hours",
            "1",
            "--out",
            "sim",
        ],
        d,
    );
    assert!(o.status.success(), "sim: {}", text(&o.stderr));
    let o = ward(&["train", "net", "sim/conn.log", "--out", "m.model"], d);
    assert!(o.status.success(), "train: {}", text(&o.stderr));
    let o = ward_pw(
        &["user", "add", "ana", "--role", "analyst", "--store", "w.db"],
        d,
        Some("pipeline-Sentinel-pass"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = ward(&["user", "token", "ana", "--store", "w.db"], d);
    let token = text(&o.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ward_"))
        .expect("token")
        .to_owned();
    let events = zeek_tsv_to_json(&std::fs::read_to_string(d.join("sim/conn.log")).unwrap());
    assert!(events.len() > 1000, "{}", events.len());
    let watched = d.join("incoming");
    std::fs::create_dir(&watched).unwrap();

    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_ward"))
            .args([
                "serve",
                "--store",
                "w.db",
                "--model",
                "m.model",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0"])
            .args(["--watch", watched.to_str().unwrap()])
            .current_dir(d)
            .env_remove("WARD_CONFIG")
            .stderr(Stdio::piped())
            .spawn()
            .expect("ward serve starts"),
    );
    let mut lines = std::io::BufReader::new(child.0.stderr.take().expect("stderr")).lines();
    let mut head = Vec::new();
    for l in lines.by_ref() {
        let l = l.expect("utf-8");
        let done = l.contains("listening on");
        head.push(l);
        if done {
            break;
        }
    }
    let http = addr_after(&head, "http://").to_owned();
    let udp = addr_after(&head, "udp://").to_owned();
    let tcp = addr_after(&head, "tcp://").to_owned();

    // HTTP: every simulated flow (benign and attacks), a malformed line, an EVE event the
    // Zeek model cannot score, and a line with a bad address.
    let mut body = events.join("\n");
    body.push_str("\nnot json at all\n{\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\"}\n");
    body.push_str(
        "{\"ts\":1714957200.0,\"id.orig_h\":\"10.0.0.999\",\"id.resp_h\":\"10.0.0.2\"}\n",
    );
    let (status, report) = http_post(
        &http,
        "/api/v1/events",
        &token,
        "application/x-ndjson",
        body.as_bytes(),
    );
    assert!(status.starts_with("HTTP/1.1 202"), "{status} {report}");
    let report: serde_json::Value = serde_json::from_str(&report).expect("json report");
    let n = events.len() as u64;
    assert_eq!(report["accepted"], n, "{report}");
    assert_eq!(report["rejected"], 3, "{report}");
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors[0]["line"], n + 1);
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("trained on zeek"),
        "{report}"
    );
    assert!(
        errors[2]["message"].as_str().unwrap().contains("id.orig_h"),
        "{report}"
    );
    assert!(
        !report.to_string().contains("10.0.0.999"),
        "content echoed: {report}"
    );
    let (status, _) = http_post(&http, "/api/v1/events", &token, "application/xml", b"{}");
    assert!(status.starts_with("HTTP/1.1 415"), "{status}");

    // Syslog: one RFC 5424 datagram and one garbage datagram; over TCP one octet-counted
    // RFC 3164 frame and one newline-framed RFC 5424 message.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let one = &events[0];
    sock.send_to(
        format!("<134>1 2026-11-23T10:00:00Z zeek01 zeek - - - {one}").as_bytes(),
        &udp,
    )
    .unwrap();
    sock.send_to(b"\xff\xfe no header", &udp).unwrap();
    let mut t = std::net::TcpStream::connect(&tcp).unwrap();
    let m1 = format!("<134>Nov 23 10:00:00 zeek01 zeek[7]: {}", events[1]);
    write!(t, "{} {m1}", m1.len()).unwrap();
    writeln!(t, "<134>1 - zeek01 zeek - - - {}", events[2]).unwrap();
    drop(t);

    // A watched file: hidden while written, then renamed into view (a partial last line waits).
    let tmp = watched.join(".part.json");
    std::fs::write(
        &tmp,
        format!("{}\n{}\n{}\n{}", events[3], events[4], events[5], events[6]),
    )
    .unwrap();
    std::fs::rename(&tmp, watched.join("conn-extra.json")).unwrap();
    let state = d.join("w.db.watch.json");
    wait_for("the watcher to read the file", || {
        std::fs::read_to_string(&state).is_ok_and(|s| s.contains("conn-extra.json"))
    });
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let expected_offset: usize = events[3..6].iter().map(|e| e.len() + 1).sum();
    assert_eq!(st["files"][0]["offset"], expected_offset as u64, "{st}");

    // The counters are on /stats (every accepted event has been queued by now).
    let stats = super::http_get(&http, "/api/v1/stats", Some(&token));
    assert!(stats.starts_with("HTTP/1.1 200"), "{stats}");
    let stats: serde_json::Value =
        serde_json::from_str(stats.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("json");
    let p = &stats["pipeline"];
    assert_eq!(p["running"], true, "{stats}");
    assert_eq!(p["events_accepted"], n + 6, "{stats}");
    assert_eq!(p["events_rejected"], 4, "{stats}");
    assert!(p["last_event"].is_string(), "{stats}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let summary = rest
        .iter()
        .find(|l| l.contains("events scored"))
        .unwrap_or_else(|| panic!("no summary in {rest:?}"));
    // HTTP + 1 UDP + 2 TCP + 3 complete lines of the watched file
    let want = n + 1 + 2 + 3;
    assert!(
        summary.contains(&format!("ward serve: {want} events scored, 4 rejected,")),
        "{summary}"
    );
    let alerts: u64 = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" alerts stored"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(
        alerts > 0,
        "the simulated attacks raised nothing: {summary}"
    );
    assert!(!rest.concat().contains(&token), "token logged");

    // Every alert the pipeline counted is in the store, with its source recorded.
    use ward_store::Store;
    let store = ward_store::SqliteStore::open(d.join("w.db")).unwrap();
    let stored = store.count_alerts(&ward_store::AlertQuery::new()).unwrap();
    assert_eq!(stored, alerts);
    let all = store
        .query_alerts(&ward_store::AlertQuery::new().limit(1000))
        .unwrap();
    assert!(all.iter().all(|a| !a.evidence.events.is_empty()));
    assert!(
        !store.list_devices().unwrap().is_empty(),
        "device inventory flushed at shutdown"
    );
}

#[test]
fn serve_without_model_refuses_events_and_pipeline_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = ward_pw(
        &["user", "add", "ana", "--role", "analyst", "--store", "w.db"],
        d,
        Some("pipeline-Sentinel-pass"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = ward(&["serve", "--store", "w.db", "--watch", "."], d);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("need --model"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn serve_scores_mail_for_analysts_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    super::phish::tiny_corpora(d);
    let o = ward(
        &[
            "train",
            "phish",
            "--phish",
            "phish.csv",
            "--ham",
            "ham.csv",
            "--out",
            "p.model",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut tokens = Vec::new();
    for (user, role) in [("ana", "analyst"), ("aud", "auditor")] {
        let o = ward_pw(
            &["user", "add", user, "--role", role, "--store", "w.db"],
            d,
            Some("pipeline-Sentinel-pass"),
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = ward(&["user", "token", user, "--store", "w.db"], d);
        tokens.push(
            text(&o.stdout)
                .split_whitespace()
                .find(|w| w.starts_with("ward_"))
                .expect("token")
                .to_owned(),
        );
    }
    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_ward"))
            .args([
                "serve",
                "--store",
                "w.db",
                "--phish-model",
                "p.model",
                "--listen",
                "127.0.0.1:0",
            ])
            .current_dir(d)
            .env_remove("WARD_CONFIG")
            .stderr(Stdio::piped())
            .spawn()
            .expect("ward serve starts"),
    );
    let mut head = Vec::new();
    for l in std::io::BufReader::new(child.0.stderr.take().expect("stderr")).lines() {
        let l = l.expect("utf-8");
        let done = l.contains("listening on");
        head.push(l);
        if done {
            break;
        }
    }
    let http = addr_after(&head, "http://").to_owned();
    let lure = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../phish/tests/fixtures/lure.eml"),
    )
    .unwrap();
    let (status, body) = http_post(
        &http,
        "/api/v1/mail/score",
        &tokens[0],
        "message/rfc822",
        &lure,
    );
    assert!(status.contains("200"), "{status} {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["verdict"], "phishing");
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "attach.double_extension")
    );
    // not mail at all: a verdict, not an error
    let (status, body) = http_post(
        &http,
        "/api/v1/mail/score",
        &tokens[0],
        "text/plain",
        b"hello",
    );
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("unparseable"), "{body}");
    // an auditor may not, nobody without a token may
    let (status, _) = http_post(
        &http,
        "/api/v1/mail/score",
        &tokens[1],
        "message/rfc822",
        &lure,
    );
    assert!(status.contains("403"), "{status}");
    let (status, _) = http_post(&http, "/api/v1/mail/score", "nope", "message/rfc822", &lure);
    assert!(status.contains("401"), "{status}");
}
