//! ward-fraud integration tests.
mod it {
    mod load;
    mod rules;
}
