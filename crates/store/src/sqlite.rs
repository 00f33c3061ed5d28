//! The embedded backend: one SQLite file (rusqlite, bundled SQLite), WAL journal.

use crate::audit::{AuditEntry, AuditVerification};
use crate::auth::{ApiToken, Role, User};
use crate::ehr::{
    EhrImport, EhrImportCounts, EhrPerson, EhrTimeline, EhrUserQuery, EhrUserSummary, PersonKind,
};
use crate::respond::{Attempt, Decided, Job, JobQuery, NewJob, Verdict};
use crate::sqlite_ehr as ehr;
use crate::sqlite_users as users;
use crate::sqlite_workflow as workflow;
use crate::workflow::{AlertStats, AuditRecord, Case, CaseStatus, Session};
use crate::{
    AlertQuery, AlertSort, AlertState, AlertStatus, DeviceRecord, RawAlert, Store, StoreError,
    validate_alert, validate_state,
};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params, params_from_iter};
use std::path::Path;
use std::time::Duration;
use ward_core::{Alert, Severity, Timestamp};

/// Schema migrations, in order: step `i` takes the database from `PRAGMA user_version = i` to
/// `i + 1`. Append new steps; never edit or reorder released ones.
///
/// - v1: `alerts` (the filterable columns, kept narrow so scans stay fast) with its list
///   indexes, and `alert_bodies` (the full alert JSON, read only for the rows returned).
/// - v2: alert workflow columns `status` (default `open`) and `assignee`, and their index.
/// - v3: the `devices` inventory.
/// - v4: the hash-chained `audit_log` (see [`crate::audit`]), with triggers that refuse
///   `UPDATE` and `DELETE` so ward itself can only append.
/// - v5: `users` (Argon2id PHC password hashes) and `api_tokens` (SHA-256 of each token only).
/// - v6: browser `sessions` (SHA-256 of the cookie secret only), `cases` and `case_alerts`,
///   and an index on the audit trail's `target` for an alert's history.
/// - v7: EHR-snooping cases for the privacy view (see [`crate::ehr`]): `ehr_cases` (keyed by
///   the id of the alert raised for the case), `ehr_accesses` (the flagged accesses of each
///   case with their reasons as JSON) and `ehr_people` (display names of the users and
///   patients in stored cases only).
pub const MIGRATIONS: &[&str] = &[
    // v1
    "CREATE TABLE alerts (
        seq      INTEGER PRIMARY KEY,
        id       TEXT    NOT NULL UNIQUE,
        time     INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        score    INTEGER NOT NULL,
        detector TEXT    NOT NULL,
        entity   TEXT    NOT NULL,
        title    TEXT    NOT NULL
    );
    CREATE TABLE alert_bodies (
        seq  INTEGER PRIMARY KEY REFERENCES alerts (seq),
        body TEXT    NOT NULL
    );
    CREATE INDEX alerts_time          ON alerts (time, id);
    CREATE INDEX alerts_score_time    ON alerts (score, time, id);
    CREATE INDEX alerts_entity_time   ON alerts (entity, time, id);
    CREATE INDEX alerts_detector_time ON alerts (detector, time, id);",
    // v2
    "ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE alerts ADD COLUMN assignee TEXT;
    CREATE INDEX alerts_status_time ON alerts (status, time, id);",
    // v3
    "CREATE TABLE devices (
        address     TEXT    NOT NULL PRIMARY KEY,
        role        TEXT    NOT NULL,
        criticality TEXT    NOT NULL,
        first_seen  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        body        TEXT    NOT NULL
    );",
    // v4
    "CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY,
        time      INTEGER NOT NULL,
        actor     TEXT    NOT NULL,
        action    TEXT    NOT NULL,
        target    TEXT    NOT NULL,
        details   TEXT    NOT NULL,
        prev_hash TEXT    NOT NULL,
        hash      TEXT    NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // v5
    "CREATE TABLE users (
        name          TEXT    NOT NULL PRIMARY KEY,
        role          TEXT    NOT NULL,
        password_hash TEXT    NOT NULL,
        created       INTEGER NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE api_tokens (
        id        INTEGER PRIMARY KEY,
        user      TEXT    NOT NULL REFERENCES users (name),
        hash      TEXT    NOT NULL UNIQUE,
        created   INTEGER NOT NULL,
        last_used INTEGER,
        revoked   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX api_tokens_user ON api_tokens (user, id);",
    // v6
    "CREATE TABLE sessions (
        hash      TEXT    NOT NULL PRIMARY KEY,
        user      TEXT    NOT NULL REFERENCES users (name),
        csrf      TEXT    NOT NULL,
        created   INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user);
    CREATE TABLE cases (
        id          INTEGER PRIMARY KEY,
        title       TEXT    NOT NULL,
        description TEXT    NOT NULL,
        status      TEXT    NOT NULL DEFAULT 'open',
        created     INTEGER NOT NULL,
        created_by  TEXT    NOT NULL,
        updated     INTEGER NOT NULL
    );
    CREATE TABLE case_alerts (
        case_id   INTEGER NOT NULL REFERENCES cases (id),
        alert_seq INTEGER NOT NULL REFERENCES alerts (seq),
        PRIMARY KEY (case_id, alert_seq)
    ) WITHOUT ROWID;
    CREATE INDEX case_alerts_alert ON case_alerts (alert_seq);
    CREATE INDEX audit_log_target ON audit_log (target, seq);",
    // v7
    "CREATE TABLE ehr_cases (
        id       TEXT    NOT NULL PRIMARY KEY,
        user_id  TEXT    NOT NULL,
        day      INTEGER NOT NULL,
        first    INTEGER NOT NULL,
        last     INTEGER NOT NULL,
        score    REAL    NOT NULL,
        patients INTEGER NOT NULL,
        signals  TEXT    NOT NULL,
        summary  TEXT    NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX ehr_cases_user ON ehr_cases (user_id, first);
    CREATE TABLE ehr_accesses (
        case_id    TEXT    NOT NULL REFERENCES ehr_cases (id),
        row        INTEGER NOT NULL,
        time       INTEGER NOT NULL,
        user_id    TEXT    NOT NULL,
        patient_id TEXT    NOT NULL,
        action     TEXT    NOT NULL,
        score      REAL    NOT NULL,
        link       TEXT    NOT NULL,
        reasons    TEXT    NOT NULL,
        PRIMARY KEY (case_id, row)
    ) WITHOUT ROWID;
    CREATE INDEX ehr_accesses_user_time ON ehr_accesses (user_id, time, row);
    CREATE TABLE ehr_people (
        kind       TEXT NOT NULL,
        id         TEXT NOT NULL,
        name       TEXT NOT NULL,
        role       TEXT,
        department TEXT,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;",
    // 7 -> 8: the durable response queue
    "CREATE TABLE response_jobs (
        id           INTEGER PRIMARY KEY,
        key          TEXT    NOT NULL UNIQUE,
        alert_id     TEXT    NOT NULL,
        playbook     TEXT    NOT NULL,
        step         TEXT    NOT NULL,
        entity       TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        action       TEXT    NOT NULL,
        effect       TEXT    NOT NULL,
        state        TEXT    NOT NULL,
        approval     TEXT,
        expires_at   INTEGER,
        attempts     INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        timeout_secs INTEGER NOT NULL,
        next_at      INTEGER NOT NULL,
        lease_until  INTEGER,
        result       TEXT,
        rollback_of  INTEGER,
        created      INTEGER NOT NULL,
        updated      INTEGER NOT NULL
    );
    CREATE INDEX response_jobs_due ON response_jobs (state, next_at);
    CREATE INDEX response_jobs_alert ON response_jobs (alert_id);
    CREATE INDEX response_jobs_runs ON response_jobs (playbook, entity, created);
    CREATE INDEX response_jobs_rate ON response_jobs (playbook, created);
    CREATE TABLE cursors (
        name  TEXT    PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;",
];

