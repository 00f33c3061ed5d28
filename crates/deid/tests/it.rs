//! ward-deid integration tests.

mod it {
    mod model;
    mod physionet;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
