//! The signals of a message, each with a plain-language reason: authentication results,
//! mismatched reply and return addresses, impersonated names, look-alike domains, risky links,
//! risky attachments and the language of lures. Pure functions of the message and the
//! organisation's settings ([`Org`]).

use crate::mail::{AuthResult, Mail};
use crate::url::{self, Parsed};
use serde::{Deserialize, Serialize};

/// What ward knows of the organisation it protects. Defaults in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Org {
    /// The organisation's own mail and web domains. [[]]
    pub domains: Vec<String>,
    /// Names of executives whose names lures borrow (`Jane Doe`). [[]]
    pub executives: Vec<String>,
    /// Words of department and role names that lures put in display names. [help desk, it
    /// support, it department, service desk, payroll, human resources, hr department,
    /// administrator, webmaster, security team, billing, accounts payable, benefits, mail
    /// admin, postmaster]
    pub departments: Vec<String>,
    /// Healthcare and everyday brands lures imitate: EHR vendors, payers, patient portals,
    /// pharmacies, banks and mail services (registrable domains). [see `default_brands`]
    pub brands: Vec<String>,
    /// The own domains and brands, prepared for look-alike tests once, on first use (not
    /// a setting: leave it to `..Org::default()`; change no setting after the first use).
    #[serde(skip)]
    pub prepared: Prepared,
}

/// A cache of [`Org`]'s domains prepared for look-alike tests. Equal to any other: it only
/// holds what the settings determine.
#[derive(Debug, Clone, Default)]
pub struct Prepared(std::sync::OnceLock<Vec<url::Known>>);

impl PartialEq for Prepared {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Prepared {}

impl Org {
    /// The own domains (lower-cased) and the brands, prepared for look-alike tests.
    fn known(&self) -> &[url::Known] {
        self.prepared.0.get_or_init(|| {
            let own: Vec<String> = self.domains.iter().map(|d| d.to_lowercase()).collect();
            let mut known = url::Known::list(&own);
            known.extend(url::Known::list(&self.brands));
            known
        })
    }
}

impl Default for Org {
    fn default() -> Self {
        Self {
            domains: Vec::new(),
            executives: Vec::new(),
            departments: [
                "help desk",
                "helpdesk",
                "it support",
                "it department",
                "it dept",
                "service desk",
                "payroll",
                "human resources",
                "hr department",
                "administrator",
                "webmaster",
                "security team",
                "billing",
                "accounts payable",
                "benefits",
                "mail admin",
                "postmaster",
            ]
            .map(String::from)
            .to_vec(),
            brands: default_brands(),
            prepared: Prepared::default(),
        }
    }
}

/// The brands imitated most in healthcare mail, by registrable domain.
pub fn default_brands() -> Vec<String> {
    [
        // EHR vendors and patient portals
        "epic.com",
        "mychart.com",
        "cerner.com",
        "oracle.com",
        "athenahealth.com",
        "allscripts.com",
        "meditech.com",
        "nextgen.com",
        "followmyhealth.com",
        // payers
        "unitedhealthcare.com",
        "uhc.com",
        "optum.com",
        "aetna.com",
        "cigna.com",
        "anthem.com",
        "humana.com",
        "bcbs.com",
        "kaiserpermanente.org",
        "medicare.gov",
        "cms.gov",
        // pharmacies
        "cvs.com",
        "walgreens.com",
        "express-scripts.com",
        "riteaid.com",
        // mail, documents, payments
        "microsoft.com",
        "office.com",
        "outlook.com",
        "office365.com",
        "sharepoint.com",
        "onedrive.com",
        "docusign.com",
        "dropbox.com",
        "adobe.com",
        "google.com",
        "apple.com",
        "paypal.com",
        "amazon.com",
        "chase.com",
        "wellsfargo.com",
        "bankofamerica.com",
        "usaa.com",
        "irs.gov",
        "fedex.com",
        "ups.com",
        "dhl.com",
    ]
    .map(String::from)
    .to_vec()
}

/// Top-level domains over-represented in phishing (registries with cheap or free names).
const RISKY_TLDS: &[&str] = &[
    "zip", "mov", "xyz", "top", "click", "link", "work", "gq", "tk", "ml", "cf", "ga", "buzz",
    "rest", "fit", "country", "kim", "loan", "men", "stream", "download", "racing", "review",
    "date", "faith", "party", "science", "win", "bid", "trade", "webcam", "cam", "icu", "monster",
    "cyou", "sbs", "cfd", "lol", "quest", "support", "live",
];

/// Link shorteners: the real target is hidden.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "goo.gl",
    "t.co",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "tiny.cc",
    "t.ly",
    "s.id",
    "v.gd",
    "bl.ink",
    "qrco.de",
];

