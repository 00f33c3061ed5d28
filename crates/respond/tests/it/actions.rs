//! The action executors against real receivers on loopback, started here: an HTTP receiver, an
//! SMTP sink and syslog listeners (UDP and TCP); real programs for exec; real files for the
//! firewall. Timeouts are generous; nothing asserts how fast anything is.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use ward_core::alert::{Alert, Evidence, Explanation};
use ward_core::entity::EntityId;
use ward_core::time::Timestamp;
use ward_respond::actions::{Actions, ActionsConfig, SIGNATURE_HEADER, StartTls, sign};
use ward_respond::playbook::{
    DisableAccountSpec, EmailSpec, ExecSpec, FirewallMode, FirewallSpec, OpenCaseSpec,
    QuarantineSpec, SyslogFormat, SyslogSpec, WebhookSpec,
};
use ward_respond::{ActionContext, ActionError, ActionSpec, Executor, Outcome};

const WAIT: Duration = Duration::from_secs(20);
const KEY: &str = "0123456789abcdef0123456789abcdef";
/// A title an attacker would like: quotes, brackets, pipes, escapes, a forged syslog header.
const HOSTILE: &str = "scan \"x\"] [y=\"z\"] a|b\\c=d\n<13>1 forged";

fn alert() -> Alert {
    Alert::new(
        Timestamp(1_700_000_000_000_000),
        "net.supervised",
        91,
        EntityId::host("10.1.2.3"),
        HOSTILE,
        Explanation {
            summary: "Contacted 900 ports; a=b\nsecond line \\ end".to_owned(),
            rules: vec!["portscan".to_owned()],
            ..Explanation::default()
        },
        Evidence::default(),
    )
}

fn ctx<'a>(a: &'a Alert, attempt: u32, dry_run: bool) -> ActionContext<'a> {
    ActionContext {
        alert: a,
        playbook: "contain",
        step: "notify",
        target_address: Some("10.1.2.3"),
        idempotency_key: KEY,
        attempt,
        timeout_secs: 15,
        dry_run,
    }
}

fn actions() -> Actions {
    Actions::new(ActionsConfig::default()).unwrap()
}

fn run(spec: &ActionSpec, c: &ActionContext<'_>) -> Result<Outcome, ActionError> {
    actions().execute(spec, c)
}

fn permanent(r: Result<Outcome, ActionError>) -> String {
    match r {
        Err(ActionError::Permanent(m)) => m,
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

fn retryable(r: Result<Outcome, ActionError>) -> String {
    match r {
        Err(ActionError::Retryable(m)) => m,
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP receiver

/// One request as the receiver saw it.
#[derive(Debug)]
struct Request {
    line: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// How the receiver answers: with a status, or never.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    Never,
}

/// Starts an HTTP receiver answering every request the same way; returns its base URL and
/// the requests it records.
fn http_receiver(answer: Answer) -> (String, mpsc::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let tx = tx.clone();
            thread::spawn(move || serve_http(stream, answer, &tx));
        }
    });
    (url, rx)
}

fn serve_http(mut stream: TcpStream, answer: Answer, tx: &mpsc::Sender<Request>) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let _ = tx.send(Request {
        line: line.trim_end().to_owned(),
        headers,
        body,
    });
    match answer {
        Answer::Status(code) => {
            let reply = format!(
                "HTTP/1.1 {code} X\r\nContent-Length: 12\r\nConnection: close\r\n\r\nticket-42 ok"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
        Answer::Never => thread::sleep(Duration::from_secs(60)),
    }
}

fn hook(url: &str, secret_env: Option<&str>) -> ActionSpec {
    ActionSpec::Webhook(WebhookSpec {
        url: url.to_owned(),
        secret_env: secret_env.map(str::to_owned),
        headers: BTreeMap::from([("X-Tenant".to_owned(), "icu-2".to_owned())]),
    })
}

/// The test process always has PATH, so it serves as the signing key (setting a variable
/// would need `unsafe`).
const KEY_VAR: &str = "PATH";

#[test]
fn webhook_posts_the_alert_signed_with_the_idempotency_key() {
    let (url, rx) = http_receiver(Answer::Status(200));
    let a = alert();
    let out = run(
        &hook(&format!("{url}/hooks/ward"), Some(KEY_VAR)),
        &ctx(&a, 2, false),
    )
    .unwrap();
    assert_eq!(out.detail["status"], 200);
    assert_eq!(out.detail["response"], "ticket-42 ok");
    let req = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(req.line, "POST /hooks/ward HTTP/1.1");
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["idempotency-key"], KEY);
    assert_eq!(req.headers["x-tenant"], "icu-2");
    // The signature verifies with the key over the exact bytes received.
    let key = std::env::var(KEY_VAR).unwrap();
    let sig = &req.headers[&SIGNATURE_HEADER.to_ascii_lowercase()];
    assert_eq!(*sig, sign(key.as_bytes(), &req.body));
    assert_ne!(*sig, sign(b"another key", &req.body));
    let tag = sig.strip_prefix("sha256=").unwrap();
    let tag: Vec<u8> = (0..tag.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&tag[i..i + 2], 16).unwrap())
        .collect();
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    ring::hmac::verify(&k, &req.body, &tag).unwrap();
    // The body is the alert and the job.
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    let back: Alert = serde_json::from_value(body["alert"].clone()).unwrap();
    assert_eq!(back, a);
    assert_eq!(body["playbook"], "contain");
    assert_eq!(body["step"], "notify");
    assert_eq!(body["idempotency_key"], KEY);
    assert_eq!(body["attempt"], 2);
}

