//! Shared driver for the fuzz targets: feed bytes through `ward_ingest::from_reader` with a
//! forced format and drain the reader. Any panic is a bug; errors are expected.

use ward_ingest::{CsvMapping, Format, ReadOptions, from_reader};

/// Reads `data` as `format` to the end, checking the iterator's contract on the way.
pub fn drain(format: Format, data: &[u8]) {
    let csv_mapping = (format == Format::Csv).then(|| CsvMapping {
        has_header: false,
        src: Some(ward_ingest::Column::Index(0)),
        dst_port: Some(ward_ingest::Column::Index(1)),
        duration: Some(ward_ingest::Column::Index(2)),
        label: Some(ward_ingest::Column::Index(3)),
        extra: vec![ward_ingest::Column::Index(4)],
        ..CsvMapping::default()
    });
    let opts = ReadOptions {
        format: Some(format),
        csv_mapping,
        ..ReadOptions::default()
    };
    let Ok(mut reader) = from_reader("fuzz", Box::new(std::io::Cursor::new(data.to_vec())), &opts)
    else {
        return;
    };
    let extras = reader.schema().extra.len();
    let mut records = 0u64;
    let mut bad = 0u64;
    for item in &mut reader {
        match item {
            Ok(rec) => {
                records += 1;
                assert_eq!(rec.flow.extra.len(), extras);
            }
            Err(e) if e.is_fatal() => break,
            Err(_) => bad += 1,
        }
    }
    assert!(reader.next().is_none(), "a finished reader stays finished");
    assert_eq!(reader.stats().records, records);
    assert_eq!(reader.stats().bad, bad);
}

/// Shared set-up for the `deid_*` targets: one key, one surrogate generator and one detector
/// for the whole run, and the invariants every de-identifier keeps.
pub mod deid {
    use std::sync::OnceLock;
    use ward_deid::{Detector, Found, Key, Surrogates};

    /// The surrogate generator of a fixed key.
    pub fn surrogates() -> &'static Surrogates {
        static S: OnceLock<Surrogates> = OnceLock::new();
        S.get_or_init(|| Surrogates::new(&Key::from_bytes([7; 32])))
    }

    /// The rule-based detector.
    pub fn detector() -> &'static Detector {
        static D: OnceLock<Detector> = OnceLock::new();
        D.get_or_init(Detector::new)
    }

    /// The first byte of `data` as option bits, and the rest.
    pub fn split(data: &[u8]) -> (u8, &[u8]) {
        match data.split_first() {
            Some((b, rest)) => (*b, rest),
            None => (0, data),
        }
    }

    /// Checks the detector's contract: spans in bounds, on character boundaries, non-empty,
    /// sorted and not overlapping.
    pub fn check_spans(text: &str, found: &[Found]) {
        let mut last = 0usize;
        for f in found {
            assert!(
                f.start < f.end,
                "empty or reversed span {}..{}",
                f.start,
                f.end
            );
            assert!(
                f.end <= text.len(),
                "span {}..{} past {}",
                f.start,
                f.end,
                text.len()
            );
            assert!(
                text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
                "span {}..{} not on char boundaries",
                f.start,
                f.end
            );
            assert!(
                f.start >= last,
                "span {}..{} overlaps or is out of order",
                f.start,
                f.end
            );
            last = f.end;
        }
    }
}
