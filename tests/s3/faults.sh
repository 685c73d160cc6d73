#!/usr/bin/env bash
# S3 backend under faults, against the Garage test server (scripts/garage.sh start).
#
#   scripts/garage.sh start && tests/s3/faults.sh
#
# Uses the env file of scripts/garage.sh (sourced here when RUSTVOL_S3_INFO is not set yet).
# Each check prints PASS or FAIL; the last line is "N passed, N failed"; exit 1 on a failure.
#
#   unreachable endpoint   closed loopback port: an HDF5 error (rustvol-DIAG, naming the endpoint)
#                          in bounded time with timeout=2;retries=1
#   silent endpoint        a loopback listener that accepts and never answers: same
#   missing bucket         the error names the bucket
#   bad credentials        wrong secret, unknown key id: an error saying access was refused; no
#                          secret appears in the output
#   denied permission      a key with no permission on the bucket: creating and opening fail
#   server stopped         a second Garage server is killed while a writer appends and flushes;
#                          the writer must end with an HDF5 error in bounded time, its H5Fclose
#                          must fail too (changes since the last flush are not stored), it must
#                          exit cleanly, and after a restart the file holds its last flushed state
#   SIGKILL                tests/kill_writer.sh on this S3 server and on a dir backend
#
# Every program runs under `timeout`; scratch files, the second server and the files written to
# the bucket are removed at exit (RUSTVOL_TEST_KEEP=1 keeps the scratch directory, with the
# second server's data and logs, for debugging). Only loopback addresses are used.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/../lib.sh"
GARAGE_SH=$RUSTVOL_ROOT/scripts/garage.sh

if [ -z "${RUSTVOL_S3_INFO:-}" ]; then
  envfile=$("$GARAGE_SH" env 2>/dev/null) || { echo "faults.sh: no Garage server: run scripts/garage.sh start" >&2; exit 2; }
  # shellcheck disable=SC1090
  . "$envfile"
fi
for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RUSTVOL_S3_ENDPOINT RUSTVOL_S3_BUCKET RUSTVOL_S3_INFO \
         RUSTVOL_S3_DENIED_KEY_ID RUSTVOL_S3_DENIED_SECRET; do
  [ -n "${!v:-}" ] || { echo "faults.sh: $v is not set (source the env file of scripts/garage.sh)" >&2; exit 2; }
done
case "$RUSTVOL_S3_ENDPOINT" in
  http://127.*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "faults.sh: $RUSTVOL_S3_ENDPOINT is not a loopback endpoint" >&2; exit 2 ;;
