#!/usr/bin/env bash
# rustvol under h5py as `pip install h5py` gives it: PyPI's wheel bundles HDF5 2.0.0 (the venv of
# scripts/setup-pypi-venv.sh), loaded RTLD_LOCAL; rustvol binds to that library when it loads the
# plugin (src/ffi/h5api.rs). Also a C program linked to that same HDF 2.0 library, and the
# source-built venv (HDF5 1.14.5) with the same scripts.
#
#   tests/python/pypi_h5py.sh "backend=dir;root=/tmp/store"
#   tests/python/pypi_h5py.sh backend=dir          # a scratch root, removed afterwards
#
# Each check runs under `timeout -k 5 60`; files are written in one process and read in another
# (so the backend must keep them: dir or s3). With only HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR
# set, the way any HDF5 program meets a plugin:
#   - PyPI h5py: `import h5py` finishes and reports HDF5 2.0.0;
#   - PyPI h5py: tests/python/pypi/write.py writes datasets (chunked + gzip, resizable, strings,
#     HDF5 2.0's native complex type), attributes and groups, and no native file in their place;
#     read.py, in another process, prints exactly what was written;
#   - a C program linked to the wheel's libhdf5 writes a dataset and an attribute, and reads
#     them back in another process;
#   - the source-built venv (h5py on HDF5 1.14.5): write.py and read.py the same;
# and through the rustvol package (`python -m rustvol INFO`, PYTHONPATH=python/):
#   - PyPI h5py: iterate.py: iteration, visit, items, `in`, references, soft links;
#   - PyPI h5py: `python -m rustvol --check INFO`, the package's self-test.
# A check passes only if its process ended by itself, without a signal. Last line:
# "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"

INFO=${1:-}
if [ -z "$INFO" ]; then
  echo "usage: $0 INFO" >&2
  exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-pypi-h5py.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=dir "*) case "$INFO" in *root=*) ;; *) INFO="$INFO;root=$WORK/store" ;; esac ;;
esac
PYPI_PY=$RUSTVOL_PYPI_VENV/bin/python
SRC_PY=$RUSTVOL_VENV/bin/python
PLUGIN_DIR=$RUSTVOL_PLUGIN_DIR
echo "rustvol under PyPI's h5py (h5py $RUSTVOL_PYPI_H5PY_VERSION from PyPI, HDF5 $RUSTVOL_PYPI_HDF5_VERSION), info: $INFO"

pass=0 fail=0
ok() { echo "ok:   $1"; pass=$((pass + 1)); }
bad() {
  echo "FAIL: $1"
  [ -f "$2" ] && sed -n '1,30p' "$2" | sed 's/^/  | /'
  fail=$((fail + 1))
}

if [ ! -x "$PYPI_PY" ] || [ ! -f "$RUSTVOL_PYPI_VENV/.rustvol-complete" ]; then
  bad "no PyPI h5py venv at $RUSTVOL_PYPI_VENV (run scripts/setup-pypi-venv.sh)" /dev/null
  echo "$pass passed, $fail failed"
  exit 1
fi
if [ ! -f "$PLUGIN_DIR/librustvol.so" ]; then
  bad "no $PLUGIN_DIR/librustvol.so (cargo build --release)" /dev/null
  echo "$pass passed, $fail failed"
  exit 1
fi

# run NAME DIR CMD...: runs CMD in DIR (created) with the plugin selected through the two
# environment variables and nothing else of the project's environment (env.sh puts HDF5 1.14.5
# on LD_LIBRARY_PATH, which a user of PyPI's h5py does not have); output in DIR/out, DIR/err,
# exit status in $rc. Sets $why if the process hung or died from a signal.
run() {
  local dir=$2
  shift 2
  mkdir -p "$dir"
  (cd "$dir" && env -u LD_LIBRARY_PATH -u PYTHONPATH HDF5_PLUGIN_PATH="$PLUGIN_DIR" HDF5_VOL_CONNECTOR="rustvol $INFO" \
    timeout -k 5 60 "$@") >"$dir/out" 2>"$dir/err"
  rc=$?
  status
}
# run_package DIR CMD...: as run, with the rustvol package of this checkout selecting the plugin
# (no HDF5_PLUGIN_PATH / HDF5_VOL_CONNECTOR: the package sets them).
run_package() {
  local dir=$1
  shift
  mkdir -p "$dir"
  (cd "$dir" && env -u LD_LIBRARY_PATH -u HDF5_PLUGIN_PATH -u HDF5_VOL_CONNECTOR PYTHONPATH="$RUSTVOL_ROOT/python" \
    RUSTVOL_PLUGIN_DIR="$PLUGIN_DIR" timeout -k 5 60 "$@") >"$dir/out" 2>"$dir/err"
  rc=$?
  status
}
status() {
  why=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="did not finish within 60 s (exit status $rc)"
  elif [ "$rc" -gt 128 ]; then
    why="died from signal $((rc - 128))"
  fi
}
# expect NAME DIR WANT: the check passed if the process ended with status 0 and printed WANT.
expect() {
  if [ -n "$why" ]; then
    bad "$1: $why" "$2/err"
  elif [ "$rc" -ne 0 ]; then
    bad "$1: exit status $rc" "$2/err"
  elif ! diff <(printf '%s\n' "$3") "$2/out" >"$2/diff"; then
    bad "$1: printed something else (< expected, > printed)" "$2/diff"
  else
    ok "$1"
  fi
}

