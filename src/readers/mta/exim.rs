//! Exim's spool files parsed as Exim writes them (spec chapter "Format of spool files"): the `-H`
//! file (id line, submitting login/uid/gid, sender, received time, `-` options, the non-recipients
//! tree of those already delivered, the recipients, then the headers each prefixed with its length),
//! the `-D` file's size, and the per-message log in `msglog/` for the last error per recipient.
//! Message ids are the old 16-character form (`1xYVPd-0004pL-03`) or the 23-character one of 4.97+.

use super::{header_value, unfold, MtaMessage};
use crate::readers::mqueue::qf::lossless_text;
use std::borrow::Cow;

/// The old (16) and 4.97+ (23) id lengths.
pub const ID_LENGTHS: [usize; 2] = [16, 23];

/// True for a name Exim could have given a message.
pub fn is_id(id: &[u8]) -> bool {
    ID_LENGTHS.contains(&id.len())
        && id[6] == b'-'
        && id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && id.iter().filter(|&&b| b == b'-').count() == 2
}

/// What an `-H` file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub message: MtaMessage,
    /// Bytes of the headers still part of the message (deleted ones, flagged `*`, excluded), which
    /// `exim -bp` adds to the data file's size.
    pub header_bytes: u64,
    /// The file ended where Exim ends it (after the last header).
    pub complete: bool,
}

/// Splits off one `\n`-terminated line; `None` at the end or when the last line has no newline.
fn line<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = data.get(*pos..)?;
    let n = rest.iter().position(|&b| b == b'\n')?;
    *pos += n + 1;
    Some(&rest[..n])
}

/// As `lossless_text`, which leaves valid UTF-8 as it is: only other bytes go through it.
fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(t) => t.to_string(),
        Err(_) => lossless_text(b),
    }
}

fn num<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// Parses an `-H` file. Never fails: what could not be understood is listed in `problems`.
pub fn parse_header(data: &[u8]) -> Header {
    let mut p = HeaderParser {
        data,
        pos: 0,
        h: Header::default(),
    };
    p.h.message.queue = "input".into();
    // `None`: the parse stopped at a problem, already listed.
    let _ = p.sections();
    p.h
}

/// A cursor over an `-H` file with one method per section, in the order Exim writes them. Each
/// returns `None` when the file cannot be read further (the problem is listed by then).
struct HeaderParser<'a> {
    data: &'a [u8],
    pos: usize,
    h: Header,
}

impl<'a> HeaderParser<'a> {
    fn sections(&mut self) -> Option<()> {
        self.id_line()?;
        self.submitter()?;
        self.sender()?;
        self.time_line()?;
        let after_options = self.options()?;
        self.non_recipients(after_options)?;
        self.recipients()?;
        self.blank_line()?;
        self.headers();
        Some(())
    }

    fn problem(&mut self, msg: impl Into<String>) {
        self.h.message.problem(msg);
    }

    fn truncated(&mut self, what: &str) {
        self.problem(format!("truncated in {what}"));
    }

