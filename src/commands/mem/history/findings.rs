//! What the recorded history adds to `mem verdict` (pure): the leak suspects still running, the
//! forecast until available memory runs out, OOM kills since the last recorded sample, and the
//! reasons they raise against `--leak-warn`/`--leak-crit`.

use super::file::Skipped;
use super::sample::Host;
use super::scan::Summary;
use super::trend::{self, Criteria, Grew, Leak};
use crate::commands::mem::judge;
use crate::commands::mem::reason::{Code, Reason};
use crate::commands::mem::thresholds::{self, LeakThresholds};
use crate::finding::Finding;
use crate::readers::procmem::ProcMem;
use crate::render::text::{printable, truncate, wrap};
use crate::render::{Family, Style};
use crate::units::{human_duration, human_size};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Clone, Serialize)]
pub struct Findings {
    pub path: String,
    /// Samples of the current run of the machine that were used.
    pub samples: usize,
    /// The readings they stand for (more when older samples were consolidated).
    pub readings: u64,
    /// Seconds from the first to the last of them.
    pub span: f64,
    pub skipped: Skipped,
    /// Steadily growing processes that still run, fastest first.
    pub leaks: Vec<Leak>,
    /// Processes still running that grew steadily and then stopped (not leaks now).
    pub grew: Vec<Grew>,
    /// Seconds until available memory runs out at the leaks' combined rate.
    pub forecast: Option<f64>,
    /// OOM kills between the last recorded sample and now (same boot, kernel counting them).
    pub oom_kills_since_last_sample: Option<u64>,
    /// Why the history could not be judged, when it could not.
    pub note: Option<String>,
    /// The fastest leaker as read now, to fence in.
    #[serde(skip)]
    pub leaker: Option<ProcMem>,
}

fn rate(bytes_per_sec: f64) -> String {
    format!("{}/s", human_size(bytes_per_sec.max(0.0) as u64))
}

/// Judges a loaded history against what was read now. Samples from another host or boot say
/// nothing about the processes running now, and leakers that have exited leak no more.
pub fn judge(
    h: &Summary,
    now: &Host,
    available: u64,
    procs: &[ProcMem],
    oom_now: Option<u64>,
) -> Findings {
    let mut f = Findings {
        path: h.path.display().to_string(),
        samples: h.run.samples,
        readings: h.run.readings,
        span: h.span(),
        skipped: h.skipped.clone(),
        leaks: Vec::new(),
        grew: Vec::new(),
        forecast: None,
        oom_kills_since_last_sample: None,
        note: None,
        leaker: None,
    };
    let Some(last) = h.run.last.as_ref() else {
        f.note = Some("no usable samples".into());
        return f;
    };
    if !last.host.same_run(now) {
        f.note = Some(format!(
            "recorded on {} booted at {}, not this run of the machine: not judged",
            printable(&last.host.hostname),
            last.host.boot
        ));
        return f;
    }
    let running =
        |pid: i32, start: u64| procs.iter().find(|p| p.pid == pid && p.starttime == start);
    let t = h.run.series.judge(&Criteria::default());
    f.leaks = t
        .leaks
        .into_iter()
        .filter(|l| running(l.pid, l.start).is_some())
        .collect();
    f.grew = t
        .grew
        .into_iter()
        .filter(|g| running(g.pid, g.start).is_some())
        .collect();
    f.leaker = f
        .leaks
        .first()
        .and_then(|l| running(l.pid, l.start))
        .cloned();
    f.forecast = trend::forecast(available, &f.leaks);
    f.oom_kills_since_last_sample = match (last.oom_kills, oom_now) {
        (Some(then), Some(now)) => Some(now.saturating_sub(then)),
        _ => None,
    };
    f
}

