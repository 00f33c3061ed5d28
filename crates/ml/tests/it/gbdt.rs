//! Gradient-boosted trees: what they can fit, determinism, explanations, hostile input.

use proptest::prelude::*;
use ward_ml::gbdt::{ClassWeight, Gbdt, GbdtParams, top_contributions};
use ward_ml::logreg::{LogReg, LogRegParams};
use ward_ml::metrics::{BinaryCounts, accuracy, roc_auc};
use ward_ml::{Matrix, MlError};

use super::data;

fn small() -> GbdtParams {
    GbdtParams {
        n_rounds: 60,
        min_samples_leaf: 5,
        ..GbdtParams::default()
    }
}

fn holdout_auc(model: &Gbdt, x: &Matrix, y: &[u32]) -> f64 {
    roc_auc(y, &model.predict(x).unwrap()).unwrap()
}

#[test]
fn trees_fit_xor_where_logistic_regression_cannot() {
    let (x, y) = data::xor(3000, 3, 1);
    let ((xtr, ytr), (xte, yte)) = data::split(&x, &y, 2000);
    let gbdt = Gbdt::fit(&xtr, &ytr, 2, &small()).unwrap();
    let auc = holdout_auc(&gbdt, &xte, &yte);
    assert!(auc > 0.98, "gbdt xor auc {auc}");
    let acc = accuracy(&yte, &gbdt.predict_classes(&xte).unwrap()).unwrap();
    assert!(acc > 0.95, "gbdt xor accuracy {acc}");

    let lr = LogReg::fit(&xtr, &ytr, 2, &LogRegParams::default()).unwrap();
    let lr_auc = roc_auc(&yte, &lr.predict(&xte).unwrap()).unwrap();
    assert!(
        lr_auc < 0.6,
        "a linear model cannot separate xor, got auc {lr_auc}"
    );

    // The two XOR features carry all the gain.
    let imp = gbdt.feature_importance();
    assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(imp[0] + imp[1] > 0.9, "importance {imp:?}");
}

#[test]
fn both_models_fit_linearly_separable_data() {
    let (x, y) = data::separable(2000, 6, 0.3, 2);
    let ((xtr, ytr), (xte, yte)) = data::split(&x, &y, 1500);
    let gbdt = Gbdt::fit(&xtr, &ytr, 2, &small()).unwrap();
    let acc = accuracy(&yte, &gbdt.predict_classes(&xte).unwrap()).unwrap();
    assert!(acc > 0.93, "gbdt accuracy {acc}");
    let lr = LogReg::fit(&xtr, &ytr, 2, &LogRegParams::default()).unwrap();
    let acc = accuracy(&yte, &lr.predict_classes(&xte).unwrap()).unwrap();
    assert!(acc > 0.99, "logreg accuracy {acc}");
}

#[test]
fn balanced_class_weights_raise_minority_recall() {
    let (x, y) = data::imbalanced(6000, 0.04, 1.5, 3);
    let ((xtr, ytr), (xte, yte)) = data::split(&x, &y, 4000);
    let recall = |cw: ClassWeight| {
        let p = GbdtParams {
            class_weight: cw,
            n_rounds: 40,
            ..small()
        };
        let m = Gbdt::fit(&xtr, &ytr, 2, &p).unwrap();
        BinaryCounts::at_threshold(&yte, &m.predict(&xte).unwrap(), 0.5)
            .unwrap()
            .recall()
    };
    let (plain, sqrt, balanced) = (
        recall(ClassWeight::None),
        recall(ClassWeight::SqrtBalanced),
        recall(ClassWeight::Balanced),
    );
    assert!(
        plain < sqrt && sqrt < balanced,
        "recall: none {plain}, sqrt {sqrt}, balanced {balanced}"
    );
    assert!(balanced > 0.5, "balanced recall {balanced}");
    let explicit = recall(ClassWeight::Explicit(vec![1.0, 12.0]));
    assert!(
        explicit > plain,
        "explicit weights {explicit} vs none {plain}"
    );
}