    /// The next line, or `None` (said to be truncated in `what`).
    fn line(&mut self, what: &str) -> Option<&'a [u8]> {
        let l = line(self.data, &mut self.pos);
        if l.is_none() {
            self.truncated(what);
        }
        l
    }

    /// 1: the file's own name.
    fn id_line(&mut self) -> Option<()> {
        let name = self.line("the id line")?;
        match name.strip_suffix(b"-H") {
            Some(id) if is_id(id) => self.h.message.id = text(id),
            _ => self.problem(format!("line 1: not an -H id line: {}", text(name))),
        }
        Some(())
    }

    /// 2: login uid gid of the submitter.
    fn submitter(&mut self) -> Option<()> {
        let who = self.line("the submitter line")?;
        let m = &mut self.h.message;
        let fields: Vec<&[u8]> = who.split(|&b| b == b' ').collect();
        match fields.as_slice() {
            [login, uid, _gid] => {
                m.login = Some(text(login));
                m.uid = num(uid);
                if m.uid.is_none() {
                    m.problem("line 2: bad uid");
                }
            }
            _ => m.problem("line 2: expected 'login uid gid'"),
        }
        Some(())
    }

    /// 3: <sender>
    fn sender(&mut self) -> Option<()> {
        let sender = self.line("the sender line")?;
        match sender.strip_prefix(b"<").and_then(|s| s.strip_suffix(b">")) {
            Some(s) => self.h.message.sender = Some(text(s)),
            None => self.problem("line 3: sender not in <>"),
        }
        Some(())
    }

    /// 4: received time and warning count.
    fn time_line(&mut self) -> Option<()> {
        let times = self.line("the time line")?;
        let m = &mut self.h.message;
        m.arrival = times.split(|&b| b == b' ').next().and_then(num::<i64>);
        if m.arrival.is_none() {
            m.problem("line 4: bad received time");
        }
        Some(())
    }

    /// `-name value` options; `-aclX name LEN` is followed by LEN bytes and a newline. Returns the
    /// first line after them.
    fn options(&mut self) -> Option<&'a [u8]> {
        loop {
            let l = self.line("the options")?;
            if l.first() != Some(&b'-') {
                return Some(l);
            }
            let (opt, value) = match l.iter().position(|&b| b == b' ') {
                Some(i) => (&l[1..i], &l[i + 1..]),
                None => (&l[1..], &b""[..]),
            };
            match opt {
                b"frozen" => self.h.message.held = true,
                b"acl" | b"aclc" | b"aclm" => {
                    let len = value.rsplit(|&b| b == b' ').next().and_then(num::<usize>);
                    match len {
                        Some(n) if self.pos.saturating_add(n) < self.data.len() => {
                            self.pos += n + 1
                        }
                        _ => {
                            self.truncated("an ACL variable");
                            return None;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The non-recipients tree (delivered addresses), starting at `first`: `XX` when empty, else
    /// nodes in pre-order, each `LR address` where L and R say whether a left and a right subtree
    /// follow.
    fn non_recipients(&mut self, first: &'a [u8]) -> Option<()> {
        if first == b"XX" {
            return Some(());
        }
        let mut pending: u64 = 1;
        let mut l = first;
        loop {
            if l.len() < 3 || !l[..2].iter().all(|&b| b == b'Y' || b == b'N') || l[2] != b' ' {
                self.problem("bad non-recipients tree");
                return None;
            }
            self.h.message.delivered += 1;
            pending = pending - 1 + l[..2].iter().filter(|&&b| b == b'Y').count() as u64;
            if pending == 0 {
                return Some(());
            }
            l = self.line("the non-recipients tree")?;
        }
    }

    /// The recipient count, then one line per recipient.
    fn recipients(&mut self) -> Option<()> {
        let count = self.line("the recipient count")?;
        let Some(count) = num::<usize>(count) else {
            self.problem("bad recipient count");
            return None;
        };
        for i in 0..count {
            let r = self.line("the recipients")?;
            let addr = recipient_address(r);
            if addr.is_empty() {
                self.problem(format!("recipient {} is empty", i + 1));
            }
            self.h.message.add_recipient(text(addr));
        }
        Some(())
    }

    /// The blank line before the headers.
    fn blank_line(&mut self) -> Option<()> {
        match self.line("the headers")? {
            [] => Some(()),
            _ => {
                self.problem("no blank line before the headers");
                None
            }
        }
    }

    /// The headers, each `LENf text` (f: `*` for a deleted one), to the end of the file.
    fn headers(&mut self) {
        while self.pos < self.data.len() {
            if self.header().is_none() {
                return;
            }
        }
        let h = &mut self.h;
        h.complete = self.data.ends_with(b"\n") && h.header_bytes > 0;
        if !h.complete {
            self.truncated("the headers");
        }
    }

    /// One header at `pos`: its bytes counted and the first subject kept, unless deleted.
    fn header(&mut self) -> Option<()> {
        let (pos, rest) = (self.pos, &self.data[self.pos..]);
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let len: Option<usize> = num(&rest[..digits]);
        let (Some(len), Some(&flag), Some(&b' ')) = (len, rest.get(digits), rest.get(digits + 1))
        else {
            self.problem(format!("bad header at byte {pos}"));
            return None;
        };
        let start = digits + 2;
        let Some(body) = rest.get(start..start.saturating_add(len)) else {
            self.truncated("a header");
            return None;
        };
        if flag != b'*' {
            let (h, m) = (&mut self.h.header_bytes, &mut self.h.message);
            *h += len as u64;
            if m.subject.is_none() {
                if let Some(v) = header_value(body, "subject") {
                    m.subject = Some(unfold(v));
                }
            }
        }
        self.pos += start + len;
        Some(())
    }
}

/// A recipient line's address. With DSN or errors-to data the line is `address orcpt
/// len,flags errors_to len,pno#N`.
fn recipient_address(r: &[u8]) -> &[u8] {
    let is_extended = r
        .rsplit(|&b| b == b'#')
        .next()
        .is_some_and(|t| !t.is_empty() && t.iter().all(u8::is_ascii_digit))
        && r.contains(&b'#');
    if is_extended {
        r.split(|&b| b == b' ').next().unwrap_or(r)
    } else {
        r
    }
}

/// `exim -bp`'s size: the headers, plus the data file without its id line, plus one for the
/// notional blank line between them.
pub fn listed_size(header_bytes: u64, data_file: u64, id: &str) -> u64 {
    let id_line = id.len() as u64 + 3;
    header_bytes + data_file.saturating_sub(id_line) + 1
}

/// The last error logged for each recipient in the message's log (`msglog/ID`). Exim 4.96 writes a
/// deferral there as `DATE TIME ADDR R=... T=... defer (-44) H=...: ERROR` (the main log adds `==`),
/// a failure as `DATE TIME ** ADDR ...: ERROR`, a delivery as `DATE TIME => ADDR ...`, which clears it.
/// Nothing is copied until the last status of each address is known (this runs once per message).
pub fn apply_msglog(m: &mut MtaMessage, log: &[u8]) {
    let mut last: LastStatus = Vec::new();
    match std::str::from_utf8(log) {
        // As a rule the whole log is UTF-8: its lines are borrowed.
        Ok(log) => {
            for l in log.split('\n') {
                if let Some((addr, status)) = logged(l) {
                    note(&mut last, Cow::Borrowed(addr), status.map(Cow::Borrowed));
                }
            }
        }
        // Else each line is what `text` makes of it.
        Err(_) => {
            for raw in log.split(|&b| b == b'\n') {
                let l: Cow<str> = match std::str::from_utf8(raw) {
                    Ok(l) => Cow::Borrowed(l),
                    Err(_) => Cow::Owned(text(raw)),
                };
                if let Some((addr, status)) = logged(&l) {
                    let status = status.map(|s| Cow::Owned(s.to_string()));
                    note(&mut last, Cow::Owned(addr.to_string()), status);
                }
            }
        }
    }
    for (addr, status) in last {
        if let Some(s) = status {
            m.set_status(&addr, s.into_owned());
        }
    }
}

/// Each address's last status so far (`None`: delivered), in the order first met.
type LastStatus<'a> = Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>;

fn note<'a>(last: &mut LastStatus<'a>, addr: Cow<'a, str>, status: Option<Cow<'a, str>>) {
    match last.iter_mut().find(|(a, _)| a.eq_ignore_ascii_case(&addr)) {
        Some(e) => e.1 = status,
        None => last.push((addr, status)),
    }
}

/// Splits off the word before the first space.
fn word(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b' ')?;
    Some((&s[..i], &s[i + 1..]))
}

/// What one log line says of one address: its error, or `None` when it was delivered.
fn logged(l: &str) -> Option<(&str, Option<&str>)> {
    let (_date, rest) = word(l)?;
    let (_time, rest) = word(rest)?;
    let (first, after) = word(rest)?;
    let (addr, status) = match first {
        "==" | "**" => {
            let (a, rest) = word(after)?;
            (a, Some(error_text(rest)))
        }
        "=>" | "->" | "*>" => (word(after).map_or(after, |(a, _)| a), None),
        // Flagless: a deferral names its router and says `defer`.
        a if a.contains('@') && after.starts_with("R=") && after.contains(" defer") => {
            (a, Some(error_text(after)))
        }
        _ => return None,
    };
    Some((
        addr.trim_start_matches('<').trim_end_matches(['>', ':']),
        status,
    ))
}

/// The error part of a log line: after the router/transport/host fields (`R=x T=y defer (-44)
/// H=...: `), the text an administrator reads: after the first `]: `, else the first `: `.
fn error_text(rest: &str) -> &str {
    let b = rest.as_bytes();
    let mut after_colon = None;
    let mut from = 0;
    while let Some(i) = rest[from..].find(':').map(|i| from + i) {
        if b.get(i + 1) == Some(&b' ') {
            if i > 0 && b[i - 1] == b']' {
                after_colon = Some(i + 2);
                break;
            }
            after_colon.get_or_insert(i + 2);
        }
        from = i + 1;
    }
    match after_colon {
        Some(i) => rest[i..].trim(),
        None => rest.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Exim 4.96 (`exim -odq`), then given a delivered recipient and a deleted header.
    const GENUINE: &[u8] = b"1xYVPd-0004pL-03-H\nalice 1001 1001\n<alice@example.com>\n\
1796160561 0\n-received_time_usec .017135\n-ident alice\n-received_protocol local\n\
-aclm 0 5\nab\ncd\n-body_linecount 1\n-frozen 1796160600\nNN done@example.org\n2\n\
bob@example.net\ncarol@example.org rfc822;carol@example.org 26,0  0,-1#3\n\n\
156P Received: from alice by mail.example.com with local (Exim 4.96)\n\
\t(envelope-from <alice@example.com>)\n\tid 1xYVPd-0004pL-03;\n\
\tTue, 01 Dec 2026 21:29:21 +0000\n012  Subject: hi\n013* Subject: old\n\
049I Message-Id: <E1xYVPd-0004pL-03@mail.example.com>\n";

    #[test]
    fn genuine_file() {
        let h = parse_header(GENUINE);
        let m = &h.message;
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(h.complete);
        assert_eq!(m.id, "1xYVPd-0004pL-03");
        assert_eq!(m.login.as_deref(), Some("alice"));
        assert_eq!(m.uid, Some(1001));
        assert_eq!(m.sender.as_deref(), Some("alice@example.com"));
        assert_eq!(m.arrival, Some(1_796_160_561));
        assert!(m.held);
        assert_eq!(m.delivered, 1);
        let r: Vec<&str> = m.recipients.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(r, ["bob@example.net", "carol@example.org"]);
        assert_eq!(m.subject.as_deref(), Some("hi"));
        assert_eq!(h.header_bytes, 156 + 12 + 49);
        assert_eq!(listed_size(h.header_bytes, 24, &m.id), 217 + 5 + 1);
    }

    #[test]
    fn long_ids_and_trees() {
        assert!(is_id(b"1xYVPd-0004pL-03"));
        assert!(is_id(b"1rAbCd-0000000000C-ABCD"));
        assert!(!is_id(b"1xYVPd_0004pL-03"));
        assert!(!is_id(b"../../etc/passwd"));
        // A tree of three delivered addresses: root with two children.
        let f = b"1rAbCd-0000000000C-ABCD-H\nroot 0 0\n<>\n1 0\nYY a@x\nNN b@x\nNN c@x\n1\nd@x\n\n011  Subject: t\n";
        let h = parse_header(f);
        assert!(h.message.problems.is_empty(), "{:?}", h.message.problems);
        assert_eq!(h.message.id, "1rAbCd-0000000000C-ABCD");
        assert_eq!(h.message.delivered, 3);
        assert_eq!(h.message.recipient_count, 1);
        assert_eq!(h.message.sender.as_deref(), Some(""));
    }

    #[test]
    fn msglog_errors_per_recipient() {
        let mut m = parse_header(GENUINE).message;
        let log = b"2026-12-01 21:29:21 Received from alice@example.com U=alice P=local S=284\n\
2026-12-01 21:30:00 bob@example.net R=smarthost T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<bob@example.net>: 452 mailbox full\n\
2026-12-01 21:30:00 H=127.0.0.1 [127.0.0.1] SMTP error from remote mail server after RCPT TO:<bob@example.net>: 452 mailbox full\n\
2026-12-01 21:30:00 carol@example.org R=smarthost T=remote_smtp defer (111): Connection refused\n\
2026-12-01 21:30:30 => carol@example.org R=smarthost T=remote_smtp H=127.0.0.1 [127.0.0.1]\n\
2026-12-01 21:31:00 carol@example.org R=smarthost T=remote_smtp defer (111): Connection refused\n\
2026-12-01 21:31:00 == bob@example.net R=smarthost T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<bob@example.net>: 452 mailbox full\n";
        apply_msglog(&mut m, log);
        assert_eq!(
            m.recipients[0].status.as_deref(),
            Some("SMTP error from remote mail server after RCPT TO:<bob@example.net>: 452 mailbox full")
        );
        assert_eq!(
            m.recipients[1].status.as_deref(),
            Some("Connection refused")
        );
    }

    /// `apply_msglog` as it was before it borrowed its lines (one `String` per address and error),
    /// kept as the oracle the faster one must agree with.
    fn apply_msglog_copying(m: &mut MtaMessage, log: &[u8]) {
        fn error_text(rest: &str) -> String {
            match rest.find("]: ").or_else(|| rest.find(": ")) {
                Some(i) => {
                    let skip = if rest[i..].starts_with("]: ") { 3 } else { 2 };
                    rest[i + skip..].trim().to_string()
                }
                None => rest.trim().to_string(),
            }
        }
        let mut last: Vec<(String, Option<String>)> = Vec::new();
        for raw in log.split(|&b| b == b'\n') {
            let l = text(raw);
            let mut words = l.splitn(4, ' ');
            let (_date, _time) = (words.next(), words.next());
            let (Some(first), Some(after)) = (words.next(), words.next()) else {
                continue;
            };
            let (addr, status) = match first {
                "==" | "**" => match after.split_once(' ') {
                    Some((a, rest)) => (a, Some(error_text(rest))),
                    None => continue,
                },
                "=>" | "->" | "*>" => (after.split(' ').next().unwrap_or(after), None),
                a if a.contains('@') && after.starts_with("R=") && after.contains(" defer") => {
                    (a, Some(error_text(after)))
                }
                _ => continue,
            };
            let addr = addr.trim_start_matches('<').trim_end_matches(['>', ':']);
            match last.iter_mut().find(|(a, _)| a.eq_ignore_ascii_case(addr)) {
                Some(e) => e.1 = status,
                None => last.push((addr.to_string(), status)),
            }
        }
        for (addr, status) in last {
            if let Some(s) = status {
                m.set_status(&addr, s);
            }
        }
    }

    /// Logs made of the pieces the parser looks at (flags, addresses in several cases and with
    /// brackets, `R=`, ` defer`, `]: ` and `: `, doubled spaces, Unicode and invalid bytes): both
    /// parsers say the same of every recipient.
    #[test]
    fn msglog_parser_agrees_with_the_copying_one() {
        const PIECES: [&[u8]; 24] = [
            b"2026-12-01",
            b"21:30:00",
            b"==",
            b"**",
            b"=>",
            b"->",
            b"*>",
            b"bob@example.net",
            b"<BOB@example.net>",
            b"carol@example.org:",
            b"R=smarthost",
            b"T=remote_smtp",
            b"defer",
            b"(-44)",
            b"H=127.0.0.1 [127.0.0.1]:",
            b"]: ",
            b": ",
            b"452 mailbox full",
            b"\xc2\xa0",
            b"\xff",
            b"\\xff",
            b"\xe2\x80\x83x",
            b"",
            b"Connection refused",
        ];
        let mut rng = crate::testing::XorShift(0x9E37_79B9_7F4A_7C15);
        let mut next = || rng.next();
        let mut with_status = 0;
        for round in 0..4000 {
            let mut log = Vec::new();
            for _ in 0..(next() % 6) {
                let start: &[&[u8]] = if next() % 3 > 0 {
                    &[b"2026-12-01 21:30:00 "]
                } else {
                    &[]
                };
                log.extend(start.iter().flat_map(|p| p.iter()));
                for w in 0..(next() % 9) {
                    if w > 0 {
                        log.extend_from_slice(if next() % 7 == 0 { b"  " } else { b" " });
                    }
                    log.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
                }
                log.push(b'\n');
            }
            let mut fast = parse_header(GENUINE).message;
            let mut oracle = fast.clone();
            apply_msglog(&mut fast, &log);
            apply_msglog_copying(&mut oracle, &log);
            assert_eq!(
                fast,
                oracle,
                "round {round}: {}",
                String::from_utf8_lossy(&log)
            );
            with_status += !fast.statuses.is_empty() as usize;
        }
        assert!(with_status > 400, "only {with_status} logs set a status");
        // And on the genuine log of the test above, which sets statuses.
        let log = b"2026-12-01 21:30:00 bob@example.net R=smarthost T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]: SMTP error: 452 mailbox full\n\
2026-12-01 21:31:00 == carol@example.org R=smarthost T=remote_smtp defer (111): Connection refused\n";
        let mut fast = parse_header(GENUINE).message;
        let mut oracle = fast.clone();
        apply_msglog(&mut fast, log);
        apply_msglog_copying(&mut oracle, log);
        assert_eq!(fast, oracle);
        assert_eq!(fast.statuses.len(), 2);
    }

    /// `parse_header` as it was before it was split into one method per section (issue 15), kept
    /// verbatim as the oracle the split one must agree with.
    fn reference(data: &[u8]) -> Header {
        let mut h = Header::default();
        let m = &mut h.message;
        m.queue = "input".into();
        let mut pos = 0;
        let truncated = |m: &mut MtaMessage, what: &str| m.problem(format!("truncated in {what}"));
        // 1: the file's own name.
        let Some(name) = line(data, &mut pos) else {
            truncated(m, "the id line");
            return h;
        };
        match name.strip_suffix(b"-H") {
            Some(id) if is_id(id) => m.id = text(id),
            _ => m.problem(format!("line 1: not an -H id line: {}", text(name))),
        }
        // 2: login uid gid of the submitter.
        let Some(who) = line(data, &mut pos) else {
            truncated(m, "the submitter line");
            return h;
        };
        let fields: Vec<&[u8]> = who.split(|&b| b == b' ').collect();
        match fields.as_slice() {
            [login, uid, _gid] => {
                m.login = Some(text(login));
                m.uid = num(uid);
                if m.uid.is_none() {
                    m.problem("line 2: bad uid");
                }
            }
            _ => m.problem("line 2: expected 'login uid gid'"),
        }
        // 3: <sender>
        let Some(sender) = line(data, &mut pos) else {
            truncated(m, "the sender line");
            return h;
        };
        match sender.strip_prefix(b"<").and_then(|s| s.strip_suffix(b">")) {
            Some(s) => m.sender = Some(text(s)),
            None => m.problem("line 3: sender not in <>"),
        }
        // 4: received time and warning count.
        let Some(times) = line(data, &mut pos) else {
            truncated(m, "the time line");
            return h;
        };
        m.arrival = times.split(|&b| b == b' ').next().and_then(num::<i64>);
        if m.arrival.is_none() {
            m.problem("line 4: bad received time");
        }
        // `-name value` options; `-aclX name LEN` is followed by LEN bytes and a newline.
        let mut next = loop {
            let Some(l) = line(data, &mut pos) else {
                truncated(m, "the options");
                return h;
            };
            if l.first() != Some(&b'-') {
                break l;
            }
            let (opt, value) = match l.iter().position(|&b| b == b' ') {
                Some(i) => (&l[1..i], &l[i + 1..]),
                None => (&l[1..], &b""[..]),
            };
            match opt {
                b"frozen" => m.held = true,
                b"acl" | b"aclc" | b"aclm" => {
                    let len = value.rsplit(|&b| b == b' ').next().and_then(num::<usize>);
                    match len {
                        Some(n) if pos.saturating_add(n) < data.len() => pos += n + 1,
                        _ => {
                            truncated(m, "an ACL variable");
                            return h;
                        }
                    }
                }
                _ => {}
            }
        };
        // The non-recipients tree (delivered addresses): `XX` when empty, else nodes in pre-order,
        // each `LR address` where L and R say whether a left and a right subtree follow.
        if next != b"XX" {
            let mut pending: u64 = 1;
            let mut l = next;
            loop {
                if l.len() < 3 || !l[..2].iter().all(|&b| b == b'Y' || b == b'N') || l[2] != b' ' {
                    m.problem("bad non-recipients tree");
                    return h;
                }
                m.delivered += 1;
                pending = pending - 1 + l[..2].iter().filter(|&&b| b == b'Y').count() as u64;
                if pending == 0 {
                    break;
                }
                match line(data, &mut pos) {
                    Some(n) => l = n,
                    None => {
                        truncated(m, "the non-recipients tree");
                        return h;
                    }
                }
            }
        }
        next = match line(data, &mut pos) {
            Some(l) => l,
            None => {
                truncated(m, "the recipient count");
                return h;
            }
        };
        let Some(count) = num::<usize>(next) else {
            m.problem("bad recipient count");
            return h;
        };
        for i in 0..count {
            let Some(r) = line(data, &mut pos) else {
                truncated(m, "the recipients");
                return h;
            };
            // With DSN or errors-to data: `address orcpt len,flags errors_to len,pno#N`.
            let is_extended = r
                .rsplit(|&b| b == b'#')
                .next()
                .is_some_and(|t| !t.is_empty() && t.iter().all(u8::is_ascii_digit))
                && r.contains(&b'#');
            let addr = if is_extended {
                r.split(|&b| b == b' ').next().unwrap_or(r)
            } else {
                r
            };
            if addr.is_empty() {
                m.problem(format!("recipient {} is empty", i + 1));
            }
            m.add_recipient(text(addr));
        }
        // A blank line, then the headers.
        match line(data, &mut pos) {
            Some([]) => {}
            Some(_) => {
                m.problem("no blank line before the headers");
                return h;
            }
            None => {
                truncated(m, "the headers");
                return h;
            }
        }
        while pos < data.len() {
            let rest = &data[pos..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let len: Option<usize> = num(&rest[..digits]);
            let (Some(len), Some(&flag), Some(&b' ')) =
                (len, rest.get(digits), rest.get(digits + 1))
            else {
                m.problem(format!("bad header at byte {pos}"));
                return h;
            };
            let start = digits + 2;
            let Some(body) = rest.get(start..start.saturating_add(len)) else {
                truncated(m, "a header");
                return h;
            };
            if flag != b'*' {
                h.header_bytes += len as u64;
                if m.subject.is_none() {
                    if let Some(v) = header_value(body, "subject") {
                        m.subject = Some(unfold(v));
                    }
                }
            }
            pos += start + len;
        }
        h.complete = data.ends_with(b"\n") && h.header_bytes > 0;
        if !h.complete {
            truncated(m, "the headers");
        }
        h
    }

    /// As the runaway fixture's messages are written (`fixtures/mta/gen-runaway.py`).
    const RUNAWAY: &[u8] =
        b"1xYZUD-0000KL-4D-H\njdoe 1001 1001\n<jdoe@example.com>\n1796176221 0\n\
-received_time_usec .017135\n-ident jdoe\n-received_protocol local\n-body_linecount 500000\n\
-max_received_linelength 76\nXX\n3\nfull1@partner.example.net\nfull2@partner.example.net\n\
friend@partner.example.net\n\n154P Received: from jdoe by mail.example.com with local (Exim 4.96)\n\
\t(envelope-from <jdoe@example.com>)\n\tid 1xYZUD-0000KL-4D;\n\tTue, 01 Dec 2026 21:29:21 +0000\n\
024  Subject: holiday photos\n049I Message-Id: <E1xYZUD-0000KL-4D@mail.example.com>\n\
023F From: jdoe@example.com\n038  Date: Tue, 01 Dec 2026 21:29:21 +0000\n";

    /// Every `-H` file the parser should agree on: the genuine ones above, one per section's odd
    /// case, and the files under each directory in `TOOLKIT_MTA_CORPUS` (colon-separated: a test
    /// spool, the golden fixtures), read whole.
    fn corpus() -> Vec<Vec<u8>> {
        let mut c: Vec<Vec<u8>> = [
            GENUINE,
            RUNAWAY,
            b"1rAbCd-0000000000C-ABCD-H\nroot 0 0\n<>\n1 0\nYY a@x\nNN b@x\nNN c@x\n1\nd@x\n\n011  Subject: t\n",
            b"1xYVPd-0004pL-03-H\na 1 1\n<a@x>\n1 0\n-acl 3 2\nxy\n-aclc 1 0\n\n-frozen\nYN a@x\nNY b@x\nNN c@x\n0\n\n005* a: b\n",
            b"1xYVPd-0004pL-03-H\na b c d\n<a@x\n-1 0\nXX\n1\nx@y orcpt 1,0 e 0,-1#\n\n011  Subject: t",
            b"1xYVPd-0004pL-03-H\na x 1\n<>\n1 0\nXX\n2\n\n@ r 0,1#12\n\n0011 Subject: \xff\xfe\n",
            b"bad\n\n\n\n",
        ]
        .iter()
        .map(|f| f.to_vec())
        .collect();
        for dir in std::env::var("TOOLKIT_MTA_CORPUS")
            .unwrap_or_default()
            .split(':')
        {
            if !dir.is_empty() {
                files_under(std::path::Path::new(dir), &mut |p| {
                    if p.to_string_lossy().ends_with("-H") {
                        c.push(std::fs::read(p).unwrap());
                    }
                });
            }
        }
        c
    }

    /// Calls `f` on every regular file under `dir` (not following symlinks).
    fn files_under(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path)) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                files_under(&e.path(), f);
            } else if t.is_file() {
                f(&e.path());
            }
        }
    }

    /// The split parser says exactly what the one before it said (problem texts included) on every
    /// file of the corpus, on every truncation of each, and on thousands of seeded random byte
    /// flips, insertions and cuts of them.
    #[test]
    fn parser_agrees_with_the_reference() {
        let corpus = corpus();
        let mut seen = std::collections::BTreeSet::new();
        let mut check = |f: &[u8]| {
            let (new, old) = (parse_header(f), reference(f));
            assert_eq!(new, old, "on {:?}", String::from_utf8_lossy(f));
            seen.extend(
                new.message
                    .problems
                    .iter()
                    .map(|p| p.split(' ').take(3).collect::<Vec<_>>().join(" ")),
            );
            new.complete as usize
        };
        let mut complete = 0;
        for f in &corpus {
            for len in 0..=f.len() {
                complete += check(&f[..len]);
            }
        }
        let mut rng = crate::testing::XorShift(0x51_7CC1_B727_220A);
        let mut next = || rng.next();
        const BYTES: &[u8] = b"-YNX 0123456789\n<>@*#,H";
        for _ in 0..6000 {
            let mut f = corpus[(next() % corpus.len() as u64) as usize].clone();
            crate::testing::mutate(&mut next, &mut f, BYTES);
            if next() % 4 == 0 {
                f.truncate((next() as usize) % (f.len() + 1));
            }
            complete += check(&f);
        }
        // The inputs reach every section: complete files and each kind of problem.
        assert!(complete > 500, "only {complete} complete files");
        assert!(seen.len() >= 15, "only these problems: {seen:?}");
    }

    #[test]
    fn every_truncation_is_reported_never_a_panic() {
        for len in 0..GENUINE.len() {
            // Exim ends the file with its last header: a cut between two headers cannot be told
            // from a shorter message (Exim writes -H under another name and renames it whole).
            let rest = &GENUINE[len..];
            let between_headers = len > 0
                && GENUINE[len - 1] == b'\n'
                && rest.len() > 4
                && rest[..3].iter().all(u8::is_ascii_digit)
                && rest[4] == b' '
                && GENUINE[..len].windows(2).any(|w| w == b"\n\n");
            if between_headers && !GENUINE[..len].ends_with(b"\n\n") {
                continue;
            }
            let h = parse_header(&GENUINE[..len]);
            assert!(
                !h.complete || !h.message.problems.is_empty(),
                "truncated at {len} looks complete"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::testing::XorShift(0x2545_F491_4F6C_DD1D);
        let mut next = || rng.next();
        for round in 0..3000 {
            let len = (next() % 600) as usize;
            let mut buf: Vec<u8> = if round % 3 == 0 {
                GENUINE.to_vec()
            } else {
                (0..len).map(|_| next() as u8).collect()
            };
            let n = buf.len().max(1);
            for _ in 0..(next() % 8) {
                let i = (next() as usize) % n;
                if i < buf.len() {
                    buf[i] = b"-YN X0123456789\n<>@ *"[(next() % 21) as usize];
                }
            }
            let h = parse_header(&buf);
            assert!(h.message.problems.len() <= super::super::MAX_PROBLEMS);
            assert!(h.message.recipients.len() <= super::super::KEPT_RECIPIENTS);
            let mut m = h.message;
            apply_msglog(&mut m, &buf);
        }
    }
}
