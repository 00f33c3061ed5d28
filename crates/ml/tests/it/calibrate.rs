//! Calibration.

use ward_ml::MlError;
use ward_ml::calibrate::{CalibrationMethod, Calibrator};
use ward_ml::metrics::brier_score;

/// An over-confident model: true probability `sigmoid(z)`, reported `sigmoid(3z + 1)`.
fn skewed(n: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let z = rng.f32() * 6.0 - 3.0;
        let p = 1.0 / (1.0 + (-z).exp());
        labels.push(u32::from(rng.f32() < p));
        scores.push(1.0 / (1.0 + (-(3.0 * z + 1.0)).exp()));
    }
    (scores, labels)
}

#[test]
fn calibration_improves_brier_on_a_skewed_model() {
    let (fit_s, fit_y) = skewed(4000, 31);
    let (test_s, test_y) = skewed(4000, 32);
    let raw = brier_score(&test_y, &test_s).unwrap();
    for method in [CalibrationMethod::PlattLogit, CalibrationMethod::Isotonic] {
        let c = Calibrator::fit(method, &fit_s, &fit_y).unwrap();
        let mut s = test_s.clone();
        c.apply_in_place(&mut s);
        let cal = brier_score(&test_y, &s).unwrap();
        assert!(cal < raw - 0.005, "{method:?}: brier {cal} vs raw {raw}");
    }
    // Platt on log-odds recovers the distortion: logit(s) = 3z + 1, so a ≈ 1/3, b ≈ -1/3.
    let Calibrator::Platt { a, b, logit_input } =
        Calibrator::fit(CalibrationMethod::PlattLogit, &fit_s, &fit_y).unwrap()
    else {
        panic!("expected Platt");
    };
    assert!(
        logit_input && (a - 1.0 / 3.0).abs() < 0.05 && (b + 1.0 / 3.0).abs() < 0.1,
        "a {a} b {b}"
    );
}

#[test]
fn platt_on_margins_and_isotonic_shape() {
    let margins: Vec<f32> = (0..200).map(|i| i as f32 / 20.0 - 5.0).collect();
    let labels: Vec<u32> = margins.iter().map(|&m| u32::from(m > 0.0)).collect();
    let c = Calibrator::fit(CalibrationMethod::Platt, &margins, &labels).unwrap();
    assert!(
        c.apply(-4.0) < 0.05 && c.apply(4.0) > 0.95,
        "separable data stays finite"
    );
    assert!(c.apply(4.0).is_finite());
    let iso = Calibrator::fit(
        CalibrationMethod::Isotonic,
        &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        &[0, 1, 0, 1, 1, 1],
    )
    .unwrap();
    // Pools (0.2, 0.3) into one block of mean 1/2.
    assert_eq!(iso.apply(0.0), 0.0);
    assert_eq!(iso.apply(0.25), 0.5);
    assert_eq!(iso.apply(0.9), 1.0);
    let grid: Vec<f32> = (0..=100).map(|i| iso.apply(i as f32 / 100.0)).collect();
    assert!(grid.windows(2).all(|w| w[0] <= w[1]), "monotone");
    assert!(iso.apply(f32::NAN).is_nan());
    assert_eq!(Calibrator::Identity.apply(1.5), 1.0);
    let json = serde_json::to_string(&iso).unwrap();
    assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), iso);
}

#[test]
fn invalid_calibration_input() {
    let m = CalibrationMethod::Isotonic;
    assert!(matches!(
        Calibrator::fit(m, &[], &[]),
        Err(MlError::Empty(_))
    ));
    assert!(Calibrator::fit(m, &[0.1, 0.2], &[0]).is_err());
    assert!(Calibrator::fit(m, &[0.1, f32::NAN], &[0, 1]).is_err());
    assert!(Calibrator::fit(m, &[0.1, f32::INFINITY], &[0, 1]).is_err());
    assert!(Calibrator::fit(m, &[0.1, 0.2], &[0, 2]).is_err());
    assert!(matches!(
        Calibrator::fit(m, &[0.1, 0.2], &[1, 1]),
        Err(MlError::EmptyClass { class: 0 })
    ));
    // A hostile isotonic table does not panic.
    let odd = Calibrator::Isotonic {
        x: vec![0.5, 0.1],
        y: vec![0.2],
    };
    assert!(odd.apply(0.3).is_finite());
    assert!(
        Calibrator::Isotonic {
            x: vec![],
            y: vec![]
        }
        .apply(0.3)
        .is_finite()
    );
}
