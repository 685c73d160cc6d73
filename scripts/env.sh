# shellcheck shell=bash
# Sourced by the other scripts (and usable interactively: `. scripts/env.sh`).
# Sets up the paths to the cached HDF5 build, the h5py venv and the rustvol plugin.
# Safe to source several times; does not change shell options.

RUSTVOL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RUSTVOL_ROOT

export RUSTVOL_CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
export RUSTVOL_HDF5_VERSION=1.14.5
export RUSTVOL_H5PY_VERSION=3.16.0
export HDF5_DIR=${HDF5_DIR:-$RUSTVOL_CACHE/hdf5-$RUSTVOL_HDF5_VERSION}
export RUSTVOL_VENV=${RUSTVOL_VENV:-$RUSTVOL_CACHE/venv-h5py-$RUSTVOL_H5PY_VERSION}
export RUSTVOL_HDF5PLUGIN_VERSION=7.1.0
# h5py as PyPI ships it (its wheel bundles HDF5 2.0.0): scripts/setup-pypi-venv.sh, tests/python/pypi_h5py.sh
export RUSTVOL_PYPI_H5PY_VERSION=3.16.0
export RUSTVOL_PYPI_HDF5_VERSION=2.0.0
export RUSTVOL_PYPI_VENV=${RUSTVOL_PYPI_VENV:-$RUSTVOL_CACHE/venv-pypi-h5py-$RUSTVOL_PYPI_H5PY_VERSION}
export RUSTVOL_HDF5PLUGIN_VENV=$RUSTVOL_CACHE/venv-hdf5plugin-$RUSTVOL_HDF5PLUGIN_VERSION
# netCDF-4 through h5py (scripts/setup-xarray-venvs.sh, tests/python/xarray/): h5netcdf and xarray,
# once over PyPI's h5py (HDF5 2.0.0) and once over h5py built from source (HDF5 1.14.5)
export RUSTVOL_H5NETCDF_VERSION=1.8.3
export RUSTVOL_XARRAY_VERSION=2026.9.0
export RUSTVOL_XARRAY_PANDAS_VERSION=3.1.1
export RUSTVOL_XARRAY_NUMPY_VERSION=2.4.6
export RUSTVOL_XARRAY_PYTEST_VERSION=9.2.0
export RUSTVOL_XARRAY_PYPI_VENV=${RUSTVOL_XARRAY_PYPI_VENV:-$RUSTVOL_CACHE/venv-xarray-pypi-h5py-$RUSTVOL_PYPI_H5PY_VERSION-xarray-$RUSTVOL_XARRAY_VERSION}
export RUSTVOL_XARRAY_SRC_VENV=${RUSTVOL_XARRAY_SRC_VENV:-$RUSTVOL_CACHE/venv-xarray-src-h5py-$RUSTVOL_H5PY_VERSION-xarray-$RUSTVOL_XARRAY_VERSION}
export RUSTVOL_PLUGIN_DIR=${RUSTVOL_PLUGIN_DIR:-$RUSTVOL_ROOT/target/release}
# h5bench 1.4 (commit 675c86d), built against the parallel HDF5: scripts/setup-h5bench.sh, tests/mpi/h5bench.sh
export RUSTVOL_H5BENCH_VERSION=1.4
export RUSTVOL_H5BENCH_COMMIT=675c86d
export RUSTVOL_H5BENCH_SHA256=ff6f5d201ce7ddd3128fd61a0fbe0043e793011cb2637d553bcc5e92c6f956fb
export RUSTVOL_H5BENCH_DIR=${RUSTVOL_H5BENCH_DIR:-$RUSTVOL_CACHE/h5bench-$RUSTVOL_H5BENCH_VERSION}

# Prepend a directory to a :-separated variable unless it is already there.
_rustvol_prepend() {
  local var=$1 dir=$2 cur
  cur=${!var-}
  case ":$cur:" in
    *":$dir:"*) ;;
    *) export "$var=$dir${cur:+:$cur}" ;;
  esac
}
# The cargo bin dir, for shells that did not source ~/.cargo/env.
[ -d "$HOME/.cargo/bin" ] && _rustvol_prepend PATH "$HOME/.cargo/bin"
_rustvol_prepend PATH "$RUSTVOL_VENV/bin"
_rustvol_prepend PATH "$HDF5_DIR/bin"
_rustvol_prepend LD_LIBRARY_PATH "$HDF5_DIR/lib"
unset -f _rustvol_prepend