/// Path words of credential-harvesting pages.
const CREDENTIAL_PATHS: &[&str] = &[
    "login",
    "logon",
    "signin",
    "sign-in",
    "verify",
    "verification",
    "validate",
    "account",
    "update",
    "secure",
    "webscr",
    "password",
    "passwd",
    "credential",
    "auth",
    "wp-admin",
    "wp-includes",
    "owa",
    "outlook",
    "office365",
    "mailbox",
    "confirm",
    "unlock",
    "billing",
];

/// Extensions of attachments that run code or hide it.
const EXECUTABLE: &[&str] = &[
    "exe",
    "scr",
    "com",
    "pif",
    "bat",
    "cmd",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "hta",
    "ps1",
    "msi",
    "jar",
    "lnk",
    "cpl",
    "reg",
    "dll",
    "application",
    "appx",
    "msix",
];
/// Disk images, which carry executables past attachment filters.
const IMAGES: &[&str] = &["iso", "img", "vhd", "vhdx", "udf"];
/// Office documents that can hold macros.
const MACRO_DOCS: &[&str] = &[
    "docm", "xlsm", "pptm", "dotm", "xltm", "xlam", "ppsm", "doc", "xls", "ppt", "rtf",
];
/// Archives (never unpacked by ward: only their names are judged).
const ARCHIVES: &[&str] = &[
    "zip", "rar", "7z", "gz", "tgz", "tar", "cab", "ace", "arj", "xz",
];
/// Harmless-looking extensions used before a real one (`invoice.pdf.exe`).
const DECOYS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "txt", "csv",
];

/// Characters of the text searched for lure phrases.
const LANGUAGE_TEXT: usize = 20_000;

/// Phrases of lures, by kind (matched lower case in the subject and text).
const URGENCY: &[&str] = &[
    "urgent",
    "immediately",
    "within 24 hours",
    "within 48 hours",
    "account will be",
    "suspended",
    "suspension",
    "deactivat",
    "final notice",
    "last warning",
    "expire",
    "act now",
    "as soon as possible",
    "unusual activity",
    "unusual sign-in",
    "locked",
    "will be closed",
    "will be terminated",
    "limited time",
];
const CREDENTIALS: &[&str] = &[
    "verify your",
    "confirm your",
    "validate your",
    "update your",
    "log in",
    "login",
    "sign in",
    "password",
    "username",
    "credentials",
    "re-activate",
    "reactivate",
    "click here",
    "click the link",
    "click below",
    "mailbox",
    "quota",
    "upgrade your",
];
const PAYMENT: &[&str] = &[
    "wire transfer",
    "bank details",
    "banking details",
    "direct deposit",
    "gift card",
    "payment",
    "invoice",
    "remittance",
    "routing number",
    "account number",
    "refund",
    "overdue",
    "outstanding balance",
    "tax",
    "w-2",
    "bitcoin",
];
const BANKING_CHANGE: &[&str] = &[
    "new bank account",
    "change of bank",
    "changed our bank",
    "update our banking",
    "new banking details",
    "change my direct deposit",
    "update my direct deposit",
    "new account details",
    "updated payment instructions",
];

/// Whether a top-level domain is one of the registries much used for phishing.
pub fn risky_tld(tld: &str) -> bool {
    RISKY_TLDS.contains(&tld)
}

/// Whether a registrable domain is a link shortener.
pub fn shortener(domain: &str) -> bool {
    SHORTENERS.contains(&domain)
}

/// One signal: a stable code, how strongly it points to phishing (0 to 1, a rule's own
/// weight, not a probability), and the reason in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Stable code (`auth.spf_fail`, `url.ip_host`, ...).
    pub code: &'static str,
    /// Strength, 0 to 1.
    pub strength: f32,
    /// The reason, in plain words.
    pub reason: String,
}

fn sig(code: &'static str, strength: f32, reason: String) -> Signal {
    Signal {
        code,
        strength,
        reason,
    }
}

