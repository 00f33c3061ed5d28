//! The response queue on SQLite (schema v8): `response_jobs`. Every change of a job's state is
//! written with its audit entry in one immediate transaction.

use crate::StoreError;
use crate::respond::{
    Attempt, Decided, Job, JobQuery, JobState, MAX_JOB_PAGE, NewJob, Verdict, validate_new_job,
};
use crate::sqlite::{SqliteStore, classify};
use crate::sqlite_workflow::{audit, immediate};
use crate::workflow::AuditRecord;
use rusqlite::{OptionalExtension, Row, params};
use ward_core::Timestamp;

const COLUMNS: &str = "id, key, alert_id, playbook, step, entity, kind, action, effect, state, \
    approval, expires_at, attempts, max_attempts, timeout_secs, next_at, lease_until, result, \
    rollback_of, created, updated";

/// `job-<id>`, the audit target of a job.
pub fn job_target(id: u64) -> String {
    format!("job-{id}")
}

fn json_col(row: &Row<'_>, i: usize) -> rusqlite::Result<serde_json::Value> {
    let t: Option<String> = row.get(i)?;
    Ok(t.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null))
}

fn job_of(row: &Row<'_>) -> rusqlite::Result<(Job, String)> {
    let state: String = row.get(9)?;
    let ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(Timestamp))
    };
    let u32_of = |i: usize| -> rusqlite::Result<u32> {
        Ok(u32::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
    };
    Ok((
        Job {
            id: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
            key: row.get(1)?,
            alert_id: row.get(2)?,
            playbook: row.get(3)?,
            step: row.get(4)?,
            entity: row.get(5)?,
            kind: row.get(6)?,
            action: json_col(row, 7)?,
            effect: row.get(8)?,
            state: JobState::parse(&state).unwrap_or(JobState::Failed),
            approval: json_col(row, 10)?,
            expires_at: ts(11)?,
            attempts: u32_of(12)?,
            max_attempts: u32_of(13)?,
            timeout_secs: u32_of(14)?,
            next_at: Timestamp(row.get(15)?),
            lease_until: ts(16)?,
            result: json_col(row, 17)?,
            rollback_of: row
                .get::<_, Option<i64>>(18)?
                .and_then(|v| u64::try_from(v).ok()),
            created: Timestamp(row.get(19)?),
            updated: Timestamp(row.get(20)?),
        },
        state,
    ))
}

fn checked(location: &str, (job, state): (Job, String)) -> Result<Job, StoreError> {
    if JobState::parse(&state).is_none() {
        return Err(StoreError::BadRecord {
            location: location.to_owned(),
            key: job_target(job.id),
            reason: "unknown job state".into(),
        });
    }
    Ok(job)
}

fn get_in(conn: &rusqlite::Connection, location: &str, id: u64) -> Result<Option<Job>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM response_jobs WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row(params![id], job_of).optional())
    .map_err(|e| classify(location, e))?
    .map(|r| checked(location, r))
    .transpose()
}

