//! Bad input across formats: the error is typed, located and clear, and nothing panics or
//! balloons.

use crate::zeek::{LINE1, LINE2, conn_log, flow1};
use crate::{gzip, opts, run, run_with};
use std::io::{self, Read};
use ward_ingest::{
    Format, IngestError, MAX_KEPT_ERRORS, MAX_LINE_BYTES, ReadOptions, from_reader, open,
};

#[test]
fn unknown_format_names_the_known_ones() {
    let e = run_with(
        "mystery.bin",
        b"\x00\x01\x02 binary garbage \xff\xfe\n",
        &opts(None),
    )
    .err()
    .unwrap();
    assert!(matches!(e, IngestError::UnknownFormat { .. }));
    assert!(e.is_fatal());
    assert_eq!(
        e.to_string(),
        "mystery.bin: unknown input format; known formats: zeek, zeek-json, eve, nsl-kdd, unsw-nb15, csv, pcap (pass one explicitly)"
    );
}

#[test]
fn empty_input() {
    let e = run_with("empty.log", b"", &opts(None)).err().unwrap();
    assert_eq!(
        e.to_string(),
        "empty.log: input is empty, cannot detect its format"
    );
    for f in [
        Format::Zeek,
        Format::ZeekJson,
        Format::Eve,
        Format::NslKdd,
        Format::Unsw,
    ] {
        for data in [&b""[..], b"\n\n  \n", &gzip(b"")] {
            let r = run(Some(f), data);
            assert!(r.items.is_empty(), "{f}");
            assert_eq!(r.stats.records + r.stats.bad, 0);
        }
    }
}

/// Binary garbage forced through each text format gives record errors, never a panic.
#[test]
fn binary_garbage_is_bad_records() {
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    for f in [Format::Zeek, Format::ZeekJson, Format::Eve, Format::NslKdd] {
        let r = run(Some(f), &garbage);
        assert!(r.stats.bad > 0, "{f}");
        assert_eq!(r.stats.records, 0, "{f}");
        assert!(
            r.items
                .iter()
                .all(|i| i.as_ref().is_err_and(|e| !e.is_fatal())),
            "{f}"
        );
        assert!(r.stats.errors.len() <= MAX_KEPT_ERRORS);
    }
    let e = run_with("g", &garbage, &opts(Some(Format::Pcap)))
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "g: not a pcap or pcapng capture");
}

#[test]
fn a_ten_megabyte_line_is_one_bad_record() {
    let mut data = conn_log(&[LINE1]).into_bytes();
    data.extend(std::iter::repeat_n(b'A', 10 << 20));
    data.push(b'\n');
    data.extend_from_slice(LINE1.as_bytes());
    data.push(b'\n');
    let r = run(None, &data);
    assert_eq!(
        r.errors(),
        vec![format!("test:11: line longer than {MAX_LINE_BYTES} bytes")]
    );
    assert_eq!(r.flows(), vec![flow1(), flow1()]);
    assert_eq!(r.lines(), vec![9, 12]);
    // A huge first line of JSON or CSV is refused the same way.
    let mut j = vec![b'{'; 3 << 20];
    j.push(b'\n');
    let r = run(Some(Format::Eve), &j);
    assert_eq!(
        r.errors(),
        vec![format!("test:1: line longer than {MAX_LINE_BYTES} bytes")]
    );
}

#[test]
fn truncated_gzip_is_fatal_after_the_records_before_it() {
    let lines: Vec<String> = (0..20_000)
        .map(|i| LINE1.replace("CAbc1", &format!("C{i}")))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let full = gzip(conn_log(&refs).as_bytes());
    let cut = &full[..full.len() / 2];
    let r = run(None, cut);
    let (last, rest) = r.items.split_last().unwrap();
    assert!(rest.iter().all(Result::is_ok));
    assert!(rest.len() > 1000, "records before the cut are read");
    let e = last.as_ref().unwrap_err();
    assert!(matches!(e, IngestError::Gzip { .. }), "{e}");
    assert!(e.is_fatal());
    assert!(e.to_string().starts_with("test:"), "{e}");
    assert!(
        e.to_string().contains("truncated or corrupt gzip stream"),
        "{e}"
    );
    // Corruption right after the magic bytes fails at open.
    let e = run_with("z", &[0x1f, 0x8b, 0, 0, 0], &opts(None))
        .err()
        .unwrap();
    assert!(matches!(e, IngestError::Gzip { line: 0, .. }), "{e}");
}