/// Every signal of a message, strongest first.
pub fn signals(mail: &Mail, org: &Org) -> Vec<Signal> {
    let mut out = Vec::new();
    let own: Vec<String> = org.domains.iter().map(|d| d.to_lowercase()).collect();
    let from_domain = mail.from.domain().to_string();
    let from_reg = url::registrable(&from_domain).to_string();
    let is_own = |d: &str| {
        own.iter()
            .any(|o| url::registrable(o) == url::registrable(d))
    };
    let known = org.known();

    if mail.headers {
        let a = mail.auth;
        for (code, name, r) in [
            ("auth.spf_fail", "SPF", a.spf),
            ("auth.dkim_fail", "DKIM", a.dkim),
            ("auth.dmarc_fail", "DMARC", a.dmarc),
        ] {
            match r {
                Some(AuthResult::Fail) => out.push(sig(code, 0.8, format!("{name} failed: the sending server is not allowed to send for the sender's domain"))),
                Some(AuthResult::SoftFail) => out.push(sig(code, 0.4, format!("{name} soft-failed for the sender's domain"))),
                _ => {}
            }
        }
        if let Some(r) = &mail.reply_to {
            let rd = url::registrable(r.domain()).to_string();
            if !rd.is_empty() && !from_reg.is_empty() && rd != from_reg {
                out.push(sig(
                    "header.reply_to_differs",
                    0.5,
                    format!("replies go to {rd}, not to the sender's domain {from_reg}"),
                ));
            }
        }
        if let Some(rp) = &mail.return_path {
            let rd = url::registrable(rp.rsplit_once('@').map_or("", |(_, d)| d)).to_string();
            if !rd.is_empty() && !from_reg.is_empty() && rd != from_reg {
                out.push(sig("header.return_path_differs", 0.2, format!("the envelope sender's domain {rd} differs from the sender's domain {from_reg}")));
            }
        }
    }

    // the display name
    let name = mail.from.name.to_lowercase();
    if !name.is_empty() && !from_domain.is_empty() && !is_own(&from_domain) {
        if let Some(e) = org
            .executives
            .iter()
            .find(|e| !e.is_empty() && name.contains(&e.to_lowercase()))
        {
            out.push(sig("sender.executive_name", 0.8, format!("the sender's name is the executive {e}'s, but the address is outside the organisation ({from_reg})")));
        }
        if let Some(d) = org.departments.iter().find(|d| contains_words(&name, d)) {
            out.push(sig(
                "sender.department_name",
                0.5,
                format!(
                    "the sender calls itself \"{d}\" from outside the organisation ({from_reg})"
                ),
            ));
        }
        if let Some(at) = name.split_whitespace().find(|w| w.contains('@')) {
            let shown =
                at.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '-');
            if shown.contains('.')
                && url::registrable(shown.rsplit_once('@').map_or("", |(_, d)| d)) != from_reg
            {
                out.push(sig("sender.name_shows_other_address", 0.6, format!("the sender's name shows the address {shown}, but the mail comes from {from_reg}")));
            }
        }
    }
    if !from_domain.is_empty() {
        if from_domain.contains("xn--") {
            out.push(sig("sender.punycode", 0.6, format!("the sender's domain {from_domain} is written in punycode (it may imitate another in foreign letters)")));
        }
        if let Some((k, how)) = url::lookalike(&from_domain, known) {
            out.push(sig(
                "sender.lookalike",
                0.8,
                format!("the sender's domain {from_reg} imitates {k} ({how})"),
            ));
        }
    }

    link_signals(mail, known, &mut out);
    attachment_signals(mail, &mut out);
    language_signals(mail, &mut out);
    out.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    out
}

/// Whether `phrase` occurs in `text` as whole words.
fn contains_words(text: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|t| t.find(phrase)) {
        let s = from + i;
        let e = s + phrase.len();
        let before = text.get(..s).and_then(|t| t.chars().next_back());
        let after = text.get(e..).and_then(|t| t.chars().next());
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return true;
        }
        from = e;
    }
    false
}

