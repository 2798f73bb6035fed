//! System-wide memory files under `ROOT/proc`: `meminfo`, `vmstat`, `pressure/memory` and `slabinfo`.
//!
//! The parsers are our own (a few lines each, no panics): procfs-core's would build maps of every field
//! and can panic on a truncated `pressure` file. A malformed line is an error naming the file and line;
//! a file the kernel may legitimately lack (`pressure/memory` without PSI, `slabinfo` without root)
//! is `None` with the reason, never an error.

use super::capped;
use crate::error::{Error, Result};
use serde::Serialize;
use std::io::ErrorKind;
use std::path::Path;

/// The `meminfo` fields the verdict uses, in bytes. Absent optional fields are 0, as procps reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meminfo {
    pub total: u64,
    pub free: u64,
    /// None on kernels before 3.14 and in some containers.
    pub available: Option<u64>,
    pub buffers: u64,
    pub cached: u64,
    pub shmem: u64,
    pub slab: u64,
    pub sreclaimable: u64,
    pub sunreclaim: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub committed_as: Option<u64>,
    pub commit_limit: Option<u64>,
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = capped::read(path, capped::PROC_CAP).map_err(|e| Error::io(path, e))?;
    if bytes.is_empty() {
        return Err(Error::malformed(path, None, "empty file"));
    }
    String::from_utf8(bytes).map_err(|_| Error::malformed(path, None, "not UTF-8 text"))
}

pub fn read_meminfo(path: &Path) -> Result<Meminfo> {
    parse_meminfo(path, &read_text(path)?)
}

/// Parses `Name:   value kB` lines (HugePages_* have no unit). Every line must have that shape, so a
/// truncated file (a last line cut in the middle) is reported rather than silently half-read.
pub fn parse_meminfo(path: &Path, text: &str) -> Result<Meminfo> {
    let mut m = Meminfo::default();
    let (mut total, mut free) = (None, None);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || Error::malformed(path, Some(i + 1), "expected 'Name: value kB'");
        let (key, rest) = line.split_once(':').ok_or_else(bad)?;
        let mut words = rest.split_whitespace();
        let value: u64 = words.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let value = match words.next() {
            None => value,
            Some("kB") => value.checked_mul(1024).ok_or_else(bad)?,
            Some(_) => return Err(bad()),
        };
        match key {
            "MemTotal" => total = Some(value),
            "MemFree" => free = Some(value),
            "MemAvailable" => m.available = Some(value),
            "Buffers" => m.buffers = value,
            "Cached" => m.cached = value,
            "Shmem" => m.shmem = value,
            "Slab" => m.slab = value,
            "SReclaimable" => m.sreclaimable = value,
            "SUnreclaim" => m.sunreclaim = value,
            "SwapTotal" => m.swap_total = value,
            "SwapFree" => m.swap_free = value,
            "Committed_AS" => m.committed_as = Some(value),
            "CommitLimit" => m.commit_limit = Some(value),
            _ => {}
        }
    }
    match (total, free) {
        (Some(t), Some(f)) if t > 0 => {
            m.total = t;
            m.free = f;
            Ok(m)
        }
        (Some(0), _) => Err(Error::malformed(path, None, "MemTotal is 0")),
        _ => Err(Error::malformed(
            path,
            None,
            "no MemTotal or MemFree line (truncated?)",
        )),
    }
}

/// Cumulative `vmstat` counters, in pages or events since boot. Absent counters are `None`
/// (`pswpin`/`pswpout` without CONFIG_SWAP, `oom_kill` before 4.13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Vmstat {
    pub pswpin: Option<u64>,
    pub pswpout: Option<u64>,
    /// Pages scanned for reclaim: kswapd plus direct reclaim (plus khugepaged), all zones.
    pub pgscan: Option<u64>,
    pub pgmajfault: Option<u64>,
    pub oom_kill: Option<u64>,
}

pub fn read_vmstat(path: &Path) -> Result<Vmstat> {
    parse_vmstat(path, &read_text(path)?)
}

/// `vmstat` for a check that can go on without it: `Ok(Err(why))` when the file is missing or
/// empty (an empty file says no more than a missing one), an error when it is garbled. `shown` is
/// how the file is named in that reason.
pub fn read_vmstat_if_any(path: &Path, shown: &str) -> Result<std::result::Result<Vmstat, String>> {
    match std::fs::read(path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => {
            Ok(Err(format!("{shown} is empty (treated as missing)")))
        }
        Ok(_) => read_vmstat(path).map(Ok),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Err(format!("no {shown}"))),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub fn parse_vmstat(path: &Path, text: &str) -> Result<Vmstat> {
    let mut v = Vmstat::default();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(key), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return Err(Error::malformed(path, Some(i + 1), "expected 'name value'"));
        };
        let value: u64 = value
            .parse()
            .map_err(|_| Error::malformed(path, Some(i + 1), format!("bad value for {key}")))?;
        lines += 1;
        let add = |slot: &mut Option<u64>| *slot = Some(slot.unwrap_or(0).saturating_add(value));
        match key {
            "pswpin" => v.pswpin = Some(value),
            "pswpout" => v.pswpout = Some(value),
            "pgmajfault" => v.pgmajfault = Some(value),
            "oom_kill" => v.oom_kill = Some(value),
            // Older kernels split the scan counters per zone (pgscan_kswapd_normal...).
            k if k.starts_with("pgscan_kswapd")
                || k.starts_with("pgscan_khugepaged")
                || (k.starts_with("pgscan_direct") && k != "pgscan_direct_throttle") =>
            {
                add(&mut v.pgscan)
            }
            _ => {}
        }
    }
    if lines == 0 {
        return Err(Error::malformed(path, None, "no counters"));
    }
    Ok(v)
}

