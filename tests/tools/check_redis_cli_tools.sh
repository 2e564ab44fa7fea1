#!/bin/sh
# Runs redis-cli's admin tools against a server and checks that each works as against Redis:
# --pipe, --bigkeys, --scan, --latency, --latency-history, --stat.
# Usage: tests/tools/check_redis_cli_tools.sh [server-binary]   (default: build/bin/keel-server)
# Exits non-zero naming the first tool that failed.
set -eu
BIN=${1:-build/bin/keel-server}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
"$BIN" --port "$PORT" --bind 127.0.0.1 --save '' --dir "$DIR" > "$DIR/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
CLI="redis-cli -p $PORT"
i=0
until $CLI ping > /dev/null 2>&1; do i=$((i + 1)); [ $i -lt 100 ] || { echo "server did not start"; exit 1; }; sleep 0.1; done
fail() { echo "FAIL: $1"; exit 1; }

# --pipe: 250 commands, no errors.
n=1
while [ $n -le 50 ]; do
  printf 'SET key:%d %d\nRPUSH list:%d %d\nSADD set:%d %d\nHSET h:%d f%d %d\nPFADD hll %d\n' \
    $n $n $((n % 5)) $n $((n % 3)) $n $((n % 4)) $n $n $n
  n=$((n + 1))
done > "$DIR/pipe.txt"
$CLI --pipe < "$DIR/pipe.txt" | grep -q 'errors: 0, replies: 250' || fail "--pipe"

# --bigkeys: finds the biggest of each type and the totals.
$CLI --bigkeys > "$DIR/bigkeys.txt" 2>&1 || fail "--bigkeys exit status"
grep -q "Biggest   list found '\"list:[0-9]\"' has 10 items" "$DIR/bigkeys.txt" || fail "--bigkeys lists"
grep -q '5 lists with 50 items' "$DIR/bigkeys.txt" || fail "--bigkeys list totals"
grep -q '3 sets with 50 members' "$DIR/bigkeys.txt" || fail "--bigkeys set totals"
grep -q '4 hashs with 50 fields' "$DIR/bigkeys.txt" || fail "--bigkeys hash totals"

# --scan with a pattern.
[ "$($CLI --scan --pattern 'list:*' | sort | tr '\n' ' ')" = "list:0 list:1 list:2 list:3 list:4 " ] ||
  fail "--scan"

# --latency / --latency-history / --stat run until stopped; a pseudo-terminal makes them print.
script -qc "timeout 2 $CLI --latency -i 1" /dev/null | grep -q 'min: [0-9]*, max: [0-9]*, avg: ' ||
  fail "--latency"
script -qc "timeout 2 $CLI --latency-history -i 1" /dev/null | grep -q 'samples' ||
  fail "--latency-history"
script -qc "timeout 2.5 $CLI --stat -i 1" /dev/null > "$DIR/stat.txt" || true
grep -q '^keys       mem' "$DIR/stat.txt" || fail "--stat header"
grep -Eq '^63 +[0-9.]+[KMG]' "$DIR/stat.txt" || fail "--stat keys"
echo "redis-cli tools: all passed"
