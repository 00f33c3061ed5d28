//! Playbooks: a trigger, steps with parameters and conditions, approvals, a deduplication
//! window and a rate limit. Declared in TOML (`[[playbook]]` tables, in ward.toml or a file of
//! their own); every field is documented with its default, and unknown fields are an error.

use crate::error::RespondError;
use crate::safety::{Approval, DeviceClass, Effect};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ward_core::alert::{Alert, Severity};
use ward_core::entity::EntityKind;

/// All playbooks of a configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSet {
    /// The playbooks, tried in order; every matching one runs.
    #[serde(default)]
    pub playbook: Vec<Playbook>,
}

impl PlaybookSet {
    /// Parses and validates a TOML text of `[[playbook]]` tables.
    pub fn from_toml(text: &str) -> Result<Self, RespondError> {
        let set: Self = toml_from_str(text)?;
        set.validate()?;
        Ok(set)
    }

    /// Checks every playbook, and that names are unique.
    pub fn validate(&self) -> Result<(), RespondError> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in self.playbook.iter().enumerate() {
            let label = if p.name.trim().is_empty() {
                format!("#{}", i + 1)
            } else {
                p.name.clone()
            };
            p.validate().map_err(|reason| RespondError::Invalid {
                playbook: label.clone(),
                reason,
            })?;
            if !seen.insert(p.name.as_str()) {
                return Err(RespondError::Invalid {
                    playbook: label,
                    reason: "another playbook has the same name".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The playbook called `name`.
    pub fn get(&self, name: &str) -> Option<&Playbook> {
        self.playbook.iter().find(|p| p.name == name)
    }
}

fn toml_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RespondError> {
    toml::from_str(text).map_err(|e| RespondError::Parse(e.to_string()))
}

/// One playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Unique name, used in idempotency keys, the audit trail and the API.
    pub name: String,
    /// What it is for, in a sentence. Default empty.
    #[serde(default)]
    pub description: String,
    /// Off: never matches. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which alerts start it.
    #[serde(default)]
    pub trigger: Trigger,
    /// The steps, in order.
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// An alert on the same entity within this many minutes of the last run of this playbook
    /// for it does not start it again. Default 60; 0 = no deduplication.
    #[serde(default = "default_dedup")]
    pub dedup_minutes: u32,
    /// At most this many runs in any 60 minutes; more are skipped and recorded. Default 60;
    /// 0 = no limit.
    #[serde(default = "default_rate")]
    pub max_runs_per_hour: u32,
}

fn yes() -> bool {
    true
}
fn default_dedup() -> u32 {
    60
}
fn default_rate() -> u32 {
    60
}

impl Playbook {
    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err("name must be 1 to 100 characters".to_owned());
        }
        if !self
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("name may hold only letters, digits, '-', '_' and '.'".to_owned());
        }
        if self.steps.is_empty() {
            return Err("has no [[playbook.step]]".to_owned());
        }
        if self.dedup_minutes > 7 * 24 * 60 {
            return Err("dedup_minutes must be at most 10080".to_owned());
        }
        self.trigger
            .validate()
            .map_err(|e| format!("trigger: {e}"))?;
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            let label = if s.name.is_empty() {
                format!("step #{}", i + 1)
            } else {
                format!("step {:?}", s.name)
            };
            s.validate().map_err(|e| format!("{label}: {e}"))?;
            if !names.insert(s.name.as_str()) {
                return Err(format!("{label}: another step has the same name"));
            }
        }
        Ok(())
    }

    /// Whether the trigger matches an alert whose target has class `class`.
    pub fn matches(&self, alert: &Alert, class: DeviceClass) -> bool {
        self.enabled && self.trigger.matches(alert, class)
    }
}

/// Which alerts a playbook (or a step's `when`) takes. Empty lists match anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Trigger {
    /// Detector names; `net.*` matches every detector starting `net.`. Default: any.
    pub detectors: Vec<String>,
    /// Lowest severity (`info`, `low`, `medium`, `high`, `critical`). Default: any.
    pub min_severity: Option<Severity>,
    /// Lowest score, 0-100. Default: any.
    pub min_score: Option<u8>,
    /// Entity kinds (`host`, `device`, `user`, ...). Default: any.
    pub entity_kinds: Vec<String>,
    /// Networks (`10.20.0.0/16`) or addresses the alert's host or device must be in; an alert
    /// about anything else does not match. Default: any.
    pub entity_networks: Vec<String>,
    /// Device classes of the target. Default: any.
    pub device_classes: Vec<DeviceClass>,
    /// The alert names at least one of these rules (its explanation's `rules`, e.g. an attack
    /// family or an EHR signal). Default: any.
    pub rules_any: Vec<String>,
}

