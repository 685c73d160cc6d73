#!/usr/bin/env bash
# rustvol loaded by a libhdf5 it cannot bind to (src/ffi/h5api.rs): a stand-in libhdf5
# (fake_hdf5.c) that lacks the functions rustvol calls (as 1.14.5 and as 2.0.0), and one that
# says it is HDF5 3.0.0; and a program whose own libhdf5 is not the one that loaded rustvol
# (two_libs.c).
# The stand-ins must get the refusal class: registering and initialising work,
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

# A second libhdf5 in the process: a copy of the real one, opened RTLD_LOCAL, loads rustvol;
# then the program calls H5Pset_fapl_rustvol with its own libhdf5's list.
check_two_libs() {
  local d=$WORK/two-libs lib v=${RUSTVOL_HDF5_VERSION//./\\.}
  mkdir -p "$d/copy"
  lib=$(readlink -f "$HDF5_DIR/lib/libhdf5.so")
  cp "$lib" "$d/copy/"
  if ! cc -o "$d/two_libs" "$HERE/two_libs.c" -I"$HDF5_DIR/include" -L"$HDF5_DIR/lib" -lhdf5 -ldl \
       -Wl,-rpath,"$HDF5_DIR/lib" 2>"$d/err"; then
    bad "two-libhdf5: the driver does not build" "$d/err"
    return
  fi
  (cd "$d" && env -u LD_LIBRARY_PATH -u HDF5_VOL_CONNECTOR HDF5_PLUGIN_PATH="$(dirname "$PLUGIN")" timeout -k 5 60 \
     ./two_libs "$d/copy/$(basename "$lib")" "$PLUGIN") >"$d/out" 2>"$d/err"
  local rc=$?
  if [ "$rc" -ne 0 ] || ! grep -q '^H5Pset_fapl_rustvol: refused$' "$d/out" ||
    ! grep -qE "^A's error stack: rustvol is bound to HDF5 $v \($d/copy/.*\), which loaded it, but the program's own libhdf5 is HDF5 $v \($lib\)" "$d/out"; then
    bad "two-libhdf5: exit status $rc, not a refusal on the program's own error stack naming both" "$d/out"
  else
    ok "two-libhdf5: $(grep -m1 "^A's error stack" "$d/out" | cut -c18-180)..."
  fi
}

if [ ! -f "$PLUGIN" ]; then
  bad "no $PLUGIN (cargo build --release)"
else
  check missing-symbols 1.14.5 "rustvol cannot use HDF5 1\.14\.5 \(.*libfakehdf5\.so\): it does not define H5Eclear2, .*H5Tdecode1 or H5Tdecode, .*H5P_CLS_DATASET_ACCESS_ID_g, .*which rustvol calls"
  # HDF5 2.x's H5Tdecode is a macro for H5Tdecode2(buf, size): the 1.x name is no stand-in there.
  check missing-symbols-2.0 2.0.0 "rustvol cannot use HDF5 2\.0\.0 \(.*libfakehdf5\.so\): it does not define H5Eclear2, .*H5allocate_memory, H5Tdecode1, H5VLget_connector_id_by_name, .*which rustvol calls"
  check unknown-version 3.0.0 "rustvol works with HDF5 1\.14 and 2\.0, but was loaded by HDF5 3\.0\.0 \(.*libfakehdf5\.so\)"
  check_two_libs
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
