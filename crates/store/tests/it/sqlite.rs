//! SQLite backend: the conformance suite, plus what only a file-backed store has (migrations,
//! damaged or foreign files, unusable locations, WAL, two handles on one file).

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use ward_store::conformance::{self, sample_alert};
use ward_store::{AlertQuery, AlertState, MIGRATIONS, SqliteStore, Store, StoreError};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn conformance_in_memory() {
    conformance::run(|| Box::new(SqliteStore::open_in_memory().unwrap()));
}

#[test]
fn conformance_on_file() {
    let dir = tmp();
    let n = std::cell::Cell::new(0);
    conformance::run(|| {
        n.set(n.get() + 1);
        Box::new(SqliteStore::open(dir.path().join(format!("s{}.db", n.get()))).unwrap())
    });
}

#[test]
fn data_survives_reopen_and_file_is_in_wal_mode() {
    let dir = tmp();
    let path = dir.path().join("ward.db");
    let alerts: Vec<_> = (0..50).map(sample_alert).collect();
    {
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.insert_alerts(&alerts).unwrap(), 50);
        assert_eq!(s.location(), path.display().to_string());
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.count_alerts(&AlertQuery::new()).unwrap(), 50);
    let raw = Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn two_handles_on_one_file() {
    let dir = tmp();
    let path = dir.path().join("ward.db");
    let mut writer = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    writer
        .insert_alerts(&[sample_alert(1), sample_alert(2)])
        .unwrap();
    assert_eq!(reader.count_alerts(&AlertQuery::new()).unwrap(), 2);
    // A store moves to another thread (the server runs it on a blocking worker).
    let handle = std::thread::spawn(move || writer.insert_alerts(&[sample_alert(3)]).unwrap());
    assert_eq!(handle.join().unwrap(), 1);
    assert_eq!(reader.count_alerts(&AlertQuery::new()).unwrap(), 3);
}

#[cfg(unix)]
#[test]
fn a_new_store_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let path = dir.path().join("ward.db");
    let mut s = SqliteStore::open(&path).unwrap();
    s.insert_alerts(&[sample_alert(1)]).unwrap();
    for p in [path.clone(), dir.path().join("ward.db-wal")] {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
}

#[test]
fn read_only_handles_read_and_refuse_writes() {
    let dir = tmp();
    let path = dir.path().join("ward.db");
    // No store yet: a reader does not create one.
    assert!(SqliteStore::open_reader(&path).is_err());
    assert!(!path.exists());
    let mut writer = SqliteStore::open(&path).unwrap();
    let mut reader = SqliteStore::open_reader(&path).unwrap();
    writer.insert_alerts(&[sample_alert(1)]).unwrap();
    assert_eq!(reader.count_alerts(&AlertQuery::new()).unwrap(), 1);
    assert!(reader.insert_alerts(&[sample_alert(2)]).is_err());
    assert_eq!(writer.count_alerts(&AlertQuery::new()).unwrap(), 1);
    // An old schema is not migrated by a reader.
    let old = dir.path().join("old.db");
    drop(db_at_version(&old, 3));
    let err = SqliteStore::open_reader(&old).unwrap_err().to_string();
    assert!(err.contains("read-write first"), "{err}");
}

