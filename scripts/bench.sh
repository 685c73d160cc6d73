#!/usr/bin/env bash
# How fast is rustvol against native HDF5 on this machine? One command, one run, every figure
# measured in it:
#
#   scripts/bench.sh            # about 6 minutes on the 2-core project machine
#   scripts/bench.sh --quick    # small sizes, under a minute: checks that everything runs
#   scripts/bench.sh dir-chunks # only the dir chunk I/O section (issue 14), about 30 seconds
#   scripts/bench.sh parallel   # only the parallel section (issue 12), about 6 minutes
#   scripts/bench.sh metadata   # only the metadata-at-scale section (issue 14), a few minutes
#
# Runs bench/h5bench.c (C, HDF5 API only) and bench/h5py_bench.py (h5py) with the same shapes:
#   native-core   native HDF5, core driver (H5Pset_fapl_core, backing store on /dev/shm)
#   native-shm    native HDF5, sec2 driver, file on tmpfs /dev/shm
#   memory        rustvol backend=memory
#   dir           rustvol backend=dir, store on /dev/shm
#   s3            rustvol backend=s3, a Garage server on loopback that this script starts (through
#                 scripts/garage.sh, in its own run directory) and stops at the end
# the raw ceiling of the dir and s3 stores through object_store alone
# (target/release/rustvol-store-ceiling: same object sizes, same concurrency), each time right
# after rustvol's run on that store, and the scale curves (per-operation metadata cost from 10^3
# to 10^6 objects in one group; per-call cost against the number of chunks of a dataset) on
# native-shm, memory and dir. rustvol's request counts on dir and s3 come from RUSTVOL_STATS=1.
# The C benchmark and the ceilings run --repeat times (default 2), interleaved; every figure is
# the best of its repeats (on a shared 2-core machine, interference only ever slows a run down).
#
# The dir chunk I/O section (also part of a full run): a 128 MiB dataset in 8 MiB chunks
# (512x2048 doubles), chunk-whole (one call), chunk-each (one chunk per call) and chunk-partial
# (quarter chunks, half of each chunk dimension, one call each) written, then read, on
# native-shm, memory and dir in one run, --repeat rounds interleaved (3 unless given); prints
# best MB/s, the spread of the rounds and dir/native against the target (>= 0.8x), into
# target/bench/dir-chunks.txt and dir-chunks.json. RUSTVOL_BENCH_DIR_CHUNKS_ARGS replaces its sizes.
#
# The metadata section (also part of a full run): bench/h5meta.c makes a file of N groups with
# one int attribute each, then times create + first commit, H5Fopen, reopen + opening every
# object, and the commit after 100 attribute writes, at N = 10^3 up to --meta-max (default
# 10^5), natively (sec2 on tmpfs, core driver) and through memory, dir and s3, each run a
# process of its own; with rustvol's request counts and bytes per phase on dir and s3
# (RUSTVOL_STATS). Writes target/bench/metadata.txt and metadata.json.
#
# Prints a table (absolute figures, ratios, PASS/MISS per target) and writes
#   target/bench/results.json   everything: machine, settings, every measurement, ratios, targets
#   target/bench/table.txt      the printed table
#   target/bench/raw/           JSON lines and logs of each run
# The parallel section (bench/parallel.sh; also part of a full run unless --no-parallel): h5bench
# 1.4's h5bench_write then h5bench_read at 1, 2 and 4 ranks through dir beside native parallel
# HDF5 (MPI-IO on a tmpfs file), and through s3 beside the raw ceiling of the same S3 server at
# as many writers (rustvol-store-ceiling --writers N; the full run's Garage, or one of the
# section's own; not with --no-s3), the same configuration; best of 5 rounds, dir/native
# against the target (>= 0.8x at 4 ranks) and s3/ceiling against >= 0.7x, into
# target/bench/parallel.txt and parallel.json. Needs
# scripts/setup-mpi.sh, scripts/setup-h5bench.sh and the plugin's parallel build (tests/mpi/run.sh).
# A missed target does not fail the command; a benchmark that crashes or reads back wrong data
# does (exit status 1, after the table).
#
# Options:
#   --quick            small sizes everywhere (a smoke test, not a measurement)
#   --scale-max N      largest object count of the scale curve (default 1000000)
#   --no-s3            skip everything that needs the S3 server
#   --no-py            skip the h5py benchmark
#   --only LIST        only these configurations (native-core,native-shm,memory,dir,s3)
#   --repeat N         rounds of the C benchmark and the ceilings (default 2)
#   --no-parallel      skip the parallel section
#   --meta-max N       largest object count of the metadata section (default 100000)
# Environment:
#   RUSTVOL_BENCH_ARGS       extra arguments for both benchmarks (e.g. "--contig-mb 512")
#   RUSTVOL_BENCH_OUT        output directory (default target/bench)
#   RUSTVOL_BENCH_SHM        scratch directory on tmpfs (default /dev/shm/rustvol-bench.PID)
#   RUSTVOL_BENCH_GARAGE_DIR Garage run directory (default /tmp/rustvol-bench-garage)
#   RUSTVOL_SKIP_BUILD=1     do not run cargo build / h5cc (use what is built)
# Needs what scripts/setup.sh installs (HDF5, the h5py venv, Garage); run that first.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/env.sh
. "$HERE/env.sh"
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

