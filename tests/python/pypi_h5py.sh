#!/usr/bin/env bash
# rustvol inside a process whose libhdf5 is not the one rustvol was built with: h5py from PyPI,
# whose wheel bundles HDF5 2.0.0 (the venv of scripts/setup-pypi-venv.sh), and a C program linked
# to that same HDF 2.0 library. rustvol cannot work there yet (issue 13), but it must never hang or
# crash its host: the first file operation fails with an error naming both HDF5 libraries.
#
#   tests/python/pypi_h5py.sh "backend=dir;root=/tmp/store"
#   tests/python/pypi_h5py.sh backend=dir          # a scratch root, removed afterwards
#
# Each check runs under `timeout -k 5 60` with only HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR set,
# the way any HDF5 program meets a plugin:
#   - PyPI h5py: `import h5py` finishes (it used to deadlock there) and reports HDF5 2.0.0;
#   - PyPI h5py: the two-line script (create a file, write a dataset) exits 1 with an OSError
#     naming "rustvol was built for HDF5 1.14.5" and "loaded by HDF5 2.0.0", and writes no
#     native file in its place; opening a file for reading fails the same way;
#   - PyPI h5py: `python -m rustvol` refuses before HDF5 starts (its own DT_NEEDED check);
#   - a C program linked to the wheel's libhdf5 gets the same error from H5Fcreate, exit 1;
#   - the source-built venv (h5py on HDF5 1.14.5): the same two-line script works, its data
#     in the store and not in a native file, and reads back.
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
echo "rustvol under another libhdf5 (h5py $RUSTVOL_PYPI_H5PY_VERSION from PyPI, HDF5 $RUSTVOL_PYPI_HDF5_VERSION), info: $INFO"

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
  why=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="did not finish within 60 s (exit status $rc)"
  elif [ "$rc" -gt 128 ]; then
    why="died from signal $((rc - 128))"
  fi
}
# names_both FILE: the error names the HDF5 rustvol was built with and the one that loaded it.
names_both() {
  grep -q "rustvol was built for HDF5 $RUSTVOL_HDF5_VERSION" "$1" && grep -q "loaded by HDF5 $RUSTVOL_PYPI_HDF5_VERSION" "$1"
}

TWO_LINES=$WORK/two_lines.py
cat >"$TWO_LINES" <<'EOF'
import h5py
h5py.File("two_lines.h5", "w")["x"] = [1, 2, 3]
EOF

# 1. import h5py: HDF5 2.0 initialises and loads the plugin during the import.
d=$WORK/import
run import "$d" "$PYPI_PY" -c 'import h5py; print(h5py.version.hdf5_version)'
if [ -n "$why" ]; then
  bad "PyPI h5py: import h5py $why" "$d/err"
elif [ "$rc" -ne 0 ] || [ "$(cat "$d/out")" != "$RUSTVOL_PYPI_HDF5_VERSION" ]; then
  bad "PyPI h5py: import h5py: exit status $rc, printed '$(cat "$d/out")'" "$d/err"
else
  ok "PyPI h5py: import h5py finishes (HDF5 $(cat "$d/out"))"
fi

# 2. the two-line script
d=$WORK/pypi-create
run create "$d" "$PYPI_PY" "$TWO_LINES"
if [ -n "$why" ]; then
  bad "PyPI h5py: the two-line script $why" "$d/err"
elif [ "$rc" -ne 1 ] || ! grep -q '^OSError: ' "$d/err" || ! names_both "$d/err"; then
  bad "PyPI h5py: the two-line script: exit status $rc, not the OSError naming both HDF5 versions" "$d/err"
elif [ -e "$d/two_lines.h5" ]; then
  bad "PyPI h5py: the two-line script wrote a native two_lines.h5" "$d/err"
else
  ok "PyPI h5py: the two-line script fails with: $(grep -o 'rustvol was built for [^:]*' "$d/err" | head -n1)"
fi

