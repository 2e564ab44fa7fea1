#!/usr/bin/env bash
# Runs basic.mjs (node-redis, a real RESP3 client, with its defaults) against a fresh server.
# Usage: run.sh SERVER_BINARY WORK_DIR
#   SERVER_BINARY  keel-server, or redis-server to check the test itself against the oracle
#   WORK_DIR       where node-redis is installed (npm ci from package-lock.json, once)
# Exits 77 (ctest SKIP_RETURN_CODE) when node >= 20 (node-redis 6's minimum) or npm is missing,
# or when the package cannot be installed (no network and no earlier install).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server=$1
work=$2

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are needed (apt-get install nodejs npm)"
  exit 77
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "${major}" -lt 20 ]; then
  echo "SKIP: node-redis 6 needs node >= 20; this is node $(node --version)"
  exit 77
fi

mkdir -p "${work}"
cp "${here}/package.json" "${here}/package-lock.json" "${here}/basic.mjs" "${work}/"
(
  flock 9
  if [ ! -d "${work}/node_modules/redis" ]; then
    if ! (cd "${work}" && npm ci --no-audit --no-fund --loglevel=error); then
      echo "SKIP: npm ci failed (no network?)"
      exit 77
    fi
  fi
) 9>"${work}/.install.lock" || exit $?

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="${work}/server-$(basename "${server}").log"
"${server}" --port "${port}" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  >"${log}" 2>&1 &
pid=$!
trap 'kill "${pid}" 2>/dev/null; wait "${pid}" 2>/dev/null' EXIT
for _ in $(seq 100); do
  if redis-cli -p "${port}" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.05
done
if ! kill -0 "${pid}" 2>/dev/null; then
  echo "server did not start:"
  cat "${log}"
  exit 1
fi
timeout 60 node "${work}/basic.mjs" "${port}"
