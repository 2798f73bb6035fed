//! The zombies report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::adopter::{Adopter, Reaps};
use super::figures::{self, DSTATE, OLDEST, PARENTS, TRACED, TRANSIENT, ZOMBIES};
use super::judge::{plural, Parent, ZombiesReport};
use crate::render::text::{printable, truncate, width, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_duration, thousands};
use std::io::{self, Write};

const SHOWN_PIDS: usize = 8;

impl ZombiesReport {
    fn headline(&self) -> String {
        if self.zombies == 0 {
            let mut s = format!("no zombies at least {} old", human_duration(self.min_age));
            if self.transient > 0 {
                s.push_str(&format!(" ({})", TRANSIENT.phrase(self.transient as u64)));
            }
            return s;
        }
        let worst = &self.parents[0];
        format!(
            "{} under {}, {}; most under {} {} ({})",
            ZOMBIES.phrase(self.zombies as u64),
            PARENTS.phrase(self.parents.len() as u64),
            OLDEST.phrase(self.oldest_age.unwrap_or(0)),
            printable(&worst.comm),
            worst.pid,
            worst.zombie_count
        )
    }

    /// A parent's block: its name, service and command line, its zombies, who adopts them, why it
    /// does not reap and what to do.
    fn write_parent(&self, out: &mut dyn Write, style: &Style, p: &Parent) -> io::Result<()> {
        writeln!(out)?;
        let service = p
            .service
            .as_ref()
            .map(|s| format!("service {}", printable(&s.name)))
            .unwrap_or_default();
        let head = format!("{}  pid {}  state {}", printable(&p.comm), p.pid, p.state);
        let bold_head = format!(
            "{}  pid {}  state {}",
            style.bold(&printable(&p.comm)),
            p.pid,
            p.state
        );
        if service.is_empty() {
            writeln!(out, "{bold_head}")?;
        } else if width(&head) + 2 + width(&service) <= 80 {
            writeln!(out, "{bold_head}  {service}")?;
        } else {
            // A long unit name goes on a line of its own, whole (it is copied into systemctl).
            writeln!(out, "{bold_head}")?;
            writeln!(out, "  {service}")?;
        }
        if !p.cmdline.is_empty() {
            writeln!(
                out,
                "  {}",
                style.dim(&truncate(&printable(&p.cmdline), 76))
            )?;
        }
        let pids: Vec<String> = p
            .zombies
            .iter()
            .take(SHOWN_PIDS)
            .map(|z| z.pid.to_string())
            .collect();
        let more = p.zombie_count.saturating_sub(SHOWN_PIDS);
        let mut line = format!(
            "{} zombie{}, oldest {}: {}",
            thousands(p.zombie_count as u64),
            if p.zombie_count == 1 { "" } else { "s" },
            human_duration(p.oldest_age),
            pids.join(" ")
        );
        if more > 0 {
            line.push_str(&format!(" (+{more})"));
        }
        for l in wrap(&line, 78, 4) {
            writeln!(out, "  {l}")?;
        }
        if let Some(a) = &p.adopter {
            write_adopter(out, a)?;
        }
        write_why_and_do(out, style, p)
    }

    fn write_dstate(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Uninterruptible sleep (D), alive at least {}",
                human_duration(self.min_age)
            ))
        )?;
        if self.dstate.is_empty() {
            return writeln!(out, "  none");
        }
        writeln!(
            out,
            "  {:<8} {:<8} {:<8} {:<24} COMMAND",
            "PID", "PPID", "AGE", "WCHAN"
        )?;
        for d in &self.dstate {
            writeln!(
                out,
                "  {:<8} {:<8} {:<8} {:<24} {}",
                d.pid,
                d.ppid,
                human_duration(d.age),
                truncate(&printable(d.wchan.as_deref().unwrap_or("-")), 24),
                truncate(&printable(&d.comm), 24)
            )?;
        }
        writeln!(
            out,
            "  {}",
            style.dim(
                "unkillable until the kernel call returns: check the device or mount in WCHAN"
            )
        )
    }

    fn write_traced(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold("Traced (held by a debugger or tracer)")
        )?;
        if self.traced.is_empty() {
            return writeln!(out, "  none");
        }
        writeln!(
            out,
            "  {:<8} {:<6} {:<24} COMMAND",
            "PID", "STATE", "TRACER"
        )?;
        for t in &self.traced {
            let tracer = format!(
                "{} ({})",
                t.tracer,
                t.tracer_comm
                    .as_deref()
                    .map(printable)
                    .unwrap_or_else(|| "?".into())
            );
            writeln!(
                out,
                "  {:<8} {:<6} {:<24} {}",
                t.pid,
                t.state,
                truncate(&tracer, 24),
                truncate(&printable(&t.comm), 30)
            )?;
        }
        Ok(())
    }

    fn write_skipped(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out)?;
        let mut parts = Vec::new();
        if self.skipped.vanished > 0 {
            parts.push(format!(
                "{} process(es) exited during the scan",
                self.skipped.vanished
            ));
        }
        if self.skipped.count > 0 {
            parts.push(format!("{} could not be read", self.skipped.count));
        }
        writeln!(
            out,
            "Skipped: {} (of {} read)",
            parts.join(", "),
            self.processes
        )?;
        for p in &self.skipped.first {
            writeln!(out, "  {}: {}", printable(&p.path), printable(&p.reason))?;
        }
        Ok(())
    }
}

