#!/usr/bin/env bash
# Regenerates src/ffi/vol_bindings.rs from the installed HDF5 headers (needs libclang-dev).
# hdf5-metno-sys's H5VL_class_t has cap_flags as a c_uint where HDF5 1.14 has uint64_t,
# which shifts every later callback; these bindings come from the real header instead.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
: "${HDF5_DIR:=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}/hdf5-1.14.5}"
dpkg -s libclang-dev >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev; }
HDF5_DIR=$HDF5_DIR cargo run --quiet --release --manifest-path "$here/tools/gen-bindings/Cargo.toml" \
  --target-dir "${RUSTVOL_CACHE:-$HOME/.cache/rustvol}/gen-bindings-target" -- "$here/src/ffi/vol_bindings.rs"
echo "wrote src/ffi/vol_bindings.rs"
