#!/usr/bin/env bash
# h5bench 1.4 (scripts/setup-h5bench.sh) through rustvol, unmodified, each file checked by the
# project's own verifier (tests/mpi/h5bench_verify.c) and compared with native parallel HDF5.
#
#   tests/mpi/h5bench.sh [BACKEND [INFO]]
#
# BACKEND: dir (default: a scratch directory), s3 (the Garage server of scripts/garage.sh, which
# must be running: its env file is sourced; a key prefix of this run's own), daos (the DAOS
# stand-in, tests/daos-standin, built into target/daos-standin). INFO replaces the rustvol info
# string the backend would get.
#
# For each configuration of the matrix below, at its rank count (mpirun on loopback,
# --oversubscribe), three checks:
#  1. h5bench_write through rustvol exits 0 with no HDF5 error, as natively;
#  2. h5bench_read (READ_OPTION=FULL, contiguous memory, a contiguous or strided file: the only
#     files it reads) ends as natively: for a file of the datasets x .. id_2 of native types,
#     exit 0 with no HDF5 error; for the others (a compound "particles" dataset, or compounds of
#     one member), HDF5 errors and no hang, as natively;
#  3. the verifier, run at the same rank count through rustvol on every rank: every rank's
#     slab right on every rank (deterministic fields exact, random ones in range, never-written
#     zeros caught, every timestep the same) and the file's structure (objects, types, shapes,
#     layouts) the same as the verifier prints for the file native HDF5 writes with the same
#     configuration (written to a tmpfs file, MPI-IO; the verifier must pass there too).
#
# The matrix: the nine write patterns h5bench has for MEM_PATTERN x FILE_PATTERN x NUM_DIMS
# (CONTIG/INTERLEAVED memory and file in 1-D and 2-D; 3-D exists only contiguous-contiguous), at
# 1, 2 and 4 ranks: 27 runs. Not the full product with the four COLLECTIVE_DATA x
# COLLECTIVE_METADATA combinations (108 runs): pattern i at rank-count j takes combination
# (i + j) mod 4, so each rank count sees every combination (and so every YES and NO of each
# option) and each pattern three of them. DELAYED_CLOSE_TIMESTEPS=1 (datasets of one timestep
# closed during the next, with TIMESTEPS=3) where (i + j) mod 3 = 0, else TIMESTEPS=2 closed at
# once. Sizes: 40000 to 100000 particles a rank, chosen so that rustvol's internal 1 MiB chunks of
# these contiguous datasets have boundaries inside ranks' slabs in several runs.
# Beyond the issue's list, the same way: FILE_PATTERN=STRIDED (CS1: blocks of 3 every 7 elements,
# the gaps never written) at every rank count, and COMPRESS=YES (deflate, chunks that straddle
# ranks' slabs; h5bench then writes collectively) for CC1 and II2 at 2 and 4 ranks.
#
# Ends with "N passed, N failed"; exits 1 when anything failed.
#
# Environment: RUSTVOL_H5BENCH_RANKS (default "1 2 4"), RUSTVOL_H5BENCH_PATTERNS (a subset of
# "CC1 CC2 CC3 CI1 CI2 IC1 IC2 II1 II2 CS1 CC1z II2z"), RUSTVOL_H5BENCH_SCALE (DIM_1 multiplied by it,
# default 1), RUSTVOL_MPI_TEST_TIMEOUT (seconds a run may take,
# default 120), RUSTVOL_MPI_TIMEOUT (rustvol's own collective waits, default 30 here).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
# The parallel HDF5 wins over whatever serial one the caller's environment names.
export HDF5_DIR=${RUSTVOL_MPI_HDF5_DIR:-$CACHE/hdf5-parallel-1.14.5}
# shellcheck source=tests/lib.sh
. "$HERE/../lib.sh"
ROOT=$RUSTVOL_ROOT
export RUSTVOL_PLUGIN_DIR=$ROOT/target/parallel/release
cd "$ROOT" || exit 1
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
T0=$(now_ms)

BACKEND=${1:-dir}
TIMEOUT=${RUSTVOL_MPI_TEST_TIMEOUT:-120}
export RUSTVOL_MPI_TIMEOUT=${RUSTVOL_MPI_TIMEOUT:-30}
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
H5BENCH=$RUSTVOL_H5BENCH_DIR/bin
SCALE=${RUSTVOL_H5BENCH_SCALE:-1}
read -r -a RANKS <<<"${RUSTVOL_H5BENCH_RANKS:-1 2 4}"
read -r -a PATTERNS <<<"${RUSTVOL_H5BENCH_PATTERNS:-CC1 CC2 CC3 CI1 CI2 IC1 IC2 II1 II2 CS1 CC1z II2z}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-h5bench.XXXXXX")
SHM=/dev/shm
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=$WORK
NATIVE=$(mktemp -d "$SHM/rustvol-h5bench-native.XXXXXX")
trap 'rm -rf "$WORK" "$NATIVE"' EXIT

