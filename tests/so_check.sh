#!/usr/bin/env bash
# The plugin binary serves any libhdf5 that loads it (src/ffi/h5api.rs): it must not depend on a
# libhdf5 (no DT_NEEDED libhdf5*) and must leave no HDF5 symbol for the dynamic linker to
# resolve (no undefined H5* symbol), or it would bind to whichever libhdf5 the linker finds
# first. It exports the plugin entry points and H5Pset_fapl_rustvol.
#
#   tests/so_check.sh [path/to/librustvol.so]     # default: $RUSTVOL_PLUGIN_DIR/librustvol.so
#
# Last line: "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../scripts/env.sh"
SO=${1:-$RUSTVOL_PLUGIN_DIR/librustvol.so}
pass=0 fail=0
ok() { echo "ok:   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

if [ ! -f "$SO" ]; then
  bad "no $SO (cargo build --release)"
  echo "$pass passed, $fail failed"
  exit 1
fi
needed=$(readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if grep -q '^libhdf5' <<<"$needed"; then
  bad "$SO depends on $(grep '^libhdf5' <<<"$needed" | tr '\n' ' ')"
else
  ok "no libhdf5 among its dependencies ($(tr '\n' ' ' <<<"$needed"))"
fi
undefined=$(nm -D --undefined-only "$SO" | awk '$2 ~ /^H5/ {print $2}')
if [ -n "$undefined" ]; then
  bad "undefined HDF5 symbols: $(tr '\n' ' ' <<<"$undefined")"
else
  ok "no undefined H5* symbol"
fi
exported=$(nm -D --defined-only "$SO" | awk '{print $3}')
for sym in H5PLget_plugin_type H5PLget_plugin_info H5Pset_fapl_rustvol; do
  if grep -qx "$sym" <<<"$exported"; then
    ok "exports $sym"
  else
    bad "does not export $sym"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
