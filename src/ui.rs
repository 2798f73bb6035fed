//! Talking to the person at the terminal: progress on stderr (only when stderr is a terminal and not
//! `--quiet`), and confirmation before any change (never without a terminal unless `--yes`).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::render::sanitize::printable;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner or bar that exists only when it can be seen.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn spinner(ctx: &Context, message: &str) -> Progress {
        if !ctx.show_progress {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(printable(message));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    pub fn bar(ctx: &Context, len: u64, message: &str) -> Progress {
        if !ctx.show_progress {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(printable(message));
        Progress { bar: Some(bar) }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// How a fixing command may proceed, decided before anything is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// `--dry-run`: show the plan, change nothing.
    DryRun,
    /// `--yes`: apply without asking.
    Granted,
    /// Ask on the terminal before each change (or before the whole plan).
    Ask,
}

impl Approval {
    /// Decides up front; refuses (exit 3, nothing changed) when a change would need a question that
    /// cannot be asked.
    pub fn decide(ctx: &Context) -> Result<Approval> {
        if ctx.dry_run {
            Ok(Approval::DryRun)
        } else if ctx.yes {
            Ok(Approval::Granted)
        } else if ctx.interactive {
            Ok(Approval::Ask)
        } else {
            Err(Error::Refused(
                "refusing to change anything without a terminal to confirm on: pass --yes to apply or --dry-run to see the plan"
                    .into(),
            ))
        }
    }

    /// Asks (if needed) whether to go ahead with `what`. The question names sites, units and
    /// commands from outside the toolkit: it is shown escaped.
    pub fn confirm(self, what: &str) -> Result<bool> {
        match self {
            Approval::DryRun => Ok(false),
            Approval::Granted => Ok(true),
            Approval::Ask => dialoguer::Confirm::new()
                .with_prompt(printable(what))
                .default(false)
                .interact_on_opt(&dialoguer::console::Term::stderr())
                .map(|answer| answer.unwrap_or(false))
                .map_err(|e| Error::Refused(format!("could not ask for confirmation: {e}"))),
        }
    }
}
