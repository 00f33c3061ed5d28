//! HTML to text and links, tolerant of broken markup and bounded in time (one pass over the
//! input; no tag nesting is tracked beyond the anchor being read).

/// A link of a message: its target and, for an HTML anchor, the text shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// The target as written (`href`, or the URL found in text).
    pub url: String,
    /// The anchor text, whitespace collapsed (`None` for a URL found in plain text).
    pub text: Option<String>,
}

/// The visible text of an HTML document (tags removed, `script` and `style` skipped, common
/// entities decoded, whitespace collapsed) and its anchors, at most `max_links` of them.
pub fn to_text(html: &str, max_links: usize) -> (String, Vec<Link>) {
    let mut text = String::with_capacity(html.len() / 2);
    let mut links = Vec::new();
    // the anchor being read: its href and where its text starts in `text`
    let mut anchor: Option<(String, usize)> = None;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut text, rest.get(..lt).unwrap_or_default());
        rest = rest.get(lt..).unwrap_or_default();
        let Some(gt) = rest.find('>') else {
            // an unclosed tag: the rest is not shown
            rest = "";
            break;
        };
        let tag = rest.get(1..gt).unwrap_or_default();
        rest = rest.get(gt + 1..).unwrap_or_default();
        if tag.starts_with("!--") {
            // a comment: skip to its end (the `>` found may be inside it)
            let body = tag.get(3..).unwrap_or_default();
            if !body.ends_with("--") {
                match rest.find("-->") {
                    Some(e) => rest = rest.get(e + 3..).unwrap_or_default(),
                    None => rest = "",
                }
            }
            continue;
        }
        let name = tag_name(tag);
        match name.as_str() {
            "script" | "style" | "title" | "head" => {
                let close = format!("</{name}");
                match find_ci(rest, &close) {
                    Some(e) => {
                        rest = rest.get(e..).unwrap_or_default();
                    }
                    None => rest = "",
                }
            }
            "a" => {
                if let Some((href, start)) = anchor.take() {
                    close_anchor(&mut links, &text, href, start, max_links);
                }
                if let Some(href) = attribute(tag, "href") {
                    anchor = Some((decode_entities(&href), text.len()));
                }
            }
            "/a" => {
                if let Some((href, start)) = anchor.take() {
                    close_anchor(&mut links, &text, href, start, max_links);
                }
            }
            _ => {
                if block(&name) && !text.ends_with(' ') {
                    text.push(' ');
                }
            }
        }
    }
    push_text(&mut text, rest);
    if let Some((href, start)) = anchor.take() {
        close_anchor(&mut links, &text, href, start, max_links);
    }
    (text.trim().to_string(), links)
}

fn close_anchor(links: &mut Vec<Link>, text: &str, href: String, start: usize, max: usize) {
    if links.len() >= max || href.trim().is_empty() {
        return;
    }
    let shown = collapse(text.get(start..).unwrap_or_default());
    links.push(Link {
        url: href.trim().to_string(),
        text: Some(shown),
    });
}

/// Appends decoded text, collapsing whitespace.
fn push_text(out: &mut String, raw: &str) {
    if raw.is_empty() {
        return;
    }
    let decoded = decode_entities(raw);
    for c in decoded.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// Whitespace runs to one space, trimmed.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tag_name(tag: &str) -> String {
    let t = tag.trim_start();
    let end = t
        .find(|c: char| c.is_whitespace() || c == '>' || (c == '/' && !t.starts_with('/')))
        .unwrap_or(t.len());
    t.get(..end).unwrap_or_default().to_ascii_lowercase()
}

fn block(name: &str) -> bool {
    matches!(
        name.trim_start_matches('/'),
        "p" | "br"
            | "div"
            | "tr"
            | "td"
            | "th"
            | "li"
            | "ul"
            | "ol"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "body"
            | "center"
            | "blockquote"
            | "pre"
    )
}

/// The first position of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

/// The value of attribute `name` in a tag's inside (`a href="x" ...`), quoted or not.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|s| s.find(name)) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0
            || lower
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| b.is_ascii_whitespace());
        let after = lower.get(at + name.len()..).unwrap_or_default();
        let after_trim = after.trim_start();
        if !before_ok || !after_trim.starts_with('=') {
            continue;
        }
        // the value, from the original tag (same byte offsets: ASCII lower-casing)
        let off = tag.len() - after_trim.len() + 1;
        let v = tag.get(off..).unwrap_or_default().trim_start();
        let value = match v.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = v.get(1..).unwrap_or_default();
                inner
                    .get(..inner.find(q).unwrap_or(inner.len()))
                    .unwrap_or_default()
            }
            _ => v
                .get(..v.find(|c: char| c.is_whitespace()).unwrap_or(v.len()))
                .unwrap_or_default(),
        };
        return Some(value.to_string());
    }
    None
}

/// Decodes the common named entities and numeric references; anything else stays as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        rest = rest.get(amp..).unwrap_or_default();
        let semi = rest.get(..rest.len().min(12)).and_then(|w| w.find(';'));
        let decoded = semi.and_then(|e| {
            let name = rest.get(1..e)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = rest.get(len..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URLs written in plain text (`http://`, `https://`, `www.`), at most `max`.
pub fn text_urls(text: &str, max: usize) -> Vec<Link> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    const STARTS: [&str; 3] = ["http://", "https://", "www."];
    let find = |p: &str, from: usize| lower.get(from..).and_then(|s| s.find(p)).map(|i| from + i);
    // the next place of each start at or after `from` (none: no more), each looked for again
    // only once passed, so that the text is read once per start, not once per link
    let mut next = STARTS.map(|p| find(p, 0));
    let mut from = 0;
    while out.len() < max {
        for (n, p) in next.iter_mut().zip(STARTS) {
            if n.is_some_and(|i| i < from) {
                *n = find(p, from);
            }
        }
        let Some(start) = next.iter().flatten().min().copied() else {
            break;
        };
        let tail = text.get(start..).unwrap_or_default();
        let len = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ')' | ']'))
            .unwrap_or(tail.len());
        let url = tail
            .get(..len)
            .unwrap_or_default()
            .trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if url.len() > 4 {
            out.push(Link {
                url: url.to_string(),
                text: None,
            });
        }
        from = start + len.max(1);
    }
    out
}