/// The reasons the history raises: each leak with a forecast under the thresholds, and OOM kills
/// since the last recorded sample (a warning, as SPEC 6 has it).
pub fn reasons(f: &Findings, t: &LeakThresholds, available: u64) -> Vec<Reason> {
    let mut out = Vec::new();
    // As before the ranges: nothing under the warning limit is raised, whatever the critical one.
    let judged = f
        .forecast
        .filter(|&secs| t.warning.alerts(secs))
        .and_then(|secs| {
            Some((
                secs,
                thresholds::judge(secs, &t.warning, Some(&t.critical))?,
            ))
        });
    if let Some((secs, (status, limit))) = judged {
        let when = human_duration(secs as u64);
        let level = status.word().to_lowercase();
        let limit_text = LeakThresholds::duration_text(limit);
        let combined = if f.leaks.len() > 1 {
            format!(" at the {} suspects' combined rate", f.leaks.len())
        } else {
            String::new()
        };
        for l in &f.leaks {
            let text = format!(
                "{} (pid {}) grows {} steadily (95% confidence {} to {}, {} samples over \
                 {}): available memory ({}) runs out in {when}{combined}, {level} under {limit_text}",
                printable(&l.comm),
                l.pid,
                rate(l.rate),
                rate(l.rate_low),
                rate(l.rate_high),
                l.samples,
                human_duration(l.span as u64),
                human_size(available),
            );
            out.push(Reason {
                finding: Finding::figure(Code::Leak, status, secs, limit.clone(), text),
                short: format!(
                    "{} (pid {}) leaks {}, memory runs out in {when}",
                    printable(&l.comm),
                    l.pid,
                    rate(l.rate)
                ),
            });
        }
    }
    if let Some(n) = f.oom_kills_since_last_sample.filter(|&n| n > 0) {
        out.push(judge::oom_kill(
            Code::OomKillSinceRecord,
            n,
            format!("{n} OOM kill(s) since the last record"),
            format!(
                "{n} process(es) killed by the OOM killer since the last sample recorded in {}",
                f.path
            ),
        ));
    }
    out
}

/// Prometheus families for leak suspects (bounded: only suspects get a series).
pub fn leak_families(leaks: &[Leak], forecast: Option<f64>) -> Vec<Family> {
    let mut v = Vec::new();
    if !leaks.is_empty() {
        let mut rate = Family::gauge(
            "toolkit_mem_leak_rate_bytes_per_second",
            "Steady growth of a leak suspect's anonymous + swapped memory.",
        );
        for l in leaks {
            rate.push(
                vec![("pid", l.pid.to_string()), ("comm", l.comm.clone())],
                l.rate,
            );
        }
        v.push(rate);
    }
    if let Some(f) = forecast {
        let def = &crate::commands::mem::figures::LEAK_FORECAST;
        let name = def.metric_name().expect("the forecast is a metric");
        v.push(Family::gauge(&name, def.help).single(f));
    }
    v
}

