//! Temporary names and what a killed run leaves behind. Every file the toolkit writes is first written
//! under `.NAME.toolkit-new.PID` in the same directory, synced, and only then linked (backups, journal
//! entries: never replacing anything) or renamed (replacements) to its name, so a name holds a complete
//! file or does not exist. A run killed in between leaves the temporary name; the next run that works
//! in that directory removes it (`sweep`), and only it: a regular file, not a symlink, with exactly that
//! pattern, whose PID is no longer running, owned by root or by the directory's owner (the toolkit
//! gives a temporary file its final owner just before it links it).

use super::{Dir, Kind};
use nix::sys::stat::fstat;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;

const MARK: &[u8] = b".toolkit-new.";

/// `.NAME.toolkit-new.PID` for this process.
pub(super) fn temp_name(name: &OsStr) -> OsString {
    let mut t = Vec::with_capacity(name.len() + 24);
    t.push(b'.');
    t.extend_from_slice(name.as_bytes());
    t.extend_from_slice(MARK);
    t.extend_from_slice(std::process::id().to_string().as_bytes());
    OsString::from(std::ffi::OsStr::from_bytes(&t))
}

/// The PID of a name of the form `.NAME.toolkit-new.PID` (NAME non-empty), if it is one.
pub(super) fn temp_pid(name: &OsStr) -> Option<u32> {
    let b = name.as_bytes();
    let rest = b.strip_prefix(b".")?;
    let at = rest.windows(MARK.len()).rposition(|w| w == MARK)?;
    if at == 0 {
        return None;
    }
    let digits = &rest[at + MARK.len()..];
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether a process with this PID exists (a run still working).
fn running(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Directories already swept by this process (device, inode).
static SWEPT: Mutex<Option<HashSet<(u64, u64)>>> = Mutex::new(None);

impl Dir {
    /// Removes the temporary files a killed run left in this directory (once per directory and run).
    /// Returns the names removed; what cannot be looked at is left alone.
    pub fn sweep_temps(&self) -> Vec<OsString> {
        let Ok(st) = fstat(self.fd.as_fd()) else {
            return Vec::new();
        };
        {
            let mut swept = SWEPT.lock().unwrap_or_else(|p| p.into_inner());
            if !swept
                .get_or_insert_with(HashSet::new)
                .insert((st.st_dev, st.st_ino))
            {
                return Vec::new();
            }
        }
        let Ok(names) = self.names() else {
            return Vec::new();
        };
        let mut removed = Vec::new();
        for name in names {
            let Some(pid) = temp_pid(&name) else {
                continue;
            };
            if pid == std::process::id() || running(pid) {
                continue;
            }
            let Ok(Some(e)) = self.entry(&name) else {
                continue;
            };
            if e.meta.kind != Kind::File || (e.meta.uid != 0 && e.meta.uid != st.st_uid) {
                continue;
            }
            drop(e);
            if nix::unistd::unlinkat(
                self.fd.as_fd(),
                name.as_os_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            )
            .is_ok()
            {
                eprintln!(
                    "toolkit: removed {} (left by a killed run)",
                    crate::render::sanitize::printable(&self.show(&name))
                );
                removed.push(name);
            }
        }
        removed
    }
}

/// A point where a test may kill the process (`TOOLKIT_INJECT_KILL=N`: SIGKILL at the Nth point,
/// debug builds only), to prove that a run killed anywhere leaves complete files or none.
/// `TOOLKIT_INJECT_KILL_TRACE=1` prints each point (`kill point N: WHAT PATH`) so a test can aim.
#[cfg(debug_assertions)]
pub(super) fn kill_point(what: &str, path: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let kill_at = std::env::var("TOOLKIT_INJECT_KILL")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let trace = std::env::var_os("TOOLKIT_INJECT_KILL_TRACE").is_some();
    if kill_at.is_none() && !trace {
        return;
    }
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if trace {
        eprintln!("kill point {n}: {what} {path}");
    }
    if kill_at == Some(n) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

#[cfg(not(debug_assertions))]
pub(super) fn kill_point(_what: &str, _path: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_pattern_is_a_temporary_name() {
        let ok = |s: &str| temp_pid(OsStr::new(s));
        assert_eq!(ok(".sendmail.mc.toolkit-new.4711"), Some(4711));
        assert_eq!(ok(".0001.json.toolkit-new.12"), Some(12));
        for bad in [
            "sendmail.mc.toolkit-new.4711",
            "..toolkit-new.1",
            ".x.toolkit-new.",
            ".x.toolkit-new.12a",
            ".x.toolkit-new.-1",
            ".x.toolkit-old.1",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
        assert_eq!(
            temp_pid(&temp_name(OsStr::new("a"))),
            Some(std::process::id())
        );
    }
}
