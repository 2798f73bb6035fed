#!/usr/bin/env bash
# Unpacks the reference tools the tests compare against (promtool, m4, sendmail + its cf macros,
# check_procs) into target/peers with `apt-get download` + `dpkg -x`: no daemon is started, nothing is
# configured. Exim and Postfix go into their own prefixes (target/peers/exim, target/peers/postfix:
# Postfix has its own sendmail) with their library paths set by patchelf; their system users are
# created as their packages' postinst would, and no service is installed or started (the tests run
# their own instances on the loopback). Idempotent: does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/target/peers"
stamp="$dest/.complete-v2"
[ -f "$stamp" ] && exit 0
pkgs=(sendmail-bin sendmail-cf m4 prometheus monitoring-plugins-basic)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1
fi
mkdir -p "$dest"
for deb in ./*.deb; do dpkg -x "$deb" "$dest"; done
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
# The shared libraries sendmail links against are in the base system; say so early if not.
if ldd "$dest/usr/libexec/sendmail/sendmail" | grep -q 'not found'; then
  # libwrap.so.0 -> package libwrap0 (Debian names library packages after the soname).
  apt-get install -y -qq $(ldd "$dest/usr/libexec/sendmail/sendmail" | awk '/not found/{print $1}' | sed 's/\.so\.//; s/\.so$//') >/dev/null || true
fi
command -v ps >/dev/null && command -v free >/dev/null || apt-get install -y -qq procps >/dev/null
touch "$stamp"
echo "peers unpacked in $dest"
