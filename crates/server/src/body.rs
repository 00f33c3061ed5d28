//! Reading JSON request bodies with errors that say where and what, without echoing values.

use crate::ApiError;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// The media type of a request (`application/json` from `application/json; charset=utf-8`),
/// lowercase; `None` when the header is absent or not text.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let t = v.split(';').next()?.trim().to_ascii_lowercase();
    (!t.is_empty()).then_some(t)
}

/// The body of a request, or the JSON error for why it could not be read: 413 past the
/// size limit (also when no Content-Length was sent), 400 for a broken upload.
pub(crate) fn bytes(raw: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    })
}

/// A path parameter, or the JSON 404 for `what` when it cannot be read (invalid UTF-8 or
/// percent-encoding): no such resource can have that name.
pub(crate) fn path<T>(
    raw: Result<Path<T>, PathRejection>,
    what: &'static str,
) -> Result<T, ApiError> {
    raw.map(|Path(v)| v).map_err(|_| ApiError::NotFound(what))
}

/// Decodes a JSON body into `T`. The content type must be `application/json` (415
/// otherwise); an empty body is read as `{}` so routes whose fields are all optional accept
/// it. Malformed JSON and wrong fields are 400 with the line, column and reason.
pub(crate) fn json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let empty = body.iter().all(u8::is_ascii_whitespace);
    match media_type(headers).as_deref() {
        Some("application/json") => {}
        None if empty => {}
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as Content-Type: application/json".into(),
            ));
        }
    }
    let text: &[u8] = if empty { b"{}" } else { body };
    serde_json::from_slice(text).map_err(|e| ApiError::BadRequest(describe(&e)))
}

/// `malformed JSON body at line 1, column 9: expected value`, with double-quoted strings
/// (the values a client sent) replaced by `"…"`, and what serde got (in backticks, before
/// "expected") replaced by `…`; the expected fields and values stay, so the message says
/// what would be right.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax | Category::Eof => "malformed JSON body",
        Category::Data => "wrong JSON body",
        Category::Io => "unreadable JSON body",
    };
    let full = e.to_string();
    // serde_json appends " at line L column C"; keep our own wording of the position.
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(r, _)| r);
    let reason = redact_unexpected(&redact_strings(reason));
    format!(
        "{what} at line {}, column {}: {reason}",
        e.line(),
        e.column()
    )
}

/// serde names what it got in backticks (an unknown field or enum value, a number), then what
/// it expected, also in backticks. Keeps the expected part and redacts the rest: everything
/// in backticks before the word "expected" becomes `…`.
fn redact_unexpected(s: &str) -> String {
    // "missing field `x`" and "duplicate field `x`" name our own fields: keep them.
    const ECHOING: [&str; 4] = [
        "unknown ",
        "invalid type",
        "invalid value",
        "invalid length",
    ];
    if !ECHOING.iter().any(|p| s.starts_with(p)) {
        return s.to_owned();
    }
    let (head, tail) = match s.find("expected") {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let mut out = redact_between(head, '`');
    out.push_str(tail);
    out
}

/// Replaces the content of every double-quoted string with `…`.
fn redact_strings(s: &str) -> String {
    redact_between(s, '"')
}

/// Replaces whatever stands between each pair of `delim` with `…`, keeping the delimiters.
fn redact_between(s: &str, delim: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut inside = false;
    for c in s.chars() {
        if c == delim {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(c);
        } else if !inside {
            out.push(c);
        }
    }
    out
}

/// A query parameter's name as it may appear in an error: short identifiers as they are,
/// anything else (it may be a pasted value) as `(unprintable)`.
pub(crate) fn shown_name(name: &str) -> &str {
    if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        name
    } else {
        "(unprintable)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        username: String,
        password: String,
    }

    fn check(ct: Option<&str>, body: &str, expect: Result<(), &str>) {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_str(ct).unwrap_or_else(|_| panic!()),
            );
        }
        let got = json::<Login>(&h, &Bytes::from(body.to_owned()));
        match (got, expect) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(needle)) => {
                let m = e.to_string();
                assert!(m.contains(needle), "{body:?}: {m}");
                assert!(!m.contains("Jane"), "{body:?} echoed a value: {m}");
            }
            (got, want) => panic!("{body:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn bodies_are_checked_and_described() {
        let j = Some("application/json");
        check(j, r#"{"username":"a","password":"b"}"#, Ok(()));
        check(
            Some("Application/JSON; charset=utf-8"),
            r#"{"username":"a","password":"b"}"#,
            Ok(()),
        );
        check(
            j,
            r#"{"username":"a""#,
            Err("malformed JSON body at line 1, column 15"),
        );
        check(j, "{\n  \"username\": }", Err("line 2, column"));
        check(j, r#"{"username":"a"}"#, Err("missing field `password`"));
        check(
            j,
            r#"{"username":"a","password":"b","x":1}"#,
            Err("unknown field `…`, expected `username` or `password`"),
        );
        check(
            j,
            r#"{"username":1,"password":"Jane Doe"}"#,
            Err("wrong JSON body"),
        );
        check(
            j,
            r#"{"username":["Jane Doe"],"password":"x"}"#,
            Err("invalid type"),
        );
        check(j, "", Err("missing field"));
        check(
            j,
            r#"{"username":12345678,"password":"b"}"#,
            Err("invalid type: integer `…`"),
        );
        check(
            Some("text/plain"),
            r#"{"username":"a","password":"b"}"#,
            Err("application/json"),
        );
        check(
            None,
            r#"{"username":"a","password":"b"}"#,
            Err("application/json"),
        );
        check(j, "\u{0}\u{1}", Err("malformed JSON"));
    }

    #[test]
    fn got_values_are_redacted_and_expected_ones_kept() {
        assert_eq!(
            redact_unexpected("unknown variant `Jane`, expected one of `a`, `b`"),
            "unknown variant `…`, expected one of `a`, `b`"
        );
        assert_eq!(
            redact_unexpected("invalid value: integer `12345`, expected u8"),
            "invalid value: integer `…`, expected u8"
        );
        assert_eq!(redact_unexpected("no backticks"), "no backticks");
        assert_eq!(
            redact_unexpected("missing field `password`"),
            "missing field `password`"
        );
    }

    #[test]
    fn strings_are_redacted() {
        assert_eq!(
            redact_strings(r#"invalid type: string "Jane Doe", expected `u8`"#),
            r#"invalid type: string "…", expected `u8`"#
        );
        assert_eq!(redact_strings(r#"unclosed "abc"#), r#"unclosed ""#);
    }
}
