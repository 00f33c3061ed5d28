//! Mail: a plain-text summary of the alert, submitted over SMTP with STARTTLS as configured.

use super::{Actions, StartTls, clip, secret};
use crate::action::{ActionContext, ActionError, Outcome};
use crate::playbook::EmailSpec;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};
use serde_json::json;
use std::fmt::Write as _;
use ward_core::alert::Alert;

/// The header carrying the job's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "X-Ward-Idempotency-Key";

/// One line of text: control characters become spaces, at most `max` characters.
fn line(s: &str, max: usize) -> String {
    clip(s, max)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Letters, digits, `.`, `-` and `_`; anything else becomes `-` (for a Message-ID).
fn atom(s: &str) -> String {
    let a: String = clip(s, 64)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let a = a.trim_matches('.').to_owned();
    if a.is_empty() { "ward".to_owned() } else { a }
}

/// The message text: what happened, to what, and the key that identifies the job.
pub fn body(alert: &Alert, ctx: &ActionContext<'_>) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "ward raised an alert.\n");
    for (k, v) in [
        ("Alert id", line(&alert.id, 100)),
        ("Time", alert.time.to_string()),
        ("Detector", line(&alert.detector, 100)),
        (
            "Severity",
            format!("{} (score {}/100)", alert.severity, alert.score),
        ),
        ("Entity", line(&alert.entity.to_string(), 300)),
        ("Title", line(&alert.title, 300)),
        (
            "Playbook",
            format!("{} / {}", line(ctx.playbook, 100), line(ctx.step, 100)),
        ),
        ("Idempotency key", line(ctx.idempotency_key, 100)),
    ] {
        let _ = writeln!(t, "{k:<16} {v}");
    }
    if !alert.mitre.is_empty() {
        let _ = writeln!(
            t,
            "{:<16} {}",
            "MITRE ATT&CK",
            line(&alert.mitre.join(", "), 300)
        );
    }
    if !alert.explanation.rules.is_empty() {
        let _ = writeln!(
            t,
            "{:<16} {}",
            "Rules",
            line(&alert.explanation.rules.join(", "), 300)
        );
    }
    let summary = clip(alert.explanation.summary.trim(), 4000);
    if !summary.is_empty() {
        let _ = writeln!(t, "\n{summary}");
    }
    t
}

/// Builds the message.
fn message(
    actions: &Actions,
    spec: &EmailSpec,
    ctx: &ActionContext<'_>,
) -> Result<(Message, Vec<String>), ActionError> {
    let cfg = &actions.config.smtp;
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|_| ActionError::Permanent("smtp.from is not a mail address".to_owned()))?;
    let subject = line(&spec.subject, 200);
    let mut b = Message::builder()
        .from(from)
        .subject(subject)
        .message_id(Some(format!(
            "<{}@{}>",
            atom(ctx.idempotency_key),
            atom(&actions.hostname)
        )));
    let mut to = Vec::new();
    if spec.to.is_empty() {
        return Err(ActionError::Permanent(
            "email.to must name at least one address".to_owned(),
        ));
    }
    for addr in &spec.to {
        let mbox: Mailbox = addr.parse().map_err(|_| {
            ActionError::Permanent(format!(
                "email.to: {:?} is not a mail address",
                clip(addr, 100)
            ))
        })?;
        to.push(mbox.email.to_string());
        b = b.to(mbox);
    }
    let mut msg = b
        .header(ContentType::TEXT_PLAIN)
        .body(body(ctx.alert, ctx))
        .map_err(|e| ActionError::Permanent(format!("email: cannot build the message: {e}")))?;
    if let Ok(name) = HeaderName::new_from_ascii(IDEMPOTENCY_HEADER.to_owned()) {
        msg.headers_mut()
            .insert_raw(HeaderValue::new(name, atom(ctx.idempotency_key)));
    }
    Ok((msg, to))
}

/// Sends one message.
pub(super) fn run(
    actions: &Actions,
    spec: &EmailSpec,
    ctx: &ActionContext<'_>,
) -> Result<Outcome, ActionError> {
    let cfg = &actions.config.smtp;
    let (msg, to) = message(actions, spec, ctx)?;
    let server = format!("{}:{}", cfg.host, cfg.port);
    let subject = line(&spec.subject, 200);
    if ctx.dry_run {
        return Ok(Outcome {
            summary: format!(
                "dry run: email would mail {} via SMTP {server} (STARTTLS {}) from {} with subject {subject:?}",
                to.join(", "),
                cfg.starttls.as_str(),
                cfg.from,
            ),
            detail: json!({
                "dry_run": true,
                "server": server,
                "starttls": cfg.starttls.as_str(),
                "from": cfg.from,
                "to": to,
                "subject": subject,
                "authenticated": cfg.username.is_some(),
            }),
        });
    }
    let tls = match cfg.starttls {
        StartTls::Never => Tls::None,
        StartTls::Opportunistic | StartTls::Required => {
            let params = TlsParameters::new(cfg.host.clone()).map_err(|e| {
                ActionError::Permanent(format!("email: TLS parameters for {}: {e}", cfg.host))
            })?;
            if cfg.starttls == StartTls::Required {
                Tls::Required(params)
            } else {
                Tls::Opportunistic(params)
            }
        }
    };
    let timeout = actions.timeout(ctx);
    let mut builder = SmtpTransport::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(timeout))
        .hello_name(ClientId::Domain(actions.hostname.clone()));
    if let (Some(user), Some(var)) = (&cfg.username, &cfg.password_env) {
        builder = builder.credentials(Credentials::new(user.clone(), secret(var)?));
    }
    let resp = builder
        .build()
        .send(&msg)
        .map_err(|e| classify(&e, &server))?;
    let code = resp.code().to_string();
    Ok(Outcome {
        summary: format!(
            "email: {} recipient(s) accepted by {server} ({code})",
            to.len()
        ),
        detail: json!({
            "server": server,
            "to": to,
            "smtp_code": code,
        }),
    })
}

/// 4xx replies, timeouts and broken connections are retryable; 5xx replies, a server without
/// STARTTLS when it is required, failed authentication set-up and TLS failures are not.
fn classify(e: &lettre::transport::smtp::Error, server: &str) -> ActionError {
    let msg = format!("email via {server}: {e}");
    if e.is_transient() || e.is_timeout() {
        ActionError::Retryable(msg)
    } else if e.is_permanent() || e.is_client() || e.is_tls() {
        ActionError::Permanent(msg)
    } else {
        ActionError::Retryable(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_control_characters_and_ids_lose_odd_characters() {
        assert_eq!(line("a\r\nBcc: x", 100), "a  Bcc: x");
        assert_eq!(atom("ab<>@c d"), "ab---c-d");
        assert_eq!(atom("..."), "ward");
        assert_eq!(atom("0123abcd"), "0123abcd");
    }
}
