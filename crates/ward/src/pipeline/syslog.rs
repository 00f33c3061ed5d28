//! Syslog intake: RFC 5424 and RFC 3164 headers whose message part is one JSON event, over UDP
//! (one message per datagram) and TCP (RFC 6587: newline-delimited or octet-counted frames).
//!
//! Limits: a message is at most [`MAX_MESSAGE`] bytes (longer TCP lines are skipped to their
//! newline, a longer octet count closes the connection since the stream cannot be resynced);
//! at most [`MAX_CONNECTIONS`] TCP connections at once (more are closed on accept). Malformed
//! input is counted as rejected with a reason logged, never its content.

use super::Pipeline;
use anyhow::{Context, Result};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest syslog message accepted, in bytes (header included).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Most TCP syslog connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How often blocked reads and accepts look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// Why a syslog message was refused. Never carries the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogError {
    NoPriority,
    BadPriority,
    Truncated5424,
    BadStructuredData,
    EmptyMessage,
}

impl std::fmt::Display for SyslogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoPriority => "syslog: message does not start with <PRI>",
            Self::BadPriority => "syslog: PRI is not a number from 0 to 191",
            Self::Truncated5424 => "syslog: RFC 5424 header is incomplete",
            Self::BadStructuredData => "syslog: RFC 5424 structured data is malformed",
            Self::EmptyMessage => "syslog: the message part is empty",
        })
    }
}

/// The message part (MSG) of an RFC 5424 or RFC 3164 syslog message. RFC 5424 is recognised by
/// its version `1` after `<PRI>`; anything else is read as RFC 3164, where the message starts
/// at the first `{` after the `TIMESTAMP HOSTNAME TAG:` header (the events are JSON objects).
pub fn message_part(msg: &[u8]) -> Result<&[u8], SyslogError> {
    let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
    let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
    let rest = msg.strip_prefix(b"<").ok_or(SyslogError::NoPriority)?;
    let close = rest
        .iter()
        .take(4)
        .position(|b| *b == b'>')
        .ok_or(SyslogError::BadPriority)?;
    let pri = rest.get(..close).unwrap_or_default();
    let pri_ok = !pri.is_empty()
        && pri.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(pri)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .is_some_and(|p| p <= 191);
    if !pri_ok {
        return Err(SyslogError::BadPriority);
    }
    let rest = rest.get(close + 1..).unwrap_or_default();
    let body = if let Some(after) = rest.strip_prefix(b"1 ") {
        rfc5424_msg(after)?
    } else {
        // RFC 3164: TIMESTAMP HOSTNAME TAG: MSG. The event is the JSON object that follows.
        let start = memchr::memchr(b'{', rest).ok_or(SyslogError::EmptyMessage)?;
        rest.get(start..).unwrap_or_default()
    };
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    if body.trim_ascii().is_empty() {
        return Err(SyslogError::EmptyMessage);
    }
    Ok(body)
}

/// After `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG].
fn rfc5424_msg(mut rest: &[u8]) -> Result<&[u8], SyslogError> {
    for _ in 0..5 {
        let sp = memchr::memchr(b' ', rest).ok_or(SyslogError::Truncated5424)?;
        if sp == 0 {
            return Err(SyslogError::Truncated5424);
        }
        rest = rest.get(sp + 1..).unwrap_or_default();
    }
    // structured data: "-" or one or more [ ... ] elements, with \] escapes inside values
    let sd_end = if rest.first() == Some(&b'-') {
        1
    } else if rest.first() == Some(&b'[') {
        let mut i = 0;
        let mut in_elem = false;
        let mut in_quote = false;
        let mut escaped = false;
        loop {
            let Some(&c) = rest.get(i) else {
                return Err(SyslogError::BadStructuredData);
            };
            if !in_elem {
                match c {
                    b'[' => in_elem = true,
                    _ => break,
                }
            } else if escaped {
                escaped = false;
            } else if in_quote {
                match c {
                    b'\\' => escaped = true,
                    b'"' => in_quote = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_quote = true,
                    b']' => in_elem = false,
                    _ => {}
                }
            }
            i += 1;
        }
        i
    } else {
        return Err(SyslogError::BadStructuredData);
    };
    let after = rest.get(sd_end..).unwrap_or_default();
    match after.first() {
        None => Err(SyslogError::EmptyMessage),
        Some(b' ') => Ok(after.get(1..).unwrap_or_default()),
        Some(_) => Err(SyslogError::BadStructuredData),
    }
}

/// One frame out of a TCP stream, or why bytes were dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Message(Vec<u8>),
    /// A newline-delimited message longer than [`MAX_MESSAGE`]: skipped to its newline.
    TooLong,
    /// An octet count that is not a number, or larger than [`MAX_MESSAGE`]: the stream cannot
    /// be resynchronised and the connection must be closed.
    BadCount,
}

