#!/usr/bin/env bash
# The DAOS backend's tests, against the DAOS stand-in (tests/daos-standin: a libdaos look-alike
# over a directory; no DAOS system exists here). docs/daos.md explains what this does and does
# not show about a real DAOS system.
#
#   tests/daos/run.sh
#
#  1. builds rustvol (cargo build --release) and the stand-in into target/daos-standin/ (cargo
#     rebuilds only what changed);
#  2. unit tests: the binding's layout and label tests, the stand-in's own tests;
#  3. tests/backend_conformance.rs with RUSTVOL_DAOS_LIB set: the backend contract on one
#     container per file and on one shared container, and DAOS errors named in messages;
#  4. HDF5's h5_api_test (scripts/run-api-tests.sh) on "backend=daos;pool=rustvol" and on a
#     shared container ("...;container=shared");
#  5. the examples through CMake/ctest in build-daos/ (-DRUSTVOL_BUILD_PLUGIN=OFF);
#  6. the HDF5 tools across processes (tests/tools/run.sh) and a writer killed before closing
#     (tests/kill_writer.sh) and two writers racing (tests/two_writers.sh), on daos;
#  7. failures with clear messages: no libdaos (and RUSTVOL_DAOS_LIB naming a missing file),
#     no agent, a missing pool (DER_NONEXIST), a pool without permission (DER_NO_PERM), an
#     unknown object class, the pool filling up mid-write (injected DER_NOSPACE: the writer
#     fails, the last flushed state survives), a container of the file's name that is not
#     rustvol's (left alone);
#     and that the plugin still serves backend=memory without libdaos; an explicit object class
#     (oclass=EC_4P2GX) is the one the chunk objects get.
# Ends with "N passed, N failed"; exits 1 when anything failed.
#
# The stand-in's store is a scratch directory (DAOS_STANDIN_DIR) with the pools "rustvol" and
# "locked" (no permission), removed at the end (RUSTVOL_DAOS_KEEP=1 keeps it).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
ROOT=$RUSTVOL_ROOT
cd "$ROOT" || exit 1
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

