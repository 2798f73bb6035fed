#!/usr/bin/env bash
# Benchmark (not a test): a month of `mem record` history at the default 10 s, consolidated as the
# recorder does it, then `toolkit mem verdict --history` on it against jq reading the same file
# (what an administrator would do instead). Prints the history's size and resolutions, the wall
# time of each (mean of RUNS runs), their ratio, and the toolkit's peak RSS; then the same on a
# 16 MiB history of raw samples only (the size cap, as an unconsolidated file reaches it).
# Targets (issue 14): a month within the 16 MiB cap; peak RSS <= 12 MiB; wall <= 150 ms.
#
#   bench/mem-history.sh              DAYS=30 RUNS=10 by default
#   DAYS=7 RUNS=5 bench/mem-history.sh
#   WORK=/tmp/mh bench/mem-history.sh   keep the files
set -euo pipefail
cd "$(dirname "$0")/.."

DAYS=${DAYS:-30}
RUNS=${RUNS:-10}
BIN=$PWD/target/release/toolkit

cargo build --release --quiet

# WORK=DIR keeps the generated root and histories there for a look afterwards.
if [[ -n ${WORK:-} ]]; then
    work=$WORK
    rm -rf "$work" && mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
root=$work/root
hist=$work/mem-history.jsonl
BOOT=1764000000
END=$((BOOT + DAYS * 86400 + 3600))

