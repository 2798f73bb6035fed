//! The mqueue report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::figures;
use super::findings::{self, Code};
use super::judge::{MqueueReport, QueueReport, QueueState};
use super::text::{details, group_title, notable, oversized};
use crate::render::text::{printable, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_size, thousands};
use std::io::{self, Write};

pub(crate) fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// Queues given their own perfdata in Nagios output (Prometheus has every queue).
const PERF_QUEUES: usize = 50;
/// Unbound queues given their own line in the Nagios long output.
const DETAIL_QUEUES: usize = 10;

impl MqueueReport {
    fn skipped_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.skipped.count > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "Could not read or parse {}:",
                plural(self.skipped.count, "item")
            )?;
            for s in &self.skipped.first {
                let line = format!("{}: {}", printable(&s.path), printable(&s.reason));
                // Paths have no spaces to break at: a long one overflows rather than lose its end.
                for l in wrap(&line, 78, 4) {
                    writeln!(out, "  {l}")?;
                }
            }
        }
        Ok(())
    }

    /// The status and headline, the status word coloured.
    fn head_lines(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let head = format!("{} {}", self.status.word(), self.headline());
        for (i, l) in wrap(&head, 80, 2).iter().enumerate() {
            // The status word is coloured on the first line only; the rest is bold.
            let l = match l.strip_prefix(self.status.word()) {
                Some(rest) if i == 0 => {
                    format!("{}{}", style.status(self.status), style.bold(rest))
                }
                _ => style.bold(l),
            };
            writeln!(out, "{l}")?;
        }
        Ok(())
    }

    /// The totals, the table of the --top largest queues and the details of the notable ones.
    fn queue_lines(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let totals = format!(
            "{}, {}, {} apparent, {} on disk; {} oversized ({})",
            plural(self.totals.queues as u64, "queue"),
            plural(self.totals.messages, "message"),
            human_size(self.totals.bytes),
            human_size(self.totals.disk_bytes),
            thousands(self.totals.oversized),
            human_size(self.totals.oversized_bytes)
        );
        for l in wrap(&totals, 80, 2) {
            writeln!(out, "{l}")?;
        }
        // A person reads the --top largest queues; --json has them all.
        let top = self.top.max(1);
        let shown = &self.queues[..self.queues.len().min(top)];
        super::text::table(out, style, shown, self.min_bytes)?;
        let rest = &self.queues[shown.len()..];
        if !rest.is_empty() {
            let bytes: u64 = rest.iter().map(|q| q.scan.bytes).sum();
            writeln!(
                out,
                "... {} holding {} (--top {} lists more)",
                plural(rest.len() as u64, "more queue"),
                human_size(bytes),
                top * 5
            )?;
        }
        let notables: Vec<&QueueReport> = self.queues.iter().filter(|q| notable(q)).collect();
        for q in notables.iter().take(top) {
            writeln!(out)?;
            details(out, style, q, self.min_bytes)?;
        }
        if notables.len() > top {
            writeln!(out)?;
            writeln!(
                out,
                "... details of {} in --json",
                plural((notables.len() - top) as u64, "more queue")
            )?;
        }
        Ok(())
    }

    /// The unbound queues not detailed (empty ones), and the command that binds them all.
    fn unbound_lines(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let idle: Vec<String> = self
            .queues
            .iter()
            .filter(|q| q.unbound() && !notable(q))
            .map(|q| q.name.clone())
            .collect();
        if !idle.is_empty() {
            writeln!(out)?;
            let mut names = idle.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
            if idle.len() > 10 {
                names.push_str(&format!(" and {} more", idle.len() - 10));
            }
            let text = format!("Not bound to their quota (empty for now): {names}");
            for l in wrap(&text, 80, 2) {
                writeln!(out, "{l}")?;
            }
        }
        if self.totals.unbound_sites > 1 {
            writeln!(out)?;
            writeln!(
                out,
                "{} sites not bound to their quota; bind them all: {}",
                thousands(self.totals.unbound_sites as u64),
                style.bold("toolkit mqueue fix --all")
            )?;
        }
        Ok(())
    }

    /// The oversized groups, largest first.
    fn oversized_lines(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.oversized.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        let head = format!(
            "Oversized messages (>= {}), largest first",
            human_size(self.min_bytes)
        );
        oversized(
            out,
            style,
            &head,
            &self.oversized,
            self.oversized_not_listed,
        )
    }

    /// The size finding of the larger section: the largest account's when it is larger than the
    /// largest sendmail queue, or when no sendmail queue could be read.
    fn headline(&self) -> &str {
        let queue = findings::find(&self.findings, Code::LargestQueue);
        let account = self
            .mta
            .as_ref()
            .and_then(|m| findings::find(&m.findings, Code::LargestAccount));
        let readable = self.queues.iter().any(|q| q.state == QueueState::Ok);
        let lead = match (queue, account) {
            (Some(q), Some(a)) if readable && a.figure <= q.figure => q,
            (_, Some(a)) => a,
            (Some(q), None) => q,
            (None, None) => return "",
        };
        &lead.text
    }
}