#[test]
fn multiclass_softmax_separates_blobs() {
    let (x, y) = data::blobs(3000, 5, 4, 3.0, 4);
    let ((xtr, ytr), (xte, yte)) = data::split(&x, &y, 2000);
    let m = Gbdt::fit(&xtr, &ytr, 5, &small()).unwrap();
    assert_eq!((m.n_outputs(), m.n_trees()), (5, 5 * 60));
    let acc = accuracy(&yte, &m.predict_classes(&xte).unwrap()).unwrap();
    assert!(acc > 0.85, "accuracy {acc}");
    let mut probs = vec![0f32; xte.n_rows() * 5];
    m.predict_proba_into(&xte, &mut probs).unwrap();
    for p in probs.chunks(5) {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    // predict_into scores "not class 0".
    let s = m.predict(&xte).unwrap();
    for (score, p) in s.iter().zip(probs.chunks(5)) {
        assert!((score - (1.0 - p[0])).abs() < 1e-5);
    }
}

#[test]
fn missing_values_learn_a_direction() {
    // The label is "feature 0 is missing"; feature 1 is noise.
    let mut rng = fastrand::Rng::with_seed(5);
    let mut x = Matrix::with_cols(2);
    let mut y = Vec::new();
    for _ in 0..1000 {
        let missing = rng.bool();
        x.push_row(&[if missing { f32::NAN } else { rng.f32() }, rng.f32()]);
        y.push(u32::from(missing));
    }
    let m = Gbdt::fit(
        &x,
        &y,
        2,
        &GbdtParams {
            n_rounds: 50,
            ..small()
        },
    )
    .unwrap();
    let p_missing = m.predict_proba(&[f32::NAN, 0.5]).unwrap()[1];
    let p_present = m.predict_proba(&[0.5, 0.5]).unwrap()[1];
    assert!(
        p_missing > 0.9 && p_present < 0.1,
        "{p_missing} {p_present}"
    );
    // A model trained without NaNs still scores NaN rows.
    let (x, y) = data::separable(500, 3, 0.2, 6);
    let m = Gbdt::fit(&x, &y, 2, &small()).unwrap();
    let p = m.predict_proba(&[f32::NAN, f32::NAN, f32::NAN]).unwrap();
    assert!(p.iter().all(|v| v.is_finite()));
}

#[test]
fn same_seed_gives_bit_identical_models_and_predictions() {
    let (x, y) = data::flows(3000, 12, 7);
    let p = GbdtParams {
        subsample: 0.7,
        colsample: 0.6,
        validation_fraction: Some(0.2),
        n_rounds: 50,
        seed: 11,
        ..small()
    };
    let a = Gbdt::fit(&x, &y, 2, &p).unwrap();
    let b = Gbdt::fit(&x, &y, 2, &p).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let (pa, pb) = (a.predict(&x).unwrap(), b.predict(&x).unwrap());
    assert!(pa.iter().zip(&pb).all(|(u, v)| u.to_bits() == v.to_bits()));
    let c = Gbdt::fit(&x, &y, 2, &GbdtParams { seed: 12, ..p }).unwrap();
    assert_ne!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&c).unwrap()
    );
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let (x, y) = data::imbalanced(3000, 0.3, 0.5, 8);
    let p = GbdtParams {
        n_rounds: 500,
        validation_fraction: Some(0.25),
        early_stopping_rounds: 10,
        ..small()
    };
    let m = Gbdt::fit(&x, &y, 2, &p).unwrap();
    let s = m.summary();
    assert!(s.rounds_run < 500, "{s:?}");
    assert_eq!(s.rounds_run, s.rounds_kept + 10, "{s:?}");
    assert_eq!(m.n_trees(), s.rounds_kept);
    assert_eq!(s.n_train + s.n_valid, 3000);
    assert!((749..=751).contains(&s.n_valid), "{s:?}");
    assert!(s.valid_loss.is_some());

    let ((xtr, ytr), (xva, yva)) = data::split(&x, &y, 2000);
    let m = Gbdt::fit_with_eval(
        &xtr,
        &ytr,
        2,
        &GbdtParams {
            n_rounds: 500,
            ..small()
        },
        &xva,
        &yva,
    )
    .unwrap();
    assert!(m.summary().rounds_kept < 500 && m.summary().n_valid == 1000);
}

