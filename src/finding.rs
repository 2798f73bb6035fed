//! One shape for what a judge found, shared by every command: what (a per-command code enum), how bad,
//! the figure it rests on, the threshold it crossed and the sentence shown. Commands keep their JSON
//! by serialising their own view of it; the judges and renderers all speak this one type.

use crate::render::nagios::Range;
use crate::status::Status;
use serde::Serializer;

#[derive(Debug, Clone, PartialEq)]
pub struct Finding<C> {
    pub code: C,
    pub severity: Status,
    /// The figure judged, in the unit of its threshold; None for a finding that is not a figure.
    pub figure: Option<f64>,
    /// The range that raised it, parsed once; shown and serialised as its text.
    pub threshold: Option<Range>,
    /// The whole sentence as shown.
    pub text: String,
}

impl<C> Finding<C> {
    /// A finding that rests on no threshold (a diagnosis, a refusal reason).
    pub fn plain(code: C, severity: Status, text: impl Into<String>) -> Finding<C> {
        Finding {
            code,
            severity,
            figure: None,
            threshold: None,
            text: text.into(),
        }
    }

    /// A figure judged against a range.
    pub fn figure(
        code: C,
        severity: Status,
        figure: f64,
        threshold: Range,
        text: impl Into<String>,
    ) -> Finding<C> {
        Finding {
            code,
            severity,
            figure: Some(figure),
            threshold: Some(threshold),
            text: text.into(),
        }
    }
}

/// For `#[serde(serialize_with = "crate::finding::range_text")]`: a parsed range as the text it was
/// given in.
pub fn range_text<S: Serializer>(r: &Option<Range>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.to_string()),
        None => s.serialize_none(),
    }
}

/// The worst severity of a list of findings (OK for none).
pub fn worst<C>(findings: &[Finding<C>]) -> Status {
    findings
        .iter()
        .fold(Status::Ok, |acc, f| acc.worst(f.severity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct View {
        #[serde(serialize_with = "range_text")]
        threshold: Option<Range>,
    }

    #[test]
    fn a_range_serialises_as_its_text_and_the_worst_severity_wins() {
        let r: Range = "~:10".parse().unwrap();
        let v = View {
            threshold: Some(r.clone()),
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"threshold":"~:10"}"#
        );
        let f = [
            Finding::figure("a", Status::Warning, 12.0, r, "a is 12"),
            Finding::plain("b", Status::Critical, "b"),
        ];
        assert_eq!(worst(&f), Status::Critical);
        assert_eq!(worst::<&str>(&[]), Status::Ok);
    }
}
