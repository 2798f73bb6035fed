//! `--reap` and `--restart`: the plan's stages run gentlest first (resume stopped parents, nudge those
//! with a SIGCHLD handler, then, with --restart, restart the owning service or end the parent alone),
//! each followed by a re-read that reports which zombies were cleared before the next, harsher stage
//! is offered.

use super::judge::{plural, Options, Remedy, ZombiesReport};
use super::plan::{word, zombie_now, Outcome, Step, StepKind};
use crate::act::show_plan;
use crate::context::Context;
use crate::error::Result;
use crate::render::sanitize::{printable, Guard};
use crate::render::{emit, Family, Format, Perf, Report, Style};
use crate::status::Status;
use crate::ui::Approval;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Instant;

/// Zombies of a step's parent still there after it, by the parent now holding them.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub pid: i32,
    pub zombies: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub pid: i32,
    pub comm: String,
    pub action: StepKind,
    pub command: String,
    #[serde(serialize_with = "super::plan::serialize_outcome")]
    pub outcome: Outcome,
    pub detail: String,
    pub zombies_before: usize,
    pub zombies_cleared: usize,
    /// After a step that was done: where the zombies that were not cleared are now.
    pub remaining: Vec<Held>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActReport {
    pub status: Status,
    pub dry_run: bool,
    pub fake_root: bool,
    pub before: ZombiesReport,
    pub actions: Vec<Action>,
    pub after: Option<ZombiesReport>,
}

/// How the run tells what it does, decided once from the format: the text report is written as
/// the stages go (each stage's plan before it is asked for, what it did after it); any other format
/// gets each plan on stderr and one document at the end.
enum Narration {
    Text,
    Document(Format),
}

impl Narration {
    fn for_format(format: Format) -> Narration {
        match format {
            Format::Text => Narration::Text,
            f => Narration::Document(f),
        }
    }

    fn begin(&self, out: &mut dyn Write, before: &ZombiesReport, style: &Style) -> io::Result<()> {
        if let Narration::Text = self {
            before.text(out, style)?;
            writeln!(out)?;
        }
        Ok(())
    }

    fn plan(
        &self,
        out: &mut dyn Write,
        style: &Style,
        title: &str,
        lines: &[String],
    ) -> io::Result<()> {
        let lines: Vec<String> = lines.iter().map(|l| printable(l)).collect();
        match self {
            Narration::Text => show_plan(out, style, title, &lines),
            Narration::Document(_) => {
                show_plan(&mut io::stderr(), &Style { color: false }, title, &lines)
            }
        }
    }

    fn stage(
        &self,
        out: &mut dyn Write,
        heading: Option<&str>,
        style: &Style,
        done: &[Action],
    ) -> io::Result<()> {
        if let Narration::Text = self {
            if let Some(h) = heading {
                writeln!(out, "{}", style.bold(h))?;
            }
            write_actions(out, done)?;
            writeln!(out)?;
        }
        Ok(())
    }

    fn end(&self, out: &mut dyn Write, report: &ActReport, style: &Style) -> io::Result<()> {
        match self {
            Narration::Text => report.write_end(out),
            Narration::Document(f) => emit(report, *f, style, out),
        }
    }
}

pub fn run(ctx: &Context, opts: &Options, before: ZombiesReport, restart: bool) -> Result<Status> {
    let approval = Approval::decide(ctx)?;
    let stdout = io::stdout();
    let mut out = Guard::for_format(io::BufWriter::new(stdout.lock()), ctx.format, &ctx.style);
    let narration = Narration::for_format(ctx.format);
    let live = ctx.root.is_live();
    narration
        .begin(&mut out, &before, &ctx.style)
        .map_err(crate::error::Error::Output)?;
    let kinds = if restart {
        &StepKind::ALL[..]
    } else {
        &StepKind::ALL[..2]
    };
    let mut current = before.clone();
    let mut actions = Vec::new();
    let mut stage = 0;
    for &kind in kinds {
        // The stage's plan, computed once from the last reading: shown, confirmed, applied.
        let steps: Vec<Step> = current
            .parents
            .iter()
            .filter_map(|p| Step::for_parent(p, kind))
            .collect();
        if steps.is_empty() {
            continue;
        }
        stage += 1;
        let lines: Vec<String> = steps.iter().flat_map(Step::describe).collect();
        let title = format!("Step {stage}: {}", kind.title());
        narration
            .plan(&mut out, &ctx.style, &title, &lines)
            .map_err(crate::error::Error::Output)?;
        let done = apply_stage(ctx, approval, kind, &steps)?;
        if done.iter().any(|a| a.outcome == Outcome::Changed) {
            current = super::scan(ctx, opts)?;
        }
        narration
            .stage(&mut out, None, &ctx.style, &done)
            .map_err(crate::error::Error::Output)?;
        actions.extend(done);
    }
    let skipped = not_offered(&current, &actions, restart);
    if !skipped.is_empty() {
        narration
            .stage(&mut out, Some("Not offered"), &ctx.style, &skipped)
            .map_err(crate::error::Error::Output)?;
    }
    actions.extend(skipped);
    let after = if live && !ctx.dry_run {
        Some(super::scan(ctx, opts)?)
    } else {
        None
    };
    let status = fix_status(&actions);
    let report = ActReport {
        status,
        dry_run: ctx.dry_run,
        fake_root: !live,
        before,
        actions,
        after,
    };
    narration
        .end(&mut out, &report, &ctx.style)
        .map_err(crate::error::Error::Output)?;
    out.flush().map_err(crate::error::Error::Output)?;
    Ok(status)
}

