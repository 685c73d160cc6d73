#!/usr/bin/env bash
# The parallel section of scripts/bench.sh (issue 12): h5bench 1.4's h5bench_write, then
# h5bench_read, at 1, 2 and 4 ranks, through rustvol backend=dir (store on /dev/shm) beside
# native parallel HDF5 (MPI-IO on a /dev/shm file), the same configuration for both: contiguous
# memory and file, 1-D, COLLECTIVE_DATA and COLLECTIVE_METADATA NO, TIMESTEPS timesteps of
# PARTICLES particles in all (divided among the ranks: every rank count moves the same bytes).
#
#   bench/parallel.sh [OUT]          (OUT default target/bench)
#
# Figures: h5bench's own "Observed write rate" and "Observed read rate" (bytes over the time from
# before H5Fcreate/H5Fopen to after H5Fclose and a barrier: flush and close included, which is
# where rustvol's ranks other than 0 hand their data to rank 0), best of ROUNDS interleaved
# rounds (a shared machine only ever slows a run down). Prints a table (MB/s, dir/native, the
# issue's target of >= 0.8x at 4 ranks) into OUT/parallel.txt, and OUT/parallel.json. Exits 1
# when a run failed (an HDF5 error, a crash).
# Environment: RUSTVOL_BENCH_PARALLEL_PARTICLES (default 4194304: 128 MiB a timestep),
# RUSTVOL_BENCH_PARALLEL_TIMESTEPS (2), RUSTVOL_BENCH_PARALLEL_ROUNDS (3),
# RUSTVOL_BENCH_PARALLEL_RANKS ("1 2 4"). Needs scripts/setup-mpi.sh and scripts/setup-h5bench.sh,
# and the plugin's parallel build (target/parallel, as tests/mpi/run.sh builds it).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
export HDF5_DIR=${RUSTVOL_MPI_HDF5_DIR:-$CACHE/hdf5-parallel-1.14.5}
# shellcheck source=scripts/env.sh
. "$HERE/../scripts/env.sh"
PLUGIN=$RUSTVOL_ROOT/target/parallel/release
OUT=${1:-$RUSTVOL_ROOT/target/bench}
PARTICLES=${RUSTVOL_BENCH_PARALLEL_PARTICLES:-4194304}
TIMESTEPS=${RUSTVOL_BENCH_PARALLEL_TIMESTEPS:-2}
ROUNDS=${RUSTVOL_BENCH_PARALLEL_ROUNDS:-3}
read -r -a RANKS <<<"${RUSTVOL_BENCH_PARALLEL_RANKS:-1 2 4}"
B=$RUSTVOL_H5BENCH_DIR/bin
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
SHM=$(mktemp -d /dev/shm/rustvol-bench-parallel.XXXXXX)
trap 'rm -rf "$SHM"' EXIT
mkdir -p "$OUT/raw"
RAW=$OUT/raw/parallel.tsv
FAILED=0
: >"$RAW"
for f in "$B/h5bench_write" "$B/h5bench_read" "$PLUGIN/librustvol.so"; do
  [ -e "$f" ] || { echo "bench/parallel.sh: $f is missing (scripts/setup-h5bench.sh; tests/mpi/run.sh builds the plugin)" >&2; exit 1; }
done

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
# one HOW NP ROUND: write then read, through rustvol dir or native; appends to $RAW.
one() {
  local how=$1 np=$2 round=$3 env=(-x LD_LIBRARY_PATH) file log=$SHM/$1-$2-$3
  if [ "$how" = dir ]; then
    rm -rf "$SHM/store" && mkdir -p "$SHM/store"
    env+=(-x HDF5_PLUGIN_PATH="$PLUGIN" -x HDF5_VOL_CONNECTOR="rustvol backend=dir;root=$SHM/store")
    file=bench.h5
  else
    file=$SHM/native.h5
  fi
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

echo "h5bench 1.4: $PARTICLES particles ($((PARTICLES * 32 / 1048576)) MiB) a timestep, $TIMESTEPS timesteps, CONTIG/CONTIG 1-D, independent; $ROUNDS rounds"
for np in "${RANKS[@]}"; do cfgs "$np"; done
for ((round = 1; round <= ROUNDS; round++)); do
  for np in "${RANKS[@]}"; do
    one native "$np" "$round"
    one dir "$np" "$round"
  done
done

python3 - "$RAW" "$OUT/parallel.json" "$PARTICLES" "$TIMESTEPS" "$ROUNDS" <<'EOF' | tee "$OUT/parallel.txt"
import json, sys
raw, out, particles, timesteps, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
best = {}
for line in open(raw):
    how, np, _, w, r = line.split("\t")
    k = (how, int(np))
    bw, br = best.get(k, (0.0, 0.0))
    best[k] = (max(bw, float(w)), max(br, float(r)))
ranks = sorted({k[1] for k in best})
rows = []
print(f"h5bench_write / h5bench_read, MB/s (best of {rounds}), {particles} particles x {timesteps} timesteps")
print(f"{'ranks':>5}  {'native write':>12} {'dir write':>10} {'dir/native':>10}  {'native read':>11} {'dir read':>9} {'dir/native':>10}  target (4 ranks)")
for np in ranks:
    nw, nr = best.get(("native", np), (0, 0))
    dw, dr = best.get(("dir", np), (0, 0))
    rw = dw / nw if nw else 0
    rr = dr / nr if nr else 0
    target = ""
    if np == 4:
        target = f"write {'PASS' if rw >= 0.8 else 'MISS'}, read {'PASS' if rr >= 0.8 else 'MISS'} (>= 0.8x)"
    print(f"{np:>5}  {nw:>12.1f} {dw:>10.1f} {rw:>9.2f}x  {nr:>11.1f} {dr:>9.1f} {rr:>9.2f}x  {target}")
    rows.append({"ranks": np, "native_write_mbs": nw, "dir_write_mbs": dw, "write_ratio": rw,
                 "native_read_mbs": nr, "dir_read_mbs": dr, "read_ratio": rr})
json.dump({"particles": particles, "timesteps": timesteps, "rounds": rounds, "rows": rows}, open(out, "w"), indent=1)
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
exit $FAILED
