use ward_respond::template::{Context, Vars, is_token, render};

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("alert.id", "a1b2".to_owned());
    v.insert("target.address", "10.0.0.5".to_owned());
    v.insert("alert.title", "Port scan\nfrom x; rm -rf /".to_owned());
    v.insert("entity.value", "-rf".to_owned());
    v.insert("step", "s p&a/ce".to_owned());
    v
}

#[test]
fn templates_render_check_and_escape() {
    let v = vars();
    type Case = (&'static str, Context, Result<&'static str, &'static str>);
    let cases: [Case; 11] = [
        ("host {target.address}", Context::Text, Ok("host 10.0.0.5")),
        (
            "{{literal}} {alert.id}",
            Context::Text,
            Ok("{literal} a1b2"),
        ),
        (
            "{alert.title}",
            Context::Text,
            Ok("Port scan from x; rm -rf /"),
        ),
        ("{target.address}", Context::Arg, Ok("10.0.0.5")),
        (
            "--host={target.address}",
            Context::Arg,
            Ok("--host=10.0.0.5"),
        ),
        ("{alert.title}", Context::Arg, Err("not a plain token")),
        ("{entity.value}", Context::Arg, Err("not a plain token")),
        (
            "https://x/?s={step}",
            Context::Url,
            Ok("https://x/?s=s%20p%26a%2Fce"),
        ),
        (
            "{nope}",
            Context::Text,
            Err("unknown template variable {nope}"),
        ),
        ("{alert.id", Context::Text, Err("without its '}'")),
        ("a } b", Context::Text, Err("lone '}'")),
    ];
    for (t, ctx, want) in cases {
        let got = render(t, &v, ctx);
        match want {
            Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{t}"),
            Err(w) => {
                let e = got.unwrap_err();
                assert!(e.contains(w), "{t}: {e}");
            }
        }
    }
}

#[test]
fn tokens() {
    for ok in ["10.0.0.5", "fe80::1", "user@x", "a_b-c.d/e:f"] {
        assert!(is_token(ok), "{ok}");
    }
    for bad in [
        "",
        "-x",
        "a b",
        "a;b",
        "$(x)",
        "`x`",
        "a\nb",
        &"x".repeat(256),
    ] {
        assert!(!is_token(bad), "{bad:?}");
    }
}

proptest::proptest! {
    /// Any template with any values renders or fails with a message, never panics; a value
    /// that lands in a command argument is always a plain token, and the literal text of the
    /// template is all that surrounds it.
    #[test]
    fn rendering_never_panics_and_arguments_stay_tokens(
        t in "[a-z{}.\\- ]{0,40}",
        value in "\\PC{0,30}",
    ) {
        let mut v = Vars::new();
        v.insert("alert.id", value.clone());
        v.insert("entity.value", value.clone());
        for ctx in [Context::Text, Context::Arg, Context::Url] {
            let _ = render(&t, &v, ctx);
        }
        if let Ok(out) = render("--id={alert.id}", &v, Context::Arg) {
            proptest::prop_assert!(is_token(&value));
            proptest::prop_assert_eq!(out, format!("--id={value}"));
        }
        if let Ok(out) = render("{alert.id}", &v, Context::Url) {
            proptest::prop_assert!(out.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        }
    }
}
