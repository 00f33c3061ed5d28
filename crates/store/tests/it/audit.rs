//! The audit trail on an SQLite file: tampering through raw SQL (what an attacker with write
//! access to the file can do) is detected and named, the table refuses ward-level edits, older
//! stores gain the table, and concurrent writers keep the chain whole.

use rusqlite::Connection;
use std::path::Path;
use ward_core::Timestamp;
use ward_store::{AuditProblem, MIGRATIONS, SqliteStore, Store};

const BASE: i64 = 1_714_521_600_000_000;
const PHI: &str = "Jane Roe, MRN 0012345";

/// A store at `path` holding `n` audit entries (entry 4 carries PHI-like details).
fn trail(path: &Path, n: u64) -> SqliteStore {
    let mut s = SqliteStore::open(path).unwrap();
    for i in 1..=n {
        let details = if i == 4 {
            serde_json::json!({"patient": PHI})
        } else {
            serde_json::json!({"i": i, "reason": "triage"})
        };
        let e = s
            .append_audit(
                Timestamp(BASE + i as i64),
                "alice",
                "alert.acknowledge",
                &format!("al_{i}"),
                &details,
            )
            .unwrap();
        assert_eq!(e.seq, i);
    }
    s
}

/// The attacker's connection: raw SQLite with the append-only triggers dropped.
fn attacker(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    c
}

/// Applies `sql` to a fresh 20-entry trail and checks what verify reports.
fn check(what: &str, sql: &str, expect: Option<AuditProblem>, intact: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    drop(trail(&path, 20));
    attacker(&path).execute_batch(sql).unwrap();
    let v = SqliteStore::open(&path).unwrap().verify_audit().unwrap();
    assert_eq!(v.problem, expect, "{what}");
    assert_eq!(
        v.entries, intact,
        "{what}: entries verified before the problem"
    );
    if let Some(p) = &v.problem {
        let msg = p.to_string();
        assert!(msg.contains(&p.seq().to_string()), "{what}: {msg}");
        assert!(
            !msg.contains("Jane") && !msg.contains("mallory"),
            "{what}: {msg}"
        );
    }
}

#[test]
fn tampering_through_raw_sql_is_named() {
    use AuditProblem::*;
    check("untouched", "", None, 20);
    check(
        "edit the actor of entry 5",
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 5",
        Some(Edited { seq: 5 }),
        4,
    );
    check(
        "edit the details of entry 4 (PHI)",
        "UPDATE audit_log SET details = '{\"patient\":\"someone else\"}' WHERE seq = 4",
        Some(Edited { seq: 4 }),
        3,
    );
    check(
        "edit the time of entry 1",
        "UPDATE audit_log SET time = time + 1 WHERE seq = 1",
        Some(Edited { seq: 1 }),
        0,
    );
    check(
        "overwrite the hash of entry 20",
        "UPDATE audit_log SET hash = prev_hash WHERE seq = 20",
        Some(Edited { seq: 20 }),
        19,
    );
    check(
        "details that are not JSON",
        "UPDATE audit_log SET details = '{not json' WHERE seq = 5",
        Some(Unreadable { seq: 5 }),
        4,
    );
    check(
        "a time that is text",
        "UPDATE audit_log SET time = 'yesterday' WHERE seq = 2",
        Some(Unreadable { seq: 2 }),
        1,
    );
    check(
        "delete entry 7",
        "DELETE FROM audit_log WHERE seq = 7",
        Some(Missing { seq: 7, last: 7 }),
        6,
    );
    check(
        "delete entries 1 to 3",
        "DELETE FROM audit_log WHERE seq <= 3",
        Some(Missing { seq: 1, last: 3 }),
        0,
    );
    check(
        "swap the seq of entries 3 and 4",
        "UPDATE audit_log SET seq = -3 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = -3;",
        Some(Moved {
            seq: 3,
            original_seq: 4,
        }),
        2,
    );
    check(
        "move entry 18 into the gap left by deleting entry 2",
        "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 18;",
        Some(Moved {
            seq: 2,
            original_seq: 18,
        }),
        1,
    );
    check(
        "copy entry 6 over entry 9",
        "DELETE FROM audit_log WHERE seq = 9;
         INSERT INTO audit_log SELECT 9, time, actor, action, target, details, prev_hash, hash
         FROM audit_log WHERE seq = 6;",
        Some(Moved {
            seq: 9,
            original_seq: 6,
        }),
        8,
    );
}

#[test]
fn deleting_the_tail_changes_the_head_hash() {
    // The chain alone cannot show a truncated tail; the reported head hash can, when it was
    // recorded somewhere else.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let before = trail(&path, 10).verify_audit().unwrap();
    attacker(&path)
        .execute("DELETE FROM audit_log WHERE seq = 10", [])
        .unwrap();
    let after = SqliteStore::open(&path).unwrap().verify_audit().unwrap();
    assert!(after.is_intact());
    assert_eq!((before.entries, after.entries), (10, 9));
    assert_ne!(before.head, after.head);
}

#[test]
fn the_table_refuses_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    drop(trail(&path, 3));
    let raw = Connection::open(&path).unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let err = raw.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert!(
        SqliteStore::open(&path)
            .unwrap()
            .verify_audit()
            .unwrap()
            .is_intact()
    );
}

#[test]
fn a_bad_row_in_a_listing_is_a_bad_record_without_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    drop(trail(&path, 5));
    attacker(&path)
        .execute(
            "UPDATE audit_log SET details = 'Jane Roe {' WHERE seq = 4",
            [],
        )
        .unwrap();
    let s = SqliteStore::open(&path).unwrap();
    let err = s.list_audit(1, 10).unwrap_err().to_string();
    assert!(
        err.contains("audit entry 4") && !err.contains("Jane"),
        "{err}"
    );
    assert_eq!(
        s.list_audit(5, 10).unwrap().len(),
        1,
        "other pages still read"
    );
}

#[test]
fn an_older_store_gains_an_empty_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in MIGRATIONS.iter().take(3) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert!(s.verify_audit().unwrap().is_intact());
    let e = s
        .append_audit(
            Timestamp(BASE),
            "system",
            "config.change",
            "",
            &serde_json::Value::Null,
        )
        .unwrap();
    assert_eq!(e.seq, 1);
}

#[test]
fn concurrent_writers_on_one_file_keep_the_chain_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    drop(SqliteStore::open(&path).unwrap());
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = SqliteStore::open(&path).unwrap();
                for i in 0..100 {
                    s.append_audit(
                        Timestamp(BASE + i),
                        &format!("worker{w}"),
                        "signin.ok",
                        "",
                        &serde_json::json!({"i": i}),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let v = SqliteStore::open(&path).unwrap().verify_audit().unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.entries, 300);
}

#[test]
fn a_long_trail_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let s = trail(&path, 5_000);
    let v = s.verify_audit().unwrap();
    assert!(v.is_intact());
    assert_eq!(v.entries, 5_000);
    assert_eq!(v.head, s.audit_head().unwrap().map(|e| e.hash));
}
