use super::*;

fn fake_root(passwd: &str, group: &str) -> (tempfile::TempDir, Root) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/passwd"), passwd).unwrap();
    std::fs::write(dir.path().join("etc/group"), group).unwrap();
    let root = Root::new(dir.path()).unwrap();
    (dir, root)
}

#[test]
fn fake_root_uses_its_own_files() {
    let (_d, root) = fake_root(
        "root:x:0:0::/root:/bin/sh\nadmin11:x:511:511::/home:/bin/false\n",
        "root:x:0:\nmail:x:12:\nadmin11:x:511:\n",
    );
    let db = UserDb::open(&root).unwrap();
    assert_eq!(db.user_by_name("admin11").unwrap().uid(), 511);
    assert_eq!(db.user_by_uid(511).unwrap().primary_group_id(), 511);
    assert_eq!(db.group_by_name("mail").unwrap().gid(), 12);
    assert_eq!(db.group_name(12), "mail");
    assert_eq!(db.user_name(4242), "4242");
    assert!(db.user_by_name("nobody-here").is_none());
    assert!(db.bad_lines().is_empty());
}

#[test]
fn a_fake_root_never_asks_the_live_system() {
    // `root` exists on every live system; a fake root that does not list it does not know it.
    let (_d, root) = fake_root("admin1:x:501:501::/:/bin/false\n", "admin1:x:501:\n");
    let db = UserDb::open(&root).unwrap();
    assert!(db.user_by_name("root").is_none());
    assert!(db.group_by_gid(0).is_none());
    assert_eq!(db.user_name(0), "0");
}

#[test]
fn nis_lines_comments_blank_and_malformed_lines_never_reject_the_file() {
    let passwd = "# local accounts\n\
                  root:x:0:0:root:/root:/bin/bash\n\
                  \n\
                  \x20\x20\n\
                  broken-line\n\
                  admin1:x:501:501::/home/virtual/site1/fst:/bin/false\n\
                  bad:x:notanumber:1::/:/bin/sh\n\
                  :x:9:9::/:/bin/sh\n\
                  -baduser\n\
                  +@netgroup\n\
                  +admin2::::::\n\
                  +\n\
                  admin3:x:503:503::/:/bin/false\r\n\
                  root:x:99:99:second root, ignored as glibc does:/:/bin/sh\n";
    let group = "root:x:0:\n+:::\n-wheel\n# comment\nadmin1:x:501:\nnogid:x:\nadmin3:x:503:a,b\n";
    let (_d, root) = fake_root(passwd, group);
    let db = UserDb::open(&root).unwrap();
    assert_eq!(db.user_by_name("admin1").unwrap().uid(), 501);
    // The last line of a CRLF file is read too.
    assert_eq!(db.user_by_name("admin3").unwrap().uid(), 503);
    assert_eq!(db.user_by_name("root").unwrap().uid(), 0);
    assert_eq!(db.user_by_uid(99).unwrap().name(), "root");
    // Compat lines are not entries: `+admin2` does not create a user named `+admin2`.
    assert!(db.user_by_name("admin2").is_none());
    assert!(db.user_by_name("+admin2").is_none());
    assert!(db.group_by_name("wheel").is_none());
    assert_eq!(db.group_by_name("admin3").unwrap().gid(), 503);
    let bad: Vec<(String, usize)> = db
        .bad_lines()
        .iter()
        .map(|b| {
            let file = b.path.file_name().unwrap().to_string_lossy().into_owned();
            (file, b.line)
        })
        .collect();
    assert_eq!(
        bad,
        [
            ("passwd".to_string(), 5),
            ("passwd".to_string(), 7),
            ("passwd".to_string(), 8),
            ("group".to_string(), 6),
        ]
    );
}

#[test]
fn bad_lines_are_reported_as_damaged_not_blinding() {
    let (_d, root) = fake_root("root:x:0:0::/:/bin/sh\nbroken-line\n", "root:x:0:\n");
    let db = UserDb::open(&root).unwrap();
    let mut skips = Skips::default();
    db.report_bad_lines(&root, &mut skips);
    assert_eq!((skips.count, skips.unreadable), (1, 0));
    let shown = format!("{}/etc/passwd:2", root.path().display());
    assert_eq!(skips.first[0].path, shown);
    assert_eq!(skips.first[0].reason, "expected name:x:uid:gid:...");
}

#[test]
fn a_fake_root_without_passwd_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/group"), "root:x:0:\n").unwrap();
    let err = UserDb::open(&Root::new(dir.path()).unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("etc/passwd"), "{err}");
}

#[test]
fn non_utf8_names_are_kept_as_bytes() {
    let (_d, root) = fake_root("caf\u{e9}:x:600:600::/:/bin/sh\n", "");
    std::fs::write(root.join("etc/passwd"), b"caf\xe9:x:600:600::/:/bin/sh\n").unwrap();
    let db = UserDb::open(&root).unwrap();
    let u = db.user_by_uid(600).unwrap();
    assert_eq!(std::os::unix::ffi::OsStrExt::as_bytes(u.name()), b"caf\xe9");
    assert_eq!(db.user_name(600), "caf\u{fffd}");
}

#[test]
fn the_database_is_shared_between_threads() {
    fn shared<T: Sync + Send>(_: &T) {}
    let db = UserDb::open(&Root::new(Path::new("/")).unwrap()).unwrap();
    shared(&db);
    let names: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(|| db.user_name(0))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(names.iter().all(|n| n == "root"), "{names:?}");
}

/// The live root: its files are read, and what they lack is asked of NSS. The live `etc/passwd`
/// answers for root; a uid only NSS knows is compared with what glibc's `getent` says.
#[test]
fn the_live_root_reads_its_files_and_asks_nss_for_the_rest() {
    let db = UserDb::open(&Root::new(Path::new("/")).unwrap()).unwrap();
    assert_eq!(db.user_by_name("root").unwrap().uid(), 0);
    assert_eq!(db.group_name(0), "root");
    // Whatever NSS answers (files, sss, ldap), the database agrees with getent for this process's
    // own uid, and for an unknown name says none.
    let me = nix::unistd::geteuid().as_raw();
    let out = std::process::Command::new("getent")
        .args(["passwd", &me.to_string()])
        .output()
        .expect("getent runs");
    let expected = String::from_utf8_lossy(&out.stdout)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(db.user_name(me), expected);
    assert!(db.user_by_name("no-such-user-toolkit-test").is_none());
    // A name the files do not hold goes to NSS: a database built empty but live asks the system.
    let mut nss_only = UserDb::empty();
    nss_only.nss = Some(Mutex::default());
    assert_eq!(nss_only.user_by_uid(0).unwrap().name(), "root");
    assert_eq!(nss_only.group_by_name("root").unwrap().gid(), 0);
    assert!(nss_only.user_by_name("no-such-user-toolkit-test").is_none());
}