impl Trigger {
    fn validate(&self) -> Result<(), String> {
        if self.min_score.is_some_and(|s| s > 100) {
            return Err("min_score must be at most 100".to_owned());
        }
        for k in &self.entity_kinds {
            if kind(k).is_none() {
                return Err(format!(
                    "unknown entity kind {k:?}: expected host, host_pair, device, user, patient or provider"
                ));
            }
        }
        for n in &self.entity_networks {
            Network::parse(n).ok_or_else(|| {
                format!("entity_networks: {n:?} is not an address or a network like 10.0.0.0/8")
            })?;
        }
        if self.detectors.iter().any(|d| d.trim().is_empty()) {
            return Err("a detector name is empty".to_owned());
        }
        Ok(())
    }

    /// Whether `alert`, whose target has class `class`, passes.
    pub fn matches(&self, alert: &Alert, class: DeviceClass) -> bool {
        let det = self.detectors.is_empty()
            || self.detectors.iter().any(|d| match d.strip_suffix('*') {
                Some(prefix) => alert.detector.starts_with(prefix),
                None => alert.detector == *d,
            });
        det && self.min_severity.is_none_or(|s| alert.severity >= s)
            && self.min_score.is_none_or(|s| alert.score >= s)
            && (self.entity_kinds.is_empty()
                || self
                    .entity_kinds
                    .iter()
                    .any(|k| kind(k) == Some(alert.entity.kind)))
            && (self.device_classes.is_empty() || self.device_classes.contains(&class))
            && (self.entity_networks.is_empty() || {
                let addr = match alert.entity.kind {
                    EntityKind::Host | EntityKind::Device => Some(alert.entity.value.as_str()),
                    EntityKind::HostPair => alert.entity.value.split_once("->").map(|x| x.0),
                    _ => None,
                };
                addr.and_then(|a| a.parse::<std::net::IpAddr>().ok())
                    .is_some_and(|ip| {
                        self.entity_networks
                            .iter()
                            .filter_map(|n| Network::parse(n))
                            .any(|n| n.contains(ip))
                    })
            })
            && (self.rules_any.is_empty()
                || alert
                    .explanation
                    .rules
                    .iter()
                    .any(|r| self.rules_any.contains(r)))
    }
}

/// An address or a network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `fd00::/8` or a bare address.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    /// Whether `ip` is in the network (same family only).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let bits = |a: std::net::IpAddr| match a {
            std::net::IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, true),
            std::net::IpAddr::V6(v) => (u128::from(v), false),
        };
        let ((n, n4), (x, x4)) = (bits(self.addr), bits(ip));
        if n4 != x4 {
            return false;
        }
        // both families sit in the top bits, so one mask fits both
        let mask = match u32::from(self.prefix) {
            0 => 0,
            p => u128::MAX << (128 - p.min(128)),
        };
        n & mask == x & mask
    }
}

fn kind(s: &str) -> Option<EntityKind> {
    Some(match s {
        "host" => EntityKind::Host,
        "host_pair" => EntityKind::HostPair,
        "device" => EntityKind::Device,
        "user" => EntityKind::User,
        "patient" => EntityKind::Patient,
        "provider" => EntityKind::Provider,
        _ => return None,
    })
}

/// One step: exactly one action table, and optional condition, approval and retry settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Step {
    /// Unique within the playbook; part of the idempotency key.
    pub name: String,
    /// Runs only when this also matches the alert. Default: always.
    pub when: Option<Trigger>,
    /// The playbook's own approval. Default none (the clinical gate may still ask for one).
    pub approval: Option<Approval>,
    /// For a webhook only: `notify` when the receiver only tells people (the clinical gate
    /// then lets it through); anything else, and every exec, counts as `contain`.
    pub effect: Option<Effect>,
    /// Attempts after the first on a retryable failure, with exponential backoff. Default 3.
    pub retries: Option<u32>,
    /// Seconds one attempt may take. Default 10.
    pub timeout_secs: Option<u32>,
    /// HTTP POST of the alert as JSON.
    pub webhook: Option<WebhookSpec>,
    /// A command with an argument vector (never a shell).
    pub exec: Option<ExecSpec>,
    /// Mail over SMTP (`[respond.smtp]`).
    pub email: Option<EmailSpec>,
    /// Forward the alert as RFC 5424 or CEF over UDP or TCP.
    pub syslog: Option<SyslogSpec>,
    /// Block the target's address.
    pub firewall: Option<FirewallSpec>,
    /// Disable the alert's user account through a webhook or a command.
    pub disable_account: Option<DisableAccountSpec>,
    /// Open a case holding the alert.
    pub open_case: Option<OpenCaseSpec>,
    /// For a medical device: recommend a quarantine instead of isolating it.
    pub quarantine: Option<QuarantineSpec>,
}

