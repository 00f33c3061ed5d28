//! One message, as the detectors see it: the sender, reply and return addresses, the
//! authentication results the receiving servers wrote, the subject, the visible text, the links
//! and the attachments. Read from raw RFC 5322 bytes (MIME parsed by `mail-parser`, within
//! [`Limits`]) or from a row of the `nazario` CSV layout.

use crate::error::Unparseable;
use crate::html::{self, Link};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

/// Bounds on what one message may cost. Defaults in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest message read, in bytes; a larger one is `unparseable`. [52428800 (50 MiB)]
    pub max_bytes: usize,
    /// Most header lines before the body. [2000]
    pub max_headers: usize,
    /// Most MIME parts, nested messages included. [2000]
    pub max_parts: usize,
    /// Characters of text kept for scoring (subject and body); the rest is cut and noted.
    /// [262144]
    pub max_text: usize,
    /// Most links kept. [1000]
    pub max_links: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 50 << 20,
            max_headers: 2000,
            max_parts: 2000,
            max_text: 256 << 10,
            max_links: 1000,
        }
    }
}

/// An authentication result the receiving side recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthResult {
    /// Passed.
    Pass,
    /// Failed outright.
    Fail,
    /// SPF soft fail.
    SoftFail,
    /// Neutral, none, temporary or permanent error.
    Other,
}

/// SPF, DKIM and DMARC results from `Authentication-Results` and `Received-SPF`, the first
/// of each (the one the nearest server wrote).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// SPF.
    pub spf: Option<AuthResult>,
    /// DKIM.
    pub dkim: Option<AuthResult>,
    /// DMARC.
    pub dmarc: Option<AuthResult>,
}

/// An attachment: its name and declared type (its content is never kept or unpacked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The file name as declared (empty when none).
    pub name: String,
    /// The declared content type (`type/subtype`, lower case).
    pub content_type: String,
    /// Size of the decoded content in bytes.
    pub size: usize,
}

/// A mailbox: display name and address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// The display name (empty when none).
    pub name: String,
    /// The address (lower case; empty when none).
    pub address: String,
}

impl Mailbox {
    /// The domain of the address, lower case (empty when none).
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// Parses `Name <addr>` or a bare address.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        match (s.rfind('<'), s.rfind('>')) {
            (Some(a), Some(b)) if a < b => Self {
                name: s
                    .get(..a)
                    .unwrap_or_default()
                    .trim()
                    .trim_matches('"')
                    .trim()
                    .to_string(),
                address: s.get(a + 1..b).unwrap_or_default().trim().to_lowercase(),
            },
            _ if s.contains('@') && !s.contains(' ') => Self {
                name: String::new(),
                address: s.to_lowercase(),
            },
            _ => Self {
                name: s.trim_matches('"').to_string(),
                address: String::new(),
            },
        }
    }
}

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mail {
    /// From.
    pub from: Mailbox,
    /// Reply-To, when present.
    pub reply_to: Option<Mailbox>,
    /// Return-Path (envelope sender), when present.
    pub return_path: Option<String>,
    /// The subject.
    pub subject: String,
    /// The visible body text (plain parts, or HTML rendered to text), whitespace collapsed.
    pub text: String,
    /// The links: HTML anchors and URLs in the text.
    pub links: Vec<Link>,
    /// Whether the message says it has links when they are not listed (the `nazario` layout's
    /// `urls` flag).
    pub has_links: bool,
    /// The attachments.
    pub attachments: Vec<Attachment>,
    /// Authentication results.
    pub auth: Auth,
    /// Whether the message came with its headers (raw mail) or only with the fields of a CSV
    /// row: header signals are only judged when they could be seen.
    pub headers: bool,
    /// Whether the message has an HTML body.
    pub html: bool,
    /// What was cut to stay within the limits.
    pub notes: Vec<String>,
}

