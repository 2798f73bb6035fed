//! The history file: append one sample per line under a lock, prune it to a bounded size, and load
//! it back, skipping (and counting) every line that cannot be trusted.
//!
//! This is the toolkit's own state under `ROOT/var/lib/toolkit/`, not a file in a customer's site
//! tree, so plain std I/O is right here (`safeops` guards against symlink tricks in trees users
//! control). Safety against crashes and concurrency comes from three rules: a sample is one
//! `write(2)` of a whole line on an `O_APPEND` descriptor, so a killed recorder leaves at worst a
//! torn last line, which loading skips; every writer holds an exclusive `flock` on a separate lock
//! file (`FILE.lock`: the history itself is replaced when pruned, and a lock on a replaced inode
//! would not exclude anyone); consolidating (see `consolidate`) and pruning write a temporary file
//! and rename it over the history.

use super::sample::{Host, Sample, VERSION};
use crate::error::{Error, Result};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Prune when the history grows past this size (after consolidating: a month fits)...
pub const MAX_BYTES: u64 = 16 << 20;
/// ...keeping the newest lines that fit in this much.
pub const KEEP_BYTES: u64 = 12 << 20;
/// Consolidate each time the history grows past another multiple of this size.
pub const COMPACT_EVERY: u64 = 1 << 20;

/// The default history file under the root.
pub const DEFAULT: &str = "var/lib/toolkit/mem-history.jsonl";

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Takes the exclusive lock, held until the returned guard is dropped.
fn lock(path: &Path) -> Result<nix::fcntl::Flock<File>> {
    let lp = lock_path(path);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(&lp)
        .map_err(|e| Error::io(&lp, e))?;
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::io(&lp, e.into()))
}

/// Appends one sample as one line, then prunes if the file outgrew `MAX_BYTES`. Returns the file
/// size after the append (and pruning).
pub fn append(path: &Path, sample: &Sample) -> Result<u64> {
    append_bounded(path, sample, MAX_BYTES, KEEP_BYTES)
}

fn append_bounded(path: &Path, sample: &Sample, max: u64, keep: u64) -> Result<u64> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let _lock = lock(path)?;
    let io = |e| Error::io(path, e);
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o644)
        .open(path)
        .map_err(io)?;
    let mut line = serde_json::to_vec(sample).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    // A recorder killed mid-line left no newline: start on a fresh line so that only the torn
    // line is lost, not this sample glued onto it.
    if !ends_with_newline(&mut f).map_err(io)? {
        line.insert(0, b'\n');
    }
    f.write_all(&line).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let before = size.saturating_sub(line.len() as u64);
    if before / COMPACT_EVERY != size / COMPACT_EVERY || size > max {
        let size = consolidate(path, sample.t)?;
        if size > max {
            let mut f = File::open(path).map_err(io)?;
            return prune(path, &mut f, keep);
        }
        return Ok(size);
    }
    Ok(size)
}

/// Rewrites the history with its samples older than an hour consolidated (the caller holds the
/// lock): streamed into a temporary file beside it, synced, renamed over it. Returns the new size.
fn consolidate(path: &Path, newest: f64) -> Result<u64> {
    let io = |e| Error::io(path, e);
    let tmp = tmp_path(path);
    let tio = |e| Error::io(&tmp, e);
    let mut input = std::io::BufReader::new(File::open(path).map_err(io)?);
    let out = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(tio)?;
    let mut w = std::io::BufWriter::new(out);
    super::consolidate::rewrite(&mut input, &mut w, newest).map_err(tio)?;
    let out = w.into_inner().map_err(|e| tio(e.into_error()))?;
    out.sync_all().map_err(tio)?;
    let size = out.metadata().map_err(tio)?.len();
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(size)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    PathBuf::from(tmp_name)
}

fn ends_with_newline(f: &mut File) -> std::io::Result<bool> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(b[0] == b'\n')
}

/// Rewrites the history with only its newest whole lines that fit in `keep` bytes: a temporary
/// file beside it, synced, then renamed over it (the caller holds the lock).
fn prune(path: &Path, f: &mut File, keep: u64) -> Result<u64> {
    let io = |e| Error::io(path, e);
    let len = f.metadata().map_err(io)?.len();
    let from = len.saturating_sub(keep);
    f.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io)?;
    // The first line is cut unless the cut fell exactly after a newline.
    let start = if from == 0 {
        0
    } else {
        tail.iter()
            .position(|&b| b == b'\n')
            .map_or(tail.len(), |i| i + 1)
    };
    let tmp = tmp_path(path);
    let tio = |e| Error::io(&tmp, e);
    let mut out = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(tio)?;
    out.write_all(&tail[start..]).map_err(tio)?;
    out.sync_all().map_err(tio)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok((tail.len() - start) as u64)
}