impl Report for MqueueReport {
    fn skipped(&self) -> Option<&crate::readers::skips::Skips> {
        Some(&self.skipped)
    }

    fn check_name(&self) -> &'static str {
        "mqueue"
    }

    /// The sendmail queues' not-read finding (the section's own skips include the Exim/Postfix
    /// spools' unreadable files).
    fn blind(&self) -> Option<String> {
        findings::find(&self.findings, Code::NotRead).map(|f| f.text.clone())
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let mut s = self.headline().to_string();
        let others =
            self.totals.unbound_sites - self.queues.first().map_or(0, |q| q.unbound() as usize);
        if others > 0 {
            let sites = if others == 1 { "site" } else { "sites" };
            s.push_str(&format!("; {others} more {sites} not bound"));
        }
        s
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        self.head_lines(out, style)?;
        if let (true, Some(m)) = (self.queues.is_empty(), &self.mta) {
            m.text(out, style, self.min_bytes)?;
            return self.skipped_lines(out);
        }
        if self.queues.is_empty() {
            let looked = format!(
                "Looked in {} (add others with --spool).",
                crate::sendmail::layout::default_queues_text()
            );
            for l in wrap(&looked, 80, 0) {
                writeln!(out, "{l}")?;
            }
            return self.skipped_lines(out);
        }
        self.queue_lines(out, style)?;
        self.unbound_lines(out, style)?;
        self.oversized_lines(out, style)?;
        if let Some(m) = &self.mta {
            m.text(out, style, self.min_bytes)?;
        }
        self.skipped_lines(out)
    }

    fn perfdata(&self) -> Vec<Perf> {
        let (w, c) = (&self.warning_range, &self.critical_range);
        let mut perf: Vec<Perf> = figures::REPORT_FIGURES
            .iter()
            .filter_map(|f| f.perf(self, None, w, c))
            .collect();
        // Largest first and at most PERF_QUEUES: Nagios truncates long plugin output, perfdata last.
        let busy = self
            .queues
            .iter()
            .filter(|q| q.scan.messages > 0 || q.scan.bytes > 0);
        for q in busy.take(PERF_QUEUES) {
            let label = match &q.site {
                Some(site) => site.name.clone(),
                None => q.name.trim_start_matches("host ").to_string(),
            };
            perf.extend(
                figures::QUEUE_FIGURES
                    .iter()
                    .filter_map(|f| f.perf(q, Some(&label), w, c)),
            );
        }
        if let Some(m) = &self.mta {
            perf.extend(m.perfdata(w, c));
        }
        perf
    }

    fn nagios_details(&self) -> Vec<String> {
        let mut d = Vec::new();
        let unbound: Vec<&QueueReport> = self
            .queues
            .iter()
            .filter(|q| q.unbound() && q.scan.files > 0)
            .collect();
        for q in unbound.iter().take(DETAIL_QUEUES) {
            if let Some(fix) = q.binding.as_ref().and_then(|b| b.fix.as_ref()) {
                d.push(format!(
                    "{}: {} not bound to quota; run: {fix}",
                    q.name,
                    human_size(q.scan.bytes)
                ));
            } else if let Some(why) = q.site.as_ref().and_then(|s| s.refused.as_ref()) {
                d.push(format!(
                    "{}: {} not bound to quota; identity refused: {}",
                    q.name,
                    human_size(q.scan.bytes),
                    crate::render::text::printable(why)
                ));
            }
        }
        if unbound.len() > DETAIL_QUEUES {
            let more = unbound.len() - DETAIL_QUEUES;
            d.push(format!(
                "{} not bound; run: toolkit mqueue fix --all",
                plural(more as u64, "more queue")
            ));
        }
        for g in &self.oversized {
            d.push(format!("{}: {}", g.queue, group_title(g)));
        }
        if let Some(m) = &self.mta {
            d.extend(m.nagios_details());
        }
        d
    }

    fn metrics(&self) -> Vec<Family> {
        let mut families = figures::families(&figures::QUEUE_FIGURES, &self.queues, |q| {
            vec![
                ("queue", q.label.clone()),
                (
                    "domain",
                    q.site
                        .as_ref()
                        .and_then(|s| s.domains.first().cloned())
                        .unwrap_or_default(),
                ),
                ("path", q.path.clone()),
            ]
        });
        // What could not be read is the one `toolkit_mqueue_skipped` gauge (`render::metrics_of`).
        if let Some(m) = &self.mta {
            families.extend(m.metrics());
        }
        families
    }
}