if [ ! -x "$HDF5_DIR/bin/h5pcc" ] || ! command -v mpirun >/dev/null; then
  fail "no parallel HDF5 in $HDF5_DIR or no mpirun (run scripts/setup-mpi.sh)"
  summary; exit 1
fi
if [ ! -x "$H5BENCH/h5bench_write" ] || [ ! -x "$H5BENCH/h5bench_read" ]; then
  fail "no h5bench in $H5BENCH (run scripts/setup-h5bench.sh)"
  summary; exit 1
fi

# --- the backend ------------------------------------------------------------------------------
PASS_ENV=(-x LD_LIBRARY_PATH -x RUSTVOL_MPI_TIMEOUT)
case $BACKEND in
  dir) INFO="backend=dir;root=$WORK/store"; mkdir -p "$WORK/store" ;;
  s3)
    envfile=$(bash "$ROOT/scripts/garage.sh" env 2>/dev/null)
    if ! bash "$ROOT/scripts/garage.sh" status >/dev/null 2>&1 || [ ! -f "$envfile" ]; then
      fail "s3: no Garage server running (bash scripts/garage.sh start)"
      summary; exit 1
    fi
    # shellcheck disable=SC1090
    . "$envfile"
    INFO="$RUSTVOL_S3_INFO;prefix=h5bench-$$-$RANDOM/"
    PASS_ENV+=(-x AWS_ACCESS_KEY_ID -x AWS_SECRET_ACCESS_KEY) ;;
  daos)
    STANDIN_TARGET=$ROOT/target/daos-standin
    if ! (cd "$ROOT/tests/daos-standin" && nice -n 10 cargo build --release --target-dir "$STANDIN_TARGET") >"$WORK/standin.log" 2>&1; then
      tail -n 30 "$WORK/standin.log"
      fail "build the DAOS stand-in (tests/daos-standin)"
      summary; exit 1
    fi
    export RUSTVOL_DAOS_LIB=$STANDIN_TARGET/release/libdaos_standin.so
    export DAOS_STANDIN_DIR=$WORK/daos DAOS_STANDIN_POOLS=rustvol
    mkdir -p "$DAOS_STANDIN_DIR"
    INFO="backend=daos;pool=rustvol"
    PASS_ENV+=(-x RUSTVOL_DAOS_LIB -x DAOS_STANDIN_DIR -x DAOS_STANDIN_POOLS) ;;
  *) echo "usage: tests/mpi/h5bench.sh [dir|s3|daos [INFO]]" >&2; exit 2 ;;
esac
INFO=${2:-$INFO}
echo "h5bench: rustvol $INFO; native parallel HDF5 (MPI-IO) in $NATIVE"

# --- builds -----------------------------------------------------------------------------------
# As tests/mpi/run.sh: a first parallel build starts from the serial one's dependencies.
if [ ! -d target/parallel/release ] && [ -d target/release/deps ]; then
  mkdir -p target/parallel && cp -a target/release target/parallel/release
fi
if ! nice -n 10 cargo build --release --features mpi --target-dir target/parallel >"$WORK/cargo.log" 2>&1; then
  tail -n 30 "$WORK/cargo.log"
  fail "parallel plugin builds (--features mpi)"
  summary; exit 1
fi
VERIFY=$WORK/h5bench_verify
if ! "$HDF5_DIR/bin/h5pcc" -O2 -Wall -o "$VERIFY" "$HERE/h5bench_verify.c" -lhdf5_hl \
     -Wl,--disable-new-dtags,-rpath,"$HDF5_DIR/lib" >"$WORK/cc.log" 2>&1; then
  cat "$WORK/cc.log"
  fail "tests/mpi/h5bench_verify.c builds with h5pcc"
  summary; exit 1
fi

