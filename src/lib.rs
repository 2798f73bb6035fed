//! `toolkit`: find, explain and safely fix what goes wrong on a shared hosting server.
//!
//! Every command is read, judge, render (and act, for the fixing ones): readers under `readers/`,
//! commands under `commands/`, renderers under `render/`.

pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod readers;
pub mod render;
pub mod root;
pub mod safeops;
pub mod sendmail;
pub mod status;
pub mod ui;
pub mod units;

use clap::{CommandFactory, FromArgMatches};
use std::error::Error as _;
use std::ffi::OsString;

/// Runs the toolkit with the given arguments and returns the process exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let matches = match cli::Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    cli.global.root_from_env =
        matches.value_source("root") == Some(clap::parser::ValueSource::EnvVariable);
    let ctx = match context::Context::new(&cli.global) {
        Ok(ctx) => ctx,
        Err(e) => return fail(&e),
    };
    match commands::dispatch(&ctx, &cli.command) {
        Ok(status) => status.exit_code(),
        Err(error::Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => fail(&e),
    }
}

/// Prints `toolkit: message: cause: cause` on one line; exit status 3 (UNKNOWN).
fn fail(e: &error::Error) -> i32 {
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
    3
}

fn s_source<'a>(
    e: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    e.and_then(|e| e.source())
}

/// Help and version go to stdout with status 0; anything else is a one-line usage error, status 3.
fn usage_error(e: clap::Error) -> i32 {
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
            3
        }
    }
}