/// Default attempts after the first.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default seconds per attempt.
pub const DEFAULT_TIMEOUT_SECS: u32 = 10;

impl Step {
    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err("name must be 1 to 100 characters".to_owned());
        }
        let set = [
            self.webhook.is_some(),
            self.exec.is_some(),
            self.email.is_some(),
            self.syslog.is_some(),
            self.firewall.is_some(),
            self.disable_account.is_some(),
            self.open_case.is_some(),
            self.quarantine.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if set != 1 {
            return Err(format!(
                "needs exactly one action (webhook, exec, email, syslog, firewall, disable_account, open_case or quarantine), has {set}"
            ));
        }
        if self.retries.is_some_and(|r| r > 20) {
            return Err("retries must be at most 20".to_owned());
        }
        if self.timeout_secs.is_some_and(|t| !(1..=3600).contains(&t)) {
            return Err("timeout_secs must be between 1 and 3600".to_owned());
        }
        if let Some(a) = &self.approval {
            if a.roles.is_empty() {
                return Err("approval.roles must name at least one role".to_owned());
            }
            if !(1..=7 * 24 * 60).contains(&a.timeout_minutes) {
                return Err("approval.timeout_minutes must be between 1 and 10080".to_owned());
            }
        }
        if let Some(w) = &self.when {
            w.validate().map_err(|e| format!("when: {e}"))?;
        }
        self.action().validate()
    }

    /// The step's action (the one table that is set).
    pub fn action(&self) -> ActionSpec {
        if let Some(x) = &self.webhook {
            ActionSpec::Webhook(x.clone())
        } else if let Some(x) = &self.exec {
            ActionSpec::Exec(x.clone())
        } else if let Some(x) = &self.email {
            ActionSpec::Email(x.clone())
        } else if let Some(x) = &self.syslog {
            ActionSpec::Syslog(x.clone())
        } else if let Some(x) = &self.firewall {
            ActionSpec::Firewall(x.clone())
        } else if let Some(x) = &self.disable_account {
            ActionSpec::DisableAccount(x.clone())
        } else if let Some(x) = &self.open_case {
            ActionSpec::OpenCase(x.clone())
        } else {
            ActionSpec::Quarantine(self.quarantine.clone().unwrap_or_default())
        }
    }

    /// What the step does to its target, as the clinical gate sees it: intrinsic to the action,
    /// except that a webhook may be declared `notify`.
    pub fn effect(&self) -> Effect {
        match self.action() {
            ActionSpec::Webhook(_) if self.effect == Some(Effect::Notify) => Effect::Notify,
            a => a.effect(),
        }
    }
}

/// A concrete action, as stored in a job and handed to an executor. Strings are already
/// rendered from the alert when it comes out of [`crate::plan::plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// HTTP POST.
    Webhook(WebhookSpec),
    /// A command.
    Exec(ExecSpec),
    /// Mail.
    Email(EmailSpec),
    /// Syslog forwarding.
    Syslog(SyslogSpec),
    /// Block (or, with `release`, unblock) an address.
    Firewall(FirewallSpec),
    /// Disable an account.
    DisableAccount(DisableAccountSpec),
    /// Open a case.
    OpenCase(OpenCaseSpec),
    /// Recommend a device quarantine.
    Quarantine(QuarantineSpec),
}

