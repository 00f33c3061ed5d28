//! The clinical-safety gate: no isolating or disruptive action against a device that keeps a
//! patient alive runs without a human approval from a clinical role, whatever a playbook says.
//!
//! The gate is a pure function of the step's effect, the target's device class, the playbook's
//! own approval and the policy. The effect of a step is derived from its action, never taken on
//! the playbook's word for actions that can disrupt (see [`crate::ActionSpec::effect`]).

use serde::{Deserialize, Serialize};

/// How much patient safety depends on a device (the inventory's criticality, or configuration).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// Not known: neither the inventory nor the configuration classes it.
    #[default]
    Unknown,
    /// No clinical role (office PCs, business servers).
    NonClinical,
    /// Supports clinical work without touching patients (EHR workstations, lab systems).
    ClinicalSupport,
    /// Diagnostic devices (imaging modalities, analysers).
    Diagnostic,
    /// Supports life (patient monitors, infusion pumps for non-critical drugs).
    LifeSupporting,
    /// Sustains life (ventilators, dialysis, critical infusions).
    LifeSustaining,
}

impl DeviceClass {
    /// Every class, least critical first.
    pub const ALL: [Self; 6] = [
        Self::Unknown,
        Self::NonClinical,
        Self::ClinicalSupport,
        Self::Diagnostic,
        Self::LifeSupporting,
        Self::LifeSustaining,
    ];

    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::NonClinical => "non_clinical",
            Self::ClinicalSupport => "clinical_support",
            Self::Diagnostic => "diagnostic",
            Self::LifeSupporting => "life_supporting",
            Self::LifeSustaining => "life_sustaining",
        }
    }

    /// The class of a device-inventory criticality string: the five classes by name, and the
    /// network detector's coarser names (`business` is non-clinical, `clinical` is clinical
    /// support). Anything else is unknown.
    pub fn from_inventory(s: &str) -> Self {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "life_sustaining" => Self::LifeSustaining,
            "life_supporting" => Self::LifeSupporting,
            "diagnostic" => Self::Diagnostic,
            "clinical_support" | "clinical" => Self::ClinicalSupport,
            "non_clinical" | "business" => Self::NonClinical,
            _ => Self::Unknown,
        }
    }

    /// Life-sustaining or life-supporting: disruptive actions need a clinical approval.
    pub fn is_life_critical(self) -> bool {
        matches!(self, Self::LifeSustaining | Self::LifeSupporting)
    }
}

impl std::str::FromStr for DeviceClass {
    type Err = String;
    /// Exactly one of the snake-case names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown device class {:?}: expected one of {}",
                    s.chars().take(40).collect::<String>(),
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// What a step does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Tells people (mail, syslog, a notification webhook): the target is not touched.
    Notify,
    /// Records something in ward (a case, a quarantine recommendation).
    Record,
    /// Isolates, blocks, disables or otherwise disrupts the target.
    Contain,
    /// Undoes a containment (releases an isolation).
    Release,
}

impl Effect {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notify => "notify",
            Self::Record => "record",
            Self::Contain => "contain",
            Self::Release => "release",
        }
    }

    /// Whether the effect can disrupt the target (contain, and release, which changes a
    /// device's network state too).
    pub fn is_disruptive(self) -> bool {
        matches!(self, Self::Contain | Self::Release)
    }
}

/// The clinical-safety policy (`[respond.safety]` in ward.toml). Every field has a default;
/// unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SafetyPolicy {
    /// Roles whose approval lets a disruptive action touch a life-sustaining or life-supporting
    /// device. Default `["clinical_engineer"]`.
    pub clinical_roles: Vec<String>,
    /// Minutes a clinical approval may stay pending before it expires (the device is left
    /// untouched). Default 30.
    pub clinical_timeout_minutes: u32,
    /// Class assumed for a device the inventory and configuration do not class. Default
    /// `unknown`, which the gate treats like `non_clinical`; set `life_supporting` to make
    /// every unclassed host need a clinical approval.
    pub unknown_as: DeviceClass,
}

impl Default for SafetyPolicy {
    fn default() -> Self {
        Self {
            clinical_roles: vec!["clinical_engineer".to_owned()],
            clinical_timeout_minutes: 30,
            unknown_as: DeviceClass::Unknown,
        }
    }
}

impl SafetyPolicy {
    /// Checks the policy.
    pub fn validate(&self) -> Result<(), String> {
        if self.clinical_roles.is_empty() || self.clinical_roles.iter().any(|r| r.trim().is_empty())
        {
            return Err("respond.safety.clinical_roles must name at least one role".to_owned());
        }
        if !(1..=7 * 24 * 60).contains(&self.clinical_timeout_minutes) {
            return Err(
                "respond.safety.clinical_timeout_minutes must be between 1 and 10080".to_owned(),
            );
        }
        Ok(())
    }
}

/// What the playbook itself asks for a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Roles that may approve (any one of them).
    pub roles: Vec<String>,
    /// Minutes before the request expires. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_minutes: u32,
    /// What an expired request means: `nothing` (default: the step does not run) or `proceed`
    /// (it runs; never honoured where the clinical gate applies).
    #[serde(default)]
    pub on_timeout: OnTimeout,
}

fn default_timeout() -> u32 {
    30
}

/// What an expired approval means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// The step does not run (default).
    #[default]
    Nothing,
    /// The step runs as if approved.
    Proceed,
}

/// The gate's answer for one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Gate {
    /// Runs now.
    Run,
    /// Waits for one of `roles` to approve; after `timeout_minutes`, `on_timeout` applies.
    Approve {
        /// Roles that may approve.
        roles: Vec<String>,
        /// Minutes before the request expires.
        timeout_minutes: u32,
        /// What expiry means.
        on_timeout: OnTimeout,
        /// True when the clinical-safety rule (not only the playbook) requires it.
        clinical: bool,
        /// Why, in a sentence.
        reason: String,
    },
}

/// The gate: a disruptive step against a life-sustaining or life-supporting device needs an
/// approval from a clinical role, expiring to *nothing*, whatever the playbook says (its own
/// approval roles are replaced by the clinical ones, and `on_timeout = "proceed"` is ignored);
/// otherwise the playbook's approval, if any, applies.
pub fn gate(
    effect: Effect,
    class: DeviceClass,
    asked: Option<&Approval>,
    policy: &SafetyPolicy,
) -> Gate {
    let class = if class == DeviceClass::Unknown {
        policy.unknown_as
    } else {
        class
    };
    if effect.is_disruptive() && class.is_life_critical() {
        let timeout = asked.map_or(policy.clinical_timeout_minutes, |a| {
            a.timeout_minutes.min(policy.clinical_timeout_minutes)
        });
        return Gate::Approve {
            roles: policy.clinical_roles.clone(),
            timeout_minutes: timeout.max(1),
            on_timeout: OnTimeout::Nothing,
            clinical: true,
            reason: format!(
                "a {} action against a {} device needs the approval of a clinical role",
                effect.as_str(),
                class.as_str().replace('_', "-")
            ),
        };
    }
    match asked {
        Some(a) => Gate::Approve {
            roles: a.roles.clone(),
            timeout_minutes: a.timeout_minutes.max(1),
            on_timeout: a.on_timeout,
            clinical: false,
            reason: "the playbook asks for an approval".to_owned(),
        },
        None => Gate::Run,
    }
}