/// How long a writer waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest accepted device address, in bytes.
const MAX_ADDRESS_LEN: usize = 256;

/// The SQLite store. Open one per process; it is `Send`, so it can live on a blocking thread.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Connection,
    pub(crate) location: String,
}

impl SqliteStore {
    /// Opens (creating if missing) the store at `path`, sets WAL mode, `synchronous=NORMAL` and
    /// a 5 s busy timeout, and migrates the schema to the latest version. The parent directory
    /// must exist. Errors name the path: not a database, corrupt, schema from a newer ward.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let location = path.display().to_string();
        // No SQLITE_OPEN_URI: a path is a path, never a `file:` URI with options.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let existed = path.exists();
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| open_error(&location, e))?;
        if !existed {
            restrict_permissions(path);
        }
        Self::init(conn, location, true)
    }

    /// A read-only handle on an existing store (for the server's pool of readers): no
    /// migration, `query_only` set, so every write fails. The schema must already be at this
    /// build's version (open it read-write once first); WAL lets it read while a writer writes.
    pub fn open_reader(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let location = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| open_error(&location, e))?;
        let oe = |e| open_error(&location, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(oe)?;
        conn.pragma_update(None, "query_only", true).map_err(oe)?;
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(oe)?;
        conn.set_prepared_statement_cache_capacity(64);
        let store = Self { conn, location };
        let found = store.schema_version()?;
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::SchemaTooNew {
                location: store.location,
                found,
                supported,
            });
        }
        if found < supported {
            return Err(StoreError::Open {
                location: store.location,
                source: format!(
                    "schema version {found} needs migrating to {supported}: open the store read-write first"
                )
                .into(),
            });
        }
        Ok(store)
    }

    /// A private in-memory store (for tests and `ward demo`); gone when dropped.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let location = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|e| open_error(&location, e))?;
        Self::init(conn, location, false)
    }

    fn init(conn: Connection, location: String, file: bool) -> Result<Self, StoreError> {
        let oe = |e| open_error(&location, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(oe)?;
        // Reading the schema first turns "not a database" and a damaged first page into an
        // error here, with the path, rather than at the first query.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(oe)?;
        if file {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(oe)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Open {
                    location,
                    source: format!("cannot switch the journal to WAL (got {mode})").into(),
                });
            }
        }
        // 64 MiB page cache (the default is 2 MiB): index inserts into a store of a million
        // alerts touch pages all over the indexes.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(oe)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(oe)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Self { conn, location };
        store.migrate()?;
        // Keep planner statistics fresh enough; bounded work (analysis_limit) even on big files.
        store
            .conn
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

    /// The path this store was opened at (`:memory:` for an in-memory store).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The schema version of the open database (`MIGRATIONS.len()` after a successful open).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Runs SQLite's `quick_check` over the whole file (O(size): for `ward store check`, not
    /// for every open). A damaged file gives [`StoreError::Corrupt`] with the first problems.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA quick_check(5)")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut problems = Vec::new();
        for row in rows {
            problems.push(row.map_err(|e| self.err(e))?);
        }
        if problems.len() == 1 && problems.first().is_some_and(|p| p == "ok") {
            return Ok(());
        }
        Err(StoreError::Corrupt {
            location: self.location.clone(),
            detail: problems.join("; "),
        })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let supported = MIGRATIONS.len() as i64;
        let found = self.schema_version()?;
        if found > supported {
            return Err(StoreError::SchemaTooNew {
                location: self.location.clone(),
                found,
                supported,
            });
        }
        if found < 0 {
            return Err(StoreError::Corrupt {
                location: self.location.clone(),
                detail: format!("negative schema version {found}"),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i64 + 1;
            let location = self.location.clone();
            let fail = |e: rusqlite::Error| match classify(&location, e) {
                StoreError::Backend { location, source } => StoreError::Migration {
                    location,
                    version,
                    source,
                },
                other => other,
            };
            let tx = self.conn.transaction().map_err(fail)?;
            tx.execute_batch(sql).map_err(fail)?;
            tx.pragma_update(None, "user_version", version)
                .map_err(fail)?;
            tx.commit().map_err(fail)?;
        }
        Ok(())
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.location, e)
    }

    /// One page of `q`: id, body and workflow state of each alert, in the query's order.
    #[allow(clippy::type_complexity)]
    fn page(
        &self,
        q: &AlertQuery,
    ) -> Result<Vec<(String, Option<String>, Result<AlertState, StoreError>)>, StoreError> {
        q.validate()?;
        let limit = q.effective_limit()?;
        let (filter, mut args) = where_clause(q, true);
        // Page over the narrow table first, then fetch bodies for that page only (joining
        // first would read a body for every row skipped by OFFSET).
        let sql = format!(
            "SELECT id, body, status, assignee FROM (SELECT seq, id, time, score, status, assignee \
             FROM alerts{filter}{} LIMIT ? OFFSET ?) \
             LEFT JOIN alert_bodies USING (seq){}",
            // Walk the chosen index in order and stop at the page end, filters included: a
            // common search word is found within the first rows; a rare one walks the index.
            order_by(q.sort, false),
            order_by(q.sort, true),
        );
        args.push(Value::Integer(i64::from(limit)));
        args.push(Value::Integer(i64::try_from(q.offset).unwrap_or(i64::MAX)));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(limit.min(1024) as usize);
        for row in rows {
            let (id, body, status, assignee) = row.map_err(|e| self.err(e))?;
            let state = status
                .parse::<AlertStatus>()
                .map(|status| AlertState { status, assignee })
                .map_err(|reason| StoreError::BadRecord {
                    location: self.location.clone(),
                    key: id.clone(),
                    reason,
                });
            out.push((id, body, state));
        }
        Ok(out)
    }

    pub(crate) fn decode_alert(&self, id: &str, body: Option<&str>) -> Result<Alert, StoreError> {
        let Some(body) = body else {
            return Err(StoreError::BadRecord {
                location: self.location.clone(),
                key: id.to_owned(),
                reason: "the alert body is missing".into(),
            });
        };
        serde_json::from_str(body).map_err(|e| StoreError::BadRecord {
            location: self.location.clone(),
            key: id.to_owned(),
            reason: e.to_string(),
        })
    }

    fn decode_device(&self, address: &str, body: &str) -> Result<DeviceRecord, StoreError> {
        serde_json::from_str(body).map_err(|e| StoreError::BadRecord {
            location: self.location.clone(),
            key: address.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Inserts alerts inside the caller's transaction (see [`Store::insert_alerts`]); returns how
/// many were newly stored.
pub(crate) fn insert_alerts_in(
    tx: &rusqlite::Transaction<'_>,
    location: &str,
    alerts: &[Alert],
) -> Result<usize, StoreError> {
    let mut rows = Vec::with_capacity(alerts.len());
    for a in alerts {
        validate_alert(a)?;
        let body = serde_json::to_string(a).map_err(|e| {
            StoreError::InvalidInput(format!("alert {} cannot be encoded: {e}", a.id))
        })?;
        rows.push((a, body));
    }
    let fail = |e| classify(location, e);
    let mut inserted = 0;
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO alerts (id, time, severity, score, detector, entity, title)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(fail)?;
    let mut put_body = tx
        .prepare_cached("INSERT INTO alert_bodies (seq, body) VALUES (?1, ?2)")
        .map_err(fail)?;
    for (a, body) in &rows {
        let n = stmt
            .execute(params![
                a.id,
                a.time.0,
                severity_rank(a.severity),
                i64::from(a.score),
                a.detector,
                a.entity.to_string(),
                a.title,
            ])
            .map_err(fail)?;
        if n == 1 {
            put_body
                .execute(params![tx.last_insert_rowid(), body])
                .map_err(fail)?;
            inserted += 1;
        }
    }
    Ok(inserted)
}

/// Errors while opening: keep "not a database" and "corrupt" distinct, everything else is an
/// open failure.
/// A new store holds password hashes, the audit trail and alerts: readable by its owner only
/// (SQLite gives the `-wal` and `-shm` files the same mode). Best effort: a file system
/// without Unix modes keeps its own rules.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn open_error(location: &str, e: rusqlite::Error) -> StoreError {
    match classify(location, e) {
        StoreError::Backend { location, source } => StoreError::Open { location, source },
        other => other,
    }
}

pub(crate) fn classify(location: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            location: location.to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            location: location.to_owned(),
            detail: e.to_string(),
        },
        _ => StoreError::Backend {
            location: location.to_owned(),
            source: Box::new(e),
        },
    }
}

