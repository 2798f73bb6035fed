//! `proc/PID/status`: the kernel's `Key:\tvalue` lines, parsed once into what any command uses.
//!
//! Each consumer asks for what it needs and sees its own failure: the process table needs
//! `TracerPid` and `Uid`, the memory reader the `Vm` lines (a bad one is an error; none at all means
//! no address space), the details of a process that matters its signal masks, on a file that has
//! every line a kernel since 2.6.26 writes (one without them is truncated or not a status file).
//! A process name that is not UTF-8 does not hide the rest of the file.

/// Memory lines of `status`, in bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vm {
    /// VmRSS.
    pub rss: u64,
    /// RssAnon (kernels 4.5+).
    pub anon: Option<u64>,
    /// VmSize.
    pub vsize: u64,
    /// VmHWM.
    pub peak: u64,
    /// VmSwap.
    pub swap: u64,
}

/// One parse of a `status` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// TracerPid (0: not traced).
    pub tracer: Option<i32>,
    /// Real uid (first field of `Uid:`).
    pub uid: Option<u32>,
    /// The memory lines: `Ok(None)` without an address space (a kernel thread, an exiting process).
    pub vm: Result<Option<Vm>, String>,
    /// SigCgt, SigIgn, SigBlk.
    pub sigcgt: u64,
    pub sigign: u64,
    pub sigblk: u64,
    /// NSpid: the pid in each PID namespace, the outermost first (kernels 4.1+).
    pub nspid: Option<Vec<i32>>,
    /// Every line the kernel always writes is there and well-formed.
    pub complete: bool,
}

/// Lines every kernel since 2.6.26 writes, with how their value must read.
const ALWAYS: [(&[u8], Value); 20] = [
    (b"Name", Value::Any),
    (b"State", Value::Any),
    (b"Tgid", Value::Int),
    (b"Pid", Value::Int),
    (b"PPid", Value::Int),
    (b"TracerPid", Value::Int),
    (b"Uid", Value::Ids),
    (b"Gid", Value::Ids),
    (b"FDSize", Value::Int),
    (b"Groups", Value::List),
    (b"Threads", Value::Int),
    (b"SigQ", Value::Queue),
    (b"SigPnd", Value::Hex),
    (b"ShdPnd", Value::Hex),
    (b"SigBlk", Value::Hex),
    (b"SigIgn", Value::Hex),
    (b"SigCgt", Value::Hex),
    (b"CapInh", Value::Hex),
    (b"CapPrm", Value::Hex),
    (b"CapEff", Value::Hex),
];

/// Optional lines that, when present, must still be well-formed.
const WHEN_THERE: [(&[u8], Value); 5] = [
    (b"Ngid", Value::Int),
    (b"NStgid", Value::List),
    (b"NSpid", Value::List),
    (b"NSpgid", Value::List),
    (b"NSsid", Value::List),
];

#[derive(Clone, Copy)]
enum Value {
    Any,
    Int,
    /// Four ids (real, effective, saved, filesystem).
    Ids,
    /// Whitespace-separated numbers, possibly none.
    List,
    /// `queued/limit`.
    Queue,
    Hex,
}

fn well_formed(kind: Value, v: &str) -> bool {
    let v = v.trim();
    match kind {
        Value::Any => true,
        Value::Int => v.parse::<i64>().is_ok(),
        Value::Ids => {
            let ids: Vec<&str> = v.split_whitespace().collect();
            ids.len() >= 4 && ids[..4].iter().all(|i| i.parse::<u32>().is_ok())
        }
        Value::List => v.split_whitespace().all(|i| i.parse::<i64>().is_ok()),
        Value::Queue => v
            .split_once('/')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok()),
        Value::Hex => u64::from_str_radix(v, 16).is_ok(),
    }
}

/// `N kB` as bytes.
fn kb(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    let mut words = s.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB") && words.next().is_none()).then_some(n.checked_mul(1024)?)
}

