#!/usr/bin/env bash
# A Python venv with numpy, pytest and h5py built from source against the cached HDF5
# (PyPI's h5py wheels bundle their own libhdf5, which cannot share ids with the plugin's),
# plus the repository's own `rustvol` Python package (python/, docs/h5py.md).
# Idempotent: a finished venv is detected by its stamp file and left alone; the rustvol
# package is reinstalled when its sources change.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# The rustvol package (pure Python): installed from a copy of python/, so that the build leaves
# nothing in the checkout; skipped when the installed copy was made from the same sources.
install_rustvol_package() {
  local vpy=$RUSTVOL_VENV/bin/python src=$RUSTVOL_ROOT/python sum stamp tmp
  stamp=$RUSTVOL_VENV/.rustvol-python-package
  sum=$(cd "$src" && find pyproject.toml setup.py README.md rustvol -name '*.py' -o -name '*.toml' -o -name '*.md' \
        | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && "$vpy" -c 'import rustvol' 2>/dev/null; then
    echo "python: rustvol package up to date"
    return 0
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-pkg.XXXXXX")
  cp -r "$src/pyproject.toml" "$src/setup.py" "$src/README.md" "$src/rustvol" "$tmp/"
  rm -rf "$tmp/rustvol/plugin"   # the wheel's (scripts/build-wheel.sh); this venv uses target/release
  find "$tmp" -name __pycache__ -prune -exec rm -rf {} +
  # setuptools >= 70.1 and wheel in the venv let pip build without fetching anything
  if ! "$vpy" -c 'import wheel, setuptools, sys; v = tuple(int(x) for x in setuptools.__version__.split(".")[:2]); sys.exit(v < (70, 1))' 2>/dev/null; then
    "$vpy" -m pip install -q --upgrade "setuptools>=70.1" wheel
  fi
  "$vpy" -m pip install -q --no-deps --no-build-isolation --force-reinstall "$tmp"
  rm -rf "$tmp"
  echo "$sum" >"$stamp"
  echo "python: installed the rustvol package into $RUSTVOL_VENV"
}

STAMP=$RUSTVOL_VENV/.rustvol-complete
if [ -f "$STAMP" ]; then
  echo "python: using $RUSTVOL_VENV"
  install_rustvol_package
  exit 0
fi

if [ ! -f "$HDF5_DIR/include/hdf5_hl.h" ] || [ ! -e "$HDF5_DIR/lib/libhdf5.so" ]; then
  echo "setup-python: no HDF5 at $HDF5_DIR (run scripts/setup-hdf5.sh first)" >&2
  exit 1
fi

# Debian's python3 (python3-venv and python3-dev give venv and the headers h5py compiles against).
PY=${RUSTVOL_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
fi
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$PY" = /usr/bin/python3 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-dev
  else
    echo "setup-python: $PY cannot create a venv" >&2
    exit 1
  fi
fi

rm -rf "$RUSTVOL_VENV"
"$PY" -m venv "$RUSTVOL_VENV"
VPY=$RUSTVOL_VENV/bin/python
"$VPY" -m pip install -q --upgrade pip
"$VPY" -m pip install -q numpy pytest
# --no-binary: compile h5py against $HDF5_DIR rather than take a wheel with its own HDF5.
HDF5_DIR=$HDF5_DIR HDF5_VERSION=$RUSTVOL_HDF5_VERSION \
  "$VPY" -m pip install -q --no-cache-dir --no-binary h5py "h5py==$RUSTVOL_H5PY_VERSION"

"$VPY" - <<PYEOF
import h5py
assert h5py.version.version == "$RUSTVOL_H5PY_VERSION", h5py.version.version
assert h5py.version.hdf5_version == "$RUSTVOL_HDF5_VERSION", h5py.version.hdf5_version
print("python: h5py", h5py.version.version, "on HDF5", h5py.version.hdf5_version)
PYEOF
touch "$STAMP"
echo "python: installed $RUSTVOL_VENV"
install_rustvol_package
