//! The four monitoring-plugins states and how they rank, shared by every command and format.

use serde::Serialize;

/// A check's outcome. The exit status of the process is its numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    #[default]
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// Urgency used to pick the worst of several statuses. CRITICAL outranks UNKNOWN so that a check
    /// that could not decide never hides one that found a real emergency.
    fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Unknown => 2,
            Status::Critical => 3,
        }
    }

    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    pub fn worst_of(items: impl IntoIterator<Item = Status>) -> Status {
        items.into_iter().fold(Status::Ok, Status::worst)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn critical_outranks_unknown_and_warning() {
        assert_eq!(Status::worst_of([Ok, Warning, Unknown, Critical]), Critical);
        assert_eq!(Status::worst_of([Ok, Unknown, Warning]), Unknown);
        assert_eq!(Status::worst_of([]), Ok);
    }

    #[test]
    fn exit_codes_follow_monitoring_plugins() {
        let codes: Vec<i32> = [Ok, Warning, Critical, Unknown]
            .iter()
            .map(|s| s.exit_code())
            .collect();
        assert_eq!(codes, vec![0, 1, 2, 3]);
    }
}
