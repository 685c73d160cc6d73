#!/usr/bin/env bash
# Runs the h5py example scripts of h5_examples/python/ through rustvol and compares their output
# with the output of the same script under native HDF5 (h5_examples/python/expected/NAME.txt).
#
#   tests/python/run_examples.sh "backend=dir;root=/tmp/store"
#   tests/python/run_examples.sh backend=dir          # a scratch root, removed afterwards
#   tests/python/run_examples.sh --update             # regenerate expected/ with native HDF5
#   RUSTVOL_EXAMPLES_FAPL=1 tests/python/run_examples.sh INFO   # rustvol.enable after import h5py
#   RUSTVOL_EXAMPLES_VENV=$RUSTVOL_PYPI_VENV tests/python/run_examples.sh INFO   # PyPI's h5py (HDF5 2.0)
#   RUSTVOL_EXAMPLES_WHEEL=VENV tests/python/run_examples.sh INFO   # through the wheel, in VENV
#
# The scripts are plain h5py programs that never mention rustvol; each runs as
# `python -m rustvol INFO script.py FILE` (rustvol.enable(INFO), then the script), with FILE in
# a fresh scratch directory.  A script passes if it exits 0, its output equals the expected
# output byte for byte, and nothing was written at FILE itself (the data went to the store, not
# to a native .h5 file).  append_group.py is left out: it extends the file h5_examples/write_read.c
# writes, and scripts/demo.sh runs it.  Last line: "N passed, N failed"; exit status 1 if any
# failed.
#
# RUSTVOL_EXAMPLES_WHEEL=VENV runs the scripts with VENV's python instead (e.g. the PyPI h5py
# venv of scripts/setup-xarray-venvs.sh), with the rustvol wheel (scripts/build-wheel.sh from the
# current target/release build) installed into a directory of this run on PYTHONPATH
# (tests/python/wheel_site.sh; the cached VENV is left as it is), nothing of the checkout's
# python/ on PYTHONPATH and no HDF5_PLUGIN_PATH, RUSTVOL_PLUGIN_DIR or LD_LIBRARY_PATH: the
# package finds the plugin it carries.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
EXAMPLES=$RUSTVOL_ROOT/h5_examples/python
EXPECTED=$EXAMPLES/expected
PY=${RUSTVOL_EXAMPLES_VENV:-$RUSTVOL_VENV}/bin/python
SKIP=" append_group "

INFO=${1:-}
if [ -z "$INFO" ]; then
  echo "usage: $0 INFO | --update" >&2
  exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-py-examples.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PYTHONPATH="$RUSTVOL_ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
unset HDF5_VOL_CONNECTOR
wheel_env=()
if [ -n "${RUSTVOL_EXAMPLES_WHEEL:-}" ] && [ "$INFO" != --update ]; then
  PY=$RUSTVOL_EXAMPLES_WHEEL/bin/python
  if ! bash "$HERE/wheel_site.sh" "$PY" "$WORK/site"; then
    echo "run_examples: could not build or install the wheel for $RUSTVOL_EXAMPLES_WHEEL:"
    tail -n 20 "$WORK/site.log" | sed 's/^/  | /'
    echo "0 passed, 1 failed"
    exit 1
  fi
  wheel_env=(env -u RUSTVOL_PLUGIN_DIR -u HDF5_PLUGIN_PATH -u LD_LIBRARY_PATH PYTHONPATH="$WORK/site")
fi

scripts=()
for s in "$EXAMPLES"/*.py; do
  name=$(basename "$s" .py)
  case "$SKIP" in *" $name "*) continue ;; esac
  scripts+=("$s")
done

if [ "$INFO" = --update ]; then
  mkdir -p "$EXPECTED"
  for s in "${scripts[@]}"; do
    name=$(basename "$s" .py)
    mkdir -p "$WORK/$name"
    if (cd "$WORK/$name" && "$PY" "$s" "$WORK/$name/$name.h5") >"$EXPECTED/$name.txt" 2>"$WORK/$name.err"; then
      echo "expected/$name.txt: $(wc -l <"$EXPECTED/$name.txt") lines (native HDF5)"
    else
      echo "FAIL: $name under native HDF5:"; cat "$WORK/$name.err"; exit 1
    fi
  done
  exit 0
fi

case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=dir "*) case "$INFO" in *root=*) ;; *) INFO="$INFO;root=$WORK/store" ;; esac ;;
esac
fapl=()
[ "${RUSTVOL_EXAMPLES_FAPL:-0}" = 1 ] && fapl=(--fapl)
echo "h5py examples through rustvol, info: $INFO${fapl:+ (fapl mode)}${wheel_env:+ (the wheel, in $RUSTVOL_EXAMPLES_WHEEL)}"
pass=0 fail=0
for s in "${scripts[@]}"; do
  name=$(basename "$s" .py)
  dir=$WORK/$name
  mkdir -p "$dir"
  (cd "$dir" && "${wheel_env[@]}" "$PY" -m rustvol "${fapl[@]}" "$INFO" "$s" "$dir/$name.h5") >"$dir/out.txt" 2>"$dir/err.txt"
  rc=$?
  why=""
  if [ "$rc" -ne 0 ]; then
    why="exit status $rc"
  elif [ ! -f "$EXPECTED/$name.txt" ]; then
    why="no expected output (run $0 --update)"
  elif ! cmp -s "$dir/out.txt" "$EXPECTED/$name.txt"; then
    why="output differs from native HDF5's"
  elif [ -e "$dir/$name.h5" ]; then
    why="$name.h5 was written as a plain file: rustvol was not used"
  fi
  if [ -z "$why" ]; then
    echo "PASS $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name: $why"
    if [ -f "$EXPECTED/$name.txt" ] && [ "$rc" -eq 0 ]; then
      diff -u "$EXPECTED/$name.txt" "$dir/out.txt" | head -n 30 | sed 's/^/    /'
    fi
    [ -s "$dir/err.txt" ] && tail -n 15 "$dir/err.txt" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
