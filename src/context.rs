//! The resolved command-line context every command receives: where the root is, how to render, and
//! whether changes may be made. Commands never look at raw arguments or at the environment.

use crate::cli::{ColorChoice, GlobalArgs};
use crate::error::{Error, Result};
use crate::render::{Format, Style};
use crate::root::Root;
use std::io::IsTerminal;

#[derive(Debug, Clone)]
pub struct Context {
    pub root: Root,
    pub format: Format,
    /// `--output FILE`: the document replaces FILE atomically instead of going to stdout.
    pub output: Option<std::path::PathBuf>,
    pub style: Style,
    pub quiet: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// stdin and stderr are terminals: a question can be asked and answered.
    pub interactive: bool,
    /// stderr is a terminal and `--quiet` was not given.
    pub show_progress: bool,
}

impl Context {
    pub fn new(args: &GlobalArgs) -> Result<Context> {
        let root = Root::new(&args.root).map_err(|e| root_error(args, e))?;
        let format = if args.json { Format::Json } else { args.format };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // TERM=dumb (Emacs shells, some serial consoles) shows escape sequences as garbage.
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && !no_color
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        let stderr_tty = std::io::stderr().is_terminal();
        Ok(Context {
            root,
            format,
            output: args.output.clone(),
            style: Style { color },
            quiet: args.quiet,
            yes: args.yes,
            dry_run: args.dry_run,
            interactive: stderr_tty && std::io::stdin().is_terminal(),
            show_progress: stderr_tty && !args.quiet,
        })
    }
}

/// What is said when `TOOLKIT_ROOT` is set to the empty string.
pub const EMPTY_ROOT_ENV: &str =
    "TOOLKIT_ROOT is set but empty: set it to the directory to treat as / \
     (a fake root), or unset it to work on the live system";

/// Names where a bad root came from: `--root DIR` or the `TOOLKIT_ROOT` variable, and what it must be.
fn root_error(args: &GlobalArgs, e: Error) -> Error {
    let why = match &e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "no such directory".to_string()
        }
        Error::Io { source, .. } => source.to_string(),
        Error::Usage(_) => "not a directory".to_string(),
        other => other.to_string(),
    };
    let dir = args.root.display();
    Error::Usage(if args.root_from_env {
        format!(
            "TOOLKIT_ROOT={dir}: {why}; set it to the directory to treat as / (a fake root), \
             or unset it to work on the live system"
        )
    } else {
        format!("--root {dir}: {why}; give the directory to treat as / (a fake root)")
    })
}