/// Memory pressure stall information (percentages of wall time), from `pressure/memory`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Psi {
    pub some_avg10: f64,
    pub some_avg60: f64,
    /// None on kernels whose file has no `full` line.
    pub full_avg10: Option<f64>,
    pub full_avg60: Option<f64>,
}

/// PSI when the kernel has it; `Ok(None)` when the file is absent or empty, or PSI is disabled (`psi=0` makes
/// reads fail with EOPNOTSUPP).
pub fn read_psi(path: &Path) -> Result<Option<Psi>> {
    match capped::read(path, capped::PROC_CAP) {
        // An empty file says no more than a missing one (the caller notes which it was).
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(None),
        Ok(b) => {
            let text =
                String::from_utf8(b).map_err(|_| Error::malformed(path, None, "not UTF-8 text"))?;
            parse_psi(path, &text).map(Some)
        }
        Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            Ok(None)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

pub fn parse_psi(path: &Path, text: &str) -> Result<Psi> {
    let mut some = None;
    let mut full = None;
    for (i, line) in text.lines().enumerate() {
        let bad = || {
            Error::malformed(
                path,
                Some(i + 1),
                "expected 'some|full avg10=N avg60=N avg300=N total=N'",
            )
        };
        let mut words = line.split_whitespace();
        let kind = words.next().ok_or_else(bad)?;
        let mut avg = |name: &str| -> Result<f64> {
            let v: f64 = words
                .next()
                .and_then(|w| w.strip_prefix(name))
                .and_then(|w| w.parse().ok())
                .ok_or_else(bad)?;
            if (0.0..=100.0).contains(&v) {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        let pair = (avg("avg10=")?, avg("avg60=")?);
        // avg300 and total must be there too: their absence means a truncated line.
        avg("avg300=")?;
        let total_ok = words
            .next()
            .and_then(|w| w.strip_prefix("total="))
            .is_some_and(|w| w.parse::<u64>().is_ok());
        if !total_ok {
            return Err(bad());
        }
        match kind {
            "some" => some = Some(pair),
            "full" => full = Some(pair),
            _ => return Err(bad()),
        }
    }
    let (some_avg10, some_avg60) =
        some.ok_or_else(|| Error::malformed(path, None, "no 'some' line"))?;
    Ok(Psi {
        some_avg10,
        some_avg60,
        full_avg10: full.map(|f| f.0),
        full_avg60: full.map(|f| f.1),
    })
}

/// One slab cache and the memory its slabs occupy (as slabtop's CACHE SIZE).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlabCache {
    pub name: String,
    pub bytes: u64,
    pub objects: u64,
    pub object_size: u64,
}

/// The `keep` largest slab caches, or why they could not be read (slabinfo is root-only).
pub fn read_slabinfo(
    path: &Path,
    page_size: u64,
    keep: usize,
) -> std::result::Result<Vec<SlabCache>, String> {
    let text = capped::read(path, capped::PROC_CAP).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.starts_with("slabinfo - version: 2.") => {}
        _ => return Err("not a slabinfo 2.x file".into()),
    }
    let mut top: Vec<SlabCache> = Vec::with_capacity(keep + 1);
    for line in lines.filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // name active num objsize objperslab pagesperslab : tunables l b s : slabdata active num shared
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
        let (Some(objects), Some(size), Some(pages), Some(slabs)) =
            (num(2), num(3), num(5), num(14))
        else {
            return Err(format!(
                "malformed line: {}",
                line.chars().take(40).collect::<String>()
            ));
        };
        let bytes = slabs.saturating_mul(pages).saturating_mul(page_size);
        top.push(SlabCache {
            name: f[0].to_string(),
            bytes,
            objects,
            object_size: size,
        });
        top.sort_by_key(|c| std::cmp::Reverse(c.bytes));
        top.truncate(keep);
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "meminfo";

    #[test]
    fn meminfo_fields_in_bytes() {
        let m = parse_meminfo(
            Path::new(P),
            "MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nCached: 300 kB\n\
             HugePages_Total: 0\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        )
        .unwrap();
        assert_eq!(m.total, 1000 * 1024);
        assert_eq!(m.available, Some(600 * 1024));
        assert_eq!(m.cached, 300 * 1024);
        assert_eq!(m.committed_as, None);
    }

    #[test]
    fn malformed_meminfo_names_file_and_line() {
        for (text, needle) in [
            ("MemTotal: 1000 kB\nMemFree: abc kB\n", "meminfo:2"),
            ("MemTotal: 1000 kB\nMemFr", "meminfo:2"),
            ("MemTotal: 1000 kB\n", "no MemTotal or MemFree"),
            ("MemTotal: 0 kB\nMemFree: 0 kB\n", "MemTotal is 0"),
            ("MemTotal: 1000 MB\nMemFree: 1 kB\n", "meminfo:1"),
            ("MemTotal: 99999999999999999999 kB\n", "meminfo:1"),
        ] {
            let e = parse_meminfo(Path::new(P), text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn vmstat_sums_scan_counters_and_keeps_absent_ones_absent() {
        let v = parse_vmstat(
            Path::new("vmstat"),
            "pswpin 5\npswpout 7\npgscan_kswapd 10\npgscan_direct 3\npgscan_direct_throttle 99\n\
             pgscan_khugepaged 1\npgmajfault 4\n",
        )
        .unwrap();
        assert_eq!(v.pgscan, Some(14));
        assert_eq!((v.pswpin, v.pswpout, v.oom_kill), (Some(5), Some(7), None));
        let old = parse_vmstat(
            Path::new("v"),
            "pgscan_kswapd_normal 2\npgscan_kswapd_dma 3\n",
        );
        assert_eq!(old.unwrap().pgscan, Some(5));
        for bad in [
            "pswpin\n",
            "pswpin x\n",
            "pswpin 1 2\n",
            "\n",
            "pswpout -1\n",
        ] {
            assert!(parse_vmstat(Path::new("vmstat"), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn psi_with_and_without_full() {
        let p = parse_psi(
            Path::new("memory"),
            "some avg10=1.50 avg60=2.00 avg300=0.10 total=123\nfull avg10=0.50 avg60=1.00 avg300=0.00 total=45\n",
        )
        .unwrap();
        assert_eq!((p.some_avg10, p.full_avg10), (1.5, Some(0.5)));
        let p = parse_psi(
            Path::new("m"),
            "some avg10=1.50 avg60=2.00 avg300=0.10 total=1\n",
        );
        assert_eq!(p.unwrap().full_avg60, None);
        for bad in [
            "",
            "some avg10=1.50 avg60=2.00",
            "some avg10=x avg60=2.00 avg300=0.10 total=1",
            "some avg10=101 avg60=2.00 avg300=0.10 total=1",
            "half avg10=1 avg60=2 avg300=0 total=1",
            "full avg10=1 avg60=2 avg300=0 total=1",
        ] {
            let e = parse_psi(Path::new("pressure/memory"), bad).unwrap_err();
            assert!(e.to_string().contains("pressure/memory"), "{bad:?}");
        }
    }

    #[test]
    fn slabinfo_largest_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("slabinfo");
        std::fs::write(
            &p,
            "slabinfo - version: 2.1\n# name ...\n\
             dentry 100 200 192 21 1 : tunables 0 0 0 : slabdata 10 10 0\n\
             kmalloc-64 5 6400 64 64 1 : tunables 0 0 0 : slabdata 100 100 0\n\
             big 1 16 2048 16 8 : tunables 0 0 0 : slabdata 1 1 0\n",
        )
        .unwrap();
        let top = read_slabinfo(&p, 4096, 2).unwrap();
        assert_eq!(top[0].name, "kmalloc-64");
        assert_eq!(top[0].bytes, 100 * 4096);
        assert_eq!(top[1].name, "dentry");
        std::fs::write(&p, "slabinfo - version: 2.1\ndentry 1 2\n").unwrap();
        assert!(read_slabinfo(&p, 4096, 2).is_err());
    }

    #[test]
    fn every_truncation_is_an_answer_never_a_panic() {
        let meminfo = "MemTotal:  3984588 kB\nMemFree:  30310 kB\nMemAvailable: 63100 kB\nHugePages_Total: 0\n";
        let vmstat = "pswpin 1204110\npswpout 2950321\npgscan_kswapd 8301122\noom_kill 0\n";
        let psi = "some avg10=78.41 avg60=61.20 avg300=42.84 total=612000000\nfull avg10=52.73 avg60=40.02 avg300=28.01 total=400200000\n";
        for cut in 0..=psi.len() {
            let p = Path::new("f");
            let _ = parse_meminfo(p, &meminfo[..cut.min(meminfo.len())]);
            let _ = parse_vmstat(p, &vmstat[..cut.min(vmstat.len())]);
            let r = parse_psi(p, &psi[..cut]);
            // Cut before the first line's total has a digit: an error. (A cut inside the last
            // number cannot be told from a smaller number.)
            if cut < psi.find("total=").unwrap() + 7 {
                assert!(r.is_err(), "{cut}");
            }
        }
    }
}
