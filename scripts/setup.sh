#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to build and test rustvol:
# system packages, a Rust toolchain, HDF5 1.14.5 (built once into $RUSTVOL_CACHE), a Python
# venv with h5py built against that HDF5, the Garage S3 server for the tests, and the plugin
# (cargo build --release).
# Idempotent and non-interactive; each step skips what is already done.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/env.sh"
export DEBIAN_FRONTEND=noninteractive

# --- system packages ---------------------------------------------------------------------------
pkgs=(build-essential cmake pkg-config zlib1g-dev python3 python3-venv python3-dev curl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=()
  [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# --- Rust ----------------------------------------------------------------------------------------
# Debian 12's rustc (1.63) is older than the crate's rust-version, so use rustup's stable.
RUST_MIN=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$RUSTVOL_ROOT/Cargo.toml" | head -n1)
RUST_MIN=${RUST_MIN:-1.85}
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
have_rust() {
  command -v cargo >/dev/null 2>&1 && command -v rustc >/dev/null 2>&1 &&
    version_ge "$(rustc --version | awk '{print $2}')" "$RUST_MIN"
}
if ! have_rust; then
  if command -v rustup >/dev/null 2>&1; then
    echo "setup: updating the Rust toolchain (need >= $RUST_MIN)"
    rustup toolchain install stable --profile minimal
    rustup default stable
  else
    echo "setup: installing Rust (rustup, stable, minimal profile)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
      sh -s -- -y --no-modify-path --profile minimal --default-toolchain stable
    . "$HOME/.cargo/env"
  fi
  have_rust || { echo "setup: no Rust >= $RUST_MIN after installing it" >&2; exit 1; }
fi
echo "rust: $(rustc --version)"

# --- HDF5, h5py ----------------------------------------------------------------------------------
bash "$HERE/setup-hdf5.sh"
bash "$HERE/setup-python.sh"
bash "$HERE/setup-garage.sh"

# --- the plugin ----------------------------------------------------------------------------------
echo "setup: cargo build --release"
(cd "$RUSTVOL_ROOT" && HDF5_DIR=$HDF5_DIR cargo build --release)
if [ -f "$RUSTVOL_PLUGIN_DIR/librustvol.so" ]; then
  echo "plugin: $RUSTVOL_PLUGIN_DIR/librustvol.so"
else
  echo "setup: cargo did not produce $RUSTVOL_PLUGIN_DIR/librustvol.so" >&2
  exit 1
fi
