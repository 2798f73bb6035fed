//! The real case at full scale: 2,074 copies of one 38 MiB message, 77 GiB apparent, queued as
//! root:mail in one site while its neighbours are healthy. Sparse files: it costs a few MiB of disk.

use super::{chown, fakeroot, queue, sparse, MIB, SITE1_QUEUE};

#[test]
fn seventy_seven_gigabytes_of_one_message() {
    let s = fakeroot();
    let q = s.join(SITE1_QUEUE);
    let template = std::fs::read(q.join("qf6AM2aXUG006021")).unwrap();
    for e in std::fs::read_dir(&q).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    for i in 0..2074u32 {
        let id = format!("8B6J{:03}{:07}", i % 60, 10_000 + i);
        let qf = q.join(format!("qf{id}"));
        std::fs::write(&qf, &template).unwrap();
        let df = q.join(format!("df{id}"));
        sparse(&df, 38 * MIB);
        // As in the case: most root:mail, some root:root.
        let gid = if i % 4 == 0 { 0 } else { 12 };
        chown(&qf, 0, gid);
        chown(&df, 0, gid);
    }
    let out = s.run(&["mqueue", "scan"]);
    out.status(2)
        .stdout_has("CRITICAL site1 example.com: 77.0 GiB in 2,074 messages, 2,074 >= 20.0 MiB;")
        .stdout_has("2,074 copies of one 38.0 MiB message from jdoe@example.com (77.0 GiB)")
        .stdout_has("site1 example.com (admin1): NOT bound to its quota")
        .stdout_has("4,148 files (77.0 GiB) not in group admin1: not charged to its quota")
        .stdout_has("fix: toolkit mqueue fix --site example.com");
    let j = s.run(&["mqueue", "scan", "--json"]).json();
    let site1 = queue(&j, "site1");
    assert_eq!(
        site1["bytes"].as_u64().unwrap(),
        2074 * (38 * MIB + template.len() as u64)
    );
    // On disk: the qf blocks only (the data files are holes), far below the apparent size.
    assert!(
        site1["disk_bytes"].as_u64().unwrap() < 64 * MIB,
        "{}",
        site1["disk_bytes"]
    );
    assert_eq!(j["oversized"][0]["count"], 2074);
    assert_eq!(j["oversized"][0]["owners"].as_array().unwrap().len(), 2);
    // The healthy neighbours are still there, unaffected.
    assert_eq!(queue(&j, "site2")["binding"]["bound"], true);
    assert_eq!(queue(&j, "site2")["oversized"], 0);
}
