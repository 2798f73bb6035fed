#!/usr/bin/env bash
# Unpacks the reference tools the tests compare against (promtool, m4, sendmail + its cf macros,
# check_procs; mandoc and groff, which lint and render the man pages as man -l does) into
# target/peers with `apt-get download` + `dpkg -x`: no daemon is started, nothing is configured.
# Idempotent: does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/target/peers"
stamp="$dest/.complete-v3"
[ -f "$stamp" ] && exit 0
pkgs=(sendmail-bin sendmail-cf m4 prometheus monitoring-plugins-basic mandoc groff-base)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1
fi
mkdir -p "$dest"
for deb in ./*.deb; do dpkg -x "$deb" "$dest"; done
# The shared libraries the unpacked tools link against are mostly in the base system; install the
# few that are not (libwrap for sendmail; libstdc++ for groff where no compiler brought it).
for bin in usr/libexec/sendmail/sendmail usr/bin/mandoc usr/bin/groff usr/bin/troff usr/bin/grotty; do
  if ldd "$dest/$bin" | grep -q 'not found'; then
    # libwrap.so.0 -> package libwrap0 (Debian names library packages after the soname).
    apt-get install -y -qq $(ldd "$dest/$bin" | awk '/not found/{print $1}' | sed 's/\.so\.//; s/\.so$//') >/dev/null || true
  fi
done
command -v ps >/dev/null && command -v free >/dev/null || apt-get install -y -qq procps >/dev/null
touch "$stamp"
echo "peers unpacked in $dest"