/// RFC 6587 framing: each frame is either `LEN SP MSG` (octet counting; recognised by a
/// leading digit) or `MSG LF` (non-transparent framing). Feed bytes in any pieces.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Skipping the rest of an over-long newline-delimited message.
    skipping: bool,
    broken: bool,
}

impl Framer {
    /// Adds bytes and returns the frames completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let rest = self.buf.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            if self.skipping {
                match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        self.skipping = false;
                        pos += i + 1;
                        continue;
                    }
                    None => {
                        pos = self.buf.len();
                        break;
                    }
                }
            }
            if rest.first().is_some_and(u8::is_ascii_digit) {
                // octet counting: at most 6 digits (> MAX_MESSAGE anyway) then a space
                let digits = rest
                    .iter()
                    .take(7)
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                match rest.get(digits) {
                    None if digits < 7 => break, // need more bytes
                    Some(b' ') if digits <= 6 => {}
                    _ => {
                        self.broken = true;
                        out.push(Frame::BadCount);
                        self.buf.clear();
                        return out;
                    }
                }
                let len: usize = std::str::from_utf8(rest.get(..digits).unwrap_or_default())
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(usize::MAX);
                if len > MAX_MESSAGE {
                    self.broken = true;
                    out.push(Frame::BadCount);
                    self.buf.clear();
                    return out;
                }
                let start = digits + 1;
                match rest.get(start..start + len) {
                    Some(m) => {
                        out.push(Frame::Message(m.to_vec()));
                        pos += start + len;
                        // tolerate a newline trailer after a counted frame
                        if self.buf.get(pos) == Some(&b'\n') {
                            pos += 1;
                        }
                    }
                    None => break,
                }
            } else {
                match memchr::memchr(b'\n', rest) {
                    Some(i) if i <= MAX_MESSAGE => {
                        let m = rest.get(..i).unwrap_or_default();
                        if !m.trim_ascii().is_empty() {
                            out.push(Frame::Message(m.to_vec()));
                        }
                        pos += i + 1;
                    }
                    Some(i) => {
                        out.push(Frame::TooLong);
                        pos += i + 1;
                    }
                    None if rest.len() > MAX_MESSAGE => {
                        out.push(Frame::TooLong);
                        self.skipping = true;
                        pos = self.buf.len();
                        break;
                    }
                    None => break,
                }
            }
        }
        self.buf.drain(..pos.min(self.buf.len()));
        out
    }

    /// At end of stream: the bytes left over, if any, as a final frame. A trailing message
    /// without newline is taken (many senders omit the last one); an incomplete counted frame
    /// is dropped (`Err` with the number of bytes dropped).
    pub fn finish(&mut self) -> Result<Option<Vec<u8>>, usize> {
        let rest = std::mem::take(&mut self.buf);
        if self.broken || self.skipping || rest.trim_ascii().is_empty() {
            return Ok(None);
        }
        if rest.first().is_some_and(u8::is_ascii_digit) {
            return Err(rest.len());
        }
        Ok(Some(rest))
    }
}

/// Submits syslog messages: strips headers, counts the bad ones, queues the events (waiting
/// while the queue is full). Returns false once the pipeline is closed.
fn submit_messages(p: &Pipeline, source: &str, msgs: &[Vec<u8>]) -> bool {
    let mut events: Vec<&[u8]> = Vec::with_capacity(msgs.len());
    let mut bad = 0u64;
    for m in msgs {
        match message_part(m) {
            Ok(e) => events.push(e),
            Err(e) => {
                bad += 1;
                tracing::info!(source, reason = %e, "syslog message rejected");
            }
        }
    }
    p.count_rejected(bad);
    if events.is_empty() {
        return true;
    }
    p.submit_lines_blocking(source, &events, None).is_ok()
}

/// A running syslog listener.
#[derive(Debug)]
pub struct Listener {
    /// The bound address (the port is resolved when 0 was asked for).
    pub addr: SocketAddr,
    handle: JoinHandle<()>,
}

impl Listener {
    /// Waits for the listener (and, for TCP, its connections) to finish after `stop` is set.
    pub fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("a syslog listener panicked");
        }
    }
}

