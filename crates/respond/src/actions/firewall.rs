//! Firewall: an nftables set element appended to a file (for `nft -f`), once per idempotency
//! key; or a configured block / release command.

use super::{Actions, exec};
use crate::action::{ActionContext, ActionError, Outcome};
use crate::playbook::{FirewallMode, FirewallSpec};
use serde_json::json;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;

/// The nftables commands that create the table, the sets and the drop rules the appended
/// elements land in. Load it once (`nft -f`) before the file the firewall action writes.
///
/// IPv4 addresses go to `set`, IPv6 addresses to `set` followed by `6`.
pub fn nft_preamble(table: &str, set: &str) -> String {
    format!(
        "# ward: blocked addresses. Load this once, then the file ward appends to.\n\
         add table {table}\n\
         add set {table} {set} {{ type ipv4_addr; flags interval; }}\n\
         # IPv6 addresses go to a set of their own, named like the IPv4 one plus \"6\".\n\
         add set {table} {set}6 {{ type ipv6_addr; flags interval; }}\n\
         add chain {table} input {{ type filter hook input priority -10; policy accept; }}\n\
         add chain {table} forward {{ type filter hook forward priority -10; policy accept; }}\n\
         add rule {table} input ip saddr @{set} drop\n\
         add rule {table} input ip6 saddr @{set}6 drop\n\
         add rule {table} forward ip saddr @{set} drop\n\
         add rule {table} forward ip daddr @{set} drop\n\
         add rule {table} forward ip6 saddr @{set}6 drop\n\
         add rule {table} forward ip6 daddr @{set}6 drop\n"
    )
}

/// A plain nftables name (letters, digits, `_`, `-`, and a space between family and table).
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '-'))
}

/// The target's address, checked to be an IP address and written canonically.
fn address(ctx: &ActionContext<'_>) -> Result<IpAddr, ActionError> {
    let raw = ctx.target_address.ok_or_else(|| {
        ActionError::Permanent("firewall: the alert's target has no network address".to_owned())
    })?;
    raw.trim().parse().map_err(|_| {
        ActionError::Permanent("firewall: the target address is not an IP address".to_owned())
    })
}

/// The comment and command for `addr`: `# ward <key> block` then
/// `add element <table> <set> { <addr> }` (`release` and `delete element` on release).
pub fn rule_text(spec: &FirewallSpec, key: &str, addr: IpAddr) -> (String, String) {
    let (word, verb) = if spec.release {
        ("release", "delete")
    } else {
        ("block", "add")
    };
    let set = match addr {
        IpAddr::V4(_) => spec.set.clone(),
        IpAddr::V6(_) => format!("{}6", spec.set),
    };
    let marker = format!("# ward {key} {word}");
    let text = format!(
        "{marker}\n{verb} element {} {set} {{ {addr} }}\n",
        spec.table
    );
    (marker, text)
}

/// Blocks or releases the target's address.
pub(super) fn run(
    actions: &Actions,
    spec: &FirewallSpec,
    ctx: &ActionContext<'_>,
) -> Result<Outcome, ActionError> {
    let addr = address(ctx)?;
    let word = if spec.release { "release" } else { "block" };
    match spec.mode {
        FirewallMode::Command => {
            let argv = if spec.release {
                &spec.release_command
            } else {
                &spec.block_command
            };
            let Some((program, args)) = argv.split_first() else {
                return Err(ActionError::Permanent(format!(
                    "firewall: {word}_command is empty"
                )));
            };
            exec::run(actions, program, args, ctx, &format!("firewall {word}"))
        }
        FirewallMode::Nftables => {
            if !plain(&spec.table) || !plain(&spec.set) {
                return Err(ActionError::Permanent(
                    "firewall.table and firewall.set must be plain names".to_owned(),
                ));
            }
            if !ctx
                .idempotency_key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                || ctx.idempotency_key.is_empty()
            {
                return Err(ActionError::Permanent(
                    "firewall: the idempotency key must be letters and digits".to_owned(),
                ));
            }
            let file = spec
                .file
                .as_deref()
                .filter(|f| f.starts_with('/'))
                .ok_or_else(|| {
                    ActionError::Permanent(
                        "firewall.file must be an absolute path in nftables mode".to_owned(),
                    )
                })?;
            let (marker, text) = rule_text(spec, ctx.idempotency_key, addr);
            if ctx.dry_run {
                return Ok(Outcome {
                    summary: format!(
                        "dry run: firewall would append to {file}: {}",
                        text.trim_end().replace('\n', " / ")
                    ),
                    detail: json!({ "dry_run": true, "file": file, "rule": text, "address": addr.to_string() }),
                });
            }
            append_once(file, &marker, &text).map(|appended| {
                let summary = if appended {
                    format!("firewall: {word} of {addr} appended to {file}")
                } else {
                    format!(
                        "firewall: {word} of {addr} already in {file} (same idempotency key); nothing written"
                    )
                };
                Outcome {
                    summary,
                    detail: json!({
                        "file": file,
                        "rule": text,
                        "address": addr.to_string(),
                        "appended": appended,
                    }),
                }
            })
        }
    }
}

/// Appends `text` to `path` unless a line equal to `marker` is already there; creates the file
/// with mode 0600. The file is locked while it is read and written, so two writers cannot both
/// append the same key. Returns whether it wrote.
fn append_once(path: &str, marker: &str, text: &str) -> Result<bool, ActionError> {
    let fail = |what: &str, e: std::io::Error| {
        let msg = format!("firewall: {what} {path}: {e}");
        match e.kind() {
            std::io::ErrorKind::PermissionDenied
            | std::io::ErrorKind::NotFound
            | std::io::ErrorKind::IsADirectory
            | std::io::ErrorKind::NotADirectory => ActionError::Permanent(msg),
            _ => ActionError::Retryable(msg),
        }
    };
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| fail("cannot open", e))?;
    f.lock().map_err(|e| fail("cannot lock", e))?;
    let mut existing = String::new();
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.read_to_string(&mut existing))
        .map_err(|e| fail("cannot read", e))?;
    if existing.lines().any(|l| l.trim_end() == marker) {
        return Ok(false);
    }
    let mut out = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(text);
    f.write_all(out.as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| fail("cannot write", e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(release: bool) -> FirewallSpec {
        FirewallSpec {
            table: "inet ward".to_owned(),
            set: "blocked".to_owned(),
            file: Some("/tmp/x.nft".to_owned()),
            release,
            ..FirewallSpec::default()
        }
    }

    #[test]
    fn rules_name_the_right_set_and_verb() {
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        let v6: IpAddr = "2001:db8::0:1".parse().unwrap();
        assert_eq!(
            rule_text(&spec(false), "k1", v4),
            (
                "# ward k1 block".to_owned(),
                "# ward k1 block\nadd element inet ward blocked { 10.1.2.3 }\n".to_owned()
            )
        );
        assert_eq!(
            rule_text(&spec(true), "k2", v6).1,
            "# ward k2 release\ndelete element inet ward blocked6 { 2001:db8::1 }\n"
        );
    }

    #[test]
    fn preamble_declares_both_sets_in_the_table() {
        let p = nft_preamble("inet ward", "blocked");
        assert!(p.contains("add table inet ward\n"));
        assert!(p.contains("add set inet ward blocked { type ipv4_addr; flags interval; }"));
        assert!(p.contains("add set inet ward blocked6 { type ipv6_addr; flags interval; }"));
        assert!(p.contains("ip saddr @blocked drop"));
    }
}
