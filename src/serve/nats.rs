//! The NATS client the service needs, and no more: the core protocol over one TCP connection
//! (`CONNECT`, `PUB`/`HPUB`, `SUB`, `MSG`/`HMSG`, `PING`/`PONG`), and the JetStream API as
//! JSON requests on `$JS.API.…` subjects.
//!
//! Why not a client crate: the official one is asynchronous and brings a runtime; the service
//! is a few threads that each block on one thing, and it uses four JetStream operations
//! (stream info, consumer create and delete, pull) plus publishing with a message id. The
//! protocol is line-based text with length-prefixed payloads
//! (<https://docs.nats.io/reference/reference-protocols/nats-protocol>).
//!
//! Reading never blocks forever: the socket has a read timeout, bytes accumulate in a buffer
//! and only complete operations are taken from it, so a timeout in the middle of a message
//! loses nothing.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long connecting and each JetStream API request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A message received on a subscription. Its subject is not kept: the subscription's id says
/// what it answers, and a string per message was an allocation the source's thread paid ten
/// million times over a backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub sid: u64,
    pub reply: Option<String>,
    /// A status message's code (`NATS/1.0 408 Request Timeout` gives 408): JetStream tells the
    /// end of a pull, and a publish no one receives, this way.
    pub status: Option<u16>,
    /// The status line's description, and the headers, as sent.
    pub headers: String,
    pub payload: Vec<u8>,
}

/// One operation sent by the server.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Msg(Message),
    Ping,
    Pong,
    Ok,
    Err(String),
    Info,
}

/// A connection to one NATS server.
pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet parsed: `buf[start..end]`. The buffer keeps its length (and its
    /// bytes) between reads, so a read does not clear the room it reads into.
    buf: Vec<u8>,
    end: usize,
    /// Operations not yet written: sent when they fill 64 KiB and before every read, so that
    /// a burst of publishes costs few system calls.
    out: Vec<u8>,
    start: usize,
    next_sid: u64,
    /// A prefix unique to this connection for reply subjects.
    inbox: String,
    requests: u64,
}

/// `nats://host:port`, `host:port` or `host` (port 4222).
fn address(url: &str) -> io::Result<std::net::SocketAddr> {
    let rest = url
        .strip_prefix("nats://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    if rest.contains('@') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "credentials in the NATS URL are not supported",
        ));
    }
    let with_port = if rest
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        rest.to_string()
    } else {
        format!("{rest}:4222")
    };
    with_port.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for `{url}`"),
        )
    })
}

