//! `pledge publish FILE --nats URL --subject SUBJECT [--stream NAME]`: put an event stream on
//! NATS JetStream, one event per message, for `pledge serve --nats URL --stream NAME` (demos,
//! load tests, and feeding the service from an export).

use super::args::usage;
use super::Outcome;
use crate::serve::jetstream::{ensure_stream, publish_lines};
use crate::serve::nats::Connection;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// JSON Lines events, or `-` for standard input: each non-blank line is one message.
    #[arg(value_name = "FILE")]
    pub events: PathBuf,
    /// The NATS server, e.g. `nats://127.0.0.1:4222`.
    #[arg(long, value_name = "URL")]
    pub nats: String,
    /// The subject to publish on; a JetStream stream must capture it (see `--stream`).
    #[arg(long, value_name = "SUBJECT")]
    pub subject: String,
    /// Create this stream, capturing `--subject`, when there is none of that name.
    #[arg(long, value_name = "NAME")]
    pub stream: Option<String>,
}

pub fn run(args: PublishArgs) -> Outcome {
    let input: Box<dyn Read> = if args.events.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        match std::fs::File::open(&args.events) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", args.events.display());
                return Outcome::Io;
            }
        }
    };
    if args.subject.is_empty() || args.subject.contains([' ', '*', '>']) {
        return usage(&format!(
            "`--subject {}`: a subject without spaces or wildcards",
            args.subject
        ));
    }
    let published = Connection::connect(&args.nats).and_then(|mut conn| {
        if let Some(stream) = &args.stream {
            ensure_stream(&mut conn, stream, &args.subject)?;
        }
        let lines = BufReader::with_capacity(1 << 16, input).split(b'\n');
        publish_lines(&mut conn, &args.subject, lines)
    });
    match published {
        Ok(n) => {
            eprintln!("published {n} events to `{}`", args.subject);
            Outcome::Clean
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.nats);
            Outcome::Io
        }
    }
}
