//! The steps of `--reap` and `--restart`: each describes itself, applies itself and reports an
//! outcome, so that a dry run and a real run walk the same plan.
//!
//! Steps come from the judgement's own suggestions, so the tool never runs what it says will not help:
//! a restart only where it removes the parent, ending the parent alone where the unit's KillMode would
//! leave it running, nothing whose zombies would pass to an adopter that does not reap. Before any
//! signal the parent's identity (pid and start time) is re-read; PID 1 is never sent anything but
//! SIGCHLD; under a fake root nothing is signalled and nothing is run.

use super::judge::{plural, Clears, Parent, Remedy, Zombie};
pub use crate::act::Outcome;
use crate::context::Context;
use crate::readers::proc::read_stat;
use crate::ui::Approval;
use nix::sys::signal::Signal;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The zombie steps' words for the shared outcomes (`act::Outcome`): in the text and, snake_cased,
/// in the JSON.
pub fn word(o: Outcome) -> &'static str {
    match o {
        Outcome::Changed => "done",
        Outcome::WouldChange => "would do",
        Outcome::Declined => "declined",
        Outcome::Refused => "skipped",
        Outcome::NoEffect => "no effect",
        Outcome::Failed => "FAILED",
        Outcome::Ok => "ok",
    }
}

pub fn serialize_outcome<S: serde::Serializer>(o: &Outcome, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&word(*o).to_ascii_lowercase().replace(' ', "_"))
}

/// The kinds of step, gentlest first: the order in which their stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Continue,
    Nudge,
    Restart,
    EndParent,
}

impl StepKind {
    pub const ALL: [StepKind; 4] = [
        StepKind::Continue,
        StepKind::Nudge,
        StepKind::Restart,
        StepKind::EndParent,
    ];