fn protocol_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl Connection {
    /// Connects, announces itself (with headers, so that JetStream's status messages reach
    /// it) and waits for the server to answer a `PING`.
    pub fn connect(url: &str) -> io::Result<Connection> {
        let addr = address(url)?;
        let stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
        stream.set_nodelay(true)?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let mut conn = Connection {
            stream,
            buf: Vec::new(),
            end: 0,
            out: Vec::with_capacity(1 << 16),
            start: 0,
            next_sid: 1,
            inbox: format!("_INBOX.pledge{nonce:x}"),
            requests: 0,
        };
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        match conn.read_op(deadline)? {
            Some(Op::Info) => {}
            other => return Err(protocol_error(format!("expected INFO, got {other:?}"))),
        }
        let connect = serde_json::json!({
            "verbose": false, "pedantic": false, "headers": true, "no_responders": true,
            "name": "pledge", "lang": "rust", "version": env!("CARGO_PKG_VERSION"),
            "protocol": 1,
        });
        conn.stream
            .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())?;
        loop {
            match conn.read_op(deadline)? {
                Some(Op::Pong) => return Ok(conn),
                Some(Op::Err(e)) => return Err(protocol_error(format!("server refused: {e}"))),
                Some(_) => {}
                None => return Err(io::Error::new(io::ErrorKind::TimedOut, "no PONG")),
            }
        }
    }

    /// A new subject to receive replies on.
    pub fn new_inbox(&mut self) -> String {
        self.requests += 1;
        format!("{}.{}", self.inbox, self.requests)
    }

    /// Subscribes to `subject` (wildcards allowed); returns the subscription id.
    pub fn subscribe(&mut self, subject: &str) -> io::Result<u64> {
        let sid = self.next_sid;
        self.next_sid += 1;
        self.queue(format!("SUB {subject} {sid}\r\n").as_bytes())?;
        Ok(sid)
    }

    pub fn unsubscribe(&mut self, sid: u64) -> io::Result<()> {
        self.queue(format!("UNSUB {sid}\r\n").as_bytes())
    }

    fn queue(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(bytes);
        if self.out.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what was queued.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Publishes a message, with headers when some are given.
    pub fn publish(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> io::Result<()> {
        let reply = reply.map(|r| format!(" {r}")).unwrap_or_default();
        let mut out = std::mem::take(&mut self.out);
        if headers.is_empty() {
            write!(out, "PUB {subject}{reply} {}\r\n", payload.len())?;
        } else {
            let mut head = String::from("NATS/1.0\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            write!(
                out,
                "HPUB {subject}{reply} {} {}\r\n{head}",
                head.len(),
                head.len() + payload.len()
            )?;
        }
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
        self.out = out;
        if self.out.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    /// The next message of any subscription, answering the server's pings meanwhile; `None`
    /// when `deadline` passes first.
    pub fn next_message(&mut self, deadline: Instant) -> io::Result<Option<Message>> {
        loop {
            match self.read_op(deadline)? {
                Some(Op::Msg(m)) => return Ok(Some(m)),
                Some(Op::Ping) => self.queue(b"PONG\r\n")?,
                Some(Op::Err(e)) => return Err(protocol_error(format!("server error: {e}"))),
                Some(Op::Pong | Op::Ok | Op::Info) => {}
                None => return Ok(None),
            }
        }
    }

    /// Sends a request and waits for its one reply (which may be a status message, e.g. 503
    /// when no one subscribes to the subject).
    pub fn request(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> io::Result<Message> {
        let inbox = self.new_inbox();
        let sid = self.subscribe(&inbox)?;
        self.publish(subject, Some(&inbox), headers, payload)?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let answer = loop {
            match self.next_message(deadline)? {
                Some(m) if m.sid == sid => break Ok(m),
                // A message of another subscription arriving meanwhile is not for this call;
                // the callers that subscribe elsewhere do not make requests while pulling.
                Some(_) => {}
                None => {
                    break Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no answer to `{subject}` within {REQUEST_TIMEOUT:?}"),
                    ))
                }
            }
        };
        self.unsubscribe(sid)?;
        answer
    }

    /// A JetStream API call: the JSON answer, or the API's error as an `io::Error`.
    pub fn api(
        &mut self,
        subject: &str,
        body: &serde_json::Value,
    ) -> io::Result<serde_json::Value> {
        let answer = self.request(subject, &[], body.to_string().as_bytes())?;
        if answer.status == Some(503) {
            return Err(protocol_error(
                "JetStream is not enabled on this server (start nats-server with -js)",
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&answer.payload)
            .map_err(|e| protocol_error(format!("unreadable answer to `{subject}`: {e}")))?;
        if let Some(err) = value.get("error") {
            let code = err.get("code").and_then(|c| c.as_u64()).unwrap_or(0);
            let text = err
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("unknown error");
            let kind = if code == 404 {
                io::ErrorKind::NotFound
            } else {
                io::ErrorKind::Other
            };
            return Err(io::Error::new(kind, text.to_string()));
        }
        Ok(value)
    }

    /// Reads until one operation is complete or `deadline` passes.
    fn read_op(&mut self, deadline: Instant) -> io::Result<Option<Op>> {
        self.flush()?;
        loop {
            if let Some((op, used)) = parse_op(&self.buf[self.start..self.end])? {
                self.start += used;
                if self.start == self.end {
                    self.start = 0;
                    self.end = 0;
                }
                return Ok(Some(op));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            // Room for at least 64 KiB more: a message longer than the buffer grows it.
            if self.buf.len() < self.end + READ_SIZE {
                self.buf.resize(self.end + READ_SIZE, 0);
            }
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the NATS server closed the connection",
                    ));
                }
                Ok(n) => self.end += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The least room a read is given.
const READ_SIZE: usize = 1 << 16;

/// Longest control line accepted: a longer one means the stream is not NATS.
const MAX_CONTROL_LINE: usize = 4096;

/// The largest message taken from a server: NATS allows `max_payload` up to 64 MiB, and a
/// header and payload together never exceed it.
const MAX_MESSAGE: usize = 64 << 20;

/// One complete operation at the start of `buf`, with the bytes it used; `None` when more
/// bytes are needed.
fn parse_op(buf: &[u8]) -> io::Result<Option<(Op, usize)>> {
    let Some(end) = memchr::memmem::find(buf, b"\r\n") else {
        if buf.len() > MAX_CONTROL_LINE {
            return Err(protocol_error("a control line longer than 4096 bytes"));
        }
        return Ok(None);
    };
    let line = std::str::from_utf8(&buf[..end])
        .map_err(|_| protocol_error("a control line that is not UTF-8"))?;
    let after = end + 2;
    let (verb, args) = line.split_once(' ').unwrap_or((line, ""));
    let is = |name: &str| verb.eq_ignore_ascii_case(name);
    let op = if is("MSG") || is("HMSG") {
        let with_headers = is("HMSG");
        // MSG subject sid [reply] size; HMSG subject sid [reply] header_size total_size
        let mut fields = [""; 5];
        let mut count = 0;
        for field in args.split_ascii_whitespace() {
            if count == fields.len() {
                return Err(protocol_error(format!("malformed `{line}`")));
            }
            fields[count] = field;
            count += 1;
        }
        let fields = &fields[..count];
        let number = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| protocol_error(format!("bad size in `{line}`")))
        };
        let sizes = if with_headers { 2 } else { 1 };
        if fields.len() != 2 + sizes && fields.len() != 3 + sizes {
            return Err(protocol_error(format!("malformed `{line}`")));
        }
        let reply = (fields.len() == 3 + sizes).then(|| fields[2].to_string());
        let total = number(fields[fields.len() - 1])?;
        let head = if with_headers {
            number(fields[fields.len() - 2])?
        } else {
            0
        };
        // A size past what any server sends (its `max_payload` is at most 64 MiB) is a broken
        // or hostile peer: refused before any arithmetic on it can wrap.
        if head > total || total > MAX_MESSAGE {
            return Err(protocol_error(format!("malformed `{line}`")));
        }
        if buf.len() < after + total + 2 {
            return Ok(None);
        }
        let sid = fields[1]
            .parse()
            .map_err(|_| protocol_error(format!("bad subscription id in `{line}`")))?;
        let headers = String::from_utf8_lossy(&buf[after..after + head]).into_owned();
        let status = headers
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("NATS/1.0"))
            .and_then(|l| l.split_ascii_whitespace().next())
            .and_then(|code| code.parse().ok());
        let message = Message {
            sid,
            reply,
            status,
            headers,
            payload: buf[after + head..after + total].to_vec(),
        };
        return Ok(Some((Op::Msg(message), after + total + 2)));
    } else if is("PING") {
        Op::Ping
    } else if is("PONG") {
        Op::Pong
    } else if is("+OK") {
        Op::Ok
    } else if is("-ERR") {
        Op::Err(args.trim().trim_matches('\'').to_string())
    } else if is("INFO") {
        Op::Info
    } else {
        return Err(protocol_error(format!("unknown operation `{line}`")));
    };
    Ok(Some((op, after)))
}

/// What the reply subject of a JetStream message tells: the stream sequence of the message,
/// how many messages of the consumer were still pending after it, and when it was stored.
/// `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<nanos>.<pending>`
/// (servers since 2.9 may insert a domain and account hash before the stream: the last six
/// tokens are counted from the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub stream_seq: u64,
    pub pending: u64,
    pub stored_nanos: i64,
}

