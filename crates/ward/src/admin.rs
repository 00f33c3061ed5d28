//! Administration commands: `ward audit verify | list` and `ward user add | passwd | list |
//! token`. Every user command appends an audit entry with actor `cli`; no entry, log line or
//! error ever carries a password or a token.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use ward_core::Timestamp;
use ward_store::auth::{self, Role};
use ward_store::{SqliteStore, Store};

/// The environment variable `ward user add` and `ward user passwd` read the password from.
const PASSWORD_ENV: &str = "WARD_PASSWORD";
/// The audit actor of every command-line change.
const ACTOR: &str = "cli";

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
pub(crate) fn open_existing(arg: &StoreArg, cfg: &Config) -> Result<SqliteStore> {
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

/// `ward user ...`
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a local user. The password comes from WARD_PASSWORD, else a prompt on the terminal.
    Add(UserAddArgs),
    /// Set a user's password (from WARD_PASSWORD, else a prompt on the terminal).
    Passwd(UserNameArgs),
    /// List users and their roles.
    List(UserListArgs),
    /// Make an API token for a user and print it (once: only its hash is stored).
    Token(UserNameArgs),
}

/// `ward user add`
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// User name: lowercase letters, digits, '.', '_', '-', '@'.
    pub name: String,
    /// One of admin, analyst, privacy_officer, auditor, viewer.
    #[arg(long)]
    pub role: Role,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `ward user passwd` and `ward user token`
#[derive(Debug, Args)]
pub struct UserNameArgs {
    /// The user.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `ward user list`
#[derive(Debug, Args)]
pub struct UserListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Users as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// The new password: `WARD_PASSWORD` if set, else typed twice at a terminal without echo.
fn read_password(user: &str) -> Result<String> {
    if let Some(v) = std::env::var_os(PASSWORD_ENV) {
        let Some(p) = v.to_str() else {
            bail!("{PASSWORD_ENV} is not valid UTF-8");
        };
        auth::check_password_policy(p).with_context(|| format!("{PASSWORD_ENV} is not usable"))?;
        return Ok(p.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password: set {PASSWORD_ENV}, or run in a terminal to be prompted (input is not a terminal)"
        );
    }
    let first = rpassword::prompt_password(format!("new password for {user}: "))
        .context("cannot read the password from the terminal")?;
    auth::check_password_policy(&first)?;
    let again = rpassword::prompt_password("again: ")
        .context("cannot read the password from the terminal")?;
    if first != again {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// Runs `ward user ...`.
pub fn user(cmd: UserCmd, cfg: &Config) -> Result<()> {
    match cmd {
        UserCmd::Add(a) => {
            auth::check_user_name(&a.name).map_err(anyhow::Error::msg)?;
            // The first user is made before any store exists: create it here (and only here).
            let path = a
                .store
                .store
                .clone()
                .unwrap_or_else(|| cfg.store.path.clone());
            let mut store = open(&path)?;
            if store.get_user(&a.name)?.is_some() {
                bail!(
                    "user {} already exists: use `ward user passwd {}`",
                    a.name,
                    a.name
                );
            }
            let hash = auth::hash_password(&read_password(&a.name)?)?;
            let u = store.add_user(&a.name, a.role, &hash, now())?;
            store.append_audit(
                now(),
                ACTOR,
                "user.add",
                &u.name,
                &serde_json::json!({"role": u.role}),
            )?;
            println!("added user {} with role {}", u.name, u.role);
            Ok(())
        }
        UserCmd::Passwd(a) => {
            let mut store = open_existing(&a.store, cfg)?;
            if store.get_user(&a.name)?.is_none() {
                bail!("no user named {}", a.name);
            }
            let hash = auth::hash_password(&read_password(&a.name)?)?;
            if !store.set_password(&a.name, &hash)? {
                bail!("no user named {}", a.name);
            }
            store.append_audit(
                now(),
                ACTOR,
                "user.passwd",
                &a.name,
                &serde_json::Value::Null,
            )?;
            println!("password changed for {}", a.name);
            Ok(())
        }
        UserCmd::List(a) => {
            let mut store = open_existing(&a.store, cfg)?;
            let users = store.list_users()?;
            store.append_audit(
                now(),
                ACTOR,
                "user.list",
                "",
                &serde_json::json!({"users": users.len()}),
            )?;
            let mut out = std::io::stdout().lock();
            if a.json {
                for u in &users {
                    serde_json::to_writer(&mut out, u)?;
                    writeln!(out)?;
                }
            } else if users.is_empty() {
                writeln!(
                    out,
                    "no users: add one with `ward user add NAME --role admin`"
                )?;
            } else {
                writeln!(
                    out,
                    "{:<24}  {:<16}  {:<27}  status",
                    "name", "role", "created"
                )?;
                for u in &users {
                    writeln!(
                        out,
                        "{:<24}  {:<16}  {:<27}  {}",
                        u.name,
                        u.role.as_str(),
                        u.created.to_string(),
                        if u.disabled { "disabled" } else { "active" }
                    )?;
                }
            }
            Ok(())
        }
        UserCmd::Token(a) => {
            let mut store = open_existing(&a.store, cfg)?;
            match store.get_user(&a.name)? {
                None => bail!("no user named {}", a.name),
                Some(u) if u.disabled => bail!("user {} is disabled", a.name),
                Some(_) => {}
            }
            let (token, hash) = auth::new_token()?;
            let t = store.add_token(&a.name, &hash, now())?;
            store.append_audit(
                now(),
                ACTOR,
                "token.create",
                &a.name,
                &serde_json::json!({"token_id": t.id}),
            )?;
            eprintln!(
                "API token {} for {} (shown once; only its hash is stored):",
                t.id, a.name
            );
            println!("{token}");
            Ok(())
        }
    }
}
