//! The fix report: per site, every step with its outcome, in text, JSON, Nagios and Prometheus.

use super::plan::{Outcome, Step};
use crate::readers::sites::Site;
use crate::render::text::printable;
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Clone, Serialize)]
pub struct SiteFix {
    pub site: String,
    pub domain: Option<String>,
    pub admin: Option<String>,
    pub declined: bool,
    pub steps: Vec<Step>,
    #[serde(skip)]
    label: String,
}

impl SiteFix {
    pub fn new(site: &Site, steps: Vec<Step>) -> SiteFix {
        SiteFix {
            site: site.name.clone(),
            domain: site.domains.first().cloned(),
            admin: site.admin.clone(),
            declined: false,
            steps,
            label: site.label(),
        }
    }

    pub fn refused(site: &Site, steps: Vec<Step>) -> SiteFix {
        SiteFix::new(site, steps)
    }

    pub fn declined(site: &Site, steps: Vec<Step>) -> SiteFix {
        SiteFix {
            declined: true,
            ..SiteFix::new(site, steps)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub status: Status,
    pub dry_run: bool,
    pub undo: bool,
    pub sites: Vec<SiteFix>,
}

impl FixReport {
    /// 0 all done or nothing to do, 1 some steps refused or declined, 2 a step failed.
    pub fn new(sites: Vec<SiteFix>, dry_run: bool, undo: bool) -> FixReport {
        let status = Status::worst_of(sites.iter().flat_map(|s| {
            s.steps.iter().map(move |st| match st.outcome {
                Outcome::Failed => Status::Critical,
                Outcome::Refused => Status::Warning,
                Outcome::WouldChange if s.declined => Status::Warning,
                _ => Status::Ok,
            })
        }));
        FixReport {
            status,
            dry_run,
            undo,
            sites,
        }
    }

    fn count(&self, o: Outcome) -> usize {
        self.sites
            .iter()
            .flat_map(|s| &s.steps)
            .filter(|s| s.outcome == o)
            .count()
    }
}

/// The step an undo reports for a site with no recorded fix.
pub const NOTHING_TO_UNDO: &str = "nothing to undo";

/// Section titles; steps 3 and 4 (backup, then edit, per file) share one section.
const STEP_NAMES: [&str; 6] = [
    "undo",
    "queue directory",
    "smrsh and aliases",
    "backups and DefaultUser",
    "",
    "queued files",
];

fn write_steps(out: &mut dyn Write, steps: &[Step], style: &Style) -> io::Result<()> {
    for s in steps {
        let word = format!("{:<12}", s.outcome.word());
        let word = match s.outcome {
            Outcome::Failed | Outcome::Refused => style.bold(&word),
            _ => word,
        };
        let what = if s.change.is_empty() {
            String::new()
        } else {
            format!("  {}", s.change)
        };
        writeln!(out, "  {word} {}{what}", printable(&s.path))?;
        if !s.note.is_empty() {
            writeln!(out, "  {:12}   {}", "", style.dim(&printable(&s.note)))?;
        }
    }
    Ok(())
}

/// The plan for one site, on stderr before asking (stdout stays the report).
pub fn print_plan(label: &str, steps: &[Step], style: &Style) {
    let mut err = io::stderr();
    let _ = writeln!(err, "Plan for {label}:");
    let pending: Vec<Step> = steps
        .iter()
        .filter(|s| s.outcome != Outcome::Ok)
        .cloned()
        .collect();
    let _ = write_steps(&mut err, &pending, style);
}

impl Report for FixReport {
    fn check_name(&self) -> &'static str {
        "mqueue_fix"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        let verb = if self.undo { "undo" } else { "fix" };
        let nothing = |s: &SiteFix| s.steps.iter().all(|st| st.change == NOTHING_TO_UNDO);
        if self.undo && self.sites.iter().all(nothing) {
            return format!("undo of {} site(s): nothing to undo", self.sites.len());
        }
        format!(
            "{verb} of {} site(s): {} changed, {} would change, {} ok, {} refused, {} failed",
            self.sites.len(),
            self.count(Outcome::Changed),
            self.count(Outcome::WouldChange),
            self.count(Outcome::Ok),
            self.count(Outcome::Refused),
            self.count(Outcome::Failed)
        )
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "{} {}",
            style.status(self.status),
            style.bold(&self.summary())
        )?;
        if self.dry_run {
            writeln!(out, "dry run: nothing was changed")?;
        }
        for site in &self.sites {
            writeln!(out)?;
            writeln!(
                out,
                "{}{}",
                style.bold(&site.label),
                if site.declined { "  (declined)" } else { "" }
            )?;
            let mut current = usize::MAX;
            for s in &site.steps {
                let n = if s.step == 4 { 3 } else { s.step as usize };
                if n != current && n < STEP_NAMES.len() {
                    let number = if n == 3 {
                        "3-4".to_string()
                    } else {
                        n.to_string()
                    };
                    writeln!(out, " {number}. {}", STEP_NAMES[n])?;
                    current = n;
                }
                write_steps(out, std::slice::from_ref(s), style)?;
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        [
            Outcome::Changed,
            Outcome::WouldChange,
            Outcome::Ok,
            Outcome::Refused,
            Outcome::Failed,
        ]
        .into_iter()
        .map(|o| Perf::new(o.word().replace(' ', "_"), self.count(o) as f64, "").min(0.0))
        .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        let mut f = Family::gauge(
            "toolkit_mqueue_fix_steps",
            "Steps of the last mqueue fix, by site and outcome.",
        );
        for site in &self.sites {
            for o in [
                Outcome::Changed,
                Outcome::WouldChange,
                Outcome::Ok,
                Outcome::Refused,
                Outcome::Failed,
            ] {
                let n = site.steps.iter().filter(|s| s.outcome == o).count();
                f.push(
                    vec![
                        ("site", site.site.clone()),
                        ("outcome", o.word().replace(' ', "_")),
                    ],
                    n as f64,
                );
            }
        }
        vec![f]
    }
}
