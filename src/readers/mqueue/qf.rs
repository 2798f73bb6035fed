//! The sendmail queue control file (`qf`) parsed as sendmail 8 writes it (op.me, "Queue file formats"):
//! one line per item, a code letter first, TAB-continued lines, `.` at the end, bytes that need not be
//! UTF-8. A pure function over bytes: any input, truncated or random, gives a result and never a panic;
//! what could not be understood is listed in `problems`.

use serde::Serialize;

/// How many recipients are kept with their address; the others are only counted.
pub const KEPT_RECIPIENTS: usize = 5;

/// One recipient still to be delivered (an `R` line), with the status sendmail stored for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recipient {
    pub address: String,
    /// The `M` line written just before this recipient: its last delivery status.
    pub status: Option<String>,
}

/// What a qf file says about its message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ControlFile {
    /// `V`: queue file format version.
    pub version: Option<u32>,
    /// `T`: creation time (Unix seconds).
    pub created: Option<u64>,
    /// `K`: last delivery attempt (Unix seconds, 0 when never tried).
    pub last_attempt: Option<u64>,
    /// `N`: number of delivery attempts.
    pub attempts: Option<u32>,
    /// `S`: envelope sender.
    pub sender: Option<String>,
    /// `M` before the recipients: the message's last status as mailq shows it.
    pub status: Option<String>,
    /// The first few `R` recipients, in file order.
    pub recipients: Vec<Recipient>,
    pub recipient_count: usize,
    /// Every recipient status (`M` lines attached to recipients), for classification.
    #[serde(skip)]
    pub recipient_statuses: Vec<String>,
    /// `Subject:` header (continuations unfolded).
    pub subject: Option<String>,
    /// `q`: quarantine reason.
    pub quarantine: Option<String>,
    /// `B`: body type.
    pub body_type: Option<String>,
    /// `.` seen: sendmail finished writing the file.
    pub complete: bool,
    /// Lines that could not be understood (first few), with their line number.
    pub problems: Vec<String>,
}

const MAX_PROBLEMS: usize = 5;

impl ControlFile {
    fn problem(&mut self, line: usize, msg: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(format!("line {line}: {}", msg.into()));
        }
    }

    /// True when the file is usable but not what sendmail writes (truncated or malformed).
    pub fn is_damaged(&self) -> bool {
        !self.complete || !self.problems.is_empty()
    }
}

/// A qf field as the data model holds it: UTF-8 kept exactly (controls too: JSON keeps them, text
/// output escapes them through `render::sanitize`), other bytes as the text `\xNN`.
pub fn lossless_text(bytes: &[u8]) -> String {
    crate::render::sanitize::decode(bytes)
}

/// Splits into logical lines: a line starting with TAB (or space) continues the previous one.
/// Returns (first physical line number, joined bytes).
fn logical_lines(data: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if matches!(raw.first(), Some(b'\t' | b' ')) {
            if let Some(last) = out.last_mut() {
                last.1.push(b'\n');
                last.1.extend_from_slice(raw);
                continue;
            }
        }
        out.push((i + 1, raw.to_vec()));
    }
    // A final newline leaves an empty last piece: not a line.
    if out.last().is_some_and(|(_, l)| l.is_empty()) {
        out.pop();
    }
    out
}

fn number<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// `R` lines carry a flags prefix ended by ':' since queue file version 1 (`RPFD:user@host`).
fn strip_rcpt_flags(v: &[u8]) -> &[u8] {
    match v.iter().position(|&b| b == b':') {
        Some(i) if i <= 12 && v[..i].iter().all(u8::is_ascii_alphabetic) => &v[i + 1..],
        _ => v,
    }
}