#[test]
fn contributions_add_up_to_the_margin_and_name_the_driver() {
    let (x, y) = data::separable(1500, 5, 0.2, 9);
    let m = Gbdt::fit(&x, &y, 2, &small()).unwrap();
    let mut raw = vec![0f32; x.n_rows()];
    m.predict_raw_into(&x, &mut raw).unwrap();
    for (i, row) in x.rows().enumerate().take(50) {
        for c in [
            m.contributions(row).unwrap(),
            m.contributions_saabas(row).unwrap(),
        ] {
            assert_eq!(c.len(), 6);
            let sum: f32 = c.iter().sum();
            assert!((sum - raw[i]).abs() < 1e-3, "row {i}: {sum} vs {}", raw[i]);
        }
    }
    // In XOR only features 0 and 1 matter: they top every explanation.
    let (x, y) = data::xor(2000, 4, 10);
    let m = Gbdt::fit(&x, &y, 2, &small()).unwrap();
    for row in x.rows().take(20) {
        let c = m.contributions(row).unwrap();
        let top: Vec<usize> = top_contributions(&c, 6, 0, 2).iter().map(|t| t.0).collect();
        assert!(top.contains(&0) && top.contains(&1), "{top:?} from {c:?}");
    }
    // Multi-class: one block per class, each summing to that class's margin.
    let (x, y) = data::blobs(900, 3, 3, 2.0, 11);
    let m = Gbdt::fit(&x, &y, 3, &small()).unwrap();
    let mut raw = vec![0f32; 3 * x.n_rows()];
    m.predict_raw_into(&x, &mut raw).unwrap();
    let c = m.contributions(x.row(0)).unwrap();
    assert_eq!(c.len(), 3 * 4);
    for k in 0..3 {
        let sum: f32 = c[k * 4..(k + 1) * 4].iter().sum();
        assert!(
            (sum - raw[k]).abs() < 1e-3,
            "class {k}: {sum} vs {}",
            raw[k]
        );
    }
    assert!(top_contributions(&c, 3, 9, 2).is_empty());
}

#[test]
fn batch_single_row_and_wide_layouts_agree() {
    // 130 features forces the wide layout; 40 features uses the compact one; max_leaves 200
    // makes trees too big for the compact window.
    for (nf, leaves) in [(40, 31), (130, 31), (10, 200)] {
        let (x, y) = data::flows(3000, nf, 12);
        let m = Gbdt::fit(
            &x,
            &y,
            2,
            &GbdtParams {
                n_rounds: 20,
                max_leaves: leaves,
                max_depth: 12,
                min_samples_leaf: 2,
                ..small()
            },
        )
        .unwrap();
        let batch = m.predict(&x).unwrap();
        for (i, row) in x.rows().enumerate() {
            let p = m.predict_proba(row).unwrap()[1];
            assert!(
                (p - batch[i]).abs() < 1e-6,
                "nf {nf} leaves {leaves} row {i}: {p} vs {}",
                batch[i]
            );
        }
        // Small batches take the row path; they must agree too.
        let few = x.select_rows(&[5, 6, 7]);
        let b3 = m.predict(&few).unwrap();
        assert!((b3[1] - batch[6]).abs() < 1e-6);
    }
}

#[test]
fn extreme_values_never_panic() {
    let vals = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        0.0,
        -0.0,
        f32::NAN,
        1e30,
        -1e30,
    ];
    let mut x = Matrix::with_cols(2);
    let mut y = Vec::new();
    for (i, &a) in vals.iter().enumerate() {
        for (j, &b) in vals.iter().enumerate() {
            x.push_row(&[a, b]);
            y.push(u32::from((i + j) % 3 == 0));
        }
    }
    let m = Gbdt::fit(
        &x,
        &y,
        2,
        &GbdtParams {
            min_samples_leaf: 1,
            n_rounds: 20,
            ..small()
        },
    )
    .unwrap();
    for p in m.predict(&x).unwrap() {
        assert!(p.is_finite() && (0.0..=1.0).contains(&p));
    }
    // The model survives a JSON round trip (no infinities written).
    let json = serde_json::to_string(&m).unwrap();
    let back: Gbdt = serde_json::from_str(&json).unwrap();
    assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap());
}

