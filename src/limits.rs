//! Every size and depth limit of the language and the reader, in one place.
//!
//! The language has no loops and no recursion, so evaluation always terminates; these limits
//! keep parsing and lowering of hostile input bounded as well.

/// Deepest nesting of parentheses and `not` in a condition.
pub const MAX_CONDITION_DEPTH: usize = 64;
/// Largest policy source accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;
/// Largest file a policy includes (holidays, a register), in bytes.
pub const MAX_INCLUDED_BYTES: usize = 16 * 1024 * 1024;
/// Most clauses in one policy.
pub const MAX_CLAUSES: usize = 10_000;
/// Longest event line accepted, in bytes; longer lines are rejected, not read into memory.
pub const MAX_EVENT_LINE_BYTES: usize = 1024 * 1024;
/// Most rejected lines kept verbatim for reports (all are counted).
pub const MAX_REJECTS_LISTED: usize = 10_000;

/// The error of a file past the bound [`read_text_at_most`] reads to.
#[derive(Debug)]
pub struct FileTooLarge {
    pub max: usize,
}

impl std::fmt::Display for FileTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "it is larger than {} bytes", self.max)
    }
}

impl std::error::Error for FileTooLarge {}

/// Whether `e` is [`FileTooLarge`].
pub fn is_too_large(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<FileTooLarge>())
}

/// A text file read whole, but never more than `max` bytes of it: a file past the bound (or a
/// device that never ends, such as `/dev/zero` behind a link) is the error [`FileTooLarge`],
/// read no further than one byte past the bound.
pub fn read_text_at_most(path: &std::path::Path, max: usize) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(std::io::Error::other(FileTooLarge { max }));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{is_too_large, read_text_at_most};

    #[test]
    fn a_file_is_read_up_to_its_bound_and_no_further() {
        let dir = std::env::temp_dir().join(format!("pledge-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("f.txt");
        std::fs::write(&path, "节假日\n").expect("write");
        assert_eq!(
            read_text_at_most(&path, 10).expect("at the bound"),
            "节假日\n"
        );
        let e = read_text_at_most(&path, 9).expect_err("past the bound");
        assert!(is_too_large(&e), "{e}");
        assert_eq!(e.to_string(), "it is larger than 9 bytes");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        let e = read_text_at_most(&path, 10).expect_err("not UTF-8");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        // A device that never ends is read no further than the bound.
        if std::path::Path::new("/dev/zero").exists() {
            let e =
                read_text_at_most(std::path::Path::new("/dev/zero"), 1 << 20).expect_err("endless");
            assert!(is_too_large(&e), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
