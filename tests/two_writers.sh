#!/usr/bin/env bash
# Two processes writing one file: never a committed group lost, and native HDF5's open rules.
#
#   tests/two_writers.sh [INFO]     INFO: rustvol info string; default: a dir backend in a
#                                   scratch directory. For S3: tests/two_writers.sh "$RUSTVOL_S3_INFO"
#                                   (env file of scripts/garage.sh sourced); for DAOS:
#                                   "backend=daos;pool=..." (tests/daos/run.sh). Leases (s3,
#                                   daos) last 2 s unless INFO says lease=.
#
# The race (tests/two_writers.c write): each round makes the file afresh, then starts two
# processes that open it read-write at the same instant (a shared start time), each creating
# 100 groups of its own prefix. Counted per round: either one open is refused with HDF5's
# "unable to lock the file" and the other's groups are all there, or both commit one after
# the other and all 200 are there; a writer whose close fails names the conflict and left
# nothing. A round where the file holds fewer groups than were reported committed fails.
# Then: HDF5_USE_FILE_LOCKING=FALSE and H5Pset_file_locking take no lock (and a commit on top
# of another writer's is refused, not lost); a killed writer does not keep the file locked
# (dir: at once; s3, daos: once its lease expires); readers are refused while a writer holds the file
# and a writer while readers do, except SWMR readers of a SWMR writer, as natively; a reader
# without locks sees only whole committed states while a writer flushes.
# Ends with "N passed, N failed"; exit 1 on a failure.
#
# Environment: RUSTVOL_TWO_WRITERS_ROUNDS (default 20).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-two-writers.XXXXXX")
INFO=${1:-"backend=dir;root=$WORK/store"}
ROUNDS=${RUSTVOL_TWO_WRITERS_ROUNDS:-20}
N=100
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Stores without kernel locks hold leases (s3, daos): short ones here.
LEASED=no
case ";$INFO;" in
  *";backend=daos;"*|*" backend=daos;"*|*";backend=daos "*) LEASED=yes ;;
  *";backend=s3;"*|*" backend=s3;"*|*";backend=s3 "*)
    LEASED=yes
    if { [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; } \
       && [ ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]; then
      echo "two_writers.sh: no S3 credentials (source the env file of scripts/garage.sh)" >&2
      exit 2
    fi ;;
esac
case ";$INFO;" in
  *";lease="*|*" lease="*) ;;
  *) [ "$LEASED" = yes ] && INFO="$INFO;lease=2" ;;
esac
LEASE=$(printf '%s\n' "$INFO" | tr '; ' '\n\n' | sed -n 's/^lease=//p' | tail -n1)
LEASE=${LEASE:-30}

SRC=$RUSTVOL_ROOT/tests/two_writers.c
TW=$RUSTVOL_ROOT/target/tests/two_writers
if ! [ -x "$TW" ] || ! [ "$TW" -nt "$SRC" ]; then
  mkdir -p "$(dirname "$TW")"
  if ! "$HDF5_DIR/bin/h5cc" -O2 -Wall -o "$TW.tmp.$$" "$SRC" </dev/null; then
    fail "build $SRC"; summary; exit 1
  fi
  mv -f "$TW.tmp.$$" "$TW"
fi
use_rustvol "$INFO"
echo "two_writers: rustvol $INFO"
cd "$WORK" || exit 1
F=two-writers-$$-$RANDOM.h5
LOCKED="unable to lock the file"
CONFLICT="another writer committed to the file"

tw() { timeout -k 5 120 "$TW" "$@" </dev/null; }
# Waits (up to 30 s) for a line in a file.
wait_line() {
  local i
  for ((i = 0; i < 600; i++)); do
    grep -qx "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# What one writer of a round reported: committed, refused, failed (its close), or other.
outcome() {
  if grep -q '^committed ' "$1.out"; then echo committed
  elif grep -qx refused "$1.out"; then echo refused
  elif grep -qx 'close failed' "$1.out"; then echo failed
  else echo "other($(tr '\n' ' ' <"$1.out"))"
  fi
}
# Whether a refused or failed writer said why in HDF5's error stack.
said_why() {
  case $2 in
    refused) grep -q "$LOCKED" "$1.err" ;;
    failed) grep -q "$CONFLICT" "$1.err" ;;
    *) true ;;
  esac
}
# The groups a writer with this outcome must have left: all or none.
want() { if [ "$1" = committed ]; then echo "$N"; else echo 0; fi; }

