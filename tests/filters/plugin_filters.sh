#!/usr/bin/env bash
# Filters HDF5 loads as plugins, applied through rustvol as natively: Zstd, LZ4, Blosc and
# Bitshuffle from the PyPI package hdf5plugin, on HDF5_PLUGIN_PATH beside librustvol.so.
#
#   tests/filters/plugin_filters.sh [INFO]   INFO: rustvol info string; default: a dir backend
#                                            in a scratch directory (also: backend=memory, or
#                                            "$RUSTVOL_S3_INFO" with scripts/garage.sh's env).
#
# tests/filters/plugin_filters.c writes compressible integers through each filter and reads
# them back, printing each dataset's filter parameters, stored size and checksum. Checks:
#   - natively (HDF5's own file) and through rustvol, in one process, the output is the same,
#     stored sizes included: rustvol runs the very plugin code with the same parameters;
#   - on a persistent backend, a second process reads what the first wrote, with the same output;
#   - every dataset reads back identical to what was written, and Zstd and Blosc compress;
#   - rustvol's own plugin search (RUSTVOL_FILTER_SEARCH=plugin-path) finds the same plugins;
#   - without the plugins on the path, reading fails with an error naming the missing filter,
#     and creating such a dataset (the filters are mandatory) is refused, as natively.
# hdf5plugin lives in a venv of its own, made by scripts/setup-hdf5plugin.sh (which scripts/setup.sh
# runs; here too when it is missing).
# Ends with "N passed, N failed"; exit 1 on a failure.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-plugins.XXXXXX")
INFO=${1:-"backend=dir;root=$WORK/store"}
FILE=plugin-filters-$$-$RANDOM.h5
PROG=$WORK/plugin_filters
cleanup() {
  local f
  if [ -x "$PROG" ]; then
    for f in "$FILE" "$FILE.2"; do
      (cd "$WORK" && HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $INFO" \
        timeout -k 5 60 "$PROG" "$f" delete </dev/null >/dev/null 2>&1)
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

VENV=$RUSTVOL_HDF5PLUGIN_VENV
plugin_dir() { ls -d "$VENV"/lib/python3*/site-packages/hdf5plugin/plugins 2>/dev/null | head -n1; }
[ -n "$(plugin_dir)" ] || bash "$RUSTVOL_ROOT/scripts/setup-hdf5plugin.sh" >"$WORK/setup.log" 2>&1 || cat "$WORK/setup.log"
PLUGINS=$(plugin_dir)
check "hdf5plugin's plugin directory ($PLUGINS)" test -e "$PLUGINS/libh5zstd.so"
if ! "$HDF5_DIR/bin/h5cc" -O2 -Wall -o "$PROG" "$RUSTVOL_ROOT/tests/filters/plugin_filters.c" </dev/null >"$WORK/cc.log" 2>&1; then
  cat "$WORK/cc.log"
  fail "build tests/filters/plugin_filters.c"
  summary
  exit 1
fi

# run NAME PLUGIN_PATH VOL|native ARGS...: output in $WORK/NAME.out/.err, status in $WORK/NAME.rc
run() {
  local name=$1 path=$2 vol=$3
  shift 3
  (
    cd "$WORK" || exit 1
    export HDF5_PLUGIN_PATH=$path
    if [ "$vol" = native ]; then unset HDF5_VOL_CONNECTOR; else export HDF5_VOL_CONNECTOR="rustvol $INFO"; fi
    timeout -k 5 300 "$PROG" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err"
  )
  echo $? >"$WORK/$name.rc"
}
rc() { cat "$WORK/$1.rc"; }
same() {
  if diff "$WORK/$1" "$WORK/$2" >"$WORK/diff.txt"; then return 0; fi
  cat "$WORK/diff.txt"
  return 1
}

run native "$PLUGINS" native native.h5 both
check "native HDF5 writes and reads every plugin filter" test "$(rc native)" = 0
run both "$RUSTVOL_PLUGIN_DIR:$PLUGINS" vol "$FILE" both
check "rustvol writes and reads them in one process" test "$(rc both)" = 0
check "rustvol's output (parameters, stored sizes, checksums) equals native's" same native.out both.out
check "all 5 datasets read back identical" test "$(grep -c 'identical yes' "$WORK/both.out")" = 5
check "Zstd and Blosc compress" test "$(grep -cE '^(zstd|blosc_[a-z0-9_]+): .*compressed yes' "$WORK/both.out")" = 3
# rustvol's own search of the plugin path (for a libhdf5 that hides its filter table)
RUSTVOL_FILTER_SEARCH=plugin-path RUSTVOL_LOG=debug run own "$RUSTVOL_PLUGIN_DIR:$PLUGINS" vol "$FILE" both
check "rustvol's own plugin search gives native's output too" same native.out own.out
check "... having loaded the 4 plugin libraries itself" test "$(grep -c 'filter_plugins\] filter [0-9]*: plugin ' "$WORK/own.err")" = 4

case "$INFO" in
  *backend=memory*) echo "memory backend: no second process can see the file; skipping the cross-process checks" ;;
  *)
    run write "$RUSTVOL_PLUGIN_DIR:$PLUGINS" vol "$FILE" write
    run read "$RUSTVOL_PLUGIN_DIR:$PLUGINS" vol "$FILE" read
    grep -v ' available: ' "$WORK/native.out" >"$WORK/native-read.out"
    check "a second process reads what the first wrote" test "$(rc write)$(rc read)" = 00
    check "... with native's output" same native-read.out read.out
    run absent "$RUSTVOL_PLUGIN_DIR" vol "$FILE" read
    check "without the plugins, reading fails" test "$(rc absent)" != 0
    check "... with an error naming the missing filter" grep -q "filter 32015 ('.*') is not registered" "$WORK/absent.err"
    check "... and says so for every dataset" test "$(grep -c 'read failed' "$WORK/absent.out")" = 5
    ;;
esac
run nocreate "$RUSTVOL_PLUGIN_DIR" vol "$FILE.2" write
run nocreate-native "" native native2.h5 write
check "without the plugins, creating a dataset with a mandatory one is refused, as natively" \
  test "$(rc nocreate)" != 0 -a "$(rc nocreate-native)" != 0
check "... after reporting the filter unavailable, as natively" same nocreate-native.out nocreate.out
summary