QUICK=0 S3=1 NO_S3=0 PY=1 SCALE_MAX=1000000 ONLY="native-core,native-shm,memory,dir,s3" REPEAT= DIR_CHUNKS_ONLY=0
PARALLEL=1 PARALLEL_ONLY=0 META_ONLY=0 META_MAX=100000
while [ $# -gt 0 ]; do
  case $1 in
    dir-chunks|--dir-chunks) DIR_CHUNKS_ONLY=1 S3=0 ;;
    parallel|--parallel) PARALLEL_ONLY=1 S3=0 ;;
    --no-parallel) PARALLEL=0 ;;
    metadata|--metadata) META_ONLY=1 ;;
    --meta-max) META_MAX=$2; shift ;;
    --quick) QUICK=1 ;;
    --scale-max) SCALE_MAX=$2; shift ;;
    --no-s3) S3=0 NO_S3=1 ;;
    --no-py) PY=0 ;;
    --only) ONLY=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
DIR_CHUNKS_REPEAT=${REPEAT:-3}
REPEAT=${REPEAT:-2}
# shellcheck disable=SC2206
DIR_CHUNKS_ARGS=(${RUSTVOL_BENCH_DIR_CHUNKS_ARGS:---chunk-mb 8 --chunked-mb 128})

OUT=${RUSTVOL_BENCH_OUT:-$ROOT/target/bench}
RAW=$OUT/raw
SHM=${RUSTVOL_BENCH_SHM:-/dev/shm/rustvol-bench.$$}
export RUSTVOL_GARAGE_DIR=${RUSTVOL_BENCH_GARAGE_DIR:-/tmp/rustvol-bench-garage}
export RUSTVOL_S3_BUCKET=rustvol-bench
PY_BIN=$RUSTVOL_VENV/bin/python
H5BENCH=$OUT/h5bench
CEILING=$ROOT/target/release/rustvol-store-ceiling
FAILED=0
START=$(date +%s)

# Sizes. The scale list is 10^3 up to --scale-max.
SIZES=()
SCALE="" n=1000
while [ "$n" -le "$SCALE_MAX" ]; do SCALE+="${SCALE:+,}$n"; n=$((n * 10)); done
CHUNKSCALE=1000,10000,100000
if [ "$QUICK" = 1 ]; then
  SIZES=(--contig-mb 16 --chunked-mb 16 --small 500 --groups 500)
  SCALE=1000,10000 CHUNKSCALE=1000,10000 REPEAT=1
