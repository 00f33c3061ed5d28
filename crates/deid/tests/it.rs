//! ward-deid integration tests.

mod it {
    mod fhir;
    mod generate;
    mod hl7;
    mod hostile;
    mod model;
    mod physionet;
    mod prefilter;
    mod presidio;
    mod replace;
    mod rules;
    mod surrogate;
    mod table;
}