impl ActionSpec {
    /// Snake-case name of the action.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook(_) => "webhook",
            Self::Exec(_) => "exec",
            Self::Email(_) => "email",
            Self::Syslog(_) => "syslog",
            Self::Firewall(_) => "firewall",
            Self::DisableAccount(_) => "disable_account",
            Self::OpenCase(_) => "open_case",
            Self::Quarantine(_) => "quarantine",
        }
    }

    /// The effect intrinsic to the action: webhooks, commands, firewall rules and account
    /// changes contain (a released firewall rule releases); mail and syslog notify; cases and
    /// quarantine recommendations record (a recommendation changes nothing on the network).
    pub fn effect(&self) -> Effect {
        match self {
            Self::Webhook(_) | Self::Exec(_) | Self::DisableAccount(_) => Effect::Contain,
            Self::Firewall(f) if f.release => Effect::Release,
            Self::Firewall(_) => Effect::Contain,
            Self::Email(_) | Self::Syslog(_) => Effect::Notify,
            Self::OpenCase(_) | Self::Quarantine(_) => Effect::Record,
        }
    }

    /// The action that undoes this one, when there is one (a firewall block is released).
    pub fn rollback(&self) -> Option<ActionSpec> {
        match self {
            Self::Firewall(f) if !f.release => Some(Self::Firewall(FirewallSpec {
                release: true,
                ..f.clone()
            })),
            _ => None,
        }
    }

    /// Checks the parameters that do not depend on the alert.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Webhook(w) => w.validate(),
            Self::Exec(e) => e.validate(),
            Self::Email(e) => {
                if e.to.is_empty() {
                    return Err("email.to must name at least one address".to_owned());
                }
                if e.to
                    .iter()
                    .any(|a| !a.contains('@') || a.contains(['\r', '\n']))
                {
                    return Err("email.to holds an address without '@'".to_owned());
                }
                Ok(())
            }
            Self::Syslog(s) => parse_target(&s.target).map(|_| ()),
            Self::Firewall(f) => f.validate(),
            Self::DisableAccount(d) => match (&d.webhook, &d.exec) {
                (Some(w), None) => w.validate(),
                (None, Some(e)) => e.validate(),
                _ => Err("disable_account needs exactly one of webhook or exec".to_owned()),
            },
            Self::OpenCase(c) => {
                if c.title.len() > 200 {
                    Err("open_case.title must be at most 200 characters".to_owned())
                } else {
                    Ok(())
                }
            }
            Self::Quarantine(_) => Ok(()),
        }
    }
}

/// `webhook = { url = "...", secret_env = "...", headers = { ... } }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// `http://` or `https://` URL; may use template variables.
    pub url: String,
    /// Environment variable holding the HMAC-SHA256 key; the body's signature goes in the
    /// `X-Ward-Signature: sha256=<hex>` header. Default: unsigned.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Extra headers (values may use template variables). Default none.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl WebhookSpec {
    fn validate(&self) -> Result<(), String> {
        let u = self.url.trim();
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err("webhook.url must start with http:// or https://".to_owned());
        }
        if let Some(e) = &self.secret_env
            && (e.is_empty() || !e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err("webhook.secret_env must be an environment variable name".to_owned());
        }
        for k in self.headers.keys() {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("webhook.headers: bad header name {k:?}"));
            }
        }
        Ok(())
    }
}

/// `exec = { program = "/usr/local/bin/isolate", args = ["--host", "{target.address}"] }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    /// Absolute path of the program (no shell, no PATH search).
    pub program: String,
    /// Arguments; template variables are replaced by values that must be plain tokens
    /// (letters, digits and `._:@/+=,-`, not starting with `-`).
    #[serde(default)]
    pub args: Vec<String>,
}

impl ExecSpec {
    fn validate(&self) -> Result<(), String> {
        if !self.program.starts_with('/') {
            return Err("exec.program must be an absolute path".to_owned());
        }
        if self.program.contains('{') {
            return Err("exec.program may not use template variables".to_owned());
        }
        if self.args.len() > 64 {
            return Err("exec.args: at most 64 arguments".to_owned());
        }
        Ok(())
    }
}

/// `email = { to = ["soc@hospital.example"], subject = "..." }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSpec {
    /// Recipients.
    pub to: Vec<String>,
    /// Subject; may use template variables. Default `ward: {alert.title}`.
    #[serde(default = "default_subject")]
    pub subject: String,
}

fn default_subject() -> String {
    "ward: {alert.title}".to_owned()
}

/// `syslog = { target = "udp://10.0.0.5:514", format = "cef" }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSpec {
    /// `udp://host:port` or `tcp://host:port` (TCP uses octet-counted framing).
    pub target: String,
    /// `rfc5424` (default) or `cef`.
    #[serde(default)]
    pub format: SyslogFormat,
}

