#!/usr/bin/env bash
# h5py's own test suite (`pytest --pyargs h5py`, h5py 3.16.0 in the project venv) through rustvol.
#
#   tests/python/run_h5py_suite.sh "backend=dir;root=/tmp/store"
#   tests/python/run_h5py_suite.sh backend=dir   # a scratch root, removed afterwards
#   tests/python/run_h5py_suite.sh native        # the same run without rustvol, for comparison
#
# How: pytest loads tests/python/rustvol_h5py_suite.py, which calls rustvol.enable(INFO) (the
# package in python/, from this checkout) before h5py is imported, so HDF5 starts with rustvol
# as its default connector and h5py is completed for non-native files.  h5py's tests create
# their files under TMPDIR (absolute paths, stored under the dir backend's root).  Every test
# runs in a forked child (tests/python/forked_plugin.py), so a test that crashes the process
# counts as one failure.  The failures listed in tests/python/h5py_expected_failures.txt, with
# reasons, are expected; the last line is "N passed, N failed" where failed counts only the
# others.  Exit status non-zero if fewer than RUSTVOL_H5PY_MIN_PASSED (750) pass or a failure is
# not in the list.
#
# Environment: RUSTVOL_SUITE_PATCH=0 runs without rustvol.patch_h5py (to measure what the
# package fixes); RUSTVOL_SUITE_FORK=0 runs all tests in one process; RUSTVOL_SUITE_ARGS adds
# pytest arguments (e.g. "-k test_group").  The full log goes to target/h5py-suite-<name>.log.
# RUSTVOL_SUITE_VENV runs another venv's h5py (default $RUSTVOL_VENV), RUSTVOL_SUITE_EXPECTED
# names its list of expected failures and RUSTVOL_SUITE_LOG_PREFIX its log's name
# (run_h5py_suite_pypi.sh: PyPI's h5py with HDF5 2.0).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"

INFO=${1:-}
if [ -z "$INFO" ]; then
  echo "usage: $0 INFO   (e.g. \"backend=dir;root=/tmp/store\", or \"native\")" >&2
  exit 2
fi
MIN_PASSED=${RUSTVOL_H5PY_MIN_PASSED:-750}
VENV=${RUSTVOL_SUITE_VENV:-$RUSTVOL_VENV}
EXPECTED=${RUSTVOL_SUITE_EXPECTED:-$HERE/h5py_expected_failures.txt}
PY=$VENV/bin/python
if [ ! -x "$PY" ]; then
  echo "run_h5py_suite: no venv at $VENV (run scripts/setup-python.sh)" >&2
  exit 2
fi
if [ "$INFO" != native ] && [ ! -f "$RUSTVOL_PLUGIN_DIR/librustvol.so" ]; then
  echo "run_h5py_suite: no $RUSTVOL_PLUGIN_DIR/librustvol.so (cargo build --release)" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-h5py-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp" "$WORK/cwd" "$RUSTVOL_ROOT/target"
case "$INFO" in
  native) name=native ;;
  *backend=dir*) name=dir ;;
  *backend=s3*) name=s3 ;;
  *) name=memory ;;
esac
LOG=$RUSTVOL_ROOT/target/${RUSTVOL_SUITE_LOG_PREFIX:-h5py-suite}-$name.log
RESULTS=$WORK/results.tsv

# "backend=dir" without a root: a scratch store, removed afterwards
case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=dir "*) case "$INFO" in *root=*) ;; *) INFO="$INFO;root=$WORK/store" ;; esac ;;
esac
unset HDF5_VOL_CONNECTOR
export RUSTVOL_SUITE_INFO=
[ "$INFO" != native ] && RUSTVOL_SUITE_INFO=$INFO
export PYTHONPATH="$RUSTVOL_ROOT/python:$HERE${PYTHONPATH:+:$PYTHONPATH}"
fork=(--rv-fork)
[ "${RUSTVOL_SUITE_FORK:-1}" = 0 ] && fork=()
# shellcheck disable=SC2206 # word splitting of the extra arguments is intended
extra=(${RUSTVOL_SUITE_ARGS:-})

echo "h5py $("$PY" -c 'import importlib.metadata as m; print(m.version("h5py"))') test suite, rustvol info: $INFO"
(cd "$WORK/cwd" && TMPDIR=$WORK/tmp "$PY" -m pytest --pyargs h5py -p no:cacheprovider \
    -p rustvol_h5py_suite -p forked_plugin "${fork[@]}" --rv-results "$RESULTS" \
    -q -rfE "${extra[@]}") >"$LOG" 2>&1
rc=$?
summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed).* in ' "$LOG" | tail -n 1)
if [ -z "$summary" ] || [ "$rc" -gt 1 ]; then
  # pytest died (a crash without --rv-fork) or could not run: count what finished, plus one
  echo "run_h5py_suite: pytest did not finish (exit status $rc); the end of $LOG:"
  tail -n 12 "$LOG" | sed 's/^/  /'
  done_tests=0
  [ -f "$RESULTS" ] && done_tests=$(grep -c . "$RESULTS")
  echo "($done_tests tests had finished)"
  passed=0
  [ -f "$RESULTS" ] && passed=$(grep -c '^passed' "$RESULTS")
  echo "$passed passed, 1 failed"
  exit 1
fi
echo "$summary" | sed 's/^=* */pytest: /; s/ =*$//'
MIN=$MIN_PASSED
[ ${#extra[@]} -gt 0 ] && MIN=0   # a subset of the suite: no floor
mode=rustvol
[ ${#extra[@]} -gt 0 ] && mode=subset
[ "$INFO" = native ] && mode=native
"$PY" "$HERE/suite_summary.py" "$RESULTS" "$EXPECTED" "$MIN" "$mode"
