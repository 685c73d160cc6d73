#!/usr/bin/env bash
# The filter plugins of the PyPI package hdf5plugin (Zstd, LZ4, Blosc, Bitshuffle, ...) for
# tests/filters/plugin_filters.sh, in a venv of their own: $RUSTVOL_HDF5PLUGIN_VENV. Its plugins
# need neither h5py nor numpy (--no-deps). Idempotent.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
VENV=$RUSTVOL_HDF5PLUGIN_VENV
if ls "$VENV"/lib/python3*/site-packages/hdf5plugin/plugins/libh5zstd.so >/dev/null 2>&1; then
  echo "hdf5plugin: $VENV (cached)"
  exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --no-deps "hdf5plugin==$RUSTVOL_HDF5PLUGIN_VERSION"
echo "hdf5plugin: installed $VENV"