# A round of the race; $1 the round, $2 ms each writer waits between opening and writing,
# extra arguments are environment settings for both writers.
race() {
  local r=$1 hold=$2 oa ob na nb total at
  shift 2
  tw create "$F" || { fail "round $r: create the file"; return; }
  at=$(( $(now_ms) + 500 ))
  env "$@" "$TW" write "$F" a "$N" "$at" "$hold" </dev/null >a.out 2>a.err &
  local pa=$!
  env "$@" "$TW" write "$F" b "$N" "$at" "$hold" </dev/null >b.out 2>b.err &
  local pb=$!
  wait "$pa"; wait "$pb"
  oa=$(outcome a); ob=$(outcome b)
  total=$(tw count "$F" 2>/dev/null); na=$(tw prefix "$F" a 2>/dev/null); nb=$(tw prefix "$F" b 2>/dev/null)
  local committed=$(( $(want "$oa") + $(want "$ob") ))
  ROUND_KIND="$oa/$ob"
  if [ "${total:-x}" = "$committed" ] && [ "${na:-x}" = "$(want "$oa")" ] && [ "${nb:-x}" = "$(want "$ob")" ] \
     && said_why a "$oa" && said_why b "$ob" && [ "${oa#other}" = "$oa" ] && [ "${ob#other}" = "$ob" ]; then
    pass "round $r: a $oa, b $ob; the file holds $total groups (a $na, b $nb)"
  else
    fail "round $r: a $oa, b $ob; the file holds ${total:-?} groups (a ${na:-?}, b ${nb:-?}), $committed reported committed"
    [ "${total:-0}" -lt "$committed" ] 2>/dev/null && LOST=$((LOST + 1))
    sed 's/^/    a: /' a.err | grep -v '^    a:  *\(major\|minor\):' | head -8
    sed 's/^/    b: /' b.err | grep -v '^    b:  *\(major\|minor\):' | head -8
  fi
}

# --- the race, many rounds ---------------------------------------------------------------
LOST=0
declare -A KINDS=()
for ((r = 1; r <= ROUNDS; r++)); do
  race "$r" $(( (r % 3) * 100 ))
  KINDS[$ROUND_KIND]=$(( ${KINDS[$ROUND_KIND]:-0} + 1 ))
done
kinds=$(for k in "${!KINDS[@]}"; do printf '%s x%s, ' "$k" "${KINDS[$k]}"; done)
check "no round lost a committed group ($LOST lost; outcomes: ${kinds%, })" [ "$LOST" -eq 0 ]
refusals=$(( ${KINDS[refused/committed]:-0} + ${KINDS[committed/refused]:-0} ))
check "the race was real: in $refusals of $ROUNDS rounds one open was refused while the other writer held the file" [ "$refusals" -gt 0 ]

# --- without locks (as natively, no lock taken), a commit on another's is refused ----------
for how in env fapl; do
  if [ $how = env ]; then set_nolock=(HDF5_USE_FILE_LOCKING=FALSE); else set_nolock=(TW_NOLOCK=1); fi
  tw create "$F"
  env "${set_nolock[@]}" "$TW" write "$F" a "$N" 0 200 </dev/null >a.out 2>a.err &
  pa=$!
  env "${set_nolock[@]}" "$TW" write "$F" b "$N" 0 900 </dev/null >b.out 2>b.err &
  pb=$!
  wait "$pa"; wait "$pb"
  oa=$(outcome a); ob=$(outcome b)
  total=$(tw count "$F" 2>/dev/null)
  check "locking off ($how): both writers open (a $oa, b $ob)" [ "$(cat a.out b.out | grep -cx opened)" = 2 ]
  if [ "$oa" = committed ] && [ "$ob" = failed ] && grep -q "$CONFLICT" b.err && [ "$total" = "$N" ]; then
    pass "locking off ($how): the later commit is refused naming the conflict, the earlier one's $N groups stay"
  else
    fail "locking off ($how): a $oa, b $ob, the file holds ${total:-?} groups"
    sed 's/^/    b: /' b.err | grep -v '^    b:  *\(major\|minor\):' | head -8
  fi
  # A reader without locks takes none: a writer with locks opens while it reads.
  env "${set_nolock[@]}" "$TW" count "$F" hold 1500 </dev/null >r.out 2>r.err &
  pr=$!
  wait_line r.out "$N"
  out=$(tw write "$F" c 1 0 0 2>&1)
  check "locking off ($how): a locking writer opens while an unlocked reader has the file" grep -q '^committed 1' <<<"$out"
  wait "$pr"