    pub fn title(self) -> &'static str {
        match self {
            StepKind::Continue => "resume stopped parents (SIGCONT)",
            StepKind::Nudge => "nudge parents that handle SIGCHLD",
            StepKind::Restart => "restart the owning service",
            StepKind::EndParent => "end the parent alone (a restart would leave it running)",
        }
    }

    /// Gentle steps are confirmed once for their stage, harsher ones one by one.
    pub fn gentle(self) -> bool {
        matches!(self, StepKind::Continue | StepKind::Nudge)
    }

    /// How long to let the zombies go after the stage before re-reading.
    pub fn settle(self) -> Duration {
        if self.gentle() {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(5)
        }
    }

    fn suggestion(self) -> Remedy {
        match self {
            StepKind::Continue => Remedy::Continue,
            StepKind::Nudge => Remedy::Nudge,
            StepKind::Restart => Remedy::Restart,
            StepKind::EndParent => Remedy::Kill,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub kind: StepKind,
    pub pid: i32,
    pub comm: String,
    starttime: Option<u64>,
    pub command: String,
    argv: Vec<String>,
    /// The judgement's note on what the step does.
    pub note: String,
    pub zombies: Vec<Zombie>,
}

impl Step {
    /// The step of this kind that the judgement suggests for `p`, when it is one the tool runs.
    pub fn for_parent(p: &Parent, kind: StepKind) -> Option<Step> {
        let s = p.suggestions.iter().find(|s| s.kind == kind.suggestion())?;
        if s.clears == Clears::No || (p.pid <= 1 && kind != StepKind::Nudge) {
            return None;
        }
        let argv = match kind {
            StepKind::Restart => p.service.as_ref()?.restart_argv.clone(),
            // Ending the parent is the restart stage's step for a unit whose restart leaves it running.
            StepKind::EndParent if p.service.as_ref()?.restart_removes_parent => return None,
            _ => Vec::new(),
        };
        Some(Step {
            kind,
            pid: p.pid,
            comm: p.comm.clone(),
            starttime: p.starttime,
            command: s.command.clone(),
            argv,
            note: s.note.clone(),
            zombies: p.zombies.clone(),
        })
    }

    /// The plan's lines for this step: the command and its parent, then what the judgement says it does.
    pub fn describe(&self) -> Vec<String> {
        let command = crate::render::text::printable(&self.command);
        let whose = format!(
            "# {} {} ({})",
            crate::render::text::printable(&self.comm),
            self.pid,
            plural(self.zombies.len(), "zombie")
        );
        let one = format!("{command:<32} {whose}");
        // Printed after two spaces: a line that would pass 80 columns gets the command alone, whole.
        let mut lines = if crate::render::text::width(&one) <= 78 {
            vec![one]
        } else {
            vec![command, format!("    {whose}")]
        };
        lines.extend(
            crate::render::text::wrap(&self.note, 72, 0)
                .into_iter()
                .map(|l| format!("    {l}")),
        );
        lines
    }

    pub fn apply(&self, ctx: &Context, approval: Approval) -> (Outcome, String) {
        if approval == Approval::DryRun {
            return (Outcome::WouldChange, "dry run: nothing done".into());
        }
        if !ctx.root.is_live() {
            let what = if self.kind == StepKind::Restart {
                "fake root: nothing is run"
            } else {
                "fake root: nothing is signalled"
            };
            return (Outcome::WouldChange, what.into());
        }
        let result = match self.kind {
            StepKind::Continue => self.signal(ctx, Signal::SIGCONT).map(|()| "sent".into()),
            StepKind::Nudge => self.signal(ctx, Signal::SIGCHLD).map(|()| "sent".into()),
            StepKind::EndParent => self.end(ctx),
            StepKind::Restart => self.run(),
        };
        match result {
            Ok(detail) => (Outcome::Changed, detail),
            Err(e) => e,
        }
    }

    /// Whether the parent is still the process that was judged (and has not yet exited).
    fn alive(&self, ctx: &Context) -> Result<bool, (Outcome, String)> {
        match (read_stat(&ctx.root.proc(), self.pid), self.starttime) {
            (Ok(stat), Some(start)) if stat.starttime == start => Ok(stat.state != 'Z'),
            (Ok(_), _) => Err((
                Outcome::Refused,
                "pid was reused by another process since the scan".into(),
            )),
            (Err(_), _) => Ok(false),
        }
    }

    fn signal(&self, ctx: &Context, sig: Signal) -> Result<(), (Outcome, String)> {
        if self.pid <= 1 && sig != Signal::SIGCHLD {
            return Err((
                Outcome::Refused,
                "PID 1 is never sent anything but SIGCHLD".into(),
            ));
        }
        if !self.alive(ctx)? {
            return Err((Outcome::Refused, "the parent exited since the scan".into()));
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), sig)
            .map_err(|e| (Outcome::Failed, format!("kill: {e}")))
    }

    /// SIGTERM, then SIGKILL if the parent is still there after a few seconds.
    fn end(&self, ctx: &Context) -> Result<String, (Outcome, String)> {
        self.signal(ctx, Signal::SIGTERM)?;
        if self.gone_within(ctx, Duration::from_secs(5)) {
            return Ok("ended by SIGTERM".into());
        }
        self.signal(ctx, Signal::SIGKILL)?;
        if self.gone_within(ctx, Duration::from_secs(2)) {
            Ok("ended by SIGKILL (SIGTERM did not end it within 5 s)".into())
        } else {
            Err((Outcome::Failed, "still running after SIGKILL".into()))
        }
    }

    fn gone_within(&self, ctx: &Context, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            if !self.alive(ctx).unwrap_or(false) {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn run(&self) -> Result<String, (Outcome, String)> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err((Outcome::Refused, "no restart command".into()));
        };
        match std::process::Command::new(program).args(args).output() {
            Ok(o) if o.status.success() => Ok("restarted".into()),
            Ok(o) => {
                let err = String::from_utf8_lossy(&o.stderr);
                Err((
                    Outcome::Failed,
                    format!("{} ({})", o.status, err.lines().next().unwrap_or("").trim()),
                ))
            }
            Err(e) => Err((Outcome::Failed, format!("{program}: {e}"))),
        }
    }
}

/// Where a zombie is now: None once it is gone (reaped, or its pid reused), else its parent.
pub fn zombie_now(ctx: &Context, z: &Zombie) -> Option<i32> {
    match read_stat(&ctx.root.proc(), z.pid) {
        Ok(s) if s.starttime == z.starttime && s.state == 'Z' => Some(s.ppid),
        _ => None,
    }
}