pub fn delivery(reply: &str) -> Option<Delivery> {
    let rest = reply.strip_prefix("$JS.ACK.")?;
    // Read from the end, where the numbers are, in one pass over the bytes (two splits of
    // every reply subject were a fifth of the source thread's time under a backlog). A
    // stream or consumer name holds no dot, so the count of dots tells the form.
    let tokens = 2 + memchr::memchr_iter(b'.', rest.as_bytes()).count() + 1;
    if tokens < 9 {
        return None;
    }
    let mut from_end = rest.rsplit('.');
    if tokens >= 12 {
        from_end.next()?; // the v2 form's trailing random token
    }
    let pending = from_end.next()?.parse().ok()?;
    let stored_nanos = from_end.next()?.parse().ok()?;
    from_end.next()?; // the consumer sequence
    let stream_seq = from_end.next()?.parse().ok()?;
    Some(Delivery {
        stream_seq,
        pending,
        stored_nanos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(bytes: &[u8]) -> Option<(Op, usize)> {
        parse_op(bytes).expect("parses")
    }

    #[test]
    fn messages_with_and_without_headers_parse_and_incomplete_ones_wait() {
        let msg = b"MSG a.b 7 reply.to 5\r\nhello\r\nPING\r\n";
        let (m, used) = op(msg).expect("complete");
        assert_eq!(used, 29);
        let Op::Msg(m) = m else { panic!("{m:?}") };
        assert_eq!(m.sid, 7);
        assert_eq!(m.reply.as_deref(), Some("reply.to"));
        assert_eq!((m.payload.as_slice(), m.status), (&b"hello"[..], None));
        assert_eq!(op(&msg[used..]), Some((Op::Ping, 6)));
        for cut in 0..used {
            assert_eq!(op(&msg[..cut]), None, "cut at {cut}");
        }
        let head = "NATS/1.0 408 Request Timeout\r\n\r\n";
        let status = format!("HMSG _INBOX.x.1 2 {0} {0}\r\n{head}\r\n", head.len());
        let (Op::Msg(m), _) = op(status.as_bytes()).expect("complete") else {
            panic!()
        };
        assert_eq!((m.status, m.reply, m.payload.len()), (Some(408), None, 0));
        assert!(parse_op(b"NONSENSE\r\n").is_err());
        assert!(parse_op(b"MSG a 1 x y\r\n").is_err());
        assert!(parse_op(&[b'x'; 5000]).is_err());
        // A size whose arithmetic would wrap, from a broken or hostile server: refused.
        assert!(parse_op(b"MSG _INBOX.x 1 18446744073709551615\r\nXXXX\r\n").is_err());
        assert!(parse_op(b"HMSG _INBOX.x 1 2 18446744073709551615\r\nXXXX\r\n").is_err());
        assert!(parse_op(b"MSG _INBOX.x 1 67108865\r\nXXXX\r\n").is_err());
        assert!(parse_op(b"MSG _INBOX.x 1 67108864\r\nXXXX\r\n")
            .expect("a size in bounds")
            .is_none());
    }

    /// A server that sends its bytes in pieces of every size, around messages longer than a
    /// read's room: each message arrives whole and in order, and a `PING` between them is
    /// answered.
    #[test]
    fn messages_cut_anywhere_and_longer_than_a_read_arrive_whole() {
        use std::io::{BufRead, BufReader};
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("nats://{}", listener.local_addr().expect("addr"));
        let payloads: Vec<Vec<u8>> = [3usize, 0, READ_SIZE + 17, 100, 3 * READ_SIZE, 1]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| b'a' + ((i + j) % 26) as u8).collect())
            .collect();
        let sent = payloads.clone();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().expect("accept");
            socket.write_all(b"INFO {}\r\n").expect("info");
            let mut reader = BufReader::new(socket.try_clone().expect("clone"));
            let mut line = String::new();
            while !line.starts_with("PING") {
                line.clear();
                reader.read_line(&mut line).expect("connect");
            }
            socket.write_all(b"PONG\r\n").expect("pong");
            let mut bytes = Vec::new();
            for (i, p) in sent.iter().enumerate() {
                bytes.extend_from_slice(
                    format!("MSG s.{i} 7 $JS.ACK.S.C.1.{i}.{i}.5.0 {}\r\n", p.len()).as_bytes(),
                );
                bytes.extend_from_slice(p);
                bytes.extend_from_slice(b"\r\n");
                if i == 2 {
                    bytes.extend_from_slice(b"PING\r\n");
                }
            }
            let mut at = 0;
            let mut piece = 1;
            while at < bytes.len() {
                let n = piece.min(bytes.len() - at);
                socket.write_all(&bytes[at..at + n]).expect("send");
                socket.flush().expect("flush");
                at += n;
                piece = piece * 7 % 100_003 + 1;
            }
            // The client answers the PING in the middle with a PONG.
            let mut pong = String::new();
            while !pong.starts_with("PONG") {
                pong.clear();
                reader.read_line(&mut pong).expect("pong");
            }
        });
        let mut conn = Connection::connect(&url).expect("connect");
        for (i, p) in payloads.iter().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(10);
            let m = conn
                .next_message(deadline)
                .expect("read")
                .expect("a message");
            assert_eq!(m.payload.len(), p.len(), "message {i}");
            assert!(m.payload == *p, "message {i}");
            let d = m.reply.as_deref().and_then(delivery).expect("a delivery");
            assert_eq!(d.stream_seq, i as u64);
        }
        conn.flush().expect("flush");
        server.join().expect("server");
    }

    #[test]
    fn ack_subjects_tell_the_stream_sequence_in_both_forms() {
        let v1 = "$JS.ACK.EVENTS.pledge.1.42.40.1700000000000000000.7";
        assert_eq!(
            delivery(v1),
            Some(Delivery {
                stream_seq: 42,
                pending: 7,
                stored_nanos: 1_700_000_000_000_000_000
            })
        );
        let v2 = "$JS.ACK.hub.ACCHASH.EVENTS.pledge.1.42.40.1700000000000000000.7.rand";
        assert_eq!(
            delivery(v2).map(|d| (d.stream_seq, d.pending)),
            Some((42, 7))
        );
        assert_eq!(delivery("_INBOX.x"), None);
        assert_eq!(delivery("$JS.ACK.S.C.1.x.1.1.1"), None);
        assert_eq!(delivery("$JS.ACK.S.C.1.2.3.4"), None, "eight tokens");
        assert_eq!(delivery("$JS.ACKS.S.C.1.2.3.4.5"), None);
    }

    /// The numbers are read from the end: for every length of the subject they are the tokens
    /// a plain split finds at those places.
    #[test]
    fn ack_subjects_of_any_length_are_read_from_the_end() {
        for extra in 0..6 {
            let mut tokens = vec!["$JS".to_string(), "ACK".to_string()];
            tokens.extend((0..extra).map(|i| format!("x{i}")));
            tokens.extend(["S", "C", "1", "42", "40", "99", "7"].map(String::from));
            if tokens.len() >= 12 {
                tokens.push("rand".into());
            }
            let subject = tokens.join(".");
            let n = tokens.len();
            let at = |k: usize| tokens[n - k].parse::<i64>().expect("a number");
            let skip = usize::from(n >= 12);
            let got = delivery(&subject).expect(&subject);
            assert_eq!(got.pending as i64, at(1 + skip), "{subject}");
            assert_eq!(got.stored_nanos, at(2 + skip), "{subject}");
            assert_eq!(got.stream_seq as i64, at(4 + skip), "{subject}");
        }
    }

    #[test]
    fn urls_name_a_server() {
        assert_eq!(address("nats://127.0.0.1:4333").unwrap().port(), 4333);
        assert_eq!(address("127.0.0.1").unwrap().port(), 4222);
        assert!(address("nats://u:p@127.0.0.1:1").is_err());
    }
}