fi
# shellcheck disable=SC2206
EXTRA=(${RUSTVOL_BENCH_ARGS:-})
# The chunk geometry of the chunked patterns, for the ceiling: the benchmarks' defaults unless
# given in RUSTVOL_BENCH_ARGS.
argval() { # argval NAME DEFAULT: value of --NAME in SIZES/EXTRA
  local v=$2 i all=("${SIZES[@]}" "${EXTRA[@]}")
  for ((i = 0; i < ${#all[@]}; i++)); do [ "${all[i]}" = "--$1" ] && v=${all[i + 1]}; done
  echo "$v"
}
CHUNK_MB=$(argval chunk-mb 4) CHUNKED_MB=$(argval chunked-mb 256)
SMALL_BYTES=$(argval small-bytes 1024) SMALL_N=$(argval small 10000)
read -r CHUNK_BYTES NCHUNKS < <(python3 -c "
m=1<<20; cc=max(int($CHUNK_MB*m/8/512),2); cols=2*cc; rows=int($CHUNKED_MB*m/8)//cols; rows=max((rows+511)//512*512,512)
print(512*cc*8, (rows//512)*2)")
SMALL_CEIL_N=$(( SMALL_N < 2000 ? SMALL_N : 2000 ))

mkdir -p "$RAW"
[ "$DIR_CHUNKS_ONLY" = 1 ] || [ "$META_ONLY" = 1 ] || [ "$PARALLEL_ONLY" = 1 ] || rm -f "$RAW"/*.jsonl "$RAW"/*.log "$RAW"/run.json
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -Iseconds)
GARAGE_STARTED=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  rm -rf "$SHM"
  if [ -n "$GARAGE_STARTED" ]; then
    bash "$HERE/garage.sh" stop >/dev/null 2>&1 || echo "bench.sh: could not stop Garage ($RUSTVOL_GARAGE_DIR)" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - START ))"; }

# ---------------------------------------------------------------------------------------------
say "building"
if [ "${RUSTVOL_SKIP_BUILD:-0}" != 1 ]; then
  HDF5_DIR=$HDF5_DIR cargo build --release --quiet || { echo "bench.sh: cargo build failed" >&2; exit 1; }
  mkdir -p "$OUT"
  h5cc -O2 -o "$H5BENCH" bench/h5bench.c || { echo "bench.sh: cannot compile bench/h5bench.c" >&2; exit 1; }
fi
for f in "$H5BENCH" "$CEILING" "$RUSTVOL_PLUGIN_DIR/librustvol.so" "$PY_BIN"; do
  [ -e "$f" ] || { echo "bench.sh: $f is missing (scripts/setup.sh, then run without RUSTVOL_SKIP_BUILD)" >&2; exit 1; }
done
mkdir -p "$SHM"

if [ "$S3" = 1 ] && wanted s3; then
  say "starting Garage on loopback ($RUSTVOL_GARAGE_DIR)"
  bash "$HERE/garage.sh" stop >/dev/null 2>&1   # a leftover of an interrupted run
  if bash "$HERE/garage.sh" start; then
    GARAGE_STARTED=1
    # shellcheck disable=SC1090
    . "$(bash "$HERE/garage.sh" env)"
  else
    echo "bench.sh: Garage did not start: no s3 figures" >&2
    S3=0
    FAILED=1
  fi
fi

# run KIND CONFIG: one benchmark run (KIND py, or c / dirchunks for the C benchmark) on one configuration, JSON lines to
# $RAW/KIND-CONFIG.jsonl, standard error to $RAW/KIND-CONFIG.log.
run() {
  local kind=$1 cfg=$2; shift 2
  local name=$kind-$cfg args=() env=() cmd
  local rv="HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR"
  case $cfg in
    calib) args=() ;;
    native-core) args=(--core --file "$SHM/native-core.h5") ;;
    native-shm) args=(--file "$SHM/native.h5") ;;
    memory) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol backend=memory") args=(--file bench.h5) ;;
    dir) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol backend=dir;root=$SHM/dir" RUSTVOL_STATS=1)
         args=(--file bench.h5 --stats-points) ;;
    s3) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol $RUSTVOL_S3_INFO" RUSTVOL_STATS=1)
        args=(--file bench.h5 --stats-points) ;;
  esac
  if [ "$kind" != py ]; then cmd=("$H5BENCH"); else cmd=("$PY_BIN" bench/h5py_bench.py); fi
  printf '  %-34s' "$name${2:+ ($2)}"
  local t0 rc
  t0=$(date +%s%N)
  echo "=== run $name $*" >>"$RAW/$name.log"
  env "${env[@]}" "${cmd[@]}" "${args[@]}" --label "$cfg" "${SIZES[@]}" "${EXTRA[@]}" "$@" \
    >>"$RAW/$name.jsonl" 2>>"$RAW/$name.log"
  rc=$?
  printf ' %6s s' "$(( ($(date +%s%N) - t0) / 1000000000 ))"
  if [ $rc -ne 0 ]; then
    printf '  FAILED (exit %s, see %s)\n' "$rc" "$RAW/$name.log"
    echo "{\"error\":\"exit status $rc\",\"label\":\"$cfg\"}" >>"$RAW/$name.jsonl"
    FAILED=1
  else
    echo
  fi
  rm -rf "$SHM/native-core.h5" "$SHM/native.h5" "$SHM/dir"
}

# dir_chunks: the dir chunk I/O section, $DIR_CHUNKS_REPEAT rounds of native-shm, memory, dir.
dir_chunks() {
  say "dir chunk I/O: native sec2 on tmpfs, memory, dir on tmpfs; $DIR_CHUNKS_REPEAT rounds"
  rm -f "$RAW"/dirchunks-*.jsonl "$RAW"/dirchunks-*.log
  local round c
  for ((round = 1; round <= DIR_CHUNKS_REPEAT; round++)); do
    for c in native-shm memory dir; do
      run dirchunks "$c" --suite io --tests chunk-partial "${DIR_CHUNKS_ARGS[@]}"
    done
  done
  echo
  python3 bench/dir_chunks.py --raw "$RAW" --json "$OUT/dir-chunks.json" | tee "$OUT/dir-chunks.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
}

# parallel: the parallel section (bench/parallel.sh).
parallel() {
  say "parallel: h5bench 1.4 at 1, 2, 4 ranks, dir beside native MPI-IO on tmpfs, s3 beside its raw ceiling"
  local s3=1
  [ "$NO_S3" = 1 ] && s3=0
  RUSTVOL_BENCH_PARALLEL_S3=${RUSTVOL_BENCH_PARALLEL_S3:-$s3} bash "$ROOT/bench/parallel.sh" "$OUT" || FAILED=1
}
if [ "$PARALLEL_ONLY" = 1 ]; then
  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  parallel
  echo "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  exit $FAILED
fi

if [ "$DIR_CHUNKS_ONLY" = 1 ]; then
  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  SIZES=() EXTRA=()
  dir_chunks
  echo "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); raw runs: $RAW/dirchunks-*"
  exit $FAILED
fi

# meta_run CONFIG N: one run of bench/h5meta.c, to $RAW/meta-CONFIG-N.jsonl and .log.
meta_run() {
  local cfg=$1 n=$2 env=() args=() rv="HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR" rc t0
  case $cfg in
    native-shm) args=("$SHM/meta.h5" "$n") ;;
    native-core) args=("$SHM/meta-core.h5" "$n" --core) ;;
    memory) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol backend=memory") args=(meta.h5 "$n") ;;
    dir) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol backend=dir;root=$SHM/dir" RUSTVOL_STATS=1) args=(meta.h5 "$n") ;;
    s3) env=("$rv" "HDF5_VOL_CONNECTOR=rustvol $RUSTVOL_S3_INFO" RUSTVOL_STATS=1) args=("meta-$n.h5" "$n") ;;
  esac
  printf '  %-34s' "meta-$cfg N=$n"
  t0=$(date +%s%N)
  env "${env[@]}" "$OUT/h5meta" "${args[@]}" >"$RAW/meta-$cfg-$n.jsonl" 2>"$RAW/meta-$cfg-$n.log"
  rc=$?
  printf ' %6s s' "$(( ($(date +%s%N) - t0) / 1000000000 ))"
  if [ $rc -ne 0 ]; then printf '  FAILED (exit %s, see %s)\n' "$rc" "$RAW/meta-$cfg-$n.log"; FAILED=1; else echo; fi
  rm -rf "$SHM/meta.h5" "$SHM/meta-core.h5" "$SHM/dir"
}

# metadata: the metadata-at-scale section.
metadata() {
  local sizes=() n c
  for ((n = 1000; n <= META_MAX; n *= 10)); do sizes+=("$n"); done
  [ "$QUICK" = 1 ] && sizes=(1000 10000)
  say "metadata at scale (bench/h5meta.c): ${sizes[*]} groups with an attribute each"
  mkdir -p "$OUT" "$SHM"
  h5cc -O2 -o "$OUT/h5meta" bench/h5meta.c || { echo "bench.sh: cannot compile bench/h5meta.c" >&2; FAILED=1; return; }
  rm -f "$RAW"/meta-*.jsonl "$RAW"/meta-*.log
  for n in "${sizes[@]}"; do
    for c in native-shm native-core memory dir s3; do
      wanted "$c" || continue
      [ "$c" = s3 ] && [ "$S3" = 0 ] && continue
      meta_run "$c" "$n"
    done
  done
  python3 bench/meta_report.py --raw "$RAW" --json "$OUT/metadata.json" | tee "$OUT/metadata.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
}

if [ "$META_ONLY" = 1 ]; then
  metadata
  echo "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); raw runs: $RAW/meta-*"
  exit $FAILED
fi

CONFIGS=()
for c in native-core native-shm memory dir s3; do
  wanted "$c" || continue
  [ "$c" = s3 ] && [ "$S3" = 0 ] && continue
  CONFIGS+=("$c")
done

# ceiling STORE: one round of the raw store ceiling, appended to $RAW/ceiling-STORE.jsonl.
CASES=(--case "$CHUNK_BYTES:$NCHUNKS:32" --case "$CHUNK_BYTES:$NCHUNKS:1" --case "$SMALL_BYTES:$SMALL_CEIL_N:1")
ceiling() {
  local store=$1 args
  if [ "$store" = dir ]; then
    args=(--store dir --root "$SHM/ceiling")
  else
    args=(--store s3 --bucket "$RUSTVOL_S3_BUCKET" --endpoint "$RUSTVOL_S3_ENDPOINT" --region garage)
  fi
  printf '  %-34s' "ceiling-$store"
  local t0
  t0=$(date +%s%N)
  if "$CEILING" "${args[@]}" "${CASES[@]}" >>"$RAW/ceiling-$store.jsonl" 2>>"$RAW/ceiling-$store.log"; then
    printf ' %6s s\n' "$(( ($(date +%s%N) - t0) / 1000000000 ))"
  else
    echo "  FAILED (see $RAW/ceiling-$store.log)"
    FAILED=1
  fi
  rm -rf "$SHM/ceiling"
}

say "calibration: memory copy on this machine"
run c calib --suite calib

for ((round = 1; round <= REPEAT; round++)); do
  say "C benchmark (bench/h5bench.c): io, small, meta; round $round of $REPEAT"
  for c in "${CONFIGS[@]}"; do
    run c "$c"
    # the store's raw ceiling right after rustvol's run on it, object sizes as in that run:
    # ${CHUNK_BYTES}-byte objects x $NCHUNKS, ${SMALL_BYTES}-byte x $SMALL_CEIL_N
    case $c in dir|s3) ceiling "$c" ;; esac
  done
done

if [ "$PY" = 1 ]; then
  say "h5py benchmark (bench/h5py_bench.py): io, small, meta"
  for c in "${CONFIGS[@]}"; do run py "$c"; done
fi

say "scale: objects in one group ($SCALE); chunks in one dataset ($CHUNKSCALE)"
for c in native-shm memory dir; do
  wanted "$c" || continue
  run c "$c" --suite scale,chunkscale --scale "$SCALE" --chunkscale "$CHUNKSCALE"
done

dir_chunks
[ "$PARALLEL" = 1 ] && parallel

metadata

say "report"
printf '{"started":"%s","seconds":%s,"load_start":"%s","load_end":"%s","repeat":%s,"quick":%s}\n' \
  "$STARTED" "$(( $(date +%s) - START ))" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$REPEAT" "$QUICK" >"$RAW/run.json"
python3 bench/report.py --raw "$RAW" --json "$OUT/results.json" --scale-max "$SCALE_MAX" \
  --quick "$QUICK" | tee "$OUT/table.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
echo
cat "$OUT/dir-chunks.txt" >>"$OUT/table.txt"
[ "$PARALLEL" = 1 ] && [ -f "$OUT/parallel.txt" ] && cat "$OUT/parallel.txt" >>"$OUT/table.txt"
echo "results: $OUT/results.json, table: $OUT/table.txt (dir chunk I/O: $OUT/dir-chunks.txt), raw runs: $RAW ($(( $(date +%s) - START )) s in all)"
exit $FAILED
