//! `ward.toml`: one file, every field documented with its default, `WARD_*` environment
//! overrides for the common ones. `ward config example` prints a complete commented file.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration. Every section and field is optional; defaults are documented.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub ingest: IngestConfig,
    pub store: StoreConfig,
    pub net: NetConfig,
    pub server: ServerConfig,
    /// EHR-snooping detection (`ward ehr detect`, `ward eval ehr`, `ward bench ehr`).
    pub ehr: ward_ehr::EhrConfig,
    /// Automated response (`ward respond`).
    pub respond: RespondConfig,
    /// Phishing detection (`ward phish`, `ward train phish`, `ward eval phish`).
    pub phish: PhishConfig,
    /// Claims fraud detection (`ward fraud`, `ward eval fraud`, `ward bench fraud`).
    pub fraud: FraudConfig,
}

/// `[fraud]`: the claim rules' settings, the flag threshold of the peer-outlier score and an
/// optional column mapping for claims in another layout.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FraudConfig {
    /// With `--outlier`, providers whose peer-outlier score reaches this are flagged. [0.5]
    pub threshold: f32,
    /// Without labels or a model, `ward fraud detect` scores with a model trained on this
    /// many simulated payers of varied parameters (`ward sim claims`), built on the spot. [4]
    pub simulated_payers: u32,
    /// The rules.
    pub rules: ward_fraud::RuleConfig,
    /// Column names of another claims layout, keyed by the contract's names
    /// (`ClaimStartDt = "from_date"`). [none]
    pub columns: ward_fraud::load::Mapping,
}

impl Default for FraudConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            simulated_payers: 4,
            rules: ward_fraud::RuleConfig::default(),
            columns: ward_fraud::load::Mapping::new(),
        }
    }
}

/// `[phish]`: what ward knows of the organisation whose mail it scores, and the bounds on one
/// message. Defaults: no own domains or executives; the department words and brands of
/// `ward_phish::Org::default()`; the limits of `ward_phish::Limits::default()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhishConfig {
    /// The organisation's own mail and web domains (look-alikes of them are flagged, display
    /// names of departments and executives are trusted only from them).
    pub domains: Vec<String>,
    /// Executives whose names lures borrow.
    pub executives: Vec<String>,
    /// Department and role words lures put in display names.
    pub departments: Vec<String>,
    /// Brands lures imitate (registrable domains).
    pub brands: Vec<String>,
    /// Bounds on one message.
    pub limits: ward_phish::Limits,
}

impl Default for PhishConfig {
    fn default() -> Self {
        let o = ward_phish::Org::default();
        Self {
            domains: o.domains,
            executives: o.executives,
            departments: o.departments,
            brands: o.brands,
            limits: ward_phish::Limits::default(),
        }
    }
}

impl PhishConfig {
    /// The organisation settings the detectors take.
    pub fn org(&self) -> ward_phish::Org {
        ward_phish::Org {
            domains: self.domains.clone(),
            executives: self.executives.clone(),
            departments: self.departments.clone(),
            brands: self.brands.clone(),
            ..ward_phish::Org::default()
        }
    }
}

/// `[respond]`: where the playbooks are, the clinical-safety policy and device classes.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RespondConfig {
    /// File of `[[playbook]]` tables (see docs/examples/playbooks.toml). Default none: no
    /// playbook runs.
    pub playbooks: Option<PathBuf>,
    /// The clinical-safety policy.
    pub safety: ward_respond::SafetyPolicy,
    /// Device classes by address or network, overriding the inventory's criticality.
    pub devices: Vec<DeviceClassRule>,
    /// How actions reach the outside world (HTTP, SMTP, syslog).
    pub actions: ward_respond::actions::ActionsConfig,
}

/// `[[respond.devices]] network = "10.3.0.0/24"  class = "life_sustaining"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceClassRule {
    /// An address or a network in CIDR form.
    pub network: String,
    /// `life_sustaining`, `life_supporting`, `diagnostic`, `clinical_support` or `non_clinical`.
    pub class: ward_respond::DeviceClass,
}

impl RespondConfig {
    /// Loads and validates the playbooks: from `over` when given, else from `playbooks`;
    /// an empty set without either.
    pub fn playbooks(&self, over: Option<&Path>) -> Result<ward_respond::PlaybookSet> {
        let Some(p) = over.or(self.playbooks.as_deref()) else {
            return Ok(ward_respond::PlaybookSet::default());
        };
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read playbooks {}", p.display()))?;
        ward_respond::PlaybookSet::from_toml(&text)
            .with_context(|| format!("invalid playbooks {}", p.display()))
    }

