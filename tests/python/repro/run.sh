#!/usr/bin/env bash
# Builds the reproductions of the plugin defects found through h5py (docs/h5py.md) and runs
# each one natively and through rustvol.  Usage: tests/python/repro/run.sh [INFO]
# (default INFO: backend=dir;root=<scratch dir>).  Prints both outputs; a defect shows as a
# difference.  Exit status 0 whatever the outputs: this is a diagnostic, not a test.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../../scripts/env.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-repro.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
INFO=${1:-backend=dir;root=$WORK/store}
for src in "$HERE"/*.c; do
  name=$(basename "$src" .c)
  gcc -o "$WORK/$name" "$src" -I"$HDF5_DIR/include" -L"$HDF5_DIR/lib" -lhdf5 -Wl,-rpath,"$HDF5_DIR/lib" || continue
  echo "=== $name"
  mkdir -p "$WORK/native-$name" "$WORK/rustvol-$name"
  echo "--- native HDF5:"
  (cd "$WORK/native-$name" && "$WORK/$name" 2>&1 | grep -v '^  ' | sed 's/^/  /')
  echo "--- rustvol ($INFO):"
  (cd "$WORK/rustvol-$name" && HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $INFO" \
     "$WORK/$name" 2>&1 | grep -v '^  ' | sed 's/^/  /'; echo "  (exit status ${PIPESTATUS[0]})")
done