/// Parses a qf file. Never fails: an unusable file yields an empty result with problems listed.
pub fn parse(data: &[u8]) -> ControlFile {
    let mut qf = ControlFile::default();
    // An M line after the sender belongs to the next recipient (queue.c writes it just before R).
    let mut seen_sender = false;
    let mut pending_status: Option<String> = None;
    let lines = logical_lines(data);
    if lines.is_empty() {
        qf.problem(1, "empty file");
        return qf;
    }
    for (lineno, line) in lines {
        if qf.complete {
            qf.problem(lineno, "data after the final '.'");
            break;
        }
        let Some((&code, value)) = line.split_first() else {
            qf.problem(lineno, "empty line");
            continue;
        };
        match code {
            b'V' => match number(value) {
                Some(v) if lineno == 1 => qf.version = Some(v),
                Some(_) => qf.problem(lineno, "V line is not the first line"),
                None => qf.problem(lineno, "bad version"),
            },
            b'T' => match number(value) {
                Some(v) => qf.created = Some(v),
                None => qf.problem(lineno, "bad creation time (T)"),
            },
            b'K' => match number(value) {
                Some(v) => qf.last_attempt = Some(v),
                None => qf.problem(lineno, "bad last attempt time (K)"),
            },
            b'N' => match number(value) {
                Some(v) => qf.attempts = Some(v),
                None => qf.problem(lineno, "bad attempt count (N)"),
            },
            b'S' => {
                qf.sender = Some(lossless_text(value));
                seen_sender = true;
            }
            b'M' => {
                let text = lossless_text(value);
                if seen_sender {
                    pending_status = Some(text);
                } else {
                    qf.status = Some(text);
                }
            }
            b'R' => {
                let status = pending_status.take();
                if let Some(s) = &status {
                    qf.recipient_statuses.push(s.clone());
                }
                qf.recipient_count += 1;
                if qf.recipients.len() < KEPT_RECIPIENTS {
                    qf.recipients.push(Recipient {
                        address: lossless_text(strip_rcpt_flags(value)),
                        status,
                    });
                }
            }
            b'H' => header(&mut qf, value),
            b'q' => qf.quarantine = Some(lossless_text(value)),
            b'B' => qf.body_type = Some(lossless_text(value)),
            b'.' if value.is_empty() => qf.complete = true,
            // Known items the scan has no use for: priority, flags, macros, inode, data dir,
            // auth, controlling user, original/final recipient, error recipient, charset, envid,
            // deliver-by, and obsolete ones. Any other line is malformed: sendmail itself refuses
            // such a file and sets it aside as Qf.
            b'P' | b'F' | b'$' | b'I' | b'd' | b'A' | b'C' | b'Q' | b'r' | b'E' | b'X' | b'Z'
            | b'!' | b'G' | b'L' | b'D' => {}
            other => qf.problem(
                lineno,
                format!(
                    "unknown line type '{}'",
                    lossless_text(std::slice::from_ref(&other))
                ),
            ),
        }
    }
    // sendmail ends the file with ".\n"; a '.' without its newline was cut short.
    qf.complete &= data.ends_with(b"\n");
    if !qf.complete {
        qf.problems.truncate(MAX_PROBLEMS - 1);
        qf.problems
            .push("truncated: no final '.' line (sendmail did not finish writing it)".into());
    }
    qf
}