/// One stage's steps confirmed (a gentle stage once for all, a forceful one step by step) and
/// applied, or declined; then, if anything changed, waited on and counted.
fn apply_stage(
    ctx: &Context,
    approval: Approval,
    kind: StepKind,
    steps: &[Step],
) -> Result<Vec<Action>> {
    let go = !kind.gentle()
        || approval.confirm(&format!("{}: {} parent(s)?", kind.title(), steps.len()))?;
    if go && approval != Approval::DryRun {
        crate::act::pause_after_confirm();
    }
    let mut done = Vec::new();
    for step in steps {
        let (outcome, detail) = if approval == Approval::DryRun {
            step.apply(ctx, approval)
        } else if !go
            || (!kind.gentle() && !approval.confirm(&format!("Run '{}'?", step.command))?)
        {
            (Outcome::Declined, "not confirmed".to_string())
        } else {
            step.apply(ctx, approval)
        };
        done.push(Action {
            pid: step.pid,
            comm: step.comm.clone(),
            action: step.kind,
            command: step.command.clone(),
            outcome,
            detail,
            zombies_before: step.zombies.len(),
            zombies_cleared: 0,
            remaining: Vec::new(),
        });
    }
    if done.iter().any(|a| a.outcome == Outcome::Changed) {
        settle(ctx, steps, &done, kind);
        for (a, step) in done.iter_mut().zip(steps) {
            if a.outcome == Outcome::Changed {
                tally(ctx, a, step);
            }
        }
    }
    Ok(done)
}

/// Parents still holding zombies for which this run has no step (of the harsh kinds with --restart),
/// each with the reason and the next suggestion.
fn not_offered(current: &ZombiesReport, actions: &[Action], restart: bool) -> Vec<Action> {
    current
        .parents
        .iter()
        .filter(|p| {
            !actions.iter().any(|a| {
                a.pid == p.pid
                    && (!restart || matches!(a.action, StepKind::Restart | StepKind::EndParent))
            })
        })
        .map(|p| {
            let next = p
                .suggestions
                .iter()
                .find(|s| !matches!(s.kind, Remedy::Continue | Remedy::Nudge))
                .map(|s| format!("; suggested: {}", s.command))
                .unwrap_or_default();
            let harsh = p
                .suggestions
                .iter()
                .find(|s| matches!(s.kind, Remedy::Restart | Remedy::Kill));
            let detail = if !restart {
                format!("neither stopped nor handling SIGCHLD: no gentle step applies{next}")
            } else if p.pid == 1 {
                format!("PID 1 is never restarted or killed{next}")
            } else if let Some(s) = harsh.filter(|_| p.service.is_some()) {
                format!("would not clear them: {}", s.note)
            } else {
                format!("no owning service found{next}")
            };
            Action {
                pid: p.pid,
                comm: p.comm.clone(),
                action: if restart {
                    StepKind::Restart
                } else {
                    StepKind::Nudge
                },
                command: format!("(parent {} {})", p.comm, p.pid),
                outcome: Outcome::Refused,
                detail,
                zombies_before: p.zombie_count,
                zombies_cleared: 0,
                remaining: Vec::new(),
            }
        })
        .collect()
}

