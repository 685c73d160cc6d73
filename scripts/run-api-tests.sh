#!/usr/bin/env bash
# Runs HDF5's VOL API test suite (h5_api_test) through rustvol.
#
#   scripts/run-api-tests.sh [INFO]        INFO: rustvol's info string, default "backend=memory"
#
# Each area (file group dataset datatype attribute link object misc) runs as its own process
# in a fresh scratch directory, so a crash loses one area, not the whole run. Counts are summed;
# an area that crashes (signal, abort, timeout, no summary) is reported as crashed and the tests
# it did not report count as failed (against the area's size under native HDF5 1.14.5).
#
# Writes the full log to target/api-test-<backend>.log and the counts to
# target/api-test-<backend>.summary. Exits non-zero if any area crashed or if fewer tests passed
# than tests/api-test-min-passed.txt asks for.
#
# Environment: RUSTVOL_API_TEST_TIMEOUT (whole run, seconds, default 1200),
#   RUSTVOL_API_TEST_AREA_TIMEOUT (one area, default 600), RUSTVOL_API_TEST_AREAS (default: all),
#   RUSTVOL_API_TEST_NATIVE=1 (run with the native connector: checks this script, not rustvol).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

INFO=${1:-backend=memory}
backend=$(printf '%s\n' "$INFO" | tr ';' ' ' | tr -s ' \t' '\n' | sed -n 's/^backend=//p' | tail -n1)
backend=${backend:-memory}
NATIVE=${RUSTVOL_API_TEST_NATIVE:-0}
[ "$NATIVE" = 1 ] && backend=native

read -r -a AREAS <<<"${RUSTVOL_API_TEST_AREAS:-file group dataset datatype attribute link object misc}"
# Tests per area with native HDF5 1.14.5 (h5_api_test <area>, summary line "p/N ...").
declare -A NATIVE_TOTAL=([file]=54 [group]=55 [dataset]=171 [datatype]=44 [attribute]=237
                         [link]=406 [object]=147 [misc]=21 [async]=28)
TOTAL_TIMEOUT=${RUSTVOL_API_TEST_TIMEOUT:-1200}
AREA_TIMEOUT=${RUSTVOL_API_TEST_AREA_TIMEOUT:-600}

API_TEST=$HDF5_DIR/bin/h5_api_test
if [ ! -x "$API_TEST" ]; then
  echo "run-api-tests: $API_TEST not found (run scripts/setup-hdf5.sh)" >&2
  exit 2
fi
if [ "$NATIVE" != 1 ] && [ ! -f "$RUSTVOL_PLUGIN_DIR/librustvol.so" ]; then
  echo "run-api-tests: $RUSTVOL_PLUGIN_DIR/librustvol.so not found (cargo build --release)" >&2
  exit 2
fi

mkdir -p "$RUSTVOL_ROOT/target"
LOG=$RUSTVOL_ROOT/target/api-test-$backend.log
SUMMARY=$RUSTVOL_ROOT/target/api-test-$backend.summary
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-api-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ulimit -c 0 2>/dev/null || true

if [ "$NATIVE" = 1 ]; then
  unset HDF5_VOL_CONNECTOR HDF5_PLUGIN_PATH
  connector="native"
else
  export HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR
  export HDF5_VOL_CONNECTOR="rustvol $INFO"
  connector="rustvol $INFO"
fi
LINEBUF=()
command -v stdbuf >/dev/null && LINEBUF=(stdbuf -oL -eL)