esac
GOOD_ID=$AWS_ACCESS_KEY_ID
GOOD_SECRET=$AWS_SECRET_ACCESS_KEY
B=$RUSTVOL_S3_BUCKET
FAST="timeout=2;retries=1"
BOUND=20          # seconds a failing program may take with $FAST

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-faults.XXXXXX")
G2=$WORK/garage2
TAG=faults-$$-$RANDOM
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "${FW:-}" ] && [ -x "$FW" ]; then
    # The one file this script leaves in the shared bucket (the rest fail to be created).
    (cd "$WORK" && HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $RUSTVOL_S3_INFO" \
       AWS_ACCESS_KEY_ID=$GOOD_ID AWS_SECRET_ACCESS_KEY=$GOOD_SECRET \
       timeout -k 5 60 "$FW" delete "$TAG-denied.h5" </dev/null >/dev/null 2>&1)
  fi
  [ -d "$G2" ] && RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" kill >/dev/null 2>&1
  if [ "${RUSTVOL_TEST_KEEP:-0}" = 1 ]; then
    echo "faults.sh: kept $WORK" >&2
  else
    [ -d "$G2" ] && RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" stop >/dev/null 2>&1
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

build_fault_writer || { fail "build tests/fault_writer.c"; summary; exit 1; }
cd "$WORK" || exit 1

# run NAME SECONDS INFO [VAR=VALUE...] -- ARGS...: runs fault_writer ARGS with rustvol INFO and
# the extra environment; sets RC, ELAPSED (seconds) and OUT (stdout and stderr together).
run() {
  local name=$1 limit=$2 info=$3 t0
  shift 3
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  t0=$(now_ms)
  env HDF5_PLUGIN_PATH="$RUSTVOL_PLUGIN_DIR" HDF5_VOL_CONNECTOR="rustvol $info" "${envs[@]}" \
    timeout -k 5 "$limit" "$FW" "$@" </dev/null >"$WORK/$name.out" 2>&1
  RC=$?
  ELAPSED=$(secs "$t0" "$(now_ms)")
  OUT=$(cat "$WORK/$name.out")
}
# The first message rustvol put on the error stack, secrets masked, for the report.
first_msg() {
  grep -m1 -E 'rustvol line [0-9]+ in' <<<"$OUT" | sed -E 's/^ *#[0-9]+: //' \
    | sed -e "s/$GOOD_SECRET/<secret>/g" -e "s/$RUSTVOL_S3_DENIED_SECRET/<secret>/g" | cut -c1-400
}
# An HDF5 error from rustvol: non-zero exit that is not a signal or a timeout, rustvol-DIAG.
is_hdf5_error() { [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ] && grep -q 'rustvol-DIAG' <<<"$OUT"; }
within() { awk -v e="$ELAPSED" -v b="$1" 'BEGIN { exit !(e < b) }'; }
no_secret() {
  local s
  for s in "$@"; do grep -qF -- "$s" <<<"$OUT" && return 1; done
  return 0
}
report() {   # report NAME OK-CONDITION... : PASS/FAIL with exit status, time and the message
  local name=$1
  shift
  if "$@"; then
    pass "$name (exit $RC, ${ELAPSED} s): $(first_msg)"
  else
    fail "$name (exit $RC, ${ELAPSED} s)"
    sed -e "s/$GOOD_SECRET/<secret>/g" -e "s/$RUSTVOL_S3_DENIED_SECRET/<secret>/g" <<<"$OUT" \
      | grep -v -E '^ +(major|minor):' | sed 's/^/    /' | tail -15
  fi
}
all() { local c; for c in "$@"; do eval "$c" || return 1; done; }

echo "S3 fault tests against $RUSTVOL_S3_ENDPOINT, bucket $B"

# --- unreachable endpoint -------------------------------------------------------------------
port=$(closed_port) || { fail "no closed loopback port found"; port=1; }
ep="http://127.0.0.1:$port"
run unreachable 60 "backend=s3;bucket=$B;endpoint=$ep;region=garage;$FAST" -- create "$TAG-u.h5"
report "unreachable endpoint $ep: HDF5 error naming it, under ${BOUND} s" \
  all is_hdf5_error "grep -qF -- '$ep' <<<\"\$OUT\"" "within $BOUND"

# --- an endpoint that accepts connections and never answers ----------------------------------
PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
  fail "silent endpoint: python3 not found"
else
  "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
s.settimeout(0.5)
print(s.getsockname()[1], flush=True)
held, end = [], time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
' 90 </dev/null >"$WORK/silent.port" 2>/dev/null &
  PIDS+=($!)
  for ((i = 0; i < 100; i++)); do [ -s "$WORK/silent.port" ] && break; sleep 0.05; done
  sport=$(head -n1 "$WORK/silent.port")
  ep="http://127.0.0.1:$sport"
  run silent 60 "backend=s3;bucket=$B;endpoint=$ep;region=garage;$FAST" -- create "$TAG-s.h5"
  report "silent endpoint $ep (accepts, never answers): HDF5 error under ${BOUND} s" \
    all is_hdf5_error "grep -qF -- '$ep' <<<\"\$OUT\"" "within $BOUND"
fi

# --- missing bucket ---------------------------------------------------------------------------
nb=rustvol-no-such-bucket-$$
run nobucket 60 "backend=s3;bucket=$nb;endpoint=$RUSTVOL_S3_ENDPOINT;region=garage;$FAST" -- create "$TAG.h5"
report "missing bucket: error names bucket $nb" all is_hdf5_error "grep -qF -- '$nb' <<<\"\$OUT\"" "within $BOUND"

# --- bad credentials --------------------------------------------------------------------------
wrong=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
refused='403|Forbidden|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|[Ii]nvalid signature|privileges'
run badsecret 60 "$RUSTVOL_S3_INFO;$FAST" AWS_SECRET_ACCESS_KEY="$wrong" -- create "$TAG.h5"
report "bad credentials (wrong secret): access refused, no secret in the output" \
  all is_hdf5_error "grep -qE '$refused' <<<\"\$OUT\"" "no_secret '$wrong' '$GOOD_SECRET'" "within $BOUND"
run badkey 60 "$RUSTVOL_S3_INFO;$FAST" AWS_ACCESS_KEY_ID=GK000000000000000000000000 AWS_SECRET_ACCESS_KEY="$wrong" -- create "$TAG.h5"
report "bad credentials (unknown key id): access refused, no secret in the output" \
  all is_hdf5_error "grep -qE '$refused' <<<\"\$OUT\"" "no_secret '$wrong' '$GOOD_SECRET'" "within $BOUND"

# --- denied permission ------------------------------------------------------------------------
DENY=(AWS_ACCESS_KEY_ID="$RUSTVOL_S3_DENIED_KEY_ID" AWS_SECRET_ACCESS_KEY="$RUSTVOL_S3_DENIED_SECRET")
run denied_create 60 "$RUSTVOL_S3_INFO;$FAST" "${DENY[@]}" -- create "$TAG-denied.h5"
report "denied permission: creating a file fails" \
  all is_hdf5_error "grep -qE '$refused' <<<\"\$OUT\"" "no_secret '$RUSTVOL_S3_DENIED_SECRET' '$GOOD_SECRET'" "within $BOUND"
run good_create 60 "$RUSTVOL_S3_INFO;$FAST" -- create "$TAG-denied.h5"
if [ "$RC" -ne 0 ]; then
  fail "denied permission: the owner key cannot create the file to open ($(first_msg))"
else
  run denied_open 60 "$RUSTVOL_S3_INFO;$FAST" "${DENY[@]}" -- check "$TAG-denied.h5"
  report "denied permission: opening an existing file fails" \
    all is_hdf5_error "grep -qE '$refused' <<<\"\$OUT\"" "within $BOUND"
fi

# --- the server stops while a writer appends ----------------------------------------------------
if ! RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" start >"$WORK/g2.log" 2>&1; then
  fail "server stopped: cannot start a second Garage server"; sed 's/^/    /' "$WORK/g2.log"
else
  (
    # shellcheck disable=SC1091
    . "$G2/env"
    info="$RUSTVOL_S3_INFO;$FAST"
    file=$TAG-loop.h5
    HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $info" \
      timeout -k 5 120 "$FW" loop "$file" 90 </dev/null >"$WORK/loop.out" 2>"$WORK/loop.err" &
    wpid=$!
    # Let it commit some rows, then take the server away (SIGKILL: no goodbye to clients).
    for ((i = 0; i < 600; i++)); do
      grep -qx 'committed 10' "$WORK/loop.out" && break
      kill -0 "$wpid" 2>/dev/null || break
      sleep 0.05
    done
    t0=$(now_ms)
    RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" kill >/dev/null 2>&1
    wait "$wpid" 2>/dev/null
    rc=$?
    el=$(secs "$t0" "$(now_ms)")
    last=$(sed -n 's/^committed //p' "$WORK/loop.out" | tail -n1)
    msg=$(grep -m1 -E 'rustvol line [0-9]+ in' "$WORK/loop.err" | sed -E 's/^ *#[0-9]+: //' | cut -c1-300)
    closemsg=$(grep -m1 'H5Fclose after the error' "$WORK/loop.err")
    crash=$(grep -m1 -E 'double free|corruption|panicked|Segmentation|Aborted' "$WORK/loop.err")
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] \
       && grep -q rustvol-DIAG "$WORK/loop.err" && awk -v e="$el" 'BEGIN { exit !(e < 30) }'; then
      echo "PASS: server stopped mid-write: the writer ended with an HDF5 error ${el} s after the stop (exit $rc, last committed row ${last:-none}): $msg"
    else
      echo "FAIL: server stopped mid-write: writer exit $rc after ${el} s (last committed ${last:-none}; 3 = no error within 90 s, 124/137 = hung)"
      grep -v -E '^ +(major|minor):' "$WORK/loop.err" | sed 's/^/    /' | tail -10
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ]; then
      echo "PASS: server stopped mid-write: the writer exited normally after the error (exit $rc; $closemsg)"
    else
      echo "FAIL: server stopped mid-write: the writer did not exit normally after the error (exit $rc${crash:+: $crash}; ${closemsg:-no close report})"
    fi
    # The writer's changes since its last successful flush (at least the extent of the row it
    # was writing) are not stored: H5Fclose with the server down must not report success.
    if grep -q 'H5Fclose after the error failed' "$WORK/loop.err"; then
      echo "PASS: server stopped mid-write: H5Fclose with the server down reports the failure"
    elif grep -q 'H5Fclose after the error succeeded' "$WORK/loop.err"; then
      echo "FAIL: server stopped mid-write: H5Fclose succeeded with the server down, though changes made after the last flush were never stored (first error: $(sed -n 's/^fault_writer: \(.* failed at row [0-9]*\)$/\1/p' "$WORK/loop.err" | head -n1))"
    else
      echo "FAIL: server stopped mid-write: the writer did not report its H5Fclose"
    fi
    # Bring the same server back: the last flushed state must be there, whole.
    if ! RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" start >>"$WORK/g2.log" 2>&1; then
      echo "FAIL: server stopped mid-write: cannot restart the server"; sed 's/^/    /' "$WORK/g2.log" | tail -5
    else
      # The writer could not take its lease back with the server gone: until the lease
      # expires, the file is read without locks (docs/FORMAT.md).
      out=$(HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $info" HDF5_USE_FILE_LOCKING=FALSE \
              timeout -k 5 60 "$FW" check "$file" </dev/null 2>&1)
      crc=$?
      rows=$(sed -n 's/^rows \([0-9]*\) .*/\1/p' <<<"$out")
      # At least every acknowledged flush; at most the one that was in flight.
      if [ "$crc" -eq 0 ] && [ -n "$last" ] && [ -n "$rows" ] && [ "$rows" -ge "$last" ] && [ "$rows" -le $((last + 1)) ]; then
        echo "PASS: after a restart the file holds its last flushed state ($rows rows; last acknowledged flush: $last)"
      else
        echo "FAIL: after a restart: check exit $crc, rows '${rows:-?}', last acknowledged flush '${last:-none}'"
        grep -v -E '^ +(major|minor):' <<<"$out" | sed 's/^/    /' | tail -10
      fi
      HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $info" HDF5_USE_FILE_LOCKING=FALSE \
        timeout -k 5 60 "$FW" delete "$file" </dev/null >/dev/null 2>&1
    fi
  ) >"$WORK/stopped.txt" 2>"$WORK/stopped.err"   # (the shell reports a crashed writer on stderr)
  cat "$WORK/stopped.txt"
  T_PASS=$((T_PASS + $(grep -c '^PASS:' "$WORK/stopped.txt")))
  T_FAIL=$((T_FAIL + $(grep -c '^FAIL:' "$WORK/stopped.txt")))
  [ "${RUSTVOL_TEST_KEEP:-0}" = 1 ] || RUSTVOL_GARAGE_DIR=$G2 "$GARAGE_SH" stop >/dev/null 2>&1
fi

# --- SIGKILL: tests/kill_writer.sh on S3 and on a dir backend -----------------------------------
for info in "$RUSTVOL_S3_INFO" "backend=dir;root=$WORK/dirstore"; do
  "$RUSTVOL_ROOT/tests/kill_writer.sh" "$info" </dev/null >"$WORK/kill.txt" 2>&1
  grep -E '^(PASS|FAIL|kill_writer:|    )' "$WORK/kill.txt" | sed -e 's/^PASS: /PASS: SIGKILL: /' -e 's/^FAIL: /FAIL: SIGKILL: /'
  add_counts "$WORK/kill.txt" "tests/kill_writer.sh $info"
done

summary
