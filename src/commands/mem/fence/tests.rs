//! The fence chosen for each kind of host, sized from what the process (or its unit) uses.

use super::*;

const MIB: u64 = 1 << 20;

fn target(rss: u64, swap: u64, cgroup: &str) -> Target {
    Target {
        pid: 31048,
        start: 1,
        comm: "lekker".into(),
        rss,
        swap,
        vsize: rss * 2,
        cmdline: vec!["/usr/bin/lekker".into(), "--size=it's".into()],
        cgroup: Some(cgroup.into()),
        usage: None,
    }
}

fn v2(systemd: bool) -> Host {
    Host {
        systemd,
        memory: Ok(Controller {
            version: Version::V2,
            mount: "/sys/fs/cgroup".into(),
            swap_accounting: true,
            procs_file: ProcsFile::CgroupProcs,
            subtree_memory: true,
        }),
    }
}

fn v1(systemd: bool, swap: bool) -> Host {
    Host {
        systemd,
        memory: Ok(Controller {
            version: Version::V1,
            mount: "/sys/fs/cgroup/memory".into(),
            swap_accounting: swap,
            procs_file: ProcsFile::CgroupProcs,
            subtree_memory: true,
        }),
    }
}

#[test]
fn unit_gets_set_property_sized_from_use() {
    let f = plan(
        &target(2000 * MIB, 100 * MIB, "/system.slice/lekker.service"),
        16 << 30,
        &v2(true),
        Sizes::default(),
    );
    // 2000 MiB resident rounded up to 64 MiB: 2048 MiB; a quarter more: 2560 MiB. Swap is not
    // counted by memory.max.
    assert_eq!((f.memory_high, f.memory_max), (2048 * MIB, 2560 * MIB));
    assert_eq!(f.method.word(), "systemd-unit");
    assert_eq!(
        f.commands,
        vec!["systemctl set-property lekker.service MemoryHigh=2048M MemoryMax=2560M"]
    );
    assert_eq!(
        f.undo,
        vec!["systemctl set-property lekker.service MemoryHigh=infinity MemoryMax=infinity"]
    );
    assert_eq!(f.next_run, None);
}

#[test]
fn a_unit_is_sized_from_the_whole_unit_when_it_uses_more() {
    let mut t = target(100 * MIB, 0, "/system.slice/php-fpm.service");
    t.usage = Some(2000 * MIB);
    let f = plan(&t, 16 << 30, &v2(true), Sizes::default());
    assert_eq!((f.sized_from, f.memory_high), (2000 * MIB, 2048 * MIB));
}

#[test]
fn session_scope_gets_a_runtime_property_and_a_scope_for_next_run() {
    let f = plan(
        &target(100 * MIB, 0, "/user.slice/user-500.slice/session-3.scope"),
        16 << 30,
        &v2(true),
        Sizes::default(),
    );
    assert_eq!(f.method.word(), "systemd-scope");
    assert_eq!(
        f.commands,
        vec!["systemctl set-property --runtime session-3.scope MemoryHigh=128M MemoryMax=192M"]
    );
    assert_eq!(
        f.undo,
        vec!["systemctl set-property --runtime session-3.scope MemoryHigh=infinity MemoryMax=infinity"]
    );
    assert_eq!(
        f.next_run.as_deref(),
        Some("systemd-run --scope -p MemoryHigh=128M -p MemoryMax=192M -- /usr/bin/lekker '--size=it'\\''s'")
    );
}

#[test]
fn bare_v2_cgroup_gets_its_own_child_and_the_way_back() {
    let mut host = v2(false);
    if let Ok(c) = host.memory.as_mut() {
        c.subtree_memory = false;
    }
    let f = plan(
        &target(100 * MIB, 0, "/hosting/site12"),
        16 << 30,
        &host,
        Sizes::default(),
    );
    assert_eq!(f.method.word(), "cgroup-v2");
    assert_eq!(
        f.commands,
        vec![
            "echo +memory > /sys/fs/cgroup/cgroup.subtree_control",
            "mkdir /sys/fs/cgroup/toolkit-fence-31048",
            "echo 134217728 > /sys/fs/cgroup/toolkit-fence-31048/memory.high",
            "echo 201326592 > /sys/fs/cgroup/toolkit-fence-31048/memory.max",
            "echo 31048 > /sys/fs/cgroup/toolkit-fence-31048/cgroup.procs",
        ]
    );
    assert_eq!(
        f.undo,
        vec![
            "echo 31048 > /sys/fs/cgroup/hosting/site12/cgroup.procs",
            "rmdir /sys/fs/cgroup/toolkit-fence-31048",
        ]
    );
    // No systemd: no systemd-run for the next start.
    assert_eq!(f.next_run, None);
}