/// Waits until the zombies of the steps that were done are gone, or the stage's time is up.
fn settle(ctx: &Context, steps: &[Step], done: &[Action], kind: StepKind) {
    let start = Instant::now();
    let watched: Vec<_> = steps
        .iter()
        .zip(done)
        .filter(|(_, a)| a.outcome == Outcome::Changed)
        .flat_map(|(s, _)| &s.zombies)
        .collect();
    while start.elapsed() < kind.settle() {
        if watched.iter().all(|z| zombie_now(ctx, z).is_none()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Counts what a step cleared, and where the rest of its zombies are now.
fn tally(ctx: &Context, a: &mut Action, step: &Step) {
    let mut held: BTreeMap<i32, usize> = BTreeMap::new();
    for z in &step.zombies {
        match zombie_now(ctx, z) {
            Some(ppid) => *held.entry(ppid).or_default() += 1,
            None => a.zombies_cleared += 1,
        }
    }
    a.remaining = held
        .into_iter()
        .map(|(pid, zombies)| Held { pid, zombies })
        .collect();
    if a.zombies_cleared == 0 {
        a.outcome = Outcome::NoEffect;
        a.detail = match step.kind {
            StepKind::Nudge => "no zombie was reaped: the parent did not reap on SIGCHLD".into(),
            _ => format!("{}; no zombie was reaped", a.detail),
        };
    }
}

/// 0 all done (or nothing to do), 1 some steps declined, skipped or without effect, 2 a step failed.
/// A step without effect does not count once a later step cleared all that parent's zombies.
fn fix_status(actions: &[Action]) -> Status {
    let all_cleared = |a: &Action| {
        actions
            .iter()
            .filter(|b| b.pid == a.pid)
            .map(|b| b.zombies_cleared)
            .sum::<usize>()
            >= a.zombies_before
    };
    crate::act::status_of(actions.iter().map(|a| match a.outcome {
        Outcome::NoEffect if all_cleared(a) => Outcome::Changed,
        o => o,
    }))
}

fn write_actions(out: &mut dyn Write, actions: &[Action]) -> io::Result<()> {
    for a in actions {
        let mut detail = a.detail.clone();
        if matches!(a.outcome, Outcome::Changed | Outcome::NoEffect) {
            detail.push_str(&format!(
                "; {} of {} cleared",
                a.zombies_cleared,
                plural(a.zombies_before, "zombie")
            ));
            for h in &a.remaining {
                let whose = if h.pid == a.pid {
                    "still under it".to_string()
                } else {
                    format!("now under {}", h.pid)
                };
                detail.push_str(&format!("; {} {whose}", h.zombies));
            }
        }
        // The command stays whole on the first line; what happened wraps under it.
        let command = printable(&a.command);
        let detail = format!("({})", printable(&detail));
        if crate::render::text::width(&command) <= 66 {
            // Greedy filling keeps a command that fits in the first line whole on it.
            let body = format!("{command} {detail}");
            for (i, l) in crate::render::text::wrap(&body, 66, 0).iter().enumerate() {
                if i == 0 {
                    writeln!(out, "  {:<9} {l}", word(a.outcome))?;
                } else {
                    writeln!(out, "            {l}")?;
                }
            }
        } else {
            writeln!(out, "  {:<9} {command}", word(a.outcome))?;
            for l in crate::render::text::wrap(&detail, 66, 0) {
                writeln!(out, "            {l}")?;
            }
        }
    }
    Ok(())
}

impl ActReport {
    fn write_end(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.actions.is_empty() {
            writeln!(
                out,
                "Nothing to do: no step applies to the parents holding zombies."
            )?;
        }
        if let Some(after) = &self.after {
            writeln!(out, "Now: {}", after.summary())?;
        }
        Ok(())
    }
}

impl Report for ActReport {
    fn check_name(&self) -> &'static str {
        "zombies"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let done = self
            .actions
            .iter()
            .filter(|a| a.outcome == Outcome::Changed)
            .count();
        let cleared: usize = self.actions.iter().map(|a| a.zombies_cleared).sum();
        let now = self
            .after
            .as_ref()
            .map(|a| format!("; now: {}", a.summary()))
            .unwrap_or_default();
        format!(
            "{done} of {} step(s) done, {cleared} zombie(s) cleared{now}",
            self.actions.len()
        )
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        self.before.text(out, style)?;
        writeln!(out)?;
        write_actions(out, &self.actions)?;
        self.write_end(out)
    }

    fn perfdata(&self) -> Vec<Perf> {
        let cleared: usize = self.actions.iter().map(|a| a.zombies_cleared).sum();
        let remaining = self.after.as_ref().unwrap_or(&self.before).zombies;
        vec![
            Perf::new("zombies_cleared", cleared as f64, "").min(0.0),
            Perf::new("zombies", remaining as f64, "").min(0.0),
        ]
    }

    fn metrics(&self) -> Vec<Family> {
        self.after.as_ref().unwrap_or(&self.before).metrics()
    }
}
