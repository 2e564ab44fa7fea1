#!/usr/bin/env bash
# Runs Keel's whole test suite from a checkout whose dependencies are installed (see .ci/run):
#   1. clang-format check of src/, include/, tests/ and bench/
#   2. Release build in build/ and every ctest test (unit, integration, differential)
#   3. The integration and differential tests again with Redis playing Keel's part (the test
#      binaries of step 2, pointed at redis-server), so that no expectation drifts from Redis;
#      tests named *KeelOnly* are left out
#   4. ASan+UBSan build of keel-server and the unit tests in build-asan/: the unit tests, then
#      the integration and differential tests of step 2 against the ASan keel-server (two
#      shards in parallel); a sanitizer report by the server fails its test (the server exits
#      non-zero)
#   5. The libFuzzer targets (tests/fuzz/run.sh: clang, build-fuzz/), each over its seed corpus
#      for a bounded number of inputs (about a minute in all on 2 cores; KEEL_FUZZ_RUNS sets
#      the count for every target)
#   6. A ThreadSanitizer build of keel-server in build-tsan/, and the integration tests of step 2
#      against it (two shards in parallel); a data race reported by the server fails its test
#      (the server exits 66 instead of 0)
# Steps 4 and 6 reuse step 2's test binaries (the clients need no instrumentation; the server is
# what is checked), which keeps the whole run within CI's budget on two cores.
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
# Environment: KEEL_JOBS (parallel build and test jobs, default 2), KEEL_SKIP_ASAN=1 to skip
# step 4, KEEL_SKIP_FORMAT=1 to skip step 1, KEEL_SKIP_REDIS=1 to skip step 3, KEEL_SKIP_FUZZ=1
# step 5, KEEL_SKIP_TSAN=1 step 6, KEEL_SKIP_RELEASE=1 step 2 (its build/ must then be there:
# steps 3, 4 and 6 use its test binaries), REDIS_SERVER_BIN (default /usr/bin/redis-server).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
jobs=${KEEL_JOBS:-2}
declare -a results=()
failed=0

step() {  # step <name> <command...>: runs the command, records PASS/FAIL
  local name=$1
  shift
  echo
  echo "==== ${name} ===="
  if "$@"; then
    results+=("PASS  ${name}")
  else
    results+=("FAIL  ${name}")
    failed=1
  fi
}