/// Severity as a sortable integer (info 0 .. critical 4).
pub(crate) fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The inverse of [`severity_rank`]; `None` for a number no severity has.
pub(crate) fn severity_from_rank(n: i64) -> Option<Severity> {
    Some(match n {
        0 => Severity::Info,
        1 => Severity::Low,
        2 => Severity::Medium,
        3 => Severity::High,
        4 => Severity::Critical,
        _ => return None,
    })
}

/// Builds the WHERE clause for the filters of `q` (and its cursor when `with_cursor`). Every
/// value is a bound parameter; the SQL text is made only of the fixed fragments below.
fn where_clause(q: &AlertQuery, with_cursor: bool) -> (String, Vec<Value>) {
    let mut conds: Vec<&'static str> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    if let Some(t) = q.from {
        conds.push("time >= ?");
        args.push(Value::Integer(t.0));
    }
    if let Some(t) = q.to {
        conds.push("time < ?");
        args.push(Value::Integer(t.0));
    }
    if let Some(s) = q.min_severity {
        conds.push("severity >= ?");
        args.push(Value::Integer(severity_rank(s)));
    }
    if let Some(e) = &q.entity {
        conds.push("entity = ?");
        args.push(Value::Text(e.clone()));
    }
    if let Some(d) = &q.detector {
        conds.push("detector = ?");
        args.push(Value::Text(d.clone()));
    }
    if let Some(t) = &q.text {
        // instr() rather than LIKE: no wildcard characters to escape, and an embedded NUL
        // does not cut the pattern short (LIKE would read "%\0%" as "%" and match everything).
        // lower() folds ASCII only, like the lower-casing of the needle here.
        conds.push("instr(lower(title), ?) > 0");
        args.push(Value::Text(t.to_ascii_lowercase()));
    }
    if let Some(s) = q.status {
        conds.push("status = ?");
        args.push(Value::Text(s.as_str().to_owned()));
    }
    if with_cursor && let Some(c) = &q.after {
        match q.sort {
            AlertSort::TimeDesc => {
                conds.push("(time, id) < (?, ?)");
                args.extend([Value::Integer(c.time.0), Value::Text(c.id.clone())]);
            }
            AlertSort::TimeAsc => {
                conds.push("(time, id) > (?, ?)");
                args.extend([Value::Integer(c.time.0), Value::Text(c.id.clone())]);
            }
            AlertSort::ScoreDesc => {
                conds.push("(score, time, id) < (?, ?, ?)");
                args.extend([
                    Value::Integer(i64::from(c.score)),
                    Value::Integer(c.time.0),
                    Value::Text(c.id.clone()),
                ]);
            }
        }
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, args)
}

