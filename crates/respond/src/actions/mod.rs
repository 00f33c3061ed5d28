//! The action executors: webhook, command, mail, syslog, firewall and account disabling.
//!
//! [`Actions`] implements [`Executor`] for every action that reaches outside ward; opening a case
//! and recommending a quarantine touch the store and belong to the response engine. Each call
//! makes exactly one attempt and classifies a failure as [`ActionError::Retryable`] or
//! [`ActionError::Permanent`]; the engine owns the durable retry loop and waits [`backoff`]
//! between attempts. In a dry run nothing is sent, started or written: the outcome says what
//! would have happened.
//!
//! Secrets (the webhook signing key, the SMTP password) come only from environment variables
//! named in the configuration and never appear in outcomes or errors; a missing variable is a
//! permanent error naming the variable.

mod email;
mod exec;
mod firewall;
mod syslog;
mod webhook;

pub use firewall::nft_preamble;
pub use syslog::{SyslogMessage, cef_severity, format_cef, format_rfc5424};
pub use webhook::{SIGNATURE_HEADER, sign};

use crate::action::{ActionContext, ActionError, Executor, Outcome};
use crate::playbook::ActionSpec;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[respond.actions]`: how actions reach the outside world. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionsConfig {
    /// Seconds an attempt may take when the job does not say (a step's `timeout_secs` wins).
    /// Default 10.
    pub default_timeout_secs: u32,
    /// `User-Agent` of webhook requests. Default `ward/<version>`.
    pub user_agent: String,
    /// At most this many bytes of a webhook response are read; the outcome keeps the first
    /// KiB. Default 65536.
    pub max_response_bytes: u64,
    /// HTTP proxy for webhooks (`http://host:port`). Default none: webhooks go direct and the
    /// `HTTP_PROXY` family of environment variables is ignored.
    pub http_proxy: Option<String>,
    /// Host name in syslog headers, the SMTP greeting and mail message ids. Default: the
    /// system's host name, else `localhost`.
    pub hostname: Option<String>,
    /// Syslog facility number, 0-23. Default 16 (`local0`).
    pub syslog_facility: u8,
    /// Mail delivery.
    pub smtp: SmtpConfig,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        Self {
            default_timeout_secs: 10,
            user_agent: format!("ward/{}", env!("CARGO_PKG_VERSION")),
            max_response_bytes: 65_536,
            http_proxy: None,
            hostname: None,
            syslog_facility: 16,
            smtp: SmtpConfig::default(),
        }
    }
}

/// `[respond.actions.smtp]`: the mail server email actions submit to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name or address. Default `localhost`.
    pub host: String,
    /// Server port. Default 25.
    pub port: u16,
    /// Sender address. Default `ward@localhost`.
    pub from: String,
    /// `opportunistic` (default: STARTTLS when the server offers it), `required` (fail when it
    /// does not) or `never`.
    pub starttls: StartTls,
    /// User name for SMTP AUTH. Default none (no authentication). Needs `starttls = "required"`
    /// so the password never crosses the network in clear.
    pub username: Option<String>,
    /// Environment variable holding the SMTP password. Required with `username`.
    pub password_env: Option<String>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 25,
            from: "ward@localhost".to_owned(),
            starttls: StartTls::Opportunistic,
            username: None,
            password_env: None,
        }
    }
}

/// When mail is encrypted with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartTls {
    /// Upgrade when the server offers STARTTLS, else send in clear.
    #[default]
    Opportunistic,
    /// Upgrade, or fail permanently when the server does not offer it.
    Required,
    /// Never upgrade.
    Never,
}

impl StartTls {
    /// The configuration word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opportunistic => "opportunistic",
            Self::Required => "required",
            Self::Never => "never",
        }
    }
}

/// A configuration [`Actions::new`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("respond.actions: {0}")]
pub struct ActionsConfigError(pub String);

