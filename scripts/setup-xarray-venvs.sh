#!/usr/bin/env bash
# Two Python venvs for netCDF-4 through rustvol (tests/python/xarray/): h5netcdf and xarray (with
# pandas, pytest) over
#   - PyPI's h5py wheel, which bundles HDF5 2.0.0 ($RUSTVOL_XARRAY_PYPI_VENV): `pip install h5py`
#     as people do;
#   - h5py built from source against the cached HDF5 1.14.5 ($RUSTVOL_XARRAY_SRC_VENV), as
#     scripts/setup-python.sh builds it (the project venv itself is left as it is).
# The rustvol wheel is not installed here: it changes with every build, and the tests install
# the current one (scripts/build-wheel.sh) before they run.
# Idempotent: a finished venv (its stamp file, and the versions of scripts/env.sh in it) is left
# alone; one that lacks either is made anew.
#
#   scripts/setup-xarray-venvs.sh          both
#   scripts/setup-xarray-venvs.sh pypi     only the PyPI one (or: src)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PY=${RUSTVOL_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
fi
PKGS=("h5netcdf==$RUSTVOL_H5NETCDF_VERSION" "xarray==$RUSTVOL_XARRAY_VERSION" "pandas==$RUSTVOL_XARRAY_PANDAS_VERSION"
  "numpy==$RUSTVOL_XARRAY_NUMPY_VERSION" "pytest==$RUSTVOL_XARRAY_PYTEST_VERSION")

# check_venv KIND VENV H5PY_VERSION HDF5_VERSION: the venv holds the versions scripts/env.sh
# names (a stamp alone would keep a venv made for other versions: the venv's name carries only
# h5py's and xarray's)
check_venv() {
  local kind=$1 venv=$2 h5py_v=$3 hdf5_v=$4
  # the checks run without the project's LD_LIBRARY_PATH for the wheel; the source build needs
  # its HDF5 (the rpath-less libhdf5 of $HDF5_DIR/lib), as every user of it does
  local envargs=(env -u HDF5_PLUGIN_PATH -u HDF5_VOL_CONNECTOR)
  [ "$kind" = pypi ] && envargs+=(-u LD_LIBRARY_PATH)
  "${envargs[@]}" "$venv/bin/python" - <<PYEOF
import h5py, h5netcdf, numpy, pandas, pytest, xarray
assert h5py.version.version == "$h5py_v", h5py.version.version
assert h5py.version.hdf5_version == "$hdf5_v", h5py.version.hdf5_version
assert h5netcdf.__version__ == "$RUSTVOL_H5NETCDF_VERSION", h5netcdf.__version__
assert xarray.__version__ == "$RUSTVOL_XARRAY_VERSION", xarray.__version__
assert pandas.__version__ == "$RUSTVOL_XARRAY_PANDAS_VERSION", pandas.__version__
assert numpy.__version__ == "$RUSTVOL_XARRAY_NUMPY_VERSION", numpy.__version__
assert pytest.__version__ == "$RUSTVOL_XARRAY_PYTEST_VERSION", pytest.__version__
print("xarray-venv ($kind): h5py", h5py.version.version, "on HDF5", h5py.version.hdf5_version,
      "h5netcdf", h5netcdf.__version__, "xarray", xarray.__version__)
PYEOF
}

# make_venv KIND VENV H5PY_VERSION HDF5_VERSION
make_venv() {
  local kind=$1 venv=$2 h5py_v=$3 hdf5_v=$4 vpy
  if [ -f "$venv/.rustvol-complete" ] && check_venv "$@" >/dev/null 2>&1; then
    echo "xarray-venv ($kind): using $venv"
    return 0
  fi
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  vpy=$venv/bin/python
  "$vpy" -m pip install -q --upgrade pip
  if [ "$kind" = pypi ]; then
    # --only-binary: the wheel and the HDF5 inside it, never a source build
    "$vpy" -m pip install -q --only-binary h5py "h5py==$h5py_v" "${PKGS[@]}"
  else
    "$vpy" -m pip install -q "numpy==$RUSTVOL_XARRAY_NUMPY_VERSION"
    HDF5_DIR=$HDF5_DIR HDF5_VERSION=$hdf5_v \
      "$vpy" -m pip install -q --no-binary h5py "h5py==$h5py_v"
    "$vpy" -m pip install -q "${PKGS[@]}"
  fi
  check_venv "$@"
  touch "$venv/.rustvol-complete"
  echo "xarray-venv ($kind): installed $venv"
}

which=${1:-both}
case $which in
  both | pypi) make_venv pypi "$RUSTVOL_XARRAY_PYPI_VENV" "$RUSTVOL_PYPI_H5PY_VERSION" "$RUSTVOL_PYPI_HDF5_VERSION" ;;&
  both | src) make_venv src "$RUSTVOL_XARRAY_SRC_VENV" "$RUSTVOL_H5PY_VERSION" "$RUSTVOL_HDF5_VERSION" ;;&
  both | pypi | src) ;;
  *) echo "usage: $0 [both|pypi|src]" >&2; exit 2 ;;
esac
