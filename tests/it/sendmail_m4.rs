//! The DefaultUser edits agree with sendmail's own cf generation: an mc edited by the toolkit, run
//! through the real m4 with sendmail's cf macros (Debian `m4` and `sendmail-cf`), gives a cf whose
//! `O DefaultUser=` is what the direct cf edit writes, and which is otherwise the same file.

use crate::common::{manifest_dir, peer};
use std::process::Command;
use toolkit::sendmail::defaultuser::{cf_get, cf_set, mc_get, mc_set};

fn cf_dir() -> std::path::PathBuf {
    let d = manifest_dir().join("target/peers/usr/share/sendmail/cf");
    assert!(
        d.join("m4/cf.m4").is_file(),
        "sendmail cf macros missing: run .ci/peers.sh"
    );
    d
}

fn m4(mc: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sendmail.mc");
    std::fs::write(&path, mc).unwrap();
    let cf = cf_dir();
    let out = Command::new(peer("m4"))
        .arg(format!("-D_CF_DIR_={}/", cf.display()))
        .arg(cf.join("m4/cf.m4"))
        .arg(&path)
        .output()
        .expect("run m4");
    assert!(
        out.status.success(),
        "m4 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The cf without the lines that carry the build host and date.
fn stable(cf: &[u8]) -> String {
    String::from_utf8_lossy(cf)
        .lines()
        .filter(|l| !l.starts_with("#####"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(mc: &[u8], before: Option<&str>) {
    let cf = m4(mc);
    assert_eq!(
        cf_get(&cf).as_deref(),
        before,
        "the original mc's DefaultUser"
    );
    let direct = cf_set(&cf, "501:501").unwrap();
    let edited_mc = mc_set(mc, "501:501").unwrap();
    assert_eq!(mc_get(&edited_mc).as_deref(), Some("501:501"));
    let regenerated = m4(&edited_mc);
    assert_eq!(cf_get(&regenerated).as_deref(), Some("501:501"));
    assert_eq!(
        stable(&regenerated),
        stable(&direct),
        "m4 of the edited mc differs from the direct cf edit"
    );
}

#[test]
fn ensim_style_mc_with_double_quoted_define() {
    let mc = b"divert(-1)dnl\nVERSIONID(`ensim site')dnl\nOSTYPE(`linux')dnl\ndefine(`confDEF_USER_ID',``mail:mail'')dnl\nFEATURE(`smrsh',`/usr/sbin/smrsh')dnl\nMAILER(smtp)dnl\nMAILER(procmail)dnl\n";
    check(mc, Some("mail:mail"));
}

#[test]
fn mc_without_define_where_the_ostype_sets_one() {
    // OSTYPE(irix6) defines confDEF_USER_ID as 998:998 itself (debian's does too, but needs files
    // its postinst generates): the added define must come after it.
    let mc = b"divert(-1)dnl\nOSTYPE(`irix6')dnl\nDOMAIN(`generic')dnl\nFEATURE(`smrsh')dnl\nMAILER(`local')dnl\nMAILER(`smtp')dnl\n";
    check(mc, Some("998:998"));
}

#[test]
fn mc_without_any_define_leaves_the_option_commented_before() {
    let mc = b"divert(-1)dnl\nOSTYPE(`linux')dnl\nMAILER(smtp)dnl\n";
    // Before: sendmail's own commented default, no option set.
    let cf = String::from_utf8(m4(mc)).unwrap();
    assert!(cf.contains("\n#O DefaultUser=mailnull\n"), "{cf}");
    check(mc, None);
}
