//! Monitoring-plugins output: `LABEL STATUS - summary | perfdata`, long output lines after it, and the
//! Nagios threshold range syntax (`10`, `10:`, `~:10`, `10:20`, `@10:20`).

use crate::status::Status;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

/// A Nagios threshold range. A value outside it (or inside it, with `@`) raises the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    start: f64,
    end: f64,
    inside: bool,
    text: String,
}

impl Range {
    /// The lower bound (`-inf` for `~:`): the limit a "below" range names.
    pub fn start(&self) -> f64 {
        self.start
    }

    /// True when `value` should raise this threshold's alert.
    pub fn alerts(&self, value: f64) -> bool {
        let within = value >= self.start && value <= self.end;
        if self.inside {
            within
        } else {
            !within
        }
    }
}

impl Range {
    /// The alert condition in words, for a reason line: `below 10`, `above 40`, `outside 10..20`.
    pub fn describe(&self) -> String {
        let n = |v: f64| number(v);
        match (self.inside, self.start.is_finite(), self.end.is_finite()) {
            (false, true, false) => format!("below {}", n(self.start)),
            (false, false, true) => format!("above {}", n(self.end)),
            (false, true, true) if self.start == 0.0 => format!("above {}", n(self.end)),
            (false, true, true) => format!("outside {}..{}", n(self.start), n(self.end)),
            (false, false, false) => "never".into(),
            (true, _, _) => format!("within {}..{}", n(self.start), n(self.end)),
        }
    }
}

impl FromStr for Range {
    type Err = String;

    fn from_str(s: &str) -> Result<Range, String> {
        let bad = || {
            format!("invalid threshold range '{s}' (Nagios syntax: 10, 10:, ~:10, 10:20, @10:20)")
        };
        let (inside, body) = match s.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let num = |t: &str| -> Result<f64, String> {
            let v: f64 = t.parse().map_err(|_| bad())?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        let (start, end) = match body.split_once(':') {
            None => (0.0, num(body)?),
            Some((a, "")) => (
                if a == "~" { f64::NEG_INFINITY } else { num(a)? },
                f64::INFINITY,
            ),
            Some((a, b)) => (if a == "~" { f64::NEG_INFINITY } else { num(a)? }, num(b)?),
        };
        if body.is_empty() || start > end {
            return Err(bad());
        }
        Ok(Range {
            start,
            end,
            inside,
            text: s.to_string(),
        })
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Status of a value against warning and critical ranges.
pub fn judge(value: f64, warning: &Range, critical: &Range) -> Status {
    if critical.alerts(value) {
        Status::Critical
    } else if warning.alerts(value) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// One performance-data item: `'label'=value[UOM];[warn];[crit];[min];[max]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    pub label: String,
    pub value: f64,
    /// One of "", "s", "%", "B", "c" (the units the guidelines allow, with KB/MB/... never used: bytes are exact).
    pub uom: &'static str,
    pub warn: Option<String>,
    pub crit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Perf {
    pub fn new(label: impl Into<String>, value: f64, uom: &'static str) -> Perf {
        Perf {
            label: label.into(),
            value,
            uom,
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    pub fn thresholds(mut self, warn: &Range, crit: &Range) -> Perf {
        self.warn = Some(warn.to_string());
        self.crit = Some(crit.to_string());
        self
    }

    pub fn min(mut self, min: f64) -> Perf {
        self.min = Some(min);
        self
    }

    pub fn max(mut self, max: f64) -> Perf {
        self.max = Some(max);
        self
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl fmt::Display for Perf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Labels are always quoted; a quote inside is doubled, '=' and '|' cannot appear in a label,
        // and a name from outside (a queue's) is escaped like any other: no newline, no control.
        let label: String = super::sanitize::printable(&self.label)
            .replace('\'', "''")
            .replace(['=', '|'], "_");
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let optn = |o: Option<f64>| o.map(number).unwrap_or_default();
        let s = format!(
            "'{label}'={}{};{};{};{};{}",
            number(self.value),
            self.uom,
            opt(&self.warn),
            opt(&self.crit),
            optn(self.min),
            optn(self.max)
        );
        f.write_str(s.trim_end_matches(';'))
    }
}

/// Writes the plugin output. The summary and each detail are made one line without `|` (see
/// `sanitize::nagios`), so no external string can end the status line or start fake perfdata.
pub fn write(
    out: &mut dyn Write,
    label: &str,
    status: Status,
    summary: &str,
    perf: &[Perf],
    details: &[String],
) -> io::Result<()> {
    let clean = super::sanitize::nagios;
    write!(out, "{label} {status} - {}", clean(summary))?;
    if !perf.is_empty() {
        let items: Vec<String> = perf.iter().map(|p| p.to_string()).collect();
        write!(out, " | {}", items.join(" "))?;
    }
    writeln!(out)?;
    for d in details {
        writeln!(out, "{}", clean(d))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Range {
        s.parse().unwrap()
    }

    #[test]
    fn range_semantics_follow_the_guidelines() {
        // "10": alert outside 0..10
        assert!(!r("10").alerts(0.0) && !r("10").alerts(10.0));
        assert!(r("10").alerts(11.0) && r("10").alerts(-1.0));
        // "10:": alert below 10
        assert!(r("10:").alerts(9.0) && !r("10:").alerts(1e9));
        // "~:10": alert above 10
        assert!(r("~:10").alerts(11.0) && !r("~:10").alerts(-1e9));
        // "10:20": alert outside
        assert!(r("10:20").alerts(9.0) && r("10:20").alerts(21.0) && !r("10:20").alerts(15.0));
        // "@10:20": alert inside
        assert!(r("@10:20").alerts(15.0) && !r("@10:20").alerts(21.0));
        // default zombies thresholds: any is a warning, 50 or more critical
        assert_eq!(judge(0.0, &r("0"), &r("49")), Status::Ok);
        assert_eq!(judge(1.0, &r("0"), &r("49")), Status::Warning);
        assert_eq!(judge(50.0, &r("0"), &r("49")), Status::Critical);
    }

    #[test]
    fn ranges_describe_their_alert() {
        assert_eq!(r("10:").describe(), "below 10");
        assert_eq!(r("~:10").describe(), "above 10");
        assert_eq!(r("40").describe(), "above 40");
        assert_eq!(r("0.5").describe(), "above 0.5");
        assert_eq!(r("10:20").describe(), "outside 10..20");
        assert_eq!(r("@10:20").describe(), "within 10..20");
    }

    #[test]
    fn bad_ranges_quote_the_value() {
        for bad in ["", "abc", "20:10", "@", "1:2:3", "nan", "inf:"] {
            let e = bad.parse::<Range>().unwrap_err();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn perfdata_syntax() {
        let p = Perf::new("zombies", 3.0, "")
            .thresholds(&r("0"), &r("49"))
            .min(0.0);
        assert_eq!(p.to_string(), "'zombies'=3;0;49;0");
        let p = Perf::new("it's", 0.25, "%");
        assert_eq!(p.to_string(), "'it''s'=0.25%");
        assert_eq!(
            Perf::new("q\n|x=\x1b", 1.0, "").to_string(),
            "'q\\n_x_\\x1b'=1"
        );
        let mut out = Vec::new();
        write(
            &mut out,
            "ZOMBIES",
            Status::Warning,
            "3 zombies | x\ny",
            &[p],
            &["detail".into()],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ZOMBIES WARNING - 3 zombies \\x7c x y | 'it''s'=0.25%\ndetail\n"
        );
    }
}
