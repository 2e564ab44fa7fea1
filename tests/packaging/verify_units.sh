#!/usr/bin/env bash
# Runs `systemd-analyze verify` on conf/keel.service and conf/keel@.service (as an instance).
# systemd checks that ExecStart's binary exists, so the copies point at the built one.
# Usage: verify_units.sh <source-dir> <keel-server binary>
# Any warning (an unknown directive, a bad value) fails the check, not only hard errors.
set -euo pipefail
src=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/bin/keel-server|$bin|g" "$src/conf/keel.service" >"$tmp/keel.service"
sed "s|/usr/bin/keel-server|$bin|g" "$src/conf/keel@.service" >"$tmp/keel@.service"
cp "$tmp/keel@.service" "$tmp/keel@test.service"
out=$(cd "$tmp" && systemd-analyze verify --man=no ./keel.service ./keel@test.service 2>&1) || {
  echo "$out"
  exit 1
}
if [ -n "$out" ]; then
  echo "systemd-analyze verify printed warnings:"
  echo "$out"
  exit 1
fi
echo "keel.service and keel@.service verify cleanly"
