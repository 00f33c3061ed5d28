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
    let known = vec![
        "paypal.com".to_string(),
        "microsoft.com".to_string(),
        "mychart.com".to_string(),
    ];
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
