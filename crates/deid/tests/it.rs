//! ward-deid integration tests.

mod it {
    mod model;
    mod physionet;
    mod rules;
}
