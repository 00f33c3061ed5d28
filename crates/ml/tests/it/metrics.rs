//! Metrics against hand-computed values.

use proptest::prelude::*;
use ward_ml::MlError;
use ward_ml::metrics::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// `(labels, scores, roc_auc, average_precision)`, computed by hand.
fn check_auc(labels: &[u32], scores: &[f32], auc: f64, ap: f64) {
    let got = roc_auc(labels, scores).unwrap();
    assert!(
        close(got, auc),
        "roc_auc({labels:?}, {scores:?}) = {got}, expected {auc}"
    );
    let got = average_precision(labels, scores).unwrap();
    assert!(
        close(got, ap),
        "average_precision({labels:?}, {scores:?}) = {got}, expected {ap}"
    );
}

#[test]
fn auc_and_average_precision_match_hand_computed_values() {
    // Three of four positive/negative pairs ordered correctly; AP = 1/2 * 1 + 1/2 * 2/3.
    check_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8], 0.75, 5.0 / 6.0);
    // A tie between a positive and a negative counts one half: (0.5 + 1 + 1 + 1) / 4.
    // AP: threshold 0.9 -> P 1, R 1/2; threshold 0.5 -> P 2/3, R 1.
    check_auc(
        &[0, 1, 0, 1],
        &[0.5, 0.5, 0.2, 0.9],
        0.875,
        0.5 + 0.5 * 2.0 / 3.0,
    );
    // All scores tied: AUC one half, AP the base rate.
    check_auc(&[0, 1, 0, 1], &[0.3; 4], 0.5, 0.5);
    // Perfect and perfectly wrong rankings.
    check_auc(&[0, 0, 1], &[0.1, 0.2, 0.9], 1.0, 1.0);
    check_auc(&[1, 0, 0], &[0.1, 0.2, 0.9], 0.0, 1.0 / 3.0);
    // A tied group holding both classes is one step: R 1/2 at P 1/2, then R 1 at P 2/3.
    check_auc(
        &[1, 0, 1],
        &[0.9, 0.9, 0.1],
        0.25,
        0.5 * 0.5 + 0.5 * 2.0 / 3.0,
    );
}

#[test]
fn binary_metrics_reject_bad_input() {
    let cases: Vec<(&[u32], &[f32])> = vec![
        (&[], &[]),
        (&[0, 1], &[0.5]),
        (&[0, 2], &[0.1, 0.2]),
        (&[0, 1], &[f32::NAN, 0.2]),
        (&[1, 1], &[0.1, 0.2]),
        (&[0, 0], &[0.1, 0.2]),
    ];
    for (labels, scores) in cases {
        assert!(
            roc_auc(labels, scores).is_err(),
            "roc_auc({labels:?}, {scores:?}) should fail"
        );
    }
    assert!(matches!(
        average_precision(&[0, 0], &[0.1, 0.2]),
        Err(MlError::EmptyClass { class: 1 })
    ));
    assert!(matches!(
        roc_auc(&[0, 1], &[0.1, f32::NAN]),
        Err(MlError::NonFiniteScore { row: 1 })
    ));
    // Infinite scores are ordered, not rejected.
    assert!(close(
        roc_auc(&[0, 1], &[f32::NEG_INFINITY, f32::INFINITY]).unwrap(),
        1.0
    ));
}

#[test]
fn confusion_matrix_and_per_class_scores() {
    let y_true = [0, 0, 1, 1, 2, 2];
    let y_pred = [0, 1, 1, 1, 2, 0];
    let cm = ConfusionMatrix::new(&y_true, &y_pred, 3).unwrap();
    let expect = [[1, 1, 0], [0, 2, 0], [1, 0, 1]];
    for (a, row) in expect.iter().enumerate() {
        for (p, &v) in row.iter().enumerate() {
            assert_eq!(cm.get(a, p), v, "cell ({a}, {p})");
        }
    }
    assert_eq!(cm.get(7, 0), 0);
    assert!(close(cm.accuracy(), 4.0 / 6.0));
    assert!(close(cm.precision(0), 0.5) && close(cm.recall(0), 0.5) && close(cm.f1(0), 0.5));
    assert!(close(cm.precision(1), 2.0 / 3.0) && close(cm.recall(1), 1.0) && close(cm.f1(1), 0.8));
    assert!(close(cm.precision(2), 1.0) && close(cm.recall(2), 0.5) && close(cm.f1(2), 2.0 / 3.0));
    assert!(close(cm.macro_f1(), (0.5 + 0.8 + 2.0 / 3.0) / 3.0));
    assert!(close(cm.weighted_f1(), (0.5 + 0.8 + 2.0 / 3.0) / 3.0));
    // A class absent from truth and predictions is left out of the macro average.
    let cm4 = ConfusionMatrix::new(&y_true, &y_pred, 4).unwrap();
    assert!(close(cm4.macro_f1(), cm.macro_f1()));
    assert!(ConfusionMatrix::new(&[0, 3], &[0, 0], 3).is_err());
    assert!(ConfusionMatrix::new(&[0, 1], &[0], 3).is_err());
    assert!(ConfusionMatrix::new(&[], &[], 3).is_err());
    assert!(ConfusionMatrix::new(&[0], &[0], 0).is_err());
    assert!(
        ConfusionMatrix::new(&[0], &[0], usize::MAX).is_err(),
        "no giant allocation"
    );
}

