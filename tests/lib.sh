# shellcheck shell=bash
# Sourced by the shell tests (tests/kill_writer.sh, tests/s3/faults.sh): scripts/env.sh, check
# counting, the fault_writer helper program, loopback ports, timing.

# shellcheck source=scripts/env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/env.sh"

T_PASS=0
T_FAIL=0
pass() { echo "PASS: $*"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL: $*"; T_FAIL=$((T_FAIL + 1)); }
# check NAME CONDITION-COMMAND...: PASS or FAIL by the command's status.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
# Adds the counts of a sub-test's closing "N passed, N failed" line (from file $1).
add_counts() {
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)
  if [ -z "$line" ]; then
    fail "$2: no closing 'N passed, N failed' line"
    return
  fi
  p=${line%% passed*}
  f=${line#*, }
  f=${f%% failed*}
  T_PASS=$((T_PASS + p))
  T_FAIL=$((T_FAIL + f))
}
summary() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}

# Milliseconds since the epoch, and seconds with one decimal between two of them.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# Builds tests/fault_writer.c with HDF5's h5cc into target/tests/ when missing or older than its
# source; sets FW to the program.
build_fault_writer() {
  local src=$RUSTVOL_ROOT/tests/fault_writer.c out=$RUSTVOL_ROOT/target/tests/fault_writer
  FW=$out   # used by the scripts that source this file
  export FW
  if [ -x "$out" ] && [ "$out" -nt "$src" ]; then return 0; fi
  mkdir -p "$(dirname "$out")"
  if ! "$HDF5_DIR/bin/h5cc" -O2 -Wall -o "$out.tmp.$$" "$src" </dev/null; then
    echo "cannot build $src with $HDF5_DIR/bin/h5cc" >&2
    return 1
  fi
  mv -f "$out.tmp.$$" "$out"
}

# A loopback TCP port with no socket on it (nothing listens: connecting is refused).
closed_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$(( 20000 + RANDOM % 40000 ))
    [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] || continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    echo "$p"
    return 0
  done
  return 1
}

# The rustvol connector for the programs run after this.
use_rustvol() {
  export HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR
  export HDF5_VOL_CONNECTOR="rustvol $1"
}
