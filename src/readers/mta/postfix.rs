//! Postfix queue files parsed as Postfix writes them (src/global/rec_type.h, record.c): a sequence of
//! records, each a type byte, a length in 7-bit groups (low first, high bit = more) and the data.
//! The envelope (size, arrival time, sender, recipients, done recipients) comes first, then the
//! content (only its headers are read: the subject and pickup's `Received: ... (Postfix, from userid
//! N)`), then the extracted section. Pointer records are followed, each at most once. The defer and
//! bounce logs (`defer/ID`, `bounce/ID`) give the reason per recipient.

use super::{header_value, unfold, userid_in_received, MtaMessage};
use crate::readers::mqueue::qf::lossless_text;

/// Part of a queue file: the head, and optionally a piece further on (the extracted section of a
/// message too large to read whole).
#[derive(Debug, Clone, Default)]
pub struct Image {
    pub head: Vec<u8>,
    pub tail_offset: u64,
    pub tail: Vec<u8>,
    /// The file's full length.
    pub len: u64,
}

impl Image {
    pub fn whole(bytes: Vec<u8>) -> Image {
        Image {
            len: bytes.len() as u64,
            head: bytes,
            ..Default::default()
        }
    }

    /// The bytes from `off` to the end of the piece that holds it.
    fn at(&self, off: u64) -> Option<&[u8]> {
        if off < self.head.len() as u64 {
            return Some(&self.head[off as usize..]);
        }
        let rel = off.checked_sub(self.tail_offset)?;
        (rel < self.tail.len() as u64).then(|| &self.tail[rel as usize..])
    }
}

/// What the queue file says, and where the parser would need more of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFile {
    pub message: MtaMessage,
    /// Offset of the extracted section (after the content), from the size record.
    pub xtra_offset: Option<u64>,
    /// The end record was reached.
    pub complete: bool,
    /// Where the parser needed bytes that were not read (a larger head, or the tail).
    pub beyond: Option<u64>,
}

enum Rec<'a> {
    Ok(u8, &'a [u8], u64),
    /// Needs bytes beyond what was read (a large message): not an error.
    Beyond,
    Bad(&'static str),
}

/// Reads the record at `off`; returns its type, data and the next record's offset.
fn record(img: &Image, off: u64) -> Rec<'_> {
    if off >= img.len {
        return Rec::Bad("truncated: no end record");
    }
    let Some(b) = img.at(off) else {
        return Rec::Beyond;
    };
    let kind = b[0];
    let mut len: u64 = 0;
    let mut i = 1;
    loop {
        let Some(&c) = b.get(i) else {
            return if off + i as u64 >= img.len {
                Rec::Bad("truncated record length")
            } else {
                Rec::Beyond
            };
        };
        len |= ((c & 0x7f) as u64) << (7 * (i - 1));
        i += 1;
        if c & 0x80 == 0 {
            break;
        }
        if i > 5 {
            return Rec::Bad("record length too long");
        }
    }
    let end = i as u64 + len;
    if off + end > img.len {
        return Rec::Bad("truncated record");
    }
    match b.get(i..end as usize) {
        Some(d) => Rec::Ok(kind, d, off + end),
        None => Rec::Beyond,
    }
}

