//! Text pieces of the mqueue report: the queue table, a queue's details, an oversized group. Every
//! line fits 80 columns; names from the queue (ids, senders, subjects) are printed escaped.

use super::figures::{self, Figure};
use super::judge::{OversizedGroup, QueueReport, QueueState};
use super::render::plural;
use crate::render::text::{printable, truncate, width, wrap};
use crate::render::Style;
use crate::units::{human_duration, human_size, thousands};
use std::io::{self, Write};

const SHOWN_RECIPIENTS: usize = 3;

/// The queue table's figures, their column widths, and whether the head names --min (`>=20M`).
const COLUMNS: [(&Figure<QueueReport>, usize, bool); 4] = [
    (&figures::MESSAGES, 7, false),
    (&figures::BYTES, 10, false),
    (&figures::DISK_BYTES, 10, false),
    (&figures::OVERSIZED, 6, true),
];

/// Worth its own paragraph: something in it, or something wrong with it.
pub fn notable(q: &QueueReport) -> bool {
    q.scan.files > 0
        || q.problem.is_some()
        || !q.scan.symlinks.is_empty()
        || q.site
            .as_ref()
            .is_some_and(|s| !s.notes.is_empty() || s.refused.is_some())
}

pub fn table(
    out: &mut dyn Write,
    style: &Style,
    queues: &[QueueReport],
    min: u64,
) -> io::Result<()> {
    writeln!(out)?;
    let mut head = head_line("QUEUE", 29, &COLUMNS, min);
    head.push_str(&format!("  {}", "QUOTA"));
    writeln!(out, "{}", style.bold(&head))?;
    for q in queues {
        let quota = match (&q.binding, q.state) {
            (_, QueueState::Ok) if q.site.is_none() => "-",
            (Some(b), _) if b.bound => "bound",
            (Some(_), _) => "NOT BOUND",
            (None, QueueState::Symlink) => "SYMLINK",
            (None, QueueState::Missing) => "no queue",
            (None, QueueState::Ok | QueueState::Unreadable) => "UNREADABLE",
        };
        let line = row_line(&q.name, 29, &COLUMNS, q);
        writeln!(out, "{line}  {quota}")?;
    }
    Ok(())
}

/// A table's column heads: the first column `first` wide, then each figure's column right-aligned
/// in its width, those that count at or over --min with its size (`>=20M`).
pub(crate) fn head_line<T>(
    first: &str,
    first_width: usize,
    columns: &[(&Figure<T>, usize, bool)],
    min: u64,
) -> String {
    let mut head = format!("{first:<first_width$}");
    for &(f, width, sized) in columns {
        let name = f.column.unwrap_or_default();
        let name = match sized {
            true => format!("{name}{}", short_size(min)),
            false => name.to_string(),
        };
        head.push_str(&format!(" {name:>width$}"));
    }
    head
}

/// One row under `head_line`'s heads: the name (escaped, cut to its width), then each figure.
pub(crate) fn row_line<T>(
    name: &str,
    first_width: usize,
    columns: &[(&Figure<T>, usize, bool)],
    of: &T,
) -> String {
    let mut line = format!("{:<first_width$}", truncate(&printable(name), first_width));
    for &(f, width, _) in columns {
        line.push_str(&format!(" {:>width$}", f.human(of)));
    }
    line
}

/// `20M` for the column head.
pub(crate) fn short_size(b: u64) -> String {
    human_size(b)
        .replace(".0 ", "")
        .replace("iB", "")
        .replace(' ', "")
}

