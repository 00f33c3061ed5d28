use ward_phish::corpus;
use ward_phish::mail::{AuthResult, Limits, Mail};

#[test]
fn a_lure_is_read_with_its_headers_links_and_attachments() {
    let m = Mail::parse(&super::fixture("lure.eml"), &Limits::default()).unwrap();
    assert_eq!(m.from.name, "IT Help Desk");
    assert_eq!(m.from.address, "support@paypa1.com");
    assert_eq!(m.from.domain(), "paypa1.com");
    assert_eq!(
        m.reply_to.as_ref().map(|r| r.address.as_str()),
        Some("harvest@collector.example.org")
    );
    assert_eq!(
        m.return_path.as_deref(),
        Some("bounce@mailer-x.example.net")
    );
    assert_eq!(m.subject, "Urgent: your mailbox will be suspended");
    assert_eq!(m.auth.spf, Some(AuthResult::Fail));
    assert_eq!(m.auth.dmarc, Some(AuthResult::Fail));
    assert_eq!(m.auth.dkim, Some(AuthResult::Other));
    assert!(m.html && m.headers);
    // the style sheet is not text; entities are decoded
    assert!(!m.text.contains("color"), "{}", m.text);
    assert!(m.text.contains("IT Help Desk & Security"), "{}", m.text);
    assert!(m.text.starts_with("Dear user,"), "{}", m.text);
    let a = m.links.iter().find(|l| l.text.is_some()).unwrap();
    assert_eq!(a.url, "http://192.168.10.5/owa/login.php");
    assert_eq!(a.text.as_deref(), Some("https://outlook.office365.com"));
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "invoice.pdf.exe");
    assert!(m.attachments[0].size > 0);
}

#[test]
fn a_plain_message_keeps_its_text_and_has_no_links() {
    let m = Mail::parse(&super::fixture("clean.eml"), &Limits::default()).unwrap();
    assert_eq!(m.from.address, "ana.lopez@hospital.example");
    assert_eq!(m.auth.spf, Some(AuthResult::Pass));
    assert!(m.links.is_empty() && !m.has_links && !m.html);
    assert!(m.text.contains("Rounds move to 9:30 tomorrow"));
    assert!(!m.text.contains('\n'));
}

#[test]
fn an_mbox_splits_only_at_from_lines_after_an_empty_line() {
    let data = super::fixture("two.mbox");
    let msgs = corpus::messages(&data);
    assert_eq!(msgs.len(), 2);
    let second = Mail::parse(msgs[1], &Limits::default()).unwrap();
    assert_eq!(second.subject, "two");
    assert!(second.text.contains("From here on"), "{}", second.text);
    // one message starting with an mbox line is one message
    assert_eq!(corpus::messages(&super::fixture("lure.eml")).len(), 1);
}

#[test]
fn nazario_rows_become_messages_without_headers() {
    let rows = corpus::read_nazario(
        &super::fixture("rows.csv")[..],
        "rows.csv",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].row, 1);
    assert_eq!(rows[0].label, Some(1));
    assert_eq!(rows[1].label, Some(0));
    let m = &rows[0].mail;
    assert!(!m.headers && m.has_links);
    assert_eq!(m.from.domain(), "paypal-secure-login.example");
    assert_eq!(m.subject, "Confirm your account");
}

#[test]
fn html_to_text_handles_comments_entities_and_unclosed_anchors() {
    use ward_phish::html::{decode_entities, text_urls, to_text};
    let cases: &[(&str, &str, usize)] = &[
        ("<p>a</p><!-- <b>hidden</b> -->b", "a b", 0),
        ("x &amp; y &#65;&#x42; &bogus; &", "x & y AB &bogus; &", 0),
        (
            "<a href='http://e.x/1'>one</a> <A HREF=http://e.x/2>two",
            "one two",
            2,
        ),
        ("<script>var a='<a href=x>'</script>ok", "ok", 0),
        ("<p>unclosed <b", "unclosed", 0),
    ];
    for (html, text, links) in cases {
        let (t, l) = to_text(html, 10);
        assert_eq!(t, *text, "{html}");
        assert_eq!(l.len(), *links, "{html}");
    }
    assert_eq!(decode_entities("&lt;&gt;&quot;"), "<>\"");
    let u = text_urls(
        "see https://a.example/x. and www.b.example, then http://c",
        10,
    );
    let got: Vec<&str> = u.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(got, ["https://a.example/x", "www.b.example", "http://c"]);
}