check_format() {
  if ! command -v clang-format >/dev/null; then
    echo "clang-format is not installed" >&2
    return 1
  fi
  local files
  mapfile -t files < <(find src include tests bench -type f \( -name '*.h' -o -name '*.cc' \) \
    2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    return 0
  fi
  clang-format --dry-run --Werror "${files[@]}"
}

# configure <build-dir> <cmake args...>: keeps the generator of an existing build directory.
configure() {
  local dir=$1
  shift
  local gen=()
  if [ ! -f "${dir}/CMakeCache.txt" ] && command -v ninja >/dev/null; then
    gen=(-G Ninja)
  fi
  cmake -S "${root}" -B "${dir}" "${gen[@]}" "$@"
}

build_and_test() {  # build_and_test <build-dir> <cmake args...>
  local dir=$1
  configure "$@" || return 1
  cmake --build "${dir}" -j "${jobs}" || return 1
  ctest --test-dir "${dir}" --output-on-failure -j "${jobs}"
}

# The suites against Redis itself. The test binaries take the server from KEEL_SERVER_BIN, so
# the Release build's binaries serve as they are (no second build).
tests_against_redis() {
  local redis=${REDIS_SERVER_BIN:-/usr/bin/redis-server}
  local status=0
  KEEL_SERVER_BIN=${redis} build/tests/integration/integration_tests \
    --gtest_filter='-*KeelOnly*' --gtest_brief=1 || status=1
  KEEL_SERVER_BIN=${redis} REDIS_SERVER_BIN=${redis} \
    build/tests/differential/differential_tests --gtest_brief=1 || status=1
  KEEL_DIFF_PROTOCOL=3 KEEL_SERVER_BIN=${redis} REDIS_SERVER_BIN=${redis} \
    build/tests/differential/differential_tests --gtest_brief=1 || status=1
  return ${status}
}

# sharded <log-prefix> <env...> -- <test binary> [args]: runs a gtest binary of the Release build
# as ${jobs} shards in parallel, each with the given environment; prints a failed shard's log
# whole (the server logs with the sanitizer reports are in it), else its last lines.
sharded() {
  local prefix=$1
  shift
  local envs=()
  while [ "$1" != "--" ]; do
    envs+=("$1")
    shift
  done
  shift
  local status=0 pids=() i
  for ((i = 0; i < jobs; i++)); do
    env "${envs[@]}" GTEST_TOTAL_SHARDS="${jobs}" GTEST_SHARD_INDEX="${i}" "$@" --gtest_brief=1 \
      >"${prefix}-shard-${i}.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < jobs; i++)); do
    if ! wait "${pids[$i]}"; then
      status=1
      cat "${prefix}-shard-${i}.log"
    else
      tail -n 3 "${prefix}-shard-${i}.log"
    fi
  done
  return ${status}
}

# ASan+UBSan: keel-server and the unit tests are built with the sanitizers; the unit tests run,
# then the Release build's integration and differential test binaries drive the ASan server
# (the reports that matter are the server's; hiredis and the harness need no instrumentation).
asan_tests() {
  configure build-asan -DKEEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_CHECK_FLAGS=ON \
    || return 1
  local units
  # The unit test targets this configuration has (unit_memory_tests needs jemalloc, which the
  # sanitizer builds do not use).
  mapfile -t units < <(cmake --build build-asan --target help 2>/dev/null |
    grep -oE '\bunit_[a-z]+_tests\b' | sort -u)
  [ ${#units[@]} -gt 0 ] || { echo "no unit test targets in build-asan" >&2; return 1; }
  cmake --build build-asan -j "${jobs}" --target keel-server "${units[@]}" || return 1
  local status=0 u server=${root}/build-asan/bin/keel-server
  for u in "${units[@]}"; do
    echo "-- ${u}"
    build-asan/tests/"${u}" --gtest_brief=1 || status=1
  done
  local redis=${REDIS_SERVER_BIN:-/usr/bin/redis-server}
  echo "-- integration tests against the ASan keel-server"
  sharded build-asan/integration KEEL_SERVER_BIN="${server}" -- \
    build/tests/integration/integration_tests || status=1
  echo "-- differential tests (RESP2, RESP3) against the ASan keel-server"
  sharded build-asan/differential KEEL_SERVER_BIN="${server}" REDIS_SERVER_BIN="${redis}" -- \
    build/tests/differential/differential_tests || status=1
  sharded build-asan/differential3 KEEL_DIFF_PROTOCOL=3 KEEL_SERVER_BIN="${server}" \
    REDIS_SERVER_BIN="${redis}" -- build/tests/differential/differential_tests || status=1
  return ${status}
}

# The integration tests (the Release build's binary) against a ThreadSanitizer keel-server: the
# races that matter are the server's (io threads, the lazy-free thread, connection moves,
# pub/sub delivery, blocking pops across threads), and the client side needs no
# instrumentation. halt_on_error=0 lets the server run on and report every race; it then exits
# 66, which the test harness reports as a failure with the server log (the reports) attached.
tsan_integration() {
  configure build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_TSAN=ON -DKEEL_BUILD_TESTS=OFF \
    -DKEEL_CHECK_FLAGS=ON || return 1
  cmake --build build-tsan -j "${jobs}" --target keel-server || return 1
  sharded build-tsan/integration \
    TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:exitcode=66:second_deadlock_stack=1}" \
    KEEL_SERVER_BIN="${root}/build-tsan/bin/keel-server" -- \
    build/tests/integration/integration_tests
}

if [ "${KEEL_SKIP_FORMAT:-0}" != 1 ]; then
  step "clang-format" check_format
fi

if [ "${KEEL_SKIP_RELEASE:-0}" != 1 ]; then
  step "Release build + tests (build/)" build_and_test build -DCMAKE_BUILD_TYPE=Release
fi

if [ "${KEEL_SKIP_REDIS:-0}" != 1 ]; then
  step "Integration + differential tests against Redis" tests_against_redis
fi

if [ "${KEEL_SKIP_ASAN:-0}" != 1 ]; then
  # halt_on_error makes a sanitizer report fail the process; the test harness treats a server
  # that does not exit 0 after SIGTERM as a failure, so server-side reports surface too.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  step "ASan+UBSan build + tests (build-asan/)" asan_tests
fi

if [ "${KEEL_SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer targets, bounded (build-fuzz/)" env KEEL_JOBS="${jobs}" tests/fuzz/run.sh
fi

if [ "${KEEL_SKIP_TSAN:-0}" != 1 ]; then
  step "Integration tests against a TSan keel-server (build-tsan/)" tsan_integration
fi

echo
echo "==== summary ===="
for r in "${results[@]}"; do
  echo "  ${r}"
done
if [ "${failed}" -ne 0 ]; then
  echo "SOME STEPS FAILED"
  exit 1
fi
echo "ALL PASSED"
