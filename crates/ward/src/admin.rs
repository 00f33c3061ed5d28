//! Administration commands: `ward audit verify | list`.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_store::{SqliteStore, Store};

/// `ward audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Walk the hash chain; exit 1 naming the first edited, deleted or reordered entry.
    Verify(StoreArg),
    /// Print audit entries (the last `--limit` by default).
    List(AuditListArgs),
}

/// The store option shared by the admin commands.
#[derive(Debug, Args)]
pub struct StoreArg {
    /// The store (default: `[store] path`, `ward.db`).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

/// `ward audit list`
#[derive(Debug, Args)]
pub struct AuditListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Most entries shown.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Start at this entry number (default: the last `--limit` entries).
    #[arg(long, value_name = "SEQ")]
    pub from: Option<u64>,
    /// Full entries (with details and hashes) as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Opens an existing store; the admin commands never create one by accident.
fn open_existing(arg: &StoreArg, cfg: &Config) -> Result<SqliteStore> {
    let path = arg.store.clone().unwrap_or_else(|| cfg.store.path.clone());
    if !path.is_file() {
        bail!("no store at {}: pass --store FILE", path.display());
    }
    open(&path)
}

fn open(path: &Path) -> Result<SqliteStore> {
    SqliteStore::open(path).with_context(|| format!("cannot open store {}", path.display()))
}

/// Runs `ward audit ...`.
pub fn audit(cmd: AuditCmd, cfg: &Config) -> Result<()> {
    match cmd {
        AuditCmd::Verify(a) => {
            let store = open_existing(&a, cfg)?;
            let v = store.verify_audit()?;
            match &v.problem {
                None => {
                    println!("audit trail intact: {} entries", v.entries);
                    if let Some(head) = &v.head {
                        println!("head: {head} (record it elsewhere to detect truncation later)");
                    }
                    Ok(())
                }
                Some(p) => bail!(
                    "audit trail broken: {p} ({} entries before it are intact)",
                    v.entries
                ),
            }
        }
        AuditCmd::List(a) => {
            let store = open_existing(&a.store, cfg)?;
            let limit = a.limit.clamp(1, ward_store::audit::MAX_AUDIT_PAGE);
            let from = match a.from {
                Some(f) => f,
                None => store
                    .audit_head()?
                    .map_or(1, |h| h.seq.saturating_sub(u64::from(limit) - 1).max(1)),
            };
            let entries = store.list_audit(from, limit)?;
            let mut out = std::io::stdout().lock();
            if a.json {
                for e in &entries {
                    serde_json::to_writer(&mut out, e)?;
                    writeln!(out)?;
                }
            } else if entries.is_empty() {
                writeln!(out, "no audit entries")?;
            } else {
                writeln!(
                    out,
                    "{:>6}  {:<27}  {:<16}  {:<20}  target",
                    "seq", "time", "actor", "action"
                )?;
                for e in &entries {
                    writeln!(
                        out,
                        "{:>6}  {:<27}  {:<16}  {:<20}  {}",
                        e.seq,
                        e.time.to_string(),
                        e.actor,
                        e.action,
                        e.target
                    )?;
                }
            }
            Ok(())
        }
    }
}