#[test]
fn webhook_statuses_are_classified() {
    let a = alert();
    for (code, retry) in [
        (500, true),
        (503, true),
        (429, true),
        (404, false),
        (400, false),
    ] {
        let (url, rx) = http_receiver(Answer::Status(code));
        let r = run(&hook(&url, None), &ctx(&a, 1, false));
        let msg = if retry { retryable(r) } else { permanent(r) };
        assert!(msg.contains(&code.to_string()), "{msg}");
        let req = rx.recv_timeout(WAIT).unwrap();
        assert!(!req.headers.contains_key("x-ward-signature"));
    }
    // 3xx is not followed.
    let (url, rx) = http_receiver(Answer::Status(302));
    permanent(run(&hook(&url, None), &ctx(&a, 1, false)));
    assert!(rx.recv_timeout(WAIT).is_ok());
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn webhook_network_failures_are_retryable() {
    let a = alert();
    // Nobody listens.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    retryable(run(
        &hook(&format!("http://127.0.0.1:{port}/"), None),
        &ctx(&a, 1, false),
    ));
    // The receiver takes the request and never answers.
    let (url, rx) = http_receiver(Answer::Never);
    let c = ActionContext {
        timeout_secs: 1,
        ..ctx(&a, 1, false)
    };
    let started = Instant::now();
    let msg = retryable(run(&hook(&url, None), &c));
    assert!(msg.contains("no answer within 1 s"), "{msg}");
    assert!(started.elapsed() < WAIT);
    assert!(rx.recv_timeout(WAIT).is_ok());
}

#[test]
fn webhook_https_starts_a_tls_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut first = [0u8; 3];
        s.read_exact(&mut first).unwrap();
        tx.send(first).unwrap();
    });
    let a = alert();
    let r = run(
        &hook(&format!("https://127.0.0.1:{port}/"), None),
        &ctx(&a, 1, false),
    );
    assert!(r.is_err());
    // A TLS handshake record (22), protocol major version 3.
    assert_eq!(rx.recv_timeout(WAIT).unwrap()[..2], [22, 3]);
}

#[test]
fn webhook_refuses_missing_secrets_and_bad_headers_without_sending() {
    let (url, rx) = http_receiver(Answer::Status(200));
    let a = alert();
    let var = "WARD_TEST_CERTAINLY_UNSET_8D7F";
    let msg = permanent(run(&hook(&url, Some(var)), &ctx(&a, 1, false)));
    assert_eq!(msg, format!("environment variable {var} is not set"));
    let bad = ActionSpec::Webhook(WebhookSpec {
        url: url.clone(),
        secret_env: None,
        headers: BTreeMap::from([("X-A".to_owned(), "1\r\nX-Injected: 1".to_owned())]),
    });
    permanent(run(&bad, &ctx(&a, 1, false)));
    let reserved = ActionSpec::Webhook(WebhookSpec {
        url: url.clone(),
        secret_env: None,
        headers: BTreeMap::from([("Idempotency-Key".to_owned(), "other".to_owned())]),
    });
    permanent(run(&reserved, &ctx(&a, 1, false)));
    permanent(run(&hook("ftp://127.0.0.1/", None), &ctx(&a, 1, false)));
    // The next request to arrive is the first real one.
    run(&hook(&url, None), &ctx(&a, 7, false)).unwrap();
    let req = rx.recv_timeout(WAIT).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["attempt"], 7);
}