P=$HERE/pypi
READ_COMMON="answer 42
counts (3, 4) (2, 2) gzip [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] events
series (None,) [0.5, 1.5, 2.5, 3.5, 4.5]
names [b'alpha', b'beta']"

# 1. import h5py: HDF5 2.0 initialises and loads the plugin during the import.
d=$WORK/import
run import "$d" "$PYPI_PY" -c 'import h5py; print(h5py.version.hdf5_version)'
expect "PyPI h5py: import h5py finishes (HDF5 $RUSTVOL_PYPI_HDF5_VERSION)" "$d" "$RUSTVOL_PYPI_HDF5_VERSION"

# 2. write in one process, read in another
d=$WORK/pypi
run write "$d" "$PYPI_PY" "$P/write.py"
if [ -n "$why" ] || [ "$rc" -ne 0 ]; then
  bad "PyPI h5py: write.py: exit status $rc $why" "$d/err"
elif [ -e "$d/pypi.h5" ]; then
  bad "PyPI h5py: write.py wrote a native pypi.h5: rustvol was not used" "$d/err"
else
  ok "PyPI h5py: write.py writes through rustvol (no native file)"
  run read "$d" "$PYPI_PY" "$P/read.py"
  expect "PyPI h5py: read.py reads it back in another process" "$d" "title rustvol under $RUSTVOL_PYPI_HDF5_VERSION
$READ_COMMON
groups 3 3 True
complex complex128 [(1+2j), (3-4j), (-0-5j)]"
  # 3. the package's v2-API completions
  run_package "$d" "$PYPI_PY" -m rustvol "$INFO" "$P/iterate.py"
  expect "PyPI h5py + rustvol package: iteration, visit, references, soft links" "$d" "keys ['complex', 'run1', 'run2'] ['names', 'raw', 'series']
visit ['complex', 'run1', 'run1/names', 'run1/raw', 'run1/raw/counts', 'run1/series', 'run2']
items [('names', 'Dataset'), ('raw', 'Group'), ('series', 'Dataset')]
attrs ['answer', 'title']
contains True False
deref /run1/raw/counts [0.5, 1.5] /run1/series"
fi

# 4. the package's self-test
d=$WORK/check
run_package "$d" "$PYPI_PY" -m rustvol --check "$INFO"
if [ -n "$why" ] || [ "$rc" -ne 0 ]; then
  bad "PyPI h5py: python -m rustvol --check: exit status $rc $why" "$d/err"
else
  ok "PyPI h5py: python -m rustvol --check passes"
fi

# 5. a C program linked to the wheel's HDF5 2.0
d=$WORK/c-foreign
mkdir -p "$d"
lib=$(ls "$RUSTVOL_PYPI_VENV"/lib/python3*/site-packages/h5py.libs/libhdf5-*.so* 2>/dev/null | grep -v hdf5_hl | head -n1)
if [ -z "$lib" ]; then
  bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: no libhdf5 in h5py.libs of $RUSTVOL_PYPI_VENV" /dev/null
elif ! cc -o "$d/foreign_rw" "$P/foreign_rw.c" "$lib" -Wl,-rpath,"$(dirname "$lib")" 2>"$d/err"; then
  bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: does not build" "$d/err"
else
  run c "$d" "$d/foreign_rw" write
  expect "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: writes a dataset and an attribute" "$d" "HDF5 $RUSTVOL_PYPI_HDF5_VERSION
write: ok"
  run c "$d" "$d/foreign_rw" read
  expect "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: reads them back in another process" "$d" "HDF5 $RUSTVOL_PYPI_HDF5_VERSION
read: 1 2 3 4 5 6 scale 0.5"
fi

# 6. the source-built venv, HDF5 1.14.5: the same scripts
d=$WORK/source
run write "$d" "$SRC_PY" "$P/write.py"
if [ -n "$why" ] || [ "$rc" -ne 0 ]; then
  bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: write.py: exit status $rc $why" "$d/err"
elif [ -e "$d/pypi.h5" ]; then
  bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: write.py wrote a native pypi.h5: rustvol was not used" "$d/err"
else
  run read "$d" "$SRC_PY" "$P/read.py"
  expect "h5py on HDF5 $RUSTVOL_HDF5_VERSION: write.py, then read.py in another process" "$d" "title rustvol under $RUSTVOL_HDF5_VERSION
$READ_COMMON
groups 2 3 True"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
