//! The zombies report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::adopter::Reaps;
use super::judge::{plural, ZombiesReport};
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
                s.push_str(&format!(" ({} younger, transient)", self.transient));
            }
            return s;
        }
        let parents = self.parents.len();
        let worst = &self.parents[0];
        format!(
            "{} zombie{} under {} parent{}, oldest {}; most under {} {} ({})",
            thousands(self.zombies as u64),
            if self.zombies == 1 { "" } else { "s" },
            parents,
            if parents == 1 { "" } else { "s" },
            human_duration(self.oldest_age.unwrap_or(0)),
            printable(&worst.comm),
            worst.pid,
            worst.zombie_count
        )
    }
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
        if !self.dstate.is_empty() {
            s.push_str(&format!("; {} in D state", self.dstate.len()));
        }
        if !self.traced.is_empty() {
            s.push_str(&format!("; {} traced", self.traced.len()));
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
            }
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
        }
        if !self.dstate.is_empty() || self.show_all {
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
                writeln!(out, "  none")?;
            } else {
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
                writeln!(out, "  {}", style.dim("unkillable until the kernel call returns: check the device or mount in WCHAN"))?;
            }
        }
        if !self.traced.is_empty() || self.show_all {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                style.bold("Traced (held by a debugger or tracer)")
            )?;
            if self.traced.is_empty() {
                writeln!(out, "  none")?;
            } else {
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
            }
        }
        if !self.skipped.is_empty() {
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
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        let w = self.warning.parse().ok();
        let c = self.critical.parse().ok();
        let mut zombies = Perf::new("zombies", self.zombies as f64, "").min(0.0);
        if let (Some(w), Some(c)) = (&w, &c) {
            zombies = zombies.thresholds(w, c);
        }
        vec![
            zombies,
            Perf::new("zombie_parents", self.parents.len() as f64, "").min(0.0),
            Perf::new("zombies_transient", self.transient as f64, "").min(0.0),
            Perf::new("oldest_zombie", self.oldest_age.unwrap_or(0) as f64, "s").min(0.0),
            Perf::new("dstate", self.dstate.len() as f64, "").min(0.0),
            Perf::new("traced", self.traced.len() as f64, "").min(0.0),
        ]
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
        let mut by_parent = Family::gauge(
            "toolkit_zombies_by_parent",
            "Zombies at least --min-age old, per parent process.",
        );
        for p in &self.parents {
            let unit = p
                .service
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            by_parent.push(
                vec![
                    ("ppid", p.pid.to_string()),
                    ("comm", p.comm.clone()),
                    ("service", unit),
                ],
                p.zombie_count as f64,
            );
        }
        vec![
            Family::gauge(
                "toolkit_zombies",
                "Zombie processes at least --min-age old.",
            )
            .single(self.zombies as f64),
            Family::gauge(
                "toolkit_zombies_transient",
                "Zombie processes younger than --min-age.",
            )
            .single(self.transient as f64),
            Family::gauge(
                "toolkit_zombie_oldest_seconds",
                "Age of the oldest zombie at least --min-age old.",
            )
            .single(self.oldest_age.unwrap_or(0) as f64),
            by_parent,
            Family::gauge(
                "toolkit_dstate_processes",
                "Processes in uninterruptible sleep (D) alive at least --min-age.",
            )
            .single(self.dstate.len() as f64),
            Family::gauge(
                "toolkit_traced_processes",
                "Processes being traced (TracerPid set).",
            )
            .single(self.traced.len() as f64),
            Family::gauge(
                "toolkit_zombies_scan_skipped",
                "Processes that vanished or could not be read during the scan.",
            )
            .single((self.skipped.vanished + self.skipped.count) as f64),
        ]
    }
}
