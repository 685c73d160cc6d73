#!/usr/bin/env bash
# The parallel section of scripts/bench.sh (issue 12): h5bench 1.4's h5bench_write, then
# h5bench_read, at 1, 2 and 4 ranks, through rustvol backend=dir (store on /dev/shm) beside
# native parallel HDF5 (MPI-IO on a /dev/shm file), and through rustvol backend=s3 (Garage on
# loopback) beside that store's raw ceiling at the same number of writers, the same
# configuration for all: contiguous memory and file, 1-D, COLLECTIVE_DATA and
# COLLECTIVE_METADATA NO, TIMESTEPS timesteps of PARTICLES particles in all (divided among the
# ranks: every rank count moves the same bytes).
#
# The s3 ceiling: target/release/rustvol-store-ceiling --writers NP (NP processes, each with its
# own object_store client and runtime as each rank has), PUTting then GETting the objects
# rustvol stores for the same run: the 8 datasets' internal 1 MiB chunks (a contiguous
# dataset's storage unit, src/model/chunks.rs), every timestep's, each process its share, as
# many in flight as one rank's H5Dwrite stores (its slab's chunks of one dataset, at most
# rustvol's default concurrency of 32). The S3 server is the one RUSTVOL_S3_INFO names (the env
# file of scripts/garage.sh sourced, as scripts/bench.sh does), or else a Garage of this
# script's own in RUSTVOL_BENCH_PARALLEL_GARAGE_DIR (default /tmp/rustvol-bench-parallel-garage),
# stopped at the end; RUSTVOL_BENCH_PARALLEL_S3=0 skips s3.
#
#   bench/parallel.sh [OUT]          (OUT default target/bench)
#
# Figures: h5bench's own "Observed write rate" and "Observed read rate" (bytes over the time from
# before H5Fcreate/H5Fopen to after H5Fclose and a barrier: flush and close included, which is
# where rustvol's ranks other than 0 hand their data to rank 0), best of ROUNDS interleaved
# rounds (a shared machine only ever slows a run down); the ceiling runs right after rustvol's
# s3 run at the same rank count, in the same round. Prints a table (MB/s, dir/native against
# the issue's target of >= 0.8x at 4 ranks, s3/ceiling against >= 0.7x) into OUT/parallel.txt,
# and OUT/parallel.json. Exits 1 when a run failed (an HDF5 error, a crash).
# Environment: RUSTVOL_BENCH_PARALLEL_PARTICLES (default 4194304: 128 MiB a timestep),
# RUSTVOL_BENCH_PARALLEL_TIMESTEPS (2), RUSTVOL_BENCH_PARALLEL_ROUNDS (5: a 4-rank write takes
# about 0.3 s, which the load of a shared 2-core machine moves by half either way),
# RUSTVOL_BENCH_PARALLEL_RANKS ("1 2 4"). Needs scripts/setup-mpi.sh and scripts/setup-h5bench.sh,
# and the plugin's parallel build (target/parallel, as tests/mpi/run.sh builds it).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
export HDF5_DIR=${RUSTVOL_MPI_HDF5_DIR:-$CACHE/hdf5-parallel-1.14.5}
# shellcheck source=scripts/env.sh
. "$HERE/../scripts/env.sh"
PLUGIN=$RUSTVOL_ROOT/target/parallel/release
CEILING=$RUSTVOL_ROOT/target/release/rustvol-store-ceiling
S3=${RUSTVOL_BENCH_PARALLEL_S3:-1}
OUT=${1:-$RUSTVOL_ROOT/target/bench}
PARTICLES=${RUSTVOL_BENCH_PARALLEL_PARTICLES:-4194304}
TIMESTEPS=${RUSTVOL_BENCH_PARALLEL_TIMESTEPS:-2}
ROUNDS=${RUSTVOL_BENCH_PARALLEL_ROUNDS:-5}
read -r -a RANKS <<<"${RUSTVOL_BENCH_PARALLEL_RANKS:-1 2 4}"
B=$RUSTVOL_H5BENCH_DIR/bin
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
SHM=$(mktemp -d /dev/shm/rustvol-bench-parallel.XXXXXX)
GARAGE_STARTED=
export RUSTVOL_GARAGE_DIR=${RUSTVOL_BENCH_PARALLEL_GARAGE_DIR:-/tmp/rustvol-bench-parallel-garage}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  rm -rf "$SHM"
  [ -n "$GARAGE_STARTED" ] && bash "$RUSTVOL_ROOT/scripts/garage.sh" stop >/dev/null 2>&1
}
trap cleanup EXIT
mkdir -p "$OUT/raw"
RAW=$OUT/raw/parallel.tsv
FAILED=0
: >"$RAW"
for f in "$B/h5bench_write" "$B/h5bench_read" "$PLUGIN/librustvol.so"; do
  [ -e "$f" ] || { echo "bench/parallel.sh: $f is missing (scripts/setup-h5bench.sh; tests/mpi/run.sh builds the plugin)" >&2; exit 1; }
