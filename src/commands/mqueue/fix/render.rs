//! The fix report: per site, every step with its outcome, in text, JSON, Nagios and Prometheus.

use super::plan::{shown, word, Step, SHOWN};
use crate::act::{status_of, Outcome};
use crate::readers::sites::Site;
use crate::render::text::{printable, width, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Clone, Serialize)]
pub struct SiteFix {
    pub site: String,
    pub domain: Option<String>,
    /// The host's Unix admin (adminN) the site is bound to.
    pub admin: Option<String>,
    /// siteinfo's admin_user: the site's own login, shown only.
    pub login: Option<String>,
    /// Where the admin was found.
    pub admin_sources: Vec<String>,
    /// What scan notes about the site (disagreeing sources and the like).
    pub notes: Vec<String>,
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
            login: site.login.clone(),
            admin_sources: site.admin_sources.clone(),
            notes: site.notes.clone(),
            declined: false,
            steps,
            label: site.label(),
        }
    }

    pub fn declined(site: &Site, steps: Vec<Step>) -> SiteFix {
        SiteFix {
            declined: true,
            ..SiteFix::new(site, steps)
        }
    }
}

/// A site `--all` did not fix, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    pub site: String,
    pub domain: Option<String>,
    pub reason: String,
    /// Could not tell whether the site has mail (a symlink, unreadable): a warning.
    pub unreadable: bool,
    #[serde(skip)]
    label: String,
}