/// Parses a non-empty `status` file (an empty one is a process being torn down: the caller's case).
pub fn parse(bytes: &[u8]) -> Status {
    let mut s = Status {
        tracer: None,
        uid: None,
        vm: Ok(None),
        sigcgt: 0,
        sigign: 0,
        sigblk: 0,
        nspid: None,
        complete: true,
    };
    let mut vm = Vm::default();
    let (mut has_size, mut has_rss) = (false, false);
    let mut vm_error = None;
    let mut seen = [false; ALWAYS.len()];
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, raw) = (&line[..colon], &line[colon + 1..]);
        let text = std::str::from_utf8(raw).ok();
        let value = text.unwrap_or("").trim();
        if let Some(i) = ALWAYS.iter().position(|(k, _)| *k == key) {
            seen[i] = true;
            let kind = ALWAYS[i].1;
            if !matches!(kind, Value::Any) && (text.is_none() || !well_formed(kind, value)) {
                s.complete = false;
            }
        } else if let Some((_, kind)) = WHEN_THERE.iter().find(|(k, _)| *k == key) {
            if !well_formed(*kind, value) {
                s.complete = false;
            }
        }
        let hex = || u64::from_str_radix(value, 16).unwrap_or(0);
        match key {
            b"TracerPid" => s.tracer = value.parse().ok(),
            b"Uid" => s.uid = value.split_whitespace().next().and_then(|u| u.parse().ok()),
            b"SigCgt" => s.sigcgt = hex(),
            b"SigIgn" => s.sigign = hex(),
            b"SigBlk" => s.sigblk = hex(),
            b"NSpid" => {
                s.nspid = Some(
                    value
                        .split_whitespace()
                        .filter_map(|p| p.parse().ok())
                        .collect(),
                )
            }
            _ => {}
        }
        let slot: &mut u64 = match key {
            b"VmSize" => {
                has_size = true;
                &mut vm.vsize
            }
            b"VmRSS" => {
                has_rss = true;
                &mut vm.rss
            }
            b"VmHWM" => &mut vm.peak,
            b"VmSwap" => &mut vm.swap,
            b"RssAnon" => vm.anon.insert(0),
            k if k.starts_with(b"Vm") || k.starts_with(b"Rss") || k == b"HugetlbPages" => {
                if kb(raw).is_none() {
                    s.complete = false;
                }
                continue;
            }
            _ => continue,
        };
        match kb(raw) {
            Some(v) => *slot = v,
            None => {
                s.complete = false;
                vm_error.get_or_insert_with(|| {
                    format!(
                        "bad {} line (expected 'N kB')",
                        String::from_utf8_lossy(key)
                    )
                });
            }
        }
    }
    s.complete &= seen.iter().all(|&x| x);
    s.vm = match (vm_error, has_size, has_rss) {
        (Some(e), _, _) => Err(e),
        (None, false, false) => Ok(None),
        (None, true, true) => Ok(Some(vm)),
        _ => Err("VmSize without VmRSS (truncated?)".into()),
    };
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A kernel 6.x status of a shell, as the kernel writes it.
    pub const FULL: &[u8] =
        b"Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t812\nNgid:\t0\n\
Pid:\t812\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n\
FDSize:\t256\nGroups:\t4 24 1000 \nNStgid:\t812\nNSpid:\t812\nNSpgid:\t812\nNSsid:\t812\n\
VmPeak:\t   12000 kB\nVmSize:\t   11000 kB\nVmLck:\t       0 kB\nVmHWM:\t    5000 kB\n\
VmRSS:\t    4000 kB\nRssAnon:\t    1500 kB\nRssFile:\t    2500 kB\nVmSwap:\t      10 kB\n\
HugetlbPages:\t       0 kB\nThreads:\t1\nSigQ:\t0/63429\nSigPnd:\t0000000000000000\n\
ShdPnd:\t0000000000000000\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000380004\n\
SigCgt:\t000000004b817efb\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n\
CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nSeccomp:\t0\n";

    #[test]
    fn every_field_of_a_kernel_file() {
        let s = parse(FULL);
        assert!(s.complete);
        assert_eq!((s.tracer, s.uid), (Some(0), Some(1000)));
        assert_eq!(
            s.vm,
            Ok(Some(Vm {
                rss: 4000 << 10,
                anon: Some(1500 << 10),
                vsize: 11000 << 10,
                peak: 5000 << 10,
                swap: 10 << 10,
            }))
        );
        assert_eq!(
            (s.sigblk, s.sigign, s.sigcgt),
            (0x10000, 0x380004, 0x4b817efb)
        );
        assert_eq!(s.nspid, Some(vec![812]));
    }

    #[test]
    fn a_name_that_is_not_utf8_hides_nothing() {
        let mut f = b"Name:\t\xff\xfe\n".to_vec();
        f.extend_from_slice(&FULL[FULL.iter().position(|&b| b == b'\n').unwrap() + 1..]);
        let s = parse(&f);
        assert!(s.complete);
        assert_eq!(s.uid, Some(1000));
    }

    #[test]
    fn kernel_thread_has_no_memory_lines() {
        let s = parse(b"Name:\tkworker/0:1\nState:\tI (idle)\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n");
        assert_eq!(s.vm, Ok(None));
        assert_eq!((s.tracer, s.uid), (Some(0), Some(0)));
        assert!(!s.complete, "no signal lines");
    }

    #[test]
    fn bad_memory_lines_are_errors_naming_the_line() {
        for (bad, why) in [
            (
                &b"VmSize:\t 200 kB\nVmRSS:\t abc kB\n"[..],
                "bad VmRSS line",
            ),
            (b"VmSize:\t 200 kB\nVmRSS:\t 100\n", "bad VmRSS line"),
            (
                b"VmSize:\t 200 kB\nVmRSS:\t 100 kB extra\n",
                "bad VmRSS line",
            ),
            (b"VmSize:\t 200 kB\nVmHW", "VmSize without VmRSS"),
            (
                b"VmSize:\t 99999999999999999999 kB\nVmRSS:\t 1 kB\n",
                "bad VmSize line",
            ),
        ] {
            let e = parse(bad).vm.unwrap_err();
            assert!(e.contains(why), "{:?}: {e}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn every_truncation_is_incomplete_or_still_right() {
        for cut in 0..FULL.len() {
            let s = parse(&FULL[..cut]);
            if s.complete {
                // Only the optional tail after CapEff may be missing.
                assert!(
                    cut > FULL.windows(7).position(|w| w == b"CapEff:").unwrap(),
                    "{cut}"
                );
                assert_eq!(s.sigcgt, 0x4b817efb);
            }
        }
    }

    #[test]
    fn garbled_signal_masks_make_it_incomplete() {
        let f = String::from_utf8_lossy(FULL).replace("SigCgt:\t000000004b817efb", "SigCgt:\tzz");
        assert!(!parse(f.as_bytes()).complete);
        let f = String::from_utf8_lossy(FULL).replace("NSpid:\t812", "NSpid:\tx");
        assert!(!parse(f.as_bytes()).complete);
    }
}
