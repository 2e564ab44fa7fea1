#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, build-fuzz/) and runs each over its seed
# corpus (tests/fuzz/corpus/<target>) for a bounded number of inputs. New inputs the fuzzer finds
# go to build-fuzz/corpus/<target>, never into the tree; a crash leaves its input in
# build-fuzz/crashes/ and fails the run.
#   tests/fuzz/run.sh [runs-per-target]   (default KEEL_FUZZ_RUNS, else each target's own count
#                                          below: about 15 s each on a loaded 2-core machine)
# Environment: KEEL_JOBS (build jobs, default 2), KEEL_FUZZ_SECONDS (a cap per target, default
# 15: a loaded machine stops early rather than late), KEEL_FUZZ_TARGETS (default: the seven
# that do not link keel_commands).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
dir=${root}/build-fuzz
runs=${1:-${KEEL_FUZZ_RUNS:-}}
seconds=${KEEL_FUZZ_SECONDS:-15}
# fuzz_acl (the ACL rule parser), fuzz_scripts (script shebangs, library headers, the declared-
# keys proof) and fuzz_function_restore (FUNCTION RESTORE payloads) are not in the default set:
# they link the whole keel_commands library, whose clang build would add minutes to the CI fuzz
# step; run them locally (KEEL_FUZZ_TARGETS="acl scripts function_restore"; README, Fuzzing).
targets=${KEEL_FUZZ_TARGETS:-resp_parser config rdb_loader restore aof aof_manifest cmsgpack}

gen=()
if [ ! -f "${dir}/CMakeCache.txt" ] && command -v ninja >/dev/null; then
  gen=(-G Ninja)
fi
CXX=${CXX_FUZZ:-clang++} cmake -S "${root}" -B "${dir}" "${gen[@]}" -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_FUZZ=ON -DKEEL_BUILD_TESTS=OFF -DKEEL_CHECK_FLAGS=ON \
  >/dev/null || exit 1
build_targets=()
for t in ${targets}; do build_targets+=("fuzz_${t}"); done
cmake --build "${dir}" -j "${KEEL_JOBS:-2}" --target "${build_targets[@]}" || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
mkdir -p "${dir}/crashes"
# Inputs per target for CI, from their speed under ASan (the config target builds three Configs
# per input, so it is the slowest).
default_runs() {
  case $1 in
    config) echo 5000 ;;
    acl) echo 20000 ;;
    restore) echo 30000 ;;
    aof | cmsgpack) echo 10000 ;;
    aof_manifest) echo 20000 ;;
    *) echo 50000 ;;
  esac
}
for t in ${targets}; do
  mkdir -p "${dir}/corpus/${t}"
  start=$(date +%s)
  log="${dir}/fuzz_${t}.log"
  if "${dir}/tests/fuzz/fuzz_${t}" -runs="${runs:-$(default_runs "${t}")}" \
       -max_total_time="${seconds}" -seed=1 \
       -max_len=8192 -artifact_prefix="${dir}/crashes/${t}-" -print_final_stats=1 \
       "${dir}/corpus/${t}" "${root}/tests/fuzz/corpus/${t}" >"${log}" 2>&1; then
    echo "fuzz_${t}: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "${log}" |
      grep -o '[0-9]*$') inputs in $(($(date +%s) - start)) s, no failure"
  else
    echo "fuzz_${t}: FAILED (log ${log}, inputs in ${dir}/crashes/)"
    tail -n 40 "${log}"
    status=1
  fi
done
exit ${status}
