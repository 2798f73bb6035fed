//! `toolkit`: find, explain and safely fix what goes wrong on a shared hosting server.
//!
//! Every command is read, judge, render (and act, for the fixing ones): readers under `readers/`,
//! commands under `commands/`, renderers under `render/`.

pub mod act;
pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod finding;
pub mod readers;
pub mod render;
pub mod root;
pub mod safeops;
pub mod sendmail;
pub mod status;
#[cfg(test)]
mod testing;
pub mod ui;
pub mod units;

use clap::{CommandFactory, FromArgMatches, ValueEnum};
use render::Format;
use std::error::Error as _;
use std::ffi::OsString;
use std::path::PathBuf;

/// Runs the toolkit with the given arguments and returns the process exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let matches = match cli::Cli::command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => return usage_error(e, &Sink::lenient(&args)),
    };
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &Sink::lenient(&args)),
    };
    let sink = Sink {
        format: if cli.global.json {
            Format::Json
        } else {
            cli.global.format
        },
        output: cli.global.output.clone(),
    };
    cli.global.root_from_env =
        matches.value_source("root") == Some(clap::parser::ValueSource::EnvVariable);
    let ctx = match context::Context::new(&cli.global) {
        Ok(ctx) => ctx,
        Err(e) => return fail(&e, &sink),
    };
    match commands::dispatch(&ctx, &cli.command) {
        Ok(status) => status.exit_code(),
        Err(error::Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => fail(&e, &sink),
    }
}

/// Where the failure document goes: the format and `--output` of the command line, read leniently
/// when clap could not parse it, so that a monitoring system still gets a document it can read.
struct Sink {
    format: Format,
    output: Option<PathBuf>,
}

impl Sink {
    /// The last `--format X`/`--format=X`, `--json` and `--output FILE` before a `--`; an unknown
    /// format is text (stdout stays empty, as for a person).
    fn lenient(args: &[OsString]) -> Sink {
        let mut sink = Sink {
            format: Format::Text,
            output: None,
        };
        let mut json = false;
        let words: Vec<String> = args
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .take_while(|a| a != "--")
            .collect();
        let mut i = 0;
        while i < words.len() {
            let (name, inline) = match words[i].split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (words[i].as_str(), None),
            };
            let value = || inline.clone().or_else(|| words.get(i + 1).cloned());
            match name {
                "--json" => json = true,
                "--format" => {
                    if let Some(v) = value() {
                        sink.format = Format::from_str(&v, true).unwrap_or(Format::Text);
                    }
                }
                "--output" => sink.output = value().map(PathBuf::from),
                _ => {}
            }
            i += 1;
        }
        if json {
            sink.format = Format::Json;
        }
        sink
    }

    /// Writes the failure document unless one was written already (a command that failed after
    /// printing its report must not print a second document).
    fn document(&self, line: &str) {
        if commands::document_written() {
            return;
        }
        let mut doc = Vec::new();
        if render::emit_failure(self.format, line, &mut doc).is_ok() && !doc.is_empty() {
            if let Err(e) = commands::write_document(self.output.as_deref(), &doc) {
                eprintln!("toolkit: {e}");
            }
        }
    }
}

/// Prints `toolkit: message: cause: cause` on one line, writes the failure document; exit status 3.
fn fail(e: &error::Error, sink: &Sink) -> i32 {
    let mut line = format!("toolkit: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        let s = s.to_string();
        if !line.contains(&s) {
            line.push_str(": ");
            line.push_str(&s);
        }
        source = s_source(source);
    }
    // Paths and reasons in errors can name files a site admin or local user chose.
    eprintln!("{}", render::sanitize::printable(&line));
    sink.document(line.trim_start_matches("toolkit: "));
    3
}

fn s_source<'a>(
    e: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    e.and_then(|e| e.source())
}

/// Help and version go to stdout with status 0; anything else is a one-line usage error, status 3,
/// with the failure document of the format asked for.
fn usage_error(e: clap::Error, sink: &Sink) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        // clap's own words ("a value is required for '--root <DIR>'") do not say where the empty
        // value came from.
        ErrorKind::InvalidValue
            if std::env::var_os("TOOLKIT_ROOT").is_some_and(|v| v.is_empty())
                && e.to_string().contains("--root") =>
        {
            eprintln!("toolkit: {}", context::EMPTY_ROOT_ENV);
            3
        }
        _ => {
            let rendered = e.render().to_string();
            // clap's first line can end with ':' and list what it means on the next indented lines
            // (missing required arguments): fold those into the one line.
            let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
            let mut first = lines
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string();
            if first.ends_with(':') {
                let more: Vec<&str> = lines
                    .take_while(|l| l.starts_with(' '))
                    .map(str::trim)
                    .collect();
                first = format!("{} {}", first, more.join(", "));
            }
            let hint = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                "a command is required (try 'toolkit --help')".to_string()
            } else {
                format!("{first} (try --help)")
            };
            eprintln!("toolkit: {}", render::sanitize::printable(&hint));
            sink.document(&hint);
            3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(args: &[&str]) -> (Format, Option<PathBuf>) {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let s = Sink::lenient(&args);
        (s.format, s.output)
    }

    #[test]
    fn the_failure_format_is_read_from_arguments_clap_rejects() {
        assert_eq!(sink(&["toolkit", "zombies", "--bogus"]).0, Format::Text);
        assert_eq!(
            sink(&["toolkit", "--format", "nagios", "x"]).0,
            Format::Nagios
        );
        assert_eq!(
            sink(&["toolkit", "x", "--format=prometheus"]).0,
            Format::Prometheus
        );
        assert_eq!(
            sink(&["toolkit", "--format", "nagios", "--json"]).0,
            Format::Json
        );
        assert_eq!(sink(&["toolkit", "--format", "nagois"]).0, Format::Text);
        assert_eq!(sink(&["toolkit", "--", "--format", "json"]).0, Format::Text);
        let (_, out) = sink(&["toolkit", "check", "--output=/x/t.prom", "--bad"]);
        assert_eq!(out, Some(PathBuf::from("/x/t.prom")));
        assert_eq!(
            sink(&["toolkit", "--output", "f"]).1,
            Some(PathBuf::from("f"))
        );
    }
}
