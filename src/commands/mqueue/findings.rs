//! What sets the `mqueue` status, as the shared `Finding`: the largest sendmail queue and the largest
//! Exim/Postfix account against `-w/-c`, and what could not be read (never OK: UNKNOWN unless
//! CRITICAL). Each section's status is `status_of` its findings; the size finding's text is the
//! headline, the not-read finding's the "Blind:" reason. Pure: every fact is passed in.

use super::accounts::{AccountReport, SpoolReport};
use super::render::plural;
use super::report::{QueueReport, QueueState};
use crate::finding::Finding;
use crate::readers::skips::Skips;
use crate::render::nagios::{self, Range};
use crate::render::text::printable;
use crate::status::Status;
use crate::units::{human_size, thousands};

/// Why the status is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The largest sendmail queue's apparent bytes against `-w/-c`.
    LargestQueue,
    /// The largest hosting account's queued bytes (Exim, Postfix) against `-w/-c`.
    LargestAccount,
    /// A queue, spool or file could not be read: it may hold the runaway mail.
    NotRead,
}

pub type StatusFinding = Finding<Code>;

/// `bytes` judged against `-w/-c`: its severity and the range it crossed (none when OK). The text
/// is the headline, whatever the severity: it names the figure judged.
pub fn sized(code: Code, bytes: u64, w: &Range, c: &Range, text: String) -> StatusFinding {
    let severity = nagios::judge(bytes as f64, w, c);
    let threshold = match severity {
        Status::Critical => Some(c.clone()),
        Status::Warning => Some(w.clone()),
        Status::Ok | Status::Unknown => None,
    };
    Finding {
        code,
        severity,
        figure: Some(bytes as f64),
        threshold,
        text,
    }
}

/// Something could not be read: `count` of it, and why.
fn not_read(count: u64, text: String) -> StatusFinding {
    Finding {
        code: Code::NotRead,
        severity: Status::Unknown,
        figure: Some(count as f64),
        threshold: None,
        text,
    }
}

/// A section's status from its findings: the worst of its judged figures, UNKNOWN when something
/// could not be read unless that is already CRITICAL (a blind WARNING is UNKNOWN: what was not read
/// may be worse).
pub fn status_of(findings: &[StatusFinding]) -> Status {
    let judged = Status::worst_of(
        findings
            .iter()
            .filter(|f| f.code != Code::NotRead)
            .map(|f| f.severity),
    );
    judged.when_blind(findings.iter().any(|f| f.code == Code::NotRead))
}

/// The first finding with `code`.
pub fn find(findings: &[StatusFinding], code: Code) -> Option<&StatusFinding> {
    findings.iter().find(|f| f.code == code)
}

/// The sendmail queues' findings (`queues` sorted largest first): the largest against `-w/-c`, and
/// what could not be read, as `Skips` says it.
pub fn queues(
    queues: &[QueueReport],
    skips: &Skips,
    min: u64,
    w: &Range,
    c: &Range,
) -> Vec<StatusFinding> {
    let largest = super::figures::largest(queues);
    let mut f = vec![sized(
        Code::LargestQueue,
        largest,
        w,
        c,
        queue_headline(queues, min),
    )];
    if let Some(why) = skips.blind_reason() {
        f.push(not_read(skips.unreadable, why));
    }
    f
}

/// The headline of the sendmail queues: the largest readable one.
fn queue_headline(queues: &[QueueReport], min: u64) -> String {
    let Some(q) = queues.iter().find(|q| q.state == QueueState::Ok) else {
        return "no mail queue found".into();
    };
    if q.scan.bytes == 0 {
        return match queues.len() {
            1 => "the one queue is empty".into(),
            n => format!("all {} queues empty", thousands(n as u64)),
        };
    }
    let mut s = format!(
        "{}: {} in {}",
        q.name,
        human_size(q.scan.bytes),
        plural(q.scan.messages, "message")
    );
    if q.scan.oversized > 0 {
        s.push_str(&format!(
            ", {} >= {}",
            thousands(q.scan.oversized),
            human_size(min)
        ));
    }
    if q.unbound() {
        s.push_str("; not bound to quota");
    }
    s
}