/// Receives syslog datagrams on `addr` until `stop` is set.
pub fn start_udp(addr: SocketAddr, p: Arc<Pipeline>, stop: Arc<AtomicBool>) -> Result<Listener> {
    let sock =
        UdpSocket::bind(addr).with_context(|| format!("cannot bind syslog UDP on {addr}"))?;
    sock.set_read_timeout(Some(POLL))?;
    let addr = sock.local_addr()?;
    let handle = std::thread::Builder::new()
        .name("ward-syslog-udp".into())
        .spawn(move || {
            let mut buf = vec![0u8; MAX_MESSAGE + 1];
            let mut batch: Vec<Vec<u8>> = Vec::new();
            loop {
                // drain what is waiting without blocking long, then submit the batch
                match sock.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        if n > MAX_MESSAGE {
                            p.count_rejected(1);
                            tracing::info!("syslog datagram longer than {MAX_MESSAGE} bytes");
                        } else {
                            batch.push(buf.get(..n).unwrap_or_default().to_vec());
                        }
                        if batch.len() < 1024 {
                            // keep reading while datagrams arrive back to back
                            if sock.set_nonblocking(true).is_ok() {
                                continue;
                            }
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => tracing::warn!(error = %e, "syslog UDP receive failed"),
                }
                let _ = sock.set_nonblocking(false);
                if !batch.is_empty() {
                    if !submit_messages(&p, "syslog-udp", &batch) {
                        return;
                    }
                    batch.clear();
                }
                if stop.load(Ordering::SeqCst) {
                    // one last non-blocking sweep of datagrams already received by the kernel
                    if sock.set_nonblocking(true).is_ok() {
                        while let Ok((n, _)) = sock.recv_from(&mut buf) {
                            if n <= MAX_MESSAGE {
                                batch.push(buf.get(..n).unwrap_or_default().to_vec());
                            } else {
                                p.count_rejected(1);
                            }
                        }
                    }
                    submit_messages(&p, "syslog-udp", &batch);
                    return;
                }
            }
        })?;
    Ok(Listener { addr, handle })
}

/// Accepts syslog TCP connections on `addr` until `stop` is set.
pub fn start_tcp(addr: SocketAddr, p: Arc<Pipeline>, stop: Arc<AtomicBool>) -> Result<Listener> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("cannot bind syslog TCP on {addr}"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = std::thread::Builder::new()
        .name("ward-syslog-tcp".into())
        .spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            let mut conns: Vec<JoinHandle<()>> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                            tracing::warn!(
                                "syslog TCP: {MAX_CONNECTIONS} connections open, refusing another"
                            );
                            drop(stream);
                            continue;
                        }
                        open.fetch_add(1, Ordering::SeqCst);
                        let (p, stop, open) =
                            (Arc::clone(&p), Arc::clone(&stop), Arc::clone(&open));
                        let spawned = std::thread::Builder::new()
                            .name("ward-syslog-conn".into())
                            .spawn(move || {
                                serve_connection(stream, &p, &stop);
                                open.fetch_sub(1, Ordering::SeqCst);
                            });
                        match spawned {
                            Ok(h) => conns.push(h),
                            Err(e) => {
                                tracing::error!(error = %e, "cannot start a connection thread")
                            }
                        }
                        conns.retain(|h| !h.is_finished());
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "syslog TCP accept failed");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
            // connections the kernel completed before the stop are still served to their end
            while let Ok((stream, _)) = listener.accept() {
                let p = Arc::clone(&p);
                let stop = Arc::clone(&stop);
                match std::thread::Builder::new()
                    .name("ward-syslog-conn".into())
                    .spawn(move || serve_connection(stream, &p, &stop))
                {
                    Ok(h) => conns.push(h),
                    Err(e) => tracing::error!(error = %e, "cannot start a connection thread"),
                }
            }
            for h in conns {
                let _ = h.join();
            }
        })?;
    Ok(Listener { addr, handle })
}

