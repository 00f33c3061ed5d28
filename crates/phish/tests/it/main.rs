//! ward-phish integration tests (one binary): parsing, signals, URLs, the model, hostile input.

mod hostile;
mod mail;
mod model;
mod signals;
mod url;

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
