use ward_phish::url::{edit_distance, is_ip, lookalike, parse, randomness, registrable};

#[test]
fn urls_split_into_their_parts() {
    let p = parse("https://paypal.com@evil.example:8080/login?x=1").unwrap();
    assert_eq!(
        (
            p.scheme.as_str(),
            p.userinfo,
            p.host.as_str(),
            p.port,
            p.rest.as_str()
        ),
        ("https", true, "evil.example", Some(8080), "/login?x=1")
    );
    let p = parse("www.Example.COM./a").unwrap();
    assert_eq!(
        (p.scheme.as_str(), p.host.as_str()),
        ("", "www.example.com")
    );
    assert_eq!(parse("http://[::1]:81/").unwrap().port, Some(81));
    for bad in [
        "",
        "mailto:x@y",
        "http://",
        "javascript:alert(1)",
        "http:///x",
    ] {
        assert!(parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn hosts_and_domains() {
    for (host, ip) in [
        ("10.0.0.1", true),
        ("3232235777", true),
        ("0x7f000001", true),
        ("[::1]", true),
        ("a.b.c.d", false),
        ("1.2.3", false),
    ] {
        assert_eq!(is_ip(host), ip, "{host}");
    }
    for (host, reg) in [
        ("a.b.example.com", "example.com"),
        ("x.nhs.uk", "x.nhs.uk"),
        ("www.bank.co.uk", "bank.co.uk"),
        ("localhost", "localhost"),
        ("10.0.0.1", "10.0.0.1"),
    ] {
        assert_eq!(registrable(host), reg, "{host}");
    }
}

#[test]
fn lookalikes_are_told_from_the_real_domain() {
    let known = ward_phish::url::Known::list(&["paypal.com", "microsoft.com", "mychart.com"]);
    for (d, hit) in [
        ("paypa1.com", Some("paypal.com")),
        ("rnicrosoft.com", Some("microsoft.com")),
        ("paypal.co", Some("paypal.com")),
        ("mychart-login.com", Some("mychart.com")),
        ("paypal.com", None),
        ("login.paypal.com", None),
        ("example.org", None),
        ("pay.com", None),
    ] {
        assert_eq!(lookalike(d, &known).map(|(k, _)| k), hit, "{d}");
    }
    assert_eq!(edit_distance("kitten", "sitting", 5), 3);
    assert_eq!(edit_distance("a", "abcdef", 2), 3);
    assert!(randomness("xkqzvbtrwplm") >= 0.5);
    assert!(randomness("hospital") < 0.5);
}

#[test]
fn url_lists_read_as_text_or_csv_and_bad_rows_are_named() {
    use ward_phish::corpus::read_urls;
    let rows = read_urls(
        b"# links\nhttp://a.example/\n\n  https://b.example/x  \n",
        "l.txt",
    )
    .unwrap();
    let got: Vec<(u64, &str)> = rows.iter().map(|r| (r.row, r.url.as_str())).collect();
    assert_eq!(got, [(2, "http://a.example/"), (4, "https://b.example/x")]);
    let rows = read_urls(
        b"url,length,status\nhttp://a.example/,18,legitimate\nhttp://1.2.3.4/x,16,phishing\n",
        "u.csv",
    )
    .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.phishing).collect::<Vec<_>>(),
        [Some(false), Some(true)]
    );
    let rows = read_urls(
        b"label,url\n1,http://x.example\n0,http://y.example\n",
        "u.csv",
    )
    .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.phishing).collect::<Vec<_>>(),
        [Some(true), Some(false)]
    );
    for (data, row) in [
        (&b"url,status\nhttp://a,maybe\n"[..], "row 1"),
        (&b"url,label\nhttp://a,1\nhttp://b,2\n"[..], "row 2"),
        (&b"http://a\n\xff\n"[..], "row 2"),
    ] {
        let e = read_urls(data, "f").unwrap_err().to_string();
        assert!(e.contains(row), "{e}");
    }
}

#[test]
fn the_url_model_learns_from_the_string_alone() {
    use ward_phish::urlmodel::{FEATURES, UrlModel, features};
    assert_eq!(
        features("http://a.example/x?y=1", &[]).len(),
        FEATURES.len()
    );
    assert!(
        features("not a url", &[]).iter().any(|v| v.is_nan()),
        "parts a URL lacks are NaN"
    );
    let mut urls = Vec::new();
    for i in 0..150 {
        urls.push((format!("https://www.site{i}.example/articles/{i}"), false));
        urls.push((
            format!(
                "http://10.{}.{}.7/secure/login.php?acct={i}",
                i % 200,
                i % 7
            ),
            true,
        ));
    }
    let m = UrlModel::train(&urls, &[]).unwrap();
    assert!(m.probability("http://10.9.8.7/secure/login.php?acct=99999") > 0.8);
    assert!(m.probability("https://www.site777.example/articles/777") < 0.2);
    let only_one: Vec<(String, bool)> = urls.into_iter().filter(|u| u.1).collect();
    assert!(UrlModel::train(&only_one, &[]).is_err());
}
