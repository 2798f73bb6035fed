//! The purge report in text, Nagios and Prometheus terms (JSON is its serde form).

use super::pending::Recovery;
use super::{Outcome, PurgeReport, Purged};
use crate::render::text::printable;
use crate::render::text::wrap;
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_duration, human_size, thousands};
use std::collections::HashMap;
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

/// Ids shown for a group of identical copies (the others are counted).
const SHOWN_IDS: usize = 3;

/// Messages folded into runs of identical copies (same sender, subject and size, as `scan` groups
/// them, and the same outcome and detail), in the order of the report.
fn identical(messages: &[Purged]) -> Vec<Vec<&Purged>> {
    let mut groups: Vec<Vec<&Purged>> = Vec::new();
    let mut index: HashMap<_, usize> = HashMap::new();
    for m in messages {
        let key = (&m.sender, &m.subject, m.size, m.outcome, &m.detail);
        match index.get(&key) {
            Some(&i) => groups[i].push(m),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![m]);
            }
        }
    }
    groups
}

/// "2,074 copies of one 38.0 MiB message from x (77.0 GiB), oldest 9h 23m", then the first ids.
fn group(out: &mut dyn Write, outcome: &str, copies: &[&Purged], sender: &str) -> io::Result<()> {
    let m = copies[0];
    let total: u64 = copies.iter().map(|c| c.size).sum();
    let oldest = copies.iter().filter_map(|c| c.age).max();
    let line = format!(
        "{} copies of one {} message from {sender} ({})",
        thousands(copies.len() as u64),
        human_size(m.size),
        human_size(total)
    );
    let mut ids: Vec<&str> = copies.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let more = ids.len().saturating_sub(SHOWN_IDS);
    let mut id_line = match oldest {
        Some(a) => format!("oldest {}; ", human_duration(a)),
        None => String::new(),
    };
    id_line.push_str(&format!(
        "ids {}",
        ids[..ids.len().min(SHOWN_IDS)].join(" ")
    ));
    if more > 0 {
        id_line.push_str(&format!(" and {} more", thousands(more as u64)));
    }
    let lead = format!("  {outcome:<12} ");
    for (i, l) in wrap(&line, 80 - lead.len(), 0)
        .into_iter()
        .chain(wrap(&id_line, 80 - lead.len(), 0))
        .enumerate()
    {
        let pad = if i == 0 {
            lead.clone()
        } else {
            " ".repeat(lead.len())
        };
        writeln!(out, "{pad}{l}")?;
    }
    Ok(())
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
        let recovered: usize = self.sites.iter().map(|s| s.recovered.len()).sum();
        if recovered > 0 {
            parts.push(format!(
                "{} recovered from an interrupted purge",
                thousands(recovered as u64)
            ));
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
            for l in crate::render::text::wrap(&label, 80, 2) {
                writeln!(out, "{}", style.bold(&l))?;
            }
            if let Some(q) = &s.quarantine {
                for l in crate::render::text::wrap(&format!("quarantine: {q}"), 78, 2) {
                    writeln!(out, "  {l}")?;
                }
            }
            if s.pending > 0 {
                writeln!(
                    out,
                    "  {} journal entr{} of an interrupted purge: the next run without --dry-run",
                    s.pending,
                    if s.pending == 1 { "y" } else { "ies" }
                )?;
                writeln!(out, "    first makes their half-moved messages whole")?;
            }
            if !s.recovered.is_empty() {
                let n = |o: Recovery| s.recovered.iter().filter(|r| r.outcome == o).count();
                writeln!(
                    out,
                    "  recovered {} message(s) an interrupted purge had left half-moved:",
                    s.recovered.len()
                )?;
                writeln!(
                    out,
                    "    {} completed, {} put back in the queue, {} locked (left for the next run), {} failed",
                    n(Recovery::Completed),
                    n(Recovery::RolledBack),
                    n(Recovery::Locked),
                    n(Recovery::Failed)
                )?;
                for r in s.recovered.iter().filter(|r| !r.detail.is_empty()).take(3) {
                    writeln!(
                        out,
                        "    {}: {}",
                        printable(&r.id),
                        style.dim(&printable(&r.detail))
                    )?;
                }
            }
            for copies in identical(&s.messages) {
                let m = copies[0];
                let outcome = match m.outcome {
                    Outcome::WouldPurge => "would purge",
                    Outcome::WouldHold => "would hold",
                    Outcome::Quarantined => "quarantined",
                    Outcome::Deleted => "deleted",
                    Outcome::Held => "held",
                    Outcome::Skipped => "skipped",
                    Outcome::Failed => "FAILED",
                };
                let sender = m
                    .sender
                    .as_deref()
                    .map(printable)
                    .unwrap_or_else(|| "?".into());
                if copies.len() > 1 {
                    group(out, outcome, &copies, &sender)?;
                } else {
                    let age = m.age.map(human_duration).unwrap_or_else(|| "?".into());
                    writeln!(
                        out,
                        "  {outcome:<12} {:<16} {:>9} {:>7}  {}",
                        printable(&m.id),
                        human_size(m.size),
                        age,
                        crate::render::text::truncate(&sender, 28)
                    )?;
                }
                if !m.detail.is_empty() {
                    writeln!(out, "  {:12} {}", "", style.dim(&printable(&m.detail)))?;
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