    /// The action executors of `[respond.actions]`.
    pub fn actions(&self) -> Result<ward_respond::actions::Actions> {
        ward_respond::actions::Actions::new(self.actions.clone())
            .map_err(|e| anyhow::anyhow!("invalid configuration: respond.actions: {}", e.0))
    }

    /// Checks the policy and the device rules.
    pub fn validate(&self) -> Result<()> {
        self.safety
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        self.actions
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: respond.actions: {}", e.0))?;
        for r in &self.devices {
            ward_detect::device::Cidr::parse(&r.network).map_err(|e| {
                anyhow::anyhow!(
                    "invalid configuration: respond.devices {:?}: {e}",
                    r.network
                )
            })?;
        }
        Ok(())
    }

    /// The class of `address`: the most specific matching rule, else the inventory's
    /// criticality (`inventory`), else unknown.
    pub fn class_of(&self, address: &str, inventory: Option<&str>) -> ward_respond::DeviceClass {
        let ip: Option<std::net::IpAddr> = address.parse().ok();
        let mut best: Option<(u8, ward_respond::DeviceClass)> = None;
        if let Some(ip) = ip {
            for r in &self.devices {
                if let Ok(c) = ward_detect::device::Cidr::parse(&r.network)
                    && c.contains(ip)
                    && best.is_none_or(|(p, _)| c.prefix() > p)
                {
                    best = Some((c.prefix(), r.class));
                }
            }
        }
        best.map(|b| b.1)
            .or_else(|| inventory.map(ward_respond::DeviceClass::from_inventory))
            .unwrap_or_default()
    }
}

/// `ward serve` and `ward demo` (`[server]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A browser session ends after this many minutes without a request. Default 30.
    pub session_idle_minutes: u64,
    /// A browser session ends this many hours after sign-in. Default 12.
    pub session_max_hours: u64,
    /// Mark the session cookie `Secure` (only when a TLS proxy fronts ward). Default false.
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let d = ward_server::ServerOptions::default();
        Self {
            session_idle_minutes: d.session_idle.as_secs() / 60,
            session_max_hours: d.session_max.as_secs() / 3600,
            secure_cookies: d.secure_cookies,
        }
    }
}

impl ServerConfig {
    /// The server's options; an error for a zero or absurd duration.
    pub fn options(&self) -> Result<ward_server::ServerOptions> {
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            anyhow::bail!("server.session_idle_minutes must be 1 to 1440");
        }
        if !(1..=24 * 30).contains(&self.session_max_hours) {
            anyhow::bail!("server.session_max_hours must be 1 to 720");
        }
        Ok(ward_server::ServerOptions {
            session_idle: std::time::Duration::from_secs(self.session_idle_minutes * 60),
            session_max: std::time::Duration::from_secs(self.session_max_hours * 3600),
            secure_cookies: self.secure_cookies,
        })
    }
}

/// The network detector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetConfig {
    /// Training parameters for `ward train net` and `ward eval net` (flags override them).
    pub train: ward_detect::net::NetTrainConfig,
}

/// How inputs are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Column mapping for `--format csv` (no default: required for that format).
    pub csv: Option<ward_ingest::CsvMapping>,
    /// Flow assembly from packet captures.
    pub pcap: PcapConfig,
}

/// Flow assembly from packet captures (`[ingest.pcap]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PcapConfig {
    /// A flow ends after this many seconds without packets. Default 120.
    pub idle_timeout_secs: f64,
    /// A long flow is cut and emitted after this many seconds. Default 1800.
    pub active_timeout_secs: f64,
    /// Most flows tracked at once; the least recently active is ended early when full. Default 1,000,000.
    pub max_flows: usize,
}

impl Default for PcapConfig {
    fn default() -> Self {
        let d = ward_ingest::PcapOptions::default();
        Self {
            idle_timeout_secs: d.idle_timeout_secs,
            active_timeout_secs: d.active_timeout_secs,
            max_flows: d.max_flows,
        }
    }
}

impl PcapConfig {
    pub fn options(&self) -> ward_ingest::PcapOptions {
        ward_ingest::PcapOptions {
            idle_timeout_secs: self.idle_timeout_secs,
            active_timeout_secs: self.active_timeout_secs,
            max_flows: self.max_flows,
        }
    }
}

/// Where alerts and the device inventory are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file. Default: `ward.db`. Environment: `WARD_STORE_PATH`.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("ward.db"),
        }
    }
}

