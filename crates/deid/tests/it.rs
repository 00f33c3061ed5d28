//! ward-deid integration tests.

mod it {
    mod hl7;
    mod physionet;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
