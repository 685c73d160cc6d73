#!/usr/bin/env bash
# netCDF-4 through rustvol: the xarray/h5netcdf round-trip suite (tests/python/xarray/, pytest) in
# a venv of scripts/setup-xarray-venvs.sh, with the rustvol wheel (scripts/build-wheel.sh)
# installed, the way a user has it: no HDF5_PLUGIN_PATH, RUSTVOL_PLUGIN_DIR or LD_LIBRARY_PATH,
# nothing of the checkout's python/ on PYTHONPATH: `rustvol.enable(INFO)` finds the plugin inside
# the installed package. The wheel goes into a directory of this run, on PYTHONPATH
# (tests/python/wheel_site.sh), never into the cached venv.
#
#   tests/python/run_xarray.sh pypi "backend=dir;root=/tmp/store"   # PyPI's h5py (HDF5 2.0.0)
#   tests/python/run_xarray.sh src backend=dir                       # h5py from source (1.14.5)
#   tests/python/run_xarray.sh src native                            # the same tests, native HDF5
#
# The wheel is rebuilt from target/release/librustvol.so as it is (RUSTVOL_WHEEL_NO_BUILD=1). "backend=dir" without a root gets a scratch
# store. The export test (test_export.py) runs HDF5 $RUSTVOL_HDF5_VERSION's h5repack and h5dump of
# $HDF5_DIR/bin with the wheel's plugin. Last line: "N passed, N failed"; exit status 1 if any test failed or none ran.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"

KIND=${1:-}
INFO=${2:-}
case $KIND in
  pypi) VENV=$RUSTVOL_XARRAY_PYPI_VENV ;;
  src) VENV=$RUSTVOL_XARRAY_SRC_VENV ;;
  *) INFO="" ;;
esac
if [ -z "$INFO" ]; then
  echo "usage: $0 pypi|src INFO|native" >&2
  exit 2
fi
VPY=$VENV/bin/python
if [ ! -f "$VENV/.rustvol-complete" ]; then
  echo "run_xarray: no venv at $VENV (run scripts/setup-xarray-venvs.sh)"
  echo "0 passed, 1 failed"
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-xarray.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp" "$WORK/cwd"
case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=dir "*) case "$INFO" in *root=*) ;; *) INFO="$INFO;root=$WORK/store" ;; esac ;;
esac

if ! bash "$HERE/wheel_site.sh" "$VPY" "$WORK/site"; then
  echo "run_xarray: could not build or install the wheel:"
  tail -n 20 "$WORK/site.log" | sed 's/^/  | /'
  echo "0 passed, 1 failed"
  exit 1
fi
echo "netCDF-4 round trips ($("$VPY" -c 'import h5py, h5netcdf, xarray; print(f"h5py {h5py.version.version} on HDF5 {h5py.version.hdf5_version}, h5netcdf {h5netcdf.__version__}, xarray {xarray.__version__}")' 2>/dev/null)), info: $INFO"

backend=$(sed -n 's/.*backend=\([a-z0-9]*\).*/\1/p' <<<"$INFO" | head -n1)
LOG=$RUSTVOL_ROOT/target/xarray-$KIND-${backend:-native}.log
(cd "$WORK/cwd" && env -u HDF5_PLUGIN_PATH -u HDF5_VOL_CONNECTOR -u RUSTVOL_PLUGIN_DIR \
    -u LD_LIBRARY_PATH PYTHONPATH="$WORK/site" TMPDIR="$WORK/tmp" RUSTVOL_XARRAY_INFO="$INFO" \
    RUSTVOL_XARRAY_EXPECT_BUNDLED="$WORK/site" \
    RUSTVOL_H5REPACK="$HDF5_DIR/bin/h5repack" RUSTVOL_H5DUMP="$HDF5_DIR/bin/h5dump" \
    "$VPY" -m pytest "$HERE/xarray" -p no:cacheprovider -q -rfE -W ignore::DeprecationWarning) >"$LOG" 2>&1
rc=$?
summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error).* in ' "$LOG" | tail -n 1 | sed 's/^=* *//; s/ =*$//')
passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | cut -d' ' -f1)
failed=$(grep -oE '[0-9]+ (failed|error)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
passed=${passed:-0}
echo "pytest: ${summary:-no summary (exit status $rc)}  (log: $LOG)"
if [ "$rc" -ne 0 ]; then
  grep -E '^(FAILED|ERROR) ' "$LOG" | sed 's/^/  /'
  [ "$failed" -eq 0 ] && failed=1
fi
[ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