impl Config {
    /// Loads `path` if given (an error if it cannot be read or has unknown keys), else
    /// `./ward.toml` if it exists, else defaults; then applies `WARD_*` overrides.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let mut cfg = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new("ward.toml").is_file() => Self::from_file(Path::new("ward.toml"))?,
            None => Self::default(),
        };
        if let Ok(p) = std::env::var("WARD_STORE_PATH") {
            cfg.store.path = PathBuf::from(p);
        }
        cfg.net
            .train
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        cfg.server.options().context("invalid configuration")?;
        cfg.ehr
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        cfg.respond.validate()?;
        Ok(cfg)
    }

    fn from_file(p: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read config {}", p.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config {}", p.display()))
    }
}

/// A complete, commented example configuration with every default spelled out.
pub const EXAMPLE: &str = r#"# ward.toml — every field is optional; the values shown are the defaults. A table that names
# only some keys changes only those. Device profiling ([net.train.device]), logistic regression
# ([net.train.logreg]) and the remaining model fields keep their defaults when absent; each is
# documented where it is declared (NetTrainConfig and the types it holds).
# Environment overrides: WARD_STORE_PATH.

[store]
# SQLite file holding alerts and the device inventory.
path = "ward.db"

[server]
# A browser session ends after this many minutes without a request (1 to 1440).
session_idle_minutes = 30
# A browser session ends this many hours after sign-in, however active (1 to 720).
session_max_hours = 12
# Mark the session cookie Secure: turn on when a TLS proxy serves ward over HTTPS.
secure_cookies = false

[ehr.explain]
# When an access counts as clinically explained (an encounter in the user's department, the
# user attending, the care team, a recent encounter, or a repeat of an explained access).
department_before_hours = 24.0
department_after_days = 3.0
attending_before_hours = 24.0
attending_after_days = 14.0
care_team_slack_hours = 24.0
recent_days = 30.0
repeat_days = 30.0
repeat_before_days = 7.0

[ehr.signals]
# Thresholds of the per-access signals (see crates/ehr/README.md).
deceased_grace_hours = 24.0
break_glass_before_hours = 12.0
break_glass_after_hours = 24.0
off_hours_min_days = 2
off_hours_max_share = 0.2
family_common_share = 0.005
family_common_min = 20
volume_z = 3.5
volume_min_distinct = 10
volume_self_factor = 2.0
volume_self_min_days = 2
min_peers = 5
repeat_min_days = 2
unexplained_z = 3.5
unexplained_min = 5
community_window_days = 365.0
no_encounter_days = 7.0

[ehr.score]
# The learned risk score and the alert budget.
laplace = 1.0
snoop_signal_rate = 0.5
explained_discount = 2.0
max_weight = 8.0
strong_min_weight = 3.0
# Share of each budget window's accesses that may be flagged (the daily alert budget).
daily_budget_share = 0.005
# Budget window in days (1 = daily).
budget_days = 1
daily_min_accesses = 5
# Most cases per day; 0 = no limit.
max_cases_per_day = 0
min_score = -20.0

[respond]
# File of [[playbook]] tables (a complete example: docs/examples/playbooks.toml). No default:
# without it no playbook runs.
# playbooks = "playbooks.toml"

[respond.safety]
# Roles whose approval lets an isolating or disruptive step touch a life-sustaining or
# life-supporting device. No playbook can bypass this.
clinical_roles = ["clinical_engineer"]
# A clinical approval not given within this many minutes expires, and nothing is done.
clinical_timeout_minutes = 30
# Class assumed for devices neither the inventory nor [[respond.devices]] classes
# ("unknown" is treated like non_clinical; "life_supporting" makes every unclassed host need
# a clinical approval before it is contained).
unknown_as = "unknown"

[respond.actions]
# Seconds an attempt may take when its step does not say.
default_timeout_secs = 10
# At most this many bytes of a webhook answer are read.
max_response_bytes = 65536
# Syslog facility of forwarded alerts (16 = local0).
syslog_facility = 16
# HTTP proxy for webhooks (no default: direct; HTTP_PROXY variables are ignored).
# http_proxy = "http://proxy.hospital.example:3128"
# Host name in syslog headers and mail (default: the system's).
# hostname = "ward-1"

[respond.actions.smtp]
host = "localhost"
port = 25
from = "ward@localhost"
# opportunistic: STARTTLS when the server offers it; required; never.
starttls = "opportunistic"
# SMTP AUTH (needs starttls = "required"); the password comes from this environment variable.
# username = "ward"
# password_env = "WARD_SMTP_PASSWORD"

# Device classes by address or network, overriding the inventory (no default):
# [[respond.devices]]
# network = "10.3.0.0/24"
# class = "life_sustaining"    # life_sustaining, life_supporting, diagnostic, clinical_support, non_clinical

