#!/usr/bin/env bash
# THE test command: sets everything up, starts a Garage S3 server on loopback, then runs
#   1. cargo test --release              (unit tests; the backend conformance suite on memory,
#                                         dir and s3)
#   2. the CMake project's ctest         (example programs through rustvol, package check),
#                                         once per backend: memory, dir, s3
#   3. scripts/run-api-tests.sh          (HDF5's h5_api_test through rustvol), per backend
#   4. tests/tools/run.sh                (the HDF5 tools across processes), on dir and s3
#   5. tests/kill_writer.sh              (SIGKILL before close keeps the flushed state), dir, s3;
#      tests/two_writers.sh              (two processes racing to write one file: no committed
#                                         group lost; native's open rules), dir, s3
#   6. tests/s3/faults.sh                (unreachable endpoint, missing bucket, bad credentials,
#                                         denied permission, server stopping mid-write);
#      tests/filters/plugin_filters.sh   (hdf5plugin's filters against native), memory, dir, s3
#   7. tests/python/                     (h5py example scripts on memory, dir, s3; h5py's own
#                                         test suite through rustvol on dir, >= 750 passed, and
#                                         without the rustvol package, as a crash check; the same
#                                         with PyPI's h5py on HDF5 2.0; the examples through the
#                                         wheel; xarray/h5netcdf round trips on dir and s3 in a
#                                         PyPI venv and a source venv; the plugin binary links no
#                                         libhdf5 and refuses one it cannot bind to)
#   8. tests/daos/run.sh                 (API tests, examples, tools, conformance and failure
#                                         checks through backend=daos, against the DAOS stand-in)
#   9. tests/mpi/run.sh B                (MPI programs on dir, s3, daos: slab writers at 1, 2, 4
#                                         ranks, leases, vlen, lone opens, transfer modes, owned
#                                         chunks, a stray collective, overlapping pieces of shared
#                                         chunks; h5_api_test_parallel at 2, 4 ranks);
#      tests/mpi/h5bench.sh B            (h5bench 1.4 write/read at 1, 2, 4 ranks beside native,
#                                         each file checked by tests/mpi/h5bench_verify.c)
# and ends with one line "N passed, N failed". Exits non-zero if anything failed.
#
# Counted as passed: cargo tests, ctest tests, passed HDF5 API tests. Counted as failed: failed
# cargo tests, failed ctest tests, each crashed API test area, the API pass count falling short
# of tests/api-test-min-passed.txt, and any step that could not run (build errors).
# API tests that fail without breaking that threshold are reported, not counted: their pass
# count is the number the project tracks.
#
# Environment: RUSTVOL_TEST_BACKENDS (default "memory dir s3 daos") limits the backends;
# RUSTVOL_SKIP_SETUP=1 skips scripts/setup.sh (quicker reruns; cmake still runs cargo build).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$ROOT"

read -r -a BACKENDS <<<"${RUSTVOL_TEST_BACKENDS:-memory dir s3 daos}"
PASSED=0
FAILED=0
REPORT=()
note() { REPORT+=("$*"); }

if [ "${RUSTVOL_SKIP_SETUP:-0}" = 1 ]; then
  echo "RUSTVOL_SKIP_SETUP=1: not running scripts/setup.sh"
elif ! bash "$HERE/setup.sh"; then
  echo "setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi
. "$HERE/env.sh"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
mkdir -p "$ROOT/target"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-test.XXXXXX")
declare -A INFOS=([memory]="backend=memory" [dir]="backend=dir;root=$SCRATCH/dir-store")
cleanup() {
  [ -n "${GARAGE_STARTED:-}" ] && bash "$HERE/garage.sh" stop >/dev/null 2>&1
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
if [[ " ${BACKENDS[*]} " == *" s3 "* ]]; then
  echo "=== starting Garage (S3) on loopback"
  if bash "$HERE/garage.sh" start; then
    GARAGE_STARTED=1
    # shellcheck disable=SC1090
    . "$(bash "$HERE/garage.sh" env)"
    INFOS[s3]=$RUSTVOL_S3_INFO
    export RUSTVOL_REQUIRE_S3=1
  else
    note "Garage: could not start (the s3 runs below fail)"
    FAILED=$((FAILED + 1))
    INFOS[s3]="backend=s3;bucket=unavailable;endpoint=http://127.0.0.1:9"
  fi
fi

# Runs a test script whose last line is "N passed, N failed" and adds its counts.
run_counted() {
  local label=$1; shift
  local log
  log=$SCRATCH/$(tr -c 'A-Za-z0-9' '_' <<<"$label").log
  echo "=== $label"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} p f
  read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tail -n1)
  p=${p:-0} f=${f:-0}
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  note "$label: $p passed, $f failed"
  PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
}

