#!/usr/bin/env bash
# test.sh [--unit-only] [--clock-sensitive] [PATH_PREFIX...] — what `npm test` runs.
#   1. scripts/provision.sh (apt packages when root, npm deps)   — skipped with --unit-only
#   2. npm run build (tsc -> dist)                                 — skipped with --unit-only
#   3. node:test over every test/**/*.test.ts (or those under the given path prefixes)
# Ends with one plain line `N passed, N failed`; exits non-zero if a test or the build failed.
#   --clock-sensitive keeps only the test files that read the wall clock (Date.now(), new Date()).
# Env: FLEETPKI_TEST_CONCURRENCY (test files run at once; default max(2, nproc)),
#      FLEETPKI_TEST_NETNS=0 to run without the private network namespace (see below),
#      FLEETPKI_TEST_CLOCK=second|minute[,lead=MS][,rate=N] to run every test process with its
#        wall clock shifted to just before a second/minute boundary (test/support/clock-shift.mjs).
set -uo pipefail
cd "$(dirname "$0")/.."

unit_only=0
clock_sensitive=0
prefixes=()
for a in "$@"; do
  case $a in
    --unit-only) unit_only=1 ;;
    --clock-sensitive) clock_sensitive=1 ;;
    *) prefixes+=("${a%/}") ;;
  esac
done

build_rc=0
if [[ $unit_only == 0 ]]; then
  bash scripts/provision.sh || exit 1
  echo "[test] npm run build"
  npm run --silent build || build_rc=$?
  ((build_rc == 0)) || echo "[test] BUILD FAILED (exit $build_rc); running the tests anyway"
fi

# Tools the tests look for on PATH; Debian puts mosquitto and ss in /usr/sbin.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Go never reaches out to the network from tests; caches live in the repo's .tmp (root in CI).
export GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$PWD/.tmp/go-cache" GOPATH="$PWD/.tmp/go-path"
ncpu=$(nproc 2>/dev/null || echo 2)
export FLEETPKI_TEST_CONCURRENCY=${FLEETPKI_TEST_CONCURRENCY:-$((ncpu < 2 ? 2 : ncpu))}

# node 20's --test does not expand `**`, so hand it the file list.
mapfile -t files < <(find test -type f -name '*.test.ts' 2>/dev/null | LC_ALL=C sort)
if ((${#prefixes[@]} > 0)); then
  sel=()
  for f in "${files[@]}"; do
    for p in "${prefixes[@]}"; do
      if [[ $f == "$p" || $f == "$p"/* ]]; then
        sel+=("$f")
        break
      fi
    done
  done
  files=("${sel[@]}")
fi
if ((clock_sensitive == 1 && ${#files[@]} > 0)); then
  # …except those marked `clock-shift: skip` (their subject runs in child processes, real clock).
  mapfile -t files < <(grep -lE 'Date\.now\(\)|new Date\(\)' "${files[@]}" | xargs -r grep -L '^// clock-shift: skip')
fi
if ((${#files[@]} == 0)); then
  if ((${#prefixes[@]} > 0)); then
    echo "[test] no test files under: ${prefixes[*]}"
    exit 2
  fi
  echo "[test] no test files found"
  echo "0 passed, 0 failed"
  exit $((build_rc == 0 ? 0 : 1))
fi

mkdir -p .tmp
tap=$(mktemp "${TMPDIR:-/tmp}/fleetpki-tap.XXXXXX")
trap 'rm -f "$tap"' EXIT
echo "[test] ${#files[@]} test files, concurrency $FLEETPKI_TEST_CONCURRENCY"
preload=()
if [[ -n ${FLEETPKI_TEST_CLOCK:-} ]]; then
  echo "[test] wall clock shifted: FLEETPKI_TEST_CLOCK=$FLEETPKI_TEST_CLOCK"
  preload=(--import ./test/support/clock-shift.mjs)
fi
# A test (or a file) that hangs fails after 15 minutes instead of holding CI until it is killed.
cmd=(node --import tsx "${preload[@]}" --test "--test-concurrency=$FLEETPKI_TEST_CONCURRENCY" --test-timeout=900000
  --test-reporter=spec --test-reporter-destination=stdout
  --test-reporter=tap "--test-reporter-destination=$tap" "${files[@]}")

# Tests may only talk to 127.0.0.1. When we can (root + unshare), run them in a fresh network
# namespace that has nothing but loopback, so an accidental outside connection fails loudly.
netns=0
if [[ ${FLEETPKI_TEST_NETNS:-1} != 0 && $(id -u) == 0 ]] && command -v unshare >/dev/null &&
  unshare --net ip link set lo up 2>/dev/null; then
  netns=1
fi
if [[ $netns == 1 ]]; then
  echo "[test] network: loopback only (private network namespace)"
  unshare --net bash -c 'ip link set lo up && exec "$@"' bash "${cmd[@]}"
else
  "${cmd[@]}"
fi
node_rc=$?

# node's TAP ends with top-level `# pass N` / `# fail N` / `# cancelled N` lines.
count() { grep -E "^# $1 [0-9]+$" "$tap" | tail -n 1 | awk '{print $3}'; }
pass=$(count pass)
fail=$(count fail)
cancelled=$(count cancelled)
if [[ -z $pass || -z $fail ]]; then
  echo "[test] the test runner ended without a summary (exit $node_rc)"
  echo "${pass:-0} passed, $((${fail:-0} + 1)) failed"
  exit 1
fi
fail=$((fail + ${cancelled:-0}))
((build_rc == 0)) || echo "[test] build failed (exit $build_rc)"
echo "$pass passed, $fail failed"
if ((fail > 0 || node_rc != 0 || build_rc != 0)); then
  exit 1
fi
exit 0
