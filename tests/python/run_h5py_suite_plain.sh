#!/usr/bin/env bash
# h5py's own test suite through rustvol WITHOUT the rustvol package: a crash check.
#
#   tests/python/run_h5py_suite_plain.sh "backend=dir;root=/tmp/store"
#   tests/python/run_h5py_suite_plain.sh backend=dir   # a scratch root, removed afterwards
#
# How a user loads a plain VOL plugin: only HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR="rustvol
# INFO" are set, h5py is unpatched, so its v1-only calls (H5Oget_info1, H5Rdereference, ...)
# reach HDF5, which refuses them for a non-native connector: many tests fail, by design.  What
# this checks is that the host survives: the whole suite runs in ONE pytest process (no fork),
# and the run fails if that process dies (a signal, or pytest not finishing), if the run was
# not what it claims (tests/python/plain_suite_check.py: rustvol package not imported, rustvol
# the default connector), or if fewer tests pass than the floor in
# tests/python/h5py-plain-min-passed.txt (RUSTVOL_H5PY_PLAIN_MIN_PASSED overrides it).
# Last line: "N passed, N failed" (N passed: h5py tests that passed; N failed: 1 if a check
# failed, else 0).  The full log goes to target/h5py-suite-plain-<name>.log, each test's outcome
# and first message line to target/h5py-suite-plain-<name>.tsv.
#
# Environment: RUSTVOL_SUITE_ARGS adds pytest arguments (e.g. "-k test_group"; no floor then).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"

INFO=${1:-}
if [ -z "$INFO" ] || [ "$INFO" = native ]; then
  echo "usage: $0 INFO   (e.g. \"backend=dir;root=/tmp/store\")" >&2
  exit 2
fi
# RUSTVOL_SUITE_VENV: another venv's h5py (PyPI's: $RUSTVOL_PYPI_VENV), log h5py-suite-plain-pypi-*.
VENV=${RUSTVOL_SUITE_VENV:-$RUSTVOL_VENV}
PY=$VENV/bin/python
if [ ! -x "$PY" ]; then
  echo "run_h5py_suite_plain: no venv at $VENV (run scripts/setup-python.sh)" >&2
  exit 2
fi
if [ ! -f "$RUSTVOL_PLUGIN_DIR/librustvol.so" ]; then
  echo "run_h5py_suite_plain: no $RUSTVOL_PLUGIN_DIR/librustvol.so (cargo build --release)" >&2
  exit 2
fi
MIN_PASSED=${RUSTVOL_H5PY_PLAIN_MIN_PASSED:-$(grep -v '^#' "$HERE/h5py-plain-min-passed.txt" | head -n 1)}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-h5py-plain.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp" "$WORK/cwd" "$RUSTVOL_ROOT/target"
case "$INFO" in
  *backend=dir*) name=dir ;;
  *backend=s3*) name=s3 ;;
  *backend=daos*) name=daos ;;
  *) name=memory ;;
esac
LOG=$RUSTVOL_ROOT/target/h5py-suite-plain-$name.log
[ "$VENV" != "$RUSTVOL_VENV" ] && LOG=$RUSTVOL_ROOT/target/h5py-suite-plain-$(basename "$VENV")-$name.log
RESULTS=$WORK/results.tsv
CHECK=$WORK/check.txt

case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=dir "*) case "$INFO" in *root=*) ;; *) INFO="$INFO;root=$WORK/store" ;; esac ;;
esac
# shellcheck disable=SC2206 # word splitting of the extra arguments is intended
extra=(${RUSTVOL_SUITE_ARGS:-})

echo "h5py $("$PY" -c 'import importlib.metadata as m; print(m.version("h5py"))') test suite without the rustvol package, HDF5_VOL_CONNECTOR=\"rustvol $INFO\""
start=$SECONDS
# PYTHONPATH holds only this directory (the two pytest plugins), not python/: h5py meets the
# plugin exactly as any HDF5 program would.
(cd "$WORK/cwd" && env -u PYTHONPATH TMPDIR="$WORK/tmp" PYTHONPATH="$HERE" \
    HDF5_PLUGIN_PATH="$RUSTVOL_PLUGIN_DIR" HDF5_VOL_CONNECTOR="rustvol $INFO" \
    RUSTVOL_PLAIN_CHECK="$CHECK" \
    "$PY" -m pytest --pyargs h5py -p no:cacheprovider -p forked_plugin -p plain_suite_check \
    --rv-results "$RESULTS" -q -rfE "${extra[@]}") >"$LOG" 2>&1
rc=$?
secs=$((SECONDS - start))
[ -f "$RESULTS" ] && cp "$RESULTS" "${LOG%.log}.tsv"
passed=0
[ -f "$RESULTS" ] && passed=$(grep -c '^passed' "$RESULTS")
finished=0
[ -f "$RESULTS" ] && finished=$(grep -c . "$RESULTS")

problems=()
if [ "$rc" -gt 128 ]; then
  sig=$((rc - 128))
  problems+=("the pytest process died from signal $sig ($(kill -l "$sig" 2>/dev/null || echo '?')) after $finished tests")
elif [ "$rc" -gt 1 ]; then
  problems+=("pytest did not finish normally (exit status $rc) after $finished tests")
fi
verdict=$(cat "$CHECK" 2>/dev/null || echo "no verdict (the session did not end)")
[ "$rc" -le 1 ] && [ "$verdict" != ok ] && problems+=("$verdict")

summary=$(grep -aE '^=+ .*(passed|failed).* in |^[0-9]+ (passed|failed).* in ' "$LOG" | tail -n 1 | sed 's/^=* *//; s/ =*$//')
[ -n "$summary" ] && echo "pytest: $summary (${secs}s)"
MIN=$MIN_PASSED
[ ${#extra[@]} -gt 0 ] && MIN=0   # a subset of the suite: no floor
if [ "$passed" -lt "$MIN" ]; then
  problems+=("$passed tests passed, fewer than the floor of $MIN (tests/python/h5py-plain-min-passed.txt)")
fi

if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "FAIL: $p"; done
  if [ "$rc" -gt 1 ]; then
    # faulthandler's traceback names the test that was running
    echo "the end of $LOG:"
    grep -av '^\(  File "/usr\|  File ".*/_pytest/\|  File ".*/pluggy/\)' "$LOG" | tail -n 15 | sed 's/^/  /'
  fi
  echo "$passed passed, 1 failed"
  exit 1
fi
if [ "$passed" -gt "$MIN" ] && [ ${#extra[@]} -eq 0 ]; then
  echo "($passed passed, above the floor of $MIN: raise tests/python/h5py-plain-min-passed.txt?)"
fi
echo "$passed passed, 0 failed"
