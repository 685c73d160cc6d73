#!/usr/bin/env bash
# A writer killed with SIGKILL leaves exactly its last flushed state.
#
#   tests/kill_writer.sh [INFO]     INFO: rustvol info string; default: a dir backend in a
#                                   scratch directory. For S3: tests/kill_writer.sh "$RUSTVOL_S3_INFO"
#                                   (with the env file of scripts/garage.sh sourced).
#
# tests/fault_writer.c kill-write creates a file (dataset "data" 64x1024 in 8 chunks, an
# extendible dataset "ext", group "g1", attributes), calls H5Fflush, then keeps changing all of
# it without flushing: overwrites every chunk of "data" and "ext", extends "ext", creates groups
# and datasets, rewrites attributes. After a few such steps it gets SIGKILL. Then:
#   - a new process opening the file must see exactly the flushed state (kill-check);
#   - objects created after reopening, in the order the writer created its lost ones (so with
#     the same object ids), must not see data the killed writer wrote (kill-reuse).
# Then a writer that calls exit() with its file open (HDF5 closes it at exit, after the C
# library destroyed the thread's thread-locals): a new process sees all it wrote, and the
# plugin printed no panic (exit-write, exit-check).
# The files are deleted afterwards. Ends with "N passed, N failed"; exit 1 on a failure.
#
# Environment: RUSTVOL_KILL_STEPS (steps after the flush before the kill, default 3),
#   RUSTVOL_KILL_TIMEOUT (seconds allowed to reach them, default 60).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-kill.XXXXXX")
INFO=${1:-"backend=dir;root=$WORK/store"}
STEPS=${RUSTVOL_KILL_STEPS:-3}
LIMIT=${RUSTVOL_KILL_TIMEOUT:-60}
FILE=kill-writer-$$-$RANDOM.h5
WPID=
cleanup() {
  if [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; then
    kill -KILL "$WPID" 2>/dev/null
    wait "$WPID" 2>/dev/null
  fi
  if [ -n "${FW:-}" ] && [ -x "$FW" ]; then
    (cd "$WORK" && timeout -k 5 60 "$FW" delete "$FILE" </dev/null >/dev/null 2>&1)
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Without credentials the S3 client would look for them elsewhere (instance metadata, off
# loopback): refuse instead.
case ";$INFO;" in
  *";backend=s3;"*|*" backend=s3;"*|*";backend=s3 "*)
    if { [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; } \
       && [ ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]; then
      echo "kill_writer.sh: no S3 credentials (source the env file of scripts/garage.sh)" >&2
      exit 2
    fi ;;
esac
# On s3 and daos a killed writer's lease keeps the file locked until it expires
# (docs/FORMAT.md): short leases here, waited out before the file is opened again.
LEASE_WAIT=0
case ";$INFO;" in
  *";backend=s3;"*|*" backend=s3;"*|*";backend=s3 "*|*";backend=daos;"*|*" backend=daos;"*|*";backend=daos "*)
    case ";$INFO;" in *";lease="*|*" lease="*) ;; *) INFO="$INFO;lease=2" ;; esac
    LEASE_WAIT=$(( $(printf '%s\n' "$INFO" | tr '; ' '\n\n' | sed -n 's/^lease=//p' | tail -n1) + 2 )) ;;
esac
build_fault_writer || { fail "build tests/fault_writer.c"; summary; exit 1; }
use_rustvol "$INFO"
echo "kill_writer: rustvol $INFO, file $FILE"
cd "$WORK" || exit 1

# The writer, in the background; its steps are lines on its standard output.
: >writer.out
"$FW" kill-write "$FILE" "$LIMIT" </dev/null >writer.out 2>writer.err &
WPID=$!
t0=$(now_ms)
deadline=$(( t0 + LIMIT * 1000 ))
reached=no
while kill -0 "$WPID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
  if grep -qx "wrote $STEPS" writer.out; then reached=yes; break; fi
  sleep 0.05
done
kill -KILL "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
rc=$?
WPID=
last=$(grep -E '^wrote ' writer.out | tail -n1)
if [ "$reached" = yes ] && [ "$rc" -eq 137 ]; then
  pass "writer flushed, made $STEPS+ more steps (${last:-none}), killed by SIGKILL after $(secs "$t0" "$(now_ms)") s"
else
  fail "writer: flushed=$(grep -c FLUSHED writer.out) last step '${last:-none}', exit $rc (137 = SIGKILL expected)"
  sed 's/^/    /' writer.err | grep -v '^    *\(major\|minor\):' | head -20
fi

sleep "$LEASE_WAIT"
# Reopen in a new process: exactly the flushed state.
out=$(timeout -k 5 120 "$FW" kill-check "$FILE" </dev/null 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  pass "reopened file holds exactly the flushed state"
else
  fail "reopened file is not the flushed state (exit $rc):"
  grep -E 'MISMATCH|rustvol line|fault_writer:' <<<"$out" | sed 's/^/    /' | head -20
fi

# Objects created after reopening must not pick up the killed writer's chunks.
out=$(timeout -k 5 120 "$FW" kill-reuse "$FILE" </dev/null 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  pass "new datasets after reopening read as fill values"
else
  fail "new datasets after reopening (exit $rc):"
  grep -E 'MISMATCH|rustvol line|fault_writer:' <<<"$out" | sed 's/^/    /' | head -20
fi

# A program that exits with its file open: HDF5 closes it at exit, keeping what was written.
EFILE=exit-writer-$$-$RANDOM.h5
timeout -k 5 120 "$FW" exit-write "$EFILE" </dev/null >exit.out 2>exit.err
rc=$?
sleep "$LEASE_WAIT"
out=$(timeout -k 5 120 "$FW" exit-check "$EFILE" </dev/null 2>&1)
crc=$?
if [ "$rc" -eq 1 ] && [ "$crc" -eq 0 ] && ! grep -q 'panicked' exit.err; then
  pass "a program exiting with its file open: the file closes at exit with all it wrote"
else
  fail "exit with the file open (writer exit $rc, 1 expected; check exit $crc):"
  { grep -E 'panicked|rustvol line' exit.err; grep -E 'MISMATCH|rustvol line|fault_writer:' <<<"$out"; } | sed 's/^/    /' | head -20
fi
timeout -k 5 60 "$FW" delete "$EFILE" </dev/null >/dev/null 2>&1

summary
