//! ward-respond integration tests: one binary, modules per area.

mod it {
    pub mod actions;
    pub mod engine;
    pub mod gate;
    pub mod playbook;
    pub mod template;
}