impl ActionsConfig {
    /// Checks the fields that do not depend on a job.
    pub fn validate(&self) -> Result<(), ActionsConfigError> {
        let bad = |s: &str| Err(ActionsConfigError(s.to_owned()));
        if !(1..=3600).contains(&self.default_timeout_secs) {
            return bad("default_timeout_secs must be between 1 and 3600");
        }
        if self.user_agent.is_empty() || !self.user_agent.chars().all(|c| (' '..='~').contains(&c))
        {
            return bad("user_agent must be printable ASCII");
        }
        if self.max_response_bytes == 0 {
            return bad("max_response_bytes must be at least 1");
        }
        if let Some(p) = &self.http_proxy
            && !p.starts_with("http://")
        {
            return bad("http_proxy must be an http:// URL");
        }
        if let Some(h) = &self.hostname
            && !is_host_token(h)
        {
            return bad("hostname must be 1 to 255 printable ASCII characters without spaces");
        }
        if self.syslog_facility > 23 {
            return bad("syslog_facility must be between 0 and 23");
        }
        let s = &self.smtp;
        if s.host.trim().is_empty() {
            return bad("smtp.host must not be empty");
        }
        if s.port == 0 {
            return bad("smtp.port must not be 0");
        }
        if s.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad("smtp.from is not a mail address");
        }
        if let Some(v) = &s.password_env
            && !is_env_name(v)
        {
            return bad("smtp.password_env must be an environment variable name");
        }
        match (&s.username, &s.password_env) {
            (Some(_), None) | (None, Some(_)) => {
                return bad("smtp.username and smtp.password_env go together");
            }
            (Some(_), Some(_)) if s.starttls != StartTls::Required => {
                return bad("smtp.username needs smtp.starttls = \"required\"");
            }
            _ => {}
        }
        Ok(())
    }
}

/// Carries out webhook, exec, email, syslog, firewall and disable-account steps.
#[derive(Debug, Clone)]
pub struct Actions {
    config: ActionsConfig,
    hostname: String,
    agent: ureq::Agent,
}