/// `H?flags?Name: value`: keeps the subject.
fn header(qf: &mut ControlFile, value: &[u8]) {
    let mut v = value;
    if v.first() == Some(&b'?') {
        match v[1..].iter().position(|&b| b == b'?') {
            Some(i) => v = &v[i + 2..],
            None => return,
        }
    }
    let Some(colon) = v.iter().position(|&b| b == b':') else {
        return;
    };
    if v[..colon].eq_ignore_ascii_case(b"subject") {
        // Unfold continuations (newline + whitespace) into single spaces.
        let unfolded: Vec<u8> = v[colon + 1..]
            .iter()
            .map(|&b| if b == b'\n' || b == b'\t' { b' ' } else { b })
            .collect();
        let text = lossless_text(&unfolded);
        qf.subject = Some(text.split_whitespace().collect::<Vec<_>>().join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by sendmail 8.17.1.9 (`-odq`, then one `-q` run against a test SMTP server).
    const GENUINE: &[u8] = b"V8\nT1795314570\nK1795314570\nN1\nP210062\nI254/0/10011618\n\
MHost unknown (Name server: nonexistent.invalid: host not found)\nFs\n$_root@localhost\n\
${daemon_flags}c u\nSalice@example.com\nAalice@example.com\n\
MDeferred: 452 4.2.2 <full1@[127.0.0.1]>... Mailbox full: user is over quota\n\
rRFC822; full1@[127.0.0.1]\nRPFD:full1@[127.0.0.1]\n\
MDeferred: 450 4.1.1 <gone@[127.0.0.1]>... User unknown\nrRFC822; gone@[127.0.0.1]\n\
RPFD:gone@[127.0.0.1]\nrRFC822; x@[127.0.0.2]\nRPFD:x@[127.0.0.2]\n\
H?P?Return-Path: <\x81g>\nH??Received: (from root@localhost)\n\
\tby mail.example.com (8.17.1.9/8.17.1.9) id 6AM2TUH3009778;\n\tSun, 22 Nov 2026 02:29:30 GMT\n\
H?D?Date: Sun, 22 Nov 2026 02:29:30 GMT\nH??From: Alice <alice@example.com>\n\
H??Subject: holiday\n\tphotos\n.\n";

    #[test]
    fn genuine_file() {
        let qf = parse(GENUINE);
        assert!(qf.problems.is_empty(), "{:?}", qf.problems);
        assert!(qf.complete && !qf.is_damaged());
        assert_eq!(qf.version, Some(8));
        assert_eq!(qf.created, Some(1_795_314_570));
        assert_eq!(qf.attempts, Some(1));
        assert_eq!(qf.sender.as_deref(), Some("alice@example.com"));
        assert_eq!(qf.subject.as_deref(), Some("holiday photos"));
        assert!(qf.status.as_deref().unwrap().starts_with("Host unknown"));
        let addrs: Vec<&str> = qf.recipients.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addrs,
            ["full1@[127.0.0.1]", "gone@[127.0.0.1]", "x@[127.0.0.2]"]
        );
        assert!(qf.recipients[0]
            .status
            .as_deref()
            .unwrap()
            .contains("over quota"));
        assert!(qf.recipients[1]
            .status
            .as_deref()
            .unwrap()
            .contains("User unknown"));
        assert_eq!(qf.recipients[2].status, None);
        assert_eq!(qf.recipient_statuses.len(), 2);
    }

    #[test]
    fn every_truncation_is_reported_never_a_panic() {
        for len in 0..GENUINE.len() {
            let qf = parse(&GENUINE[..len]);
            assert!(qf.is_damaged(), "truncated at {len} looks complete");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::testing::XorShift(0x9E37_79B9_7F4A_7C15);
        let mut next = || rng.next();
        for round in 0..2000 {
            let len = (next() % 512) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Bias some rounds towards plausible line starts so the value parsers are exercised.
            if round % 2 == 0 {
                for b in buf.iter_mut().step_by(7) {
                    *b = b"VTKNSMRH.\n\t?:"[(next() % 13) as usize];
                }
            }
            let qf = parse(&buf);
            assert!(qf.problems.len() <= MAX_PROBLEMS);
            assert!(qf.recipients.len() <= KEPT_RECIPIENTS);
        }
    }

    #[test]
    fn malformed_lines_are_named() {
        let qf = parse(b"V8\nTsoon\nN-1\nW what\nSx@y\n.\n");
        assert_eq!(qf.sender.as_deref(), Some("x@y"));
        assert!(qf.problems.iter().any(|p| p.starts_with("line 2:")));
        assert!(qf.problems.iter().any(|p| p.contains("'W'")));
        assert!(parse(b"").problems[0].contains("empty"));
    }

    #[test]
    fn non_utf8_is_kept_visible() {
        let qf = parse(b"S\xff\xfeuser@example.com\nRPFD:a b\xc3\xa9@x\n.\n");
        assert_eq!(qf.sender.as_deref(), Some("\\xff\\xfeuser@example.com"));
        assert_eq!(qf.recipients[0].address, "a b\u{e9}@x");
    }

    #[test]
    fn many_recipients_are_counted_not_kept() {
        let mut f = b"Sa@b\n".to_vec();
        for i in 0..50 {
            f.extend_from_slice(format!("RPFD:r{i}@x\n").as_bytes());
        }
        f.extend_from_slice(b".\n");
        let qf = parse(&f);
        assert_eq!(qf.recipient_count, 50);
        assert_eq!(qf.recipients.len(), KEPT_RECIPIENTS);
    }
}
