//! Where the service's events come from, and how far it has read: a file followed as it grows
//! (surviving rotation and truncation), standard input, or nothing (events are POSTed).
//!
//! A source hands out complete lines only, each with the [`Position`] just after it; the
//! service commits that position with the state the line produced, and a restarted source
//! resumes from it. A NATS JetStream stream is a source too: see [`super::jetstream`].

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// How far a source has been read: committed with the engine's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// A followed file: the byte offset after the last line applied, in the file with this
    /// identity (device and inode on unix; 0 elsewhere), so that a restart notices a rotation.
    File { offset: u64, identity: u64 },
    /// Standard input: lines applied (a restarted service reads a new standard input).
    Stdin { lines: u64 },
    /// Events arrive over HTTP only: a request is committed before it is answered.
    Post,
    /// A JetStream stream: the sequence of the last message applied.
    Nats { stream: String, sequence: u64 },
}

/// How much a source holds beyond what it handed out, in the unit it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lag {
    /// Bytes of a followed file.
    Bytes(u64),
    /// Messages of a stream.
    Events(u64),
}

/// What a source has next.
#[derive(Debug)]
pub enum Next {
    /// A complete line (without its line end).
    Line(Vec<u8>),
    /// Nothing yet: the file has no complete line beyond what was read (ask again later).
    Idle,
    /// The source has ended (standard input closed).
    End,
}

/// A source of event lines with a position to resume from.
pub trait Source: Send {
    /// The next complete line, [`Next::Idle`] when there is none yet, or [`Next::End`].
    fn next_line(&mut self) -> io::Result<Next>;
    /// The position just after the last line handed out.
    fn position(&self) -> Position;
    /// How much the source holds beyond the position, when it can tell.
    fn behind(&self) -> Option<Lag>;
    /// Whether an [`Next::Idle`] means that everything the source held when it was opened has
    /// been handed out (so `--until-eof` may stop), rather than that more is on its way.
    fn caught_up(&self) -> bool {
        true
    }
    /// Called once the source is read no more: the service has stopped (`stop` is set) or is
    /// about to, with a last commit. What must follow the last commit (a JetStream
    /// acknowledgement) waits for it here.
    fn finish(&mut self, stop: &AtomicBool) {
        let _ = stop;
    }
    /// At the end of what the source holds (`--until-eof`): a last line without its line end,
    /// handed out as a line, as `pledge check` reads one. A followed file waits for the end of
    /// such a line otherwise (its writer may be in the middle of it).
    fn unterminated(&mut self) -> Option<Vec<u8>> {
        None
    }
}

/// A line longer than this is handed out cut to one byte more (the engine rejects it as longer
/// than its limit, as `pledge check` does) and the rest of it is read and dropped, so that a
/// line without an end cannot take the memory and its rest is never taken for lines.
pub const MAX_LINE: usize = crate::limits::MAX_EVENT_LINE_BYTES;