#[test]
fn webhook_dry_run_sends_nothing_and_shows_no_secret() {
    let (url, rx) = http_receiver(Answer::Status(200));
    let a = alert();
    let spec = ActionSpec::Webhook(WebhookSpec {
        url: format!("http://user:pw@{}/x", url.trim_start_matches("http://")),
        secret_env: Some(KEY_VAR.to_owned()),
        headers: BTreeMap::from([
            ("Authorization".to_owned(), "Bearer hunter2".to_owned()),
            ("X-Tenant".to_owned(), "icu-2".to_owned()),
        ]),
    });
    let out = run(&spec, &ctx(&a, 1, true)).unwrap();
    let secret = std::env::var(KEY_VAR).unwrap();
    let shown = format!("{} {}", out.summary, out.detail);
    for hidden in ["hunter2", "user:pw", secret.as_str()] {
        assert!(!shown.contains(hidden), "{hidden} shown in {shown}");
    }
    assert!(
        out.summary.contains("would POST http://127.0.0.1"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains(&format!("Idempotency-Key: {KEY}")));
    assert!(out.summary.contains("X-Tenant: icu-2"));
    assert!(out.summary.contains("key from $PATH"));
    assert_eq!(out.detail["dry_run"], true);
    // Nothing arrived: the first request the receiver sees is the real one that follows.
    run(&hook(&url, None), &ctx(&a, 9, false)).unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&rx.recv_timeout(WAIT).unwrap().body).unwrap();
    assert_eq!(body["attempt"], 9);
}

// ---------------------------------------------------------------------------------------------
// exec

fn exec(program: &str, args: &[&str]) -> ActionSpec {
    ActionSpec::Exec(ExecSpec {
        program: program.to_owned(),
        args: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}

#[test]
fn exec_passes_arguments_literally_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let args = [
        format!("$(touch {d}/subst)"),
        format!("a b; touch {d}/semi"),
        format!("`touch {d}/tick` | cat && rm -rf {d}"),
        "*".to_owned(),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let a = alert();
    let out = run(&exec("/bin/echo", &argv), &ctx(&a, 1, false)).unwrap();
    assert_eq!(out.detail["exit_code"], 0);
    assert_eq!(out.detail["stdout"], format!("{}\n", args.join(" ")));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn exec_sees_only_path_and_the_job_ids() {
    let a = alert();
    let out = run(&exec("/usr/bin/env", &[]), &ctx(&a, 1, false)).unwrap();
    let mut env: Vec<&str> = out.detail["stdout"].as_str().unwrap().lines().collect();
    env.sort_unstable();
    assert_eq!(
        env,
        [
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            format!("WARD_ALERT_ID={}", a.id),
            format!("WARD_IDEMPOTENCY_KEY={KEY}"),
        ]
    );
}

#[test]
fn exec_exit_codes_are_classified() {
    let a = alert();
    let msg = permanent(run(&exec("/bin/false", &[]), &ctx(&a, 1, false)));
    assert!(msg.contains("exited with code 1"), "{msg}");
    // EX_TEMPFAIL: the test's own program may use a shell; ward never adds one.
    let msg = retryable(run(
        &exec("/bin/sh", &["-c", "echo busy >&2; exit 75"]),
        &ctx(&a, 1, false),
    ));
    assert!(msg.contains("code 75") && msg.contains("busy"), "{msg}");
    let msg = permanent(run(
        &exec("/nonexistent/ward-tool", &[]),
        &ctx(&a, 1, false),
    ));
    assert!(msg.contains("/nonexistent/ward-tool"), "{msg}");
    permanent(run(&exec("echo", &["relative"]), &ctx(&a, 1, false)));
    permanent(run(&exec("/bin/echo", &["nul\0byte"]), &ctx(&a, 1, false)));
}

#[test]
fn exec_is_killed_at_its_timeout() {
    let a = alert();
    let c = ActionContext {
        timeout_secs: 1,
        ..ctx(&a, 1, false)
    };
    let started = Instant::now();
    let msg = retryable(run(&exec("/bin/sleep", &["60"]), &c));
    assert!(msg.contains("did not finish within 1 s"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(50));
}

#[test]
fn exec_output_is_cut_and_a_flood_does_not_block() {
    let a = alert();
    // 2 MB on stdout: more than a pipe holds.
    let out = run(
        &exec("/bin/sh", &["-c", "head -c 2000000 /dev/zero | tr '\\0' x"]),
        &ctx(&a, 1, false),
    )
    .unwrap();
    let s = out.detail["stdout"].as_str().unwrap();
    assert!(s.len() <= 1024 + 4 && s.ends_with('…'), "{}", s.len());
}

#[test]
fn exec_dry_run_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("made");
    let a = alert();
    let out = run(
        &exec("/usr/bin/touch", &[f.to_str().unwrap()]),
        &ctx(&a, 1, true),
    )
    .unwrap();
    assert!(
        out.summary.contains("would run [\"/usr/bin/touch\""),
        "{}",
        out.summary
    );
    assert!(!f.exists());
}

// ---------------------------------------------------------------------------------------------
// Email

/// How the SMTP sink behaves.
#[derive(Clone, Copy)]
struct Sink {
    offer_starttls: bool,
    /// Say yes to STARTTLS, then record the first byte that follows and hang up.
    accept_starttls: bool,
    /// Reply to RCPT TO.
    rcpt_reply: &'static str,
}

/// One SMTP session: the commands received and the message data.
#[derive(Debug, Default)]
struct Session {
    commands: Vec<String>,
    data: String,
}

fn smtp_sink(sink: Sink) -> (u16, mpsc::Receiver<Session>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let tx = tx.clone();
            thread::spawn(move || {
                let s = smtp_session(stream, sink);
                let _ = tx.send(s);
            });
        }
    });
    (port, rx)
}