done

# --- native's rules for readers and writers ------------------------------------------------
tw create "$F"
"$TW" hold "$F" h 5 >h.out 2>h.err &
ph=$!; PIDS+=("$ph")
if wait_line h.out ready; then
  out=$(tw count "$F" 2>&1)
  check "a reader is refused while a writer has the file ($LOCKED)" grep -q "$LOCKED" <<<"$out"
  out=$(tw count "$F" swmr 2>&1)
  check "a SWMR reader is refused while a non-SWMR writer has the file" grep -q "$LOCKED" <<<"$out"
  out=$(tw write "$F" x 1 0 0 2>&1)
  check "a second writer is refused while a writer has the file" grep -q "$LOCKED" <<<"$out"
else
  fail "holding writer: $(tr '\n' ' ' <h.err | head -c 400)"
fi
# --- a killed writer ---
kill -KILL "$ph"; wait "$ph" 2>/dev/null
t0=$(now_ms)
if [ "$LEASED" = no ]; then
  out=$(tw write "$F" k 3 0 0 2>&1)
  check "a killed writer leaves no lock: the next writer opens at once" grep -q '^committed 3' <<<"$out"
else
  out=$(tw write "$F" k 3 0 0 2>&1)
  check "a killed writer's lease still counts right after the kill" grep -q "$LOCKED" <<<"$out"
  until out=$(tw write "$F" k 3 0 0 2>&1); grep -q '^committed 3' <<<"$out"; do
    [ $(( $(now_ms) - t0 )) -lt $(( (LEASE + 10) * 1000 )) ] || break
    sleep 0.2
  done
  took=$(secs "$t0" "$(now_ms)")
  check "a killed writer's lease expires: the next writer opened after $took s (lease $LEASE s)" grep -q '^committed 3' <<<"$out"
fi
check "the killed writer's flushed groups are there" [ "$(tw prefix "$F" h)" = 5 ]

"$TW" count "$F" hold 2000 >r.out 2>r.err &
pr=$!
wait_line r.out 8
out=$(tw write "$F" y 1 0 0 2>&1)
check "a writer is refused while a reader has the file" grep -q "$LOCKED" <<<"$out"
out=$(tw count "$F" 2>&1)
check "readers share the file" grep -qx 8 <<<"$out"
wait "$pr"

"$TW" write "$F" s 4 0 2500 swmr >s.out 2>s.err &
ps=$!
if wait_line s.out opened; then
  out=$(tw count "$F" swmr 2>&1)
  check "a SWMR reader opens while a SWMR writer has the file" grep -qx 8 <<<"$out"
  out=$(tw count "$F" 2>&1)
  check "a non-SWMR reader is refused while a SWMR writer has the file" grep -q "$LOCKED" <<<"$out"
  out=$(tw write "$F" z 1 0 0 2>&1)
  check "a second writer is refused while a SWMR writer has the file" grep -q "$LOCKED" <<<"$out"
else
  fail "SWMR writer: $(tr '\n' ' ' <s.err | head -c 400)"
fi
wait "$ps"
check "the SWMR writer committed" grep -q '^committed 4' s.out

# --- a reader (without locks) sees whole committed states only ---------------------------
tw create "$F"
"$TW" steps "$F" p 8 50 150 >p.out 2>p.err &
pp=$!
bad=0; seen=0; counts=
while kill -0 "$pp" 2>/dev/null; do
  c=$(HDF5_USE_FILE_LOCKING=FALSE tw count "$F" 2>/dev/null) || continue
  seen=$((seen + 1)); counts="$counts $c"
  [ $(( c % 50 )) -eq 0 ] || bad=$((bad + 1))
done
wait "$pp"
check "a reader saw only whole flushed states while the writer worked ($seen looks:$(echo "$counts" | tr ' ' '\n' | sort -nu | tr '\n' ' '))" \
  [ "$bad" -eq 0 -a "$seen" -gt 0 ]

summary
