//! Attacks on the safe operations (we run as root, so ownership changes are real).

use super::*;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

fn setup() -> (tempfile::TempDir, Dir) {
    let t = tempfile::tempdir().unwrap();
    let d = Dir::open_trusted(t.path()).unwrap();
    (t, d)
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn symlinks_are_never_followed() {
    let (t, d) = setup();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("passwd");
    std::fs::write(&victim, "secret").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&victim, t.path().join("aliases")).unwrap();
    symlink(outside.path(), t.path().join("smrsh")).unwrap();

    let e = d.existing(os("aliases")).unwrap();
    assert_eq!(e.meta.kind, Kind::Symlink);
    assert!(matches!(
        e.chown(4242, 4242),
        Err(SafeError::Refused { .. })
    ));
    assert!(matches!(e.chmod(0o777), Err(SafeError::Refused { .. })));
    assert!(matches!(
        d.replace(os("aliases"), b"x"),
        Err(SafeError::Refused { .. })
    ));
    assert!(matches!(
        d.read(os("aliases")),
        Err(SafeError::Refused { .. })
    ));
    assert!(matches!(
        d.subdir(Path::new("smrsh")),
        Err(SafeError::Refused { .. })
    ));
    assert!(matches!(
        d.subdir(Path::new("smrsh/x")),
        Err(SafeError::Refused { .. })
    ));
    let m = std::fs::metadata(&victim).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o600));
    assert_eq!(std::fs::read(&victim).unwrap(), b"secret");
}

#[test]
fn hard_linked_files_are_refused() {
    let (t, d) = setup();
    let outside = tempfile::tempdir().unwrap();
    let shared = outside.path().join("template-aliases");
    std::fs::write(&shared, "root: admin\n").unwrap();
    std::fs::hard_link(&shared, t.path().join("aliases")).unwrap();
    let e = d.existing(os("aliases")).unwrap();
    let err = e.chown(4242, 4242).unwrap_err();
    assert!(err.to_string().contains("2 hard links"), "{err}");
    assert!(matches!(
        d.replace(os("aliases"), b"x"),
        Err(SafeError::Refused { .. })
    ));
    assert_eq!(std::fs::metadata(&shared).unwrap().uid(), 0);
    assert_eq!(std::fs::read(&shared).unwrap(), b"root: admin\n");
}

#[test]
fn chown_then_chmod_a_directory_keeps_setgid() {
    let (t, d) = setup();
    std::fs::create_dir(t.path().join("mqueue")).unwrap();
    let e = d.existing(os("mqueue")).unwrap();
    e.chown(501, 501).unwrap();
    e.chmod(0o2770).unwrap();
    let m = std::fs::metadata(t.path().join("mqueue")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (501, 501, 0o2770));
}

#[test]
fn replace_is_atomic_and_keeps_owner_and_mode() {
    let (t, d) = setup();
    let p = t.path().join("sendmail.cf");
    std::fs::write(&p, "old\n").unwrap();
    std::os::unix::fs::chown(&p, Some(501), Some(12)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before_ino = std::fs::metadata(&p).unwrap().ino();
    d.replace(os("sendmail.cf"), b"new\n").unwrap();
    let m = std::fs::metadata(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"new\n");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (501, 12, 0o640));
    assert_ne!(m.ino(), before_ino, "a new inode was renamed into place");
    assert_eq!(
        d.names().unwrap(),
        vec![OsString::from("sendmail.cf")],
        "no temporary file left"
    );
}

#[test]
fn exclusive_creation_never_goes_through_an_existing_name() {
    let (t, d) = setup();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("shadow");
    symlink(&target, t.path().join("sendmail.cf.zorig")).unwrap();
    let err = d
        .create_exclusive(os("sendmail.cf.zorig"), b"x", 0, 0, 0o600)
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(
        !target.exists(),
        "nothing created through the dangling symlink"
    );
    d.create_exclusive(os("new"), b"data", 501, 12, 0o640)
        .unwrap();
    let m = std::fs::metadata(t.path().join("new")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (501, 12, 0o640));
    assert!(d
        .create_exclusive(os("new"), b"again", 0, 0, 0o600)
        .is_err());
    assert_eq!(std::fs::read(t.path().join("new")).unwrap(), b"data");
}