# --- 1. cargo test ---------------------------------------------------------------------------
echo "=== cargo test --release"
CARGO_LOG=$ROOT/target/cargo-test.log
HDF5_DIR=$HDF5_DIR cargo test --release 2>&1 | tee "$CARGO_LOG"
cargo_rc=${PIPESTATUS[0]}
read -r cp cf < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$CARGO_LOG" |
                  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
if [ "$cargo_rc" -ne 0 ] && [ "$cf" -eq 0 ]; then
  cf=1   # it did not build, or a test binary crashed
  note "cargo test: exit status $cargo_rc (build error or crash); see target/cargo-test.log"
fi
note "cargo test: $cp passed, $cf failed"
PASSED=$((PASSED + cp)) FAILED=$((FAILED + cf))

# --- 2. CMake: examples and package, per backend ---------------------------------------------
BUILD=$ROOT/build
for b in "${BACKENDS[@]}"; do
[ "$b" = daos ] && continue   # step 7 runs every suite for daos, with its stand-in
INFO=${INFOS[$b]}
echo "=== cmake + ctest ($b)"
if cmake -S "$ROOT" -B "$BUILD" -DHDF5_DIR="$HDF5_DIR" -DRUSTVOL_TEST_INFO="$INFO" -DRUSTVOL_TEST_NATIVE=OFF \
     -DRUSTVOL_BUILD_PLUGIN=ON; then
  # Keep going past a target that does not build, so the other tests still run.
  keep_going=()
  case "$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$BUILD/CMakeCache.txt")" in
    *Makefiles*) keep_going=(-- -k) ;;
    Ninja*) keep_going=(-- -k 0) ;;
  esac
  if ! cmake --build "$BUILD" -j"$(nproc)" "${keep_going[@]}"; then
    note "cmake --build: FAILED (the tests of what did not build fail below)"
    FAILED=$((FAILED + 1))
  fi
  CTEST_LOG=$BUILD/ctest.log
  (cd "$BUILD" && ctest --output-on-failure --timeout 900) 2>&1 | tee "$CTEST_LOG"
  ctest_rc=${PIPESTATUS[0]}
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$CTEST_LOG" | tail -n1)
  if [ -n "$line" ]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    tf=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    tp=$((total - tf))
  else
    tp=0 tf=1
  fi
  [ "$ctest_rc" -ne 0 ] && [ "$tf" -eq 0 ] && tf=1
  note "ctest ($b): $tp passed, $tf failed"
  PASSED=$((PASSED + tp)) FAILED=$((FAILED + tf))
else
  note "cmake: configure FAILED"
  FAILED=$((FAILED + 1))
fi

done

# Leave build/ pointing at the memory backend, whatever ran last (a later plain `ctest` then
# needs no server).
cmake -S "$ROOT" -B "$BUILD" -DRUSTVOL_TEST_INFO="backend=memory" >/dev/null 2>&1 || true

# --- 3. HDF5 API tests, per backend ----------------------------------------------------------
for b in "${BACKENDS[@]}"; do
[ "$b" = daos ] && continue
INFO=${INFOS[$b]}
echo "=== HDF5 API tests (rustvol $INFO)"
bash "$HERE/run-api-tests.sh" "$INFO"
api_rc=$?
backend=$(printf '%s\n' "$INFO" | tr ';' ' ' | tr -s ' \t' '\n' | sed -n 's/^backend=//p' | tail -n1)
SUMMARY=$ROOT/target/api-test-${backend:-memory}.summary
if [ -f "$SUMMARY" ] && [ "$api_rc" -ne 2 ]; then
  ap=$(sed -n 's/^passed=//p' "$SUMMARY"); af=$(sed -n 's/^failed=//p' "$SUMMARY")
  as=$(sed -n 's/^skipped=//p' "$SUMMARY"); at=$(sed -n 's/^total=//p' "$SUMMARY")
  ac=$(sed -n 's/^crashed=//p' "$SUMMARY"); amin=$(sed -n 's/^min_passed=//p' "$SUMMARY")
  gate=$ac
  [ "$ap" -lt "$amin" ] && gate=$((gate + 1))
  note "HDF5 API tests ($b): $ap passed, $af not passed, $as skipped of $at; $ac area(s) crashed; required >= $amin passed"
  PASSED=$((PASSED + ap)) FAILED=$((FAILED + gate))
else
  note "HDF5 API tests ($b): could not run (exit $api_rc)"
  FAILED=$((FAILED + 1))
fi

done

