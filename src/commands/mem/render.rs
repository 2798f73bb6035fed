//! The `mem verdict` report in text, Nagios and Prometheus terms (JSON is its serde form).
//! Text fits 80 columns except the fence commands, which are printed whole to be copied.

use super::figures as fig;
use super::judge::AvailableSource;
use super::report::MemReport;
use crate::render::text::{printable, truncate, wrap};
use crate::render::{Family, Perf, Report, Style};
use crate::status::Status;
use crate::units::{human_size, thousands};
use std::io::{self, Write};

fn signed(v: i64) -> String {
    match v {
        0 => "0".into(),
        v if v > 0 => format!("+{}", human_size(v as u64)),
        v => format!("-{}", human_size(v.unsigned_abs())),
    }
}

fn rate(v: Option<f64>) -> String {
    v.map(|v| format!("{}/s", thousands(v.round() as u64)))
        .unwrap_or_else(|| "n/a".into())
}

impl MemReport {
    /// The figures of `free`, the 75% rule, and swap.
    fn text_figures(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let f = &self.memory;
        let h = human_size;
        writeln!(out)?;
        writeln!(
            out,
            "{}   {} {}  {} {}  {} {}  buff/cache {}",
            style.bold("Memory"),
            fig::TOTAL.label,
            h(f.total),
            fig::USED.label,
            h(f.used),
            fig::FREE.label,
            h(f.free),
            h(f.buffers + f.cache)
        )?;
        writeln!(
            out,
            "         available {} ({:.1}%)  shared {}",
            h(f.available),
            f.available_percent,
            h(f.shared)
        )?;
        if f.available_source != AvailableSource::MemAvailable {
            writeln!(
                out,
                "         {}",
                style.dim(&format!(
                    "available taken from {}",
                    f.available_source.word()
                ))
            )?;
        }
        // The classic rule, judged on its threshold: shown on the figures line, not a reason.
        let rule = match self.thresholds.as_ref() {
            Some(t) if t.application_over(f.application_percent) => {
                format!(" (over {}%: a leak or too little RAM)", t.application)
            }
            _ => String::new(),
        };
        for l in wrap(
            &format!(
                "programs {} = {:.0}% of non-free memory{rule}",
                h(f.application),
                f.application_percent
            ),
            71,
            2,
        ) {
            writeln!(out, "         {l}")?;
        }
        match f.swap_used_percent {
            Some(p) => writeln!(
                out,
                "{}     total {}  used {} ({p:.0}%)",
                style.bold("Swap"),
                h(f.swap_total),
                h(f.swap_used)
            )?,
            None => writeln!(out, "{}     none configured", style.bold("Swap"))?,
        }
        self.text_activity(out, style)
    }

    /// Swap and page activity, pressure, kernel memory, overcommit and OOM kills.
    fn text_activity(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let f = &self.memory;
        let h = human_size;
        if let Some(r) = &self.rates {
            writeln!(
                out,
                "{} {} {}  {} {}  {} {}  {} {}",
                style.bold("Activity"),
                fig::SWAP_IN.label,
                rate(r.swap_in),
                fig::SWAP_OUT.label,
                rate(r.swap_out),
                fig::PAGES_SCANNED.label,
                rate(r.pages_scanned),
                fig::MAJOR_FAULTS.label,
                rate(r.major_faults)
            )?;
            writeln!(
                out,
                "         {}",
                style.dim(&format!(
                    "pages per second over {:.1}s; major faults per second",
                    r.seconds
                ))
            )?;
        }
        if let Some(p) = &self.psi {
            let full = |v: Option<f64>| {
                v.map(|v| format!("{v:.1}%"))
                    .unwrap_or_else(|| "n/a".into())
            };
            writeln!(
                out,
                "{} some {:.1}% / {:.1}%  full {} / {}  (avg10 / avg60)",
                style.bold("Pressure"),
                p.some_avg10,
                p.some_avg60,
                full(p.full_avg10),
                full(p.full_avg60)
            )?;
        }
        writeln!(
            out,
            "{}   slab {}, unreclaimable {} ({:.1}% of RAM)",
            style.bold("Kernel"),
            h(f.slab),
            h(f.slab_unreclaimable),
            f.unreclaimable_percent
        )?;
        if let (Some(c), Some(l), Some(p)) = (f.committed, f.commit_limit, f.commit_percent) {
            writeln!(
                out,
                "         committed {} of {} limit ({p:.0}%)",
                h(c),
                h(l)
            )?;
        }
        if let Some(n) = self.oom_kills_since_boot {
            writeln!(out, "         OOM kills since boot: {}", thousands(n))?;
        }
        Ok(())
    }

