//! Byte-level input: transparent gzip, a peeked prefix for format detection, and a line reader
//! with a hard cap on line length.

use std::io::{self, BufRead, Read};

/// Longest line accepted; a longer one is a bad record, skipped up to its newline.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How much a reader looks at to recognise a format (the first line, at most this much).
pub(crate) const PEEK_BYTES: usize = 64 * 1024;

/// Buffer size for line reading.
const BUF_BYTES: usize = 256 * 1024;

/// The input after the gzip check, with its first bytes already read for detection.
pub(crate) struct Prepared {
    /// The first line (up to [`PEEK_BYTES`]) of the decompressed content, or less at EOF.
    pub prefix: Vec<u8>,
    /// The rest of the content after `prefix`.
    pub rest: Box<dyn Read + Send>,
    /// True when the input was gzip-compressed.
    pub gzip: bool,
}

impl Prepared {
    /// The whole content again: the prefix followed by the rest.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        Box::new(io::Cursor::new(self.prefix).chain(self.rest))
    }
}

/// Reads into `buf` until it is full or the reader is exhausted; returns the count read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Checks for gzip magic (1f 8b), wraps in a decoder when found, and reads the first line (at
/// most [`PEEK_BYTES`]) for format detection. Errors carry whether gzip was active.
pub(crate) fn prepare(mut r: Box<dyn Read + Send>) -> Result<Prepared, (io::Error, bool)> {
    let mut head = [0u8; 2];
    let n = read_full(&mut r, &mut head).map_err(|e| (e, false))?;
    let head = head.get(..n).unwrap_or_default().to_vec();
    let gzip = head == [0x1f, 0x8b];
    let joined = io::Cursor::new(head).chain(r);
    let mut rest: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(joined))
    } else {
        Box::new(joined)
    };
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 4096];
    // At least 16 bytes, so binary magic numbers that contain a newline byte are seen whole.
    while prefix.len() < PEEK_BYTES
        && (prefix.len() < 16 || memchr::memchr(b'\n', &prefix).is_none())
    {
        let k = loop {
            match rest.read(&mut chunk) {
                Ok(k) => break k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((e, gzip)),
            }
        };
        if k == 0 {
            break;
        }
        prefix.extend_from_slice(chunk.get(..k).unwrap_or_default());
    }
    // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field.
    if prefix.starts_with(b"\xef\xbb\xbf") {
        prefix.drain(..3);
    }
    Ok(Prepared { prefix, rest, gzip })
}

/// A reader whose every `read` fills the buffer unless the input ends: the pcap parser reads its
/// header with a single call and would fail on a short read from a pipe or decoder.
pub(crate) struct FullRead<R>(pub R);

impl<R: Read> Read for FullRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.0, buf)
    }
}

/// One step of the line reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// A line (1-based number, text without its `\n` or `\r\n` terminator).
    Text(u64, &'a [u8]),
    /// A line longer than [`MAX_LINE_BYTES`] (its number); it has been skipped.
    TooLong(u64),
    /// End of input.
    Eof,
}

/// Splits a byte stream into lines in constant memory.
pub(crate) struct LineReader {
    inner: io::BufReader<Box<dyn Read + Send>>,
    buf: Vec<u8>,
    /// Bytes of the buffered data still to consume for the line returned last.
    pending: usize,
    /// 1-based number of the line returned last (0 before the first).
    pub line_no: u64,
}

/// `fill_buf`, retried on interruption.
fn fill(inner: &mut io::BufReader<Box<dyn Read + Send>>) -> io::Result<&[u8]> {
    loop {
        match inner.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    inner.fill_buf()
}

fn strip_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

impl LineReader {
    pub fn new(r: Box<dyn Read + Send>) -> Self {
        Self {
            inner: io::BufReader::with_capacity(BUF_BYTES, r),
            buf: Vec::new(),
            pending: 0,
            line_no: 0,
        }
    }

    /// The next line. Lines found whole in the buffer are returned without copying.
    pub fn next_line(&mut self) -> io::Result<Line<'_>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        let found = {
            let avail = fill(&mut self.inner)?;
            if avail.is_empty() {
                return Ok(Line::Eof);
            }
            memchr::memchr(b'\n', avail)
        };
        if let Some(i) = found.filter(|i| *i <= MAX_LINE_BYTES) {
            self.pending = i + 1;
            self.line_no += 1;
            let avail = self.inner.fill_buf()?;
            return Ok(Line::Text(
                self.line_no,
                strip_cr(avail.get(..i).unwrap_or_default()),
            ));
        }
        self.slow_line()
    }

    /// A line that spans buffer refills: copied into `buf`, capped at [`MAX_LINE_BYTES`].
    fn slow_line(&mut self) -> io::Result<Line<'_>> {
        self.buf.clear();
        let mut too_long = false;
        loop {
            let avail = fill(&mut self.inner)?;
            if avail.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE_BYTES {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf
                        .extend_from_slice(avail.get(..take).unwrap_or_default());
                }
            }
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            return Ok(Line::TooLong(self.line_no));
        }
        Ok(Line::Text(self.line_no, strip_cr(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call, to exercise refills.
    struct Trickle(Vec<u8>, usize, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len() - self.2);
            buf[..n].copy_from_slice(&self.0[self.2..self.2 + n]);
            self.2 += n;
            Ok(n)
        }
    }

    fn lines(data: &[u8], step: usize) -> Vec<Result<String, &'static str>> {
        let mut r = LineReader::new(Box::new(Trickle(data.to_vec(), step, 0)));
        let mut out = Vec::new();
        loop {
            match r.next_line().unwrap() {
                Line::Text(_, t) => out.push(Ok(String::from_utf8_lossy(t).into_owned())),
                Line::TooLong(_) => out.push(Err("too long")),
                Line::Eof => break,
            }
        }
        out
    }

    #[test]
    fn splits_lines_across_refills() {
        for step in [1, 3, 7, 4096] {
            assert_eq!(
                lines(b"a\r\nbb\n\nccc", step),
                vec![
                    Ok("a".into()),
                    Ok("bb".into()),
                    Ok(String::new()),
                    Ok("ccc".into())
                ]
            );
            assert_eq!(lines(b"", step), vec![]);
            assert_eq!(lines(b"x\n", step), vec![Ok("x".into())]);
        }
    }

    #[test]
    fn caps_line_length() {
        let mut data = vec![b'a'; MAX_LINE_BYTES + 10];
        data.extend_from_slice(b"\nok\n");
        let got = lines(&data, 1 << 16);
        assert_eq!(got, vec![Err("too long"), Ok("ok".into())]);
        let exact = vec![b'b'; MAX_LINE_BYTES];
        let got = lines(&exact, 1 << 16);
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok());
    }

    #[test]
    fn prepare_reads_first_line_and_keeps_everything() {
        let data = b"first line\nsecond\n".to_vec();
        let p = prepare(Box::new(Trickle(data.clone(), 3, 0))).unwrap();
        assert!(!p.gzip);
        assert!(p.prefix.starts_with(b"first line\n"));
        let mut all = Vec::new();
        p.into_reader().read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }
}
