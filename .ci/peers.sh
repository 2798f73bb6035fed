#!/usr/bin/env bash
# Unpacks the reference tools the tests compare against (promtool, m4, sendmail + its cf macros,
# check_procs, prometheus-node-exporter, mandoc and groff, which lint and render the man pages as
# man -l does) into target/peers with `apt-get download` + `dpkg -x`: no daemon is started, nothing
# is configured. Exim and Postfix go into their own prefixes (target/peers/exim, target/peers/postfix:
# Postfix has its own sendmail) with their library paths set by patchelf; their system users are
# created as their packages' postinst would, and no service is installed or started (the tests run
# their own instances on the loopback). icinga2-bin is installed with apt-get (its binary needs the
# boost libraries it depends on) and ansible-core goes into a venv at target/peers/venv; the contrib/
# tests run both. Idempotent: does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/target/peers"
stamp="$dest/.complete-v5"
# The live zombie tests drive real processes with python3 (prctl, fork, signal handlers). Checked on
# every run, before the stamp, so an existing target/peers needs no refresh for it.
if ! command -v python3 >/dev/null; then
  for try in 1 2 3 4 5; do
    apt-get install -y -qq python3 >/dev/null 2>&1 && break
    [ "$try" = 1 ] && apt-get update -qq >/dev/null 2>&1 || true
    sleep 5
  done
  command -v python3 >/dev/null || { echo "peers.sh: could not install python3" >&2; exit 1; }
fi
[ -f "$stamp" ] && exit 0
pkgs=(sendmail-bin sendmail-cf m4 prometheus monitoring-plugins-basic prometheus-node-exporter mandoc groff-base)
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
# Exim (with the libidn it links against) and Postfix, each in its own prefix.
mta_pkgs=(exim4-daemon-light exim4-base libidn12 postfix patchelf)
mkdir -p mta && cd mta
if ! apt-get download -qq "${mta_pkgs[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download -qq "${mta_pkgs[@]}" >/dev/null 2>&1
fi
rm -rf "$dest/exim" "$dest/postfix" "$dest/patchelf"
for deb in exim4-*.deb libidn12_*.deb; do dpkg -x "$deb" "$dest/exim"; done
dpkg -x postfix_*.deb "$dest/postfix"
dpkg -x patchelf_*.deb "$dest/patchelf"
cd ..
patchelf="$dest/patchelf/usr/bin/patchelf"
"$patchelf" --set-rpath "$dest/exim/usr/lib/x86_64-linux-gnu" "$dest/exim/usr/sbin/exim4"
for f in "$dest"/postfix/usr/sbin/* "$dest"/postfix/usr/lib/postfix/sbin/* "$dest"/postfix/usr/lib/postfix/*.so; do
  if [ -f "$f" ] && [ ! -L "$f" ] && head -c 4 "$f" | grep -q ELF; then
    "$patchelf" --set-rpath "$dest/postfix/usr/lib/postfix" "$f"
  fi
done
# The users the packages would create: Exim refuses to start without its own, Postfix needs a mail
# owner and the postdrop group.
getent group Debian-exim >/dev/null || groupadd --system Debian-exim
getent passwd Debian-exim >/dev/null || useradd --system -g Debian-exim -d /nonexistent -s /usr/sbin/nologin Debian-exim
getent group postdrop >/dev/null || groupadd --system postdrop
getent group postfix >/dev/null || groupadd --system postfix
getent passwd postfix >/dev/null || useradd --system -g postfix -d /nonexistent -s /usr/sbin/nologin postfix
command -v ps >/dev/null && command -v free >/dev/null || apt-get install -y -qq procps >/dev/null
# Another engineer's apt may hold the dpkg lock: retry for a minute.
apt_install() {
  for try in 1 2 3 4 5 6; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null && return 0
    sleep 10
  done
  echo "peers: apt-get install $* failed" >&2
  return 1
}
# icinga2 daemon -C validates the contrib/icinga2 definitions.
command -v icinga2 >/dev/null || apt_install icinga2-bin
# systemd-analyze verify checks the contrib/systemd units (no systemd is started).
command -v systemd-analyze >/dev/null || apt_install systemd
# ansible-playbook runs the contrib/ansible playbook against a fake root.
if [ ! -x "$dest/venv/bin/ansible-playbook" ]; then
  rm -rf "$dest/venv"
  # Debian's python3 needs python3-venv for ensurepip.
  python3 -m venv "$dest/venv" 2>/dev/null || {
    rm -rf "$dest/venv"
    apt_install python3-venv
    python3 -m venv "$dest/venv"
  }
  "$dest/venv/bin/pip" install -q 'ansible-core>=2.15,<2.18'
fi
touch "$stamp"
echo "peers unpacked in $dest"