fn smtp_session(mut stream: TcpStream, sink: Sink) -> Session {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut s = Session::default();
    let mut say = |text: &str| stream.write_all(text.as_bytes());
    if say("220 sink.test ESMTP\r\n").is_err() {
        return s;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return s;
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        s.commands.push(cmd);
        let reply = match verb.as_str() {
            "EHLO" if sink.offer_starttls => "250-sink.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
            "EHLO" => "250-sink.test\r\n250 8BITMIME\r\n",
            "STARTTLS" if sink.accept_starttls => {
                let _ = say("220 2.0.0 ready\r\n");
                let mut first = [0u8; 1];
                if reader.read_exact(&mut first).is_ok() {
                    s.data = format!("TLS record type {}", first[0]);
                }
                return s;
            }
            "STARTTLS" => "454 4.7.0 TLS not available\r\n",
            "MAIL" => "250 2.1.0 ok\r\n",
            "RCPT" => sink.rcpt_reply,
            "DATA" => {
                let _ = say("354 go ahead\r\n");
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).unwrap_or(0) == 0 {
                        return s;
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    s.data.push_str(&l);
                }
                "250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                let _ = say("221 bye\r\n");
                return s;
            }
            _ => "250 ok\r\n",
        };
        if say(reply).is_err() {
            return s;
        }
    }
}

fn mailer(port: u16, starttls: StartTls) -> Actions {
    let mut cfg = ActionsConfig::default();
    cfg.smtp.host = "127.0.0.1".to_owned();
    cfg.smtp.port = port;
    cfg.smtp.from = "ward@hospital.test".to_owned();
    cfg.smtp.starttls = starttls;
    Actions::new(cfg).unwrap()
}

fn mail(subject: &str) -> ActionSpec {
    ActionSpec::Email(EmailSpec {
        to: vec![
            "soc@hospital.test".to_owned(),
            "ciso@hospital.test".to_owned(),
        ],
        subject: subject.to_owned(),
    })
}

const OK_RCPT: &str = "250 2.1.5 ok\r\n";

