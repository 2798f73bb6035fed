#!/usr/bin/env bash
# Benchmark (not a test): the runaway case on each MTA (COUNT copies of one 38 MiB message queued by
# one account's script, sparse), `toolkit mqueue scan` against the MTA's own listing on the same
# spool, warm cache, in one run: `exim -bp | exiqsumm` (Exim 4.96) and `postqueue -j` (Postfix 3.7,
# a master running showq only, stopped by pid at the end). Prints best-of-RUNS wall times (the two
# commands timed in turn, round after round), the ratios and the toolkit's peak RSS.
# Needs .ci/peers.sh (target/peers/exim, postfix).
#   bench/mqueue-mta.sh          # 2,074 copies, trees kept in $BENCH_DIR (default /tmp/toolkit-bench)
#   TOOLKIT_BIN=/tmp/old/toolkit bench/mqueue-mta.sh   # the same against another build
# Targets (those of the sendmail scan): ratio <= 0.7, peak RSS < 64 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-2074} runs=${RUNS:-5}
base=${BENCH_DIR:-/tmp/toolkit-bench}/mta-$count
.ci/peers.sh
# TOOLKIT_BIN=path/to/toolkit measures another build (say, the one before a change) on the same trees.
if [ -z "${TOOLKIT_BIN:-}" ]; then cargo build --release --quiet; fi
bin="${TOOLKIT_BIN:-$PWD/target/release/toolkit}"
peers="$PWD/target/peers"

for mta in exim postfix; do
  root="$base/$mta"
  if [ ! -f "$root/.complete" ]; then
    echo "building $count runaway copies in $root ..."
    rm -rf "$root"
    mkdir -p "$root/etc"
    printf 'root:x:0:0::/root:/bin/sh\njdoe:x:1001:1001::/home/jdoe:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\njdoe:x:1001:\n' >"$root/etc/group"
    printf 'example.com: jdoe\n' >"$root/etc/userdomains"
    python3 fixtures/mta/gen-runaway.py "$root" "$mta" "$count"
    # As Postfix keeps its queue: owned by its mail owner.
    if [ "$mta" = postfix ]; then chown -R postfix:postfix "$root/var/spool/postfix"; fi
    touch "$root/.complete"
  fi
done
sync
conf="$base/conf"
mkdir -p "$conf/exim-log" "$conf/postfix"
cat >"$conf/exim.conf" <<EOC
keep_environment =
spool_directory = $base/exim/var/spool/exim4
exim_user = root
exim_group = root
log_file_path = $conf/exim-log/%slog
EOC
cat >"$conf/postfix/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $base/postfix/var/spool/postfix
data_directory = $conf/postfix
command_directory = $peers/postfix/usr/sbin
daemon_directory = $peers/postfix/usr/lib/postfix/sbin
meta_directory = $peers/postfix/etc/postfix
shlib_directory = $peers/postfix/usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
EOC
# Only showq (what postqueue asks): no qmgr, so nothing in the queue is delivered or changed.
printf 'showq     unix  n       -       n       -       -       showq\n' >"$conf/postfix/master.cf"
chown postfix "$conf/postfix"
"$peers/postfix/usr/sbin/postfix" -c "$conf/postfix" start >/dev/null 2>&1
master_pid=$(cat "$base/postfix/var/spool/postfix/pid/master.pid")
stop_master() { kill "$master_pid" 2>/dev/null || true; }
trap stop_master EXIT

# Best-of-RUNS wall time of two commands, timed in turn round after round, so that a slow spell of the
# machine falls on both and not on one: prints "BEST_A BEST_B".
best_pair() {
  local a=$1 b=$2 ba= bb=
  for _ in $(seq "$runs"); do
    local t0 t1 t2
    # EPOCHREALTIME (bash 5): no `date` process forked around the command timed.
    t0=$EPOCHREALTIME; $a >/dev/null 2>&1 || true; t1=$EPOCHREALTIME
    $b >/dev/null 2>&1 || true; t2=$EPOCHREALTIME
    read -r ba bb < <(echo "$t1 - $t0; $t2 - $t1" | bc -l | paste -sd' ' |
      awk -v a="$ba" -v b="$bb" '{ print ((a == "" || $1 < a) ? $1 : a), ((b == "" || $2 < b) ? $2 : b) }')
  done
  echo "$ba $bb"
}

exim_list() { "$peers/exim/usr/sbin/exim4" -C "$conf/exim.conf" -bp | perl "$peers/exim/usr/sbin/exiqsumm"; }
postfix_list() { "$peers/postfix/usr/sbin/postqueue" -c "$conf/postfix" -j; }
# Messages in the MTA's own listing: exiqsumm's TOTAL count, postqueue's JSON lines.
count_listed() {
  if [ "$1" = exim ]; then
    "$peers/exim/usr/sbin/exim4" -C "$conf/exim.conf" -bpc
  else
    postfix_list 2>/dev/null | grep -c queue_id
  fi
}
printf 'cpus: %s\n' "$(nproc)"
for mta in exim postfix; do
  root="$base/$mta"
  scan=("$bin" --root "$root" -q mqueue scan --min 20M)
  peer=("${mta}_list")
  "${scan[@]}" >/dev/null || true; "${peer[@]}" >/dev/null 2>&1 || true
  scan_cmd() { "${scan[@]}"; }
  read -r t_scan t_peer < <(best_pair scan_cmd "${mta}_list")
  rss=$( (/usr/bin/time -f '%M' "${scan[@]}" 2>&1 >/dev/null || true) | tail -1)
  groups=$( ("$bin" --root "$root" -q mqueue scan --json || true) | python3 -c 'import json,sys; j=json.load(sys.stdin)["mta"]; g=j["oversized"][0]; print(len(j["oversized"]), g["count"], g["queue"])')
  listed=$(count_listed "$mta")
  printf '%s: %s copies; toolkit: groups/copies/account = %s; %s lists %s\n' "$mta" "$count" "$groups" "$mta" "$listed"
  if [ "$mta" = exim ]; then name="exim -bp | exiqsumm"; else name="postqueue -j"; fi
  printf '  %-40s %8.3f s\n' "toolkit mqueue scan --min 20M" "$t_scan" "$name" "$t_peer"
  printf '  ratio toolkit/%s: %.2f (target <= 0.7)\n' "$mta" "$(echo "$t_scan / $t_peer" | bc -l)"
  printf '  toolkit peak RSS: %.1f MB (target < 64 MB)\n' "$(echo "$rss / 1024" | bc -l)"
done