pub fn details(out: &mut dyn Write, style: &Style, q: &QueueReport, min: u64) -> io::Result<()> {
    let mut title = q.name.clone();
    if let Some(a) = q.site.as_ref().and_then(|s| s.admin.as_ref()) {
        title.push_str(&format!(" ({a})"));
    }
    match &q.binding {
        Some(b) if b.bound => title.push_str(": bound to its quota"),
        Some(_) => title.push_str(": NOT bound to its quota"),
        None => {}
    }
    for l in wrap(&title, 80, 2) {
        writeln!(out, "{}", style.bold(&l))?;
    }
    let mut lines: Vec<String> = Vec::new();
    if let Some(p) = &q.problem {
        lines.push(format!("queue {}", p));
    }
    where_and_binding(q, &mut lines);
    contents(q, min, &mut lines);
    if let Some(site) = &q.site {
        if let Some(why) = &site.refused {
            lines.push(format!("identity refused: {why}"));
        }
        lines.extend(site.notes.iter().map(|n| format!("note: {n}")));
    }
    for l in lines {
        for w in wrap(&printable(&l), 78, 2) {
            writeln!(out, "  {w}")?;
        }
    }
    if let Some(fix) = q.binding.as_ref().and_then(|b| b.fix.as_ref()) {
        for l in crate::render::text::wrap_with_command("fix:", fix, 78, 2) {
            writeln!(out, "  {}", style.bold(&l))?;
        }
    }
    Ok(())
}

/// The queue's path, owner and mode, and why it is not bound.
fn where_and_binding(q: &QueueReport, lines: &mut Vec<String>) {
    let Some(b) = &q.binding else {
        if q.site.is_some() && q.problem.is_none() {
            lines.push(q.path.clone());
        }
        return;
    };
    let owner = format!("{} mode {}", b.owner, b.mode);
    if width(&printable(&q.path)) + 2 + width(&owner) <= 78 {
        lines.push(format!("{}  {owner}", q.path));
    } else {
        // A long path alone on its line, whole, so it can be copied.
        lines.push(q.path.clone());
        lines.push(owner);
    }
    if !b.reasons.is_empty() {
        lines.push(format!("{}.", b.reason_texts().join("; ")));
    }
    if b.world_writable {
        lines.push("world-writable: any local user can delete queued mail".into());
    }
}

/// What the queue holds: sizes, oversized messages, files outside the quota, anomalies, symlinks.
fn contents(q: &QueueReport, min: u64, lines: &mut Vec<String>) {
    let s = &q.scan;
    if s.files > 0 {
        let mut l = format!(
            "{}, {} files, {} apparent, {} on disk",
            plural(s.messages, "message"),
            thousands(s.files),
            human_size(s.bytes),
            human_size(s.disk_bytes)
        );
        if let Some(age) = q.oldest_age {
            l.push_str(&format!(", oldest {}", human_duration(age)));
        }
        lines.push(l);
    }
    if s.oversized > 0 {
        lines.push(format!(
            "{} at or over {} ({})",
            plural(s.oversized, "message"),
            human_size(min),
            human_size(s.oversized_bytes)
        ));
    }
    if s.foreign_files > 0 {
        let group = q
            .site
            .as_ref()
            .and_then(|s| s.admin.clone())
            .unwrap_or_default();
        lines.push(format!(
            "{} files ({}) not in group {group}: not charged to its quota",
            thousands(s.foreign_files),
            human_size(s.foreign_bytes)
        ));
    }
    let odd = anomalies(q);
    if !odd.is_empty() {
        lines.push(format!("anomalies: {}", odd.join(", ")));
    }
    if s.matching_incomplete {
        lines.push(format!(
            "over {} files: data files without qf not all counted",
            thousands(crate::readers::mqueue::queue::MAX_TRACKED as u64)
        ));
    }
    for l in &s.symlinks {
        lines.push(format!("symlink not followed: {}", l));
    }
}