#[test]
fn email_arrives_with_recipients_subject_and_key() {
    let (port, rx) = smtp_sink(Sink {
        offer_starttls: false,
        accept_starttls: false,
        rcpt_reply: OK_RCPT,
    });
    let a = alert();
    let subject = "ward: port scan\r\nBcc: thief@evil.test";
    let out = mailer(port, StartTls::Opportunistic)
        .execute(&mail(subject), &ctx(&a, 1, false))
        .unwrap();
    assert!(out.summary.contains("2 recipient(s)"), "{}", out.summary);
    let s = rx.recv_timeout(WAIT).unwrap();
    let rcpts: Vec<&String> = s
        .commands
        .iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(
        rcpts,
        [
            "RCPT TO:<soc@hospital.test>",
            "RCPT TO:<ciso@hospital.test>"
        ]
    );
    assert!(
        s.commands
            .iter()
            .any(|c| c == "MAIL FROM:<ward@hospital.test>")
    );
    assert!(!s.commands.iter().any(|c| c == "STARTTLS"));
    // Headers: no injected Bcc, the subject on one line, the key as message id and header.
    let (head, body) = s.data.split_once("\r\n\r\n").unwrap();
    assert!(
        !head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
        "{head}"
    );
    assert!(
        head.contains("Subject: ward: port scan  Bcc: thief@evil.test"),
        "{head}"
    );
    assert!(head.contains(&format!("Message-ID: <{KEY}@")), "{head}");
    assert!(
        head.contains(&format!("X-Ward-Idempotency-Key: {KEY}")),
        "{head}"
    );
    assert!(
        head.contains("To: soc@hospital.test, ciso@hospital.test"),
        "{head}"
    );
    for want in [
        a.id.as_str(),
        "net.supervised",
        "critical (score 91/100)",
        "host:10.1.2.3",
        "Contacted 900 ports",
        KEY,
    ] {
        assert!(body.contains(want), "{want} missing from {body}");
    }
}

#[test]
fn email_starttls_policy_is_followed() {
    let a = alert();
    // Offered and opportunistic: ward asks for it; this sink then refuses (4xx): retry later.
    let (port, rx) = smtp_sink(Sink {
        offer_starttls: true,
        accept_starttls: false,
        rcpt_reply: OK_RCPT,
    });
    retryable(mailer(port, StartTls::Opportunistic).execute(&mail("s"), &ctx(&a, 1, false)));
    let s = rx.recv_timeout(WAIT).unwrap();
    assert!(
        s.commands.iter().any(|c| c == "STARTTLS"),
        "{:?}",
        s.commands
    );
    assert!(!s.commands.iter().any(|c| c.starts_with("MAIL")));
    // Never: sent in clear although offered.
    mailer(port, StartTls::Never)
        .execute(&mail("s"), &ctx(&a, 1, false))
        .unwrap();
    let s = rx.recv_timeout(WAIT).unwrap();
    assert!(!s.commands.iter().any(|c| c == "STARTTLS"));
    assert!(!s.data.is_empty());
    // Required but not offered: permanent, and no mail transaction starts.
    let (port, rx) = smtp_sink(Sink {
        offer_starttls: false,
        accept_starttls: false,
        rcpt_reply: OK_RCPT,
    });
    let msg = permanent(mailer(port, StartTls::Required).execute(&mail("s"), &ctx(&a, 1, false)));
    assert!(msg.contains("STARTTLS"), "{msg}");
    let s = rx.recv_timeout(WAIT).unwrap();
    assert!(
        !s.commands.iter().any(|c| c.starts_with("MAIL")),
        "{:?}",
        s.commands
    );
}

#[test]
fn email_starttls_starts_a_real_tls_handshake() {
    let (port, rx) = smtp_sink(Sink {
        offer_starttls: true,
        accept_starttls: true,
        rcpt_reply: OK_RCPT,
    });
    let a = alert();
    // The sink hangs up after the first byte; what matters is that a TLS handshake began.
    assert!(
        mailer(port, StartTls::Required)
            .execute(&mail("s"), &ctx(&a, 1, false))
            .is_err()
    );
    let s = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(s.data, "TLS record type 22", "{:?}", s.commands);
}

#[test]
fn email_reply_codes_are_classified() {
    let a = alert();
    for (reply, retry) in [
        ("450 4.2.1 mailbox busy\r\n", true),
        ("550 5.1.1 no such user\r\n", false),
    ] {
        let (port, _rx) = smtp_sink(Sink {
            offer_starttls: false,
            accept_starttls: false,
            rcpt_reply: reply,
        });
        let r = mailer(port, StartTls::Opportunistic).execute(&mail("s"), &ctx(&a, 1, false));
        let msg = if retry { retryable(r) } else { permanent(r) };
        assert!(msg.contains(&reply[..3]), "{msg}");
    }
    // Nobody listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    retryable(mailer(port, StartTls::Opportunistic).execute(&mail("s"), &ctx(&a, 1, false)));
    // A bad recipient never reaches the server.
    let bad = ActionSpec::Email(EmailSpec {
        to: vec!["not an address".to_owned()],
        subject: "s".to_owned(),
    });
    permanent(mailer(port, StartTls::Opportunistic).execute(&bad, &ctx(&a, 1, false)));
}

