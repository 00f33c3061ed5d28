//! ward-store integration tests: the conformance suite against SQLite, SQLite-specific
//! behaviour (files, migrations, damage), and an ignored measurement.

#[path = "it/audit.rs"]
mod audit;
#[path = "it/bench.rs"]
mod bench;
#[path = "it/sqlite.rs"]
mod sqlite;
