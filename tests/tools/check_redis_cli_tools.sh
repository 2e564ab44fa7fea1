#!/bin/sh
# Runs redis-cli's admin tools against a server and checks that each works as against Redis:
# --pipe, --bigkeys, --scan, --latency, --latency-history, --stat, --rdb, --functions-rdb.
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
# --rdb and --functions-rdb (REPLCONF rdb-only, SYNC): the files redis-server then loads hold the
# dataset (63 keys, the list) and the library, or the library alone.
$CLI FUNCTION LOAD "#!lua name=clilib
redis.register_function('cli_one', function() return 1 end)" > /dev/null || fail "FUNCTION LOAD"
$CLI --rdb "$DIR/backup.rdb" > "$DIR/rdb.txt" 2>&1 || fail "--rdb exit status"
grep -q 'Transfer finished with success' "$DIR/rdb.txt" || fail "--rdb transfer"
$CLI --functions-rdb "$DIR/functions.rdb" > "$DIR/frdb.txt" 2>&1 || fail "--functions-rdb exit status"
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# check_loaded <file> <keys> : a redis-server started on the file has that many keys and the library.
check_loaded() {
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --dir "$DIR" --dbfilename "$1" \
    > "$DIR/redis-$1.log" 2>&1 &
  RPID=$!
  i=0
  until redis-cli -p "$RPORT" ping > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { kill $RPID; fail "redis-server on $1 did not start"; }; sleep 0.1
  done
  keys=$(redis-cli -p "$RPORT" dbsize)
  one=$(redis-cli -p "$RPORT" fcall cli_one 0)
  llen=$(redis-cli -p "$RPORT" llen list:1)
  redis-cli -p "$RPORT" shutdown nosave > /dev/null 2>&1 || true
  wait $RPID || true
  [ "$keys" = "$2" ] || fail "$1: $keys keys, expected $2"
  [ "$one" = "1" ] || fail "$1: the library did not load"
  [ "$llen" = "$3" ] || fail "$1: list:1 has $llen elements, expected $3"
}
check_loaded backup.rdb 63 10
check_loaded functions.rdb 0 0
echo "redis-cli tools: all passed"
