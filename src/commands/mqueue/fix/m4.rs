//! `mqueue fix --m4`: regenerating a site's sendmail.cf from its sendmail.mc with m4, without giving
//! the site's administrator anything they do not already have.
//!
//! m4 has no safe mode (`esyscmd`, `syscmd`, `include` of any readable file), and the mc is written by
//! the site admin, so m4 never runs as root: it runs chrooted into the root (`--root`, `/` on the live
//! system), with its working directory inside the site, as the site's Unix admin (uid and gid of
//! `adminN`, no supplementary groups), with a clean environment, a CPU, memory, wall-clock and output
//! limit. Its output is accepted only when it exits 0, says nothing on stderr and is a sendmail.cf:
//! a version line (`V10/Berkeley`) and `O DefaultUser=` with the new value.
//!
//! The program and sendmail's cf macros are the root's own (`ROOT/usr/bin/m4`, `ROOT/usr/share/
//! sendmail-cf` or `ROOT/usr/share/sendmail/cf`), and must be root's and writable by root only: a
//! fake root that carries them (a chroot tree) gets m4 run in it; one without them is reported as
//! what would be done.

use super::plan::Step;
use super::site::{Admin, Planner};
use crate::act::Outcome;
use crate::safeops::Dir;
use crate::sendmail::defaultuser;
use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where m4 is inside the root.
pub const M4: &str = "usr/bin/m4";
/// sendmail's cf macro directories (Red Hat / Ensim's sendmail-cf, then Debian's), inside the root.
const CF_DIRS: [&str; 2] = ["usr/share/sendmail-cf", "usr/share/sendmail/cf"];
/// Wall-clock limit for one m4 run; the CPU limit is the same in seconds.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// The time limit; debug builds let a test shorten it (`TOOLKIT_M4_TIME_LIMIT=SECONDS`) so that the
/// kill can be shown without waiting 30 s.
fn time_limit() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(s) = std::env::var("TOOLKIT_M4_TIME_LIMIT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Duration::from_secs(s.clamp(1, 30));
    }
    TIME_LIMIT
}
/// A sendmail.cf is about 60 KiB; anything past this is not one.
pub const OUTPUT_LIMIT: usize = 4 << 20;
const STDERR_LIMIT: usize = 64 << 10;
/// Address-space limit of the m4 process (a `define` loop cannot eat the host's memory).
const MEMORY_LIMIT: u64 = 1 << 30;

/// The m4 program and cf macros found in the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M4Tools {
    /// The cf macro directory as m4 sees it inside the chroot (`/usr/share/sendmail-cf`).
    pub cf_dir: String,
}

/// Why m4 was not run, or why its output was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum M4Error {
    /// Not run, or its output refused (the reason says which).
    Refused(String),
    /// Could not be started or waited for.
    Failed(String),
}

