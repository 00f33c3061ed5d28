//! ward-deid integration tests.

mod it {
    mod model;
    mod physionet;
    mod presidio;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
