//! The line-reading front-end: rustyline on a terminal, plain lines from a pipe.
//!
//! On a terminal: a prompt, tab completion ([`super::completion`]), multi-line input until the
//! braces of a clause balance, history kept between sessions, Ctrl-C to cancel the current input
//! and Ctrl-D to leave. From a pipe (no terminal on standard input): lines are read as they come,
//! joined the same way until braces balance, no prompt is printed, results go to standard output
//! and failures to standard error, and the exit status is 1 if any input failed, so scripts and
//! tests can drive the REPL.

use super::completion::ReplHelper;
use super::session::{Outcome, Session};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// How the front-end runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The history file; default `$PLEDGE_HISTORY`, else `pledge/history` in the user's data
    /// directory.
    pub history: Option<PathBuf>,
    /// Colour in diagnostics; default: on a terminal unless `NO_COLOR` is set.
    pub color: Option<bool>,
    /// Force the plain line reader even on a terminal.
    pub plain: bool,
}

/// The default history file: `$PLEDGE_HISTORY`, else `$XDG_DATA_HOME/pledge/history`, else
/// `~/.local/share/pledge/history` (`%APPDATA%\pledge\history` on Windows).
pub fn history_path() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("PLEDGE_HISTORY") {
        return Some(p);
    }
    let data = env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
        .or_else(|| env("APPDATA"))?;
    Some(data.join("pledge").join("history"))
}

/// Runs the REPL over `session` until `:quit`, Ctrl-D or the end of input.
pub fn run_session(mut session: Session, opts: &Options, startup: &[String]) -> ExitCode {
    let terminal = !opts.plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    session.color = opts
        .color
        .unwrap_or(terminal && std::env::var_os("NO_COLOR").is_none());
    let mut failed = false;
    for command in startup {
        let outcome = session.execute(command);
        failed |= !outcome.ok;
        show(&outcome, terminal);
    }
    if terminal {
        terminal_loop(session, opts);
        ExitCode::SUCCESS
    } else if pipe_loop(&mut session) && !failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn show(outcome: &Outcome, terminal: bool) {
    if outcome.text.is_empty() {
        return;
    }
    let text = if outcome.text.ends_with('\n') {
        outcome.text.clone()
    } else {
        format!("{}\n", outcome.text)
    };
    if outcome.ok || terminal {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    } else {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Reads inputs from a pipe; true if every input succeeded.
fn pipe_loop(session: &mut Session) -> bool {
    let stdin = std::io::stdin();
    let mut all_ok = true;
    let mut buffer = String::new();
    let mut input = stdin.lock();
    let mut raw = Vec::new();
    let mut number = 0u64;
    loop {
        raw.clear();
        match input.read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: cannot read standard input: {e}");
                all_ok = false;
                break;
            }
        }
        number += 1;
        if raw.last() == Some(&b'\n') {
            raw.pop();
            if raw.last() == Some(&b'\r') {
                raw.pop();
            }
        }
        // A line that is not UTF-8 is one failed input, not the end of the session.
        let Ok(line) = std::str::from_utf8(&raw) else {
            eprintln!("error: input line {number} is not UTF-8; it is skipped");
            all_ok = false;
            continue;
        };
        if buffer.is_empty() && line.trim().is_empty() {
            continue;
        }
        buffer.push_str(line);
        buffer.push('\n');
        if !Session::is_complete(&buffer) {
            continue;
        }
        let outcome = session.execute(&buffer);
        buffer.clear();
        all_ok &= outcome.ok;
        show(&outcome, false);
        if outcome.quit {
            return all_ok;
        }
    }
    if !buffer.trim().is_empty() {
        // Unbalanced at the end of input: let the parser say what is missing.
        let outcome = session.execute(&buffer);
        all_ok &= outcome.ok;
        show(&outcome, false);
    }
    all_ok
}

fn terminal_loop(mut session: Session, opts: &Options) {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot use the terminal: {e}");
            return;
        }
    };
    editor.set_helper(Some(ReplHelper::new(session.vocabulary())));
    let history = opts.history.clone().or_else(history_path);
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("pledge repl: `:help` lists the commands, Ctrl-D leaves");
    loop {
        match editor.readline("pledge> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if let Some(path) = &history {
                    if let Some(dir) = path.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = editor.save_history(path);
                }
                let outcome = session.execute(&line);
                show(&outcome, true);
                if outcome.quit {
                    break;
                }
                if let Some(h) = editor.helper_mut() {
                    h.vocab = session.vocabulary();
                }
            }
            Err(ReadlineError::Interrupted) => {
                println!("(cancelled)");
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
}
