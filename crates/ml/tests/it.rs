//! Integration tests of ward-ml's supervised toolkit, on data generated here with seeded RNGs.

mod it {
    pub mod bench;
    pub mod calibrate;
    pub mod cv;
    pub mod data;
    pub mod gbdt;
    pub mod logreg;
    pub mod metrics;
    pub mod model;
}