/// Lines of the history that were not used, by cause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Not a JSON sample (garbage, or torn by a recorder killed mid-write).
    pub malformed: usize,
    /// From another host or an earlier boot: its processes cannot be compared with the latest run.
    pub other_run: usize,
    /// Going back in time (a clock step) or not a finite time.
    pub out_of_order: usize,
}

impl Skipped {
    pub fn total(&self) -> usize {
        self.malformed + self.other_run + self.out_of_order
    }
}

/// The usable samples: those of the latest run of the machine, in time order.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub path: PathBuf,
    pub samples: Vec<Sample>,
    pub skipped: Skipped,
}

/// Loads a history; `Ok(None)` when the file does not exist (nothing recorded yet is not an error).
pub fn load(path: &Path) -> Result<Option<History>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(parse(path, &bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Parses history bytes. The run judged is the host and boot of the last good line; lines of other
/// runs are skipped, as are lines that do not parse and lines earlier than the one before them.
pub fn parse(path: &Path, bytes: &[u8]) -> History {
    let mut skipped = Skipped::default();
    let mut good: Vec<Sample> = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Sample>(line) {
            Ok(mut s) if s.v == VERSION && s.t.is_finite() => {
                s.expand();
                good.push(s)
            }
            Ok(_) | Err(_) => skipped.malformed += 1,
        }
    }
    let current: Option<Host> = good.last().map(|s| s.host.clone());
    let mut samples: Vec<Sample> = Vec::with_capacity(good.len());
    for s in good {
        if !current.as_ref().is_some_and(|c| c.same_run(&s.host)) {
            skipped.other_run += 1;
        } else if samples.last().is_some_and(|p| s.t < p.t) {
            skipped.out_of_order += 1;
        } else {
            samples.push(s);
        }
    }
    History {
        path: path.to_path_buf(),
        samples,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mem::history::sample::System;

    fn sample(t: f64, host: &str) -> Sample {
        Sample {
            v: VERSION,
            t,
            host: Host {
                hostname: host.into(),
                boot: 100,
                boot_id: None,
            },
            mem: System {
                total: 1,
                used: 0,
                free: 1,
                buffers: 0,
                cache: 0,
                available: 1,
                swap_total: 0,
                swap_used: 0,
            },
            oom_kills: None,
            n: None,
            dt: None,
            mem_lo: None,
            mem_hi: None,
            p: Vec::new(),
            procs: Vec::new(),
        }
    }

    fn line(s: &Sample) -> String {
        serde_json::to_string(s).unwrap() + "\n"
    }

    #[test]
    fn only_the_latest_run_in_time_order_is_used() {
        let text = [
            line(&sample(1.0, "old-name")),
            "garbage\n".into(),
            line(&sample(2.0, "h")),
            line(&sample(5.0, "h")),
            line(&sample(4.0, "h")),
            "{\"v\":2}\n".into(),
            line(&sample(6.0, "h")),
            line(&sample(7.0, "h"))[..20].to_string(),
        ]
        .concat();
        let h = parse(Path::new("x"), text.as_bytes());
        let ts: Vec<f64> = h.samples.iter().map(|s| s.t).collect();
        assert_eq!(ts, [2.0, 5.0, 6.0]);
        assert_eq!(
            h.skipped,
            Skipped {
                malformed: 3,
                other_run: 1,
                out_of_order: 1
            }
        );
    }

    #[test]
    fn pruning_keeps_the_newest_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/h.jsonl");
        let one = line(&sample(0.0, "h")).len() as u64;
        for i in 0..20 {
            append_bounded(&path, &sample(i as f64, "h"), one * 10, one * 5 + 3).unwrap();
        }
        let h = load(&path).unwrap().unwrap();
        assert_eq!(h.skipped, Skipped::default());
        let ts: Vec<f64> = h.samples.iter().map(|s| s.t).collect();
        // Pruned to 5 lines whenever it passed 10: the newest survive, in order.
        assert!(ts.len() <= 10 && ts.len() >= 5, "{ts:?}");
        assert_eq!(ts.last(), Some(&19.0));
        assert!(ts.windows(2).all(|w| w[1] == w[0] + 1.0), "{ts:?}");
        assert!(!dir.path().join("sub/h.jsonl.tmp").exists());
    }

    #[test]
    fn a_torn_last_line_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        std::fs::write(&path, &line(&sample(1.0, "h"))[..30]).unwrap();
        append(&path, &sample(2.0, "h")).unwrap();
        let h = load(&path).unwrap().unwrap();
        assert_eq!(h.samples.len(), 1);
        assert_eq!(h.skipped.malformed, 1);
        assert_eq!(
            load(&dir.path().join("none")).unwrap().map(|h| h.path),
            None
        );
    }
}
