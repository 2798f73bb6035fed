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

    /// Urgency, as monitoring-plugins' `max_state_alt` orders states: CRITICAL > WARNING > UNKNOWN >
    /// OK. One order for everything: combining statuses, listing checks worst first, the exit status.
    /// A found problem outranks "could not decide"; an emergency is never hidden by either.
    pub fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Critical => 3,
        }
    }

    /// The status of a check that could not see everything it needs: UNKNOWN, unless what it did see
    /// is already CRITICAL (then the emergency stands). Never OK for what could not be read.
    pub fn when_blind(self, blind: bool) -> Status {
        if blind && self != Status::Critical {
            Status::Unknown
        } else {
            self
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
    fn statuses_combine_as_max_state_alt() {
        assert_eq!(Status::worst_of([Ok, Warning, Unknown, Critical]), Critical);
        // max_state_alt: a WARNING found outranks an UNKNOWN elsewhere.
        assert_eq!(Status::worst_of([Ok, Unknown, Warning]), Warning);
        assert_eq!(Status::worst_of([Unknown, Ok]), Unknown);
        assert_eq!(Status::worst_of([]), Ok);
        let mut v = vec![Unknown, Ok, Critical, Warning];
        v.sort_by_key(|s| std::cmp::Reverse(s.rank()));
        assert_eq!(v, vec![Critical, Warning, Unknown, Ok]);
    }

    #[test]
    fn blind_is_unknown_unless_already_critical() {
        assert_eq!(Ok.when_blind(true), Unknown);
        assert_eq!(Warning.when_blind(true), Unknown);
        assert_eq!(Critical.when_blind(true), Critical);
        assert_eq!(Warning.when_blind(false), Warning);
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