    fn text_top(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Top consumers (of {} processes)",
                thousands(self.processes as u64)
            ))
        )?;
        writeln!(
            out,
            "{:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>4} {:>9}  COMMAND",
            "PID", "RSS", "ANON", "SWAP", "VSZ", "PEAK", "%RAM", "GROWTH"
        )?;
        for c in &self.top {
            let p = &c.proc;
            writeln!(
                out,
                "{:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>4} {:>9}  {}",
                p.pid,
                human_size(p.rss),
                p.anon.map(human_size).unwrap_or_else(|| "-".into()),
                human_size(p.swap),
                human_size(p.vsize),
                human_size(p.peak),
                format!("{:.0}%", c.ram_percent),
                c.growth.map(signed).unwrap_or_else(|| "-".into()),
                truncate(&printable(&p.comm), 11)
            )?;
        }
        Ok(())
    }

    fn text_groups(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.groups.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Top consumers by group"))?;
        writeln!(
            out,
            "  {:<7} {:<27} {:>5} {:>8} {:>8} {:>8} {:>4}",
            "BY", "GROUP", "COUNT", "RSS", "ANON", "SWAP", "%RAM"
        )?;
        for g in &self.groups {
            writeln!(
                out,
                "  {:<7} {:<27} {:>5} {:>8} {:>8} {:>8} {:>4}",
                g.by,
                truncate(&printable(&g.name), 27),
                thousands(g.count as u64),
                human_size(g.rss),
                human_size(g.anon),
                human_size(g.swap),
                format!("{:.0}%", g.ram_percent)
            )?;
        }
        Ok(())
    }

    fn text_remedy(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if let Some(g) = &self.group_fence {
            writeln!(out)?;
            writeln!(out, "{}", style.bold("What to do for the group"))?;
            let what = format!(
                "{}: fence them in together, reclaiming above {} with a hard limit of {}:",
                g.note,
                human_size(g.memory_high),
                human_size(g.memory_max)
            );
            for l in wrap(&printable(&what), 78, 2) {
                writeln!(out, "  {l}")?;
            }
            writeln!(out, "    {}", style.bold(&printable(&g.command)))?;
            writeln!(out, "  to lift it again:")?;
            writeln!(out, "    {}", printable(&g.undo))?;
        }
        if let Some(f) = &self.fence {
            writeln!(out)?;
            writeln!(out, "{}", style.bold("What to do"))?;
            let what = format!(
                "{} (pid {}) holds {} resident and {} swapped out: fence it in, reclaiming from it above {} with a hard limit of {}:",
                printable(&f.comm),
                f.pid,
                human_size(f.rss),
                human_size(f.swap),
                human_size(f.memory_high),
                human_size(f.memory_max)
            );
            for l in wrap(&what, 78, 2) {
                writeln!(out, "  {l}")?;
            }
            for c in &f.commands {
                writeln!(out, "    {}", style.bold(&printable(c)))?;
            }
            for l in wrap(&printable(&f.note), 74, 0) {
                writeln!(out, "    {}", style.dim(&l))?;
            }
            writeln!(
                out,
                "  or let toolkit do it (plan, confirmation, undo): toolkit mem fence {}",
                f.pid
            )?;
            if !f.undo.is_empty() {
                writeln!(out, "  to lift it again:")?;
                for u in &f.undo {
                    writeln!(out, "    {}", printable(u))?;
                }
            }
            if let Some(n) = &f.next_run {
                writeln!(out, "  to start it again under the same limit:")?;
                writeln!(out, "    {}", style.bold(&printable(n)))?;
            }
        }
        if self.thrashing() && !self.swapping.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                style.bold("Thrashing: most swapped out, then most major faults")
            )?;
            writeln!(out, "{:>7} {:>8} {:>12}  COMMAND", "PID", "SWAP", "MAJFLT")?;
            for p in &self.swapping {
                writeln!(
                    out,
                    "{:>7} {:>8} {:>12}  {}",
                    p.pid,
                    human_size(p.swap),
                    thousands(p.major_faults),
                    truncate(&printable(&p.comm), 48)
                )?;
            }
        }
        if self.slab_leak() {
            writeln!(out)?;
            writeln!(out, "{}", style.bold("Largest slab caches"))?;
            for l in wrap("kernel memory: a leak is in a driver or module (the cache name hints which); only unloading it or a reboot frees it", 78, 0) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
            if let Some(e) = &self.slab_caches_unreadable {
                writeln!(
                    out,
                    "  slabinfo not readable ({e}): run as root, or see slabtop"
                )?;
            }
            for s in &self.slab_caches {
                writeln!(
                    out,
                    "  {:<30} {:>9} {:>12} objects of {} B",
                    truncate(&printable(&s.name), 30),
                    human_size(s.bytes),
                    thousands(s.objects),
                    s.object_size
                )?;
            }
        }
        Ok(())
    }
}