/// Builds a database at schema version `v` using only the first `v` migrations.
fn db_at_version(path: &Path, v: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    for sql in MIGRATIONS.iter().take(v) {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", v as i64).unwrap();
    conn
}

#[test]
fn a_v1_database_is_migrated() {
    let dir = tmp();
    let path = dir.path().join("v1.db");
    let old = sample_alert(7);
    {
        let conn = db_at_version(&path, 1);
        conn.execute(
            "INSERT INTO alerts (id, time, severity, score, detector, entity, title) VALUES (?1, ?2, 4, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                old.id,
                old.time.0,
                i64::from(old.score),
                old.detector,
                old.entity.to_string(),
                old.title,
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO alert_bodies (seq, body) VALUES (?1, ?2)",
            rusqlite::params![
                conn.last_insert_rowid(),
                serde_json::to_string(&old).unwrap()
            ],
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(s.get_alert(&old.id).unwrap(), Some(old.clone()));
    assert_eq!(
        s.alert_state(&old.id).unwrap(),
        Some(AlertState::default()),
        "old alerts default to open"
    );
    assert!(
        s.list_devices().unwrap().is_empty(),
        "the devices table exists"
    );
    assert_eq!(s.insert_alerts(&[sample_alert(8)]).unwrap(), 1);
    drop(s);
    // Opening again is a no-op.
    assert_eq!(
        SqliteStore::open(&path).unwrap().schema_version().unwrap(),
        MIGRATIONS.len() as i64
    );
}

#[test]
fn every_intermediate_version_migrates() {
    let dir = tmp();
    for v in 0..=MIGRATIONS.len() {
        let path = dir.path().join(format!("v{v}.db"));
        drop(db_at_version(&path, v));
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            MIGRATIONS.len() as i64,
            "from v{v}"
        );
    }
}

#[test]
fn a_database_from_a_newer_ward_is_refused() {
    let dir = tmp();
    let path = dir.path().join("future.db");
    drop(db_at_version(&path, MIGRATIONS.len()));
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("99") && msg.contains("upgrade"),
        "{msg}"
    );
    // Refusing did not touch it.
    let v: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

/// Expected outcome of opening a damaged or foreign file.
#[derive(Debug)]
enum Expect {
    NotADatabase,
    /// Corrupt, or (when damage hides until data is read) an error on the first full scan.
    CorruptOnOpenOrRead,
    Opens,
}

fn check_file(name: &str, make: impl FnOnce(&Path), expect: Expect) {
    let dir = tmp();
    let path = dir.path().join(name);
    make(&path);
    let shown = path.display().to_string();
    let res = SqliteStore::open(&path);
    match (expect, res) {
        (Expect::NotADatabase, Err(e @ StoreError::NotADatabase { .. })) => {
            assert!(e.to_string().contains(&shown), "{name}: {e}");
        }
        (Expect::CorruptOnOpenOrRead, Err(e)) => {
            assert!(
                matches!(
                    e,
                    StoreError::Corrupt { .. } | StoreError::NotADatabase { .. }
                ),
                "{name}: {e:?}"
            );
            assert!(e.to_string().contains(&shown), "{name}: {e}");
        }
        (Expect::CorruptOnOpenOrRead, Ok(s)) => {
            let scan = s
                .query_alerts(&AlertQuery::new().limit(10_000))
                .and_then(|_| s.check_integrity());
            let e = scan.expect_err(name);
            assert!(
                matches!(e, StoreError::Corrupt { .. } | StoreError::BadRecord { .. }),
                "{name}: {e:?}"
            );
            assert!(e.to_string().contains(&shown), "{name}: {e}");
        }
        (Expect::Opens, Ok(s)) => {
            assert_eq!(s.count_alerts(&AlertQuery::new()).unwrap(), 0, "{name}")
        }
        (expect, res) => panic!("{name}: expected {expect:?}, got {res:?}"),
    }
}

/// A valid store with a few thousand alerts, closed (checkpointed into the main file).
fn good_store(path: &Path) -> Vec<u8> {
    let mut s = SqliteStore::open(path).unwrap();
    let alerts: Vec<_> = (0..3000).map(sample_alert).collect();
    s.insert_alerts(&alerts).unwrap();
    drop(s);
    std::fs::read(path).unwrap()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn damaged_and_foreign_files_give_clear_errors() {
    check_file(
        "text.db",
        |p| write(p, b"patient,name\n1,Jane Doe\n"),
        Expect::NotADatabase,
    );
    check_file("zeros.db", |p| write(p, &[0u8; 8192]), Expect::NotADatabase);
    check_file(
        "random.db",
        |p| {
            write(
                p,
                &(0..20_000u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect::<Vec<_>>(),
            )
        },
        Expect::NotADatabase,
    );
    check_file(
        "header.db",
        |p| {
            let mut b = good_store(p);
            b.iter_mut().take(16).for_each(|x| *x = b'X');
            write(p, &b);
        },
        Expect::NotADatabase,
    );
    check_file(
        "schema-page.db",
        |p| {
            let mut b = good_store(p);
            b.iter_mut().skip(100).take(3900).for_each(|x| *x = 0xA5);
            write(p, &b);
        },
        Expect::CorruptOnOpenOrRead,
    );
    check_file(
        "data-pages.db",
        |p| {
            let mut b = good_store(p);
            let mid = b.len() / 2;
            b.iter_mut()
                .skip(mid)
                .take(16_384)
                .enumerate()
                .for_each(|(i, x)| *x = (i * 31) as u8);
            write(p, &b);
        },
        Expect::CorruptOnOpenOrRead,
    );
    check_file(
        "truncated.db",
        |p| {
            let b = good_store(p);
            write(p, b.get(..b.len() / 3).unwrap());
        },
        Expect::CorruptOnOpenOrRead,
    );
    // SQLite treats an empty file as a new database.
    check_file("empty.db", |p| write(p, b""), Expect::Opens);
}

#[test]
fn integrity_check_passes_on_a_good_store() {
    let dir = tmp();
    let path = dir.path().join("ok.db");
    good_store(&path);
    SqliteStore::open(&path).unwrap().check_integrity().unwrap();
}

fn expect_open_error(path: PathBuf) {
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::Open { .. }),
        "{}: {err:?}",
        path.display()
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot open store") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
}

#[test]
fn unusable_locations_give_clear_errors() {
    let dir = tmp();
    expect_open_error(dir.path().join("missing-dir").join("ward.db"));
    expect_open_error(dir.path().to_path_buf());
    #[cfg(target_os = "linux")]
    expect_open_error(PathBuf::from("/proc/ward-store-test.db"));
}

#[cfg(unix)]
#[test]
fn read_only_directory_gives_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root ignores permissions; then there is nothing to test here.
    if std::fs::write(ro.join("probe"), b"x").is_ok() {
        eprintln!("skipping: running with permission to write a read-only directory (root)");
        return;
    }
    expect_open_error(ro.join("ward.db"));
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_path_is_never_read_as_a_uri() {
    let dir = tmp();
    let path = dir.path().join("file:ward.db?mode=memory");
    let mut s = SqliteStore::open(&path).unwrap();
    s.insert_alerts(&[sample_alert(1)]).unwrap();
    drop(s);
    assert!(path.exists(), "the literal file name is used");
}

#[test]
fn a_record_damaged_by_a_foreign_writer_is_reported() {
    let dir = tmp();
    let path = dir.path().join("bad-record.db");
    let a = sample_alert(1);
    SqliteStore::open(&path)
        .unwrap()
        .insert_alerts(std::slice::from_ref(&a))
        .unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE alert_bodies SET body = '{not json' WHERE seq = (SELECT seq FROM alerts WHERE id = ?1)",
        [&a.id],
    )
    .unwrap();
    let b = sample_alert(2);
    drop(raw);
    SqliteStore::open(&path)
        .unwrap()
        .insert_alerts(std::slice::from_ref(&b))
        .unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "DELETE FROM alert_bodies WHERE seq = (SELECT seq FROM alerts WHERE id = ?1)",
        [&b.id],
    )
    .unwrap();
    match SqliteStore::open(&path).unwrap().get_alert(&b.id) {
        Err(e @ StoreError::BadRecord { .. }) => assert!(e.to_string().contains("missing"), "{e}"),
        other => panic!("a missing body must be reported, got {other:?}"),
    }
    raw.execute("UPDATE alerts SET status = 'bogus'", [])
        .unwrap();
    drop(raw);
    let s = SqliteStore::open(&path).unwrap();
    for err in [
        s.get_alert(&a.id).unwrap_err(),
        s.query_alerts(&AlertQuery::new()).unwrap_err(),
        s.alert_state(&a.id).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::BadRecord { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&a.id) || msg.contains(&b.id), "{msg}");
    }
}
