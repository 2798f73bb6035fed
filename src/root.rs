//! The filesystem root every reader works under (`--root`), and the system constants taken from it.
//!
//! Nothing about the live machine leaks into results computed from a fake root: clock ticks and page
//! size come from the root's `proc/self/auxv` when it has one (the live `/proc` always does) and
//! otherwise from the Linux defaults; boot time and uptime come from the root's `proc/stat` and
//! `proc/uptime`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Linux defaults for a fake root that does not say otherwise.
pub const DEFAULT_TICKS: u64 = 100;
pub const DEFAULT_PAGE_SIZE: u64 = 4096;

#[derive(Debug, Clone)]
pub struct Root {
    path: PathBuf,
    live: bool,
    /// The host-wide clocks, read once per run and shared by every command of it (and every clone:
    /// `check`'s threads).
    sys: Arc<OnceLock<SysInfo>>,
}

impl Root {
    /// Opens DIR as the root. `/` (or any path resolving to it) is the live system.
    pub fn new(dir: &Path) -> Result<Root> {
        let path = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        if !path.is_dir() {
            return Err(Error::Usage(format!(
                "--root {}: not a directory",
                dir.display()
            )));
        }
        let live = path == Path::new("/");
        Ok(Root {
            path,
            live,
            sys: Arc::default(),
        })
    }

    /// True when the root is the running system: signals may be sent and programs run.
    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolves an absolute-looking path (`/etc/passwd` or `etc/passwd`) under the root.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        let rel = rel.as_ref();
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        self.path.join(rel)
    }

    /// Unix time "now" as the root sees it: the clock on the live system; a fake root's boot time plus
    /// uptime (so it reads the same whenever it is read), `None` when it has no `proc/stat`/`uptime`.
    pub fn now_unix(&self) -> Option<u64> {
        if self.live {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs())
        } else {
            self.sys().ok().map(|s| s.now_unix())
        }
    }

    /// The root's clocks and constants as first read in this run (a failed read is not kept: the
    /// next caller sees the same error). A sampler that needs each moment uses `SysInfo::read`.
    pub fn sys(&self) -> Result<SysInfo> {
        if let Some(s) = self.sys.get() {
            return Ok(*s);
        }
        let s = SysInfo::read(self)?;
        Ok(*self.sys.get_or_init(|| s))
    }

    pub fn proc(&self) -> PathBuf {
        self.join("proc")
    }

    /// How to show a path under the root to the user: as the administrator would type it on that host.
    pub fn display(&self, p: &Path) -> String {
        match p.strip_prefix(&self.path) {
            Ok(rel) if self.live => format!("/{}", rel.display()),
            Ok(rel) => format!("{}/{}", self.path.display(), rel.display()),
            Err(_) => p.display().to_string(),
        }
    }
}

/// Kernel constants and clocks, read from the root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SysInfo {
    pub ticks_per_second: u64,
    pub page_size: u64,
    /// Unix time of boot (`btime` in proc/stat).
    pub boot_time: u64,
    /// Seconds since boot (first field of proc/uptime): the "now" against which process ages are taken,
    /// as ps computes ELAPSED, so a fake root gives the same ages whenever it is read.
    pub uptime: f64,
}

impl SysInfo {
    pub fn read(root: &Root) -> Result<SysInfo> {
        let (ticks_per_second, page_size) = read_auxv(&root.join("proc/self/auxv"));
        let stat_path = root.join("proc/stat");
        let stat = crate::readers::capped::read(&stat_path, crate::readers::capped::PROC_CAP)
            .map_err(|e| Error::io(&stat_path, e))?;
        let boot_time = parse_btime(&stat)
            .ok_or_else(|| Error::malformed(&stat_path, None, "no valid 'btime' line"))?;
        let uptime = crate::readers::proc::host::read_uptime(&root.join("proc/uptime"))?;
        Ok(SysInfo {
            ticks_per_second,
            page_size,
            boot_time,
            uptime,
        })
    }

    /// Seconds since boot at which a process started, from its `starttime` in clock ticks.
    pub fn ticks_to_secs(&self, ticks: u64) -> f64 {
        ticks as f64 / self.ticks_per_second as f64
    }

