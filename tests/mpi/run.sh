#!/usr/bin/env bash
# MPI-parallel programs through rustvol (issue 12): OpenMPI on loopback, the parallel HDF5 of
# scripts/setup-mpi.sh, and the plugin built with the mpi feature into target/parallel (cargo
# rebuilds only what changed), on one backend.
#
#   tests/mpi/run.sh [dir|s3|daos]     (default dir)
#
# s3: the S3 server of RUSTVOL_S3_INFO (the env file of scripts/garage.sh sourced, as
# scripts/test.sh does), or else a Garage of this script's own (started and stopped here), in a
# key prefix of this run's own. daos: the DAOS stand-in (tests/daos-standin, built into
# target/daos-standin), which every rank's process opens over one store directory.
#
#  1. the parallel plugin builds and links libmpi; the serial plugin does not;
#  2. tests/mpi/slab.c at 1 rank, and with --self at 2 and 4 ranks (rank 0 writes alone with
#     MPI_COMM_SELF while the others wait, then every rank reads through MPI_COMM_WORLD):
#     every element right;
#     and with --rank0 at 2 and 4 ranks (every rank creates the file and datasets through
#     MPI_COMM_WORLD, rank 0 alone writes; every rank reads after H5Fflush + barrier in the same
#     open, then after reopening): every element right;
#  3. slab.c at 2 and 4 ranks all writing their slabs of one file, chunks shared by ranks:
#     every element right on every rank; s3, daos: only rank 0 takes a lease (RUSTVOL_LOG=info
#     names every lease taken), and a writer opening the file afterwards is not refused;
#  4. tests/mpi/modes.c at 2 and 4 ranks: variable-length strings and sequences written by
#     every rank (vlen); datasets opened, read, written and closed by one rank alone while
#     the others wait, seen by every rank after a barrier (alone); independent and collective
#     transfer lists and collective metadata operations (xfer); chunks wholly written by
#     ranks other than 0, which store them themselves, rewritten after and within a flush
#     (owned): every element right on every rank, nothing waiting for RUSTVOL_MPI_TIMEOUT; and rank 0 alone making a collective call
#     (H5Fflush) gets an error after RUSTVOL_MPI_TIMEOUT instead of a hang (stray);
#  5. HDF5's h5_api_test_parallel at 2 and 4 ranks: the run ends (no hang, rustvol's own
#     collective waits bounded by RUSTVOL_MPI_TIMEOUT) with native's counts (30 of 34 pass,
#     4 skipped, none fail);
#  5. tests/mpi/overlap.c at 2 and 4 ranks: ranks writing interleaved pieces of the same chunks
#     (strided, hyperslab unions, partial chunks, compound members, contiguous, a growing
#     dataset), overwritten round after round across flushes, dataset and file reopens: every
#     element right on every rank before and after each round's sync point and after reopening
#     (first natively at 4 ranks, on a tmpfs file, to show the test's expectations hold there).
#  6. tests/mpi/widened.c at 3 ranks: a write rank 1 published at its dataset close, taken up
#     by the others, read after a collective H5Dset_extent that widens the rows: every element
#     right on every rank;
#  7. tests/mpi/shrunk.c at 2 ranks: a chunk rank 1 wrote whole (and stored itself) cut off by
#     a shrink and grown back before the flush: the fill value on every rank, as natively;
#     tests/mpi/trimmed.c at 3 ranks: chunks ranks 1 and 2 wrote whole, turned into edge
#     chunks by a shrink after the two took up each other's stored chunks: what the shrink
#     cut off reads as the fill value after the flush and after reopening.
#  8. tests/mpi/meta_requests.c at 4 ranks (dir and s3, whose stores count requests): metadata
#     calls of an open file (creates, info, iteration, opens, attribute reads) make no store
#     request on any rank, from the request counts rustvol prints (RUSTVOL_STATS) as scratch
#     files close before and after them.
# Ends with "N passed, N failed"; exits 1 when anything failed.
#
# Environment: RUSTVOL_MPI_TEST_TIMEOUT (seconds one mpirun may take, default 120),
# RUSTVOL_MPI_TIMEOUT (rustvol's collective waits, default 30 here).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
# The parallel HDF5 wins over whatever serial one the caller's environment names.
export HDF5_DIR=${RUSTVOL_MPI_HDF5_DIR:-$CACHE/hdf5-parallel-1.14.5}
export RUSTVOL_PLUGIN_DIR=$HERE/../../target/parallel/release
# shellcheck source=tests/lib.sh
. "$HERE/../lib.sh"
ROOT=$RUSTVOL_ROOT
export RUSTVOL_PLUGIN_DIR=$ROOT/target/parallel/release
cd "$ROOT" || exit 1
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