STANDIN_TARGET=$ROOT/target/daos-standin
STANDIN=$STANDIN_TARGET/release/libdaos_standin.so
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-daos.XXXXXX")
cleanup() {
  if [ "${RUSTVOL_DAOS_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

export RUSTVOL_DAOS_LIB=$STANDIN
export DAOS_STANDIN_DIR=$WORK/daos
export DAOS_STANDIN_POOLS="rustvol,locked:noperm"
INFO="backend=daos;pool=rustvol"
SHARED_INFO="backend=daos;pool=rustvol;container=shared"

# Adds the counts of cargo test output ($1: log) and its exit status ($2).
add_cargo_counts() {
  local p f
  read -r p f < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$1" |
                  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
  [ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "  -> $p passed, $f failed"
  T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
}

# --- 1. build ---------------------------------------------------------------------------------
echo "=== building rustvol and the DAOS stand-in"
if ! HDF5_DIR=$HDF5_DIR cargo build --release; then
  fail "cargo build --release"
  summary
  exit 1
fi
if ! (cd "$ROOT/tests/daos-standin" && cargo build --release --target-dir "$STANDIN_TARGET"); then
  fail "build the DAOS stand-in (tests/daos-standin)"
  summary
  exit 1
fi
pass "build rustvol and the stand-in ($STANDIN)"

# --- 2, 3. cargo tests --------------------------------------------------------------------------
echo "=== unit tests: binding layout, labels (rustvol) and the stand-in"
log=$WORK/unit.log
HDF5_DIR=$HDF5_DIR cargo test --release --lib daos 2>&1 | tee "$log" | grep -E '^test |test result'
add_cargo_counts "$log" "${PIPESTATUS[0]}"
log=$WORK/standin-unit.log
(cd "$ROOT/tests/daos-standin" && cargo test --release --target-dir "$STANDIN_TARGET") 2>&1 | tee "$log" | grep -E '^test |test result'
add_cargo_counts "$log" "${PIPESTATUS[0]}"

echo "=== backend conformance on daos"
log=$WORK/conformance.log
RUSTVOL_REQUIRE_DAOS=1 RUSTVOL_DAOS_INFO=$INFO HDF5_DIR=$HDF5_DIR cargo test --release --test backend_conformance daos 2>&1 |
  tee "$log" | grep -E '^test |test result|panicked'
add_cargo_counts "$log" "${PIPESTATUS[0]}"

# --- 4. HDF5 API tests --------------------------------------------------------------------------
api_tests() {
  local label=$1 info=$2 sum=$ROOT/target/api-test-daos.summary
  echo "=== h5_api_test on $label: $info"
  rm -f "$sum"
  scripts/run-api-tests.sh "$info"
  local rc=$?
  cp -f "$ROOT/target/api-test-daos.log" "$ROOT/target/api-test-daos-$label.log" 2>/dev/null
  if [ ! -f "$sum" ]; then
    fail "h5_api_test ($label): no summary"
    return
  fi
  local p f c
  p=$(sed -n 's/^passed=//p' "$sum"); f=$(sed -n 's/^failed=//p' "$sum"); c=$(sed -n 's/^crashed=//p' "$sum")
  T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
  [ "${c:-0}" -gt 0 ] && fail "h5_api_test ($label): $c area(s) crashed"
  [ "$rc" -ne 0 ] && [ "${c:-0}" -eq 0 ] && fail "h5_api_test ($label): below tests/api-test-min-passed.txt"
  echo "  -> $p passed, $f failed ($label)"
}
api_tests per-file "$INFO"
api_tests shared "$SHARED_INFO"

# --- 5. examples through CMake --------------------------------------------------------------------
echo "=== examples (cmake + ctest in build-daos)"
BUILD=$ROOT/build-daos
log=$WORK/ctest.log
if cmake -S "$ROOT" -B "$BUILD" -DHDF5_DIR="$HDF5_DIR" -DRUSTVOL_TEST_INFO="$INFO" -DRUSTVOL_TEST_NATIVE=OFF \
     -DRUSTVOL_BUILD_PLUGIN=OFF >"$WORK/cmake.log" 2>&1 && cmake --build "$BUILD" -j"$(nproc)" >>"$WORK/cmake.log" 2>&1; then
  (cd "$BUILD" && ctest --output-on-failure --timeout 600) >"$log" 2>&1
  ctest_rc=$?
  grep -E '^[0-9]+/[0-9]+ Test|tests passed' "$log"
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
  if [ -n "$line" ]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    tf=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    T_PASS=$((T_PASS + total - tf)) T_FAIL=$((T_FAIL + tf))
  else
    fail "ctest (build-daos): no result line (exit $ctest_rc)"
  fi
else
  tail -n 20 "$WORK/cmake.log"
  fail "cmake configure/build of build-daos"
fi

# --- 6. tools across processes, killed writer -----------------------------------------------------
echo "=== HDF5 tools across processes on daos"
log=$WORK/tools.log
RUSTVOL_EXAMPLES_DIR=$BUILD/h5_examples tests/tools/run.sh "$INFO" >"$log" 2>&1
grep -E '^FAIL' "$log" | head -n 20
tail -n 1 "$log"
add_counts "$log" "tests/tools/run.sh"
echo "=== writer killed before closing, on daos"
log=$WORK/kill.log
tests/kill_writer.sh "$INFO" 2>&1 | tee "$log"
add_counts "$log" "tests/kill_writer.sh"
echo "=== two writers at once, on daos"
log=$WORK/two-writers.log
tests/two_writers.sh "$INFO" 2>&1 | tee "$log"
add_counts "$log" "tests/two_writers.sh"

# --- 7. failures and their messages ---------------------------------------------------------------
echo "=== failures name their cause"
build_fault_writer || fail "build tests/fault_writer.c"
mkdir -p "$WORK/run"
cd "$WORK/run" || exit 1
export HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR
# Runs fault_writer with the connector info $1 and the extra environment in the rest; its
# standard error goes to $WORK/err.txt. Returns its exit status.
fw() {
  local info=$1 cmd=$2 file=$3
  shift 3
  env "$@" HDF5_VOL_CONNECTOR="rustvol $info" timeout -k 5 60 "$FW" "$cmd" "$file" </dev/null >/dev/null 2>"$WORK/err.txt"
}
expect_error() {   # NAME, then grep patterns the error must contain (all of them)
  local name=$1 rc=$2
  shift 2
  if [ "$rc" -eq 0 ]; then fail "$name: succeeded"; return; fi
  local pat
  for pat in "$@"; do
    if ! grep -qF -- "$pat" "$WORK/err.txt"; then
      fail "$name: the error does not mention '$pat'"
      sed -n '1,40p' "$WORK/err.txt"
      return
    fi
  done
  pass "$name: $(grep -m1 'rustvol line' "$WORK/err.txt" | sed 's/.*(): //' | cut -c1-220)"
}
# No libdaos anywhere: not in the environment, not on the loader's path.
fw "$INFO" create nolib.h5 -u RUSTVOL_DAOS_LIB LD_LIBRARY_PATH="$HDF5_DIR/lib"
expect_error "no libdaos" $? "libdaos was not found" "RUSTVOL_DAOS_LIB"
fw "$INFO" create nolib.h5 RUSTVOL_DAOS_LIB="$WORK/nowhere/libdaos.so.2"
expect_error "RUSTVOL_DAOS_LIB names a missing file" $? "libdaos was not found" "$WORK/nowhere/libdaos.so.2"
if fw "backend=memory" create mem.h5 -u RUSTVOL_DAOS_LIB LD_LIBRARY_PATH="$HDF5_DIR/lib"; then
  pass "without libdaos the plugin still serves backend=memory"
else
  fail "without libdaos the plugin still serves backend=memory"; sed -n '1,20p' "$WORK/err.txt"
fi
fw "$INFO" create noagent.h5 -u DAOS_STANDIN_DIR
expect_error "no DAOS agent" $? "daos_init failed" "DER_AGENT_COMM"
fw "backend=daos;pool=nosuchpool" create nopool.h5
expect_error "missing pool" $? "DER_NONEXIST" "nosuchpool"
fw "backend=daos;pool=locked" create locked.h5
expect_error "pool without permission" $? "DER_NO_PERM" "locked"
fw "backend=daos;pool=rustvol;oclass=NO_SUCH" create oc.h5
expect_error "unknown object class" $? "NO_SUCH" "not a DAOS object class"

# The pool fills up mid-write (the stand-in fails every update after the first N with
# DER_NOSPACE, completing in-flight events with the error): the writer gets an HDF5 error naming
# it, and a new process finds the file as of the writer's last successful H5Fflush. Three
# consecutive N, so that the first failing update is a chunk write (an event-queue batch) as
# well as a metadata commit (the segment, then the manifest).
for n in 60 61 62; do
  env DAOS_STANDIN_FAIL_UPDATES_AFTER=$n HDF5_VOL_CONNECTOR="rustvol $INFO" timeout -k 5 60 "$FW" loop "nospace$n.h5" 30 \
    </dev/null >/dev/null 2>"$WORK/err.txt"
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF "DER_NOSPACE" "$WORK/err.txt"; then
    pass "pool full after $n updates: the writer stops with an error naming DER_NOSPACE ($(grep -m1 -oE 'fault_writer: [A-Za-z0-9]+ failed' "$WORK/err.txt"))"
  else
    fail "pool full after $n updates: exit $rc (want 1) and an error naming DER_NOSPACE"; sed -n '1,30p' "$WORK/err.txt"
  fi
  if env HDF5_VOL_CONNECTOR="rustvol $INFO" timeout -k 5 60 "$FW" check "nospace$n.h5" </dev/null >"$WORK/check.txt" 2>&1; then
    pass "pool full after $n updates: the last flushed state reads back intact ($(head -n1 "$WORK/check.txt"))"
  else
    fail "pool full after $n updates: the last flushed state does not read back"; sed -n '1,30p' "$WORK/check.txt"
  fi
done

# A container of the file's name that is not rustvol's (someone's dataset) is neither replaced
# nor destroyed. Made in the stand-in's store as `daos container create` would.
fuuid=0f0e0d0c-0b0a-4908-8706-050403020100
mkdir -p "$DAOS_STANDIN_DIR/pools/rustvol/conts/$fuuid/objs" "$DAOS_STANDIN_DIR/pools/rustvol/labels"
printf '%s' "$fuuid" >"$DAOS_STANDIN_DIR/pools/rustvol/labels/foreign.h5"
fw "$INFO" create foreign.h5
expect_error "a foreign container of the same name" $? "holds no rustvol file" "foreign.h5"
check "the foreign container is still there" test -d "$DAOS_STANDIN_DIR/pools/rustvol/conts/$fuuid"

# An explicit object class: the file works and its chunk objects carry the class (EC_4P2 is
# redundancy 35 = 0x23 in bits 48..55 of the id's hi word: object directories 0023….*).
ec_info="backend=daos;pool=rustvol;container=ec-test;oclass=EC_4P2GX"
if fw "$ec_info" create ec.h5 && h5dump --vol-name=rustvol --vol-info="$ec_info" ec.h5 >"$WORK/ec.dump" 2>&1; then
  ec_cont=$(cat "$DAOS_STANDIN_DIR/pools/rustvol/labels/ec-test" 2>/dev/null)
  if ls "$DAOS_STANDIN_DIR/pools/rustvol/conts/$ec_cont/objs" 2>/dev/null | grep '^0023' >/dev/null; then
    pass "oclass=EC_4P2GX: the file reads back and its chunk objects have class EC_4P2"
  else
    fail "oclass=EC_4P2GX: no chunk object of class EC_4P2 in the store"
    ls "$DAOS_STANDIN_DIR/pools/rustvol/conts/$ec_cont/objs" 2>&1 | head
  fi
else
  fail "oclass=EC_4P2GX: create and h5dump"; sed -n '1,20p' "$WORK/err.txt" "$WORK/ec.dump"
fi
cd "$ROOT" || exit 1

summary
