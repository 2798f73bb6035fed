//! The purge report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::{Outcome, PurgeReport};
use crate::render::text::printable;
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_duration, human_size, thousands};
use std::io::{self, Write};

impl PurgeReport {
    fn count(&self, o: Outcome) -> (usize, u64) {
        self.sites
            .iter()
            .flat_map(|s| &s.messages)
            .filter(|m| m.outcome == o)
            .fold((0, 0), |(n, b), m| (n + 1, b + m.size))
    }
}

impl Report for PurgeReport {
    fn check_name(&self) -> &'static str {
        "mqueue_purge"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let (q, qb) = self.count(Outcome::Quarantined);
        let (d, db) = self.count(Outcome::Deleted);
        let (w, wb) = self.count(Outcome::WouldPurge);
        let (s, _) = self.count(Outcome::Skipped);
        let (f, _) = self.count(Outcome::Failed);
        let (h, hb) = self.count(Outcome::Held);
        let (wh, whb) = self.count(Outcome::WouldHold);
        let mut parts = Vec::new();
        if wh > 0 {
            parts.push(format!(
                "{} would be frozen or held ({})",
                thousands(wh as u64),
                human_size(whb)
            ));
        }
        if h > 0 {
            parts.push(format!(
                "{} frozen or held ({})",
                thousands(h as u64),
                human_size(hb)
            ));
        }
        if q > 0 {
            parts.push(format!(
                "{} quarantined ({})",
                thousands(q as u64),
                human_size(qb)
            ));
        }
        if d > 0 {
            parts.push(format!(
                "{} deleted ({})",
                thousands(d as u64),
                human_size(db)
            ));
        }
        if w > 0 {
            parts.push(format!(
                "{} would be purged ({})",
                thousands(w as u64),
                human_size(wb)
            ));
        }
        if s > 0 {
            parts.push(format!("{s} skipped"));
        }
        if f > 0 {
            parts.push(format!("{f} failed"));
        }
        if parts.is_empty() {
            return format!("no message at or over {} matches", human_size(self.min));
        }
        parts.join(", ")
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "{} {}",
            style.status(self.status),
            style.bold(&self.summary())
        )?;
        for s in &self.sites {
            writeln!(out)?;
            let label = [Some(s.site.clone()), s.domain.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            writeln!(out, "{}", style.bold(&label))?;
            if let Some(q) = &s.quarantine {
                writeln!(out, "  quarantine: {}", printable(q))?;
            }
            for m in &s.messages {
                let outcome = match m.outcome {
                    Outcome::WouldPurge => "would purge",
                    Outcome::WouldHold => "would hold",
                    Outcome::Quarantined => "quarantined",
                    Outcome::Deleted => "deleted",
                    Outcome::Held => "held",
                    Outcome::Skipped => "skipped",
                    Outcome::Failed => "FAILED",
                };
                let age = m.age.map(human_duration).unwrap_or_else(|| "?".into());
                let sender = m
                    .sender
                    .as_deref()
                    .map(printable)
                    .unwrap_or_else(|| "?".into());
                writeln!(
                    out,
                    "  {outcome:<12} {:<16} {:>9} {:>7}  {}",
                    m.id,
                    human_size(m.size),
                    age,
                    crate::render::text::truncate(&sender, 28)
                )?;
                if !m.detail.is_empty() {
                    writeln!(out, "  {:12} {}", "", style.dim(&m.detail))?;
                }
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        let (q, qb) = self.count(Outcome::Quarantined);
        let (d, db) = self.count(Outcome::Deleted);
        vec![
            Perf::new("purged", (q + d) as f64, "").min(0.0),
            Perf::new("purged_bytes", (qb + db) as f64, "B").min(0.0),
            Perf::new("skipped", self.count(Outcome::Skipped).0 as f64, "").min(0.0),
        ]
    }

    fn metrics(&self) -> Vec<Family> {
        let (q, qb) = self.count(Outcome::Quarantined);
        let (d, db) = self.count(Outcome::Deleted);
        vec![
            Family::gauge(
                "toolkit_mqueue_purged_messages",
                "Messages removed from queues by the last purge.",
            )
            .single((q + d) as f64),
            Family::gauge(
                "toolkit_mqueue_purged_bytes",
                "Bytes removed from queues by the last purge.",
            )
            .single((qb + db) as f64),
        ]
    }
}