{
  echo "# h5_api_test through: $connector"
  echo "# HDF5_PLUGIN_PATH=${HDF5_PLUGIN_PATH:-}"
  echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$LOG"

echo "HDF5 API tests with $connector (log: ${LOG#"$RUSTVOL_ROOT"/})"
printf '  %-10s %7s %7s %8s %6s  %s\n' area passed failed skipped total status
deadline=$(( $(date +%s) + TOTAL_TIMEOUT ))
P=0 F=0 S=0 T=0
crashed=()
for area in "${AREAS[@]}"; do
  dir=$WORK/$area
  mkdir -p "$dir"
  now=$(date +%s)
  budget=$(( deadline - now ))
  [ "$budget" -gt "$AREA_TIMEOUT" ] && budget=$AREA_TIMEOUT
  out=$dir/output.log
  if [ "$budget" -le 0 ]; then
    echo "(not run: the whole run's timeout of ${TOTAL_TIMEOUT}s was used up)" >"$out"
    rc=124
  else
    # The external-link tests create files in the current directory: run inside the scratch dir.
    ( cd "$dir" && HDF5_API_TEST_PATH_PREFIX="$dir/" \
        timeout -k 10 "$budget" "${LINEBUF[@]}" "$API_TEST" "$area" ) </dev/null >"$out" 2>&1
    rc=$?
  fi

  summary=$(grep -E '^[0-9]+/[0-9]+ \([0-9.]+%\) API tests (passed|did not pass|were skipped) with VOL connector' "$out")
  if [ -n "$summary" ]; then
    p=$(sed -n 's|^\([0-9]*\)/\([0-9]*\) .* API tests passed .*|\1|p' <<<"$summary")
    t=$(sed -n 's|^\([0-9]*\)/\([0-9]*\) .* API tests passed .*|\2|p' <<<"$summary")
    f=$(sed -n 's|^\([0-9]*\)/[0-9]* .* API tests did not pass .*|\1|p' <<<"$summary")
    s=$(sed -n 's|^\([0-9]*\)/[0-9]* .* API tests were skipped .*|\1|p' <<<"$summary")
  else
    # No summary: count what it reported before it died; what it did not report failed.
    p=$(grep -c -E ' PASSED$' "$out")
    f=$(grep -o -E '\*FAILED\*' "$out" | wc -l)
    s=$(grep -c -E ' -SKIP-$' "$out")
    t=${NATIVE_TOTAL[$area]:-0}
    missing=$(( t - p - f - s ))
    [ "$missing" -lt 0 ] && missing=0 && t=$(( p + f + s ))
    f=$(( f + missing ))
  fi
  p=${p:-0} f=${f:-0} s=${s:-0} t=${t:-0}

  status=ok
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    status="CRASHED (timeout)"
  elif [ "$rc" -gt 128 ]; then
    sig=$(kill -l $(( rc - 128 )) 2>/dev/null || echo $(( rc - 128 )))
    status="CRASHED (SIG$sig)"
  elif [ -z "$summary" ] && grep -q "wasn't correctly registered" "$out"; then
    status="CRASHED (HDF5 could not load the connector)"
  elif [ -z "$summary" ]; then
    status="CRASHED (exit $rc, no summary)"
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    status="error (exit $rc)"
  elif [ "$f" -gt 0 ]; then
    status=failures
  fi
  if [[ $status == CRASHED* ]]; then
    crashed+=("$area")
    [ -n "$summary" ] && status="$status after its summary"
    last=$(grep -E '^ *Testing ' "$out" | tail -n1 | sed -E 's/^ *Testing +//; s/ +(PASSED|\*FAILED\*|-SKIP-)?$//')
    [ -n "$last" ] && status="$status; last test: $last"
  elif [ "$status" = "error (exit $rc)" ]; then
    # h5_api_test exits non-zero after a summary with no failures when its own cleanup failed.
    crashed+=("$area")
  fi
  printf '  %-10s %7d %7d %8d %6d  %s\n' "$area" "$p" "$f" "$s" "$t" "$status"
  {
    echo
    echo "######## h5_api_test $area: exit $rc, $status"
    cat "$out"
  } >>"$LOG"
  P=$((P + p)) F=$((F + f)) S=$((S + s)) T=$((T + t))
done
printf '  %-10s %7d %7d %8d %6d\n' total "$P" "$F" "$S" "$T"

# The threshold: "<backend> N" line, else a bare "N" line.
MINFILE=$RUSTVOL_ROOT/tests/api-test-min-passed.txt
min=0
if [ -f "$MINFILE" ]; then
  m=$(sed 's/#.*//' "$MINFILE" | awk -v b="$backend" '$1 == b && $2 ~ /^[0-9]+$/ {print $2; exit}')
  [ -z "$m" ] && m=$(sed 's/#.*//' "$MINFILE" | awk 'NF == 1 && $1 ~ /^[0-9]+$/ {print $1; exit}')
  min=${m:-0}
fi

ncrashed=${#crashed[@]}
{
  echo "passed=$P"
  echo "failed=$F"
  echo "skipped=$S"
  echo "total=$T"
  echo "crashed=$ncrashed"
  echo "crashed_areas=${crashed[*]:-}"
  echo "min_passed=$min"
} >"$SUMMARY"
echo "# finished $(date -u +%Y-%m-%dT%H:%M:%SZ): $P passed, $F failed, $S skipped of $T; crashed: ${crashed[*]:-none}" >>"$LOG"

echo "API tests ($connector): $P passed, $F failed, $S skipped of $T; crashed areas: ${crashed[*]:-none}"
rc=0
if [ "$ncrashed" -gt 0 ]; then
  echo "FAIL: ${ncrashed} area(s) crashed: ${crashed[*]}"
  rc=1
fi
if [ "$P" -lt "$min" ]; then
  echo "FAIL: $P API tests passed, fewer than the $min required by tests/api-test-min-passed.txt"
  rc=1
else
  echo "pass count $P >= required $min"
fi
exit $rc
