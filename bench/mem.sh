#!/usr/bin/env bash
# Benchmark (not a test): `toolkit mem verdict --interval 0` against what an administrator would run
# instead, `free -b; ps aux --sort=-rss | head`, with 3,000 extra sleeping processes on the box.
# Reports the mean wall time of each over RUNS runs, their ratio, and the toolkit's peak RSS.
# Targets: toolkit no slower than the ps pipeline; peak RSS under 12 MB.
#
#   bench/mem.sh                  PROCS=3000 RUNS=20 by default
#   PROCS=5000 RUNS=50 bench/mem.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PROCS=${PROCS:-3000}
RUNS=${RUNS:-20}
BIN=target/release/toolkit

cargo build --release --quiet

pids=()
cleanup() {
    # Only the processes this script started, by pid.
    if ((${#pids[@]})); then
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

for ((i = 0; i < PROCS; i++)); do
    sleep 3600 &
    pids+=($!)
done
echo "started $PROCS sleeping processes; $(ls -d /proc/[0-9]* | wc -l) processes in /proc"

# Both sides run through sh -c so that each pays the same process start-up.
mean_ms() {
    local start end
    start=$(date +%s%N)
    for ((r = 0; r < RUNS; r++)); do
        sh -c "$1" >/dev/null 2>&1 || true
    done
    end=$(date +%s%N)
    echo "scale=2; ($end - $start) / $RUNS / 1000000" | bc
}

# One warm-up each, so neither pays for a cold page cache.
sh -c "$BIN mem verdict --interval 0" >/dev/null 2>&1 || true
sh -c "free -b; ps aux --sort=-rss | head" >/dev/null 2>&1 || true

tk=$(mean_ms "$BIN mem verdict --interval 0")
ps=$(mean_ms "free -b; ps aux --sort=-rss | head")
seen=$("$BIN" mem verdict --interval 0 --json | sed -n 's/^  "processes": \([0-9]*\),$/\1/p')

if [[ -x /usr/bin/time ]]; then
    rss_kb=$( { /usr/bin/time -v "$BIN" mem verdict --interval 0 >/dev/null; } 2>&1 |
        sed -n 's/.*Maximum resident set size (kbytes): //p')
else
    # Without GNU time: the child's maximum RSS as the kernel reports it to its parent (getrusage).
    rss_kb=$(python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$BIN" mem verdict --interval 0)
fi

echo "processes read by toolkit:            $seen"
echo "toolkit mem verdict --interval 0:     ${tk} ms (mean of $RUNS)"
echo "free -b; ps aux --sort=-rss | head:   ${ps} ms (mean of $RUNS)"
echo "ratio toolkit / ps pipeline:          $(echo "scale=2; $tk / $ps" | bc)"
echo "toolkit peak RSS:                     $(echo "scale=1; $rss_kb / 1024" | bc) MiB ($rss_kb kB)"
