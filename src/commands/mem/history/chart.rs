//! The charts of `mem report`: which series to draw (from the history, pure) and how to draw one in
//! the terminal, within 80 columns, with block characters in eighths of a row.

use super::sample::Sample;
use crate::render::text::{printable, truncate};
use crate::units::{human_size, utc_stamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// A process is charted when its resident size went above this share of RAM.
pub const CHART_PCT: f64 = 10.0;

const ROWS: usize = 6;
/// Plot columns: with the 12-column axis label, 78 columns in all.
const COLS: usize = 66;
const BLOCKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One series over time: Unix seconds and bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub title: String,
    pub points: Vec<(f64, u64)>,
    /// The top of the scale when the series has a natural one (RAM, swap), so that a full chart
    /// means full memory; else the series' own maximum.
    pub ceiling: Option<u64>,
}

impl Chart {
    pub fn top(&self) -> u64 {
        let max = self.points.iter().map(|p| p.1).max().unwrap_or(0);
        self.ceiling.map_or(max, |c| c.max(max))
    }
}

/// The system charts, then RSS and VSIZE for each process that went above 10% of RAM.
pub fn charts(samples: &[Sample]) -> Vec<Chart> {
    let last = samples.last().map(|s| s.mem);
    let sys = |title: &str, ceiling: Option<u64>, f: &dyn Fn(&Sample) -> u64| Chart {
        title: title.to_string(),
        points: samples.iter().map(|s| (s.t, f(s))).collect(),
        ceiling,
    };
    let ram = last.map(|m| m.total);
    let mut out = vec![
        sys("memory used (total - available) of RAM", ram, &|s| {
            s.mem.used
        }),
        sys("used minus buffers/cache (programs) of RAM", ram, &|s| {
            s.mem.application()
        }),
        sys("swap used of swap", last.map(|m| m.swap_total), &|s| {
            s.mem.swap_used
        }),
    ];
    // (pid, start) -> (comm, [(t, rss, vsize)]), in order of first appearance by pid.
    type Series<'a> = (&'a str, Vec<(f64, u64, u64)>);
    let mut procs: BTreeMap<(i32, u64), Series> = BTreeMap::new();
    for s in samples {
        for p in &s.procs {
            procs
                .entry((p.pid, p.start))
                .or_insert_with(|| (&p.comm, Vec::new()))
                .1
                .push((s.t, p.rss, p.vsize));
        }
    }
    let total = samples.last().map_or(0, |s| s.mem.total);
    for ((pid, _), (comm, pts)) in procs {
        let big = total > 0
            && pts
                .iter()
                .any(|&(_, rss, _)| rss as f64 * 100.0 / total as f64 > CHART_PCT);
        if !big {
            continue;
        }
        let name = printable(comm);
        out.push(Chart {
            title: format!("RSS of {name} (pid {pid})"),
            points: pts.iter().map(|&(t, rss, _)| (t, rss)).collect(),
            ceiling: None,
        });
        out.push(Chart {
            title: format!("VSIZE of {name} (pid {pid})"),
            points: pts.iter().map(|&(t, _, vsize)| (t, vsize)).collect(),
            ceiling: None,
        });
    }
    out
}

/// `2026-11-22 02:45:07` in UTC.
pub fn clock(t: f64) -> String {
    let s = utc_stamp(t.max(0.0) as u64);
    let (d, h) = s.split_at(8);
    let h = h.trim_start_matches('-');
    format!(
        "{}-{}-{} {}:{}:{}",
        &d[..4],
        &d[4..6],
        &d[6..],
        &h[..2],
        &h[2..4],
        &h[4..]
    )
}

/// The value shown in each plot column: the last sample at or before the column's time (a step
/// line), `None` before the first sample.
fn columns(points: &[(f64, u64)], cols: usize) -> Vec<Option<u64>> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return vec![None; cols];
    };
    let span = (last.0 - first.0).max(0.0);
    let mut out = vec![None; cols];
    let mut i = 0;
    for (c, slot) in out.iter_mut().enumerate() {
        let t = if cols <= 1 || span == 0.0 {
            last.0
        } else {
            first.0 + span * c as f64 / (cols - 1) as f64
        };
        while i + 1 < points.len() && points[i + 1].0 <= t {
            i += 1;
        }
        if points[i].0 <= t {
            *slot = Some(points[i].1);
        }
    }
    out
}

/// One chart as text lines, none wider than 80 columns.
pub fn draw(chart: &Chart) -> Vec<String> {
    let mut lines = vec![truncate(&chart.title, 80)];
    let Some(&(t0, _)) = chart.points.first() else {
        lines.push("  (no samples)".into());
        return lines;
    };
    let t1 = chart.points.last().map_or(t0, |p| p.0);
    let max = chart.top();
    let cols = columns(&chart.points, COLS);
    let eighths: Vec<usize> = cols
        .iter()
        .map(|v| match (v, max) {
            (Some(v), m) if m > 0 => ((*v as f64 / m as f64) * (ROWS * 8) as f64).round() as usize,
            _ => 0,
        })
        .collect();
    for row in 0..ROWS {
        let label = match row {
            0 => human_size(max),
            r if r == ROWS - 1 => "0".into(),
            _ => String::new(),
        };
        let bottom = (ROWS - 1 - row) * 8;
        let plot: String = eighths
            .iter()
            .map(|&h| BLOCKS[h.saturating_sub(bottom).min(8)])
            .collect();
        lines.push(format!("{label:>10} │{}", plot.trim_end()));
    }
    lines.push(format!("{:>10} └{}", "", "─".repeat(COLS)));
    let (from, to) = (clock(t0), clock(t1));
    let gap = (COLS + 1).saturating_sub(from.len() + to.len());
    lines.push(format!("{:>11}{from}{}{to}", "", " ".repeat(gap)));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_line_fills_the_right_end() {
        let c = Chart {
            title: "x".into(),
            points: (0..10).map(|i| (1e9 + i as f64, i * 100)).collect(),
            ceiling: None,
        };
        let lines = draw(&c);
        assert_eq!(lines.len(), 1 + ROWS + 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
        assert!(lines[1].ends_with('█') && lines[1].contains("900 B"));
        assert!(lines.last().unwrap().contains("2001-09-09 01:46:40"));
        // Against a ceiling twice the maximum, the top half stays empty.
        let half = draw(&Chart {
            ceiling: Some(1800),
            ..c
        });
        assert!(half[1].contains("1.8 KiB") && half[1].trim_end().ends_with('│'));
        assert!(half[4].ends_with('█'));
    }

    #[test]
    fn empty_and_single_sample_charts_do_not_panic() {
        let mut c = Chart {
            title: "y".repeat(200),
            points: vec![],
            ceiling: Some(0),
        };
        assert_eq!(draw(&c).len(), 2);
        c.points = vec![(5.0, 0)];
        assert!(draw(&c).iter().all(|l| l.chars().count() <= 80));
        c.points = vec![(5.0, u64::MAX)];
        assert!(draw(&c).iter().all(|l| l.chars().count() <= 80));
    }
}