/// The identity of a file: device and inode, so that a rotation is seen.
fn identity(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.dev().wrapping_mul(1_000_003) ^ meta.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// A file followed like `tail -F`: read to its end, then read what is appended; when the path
/// names another file (rotated) the rest of the old file is read, then the new one from its
/// start; when the file shrinks (truncated) it is read again from its start.
pub struct FileSource {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    identity: u64,
    /// Offset after the last complete line handed out.
    offset: u64,
    /// Bytes of a line whose end has not been written yet.
    partial: Vec<u8>,
    /// In the rest of a line handed out cut: read up to its end and dropped.
    skipping: bool,
}

impl FileSource {
    /// Follows `path` from `from` (a committed position), or from its start. A position in a
    /// file the path no longer names (rotated while the service was down) starts the new file
    /// from its start.
    pub fn open(path: &Path, from: Option<&Position>) -> FileSource {
        let mut source = FileSource {
            path: path.to_path_buf(),
            reader: None,
            identity: 0,
            offset: 0,
            partial: Vec::new(),
            skipping: false,
        };
        let resume = match from {
            Some(Position::File { offset, identity }) => Some((*offset, *identity)),
            _ => None,
        };
        source.reopen(resume);
        source
    }

    /// Opens the path; resumes at the offset when it is still the same file and long enough.
    fn reopen(&mut self, resume: Option<(u64, u64)>) {
        self.reader = None;
        self.partial.clear();
        self.skipping = false;
        self.offset = 0;
        let Ok(mut file) = File::open(&self.path) else {
            return;
        };
        let Ok(meta) = file.metadata() else {
            return;
        };
        self.identity = identity(&meta);
        if let Some((offset, id)) = resume {
            if id == self.identity
                && offset <= meta.len()
                && file.seek(SeekFrom::Start(offset)).is_ok()
            {
                self.offset = offset;
            }
        }
        self.reader = Some(BufReader::with_capacity(1 << 16, file));
    }

    /// Whether the path now names another file, or the file shrank below what was read.
    fn replaced(&self) -> bool {
        match std::fs::metadata(&self.path) {
            Ok(meta) => {
                identity(&meta) != self.identity
                    || meta.len() < self.offset + self.partial.len() as u64
            }
            Err(_) => false,
        }
    }
}

impl Source for FileSource {
    fn next_line(&mut self) -> io::Result<Next> {
        if self.reader.is_none() {
            self.reopen(None);
            if self.reader.is_none() {
                return Ok(Next::Idle);
            }
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(Next::Idle);
        };
        while self.skipping {
            let (skipped, ended) = skip_line(reader)?;
            self.offset += skipped as u64;
            if ended {
                self.skipping = false;
            } else if skipped == 0 {
                return Ok(Next::Idle);
            }
        }
        let start = self.partial.len();
        let read = reader
            .by_ref()
            .take((MAX_LINE + 1).saturating_sub(start) as u64)
            .read_until(b'\n', &mut self.partial)?;
        let ended = self.partial.last() == Some(&b'\n');
        if ended || self.partial.len() > MAX_LINE {
            self.offset += self.partial.len() as u64;
            let mut line = std::mem::take(&mut self.partial);
            if ended {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            } else {
                self.skipping = true;
            }
            return Ok(Next::Line(line));
        }
        if read == 0 && self.replaced() {
            // The rest of the old file was read; what remains without a line end is dropped
            // with it (a writer that rotates finishes its lines first).
            self.reopen(None);
        }
        Ok(Next::Idle)
    }

    fn position(&self) -> Position {
        Position::File {
            offset: self.offset,
            identity: self.identity,
        }
    }

    fn behind(&self) -> Option<Lag> {
        let len = std::fs::metadata(&self.path).ok()?.len();
        Some(Lag::Bytes(len.saturating_sub(self.offset)))
    }

    fn unterminated(&mut self) -> Option<Vec<u8>> {
        if self.partial.is_empty() || self.skipping {
            return None;
        }
        self.offset += self.partial.len() as u64;
        let mut line = std::mem::take(&mut self.partial);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(line)
    }
}

/// Reads and drops bytes up to and including the next `\n`: how many, and whether the `\n` came.
fn skip_line<R: BufRead>(reader: &mut R) -> io::Result<(usize, bool)> {
    let mut skipped = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((skipped, false));
        }
        if let Some(i) = memchr::memchr(b'\n', buf) {
            reader.consume(i + 1);
            return Ok((skipped + i + 1, true));
        }
        let n = buf.len();
        reader.consume(n);
        skipped += n;
    }
}

/// Standard input, to its end.
pub struct StdinSource<R> {
    reader: BufReader<R>,
    lines: u64,
    /// In the rest of a line handed out cut ([`MAX_LINE`]).
    skipping: bool,
}

impl<R: Read + Send> StdinSource<R> {
    pub fn new(input: R) -> StdinSource<R> {
        StdinSource {
            reader: BufReader::new(input),
            lines: 0,
            skipping: false,
        }
    }
}

impl<R: Read + Send> Source for StdinSource<R> {
    fn next_line(&mut self) -> io::Result<Next> {
        if self.skipping {
            skip_line(&mut self.reader)?;
            self.skipping = false;
        }
        let mut line = Vec::new();
        let n = self
            .reader
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(Next::End);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else if line.len() > MAX_LINE {
            self.skipping = true;
        }
        self.lines += 1;
        Ok(Next::Line(line))
    }

    fn position(&self) -> Position {
        Position::Stdin { lines: self.lines }
    }

    fn behind(&self) -> Option<Lag> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(source: &mut FileSource) -> Vec<String> {
        let mut out = Vec::new();
        while let Next::Line(l) = source.next_line().expect("read") {
            out.push(String::from_utf8(l).expect("utf-8"));
        }
        out
    }

