//! How a step went (or would go), for every fixing command, and the one rule from outcomes to the
//! exit status: 0 all done or nothing to do, 1 some steps declined, refused, skipped or without
//! effect, 2 a step failed. Each command names the outcomes in its own words (`would purge`,
//! `no effect`); the words never decide the status.

use crate::safeops::SafeError;
use crate::status::Status;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Already right: nothing to do.
    Ok,
    /// What would be done: a dry run, a fake root, or a step that waits for something outside it.
    WouldChange,
    /// Planned and shown, not confirmed.
    Declined,
    Changed,
    /// Done, without the effect it was for (a nudged parent that still does not reap).
    NoEffect,
    /// A safety rule or a precondition stopped it, or its target changed since it was planned (the
    /// reason says which); also a message left alone because its MTA holds it locked.
    Refused,
    Failed,
}

impl Outcome {
    /// The status this outcome alone gives a run.
    pub fn status(self) -> Status {
        match self {
            Outcome::Ok | Outcome::WouldChange | Outcome::Changed => Status::Ok,
            Outcome::Declined | Outcome::NoEffect | Outcome::Refused => Status::Warning,
            Outcome::Failed => Status::Critical,
        }
    }

    /// A safe operation's error as an outcome: tried and failed, or refused before trying.
    pub fn of(err: &SafeError) -> Outcome {
        match err {
            SafeError::Failed { .. } => Outcome::Failed,
            _ => Outcome::Refused,
        }
    }

    /// Whether the step still has something to do (what a confirmation is asked for).
    pub fn pending(self) -> bool {
        self == Outcome::WouldChange
    }
}

/// The status of a run from the outcomes of all its steps (the worst of them).
pub fn status_of(outcomes: impl IntoIterator<Item = Outcome>) -> Status {
    Status::worst_of(outcomes.into_iter().map(Outcome::status))
}
