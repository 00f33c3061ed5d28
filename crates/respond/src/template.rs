//! `{variable}` templates in step parameters, rendered from the alert and its target.
//!
//! Variables: `alert.id`, `alert.detector`, `alert.severity`, `alert.score`, `alert.title`,
//! `alert.time`, `entity.kind`, `entity.value`, `target.address`, `target.class`, `playbook`,
//! `step`. `{{` and `}}` are literal braces. An unknown variable is an error when the playbook
//! is planned, never a silent blank. Values placed into command arguments must be plain tokens
//! ([`is_token`]); values placed into URLs are percent-encoded.

use std::collections::BTreeMap;

/// The variables of one alert and step.
pub type Vars = BTreeMap<&'static str, String>;

/// The variable names, for documentation and errors.
pub const NAMES: [&str; 12] = [
    "alert.id",
    "alert.detector",
    "alert.severity",
    "alert.score",
    "alert.title",
    "alert.time",
    "entity.kind",
    "entity.value",
    "target.address",
    "target.class",
    "playbook",
    "step",
];

/// How a substituted value is checked or escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Free text (mail subjects, case titles): control characters become spaces.
    Text,
    /// One command argument: the value must be a plain token.
    Arg,
    /// Part of a URL: the value is percent-encoded.
    Url,
}

/// A plain token: 1 to 255 characters from letters, digits and `._:@/+=,-`, not starting with
/// `-` (so it cannot be read as an option).
pub fn is_token(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 255
        && !v.starts_with('-')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:@/+=,-".contains(c))
}

/// Renders `template` with `vars` in `context`.
pub fn render(template: &str, vars: &Vars, context: Context) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(rest.get(..i).unwrap_or_default());
        let tail = rest.get(i..).unwrap_or_default();
        if let Some(t) = tail.strip_prefix("{{") {
            out.push('{');
            rest = t;
            continue;
        }
        if let Some(t) = tail.strip_prefix("}}") {
            out.push('}');
            rest = t;
            continue;
        }
        if tail.starts_with('}') {
            return Err("a lone '}' (write '}}' for a literal brace)".to_owned());
        }
        let Some(end) = tail.find('}') else {
            return Err("a '{' without its '}'".to_owned());
        };
        let name = tail.get(1..end).unwrap_or_default().trim();
        let Some(value) = vars.get(name) else {
            return Err(format!(
                "unknown template variable {{{}}}: expected one of {}",
                name.chars().take(40).collect::<String>(),
                NAMES.join(", ")
            ));
        };
        match context {
            Context::Text => {
                out.extend(value.chars().map(|c| if c.is_control() { ' ' } else { c }))
            }
            Context::Arg => {
                if !is_token(value) {
                    return Err(format!(
                        "{{{name}}} is not a plain token, so it may not be a command argument"
                    ));
                }
                out.push_str(value);
            }
            Context::Url => {
                for b in value.bytes() {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
            }
        }
        rest = tail.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}
