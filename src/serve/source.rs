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
}

/// Lines longer than this are handed out cut (the engine then rejects them as not JSON) so a
/// line without an end cannot take the memory.
pub const MAX_LINE: usize = 1 << 20;

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
}

/// Standard input, to its end.
pub struct StdinSource<R> {
    reader: BufReader<R>,
    lines: u64,
}

impl<R: Read + Send> StdinSource<R> {
    pub fn new(input: R) -> StdinSource<R> {
        StdinSource {
            reader: BufReader::new(input),
            lines: 0,
        }
    }
}

impl<R: Read + Send> Source for StdinSource<R> {
    fn next_line(&mut self) -> io::Result<Next> {
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
}