/// The ORDER BY clause for a sort. With `scan` the terms are written `+time` so that SQLite
/// does not walk an ordering index: for a title search, walking the time index visits rows in
/// random order (seconds on a million alerts when few match), while a sequential scan with a
/// bounded top-N sort takes a few hundred milliseconds whatever the selectivity.
fn order_by(sort: AlertSort, scan: bool) -> &'static str {
    match (sort, scan) {
        (AlertSort::TimeDesc, false) => " ORDER BY time DESC, id DESC",
        (AlertSort::TimeAsc, false) => " ORDER BY time ASC, id ASC",
        (AlertSort::ScoreDesc, false) => " ORDER BY score DESC, time DESC, id DESC",
        (AlertSort::TimeDesc, true) => " ORDER BY +time DESC, +id DESC",
        (AlertSort::TimeAsc, true) => " ORDER BY +time ASC, +id ASC",
        (AlertSort::ScoreDesc, true) => " ORDER BY +score DESC, +time DESC, +id DESC",
    }
}

impl Store for SqliteStore {
    fn insert_alerts(&mut self, alerts: &[Alert]) -> Result<usize, StoreError> {
        for a in alerts {
            validate_alert(a)?;
        }
        let location = self.location.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| classify(&location, e))?;
        let inserted = insert_alerts_in(&tx, &location, alerts)?;
        tx.commit().map_err(|e| classify(&location, e))?;
        Ok(inserted)
    }

    fn query_alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        self.page(q)?
            .into_iter()
            .map(|(id, body, _)| self.decode_alert(&id, body.as_deref()))
            .collect()
    }

    fn query_alerts_raw(&self, q: &AlertQuery) -> Result<Vec<RawAlert>, StoreError> {
        let mut out = Vec::new();
        for (id, body, state) in self.page(q)? {
            let state = state?;
            let Some(body) = body.filter(|b| b.trim_end().ends_with('}')) else {
                return Err(StoreError::BadRecord {
                    location: self.location.clone(),
                    key: id,
                    reason: "the alert body is missing or not a JSON object".into(),
                });
            };
            out.push(RawAlert { id, body, state });
        }
        Ok(out)
    }

    fn alerts_generation(&self) -> Result<(u64, u64), StoreError> {
        let (a, b): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT max(seq) FROM alerts), (SELECT max(seq) FROM audit_log)",
            )
            .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(|e| self.err(e))?;
        let n = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        Ok((n(a), n(b)))
    }

    fn count_alerts(&self, q: &AlertQuery) -> Result<u64, StoreError> {
        q.validate()?;
        let (filter, args) = where_clause(q, false);
        let sql = format!("SELECT count(*) FROM alerts{filter}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let n: i64 = stmt
            .query_row(params_from_iter(args), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn get_alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let body: Option<Option<String>> = self
            .conn
            .prepare_cached(
                "SELECT body FROM alerts LEFT JOIN alert_bodies USING (seq) WHERE id = ?1",
            )
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        body.map(|b| self.decode_alert(id, b.as_deref()))
            .transpose()
    }

    fn alert_state(&self, id: &str) -> Result<Option<AlertState>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached("SELECT status, assignee FROM alerts WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(|e| self.err(e))?;
        row.map(|(status, assignee)| {
            let status: AlertStatus = status.parse().map_err(|reason| StoreError::BadRecord {
                location: self.location.clone(),
                key: id.to_owned(),
                reason,
            })?;
            Ok(AlertState { status, assignee })
        })
        .transpose()
    }

    fn set_alert_state(&mut self, id: &str, state: &AlertState) -> Result<bool, StoreError> {
        validate_state(state)?;
        let n = self
            .conn
            .prepare_cached("UPDATE alerts SET status = ?1, assignee = ?2 WHERE id = ?3")
            .and_then(|mut s| s.execute(params![state.status.as_str(), state.assignee, id]))
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    fn upsert_devices(&mut self, devices: &[DeviceRecord]) -> Result<usize, StoreError> {
        for d in devices {
            if d.address.is_empty() || d.address.len() > MAX_ADDRESS_LEN {
                return Err(StoreError::InvalidInput(format!(
                    "device address must be 1 to {MAX_ADDRESS_LEN} bytes, got {}",
                    d.address.len()
                )));
            }
        }
        let location = self.location.clone();
        let fail = |e| classify(&location, e);
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut get = tx
                .prepare_cached("SELECT first_seen FROM devices WHERE address = ?1")
                .map_err(fail)?;
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO devices (address, role, criticality, first_seen, last_seen, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(fail)?;
            for d in devices {
                let mut d = d.clone();
                let stored: Option<i64> = get
                    .query_row([&d.address], |r| r.get(0))
                    .optional()
                    .map_err(fail)?;
                if let Some(first) = stored
                    && first < d.first_seen.0
                {
                    d.first_seen = ward_core::Timestamp(first);
                }
                let body = serde_json::to_string(&d).map_err(|e| {
                    StoreError::InvalidInput(format!("device {} cannot be encoded: {e}", d.address))
                })?;
                put.execute(params![
                    d.address,
                    d.role,
                    d.criticality,
                    d.first_seen.0,
                    d.last_seen.0,
                    body
                ])
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        Ok(devices.len())
    }

    fn list_devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT address, body FROM devices ORDER BY address")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (address, body) = row.map_err(|e| self.err(e))?;
            out.push(self.decode_device(&address, &body)?);
        }
        Ok(out)
    }

    fn get_device(&self, address: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM devices WHERE address = ?1")
            .and_then(|mut s| s.query_row([address], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        body.map(|b| self.decode_device(address, &b)).transpose()
    }

    fn append_audit(
        &mut self,
        time: Timestamp,
        actor: &str,
        action: &str,
        target: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        crate::sqlite_audit::append(self, time, actor, action, target, details)
    }

    fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        crate::sqlite_audit::list(self, from_seq, limit)
    }

    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        crate::sqlite_audit::head(self)
    }

    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        crate::sqlite_audit::verify(self)
    }

    fn add_user(
        &mut self,
        name: &str,
        role: Role,
        password_hash: &str,
        created: Timestamp,
    ) -> Result<User, StoreError> {
        users::add_user(self, name, role, password_hash, created)
    }

    fn set_password(&mut self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        // A new password signs the user out everywhere, in the same transaction: never a new
        // password with the old sessions still valid.
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let result = users::set_password(self, name, password_hash).and_then(|changed| {
            if changed {
                workflow::end_user_sessions(self, name)?;
            }
            Ok(changed)
        });
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(|e| self.err(e))?;
        result
    }

    fn get_user(&self, name: &str) -> Result<Option<User>, StoreError> {
        users::get_user(self, name)
    }

    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        users::password_hash(self, name)
    }

    fn list_users(&self) -> Result<Vec<User>, StoreError> {
        users::list_users(self)
    }

    fn set_user_disabled(&mut self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        let changed = users::set_user_disabled(self, name, disabled)?;
        if changed && disabled {
            workflow::end_user_sessions(self, name)?;
        }
        Ok(changed)
    }

    fn add_token(
        &mut self,
        user: &str,
        token_hash: &str,
        created: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        users::add_token(self, user, token_hash, created)
    }

    fn find_user_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(User, ApiToken)>, StoreError> {
        users::find_user_by_token_hash(self, token_hash)
    }

    fn touch_token(&mut self, id: u64, time: Timestamp) -> Result<bool, StoreError> {
        users::touch_token(self, id, time)
    }

    fn list_tokens(&self, user: &str) -> Result<Vec<ApiToken>, StoreError> {
        users::list_tokens(self, user)
    }

    fn revoke_token(&mut self, id: u64) -> Result<bool, StoreError> {
        users::revoke_token(self, id)
    }

    fn update_alert_state(
        &mut self,
        id: &str,
        state: &AlertState,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        workflow::update_alert_state(self, id, state, audit)
    }

    fn audit_for_target(&self, target: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        crate::sqlite_audit::list_for_target(self, target, limit)
    }

    fn create_session(&mut self, session: &Session, audit: &AuditRecord) -> Result<(), StoreError> {
        workflow::create_session(self, session, audit)
    }

    fn find_session(&self, hash: &str) -> Result<Option<(User, Session)>, StoreError> {
        workflow::find_session(self, hash)
    }

    fn touch_session(&mut self, hash: &str, time: Timestamp) -> Result<bool, StoreError> {
        workflow::touch_session(self, hash, time)
    }

    fn end_session(&mut self, hash: &str, audit: Option<&AuditRecord>) -> Result<bool, StoreError> {
        workflow::end_session(self, hash, audit)
    }

    fn purge_sessions(
        &mut self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError> {
        workflow::purge_sessions(self, idle_before, created_before)
    }

    fn create_case(
        &mut self,
        title: &str,
        description: &str,
        alert_ids: &[String],
        audit: &AuditRecord,
    ) -> Result<Case, StoreError> {
        workflow::create_case(self, title, description, alert_ids, audit)
    }

    fn add_case_alerts(
        &mut self,
        case: &str,
        alert_ids: &[String],
        audit: &AuditRecord,
    ) -> Result<Option<Case>, StoreError> {
        workflow::add_case_alerts(self, case, alert_ids, audit)
    }

    fn set_case_status(
        &mut self,
        case: &str,
        status: CaseStatus,
        audit: &AuditRecord,
    ) -> Result<Option<Case>, StoreError> {
        workflow::set_case_status(self, case, status, audit)
    }

    fn get_case(&self, case: &str) -> Result<Option<Case>, StoreError> {
        workflow::get_case(self, case)
    }

    fn list_cases(&self, status: Option<CaseStatus>) -> Result<Vec<Case>, StoreError> {
        workflow::list_cases(self, status)
    }

    fn case_alerts(&self, case: &str) -> Result<Vec<Alert>, StoreError> {
        workflow::case_alerts(self, case)
    }

    fn cases_of_alert(&self, alert_id: &str) -> Result<Vec<String>, StoreError> {
        workflow::cases_of_alert(self, alert_id)
    }

    fn latest_alert_time(&self) -> Result<Option<Timestamp>, StoreError> {
        workflow::latest_alert_time(self)
    }

    fn alert_stats(
        &self,
        from: Timestamp,
        to: Timestamp,
        bucket_micros: i64,
    ) -> Result<AlertStats, StoreError> {
        workflow::alert_stats(self, from, to, bucket_micros)
    }

    fn import_ehr(
        &mut self,
        run: &EhrImport,
        audit: &AuditRecord,
    ) -> Result<EhrImportCounts, StoreError> {
        ehr::import(self, run, audit)
    }

    fn ehr_users(&self, query: &EhrUserQuery) -> Result<Vec<EhrUserSummary>, StoreError> {
        ehr::users(self, query)
    }

    fn count_ehr_users(&self, query: &EhrUserQuery) -> Result<u64, StoreError> {
        ehr::count_users(self, query)
    }

    fn ehr_timeline(&self, user_id: &str, limit: u32) -> Result<Option<EhrTimeline>, StoreError> {
        ehr::timeline(self, user_id, limit)
    }

    fn ehr_people(&self, kind: PersonKind, ids: &[String]) -> Result<Vec<EhrPerson>, StoreError> {
        ehr::people(self, kind, ids)
    }

    fn enqueue_jobs(
        &mut self,
        jobs: &[NewJob],
        time: Timestamp,
        actor: &str,
    ) -> Result<Vec<(u64, bool)>, StoreError> {
        crate::sqlite_respond::enqueue(self, jobs, time, actor)
    }

    fn claim_jobs(
        &mut self,
        now: Timestamp,
        lease_micros: i64,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        crate::sqlite_respond::claim(self, now, lease_micros, limit)
    }

    fn finish_job(
        &mut self,
        id: u64,
        attempt: &Attempt,
        audit: &AuditRecord,
    ) -> Result<Option<Job>, StoreError> {
        crate::sqlite_respond::finish(self, id, attempt, audit)
    }

    fn decide_job(
        &mut self,
        id: u64,
        verdict: Verdict,
        decision: &serde_json::Value,
        audit: &AuditRecord,
    ) -> Result<Decided, StoreError> {
        crate::sqlite_respond::decide(self, id, verdict, decision, audit)
    }

    fn expire_approvals(&mut self, now: Timestamp, actor: &str) -> Result<Vec<Job>, StoreError> {
        crate::sqlite_respond::expire(self, now, actor)
    }

    fn get_job(&self, id: u64) -> Result<Option<Job>, StoreError> {
        crate::sqlite_respond::get(self, id)
    }

    fn list_jobs(&self, query: &JobQuery) -> Result<Vec<Job>, StoreError> {
        crate::sqlite_respond::list(self, query)
    }

    fn last_response(&self, playbook: &str, entity: &str) -> Result<Option<Timestamp>, StoreError> {
        crate::sqlite_respond::last_run(self, playbook, entity)
    }

    fn responses_since(&self, playbook: &str, since: Timestamp) -> Result<u32, StoreError> {
        crate::sqlite_respond::runs_since(self, playbook, since)
    }

    fn alerts_after(&self, seq: u64, limit: u32) -> Result<Vec<(u64, Alert)>, StoreError> {
        crate::sqlite_respond::alerts_after(self, seq, limit)
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        crate::sqlite_respond::cursor(self, name)
    }

    fn set_cursor(&mut self, name: &str, value: u64) -> Result<(), StoreError> {
        crate::sqlite_respond::set_cursor(self, name, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::Timestamp;

    #[test]
    fn where_clause_binds_every_value() {
        let q = AlertQuery::new()
            .from(Timestamp(1))
            .to(Timestamp(2))
            .min_severity(Severity::High)
            .entity("host:1' OR 1=1 --")
            .detector("d")
            .text("x%")
            .status(AlertStatus::Open);
        let (sql, args) = where_clause(&q, true);
        assert!(!sql.contains("1=1") && !sql.contains("x%"), "{sql}");
        assert_eq!(sql.matches('?').count(), args.len());
        assert_eq!(args.len(), 7);
    }

    #[test]
    fn fresh_store_is_at_latest_version() {
        let s = SqliteStore::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.location(), ":memory:");
    }
}
