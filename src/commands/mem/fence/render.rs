//! The report of `mem fence`: the fence chosen for the host, each step with its outcome, and how to
//! lift it again; in text, JSON, Nagios and Prometheus.

use super::Fence;
use crate::context::Context;
use crate::render::text::{printable, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::human_size;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Already as planned.
    Ok,
    /// Dry run or declined: what would be done.
    WouldChange,
    Changed,
    /// Under a fake root: the files the program would set were written, the program not run.
    #[serde(rename = "written")]
    Simulated,
    /// Under a fake root: a program that sets nothing readable was not run.
    NotRun,
    Refused,
    Failed,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::WouldChange => "would change",
            Outcome::Changed => "changed",
            Outcome::Simulated => "written",
            Outcome::NotRun => "not run",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::WouldChange,
        Outcome::Changed,
        Outcome::Simulated,
        Outcome::NotRun,
        Outcome::Refused,
        Outcome::Failed,
    ];
}

/// One step as done (or as it would be done).
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    pub command: String,
    pub outcome: Outcome,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FenceReport {
    pub status: Status,
    pub pid: i32,
    pub undo: bool,
    pub dry_run: bool,
    pub fake_root: bool,
    pub declined: bool,
    /// The fence planned (null for `--undo`).
    pub fence: Option<Fence>,
    pub steps: Vec<Done>,
    /// Where the inverse steps were recorded for `--undo`.
    pub record: Option<String>,
    pub note: String,
}

impl FenceReport {
    pub fn new(ctx: &Context, fence: &Fence, undo: bool) -> FenceReport {
        FenceReport {
            status: Status::Ok,
            pid: fence.pid,
            undo,
            dry_run: ctx.dry_run,
            fake_root: !ctx.root.is_live(),
            declined: false,
            fence: Some(fence.clone()),
            steps: Vec::new(),
            record: None,
            note: String::new(),
        }
    }

    pub fn undo(ctx: &Context, pid: i32) -> FenceReport {
        FenceReport {
            status: Status::Ok,
            pid,
            undo: true,
            dry_run: ctx.dry_run,
            fake_root: !ctx.root.is_live(),
            declined: false,
            fence: None,
            steps: Vec::new(),
            record: None,
            note: String::new(),
        }
    }

    /// 0 done or nothing to do, 1 declined or refused, 2 a step failed.
    pub fn finish(mut self) -> FenceReport {
        let declined = self.declined;
        self.status = Status::worst_of(self.steps.iter().map(|s| match s.outcome {
            Outcome::Failed => Status::Critical,
            Outcome::Refused => Status::Warning,
            Outcome::WouldChange if declined => Status::Warning,
            _ => Status::Ok,
        }));
        self
    }

    fn count(&self, o: Outcome) -> usize {
        self.steps.iter().filter(|s| s.outcome == o).count()
    }

    /// The plan on stderr before the question.
    pub fn print_plan(&self, style: &Style, steps: &[Done]) {
        let mut err = io::stderr();
        let _ = writeln!(err, "Plan for pid {}:", self.pid);
        let pending: Vec<Done> = steps
            .iter()
            .filter(|s| s.outcome != Outcome::Ok)
            .cloned()
            .collect();
        let _ = write_steps(&mut err, &pending, style);
    }
}

fn write_steps(out: &mut dyn Write, steps: &[Done], style: &Style) -> io::Result<()> {
    for s in steps {
        let word = format!("{:<12}", s.outcome.word());
        let word = match s.outcome {
            Outcome::Failed => style.status(Status::Critical).replace("CRITICAL", &word),
            Outcome::Refused => style.status(Status::Warning).replace("WARNING", &word),
            _ => word,
        };
        let command = printable(&s.command);
        if 15 + crate::render::text::width(&command) <= 80 {
            writeln!(out, "  {word} {command}")?;
        } else {
            // Too long for the line: the command goes under its outcome, whole, to be copied.
            writeln!(out, "  {}", word.trim_end())?;
            writeln!(out, "    {command}")?;
        }
        if !s.note.is_empty() {
            for l in wrap(&s.note, 62, 0) {
                writeln!(out, "{:16}{}", "", style.dim(&printable(&l)))?;
            }
        }
    }
    Ok(())
}

impl Report for FenceReport {
    fn check_name(&self) -> &'static str {
        "mem_fence"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let what = match &self.fence {
            Some(f) => format!(
                "fence of {} (pid {}) by {}",
                printable(&f.comm),
                f.pid,
                f.method
            ),
            None => format!("undo of the fence of pid {}", self.pid),
        };
        let counts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| self.count(**o) > 0)
            .map(|o| format!("{} {}", self.count(*o), o.word()))
            .collect();
        let mut s = format!("{what}: {}", counts.join(", "));
        if counts.is_empty() {
            s = format!("{what}: nothing to do");
        }
        if self.declined {
            s.push_str(" (declined)");
        }
        s
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for l in wrap(&format!("{} {}", self.status.word(), self.summary()), 80, 2) {
            writeln!(out, "{l}")?;
        }
        if let Some(f) = self
            .fence
            .as_ref()
            .filter(|f| f.method == super::Method::Prlimit)
        {
            let line = format!(
                "{} holds {} resident, {} swapped out; its address space ({} now) capped at {}",
                printable(&f.comm),
                human_size(f.rss),
                human_size(f.swap),
                human_size(f.sized_from),
                human_size(f.memory_max)
            );
            for l in wrap(&line, 78, 2) {
                writeln!(out, "  {l}")?;
            }
            for l in wrap(&printable(&f.note), 78, 2) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        } else if let Some(f) = &self.fence {
            let line = format!(
                "{} holds {} resident, {} swapped out; limits sized from {}: high {}, max {}",
                printable(&f.comm),
                human_size(f.rss),
                human_size(f.swap),
                human_size(f.sized_from),
                human_size(f.memory_high),
                human_size(f.memory_max)
            );
            for l in wrap(&line, 78, 2) {
                writeln!(out, "  {l}")?;
            }
            for l in wrap(&printable(&f.note), 78, 2) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        }
        if !self.note.is_empty() {
            for l in wrap(&self.note, 78, 2) {
                writeln!(out, "  {l}")?;
            }
        }
        writeln!(out)?;
        write_steps(out, &self.steps, style)?;
        if self.fake_root && self.steps.iter().any(|s| s.outcome == Outcome::Simulated) {
            writeln!(
                out,
                "  {}",
                style.dim("fake root: no program run; the cgroup files it would set were written")
            )?;
        }
        if let Some(f) = self.fence.as_ref().filter(|_| !self.undo) {
            if !f.undo.is_empty() {
                writeln!(out)?;
                writeln!(
                    out,
                    "to lift it again: toolkit mem fence {} --undo, or:",
                    f.pid
                )?;
                for u in &f.undo {
                    writeln!(out, "    {}", printable(u))?;
                }
            }
        }
        if let Some(r) = &self.record {
            for l in wrap(&format!("recorded in {r}"), 78, 2) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        Outcome::ALL
            .iter()
            .map(|o| Perf::new(o.word().replace(' ', "_"), self.count(*o) as f64, "").min(0.0))
            .collect()
    }

    fn nagios_details(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| format!("{}: {}", s.outcome.word(), s.command))
            .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        let mut f = Family::gauge(
            "toolkit_mem_fence_steps",
            "Steps of the last mem fence, by outcome.",
        );
        for o in Outcome::ALL {
            f.push(
                vec![("outcome", o.word().replace(' ', "_"))],
                self.count(o) as f64,
            );
        }
        vec![f]
    }
}
