//! Why a queued message is stuck, from the delivery status sendmail stored in its qf file: the class an
//! administrator acts on (a full mailbox is the sender's problem, a DNS failure the recipient domain's).

use super::qf::ControlFile;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    OverQuota,
    UnknownUser,
    HostUnknown,
    RefusedOrTimeout,
    Other,
    /// Never tried, or no status recorded.
    None,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::OverQuota => "over quota",
            Class::UnknownUser => "unknown user",
            Class::HostUnknown => "host unknown/DNS",
            Class::RefusedOrTimeout => "refused/timeout",
            Class::Other => "other",
            Class::None => "no status yet",
        }
    }
}

/// Classifies one status text (an `M` line). Enhanced status codes (RFC 3463) are checked as words,
/// then the phrases sendmail and common MTAs use.
pub fn classify(status: &str) -> Class {
    let s = status.to_ascii_lowercase();
    let has_code = |tail: &str| {
        s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|w| (w.starts_with("4.") || w.starts_with("5.")) && &w[1..] == tail)
    };
    let any = |words: &[&str]| words.iter().any(|w| s.contains(w));
    if has_code(".2.2") || any(&["quota", "mailbox full", "mailbox is full", "insufficient"]) {
        Class::OverQuota
    } else if has_code(".1.1")
        || any(&[
            "user unknown",
            "unknown user",
            "no such user",
            "mailbox unavailable",
        ])
    {
        Class::UnknownUser
    } else if has_code(".1.2")
        || has_code(".4.3")
        || any(&[
            "host unknown",
            "name server",
            "host not found",
            "host name lookup",
            "no such domain",
            "mx lookup",
        ])
    {
        Class::HostUnknown
    } else if has_code(".4.1")
        || has_code(".4.2")
        || any(&[
            "refused",
            "timed out",
            "timeout",
            "connection reset",
            "unreachable",
            "no route to host",
            "lost input channel",
            "read error",
            "connection closed",
        ])
    {
        Class::RefusedOrTimeout
    } else if s.trim().is_empty() {
        Class::None
    } else {
        Class::Other
    }
}

/// The message's last delivery status and its class. Recipient statuses win over the message-level
/// line: they describe the recipients still queued, while the message line may be about one that
/// already bounced. The most frequent class among the recipients is taken, its first text shown.
pub fn last_status(qf: &ControlFile) -> (Class, Option<String>) {
    last_status_by(qf, classify)
}

fn last_status_by(
    qf: &ControlFile,
    mut classify: impl FnMut(&str) -> Class,
) -> (Class, Option<String>) {
    let mut counts: Vec<(Class, usize, &str)> = Vec::new();
    for s in &qf.recipient_statuses {
        let c = classify(s);
        match counts.iter_mut().find(|(k, _, _)| *k == c) {
            Some(e) => e.1 += 1,
            None => counts.push((c, 1, s)),
        }
    }
    // Stable: on a tie the class seen first wins.
    if let Some((c, _, text)) = counts
        .iter()
        .rev()
        .max_by_key(|(_, n, _)| *n)
        .map(|e| (e.0, e.1, e.2))
    {
        return (c, Some(text.to_string()));
    }
    match &qf.status {
        Some(s) => (classify(s), Some(s.clone())),
        None => (Class::None, None),
    }
}

/// Distinct status texts remembered by a [`Classifier`]; past this the others are classified each time.
const MAX_REMEMBERED: usize = 4096;

/// [`classify`] and [`last_status`] remembering the texts already classified: the copies of a
/// runaway message carry the same few texts thousands of times, and classifying one is a lower-case
/// copy and dozens of scans of it, where looking it up is one hash. The results are those of
/// `classify`, which is a pure function of the text; memory is bounded by `MAX_REMEMBERED`.
#[derive(Debug, Default)]
pub struct Classifier {
    known: HashMap<String, Class>,
}

