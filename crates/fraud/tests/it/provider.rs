use ward_fraud::provider::adapt_to_share;

/// Calibrated probabilities of a model trained at a 10% fraud share, for a run of 1,000
/// providers with `fraudulent` of them: three kinds of provider whose likelihoods under fraud
/// and honesty are known, so that the posterior at 10% is exact.
fn run(fraudulent: usize) -> Vec<f32> {
    let (p1, p0) = ([0.7, 0.2, 0.1], [0.05, 0.15, 0.8]);
    let t = 0.1;
    let post: Vec<f32> = p1
        .iter()
        .zip(p0)
        .map(|(a, b)| (t * a / (t * a + (1.0 - t) * b)) as f32)
        .collect();
    let honest = 1000 - fraudulent;
    let mut out = Vec::new();
    for k in 0..3 {
        let n =
            (fraudulent as f64 * p1[k]).round() as usize + (honest as f64 * p0[k]).round() as usize;
        out.extend(std::iter::repeat_n(post[k], n));
    }
    out
}

#[test]
fn a_carried_model_is_adapted_to_the_runs_share_of_fraud() {
    for (fraudulent, want) in [(30, 0.03), (100, 0.10), (250, 0.25)] {
        let p = run(fraudulent);
        let (q, share) = adapt_to_share(&p, 0.1);
        assert!(
            (share - want).abs() < 0.01,
            "{fraudulent}: estimated {share}"
        );
        assert_eq!(q.len(), p.len());
        // fewer fraudsters than in training: every probability goes down, and the other way
        for (a, b) in p.iter().zip(&q) {
            match fraudulent {
                30 => assert!(b < a),
                250 => assert!(b > a),
                _ => assert!((a - b).abs() < 0.01),
            }
        }
    }
    // nothing to estimate from: the estimate stays in bounds and nothing breaks
    let (q, share) = adapt_to_share(&[], 0.1);
    assert!(q.is_empty() && (0.001..=0.5).contains(&share));
    let (_, share) = adapt_to_share(&[1.0; 50], 0.1);
    assert!(share <= 0.5);
    // a probability that is not a number does not poison the rest
    let mut p = run(30);
    p[0] = f32::NAN;
    let (q, share) = adapt_to_share(&p, 0.1);
    assert!(share.is_finite() && (share - 0.03).abs() < 0.01, "{share}");
    assert!(q.iter().all(|v| v.is_finite()));
}