BACKEND=${1:-dir}
case $BACKEND in
  dir | s3 | daos) ;;
  *) echo "usage: tests/mpi/run.sh [dir|s3|daos]" >&2; exit 2 ;;
esac
TIMEOUT=${RUSTVOL_MPI_TEST_TIMEOUT:-120}
# rustvol's own collective waits give up well before the test's timeout would kill a hang.
export RUSTVOL_MPI_TIMEOUT=${RUSTVOL_MPI_TIMEOUT:-30}
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-mpi.XXXXXX")
GARAGE_STARTED=
cleanup() {
  [ -n "$GARAGE_STARTED" ] && RUSTVOL_GARAGE_DIR=$WORK/garage bash "$ROOT/scripts/garage.sh" stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x "$HDF5_DIR/bin/h5_api_test_parallel" ] || ! command -v mpirun >/dev/null; then
  fail "no parallel HDF5 in $HDF5_DIR or no mpirun (run scripts/setup-mpi.sh)"
  summary
  exit 1
fi

# --- 1. builds -----------------------------------------------------------------------------------
# A first build starts from the serial one: every dependency but hdf5-sys is the same, so cargo
# rebuilds only that and rustvol (under a minute) instead of all of them (7+ minutes).
if [ ! -d target/parallel/release ] && [ -d target/release/deps ]; then
  mkdir -p target/parallel && cp -a target/release target/parallel/release
fi
if nice -n 10 cargo build --release --features mpi --target-dir target/parallel >"$WORK/cargo.log" 2>&1; then
  pass "parallel plugin builds (--features mpi, HDF5_DIR=$HDF5_DIR)"
else
  tail -n 30 "$WORK/cargo.log"
  fail "parallel plugin builds"
  summary
  exit 1
fi
# Direct dependencies only: ldd would also list the libmpi of whichever libhdf5 it resolves.
needs_mpi() { readelf -d "$1" | grep NEEDED | grep -q libmpi; }
check "parallel plugin links libmpi" needs_mpi "$RUSTVOL_PLUGIN_DIR/librustvol.so"
if [ -f "$ROOT/target/release/librustvol.so" ]; then
  check "serial plugin does not link libmpi" bash -c "! readelf -d '$ROOT/target/release/librustvol.so' | grep NEEDED | grep -q libmpi"
fi
SLAB=$WORK/slab OVERLAP=$WORK/overlap WIDENED=$WORK/widened SHRUNK=$WORK/shrunk TRIMMED=$WORK/trimmed
META_REQUESTS=$WORK/meta_requests
for prog in slab overlap widened shrunk trimmed meta_requests; do
  if ! "$HDF5_DIR/bin/h5pcc" -O2 -Wall -o "$WORK/$prog" "$HERE/$prog.c" >"$WORK/cc.log" 2>&1; then
    cat "$WORK/cc.log"
    fail "tests/mpi/$prog.c builds with h5pcc"
    summary
    exit 1
  fi
done

MODES=$WORK/modes
if ! "$HDF5_DIR/bin/h5pcc" -O2 -Wall -o "$MODES" "$HERE/modes.c" >"$WORK/cc.log" 2>&1; then
  cat "$WORK/cc.log"
  fail "tests/mpi/modes.c builds with h5pcc"
  summary
  exit 1
fi

