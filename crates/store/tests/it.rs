//! ward-store integration tests: the conformance suite against SQLite, SQLite-specific
//! behaviour (files, migrations, damage), the audit trail and users on a file, and an ignored
//! measurement.

#[path = "it/audit.rs"]
mod audit;
#[path = "it/bench.rs"]
mod bench;
#[path = "it/sqlite.rs"]
mod sqlite;
#[path = "it/users.rs"]
mod users;