# --- one configuration ------------------------------------------------------------------------
# config NAME MEM FILE NDIMS D1 D2 D3 TIMESTEPS DELAY CDATA CMETA [KEY=VALUE...]: writes
# $WORK/NAME.{w,r}.cfg (the read's FILE_PATTERN: STRIDED for a strided file, else CONTIG).
config() {
  local n=$1 mem=$2 file=$3 nd=$4 d1=$5 d2=$6 d3=$7 ts=$8 delay=$9 cd=${10} cm=${11}
  shift 11
  local common rfile=CONTIG
  [ "$file" = STRIDED ] && rfile=STRIDED
  common=$(printf 'TIMESTEPS=%s\nDELAYED_CLOSE_TIMESTEPS=%s\nCOLLECTIVE_DATA=%s\nCOLLECTIVE_METADATA=%s\nEMULATED_COMPUTE_TIME_PER_TIMESTEP=0 s\nNUM_DIMS=%s\nDIM_1=%s\nDIM_2=%s\nDIM_3=%s\n' \
    "$ts" "$delay" "$cd" "$cm" "$nd" "$d1" "$d2" "$d3")
  [ $# -gt 0 ] && common+=$'\n'$(printf '%s\n' "$@")
  printf 'IO_OPERATION=WRITE\nMEM_PATTERN=%s\nFILE_PATTERN=%s\n%s\n' "$mem" "$file" "$common" >"$WORK/$n.w.cfg"
  printf 'IO_OPERATION=READ\nMEM_PATTERN=CONTIG\nFILE_PATTERN=%s\nREAD_OPTION=FULL\n%s\n' "$rfile" "$common" >"$WORK/$n.r.cfg"
}

# mpi OUT NP native|rustvol PROGRAM ARGS...: under mpirun, output in OUT; sets RC (124: killed
# by the timeout, a hang) and TOOK (seconds).
mpi() {
  local out=$1 np=$2 how=$3
  shift 3
  local env=("${PASS_ENV[@]}") t
  t=$(now_ms)
  [ "$how" = rustvol ] && env+=(-x HDF5_PLUGIN_PATH="$RUSTVOL_PLUGIN_DIR" -x HDF5_VOL_CONNECTOR="rustvol $INFO")
  if [ "$how" = native ]; then
    timeout -k 10 "$TIMEOUT" env -u HDF5_VOL_CONNECTOR -u HDF5_PLUGIN_PATH "${MPIRUN[@]}" -np "$np" "${env[@]}" "$@" >"$out" 2>&1 </dev/null
  else
    timeout -k 10 "$TIMEOUT" "${MPIRUN[@]}" -np "$np" "${env[@]}" "$@" >"$out" 2>&1 </dev/null
  fi
  RC=$?
  TOOK=$(secs "$t" "$(now_ms)")
}
errors_in() { grep -c 'HDF5-DIAG' "$1"; }
show() { echo "  --- $1 (last lines):"; tail -n "${2:-15}" "$1" | sed 's/^/  | /'; }

# run_config LABEL NAME NP: the three checks of the header for $WORK/NAME.{w,r}.cfg at NP ranks.
run_config() {
  local label=$1 n=$2 np=$3 nrc nerr rrc rerr
  local w=$WORK/$n.w.cfg r=$WORK/$n.r.cfg nf=$NATIVE/$n.h5 f=$n.h5
  # Native first: what the run must look like.
  mpi "$WORK/$n.native.write" "$np" native "$H5BENCH/h5bench_write" "$w" "$nf"
  local nwt=$TOOK nrt nvt
  if [ "$RC" -ne 0 ] || [ "$(errors_in "$WORK/$n.native.write")" -ne 0 ]; then
    show "$WORK/$n.native.write"
    fail "$label: native h5bench_write (exit $RC): the configuration is wrong"
    return
  fi
  mpi "$WORK/$n.native.read" "$np" native "$H5BENCH/h5bench_read" "$r" "$nf"
  nrc=$RC nerr=$(errors_in "$WORK/$n.native.read") nrt=$TOOK
  mpi "$WORK/$n.native.verify" "$np" native "$VERIFY" "$w" "$np" "$nf"
  nvt=$TOOK
  if [ "$RC" -ne 0 ]; then
    show "$WORK/$n.native.verify"
    fail "$label: the verifier fails on native HDF5's file (exit $RC): the verifier is wrong"
    return
  fi
  rm -f "$nf"

  # Through rustvol, in the store's namespace (the file name is the key).
  mpi "$WORK/$n.write" "$np" rustvol "$H5BENCH/h5bench_write" "$w" "$f"
  local e
  e=$(errors_in "$WORK/$n.write")
  if [ "$RC" -eq 0 ] && [ "$e" -eq 0 ]; then
    pass "$label: h5bench_write ($TOOK s; native $nwt s)"
  else
    show "$WORK/$n.write" 25
    fail "$label: h5bench_write (exit $RC$([ "$RC" -eq 124 ] && echo ': hang'), $e HDF5 errors)"
  fi
  mpi "$WORK/$n.read" "$np" rustvol "$H5BENCH/h5bench_read" "$r" "$f"
  rrc=$RC rerr=$(errors_in "$WORK/$n.read")
  local same=no
  if [ "$rrc" -eq "$nrc" ] && [ $((nerr > 0)) -eq $((rerr > 0)) ]; then same=yes; fi
  if [ "$same" = yes ]; then
    if [ "$nerr" -eq 0 ]; then
      pass "$label: h5bench_read ($TOOK s; native $nrt s)"
    else
      pass "$label: h5bench_read refuses this file as natively (exit $rrc, HDF5 errors)"
    fi
  else
    show "$WORK/$n.read" 25
    fail "$label: h5bench_read exit $rrc with $rerr HDF5 error lines; native: exit $nrc with $nerr"
  fi
  mpi "$WORK/$n.verify" "$np" rustvol "$VERIFY" "$w" "$np" "$f"
  local verdict
  verdict=$(grep '^verify: ' "$WORK/$n.verify" | tail -n1)
  if [ "$RC" -eq 0 ] && diff <(grep '^/' "$WORK/$n.native.verify") <(grep '^/' "$WORK/$n.verify") >"$WORK/$n.diff"; then
    pass "$label: $verdict, structure as native ($TOOK s; native $nvt s)"
  else
    [ -s "$WORK/$n.diff" ] && show "$WORK/$n.diff" 10
    show "$WORK/$n.verify" 20
    fail "$label: verifier (exit $RC$([ "$RC" -eq 124 ] && echo ': hang')): ${verdict:-no verdict}$([ -s "$WORK/$n.diff" ] && echo '; structure differs from native')"
  fi
}

# --- the matrix -------------------------------------------------------------------------------
COMBOS=("NO NO" "YES YES" "YES NO" "NO YES")
ALL=(CC1 CC2 CC3 CI1 CI2 IC1 IC2 II1 II2 CS1 CC1z II2z)
j=0
for np in "${RANKS[@]}"; do
  for i in "${!ALL[@]}"; do
    p=${ALL[$i]}
    [[ " ${PATTERNS[*]} " == *" $p "* ]] || continue
    # The compressed ones only where ranks share chunks.
    [[ $p == *z && $np -eq 1 ]] && continue
    case ${p:0:1} in C) mem=CONTIG ;; I) mem=INTERLEAVED ;; esac
    case ${p:1:1} in C) file=CONTIG ;; I) file=INTERLEAVED ;; S) file=STRIDED ;; esac
    nd=${p:2:1}
    # Sizes (see the header): floats take 262144 elements a 1 MiB chunk, particles 32768.
    extra=()
    case $p in
      CC1) dims="100000 1 1" ;; IC1) dims="70000 1 1" ;; CI1 | II1) dims="40000 1 1" ;;
      CC2) dims="250 300 1" ;; CI2 | IC2 | II2) dims="100 400 1" ;;
      CC3) dims="20 40 100" ;;
      CS1) dims="50000 1 1" extra=(STRIDE_SIZE=7 BLOCK_SIZE=3 BLOCK_CNT=5000) ;;
      CC1z) dims="50000 1 1" extra=(COMPRESS=YES CHUNK_DIM_1=7000 CHUNK_DIM_2=1 CHUNK_DIM_3=1) ;;
      II2z) dims="30 100 1" extra=(COMPRESS=YES CHUNK_DIM_1=7 CHUNK_DIM_2=30 CHUNK_DIM_3=1) ;;
    esac
    read -r d1 d2 d3 <<<"$dims"
    dims="$((d1 * SCALE)) $d2 $d3"
    read -r cd cm <<<"${COMBOS[$(((i + j) % 4))]}"
    if [ $(((i + j) % 3)) -eq 0 ]; then ts=3 delay=1; else ts=2 delay=0; fi
    n=$p-np$np
    # shellcheck disable=SC2086
    config "$n" "$mem" "$file" "$nd" $dims "$ts" "$delay" "$cd" "$cm" "${extra[@]}"
    [[ $p == *z ]] && cd="YES (compressed)"
    run_config "$p ${nd}-D $mem/$file, $np rank(s), data coll. $cd, metadata coll. $cm, $ts timesteps$([ "$delay" -gt 0 ] && echo ", delayed close")" "$n" "$np"
  done
  j=$((j + 1))
done

echo "h5bench.sh ($BACKEND): $(secs "$T0" "$(now_ms)") s"
summary
