//! ward-deid integration tests.

mod it {
    mod fhir;
    mod hl7;
    mod physionet;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