#[test]
fn binary_counts_thresholds_and_false_alarm_rate() {
    let labels = [0, 0, 0, 0, 1, 1];
    let scores = [0.1, 0.2, 0.3, 0.9, 0.8, 0.95];
    let c = BinaryCounts::at_threshold(&labels, &scores, 0.5).unwrap();
    assert_eq!((c.tp, c.fp, c.tn, c.fn_), (2, 1, 3, 0));
    assert!(close(c.false_alarm_rate(), 0.25));
    assert!(close(c.precision(), 2.0 / 3.0) && close(c.recall(), 1.0) && close(c.f1(), 0.8));
    assert!(close(c.accuracy(), 5.0 / 6.0));
    // Budget of one false alarm in four: the lowest admissible threshold is 0.8.
    assert_eq!(
        threshold_for_false_alarm_rate(&labels, &scores, 0.25).unwrap(),
        0.8
    );
    assert_eq!(
        threshold_for_false_alarm_rate(&labels, &scores, 0.0).unwrap(),
        0.95
    );
    assert_eq!(
        threshold_for_false_alarm_rate(&labels, &scores, 1.0).unwrap(),
        0.1
    );
    let none = threshold_for_false_alarm_rate(&[0, 1], &[0.9, 0.1], 0.0).unwrap();
    assert!(none > 0.9, "nothing may be flagged, got {none}");
    assert!(threshold_for_false_alarm_rate(&labels, &scores, 1.5).is_err());
    assert_eq!(threshold_for_max_f1(&labels, &scores).unwrap(), 0.8);
    let p = BinaryCounts::from_predictions(&[0, 1, 1], &[1, 1, 0]).unwrap();
    assert_eq!((p.tp, p.fp, p.tn, p.fn_), (1, 1, 0, 1));
    assert!(BinaryCounts::from_predictions(&[0, 1], &[0, 2]).is_err());
    // Zero denominators give zero, never NaN.
    let empty = BinaryCounts::default();
    assert_eq!(
        (
            empty.precision(),
            empty.recall(),
            empty.f1(),
            empty.false_alarm_rate()
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
}

#[test]
fn brier_log_loss_accuracy() {
    assert!((brier_score(&[0, 1], &[0.2, 0.6]).unwrap() - (0.04 + 0.16) / 2.0).abs() < 1e-6);
    assert!(close(log_loss(&[1, 0], &[0.5, 0.5]).unwrap(), 2f64.ln()));
    assert!(log_loss(&[1], &[0.0]).unwrap().is_finite());
    assert!(close(accuracy(&[0, 1, 2], &[0, 2, 2]).unwrap(), 2.0 / 3.0));
    assert!(accuracy(&[0], &[0, 1]).is_err());
}

#[test]
fn reports_print_aligned_tables_and_serialize() {
    let labels = [0, 0, 0, 0, 1, 1];
    let scores = [0.1, 0.2, 0.3, 0.9, 0.8, 0.95];
    let r = BinaryReport::new(&labels, &scores, 0.5).unwrap();
    assert_eq!((r.n, r.positives), (6, 2));
    assert!(close(r.roc_auc.unwrap(), 7.0 / 8.0));
    let text = r.to_string();
    assert!(
        text.contains("false_alarm_rate") && text.contains("0.2500"),
        "{text}"
    );
    let value_cols: Vec<usize> = text.lines().skip(1).take(8).map(|l| l.len()).collect();
    assert!(
        value_cols.windows(2).all(|w| w[0] == w[1]),
        "misaligned:\n{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["counts"]["fn"], 0);

    // Margins (not probabilities) get no Brier score.
    assert!(
        BinaryReport::new(&[0, 1], &[-3.0, 2.0], 0.0)
            .unwrap()
            .brier
            .is_none()
    );

    let names: Vec<String> = ["Normal", "DoS", "Reconnaissance"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let m =
        MulticlassReport::new(&[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0], 3, Some(&names)).unwrap();
    assert!(close(m.macro_f1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0));
    let text = m.to_string();
    assert!(
        text.contains("Reconnaissance") && text.contains("macro_f1=0.6556"),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().skip(2).take(3).collect();
    assert!(
        rows.iter().all(|l| l.len() == rows[0].len()),
        "misaligned:\n{text}"
    );
    assert!(
        serde_json::to_string(&m)
            .unwrap()
            .contains("\"Reconnaissance\"")
    );
    assert!(MulticlassReport::new(&[0], &[0], 3, Some(&names[..2])).is_err());
}

proptest! {
    #[test]
    fn roc_auc_is_a_probability_and_flips_with_negated_scores(
        data in proptest::collection::vec((0u32..2, -1000i32..1000), 2..200)
    ) {
        let labels: Vec<u32> = data.iter().map(|d| d.0).collect();
        // Coarse scores so ties are common.
        let scores: Vec<f32> = data.iter().map(|d| (d.1 / 50) as f32).collect();
        prop_assume!(labels.contains(&0) && labels.contains(&1));
        let auc = roc_auc(&labels, &scores).unwrap();
        prop_assert!((0.0..=1.0).contains(&auc));
        let neg: Vec<f32> = scores.iter().map(|s| -s).collect();
        let flipped = roc_auc(&labels, &neg).unwrap();
        prop_assert!((auc + flipped - 1.0).abs() < 1e-9);
        let ap = average_precision(&labels, &scores).unwrap();
        prop_assert!((0.0..=1.0 + 1e-12).contains(&ap));
    }
}
