#!/usr/bin/env bash
# Benchmark (not a test): `toolkit mqueue scan --min 20M` against `find -size +20M` and
# `du -s --apparent-size` on the same tree of SITES sites x FILES queue files (a few oversized, sparse),
# warm cache, in one run. Prints best-of-RUNS wall times, the ratios and the toolkit's peak RSS.
#   bench/mqueue.sh            # 1,000 sites x 300 files, tree kept in $BENCH_DIR (default /tmp/toolkit-bench)
# Targets: ratio vs find <= 0.7, peak RSS < 64 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
sites=${SITES:-1000} files=${FILES:-300} runs=${RUNS:-5}
root=${BENCH_DIR:-/tmp/toolkit-bench}/root-$sites-$files
cargo build --release --quiet
bin="$PWD/target/release/toolkit"

if [ ! -f "$root/.complete" ]; then
  echo "building $sites sites x $files queue files in $root ..."
  rm -rf "$root"
  python3 - "$root" "$sites" "$files" <<'PY'
import os, sys
root, sites, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
qf = open("fixtures/fakeroot/home/virtual/site1/fst/var/spool/mqueue/qf6AM2aXUG006021", "rb").read()
os.makedirs(f"{root}/etc/virtualhosting/mappings")
with open(f"{root}/etc/passwd", "w") as p, open(f"{root}/etc/group", "w") as g, \
     open(f"{root}/etc/virtualhosting/mappings/domainmap", "w") as m:
    p.write("root:x:0:0::/root:/bin/sh\nmail:x:8:12::/var/spool/mail:/sbin/nologin\n")
    g.write("root:x:0:\nmail:x:12:\n")
    for n in range(1, sites + 1):
        p.write(f"admin{n}:x:{500+n}:{500+n}::/home/virtual/site{n}/fst:/bin/sh\n")
        g.write(f"admin{n}:x:{500+n}:\n")
        m.write(f"site{n}.example.com = site{n}\n")
hv = f"{root}/home/virtual"
for n in range(1, sites + 1):
    s = f"{hv}/site{n}"
    q = f"{s}/fst/var/spool/mqueue"
    os.makedirs(q)
    os.makedirs(f"{s}/info/current")
    os.makedirs(f"{s}/fst/etc")
    open(f"{s}/info/current/siteinfo", "w").write(f"domain = site{n}.example.com\nadmin_user = admin{n}\n")
    open(f"{s}/fst/etc/sendmail.cf", "w").write("O QueueDirectory=/var/spool/mqueue\nO DefaultUser=mail:mail\n")
    os.symlink(f"site{n}/fst", f"{hv}/site{n}.example.com")
    os.symlink(f"site{n}/fst", f"{hv}/admin{n}")
    for i in range(files // 2):
        mid = f"8B{n:04d}x{i:06d}"
        open(f"{q}/qf{mid}", "wb").write(qf)
        with open(f"{q}/df{mid}", "wb") as d:
            # One site in 50 has two oversized (sparse) messages; the rest are ordinary mail.
            if n % 50 == 0 and i < 2:
                d.truncate(38 << 20)
            else:
                d.write(b"x" * (200 + (i * 37) % 4000))
PY
  touch "$root/.complete"
fi
# Let the writeback of a fresh tree finish: it would otherwise land in whichever run comes first.
sync

# best SECONDS of RUNS runs of a command (stdout discarded)
best() {
  local b=
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    b=$(echo "$t1 - $t0" | bc -l | awk -v b="$b" '{ if (b == "" || $1 < b) print $1; else print b }')
  done
  echo "$b"
}

scan=("$bin" --root "$root" -q mqueue scan --min 20M)
find_=(find "$root/home/virtual" -path '*/mqueue/*' -size +20M)
du_=(du -s --apparent-size "$root/home/virtual")
# Warm the cache.
"${scan[@]}" >/dev/null; "${find_[@]}" >/dev/null; "${du_[@]}" >/dev/null
t_scan=$(best "${scan[@]}")
t_find=$(best "${find_[@]}")
t_du=$(best "${du_[@]}")
rss=$(/usr/bin/time -f '%M' "${scan[@]}" 2>&1 >/dev/null | tail -1)
found=$("${find_[@]}" | wc -l)
listed=$("$bin" --root "$root" -q mqueue scan --min 20M --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["oversized"])')
printf 'tree: %s sites x %s queue files (%s oversized; find found %s)\n' "$sites" "$files" "$listed" "$found"
printf 'cpus: %s\n' "$(nproc)"
printf '%-44s %8.3f s\n' "toolkit mqueue scan --min 20M" "$t_scan" "find -path '*/mqueue/*' -size +20M" "$t_find" \
  "du -s --apparent-size" "$t_du"
printf 'ratio toolkit/find: %.2f (target <= 0.7)\n' "$(echo "$t_scan / $t_find" | bc -l)"
printf 'ratio toolkit/du:   %.2f\n' "$(echo "$t_scan / $t_du" | bc -l)"
printf 'toolkit peak RSS:   %.1f MB (target < 64 MB)\n' "$(echo "$rss / 1024" | bc -l)"