# --- 4-6. tools across processes, killed writers, S3 faults -----------------------------------
for b in "${BACKENDS[@]}"; do
  case $b in memory | daos) continue ;; esac   # memory files die with their process; daos: step 7
  run_counted "HDF5 tools ($b)" bash "$ROOT/tests/tools/run.sh" "${INFOS[$b]}"
  run_counted "killed writer ($b)" bash "$ROOT/tests/kill_writer.sh" "${INFOS[$b]}"
  run_counted "two writers ($b)" bash "$ROOT/tests/two_writers.sh" "${INFOS[$b]}"
done
if [[ " ${BACKENDS[*]} " == *" s3 "* ]]; then
  run_counted "S3 faults" bash "$ROOT/tests/s3/faults.sh"
fi
for b in "${BACKENDS[@]}"; do
  [ "$b" = daos ] && continue   # step 8
  run_counted "plugin filters ($b)" bash "$ROOT/tests/filters/plugin_filters.sh" "${INFOS[$b]}"
done

# --- 7. h5py: the example scripts on every backend, h5py's own test suite on dir -----------------
for b in "${BACKENDS[@]}"; do
  [ "$b" = daos ] && continue
  run_counted "h5py examples ($b)" bash "$ROOT/tests/python/run_examples.sh" "${INFOS[$b]}"
  run_counted "h5py examples through the wheel, PyPI h5py ($b)" \
    env RUSTVOL_EXAMPLES_WHEEL="$RUSTVOL_XARRAY_PYPI_VENV" bash "$ROOT/tests/python/run_examples.sh" "${INFOS[$b]}"
done
for b in "${BACKENDS[@]}"; do
  case $b in dir | s3) ;; *) continue ;; esac
  run_counted "xarray/h5netcdf, PyPI h5py ($b)" bash "$ROOT/tests/python/run_xarray.sh" pypi "${INFOS[$b]}"
  run_counted "xarray/h5netcdf, source h5py ($b)" bash "$ROOT/tests/python/run_xarray.sh" src "${INFOS[$b]}"
done
run_counted "plugin binary: no libhdf5 dependency, no undefined H5 symbol" bash "$ROOT/tests/so_check.sh"
run_counted "plugin refuses a libhdf5 it cannot bind to" bash "$ROOT/tests/binding/refusal.sh"
if [[ " ${BACKENDS[*]} " == *" dir "* ]]; then
  run_counted "h5py test suite (dir)" bash "$ROOT/tests/python/run_h5py_suite.sh" "backend=dir;root=$SCRATCH/h5py-store"
  run_counted "h5py test suite without the rustvol package (dir)" \
    bash "$ROOT/tests/python/run_h5py_suite_plain.sh" "backend=dir;root=$SCRATCH/h5py-plain-store"
  run_counted "h5py from PyPI (HDF5 2.0) through rustvol (dir)" \
    bash "$ROOT/tests/python/pypi_h5py.sh" "backend=dir;root=$SCRATCH/pypi-h5py-store"
  run_counted "h5py examples, PyPI h5py (dir)" \
    env RUSTVOL_EXAMPLES_VENV="$RUSTVOL_PYPI_VENV" bash "$ROOT/tests/python/run_examples.sh" "backend=dir;root=$SCRATCH/pypi-examples-store"
  run_counted "h5py test suite, PyPI h5py / HDF5 2.0 (dir)" \
    bash "$ROOT/tests/python/run_h5py_suite_pypi.sh" "backend=dir;root=$SCRATCH/h5py-pypi-store"
  run_counted "h5py test suite without the rustvol package, PyPI h5py (dir)" \
    env -u LD_LIBRARY_PATH RUSTVOL_SUITE_VENV="$RUSTVOL_PYPI_VENV" bash "$ROOT/tests/python/run_h5py_suite_plain.sh" "backend=dir;root=$SCRATCH/h5py-pypi-plain-store"
fi

# --- 8. DAOS: every suite again through backend=daos, against the DAOS stand-in ----------------
if [[ " ${BACKENDS[*]} " == *" daos "* ]]; then
  run_counted "DAOS backend (stand-in)" bash "$ROOT/tests/daos/run.sh"
fi

# --- 9. MPI-parallel programs (issue 12): OpenMPI on loopback, the parallel HDF5 ------------------
for b in dir s3 daos; do
  [[ " ${BACKENDS[*]} " == *" $b "* ]] || continue
  run_counted "MPI programs ($b)" bash "$ROOT/tests/mpi/run.sh" "$b"
  case $b in
    s3) run_counted "h5bench ($b)" bash "$ROOT/tests/mpi/h5bench.sh" s3 "${INFOS[s3]};prefix=h5bench-$$/" ;;
    *) run_counted "h5bench ($b)" bash "$ROOT/tests/mpi/h5bench.sh" "$b" ;;
  esac
done

echo
echo "=== summary"
for r in "${REPORT[@]}"; do echo "  $r"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