# A fake root whose clock is END: the host and boot of the generated samples, the leaker running.
python3 - "$root" "$BOOT" "$END" <<'PY'
import os, sys
root, boot, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def put(rel, text):
    p = os.path.join(root, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").write(text)
put("proc/stat", f"cpu 1 0 1 1 0 0 0 0 0 0\nbtime {boot}\n")
put("proc/uptime", f"{end - boot}.00 1.00\n")
put("proc/sys/kernel/hostname", "web1\n")
put("proc/vmstat", "pswpin 0\npswpout 0\npgmajfault 0\noom_kill 0\n")
put("proc/meminfo", "MemTotal: 16303500 kB\nMemFree: 900000 kB\nMemAvailable: 4000000 kB\n"
    "Buffers: 10000 kB\nCached: 3000000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\nShmem: 1000 kB\n"
    "Slab: 100000 kB\nSReclaimable: 50000 kB\nSUnreclaim: 50000 kB\n")
for pid, comm, kb in [(4100, "java", 6000000), (812, "mysqld", 2000000)]:
    put(f"proc/{pid}/stat", f"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 1 0 "
        f"{pid * 10} {kb * 2048} {kb // 4} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
    put(f"proc/{pid}/status", f"Name:\t{comm}\nVmSize:\t{kb * 2} kB\nVmHWM:\t{kb} kB\nVmRSS:\t{kb} kB\n"
        f"RssAnon:\t{kb - 1000} kB\nVmSwap:\t0 kB\n")
    put(f"proc/{pid}/cgroup", f"0::/system.slice/{comm}.service\n")
    put(f"proc/{pid}/cmdline", f"/usr/bin/{comm}\0")
PY

# Appends DAY's samples (10 s apart): java (pid 4100) a GC sawtooth whose floor rises 40 MiB a
# day, mysqld flat, 48 others flat (the recorder keeps the 50 largest; older days, which are
# consolidated to 12 processes anyway, carry 14 to keep the generator fast).
gen() { # FILE FIRST_SAMPLE_TIME COUNT PROCS
    python3 - "$1" "$BOOT" "$2" "$3" "$4" <<'PY'
import sys
path, boot, t0, count, procs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
MIB = 1 << 20
others = [(5000 + k, 5000 + k, f"php-fpm{k % 7}", (40 + k) * MIB) for k in range(procs - 2)]
with open(path, "a") as f:
    for i in range(count):
        t = t0 + i * 10
        n = (t - boot) // 10
        java = 4000 * MIB + int((t - boot) * 40 * MIB / 86400) + (n % 30) * 20 * MIB
        ps = [(4100, 41000, "java", java), (812, 8120, "mysqld", 2000 * MIB)] + others
        body = ",".join(
            '{"pid":%d,"start":%d,"comm":"%s","rss":%d,"anon":%d,"vsize":%d,"swap":0,"major_faults":0}'
            % (p, s, c, a + MIB, a, 2 * a) for p, s, c, a in ps)
        f.write('{"v":1,"t":%d.0,"host":{"hostname":"web1","boot":%d},"mem":{"total":16694784000,'
                '"used":%d,"free":921600000,"buffers":10240000,"cache":3072000000,"available":%d,'
                '"swap_total":0,"swap_used":0},"oom_kills":0,"procs":[%s]}\n'
                % (t, boot, 12000000000 + (n % 30) * 20 * MIB, 4600000000 - (n % 30) * 20 * MIB, body))
PY
}

start=$(date +%s)
for ((d = 0; d < DAYS; d++)); do
    procs=14
    ((d == DAYS - 1)) && procs=50
    gen "$hist" $((BOOT + 3600 + d * 86400)) 8640 "$procs"
    # One recorded sample at the end of the day: the recorder consolidates as it appends.
    up=$((BOOT + 3600 + (d + 1) * 86400 - BOOT))
    printf '%d.00 1.00\n' "$up" >"$root/proc/uptime"
    "$BIN" --root "$root" mem record --history "$hist"
done
printf '%d.00 1.00\n' "$((END - BOOT))" >"$root/proc/uptime"
echo "generated $DAYS days of 10 s samples in $(($(date +%s) - start)) s"

python3 - "$hist" <<'PY'
import json, sys
by = {}
n = 0
first = last = None
for line in open(sys.argv[1]):
    s = json.loads(line)
    k = {None: "raw (10 s)", 60.0: "per minute", 600.0: "per 10 minutes"}[s.get("dt")]
    by[k] = by.get(k, 0) + 1
    n += s.get("n", 1)
    first = s["t"] if first is None else first
    last = s["t"]
print("history lines:", ", ".join(f"{v} {k}" for k, v in by.items()), f"standing for {n} samples")
print(f"history span: {(last - first) / 86400:.1f} days")
PY
size=$(stat -c %s "$hist")
echo "history size: $size bytes ($(echo "scale=1; $size / 1048576" | bc) MiB, cap 16 MiB)"

measure() { # FILE LABEL
    local file=$1 label=$2 s e tk jq rss
    local cmd=("$BIN" --root "$root" mem verdict --interval 0 --history "$file")
    "${cmd[@]}" >/dev/null || true
    s=$(date +%s%N)
    for ((r = 0; r < RUNS; r++)); do "${cmd[@]}" >/dev/null || true; done
    e=$(date +%s%N)
    tk=$(echo "scale=1; ($e - $s) / $RUNS / 1000000" | bc)
    jq -c .t "$file" >/dev/null
    s=$(date +%s%N)
    for ((r = 0; r < RUNS; r++)); do jq -c .t "$file" >/dev/null; done
    e=$(date +%s%N)
    jq=$(echo "scale=1; ($e - $s) / $RUNS / 1000000" | bc)
    local v
    v=$( { /usr/bin/time -v "${cmd[@]}" >/dev/null; } 2>&1)
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' <<<"$v")
    # CPU time too: on a machine shared with other work, wall time includes waiting for a core.
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.0f", (u + s) * 1000}' <<<"$v")
    echo "$label: toolkit mem verdict --history: $tk ms wall (mean of $RUNS), $cpu ms CPU," \
        "peak RSS $rss KiB ($(echo "scale=1; $rss / 1024" | bc) MiB); jq -c .t: $jq ms;" \
        "ratio toolkit/jq $(echo "scale=2; $tk / $jq" | bc); load average $(cut -d' ' -f1 /proc/loadavg)"
}

measure "$hist" "month ($DAYS days, consolidated)"
"$BIN" --root "$root" mem verdict --interval 0 --history "$hist" | sed -n '/^History/,/^$/p'

# The cap reached by raw samples only (as an unconsolidated file would): 50-process lines, 10 s
# apart, up to 16 MiB, ending at the fake root's clock.
raw=$work/raw.jsonl
gen "$raw" $((END - 2650 * 10)) 2650 50
echo "raw history: $(stat -c %s "$raw") bytes, $(wc -l <"$raw") lines"
measure "$raw" "16 MiB of raw samples"