#[test]
fn email_dry_run_connects_to_nothing() {
    let (port, rx) = smtp_sink(Sink {
        offer_starttls: false,
        accept_starttls: false,
        rcpt_reply: OK_RCPT,
    });
    let a = alert();
    let m = mailer(port, StartTls::Opportunistic);
    let out = m.execute(&mail("hello"), &ctx(&a, 1, true)).unwrap();
    assert!(
        out.summary
            .contains("would mail soc@hospital.test, ciso@hospital.test via SMTP 127.0.0.1:"),
        "{}",
        out.summary
    );
    m.execute(&mail("real"), &ctx(&a, 1, false)).unwrap();
    let s = rx.recv_timeout(WAIT).unwrap();
    assert!(s.data.contains("Subject: real"), "{}", s.data);
}

// ---------------------------------------------------------------------------------------------
// Syslog

/// A parsed RFC 5424 line: header fields, structured data (unescaped) and message.
#[derive(Debug)]
struct Parsed {
    header: Vec<String>,
    sd: BTreeMap<String, String>,
    sd_id: String,
    msg: String,
}

/// Parses `<PRI>1 TS HOST APP PROCID MSGID SD MSG`, unescaping SD-PARAM values.
fn parse_5424(line: &str) -> Parsed {
    let mut parts = line.splitn(7, ' ');
    let header: Vec<String> = (0..6).map(|_| parts.next().unwrap().to_owned()).collect();
    let rest = parts.next().unwrap();
    let mut sd = BTreeMap::new();
    let mut sd_id = String::new();
    let msg;
    if let Some(r) = rest.strip_prefix("- ") {
        msg = r.to_owned();
    } else {
        let mut chars = rest.strip_prefix('[').unwrap().chars();
        sd_id = chars.by_ref().take_while(|c| *c != ' ').collect();
        loop {
            let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert_eq!(chars.next(), Some('"'));
            let mut value = String::new();
            loop {
                match chars.next().unwrap() {
                    '\\' => value.push(chars.next().unwrap()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            sd.insert(name, value);
            match chars.next().unwrap() {
                ' ' => {}
                ']' => break,
                c => panic!("unexpected {c:?}"),
            }
        }
        let r: String = chars.collect();
        msg = r.strip_prefix(' ').unwrap().to_owned();
    }
    Parsed {
        header,
        sd,
        sd_id,
        msg,
    }
}

/// Splits a CEF record into its seven header fields and its extensions, unescaping both.
fn parse_cef(cef: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = cef.chars();
    while fields.len() < 7 {
        match chars.next().unwrap() {
            '\\' => cur.push(chars.next().unwrap()),
            '|' => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    let ext: String = chars.collect();
    // key=value pairs: a key is the last word before an unescaped '='.
    let mut pairs = BTreeMap::new();
    let mut key: Option<String> = None;
    let mut raw = String::new();
    let mut it = ext.chars().peekable();
    let flush = |key: &mut Option<String>, raw: &mut String, pairs: &mut BTreeMap<_, _>| {
        if let Some(k) = key.take() {
            pairs.insert(k, std::mem::take(raw));
        }
    };
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next().unwrap() {
                'n' => raw.push('\n'),
                'r' => raw.push('\r'),
                e => raw.push(e),
            },
            '=' => {
                let (value, k) = match raw.rfind(' ') {
                    Some(i) => (raw[..i].to_owned(), raw[i + 1..].to_owned()),
                    None => (String::new(), raw.clone()),
                };
                raw = value;
                flush(&mut key, &mut raw, &mut pairs);
                key = Some(k);
                raw.clear();
            }
            c => raw.push(c),
        }
    }
    flush(&mut key, &mut raw, &mut pairs);
    (fields, pairs)
}

fn syslog(target: String, format: SyslogFormat) -> ActionSpec {
    ActionSpec::Syslog(SyslogSpec { target, format })
}

#[test]
fn syslog_rfc5424_over_udp_parses_back() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let target = format!("udp://{}", sock.local_addr().unwrap());
    let a = alert();
    let m = actions();
    m.execute(
        &syslog(target.clone(), SyslogFormat::Rfc5424),
        &ctx(&a, 1, false),
    )
    .unwrap();
    let mut buf = [0u8; 65_536];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    let line = std::str::from_utf8(&buf[..n]).unwrap();
    let p = parse_5424(line);
    assert_eq!(p.header[0], "<130>1", "{line}");
    assert!(Timestamp::parse_rfc3339(&p.header[1]).is_some(), "{line}");
    assert_eq!(p.header[2], m.hostname());
    assert_eq!(&p.header[3..], ["ward", "-", KEY]);
    assert_eq!(p.sd_id, "ward@32473");
    assert_eq!(p.sd["id"], a.id);
    assert_eq!(p.sd["detector"], "net.supervised");
    assert_eq!(p.sd["severity"], "critical");
    assert_eq!(p.sd["score"], "91");
    assert_eq!(p.sd["entity"], "host:10.1.2.3");
    assert_eq!(p.sd["key"], KEY);
    assert_eq!(p.msg, HOSTILE.replace('\n', " "));
}

#[test]
fn syslog_cef_over_tcp_is_octet_counted_and_parses_back() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("tcp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        tx.send(all).unwrap();
    });
    let a = alert();
    actions()
        .execute(&syslog(target, SyslogFormat::Cef), &ctx(&a, 1, false))
        .unwrap();
    let frame = String::from_utf8(rx.recv_timeout(WAIT).unwrap()).unwrap();
    let (len, msg) = frame.split_once(' ').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), msg.len(), "{frame}");
    let p = parse_5424(msg);
    assert!(p.sd.is_empty());
    let (fields, ext) = parse_cef(&p.msg);
    assert_eq!(
        fields,
        [
            "CEF:0",
            "ward",
            "ward",
            env!("CARGO_PKG_VERSION"),
            "net.supervised",
            &HOSTILE.replace('\n', " "),
            "9"
        ]
    );
    assert_eq!(ext["externalId"], a.id);
    assert_eq!(ext["cs1"], "host:10.1.2.3");
    assert_eq!(ext["cs2"], KEY);
    assert_eq!(ext["cn1"], "91");
    assert_eq!(ext["src"], "10.1.2.3");
    assert_eq!(ext["rt"], "1700000000000");
    assert_eq!(ext["msg"], a.explanation.summary);
}