fn num<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Where the extracted section starts, from the size record at the head of a queue file (so that a
/// reader can fetch it with the head, without parsing twice).
pub fn xtra_offset(head: &[u8]) -> Option<u64> {
    let img = Image {
        head: head.to_vec(),
        len: u64::MAX,
        ..Default::default()
    };
    match record(&img, 0) {
        Rec::Ok(b'C', data, _) => {
            let f: Vec<u64> = data
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .take(2)
                .filter_map(num)
                .collect();
            match f.as_slice() {
                [size, off] => off.checked_add(*size),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a file name can be a Postfix queue id: short ids are hexadecimal, long ones (3.0+,
/// `enable_long_queue_ids`) alphanumeric; nothing else is a message (and no other name reaches a
/// plan, a command or an undo line).
pub fn is_id(name: &[u8]) -> bool {
    (1..=64).contains(&name.len()) && name.iter().all(u8::is_ascii_alphanumeric)
}

/// Parses a queue file (`id` is its name). Never fails: problems are listed.
pub fn parse(id: &str, queue: &str, img: &Image) -> QueueFile {
    let mut w = Walk {
        img,
        q: QueueFile::default(),
        off: 0,
        jumps: 0,
        in_content: false,
        in_headers: false,
        header: Vec::new(),
        seen_size: false,
    };
    let m = &mut w.q.message;
    m.id = id.to_string();
    m.queue = queue.to_string();
    m.held = queue == "hold";
    while w.step() {}
    if !w.seen_size {
        // Files in maildrop have no size record yet: the listing shows the file's size.
        w.q.message.size = img.len;
    }
    w.q
}

/// A walk over a queue file's records, one at a time from `off`.
struct Walk<'a> {
    img: &'a Image,
    q: QueueFile,
    off: u64,
    /// Pointer records followed so far.
    jumps: u32,
    /// Between the content record (`M`) and the extracted one (`X`).
    in_content: bool,
    /// In the content, before the blank line that ends the headers.
    in_headers: bool,
    /// The header being read, continuation lines included.
    header: Vec<u8>,
    seen_size: bool,
}

impl Walk<'_> {
    /// Reads the record at `off` and moves past it; false when the walk ends there.
    fn step(&mut self) -> bool {
        let (kind, data, next) = match record(self.img, self.off) {
            Rec::Ok(k, d, n) => (k, d, n),
            Rec::Beyond => return self.beyond(),
            Rec::Bad(why) => {
                let off = self.off;
                self.q.message.problem(format!("{why} at byte {off}"));
                return false;
            }
        };
        if self.in_content && matches!(kind, b'N' | b'L') {
            self.content_line(data, next);
            return true;
        }
        self.envelope_record(kind, data, next)
    }

    /// The record at `off` is past the bytes read: inside a large body, skip to the extracted
    /// section when the size record said where; else the walk ends, saying where it needs bytes.
    fn beyond(&mut self) -> bool {
        match self.q.xtra_offset {
            Some(x) if x > self.off && self.in_content => {
                self.off = x;
                self.in_content = false;
                true
            }
            _ => {
                let off = self.off;
                self.q
                    .message
                    .problem(format!("record at {off} beyond the part read"));
                self.q.beyond = Some(off);
                false
            }
        }
    }

    /// A line of the content: header lines are gathered (a new one starts unless it begins with
    /// white space) up to the blank line, then the body is skipped.
    fn content_line(&mut self, data: &[u8], next: u64) {
        if self.in_headers {
            let cont = matches!(data.first(), Some(b' ' | b'\t'));
            if !cont {
                finish_header(&mut self.q.message, &self.header);
                self.header.clear();
            }
            if data.is_empty() || (!cont && !data.contains(&b':')) {
                self.in_headers = false;
                if let Some(x) = self.q.xtra_offset.filter(|&x| x > next) {
                    self.off = x;
                    self.in_content = false;
                    return;
                }
            } else {
                if cont {
                    self.header.push(b'\n');
                }
                self.header.extend_from_slice(data);
            }
        }
        self.off = next;
    }

    /// Any record but a content line; false when the walk ends at it.
    fn envelope_record(&mut self, kind: u8, data: &[u8], next: u64) -> bool {
        let m = &mut self.q.message;
        match kind {
            b'C' => self.size_record(data),
            b'T' => m.arrival = num(data),
            b'S' => m.sender = Some(lossless_text(data)),
            b'R' => m.add_recipient(lossless_text(data)),
            b'D' | b'/' => m.delivered += 1,
            b'p' => return self.pointer(data, next),
            b'M' => {
                self.in_content = true;
                self.in_headers = true;
            }
            b'X' => {
                finish_header(m, &self.header);
                self.header.clear();
                self.in_content = false;
                self.in_headers = false;
            }
            b'E' => {
                self.q.complete = true;
                return false;
            }
            // Known records the scan has no use for.
            b'c' | b'F' | b'I' | b'L' | b'O' | b'W' | b'A' | b'K' | b'>' | b'f' | b'd' | b'P'
            | b'V' | b'r' | b'e' | b'i' | b'o' | b'n' | b'<' | b'm' | b'N' | b'w' => {}
            other => {
                let off = self.off;
                m.problem(format!(
                    "unknown record type '{}' at byte {off}",
                    lossless_text(&[other])
                ));
                return false;
            }
        }
        self.off = next;
        true
    }

    /// `C`: the content's size and offset, which give the extracted section's offset.
    fn size_record(&mut self, data: &[u8]) {
        let f: Vec<u64> = data
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .filter_map(num)
            .collect();
        match f.as_slice() {
            [size, data_off, ..] => {
                self.q.message.size = *size;
                self.q.xtra_offset = data_off.checked_add(*size);
                self.seen_size = true;
            }
            _ => self.q.message.problem("bad size record"),
        }
    }

    /// `p`: a pointer to the next record (0: the one that follows). At most 1000 are followed,
    /// and never one to itself; false when the walk ends at it.
    fn pointer(&mut self, data: &[u8], next: u64) -> bool {
        match num::<u64>(data) {
            Some(0) => self.off = next,
            Some(to) if self.jumps < 1000 && to != self.off => {
                self.jumps += 1;
                self.off = to;
            }
            _ => {
                self.q.message.problem("bad or looping pointer record");
                return false;
            }
        }
        true
    }
}

fn finish_header(m: &mut MtaMessage, h: &[u8]) {
    if h.is_empty() {
        return;
    }
    if m.subject.is_none() {
        if let Some(v) = header_value(h, "subject") {
            m.subject = Some(unfold(v));
        }
    }
    if m.uid.is_none() {
        if let Some(v) = header_value(h, "received") {
            m.uid = userid_in_received(&unfold(v));
        }
    }
}

/// Applies a defer or bounce log: `name=value` lines, one block per recipient, `recipient=` and
/// `reason=` read.
pub fn apply_log(m: &mut MtaMessage, log: &[u8]) {
    let text = lossless_text(log);
    let text = text.replace("\\n", "\n");
    let mut rcpt: Option<String> = None;
    let mut reason: Option<String> = None;
    let flush = |m: &mut MtaMessage, rcpt: &mut Option<String>, reason: &mut Option<String>| {
        if let (Some(r), Some(why)) = (rcpt.take(), reason.take()) {
            m.set_status(&r, why);
        }
    };
    for l in text.lines() {
        if l.is_empty() {
            flush(m, &mut rcpt, &mut reason);
        } else if let Some(v) = l.strip_prefix("recipient=") {
            flush(m, &mut rcpt, &mut reason);
            rcpt = Some(v.to_string());
        } else if let Some(v) = l.strip_prefix("reason=") {
            reason = Some(v.to_string());
        }
    }
    flush(m, &mut rcpt, &mut reason);
}

#[cfg(test)]
mod tests {
    #[test]
    fn queue_ids_short_and_long_and_nothing_else() {
        assert!(is_id(b"89E9B98C922"));
        assert!(is_id(b"4Qx1Yb2Z3cz9abc"));
        for odd in [
            &b""[..],
            b"0000098C2D1;touch pwned",
            b"../x",
            b"a b",
            b"\x1b[2J",
            &[b'A'; 65],
        ] {
            assert!(!is_id(odd), "{odd:?}");
        }
    }

    use super::*;

    fn rec(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        let mut len = data.len();
        loop {
            let mut b = (len & 0x7f) as u8;
            len >>= 7;
            if len > 0 {
                b |= 0x80;
            }
            out.push(b);
            if len == 0 {
                break;
            }
        }
        out.extend_from_slice(data);
        out
    }

    /// A deferred queue file as Postfix 3.7 writes it (the layout of one read from a real queue).
    fn genuine(body_lines: usize) -> Vec<u8> {
        let mut envelope = Vec::new();
        envelope.extend(rec(b'T', b"1796160632 140028"));
        envelope.extend(rec(b'A', b"create_time=1796160640"));
        envelope.extend(rec(b'F', b"root"));
        envelope.extend(rec(b'S', b"alice@example.com"));
        envelope.extend(rec(b'O', b"bob@example.net"));
        envelope.extend(rec(b'R', b"bob@example.net"));
        envelope.extend(rec(b'D', b"done@example.org"));
        envelope.extend(rec(b'R', b"carol@example.org"));
        let mut content = Vec::new();
        content.extend(rec(
            b'N',
            b"Received: by mail.example.com (Postfix, from userid 1001)",
        ));
        content.extend(rec(
            b'N',
            b"\tid 89E9B98C922; Tue,  1 Dec 2026 21:30:32 +0000 (UTC)",
        ));
        content.extend(rec(b'N', b"Subject: holiday"));
        content.extend(rec(b'N', b"\tphotos"));
        content.extend(rec(b'N', b"From: alice@example.com"));
        content.extend(rec(b'N', b""));
        for _ in 0..body_lines {
            content.extend(rec(b'N', &[b'x'; 76]));
        }
        // The size record is fixed-width, so its length does not depend on the values.
        let size_len = rec(b'C', &[b' '; 95]).len();
        let data_offset = size_len + envelope.len() + 2;
        let c = format!(
            "{:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
            content.len(),
            data_offset,
            2,
            0,
            content.len(),
            0
        );
        let mut f = rec(b'C', c.as_bytes());
        f.extend(envelope);
        f.extend(rec(b'M', b""));
        assert_eq!(f.len(), data_offset);
        f.extend(content);
        f.extend(rec(b'X', b""));
        f.extend(rec(b'E', b""));
        f
    }

    #[test]
    fn genuine_file() {
        let f = genuine(3);
        let q = parse("89E9B98C922", "deferred", &Image::whole(f));
        let m = &q.message;
        assert!(q.complete && m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.arrival, Some(1_796_160_632));
        assert_eq!(m.sender.as_deref(), Some("alice@example.com"));
        assert_eq!(m.recipient_count, 2);
        assert_eq!(m.delivered, 1);
        assert_eq!(m.uid, Some(1001));
        assert_eq!(m.subject.as_deref(), Some("holiday photos"));
        assert!(!m.held);
    }

    #[test]
    fn a_large_body_is_skipped_to_its_extracted_section() {
        let f = genuine(20_000);
        let len = f.len() as u64;
        let x_at = f.len() - 4;
        let img = Image {
            head: f[..4096].to_vec(),
            tail_offset: x_at as u64,
            tail: f[x_at..].to_vec(),
            len,
        };
        let q = parse("A", "hold", &img);
        assert!(q.complete, "{:?}", q.message.problems);
        assert!(q.message.held);
        assert_eq!(q.message.subject.as_deref(), Some("holiday photos"));
        assert!(q.message.size > 20_000 * 76);
    }

    #[test]
    fn defer_log_reasons() {
        let mut m = parse("A", "deferred", &Image::whole(genuine(1))).message;
        apply_log(
            &mut m,
            b"recipient=bob@example.net\noffset=242\nstatus=4.4.1\naction=delayed\n\
reason=connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n\n",
        );
        assert_eq!(
            m.recipients[0].status.as_deref(),
            Some("connect to 127.0.0.1[127.0.0.1]:9: Connection refused")
        );
        assert_eq!(m.recipients[1].status, None);
    }

    /// `parse` as it was before it was split into one method per record kind (issue 15), kept
    /// verbatim as the oracle the split one must agree with (`record`, `num` and `finish_header`
    /// are unchanged).
    fn reference(id: &str, queue: &str, img: &Image) -> QueueFile {
        let mut q = QueueFile::default();
        let m = &mut q.message;
        m.id = id.to_string();
        m.queue = queue.to_string();
        m.held = queue == "hold";
        let mut off = 0u64;
        let mut jumps = 0;
        let mut in_content = false;
        let mut in_headers = false;
        let mut header: Vec<u8> = Vec::new();
        let mut seen_size = false;
        loop {
            let (kind, data, next) = match record(img, off) {
                Rec::Ok(k, d, n) => (k, d, n),
                Rec::Beyond => {
                    // Inside a large body: skip to the extracted section when the size record said where.
                    match q.xtra_offset {
                        Some(x) if x > off && in_content => {
                            off = x;
                            in_content = false;
                            continue;
                        }
                        _ => {
                            m.problem(format!("record at {off} beyond the part read"));
                            q.beyond = Some(off);
                            break;
                        }
                    }
                }
                Rec::Bad(why) => {
                    m.problem(format!("{why} at byte {off}"));
                    break;
                }
            };
            if in_content && matches!(kind, b'N' | b'L') {
                if in_headers {
                    // Header lines: a new one starts unless it begins with white space.
                    let cont = matches!(data.first(), Some(b' ' | b'\t'));
                    if !cont {
                        finish_header(m, &header);
                        header.clear();
                    }
                    if data.is_empty() || (!cont && !data.contains(&b':')) {
                        in_headers = false;
                        if let Some(x) = q.xtra_offset.filter(|&x| x > next) {
                            off = x;
                            in_content = false;
                            continue;
                        }
                    } else {
                        if cont {
                            header.push(b'\n');
                        }
                        header.extend_from_slice(data);
                    }
                }
                off = next;
                continue;
            }
            match kind {
                b'C' => {
                    let f: Vec<u64> = data
                        .split(|b| b.is_ascii_whitespace())
                        .filter(|w| !w.is_empty())
                        .filter_map(num)
                        .collect();
                    match f.as_slice() {
                        [size, data_off, ..] => {
                            m.size = *size;
                            q.xtra_offset = data_off.checked_add(*size);
                            seen_size = true;
                        }
                        _ => m.problem("bad size record"),
                    }
                }
                b'T' => m.arrival = num(data),
                b'S' => m.sender = Some(lossless_text(data)),
                b'R' => m.add_recipient(lossless_text(data)),
                b'D' | b'/' => m.delivered += 1,
                b'p' => match num::<u64>(data) {
                    Some(0) => {}
                    Some(to) if jumps < 1000 && to != off => {
                        jumps += 1;
                        off = to;
                        continue;
                    }
                    _ => {
                        m.problem("bad or looping pointer record");
                        break;
                    }
                },
                b'M' => {
                    in_content = true;
                    in_headers = true;
                }
                b'X' => {
                    finish_header(m, &header);
                    header.clear();
                    in_content = false;
                    in_headers = false;
                }
                b'E' => {
                    q.complete = true;
                    break;
                }
                // Known records the scan has no use for.
                b'c' | b'F' | b'I' | b'L' | b'O' | b'W' | b'A' | b'K' | b'>' | b'f' | b'd'
                | b'P' | b'V' | b'r' | b'e' | b'i' | b'o' | b'n' | b'<' | b'm' | b'N' | b'w' => {}
                other => {
                    m.problem(format!(
                        "unknown record type '{}' at byte {off}",
                        lossless_text(&[other])
                    ));
                    break;
                }
            }
            off = next;
        }
        if !seen_size {
            // Files in maildrop have no size record yet: the listing shows the file's size.
            m.size = img.len;
        }
        q
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

    /// Queue files as the scan reads them: whole, or (large ones) a head and the extracted section.
    fn corpus() -> Vec<Image> {
        let mut c: Vec<Image> = (0..4).map(|n| Image::whole(genuine(n))).collect();
        let big = genuine(2_000);
        let x_at = big.len() - 4;
        c.push(Image {
            head: big[..4096].to_vec(),
            tail_offset: x_at as u64,
            tail: big[x_at..].to_vec(),
            len: big.len() as u64,
        });
        // Maildrop (no size record), a pointer record, a pointer to itself, an unknown record.
        let mut maildrop = rec(b'T', b"1796160632 0");
        maildrop.extend(rec(b'S', b"a@x"));
        maildrop.extend(rec(b'M', b""));
        maildrop.extend(rec(b'N', b"Subject: s"));
        maildrop.extend(rec(b'N', b""));
        maildrop.extend(rec(b'X', b""));
        maildrop.extend(rec(b'E', b""));
        c.push(Image::whole(maildrop.clone()));
        let mut ptr = rec(b'p', b"0");
        ptr.extend(rec(b'p', format!("{:>15}", 18 + 3).as_bytes()));
        ptr.extend(rec(b'p', b"0"));
        ptr.extend(maildrop);
        ptr.extend(rec(b'p', b"0"));
        c.push(Image::whole(ptr));
        c.push(Image::whole(
            rec(b'p', b"0").into_iter().chain(rec(b'p', b"3")).collect(),
        ));
        c.push(Image::whole([rec(b'C', b"1 2 x"), rec(b'Q', b"")].concat()));
        c.push(Image::whole(vec![
            b'N', 0x80, 0x80, 0x80, 0x80, 0x80, 1, b'x',
        ]));
        // The files under each directory of `TOOLKIT_MTA_CORPUS` named as Postfix names them,
        // read as the scan reads them.
        for dir in std::env::var("TOOLKIT_MTA_CORPUS")
            .unwrap_or_default()
            .split(':')
        {
            if dir.is_empty() {
                continue;
            }
            files_under(std::path::Path::new(dir), &mut |p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                let queued = p.parent().unwrap().ancestors().any(|a| {
                    a.file_name().is_some_and(|n| {
                        [
                            "active", "deferred", "hold", "incoming", "maildrop", "corrupt",
                        ]
                        .contains(&n.to_string_lossy().as_ref())
                    })
                });
                if !queued || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return;
                }
                use std::io::{Read, Seek};
                let mut file = std::fs::File::open(p).unwrap();
                let len = file.metadata().unwrap().len();
                let mut head = Vec::new();
                (&mut file).take(1 << 20).read_to_end(&mut head).unwrap();
                let mut img = Image {
                    head,
                    len,
                    ..Default::default()
                };
                if let Some(off) =
                    xtra_offset(&img.head).filter(|&x| x >= img.head.len() as u64 && x < len)
                {
                    file.seek(std::io::SeekFrom::Start(off)).unwrap();
                    file.take(1 << 20).read_to_end(&mut img.tail).unwrap();
                    img.tail_offset = off;
                }
                c.push(img);
            });
        }
        c
    }

    /// The split parser says exactly what the one before it said (problem texts included) on every
    /// image of the corpus, on every truncation of each, and on thousands of seeded random byte
    /// flips, insertions and cuts of them, split at random into a head and a tail.
    #[test]
    fn parser_agrees_with_the_reference() {
        let corpus = corpus();
        let mut seen = std::collections::BTreeSet::new();
        let mut check = |img: &Image, queue: &str| {
            let (new, old) = (parse("A1B2", queue, img), reference("A1B2", queue, img));
            assert_eq!(new, old, "on {img:?}");
            seen.extend(
                new.message
                    .problems
                    .iter()
                    .map(|p| p.split(' ').take(3).collect::<Vec<_>>().join(" ")),
            );
            new.complete as usize
        };
        let mut complete = 0;
        // (A head of a megabyte, from the corpus directories, is checked whole and mutated only.)
        for img in corpus.iter().filter(|i| i.head.len() <= 1 << 16) {
            for len in 0..=img.head.len().min(4096) {
                let cut = Image {
                    head: img.head[..len].to_vec(),
                    ..img.clone()
                };
                complete += check(&cut, "deferred");
                complete += check(&Image::whole(img.head[..len].to_vec()), "hold");
            }
        }
        let mut rng = crate::testing::XorShift(0x2F0A_8C3B_91D4_E675);
        let mut next = || rng.next();
        const BYTES: &[u8] = b"CTSRDpMNXELcE\x80\x7f\x00 0123456789:\t";
        for _ in 0..6000 {
            let base = &corpus[(next() % corpus.len() as u64) as usize];
            let mut f = base.head.clone();
            crate::testing::mutate(&mut next, &mut f, BYTES);
            let img = match next() % 3 {
                0 => Image::whole(f),
                1 => Image {
                    head: f,
                    ..base.clone()
                },
                _ => {
                    let cut = (next() as usize) % (f.len() + 1);
                    Image {
                        head: f[..cut].to_vec(),
                        tail_offset: next() % (f.len() as u64 + 2),
                        tail: f[cut..].to_vec(),
                        len: f.len() as u64 + next() % 3,
                    }
                }
            };
            complete += check(
                &img,
                ["deferred", "hold", "maildrop"][(next() % 3) as usize],
            );
        }
        // The inputs reach every record kind: complete files and each kind of problem.
        assert!(complete > 500, "only {complete} complete files");
        assert!(seen.len() >= 8, "only these problems: {seen:?}");
    }

    #[test]
    fn every_truncation_is_reported_never_a_panic() {
        let f = genuine(2);
        for len in 0..f.len() {
            let q = parse("A", "active", &Image::whole(f[..len].to_vec()));
            assert!(!q.complete, "truncated at {len} looks complete");
            assert!(
                !q.message.problems.is_empty(),
                "truncated at {len}: no problem"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::testing::XorShift(0x9E37_79B9_7F4A_7C15);
        let mut next = || rng.next();
        let base = genuine(2);
        for round in 0..3000 {
            let mut buf: Vec<u8> = if round % 2 == 0 {
                base.clone()
            } else {
                (0..(next() % 700)).map(|_| next() as u8).collect()
            };
            for _ in 0..(next() % 6) {
                if !buf.is_empty() {
                    let i = (next() as usize) % buf.len();
                    buf[i] = b"CTSRDpMNXE\x80\x7f0 "[(next() % 14) as usize];
                }
            }
            let cut = (next() as usize) % (buf.len() + 1);
            let img = Image {
                head: buf[..cut].to_vec(),
                tail_offset: (next() % 800),
                tail: buf[cut..].to_vec(),
                len: buf.len() as u64 + next() % 3,
            };
            let q = parse("A", "deferred", &img);
            assert!(q.message.recipients.len() <= super::super::KEPT_RECIPIENTS);
            let mut m = q.message;
            apply_log(&mut m, &buf);
        }
    }
}
