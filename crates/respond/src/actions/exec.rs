//! Commands: a program run with an argument vector (never a shell), a cleared environment, no
//! input, and a timeout.

use super::{Actions, clip, head};
use crate::action::{ActionContext, ActionError, Outcome};
use serde_json::json;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The only `PATH` a command sees.
pub const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// Exit code meaning "temporary failure, try again" (sysexits.h `EX_TEMPFAIL`).
pub const EX_TEMPFAIL: i32 = 75;
/// Bytes of stdout and stderr kept in the outcome.
const KEEP: usize = 1024;

/// Runs `program` with `args` once.
pub(super) fn run(
    actions: &Actions,
    program: &str,
    args: &[String],
    ctx: &ActionContext<'_>,
    label: &str,
) -> Result<Outcome, ActionError> {
    if !program.starts_with('/') {
        return Err(ActionError::Permanent(format!(
            "{label}: the program must be an absolute path, got {:?}",
            clip(program, 200)
        )));
    }
    let argv: Vec<&str> = std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .collect();
    let timeout = actions.timeout(ctx);
    if ctx.dry_run {
        return Ok(Outcome {
            summary: format!(
                "dry run: {label} would run {argv:?} without a shell, environment PATH={PATH}, \
                 WARD_IDEMPOTENCY_KEY and WARD_ALERT_ID only, timeout {} s",
                timeout.as_secs()
            ),
            detail: json!({
                "dry_run": true,
                "argv": argv,
                "timeout_secs": timeout.as_secs(),
            }),
        });
    }

    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", PATH)
        .env("WARD_IDEMPOTENCY_KEY", ctx.idempotency_key)
        .env("WARD_ALERT_ID", &ctx.alert.id)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            use std::io::ErrorKind as K;
            let msg = format!("{label}: cannot start {program}: {e}");
            match e.kind() {
                K::NotFound | K::PermissionDenied | K::InvalidInput => ActionError::Permanent(msg),
                _ => ActionError::Retryable(msg),
            }
        })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ActionError::Retryable(format!(
                    "{label}: {program} did not finish within {} s and was killed",
                    timeout.as_secs()
                )));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ActionError::Retryable(format!(
                    "{label}: waiting for {program}: {e}"
                )));
            }
        }
    };
    // The pipes close when the program exits, unless it left a child holding them: then give
    // up on the output rather than wait.
    let grace = Duration::from_secs(2);
    let out = stdout.recv_timeout(grace).unwrap_or_default();
    let err = stderr.recv_timeout(grace).unwrap_or_default();
    let (out, err) = (head(&out.0, KEEP), head(&err.0, KEEP));
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(Outcome {
            summary: format!("{label}: {program} exited with code 0"),
            detail: json!({
                "argv": argv,
                "exit_code": 0,
                "stdout": out,
                "stderr": err,
            }),
        }),
        (Some(EX_TEMPFAIL), _) => Err(ActionError::Retryable(format!(
            "{label}: {program} exited with code {EX_TEMPFAIL} (temporary failure){}",
            said(&err)
        ))),
        (Some(code), _) => Err(ActionError::Permanent(format!(
            "{label}: {program} exited with code {code}{}",
            said(&err)
        ))),
        (None, sig) => Err(ActionError::Retryable(format!(
            "{label}: {program} was killed by signal {}",
            sig.unwrap_or(0)
        ))),
    }
}

/// `: <the first line of stderr>` when there is one.
fn said(stderr: &str) -> String {
    match stderr.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) => format!(": {}", clip(line, 200)),
        None => String::new(),
    }
}

/// Output kept from one pipe.
#[derive(Default)]
struct Kept(Vec<u8>);

/// Reads a pipe to its end on a thread of its own (so a chatty program never blocks on a full
/// pipe), keeping the first [`KEEP`] bytes plus one to show it was cut.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Kept> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match pipe.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = (KEEP + 1).saturating_sub(kept.len());
                        kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
                    }
                }
            }
            let _ = tx.send(Kept(kept));
        });
    }
    rx
}
