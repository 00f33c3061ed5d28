use ward_phish::combiner::{self, Context};
use ward_phish::mail::{Limits, Mail};
use ward_phish::model::{Example, TextModel, TrainOptions};
use ward_phish::urlmodel::UrlModel;
use ward_phish::{Org, PhishModel, Thresholds, Verdict, score, signals::signals, text};

fn example(subject: &str, body: &str, class: usize) -> (Mail, Example) {
    let m = Mail::from_fields(
        "x <x@example.com>",
        subject,
        body,
        false,
        &Limits::default(),
    );
    let f = text::features(&m, &signals(&m, &Org::default()));
    (
        m,
        Example {
            features: f.iter().map(|f| f.id).collect(),
            class,
        },
    )
}

fn corpus() -> Vec<(Mail, Example)> {
    let mut out = Vec::new();
    for i in 0..30 {
        out.push(example(
            &format!("minutes {i}"),
            "the committee meeting notes are attached for review by the team",
            0,
        ));
        out.push(example(
            &format!("sale {i}"),
            "huge discount on watches buy now cheap prices unsubscribe",
            1,
        ));
        out.push(example(
            &format!("alert {i}"),
            "verify your account password now or your mailbox will be suspended",
            2,
        ));
    }
    out
}

#[test]
fn the_model_learns_the_classes_and_explains_a_phishing_score() {
    let data = corpus();
    let ex: Vec<Example> = data.iter().map(|(_, e)| e.clone()).collect();
    let t = TextModel::train(&ex, &TrainOptions::default()).unwrap();
    assert_eq!(t.trained_on, [30, 30, 30]);
    let model = PhishModel::new(t, Thresholds::default());
    let (m, _) = example("notice", "please verify your account password today", 2);
    let s = score(&m, &Org::default(), Some(&model));
    assert_eq!(s.verdict, Verdict::Phishing, "{s:?}");
    let why = s
        .reasons
        .iter()
        .find(|r| r.code == "model.wording")
        .unwrap();
    assert!(
        why.text.contains("verify") || why.text.contains("password"),
        "{}",
        why.text
    );
    let (m, _) = example("notes", "the committee meeting notes for the team", 0);
    assert_eq!(
        score(&m, &Org::default(), Some(&model)).verdict,
        Verdict::Clean
    );
}

#[test]
fn training_is_deterministic_and_needs_two_classes() {
    let ex: Vec<Example> = corpus().into_iter().map(|(_, e)| e).collect();
    let a = TextModel::train(&ex, &TrainOptions::default()).unwrap();
    let b = TextModel::train(&ex, &TrainOptions::default()).unwrap();
    assert_eq!(a, b);
    // the same training gives the same model file, URL model included
    let urls: Vec<(String, bool)> = (0..40)
        .map(|i| {
            (
                format!(
                    "http://h{i}.example/{}",
                    if i % 2 == 0 { "login.php" } else { "news" }
                ),
                i % 2 == 0,
            )
        })
        .collect();
    let file = || {
        let mut m = PhishModel::new(a.clone(), Thresholds::default());
        m.urls = Some(ward_phish::urlmodel::UrlModel::train(&urls, &[]).unwrap());
        m.to_bytes().unwrap()
    };
    assert_eq!(file(), file());
    let one: Vec<Example> = ex.into_iter().filter(|e| e.class == 2).collect();
    let e = TextModel::train(&one, &TrainOptions::default()).unwrap_err();
    assert!(e.to_string().contains("two classes"), "{e}");
}

