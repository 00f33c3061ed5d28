//! Errors of playbook loading and planning.

/// A playbook or policy that cannot be used, or a step that cannot be rendered. Messages name
/// the playbook, step and field; they never quote alert contents beyond ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespondError {
    /// The playbook file is not valid TOML or has unknown or mistyped fields.
    #[error("playbooks: {0}")]
    Parse(String),
    /// A playbook breaks a rule (empty name, duplicate step, bad timeout, ...).
    #[error("playbook {playbook:?}: {reason}")]
    Invalid {
        /// The playbook's name (or its position when unnamed).
        playbook: String,
        /// What is wrong, naming the step and field.
        reason: String,
    },
    /// A template refers to an unknown variable or renders a value an argument may not hold.
    #[error("playbook {playbook:?}, step {step:?}: {reason}")]
    Template {
        /// The playbook.
        playbook: String,
        /// The step.
        step: String,
        /// What is wrong.
        reason: String,
    },
}
