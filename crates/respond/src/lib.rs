//! Automated incident response for ward: playbooks, the clinical-safety gate, approvals and
//! actions.
//!
//! Data flows one way: an alert and what is known of its target ([`Target`]: the device class
//! from the inventory and configuration) go to [`plan::plan`], which matches the playbooks
//! ([`playbook`]), renders each step's parameters from the alert ([`template`]), asks the
//! clinical-safety gate ([`safety::gate`]) whether the step may run, needs an approval or must
//! never run, and gives each step an idempotency key. Planning is pure: no IO, no clock (the
//! caller passes the time). Executing a step is the job of an [`action::Executor`]; the durable
//! queue, retries and approvals live in the store and the binary.

pub mod action;
pub mod actions;
pub mod engine;
pub mod error;
pub mod plan;
pub mod playbook;
pub mod safety;
pub mod template;

pub use action::{ActionContext, ActionError, Executor, Outcome};
pub use error::RespondError;
pub use plan::{Decision, PlannedStep, Target, plan};
pub use playbook::{ActionSpec, Playbook, PlaybookSet, Step};
pub use safety::{DeviceClass, Effect, SafetyPolicy};