#[test]
fn a_model_file_round_trips_and_a_changed_one_is_refused() {
    let ex: Vec<Example> = corpus().into_iter().map(|(_, e)| e).collect();
    let m = PhishModel::new(
        TextModel::train(&ex, &TrainOptions::default()).unwrap(),
        Thresholds::default(),
    );
    let bytes = m.to_bytes().unwrap();
    assert_eq!(
        PhishModel::from_bytes(&bytes).unwrap().to_bytes().unwrap(),
        bytes
    );
    let mut bad = bytes.clone();
    let last = bad.len() - 2;
    bad[last] ^= 1;
    assert!(
        PhishModel::from_bytes(&bad)
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
    assert!(PhishModel::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(PhishModel::from_bytes(b"").is_err());
    assert!(PhishModel::from_bytes(b"something else\n{}").is_err());
}

#[test]
fn feature_ids_are_the_ids_of_the_named_features() {
    let m = Mail::from_fields(
        "IT <it@x.example>",
        "Verify your mailbox",
        "Your mailbox will be suspended: verify at http://x.example/login today, 24 hours",
        true,
        &Limits::default(),
    );
    let sigs = signals(&m, &Org::default());
    let mut named: Vec<u32> = text::features(&m, &sigs).iter().map(|f| f.id).collect();
    named.sort_unstable();
    assert_eq!(text::feature_ids(&m, &sigs), named);
}

/// Trains on `data` with each message's context (computed with `urls`).
fn train(data: &[(Mail, Example)], urls: Option<UrlModel>) -> PhishModel {
    let ex: Vec<Example> = data.iter().map(|(_, e)| e.clone()).collect();
    let ctx: Vec<Context> = data
        .iter()
        .map(|(m, _)| combiner::context(m, &signals(m, &Org::default()), urls.as_ref()))
        .collect();
    ward_phish::train(
        &ex,
        &ctx,
        urls,
        &TrainOptions::default(),
        Thresholds::default(),
    )
    .unwrap()
}

#[test]
fn training_fits_a_combiner_and_sets_the_threshold_within_bounds() {
    let m = train(&corpus(), None);
    assert!(m.combiner.is_some());
    let th = Thresholds::default();
    assert!(
        (th.suspicious..=th.phishing).contains(&m.thresholds.phishing),
        "{:?}",
        m.thresholds
    );
    let bytes = m.to_bytes().unwrap();
    let back = PhishModel::from_bytes(&bytes).unwrap();
    assert_eq!(
        back.combiner.as_ref().unwrap().weights(),
        m.combiner.as_ref().unwrap().weights()
    );
    assert_eq!(back.thresholds, m.thresholds);
    let (mail, _) = example(
        "alert",
        "verify your account password now or your mailbox will be suspended",
        2,
    );
    let s = score(&mail, &Org::default(), Some(&back));
    assert!(s.probability.unwrap() > 0.5, "{s:?}");
    assert_eq!(s.verdict, Verdict::Phishing, "{s:?}");
    let (mail, _) = example(
        "minutes",
        "the committee meeting notes are attached for review by the team",
        0,
    );
    let s = score(&mail, &Org::default(), Some(&back));
    assert_eq!(s.verdict, Verdict::Clean, "{s:?}");
}

#[test]
fn training_inputs_must_agree_in_length() {
    let ex: Vec<Example> = corpus().into_iter().map(|(_, e)| e).collect();
    let err = ward_phish::train(
        &ex,
        &[Context::default()],
        None,
        &TrainOptions::default(),
        Thresholds::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("contexts"), "{err}");
    assert!(combiner::Combiner::fit(&[0.5], &[], &[true]).is_err());
}

#[test]
fn evidence_seen_more_in_ham_is_left_out_rather_than_weighed_against_phishing() {
    // URL signals in every ham message and in no phishing: a free weight would be negative
    let n = 200;
    let text: Vec<f32> = (0..n).map(|i| if i % 2 == 0 { 0.3 } else { 0.6 }).collect();
    let phishing: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
    let ctx: Vec<Context> = (0..n)
        .map(|i| Context {
            url_signals: if i % 2 == 0 { 0.9 } else { 0.0 },
            link_signals: if i % 2 == 1 && i % 3 == 0 { 0.9 } else { 0.0 },
            ..Context::default()
        })
        .collect();
    let c = combiner::Combiner::fit(&text, &ctx, &phishing).unwrap();
    assert!(c.dropped().any(|d| d == "url_signals"));
    assert!(!c.weighs("url.ip_host"));
    assert!(c.weighs("link.text_names_other_domain"));
    for (name, w) in combiner::INPUTS.iter().zip(c.weights()).skip(1) {
        assert!(*w >= 0.0, "{name} {w}");
    }
    // a URL signal then cannot lower the probability
    let plain = c.probability(0.6, &Context::default());
    let with = c.probability(
        0.6,
        &Context {
            url_signals: 0.9,
            ..Context::default()
        },
    );
    assert!(with >= plain, "{with} < {plain}");
}

#[test]
fn the_context_names_the_worst_link() {
    let urls: Vec<(String, bool)> = (0..100)
        .map(|i| {
            if i % 2 == 0 {
                (
                    format!("http://198.51.100.{i}/secure/login/verify.php"),
                    true,
                )
            } else {
                (format!("https://www.site{i}.example/"), false)
            }
        })
        .collect();
    let um = UrlModel::train(&urls, &[]).unwrap();
    let m = Mail::from_fields(
        "x <x@example.com>",
        "hello",
        "see https://www.site7.example/ and http://198.51.100.9/secure/login/verify.php",
        true,
        &Limits::default(),
    );
    let c = combiner::context(&m, &signals(&m, &Org::default()), Some(&um));
    let worst = c.worst_index.and_then(|i| m.links.get(i)).unwrap();
    assert!(worst.url.contains("198.51.100.9"), "{worst:?}");
    assert!(c.worst_link > 0.5, "{c:?}");
    assert!(c.url_signals > 0.0, "{c:?}");
    assert_eq!(combiner::context(&m, &[], None).worst_index, None);
}

#[test]
fn the_url_model_alone_never_makes_clean_mail_suspicious() {
    // a URL model that takes list links for phishing
    let urls: Vec<(String, bool)> = (0..100)
        .map(|i| {
            if i % 2 == 0 {
                (
                    format!("http://lists.example{i}.org/mailman/listinfo/x{i}"),
                    true,
                )
            } else {
                (format!("https://www.site{i}.example/"), false)
            }
        })
        .collect();
    let m = train(&corpus(), Some(UrlModel::train(&urls, &[]).unwrap()));
    let mail = Mail::from_fields(
        "x <x@example.com>",
        "minutes",
        "the committee meeting notes are attached for review by the team http://lists.example7.org/mailman/listinfo/x7",
        true,
        &Limits::default(),
    );
    // the URL model dislikes the link, yet the message stays clean
    let ctx = combiner::context(&mail, &signals(&mail, &Org::default()), m.urls.as_ref());
    assert!(ctx.worst_link >= 0.9, "{ctx:?}");
    let s = score(&mail, &Org::default(), Some(&m));
    assert_eq!(s.verdict, Verdict::Clean, "{s:?}");
    // and when the combiner leaves the URL model out, its rule only raises suspicious mail
    let mut rule = m.clone();
    rule.combiner = None;
    let s = score(&mail, &Org::default(), Some(&rule));
    assert!(
        s.reasons
            .iter()
            .any(|r| r.code == "url.model" && r.strength >= 0.9),
        "{s:?}"
    );
    assert_eq!(s.verdict, Verdict::Clean, "{s:?}");
}
