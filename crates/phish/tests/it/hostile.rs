//! Malformed, hostile and huge input: a verdict of `unparseable` with the reason, or a parse,
//! within bounded time; never a panic.

use std::time::{Duration, Instant};
use ward_phish::mail::{Limits, Mail};
use ward_phish::{Org, Unparseable, corpus, score};

#[test]
fn bad_messages_get_a_reason() {
    let limits = Limits {
        max_bytes: 1000,
        max_headers: 50,
        max_parts: 20,
        ..Limits::default()
    };
    let many_headers: Vec<u8> = "X-A: b\n".repeat(60).into_bytes();
    let cases: Vec<(Vec<u8>, Unparseable)> = vec![
        (Vec::new(), Unparseable::Empty),
        (b"  \r\n".to_vec(), Unparseable::Empty),
        (
            vec![b'a'; 2000],
            Unparseable::TooLarge {
                size: 2000,
                limit: 1000,
            },
        ),
        (many_headers, Unparseable::TooManyHeaders { limit: 50 }),
        (super::fixture("notmail.eml"), Unparseable::NotMail),
    ];
    for (raw, want) in cases {
        assert_eq!(Mail::parse(&raw, &limits).unwrap_err(), want);
    }
}

#[test]
fn too_many_parts_and_deep_nesting_are_bounded() {
    let limits = Limits {
        max_parts: 50,
        ..Limits::default()
    };
    let mut m = String::from("From: a@b.c\nContent-Type: multipart/mixed; boundary=\"x\"\n\n");
    for i in 0..200 {
        m.push_str(&format!("--x\nContent-Type: text/plain\n\npart {i}\n"));
    }
    m.push_str("--x--\n");
    assert!(matches!(
        Mail::parse(m.as_bytes(), &limits),
        Err(Unparseable::TooManyParts { .. })
    ));

    // a message nested in a message, 2,000 deep
    let depth = 2000;
    let mut nested = String::new();
    for _ in 0..depth {
        nested.push_str("From: a@b.c\nContent-Type: message/rfc822\n\n");
    }
    nested.push_str("From: a@b.c\nSubject: inner\n\nhello\n");
    let t = Instant::now();
    let _ = Mail::parse(nested.as_bytes(), &Limits::default());
    assert!(t.elapsed() < Duration::from_secs(10));

    // multipart boundaries nested 500 deep
    let mut deep = String::from("From: a@b.c\n");
    for i in 0..500 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\n\nbottom\n");
    let t = Instant::now();
    let _ = Mail::parse(deep.as_bytes(), &Limits::default());
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn broken_mime_and_bombs_never_panic_and_are_not_unpacked() {
    let raws: Vec<Vec<u8>> = vec![
        b"From: a@b.c\nContent-Type: multipart/mixed; boundary=\n\n--\n--\n".to_vec(),
        b"From: a@b.c\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!".to_vec(),
        b"From: =?utf-8?B?////?= <a@b.c>\nSubject: =?bogus?Q?x?=\n\nx".to_vec(),
        b"From: a@b.c\nContent-Type: text/html\n\n<a href=\"".to_vec(),
        b"From: a@b.c\nContent-Type: text/html\n\n"
            .iter()
            .copied()
            .chain("<a href=x>".repeat(5000).bytes())
            .collect(),
        {
            // a zip bomb's shape: a small archive attachment; ward judges its name only
            let mut z = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: application/zip; name=\"42.zip\"\nContent-Transfer-Encoding: base64\n\n".to_vec();
            z.extend("UEsDBBQAAAAIAAAAIQA".repeat(100).bytes());
            z.extend(b"\n--z--\n");
            z
        },
        (0u8..=255).cycle().take(20_000).collect(),
    ];
    for raw in &raws {
        if let Ok(m) = Mail::parse(raw, &Limits::default()) {
            let s = score(&m, &Org::default(), None);
            assert!(s.score <= 100);
            assert!(m.links.len() <= Limits::default().max_links);
        }
    }
    let m = Mail::parse(&raws[5], &Limits::default()).unwrap();
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "42.zip");
}

#[test]
fn long_text_is_cut_and_noted() {
    let limits = Limits {
        max_text: 100,
        ..Limits::default()
    };
    let body = "word ".repeat(1000);
    let raw = format!("From: a@b.c\nSubject: s\n\n{body}");
    let m = Mail::parse(raw.as_bytes(), &limits).unwrap();
    assert_eq!(m.text.chars().count(), 100);
    assert!(m.notes.iter().any(|n| n.contains("cut")));
}

#[test]
fn a_bad_csv_row_is_named() {
    let cases: &[(&str, u64, &str)] = &[
        ("sender,subject\nx,y\n", 0, "columns"),
        ("sender,subject,body,urls\na,b,c,1\nd,e\n", 2, "2 fields"),
        ("sender,subject,body,label\na,b,c,7\n", 1, "0 or 1"),
    ];
    for (csv, row, what) in cases {
        let e = corpus::read_nazario(csv.as_bytes(), "t.csv", &Limits::default()).unwrap_err();
        let s = e.to_string();
        assert!(s.contains(&format!("row {row}")) && s.contains(what), "{s}");
    }
    let bad_utf8 = b"sender,subject,body\na,b,\xff\xfe\n";
    let e = corpus::read_nazario(&bad_utf8[..], "t.csv", &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("row 1"), "{e}");
}

#[test]
fn text_that_does_not_begin_with_a_header_is_not_mail() {
    for raw in [
        "hello",
        "hello world\n\nbody",
        ": no name\n\nx",
        "\u{feff}x: y\n\nz",
    ] {
        assert_eq!(
            Mail::parse(raw.as_bytes(), &Limits::default()).unwrap_err(),
            Unparseable::NotMail,
            "{raw:?}"
        );
    }
    assert!(Mail::parse(b"Subject: fine\r\n\r\nbody", &Limits::default()).is_ok());
}