impl Classifier {
    pub fn classify(&mut self, status: &str) -> Class {
        if let Some(&c) = self.known.get(status) {
            return c;
        }
        let c = classify(status);
        if self.known.len() < MAX_REMEMBERED {
            self.known.insert(status.to_string(), c);
        }
        c
    }

    pub fn last_status(&mut self, qf: &ControlFile) -> (Class, Option<String>) {
        last_status_by(qf, |s| self.classify(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for (text, class) in [
            (
                "Deferred: 452 4.2.2 <a@b>... Mailbox full: user is over quota",
                Class::OverQuota,
            ),
            ("Deferred: 552 5.2.2 Quota exceeded", Class::OverQuota),
            (
                "Deferred: 450 4.1.1 <gone@b>... User unknown",
                Class::UnknownUser,
            ),
            ("550 No such user here", Class::UnknownUser),
            (
                "Host unknown (Name server: nonexistent.invalid: host not found)",
                Class::HostUnknown,
            ),
            (
                "Deferred: Name server: example.net.: host name lookup failure",
                Class::HostUnknown,
            ),
            (
                "Deferred: Connection refused by [127.0.0.2]",
                Class::RefusedOrTimeout,
            ),
            (
                "Deferred: Connection timed out with mx.example.net.",
                Class::RefusedOrTimeout,
            ),
            ("Deferred: 451 4.3.0 Temporary local problem", Class::Other),
            (
                "reply: read error from [127.0.0.1]",
                Class::RefusedOrTimeout,
            ),
            ("", Class::None),
        ] {
            assert_eq!(classify(text), class, "{text}");
        }
        // A version number is not a status code.
        assert_eq!(classify("sendmail 8.4.1 rocks"), Class::Other);
    }

    #[test]
    fn recipients_win_over_message_line() {
        let qf = ControlFile {
            status: Some("Host unknown (Name server: x: host not found)".into()),
            recipient_statuses: vec![
                "Deferred: 450 4.1.1 User unknown".into(),
                "Deferred: 452 4.2.2 over quota".into(),
                "Deferred: 452 4.2.2 over quota".into(),
            ],
            ..Default::default()
        };
        assert_eq!(last_status(&qf).0, Class::OverQuota);
        let qf = ControlFile {
            status: Some("Deferred: Connection refused by [127.0.0.2]".into()),
            ..Default::default()
        };
        assert_eq!(last_status(&qf).0, Class::RefusedOrTimeout);
        assert_eq!(last_status(&ControlFile::default()), (Class::None, None));
    }

    #[test]
    fn a_classifier_remembers_but_answers_as_classify() {
        let texts = [
            "Deferred: 452 4.2.2 over quota",
            "Deferred: 450 4.1.1 User unknown",
            "Deferred: Connection refused by [127.0.0.2]",
            "",
        ];
        let mut c = Classifier::default();
        for round in 0..3 {
            for t in texts {
                assert_eq!(c.classify(t), classify(t), "{t} (round {round})");
            }
        }
        assert_eq!(c.known.len(), texts.len());
        // Full: what is not remembered is still classified.
        for i in 0..MAX_REMEMBERED + 10 {
            let t = format!("Deferred: 452 4.2.2 over quota {i}");
            assert_eq!(c.classify(&t), Class::OverQuota);
        }
        assert_eq!(c.known.len(), MAX_REMEMBERED);
        assert_eq!(c.classify("550 No such user here"), Class::UnknownUser);
        let qf = ControlFile {
            status: Some("Host unknown (Name server: x: host not found)".into()),
            recipient_statuses: vec![
                "Deferred: 450 4.1.1 User unknown".into(),
                "Deferred: 452 4.2.2 over quota".into(),
                "Deferred: 452 4.2.2 over quota".into(),
            ],
            ..Default::default()
        };
        assert_eq!(c.last_status(&qf), last_status(&qf));
        assert_eq!(
            c.last_status(&ControlFile::default()),
            last_status(&ControlFile::default())
        );
    }
}
