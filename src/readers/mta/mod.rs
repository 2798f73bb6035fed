//! Exim's spool and Postfix's queue read into one plain form per message, so that the scan can
//! attribute and judge them like sendmail's. Both parsers are pure functions over bytes that never
//! panic; the walkers open everything without following symlinks and count what they could not read.

pub mod exim;
mod files;
pub mod postfix;
mod walk;

use serde::Serialize;

pub use walk::{scan_exim, scan_postfix, SpoolScan};

/// How many recipients are kept with their address; the others are only counted.
pub const KEPT_RECIPIENTS: usize = 5;
/// Problems kept per file.
const MAX_PROBLEMS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mta {
    Exim,
    Postfix,
}

impl Mta {
    pub fn name(self) -> &'static str {
        match self {
            Mta::Exim => "exim",
            Mta::Postfix => "postfix",
        }
    }
}

/// One recipient still to be delivered, with the last delivery error the MTA logged for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rcpt {
    pub address: String,
    pub status: Option<String>,
}

/// One queued message, as its MTA's own listing (`exim -bp`, `postqueue -j`) describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MtaMessage {
    pub id: String,
    /// Postfix's queue (`deferred`, `hold`...); `input` for Exim.
    pub queue: String,
    /// Size as the MTA lists it (Exim: headers + body; Postfix: the content size record).
    pub size: u64,
    /// Apparent bytes of the message's files, and their blocks on disk.
    pub file_bytes: u64,
    pub disk_bytes: u64,
    /// Arrival time, Unix seconds.
    pub arrival: Option<i64>,
    /// Envelope sender (empty for a bounce).
    pub sender: Option<String>,
    /// The local login that submitted it and its uid (Exim's -H line 2; Postfix's pickup
    /// `Received: ... (Postfix, from userid N)` header or the maildrop file's owner).
    pub login: Option<String>,
    pub uid: Option<u32>,
    /// The first few recipients still to be delivered.
    pub recipients: Vec<Rcpt>,
    pub recipient_count: usize,
    /// Recipients already delivered (Exim's non-recipients tree, Postfix's done records).
    pub delivered: usize,
    pub subject: Option<String>,
    /// Frozen (Exim) or on hold (Postfix).
    pub held: bool,
    /// Every recipient's last error, for classification.
    #[serde(skip)]
    pub statuses: Vec<String>,
    /// The files of the message relative to the spool directory (for purge).
    #[serde(skip)]
    pub files: Vec<String>,
    /// What could not be understood (first few); empty for a file the MTA wrote completely.
    pub problems: Vec<String>,
}

impl MtaMessage {
    fn problem(&mut self, msg: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(msg.into());
        }
    }

    fn add_recipient(&mut self, address: String) {
        self.recipient_count += 1;
        if self.recipients.len() < KEPT_RECIPIENTS {
            self.recipients.push(Rcpt {
                address,
                status: None,
            });
        }
    }

    /// Attaches a logged error to the recipient it names (and keeps it for classification).
    fn set_status(&mut self, address: &str, status: String) {
        for r in &mut self.recipients {
            if r.address.eq_ignore_ascii_case(address) {
                r.status = Some(status.clone());
            }
        }
        self.statuses.push(status);
    }

    /// The domain of the envelope sender, lower case.
    pub fn sender_domain(&self) -> Option<String> {
        let s = self.sender.as_deref()?;
        let (_, d) = s.rsplit_once('@')?;
        let d = d.trim_end_matches('>').trim_end_matches('.');
        (!d.is_empty()).then(|| d.to_ascii_lowercase())
    }
}

/// Unfolds a header value: every run of white space (folding newlines and tabs too) becomes one
/// space, none at either end.
fn unfold(v: &[u8]) -> String {
    // Valid UTF-8 is what `lossless_text` would make of it anyway: only other bytes are converted.
    let owned;
    let text = match std::str::from_utf8(v) {
        Ok(t) => t,
        Err(_) => {
            owned = crate::readers::mqueue::qf::lossless_text(v);
            owned.as_str()
        }
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `Name: value` -> value when the name matches (case-insensitive).
fn header_value<'a>(h: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let colon = h.iter().position(|&b| b == b':')?;
    h[..colon]
        .eq_ignore_ascii_case(name.as_bytes())
        .then(|| &h[colon + 1..])
}

/// The uid in pickup's `Received: by HOST (Postfix, from userid N)`, or Exim's `from USER`.
fn userid_in_received(value: &str) -> Option<u32> {
    let i = value.find("(Postfix, from userid ")?;
    let rest = &value[i + "(Postfix, from userid ".len()..];
    rest.split(')').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_userid() {
        assert_eq!(
            userid_in_received("by mail.example.com (Postfix, from userid 1001) id 1234"),
            Some(1001)
        );
        assert_eq!(userid_in_received("from x by y (Postfix) with ESMTP"), None);
        assert_eq!(userid_in_received("(Postfix, from userid x)"), None);
    }

    #[test]
    fn sender_domains() {
        let m = MtaMessage {
            sender: Some("Bob@Example.COM".into()),
            ..Default::default()
        };
        assert_eq!(m.sender_domain().as_deref(), Some("example.com"));
        let m = MtaMessage {
            sender: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(m.sender_domain(), None);
    }
}
