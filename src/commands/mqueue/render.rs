//! The mqueue report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::judge::{MqueueReport, QueueReport};
use super::text::{details, group, group_title, notable};
use crate::render::text::{printable, truncate, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_size, thousands};
use std::io::{self, Write};

pub(super) fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

impl QueueReport {
    pub(super) fn unbound(&self) -> bool {
        self.binding.as_ref().is_some_and(|b| !b.bound)
    }
}

impl MqueueReport {
    fn headline(&self) -> String {
        let Some(q) = self.queues.iter().find(|q| q.state == "ok") else {
            return "no mail queue found".into();
        };
        if q.bytes == 0 {
            return format!("all {} queues empty", self.totals.queues);
        }
        let mut s = format!(
            "{} queue holds {} in {}",
            q.name.clone(),
            human_size(q.bytes),
            plural(q.messages, "message")
        );
        if q.oversized > 0 {
            s.push_str(&format!(
                ", {} >= {}",
                thousands(q.oversized),
                human_size(self.min_bytes)
            ));
        }
        if q.unbound() {
            s.push_str(", not bound to its quota");
        }
        s
    }
}

impl Report for MqueueReport {
    fn check_name(&self) -> &'static str {
        "mqueue"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let mut s = self.headline();
        let others =
            self.totals.unbound_sites - self.queues.first().map_or(0, |q| q.unbound() as usize);
        if others > 0 {
            s.push_str(&format!(
                "; {} more not bound",
                plural(others as u64, "site")
            ));
        }
        if self.skipped.count > 0 {
            s.push_str(&format!("; {} unreadable", thousands(self.skipped.count)));
        }
        s
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "{} {}",
            style.status(self.status),
            style.bold(&self.headline())
        )?;
        writeln!(
            out,
            "{} queues, {} messages, {} apparent, {} on disk; {} oversized ({})",
            self.totals.queues,
            thousands(self.totals.messages),
            human_size(self.totals.bytes),
            human_size(self.totals.disk_bytes),
            thousands(self.totals.oversized),
            human_size(self.totals.oversized_bytes)
        )?;
        super::text::table(out, style, &self.queues, self.min_bytes)?;
        for q in self.queues.iter().filter(|q| notable(q)) {
            writeln!(out)?;
            details(out, style, q, self.min_bytes)?;
        }
        let idle: Vec<String> = self
            .queues
            .iter()
            .filter(|q| q.unbound() && !notable(q))
            .map(|q| q.name.clone())
            .collect();
        if !idle.is_empty() {
            writeln!(out)?;
            let text = format!(
                "Not bound to their quota (empty for now): {}",
                idle.join(", ")
            );
            for l in wrap(&text, 80, 2) {
                writeln!(out, "{l}")?;
            }
        }
        if !self.oversized.is_empty() {
            writeln!(out)?;
            let head = format!(
                "Oversized messages (>= {}), largest first",
                human_size(self.min_bytes)
            );
            writeln!(out, "{}", style.bold(&head))?;
            for g in &self.oversized {
                group(out, g)?;
            }
            if self.oversized_not_listed > 0 {
                writeln!(out, "  ... and {} more (--top)", self.oversized_not_listed)?;
            }
        }
        if self.skipped.count > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "Could not read {}:",
                plural(self.skipped.count, "item")
            )?;
            for s in &self.skipped.first {
                let line = format!("{}: {}", printable(&s.path), printable(&s.reason));
                writeln!(out, "  {}", truncate(&line, 78))?;
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        let largest = self.queues.first().map_or(0, |q| q.bytes);
        let (w, c) = (&self.warning_range, &self.critical_range);
        let mut perf = vec![
            Perf::new("largest_queue", largest as f64, "B")
                .thresholds(w, c)
                .min(0.0),
            Perf::new("messages", self.totals.messages as f64, "").min(0.0),
            Perf::new("oversized", self.totals.oversized as f64, "").min(0.0),
            Perf::new("unbound_sites", self.totals.unbound_sites as f64, "").min(0.0),
        ];
        for q in self.queues.iter().filter(|q| q.messages > 0 || q.bytes > 0) {
            let label = q
                .site
                .as_ref()
                .map_or_else(|| q.path.clone(), |s| s.name.clone());
            perf.push(Perf::new(format!("{label} bytes"), q.bytes as f64, "B").min(0.0));
            perf.push(Perf::new(format!("{label} oversized"), q.oversized as f64, "").min(0.0));
        }
        perf
    }

    fn nagios_details(&self) -> Vec<String> {
        let mut d = Vec::new();
        for q in self.queues.iter().filter(|q| q.unbound() && q.files > 0) {
            if let Some(fix) = q.binding.as_ref().and_then(|b| b.fix.as_ref()) {
                d.push(format!(
                    "{}: {} not bound to quota; run: {fix}",
                    q.name.clone(),
                    human_size(q.bytes)
                ));
            }
        }
        for g in &self.oversized {
            d.push(format!("{}: {}", g.queue, group_title(g)));
        }
        d
    }

    fn metrics(&self) -> Vec<Family> {
        let gauge = |n: &str, h: &str| Family::gauge(n, h);
        let mut f = [
            gauge(
                "toolkit_mqueue_bytes",
                "Apparent size of the queue's files, in bytes.",
            ),
            gauge(
                "toolkit_mqueue_disk_bytes",
                "Disk space used by the queue, in bytes (hard links once).",
            ),
            gauge(
                "toolkit_mqueue_messages",
                "Messages (qf control files) in the queue.",
            ),
            gauge(
                "toolkit_mqueue_oversized_messages",
                "Messages at least --min bytes.",
            ),
            gauge(
                "toolkit_mqueue_oversized_bytes",
                "Bytes of the messages at least --min bytes.",
            ),
            gauge(
                "toolkit_mqueue_uncharged_bytes",
                "Bytes of queue files not in the site's group (outside its quota).",
            ),
            gauge(
                "toolkit_mqueue_oldest_age_seconds",
                "Age of the oldest message in the queue.",
            ),
        ];
        let mut bound = gauge(
            "toolkit_mqueue_bound",
            "1 when the site's queue is bound to its quota.",
        );
        for q in &self.queues {
            let labels = || {
                let site = q.site.as_ref();
                vec![
                    ("queue", q.label.clone()),
                    (
                        "domain",
                        site.and_then(|s| s.domains.first().cloned())
                            .unwrap_or_default(),
                    ),
                    ("path", q.path.clone()),
                ]
            };
            let values = [
                q.bytes as f64,
                q.disk_bytes as f64,
                q.messages as f64,
                q.oversized as f64,
                q.oversized_bytes as f64,
                q.foreign_bytes as f64,
                q.oldest_age.unwrap_or(0) as f64,
            ];
            for (fam, v) in f.iter_mut().zip(values) {
                fam.push(labels(), v);
            }
            if let Some(b) = &q.binding {
                bound.push(labels(), if b.bound { 1.0 } else { 0.0 });
            }
        }
        let mut out: Vec<Family> = f.into_iter().collect();
        out.push(bound);
        out.push(
            gauge(
                "toolkit_mqueue_unreadable",
                "Queue files or directories the scan could not read.",
            )
            .single(self.skipped.count as f64),
        );
        out
    }
}