/// A syslog message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogFormat {
    /// RFC 5424 with the alert as structured data.
    #[default]
    Rfc5424,
    /// ArcSight Common Event Format in an RFC 5424 envelope.
    Cef,
}

/// Transport of a syslog target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP datagrams.
    Udp,
    /// TCP, octet-counted.
    Tcp,
}

/// Parses `udp://host:port` or `tcp://host:port`.
pub fn parse_target(s: &str) -> Result<(Transport, String), String> {
    let (t, rest) = if let Some(r) = s.strip_prefix("udp://") {
        (Transport::Udp, r)
    } else if let Some(r) = s.strip_prefix("tcp://") {
        (Transport::Tcp, r)
    } else {
        return Err("syslog.target must be udp://host:port or tcp://host:port".to_owned());
    };
    let ok = rest
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
    if !ok {
        return Err("syslog.target must end in host:port".to_owned());
    }
    Ok((t, rest.to_owned()))
}

/// `firewall = { mode = "nftables", file = "/var/lib/ward/block.nft" }` or
/// `firewall = { mode = "command", block = [...], release = [...] }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallSpec {
    /// `nftables` (default): append the rule to `file` (or print it in a dry run); `command`:
    /// run `block_command` (or `release_command`) with the address templated in.
    #[serde(default)]
    pub mode: FirewallMode,
    /// nftables table. Default `inet ward`.
    #[serde(default = "default_table")]
    pub table: String,
    /// nftables set of blocked addresses. Default `blocked`.
    #[serde(default = "default_set")]
    pub set: String,
    /// File the nftables commands are appended to (for `nft -f`). Required in nftables mode.
    #[serde(default)]
    pub file: Option<String>,
    /// Argument vector that blocks (command mode).
    #[serde(default)]
    pub block_command: Vec<String>,
    /// Argument vector that releases (command mode).
    #[serde(default)]
    pub release_command: Vec<String>,
    /// Set on the rollback job: release instead of block. Not for playbooks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub release: bool,
}

fn default_table() -> String {
    "inet ward".to_owned()
}
fn default_set() -> String {
    "blocked".to_owned()
}

impl FirewallSpec {
    fn validate(&self) -> Result<(), String> {
        let word = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '-'))
        };
        if !word(&self.table) || !word(&self.set) {
            return Err("firewall.table and firewall.set must be plain names".to_owned());
        }
        match self.mode {
            FirewallMode::Nftables => {
                if !self.file.as_deref().is_some_and(|f| f.starts_with('/')) {
                    return Err(
                        "firewall.file must be an absolute path in nftables mode".to_owned()
                    );
                }
            }
            FirewallMode::Command => {
                for (name, v) in [
                    ("block_command", &self.block_command),
                    ("release_command", &self.release_command),
                ] {
                    if !v.first().is_some_and(|p| p.starts_with('/')) {
                        return Err(format!(
                            "firewall.{name} must start with an absolute program path"
                        ));
                    }
                }
            }
        }
        if self.release {
            return Err("firewall.release is set by ward on rollback jobs only".to_owned());
        }
        Ok(())
    }
}

/// How the firewall action is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallMode {
    /// nftables commands appended to a file.
    #[default]
    Nftables,
    /// A configured command.
    Command,
}

/// `disable_account = { webhook = { ... } }` or `{ exec = { ... } }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableAccountSpec {
    /// Through a webhook (the identity system's API).
    #[serde(default)]
    pub webhook: Option<WebhookSpec>,
    /// Through a command.
    #[serde(default)]
    pub exec: Option<ExecSpec>,
}

/// `open_case = { title = "..." }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseSpec {
    /// Case title; may use template variables. Default `{alert.title}`.
    #[serde(default = "default_case_title")]
    pub title: String,
}

fn default_case_title() -> String {
    "{alert.title}".to_owned()
}

/// `quarantine = { mode = "restrict_to_known_peers" }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineSpec {
    /// What to recommend. Default `restrict_to_known_peers`.
    #[serde(default)]
    pub mode: QuarantineMode,
}

/// A quarantine recommendation for a medical device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineMode {
    /// Allow only the peers the device profile has seen (its servers, its gateway).
    #[default]
    RestrictToKnownPeers,
    /// Leave it connected and watch it closely.
    MonitorOnly,
}

impl QuarantineMode {
    /// Snake-case name, as in playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestrictToKnownPeers => "restrict_to_known_peers",
            Self::MonitorOnly => "monitor_only",
        }
    }
}
