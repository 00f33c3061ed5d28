use ward_phish::mail::{Limits, Mail};
use ward_phish::{Org, Verdict, score, signals::signals};

fn codes(m: &Mail, org: &Org) -> Vec<&'static str> {
    signals(m, org).into_iter().map(|s| s.code).collect()
}

#[test]
fn a_lure_shows_every_kind_of_signal_with_reasons() {
    let m = Mail::parse(&super::fixture("lure.eml"), &Limits::default()).unwrap();
    let org = Org {
        domains: vec!["hospital.example".into()],
        ..Org::default()
    };
    let got = codes(&m, &org);
    for want in [
        "auth.spf_fail",
        "auth.dmarc_fail",
        "header.reply_to_differs",
        "header.return_path_differs",
        "sender.department_name",
        "sender.lookalike",
        "url.ip_host",
        "url.credential_path",
        "link.text_names_other_domain",
        "attach.double_extension",
        "text.urgency",
        "text.credential_request",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
    let sigs = signals(&m, &org);
    assert!(
        sigs.windows(2).all(|w| w[0].strength >= w[1].strength),
        "strongest first"
    );
    assert!(
        sigs.iter()
            .all(|s| !s.reason.is_empty() && s.strength > 0.0 && s.strength <= 1.0)
    );
    let s = score(&m, &org, None);
    assert_eq!(s.verdict, Verdict::Phishing);
    assert!(s.score >= 90);
}

#[test]
fn a_colleague_s_message_is_clean() {
    let m = Mail::parse(&super::fixture("clean.eml"), &Limits::default()).unwrap();
    let org = Org {
        domains: vec!["hospital.example".into()],
        ..Org::default()
    };
    assert!(codes(&m, &org).is_empty(), "{:?}", codes(&m, &org));
    let s = score(&m, &org, None);
    assert_eq!((s.verdict, s.score), (Verdict::Clean, 0));
}

#[test]
fn an_executive_s_name_from_outside_is_flagged_and_from_inside_is_not() {
    let org = Org {
        domains: vec!["hospital.example".into()],
        executives: vec!["Maria Chen".into()],
        ..Org::default()
    };
    let outside = Mail::from_fields(
        "Maria Chen <ceo.office@gmail.com>",
        "quick favour",
        "are you at your desk",
        false,
        &Limits::default(),
    );
    assert!(codes(&outside, &org).contains(&"sender.executive_name"));
    let inside = Mail::from_fields(
        "Maria Chen <maria.chen@hospital.example>",
        "quick favour",
        "are you at your desk",
        false,
        &Limits::default(),
    );
    assert!(!codes(&inside, &org).contains(&"sender.executive_name"));
    // header signals are not judged on rows without headers
    assert!(
        codes(&outside, &org)
            .iter()
            .all(|c| !c.starts_with("auth.") && !c.starts_with("header."))
    );
}

#[test]
fn attachments_by_kind() {
    use ward_phish::mail::Attachment;
    let cases = [
        ("scan.pdf.exe", "attach.double_extension"),
        ("setup.exe", "attach.executable"),
        ("invoice.iso", "attach.disk_image"),
        ("budget.xlsm", "attach.macro_document"),
        ("secure-message.html", "attach.html"),
        ("files.zip", "attach.archive"),
    ];
    for (name, code) in cases {
        let mut m = Mail::from_fields("a <a@example.com>", "s", "b", false, &Limits::default());
        m.attachments.push(Attachment {
            name: name.into(),
            content_type: String::new(),
            size: 10,
        });
        assert!(codes(&m, &Org::default()).contains(&code), "{name}");
    }
    let mut m = Mail::from_fields("a <a@example.com>", "s", "b", false, &Limits::default());
    m.attachments.push(Attachment {
        name: "report.pdf".into(),
        content_type: "application/pdf".into(),
        size: 10,
    });
    assert!(
        codes(&m, &Org::default())
            .iter()
            .all(|c| !c.starts_with("attach."))
    );
}