/// A path in the root that root alone may change (owned by uid 0, not group- or world-writable), as
/// must be the directories leading to it: m4 is exec'd from there.
fn root_only(root: &Path, rel: &str) -> Result<(), String> {
    let mut p = root.to_path_buf();
    for comp in Path::new(rel).components() {
        p.push(comp);
        let m = std::fs::metadata(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        if m.uid() != 0 || m.mode() & 0o022 != 0 {
            return Err(format!(
                "{} is not root's alone (owner uid {}, mode {:04o}): not run",
                p.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// Finds m4 and the cf macros in the root. `Ok(None)` when the root has no m4 at all (a fake root
/// that is not a chroot tree); an error when they are there but not trustworthy, or the macros are
/// missing.
pub fn locate(root: &Path) -> Result<Option<M4Tools>, String> {
    let m4 = root.join(M4);
    match std::fs::metadata(&m4) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(format!("{} is not a regular file", m4.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", m4.display())),
    }
    root_only(root, M4)?;
    let Some(cf) = CF_DIRS
        .iter()
        .find(|d| root.join(d).join("m4/cf.m4").is_file())
    else {
        return Err(format!(
            "sendmail's cf macros are missing (no {} or {} with m4/cf.m4)",
            root.join(CF_DIRS[0]).display(),
            root.join(CF_DIRS[1]).display()
        ));
    };
    root_only(root, &format!("{cf}/m4/cf.m4"))?;
    Ok(Some(M4Tools {
        cf_dir: format!("/{cf}"),
    }))
}

/// Whether m4 can run as this admin at all: never as root (uid or gid 0), and only when this process
/// can switch to the admin (it is root, as the fix must be).
pub fn can_drop_to(admin: Admin, euid: u32) -> Result<(), String> {
    if admin.uid == 0 || admin.gid == 0 {
        return Err(format!(
            "the site admin is {}:{} (root): m4 would run the site's sendmail.mc as root",
            admin.uid, admin.gid
        ));
    }
    if euid != 0 && euid != admin.uid {
        return Err(format!(
            "this process (uid {euid}) cannot switch to the site admin (uid {}) to run m4",
            admin.uid
        ));
    }
    Ok(())
}

/// Runs m4 on `mc` (fed on stdin) chrooted into `root`, in the directory `cwd` (inside the site,
/// opened without following links), as `admin`, and returns the checked sendmail.cf.
pub fn regenerate(
    root: &Path,
    tools: &M4Tools,
    cwd: &Dir,
    admin: Admin,
    mc: &[u8],
    value: &str,
) -> Result<Vec<u8>, M4Error> {
    can_drop_to(admin, nix::unistd::geteuid().as_raw()).map_err(M4Error::Refused)?;
    let out = run_confined(root, tools, cwd, admin, mc)?;
    check_cf(&out, value).map_err(M4Error::Refused)?;
    Ok(out.stdout)
}

/// What m4 did.
#[derive(Debug, Default)]
pub struct M4Output {
    pub success: bool,
    pub status: String,
    pub stdout: Vec<u8>,
    pub stdout_over: bool,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    /// The time limit it ran under, in seconds.
    pub limit_secs: u64,
}

fn run_confined(
    root: &Path,
    tools: &M4Tools,
    cwd: &Dir,
    admin: Admin,
    mc: &[u8],
) -> Result<M4Output, M4Error> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| M4Error::Failed(format!("m4: {what}: {e}"));
    let root_c = CString::new(root.as_os_str().as_bytes()).map_err(|e| failed("root", &e))?;
    let cwd_fd = cwd.as_fd().as_raw_fd();
    let (uid, gid) = (admin.uid, admin.gid);
    let limit = time_limit();
    let mut cmd = Command::new(format!("/{M4}"));
    cmd.arg(format!("-D_CF_DIR_={}/", tools.cf_dir))
        .arg(format!("{}/m4/cf.m4", tools.cf_dir))
        .arg("-")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .env("HOME", "/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls on values prepared before the fork.
    unsafe {
        cmd.pre_exec(move || confine(&root_c, cwd_fd, uid, gid, limit.as_secs()));
    }
    let mut child = cmd.spawn().map_err(|e| failed("start", &e))?;
    let pid = child.id() as i32;
    let mut stdin = child.stdin.take().expect("piped");
    let mc = mc.to_vec();
    // A broken pipe (m4 stopped reading) is not an error of its own: its status says why. Never
    // joined: something m4 started in a session of its own may hold the pipe without reading.
    std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &mc);
    });
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let _ = tx.send((true, read_limited(stdout, OUTPUT_LIMIT)));
    });
    std::thread::spawn(move || {
        let _ = tx2.send((false, read_limited(stderr, STDERR_LIMIT)));
    });
    let deadline = Instant::now() + limit;
    let mut out = M4Output {
        limit_secs: limit.as_secs(),
        ..M4Output::default()
    };
    let mut pending = 2;
    let kill_group = || {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    };
    while pending > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((is_stdout, (bytes, over))) => {
                pending -= 1;
                if is_stdout {
                    out.stdout = bytes;
                    out.stdout_over = over;
                } else {
                    out.stderr = bytes;
                }
                if over {
                    kill_group();
                }
            }
            Err(_) => {
                out.timed_out = true;
                kill_group();
                break;
            }
        }
    }
    // Wait for m4 to exit without reaping it, so that its process group id stays its own while
    // whatever it left running is killed with it.
    while !out.timed_out && !exited_unreaped(pid) {
        if Instant::now() >= deadline {
            out.timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_group();
    let status = child.wait().map_err(|e| failed("wait", &e))?;
    out.success = status.success() && !out.timed_out;
    out.status = status.to_string();
    Ok(out)
}

/// True once the child has exited; it stays a zombie (not reaped) until `wait`.
fn exited_unreaped(pid: i32) -> bool {
    // SAFETY: waitid fills a zeroed siginfo_t; WNOWAIT leaves the child to be reaped by `wait`.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

/// In the child: into the site directory, chroot into the root, drop every group and then the user to
/// the admin's, check root cannot be regained, and set the resource limits. Only system calls through
/// nix's wrappers on values made before the fork (no allocation: the root is a `CStr`).
fn confine(root: &CString, cwd: i32, uid: u32, gid: u32, cpu: u64) -> std::io::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    use nix::unistd::{
        chroot, fchdir, getegid, geteuid, getgid, getuid, setgid, setgroups, setuid,
    };
    use nix::unistd::{Gid, Uid};
    let io = |e: nix::errno::Errno| std::io::Error::from_raw_os_error(e as i32);
    // SAFETY: `cwd` is the site directory's descriptor, open in the parent for the whole spawn.
    let cwd = unsafe { std::os::fd::BorrowedFd::borrow_raw(cwd) };
    fchdir(cwd).map_err(io)?;
    chroot(root.as_c_str()).map_err(io)?;
    setgroups(&[]).map_err(io)?;
    setgid(Gid::from_raw(gid)).map_err(io)?;
    setuid(Uid::from_raw(uid)).map_err(io)?;
    let still_root = getuid().is_root()
        || geteuid().is_root()
        || getgid().as_raw() == 0
        || getegid().as_raw() == 0
        || setuid(Uid::from_raw(0)).is_ok();
    if still_root {
        return Err(std::io::Error::from_raw_os_error(libc::EPERM));
    }
    for (what, value) in [
        (Resource::RLIMIT_CPU, cpu),
        (Resource::RLIMIT_AS, MEMORY_LIMIT),
        (Resource::RLIMIT_CORE, 0),
    ] {
        setrlimit(what, value, value).map_err(io)?;
    }
    Ok(())
}

/// Reads at most `limit` bytes; `true` when there was more.
fn read_limited(r: impl Read, limit: usize) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let mut r = r.take(limit as u64 + 1);
    let _ = r.read_to_end(&mut buf);
    let over = buf.len() > limit;
    buf.truncate(limit);
    (buf, over)
}

/// m4's output is taken only when m4 succeeded quietly and wrote a sendmail.cf with the new value.
pub fn check_cf(out: &M4Output, value: &str) -> Result<(), String> {
    if out.timed_out {
        return Err(format!(
            "m4 did not finish within {}s: killed, nothing replaced",
            out.limit_secs
        ));
    }
    if out.stdout_over {
        return Err(format!(
            "m4 wrote more than {} MiB: not a sendmail.cf, killed, nothing replaced",
            OUTPUT_LIMIT >> 20
        ));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.success || !stderr.trim().is_empty() {
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!(
            "m4 as the site admin: {}{}{}; nothing replaced",
            out.status,
            if first.is_empty() { "" } else { ": " },
            first.trim()
        ));
    }
    let version = out
        .stdout
        .split(|&b| b == b'\n')
        .any(|l| l.len() > 1 && l[0] == b'V' && l[1].is_ascii_digit() && l.ends_with(b"/Berkeley"));
    if !version {
        return Err("m4 output has no version line (V10/Berkeley): not a sendmail.cf".into());
    }
    if defaultuser::cf_get(&out.stdout).as_deref() != Some(value) {
        return Err(format!(
            "m4 output has no 'O DefaultUser={value}': not a usable sendmail.cf"
        ));
    }
    Ok(())
}

/// The directory m4 runs in: the site's etc/mail (where its mc is), else the site's tree itself.
pub fn workdir(fst: &Dir) -> Option<Dir> {
    fst.subdir(Path::new("etc/mail")).ok()
}

/// What `--m4` makes of the cf when planned: m4 itself runs only when the plan is applied.
pub enum M4Plan {
    /// Already right.
    Done(Step),
    /// Would be regenerated, not in this run (a fake root without an m4 of its own).
    Pending(Step),
    /// Refused or failed: the pair (mc and cf) is not changed.
    Blocked(Step),
    /// To be regenerated with these tools when the plan is applied; shown as the step (with the
    /// identity m4 will run as).
    Deferred { tools: M4Tools, shown: Step },
}

/// What m4 made of the cf when the plan was applied.
pub enum M4Run {
    Blocked(Step),
    /// m4 ran, confined, and its output is a sendmail.cf with the new value: the cf's new text.
    Generated {
        cf: Vec<u8>,
        change: String,
    },
}

impl Planner<'_> {
    /// Step 4 with `--m4`: the cf to be regenerated from the (edited) mc, through m4 confined as above.
    pub fn plan_m4(&self, cf_rel: &str, cf: &[u8], value: &str) -> M4Plan {
        let change = m4_change(value);
        let refused = |why: String| {
            M4Plan::Blocked(Step::new(4, cf_rel, change.clone(), Outcome::Refused, why))
        };
        if defaultuser::cf_get(cf).as_deref() == Some(value) {
            return M4Plan::Done(Step::new(4, cf_rel, "", Outcome::Ok, ""));
        }
        // Never as root, whatever the root: refused before anything else is looked at.
        if let Err(why) = can_drop_to(self.admin, 0) {
            return refused(why);
        }
        let root = &self.opts.root;
        let located = self
            .snap
            .m4_tools
            .clone()
            .unwrap_or_else(|| Err("m4 was not looked for".into()));
        let tools = match located {
            Ok(Some(t)) => t,
            Ok(None) if !self.opts.live => {
                return M4Plan::Pending(Step::new(
                    4,
                    cf_rel,
                    change,
                    Outcome::WouldChange,
                    format!("fake root: m4 is not run (no {M4} of its own to run it chrooted)"),
                ))
            }
            Ok(None) => return refused(format!("no /{M4}: install m4 and sendmail-cf")),
            Err(why) => return refused(why),
        };
        if let Err(why) = can_drop_to(self.admin, self.snap.euid) {
            return refused(why);
        }
        let note = format!(
            "m4 runs as uid {} gid {} (no other groups), chrooted in {}",
            self.admin.uid,
            self.admin.gid,
            root.display()
        );
        M4Plan::Deferred {
            tools,
            shown: Step::new(4, cf_rel, change, Outcome::WouldChange, note),
        }
    }
}

