//! The dashboard in a real browser: headless Chromium driven over the W3C WebDriver protocol
//! by `chromedriver` (Debian's `chromium` and `chromium-driver`). A person's path through it:
//! sign in, see the alerts of a simulated day, open one and read its explanation, acknowledge
//! it, and find that in the audit trail. Screenshots of every step go to
//! `target/test-artifacts/browser/`.
//!
//! Without `chromedriver` and `chromium` on PATH the test says it is skipped, unless
//! `WARD_REQUIRE_BROWSER=1` (set by `scripts/test` once it has installed them), when it fails.

use serde_json::{Value, json};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a step may wait for the page before the test fails.
const WAIT: Duration = Duration::from_secs(10);
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed (and reaped) when the guard goes, also when the test panics.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first of `names` found as an executable file on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// `target/test-artifacts/browser`, from `CARGO_TARGET_DIR` or the test binary's own path
/// (`target/debug/deps/it-*`).
fn artifact_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("test-artifacts").join("browser");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    // A failure picture from an earlier run would mislead.
    let _ = std::fs::remove_file(dir.join("failure.png"));
    dir
}

/// A free loopback port (bound and released; good enough for a test).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// One `read`, retried when a signal interrupts it (the test binary's other tests start and
/// stop child processes, and SIGCHLD can land during a read).
fn read_some(conn: &mut TcpStream, buf: &mut [u8]) -> Result<usize, String> {
    loop {
        match conn.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other.map_err(|e| format!("read: {e}")),
        }
    }
}

/// One HTTP/1.1 exchange with a JSON body (or none); returns status and parsed JSON.
fn http_json(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut conn = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let content = if body.is_some() {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            payload.len()
        )
    } else if method == "POST" {
        "Content-Length: 0\r\n".to_owned()
    } else {
        String::new()
    };
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{content}Connection: close\r\n\r\n{payload}"
    )
    .map_err(|e| format!("write: {e}"))?;
    // Servers may keep the connection open despite `Connection: close`: read the headers,
    // then exactly the body they announce.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let split = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = read_some(&mut conn, &mut buf)?;
        if n == 0 {
            return Err("connection closed before the headers ended".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut data = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("no status")?;
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    if let Some(len) = length {
        while data.len() < len {
            let n = read_some(&mut conn, &mut buf)?;
            if n == 0 {
                return Err("connection closed inside the body".into());
            }
            data.extend_from_slice(&buf[..n]);
        }
        data.truncate(len);
    } else if head.contains("transfer-encoding: chunked") {
        while !data.ends_with(b"0\r\n\r\n") {
            let n = read_some(&mut conn, &mut buf)?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        data = unchunk(&data)?;
    } else {
        conn.read_to_end(&mut data)
            .map_err(|e| format!("read: {e}"))?;
    }
    let value = if data.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&data).map_err(|e| format!("JSON answer: {e}"))?
    };
    Ok((status, value))
}