done
if [ "$S3" = 1 ] && [ ! -x "$CEILING" ]; then
  echo "bench/parallel.sh: $CEILING is missing (cargo build --release): no s3 figures" >&2
  S3=0 FAILED=1
fi
if [ "$S3" = 1 ] && [ -z "${RUSTVOL_S3_INFO:-}" ]; then
  bash "$RUSTVOL_ROOT/scripts/garage.sh" stop >/dev/null 2>&1   # a leftover of an interrupted run
  if bash "$RUSTVOL_ROOT/scripts/garage.sh" start >"$SHM/garage.log" 2>&1; then
    GARAGE_STARTED=1
    # shellcheck disable=SC1090
    . "$(bash "$RUSTVOL_ROOT/scripts/garage.sh" env)"
  else
    tail -n 20 "$SHM/garage.log" >&2
    echo "bench/parallel.sh: Garage did not start: no s3 figures" >&2
    S3=0 FAILED=1
  fi
fi
S3_PASS=()
for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE; do
  [ -n "${!v:-}" ] && S3_PASS+=(-x "$v")
done
CHUNK_BYTES=1048576

# cfgs NP: the write and read configurations for NP ranks.
cfgs() {
  local per=$((PARTICLES / $1)) common
  common=$(printf 'TIMESTEPS=%s\nDELAYED_CLOSE_TIMESTEPS=0\nCOLLECTIVE_DATA=NO\nCOLLECTIVE_METADATA=NO\nEMULATED_COMPUTE_TIME_PER_TIMESTEP=0 s\nNUM_DIMS=1\nDIM_1=%s\nDIM_2=1\nDIM_3=1\n' "$TIMESTEPS" "$per")
  printf 'IO_OPERATION=WRITE\nMEM_PATTERN=CONTIG\nFILE_PATTERN=CONTIG\n%s\n' "$common" >"$SHM/w$1.cfg"
  printf 'IO_OPERATION=READ\nMEM_PATTERN=CONTIG\nFILE_PATTERN=CONTIG\nREAD_OPTION=FULL\n%s\n' "$common" >"$SHM/r$1.cfg"
}
# rate FILE WHAT: h5bench's "Observed WHAT rate" in MB/s (its units are powers of 1024).
rate() {
  sed -nE "s/^.*Observed $2 rate: ([0-9.]+) ([KMGT]?)B\/s.*/\1 \2/p" "$1" | tail -n1 |
    awk '{ f = 1; if ($2 == "K") f = 1/1024; if ($2 == "G") f = 1024; if ($2 == "T") f = 1048576; printf "%.1f", $1 * f }'
}
# one HOW NP ROUND: write then read, through rustvol dir or s3, or native; appends to $RAW.
one() {
  local how=$1 np=$2 round=$3 env=(-x LD_LIBRARY_PATH) file log=$SHM/$1-$2-$3
  case $how in
    dir)
      rm -rf "$SHM/store" && mkdir -p "$SHM/store"
      env+=(-x HDF5_PLUGIN_PATH="$PLUGIN" -x HDF5_VOL_CONNECTOR="rustvol backend=dir;root=$SHM/store")
      file=bench.h5 ;;
    s3)
      # A key prefix of each run's own: creating over an earlier run's file would delete its
      # objects inside the timed write.
      env+=("${S3_PASS[@]}" -x HDF5_PLUGIN_PATH="$PLUGIN" -x HDF5_VOL_CONNECTOR="rustvol $RUSTVOL_S3_INFO;prefix=bench-parallel-$$-$np-$round")
      file=bench.h5 ;;
    *) file=$SHM/native.h5 ;;
  esac
  env -u HDF5_VOL_CONNECTOR timeout -k 10 600 "${MPIRUN[@]}" -np "$np" "${env[@]}" "$B/h5bench_write" "$SHM/w$np.cfg" "$file" >"$log.w" 2>&1 </dev/null
  local wrc=$? w r
  env -u HDF5_VOL_CONNECTOR timeout -k 10 600 "${MPIRUN[@]}" -np "$np" "${env[@]}" "$B/h5bench_read" "$SHM/r$np.cfg" "$file" >"$log.r" 2>&1 </dev/null
  local rrc=$?
  w=$(rate "$log.w" write) r=$(rate "$log.r" read)
  if [ "$wrc" -ne 0 ] || [ "$rrc" -ne 0 ] || grep -q HDF5-DIAG "$log.w" "$log.r"; then
    echo "bench/parallel.sh: $how at $np ranks failed (exit $wrc/$rrc); see below" >&2
    tail -n 20 "$log.w" "$log.r" >&2
    w=0 r=0 FAILED=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$how" "$np" "$round" "${w:-0}" "${r:-0}" >>"$RAW"
  printf '  %-7s %d rank(s), round %d: write %8s MB/s, read %8s MB/s\n' "$how" "$np" "$round" "${w:-0}" "${r:-0}"
  rm -rf "$SHM/store" "$SHM/native.h5"
}

