//! ward-fraud integration tests.
mod it {
    mod load;
    mod provider;
    mod rules;
}
