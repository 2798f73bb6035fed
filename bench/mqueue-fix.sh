#!/usr/bin/env bash
# Benchmark (not a test): `toolkit mqueue fix --site example.com --yes --chgrp-queued` on the runaway
# fake host (fixtures/build-fakeroot.sh --runaway: 4,150 queue files in site1's queue) against
# `chgrp -R` of the same queue directory on a copy of the same tree, in one run. The toolkit journals
# every change (batched: one journal file and one fsync per 256 queued files) before making it;
# chgrp journals nothing. Prints best-of-RUNS wall times and the ratio. Target: ratio <= 10.
#   bench/mqueue-fix.sh            # RUNS=5; trees in $BENCH_DIR (default /tmp/toolkit-bench-fix)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
dir=${BENCH_DIR:-/tmp/toolkit-bench-fix}
cargo build --release --quiet
bin="$PWD/target/release/toolkit"

rm -rf "$dir"
mkdir -p "$dir"
echo "building the runaway fake host twice in $dir ..."
fixtures/build-fakeroot.sh --runaway "$dir/toolkit" >/dev/null
fixtures/build-fakeroot.sh --runaway "$dir/chgrp" >/dev/null
q=home/virtual/site1/fst/var/spool/mqueue
files=$(find "$dir/toolkit/$q" -type f | wc -l)
gid=$(awk -F: '$1 == "admin1" { print $4 }' "$dir/toolkit/etc/passwd")
sync

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || a < b) print a; else print b }'; }

fix=("$bin" --root "$dir/toolkit" mqueue fix --site example.com --yes --chgrp-queued)
undo=("$bin" --root "$dir/toolkit" mqueue fix --site example.com --yes --undo)
t_fix= t_chgrp=
for r in $(seq "$runs"); do
  # Each toolkit run starts from the unfixed tree: the previous run is undone (not timed).
  t=$(secs "${fix[@]}"); t_fix=$(min "$t" "$t_fix")
  changed=$(find "$dir/toolkit/$q" -type f -group "$gid" | wc -l)
  [ "$r" = "$runs" ] || "${undo[@]}" >/dev/null || true
  # chgrp alternates between the site's group and mail, so every run changes every file.
  g=$gid; [ $((r % 2)) = 0 ] && g=12
  t=$(secs chgrp -R "$g" "$dir/chgrp/$q"); t_chgrp=$(min "$t" "$t_chgrp")
  sync
done
last=$(ls -td "$dir/toolkit/var/lib/toolkit/mqueue-fix/site1"/*[0-9] | head -1)
journal=$(find "$last" -name '*.json' | wc -l)
printf 'tree: runaway fake host, %s files in the queue; the last toolkit run gave %s of them group %s\n' \
  "$files" "$changed" "$gid"
printf 'journal of the last toolkit run: %s entry files\n' "$journal"
printf 'cpus: %s, runs: %s (best of)\n' "$(nproc)" "$runs"
printf '%-62s %8.3f s\n' "toolkit mqueue fix --site example.com --yes --chgrp-queued" "$t_fix" \
  "chgrp -R $gid $q" "$t_chgrp"
printf 'ratio toolkit/chgrp -R: %.1f (target <= 10)\n' "$(echo "$t_fix / $t_chgrp" | bc -l)"
