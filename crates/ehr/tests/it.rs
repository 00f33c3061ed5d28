//! Integration tests of ward-ehr: loaders, normalisation, explanations, signals, scoring.

mod it {
    mod explain;
    pub mod fixture;
    mod load;
    mod normalise;
}