pub(crate) fn enqueue(
    s: &mut SqliteStore,
    jobs: &[NewJob],
    time: Timestamp,
    actor: &str,
) -> Result<Vec<(u64, bool)>, StoreError> {
    for (i, j) in jobs.iter().enumerate() {
        validate_new_job(j).map_err(|e| StoreError::InvalidInput(format!("job {i}: {e}")))?;
    }
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO response_jobs (key, alert_id, playbook, step, entity, kind, \
                 action, effect, state, approval, expires_at, attempts, max_attempts, timeout_secs, \
                 next_at, lease_until, result, rollback_of, created, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14, NULL, ?15, \
                 ?16, ?14, ?14)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    j.key,
                    j.alert_id,
                    j.playbook,
                    j.step,
                    j.entity,
                    j.kind,
                    j.action.to_string(),
                    j.effect,
                    j.state.as_str(),
                    (!j.approval.is_null()).then(|| j.approval.to_string()),
                    j.expires_at.map(|t| t.0),
                    i64::from(j.max_attempts),
                    i64::from(j.timeout_secs),
                    time.0,
                    (!j.result.is_null()).then(|| j.result.to_string()),
                    j.rollback_of.and_then(|v| i64::try_from(v).ok()),
                ])
            })
            .map_err(fail)?;
        if inserted == 1 {
            let id = u64::try_from(tx.last_insert_rowid()).unwrap_or(0);
            audit(
                &tx,
                &location,
                &AuditRecord::new(
                    time,
                    actor,
                    "respond.plan",
                    job_target(id),
                    serde_json::json!({
                        "key": j.key, "alert": j.alert_id, "playbook": j.playbook, "step": j.step,
                        "action": j.kind, "effect": j.effect, "state": j.state.as_str(),
                        "approval": j.approval, "result": j.result,
                    }),
                ),
            )?;
            out.push((id, true));
        } else {
            let id: i64 = tx
                .prepare_cached("SELECT id FROM response_jobs WHERE key = ?1")
                .and_then(|mut st| st.query_row(params![j.key], |r| r.get(0)))
                .map_err(fail)?;
            out.push((u64::try_from(id).unwrap_or(0), false));
        }
    }
    tx.commit().map_err(fail)?;
    Ok(out)
}

pub(crate) fn claim(
    s: &mut SqliteStore,
    now: Timestamp,
    lease_micros: i64,
    limit: u32,
) -> Result<Vec<Job>, StoreError> {
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let ids: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM response_jobs WHERE (state = 'pending' AND next_at <= ?1) \
             OR (state = 'running' AND lease_until <= ?1) ORDER BY next_at, id LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(
                params![now.0, i64::from(limit.clamp(1, MAX_JOB_PAGE))],
                |r| r.get(0),
            )?
            .collect()
        })
        .map_err(fail)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        tx.prepare_cached(
            "UPDATE response_jobs SET state = 'running', \
             lease_until = ?2 + timeout_secs * 1000000, attempts = attempts + 1, updated = ?3 \
             WHERE id = ?1",
        )
        .and_then(|mut st| st.execute(params![id, now.0.saturating_add(lease_micros), now.0]))
        .map_err(fail)?;
        if let Some(j) = get_in(&tx, &location, u64::try_from(id).unwrap_or(0))? {
            out.push(j);
        }
    }
    tx.commit().map_err(fail)?;
    Ok(out)
}

pub(crate) fn finish(
    s: &mut SqliteStore,
    id: u64,
    attempt: &Attempt,
    a: &AuditRecord,
) -> Result<Option<Job>, StoreError> {
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let Some(job) = get_in(&tx, &location, id)? else {
        return Ok(None);
    };
    if job.state != JobState::Running {
        return Ok(None);
    }
    let (state, next_at, result) = match attempt {
        Attempt::Succeeded(r) => (JobState::Succeeded, job.next_at, r),
        Attempt::Retry(at, r) => (JobState::Pending, *at, r),
        Attempt::Failed(r) => (JobState::Failed, job.next_at, r),
    };
    let text = result.to_string();
    if text.len() > crate::respond::MAX_JOB_JSON {
        return Err(StoreError::InvalidInput("job result is too large".into()));
    }
    tx.prepare_cached(
        "UPDATE response_jobs SET state = ?2, next_at = ?3, lease_until = NULL, result = ?4, \
         updated = ?5 WHERE id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            i64::try_from(id).unwrap_or(0),
            state.as_str(),
            next_at.0,
            text,
            a.time.0
        ])
    })
    .map_err(fail)?;
    let mut rec = a.clone();
    rec.target = job_target(id);
    audit(&tx, &location, &rec)?;
    let out = get_in(&tx, &location, id)?;
    tx.commit().map_err(fail)?;
    Ok(out)
}

