//! Integration tests of ward-ehr: loaders, normalisation, explanations, signals, scoring.

mod it {
    mod detect;
    mod explain;
    pub mod fixture;
    pub mod hospital;
    mod hostile;
    mod load;
    mod normalise;
    mod signals;
}
