#!/usr/bin/env bash
# Benchmark: `toolkit zombies` against `ps -eo pid,ppid,stat,comm` (and `check_procs -s Z` when
# available) on the live /proc with 3,000 extra sleeping processes and a few zombies, in one run.
# Prints mean wall times and the ratio; target: toolkit <= 0.8 x ps. Cleans up everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3000}
RUNS=${RUNS:-20}
cargo build --release --quiet
bin=target/release/toolkit
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq "$N"); do sleep 600 & pids+=($!); done
for _ in 1 2 3; do sh -c 'for i in 1 2 3 4 5; do /bin/true & done; exec sleep 600' & pids+=($!); done
sleep 1
echo "processes: $(ls -d /proc/[0-9]* | wc -l)"

# mean wall time in milliseconds of RUNS runs of "$@" (output discarded), after one warm-up run
mean_ms() {
  "$@" >/dev/null 2>&1 || true
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$RUNS"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo $(( (end - start) / RUNS / 1000 ))
}
t_tk=$(mean_ms "$bin" zombies --min-age 0)
t_ps=$(mean_ms ps -eo pid,ppid,stat,comm)
printf 'toolkit zombies            %6d us\n' "$t_tk"
printf 'ps -eo pid,ppid,stat,comm  %6d us\n' "$t_ps"
printf 'ratio toolkit/ps           %6.2f (target <= 0.80)\n' "$(echo "$t_tk / $t_ps" | bc -l)"
cp=""
for c in target/peers/usr/lib/nagios/plugins/check_procs /usr/lib/nagios/plugins/check_procs; do [ -x "$c" ] && cp=$c && break; done
if [ -n "$cp" ]; then
  t_cp=$(mean_ms "$cp" -s Z)
  printf 'check_procs -s Z           %6d us\n' "$t_cp"
  printf 'ratio toolkit/check_procs  %6.2f\n' "$(echo "$t_tk / $t_cp" | bc -l)"
fi
# Correctness in the same run: the zombies toolkit finds are the ones ps finds.
want=$(ps -eo stat=,pid= | awk '$1 ~ /^Z/ {print $2}' | sort -n | tr '\n' ' ')
got=$({ "$bin" zombies --min-age 0 --json || true; } | python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join(str(z["pid"]) for p in r["parents"] for z in sorted(p["zombies"], key=lambda z: z["pid"])))' | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ "$want" = "$got" ] && echo "zombies agree with ps: $got" || { echo "MISMATCH: ps [$want] toolkit [$got]"; exit 1; }
