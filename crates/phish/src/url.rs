//! URLs and domains: the parts of a URL a detector needs (no page is ever fetched), the
//! registrable domain, and lookalike tests against the organisation's own domains and the
//! healthcare brands of the configuration.

/// The parts of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `http`, `https`, ... (lower case; empty for `www.` URLs written without one).
    pub scheme: String,
    /// Whether the authority holds user information (`https://bank.com@evil.example/`).
    pub userinfo: bool,
    /// The host, lower case, without a trailing dot.
    pub host: String,
    /// An explicit port.
    pub port: Option<u16>,
    /// Path, query and fragment as written.
    pub rest: String,
}

/// Splits a URL into its parts; `None` when there is no host.
pub fn parse(url: &str) -> Option<Parsed> {
    let url = url.trim();
    let (scheme, after) = match url.find("://") {
        Some(i)
            if url.get(..i).is_some_and(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
            }) =>
        {
            (url.get(..i)?.to_ascii_lowercase(), url.get(i + 3..)?)
        }
        _ if url.len() > 4 && url.get(..4)?.eq_ignore_ascii_case("www.") => (String::new(), url),
        _ => return None,
    };
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    let authority = after.get(..end)?;
    let rest = after.get(end..)?.to_string();
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (true, authority.get(i + 1..)?),
        None => (false, authority),
    };
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        let port = hostport
            .get(close + 1..)?
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        (hostport.get(..=close)?, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (h, p.parse().ok())
            }
            _ => (hostport, None),
        }
    };
    let host = host.trim_end_matches('.').to_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(Parsed {
        scheme,
        userinfo,
        host,
        port,
        rest,
    })
}

/// Whether a host is an IP address: dotted IPv4, bracketed IPv6, or a bare decimal or hex
/// number (browsers read `http://3232235777/` as an address).
pub fn is_ip(host: &str) -> bool {
    if host.starts_with('[') {
        return true;
    }
    let numeric = |l: &str| {
        !l.is_empty()
            && (l.bytes().all(|b| b.is_ascii_digit())
                || l.strip_prefix("0x")
                    .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())))
    };
    let labels = host.split('.').count();
    (labels == 4 || labels == 1) && host.split('.').all(numeric)
}

/// Second-level labels under which a country code registers names (`co.uk`, `com.au`).
const SECOND_LEVELS: &[&str] = &[
    "co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go", "nhs", "mil", "gob", "gouv",
];

/// The registrable domain of a host: its last two labels, or three under a country code's
/// second level (`example.co.uk`). An approximation of the public suffix list that needs no
/// list; an IP address is its own domain.
pub fn registrable(host: &str) -> &str {
    if is_ip(host) {
        return host;
    }
    let mut it = host.rsplit('.');
    let tld = it.next().unwrap_or_default();
    let second = it.next();
    let third = it.next();
    let keep = match (second, third) {
        (Some(s), Some(_)) if tld.len() == 2 && SECOND_LEVELS.contains(&s) => 3,
        _ => 2,
    };
    let mut seen = 0;
    for (i, b) in host.bytes().enumerate().rev() {
        if b == b'.' {
            seen += 1;
            if seen == keep {
                return host.get(i + 1..).unwrap_or(host);
            }
        }
    }
    host
}

/// The label that names the owner of a registrable domain (`paypal` in `paypal.co.uk`).
pub fn owner_label(domain: &str) -> &str {
    domain.split('.').next().unwrap_or(domain)
}

/// Levenshtein distance between two short strings, stopping early above `max` (returns
/// `max + 1` then).
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(c) = cur.first_mut() {
            *c = i + 1;
        }
        let mut best = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            let v = sub.min(del).min(ins);
            if let Some(c) = cur.get_mut(j + 1) {
                *c = v;
            }
            best = best.min(v);
        }
        if best > max {
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0).min(max + 1)
}

/// A label with the usual character swaps undone (`0`→`o`, `1`→`l`, `rn`→`m`, `vv`→`w`,
/// Cyrillic and Greek letters that look Latin to their Latin twin), so that `paypa1` and
/// `раураl` both read `paypal`.
pub fn skeleton(label: &str) -> String {
    let mapped: String = label
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            '3' => 'e',
            '5' => 's',
            'а' => 'a',
            'е' => 'e',
            'о' | 'ο' => 'o',
            'р' | 'ρ' => 'p',
            'с' => 'c',
            'у' => 'y',
            'х' => 'x',
            'і' => 'l',
            'ј' => 'j',
            'ѕ' => 's',
            'ԁ' => 'd',
            'ɡ' => 'g',
            'ν' => 'v',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    mapped
        .replace("rn", "m")
        .replace("vv", "w")
        .replace('-', "")
}

/// A domain ward knows (the organisation's own or a brand's), with what the look-alike test
/// compares, worked out once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The domain as configured.
    pub domain: String,
    /// Its registrable domain.
    pub reg: String,
    /// The owner label of that.
    pub label: String,
    /// The label's [`skeleton`].
    pub skel: String,
}

impl Known {
    /// Works out a configured domain.
    pub fn new(domain: &str) -> Self {
        let d = domain.trim().to_lowercase();
        let reg = registrable(&d).to_string();
        let label = owner_label(&reg).to_string();
        let skel = skeleton(&label);
        Self {
            domain: d,
            reg,
            label,
            skel,
        }
    }

    /// Works out a list.
    pub fn list<S: AsRef<str>>(domains: &[S]) -> Vec<Self> {
        domains.iter().map(|d| Self::new(d.as_ref())).collect()
    }
}

/// How a domain imitates one of `known`: the first it resembles without being it, with how.
pub fn lookalike<'k>(domain: &str, known: &'k [Known]) -> Option<(&'k str, &'static str)> {
    let d = registrable(domain);
    let label = owner_label(d);
    if label.len() < 4 {
        return None;
    }
    if known.iter().any(|k| k.reg == d) {
        return None;
    }
    let skel = skeleton(label);
    for k in known {
        let k_label = k.label.as_str();
        if k_label.len() < 4 {
            continue;
        }
        if label == k_label {
            return Some((k.domain.as_str(), "the same name under another ending"));
        }
        if skel == k.skel {
            return Some((k.domain.as_str(), "look-alike characters"));
        }
        let max = if k_label.len() >= 8 { 2 } else { 1 };
        if edit_distance(label, k_label, max) <= max {
            return Some((k.domain.as_str(), "one or two letters changed"));
        }
        if label.len() > k_label.len() + 2
            && (label.starts_with(k_label) || label.ends_with(k_label))
        {
            return Some((k.domain.as_str(), "the name with words added"));
        }
    }
    None
}

/// How random a label looks: the share of its letters that are consonants in runs of four or
/// more, plus the share of digits mixed into letters.
pub fn randomness(label: &str) -> f32 {
    let n = label.chars().count();
    if n < 8 {
        return 0.0;
    }
    let mut run = 0usize;
    let mut in_runs = 0usize;
    let mut digits = 0usize;
    for c in label.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        }
        if c.is_ascii_alphabetic() && !"aeiouy".contains(c.to_ascii_lowercase()) {
            run += 1;
            if run == 4 {
                in_runs += 4;
            } else if run > 4 {
                in_runs += 1;
            }
        } else {
            run = 0;
        }
    }
    let mixed = if digits > 0 && digits < n {
        digits as f32 / n as f32
    } else {
        0.0
    };
    in_runs as f32 / n as f32 + mixed
}