# 3. opening for reading
d=$WORK/pypi-open
run open "$d" "$PYPI_PY" -c 'import h5py; h5py.File("two_lines.h5", "r")'
if [ -n "$why" ]; then
  bad "PyPI h5py: File(name, 'r') $why" "$d/err"
elif [ "$rc" -ne 1 ] || ! grep -q '^OSError: ' "$d/err" || ! names_both "$d/err"; then
  bad "PyPI h5py: File(name, 'r'): exit status $rc, not the OSError naming both HDF5 versions" "$d/err"
else
  ok "PyPI h5py: File(name, 'r') fails with the same error"
fi

# 4. the rustvol package refuses before HDF5 starts
d=$WORK/pypi-package
mkdir -p "$d"
(cd "$d" && env -u LD_LIBRARY_PATH -u HDF5_PLUGIN_PATH -u HDF5_VOL_CONNECTOR PYTHONPATH="$RUSTVOL_ROOT/python" \
  RUSTVOL_PLUGIN_DIR="$PLUGIN_DIR" timeout -k 5 60 "$PYPI_PY" -m rustvol "$INFO" "$TWO_LINES") >"$d/out" 2>"$d/err"
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "libhdf5.so.310; a VOL plugin must share h5py's libhdf5" "$d/err"; then
  bad "PyPI h5py: python -m rustvol: exit status $rc, not its libhdf5 mismatch error" "$d/err"
else
  ok "PyPI h5py: python -m rustvol refuses (h5py and librustvol use different libhdf5)"
fi

# 5. a C program linked to the wheel's HDF5 2.0
d=$WORK/c-foreign
mkdir -p "$d"
lib=$(ls "$RUSTVOL_PYPI_VENV"/lib/python3*/site-packages/h5py.libs/libhdf5-*.so* 2>/dev/null | grep -v hdf5_hl | head -n1)
if [ -z "$lib" ]; then
  bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: no libhdf5 in h5py.libs of $RUSTVOL_PYPI_VENV" /dev/null
elif ! cc -o "$d/create_foreign" "$HERE/pypi/create_foreign.c" "$lib" -Wl,-rpath,"$(dirname "$lib")" 2>"$d/err"; then
  bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: does not build" "$d/err"
else
  run c "$d" "$d/create_foreign"
  if [ -n "$why" ]; then
    bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: $why" "$d/err"
  elif [ "$rc" -ne 1 ] || ! grep -q "^H5Fcreate: failed" "$d/out" || ! names_both "$d/err"; then
    bad "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: exit status $rc, not the error naming both HDF5 versions" "$d/err"
  else
    ok "C program on HDF5 $RUSTVOL_PYPI_HDF5_VERSION: H5Fcreate fails with the error on HDF5's stack"
  fi
fi

# 6. the source-built venv: the same script works through rustvol
d=$WORK/source-create
run source "$d" "$SRC_PY" "$TWO_LINES"
if [ -n "$why" ]; then
  bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: the two-line script $why" "$d/err"
elif [ "$rc" -ne 0 ]; then
  bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: the two-line script: exit status $rc" "$d/err"
elif [ -e "$d/two_lines.h5" ]; then
  bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: the two-line script wrote a native two_lines.h5: rustvol was not used" "$d/err"
else
  # Written and read again in one process: the memory backend keeps nothing between processes.
  run source-read "$d" "$SRC_PY" -c "exec(open('$TWO_LINES').read()); print(h5py.File('two_lines.h5', 'r')['x'][()].tolist())"
  if [ -n "$why" ] || [ "$rc" -ne 0 ] || [ "$(cat "$d/out")" != "[1, 2, 3]" ]; then
    bad "h5py on HDF5 $RUSTVOL_HDF5_VERSION: reading back: exit status $rc ${why}, printed '$(cat "$d/out")'" "$d/err"
  else
    ok "h5py on HDF5 $RUSTVOL_HDF5_VERSION: the two-line script writes through rustvol and reads back [1, 2, 3]"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