fn link_signals(mail: &Mail, known: &[url::Known], out: &mut Vec<Signal>) {
    // one signal per code: the first link that shows it
    let mut seen: Vec<&'static str> = Vec::new();
    let mut push = |s: Signal, out: &mut Vec<Signal>| {
        if !seen.contains(&s.code) {
            seen.push(s.code);
            out.push(s);
        }
    };
    for link in &mail.links {
        let Some(p) = url::parse(&link.url) else {
            continue;
        };
        for s in url_signals(&p, known) {
            push(s, out);
        }
        if let Some(named) = link.text.as_deref().and_then(named_domain) {
            let target = url::registrable(&p.host);
            if url::registrable(&named) != target && !target.is_empty() {
                push(
                    sig(
                        "link.text_names_other_domain",
                        0.8,
                        format!("a link shows {named} but leads to {target}"),
                    ),
                    out,
                );
            }
        }
    }
}

/// The signals of one URL on its own (the URL model's hand-made features use the same tests).
pub fn url_signals(p: &Parsed, known: &[url::Known]) -> Vec<Signal> {
    let mut out = Vec::new();
    let host = p.host.as_str();
    let reg = url::registrable(host);
    if url::is_ip(host) {
        out.push(sig(
            "url.ip_host",
            0.7,
            format!("a link goes to a bare IP address ({host}) instead of a name"),
        ));
    }
    if p.userinfo {
        out.push(sig(
            "url.at_sign",
            0.7,
            format!("a link hides its real host {host} behind an @ sign"),
        ));
    }
    let labels = host.split('.').count();
    if !url::is_ip(host) && labels >= 5 {
        out.push(sig(
            "url.deep_subdomains",
            0.4,
            format!("a link's host has {labels} levels ({host})"),
        ));
    }
    if host.contains("xn--") {
        out.push(sig(
            "url.punycode",
            0.6,
            format!("a link's host is written in punycode ({host})"),
        ));
    }
    let tld = host.rsplit('.').next().unwrap_or_default();
    if RISKY_TLDS.contains(&tld) {
        out.push(sig(
            "url.risky_tld",
            0.4,
            format!("a link's domain ends in .{tld}, a registry much used for phishing"),
        ));
    }
    if SHORTENERS.contains(&reg) {
        out.push(sig(
            "url.shortener",
            0.4,
            format!("a link goes through the shortener {reg}, which hides where it leads"),
        ));
    }
    if host.split('.').any(|l| url::randomness(l) >= 0.5) {
        out.push(sig(
            "url.random_label",
            0.4,
            format!("a link's host has a random-looking name ({host})"),
        ));
    }
    if let Some((k, how)) = url::lookalike(host, known) {
        out.push(sig(
            "url.lookalike",
            0.9,
            format!("a link's domain {reg} imitates {k} ({how})"),
        ));
    } else if let Some(k) = known
        .iter()
        .find(|k| k.label.len() >= 4 && reg != k.reg && host.split('.').any(|l| l == k.label))
    {
        out.push(sig(
            "url.brand_in_subdomain",
            0.7,
            format!(
                "a link puts the name of {} in front of another domain ({reg})",
                k.domain
            ),
        ));
    }
    let rest = p.rest.to_lowercase();
    if let Some(w) = CREDENTIAL_PATHS.iter().find(|w| rest.contains(*w)) {
        out.push(sig(
            "url.credential_path",
            0.3,
            format!("a link's path asks for a sign-in or account page (\"{w}\")"),
        ));
    }
    if p.port.is_some_and(|port| port != 80 && port != 443) {
        out.push(sig(
            "url.odd_port",
            0.3,
            format!("a link uses the unusual port {}", p.port.unwrap_or(0)),
        ));
    }
    out
}

/// The domain a link's text names (`www.bank.com`, `https://bank.com/...`, `bank.com`).
fn named_domain(text: &str) -> Option<String> {
    let t = text.trim();
    if t.contains(' ') || t.len() < 4 {
        return None;
    }
    if let Some(p) = url::parse(t) {
        return Some(p.host);
    }
    let host = t
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let tld = host.rsplit('.').next().unwrap_or_default();
    (host.contains('.')
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && !host.contains('@'))
    .then_some(host)
}