#[test]
fn syslog_failures_and_dry_run() {
    let a = alert();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    retryable(run(
        &syslog(format!("tcp://127.0.0.1:{port}"), SyslogFormat::Rfc5424),
        &ctx(&a, 1, false),
    ));
    permanent(run(
        &syslog("http://127.0.0.1:514".to_owned(), SyslogFormat::Rfc5424),
        &ctx(&a, 1, false),
    ));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let target = format!("udp://{}", sock.local_addr().unwrap());
    let out = run(
        &syslog(target.clone(), SyslogFormat::Cef),
        &ctx(&a, 1, true),
    )
    .unwrap();
    assert!(
        out.summary.contains(&format!("CEF message to {target}")),
        "{}",
        out.summary
    );
    assert!(
        out.detail["message"]
            .as_str()
            .unwrap()
            .contains("CEF:0|ward|")
    );
    run(&syslog(target, SyslogFormat::Rfc5424), &ctx(&a, 1, false)).unwrap();
    let mut buf = [0u8; 65_536];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert!(!std::str::from_utf8(&buf[..n]).unwrap().contains("CEF:"));
}

// ---------------------------------------------------------------------------------------------
// Firewall and account disabling

fn nft(file: &std::path::Path) -> FirewallSpec {
    FirewallSpec {
        mode: FirewallMode::Nftables,
        table: "inet ward".to_owned(),
        set: "blocked".to_owned(),
        file: Some(file.to_str().unwrap().to_owned()),
        ..FirewallSpec::default()
    }
}