# --- the backend ---------------------------------------------------------------------------------
# INFO: the connector's info string; PASS_ENV: what mpirun hands every rank besides.
PASS_ENV=()
case $BACKEND in
  dir)
    INFO="backend=dir;root=$WORK/store"
    mkdir -p "$WORK/store" ;;
  s3)
    if [ -z "${RUSTVOL_S3_INFO:-}" ]; then
      if ! RUSTVOL_GARAGE_DIR=$WORK/garage bash "$ROOT/scripts/garage.sh" start >"$WORK/garage.log" 2>&1; then
        tail -n 20 "$WORK/garage.log"
        fail "start a Garage (S3) server of this run's own"
        summary
        exit 1
      fi
      GARAGE_STARTED=1
      # shellcheck disable=SC1090,SC1091
      . "$WORK/garage/env"
    fi
    INFO="$RUSTVOL_S3_INFO;prefix=rustvol-mpi-$(date +%s)-$$"
    for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE; do
      [ -n "${!v:-}" ] && PASS_ENV+=(-x "$v")
    done ;;
  daos)
    STANDIN_TARGET=$ROOT/target/daos-standin
    if ! (cd "$ROOT/tests/daos-standin" && nice -n 10 cargo build --release --target-dir "$STANDIN_TARGET") >"$WORK/standin.log" 2>&1; then
      tail -n 20 "$WORK/standin.log"
      fail "build the DAOS stand-in (tests/daos-standin)"
      summary
      exit 1
    fi
    export RUSTVOL_DAOS_LIB=$STANDIN_TARGET/release/libdaos_standin.so DAOS_STANDIN_DIR=$WORK/daos DAOS_STANDIN_POOLS=rustvol
    INFO="backend=daos;pool=rustvol"
    PASS_ENV+=(-x RUSTVOL_DAOS_LIB -x DAOS_STANDIN_DIR -x DAOS_STANDIN_POOLS) ;;
esac
echo "=== MPI programs through rustvol on $BACKEND ($INFO)"

# run NAME NP ARGS...: the program under mpirun through rustvol; output in $WORK/NAME.out, exit
# status in RC (124: killed by the timeout, a hang). MPIRUN_EXTRA: more mpirun options.
MPIRUN_EXTRA=()
run() {
  local name=$1 np=$2
  shift 2
  timeout -k 10 "$TIMEOUT" "${MPIRUN[@]}" -np "$np" "${MPIRUN_EXTRA[@]}" "${PASS_ENV[@]}" \
    -x HDF5_PLUGIN_PATH="$RUSTVOL_PLUGIN_DIR" -x HDF5_VOL_CONNECTOR="rustvol $INFO" \
    -x LD_LIBRARY_PATH -x RUSTVOL_MPI_TIMEOUT "$@" >"$WORK/$name.out" 2>&1 </dev/null
  RC=$?
}
# On s3 and daos every rank's output is tagged with its rank, and rustvol's log names every
# lease taken ("took lease"), so a check can tell which ranks took one.
case $BACKEND in
  s3 | daos) MPIRUN_EXTRA=(--tag-output -x RUSTVOL_LOG=info) ;;
esac
untagged() { sed -E 's/^\[[0-9]+,[0-9]+\]<std(err|out)>://' "$WORK/$1.out"; }
verdict() { untagged "$1" | grep -E '^(slab|modes [a-z]+): ' | tail -n1; }
# check_leases NAME WHAT: on s3 and daos, only rank 0 of run NAME took leases.
check_leases() {
  [ "$BACKEND" = dir ] && return
  local got
  got=$(sed -nE 's/^\[[0-9]+,([0-9]+)\]<std(err|out)>:.*took lease .*/\1/p' "$WORK/$1.out" | sort -u | tr '\n' ' ')
  check "$2: only rank 0 took leases (ranks that did: ${got:-none})" [ "$got" = "0 " ]
}

# --- 2. one writer -------------------------------------------------------------------------------
run slab1 1 "$SLAB" slab1.h5
check "slab at 1 rank: every element right ($(verdict slab1))" [ "$RC" -eq 0 ]
for np in 2 4; do
  run "self$np" "$np" "$SLAB" --self "self$np.h5"
  check "slab --self at $np ranks (MPI_COMM_SELF writer, $np readers): every element right ($(verdict "self$np"))" [ "$RC" -eq 0 ]
  check_leases "self$np" "slab --self at $np ranks (the writer's, then the $np readers' open)"
done
for np in 2 4; do
  run "rank0$np" "$np" "$SLAB" --rank0 "rank0$np.h5"
  check "slab --rank0 at $np ranks (collective metadata, rank 0 writes, all read after flush): every element right ($(verdict "rank0$np"))" [ "$RC" -eq 0 ]
  check_leases "rank0$np" "slab --rank0 at $np ranks"
