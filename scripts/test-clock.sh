#!/usr/bin/env bash
# test-clock.sh — the test files that read the wall clock (scripts/test.sh --clock-sensitive), run
# with the clock of every test process shifted (test/support/clock-shift.mjs):
#   second           900 ms before a second boundary, at real speed;
#   second,rate=20   900 ms before a second boundary, 20× real speed, so that two clock reads
#                    ~50 ms apart (a module-level NOW, a CRL signed in before()) fall in different
#                    seconds on every run — the deterministic form of "a boundary passed";
#   minute,rate=20   the same before a minute boundary.
# A test whose outcome depends on the clock crossing a second or a minute fails here every time.
# Ends with `N passed, N failed` over the three runs; exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
rc=0
for spec in second second,rate=20 minute,rate=20; do
  echo "[test-clock] FLEETPKI_TEST_CLOCK=$spec"
  out=$(FLEETPKI_TEST_CLOCK=$spec bash scripts/test.sh --unit-only --clock-sensitive "$@" 2>&1)
  r=$?
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [[ -z $line ]]; then
    failed=$((failed + 1))
  else
    passed=$((passed + ${line%% passed*}))
    line=${line#*, }
    failed=$((failed + ${line%% failed*}))
  fi
  ((r == 0)) || rc=1
done
echo "$passed passed, $failed failed"
exit "$rc"