impl Mail {
    /// Reads one raw RFC 5322 message (a leading mbox `From ` line is skipped).
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Self, Unparseable> {
        if raw.len() > limits.max_bytes {
            return Err(Unparseable::TooLarge {
                size: raw.len(),
                limit: limits.max_bytes,
            });
        }
        let raw = skip_mbox_line(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Err(Unparseable::Empty);
        }
        if !starts_with_field(raw) {
            return Err(Unparseable::NotMail);
        }
        check_headers(raw, limits.max_headers)?;
        let msg = MessageParser::default()
            .parse(raw)
            .ok_or(Unparseable::NotMail)?;
        if msg.headers().is_empty() {
            return Err(Unparseable::NotMail);
        }
        if msg.parts.len() > limits.max_parts {
            return Err(Unparseable::TooManyParts {
                parts: msg.parts.len(),
                limit: limits.max_parts,
            });
        }
        let mut mail = Mail {
            headers: true,
            ..Mail::default()
        };
        if let Some(a) = msg.from().and_then(|a| a.first()) {
            mail.from = Mailbox {
                name: a.name().unwrap_or_default().trim().to_string(),
                address: a.address().unwrap_or_default().trim().to_lowercase(),
            };
        }
        mail.reply_to = msg.reply_to().and_then(|a| a.first()).map(|a| Mailbox {
            name: a.name().unwrap_or_default().trim().to_string(),
            address: a.address().unwrap_or_default().trim().to_lowercase(),
        });
        mail.return_path = msg
            .return_address()
            .map(|r| r.trim().trim_matches(['<', '>']).to_lowercase())
            .filter(|r| !r.is_empty());
        mail.subject = html::collapse(msg.subject().unwrap_or_default());
        mail.auth = auth_of(msg.headers_raw());

        let mut text = String::new();
        let mut chars = 0usize;
        let mut links = Vec::new();
        let plain = msg.text_body_count() > 0
            && msg
                .text_bodies()
                .any(|p| matches!(p.body, PartType::Text(_)));
        for part in msg.parts.iter() {
            match &part.body {
                PartType::Text(t) if plain && !is_attachment(part) => {
                    push(&mut text, &mut chars, t, limits.max_text);
                }
                PartType::Html(h) if !is_attachment(part) => {
                    mail.html = true;
                    let (t, l) = html::to_text(h, limits.max_links);
                    links.extend(l);
                    if !plain {
                        push(&mut text, &mut chars, &t, limits.max_text);
                    }
                }
                _ => {}
            }
        }
        for a in msg.attachments() {
            if matches!(a.body, PartType::Message(_)) && a.attachment_name().is_none() {
                continue;
            }
            mail.attachments.push(Attachment {
                name: a.attachment_name().unwrap_or_default().to_string(),
                content_type: a
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(s) => format!("{}/{}", c.ctype(), s),
                        None => c.ctype().to_string(),
                    })
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                size: a.len(),
            });
        }
        mail.finish(text, links, limits);
        Ok(mail)
    }

    /// A message from the fields of a `nazario`-layout row (no headers: header signals are
    /// not judged). `urls` is the row's flag that the message had links.
    pub fn from_fields(
        sender: &str,
        subject: &str,
        body: &str,
        urls: bool,
        limits: &Limits,
    ) -> Self {
        let mut mail = Mail {
            from: Mailbox::parse(sender),
            subject: html::collapse(subject),
            has_links: urls,
            ..Mail::default()
        };
        let (text, links) = if body.contains("</") || body.contains("<a ") {
            mail.html = true;
            html::to_text(body, limits.max_links)
        } else {
            (html::collapse(body), Vec::new())
        };
        let mut t = String::new();
        push(&mut t, &mut 0, &text, limits.max_text);
        mail.finish(t, links, limits);
        mail
    }

    fn finish(&mut self, text: String, mut links: Vec<Link>, limits: &Limits) {
        if text.chars().count() >= limits.max_text {
            self.notes.push(format!(
                "text cut to its first {} characters",
                limits.max_text
            ));
        }
        for l in html::text_urls(&text, limits.max_links) {
            if links.len() >= limits.max_links {
                self.notes
                    .push(format!("links cut to {}", limits.max_links));
                break;
            }
            if !links.iter().any(|k| k.url == l.url) {
                links.push(l);
            }
        }
        self.text = text;
        self.has_links = self.has_links || !links.is_empty();
        self.links = links;
    }
}

fn is_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}

/// Appends collapsed text up to `max` characters in all; `have` counts the characters of
/// `out` (kept by the caller, so that many parts cost no recounting).
fn push(out: &mut String, have: &mut usize, t: &str, max: usize) {
    if *have >= max {
        return;
    }
    let room = max - *have;
    let collapsed = html::collapse(t);
    if collapsed.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
        *have += 1;
    }
    for c in collapsed.chars().take(room) {
        out.push(c);
        *have += 1;
    }
}

fn skip_mbox_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|&b| b == b'\n') {
            Some(i) => raw.get(i + 1..).unwrap_or_default(),
            None => &[],
        }
    } else {
        raw
    }
}

/// Whether the message begins with a header field (`Name:`, the name printable ASCII without
/// spaces or colons), after any leading blank lines.
fn starts_with_field(raw: &[u8]) -> bool {
    let start = raw
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(raw.len());
    let rest = raw.get(start..).unwrap_or_default();
    let name_len = rest
        .iter()
        .take_while(|&&b| (33..=126).contains(&b) && b != b':')
        .count();
    name_len > 0 && rest.get(name_len) == Some(&b':')
}

/// Counts header lines (up to the first empty line) against the limit.
fn check_headers(raw: &[u8], max: usize) -> Result<(), Unparseable> {
    let mut lines = 0usize;
    for line in raw.split(|&b| b == b'\n') {
        if line.iter().all(|&b| b == b'\r') {
            return Ok(());
        }
        lines += 1;
        if lines > max {
            return Err(Unparseable::TooManyHeaders { limit: max });
        }
    }
    Ok(())
}

fn result_of(word: &str) -> AuthResult {
    match word.to_ascii_lowercase().as_str() {
        "pass" => AuthResult::Pass,
        "fail" | "hardfail" => AuthResult::Fail,
        "softfail" => AuthResult::SoftFail,
        _ => AuthResult::Other,
    }
}

/// SPF, DKIM and DMARC from the raw `Authentication-Results` (`spf=pass`, `dkim=fail`,
/// `dmarc=fail`) and `Received-SPF` (`Pass`, `Fail`, `SoftFail` first word) headers.
fn auth_of<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> Auth {
    let mut auth = Auth::default();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("Authentication-Results") {
            for part in value.split([';', ' ', '\t', '\r', '\n']) {
                let Some((k, v)) = part.split_once('=') else {
                    continue;
                };
                let slot = match k.trim().to_ascii_lowercase().as_str() {
                    "spf" => &mut auth.spf,
                    "dkim" => &mut auth.dkim,
                    "dmarc" => &mut auth.dmarc,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(result_of(v.trim()));
                }
            }
        } else if name.eq_ignore_ascii_case("Received-SPF")
            && auth.spf.is_none()
            && let Some(w) = value.split_whitespace().next()
        {
            auth.spf = Some(result_of(w));
        }
    }
    auth
}
