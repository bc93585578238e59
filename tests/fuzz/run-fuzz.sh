#!/usr/bin/env bash
# Runs every libFuzzer harness for a bounded time on top of its checked-in
# corpus and prints the executions per harness.  A crash fails the run; its
# reproducer is left in build-fuzz/crashes/<harness>/ (copy it into
# tests/fuzz/corpus/<harness>/ with the fix, so the replay tests keep it).
#   FUZZ_SECONDS=60 (per harness)  FUZZ_ONLY="json mapping"  FUZZ_BUILD=build-fuzz
#   FUZZ_RUNS=N and FUZZ_SEED=S: at most N executions from seed S, so a run
#   can be repeated exactly (CI uses both; FUZZ_SECONDS stays the cap).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-60}
B=${FUZZ_BUILD:-build-fuzz}
command -v clang >/dev/null || { echo "run-fuzz: clang is needed (apt-get install clang libclang-rt-14-dev)"; exit 1; }
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZV_FUZZ=ON >/dev/null
cmake --build "$B" -j "$(nproc)" --target zv_fuzz_all >/dev/null
mapfile -t all < <(cd "$B/tests" && ls fuzz_* 2>/dev/null | grep -v "\\." || true)
[ -n "${FUZZ_ONLY:-}" ] && read -ra all <<<"$(for h in $FUZZ_ONLY; do echo "fuzz_$h"; done | tr '\n' ' ')"
fail=0
printf '%-24s %12s %8s %s\n' harness execs secs result
for bin in "${all[@]}"; do
  h=${bin#fuzz_}
  work="$B/corpus/$h"; crashes="$B/crashes/$h"
  mkdir -p "$work" "$crashes"
  dict=()
  extra=()
  [ -n "${FUZZ_RUNS:-}" ] && extra+=(-runs="$FUZZ_RUNS")
  [ -n "${FUZZ_SEED:-}" ] && extra+=(-seed="$FUZZ_SEED")
  [ -f "tests/fuzz/$h.dict" ] && dict=(-dict="tests/fuzz/$h.dict")
  log="$B/fuzz-$h.log"
  set +e
  ZV_PLUGIN_DIR="$PWD/$B/plugins" ZV_SOURCE_DIR="$PWD" \
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$B/tests/$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "${extra[@]}" \
      "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  if [ $rc -eq 0 ]; then res=ok; else res="CRASH (rc $rc, see $log)"; fail=1; fi
  printf '%-24s %12s %8s %s\n' "$h" "$execs" "$SECS" "$res"
  [ $rc -ne 0 ] && tail -40 "$log" | sed 's/^/    /'
done
exit $fail
