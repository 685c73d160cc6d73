#!/usr/bin/env bash
# rustvol loaded by a libhdf5 it cannot bind to (src/ffi/h5api.rs): a stand-in libhdf5
# (fake_hdf5.c) that lacks the functions rustvol calls, and one that says it is HDF5 3.0.0.
# Either way the plugin must hand over its refusal class: registering and initialising work,
# and the first file operation fails with an error, pushed through the loader's own H5Epush2,
# that names what is missing or the version; no crash, no hang.
#
#   tests/binding/refusal.sh
#
# Last line: "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-binding.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PLUGIN=$RUSTVOL_PLUGIN_DIR/librustvol.so
pass=0 fail=0
ok() { echo "ok:   $1"; pass=$((pass + 1)); }
bad() {
  echo "FAIL: $1"
  [ -f "${2:-}" ] && sed -n '1,20p' "$2" | cut -c1-400 | sed 's/^/  | /'
  fail=$((fail + 1))
}

# check NAME VERSION PATTERN: builds the stand-in for VERSION, loads the plugin through it, and
# expects both file operations to fail with an error matching PATTERN (grep -E).
check() {
  local name=$1 version=$2 pattern=$3 d=$WORK/$1
  mkdir -p "$d"
  if ! cc -shared -fPIC -o "$d/libfakehdf5.so" -DFAKE_VERSION="\"$version\"" -I"$HDF5_DIR/include" "$HERE/fake_hdf5.c" -ldl 2>"$d/err" ||
    ! cc -o "$d/driver" "$HERE/driver.c" -L"$d" -lfakehdf5 -Wl,-rpath,"$d" 2>>"$d/err"; then
    bad "$name: the stand-in does not build" "$d/err"
    return
  fi
  (cd "$d" && env -u LD_LIBRARY_PATH timeout -k 5 60 ./driver "$PLUGIN") >"$d/out" 2>"$d/err"
  local rc=$?
  if [ "$rc" -gt 128 ] || [ "$rc" -eq 124 ]; then
    bad "$name: the driver hung or died (exit status $rc)" "$d/err"
  elif [ "$rc" -ne 0 ] || ! grep -q '^class rustvol, value 7770, version 3$' "$d/out" ||
    [ "$(grep -c '^file \(create\|open\): failed$' "$d/out")" -ne 2 ] ||
    [ "$(grep -cE "^error pushed by file_(create|open) \(class 1, major 2, minor 3\): $pattern" "$d/out")" -ne 2 ]; then
    bad "$name: exit status $rc, not two refused file operations with the error" "$d/out"
  else
    ok "$name: $(grep -m1 '^error pushed' "$d/out" | sed 's/^[^:]*: //' | cut -c1-160)..."
  fi
}

if [ ! -f "$PLUGIN" ]; then
  bad "no $PLUGIN (cargo build --release)"
else
  check missing-symbols 1.14.5 "rustvol cannot use HDF5 1\.14\.5 \(.*libfakehdf5\.so\): it does not define H5Eclear2, .*H5Tdecode1 or H5Tdecode, .*H5P_CLS_DATASET_ACCESS_ID_g, .*which rustvol calls"
  check unknown-version 3.0.0 "rustvol works with HDF5 1\.14 and 2\.0, but was loaded by HDF5 3\.0\.0 \(.*libfakehdf5\.so\)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
