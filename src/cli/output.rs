//! `--output FILE`: where a report goes. Text reports go to standard output without it; a
//! workbook is binary and needs it, so that it never lands on a terminal.

use super::args::usage;
use super::Outcome;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The destination of a report, opened before anything is evaluated (an unwritable path fails
/// at once, not after a long check).
pub struct Output {
    file: Option<(PathBuf, File)>,
}

/// Opens `--output` (created or truncated). `binary`: the format is a workbook, which needs a
/// file. `Err` is the exit code, after a message.
pub fn open(path: Option<&Path>, binary: bool) -> Result<Output, Outcome> {
    match path {
        None if binary => Err(usage(
            "`--format xlsx` writes a workbook: name its file with `--output FILE`",
        )),
        None => Ok(Output { file: None }),
        Some(path) => match File::create(path) {
            Ok(f) => Ok(Output {
                file: Some((path.to_path_buf(), f)),
            }),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                Err(Outcome::Io)
            }
        },
    }
}

impl Output {
    /// The file, or standard output.
    pub fn writer(&self) -> Box<dyn Write + '_> {
        match &self.file {
            Some((_, f)) => Box::new(f),
            None => Box::new(io::stdout().lock()),
        }
    }

    /// Writes a text report; `Err` is the exit code, after a message (none for a closed pipe).
    pub fn text(&self, text: &str) -> Result<(), Outcome> {
        let mut out = self.writer();
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(|e| {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    eprintln!("error: {e}");
                }
                Outcome::Io
            })
    }

    /// Writes the workbook that `make` builds from a report's JSON document.
    #[cfg(feature = "xlsx")]
    pub fn workbook(
        &self,
        json: &[u8],
        make: impl FnOnce(&serde_json::Value) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError>,
    ) -> io::Result<()> {
        let document: serde_json::Value = serde_json::from_slice(json)?;
        let bytes = make(&document).map_err(|e| io::Error::other(format!("workbook: {e}")))?;
        let mut out = self.writer();
        out.write_all(&bytes)?;
        out.flush()
    }
}
