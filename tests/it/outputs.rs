//! The text of every command on every fixture it applies to, exactly (stdout, stderr, status), with
//! the `Test` builder: `UPDATE_EXPECTED=1 cargo test --test it outputs` rewrites tests/it/expected/.
//! These pin the output while the code under it is refactored (issue 15).
//!
//! `zombies` on fixtures/mem/php-pool and fixtures/mem/fence/*, whose process files lack the fields
//! `zombies` needs, lists them as skipped in pid order (the proc reader sorts the directory, whose
//! order differs between filesystems), and is UNKNOWN: not one process could be parsed. The applying commands (fix, purge and reap without --dry-run) write
//! times of the wall clock into their journals and are covered by their own tests.

use crate::common::manifest_dir;
use crate::exact::{expected_dir, Test};

#[test]
fn mqueue_scan_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mqueue", "scan"])
        .stdout_file("mqueue-scan-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_scan_all_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mqueue", "scan", "--min", "0", "--top", "1000"])
        .stdout_file("mqueue-scan-all-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_fix_all_dry_run_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mqueue", "fix", "--all", "--dry-run"])
        .stdout_file("mqueue-fix-all-dry-run-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_fix_site1_dry_run_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mqueue", "fix", "--site", "site1", "--dry-run"])
        .stdout_file("mqueue-fix-site1-dry-run-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_purge_site1_dry_run_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args([
            "mqueue",
            "purge",
            "--site",
            "site1",
            "--dry-run",
            "--min",
            "20M",
        ])
        .stdout_file("mqueue-purge-site1-dry-run-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn check_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["check"])
        .stdout_file("check-fakeroot.txt")
        .status(1)
        .run();
}

#[test]
fn mqueue_scan_runaway() {
    Test::new()
        .fixture("runaway")
        .args(["mqueue", "scan"])
        .stdout_file("mqueue-scan-runaway.txt")
        .status(2)
        .run();
}

#[test]
fn mqueue_scan_all_runaway() {
    Test::new()
        .fixture("runaway")
        .args(["mqueue", "scan", "--min", "0", "--top", "1000"])
        .stdout_file("mqueue-scan-all-runaway.txt")
        .status(2)
        .run();
}

#[test]
fn mqueue_fix_all_dry_run_runaway() {
    Test::new()
        .fixture("runaway")
        .args(["mqueue", "fix", "--all", "--dry-run"])
        .stdout_file("mqueue-fix-all-dry-run-runaway.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_fix_site1_dry_run_runaway() {
    Test::new()
        .fixture("runaway")
        .args(["mqueue", "fix", "--site", "site1", "--dry-run"])
        .stdout_file("mqueue-fix-site1-dry-run-runaway.txt")
        .status(0)
        .run();
}

#[test]
fn mqueue_purge_site1_dry_run_runaway() {
    Test::new()
        .fixture("runaway")
        .args([
            "mqueue",
            "purge",
            "--site",
            "site1",
            "--dry-run",
            "--min",
            "20M",
        ])
        .stdout_file("mqueue-purge-site1-dry-run-runaway.txt")
        .status(0)
        .run();
}

#[test]
fn check_runaway() {
    Test::new()
        .fixture("runaway")
        .args(["check"])
        .stdout_file("check-runaway.txt")
        .status(2)
        .run();
}

#[test]
fn zombies_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["zombies"])
        .stdout_file("zombies-fakeroot.txt")
        .status(1)
        .run();
}

#[test]
fn zombies_reap_dry_run_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["zombies", "--reap", "--dry-run"])
        .stdout_file("zombies-reap-dry-run-fakeroot.txt")
        .status(1)
        .run();
}

#[test]
fn zombies_restart_dry_run_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["zombies", "--restart", "--dry-run"])
        .stdout_file("zombies-restart-dry-run-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fakeroot.txt")
        .status(0)
        .run();
}

#[test]
fn mem_report_fakeroot() {
    Test::new()
        .fixture("fakeroot")
        .args(["mem", "report"])
        .stdout_file("mem-report-fakeroot.txt")
        .status(3)
        .run();
}

#[test]
fn mqueue_scan_exim() {
    Test::new()
        .fixture("exim")
        .args(["mqueue", "scan"])
        .stdout_file("mqueue-scan-exim.txt")
        .status(2)
        .run();
}