[ingest.pcap]
# A flow ends after this many seconds without packets.
idle_timeout_secs = 120.0
# A long flow is cut and emitted after this many seconds.
active_timeout_secs = 1800.0
# Most flows tracked at once; the oldest is emitted early when full.
max_flows = 1000000

[net.train]
# Train the supervised attack model when the data carries labels of both classes.
supervised = true
# Also train an attack-family model (needs at least two labelled families).
families = true
# Most labelled rows the supervised models train on; beyond it every attack row is kept and
# benign rows are evenly subsampled and weighted back up.
supervised_max_rows = 150000
# Supervised attack model: "gbdt" (boosted trees) or "logreg" (logistic regression).
supervised_model = "gbdt"
# Calibrate the attack probability on 10% held-out rows: "none", "platt" or "isotonic".
calibration = "none"
# Attack-probability threshold of the supervised model.
threshold = 0.5
# Unsupervised model trained on benign rows: "both" (KitNET and Isolation Forest),
# "kitnet", "iforest" or "none".
anomaly = "both"
# Passes over the benign rows when training KitNET in batch.
kitnet_epochs = 10
# Share of held-out benign flows the anomaly models may flag together (1 - this quantile);
# with two models each flags at half of it.
anomaly_quantile = 0.999
# Most benign rows the anomaly model trains on.
anomaly_max_rows = 60000
# Learn medical-device behaviour profiles from benign training flows that carry addresses.
devices = true
# Let the anomaly model's verdict count as "attack" in the fused decision.
fuse_anomaly = true
# Seed for every model: the same data, parameters and seed give a bit-identical model.
seed = 0

[net.train.gbdt]
# Gradient-boosted trees of the attack model (unset fields take the GBDT defaults).
n_rounds = 300
learning_rate = 0.1
max_leaves = 31
max_depth = 6
min_samples_leaf = 20
l2 = 1.0
max_bins = 255
subsample = 1.0
colsample = 1.0

[net.train.family_gbdt]
# Gradient-boosted trees of the attack-family model (one tree per family per round).
n_rounds = 400
learning_rate = 0.05
max_depth = 6
class_weight = "sqrt_balanced"
# Stop early when the loss on this share of the rows stops improving.
validation_fraction = 0.1

[net.train.context]
# Traffic-context features for sources with timestamps and addresses.
min_share = 0.9
lambdas = [5.0, 1.0, 0.1, 0.01]
host_capacity = 100000
channel_capacity = 200000
socket_capacity = 200000

[net.train.kitnet]
# KitNET autoencoder ensemble (Kitsune, NDSS 2018).
max_group = 10
hidden_ratio = 0.5
learning_rate = 0.1

[net.train.iforest]
n_trees = 100
sample_size = 256

[phish]
# The organisation's own mail and web domains: their look-alikes are flagged, and department
# or executive names in a sender's display name are trusted only from them.
domains = []
# Executives whose names lures borrow ("Jane Doe").
executives = []
# Department and role words lures put in display names.
departments = [
    "help desk", "helpdesk", "it support", "it department", "it dept", "service desk",
    "payroll", "human resources", "hr department", "administrator", "webmaster",
    "security team", "billing", "accounts payable", "benefits", "mail admin", "postmaster"
]
# Brands lures imitate (registrable domains): EHR vendors, patient portals, payers,
# pharmacies, mail, document, payment and delivery services.
brands = [
    "epic.com", "mychart.com", "cerner.com", "oracle.com", "athenahealth.com",
    "allscripts.com", "meditech.com", "nextgen.com", "followmyhealth.com",
    "unitedhealthcare.com", "uhc.com", "optum.com", "aetna.com", "cigna.com", "anthem.com",
    "humana.com", "bcbs.com", "kaiserpermanente.org", "medicare.gov", "cms.gov", "cvs.com",
    "walgreens.com", "express-scripts.com", "riteaid.com", "microsoft.com", "office.com",
    "outlook.com", "office365.com", "sharepoint.com", "onedrive.com", "docusign.com",
    "dropbox.com", "adobe.com", "google.com", "apple.com", "paypal.com", "amazon.com",
    "chase.com", "wellsfargo.com", "bankofamerica.com", "usaa.com", "irs.gov", "fedex.com",
    "ups.com", "dhl.com"
]

[phish.limits]
# Largest message read (bytes); a larger one is "unparseable".
max_bytes = 52428800
# Most header lines, MIME parts; past them a message is "unparseable".
max_headers = 2000
max_parts = 2000
# Characters of text kept for scoring, links kept.
max_text = 262144
max_links = 1000

