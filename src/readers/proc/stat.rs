//! `proc/PID/stat`: the one line the kernel writes for a process, parsed from its bytes.
//!
//! The command name sits between the first `(` and the *last* `)` and may hold spaces, parentheses,
//! newlines and bytes that are not UTF-8 (a local user names their process): it is kept as
//! [`decode`] shows it (`\xNN` for bad bytes). Every field after it is checked against the type the
//! kernel writes (`fs/proc/array.c`), so a truncated or garbled line is an error, never a guess and
//! never a panic.

use crate::render::sanitize::decode;

/// The fields of `stat` that the commands use.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub pid: i32,
    pub comm: String,
    /// State letter as in `ps` STAT: R, S, D, Z, T, t, X, I...
    pub state: char,
    pub ppid: i32,
    /// Session id (0 when its leader is outside this PID namespace).
    pub session: i32,
    /// `PF_*` flags (`PF_KTHREAD` marks a kernel thread).
    pub flags: u32,
    /// Major page faults since the process started.
    pub majflt: u64,
    /// Live threads in the thread group.
    pub num_threads: i64,
    /// Start time in clock ticks after boot.
    pub starttime: u64,
}

/// How each field after the state is written: its type in `fs/proc/array.c`.
#[derive(Clone, Copy)]
enum Kind {
    I32,
    U32,
    I64,
    U64,
}

use Kind::*;

/// The 34 fields after the state that every kernel since 2.1 writes (ppid .. cnswap).
const REQUIRED: [Kind; 34] = [
    I32, I32, I32, I32, I32, // ppid pgrp session tty_nr tpgid
    U32, // flags
    U64, U64, U64, U64, U64, U64, // minflt cminflt majflt cmajflt utime stime
    I64, I64, I64, I64, I64, I64, // cutime cstime priority nice num_threads itrealvalue
    U64, U64, U64, U64, U64, U64, U64, U64,
    U64, // starttime vsize rss rsslim startcode endcode startstack kstkesp kstkeip
    U64, U64, U64, U64, U64, U64, U64, // signal blocked sigignore sigcatch wchan nswap cnswap
];

/// Fields later kernels append (exit_signal .. exit_code): absent on old kernels, checked when there.
const OPTIONAL: [Kind; 15] = [
    I32, I32, U32, U32, U64, U64, I64, U64, U64, U64, U64, U64, U64, U64, I32,
];

const PPID: usize = 0;
const SESSION: usize = 2;
const FLAGS: usize = 5;
const MAJFLT: usize = 8;
const NUM_THREADS: usize = 16;
const STARTTIME: usize = 18;

fn valid(kind: Kind, field: &str) -> bool {
    match kind {
        I32 => field.parse::<i32>().is_ok(),
        U32 => field.parse::<u32>().is_ok(),
        I64 => field.parse::<i64>().is_ok(),
        U64 => field.parse::<u64>().is_ok(),
    }
}

/// Parses a `stat` line; `Err` names what is wrong with it.
pub fn parse(bytes: &[u8]) -> Result<Stat, &'static str> {
    let bytes = bytes.trim_ascii();
    let open = bytes
        .iter()
        .position(|&b| b == b'(')
        .ok_or("no '(' before the command name")?;
    let close = bytes
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&c| c > open)
        .ok_or("no ')' after the command name")?;
    let pid = std::str::from_utf8(&bytes[..open])
        .ok()
        .and_then(|s| s.strip_suffix(' '))
        .and_then(|s| s.parse::<i32>().ok())
        .ok_or("no pid before the command name")?;
    let comm = decode(&bytes[open + 1..close]);
    let rest = bytes[close + 1..]
        .strip_prefix(b" ")
        .and_then(|r| std::str::from_utf8(r).ok())
        .ok_or("nothing readable after the command name")?;
    let mut fields = rest.split(' ');
    let state = fields
        .next()
        .and_then(|s| s.chars().next())
        .ok_or("no state")?;
    let fields: Vec<&str> = fields.collect();
    if fields.len() < REQUIRED.len() {
        return Err("truncated");
    }
    let kinds = REQUIRED.iter().chain(OPTIONAL.iter());
    if !fields.iter().zip(kinds).all(|(f, &k)| valid(k, f)) {
        return Err("a field is not a number of its type");
    }
    // Checked above: each parse below succeeds.
    let num = |i: usize| fields[i].parse::<i64>().unwrap_or_default();
    let unum = |i: usize| fields[i].parse::<u64>().unwrap_or_default();
    Ok(Stat {
        pid,
        comm,
        state,
        ppid: num(PPID) as i32,
        session: num(SESSION) as i32,
        flags: unum(FLAGS) as u32,
        majflt: unum(MAJFLT),
        num_threads: num(NUM_THREADS),
        starttime: unum(STARTTIME),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line (a cron job's shell) with the given pid, comm and state.
    fn line(pid: &str, comm: &[u8], state: &str) -> Vec<u8> {
        let mut l = format!("{pid} (").into_bytes();
        l.extend_from_slice(comm);
        l.extend_from_slice(
            format!(
                ") {state} 812 812 812 0 -1 4194560 120 0 3 0 0 0 0 0 20 0 1 0 81234 \
                 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
            )
            .as_bytes(),
        );
        l
    }

    #[test]
    fn fields_of_a_kernel_line() {
        let s = parse(&line("4242", b"sh", "Z")).unwrap();
        assert_eq!(
            s,
            Stat {
                pid: 4242,
                comm: "sh".into(),
                state: 'Z',
                ppid: 812,
                session: 812,
                flags: 4194560,
                majflt: 3,
                num_threads: 1,
                starttime: 81234,
            }
        );
    }

    #[test]
    fn comm_with_spaces_parens_newlines_and_bad_bytes() {
        for (raw, shown) in [
            (&b"a b"[..], "a b"),
            (b"x) S 1 (y", "x) S 1 (y"),
            (b"))", "))"),
            (b"new\nline", "new\nline"),
            (b"\xff\xfeok", "\\xff\\xfeok"),
            (b"", ""),
        ] {
            let s = parse(&line("7", raw, "S")).unwrap();
            assert_eq!(
                (s.pid, s.comm.as_str(), s.state),
                (7, shown, 'S'),
                "{raw:?}"
            );
            assert_eq!(s.starttime, 81234);
        }
    }

    #[test]
    fn truncated_or_garbled_is_an_error_never_a_panic() {
        let good = line("7", b"sh", "S");
        for cut in 0..good.len() - 1 {
            let r = parse(&good[..cut]);
            // The optional tail may be cut anywhere inside a number and still parse.
            let tail = good.len() - b" 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n".len();
            if cut < tail {
                assert!(r.is_err(), "cut at {cut}: {r:?}");
            }
        }
        for bad in [
            &b"garbage"[..],
            b"(",
            b")",
            b"(x)",
            b"1 (x)",
            b"1 (x) ",
            b"1 (x) Z",
            b"\xff\xff",
            b"1 (a) Z 1 1 1 1 1 1",
            b")1 (",
            b"x (sh) S 1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let mut l = line("7", b"sh", "S");
        let n = l.len();
        l[n - 4] = b'x';
        assert!(parse(&l).is_err(), "a bad optional field");
        assert!(parse(&line("-", b"sh", "S")).is_err());
        assert!(parse(&line("7", b"sh", "")).is_err(), "no state");
    }
}
