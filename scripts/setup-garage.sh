#!/usr/bin/env bash
# Installs the Garage S3 server (crates.io, built from source once, cached outside the clone)
# for the S3 tests. Idempotent.
set -euo pipefail
GARAGE_VERSION=${GARAGE_VERSION:-2.5.0}
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
ROOT=$CACHE/garage-$GARAGE_VERSION
if [ -x "$ROOT/bin/garage" ]; then
  echo "garage: using $ROOT/bin/garage"
  exit 0
fi
mkdir -p "$ROOT"
CARGO_TARGET_DIR=$CACHE/garage-build cargo install garage --version "$GARAGE_VERSION" --locked --root "$ROOT" >"$CACHE/garage-build.log" 2>&1 \
  || { tail -30 "$CACHE/garage-build.log"; exit 1; }
rm -rf "$CACHE/garage-build"
echo "garage: installed $ROOT/bin/garage"