pub(crate) fn decide(
    s: &mut SqliteStore,
    id: u64,
    verdict: Verdict,
    decision: &serde_json::Value,
    a: &AuditRecord,
) -> Result<Decided, StoreError> {
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let Some(job) = get_in(&tx, &location, id)? else {
        return Ok(Decided::NotFound);
    };
    if job.state != JobState::AwaitingApproval {
        return Ok(Decided::NotAwaiting(job.state));
    }
    if job.expires_at.is_none_or(|e| e <= a.time) {
        drop(tx);
        let expired = expire(s, a.time, &a.actor)?;
        let job = expired
            .into_iter()
            .find(|j| j.id == id)
            .map_or(Decided::NotFound, |j| Decided::Expired(Box::new(j)));
        return Ok(job);
    }
    let mut approval = job.approval.clone();
    if let Some(o) = approval.as_object_mut() {
        o.insert("decision".to_owned(), decision.clone());
    }
    let state = match verdict {
        Verdict::Approve => JobState::Pending,
        Verdict::Reject => JobState::Rejected,
    };
    tx.prepare_cached(
        "UPDATE response_jobs SET state = ?2, approval = ?3, next_at = ?4, updated = ?4 \
         WHERE id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            i64::try_from(id).unwrap_or(0),
            state.as_str(),
            approval.to_string(),
            a.time.0
        ])
    })
    .map_err(fail)?;
    let mut rec = a.clone();
    rec.target = job_target(id);
    audit(&tx, &location, &rec)?;
    let out = get_in(&tx, &location, id)?;
    tx.commit().map_err(fail)?;
    Ok(out.map_or(Decided::NotFound, |j| Decided::Done(Box::new(j))))
}

pub(crate) fn expire(
    s: &mut SqliteStore,
    now: Timestamp,
    actor: &str,
) -> Result<Vec<Job>, StoreError> {
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let due: Vec<Job> = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM response_jobs WHERE state = 'awaiting_approval' \
             AND expires_at <= ?1 ORDER BY id"
        ))
        .and_then(|mut st| {
            st.query_map(params![now.0], job_of)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(fail)?
        .into_iter()
        .map(|r| checked(&location, r))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(due.len());
    for job in due {
        // only a non-clinical approval whose playbook says so proceeds on expiry
        let proceed = job.approval.get("proceed_on_timeout")
            == Some(&serde_json::Value::Bool(true))
            && job.approval.get("clinical") != Some(&serde_json::Value::Bool(true));
        let state = if proceed {
            JobState::Pending
        } else {
            JobState::Expired
        };
        tx.prepare_cached(
            "UPDATE response_jobs SET state = ?2, next_at = ?3, updated = ?3 WHERE id = ?1",
        )
        .and_then(|mut st| {
            st.execute(params![
                i64::try_from(job.id).unwrap_or(0),
                state.as_str(),
                now.0
            ])
        })
        .map_err(fail)?;
        audit(
            &tx,
            &location,
            &AuditRecord::new(
                now,
                actor,
                if proceed {
                    "respond.approval_timeout_proceed"
                } else {
                    "respond.approval_expired"
                },
                job_target(job.id),
                serde_json::json!({
                    "key": job.key, "playbook": job.playbook, "step": job.step,
                    "clinical": job.approval.get("clinical"),
                    "result": if proceed { "runs as the playbook allows" } else { "nothing was done" },
                }),
            ),
        )?;
        if let Some(j) = get_in(&tx, &location, job.id)? {
            out.push(j);
        }
    }
    tx.commit().map_err(fail)?;
    Ok(out)
}

pub(crate) fn get(s: &SqliteStore, id: u64) -> Result<Option<Job>, StoreError> {
    get_in(&s.conn, &s.location, id)
}

pub(crate) fn list(s: &SqliteStore, q: &JobQuery) -> Result<Vec<Job>, StoreError> {
    if !(1..=MAX_JOB_PAGE).contains(&q.limit) {
        return Err(StoreError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_JOB_PAGE}"
        )));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM response_jobs WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if !q.states.is_empty() {
        let marks: Vec<String> = q
            .states
            .iter()
            .map(|st| {
                args.push(st.as_str().to_owned().into());
                format!("?{}", args.len())
            })
            .collect();
        sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
    }
    if let Some(a) = &q.alert_id {
        args.push(a.clone().into());
        sql.push_str(&format!(" AND alert_id = ?{}", args.len()));
    }
    if let Some(b) = q.before_id {
        args.push(i64::try_from(b).unwrap_or(i64::MAX).into());
        sql.push_str(&format!(" AND id < ?{}", args.len()));
    }
    args.push(i64::from(q.limit).into());
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
    s.conn
        .prepare(&sql)
        .and_then(|mut st| {
            st.query_map(rusqlite::params_from_iter(args), job_of)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| classify(&s.location, e))?
        .into_iter()
        .map(|r| checked(&s.location, r))
        .collect()
}