impl LeftOut {
    pub fn new(site: &Site, reason: String, unreadable: bool) -> LeftOut {
        LeftOut {
            site: site.name.clone(),
            domain: site.domains.first().cloned(),
            reason,
            unreadable,
            label: site.label(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub status: Status,
    pub dry_run: bool,
    pub undo: bool,
    pub sites: Vec<SiteFix>,
    /// Sites `--all` left out.
    pub left_out: Vec<LeftOut>,
    /// `-q` and every step already right: the text report is empty (quiet from cron).
    #[serde(skip)]
    silent: bool,
}

impl FixReport {
    /// 0 all done or nothing to do, 1 some steps refused or declined, 2 a step failed.
    pub fn new(sites: Vec<SiteFix>, dry_run: bool, undo: bool) -> FixReport {
        let status = status_of(sites.iter().flat_map(|s| &s.steps).map(|st| st.outcome));
        FixReport {
            status,
            dry_run,
            undo,
            sites,
            left_out: Vec::new(),
            silent: false,
        }
    }

    /// Adds the sites `--all` left out; one whose local-host-names could not be read is a warning.
    pub fn with_left_out(mut self, left_out: Vec<LeftOut>) -> FixReport {
        if left_out.iter().any(|l| l.unreadable) {
            self.status = Status::worst_of([self.status, Status::Warning]);
        }
        self.left_out = left_out;
        self
    }

    /// With `quiet`, a run where every step was already right prints no text at all.
    pub fn quiet_when_all_ok(mut self, quiet: bool) -> FixReport {
        let all_ok = self
            .sites
            .iter()
            .flat_map(|s| &s.steps)
            .all(|s| s.outcome == Outcome::Ok);
        self.silent = quiet && all_ok && self.status == Status::Ok;
        self
    }

    fn count(&self, o: Outcome) -> usize {
        self.sites
            .iter()
            .flat_map(|s| &s.steps)
            .filter(|s| shown(s.outcome) == o)
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
        let word = format!("{:<12}", word(s.outcome));
        let word = match s.outcome {
            Outcome::Failed | Outcome::Refused => style.bold(&word),
            _ => word,
        };
        let path = printable(&s.path);
        let change = printable(&s.change);
        // 2 + 12 + 1 columns before the path; what changes follows it when both fit in 80
        // columns, else it goes under the path, wrapped, as the notes are.
        if change.is_empty() {
            writeln!(out, "  {word} {path}")?;
        } else if 15 + width(&path) + 2 + width(&change) <= 80 {
            writeln!(out, "  {word} {path}  {change}")?;
        } else {
            writeln!(out, "  {word} {path}")?;
            for l in wrap(&change, 80 - 17, 2) {
                writeln!(out, "{:17}{l}", "")?;
            }
        }
        if !s.note.is_empty() {
            for l in wrap(&s.note, 80 - 17, 2) {
                writeln!(out, "{:17}{}", "", style.dim(&l))?;
            }
        }
    }
    Ok(())
}

/// The plan for one site, on stderr before asking (stdout stays the report): the steps with
/// something to do, as the report shows them.
pub fn print_plan(label: &str, steps: &[Step], style: &Style) {
    let pending: Vec<Step> = steps
        .iter()
        .filter(|s| s.outcome != Outcome::Ok)
        .cloned()
        .collect();
    let mut buf = Vec::new();
    let _ = write_steps(&mut buf, &pending, style);
    let lines: Vec<String> = String::from_utf8_lossy(&buf)
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l).to_string())
        .collect();
    let title = format!("Plan for {label}:");
    let _ = crate::act::show_plan(&mut io::stderr(), &Style { color: false }, &title, &lines);
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
        let mut s = format!(
            "{verb} of {} site(s): {} changed, {} would change, {} ok, {} refused, {} failed",
            self.sites.len(),
            self.count(Outcome::Changed),
            self.count(Outcome::WouldChange),
            self.count(Outcome::Ok),
            self.count(Outcome::Refused),
            self.count(Outcome::Failed)
        );
        if !self.left_out.is_empty() {
            s.push_str(&format!("; {} left out", self.left_out.len()));
        }
        s
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.silent {
            return Ok(());
        }
        for l in crate::render::text::status_lines(style, self.status, &self.summary()) {
            writeln!(out, "{l}")?;
        }
        if self.dry_run {
            writeln!(out, "dry run: nothing was changed")?;
        }
        for site in &self.sites {
            writeln!(out)?;
            let label = format!(
                "{}{}",
                printable(&site.label),
                if site.declined { "  (declined)" } else { "" }
            );
            for l in wrap(&label, 80, 2) {
                writeln!(out, "{}", style.bold(&l))?;
            }
            if let Some(login) = &site.login {
                writeln!(
                    out,
                    "  site login {} (siteinfo admin_user)",
                    printable(login)
                )?;
            }
            for n in &site.notes {
                for l in wrap(&format!("note: {n}"), 78, 2) {
                    writeln!(out, "  {l}")?;
                }
            }
            let mut current = usize::MAX;
            for s in &site.steps {
                let n = if s.step == 4 { 3 } else { s.step as usize };
                if n != current && n < STEP_NAMES.len() {
                    match n {
                        // Undo entries, or what stopped the whole site (its journal).
                        0 if !self.undo => writeln!(out, " site")?,
                        3 => writeln!(out, " 3-4. {}", STEP_NAMES[n])?,
                        _ => writeln!(out, " {n}. {}", STEP_NAMES[n])?,
                    }
                    current = n;
                }
                write_steps(out, std::slice::from_ref(s), style)?;
            }
        }
        if !self.left_out.is_empty() {
            writeln!(out)?;
            writeln!(out, "Left out by --all:")?;
            for l in &self.left_out {
                for w in wrap(&format!("{}: {}", l.label, l.reason), 78, 2) {
                    writeln!(out, "  {w}")?;
                }
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        SHOWN
            .into_iter()
            .map(|o| Perf::new(word(o).replace(' ', "_"), self.count(o) as f64, "").min(0.0))
            .collect()
    }

    fn metrics(&self) -> Vec<Family> {
        let mut f = Family::gauge(
            "toolkit_mqueue_fix_steps",
            "Steps of the last mqueue fix, by site and outcome.",
        );
        for site in &self.sites {
            for o in SHOWN {
                let n = site.steps.iter().filter(|s| shown(s.outcome) == o).count();
                f.push(
                    vec![
                        ("site", site.site.clone()),
                        ("outcome", word(o).replace(' ', "_")),
                    ],
                    n as f64,
                );
            }
        }
        vec![f]
    }
}
