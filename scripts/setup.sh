#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to build and test rustvol: system packages, a Rust
# toolchain, HDF5 1.14.5 (built once into $RUSTVOL_CACHE), a Python venv with h5py built against
# that HDF5, the Garage S3 server for the tests, and the plugin (cargo build --release).
#
#   scripts/setup.sh          everything (what scripts/test.sh needs)
#   scripts/setup.sh --demo   what scripts/demo.sh needs: no S3 server
#
# Idempotent and non-interactive; each step skips what is already done. Each step prints one
# line (what, how long); the tools' own output goes to target/setup-logs/<step>.log and is shown
# only when the step fails.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/env.sh"
export DEBIAN_FRONTEND=noninteractive

PROFILE=test
case "${1:-}" in
  "") ;;
  --demo) PROFILE=demo ;;
  *) echo "usage: scripts/setup.sh [--demo]" >&2; exit 2 ;;
esac

LOG_DIR=$RUSTVOL_ROOT/target/setup-logs
mkdir -p "$LOG_DIR"
# step NAME WHAT COMMAND...: runs COMMAND with its output in $LOG_DIR/NAME.log and prints one
# line: WHAT, the time it took and the log's last line; on failure, the end of the log.
step() {
  local name=$1 what=$2 log rc t0=$SECONDS
  shift 2
  log=$LOG_DIR/$name.log
  # A subshell outside any `||`, so that `set -e` holds inside the step's functions too.
  set +e
  (set -e; "$@") >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    printf 'setup: %-22s %4ss  %s\n' "$what" "$((SECONDS - t0))" "$(tail -n1 "$log")"
  else
    printf 'setup: %-22s FAILED after %ss (exit %s); the end of %s:\n' "$what" "$((SECONDS - t0))" "$rc" "$log" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    exit "$rc"
  fi
}

# --- system packages ---------------------------------------------------------------------------
pkgs=(build-essential cmake pkg-config zlib1g-dev python3 python3-venv python3-dev curl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_packages() {
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all present"
    return 0
  fi
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "installed ${missing[*]}"
}
step packages "system packages" install_packages

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
install_rust() {
  if have_rust; then
    echo "$(rustc --version)"
    return 0
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain install stable --profile minimal
    rustup default stable
  else
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
      sh -s -- -y --no-modify-path --profile minimal --default-toolchain stable
    . "$HOME/.cargo/env"
  fi
  have_rust || { echo "no Rust >= $RUST_MIN after installing it"; return 1; }
  echo "installed $(rustc --version)"
}
step rust "Rust" install_rust
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

# --- HDF5, h5py ----------------------------------------------------------------------------------
step hdf5 "HDF5 $RUSTVOL_HDF5_VERSION" bash "$HERE/setup-hdf5.sh"
step python "h5py $RUSTVOL_H5PY_VERSION (venv)" bash "$HERE/setup-python.sh"
if [ "$PROFILE" = test ]; then
  step garage "Garage (S3, tests)" bash "$HERE/setup-garage.sh"
  step hdf5plugin "hdf5plugin (tests)" bash "$HERE/setup-hdf5plugin.sh"
  step pypi-venv "h5py $RUSTVOL_PYPI_H5PY_VERSION from PyPI (tests)" bash "$HERE/setup-pypi-venv.sh"
  step xarray-venvs "h5netcdf, xarray venvs (tests)" bash "$HERE/setup-xarray-venvs.sh"
  step mpi "OpenMPI, parallel HDF5" bash "$HERE/setup-mpi.sh"
  step h5bench "h5bench $RUSTVOL_H5BENCH_VERSION (tests)" bash "$HERE/setup-h5bench.sh"
fi

# --- the plugin ----------------------------------------------------------------------------------
build_plugin() {
  (cd "$RUSTVOL_ROOT" && HDF5_DIR=$HDF5_DIR cargo build --release)
  [ -f "$RUSTVOL_PLUGIN_DIR/librustvol.so" ] || { echo "cargo did not produce $RUSTVOL_PLUGIN_DIR/librustvol.so"; return 1; }
  echo "$RUSTVOL_PLUGIN_DIR/librustvol.so"
}
step plugin "plugin (cargo)" build_plugin