impl Findings {
    /// The history section of the verdict's text.
    pub fn text(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "History: {} samples{} over {}",
                self.samples,
                if self.readings > self.samples as u64 {
                    format!(" ({} readings, the older consolidated)", self.readings)
                } else {
                    String::new()
                },
                human_duration(self.span.max(0.0) as u64)
            ))
        )?;
        let mut notes = Vec::new();
        notes.extend(self.note.clone());
        if self.skipped.total() > 0 {
            notes.push(format!(
                "skipped lines: {} malformed, {} from another host or boot, {} out of order",
                self.skipped.malformed, self.skipped.other_run, self.skipped.out_of_order
            ));
        }
        if self.note.is_none() && self.leaks.is_empty() {
            notes.push("no process grows steadily".into());
        }
        for g in &self.grew {
            notes.push(format!(
                "{} (pid {}) grew {} (to {}) until {} UTC, flat for {} since: not a leak now",
                printable(&g.comm),
                g.pid,
                human_size(g.grew),
                human_size(g.last),
                super::chart::clock(g.until),
                human_duration(g.flat_for.max(0.0) as u64)
            ));
        }
        for n in notes {
            for l in wrap(&n, 76, 2) {
                writeln!(out, "  {}", style.dim(&l))?;
            }
        }
        if self.leaks.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "{:>7} {:>11} {:>11} {:>7} {:>9} {:>9}  COMMAND",
            "PID", "RATE", "AT LEAST", "SAMPLES", "FIRST", "LAST"
        )?;
        for l in &self.leaks {
            writeln!(
                out,
                "{:>7} {:>11} {:>11} {:>7} {:>9} {:>9}  {}",
                l.pid,
                rate(l.rate),
                rate(l.rate_low),
                l.samples,
                human_size(l.first),
                human_size(l.last),
                truncate(&printable(&l.comm), 14)
            )?;
        }
        if let Some(s) = self.forecast {
            writeln!(
                out,
                "  available memory runs out in {} at this rate (anonymous + swapped memory)",
                human_duration(s as u64)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mem::history::sample::{Proc, Sample, System};
    use crate::commands::mem::history::scan::summarize_reader;
    use crate::status::Status;
    use std::path::Path;

    const MIB: u64 = 1 << 20;

    /// pid 9 grows 10 MiB/s for 10 samples; 1 GiB available now.
    fn history(hostname: &str, oom: u64) -> Summary {
        let text: String = (0..10u64)
            .map(|i| {
                let s = Sample {
                    v: 1,
                    t: 1000.0 + i as f64,
                    host: Host {
                        hostname: hostname.into(),
                        boot: 7,
                        boot_id: None,
                    },
                    mem: System {
                        total: 4096 * MIB,
                        used: 0,
                        free: 0,
                        buffers: 0,
                        cache: 0,
                        available: 1024 * MIB,
                        swap_total: 0,
                        swap_used: 0,
                    },
                    oom_kills: Some(oom),
                    n: None,
                    dt: None,
                    mem_lo: None,
                    mem_hi: None,
                    p: Vec::new(),
                    procs: vec![Proc {
                        pid: 9,
                        start: 50,
                        comm: "leaky".into(),
                        rss: 0,
                        anon: Some(100 * MIB + i * 10 * MIB),
                        vsize: 0,
                        swap: 0,
                        major_faults: 0,
                        floor: None,
                    }],
                };
                serde_json::to_string(&s).unwrap() + "\n"
            })
            .collect();
        summarize_reader(Path::new("h"), &mut text.as_bytes()).unwrap()
    }

    fn running(pid: i32, starttime: u64) -> ProcMem {
        ProcMem {
            pid,
            starttime,
            comm: "leaky".into(),
            rss: 200 * MIB,
            anon: Some(190 * MIB),
            vsize: 300 * MIB,
            peak: 200 * MIB,
            swap: 0,
            major_faults: 0,
            uid: None,
            cgroup: None,
        }
    }

    fn host(name: &str) -> Host {
        Host {
            hostname: name.into(),
            boot: 7,
            boot_id: None,
        }
    }

    #[test]
    fn forecast_against_thresholds() {
        let h = history("a", 3);
        let avail = 1024 * MIB;
        let f = judge(&h, &host("a"), avail, &[running(9, 50)], Some(5));
        assert_eq!(f.leaks.len(), 1);
        assert_eq!(f.leaker.as_ref().map(|p| p.pid), Some(9));
        assert!((f.forecast.unwrap() - 102.4).abs() < 0.01);
        assert_eq!(f.oom_kills_since_last_sample, Some(2));
        let t = LeakThresholds::new;
        let status = |t| {
            reasons(&f, &t, avail)
                .iter()
                .map(|r| (r.code(), r.status()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            status(t(86_400, 14_400)),
            [
                (Code::Leak, Status::Critical),
                (Code::OomKillSinceRecord, Status::Warning)
            ]
        );
        assert_eq!(status(t(200, 100))[0], (Code::Leak, Status::Warning));
        assert_eq!(status(t(100, 50))[0].0, Code::OomKillSinceRecord);
    }

    #[test]
    fn exited_leakers_and_other_runs_are_not_judged() {
        let h = history("a", 0);
        // Same pid, another start time: the leaker is gone, its pid reused.
        let f = judge(&h, &host("a"), MIB, &[running(9, 51)], Some(0));
        assert!(f.leaks.is_empty() && f.forecast.is_none() && f.leaker.is_none());
        let f = judge(&h, &host("b"), MIB, &[running(9, 50)], Some(0));
        assert!(f.leaks.is_empty());
        assert!(f.note.unwrap().contains("not this run"));
    }
}