    #[test]
    fn a_followed_file_hands_out_complete_lines_and_resumes_from_its_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        let mut f = File::create(&path).expect("create");
        f.write_all(b"a\nb\nc").expect("write");
        let mut s = FileSource::open(&path, None);
        assert_eq!(lines(&mut s), ["a", "b"]);
        let pos = s.position();
        assert_eq!(
            pos,
            Position::File {
                offset: 4,
                identity: s.identity
            }
        );
        f.write_all(b"c\nd\n").expect("write");
        assert_eq!(lines(&mut s), ["cc", "d"]);
        // A restart from the committed position re-reads only what came after it.
        let mut again = FileSource::open(&path, Some(&pos));
        assert_eq!(lines(&mut again), ["cc", "d"]);
    }

    #[test]
    fn a_rotated_or_truncated_file_is_read_from_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, b"a\nb\n").expect("write");
        let mut s = FileSource::open(&path, None);
        assert_eq!(lines(&mut s), ["a", "b"]);
        std::fs::rename(&path, dir.path().join("events.1")).expect("rotate");
        std::fs::write(&path, b"c\n").expect("write");
        assert_eq!(lines(&mut s), Vec::<String>::new()); // notices the rotation
        assert_eq!(lines(&mut s), ["c"]);
        std::fs::write(&path, b"").expect("truncate");
        assert_eq!(lines(&mut s), Vec::<String>::new());
        std::fs::write(&path, b"d\n").expect("write");
        assert_eq!(lines(&mut s), ["d"]);
    }

    /// Each line handed out, as its length and its last bytes (lines here are megabytes).
    fn shapes(source: &mut dyn Source) -> Vec<(usize, Vec<u8>)> {
        let mut out = Vec::new();
        while let Next::Line(l) = source.next_line().expect("read") {
            out.push((l.len(), l[l.len().saturating_sub(3)..].to_vec()));
        }
        out
    }

    /// A line over the limit is handed out once, cut to one byte more than the limit (which
    /// the engine rejects as overlong), and its rest is dropped, not taken for lines: as
    /// `pledge check` reads it. A line of exactly the limit before its `\r\n` is a line.
    #[test]
    fn an_overlong_line_is_handed_out_once_and_its_rest_dropped() {
        let mut bytes = vec![b' '; MAX_LINE + 5];
        bytes.extend_from_slice(b"xyz\n");
        bytes.extend_from_slice(&vec![b'a'; 3 * MAX_LINE]);
        bytes.extend_from_slice(b"\nnext\n");
        bytes.extend_from_slice(&vec![b'b'; MAX_LINE]);
        bytes.extend_from_slice(b"\r\nlast\n");
        let want = vec![
            (MAX_LINE + 1, b"   ".to_vec()),
            (MAX_LINE + 1, b"aaa".to_vec()),
            (4, b"ext".to_vec()),
            // Cut before its `\n`, with its `\r`: the engine takes the `\r` off and reads a
            // line of exactly the limit.
            (MAX_LINE + 1, b"bb\r".to_vec()),
            (4, b"ast".to_vec()),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, &bytes).expect("write");
        let mut file = FileSource::open(&path, None);
        assert_eq!(shapes(&mut file), want);
        assert_eq!(
            file.position(),
            Position::File {
                offset: bytes.len() as u64,
                identity: file.identity
            }
        );
        let mut stdin = StdinSource::new(std::io::Cursor::new(bytes.clone()));
        assert_eq!(shapes(&mut stdin), want);
        assert_eq!(stdin.position(), Position::Stdin { lines: 5 });
    }

    /// A last line without its line end waits while the file is followed (its writer may be
    /// in the middle of it) and is handed out at the end of the source (`--until-eof`).
    #[test]
    fn an_unterminated_last_line_is_handed_out_at_the_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, b"a\nb\r").expect("write");
        let mut s = FileSource::open(&path, None);
        assert_eq!(lines(&mut s), ["a"]);
        assert_eq!(s.unterminated(), Some(b"b".to_vec()));
        assert_eq!(s.unterminated(), None, "handed out once");
        assert_eq!(
            s.position(),
            Position::File {
                offset: 4,
                identity: s.identity
            }
        );
        std::fs::write(&path, b"a\n").expect("write");
        let mut ended = FileSource::open(&path, None);
        assert_eq!(lines(&mut ended), ["a"]);
        assert_eq!(
            ended.unterminated(),
            None,
            "nothing after the last line end"
        );
    }
}