/// Yields `data`, then fails.
struct FailAfter(io::Cursor<Vec<u8>>);
impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_error_mid_stream_is_fatal_once() {
    let data = conn_log(&[LINE1, LINE2]).into_bytes();
    let mut r = from_reader(
        "f",
        Box::new(FailAfter(io::Cursor::new(data))),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(r.next().unwrap().unwrap().flow, flow1());
    assert!(r.next().unwrap().is_ok());
    let e = r.next().unwrap().unwrap_err();
    assert!(e.is_fatal());
    assert_eq!(e.to_string(), "f:11: read error: disk on fire");
    assert!(r.next().is_none());
    assert!(r.next().is_none());
}

/// The reader reports bad records and goes on; a strict caller stops at the first one.
#[test]
fn strict_and_lenient_callers() {
    let bad = LINE1.replace("51234", "port?");
    let data = conn_log(&[LINE1, &bad, LINE2, &bad]);
    let lenient = run(None, data.as_bytes());
    assert_eq!((lenient.stats.records, lenient.stats.bad), (2, 2));
    assert_eq!(
        lenient
            .stats
            .errors
            .iter()
            .map(|e| e.line)
            .collect::<Vec<_>>(),
        vec![10, 12]
    );
    assert_eq!(
        lenient.stats.errors[0].to_string(),
        "test:10: field id.orig_p: invalid port \"port?\""
    );

    let mut r = from_reader(
        "test",
        Box::new(io::Cursor::new(data.into_bytes())),
        &ReadOptions::default(),
    )
    .unwrap();
    let mut got = Vec::new();
    let stop = loop {
        match r.next() {
            Some(Ok(rec)) => got.push(rec),
            Some(Err(e)) => break e,
            None => panic!("expected an error"),
        }
    };
    assert_eq!(got.len(), 1);
    assert!(!stop.is_fatal());
    assert!(matches!(&stop, IngestError::Record(e) if e.line == 10));
    assert_eq!((r.stats().records, r.stats().bad), (1, 1));
}

#[test]
fn only_the_first_errors_are_kept() {
    let bad = LINE1.replace("51234", "x");
    let lines = vec![bad.as_str(); 250];
    let r = run(None, conn_log(&lines).as_bytes());
    assert_eq!(r.stats.bad, 250);
    assert_eq!(r.stats.errors.len(), MAX_KEPT_ERRORS);
    assert_eq!(r.items.len(), 250);
}

#[test]
fn open_reads_files_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.log.gz");
    std::fs::write(&path, gzip(conn_log(&[LINE1]).as_bytes())).unwrap();
    let mut r = open(&path, &ReadOptions::default()).unwrap();
    let rec = r.next().unwrap().unwrap();
    assert_eq!(rec.id.source, path.display().to_string());
    assert_eq!(rec.id.line, 9);
    assert_eq!(r.source_name(), path.display().to_string());

    let missing = dir.path().join("nope.log");
    let e = open(&missing, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, IngestError::Open { .. }));
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot open: ", missing.display())),
        "{e}"
    );
}

#[test]
fn format_names_parse() {
    assert_eq!("unsw-nb15".parse::<Format>().unwrap(), Format::Unsw);
    assert_eq!(Format::ALL.len(), 7);
    let names: Vec<String> = Format::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "zeek",
            "zeek-json",
            "eve",
            "nsl-kdd",
            "unsw-nb15",
            "csv",
            "pcap"
        ]
    );
}

/// Readers and errors can cross threads (the binary reads on one thread, detects on another).
#[test]
fn readers_and_errors_are_send() {
    fn send<T: Send + 'static>() {}
    fn send_sync<T: Send + Sync + 'static>() {}
    send::<ward_ingest::FlowReader>();
    send_sync::<IngestError>();
    send_sync::<ward_ingest::Record>();
}
