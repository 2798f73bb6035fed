//! The MTA section in text, Nagios and Prometheus terms (JSON is its serde form): a table of
//! accounts, each account's details, the oversized groups; every line fits 80 columns and names from
//! the queue are printed escaped.

use super::{AccountReport, MtaSection};
use crate::commands::mqueue::figures::{self, Figure};
use crate::commands::mqueue::render::plural;
use crate::commands::mqueue::text::{head_line, oversized, row_line};
use crate::readers::mqueue::delivery::Class;
use crate::render::text::{printable, truncate, wrap};
use crate::render::{Family, Perf, Range, Style};
use crate::units::{human_duration, human_size, thousands};
use std::io::{self, Write};

/// Accounts given their own perfdata (Prometheus has every account).
const PERF_ACCOUNTS: usize = 50;

/// The account table's figures, their column widths, and whether the head names --min (`>=20M`).
const COLUMNS: [(&Figure<AccountReport>, usize, bool); 7] = [
    (&figures::ACCOUNT_MESSAGES, 7, false),
    (&figures::ACCOUNT_BYTES, 10, false),
    (&figures::ACCOUNT_DISK_BYTES, 10, false),
    (&figures::ACCOUNT_OVERSIZED, 6, true),
    (&figures::ACCOUNT_OLDEST_AGE, 7, false),
    (&figures::ACCOUNT_HELD, 5, false),
    (&figures::ACCOUNT_SCRIPTS, 7, false),
];

fn classes(a: &AccountReport) -> String {
    let mut v: Vec<(&Class, &u64)> = a.classes.iter().collect();
    v.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    v.iter()
        .map(|(c, n)| format!("{} {}", c.label(), thousands(**n)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl MtaSection {
    pub fn text(&self, out: &mut dyn Write, style: &Style, min: u64) -> io::Result<()> {
        for sp in &self.spools {
            writeln!(out)?;
            let panels = if self.panels.is_empty() {
                "no panel maps".to_string()
            } else {
                format!("{} maps", self.panels.join(", "))
            };
            let head = match &sp.problem {
                Some(p) => format!("{} spool {}: {}", name(sp.mta), sp.path, p),
                None => format!(
                    "{} spool {}: {}, {} apparent, {} on disk ({panels})",
                    name(sp.mta),
                    sp.path,
                    plural(sp.messages, "message"),
                    human_size(sp.bytes),
                    human_size(sp.disk_bytes)
                ),
            };
            for l in wrap(&printable(&head), 80, 2) {
                writeln!(out, "{}", style.bold(&l))?;
            }
            let mut odd = Vec::new();
            if sp.damaged > 0 {
                odd.push(format!("{} damaged", thousands(sp.damaged)));
            }
            if sp.being_written > 0 {
                odd.push(format!("{} being written", thousands(sp.being_written)));
            }
            if sp.other_files > 0 {
                odd.push(format!("{} not message files", thousands(sp.other_files)));
            }
            if !odd.is_empty() {
                writeln!(out, "  anomalies: {}", odd.join(", "))?;
            }
            for s in &sp.symlinks {
                for l in wrap(&printable(&format!("symlink not followed: {s}")), 78, 2) {
                    writeln!(out, "  {l}")?;
                }
            }
        }
        if self.accounts.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        let head = head_line("ACCOUNT", 20, &COLUMNS, min);
        writeln!(out, "{}", style.bold(&head))?;
        for a in &self.accounts {
            writeln!(out, "{}", row_line(&a.account, 20, &COLUMNS, a))?;
        }
        for a in &self.accounts {
            writeln!(out)?;
            details(out, style, a, min)?;
        }
        if !self.oversized.is_empty() {
            writeln!(out)?;
            let head = format!(
                "Oversized messages by account (>= {}), largest first",
                human_size(min)
            );
            oversized(
                out,
                style,
                &head,
                &self.oversized,
                self.oversized_not_listed,
            )?;
        }
        Ok(())
    }

    pub fn perfdata(&self, w: &Range, c: &Range) -> Vec<Perf> {
        let mut perf: Vec<Perf> = figures::MTA_FIGURES
            .iter()
            .filter_map(|f| f.perf(self, None, w, c))
            .collect();
        for a in self.accounts.iter().take(PERF_ACCOUNTS) {
            let label = printable(&a.account);
            perf.extend(
                figures::ACCOUNT_FIGURES
                    .iter()
                    .filter_map(|f| f.perf(a, Some(&label), w, c)),
            );
        }
        perf
    }

    pub fn nagios_details(&self) -> Vec<String> {
        let mut d: Vec<String> = self
            .accounts
            .iter()
            .filter(|a| a.oversized > 0 || a.by_scripts > 0)
            .take(10)
            .map(|a| {
                format!(
                    "account {}: {} in {}, {} oversized, {} by its scripts",
                    printable(&a.account),
                    human_size(a.bytes),
                    plural(a.messages, "message"),
                    thousands(a.oversized),
                    thousands(a.by_scripts)
                )
            })
            .collect();
        for g in &self.oversized {
            d.push(format!(
                "{}: {}",
                printable(&g.queue),
                crate::commands::mqueue::text::group_title(g)
            ));
        }
        d
    }

    pub fn metrics(&self) -> Vec<Family> {
        figures::families(&figures::ACCOUNT_FIGURES, &self.accounts, |a| {
            vec![
                ("account", a.account.clone()),
                (
                    "mta",
                    a.mtas
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ]
        })
    }
}

fn name(m: crate::readers::mta::Mta) -> &'static str {
    match m {
        crate::readers::mta::Mta::Exim => "Exim",
        crate::readers::mta::Mta::Postfix => "Postfix",
    }
}

fn details(out: &mut dyn Write, style: &Style, a: &AccountReport, min: u64) -> io::Result<()> {
    let mut title = format!(
        "{}: {}, {}",
        a.account,
        plural(a.messages, "message"),
        human_size(a.bytes)
    );
    if a.oversized > 0 {
        title.push_str(&format!(
            ", {} >= {} ({})",
            thousands(a.oversized),
            human_size(min),
            human_size(a.oversized_bytes)
        ));
    }
    writeln!(out, "{}", style.bold(&truncate(&printable(&title), 80)))?;
    let mut lines = Vec::new();
    if a.by_scripts > 0 {
        lines.push(format!(
            "mail queued by this account's scripts: {} ({})",
            plural(a.by_scripts, "message"),
            human_size(a.by_scripts_bytes)
        ));
    }
    if a.held > 0 {
        lines.push(format!("{} frozen or on hold", thousands(a.held)));
    }
    if let Some(age) = a.oldest_age {
        lines.push(format!("oldest {}", human_duration(age)));
    }
    lines.push(format!("delivery: {}", classes(a)));
    for r in &a.reasons {
        let why = if a.attributed {
            "charged"
        } else {
            "not charged"
        };
        lines.push(format!("{why}: {} ({})", r.reason, thousands(r.messages)));
    }
    if a.damaged > 0 {
        lines.push(format!(
            "{} with a damaged spool file",
            thousands(a.damaged)
        ));
    }
    for l in lines {
        for w in wrap(&printable(&l), 78, 2) {
            writeln!(out, "  {w}")?;
        }
    }
    Ok(())
}