fn is_invalid(r: Result<Gbdt, MlError>) -> bool {
    r.is_err()
}

#[test]
fn invalid_training_input_is_an_error() {
    let (x, y) = data::separable(100, 3, 0.0, 13);
    let p = small();
    let empty = Matrix::with_cols(3);
    let no_cols = Matrix::from_vec(vec![], 0).unwrap();
    let cases: Vec<(&str, Result<Gbdt, MlError>)> = vec![
        ("empty", Gbdt::fit(&empty, &[], 2, &p)),
        ("zero columns", Gbdt::fit(&no_cols, &[], 2, &p)),
        ("label length", Gbdt::fit(&x, &y[..50], 2, &p)),
        ("label range", Gbdt::fit(&x, &vec![2; 100], 2, &p)),
        ("one class", Gbdt::fit(&x, &y, 1, &p)),
        ("absurd class count", Gbdt::fit(&x, &y, 1 << 40, &p)),
        ("empty class", Gbdt::fit(&x, &y, 3, &p)),
        (
            "explicit weights length",
            Gbdt::fit(
                &x,
                &y,
                2,
                &GbdtParams {
                    class_weight: ClassWeight::Explicit(vec![1.0]),
                    ..small()
                },
            ),
        ),
        (
            "negative weight",
            Gbdt::fit(
                &x,
                &y,
                2,
                &GbdtParams {
                    class_weight: ClassWeight::Explicit(vec![1.0, -1.0]),
                    ..small()
                },
            ),
        ),
        (
            "eval width",
            Gbdt::fit_with_eval(
                &x,
                &y,
                2,
                &p,
                &Matrix::from_vec(vec![0.0; 4], 2).unwrap(),
                &[0, 1],
            ),
        ),
    ];
    for (name, r) in cases {
        assert!(is_invalid(r), "{name} should be rejected");
    }
    let bad_params: Vec<GbdtParams> = vec![
        GbdtParams {
            n_rounds: 0,
            ..small()
        },
        GbdtParams {
            learning_rate: 0.0,
            ..small()
        },
        GbdtParams {
            learning_rate: f64::NAN,
            ..small()
        },
        GbdtParams {
            max_leaves: 1,
            ..small()
        },
        GbdtParams {
            max_depth: 0,
            ..small()
        },
        GbdtParams {
            max_depth: 65,
            ..small()
        },
        GbdtParams {
            min_samples_leaf: 0,
            ..small()
        },
        GbdtParams {
            l2: -1.0,
            ..small()
        },
        GbdtParams {
            min_gain: f64::INFINITY,
            ..small()
        },
        GbdtParams {
            max_bins: 256,
            ..small()
        },
        GbdtParams {
            max_bins: 1,
            ..small()
        },
        GbdtParams {
            subsample: 0.0,
            ..small()
        },
        GbdtParams {
            colsample: 1.5,
            ..small()
        },
        GbdtParams {
            validation_fraction: Some(1.0),
            ..small()
        },
        GbdtParams {
            early_stopping_rounds: 0,
            ..small()
        },
    ];
    for bp in bad_params {
        assert!(
            matches!(Gbdt::fit(&x, &y, 2, &bp), Err(MlError::InvalidParam { .. })),
            "{bp:?}"
        );
    }
    assert!(serde_json::from_str::<GbdtParams>(r#"{"n_rounds": 5, "bogus": 1}"#).is_err());
    assert_eq!(
        serde_json::from_str::<GbdtParams>(r#"{"n_rounds": 5}"#)
            .unwrap()
            .max_leaves,
        31
    );
}

#[test]
fn scoring_checks_shapes() {
    let (x, y) = data::separable(200, 3, 0.0, 14);
    let m = Gbdt::fit(&x, &y, 2, &small()).unwrap();
    let wide = Matrix::from_vec(vec![0.0; 8], 4).unwrap();
    assert!(matches!(
        m.predict(&wide),
        Err(MlError::FeatureMismatch {
            expected: 3,
            got: 4
        })
    ));
    assert!(m.predict_proba(&[0.0; 2]).is_err());
    assert!(m.contributions(&[0.0; 4]).is_err());
    let mut short = vec![0f32; 10];
    assert!(m.predict_into(&x, &mut short).is_err());
    assert!(m.predict_proba_into(&x, &mut short).is_err());
    assert!(m.predict_raw_into(&x, &mut short).is_err());
    assert!(m.predict_proba_row_into(&[0.0; 3], &mut [0.0; 3]).is_err());
    assert_eq!(m.predict(&Matrix::with_cols(3)).unwrap(), Vec::<f32>::new());
}

/// A change made to a serialized model.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn hostile_model_files_are_rejected() {
    let (x, y) = data::separable(200, 3, 0.0, 15);
    let m = Gbdt::fit(
        &x,
        &y,
        2,
        &GbdtParams {
            n_rounds: 3,
            ..small()
        },
    )
    .unwrap();
    let good: serde_json::Value = serde_json::to_value(&m).unwrap();
    assert!(good["trees"][0]["nodes"].as_array().unwrap().len() > 1);
    let edits: Vec<(&str, Edit)> = vec![
        (
            "child loops back",
            Box::new(|v| v["trees"][0]["nodes"][0]["l"] = 0.into()),
        ),
        (
            "child out of range",
            Box::new(|v| v["trees"][0]["nodes"][0]["r"] = 9999.into()),
        ),
        (
            "child points up",
            Box::new(|v| {
                let n = v["trees"][0]["nodes"].as_array().unwrap().len();
                v["trees"][0]["nodes"][n - 1]["l"] = 1.into();
                v["trees"][0]["nodes"][n - 1]["r"] = 2.into();
            }),
        ),
        (
            "feature out of range",
            Box::new(|v| v["trees"][0]["nodes"][0]["f"] = 3.into()),
        ),
        (
            "no nodes",
            Box::new(|v| v["trees"][0]["nodes"] = serde_json::json!([])),
        ),
        (
            "zero cover",
            Box::new(|v| v["trees"][0]["nodes"][0]["c"] = 0.0.into()),
        ),
        (
            "base score length",
            Box::new(|v| v["base_score"] = serde_json::json!([0.0, 1.0])),
        ),
        ("class count", Box::new(|v| v["n_classes"] = 1.into())),
        ("no features", Box::new(|v| v["n_features"] = 0.into())),
        ("unknown field", Box::new(|v| v["extra"] = 1.into())),
    ];
    for (name, edit) in edits {
        let mut v = good.clone();
        edit(&mut v);
        assert!(
            serde_json::from_value::<Gbdt>(v).is_err(),
            "{name} should be rejected"
        );
    }
    assert!(serde_json::from_value::<Gbdt>(good).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn predictions_are_finite_probabilities_summing_to_one(
        rows in proptest::collection::vec(proptest::collection::vec(
            prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY), -1e6f32..1e6f32], 3), 1..40),
        classes in 2usize..5,
    ) {
        let (x, y) = data::blobs(300, classes, 3, 2.0, 16);
        let m = Gbdt::fit(&x, &y, classes, &GbdtParams { n_rounds: 8, ..small() }).unwrap();
        let mut q = Matrix::with_cols(3);
        for r in &rows {
            q.push_row(r);
        }
        let mut probs = vec![0f32; rows.len() * classes];
        m.predict_proba_into(&q, &mut probs).unwrap();
        for p in probs.chunks(classes) {
            prop_assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            prop_assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        for r in &rows {
            let c = m.contributions(r).unwrap();
            prop_assert!(c.iter().all(|v| v.is_finite()));
        }
    }
}
