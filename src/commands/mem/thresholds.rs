//! Every limit `mem verdict` judges against, held as parsed Nagios ranges only (each shown and
//! serialised as the text it was given in): the ranges of the command line as clap parsed them (no
//! copy), the classic 75% rule on application memory, and the leak forecast limits.

use crate::cli::{MemThresholds, MemVerdictArgs};
use crate::render::nagios::{self, Range};
use crate::status::Status;
use crate::units::human_duration;

/// The classic rule: application memory above this share of non-free memory is "a leak or too
/// little RAM". Stated on the figures line, not raised as a reason (cache is not counted twice).
const APPLICATION: &str = "75";

#[derive(Debug, Clone)]
pub struct Thresholds {
    /// `-w`/`-c` and the other per-figure ranges, exactly as parsed from the command line.
    pub ranges: MemThresholds,
    /// Percent of non-free memory held by programs (the 75% rule).
    pub application: Range,
    pub leak: LeakThresholds,
}

/// Forecast seconds until available memory runs out: a leak alerts below these (`N:` ranges).
#[derive(Debug, Clone, PartialEq)]
pub struct LeakThresholds {
    pub warning: Range,
    pub critical: Range,
}

/// A range that alerts below `secs` (`secs:`).
fn below(secs: u64) -> Range {
    format!("{secs}:")
        .parse()
        .expect("a number and a colon is a range")
}

impl LeakThresholds {
    /// From `--leak-warn` and `--leak-crit`, in seconds.
    pub fn new(warn: u64, crit: u64) -> LeakThresholds {
        LeakThresholds {
            warning: below(warn),
            critical: below(crit),
        }
    }

    /// A limit as an administrator gave it: `4h`, `1d`.
    pub fn duration_text(r: &Range) -> String {
        human_duration(r.start().max(0.0) as u64)
    }
}

impl Thresholds {
    pub fn from_args(args: &MemVerdictArgs) -> Thresholds {
        Thresholds {
            ranges: args.thresholds.clone(),
            application: APPLICATION.parse().expect("valid range"),
            leak: LeakThresholds::new(args.leak_warn.secs(), args.leak_crit.secs()),
        }
    }

    /// True when application memory is over the classic rule's share of non-free memory.
    pub fn application_over(&self, percent: f64) -> bool {
        self.application.alerts(percent)
    }
}

/// The status of a figure against its warning and (optional) critical range, with the range that
/// raised it; None when neither alerts.
pub fn judge<'a>(
    value: f64,
    warning: &'a Range,
    critical: Option<&'a Range>,
) -> Option<(Status, &'a Range)> {
    let never: Range = "~:".parse().expect("valid range");
    match nagios::judge(value, warning, critical.unwrap_or(&never)) {
        Status::Critical => critical.map(|c| (Status::Critical, c)),
        Status::Warning => Some((Status::Warning, warning)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_limits_alert_below_and_read_as_durations() {
        let t = LeakThresholds::new(86_400, 14_400);
        assert_eq!(
            judge(100.0, &t.warning, Some(&t.critical)).unwrap().0,
            Status::Critical
        );
        let (s, r) = judge(20_000.0, &t.warning, Some(&t.critical)).unwrap();
        assert_eq!(
            (s, LeakThresholds::duration_text(r)),
            (Status::Warning, "1d".into())
        );
        assert!(judge(90_000.0, &t.warning, Some(&t.critical)).is_none());
        assert_eq!(t.critical.to_string(), "14400:");
    }

    #[test]
    fn the_75_percent_rule_is_a_threshold() {
        let args = crate::commands::mem::tests::default_args();
        let t = Thresholds::from_args(&args);
        assert!(!t.application_over(75.0));
        assert!(t.application_over(75.5));
        assert_eq!(t.application.to_string(), "75");
    }
}