[fraud]
# With --outlier, providers whose peer-outlier score reaches this are flagged.
threshold = 0.5
# Without labels or a model, fraud detect scores with a model trained on this many simulated
# payers of varied parameters, built on the spot (a few seconds).
simulated_payers = 4

[fraud.rules]
# Minutes of the attending physician an outpatient claim stands for, plus per procedure code;
# an inpatient claim on its first day. A physician over day_minutes in one day is flagged.
outpatient_minutes = 15
procedure_minutes = 30
inpatient_minutes = 30
day_minutes = 1440
# Procedure-code pairs (comprehensive, component) that must not share a claim: a stand-in;
# load the payer's edit list here.
unbundling = [
    ["8154", "8026"], ["8154", "806"], ["8154", "8086"], ["8151", "7785"], ["3723", "3721"],
    ["3723", "3722"], ["4523", "4524"], ["4516", "4513"], ["4443", "4513"], ["5123", "5421"]
]
# A claim reimbursed at this multiple of the peer median of its code is over; a provider with
# min_provider_claims such claims is flagged (codes with min_peer_claims claims).
overbilling_ratio = 3.0
min_peer_claims = 30
min_provider_claims = 3
# One beneficiary seen the same day by providers this far apart (state centroids, km).
far_km = 800.0
# This many new providers for one beneficiary within burst_days is a burst.
burst_providers = 5
burst_days = 30
# Claims remembered per beneficiary for duplicates, overlapping stays and same-day visits, and
# providers remembered per beneficiary (with the day first seen) for bursts.
bene_memory = 48
bene_providers = 32
# The moving horizon in days behind the latest day of service: older days are closed (their
# impossible-day check made) and older remembered claims forgotten, so memory does not grow
# with the length of the claims stream. A claim for a closed day is counted as late. Claims
# spanning less than this are exact in any order.
day_horizon = 450
# Findings kept per provider and rule to explain its alert (counts stay exact).
examples = 5

# Column names of another claims layout, keyed by the contract's names (no default):
# [fraud.columns]
# ClaimStartDt = "from_date"
# InscClaimAmtReimbursed = "paid"

# Column mapping for `--format csv` (no default). Example for a flow export:
# [ingest.csv]
# src = "src_ip"
# dst = "dst_ip"
# dst_port = "dst_port"
# proto = "protocol"
# src_bytes = "bytes_out"
# dst_bytes = "bytes_in"
# label = "label"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_and_unknown_keys_are_rejected() {
        let cfg: Config = toml::from_str(EXAMPLE).expect("example config parses");
        assert_eq!(cfg.store.path, PathBuf::from("ward.db"));
        // the example documents the real defaults
        assert_eq!(cfg.net.train, ward_detect::net::NetTrainConfig::default());
        assert_eq!(cfg.ingest.pcap.max_flows, PcapConfig::default().max_flows);
        assert_eq!(cfg.server, ServerConfig::default());
        assert_eq!(cfg.ehr, ward_ehr::EhrConfig::default());
        assert_eq!(cfg.respond, RespondConfig::default());
        assert_eq!(cfg.phish, PhishConfig::default());
        assert_eq!(cfg.fraud, FraudConfig::default());
        let r: Config = toml::from_str(
            "[[respond.devices]]\nnetwork = \"10.3.0.0/16\"\nclass = \"life_supporting\"\n\
             [[respond.devices]]\nnetwork = \"10.3.0.5\"\nclass = \"life_sustaining\"\n",
        )
        .expect("parses");
        r.respond.validate().expect("valid");
        use ward_respond::DeviceClass as C;
        assert_eq!(
            r.respond.class_of("10.3.0.5", Some("business")),
            C::LifeSustaining
        );
        assert_eq!(r.respond.class_of("10.3.9.9", None), C::LifeSupporting);
        assert_eq!(
            r.respond.class_of("10.4.0.1", Some("clinical")),
            C::ClinicalSupport
        );
        assert_eq!(r.respond.class_of("not-an-ip", None), C::Unknown);
        let bad: Config = toml::from_str(
            "[[respond.devices]]\nnetwork = \"10.0.0.0/99\"\nclass = \"diagnostic\"\n",
        )
        .expect("parses");
        assert!(bad.respond.validate().is_err());
        assert!(toml::from_str::<Config>("[ehr.score]\nbudget = 1\n").is_err());
        assert_eq!(
            cfg.server.options().expect("valid"),
            ward_server::ServerOptions::default()
        );
        let zero: Config = toml::from_str("[server]\nsession_idle_minutes = 0\n").expect("parses");
        assert!(zero.server.options().is_err());
        assert!(toml::from_str::<Config>("[store]\npaht = \"x\"\n").is_err());
    }
}