/// `adopter: PID 1 (systemd): why; reaps: evidence`, wrapped under its label.
fn write_adopter(out: &mut dyn Write, a: &Adopter) -> io::Result<()> {
    let reaps = match a.reaps {
        Reaps::Yes => "reaps",
        Reaps::Likely => "likely reaps",
        Reaps::Unknown => "may not reap",
        Reaps::No => "does not reap",
    };
    let line = format!(
        "adopter: {}: {}; {reaps}: {}",
        printable(&a.name()),
        a.why,
        a.evidence
    );
    for l in wrap(&line, 78, 9) {
        writeln!(out, "  {l}")?;
    }
    Ok(())
}

/// The diagnosis under `why:` and the numbered suggestions under `do:`.
fn write_why_and_do(out: &mut dyn Write, style: &Style, p: &Parent) -> io::Result<()> {
    for (i, d) in p.diagnosis.iter().enumerate() {
        let lead = if i == 0 { "why: " } else { "     " };
        for (j, l) in wrap(&printable(&d.text), 72, 0).iter().enumerate() {
            writeln!(out, "  {}{l}", if j == 0 { lead } else { "     " })?;
        }
    }
    for (i, s) in p.suggestions.iter().enumerate() {
        let lead = if i == 0 { "do:  " } else { "     " };
        writeln!(
            out,
            "  {lead}{}. {}",
            i + 1,
            style.bold(&printable(&s.command))
        )?;
        for l in wrap(&printable(&s.note), 67, 0) {
            writeln!(out, "          {}", style.dim(&l))?;
        }
    }
    Ok(())
}

impl Report for ZombiesReport {
    fn skipped(&self) -> Option<&crate::readers::skips::Skips> {
        Some(&self.skipped)
    }

    fn check_name(&self) -> &'static str {
        "zombies"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let mut s = self.headline();
        for f in [DSTATE, TRACED] {
            match f.of(self) {
                Some(n) if n > 0 => s.push_str(&format!("; {}", f.phrase(n))),
                _ => {}
            }
        }
        s
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for l in crate::render::text::status_lines(style, self.status, &self.headline()) {
            writeln!(out, "{l}")?;
        }
        if self.transient > 0 && self.zombies > 0 {
            writeln!(
                out,
                "{} younger than {} not counted (transient: normally reaped within moments)",
                self.transient,
                human_duration(self.min_age)
            )?;
        }
        for p in &self.parents {
            self.write_parent(out, style, p)?;
        }
        if !self.dstate.is_empty() || self.show_all {
            self.write_dstate(out, style)?;
        }
        if !self.traced.is_empty() || self.show_all {
            self.write_traced(out, style)?;
        }
        if !self.skipped.is_empty() {
            self.write_skipped(out)?;
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        figures::perfdata(self)
    }

    /// One line per parent with the same suggestions as the text, in the same order.
    fn nagios_details(&self) -> Vec<String> {
        self.parents
            .iter()
            .map(|p| {
                let todo: Vec<String> = p
                    .suggestions
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}", i + 1, printable(&s.command)))
                    .collect();
                format!(
                    "{} under {} {} ({}): {}",
                    plural(p.zombie_count, "zombie"),
                    printable(&p.comm),
                    p.pid,
                    p.diagnosis
                        .first()
                        .map(|d| d.cause().as_str())
                        .unwrap_or(""),
                    todo.join("; ")
                )
            })
            .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        figures::metrics(self)
    }
}