pub(crate) fn last_run(
    s: &SqliteStore,
    playbook: &str,
    entity: &str,
) -> Result<Option<Timestamp>, StoreError> {
    s.conn
        .prepare_cached(
            "SELECT max(created) FROM response_jobs WHERE playbook = ?1 AND entity = ?2",
        )
        .and_then(|mut st| st.query_row(params![playbook, entity], |r| r.get::<_, Option<i64>>(0)))
        .map(|v| v.map(Timestamp))
        .map_err(|e| classify(&s.location, e))
}

pub(crate) fn runs_since(
    s: &SqliteStore,
    playbook: &str,
    since: Timestamp,
) -> Result<u32, StoreError> {
    s.conn
        .prepare_cached(
            "SELECT count(DISTINCT alert_id) FROM response_jobs WHERE playbook = ?1 AND created >= ?2",
        )
        .and_then(|mut st| st.query_row(params![playbook, since.0], |r| r.get::<_, i64>(0)))
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        .map_err(|e| classify(&s.location, e))
}

pub(crate) fn alerts_after(
    s: &SqliteStore,
    seq: u64,
    limit: u32,
) -> Result<Vec<(u64, ward_core::Alert)>, StoreError> {
    if !(1..=MAX_JOB_PAGE).contains(&limit) {
        return Err(StoreError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_JOB_PAGE}"
        )));
    }
    let rows: Vec<(i64, String)> = s
        .conn
        .prepare_cached(
            "SELECT a.seq, b.body FROM alerts a JOIN alert_bodies b ON b.seq = a.seq \
             WHERE a.seq > ?1 ORDER BY a.seq LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(
                params![i64::try_from(seq).unwrap_or(i64::MAX), i64::from(limit)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect()
        })
        .map_err(|e| classify(&s.location, e))?;
    rows.into_iter()
        .map(|(n, body)| {
            let a = serde_json::from_str(&body).map_err(|e| StoreError::BadRecord {
                location: s.location.clone(),
                key: format!("alert #{n}"),
                reason: format!("undecodable body: {e}"),
            })?;
            Ok((u64::try_from(n).unwrap_or(0), a))
        })
        .collect()
}

pub(crate) fn cursor(s: &SqliteStore, name: &str) -> Result<u64, StoreError> {
    s.conn
        .prepare_cached("SELECT value FROM cursors WHERE name = ?1")
        .and_then(|mut st| {
            st.query_row(params![name], |r| r.get::<_, i64>(0))
                .optional()
        })
        .map(|v| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
        .map_err(|e| classify(&s.location, e))
}

pub(crate) fn set_cursor(s: &mut SqliteStore, name: &str, value: u64) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 64 {
        return Err(StoreError::InvalidInput(
            "cursor name must be 1 to 64 bytes".into(),
        ));
    }
    s.conn
        .prepare_cached(
            "INSERT INTO cursors (name, value) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .and_then(|mut st| st.execute(params![name, i64::try_from(value).unwrap_or(i64::MAX)]))
        .map(|_| ())
        .map_err(|e| classify(&s.location, e))
}
