//! ward-deid integration tests.

mod it {
    mod physionet;
    mod rules;
}
