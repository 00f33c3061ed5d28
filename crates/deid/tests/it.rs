//! ward-deid integration tests.

mod it {
    mod physionet;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