done

# --- 3. many writers ---------------------------------------------------------------------------
for np in 2 4; do
  run "slab$np" "$np" "$SLAB" "slab$np.h5"
  check "slab at $np ranks, each writing its slab, chunks shared: every element right ($(verdict "slab$np"), exit $RC)" [ "$RC" -eq 0 ]
  check_leases "slab$np" "slab at $np ranks"
  if [ "$BACKEND" != dir ]; then
    # No lease of the job's outlives it: a writer gets the file at once.
    run "reopen$np" 1 "$MODES" reopen "slab$np.h5"
    check "slab at $np ranks: a writer opens the file right after the job ($(verdict "reopen$np"))" [ "$RC" -eq 0 ]
  fi
done

# --- 4. variable-length data, lone opens, transfer modes ---------------------------------------------------
for mode in vlen alone xfer owned; do
  for np in 2 4; do
    run "$mode$np" "$np" "$MODES" "$mode" "$mode$np.h5"
    check "modes $mode at $np ranks: every check right on every rank ($(verdict "$mode$np"), exit $RC)" [ "$RC" -eq 0 ]
    [ "$RC" -eq 0 ] || untagged "$mode$np" | grep -E "^rank [0-9]+: " | head -n 10
  done
done

# A collective call made by one rank alone: an error after RUSTVOL_MPI_TIMEOUT (2 s here), then
# the program ends; natively the program would hang.
for np in 2 4; do
  RUSTVOL_MPI_TIMEOUT=2 run "stray$np" "$np" "$MODES" stray "stray$np.h5"
  check "modes stray at $np ranks: rank 0's lone H5Fflush fails within the timeout, the program ends, the last commit reads back ($(untagged "stray$np" | grep -m1 '^stray:'); $(verdict "stray$np"), exit $RC)" [ "$RC" -eq 0 ]
done

# --- 5. HDF5's parallel API tests ---------------------------------------------------------------
for np in 2 4; do
  mkdir -p "$WORK/api$np"
  cd "$WORK/api$np" || exit 1
  run "api$np" "$np" "$HDF5_DIR/bin/h5_api_test_parallel"
  cd "$ROOT" || exit 1
  out=$WORK/api$np.txt
  untagged "api$np" >"$out"
  passed=$(sed -nE 's/^(At least )?([0-9]+)\/([0-9]+) .*API tests passed.*/\2/p' "$out" | tail -n1)
  failed=$(sed -nE 's/^(At least )?([0-9]+)\/([0-9]+) .*API tests did not pass.*/\2/p' "$out" | tail -n1)
  of=$(sed -nE 's/^(At least )?([0-9]+)\/([0-9]+) .*API tests passed.*/\3/p' "$out" | tail -n1)
  check "h5_api_test_parallel at $np ranks on $BACKEND: ${passed:-?} of ${of:-?} passed, ${failed:-?} failed (exit $RC; native: 30 of 34, 0)" \
    bash -c "[ $RC -eq 0 ] && [ '${passed:-0}' -ge 30 ] && [ '${failed:-1}' -eq 0 ]"
done

# --- 5. interleaved pieces of shared chunks, overwritten across flushes -------------------------
ov_verdict() { grep '^overlap: ' "$WORK/$1.out" | tail -n1; }
SHM=/dev/shm
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=$WORK
native_file=$SHM/rustvol-overlap-$$.h5
timeout -k 10 "$TIMEOUT" env -u HDF5_VOL_CONNECTOR -u HDF5_PLUGIN_PATH "${MPIRUN[@]}" -np 4 -x LD_LIBRARY_PATH \
  "$OVERLAP" "$native_file" >"$WORK/overlap-native.out" 2>&1 </dev/null
RC=$?
rm -f "$native_file"
check "overlap at 4 ranks, native parallel HDF5 (the test's own expectations): $(ov_verdict overlap-native)" [ "$RC" -eq 0 ]
for np in 2 4; do
  run "overlap$np" "$np" "$OVERLAP" "overlap$np.h5"
  [ "$RC" -ne 0 ] && grep -v ' 0 wrong$' "$WORK/overlap$np.out" | head -n 20 | sed 's/^/  | /'
  check "overlap at $np ranks: interleaved pieces of shared chunks over 8 rounds, every element right on every rank ($(ov_verdict "overlap$np"), exit $RC)" [ "$RC" -eq 0 ]