impl Actions {
    /// Checks the configuration and prepares the HTTP client.
    pub fn new(config: ActionsConfig) -> Result<Self, ActionsConfigError> {
        config.validate()?;
        let hostname = config.hostname.clone().unwrap_or_else(system_hostname);
        let agent = webhook::agent(&config)?;
        Ok(Self {
            config,
            hostname,
            agent,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ActionsConfig {
        &self.config
    }

    /// The host name used in syslog headers and mail.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    fn timeout(&self, ctx: &ActionContext<'_>) -> Duration {
        let secs = if ctx.timeout_secs > 0 {
            ctx.timeout_secs
        } else {
            self.config.default_timeout_secs
        };
        Duration::from_secs(u64::from(secs))
    }
}

impl Executor for Actions {
    fn execute(
        &self,
        action: &ActionSpec,
        ctx: &ActionContext<'_>,
    ) -> Result<Outcome, ActionError> {
        match action {
            ActionSpec::Webhook(w) => webhook::run(self, w, ctx, "webhook"),
            ActionSpec::Exec(e) => exec::run(self, &e.program, &e.args, ctx, "exec"),
            ActionSpec::Email(e) => email::run(self, e, ctx),
            ActionSpec::Syslog(s) => syslog::run(self, s, ctx),
            ActionSpec::Firewall(f) => firewall::run(self, f, ctx),
            ActionSpec::DisableAccount(d) => match (&d.webhook, &d.exec) {
                (Some(w), None) => webhook::run(self, w, ctx, "disable account"),
                (None, Some(e)) => exec::run(self, &e.program, &e.args, ctx, "disable account"),
                _ => Err(ActionError::Permanent(
                    "disable_account needs exactly one of webhook or exec".to_owned(),
                )),
            },
            ActionSpec::OpenCase(_) | ActionSpec::Quarantine(_) => Err(ActionError::Permanent(
                format!("{} is handled by the response engine", action.kind()),
            )),
        }
    }
}

/// The wait before the attempt after failed attempt `attempt` (1 for the first): 1 s, 2 s,
/// 4 s, ... doubling, capped at 5 minutes. No jitter, so the schedule is reproducible.
pub fn backoff(attempt: u32) -> Duration {
    const CAP: u64 = 300;
    let exp = attempt.saturating_sub(1);
    let secs = if exp >= 9 {
        CAP
    } else {
        (1u64 << exp).min(CAP)
    };
    Duration::from_secs(secs)
}

/// Reads a secret from the environment variable `name`: a missing, empty or non-UTF-8 value is
/// a permanent error naming the variable (never the value).
fn secret(name: &str) -> Result<String, ActionError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(ActionError::Permanent(format!(
            "environment variable {name} is empty"
        ))),
        Err(std::env::VarError::NotPresent) => Err(ActionError::Permanent(format!(
            "environment variable {name} is not set"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(ActionError::Permanent(format!(
            "environment variable {name} is not valid UTF-8"
        ))),
    }
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_host_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.chars().all(|c| ('!'..='~').contains(&c))
}

/// The system's host name, or `localhost`.
fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| is_host_token(s))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// At most `max` bytes of `bytes`, as text (invalid UTF-8 replaced), cut at a character
/// boundary.
fn head(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes.get(..max).unwrap_or(bytes));
    let mut s = text.into_owned();
    if bytes.len() > max {
        // A multi-byte character cut in two became U+FFFD; drop it.
        if s.ends_with('\u{fffd}') {
            s.pop();
        }
        s.push('…');
    }
    s
}

/// Keeps at most `max` characters of `s`.
fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_five_minutes() {
        let secs: Vec<u64> = (0..=12).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn default_config_is_valid_and_bad_ones_are_refused() {
        assert_eq!(ActionsConfig::default().validate(), Ok(()));
        type Edit = fn(&mut ActionsConfig);
        let cases: [(&str, Edit); 7] = [
            ("timeout", |c| c.default_timeout_secs = 0),
            ("agent", |c| c.user_agent = "a\r\nb".to_owned()),
            ("facility", |c| c.syslog_facility = 24),
            ("from", |c| c.smtp.from = "not an address".to_owned()),
            ("user alone", |c| c.smtp.username = Some("u".to_owned())),
            ("clear password", |c| {
                c.smtp.username = Some("u".to_owned());
                c.smtp.password_env = Some("PW".to_owned());
            }),
            ("env name", |c| {
                c.smtp.username = Some("u".to_owned());
                c.smtp.password_env = Some("PW; rm".to_owned());
                c.smtp.starttls = StartTls::Required;
            }),
        ];
        for (name, edit) in cases {
            let mut c = ActionsConfig::default();
            edit(&mut c);
            assert!(c.validate().is_err(), "{name} accepted");
        }
    }

    #[test]
    fn config_parses_from_toml_and_rejects_unknown_fields() {
        let c: ActionsConfig = toml::from_str(
            "default_timeout_secs = 5\n[smtp]\nhost = \"mail.example\"\nstarttls = \"required\"\n",
        )
        .unwrap();
        assert_eq!(c.smtp.host, "mail.example");
        assert_eq!(c.smtp.port, 25);
        assert_eq!(c.smtp.starttls, StartTls::Required);
        assert!(toml::from_str::<ActionsConfig>("smtp_host = \"x\"").is_err());
        assert!(toml::from_str::<ActionsConfig>("[smtp]\nstarttls = \"maybe\"").is_err());
    }

    #[test]
    fn head_and_clip_cut_at_character_boundaries() {
        assert_eq!(head(b"abc", 10), "abc");
        assert_eq!(head("aé".as_bytes(), 2), "a…");
        assert_eq!(head(&[0xff, b'a'], 10), "\u{fffd}a");
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hé", 5), "hé");
    }
}