fn m4_change(value: &str) -> String {
    format!("regenerate from sendmail.mc with m4 (DefaultUser={value})")
}

/// Runs m4 as planned, on the mc's new text, in the site's etc/mail.
pub fn run_m4(
    fst: &Dir,
    root: &Path,
    tools: &M4Tools,
    admin: Admin,
    cf_rel: &str,
    mc: &[u8],
    value: &str,
) -> M4Run {
    let change = m4_change(value);
    let etc_mail = workdir(fst);
    let cwd = etc_mail.as_ref().unwrap_or(fst);
    match regenerate(root, tools, cwd, admin, mc, value) {
        Ok(generated) => M4Run::Generated {
            cf: generated,
            change: format!(
                "regenerated with m4 as uid {}, DefaultUser={value}",
                admin.uid
            ),
        },
        Err(M4Error::Refused(why)) => {
            M4Run::Blocked(Step::new(4, cf_rel, change, Outcome::Refused, why))
        }
        Err(M4Error::Failed(why)) => {
            M4Run::Blocked(Step::new(4, cf_rel, change, Outcome::Failed, why))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str, stderr: &str, success: bool) -> M4Output {
        M4Output {
            success,
            status: if success {
                "exit status: 0"
            } else {
                "exit status: 1"
            }
            .into(),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            ..M4Output::default()
        }
    }

    #[test]
    fn only_a_sendmail_cf_with_the_new_value_is_taken() {
        let cf = "V10/Berkeley\nO DefaultUser=501:501\n";
        assert!(check_cf(&out(cf, "", true), "501:501").is_ok());
        let e = check_cf(&out(cf, "", true), "502:502").unwrap_err();
        assert!(e.contains("DefaultUser=502:502"), "{e}");
        let e = check_cf(&out("O DefaultUser=501:501\n", "", true), "501:501").unwrap_err();
        assert!(e.contains("version line"), "{e}");
        let e = check_cf(
            &out(
                cf,
                "m4:stdin:3: cannot open `/etc/shadow': Permission denied\n",
                false,
            ),
            "501:501",
        )
        .unwrap_err();
        assert!(
            e.contains("Permission denied") && e.contains("nothing replaced"),
            "{e}"
        );
        let e = check_cf(&out(cf, "m4: warning\n", true), "501:501").unwrap_err();
        assert!(e.contains("warning"), "{e}");
        let over = M4Output {
            stdout_over: true,
            ..out(cf, "", true)
        };
        assert!(check_cf(&over, "501:501")
            .unwrap_err()
            .contains("m4 wrote more than 4 MiB: not a sendmail.cf, killed"));
        let slow = M4Output {
            timed_out: true,
            ..out(cf, "", true)
        };
        assert!(check_cf(&slow, "501:501")
            .unwrap_err()
            .contains("did not finish within"));
    }

    #[test]
    fn never_as_root_and_only_when_the_switch_is_possible() {
        let admin = |uid, gid| Admin { uid, gid };
        assert!(can_drop_to(admin(501, 501), 0).is_ok());
        for (uid, gid) in [(0, 501), (501, 0)] {
            let e = can_drop_to(admin(uid, gid), 0).unwrap_err();
            assert!(
                e.contains(&format!("the site admin is {uid}:{gid} (root)"))
                    && e.contains("m4 would run the site's sendmail.mc as root"),
                "{e}"
            );
        }
        assert!(can_drop_to(admin(501, 501), 1000)
            .unwrap_err()
            .contains("cannot switch"));
    }

    #[test]
    fn tools_must_be_roots_alone() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(locate(root.path()), Ok(None), "no m4: not a chroot tree");
        std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
        std::fs::write(root.path().join(M4), "#!/bin/false\n").unwrap();
        let e = locate(root.path()).unwrap_err();
        assert!(e.contains("cf macros"), "{e}");
        std::fs::create_dir_all(root.path().join("usr/share/sendmail-cf/m4")).unwrap();
        std::fs::write(root.path().join("usr/share/sendmail-cf/m4/cf.m4"), "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // Root owns what the test made only when it runs as root (as CI does, and as the chown
        // tests need): not a case to skip silently.
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test runs as root (the tree must be root's)"
        );
        assert_eq!(
            locate(root.path()).unwrap().unwrap().cf_dir,
            "/usr/share/sendmail-cf"
        );
        std::fs::set_permissions(root.path().join(M4), std::fs::Permissions::from_mode(0o775))
            .unwrap();
        let e = locate(root.path()).unwrap_err();
        assert!(e.contains("not root's alone"), "{e}");
    }
}
