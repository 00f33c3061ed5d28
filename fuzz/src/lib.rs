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
