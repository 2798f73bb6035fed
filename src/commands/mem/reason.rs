//! What `mem verdict` found: the shared `Finding` with mem's reason codes, and the short form of its
//! figure that the headline quotes. The JSON keeps its fields (code, status, value, threshold,
//! short, text) through a serialising view.

use super::thresholds::LeakThresholds;
use crate::finding::Finding;
use crate::status::Status;
use serde::{Serialize, Serializer};

/// Why the verdict is not OK; the snake_case name is the JSON `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    Available,
    SwapOut,
    PsiFull,
    SwapUsed,
    SlabUnreclaimable,
    Commit,
    /// OOM kills during the interval.
    OomKill,
    /// A leak suspect whose forecast is under `--leak-warn`/`--leak-crit`.
    Leak,
    /// OOM kills since the last sample recorded in the history.
    OomKillSinceRecord,
}

impl Code {
    /// A signal of thrashing: the verdict shows who swaps.
    pub fn thrashing(self) -> bool {
        matches!(self, Code::SwapOut | Code::PsiFull | Code::SwapUsed)
    }
}

/// One signal that is not OK: the finding (figure, threshold, sentence) and the figure alone for the
/// headline (`available memory 1.6% of RAM`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub finding: Finding<Code>,
    pub short: String,
}

impl Reason {
    pub fn code(&self) -> Code {
        self.finding.code
    }

    pub fn status(&self) -> Status {
        self.finding.severity
    }

    pub fn text(&self) -> &str {
        &self.finding.text
    }

    /// The threshold as the administrator gave it: the range's text, a leak's limit as a duration.
    pub fn threshold_text(&self) -> String {
        match (&self.finding.threshold, self.finding.code) {
            (Some(r), Code::Leak) => LeakThresholds::duration_text(r),
            (Some(r), _) => r.to_string(),
            (None, _) => String::new(),
        }
    }
}

#[derive(Serialize)]
struct View<'a> {
    code: Code,
    status: Status,
    value: f64,
    threshold: String,
    short: &'a str,
    text: &'a str,
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        View {
            code: self.finding.code,
            status: self.finding.severity,
            value: self.finding.figure.unwrap_or(0.0),
            threshold: self.threshold_text(),
            short: &self.short,
            text: &self.finding.text,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_keeps_its_fields_and_a_leak_limit_reads_as_a_duration() {
        let r = Reason {
            finding: Finding::figure(
                Code::Leak,
                Status::Critical,
                100.0,
                LeakThresholds::new(86_400, 14_400).critical,
                "x leaks",
            ),
            short: "x".into(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"code":"leak","status":"CRITICAL","value":100.0,"threshold":"4h","short":"x","text":"x leaks"}"#
        );
        let r = Reason {
            finding: Finding::figure(
                Code::SlabUnreclaimable,
                Status::Warning,
                12.5,
                "10".parse().unwrap(),
                "slab",
            ),
            short: "s".into(),
        };
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(
            (j["code"].as_str(), j["threshold"].as_str()),
            (Some("slab_unreclaimable"), Some("10"))
        );
    }
}
