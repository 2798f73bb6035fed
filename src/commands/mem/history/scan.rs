//! The history read as a stream, for `mem verdict`: one line at a time into the per-process
//! series the leak trend needs, never the whole file or all its samples in memory. The rules are
//! those of `file::parse`: the run judged is the host and boot of the last good line, lines of
//! other runs and lines earlier than the one before them are skipped and counted.

use super::file::Skipped;
use super::sample::{Host, Sample, VERSION};
use super::trend::SeriesSet;
use crate::error::{Error, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// What one run of the machine recorded.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Lines used, and the readings they stand for (a consolidated line stands for several).
    pub samples: usize,
    pub readings: u64,
    pub first: Option<f64>,
    /// The newest sample, its processes dropped.
    pub last: Option<Sample>,
    pub out_of_order: usize,
    pub series: SeriesSet,
}

/// The usable part of a history: the run of its last good line.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub path: PathBuf,
    pub run: Run,
    pub skipped: Skipped,
}

impl Summary {
    pub fn host(&self) -> Option<&Host> {
        self.run.last.as_ref().map(|s| &s.host)
    }

    /// Seconds from the first to the last sample used.
    pub fn span(&self) -> f64 {
        match (self.run.first, self.run.last.as_ref()) {
            (Some(a), Some(b)) => b.t - a,
            _ => 0.0,
        }
    }
}

/// Streams the history at `path`; `Ok(None)` when it does not exist.
pub fn summarize(path: &Path) -> Result<Option<Summary>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut r = std::io::BufReader::with_capacity(64 << 10, f);
    summarize_reader(path, &mut r)
        .map(Some)
        .map_err(|e| Error::io(path, e))
}

pub fn summarize_reader(path: &Path, r: &mut dyn BufRead) -> std::io::Result<Summary> {
    let mut malformed = 0;
    let mut runs: Vec<(Host, Run)> = Vec::new();
    let mut current: Option<usize> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut s = match serde_json::from_slice::<Sample>(&line) {
            Ok(s) if s.v == VERSION && s.t.is_finite() => s,
            _ => {
                malformed += 1;
                continue;
            }
        };
        s.expand();
        let i = match current.filter(|&i| runs[i].0.same_run(&s.host)) {
            Some(i) => i,
            None => match runs.iter().position(|(h, _)| h.same_run(&s.host)) {
                Some(i) => i,
                None => {
                    runs.push((s.host.clone(), Run::default()));
                    runs.len() - 1
                }
            },
        };
        current = Some(i);
        let run = &mut runs[i].1;
        if run.last.as_ref().is_some_and(|p| s.t < p.t) {
            run.out_of_order += 1;
            continue;
        }
        run.series.add_sample(&s);
        run.samples += 1;
        run.readings += u64::from(s.n.unwrap_or(1).max(1));
        run.first.get_or_insert(s.t);
        s.procs.clear();
        run.last = Some(s);
    }
    let mut skipped = Skipped {
        malformed,
        ..Skipped::default()
    };
    let mut chosen = Run::default();
    for (i, (_, run)) in runs.into_iter().enumerate() {
        if Some(i) == current {
            skipped.out_of_order = run.out_of_order;
            chosen = run;
        } else {
            skipped.other_run += run.samples + run.out_of_order;
        }
    }
    Ok(Summary {
        path: path.to_path_buf(),
        run: chosen,
        skipped,
    })
}