fn attachment_signals(mail: &Mail, out: &mut Vec<Signal>) {
    for a in &mail.attachments {
        let name = a.name.to_lowercase();
        let parts: Vec<&str> = name.rsplit('.').collect();
        let ext = if parts.len() > 1 {
            parts.first().copied().unwrap_or("")
        } else {
            ""
        };
        let prev = parts.get(1).copied().unwrap_or("");
        if parts.len() > 2
            && DECOYS.contains(&prev)
            && (EXECUTABLE.contains(&ext) || IMAGES.contains(&ext) || ARCHIVES.contains(&ext))
        {
            out.push(sig(
                "attach.double_extension",
                0.9,
                format!(
                    "the attachment \"{}\" hides a .{ext} file behind .{prev}",
                    a.name
                ),
            ));
        } else if EXECUTABLE.contains(&ext) {
            out.push(sig(
                "attach.executable",
                0.9,
                format!("the attachment \"{}\" is a program (.{ext})", a.name),
            ));
        } else if IMAGES.contains(&ext) {
            out.push(sig(
                "attach.disk_image",
                0.8,
                format!(
                    "the attachment \"{}\" is a disk image (.{ext}), a way past attachment filters",
                    a.name
                ),
            ));
        } else if MACRO_DOCS.contains(&ext) || a.content_type.contains("macroenabled") {
            out.push(sig(
                "attach.macro_document",
                0.6,
                format!(
                    "the attachment \"{}\" is an Office document that can run macros",
                    a.name
                ),
            ));
        } else if matches!(ext, "htm" | "html" | "shtml" | "svg") || a.content_type == "text/html" {
            out.push(sig(
                "attach.html",
                0.7,
                format!(
                    "the attachment \"{}\" is a web page (it can show a fake sign-in form offline)",
                    a.name
                ),
            ));
        } else if ARCHIVES.contains(&ext) {
            out.push(sig(
                "attach.archive",
                0.3,
                format!(
                    "the attachment \"{}\" is an archive (.{ext}); ward does not open it",
                    a.name
                ),
            ));
        }
    }
}

/// The lure phrase lists, in one automaton.
fn phrase_automaton() -> Option<&'static (aho_corasick::AhoCorasick, Vec<&'static str>)> {
    static AC: std::sync::OnceLock<Option<(aho_corasick::AhoCorasick, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    AC.get_or_init(|| {
        let all: Vec<&'static str> = [URGENCY, CREDENTIALS, PAYMENT, BANKING_CHANGE]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        aho_corasick::AhoCorasick::new(&all)
            .ok()
            .map(|ac| (ac, all))
    })
    .as_ref()
}

/// The phrases of the lists that occur in a lower-cased text.
fn phrases_in(text: &str) -> Vec<&'static str> {
    let lists = [URGENCY, CREDENTIALS, PAYMENT, BANKING_CHANGE];
    let mut out: Vec<&'static str> = match phrase_automaton() {
        Some((ac, all)) => ac
            .find_overlapping_iter(text)
            .filter_map(|m| all.get(m.pattern().as_usize()).copied())
            .collect(),
        None => lists
            .into_iter()
            .flatten()
            .copied()
            .filter(|p| text.contains(p))
            .collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

fn language_signals(mail: &Mail, out: &mut Vec<Signal>) {
    // (the first characters of a long text say what it asks for)
    let head: String = mail.text.chars().take(LANGUAGE_TEXT).collect();
    let text = format!("{} {head}", mail.subject).to_lowercase();
    // every phrase of every list, found in one pass
    let seen = phrases_in(&text);
    let found = |list: &[&'static str]| -> Vec<&'static str> {
        list.iter()
            .copied()
            .filter(|p| seen.contains(p))
            .take(3)
            .collect()
    };
    let quote = |v: &[&str]| {
        v.iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let change = found(BANKING_CHANGE);
    if !change.is_empty() {
        out.push(sig(
            "text.banking_change",
            0.8,
            format!(
                "asks to change banking or payment details ({})",
                quote(&change)
            ),
        ));
    }
    let urgent = found(URGENCY);
    let creds = found(CREDENTIALS);
    let pay = found(PAYMENT);
    if !creds.is_empty() {
        out.push(sig(
            "text.credential_request",
            0.3 + 0.1 * creds.len() as f32,
            format!(
                "asks the reader to sign in or confirm account details ({})",
                quote(&creds)
            ),
        ));
    }
    if !urgent.is_empty() {
        out.push(sig(
            "text.urgency",
            0.2 + 0.1 * urgent.len() as f32,
            format!("presses for urgency ({})", quote(&urgent)),
        ));
    }
    if !pay.is_empty() {
        out.push(sig(
            "text.payment",
            0.2 + 0.05 * pay.len() as f32,
            format!("talks about payments ({})", quote(&pay)),
        ));
    }
}