#[test]
fn names_must_be_plain() {
    let (_t, d) = setup();
    for bad in ["", ".", "..", "a/b"] {
        assert!(d.entry(os(bad)).is_err(), "{bad:?}");
    }
    assert!(d.subdir(Path::new("../etc")).is_err());
    assert!(d.subdir(Path::new("/etc")).is_err());
    assert!(d.entry(os("missing")).unwrap().is_none());
}

#[test]
fn trusted_open_refuses_a_final_symlink() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("real")).unwrap();
    symlink(t.path().join("real"), t.path().join("link")).unwrap();
    assert!(Dir::open_trusted(&t.path().join("real")).is_ok());
    assert!(matches!(
        Dir::open_trusted(&t.path().join("link")),
        Err(SafeError::Refused { .. })
    ));
}

#[test]
fn write_in_place_keeps_the_inode_and_never_follows_or_creates() {
    let (t, d) = setup();
    let f = t.path().join("memory.max");
    std::fs::write(&f, "max\n").unwrap();
    let ino = std::fs::metadata(&f).unwrap().ino();
    d.write_in_place(os("memory.max"), b"1048576").unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"1048576");
    assert_eq!(
        std::fs::metadata(&f).unwrap().ino(),
        ino,
        "written in place"
    );
    let outside = t.path().join("outside");
    std::fs::write(&outside, "keep").unwrap();
    symlink(&outside, t.path().join("cgroup.procs")).unwrap();
    assert!(matches!(
        d.write_in_place(os("cgroup.procs"), b"42"),
        Err(SafeError::Refused { .. })
    ));
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
    assert!(matches!(
        d.write_in_place(os("memory.high"), b"1"),
        Err(SafeError::Missing { .. })
    ));
    assert!(!t.path().join("memory.high").exists());
}

#[test]
fn a_queue_file_flocked_elsewhere_is_not_taken_and_a_lock_is_released_on_drop() {
    let (t, d) = setup();
    std::fs::write(t.path().join("qfA"), "V8\n").unwrap();
    // Another open file description holding flock(2), as sendmail on Linux does.
    let other = std::fs::File::open(t.path().join("qfA")).unwrap();
    let held = nix::fcntl::Flock::lock(other, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| e)
        .unwrap();
    assert!(d.try_lock(os("qfA")).unwrap().is_none());
    drop(held);
    let lock = d.try_lock(os("qfA")).unwrap().expect("free once released");
    let again = std::fs::File::open(t.path().join("qfA")).unwrap();
    let busy = nix::fcntl::Flock::lock(again, nix::fcntl::FlockArg::LockExclusiveNonblock);
    assert!(busy.is_err(), "held while Locked lives");
    drop(busy);
    lock.release();
    let again = std::fs::File::open(t.path().join("qfA")).unwrap();
    assert!(nix::fcntl::Flock::lock(again, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok());
}

/// An fcntl(2) lock (sendmail built without flock) is held per process: another process takes it.
#[test]
fn a_queue_file_fcntl_locked_by_another_process_is_not_taken() {
    use std::io::{BufRead, Write};
    let (t, d) = setup();
    let qf = t.path().join("qfB");
    std::fs::write(&qf, "V8\n").unwrap();
    let hold = "import fcntl, sys\n\
                f = open(sys.argv[1], 'r+')\n\
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n\
                print('locked', flush=True)\n\
                sys.stdin.read()\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", hold])
        .arg(&qf)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (installed by .ci/peers.sh)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let taken = d.try_lock(os("qfB")).unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        taken.is_none(),
        "an fcntl lock held elsewhere must be respected"
    );
    assert!(d.try_lock(os("qfB")).unwrap().is_some());
}