    /// Age in whole seconds of a process that started `starttime` ticks after boot.
    pub fn age(&self, starttime: u64) -> u64 {
        (self.uptime - self.ticks_to_secs(starttime)).max(0.0) as u64
    }

    /// Unix time at which a process started.
    pub fn start_unix(&self, starttime: u64) -> u64 {
        self.boot_time + self.ticks_to_secs(starttime) as u64
    }

    /// Unix time "now" as seen from the root (boot time plus uptime).
    pub fn now_unix(&self) -> u64 {
        self.boot_time + self.uptime as u64
    }
}

fn parse_btime(stat: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(stat);
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Reads AT_CLKTCK and AT_PAGESZ from an auxiliary vector; defaults for whatever is absent or odd.
fn read_auxv(path: &Path) -> (u64, u64) {
    const AT_PAGESZ: u64 = 6;
    const AT_CLKTCK: u64 = 17;
    let mut ticks = DEFAULT_TICKS;
    let mut page = DEFAULT_PAGE_SIZE;
    if let Ok(bytes) = crate::readers::capped::read(path, crate::readers::capped::PROC_CAP) {
        for pair in bytes.chunks_exact(16) {
            let key = u64::from_ne_bytes(pair[..8].try_into().unwrap_or_default());
            let val = u64::from_ne_bytes(pair[8..].try_into().unwrap_or_default());
            match key {
                0 => break,
                AT_CLKTCK if (1..=100_000).contains(&val) => ticks = val,
                AT_PAGESZ if val.is_power_of_two() && val >= 1024 => page = val,
                _ => {}
            }
        }
    }
    (ticks, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_root_defaults_without_auxv() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::write(
            dir.path().join("proc/stat"),
            "cpu  1 2 3\nbtime 1700000000\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("proc/uptime"), "3600.50 100.00\n").unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert!(!root.is_live());
        let si = SysInfo::read(&root).unwrap();
        assert_eq!((si.ticks_per_second, si.page_size), (100, 4096));
        assert_eq!(si.boot_time, 1_700_000_000);
        assert_eq!(si.age(100 * 600), 3000);
        assert_eq!(si.start_unix(100 * 600), 1_700_000_600);
    }

    #[test]
    fn the_run_reads_the_clocks_once_and_shares_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert!(root.sys().is_err(), "nothing to read yet");
        std::fs::write(dir.path().join("proc/stat"), "btime 1700000000\n").unwrap();
        std::fs::write(dir.path().join("proc/uptime"), "100.0 1.0\n").unwrap();
        let clone = root.clone();
        assert_eq!(root.sys().unwrap().uptime, 100.0);
        std::fs::write(dir.path().join("proc/uptime"), "200.0 1.0\n").unwrap();
        assert_eq!(clone.sys().unwrap().uptime, 100.0, "one snapshot per run");
        assert_eq!(
            SysInfo::read(&root).unwrap().uptime,
            200.0,
            "a new moment when asked"
        );
    }

    #[test]
    fn auxv_overrides_ticks_and_page_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut aux = Vec::new();
        for (k, v) in [(6u64, 65536u64), (17, 250), (0, 0)] {
            aux.extend_from_slice(&k.to_ne_bytes());
            aux.extend_from_slice(&v.to_ne_bytes());
        }
        let p = dir.path().join("auxv");
        std::fs::write(&p, aux).unwrap();
        assert_eq!(read_auxv(&p), (250, 65536));
    }

    #[test]
    fn live_root_matches_sysconf() {
        let root = Root::new(Path::new("/")).unwrap();
        assert!(root.is_live());
        let si = SysInfo::read(&root).unwrap();
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
        assert_eq!((si.ticks_per_second, si.page_size), (ticks, page));
    }

    #[test]
    fn malformed_stat_and_uptime_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::write(dir.path().join("proc/stat"), "btime soon\n").unwrap();
        std::fs::write(dir.path().join("proc/uptime"), "x\n").unwrap();
        let root = Root::new(dir.path()).unwrap();
        let e = SysInfo::read(&root).unwrap_err().to_string();
        assert!(e.contains("proc/stat") && e.contains("btime"), "{e}");
        std::fs::write(dir.path().join("proc/stat"), "btime 5\n").unwrap();
        let e = SysInfo::read(&root).unwrap_err().to_string();
        assert!(e.contains("proc/uptime"), "{e}");
    }
}