# ceiling NP ROUND: the S3 store's raw PUT and GET of the objects rustvol's s3 run at NP ranks
# stored, NP writers; appends "ceiling NP ROUND PUT GET" (MB/s, powers of 1024 as h5bench's) to $RAW.
ceiling() {
  local np=$1 round=$2 count conc log=$SHM/ceiling-$1-$2 w r
  count=$((PARTICLES * 32 * TIMESTEPS / CHUNK_BYTES))
  conc=$((PARTICLES / np * 4 / CHUNK_BYTES))
  [ "$conc" -lt 1 ] && conc=1
  [ "$conc" -gt 32 ] && conc=32
  if "$CEILING" --store s3 --bucket "$RUSTVOL_S3_BUCKET" --endpoint "$RUSTVOL_S3_ENDPOINT" --region garage \
      --prefix "bench-parallel-ceiling-$$" --writers "$np" --case "$CHUNK_BYTES:$count:$conc" >"$log.jsonl" 2>"$log.err"; then
    read -r w r < <(python3 -c '
import json, sys
rec = {j["op"]: j["bytes"] / j["seconds"] / 1048576 for j in map(json.loads, open(sys.argv[1]))}
print("%.1f %.1f" % (rec.get("put", 0), rec.get("get", 0)))' "$log.jsonl")
  else
    echo "bench/parallel.sh: the s3 ceiling at $np writers failed:" >&2
    tail -n 5 "$log.err" >&2
    w=0 r=0 FAILED=1
  fi
  printf 'ceiling\t%s\t%s\t%s\t%s\n' "$np" "$round" "$w" "$r" >>"$RAW"
  printf '  %-7s %d writer(s), round %d: put   %8s MB/s, get  %8s MB/s (%d objects of %d bytes, %d in flight each)\n' ceiling "$np" "$round" "$w" "$r" "$count" "$CHUNK_BYTES" "$conc"
}

echo "h5bench 1.4: $PARTICLES particles ($((PARTICLES * 32 / 1048576)) MiB) a timestep, $TIMESTEPS timesteps, CONTIG/CONTIG 1-D, independent; $ROUNDS rounds"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for np in "${RANKS[@]}"; do cfgs "$np"; done
for ((round = 1; round <= ROUNDS; round++)); do
  for np in "${RANKS[@]}"; do
    one native "$np" "$round"
    one dir "$np" "$round"
    if [ "$S3" = 1 ]; then
      one s3 "$np" "$round"
      ceiling "$np" "$round"
    fi
  done
done

python3 - "$RAW" "$OUT/parallel.json" "$PARTICLES" "$TIMESTEPS" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF' | tee "$OUT/parallel.txt"
import json, sys
raw, out, particles, timesteps, rounds, load = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
best = {}
for line in open(raw):
    how, np, _, w, r = line.split("\t")
    k = (how, int(np))
    bw, br = best.get(k, (0.0, 0.0))
    best[k] = (max(bw, float(w)), max(br, float(r)))
ranks = sorted({k[1] for k in best})
s3 = any(k[0] == "s3" for k in best)
rows = []
ratio = lambda a, b: a / b if b else 0
print(f"h5bench_write / h5bench_read, MB/s (best of {rounds}), {particles} particles x {timesteps} timesteps; load average at end {load}")
print(f"{'ranks':>5}  {'native write':>12} {'dir write':>10} {'dir/native':>10}  {'native read':>11} {'dir read':>9} {'dir/native':>10}  target (4 ranks)")
for np in ranks:
    nw, nr = best.get(("native", np), (0, 0))
    dw, dr = best.get(("dir", np), (0, 0))
    rw, rr = ratio(dw, nw), ratio(dr, nr)
    target = ""
    if np == 4:
        target = f"write {'PASS' if rw >= 0.8 else 'MISS'}, read {'PASS' if rr >= 0.8 else 'MISS'} (>= 0.8x)"
    print(f"{np:>5}  {nw:>12.1f} {dw:>10.1f} {rw:>9.2f}x  {nr:>11.1f} {dr:>9.1f} {rr:>9.2f}x  {target}")
    row = {"ranks": np, "native_write_mbs": nw, "dir_write_mbs": dw, "write_ratio": rw,
           "native_read_mbs": nr, "dir_read_mbs": dr, "read_ratio": rr}
    if s3:
        sw, sr = best.get(("s3", np), (0, 0))
        cw, cr = best.get(("ceiling", np), (0, 0))
        row.update({"s3_write_mbs": sw, "ceiling_put_mbs": cw, "s3_write_ratio": ratio(sw, cw),
                    "s3_read_mbs": sr, "ceiling_get_mbs": cr, "s3_read_ratio": ratio(sr, cr)})
    rows.append(row)
if s3:
    print(f"{'ranks':>5}  {'ceiling put':>12} {'s3 write':>10} {'s3/ceil':>10}  {'ceiling get':>11} {'s3 read':>9} {'s3/ceil':>10}  target (every rank count)")
    for row in rows:
        rw, rr = row["s3_write_ratio"], row["s3_read_ratio"]
        target = f"write {'PASS' if rw >= 0.7 else 'MISS'}, read {'PASS' if rr >= 0.7 else 'MISS'} (>= 0.7x)"
        print(f"{row['ranks']:>5}  {row['ceiling_put_mbs']:>12.1f} {row['s3_write_mbs']:>10.1f} {rw:>9.2f}x  "
              f"{row['ceiling_get_mbs']:>11.1f} {row['s3_read_mbs']:>9.1f} {rr:>9.2f}x  {target}")
json.dump({"particles": particles, "timesteps": timesteps, "rounds": rounds, "load_end": load, "rows": rows}, open(out, "w"), indent=1)
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
exit $FAILED