/// Reads frames from one connection until EOF, an unrecoverable frame, or `stop`.
fn serve_connection(mut stream: TcpStream, p: &Pipeline, stop: &AtomicBool) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 64 * 1024];
    let handle = |frames: Vec<Frame>| -> bool {
        let mut msgs = Vec::with_capacity(frames.len());
        let mut keep = true;
        for f in frames {
            match f {
                Frame::Message(m) => msgs.push(m),
                Frame::TooLong => {
                    p.count_rejected(1);
                    tracing::info!("syslog TCP: message longer than {MAX_MESSAGE} bytes skipped");
                }
                Frame::BadCount => {
                    p.count_rejected(1);
                    tracing::info!("syslog TCP: bad octet count, closing the connection");
                    keep = false;
                }
            }
        }
        submit_messages(p, "syslog-tcp", &msgs) && keep
    };
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if !handle(framer.push(buf.get(..n).unwrap_or_default())) {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    match framer.finish() {
        Ok(Some(m)) => {
            handle(vec![Frame::Message(m)]);
        }
        Ok(None) => {}
        Err(n) => {
            p.count_rejected(1);
            tracing::info!(
                bytes = n,
                "syslog TCP: connection ended inside a counted frame"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_stripped() {
        let ok: &[(&[u8], &[u8])] = &[
            (
                b"<34>1 2026-11-23T10:00:00Z host app 12 ID47 - {\"a\":1}",
                b"{\"a\":1}",
            ),
            (
                b"<165>1 - - - - - [ex@1 k=\"v\\]x\"][b@2] {\"a\":1}\n",
                b"{\"a\":1}",
            ),
            (b"<13>1 - - - - - - \xef\xbb\xbf{\"a\":1}", b"{\"a\":1}"),
            (
                b"<34>Nov 23 10:00:00 host zeek[12]: {\"a\":1}",
                b"{\"a\":1}",
            ),
            (b"<0>Nov  3 01:02:03 host tag: {\"a\":1}\r\n", b"{\"a\":1}"),
            (b"<191>{\"a\":1}", b"{\"a\":1}"),
        ];
        for (input, want) in ok {
            assert_eq!(
                message_part(input),
                Ok(*want),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        let bad: &[(&[u8], SyslogError)] = &[
            (b"{\"a\":1}", SyslogError::NoPriority),
            (b"", SyslogError::NoPriority),
            (b"<>1 - - - - - - {}", SyslogError::BadPriority),
            (b"<192>1 - - - - - - {}", SyslogError::BadPriority),
            (b"<99999>1 - - -", SyslogError::BadPriority),
            (b"<1a>x", SyslogError::BadPriority),
            (b"<34>1 - - -", SyslogError::Truncated5424),
            (
                b"<34>1 - - - - - [unclosed {}",
                SyslogError::BadStructuredData,
            ),
            (b"<34>1 - - - - - x {}", SyslogError::BadStructuredData),
            (b"<34>1 - - - - - -", SyslogError::EmptyMessage),
            (b"<34>1 - - - - - - ", SyslogError::EmptyMessage),
            (
                b"<34>Nov 23 10:00:00 host tag: no json",
                SyslogError::EmptyMessage,
            ),
            (b"<34>\xff\xfe\xfd", SyslogError::EmptyMessage),
        ];
        for (input, want) in bad {
            assert_eq!(
                message_part(input),
                Err(*want),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    fn frames(pieces: &[&[u8]]) -> (Vec<Frame>, Result<Option<Vec<u8>>, usize>) {
        let mut f = Framer::default();
        let mut out = Vec::new();
        for p in pieces {
            out.extend(f.push(p));
        }
        (out, f.finish())
    }

    fn msg(s: &[u8]) -> Frame {
        Frame::Message(s.to_vec())
    }

    #[test]
    fn framing_newlines_and_octet_counts_in_any_pieces() {
        let whole: &[u8] = b"<1>a\n5 <1>bc6 <1>d\ne\n<1>f\n\n<1>last";
        let want = vec![msg(b"<1>a"), msg(b"<1>bc"), msg(b"<1>d\ne"), msg(b"<1>f")];
        // every split point gives the same frames
        for cut in 0..whole.len() {
            let (a, b) = whole.split_at(cut);
            let (got, rest) = frames(&[a, b]);
            assert_eq!(got, want, "cut at {cut}");
            assert_eq!(rest, Ok(Some(b"<1>last".to_vec())), "cut at {cut}");
        }
        let bytewise: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(frames(&bytewise).0, want);
    }

    #[test]
    fn hostile_framing_is_bounded() {
        // a huge or non-numeric octet count breaks the stream: one BadCount, nothing after
        let (got, rest) = frames(&[b"99999999999 x\n<1>a\n"]);
        assert_eq!(got, vec![Frame::BadCount]);
        assert_eq!(rest, Ok(None));
        let (got, _) = frames(&[format!("{} x", MAX_MESSAGE + 1).as_bytes(), b"<1>a\n"]);
        assert_eq!(got, vec![Frame::BadCount]);
        let (got, _) = frames(&[b"12x <1>a\n"]);
        assert_eq!(got, vec![Frame::BadCount]);
        // truncated counted frame at end of stream: dropped, counted
        let (got, rest) = frames(&[b"10 <1>abc"]);
        assert!(got.is_empty());
        assert_eq!(rest, Err(9));
        // an over-long line is skipped to its newline, then framing resumes; memory stays bounded
        let long = vec![b'x'; MAX_MESSAGE + 10];
        let mut f = Framer::default();
        let mut got = f.push(&long);
        assert!(f.buf.len() <= MAX_MESSAGE + 10);
        got.extend(f.push(&long));
        assert!(f.buf.is_empty(), "skipped bytes are not kept");
        got.extend(f.push(b"tail\n<1>ok\n"));
        assert_eq!(got, vec![Frame::TooLong, msg(b"<1>ok")]);
        // non-UTF-8 is framed as bytes; the header parser rejects it later
        let (got, _) = frames(&[b"\xff\xfe\n3 \x80\x81\x82"]);
        assert_eq!(got, vec![msg(b"\xff\xfe"), msg(b"\x80\x81\x82")]);
    }
}
