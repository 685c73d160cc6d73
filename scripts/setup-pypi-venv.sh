#!/usr/bin/env bash
# A Python venv with h5py as `pip install h5py` gives it: PyPI's manylinux wheel, which bundles
# its own HDF5 2.0.0 (h5py.libs/libhdf5-*.so.320), plus numpy and pytest. The tests use it to
# check what rustvol does in a process whose libhdf5 is not the one rustvol was built with
# (tests/python/pypi_h5py.sh).
# Idempotent: a finished venv is detected by its stamp file and left alone.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

VENV=$RUSTVOL_PYPI_VENV
STAMP=$VENV/.rustvol-complete
if [ -f "$STAMP" ]; then
  echo "pypi-venv: using $VENV"
  exit 0
fi

PY=${RUSTVOL_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
fi
rm -rf "$VENV"
"$PY" -m venv "$VENV"
VPY=$VENV/bin/python
"$VPY" -m pip install -q --upgrade pip
# --only-binary: the point of this venv is the wheel and the HDF5 inside it, never a source build
# (which would link whatever libhdf5 the machine has).
"$VPY" -m pip install -q --only-binary h5py "h5py==$RUSTVOL_PYPI_H5PY_VERSION" numpy pytest

# env.sh puts the project's HDF5 on LD_LIBRARY_PATH; the wheel must not care, so check without it.
env -u LD_LIBRARY_PATH -u HDF5_PLUGIN_PATH -u HDF5_VOL_CONNECTOR "$VPY" - <<PYEOF
import h5py
assert h5py.version.version == "$RUSTVOL_PYPI_H5PY_VERSION", h5py.version.version
assert h5py.version.hdf5_version == "$RUSTVOL_PYPI_HDF5_VERSION", h5py.version.hdf5_version
print("pypi-venv: h5py", h5py.version.version, "(PyPI wheel) on HDF5", h5py.version.hdf5_version)
PYEOF
touch "$STAMP"
echo "pypi-venv: installed $VENV"
