//! `pledge completions SHELL` and `pledge man`: shell completions and the manual page, both
//! written from the command's own clap definition.

use super::{Cli, Outcome};
use clap::CommandFactory;
use std::io::{self, Write};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> Outcome {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "pledge", &mut out);
    write(&out)
}

pub fn man() -> Outcome {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut out) {
        eprintln!("error: {e}");
        return Outcome::Io;
    }
    write(&out)
}

fn write(bytes: &[u8]) -> Outcome {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Outcome::Clean,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Clean,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Io
        }
    }
}