#[test]
fn firewall_file_is_appended_once_per_key_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("block.nft");
    let a = alert();
    let spec = ActionSpec::Firewall(nft(&file));
    let first = run(&spec, &ctx(&a, 1, false)).unwrap();
    assert_eq!(first.detail["appended"], true);
    let again = run(&spec, &ctx(&a, 2, false)).unwrap();
    assert_eq!(again.detail["appended"], false);
    assert!(
        again.summary.contains("nothing written"),
        "{}",
        again.summary
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The rollback releases, under its own key.
    let release = spec.rollback().unwrap();
    let c = ActionContext {
        idempotency_key: "fedcba9876543210fedcba9876543210",
        ..ctx(&a, 1, false)
    };
    run(&release, &c).unwrap();
    // IPv6 goes to the IPv6 set.
    let c6 = ActionContext {
        idempotency_key: "aaaa",
        target_address: Some("2001:DB8:0::7"),
        ..ctx(&a, 1, false)
    };
    run(&spec, &c6).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!(
            "# ward {KEY} block\nadd element inet ward blocked {{ 10.1.2.3 }}\n\
             # ward fedcba9876543210fedcba9876543210 release\ndelete element inet ward blocked {{ 10.1.2.3 }}\n\
             # ward aaaa block\nadd element inet ward blocked6 {{ 2001:db8::7 }}\n"
        )
    );
}

#[test]
fn firewall_refuses_what_is_not_an_address_and_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("block.nft");
    let spec = ActionSpec::Firewall(nft(&file));
    let a = alert();
    for addr in [
        None,
        Some("10.1.2.3 } ; flush ruleset ; {"),
        Some("host.example"),
    ] {
        let c = ActionContext {
            target_address: addr,
            ..ctx(&a, 1, false)
        };
        permanent(run(&spec, &c));
    }
    let out = run(&spec, &ctx(&a, 1, true)).unwrap();
    assert!(
        out.summary
            .contains("add element inet ward blocked { 10.1.2.3 }"),
        "{}",
        out.summary
    );
    assert!(!file.exists());
    // A directory where the file should be: permanent.
    let spec = ActionSpec::Firewall(nft(dir.path()));
    permanent(run(&spec, &ctx(&a, 1, false)));
}

#[test]
fn firewall_command_mode_runs_the_block_or_release_command() {
    let spec = FirewallSpec {
        mode: FirewallMode::Command,
        block_command: vec!["/bin/echo".into(), "block".into(), "10.1.2.3".into()],
        release_command: vec!["/bin/echo".into(), "release".into(), "10.1.2.3".into()],
        ..FirewallSpec::default()
    };
    let a = alert();
    let out = run(&ActionSpec::Firewall(spec.clone()), &ctx(&a, 1, false)).unwrap();
    assert_eq!(out.detail["stdout"], "block 10.1.2.3\n");
    let back = ActionSpec::Firewall(spec).rollback().unwrap();
    let out = run(&back, &ctx(&a, 1, false)).unwrap();
    assert_eq!(out.detail["stdout"], "release 10.1.2.3\n");
}

#[test]
fn disable_account_goes_through_webhook_or_exec() {
    let a = alert();
    let (url, rx) = http_receiver(Answer::Status(204));
    let via_hook = ActionSpec::DisableAccount(DisableAccountSpec {
        webhook: Some(WebhookSpec {
            url: format!("{url}/users/u_5f2a9c/disable"),
            ..WebhookSpec::default()
        }),
        exec: None,
    });
    let out = run(&via_hook, &ctx(&a, 1, false)).unwrap();
    assert!(
        out.summary.starts_with("disable account: POST"),
        "{}",
        out.summary
    );
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap().line,
        "POST /users/u_5f2a9c/disable HTTP/1.1"
    );
    let via_exec = ActionSpec::DisableAccount(DisableAccountSpec {
        webhook: None,
        exec: Some(ExecSpec {
            program: "/bin/echo".to_owned(),
            args: vec!["disable".to_owned(), "u_5f2a9c".to_owned()],
        }),
    });
    let out = run(&via_exec, &ctx(&a, 1, false)).unwrap();
    assert_eq!(out.detail["stdout"], "disable u_5f2a9c\n");
    permanent(run(
        &ActionSpec::DisableAccount(DisableAccountSpec::default()),
        &ctx(&a, 1, false),
    ));
}

#[test]
fn cases_and_quarantine_belong_to_the_engine() {
    let a = alert();
    for spec in [
        ActionSpec::OpenCase(OpenCaseSpec::default()),
        ActionSpec::Quarantine(QuarantineSpec::default()),
    ] {
        let msg = permanent(run(&spec, &ctx(&a, 1, false)));
        assert!(msg.contains("handled by the response engine"), "{msg}");
    }
}