#[test]
fn mqueue_purge_dry_run_exim() {
    Test::new()
        .fixture("exim")
        .args([
            "mqueue",
            "purge",
            "--account",
            "jdoe",
            "--dry-run",
            "--min",
            "20M",
        ])
        .stdout_file("mqueue-purge-dry-run-exim.txt")
        .status(0)
        .run();
}

#[test]
fn check_exim() {
    Test::new()
        .fixture("exim")
        .args(["check"])
        .stdout_file("check-exim.txt")
        .status(2)
        .run();
}

#[test]
fn mqueue_scan_postfix() {
    Test::new()
        .fixture("postfix")
        .args(["mqueue", "scan"])
        .stdout_file("mqueue-scan-postfix.txt")
        .status(2)
        .run();
}

#[test]
fn mqueue_purge_dry_run_postfix() {
    Test::new()
        .fixture("postfix")
        .args([
            "mqueue",
            "purge",
            "--account",
            "jdoe",
            "--dry-run",
            "--min",
            "20M",
        ])
        .stdout_file("mqueue-purge-dry-run-postfix.txt")
        .status(0)
        .run();
}

#[test]
fn check_postfix() {
    Test::new()
        .fixture("postfix")
        .args(["check"])
        .stdout_file("check-postfix.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_mem_healthy_cache() {
    Test::new()
        .fixture("mem/healthy-cache")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-healthy-cache.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_once_mem_healthy_cache() {
    Test::new()
        .fixture("mem/healthy-cache")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-healthy-cache.txt")
        .status(0)
        .run();
}

#[test]
fn check_mem_healthy_cache() {
    Test::new()
        .fixture("mem/healthy-cache")
        .args(["check"])
        .stdout_file("check-mem-healthy-cache.txt")
        .status(1)
        .run();
}

#[test]
fn zombies_mem_healthy_cache() {
    Test::new()
        .fixture("mem/healthy-cache")
        .args(["zombies"])
        .stdout_file("zombies-mem-healthy-cache.txt")
        .status(1)
        .run();
}

#[test]
fn mem_verdict_mem_leak() {
    Test::new()
        .fixture("mem/leak")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-leak.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_once_mem_leak() {
    Test::new()
        .fixture("mem/leak")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-leak.txt")
        .status(2)
        .run();
}

#[test]
fn check_mem_leak() {
    Test::new()
        .fixture("mem/leak")
        .args(["check"])
        .stdout_file("check-mem-leak.txt")
        .status(2)
        .run();
}

#[test]
fn zombies_mem_leak() {
    Test::new()
        .fixture("mem/leak")
        .args(["zombies"])
        .stdout_file("zombies-mem-leak.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_mem_no_psi() {
    Test::new()
        .fixture("mem/no-psi")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-no-psi.txt")
        .status(1)
        .run();
}

#[test]
fn mem_verdict_once_mem_no_psi() {
    Test::new()
        .fixture("mem/no-psi")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-no-psi.txt")
        .status(1)
        .run();
}

#[test]
fn check_mem_no_psi() {
    Test::new()
        .fixture("mem/no-psi")
        .args(["check"])
        .stdout_file("check-mem-no-psi.txt")
        .status(1)
        .run();
}

#[test]
fn zombies_mem_no_psi() {
    Test::new()
        .fixture("mem/no-psi")
        .args(["zombies"])
        .stdout_file("zombies-mem-no-psi.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_mem_no_swap() {
    Test::new()
        .fixture("mem/no-swap")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-no-swap.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_once_mem_no_swap() {
    Test::new()
        .fixture("mem/no-swap")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-no-swap.txt")
        .status(2)
        .run();
}

#[test]
fn check_mem_no_swap() {
    Test::new()
        .fixture("mem/no-swap")
        .args(["check"])
        .stdout_file("check-mem-no-swap.txt")
        .status(2)
        .run();
}

#[test]
fn zombies_mem_no_swap() {
    Test::new()
        .fixture("mem/no-swap")
        .args(["zombies"])
        .stdout_file("zombies-mem-no-swap.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_mem_php_pool() {
    Test::new()
        .fixture("mem/php-pool")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-php-pool.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_once_mem_php_pool() {
    Test::new()
        .fixture("mem/php-pool")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-php-pool.txt")
        .status(2)
        .run();
}

#[test]
fn check_mem_php_pool() {
    Test::new()
        .fixture("mem/php-pool")
        .args(["check"])
        .stdout_file("check-mem-php-pool.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_mem_slab_leak() {
    Test::new()
        .fixture("mem/slab-leak")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-mem-slab-leak.txt")
        .status(1)
        .run();
}

#[test]
fn mem_verdict_once_mem_slab_leak() {
    Test::new()
        .fixture("mem/slab-leak")
        .args(["mem", "verdict", "--interval", "0"])
        .stdout_file("mem-verdict-once-mem-slab-leak.txt")
        .status(1)
        .run();
}

#[test]
fn check_mem_slab_leak() {
    Test::new()
        .fixture("mem/slab-leak")
        .args(["check"])
        .stdout_file("check-mem-slab-leak.txt")
        .status(1)
        .run();
}

#[test]
fn zombies_mem_slab_leak() {
    Test::new()
        .fixture("mem/slab-leak")
        .args(["zombies"])
        .stdout_file("zombies-mem-slab-leak.txt")
        .status(0)
        .run();
}

#[test]
fn mem_fence_dry_run_mem_leak() {
    Test::new()
        .fixture("mem/leak")
        .args(["mem", "fence", "31048", "--dry-run"])
        .stdout_file("mem-fence-dry-run-mem-leak.txt")
        .status(0)
        .run();
}

#[test]
fn mem_report_history_flat() {
    Test::new()
        .fixture("mem-history/flat")
        .args(["mem", "report"])
        .stdout_file("mem-report-history-flat.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_history_flat() {
    Test::new()
        .fixture("mem-history/flat")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-history-flat.txt")
        .status(0)
        .run();
}

#[test]
fn zombies_history_flat() {
    Test::new()
        .fixture("mem-history/flat")
        .args(["zombies"])
        .stdout_file("zombies-history-flat.txt")
        .status(1)
        .run();
}

#[test]
fn check_history_flat() {
    Test::new()
        .fixture("mem-history/flat")
        .args(["check"])
        .stdout_file("check-history-flat.txt")
        .status(1)
        .run();
}

#[test]
fn mem_report_history_leak() {
    Test::new()
        .fixture("mem-history/leak")
        .args(["mem", "report"])
        .stdout_file("mem-report-history-leak.txt")
        .status(2)
        .run();
}

#[test]
fn mem_verdict_history_leak() {
    Test::new()
        .fixture("mem-history/leak")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-history-leak.txt")
        .status(2)
        .run();
}

#[test]
fn zombies_history_leak() {
    Test::new()
        .fixture("mem-history/leak")
        .args(["zombies"])
        .stdout_file("zombies-history-leak.txt")
        .status(0)
        .run();
}

#[test]
fn check_history_leak() {
    Test::new()
        .fixture("mem-history/leak")
        .args(["check"])
        .stdout_file("check-history-leak.txt")
        .status(2)
        .run();
}

#[test]
fn mem_fence_dry_run_fence_none() {
    Test::new()
        .fixture("mem/fence/none")
        .args(["mem", "fence", "4242", "--dry-run"])
        .stdout_file("mem-fence-dry-run-fence-none.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fence_none() {
    Test::new()
        .fixture("mem/fence/none")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fence-none.txt")
        .status(2)
        .run();
}

#[test]
fn check_fence_none() {
    Test::new()
        .fixture("mem/fence/none")
        .args(["check"])
        .stdout_file("check-fence-none.txt")
        .status(2)
        .run();
}

#[test]
fn mem_fence_dry_run_fence_v1() {
    Test::new()
        .fixture("mem/fence/v1")
        .args(["mem", "fence", "4242", "--dry-run"])
        .stdout_file("mem-fence-dry-run-fence-v1.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fence_v1() {
    Test::new()
        .fixture("mem/fence/v1")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fence-v1.txt")
        .status(2)
        .run();
}

#[test]
fn check_fence_v1() {
    Test::new()
        .fixture("mem/fence/v1")
        .args(["check"])
        .stdout_file("check-fence-v1.txt")
        .status(2)
        .run();
}

#[test]
fn mem_fence_dry_run_fence_v2_bare() {
    Test::new()
        .fixture("mem/fence/v2-bare")
        .args(["mem", "fence", "4242", "--dry-run"])
        .stdout_file("mem-fence-dry-run-fence-v2-bare.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fence_v2_bare() {
    Test::new()
        .fixture("mem/fence/v2-bare")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fence-v2-bare.txt")
        .status(2)
        .run();
}

#[test]
fn check_fence_v2_bare() {
    Test::new()
        .fixture("mem/fence/v2-bare")
        .args(["check"])
        .stdout_file("check-fence-v2-bare.txt")
        .status(2)
        .run();
}

#[test]
fn mem_fence_dry_run_fence_v2_scope() {
    Test::new()
        .fixture("mem/fence/v2-scope")
        .args(["mem", "fence", "4242", "--dry-run"])
        .stdout_file("mem-fence-dry-run-fence-v2-scope.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fence_v2_scope() {
    Test::new()
        .fixture("mem/fence/v2-scope")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fence-v2-scope.txt")
        .status(2)
        .run();
}

#[test]
fn check_fence_v2_scope() {
    Test::new()
        .fixture("mem/fence/v2-scope")
        .args(["check"])
        .stdout_file("check-fence-v2-scope.txt")
        .status(2)
        .run();
}

#[test]
fn mem_fence_dry_run_fence_v2_unit() {
    Test::new()
        .fixture("mem/fence/v2-unit")
        .args(["mem", "fence", "4242", "--dry-run"])
        .stdout_file("mem-fence-dry-run-fence-v2-unit.txt")
        .status(0)
        .run();
}

#[test]
fn mem_verdict_fence_v2_unit() {
    Test::new()
        .fixture("mem/fence/v2-unit")
        .args(["mem", "verdict"])
        .stdout_file("mem-verdict-fence-v2-unit.txt")
        .status(2)
        .run();
}

#[test]
fn check_fence_v2_unit() {
    Test::new()
        .fixture("mem/fence/v2-unit")
        .args(["check"])
        .stdout_file("check-fence-v2-unit.txt")
        .status(2)
        .run();
}

/// Errors: one line on stderr, nothing on stdout, status 3.
#[test]
fn a_missing_root_is_one_line_naming_it() {
    Test::new()
        .args(["--root", "/nonexistent", "zombies"])
        .stdout("")
        .stderr("toolkit: --root /nonexistent: no such directory; give the directory to treat as / (a fake root)\n")
        .status(3)
        .run();
}

#[test]
fn a_negative_size_is_one_line_naming_it() {
    Test::new()
        .fixture("fakeroot")
        .args(["mqueue", "scan", "--min", "-5"])
        .stderr(
            "toolkit: invalid value '-5' for '--min <SIZE>': invalid size '-5' (expected e.g. 20M, \
             20MiB, 20MB, 512K or a byte count) (try --help)\n",
        )
        .status(3)
        .run();
}

/// Every expected file is one a test names (here or in another module, such as zombies.rs), so none
/// is left behind when a case goes.
#[test]
fn every_expected_file_belongs_to_a_case() {
    let mut sources = String::new();
    for dir in ["tests/it", "tests/it/mqueue", "tests/it/mta"] {
        for e in std::fs::read_dir(manifest_dir().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                sources.push_str(&std::fs::read_to_string(p).unwrap());
            }
        }
    }
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(expected_dir()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if !sources.contains(&format!("stdout_file(\"{name}\")")) {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "expected files no test uses: {orphans:?}"
    );
}

#[test]
fn zombies_mem_php_pool() {
    Test::new()
        .fixture("mem/php-pool")
        .args(["zombies"])
        .stdout_file("zombies-mem-php-pool.txt")
        .status(3)
        .run();
}

#[test]
fn zombies_fence_none() {
    Test::new()
        .fixture("mem/fence/none")
        .args(["zombies"])
        .stdout_file("zombies-fence-none.txt")
        .status(3)
        .run();
}

#[test]
fn zombies_fence_v1() {
    Test::new()
        .fixture("mem/fence/v1")
        .args(["zombies"])
        .stdout_file("zombies-fence-v1.txt")
        .status(3)
        .run();
}

#[test]
fn zombies_fence_v2_bare() {
    Test::new()
        .fixture("mem/fence/v2-bare")
        .args(["zombies"])
        .stdout_file("zombies-fence-v2-bare.txt")
        .status(3)
        .run();
}

#[test]
fn zombies_fence_v2_scope() {
    Test::new()
        .fixture("mem/fence/v2-scope")
        .args(["zombies"])
        .stdout_file("zombies-fence-v2-scope.txt")
        .status(3)
        .run();
}

#[test]
fn zombies_fence_v2_unit() {
    Test::new()
        .fixture("mem/fence/v2-unit")
        .args(["zombies"])
        .stdout_file("zombies-fence-v2-unit.txt")
        .status(3)
        .run();
}