impl Report for MemReport {
    fn skipped(&self) -> Option<&crate::readers::skips::Skips> {
        Some(&self.skipped)
    }

    /// The verdict is judged on the system-wide counters (meminfo, vmstat, PSI), which every user
    /// can read: a process that could not be read narrows the top list and the leak suspects (said in
    /// the text and counted), it does not hide a memory problem.
    fn blind(&self) -> Option<String> {
        None
    }

    fn check_name(&self) -> &'static str {
        "mem"
    }

    fn status(&self) -> Status {
        self.status
    }

    fn summary(&self) -> String {
        self.headline.clone()
    }

    fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let word = self.status.word();
        for (i, l) in wrap(&format!("{word} {}", self.headline), 80, 2)
            .iter()
            .enumerate()
        {
            let l = if i == 0 {
                format!(
                    "{} {}",
                    style.status(self.status),
                    style.bold(l.strip_prefix(word).unwrap_or(l).trim_start())
                )
            } else {
                l.clone()
            };
            writeln!(out, "{l}")?;
        }
        for r in &self.reasons {
            let status = r.status();
            let lead = format!("  {:<9}", status.word());
            for (i, l) in wrap(r.text(), 69, 0).iter().enumerate() {
                let lead = if i == 0 {
                    lead.replace(status.word(), &style.status(status))
                } else {
                    " ".repeat(11)
                };
                writeln!(out, "{lead}{l}")?;
            }
        }
        for n in &self.not_judged {
            for l in wrap(&format!("not judged: {n}"), 78, 4) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        }
        self.text_figures(out, style)?;
        self.text_top(out, style)?;
        self.text_groups(out, style)?;
        if let Some(h) = &self.history {
            h.text(out, style)?;
        }
        self.text_remedy(out, style)?;
        if !self.skipped.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "Skipped: {} exited during the reading, {} could not be read",
                self.skipped.vanished, self.skipped.count
            )?;
            for p in &self.skipped.first {
                for l in wrap(&format!("{}: {}", printable(&p.path), p.reason), 76, 2) {
                    writeln!(out, "  {l}")?;
                }
            }
        }
        Ok(())
    }

    fn perfdata(&self) -> Vec<Perf> {
        super::figures::perfdata(self)
    }

    fn nagios_details(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.status(), r.text()))
            .collect();
        if let Some(g) = &self.group_fence {
            v.push(format!("fence group {}: {}", printable(&g.name), g.command));
        }
        if let Some(f) = &self.fence {
            v.extend(
                f.commands
                    .iter()
                    .map(|c| format!("fence {} (pid {}): {c}", printable(&f.comm), f.pid)),
            );
        }
        v
    }

    fn metrics(&self) -> Vec<Family> {
        super::metrics::families(self)
    }
}