#[test]
fn v1_gets_a_memory_child_with_memsw_when_swap_is_accounted() {
    let f = plan(
        &target(100 * MIB, 30 * MIB, "/"),
        16 << 30,
        &v1(false, true),
        Sizes::default(),
    );
    assert_eq!(f.method.word(), "cgroup-v1");
    assert_eq!(
        f.commands,
        vec![
            "mkdir /sys/fs/cgroup/memory/toolkit-fence-31048",
            "echo 134217728 > /sys/fs/cgroup/memory/toolkit-fence-31048/memory.soft_limit_in_bytes",
            "echo 201326592 > /sys/fs/cgroup/memory/toolkit-fence-31048/memory.limit_in_bytes",
            // 192 MiB plus the 30 MiB in swap, rounded up to 256 MiB.
            "echo 268435456 > /sys/fs/cgroup/memory/toolkit-fence-31048/memory.memsw.limit_in_bytes",
            "echo 31048 > /sys/fs/cgroup/memory/toolkit-fence-31048/cgroup.procs",
        ]
    );
    assert_eq!(f.undo[0], "echo 31048 > /sys/fs/cgroup/memory/cgroup.procs");
    let f = plan(
        &target(100 * MIB, 0, "/"),
        16 << 30,
        &v1(false, false),
        Sizes::default(),
    );
    assert!(!f.commands.iter().any(|c| c.contains("memsw")));
    // A unit on a systemd v1 host (CentOS 7): MemoryLimit=, systemd's v1 property.
    let f = plan(
        &target(100 * MIB, 0, "/system.slice/lekker.service"),
        16 << 30,
        &v1(true, true),
        Sizes::default(),
    );
    assert_eq!(
        f.commands,
        vec!["systemctl set-property lekker.service MemoryLimit=192M"]
    );
    assert_eq!(
        f.undo,
        vec!["systemctl set-property lekker.service MemoryLimit=infinity"]
    );
}

#[test]
fn no_controller_caps_the_address_space() {
    let host = Host {
        systemd: false,
        memory: Err("no cgroup memory controller is mounted (/proc/self/mountinfo)".into()),
    };
    let f = plan(
        &target(100 * MIB, 0, "/"),
        16 << 30,
        &host,
        Sizes::default(),
    );
    assert_eq!(f.method.word(), "prlimit");
    // vsize 200 MiB, a quarter more: 250 MiB, rounded up to 256 MiB.
    assert_eq!(f.commands, vec!["prlimit --pid 31048 --as=268435456"]);
    assert_eq!(f.undo, vec!["prlimit --pid 31048 --as=unlimited"]);
    assert!(f.note.starts_with("no cgroup memory controller is mounted"));
}

#[test]
fn user_manager_units_and_limits_above_ram() {
    let cg = "/user.slice/user-1000.slice/user@1000.service/app.slice/leak.service";
    let f = plan(
        &target(3000 * MIB, 0, cg),
        3200 * MIB,
        &v2(true),
        Sizes::default(),
    );
    assert_eq!(f.method.word(), "cgroup-v2");
    // 3008 MiB high; a quarter more would exceed the 3200 MiB of RAM.
    assert_eq!((f.memory_high, f.memory_max), (3008 * MIB, 3200 * MIB));
}

#[test]
fn asked_sizes_are_page_rounded_and_a_process_already_fenced_is_not_moved_again() {
    let ask = Sizes {
        high: Some(1000),
        max: Some(300 * MIB),
    };
    let f = plan(
        &target(100 * MIB, 0, "/toolkit-fence-31048"),
        16 << 30,
        &v2(true),
        ask,
    );
    assert_eq!((f.memory_high, f.memory_max), (4096, 300 * MIB));
    assert_eq!(
        f.commands,
        vec![
            "echo 4096 > /sys/fs/cgroup/toolkit-fence-31048/memory.high",
            "echo 314572800 > /sys/fs/cgroup/toolkit-fence-31048/memory.max",
        ]
    );
}

#[test]
fn pids_go_to_tasks_only_where_the_hierarchy_offers_nothing_else() {
    use ProcsFile::*;
    assert_eq!(ProcsFile::of_hierarchy(true, true), CgroupProcs);
    assert_eq!(ProcsFile::of_hierarchy(true, false), CgroupProcs);
    assert_eq!(ProcsFile::of_hierarchy(false, true), Tasks);
    // A fake root listing neither: the file every kernel since 2.6.24 has.
    assert_eq!(ProcsFile::of_hierarchy(false, false), CgroupProcs);
    let f = plan(
        &target(100 * MIB, 0, "/hosting/site12"),
        16 << 30,
        &Host {
            systemd: false,
            memory: Ok(Controller {
                procs_file: Tasks,
                ..v1(false, false).memory.unwrap()
            }),
        },
        Sizes::default(),
    );
    assert_eq!(
        f.commands.last().unwrap(),
        "echo 31048 > /sys/fs/cgroup/memory/toolkit-fence-31048/tasks"
    );
    assert_eq!(
        f.undo[0],
        "echo 31048 > /sys/fs/cgroup/memory/hosting/site12/tasks"
    );
}

/// The labels are typed, but their JSON (the report's and the undo record's) is the text of
/// earlier versions.
#[test]
fn labels_serialise_as_the_names_earlier_versions_wrote() {
    let methods = [
        (Method::SystemdUnit, "systemd-unit"),
        (Method::SystemdScope, "systemd-scope"),
        (Method::CgroupV2, "cgroup-v2"),
        (Method::CgroupV1, "cgroup-v1"),
        (Method::Prlimit, "prlimit"),
    ];
    for (m, name) in methods {
        assert_eq!(serde_json::to_value(m).unwrap(), name);
        assert_eq!(m.word(), name);
        assert_eq!(serde_json::from_value::<Method>(name.into()).unwrap(), m);
    }
    for (p, name) in [
        (ProcsFile::CgroupProcs, "cgroup.procs"),
        (ProcsFile::Tasks, "tasks"),
    ] {
        assert_eq!(serde_json::to_value(p).unwrap(), name);
        assert_eq!(p.name(), name);
        assert_eq!(serde_json::from_value::<ProcsFile>(name.into()).unwrap(), p);
    }
    assert!(serde_json::from_value::<ProcsFile>("memory.max".into()).is_err());
    let c = serde_json::to_string(&v1(false, true).memory.unwrap()).unwrap();
    assert!(c.contains(r#""procs_file":"cgroup.procs""#), "{c}");
}