/// Decodes a chunked HTTP/1.1 body.
fn unchunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Standard base64 (WebDriver screenshots) to bytes.
fn base64_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in text.bytes().filter_map(val) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A WebDriver session; deleted (closing Chromium) when dropped.
struct Browser {
    driver: String,
    session: String,
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http_json(
            &self.driver,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

impl Browser {
    fn start(driver: &str, shots: PathBuf) -> Self {
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,900", "--lang=en-GB"
        ]}}}});
        let (status, v) =
            http_json(driver, "POST", "/session", Some(&caps)).expect("new WebDriver session");
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session ({status}): {v}"))
            .to_owned();
        Self {
            driver: driver.to_owned(),
            session,
            shots,
        }
    }

    /// Runs one WebDriver command; its `value`, or the WebDriver error as text.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let (status, v) = http_json(&self.driver, method, &path, body.as_ref())?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{method} {path}: {status} {}",
                v["value"]["message"]
            ))
        }
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.cmd(method, path, body)
            .unwrap_or_else(|e| self.fail(&format!("WebDriver: {e}")))
    }

    /// Saves a screenshot as `name.png` in the artefact folder.
    fn screenshot(&self, name: &str) {
        if let Ok(v) = self.cmd("GET", "/screenshot", None) {
            let png = base64_decode(v.as_str().unwrap_or_default());
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
    }

    /// Fails the test with a screenshot of the page as it is.
    fn fail(&self, why: &str) -> ! {
        self.screenshot("failure");
        panic!(
            "{why} (page saved as {})",
            self.shots.join("failure.png").display()
        );
    }

    fn goto(&self, url: &str) {
        self.ok("POST", "/url", Some(json!({ "url": url })));
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| {
            v.as_array().map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
    }

    /// Polls until `ok` holds for `what`, up to [`WAIT`].
    fn wait_for<T>(&self, what: &str, mut ok: impl FnMut() -> Option<T>) -> T {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(t) = ok() {
                return t;
            }
            if Instant::now() > end {
                self.fail(&format!("waited {WAIT:?} for {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching `css`, once there is one.
    fn wait(&self, css: &str) -> String {
        self.wait_for(css, || self.find_all(css).into_iter().next())
    }

    /// The first element matching `css` once its text contains `needle`; returns the text.
    fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait_for(&format!("{needle:?} in {css}"), || {
            let el = self.find_all(css).into_iter().next()?;
            let t = self.text(&el);
            t.contains(needle).then_some(t)
        })
    }

    fn text(&self, el: &str) -> String {
        self.cmd("GET", &format!("/element/{el}/text"), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn click(&self, el: &str) {
        self.ok("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn type_into(&self, el: &str, text: &str) {
        self.ok(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn displayed(&self, el: &str) -> bool {
        self.cmd("GET", &format!("/element/{el}/displayed"), None)
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    fn url(&self) -> String {
        self.ok("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn resize(&self, width: u32, height: u32) {
        self.ok(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }
}

/// Runs the ward binary in `dir`; panics with its stderr when it fails.
fn ward_ok(dir: &Path, args: &[&str], password: Option<&str>) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.args(args)
        .current_dir(dir)
        .env_remove("WARD_CONFIG")
        .env_remove("WARD_PASSWORD")
        .stdin(Stdio::null());
    if let Some(p) = password {
        c.env("WARD_PASSWORD", p);
    }
    let o = c.output().expect("ward runs");
    assert!(
        o.status.success(),
        "ward {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A store with a simulated morning's alerts: a benign day trains the model, a day with
/// attacks is detected on (a few seconds at this scale).
fn demo_store(dir: &Path) -> PathBuf {
    let sim = ["--scale", "0.02", "--hours", "3"];
    let with = |head: &[&'static str]| -> Vec<&'static str> {
        head.iter().chain(sim.iter()).copied().collect()
    };
    ward_ok(
        dir,
        &with(&[
            "sim",
            "net",
            "--no-attacks",
            "--seed",
            "7",
            "--out",
            "history",
        ]),
        None,
    );
    ward_ok(
        dir,
        &with(&["sim", "net", "--benign-hours", "1.5", "--out", "today"]),
        None,
    );
    ward_ok(
        dir,
        &[
            "train",
            "net",
            "history/conn.log",
            "--format",
            "zeek",
            "--out",
            "net.model",
        ],
        None,
    );
    let out = ward_ok(
        dir,
        &[
            "detect",
            "net",
            "--model",
            "net.model",
            "today/conn.log",
            "--store",
            "ward.db",
        ],
        None,
    );
    drop(out);
    dir.join("ward.db")
}

/// Enqueues one firewall step on the newest alert that waits for a clinical engineer (as the
/// response engine does for a life-sustaining device); returns the alert id.
fn waiting_clinical_job(db: &Path) -> String {
    use ward_store::Store;
    let mut store = ward_store::SqliteStore::open(db).expect("store");
    let alert = store
        .query_alerts(&ward_store::AlertQuery {
            limit: Some(1),
            ..ward_store::AlertQuery::default()
        })
        .expect("alerts")
        .into_iter()
        .next()
        .expect("an alert");
    let now = ward_server::now();
    let job = ward_store::NewJob {
        key: "browser-job-1".into(),
        alert_id: alert.id.clone(),
        playbook: "contain-device".into(),
        step: "block".into(),
        entity: alert.entity.to_string(),
        kind: "firewall".into(),
        action: json!({ "firewall": { "address": "10.30.4.21" } }),
        effect: "contain".into(),
        state: ward_store::JobState::AwaitingApproval,
        approval: json!({
            "roles": ["clinical_engineer"], "clinical": true, "proceed_on_timeout": false,
            "timeout_minutes": 60, "reason": "the target is a life-sustaining device",
        }),
        expires_at: Some(ward_core::Timestamp(now.0 + 3_600_000_000)),
        max_attempts: 3,
        timeout_secs: 10,
        result: Value::Null,
        rollback_of: None,
    };
    store.enqueue_jobs(&[job], now, "respond").expect("enqueue");
    alert.id
}

#[test]
fn dashboard_sign_in_alerts_acknowledge_and_audit_in_chromium() {
    let driver_bin = on_path(&["chromedriver"]);
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let (Some(driver_bin), Some(_)) = (driver_bin, chromium) else {
        let why = "chromedriver and chromium are not on PATH; install Debian's chromium and chromium-driver (scripts/test does)";
        if std::env::var("WARD_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("WARD_REQUIRE_BROWSER=1 but {why}");
        }
        eprintln!("skipped: browser test: {why}");
        return;
    };
    let shots = artifact_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    demo_store(d);

    let user = "dash.admin";
    let password: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    ward_ok(
        d,
        &["user", "add", user, "--role", "admin", "--store", "ward.db"],
        Some(&password),
    );
    // EHR-access cases for the Privacy page, and a privacy officer who may see names.
    ward_ok(
        d,
        &[
            "sim",
            "ehr",
            "--out",
            "ehr",
            "--patients",
            "2000",
            "--users",
            "200",
            "--days",
            "3",
        ],
        None,
    );
    ward_ok(
        d,
        &[
            "ehr",
            "detect",
            "ehr",
            "--flagged",
            "flagged.csv",
            "--store",
            "ward.db",
        ],
        None,
    );
    let officer = "dash.privacy";
    ward_ok(
        d,
        &[
            "user",
            "add",
            officer,
            "--role",
            "privacy_officer",
            "--store",
            "ward.db",
        ],
        Some(&password),
    );

    // A response step waiting for a clinical engineer's approval, on the newest alert, and a
    // clinical engineer to give it.
    let clinician = "dash.clinical";
    ward_ok(
        d,
        &[
            "user",
            "add",
            clinician,
            "--role",
            "clinical_engineer",
            "--store",
            "ward.db",
        ],
        Some(&password),
    );
    let job_alert = waiting_clinical_job(&d.join("ward.db"));

    let mut server = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--store", "ward.db", "--listen", "127.0.0.1:0"])
        .current_dir(d)
        .env_remove("WARD_CONFIG")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ward serve starts");
    let stderr = server.stderr.take().expect("server stderr");
    let server = Killed(server);
    let mut lines = std::io::BufReader::new(stderr).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    // Keep draining the server's log so it never blocks on a full pipe.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let base = format!("http://{addr}");

    let port = free_port();
    let chromedriver = Killed(
        Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let driver = format!("127.0.0.1:{port}");
    let end = Instant::now() + WAIT;
    while http_json(&driver, "GET", "/status", None)
        .map_or(true, |(_, v)| v["value"]["ready"] != json!(true))
    {
        assert!(Instant::now() < end, "chromedriver did not get ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let b = Browser::start(&driver, shots.clone());

    // Sign in through the form.
    b.goto(&format!("{base}/"));
    let name = b.wait("#signin-form input[name=username]");
    b.screenshot("01-sign-in");
    b.type_into(&name, user);
    b.type_into(&b.wait("#signin-form input[name=password]"), &password);
    b.click(&b.wait("#signin-submit"));

    // The overview: the severity chart and the counts.
    b.wait("#ov-chart");
    b.wait("svg.chart rect");
    b.wait_text("#who", user);
    b.screenshot("02-overview");

    // The alert list shows the simulated day's alerts.
    b.click(&b.wait("a[data-nav=alerts]"));
    b.wait("a.alert-link");
    let rows = b.find_all("tr[data-alert-id]").len();
    assert!(rows > 0, "no alert rows");
    b.screenshot("03-alerts");

    // One device alert (their explanations always list contributions): sentences and chart.
    b.goto(&format!("{base}/#/alerts?detector=net.device"));
    b.wait_text(".page-head .sub", "net.device");
    let link = b.wait("a.alert-link");
    let title = b.text(&link);
    b.click(&link);
    let shown = b.text(&b.wait("#alert-title"));
    assert_eq!(shown, title);
    let url = b.url();
    let alert_id = url
        .rsplit("#/alerts/")
        .next()
        .filter(|id| id.starts_with("al_"))
        .unwrap_or_else(|| b.fail(&format!("no alert id in {url}")))
        .to_owned();
    let summary = b.text(&b.wait("#explanation-summary"));
    assert!(summary.len() > 20, "explanation summary: {summary:?}");
    let sentences = b.find_all("#contribution-sentences li");
    assert!(!sentences.is_empty(), "no contribution sentences");
    let first_sentence = b.text(&sentences[0]);
    assert!(
        first_sentence.contains(" was ") && first_sentence.ends_with('.'),
        "contribution sentence: {first_sentence:?}"
    );
    let bars = b.find_all("#contribution-chart svg rect");
    assert_eq!(bars.len(), sentences.len(), "one bar per contribution");
    b.screenshot("04-alert");

    // Acknowledge it.
    b.click(&b.wait("#ack-button"));
    b.wait_text("#alert-state", "acknowledged");
    b.wait_text("#alert-history", "acknowledge");
    b.screenshot("05-alert-acknowledged");

    // The audit trail names who acknowledged which alert.
    b.click(&b.wait("a[data-nav=audit]"));
    let row = b.wait(&format!(
        "tr[data-action='alert.acknowledge'][data-target='{alert_id}']"
    ));
    let row_text = b.text(&row);
    assert!(row_text.contains(user), "audit row: {row_text:?}");
    b.screenshot("06-audit");

    // The Privacy page: an administrator sees users by id, without a name column.
    b.click(&b.wait("a[data-nav=privacy]"));
    b.wait("tr[data-user] a");
    let head = b
        .find_all("th")
        .iter()
        .map(|t| b.text(t))
        .collect::<Vec<_>>();
    assert!(
        !head.iter().any(|t| t == "Name"),
        "admin sees names: {head:?}"
    );
    // A privacy officer signs in, sees names, and opens the first user's timeline.
    b.click(&b.wait("#sign-out"));
    let name = b.wait("#signin-form input[name=username]");
    b.type_into(&name, officer);
    b.type_into(&b.wait("#signin-form input[name=password]"), &password);
    b.click(&b.wait("#signin-submit"));
    b.wait_text("#who", officer);
    b.goto(&format!("{base}/#/privacy"));
    b.wait_text(".notice.warn", "recorded in the audit trail");
    let head = b
        .find_all("th")
        .iter()
        .map(|t| b.text(t))
        .collect::<Vec<_>>();
    assert!(head.iter().any(|t| t == "Name"), "no name column: {head:?}");
    b.screenshot("07-privacy-users");
    b.click(&b.wait("tr[data-named] a"));
    let reason = b.text(&b.wait("section[data-case] ul.reasons li"));
    assert!(reason.ends_with('.'), "reason sentence: {reason:?}");
    let title = b.text(&b.wait("h1"));
    assert!(
        title.starts_with("Record access by ") && !title.contains("by user "),
        "the officer sees the user's name: {title:?}"
    );
    b.screenshot("08-privacy-timeline");

    // The Responses page: the administrator sees the clinical step but no buttons (no
    // administrator override); the clinical engineer approves it and it moves to the history.
    b.click(&b.wait("#sign-out"));
    b.type_into(&b.wait("#signin-form input[name=username]"), user);
    b.type_into(&b.wait("#signin-form input[name=password]"), &password);
    b.click(&b.wait("#signin-submit"));
    b.wait_text("#who", user);
    b.goto(&format!("{base}/#/responses"));
    b.wait_text("section.approval-card .notice", "clinical engineer");
    assert!(
        b.find_all("section.approval-card button").is_empty(),
        "an administrator was offered the clinical decision"
    );
    b.click(&b.wait("#sign-out"));
    b.type_into(&b.wait("#signin-form input[name=username]"), clinician);
    b.type_into(&b.wait("#signin-form input[name=password]"), &password);
    b.click(&b.wait("#signin-submit"));
    b.wait_text("#who", clinician);
    b.goto(&format!("{base}/#/responses"));
    let card = b.wait_text("section.approval-card", "clinical safety");
    assert!(card.contains("left"), "time left: {card:?}");
    b.type_into(
        &b.wait("section.approval-card textarea"),
        "ventilator on backup, go ahead",
    );
    b.screenshot("09-responses-pending");
    b.click(&b.wait("section.approval-card button.approve"));
    b.wait_text("#status", "approved");
    // Pending now (or further on, should a response worker be running).
    b.wait_text("#response-history tr[data-job]", "contain");
    assert!(b.find_all("section.approval-card").is_empty());
    b.screenshot("10-responses-history");
    // The alert page lists the job too.
    b.goto(&format!("{base}/#/alerts/{job_alert}"));
    b.wait_text("#alert-response", "Approved by dash.clinical");

    // A tablet: the navigation folds behind the menu button, the chart still draws.
    b.resize(768, 1024);
    b.goto(&format!("{base}/#/"));
    b.wait("#ov-chart");
    b.wait("svg.chart rect");
    let toggle = b.wait("#nav-toggle");
    assert!(b.displayed(&toggle), "menu button hidden at 768 px");
    b.screenshot("11-overview-tablet");

    // Browser first (its Drop ends the session), then chromedriver, then the server.
    drop(b);
    drop(chromedriver);
    drop(server);
    eprintln!("browser test screenshots: {}", shots.display());
}
