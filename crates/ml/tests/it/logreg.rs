//! Logistic regression.

use ward_ml::gbdt::ClassWeight;
use ward_ml::logreg::{LogReg, LogRegParams};
use ward_ml::metrics::{BinaryCounts, accuracy};
use ward_ml::{Matrix, MlError};

use super::data;

#[test]
fn binary_fit_converges_and_contributions_explain_the_margin() {
    let (x, y) = data::separable(1500, 4, 0.2, 21);
    let m = LogReg::fit(&x, &y, 2, &LogRegParams::default()).unwrap();
    let (iters, converged) = m.convergence();
    assert!(converged, "no convergence in {iters} iterations");
    assert_eq!(
        (m.n_outputs(), m.coefficients().len(), m.intercepts().len()),
        (1, 4, 1)
    );
    for row in x.rows().take(30) {
        let c = m.contributions(row).unwrap();
        let margin: f32 = c.iter().sum();
        let p = m.predict_proba(row).unwrap()[1];
        let expect = 1.0 / (1.0 + (-margin).exp());
        assert!((p - expect).abs() < 1e-4, "{p} vs {expect}");
    }
    // Standardisation lives inside the model: scaling a feature does not change predictions.
    let scaled: Vec<f32> = x
        .as_slice()
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 4 == 0 { v * 1000.0 + 5.0 } else { *v })
        .collect();
    let xs = Matrix::from_vec(scaled, 4).unwrap();
    let ms = LogReg::fit(&xs, &y, 2, &LogRegParams::default()).unwrap();
    let (a, b) = (m.predict(&x).unwrap(), ms.predict(&xs).unwrap());
    assert!(a.iter().zip(&b).all(|(u, v)| (u - v).abs() < 1e-3));
}

#[test]
fn multinomial_fit_separates_blobs() {
    let (x, y) = data::blobs(1200, 4, 3, 3.0, 22);
    let ((xtr, ytr), (xte, yte)) = data::split(&x, &y, 900);
    let m = LogReg::fit(&xtr, &ytr, 4, &LogRegParams::default()).unwrap();
    assert_eq!(m.n_outputs(), 4);
    let acc = accuracy(&yte, &m.predict_classes(&xte).unwrap()).unwrap();
    assert!(acc > 0.85, "accuracy {acc}");
    let p = m.predict_proba(xte.row(0)).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(m.contributions(xte.row(0)).unwrap().len(), 4 * 4);
}

#[test]
fn class_weights_and_determinism() {
    let (x, y) = data::imbalanced(4000, 0.05, 1.5, 23);
    let recall = |cw| {
        let m = LogReg::fit(
            &x,
            &y,
            2,
            &LogRegParams {
                class_weight: cw,
                ..LogRegParams::default()
            },
        )
        .unwrap();
        BinaryCounts::at_threshold(&y, &m.predict(&x).unwrap(), 0.5)
            .unwrap()
            .recall()
    };
    let (plain, balanced) = (recall(ClassWeight::None), recall(ClassWeight::Balanced));
    assert!(
        balanced > plain + 0.3,
        "recall none {plain}, balanced {balanced}"
    );
    let a = LogReg::fit(&x, &y, 2, &LogRegParams::default()).unwrap();
    let b = LogReg::fit(&x, &y, 2, &LogRegParams::default()).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn missing_and_constant_features_are_harmless() {
    let mut x = Matrix::with_cols(3);
    let mut y = Vec::new();
    let mut rng = fastrand::Rng::with_seed(24);
    for i in 0..400 {
        let v = rng.f32() * 2.0 - 1.0;
        x.push_row(&[v, 7.0, if i % 5 == 0 { f32::NAN } else { rng.f32() }]);
        y.push(u32::from(v > 0.0));
    }
    let m = LogReg::fit(&x, &y, 2, &LogRegParams::default()).unwrap();
    assert!(
        m.coefficients()[1].abs() < 1e-9,
        "constant feature gets no weight"
    );
    let p = m.predict_proba(&[0.8, f32::NAN, f32::INFINITY]).unwrap();
    assert!(p[1] > 0.9 && p.iter().all(|v| v.is_finite()));
}

#[test]
fn invalid_input_is_an_error() {
    let (x, y) = data::separable(50, 2, 0.0, 25);
    let p = LogRegParams::default();
    assert!(LogReg::fit(&Matrix::with_cols(2), &[], 2, &p).is_err());
    assert!(LogReg::fit(&x, &y[..10], 2, &p).is_err());
    assert!(matches!(
        LogReg::fit(&x, &y, 3, &p),
        Err(MlError::EmptyClass { class: 2 })
    ));
    assert!(LogReg::fit(&x, &[5; 50], 2, &p).is_err());
    assert!(LogReg::fit(&x, &y, 1, &p).is_err());
    assert!(
        LogReg::fit(
            &x,
            &y,
            2,
            &LogRegParams {
                l2: -1.0,
                ..LogRegParams::default()
            }
        )
        .is_err()
    );
    assert!(
        LogReg::fit(
            &x,
            &y,
            2,
            &LogRegParams {
                tol: 0.0,
                ..LogRegParams::default()
            }
        )
        .is_err()
    );
    assert!(
        LogReg::fit(
            &x,
            &y,
            2,
            &LogRegParams {
                max_iter: 0,
                ..LogRegParams::default()
            }
        )
        .is_err()
    );
    let m = LogReg::fit(&x, &y, 2, &p).unwrap();
    assert!(m.predict_proba(&[1.0]).is_err());
    assert!(m.contributions(&[1.0, 2.0, 3.0]).is_err());
    assert!(m.predict_into(&x, &mut [0.0; 3]).is_err());
}
