//! `mqueue fix --m4` runs the real m4 (Debian's, from target/peers) on a site's own sendmail.mc, which
//! its admin wrote: on a root that is a chroot tree (the fake host plus m4, sendmail's cf macros, a
//! shell and `id` with their libraries), as the test is root. The mc's `esyscmd`/`syscmd` run as the
//! site admin inside the chroot, never as root; `include` of a root-only file fails and the output is
//! refused; the cf is untouched then, and a clean mc regenerates the cf sendmail's m4 makes.

use crate::common::{copy_tree, manifest_dir, peer, purge_snapshot, purge_snapshot_diff, Scenario};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const FST: &str = "home/virtual/site1/fst";
const MC: &str = "home/virtual/site1/fst/etc/mail/sendmail.mc";
const CF: &str = "home/virtual/site1/fst/etc/sendmail.cf";

/// Copies a program and the shared libraries `ldd` names for it to the same paths under `root`.
fn install(root: &Path, program: &Path, as_path: &str) {
    let dest = root.join(as_path);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(program, &dest).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ldd = Command::new("ldd").arg(program).output().expect("ldd");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let lib = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/')),
        };
        let Some(lib) = lib.filter(|l| l.starts_with('/')) else {
            continue;
        };
        let to = root.join(lib.trim_start_matches('/'));
        if !to.exists() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(lib, &to).unwrap();
        }
    }
}

