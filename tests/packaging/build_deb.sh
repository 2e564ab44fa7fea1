#!/usr/bin/env bash
# Builds Keel's .deb with CPack from a configured build directory and checks it: the files and
# where they land, the maintainer scripts, the units' ExecStart, and the packaged binary runs.
# With --install (as root) it also installs the package with dpkg -i on this machine, checks the
# keel user, /var/lib/keel and the installed units (systemd-analyze verify), serves a PING as
# the keel user from the installed files, and purges the package again (--keep leaves it).
#
# Usage: tests/packaging/build_deb.sh <build-dir> [--install] [--keep]
set -euo pipefail
build=$(realpath "$1")
shift
install=0
keep=0
for a in "$@"; do
  case $a in
    --install) install=1 ;;
    --keep) keep=1 ;;
    *) echo "unknown argument $a" >&2; exit 2 ;;
  esac
done
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --build "$build" --target keel-server
(cd "$build" && cpack -G DEB --config CPackConfig.cmake >/dev/null)
deb=$(ls -t "$build"/keel_*.deb | head -1)
echo "built $deb"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/keel-server ./etc/keel/keel.conf ./usr/lib/systemd/system/keel.service \
         ./usr/lib/systemd/system/keel@.service ./usr/share/doc/keel/operations.md \
         ./usr/share/doc/keel/README.md; do
  grep -q " $f\$" "$tmp/contents" || fail "$f is not in the package"
done
dpkg-deb -e "$deb" "$tmp/control"
[ -x "$tmp/control/postinst" ] || fail "no postinst"
grep -q '^/etc/keel/keel.conf$' "$tmp/control/conffiles" || fail "keel.conf is not a conffile"
dpkg-deb -x "$deb" "$tmp/root"
grep -q '^ExecStart=/usr/bin/keel-server /etc/keel/keel.conf ' \
  "$tmp/root/usr/lib/systemd/system/keel.service" || fail "keel.service's ExecStart"
"$tmp/root/usr/bin/keel-server" --version | grep -q '^Keel server' || fail "packaged binary"
echo "package contents OK"

[ "$install" = 1 ] || exit 0
[ "$(id -u)" = 0 ] || fail "--install needs root"
dpkg -i "$deb" >/dev/null
getent passwd keel >/dev/null || fail "no keel user"
[ "$(stat -c %U "/var/lib/keel")" = keel ] || fail "/var/lib/keel is not keel's"
[ -f /etc/keel/keel.conf ] || fail "no /etc/keel/keel.conf"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no /usr/lib/systemd/system/keel.service || fail "verify"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd /var/lib/keel
setpriv --reuid=keel --regid=keel --clear-groups /usr/bin/keel-server /etc/keel/keel.conf \
  --port "$port" --daemonize no >"$tmp/server.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 100); do
  if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then ok=1; break; fi
  sleep 0.1
done
kill "$pid"
wait "$pid" || true
[ "$ok" = 1 ] || { cat "$tmp/server.log"; fail "installed keel-server did not answer"; }
echo "installed package serves as user keel"
if [ "$keep" = 0 ]; then
  cd /
  dpkg -P keel >/dev/null
  [ ! -e /usr/bin/keel-server ] || fail "purge left /usr/bin/keel-server"
  echo "package purged"
fi