/// The Exim/Postfix section's findings (`accounts` sorted largest first): the largest account
/// against `-w/-c`, judged like the sendmail queues, and what could not be read: a spool that could
/// not be opened, or spool files that could not be read or parsed.
pub fn accounts(
    spools: &[SpoolReport],
    accounts: &[AccountReport],
    skips: &Skips,
    min: u64,
    w: &Range,
    c: &Range,
) -> Vec<StatusFinding> {
    let largest = super::figures::largest_account(accounts);
    let mut f = vec![sized(
        Code::LargestAccount,
        largest,
        w,
        c,
        account_headline(spools, accounts, min),
    )];
    let unopened: Vec<&SpoolReport> = spools
        .iter()
        .filter(|s| s.state != QueueState::Ok)
        .collect();
    if skips.count > 0 || !unopened.is_empty() {
        let mut why: Vec<String> = unopened
            .iter()
            .map(|s| format!("{} spool {}", s.mta.name(), s.path))
            .collect();
        if skips.count > 0 {
            why.push(plural(skips.count, "spool file"));
        }
        let text = format!("could not read or parse {}", why.join(", "));
        f.push(not_read(skips.count + unopened.len() as u64, text));
    }
    f
}

/// The headline of the Exim/Postfix section: its largest account.
fn account_headline(spools: &[SpoolReport], accounts: &[AccountReport], min: u64) -> String {
    let Some(a) = accounts.first() else {
        let names: Vec<&str> = spools.iter().map(|s| s.mta.name()).collect();
        return format!("{} queue empty", names.join(" and "));
    };
    let mut s = format!(
        "account {}: {} in {}",
        printable(&a.account),
        human_size(a.bytes),
        plural(a.messages, "message")
    );
    if a.oversized > 0 {
        s.push_str(&format!(
            ", {} >= {}",
            thousands(a.oversized),
            human_size(min)
        ));
    }
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::readers::mqueue::queue::QueueScan;
    use crate::readers::mta::Mta;

    fn ranges() -> (Range, Range) {
        ("1000".parse().unwrap(), "10000".parse().unwrap())
    }

    fn queue(name: &str, bytes: u64, state: QueueState) -> QueueReport {
        QueueReport {
            label: "host".into(),
            name: name.into(),
            site: None,
            path: "/var/spool/mqueue".into(),
            state,
            problem: None,
            scan: QueueScan {
                bytes,
                messages: u64::from(bytes > 0),
                files: u64::from(bytes > 0) * 2,
                ..Default::default()
            },
            oldest_age: None,
            stale_tf: 0,
            binding: None,
        }
    }

    pub(in crate::commands::mqueue) fn spool(state: QueueState) -> SpoolReport {
        SpoolReport::empty(Mta::Exim, "/var/spool/exim4".into(), state)
    }

    pub(in crate::commands::mqueue) fn account(
        name: &str,
        bytes: u64,
        oversized: u64,
    ) -> AccountReport {
        AccountReport {
            account: name.into(),
            attributed: true,
            mtas: vec![Mta::Exim],
            messages: 2,
            bytes,
            file_bytes: bytes,
            disk_bytes: bytes,
            oversized,
            ..AccountReport::default()
        }
    }

    fn unreadable() -> Skips {
        let mut s = Skips::default();
        s.add_unreadable_shown(
            "/home/virtual/site1/fst/var/spool/mqueue",
            "Permission denied",
        );
        s.reader = Some("uid 65534 (nobody)".into());
        s
    }

    #[test]
    fn a_figure_is_judged_with_the_range_it_crossed() {
        let (w, c) = ranges();
        // (bytes, severity, the range named)
        let cases = [
            (0, Status::Ok, None),
            (1000, Status::Ok, None),
            (1001, Status::Warning, Some("1000")),
            (10_000, Status::Warning, Some("1000")),
            (10_001, Status::Critical, Some("10000")),
        ];
        for (bytes, severity, range) in cases {
            let f = sized(Code::LargestQueue, bytes, &w, &c, "t".into());
            assert_eq!(f.severity, severity, "{bytes}");
            assert_eq!(f.figure, Some(bytes as f64));
            assert_eq!(
                f.threshold.map(|r| r.to_string()).as_deref(),
                range,
                "{bytes}"
            );
        }
    }

    #[test]
    fn what_could_not_be_read_is_unknown_unless_critical() {
        let (w, c) = ranges();
        let blind = not_read(1, "could not read".into());
        let at = |bytes| sized(Code::LargestQueue, bytes, &w, &c, String::new());
        assert_eq!(status_of(&[]), Status::Ok);
        assert_eq!(status_of(&[at(10)]), Status::Ok);
        assert_eq!(status_of(&[at(1001)]), Status::Warning);
        assert_eq!(status_of(&[at(10), blind.clone()]), Status::Unknown);
        assert_eq!(status_of(&[at(1001), blind.clone()]), Status::Unknown);
        assert_eq!(status_of(&[blind.clone(), at(10_001)]), Status::Critical);
        assert_eq!(status_of(&[blind]), Status::Unknown);
    }

    #[test]
    fn the_largest_queue_is_judged_and_named_and_unreadable_paths_blind() {
        let (w, c) = ranges();
        let qs = [
            queue("host /var/spool/mqueue", 20_000, QueueState::Ok),
            queue("host /var/spool/clientmqueue", 5000, QueueState::Ok),
        ];
        let f = queues(&qs, &Skips::default(), 100, &w, &c);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].code, f[0].severity, f[0].figure),
            (Code::LargestQueue, Status::Critical, Some(20_000.0))
        );
        assert_eq!(f[0].text, "host /var/spool/mqueue: 19.5 KiB in 1 message");
        let f = queues(&qs[1..], &unreadable(), 100, &w, &c);
        assert_eq!(f[1].code, Code::NotRead);
        assert_eq!((f[1].severity, f[1].figure), (Status::Unknown, Some(1.0)));
        assert_eq!(
            f[1].text,
            "could not read 1 path as uid 65534 (nobody): /home/virtual/site1/fst/var/spool/mqueue \
             (Permission denied)"
        );
        assert_eq!(status_of(&f), Status::Unknown);
        // A damaged file is reported, not blinding.
        let mut damaged = Skips::default();
        damaged.add_shown("/var/spool/mqueue/qfX", "truncated");
        assert_eq!(queues(&qs[1..], &damaged, 100, &w, &c).len(), 1);
        let empty = [
            queue("a", 0, QueueState::Ok),
            queue("b", 0, QueueState::Missing),
        ];
        assert_eq!(
            queues(&empty, &Skips::default(), 100, &w, &c)[0].text,
            "all 2 queues empty"
        );
        assert_eq!(
            queues(&empty[..1], &Skips::default(), 100, &w, &c)[0].text,
            "the one queue is empty"
        );
        assert_eq!(
            queues(&[], &Skips::default(), 100, &w, &c)[0].text,
            "no mail queue found"
        );
    }

    #[test]
    fn the_largest_account_is_judged_and_any_spool_problem_blinds() {
        let (w, c) = ranges();
        let accts = [account("alice", 5000, 1), account("bob", 300, 0)];
        let ok = [spool(QueueState::Ok)];
        let f = accounts(&ok, &accts, &Skips::default(), 1000, &w, &c);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].code, f[0].severity, f[0].figure),
            (Code::LargestAccount, Status::Warning, Some(5000.0))
        );
        assert_eq!(
            f[0].threshold.as_ref().map(|r| r.to_string()).as_deref(),
            Some("1000")
        );
        assert_eq!(
            f[0].text,
            "account alice: 4.9 KiB in 2 messages, 1 >= 1000 B"
        );
        // Unlike the sendmail queues, a damaged spool file blinds the section too.
        let mut damaged = Skips::default();
        damaged.add_shown("/var/spool/exim4/input/X-H", "truncated");
        let f = accounts(&ok, &accts, &damaged, 1000, &w, &c);
        assert_eq!((f[1].code, f[1].figure), (Code::NotRead, Some(1.0)));
        assert_eq!(f[1].text, "could not read or parse 1 spool file");
        assert_eq!(status_of(&f), Status::Unknown);
        let f = accounts(
            &[spool(QueueState::Unreadable)],
            &[],
            &Skips::default(),
            1000,
            &w,
            &c,
        );
        assert_eq!(f[0].text, "exim queue empty");
        assert_eq!(f[0].severity, Status::Ok);
        assert_eq!(
            f[1].text,
            "could not read or parse exim spool /var/spool/exim4"
        );
        assert_eq!(status_of(&f), Status::Unknown);
    }
}