/// The fake host made a chroot tree m4 can run in.
fn chroot_host() -> Scenario {
    let s = Scenario::built_fakeroot();
    let root = s.path();
    install(root, &peer("m4"), "usr/bin/m4");
    let cf = manifest_dir().join("target/peers/usr/share/sendmail/cf");
    assert!(
        cf.join("m4/cf.m4").is_file(),
        "sendmail cf macros missing: run .ci/peers.sh"
    );
    std::fs::create_dir_all(root.join("usr/share/sendmail")).unwrap();
    copy_tree(&cf, &root.join("usr/share/sendmail/cf"));
    let sh = Path::new("/bin/sh").canonicalize().unwrap();
    install(root, &sh, "bin/sh");
    // What sendmail's cfhead.m4 runs (sh/makeinfo.sh), and `id` for the attack.
    for tool in ["id", "sed", "uname", "date", "rm", "sleep"] {
        install(
            root,
            &Path::new("/usr/bin").join(tool),
            &format!("usr/bin/{tool}"),
        );
    }
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    for d in ["", "usr", "usr/bin", "usr/share", "bin"] {
        std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A root-only file, as /etc/shadow is.
    s.write(
        "etc/shadow",
        "root:$6$SECRET-SHADOW-HASH:19000:0:99999:7:::\n",
    );
    std::fs::set_permissions(
        root.join("etc/shadow"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    s
}

fn fix_m4(s: &Scenario) -> crate::common::Output {
    s.run(&[
        "mqueue", "fix", "--site", "site1", "--m4", "--yes", "--format", "json",
    ])
}

fn cf_step(r: &serde_json::Value) -> serde_json::Value {
    r["sites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "etc/sendmail.cf")
        .unwrap_or_else(|| panic!("no cf step: {r:#}"))
        .clone()
}

/// Everything under the root outside site1, except what the attack itself may write as the admin
/// (`tmp/`) and the fix's own journal.
fn outside_site(s: &Scenario) -> std::collections::BTreeMap<String, crate::common::PurgeMeta> {
    let mut snap = purge_snapshot(s.path());
    snap.retain(|k, _| {
        !k.starts_with("home/virtual/site1/") && !k.starts_with("tmp/") && !k.starts_with("var/lib")
    });
    snap
}

#[test]
fn m4_commands_in_the_mc_run_as_the_site_admin_in_the_chroot_never_as_root() {
    let s = chroot_host();
    let host_file = format!("/tmp/toolkit-m4-escape-{}", std::process::id());
    let mut mc = std::fs::read_to_string(s.join(MC)).unwrap();
    mc.push_str("esyscmd(`id -u > /tmp/m4-esyscmd; id -g >> /tmp/m4-esyscmd; id -G >> /tmp/m4-esyscmd')dnl\n");
    mc.push_str(&format!(
        "syscmd(`id -u > /tmp/m4-syscmd; id -u > {host_file}')dnl\n"
    ));
    s.write(MC, &mc);
    // Reproduce first: run the way the old code did (m4 as root on the mc), and the command runs as root.
    let cf_dir = manifest_dir().join("target/peers/usr/share/sendmail/cf");
    let asroot = tempfile::tempdir().unwrap();
    let probe = mc.replace("/tmp/", &format!("{}/", asroot.path().display()));
    let out = Command::new(peer("m4"))
        .arg(format!("-D_CF_DIR_={}/", cf_dir.display()))
        .arg(cf_dir.join("m4/cf.m4"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(&mut c.stdin.take().unwrap(), probe.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(asroot.path().join("m4-esyscmd")).unwrap(),
        "0\n0\n0\n",
        "the attack works when m4 runs as root"
    );

    let before = outside_site(&s);
    let r = fix_m4(&s).json();
    let step = cf_step(&r);
    assert_eq!(step["outcome"], "changed", "{r:#}");
    assert_eq!(
        std::fs::read_to_string(s.join("tmp/m4-esyscmd")).unwrap(),
        "501\n501\n501\n",
        "esyscmd ran as admin1 (uid, gid, and no other group)"
    );
    assert_eq!(
        std::fs::read_to_string(s.join("tmp/m4-syscmd")).unwrap(),
        "501\n"
    );
    assert!(
        !Path::new(&host_file).exists(),
        "m4 wrote outside the chroot: {host_file}"
    );
    let cf = std::fs::read_to_string(s.join(CF)).unwrap();
    assert!(cf.contains("\nO DefaultUser=501:501\n") && cf.contains("\nV10/Berkeley\n"));
    assert_eq!(
        purge_snapshot_diff(&before, &outside_site(&s)),
        Vec::<String>::new(),
        "something outside the site changed"
    );
}

#[test]
fn include_of_a_root_only_file_fails_and_the_cf_is_untouched() {
    let s = chroot_host();
    let mut mc = std::fs::read_to_string(s.join(MC)).unwrap();
    mc.push_str("divert(0)include(`/etc/shadow')dnl\n");
    s.write(MC, &mc);
    let cf_before = std::fs::read(s.join(CF)).unwrap();
    let before = outside_site(&s);
    let out = fix_m4(&s);
    out.status(1);
    let step = cf_step(&out.json());
    assert_eq!(step["outcome"], "refused", "{step:#}");
    let note = step["note"].as_str().unwrap();
    assert!(
        note.contains("/etc/shadow") && note.contains("Permission denied"),
        "{note}"
    );
    assert_eq!(
        std::fs::read(s.join(CF)).unwrap(),
        cf_before,
        "the refused output replaced the cf"
    );
    for e in walkdir::WalkDir::new(s.join(FST)) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let text = std::fs::read(e.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&text).contains("SECRET-SHADOW-HASH"),
                "the root-only file reached {}",
                e.path().display()
            );
        }
    }
    assert_eq!(
        purge_snapshot_diff(&before, &outside_site(&s)),
        Vec::<String>::new()
    );
    // A rerun (the admin has not changed the mc) is refused the same way and still changes nothing.
    let again = fix_m4(&s);
    again.status(1);
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf_before);
}

/// The cf without the lines that carry the build host, date and paths.
fn stable(cf: &str) -> String {
    cf.lines()
        .filter(|l| !l.starts_with("#####"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_clean_mc_regenerates_the_cf_sendmails_m4_makes_and_undo_restores_it() {
    let s = chroot_host();
    let cf_before = std::fs::read(s.join(CF)).unwrap();
    let dry = s.run(&[
        "mqueue",
        "fix",
        "--site",
        "site1",
        "--m4",
        "--dry-run",
        "--format",
        "json",
    ]);
    let step = cf_step(&dry.json());
    assert_eq!(step["outcome"], "would_change");
    assert!(step["note"].as_str().unwrap().contains("uid 501"), "{step}");
    let r = fix_m4(&s).json();
    assert_eq!(cf_step(&r)["outcome"], "changed", "{r:#}");
    let cf = std::fs::read_to_string(s.join(CF)).unwrap();
    // The same mc through sendmail's m4 directly.
    let cf_dir = manifest_dir().join("target/peers/usr/share/sendmail/cf");
    let mc = s.join(MC);
    let direct = Command::new(peer("m4"))
        .arg(format!("-D_CF_DIR_={}/", cf_dir.display()))
        .arg(cf_dir.join("m4/cf.m4"))
        .arg(&mc)
        .output()
        .unwrap();
    assert!(direct.status.success());
    assert_eq!(
        stable(&cf),
        stable(&String::from_utf8_lossy(&direct.stdout))
    );
    assert!(cf.contains("\nO DefaultUser=501:501\n"));
    assert_eq!(
        std::fs::read(s.join("home/virtual/site1/fst/etc/sendmail.cf.zorig")).unwrap(),
        cf_before,
        "the backup holds the old cf"
    );
    // Second run: nothing to do. Undo: the old cf back.
    let again = fix_m4(&s).json();
    assert_eq!(cf_step(&again)["outcome"], "ok");
    s.run(&["mqueue", "fix", "--site", "site1", "--undo", "--yes"])
        .status(0);
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf_before);
}

#[test]
fn a_site_admin_that_is_root_gets_no_m4() {
    let s = chroot_host();
    let passwd = std::fs::read_to_string(s.join("etc/passwd")).unwrap();
    s.write(
        "etc/passwd",
        passwd.replace("admin1:x:501:501:", "admin1:x:0:501:"),
    );
    let mut mc = std::fs::read_to_string(s.join(MC)).unwrap();
    mc.push_str("esyscmd(`id -u > /tmp/m4-esyscmd')dnl\n");
    s.write(MC, &mc);
    let cf_before = std::fs::read(s.join(CF)).unwrap();
    let out = fix_m4(&s);
    assert_ne!(out.status, 0, "{}", out.stdout);
    let r = out.json();
    // Refused at the cf step (or, with stricter site identity checks, for the whole site).
    let refused = r["sites"][0]["steps"].as_array().unwrap().iter().any(|st| {
        let note = st["note"].as_str().unwrap_or("");
        st["outcome"] == "refused"
            && (note.contains("m4 would run the site's sendmail.mc as root")
                || note.contains("root is never a site admin"))
    });
    assert!(refused, "{r:#}");
    assert!(!s.join("tmp/m4-esyscmd").exists(), "m4 ran");
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf_before);
}

#[test]
fn m4_is_stopped_at_its_output_and_time_limits_and_the_cf_is_untouched() {
    let s = chroot_host();
    let clean = std::fs::read_to_string(s.join(MC)).unwrap();
    let cf_before = std::fs::read(s.join(CF)).unwrap();
    // 64 bytes doubled 17 times: 8 MiB of output, twice what a sendmail.cf could be.
    let mut bomb = clean.clone();
    bomb.push_str(
        "define(`a0', `0123456789012345678901234567890123456789012345678901234567890123')dnl\n",
    );
    for i in 1..=17 {
        bomb.push_str(&format!("define(`a{i}', `a{p}()a{p}()')dnl\n", p = i - 1));
    }
    bomb.push_str("divert(0)a17\n");
    s.write(MC, &bomb);
    let out = fix_m4(&s);
    out.status(1);
    let step = cf_step(&out.json());
    assert_eq!(step["outcome"], "refused");
    assert!(
        step["note"].as_str().unwrap().contains("more than 4 MiB"),
        "{step}"
    );
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf_before);

    // A command that never ends: m4 and what it started are killed at the time limit.
    let mut slow = clean;
    slow.push_str("esyscmd(`echo $$ > /tmp/sleeper; exec sleep 120')dnl\n");
    s.write(MC, &slow);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolkit"));
    cmd.arg("--root")
        .arg(s.path())
        .args([
            "mqueue", "fix", "--site", "site1", "--m4", "--yes", "--format", "json",
        ])
        .env("TOOLKIT_M4_TIME_LIMIT", "2");
    let out = crate::common::run_cmd(&mut cmd);
    out.status(1);
    let step = cf_step(&out.json());
    assert!(
        step["note"]
            .as_str()
            .unwrap()
            .contains("did not finish within 2s"),
        "{step}"
    );
    assert_eq!(std::fs::read(s.join(CF)).unwrap(), cf_before);
    let pid = std::fs::read_to_string(s.join("tmp/sleeper")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let mut alive = true;
    for _ in 0..50 {
        alive = std::fs::read_to_string(&stat)
            .is_ok_and(|st| st.contains("(sleep)") && !st.contains(") Z "));
        if !alive {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !alive,
        "the sleep m4 started (pid {}) still runs",
        pid.trim()
    );
}