/// `1 df without qf (3.0 MiB)`, `1 stale tf`, ...
fn anomalies(q: &QueueReport) -> Vec<String> {
    let a = &q.scan.anomalies;
    let mut odd = Vec::new();
    if a.df_without_qf > 0 {
        odd.push(format!(
            "{} df without qf ({})",
            thousands(a.df_without_qf),
            human_size(a.df_without_qf_bytes)
        ));
    }
    let counted = [
        (q.stale_tf, "stale tf"),
        (a.lost_qf, "lost Qf"),
        (a.quarantined, "quarantined hf"),
        (a.other_files, "not queue files"),
    ];
    for (n, what) in counted {
        if n > 0 {
            odd.push(format!("{} {what}", thousands(n)));
        }
    }
    odd
}

/// "2,074 copies of one 38.0 MiB message from x (77.0 GiB)" or "38.0 MiB message ID from x".
pub fn group_title(g: &OversizedGroup) -> String {
    let from = g
        .sender
        .as_deref()
        .map_or_else(|| "unknown sender".to_string(), printable);
    if g.count > 1 {
        format!(
            "{} copies of one {} message from {from} ({})",
            thousands(g.count),
            human_size(g.size),
            human_size(g.bytes)
        )
    } else {
        let id = g.ids.first().map(|s| printable(s)).unwrap_or_default();
        format!("{} message {id} from {from}", human_size(g.size))
    }
}

/// The oversized groups under their head, and how many more `--top` left out.
pub(crate) fn oversized(
    out: &mut dyn Write,
    style: &Style,
    head: &str,
    groups: &[OversizedGroup],
    not_listed: usize,
) -> io::Result<()> {
    writeln!(out, "{}", style.bold(head))?;
    for g in groups {
        group(out, g)?;
    }
    if not_listed > 0 {
        writeln!(out, "  ... and {not_listed} more (--top)")?;
    }
    Ok(())
}

fn group(out: &mut dyn Write, g: &OversizedGroup) -> io::Result<()> {
    let mut lines = vec![group_title(g)];
    let mut meta = vec![match &g.site_domain {
        Some(d) => format!("{} {d}", g.queue),
        None => g.queue.clone(),
    }];
    if let Some(s) = &g.subject {
        meta.push(format!("\"{}\"", truncate(&printable(s), 50)));
    }
    lines.push(meta.join(", "));
    let mut meta = vec![format!("age {}", human_duration(g.age))];
    if !g.owners.is_empty() {
        meta.push(g.owners.join(" "));
    }
    if let Some(n) = g.attempts {
        meta.push(plural(n as u64, "attempt"));
    }
    lines.push(meta.join(", "));
    if g.recipient_count > 0 {
        let shown: Vec<String> = g
            .recipients
            .iter()
            .take(SHOWN_RECIPIENTS)
            .map(|r| printable(r))
            .collect();
        let more = g.recipient_count.saturating_sub(shown.len());
        let mut s = format!(
            "to {}: {}",
            plural(g.recipient_count as u64, "recipient"),
            shown.join(", ")
        );
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        lines.push(s);
    }
    let status = g.status.as_deref().map(printable).unwrap_or_default();
    lines.push(
        format!("{}: {}", g.status_class.label(), truncate(&status, 100))
            .trim_end_matches(": ")
            .to_string(),
    );
    if let Some(q) = &g.quarantine {
        lines.push(format!("quarantined by sendmail: {}", printable(q)));
    }
    if g.count > 1 {
        let ids: Vec<String> = g.ids.iter().map(|s| printable(s)).collect();
        let more = g.count.saturating_sub(ids.len() as u64);
        let tail = if more > 0 {
            format!(" and {} more", thousands(more))
        } else {
            String::new()
        };
        lines.push(format!("ids {}{tail}", ids.join(" ")));
    }
    if g.damaged > 0 {
        let why = g.problem.as_deref().map(printable).unwrap_or_default();
        lines.push(format!(
            "{} with a damaged or missing qf: {why}",
            thousands(g.damaged)
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        let indent = if i == 0 { 2 } else { 4 };
        for w in wrap(l, 80 - indent, 2) {
            writeln!(out, "{}{w}", " ".repeat(indent))?;
        }
    }
    Ok(())
}