done

# --- 6. another rank's published write across an extent change -------------------------------
run widened 3 "$WIDENED" widened.h5
[ "$RC" -ne 0 ] && untagged widened | grep -v ' 0 wrong$' | head -n 20 | sed 's/^/  | /'
check "widened at 3 ranks: a write rank 1 published at its close, read on every rank after H5Dset_extent widens the rows (exit $RC)" [ "$RC" -eq 0 ]

# --- 7. a chunk a rank stored whole, cut off by a shrink before the flush ----------------------
run shrunk 2 "$SHRUNK" shrunk.h5
[ "$RC" -ne 0 ] && untagged shrunk | grep -v ' 0 wrong$' | head -n 20 | sed 's/^/  | /'
check "shrunk at 2 ranks: a chunk rank 1 stored whole, cut off by H5Dset_extent and grown back, reads as the fill value after H5Fflush (exit $RC)" [ "$RC" -eq 0 ]
run trimmed 3 "$TRIMMED" trimmed.h5
[ "$RC" -ne 0 ] && untagged trimmed | grep -v ' 0 wrong$' | head -n 20 | sed 's/^/  | /'
check "trimmed at 3 ranks: chunks ranks 1 and 2 stored whole, made edge chunks by a shrink after each took up the other's, read trimmed after H5Fflush and reopening (exit $RC)" [ "$RC" -eq 0 ]

# phase_requests NAME: per rank, the requests between the closes of mark-2.h5 and mark-3.h5 less
# those between mark-1.h5 and mark-2.h5 (one scratch file's own), as "rank R: GET n PUT n ...".
phase_requests() {
  python3 - "$WORK/$1.out" <<'PY'
import re, sys
counts = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r'\[\d+,(\d+)\]<stderr>:rustvol requests \(.*, after closing "mark-(\d)\.h5"\): (.*)$', line.strip())
    if m:
        counts.setdefault(int(m.group(1)), {})[int(m.group(2))] = [int(x) for x in re.findall(r'\d+', m.group(3))]
if not counts or any(sorted(c) != [1, 2, 3] for c in counts.values()):
    print("no request counts for every mark on every rank"); sys.exit(1)
bad = False
names = ["GET", "PUT", "HEAD", "DELETE", "LIST"]
for r in sorted(counts):
    c = counts[r]
    d = [c3 - 2 * c2 + c1 for c1, c2, c3 in zip(c[1], c[2], c[3])]
    print(f"rank {r}: " + " ".join(f"{n} {v}" for n, v in zip(names, d[:5])))
    bad |= any(v != 0 for v in d[:5])
# The counts must see requests at all: a scratch file's create and close on rank 0 make some.
scratch = [b - a for a, b in zip(counts[0][1], counts[0][2])]
print("a scratch file's create and close, rank 0: " + " ".join(f"{n} {v}" for n, v in zip(names, scratch[:5])))
bad |= sum(scratch[:5]) == 0
sys.exit(1 if bad else 0)
PY
}
if [ "$BACKEND" != daos ]; then
  saved_extra=("${MPIRUN_EXTRA[@]}")
  MPIRUN_EXTRA=(--tag-output -x RUSTVOL_STATS=1)
  run meta_requests 4 "$META_REQUESTS" meta.h5
  MPIRUN_EXTRA=("${saved_extra[@]}")
  [ "$RC" -ne 0 ] && untagged meta_requests | grep -v '^rustvol requests' | head -n 20 | sed 's/^/  | /'
  req=$(phase_requests meta_requests)
  req_rc=$?
  echo "$req" | sed 's/^/  | /'
  [ "$req_rc" -ne 0 ] && grep 'rustvol requests' "$WORK/meta_requests.out" | head -n 12 | sed 's/^/  | /'
  check "metadata calls of an open file at 4 ranks (creates, info, iteration, opens, attribute reads) make no store request on any rank (exit $RC)" [ "$RC" -eq 0 -a "$req_rc" -eq 0 ]
fi

summary
