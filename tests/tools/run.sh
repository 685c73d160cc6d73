#!/usr/bin/env bash
# Golden-output tests of the HDF5 command-line tools through rustvol, across processes.
#
#   tests/tools/run.sh [--update] [INFO]
#
# INFO is a rustvol info string with a persistent backend, e.g.
#   tests/tools/run.sh 'backend=dir;root=/tmp/rustvol-store'
#   tests/tools/run.sh 'backend=s3;bucket=B;endpoint=http://127.0.0.1:3900;region=garage'
# Without INFO: $RUSTVOL_TEST_INFO, else a dir backend inside the scratch directory.
# (backend=memory cannot work here: every tool is a separate process.)
#
# What it does, in a fresh scratch directory (mktemp), for the given INFO:
#  1. runs the example programs (build/h5_examples/*) through rustvol, one process each, writing
#     rustvol files, and natively, writing native .h5 files with the same content;
#  2. runs h5dump, h5ls, h5diff, h5repack, h5copy, h5mkgrp and h5stat on them through rustvol
#     (HDF5_VOL_CONNECTOR and/or the tools' --vol-name=rustvol --vol-info=INFO options) and the
#     same commands natively on the native files;
#  3. normalises every output (see normalise() below) and compares it with the golden file
#     tests/tools/expected/NAME.txt (recorded from native HDF5), or, where rustvol cannot give the
#     native output, with tests/tools/expected/NAME.rustvol.txt (listed, with the reason, in
#     RUSTVOL_SPECIFIC below);
#  4. prints "PASS NAME[MODE]" or "FAIL NAME[MODE]" (with a diff) per check, then
#     "N passed, N failed"; the exit status is 1 when anything failed.
#
# MODE says how the command ran: native (plain HDF5, native files), env (HDF5_VOL_CONNECTOR=
# "rustvol INFO"), opt (the tool's --vol-name/--vol-info options, no HDF5_VOL_CONNECTOR).
#
# Files: rustvol files are named RUN/NAME.h5 with RUN unique per invocation (so runs never see each
# other's files in a persistent store and the script is idempotent); native files are
# SCRATCH/native/RUN/NAME.h5 and the tools see them under the same relative name RUN/NAME.h5
# (they run in SCRATCH/native), so the outputs print the same file names.
#
# --update rewrites the golden files from this run: NAME.txt from the native outputs, and
# NAME.rustvol.txt from rustvol's output for the checks listed in RUSTVOL_SPECIFIC (below).
# Review the diff before committing.
#
# Environment: RUSTVOL_TOOLS_KEEP=1 keeps the scratch directory (and, for backend=dir, the RUN
# directory in the store) and prints where it is; RUSTVOL_EXAMPLES_DIR overrides build/h5_examples.
# Nothing reads standard input.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EXP=$HERE/expected
# shellcheck source=/dev/null
. "$ROOT/scripts/env.sh"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

UPDATE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --update) UPDATE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -le 1 ]] || { echo "run.sh: give one INFO string (quote it)" >&2; exit 2; }

BIN=$HDF5_DIR/bin
PLUGIN_DIR=$RUSTVOL_PLUGIN_DIR
EXAMPLES=${RUSTVOL_EXAMPLES_DIR:-$ROOT/build/h5_examples}
EXAMPLE_NAMES=(write_read groups_links attributes datatypes hyperslab extend references compound_vlen external_refs)
# h5repack cannot copy groups_links (soft/external links go through H5Lcopy, which HDF5 refuses
# between files of different connectors) nor references (h5repack 1.14.5 fails on H5T_STD_REF
# attributes even natively); see docs/tools.md.
REPACK_NAMES=(write_read attributes datatypes hyperslab extend)
# h5diff against the native file runs in the rustvol directory, where the native copy's
# references into its second file (a relative name) cannot be followed natively.
DIFF_NAMES=(write_read groups_links attributes datatypes hyperslab extend references compound_vlen)

for tool in h5dump h5ls h5diff h5repack h5copy h5mkgrp h5stat; do
  [[ -x $BIN/$tool ]] || { echo "run.sh: $BIN/$tool missing (scripts/setup-hdf5.sh)" >&2; exit 2; }
done
[[ -f $PLUGIN_DIR/librustvol.so ]] || {
  echo "run.sh: $PLUGIN_DIR/librustvol.so missing (HDF5_DIR=$HDF5_DIR cargo build --release)" >&2; exit 2; }
for ex in "${EXAMPLE_NAMES[@]}"; do
  [[ -x $EXAMPLES/$ex ]] || { echo "run.sh: $EXAMPLES/$ex missing (cmake --build build)" >&2; exit 2; }
done

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-tools.XXXXXX")
# Unique per invocation, and of fixed length: h5ls and h5dump wrap long lines, so the length of
# the file names they print (RUN/NAME.h5) must not vary between runs.
RUN=$(printf 'run-%08x%08x' "$(($(date +%s) & 0xffffffff))" "$((($$ << 15 | RANDOM) & 0xffffffff))")
NAT=$SCRATCH/native     # cwd of native commands; native files NAT/RUN/...
RV=$SCRATCH/rustvol     # cwd of rustvol commands; must not receive any native .h5 file
RVX=$SCRATCH/rvexport   # native files exported from rustvol by h5repack
OUT=$SCRATCH/out        # raw (.MODE), stderr (.MODE.err) and normalised (.MODE.norm) outputs
mkdir -p "$NAT/$RUN"/{imp,exp,env} "$RV/$RUN" "$RVX/$RUN/exp" "$OUT"
[[ $UPDATE == 1 ]] && mkdir -p "$EXP"

INFO=${1-${RUSTVOL_TEST_INFO-}}
[[ -n $INFO ]] || INFO="backend=dir;root=$SCRATCH/store"

# info_get KEY: the value of KEY in INFO ("" if absent).
info_get() {
  local item
  for item in ${INFO//;/ }; do
    [[ ${item%%=*} == "$1" ]] && { printf '%s\n' "${item#*=}"; return; }
  done
}
BACKEND=$(info_get backend | tr '[:upper:]' '[:lower:]')
STORE_ROOT=
if [[ $BACKEND == dir || $BACKEND == directory || $BACKEND == local ]]; then
  STORE_ROOT=$(info_get root)
  [[ $STORE_ROOT == /* ]] || STORE_ROOT=$RV/$STORE_ROOT   # relative roots resolve in RV
fi

cleanup() {
  [[ ${RUSTVOL_TOOLS_KEEP:-0} == 1 ]] && return
  [[ -n $STORE_ROOT && -d $STORE_ROOT/$RUN ]] && rm -rf -- "${STORE_ROOT:?}/$RUN"
  rm -rf -- "$SCRATCH"
}
trap cleanup EXIT

echo "rustvol info: $INFO"
echo "run: $RUN"
case $BACKEND in
  s3) echo "note: the s3 objects written under $RUN/ are left in the bucket" ;;
  "" | memory | mem) echo "note: backend=memory keeps files only inside one process; the checks across processes fail" ;;
esac

PASSED=0
FAILED=0

# ---------------------------------------------------------------------------------------------
# Running commands.
#
# setmode MODE sets MODE and the option arrays its commands use:
#   V       --vol-name/--vol-info (h5dump, h5ls) in opt mode
#   V1, V2  --vol-name-1/-info-1, --vol-name-2/-info-2 (h5diff) in opt mode
#   SRC,DST --src-vol-*/--dst-vol-* (h5repack) in opt mode
#   X       the directory where h5repack exports native files in this mode
setmode() {
  MODE=$1
  V=() V1=() V2=() SRC=() DST=()
  X=$RVX
  case $MODE in
    native) X=$NAT ;;
    env) ;;
    opt)
      V=(--vol-name=rustvol "--vol-info=$INFO")
      V1=(--vol-name-1=rustvol "--vol-info-1=$INFO")
      V2=(--vol-name-2=rustvol "--vol-info-2=$INFO")
      SRC=(--src-vol-name=rustvol "--src-vol-info=$INFO")
      DST=(--dst-vol-name=rustvol "--dst-vol-info=$INFO")
      ;;
    *) echo "run.sh: bad mode $MODE" >&2; exit 2 ;;
  esac
}

# in_mode CMD...: runs CMD in the current mode's directory and environment.
in_mode() {
  (
    export PATH="$BIN:$PATH"
    case $MODE in
      native) cd "$NAT" && unset HDF5_VOL_CONNECTOR HDF5_PLUGIN_PATH ;;
      env) cd "$RV" && export HDF5_PLUGIN_PATH="$PLUGIN_DIR" HDF5_VOL_CONNECTOR="rustvol $INFO" ;;
      opt) cd "$RV" && export HDF5_PLUGIN_PATH="$PLUGIN_DIR" && unset HDF5_VOL_CONNECTOR ;;
    esac
    exec "$@"
  ) </dev/null
}

# t CMD...: runs CMD in the current mode; appends its standard output and "[exit N]" to $ACT,
# its standard error to $ACT.err.
t() {
  in_mode "$@" >>"$ACT" 2>>"$ACT.err"
  echo "[exit $?]" >>"$ACT"
}

# t2 CMD...: like t, with standard error in $ACT too (for tools that report on stderr).
t2() {
  in_mode "$@" >>"$ACT" 2>&1
  echo "[exit $?]" >>"$ACT"
}

# tn DIR CMD...: runs CMD natively (no VOL connector) in DIR, output as for t.
tn() {
  local dir=$1 tool=$2
  shift 2
  (cd "$dir" && unset HDF5_VOL_CONNECTOR HDF5_PLUGIN_PATH && exec "$BIN/$tool" "$@") </dev/null >>"$ACT" 2>>"$ACT.err"
  echo "[exit $?]" >>"$ACT"
}

# ---------------------------------------------------------------------------------------------
# Normalisation: only what legitimately differs between backends or between runs. Applied to
# native and rustvol outputs alike.
normalise() {
  # (1) File paths: the scratch directories and the per-run directory RUN (with its imp/, exp/,
  #     env/, same/ subdirectories) vary per run; the file's own name stays.
  # (2) h5ls -v "Location:  F:TOKEN": an object token; native HDF5 prints the object header's file
  #     address, rustvol its object id. Same for committed datatypes, "shared-F:TOKEN".
  # (3) h5ls -v 'Opened "F" with DRIVER driver.': the virtual file driver (sec2) is part of the
  #     native connector only; a rustvol file has none (h5ls prints an empty name).
  # (4) h5ls -v "Modified:": objects with version-2 headers (e.g. tracking attribute creation
  #     order) carry their modification time natively, which differs on every run; rustvol does
  #     not record object times (H5Oget_info3 gives 0, and h5ls then prints no line).
  # (5) h5dump -p "OFFSET N" (or "OFFSET HADDR_UNDEF" before any data is written) in
  #     STORAGE_LAYOUT: the file address of contiguous raw data (H5Dget_offset), native-format
  #     only; rustvol reports none and h5dump prints no line.
  # (6) h5dump -x OBJ-XID/Parents "xid_TOKEN", and h5dump's names of anonymous objects "#TOKEN"
  #     (e.g. the datatype H5Ocopy commits anonymously): object tokens, as in (2).
  # (7) Storage size of datasets of variable-length or reference type, or of compounds with
  #     such members (h5dump -p "SIZE N", h5ls -v "Storage: ... N allocated bytes, P%
  #     utilization"): native HDF5 counts the 16-byte global-heap ids (or encoded references)
  #     kept in the dataset, rustvol the bytes of the encoded elements it stores. Fixed-size
  #     datasets keep their sizes, which must match.
  sed -e "s#$NAT/##g; s#$RVX/##g; s#$RV/##g; s#$SCRATCH/##g" \
      -e "s#$RUN/imp/##g; s#$RUN/exp/##g; s#$RUN/env/##g; s#$RUN/same/##g; s#$RUN/##g" \
      -e 's/^\(    Location:  \).*/\1<token>/' \
      -e 's/shared-[0-9]*:[0-9]*/shared-<token>/g' \
      -e 's/^\(Opened ".*" with \).*\( driver\.\)$/\1<driver>\2/' \
      -e '/^    Modified:  /d' \
      -e '/^ *OFFSET [0-9][0-9]*$/d; /^ *OFFSET HADDR_UNDEF$/d' \
      -e 's/xid_[0-9][0-9]*/xid_<token>/g' \
      -e 's/"\(\/\{0,1\}\)#[^"]*"/"\1#<token>"/g' |
    awk '
      # (7), h5dump -p: a DATASET block whose DATATYPE is variable-length or a reference.
      /^ *DATASET "/ { varlen = 0 }
      /H5T_VLEN|STRSIZE H5T_VARIABLE|H5T_REFERENCE/ { varlen = 1 }
      /STORAGE_LAYOUT \{/ { layout = 1 }
      layout && varlen && /^ *SIZE [0-9]+/ { sub(/SIZE [0-9]+.*/, "SIZE <variable-length>") }
      layout && /^ *}$/ { layout = 0 }
      # (7), h5ls -v: an entry starts at column 0; its own "Type:" line (4 spaces) follows
      # "Storage:", so entries are buffered.
      function flush(   i, l) {
        for (i = 1; i <= n; i++) {
          l = buf[i]
          if (vlstr && l ~ /^    Storage:   [0-9]+ logical bytes, /)
            sub(/, [0-9]+ allocated bytes, [0-9.]+% utilization/,
                ", <variable-length> allocated bytes, <variable-length> utilization", l)
          print l
        }
        n = 0; vlstr = 0
      }
      /^[^ ]/ { flush(); intype = 0 }
      { buf[++n] = $0 }
      # The entry'"'"'s own type (its "Type:" line and the member lines below it, not the types of
      # its attributes): a variable-length string, or a compound with such members.
      /^    [^ ]/ { intype = ($0 ~ /^    Type:      /) }
      intype && /variable-length .*string/ { vlstr = 1 }
      END { flush() }'
}

# ---------------------------------------------------------------------------------------------
# Comparing.

# compare NAME GOLDEN ACTUAL_NORMALISED [STDERR]: PASS/FAIL line, diff on failure.
compare() {
  local name=$1 golden=$2 actual=$3 err=${4-}
  if [[ -f $golden ]] && diff -q "$golden" "$actual" >/dev/null; then
    echo "PASS $name"
    PASSED=$((PASSED + 1))
    return
  fi
  echo "FAIL $name"
  FAILED=$((FAILED + 1))
  if [[ ! -f $golden ]]; then
    echo "    missing golden file ${golden#"$ROOT"/} (tests/tools/run.sh --update writes it)"
  else
    diff -u --label "${golden#"$ROOT"/}" --label "$name" "$golden" "$actual" | sed 's/^/    /'
  fi
  if [[ -n $err && -s $err ]]; then
    echo "    standard error (first 20 lines):"
    head -n 20 "$err" | sed 's/^/    | /'
  fi
}

# Checks whose rustvol output cannot equal the native one, and why. Their rustvol runs are
# compared with expected/NAME.rustvol.txt (written from rustvol's output by --update); all other
# rustvol runs with the native golden expected/NAME.txt.
declare -A RUSTVOL_SPECIFIC=(
  [h5dump-B.write_read]="the superblock is a structure of the native file format; a rustvol file
    has none, so h5dump -B prints no SUPER_BLOCK"
  [h5stat.write_read]="h5stat reads native-format statistics (object headers, B-trees, heaps,
    free space, file size) that a rustvol file does not have; it prints the file name and
    warnings and fails (docs/tools.md)"
)

# check NAME "MODES" FUNC ARGS...: runs FUNC ARGS in each mode (FUNC builds $ACT with t/t2/tn)
# and compares the normalised output with the golden file: expected/NAME.txt for a native run
# (written from it by --update), and for a rustvol run the same file, or expected/NAME.rustvol.txt
# for the checks in RUSTVOL_SPECIFIC.
check() {
  local name=$1 modes=$2 mode golden
  shift 2
  for mode in $modes; do
    setmode "$mode"
    ACT=$OUT/$name.$mode
    : >"$ACT"
    : >"$ACT.err"
    "$@"
    normalise <"$ACT" >"$ACT.norm"
    golden=$EXP/$name.txt
    if [[ $mode != native && -n ${RUSTVOL_SPECIFIC[$name]+set} ]]; then
      golden=$EXP/$name.rustvol.txt
    fi
    # One write per golden file: the first run that is compared with it.
    if [[ $UPDATE == 1 && ! -e $OUT/updated.${golden##*/} ]]; then
      cp "$ACT.norm" "$golden"
      : >"$OUT/updated.${golden##*/}"
    fi
    compare "${name}[$mode]" "$golden" "$ACT.norm" "$ACT.err"
  done
}

# ---------------------------------------------------------------------------------------------
# The checks. Each function appends the outputs of one or more commands to $ACT.

# 1. Writing: every example program in its own process, natively and through rustvol (env);
#    its standard output must be native HDF5's (h5_examples/expected, as ctest requires).
do_write() { t "$EXAMPLES/$1" "$RUN/$2.h5"; }
write_check() {
  local ex=$1 file=${2:-$1} mode
  for mode in native env; do
    setmode "$mode"
    ACT=$OUT/write.$file.$mode
    : >"$ACT"
    : >"$ACT.err"
    do_write "$ex" "$file"
    normalise <"$ACT" >"$ACT.norm"
    { cat "$ROOT/h5_examples/expected/$ex.txt"; echo "[exit 0]"; } >"$OUT/write.$file.golden"
    compare "write.${file}[$mode]" "$OUT/write.$file.golden" "$ACT.norm" "$ACT.err"
  done
}
for ex in "${EXAMPLE_NAMES[@]}"; do write_check "$ex"; done
write_check write_read write_read_2   # a second, independent writer process (for h5diff, h5mkgrp)

# Guard: rustvol must really have been used. If HDF5 cannot load the connector it warns and
# carries on natively, which would make every check below compare native with native.
guard() {
  local stray
  stray=$(find "$RV" -type f -name '*.h5' | head -n 5)
  if [[ -n $stray ]]; then
    echo "native HDF5 files where only rustvol should write:"
    echo "$stray"
  fi >>"$ACT"
  # Natively (no VOL connector) in RV there is no file of that name to open: h5dump fails.
  tn "$RV" h5dump -H "$RUN/write_read.h5"
  if [[ -n $STORE_ROOT ]]; then
    [[ -f $STORE_ROOT/$RUN/write_read.h5/manifest.json ]] && echo "dir store: manifest.json present" ||
      echo "dir store: $STORE_ROOT/$RUN/write_read.h5/manifest.json missing"
  else
    echo "dir store: manifest.json present"   # nothing to look at for other backends
  fi >>"$ACT"
}
guard_check() {
  ACT=$OUT/guard
  : >"$ACT"
  : >"$ACT.err"
  guard
  normalise <"$ACT" >"$ACT.norm"
  printf '%s\n' "[exit 1]" "dir store: manifest.json present" >"$OUT/guard.golden"
  compare "guard.rustvol-files-are-not-native" "$OUT/guard.golden" "$ACT.norm"
}
guard_check

# 2. Cross-process: a rustvol file written by one process (write_read), extended by two others
#    (h5mkgrp, then h5copy within the same file) and read by a fourth (h5dump).
cross_process() {
  t "$EXAMPLES/write_read" "$RUN/xp.h5"
  t h5mkgrp -p "$RUN/xp.h5" /added/by_h5mkgrp
  t h5copy -i "$RUN/xp.h5" -o "$RUN/xp.h5" -s /experiment/run1/temperature -d /added/temperature
  t h5dump "$RUN/xp.h5"
}
check cross-process.write_read "native env" cross_process

# 3. h5dump, whole files: through HDF5_VOL_CONNECTOR and through --vol-name/--vol-info.
whole_dump() { t h5dump "${V[@]}" "$RUN/$1.h5"; }
for ex in "${EXAMPLE_NAMES[@]}"; do check "h5dump.$ex" "native env opt" whole_dump "$ex"; done

# h5dump with options. h5dump_opts FILE ARGS...
h5dump_opts() {
  local f=$1
  shift
  t h5dump "${V[@]}" "$@" "$RUN/$f.h5"
}
check h5dump-A.attributes "native env opt" h5dump_opts attributes -A
check h5dump-H.datatypes "native env opt" h5dump_opts datatypes -H
check h5dump-n.groups_links "native env opt" h5dump_opts groups_links -n
check h5dump-g.groups_links "native env opt" h5dump_opts groups_links -g /archive
check h5dump-d.write_read "native env opt" h5dump_opts write_read -d /experiment/run1/counts -s 1,2 -c 3,4
check h5dump-d-stride.hyperslab "native env opt" h5dump_opts hyperslab -d /chunked -s 1,1 -S 3,4 -c 3,2 -k 2,2
check h5dump-d-A.extend "native env opt" h5dump_opts extend -A -d /grid -d /log
check h5dump-a.attributes "native env opt" h5dump_opts attributes -a /instrument/signal/max -a /instrument/owner
check h5dump-R.references "native env opt" h5dump_opts references -R
check h5dump-N.references "native env opt" h5dump_opts references -N /sensors
# References into another file: followed into it (-R prints the referenced region's data).
check h5dump-R.external_refs "native env opt" h5dump_opts external_refs -R
check h5dump-a.external_refs "native env opt" h5dump_opts external_refs -a /local/elsewhere
check h5dump-x.write_read "native env opt" h5dump_opts write_read -x
# -p: storage layout, filters, fill value and allocation time (normalisations 5 and 7).
for ex in "${EXAMPLE_NAMES[@]}"; do check "h5dump-p.$ex" "native env opt" h5dump_opts "$ex" -p -H; done
# -B: the superblock exists only in native files (RUSTVOL_SPECIFIC).
check h5dump-B.write_read "native opt" h5dump_opts write_read -B -H
# -b: raw binary export of a dataset; the bytes themselves, as hex.
h5dump_binary() {
  t h5dump "${V[@]}" -d /experiment/run1/counts -b LE -o "$RUN/counts.bin" "$RUN/write_read.h5"
  local dir=$NAT
  [[ $MODE == native ]] || dir=$RV
  od -An -tx1 -v "$dir/$RUN/counts.bin" >>"$ACT" 2>>"$ACT.err"
}
check h5dump-b.write_read "native env opt" h5dump_binary

# 4. h5ls -r -v (the = form of the options), h5ls -r -d (data), h5ls -r -E (external links
#    followed into the other rustvol file).
h5ls_opts() {
  local f=$1
  shift
  t h5ls "${V[@]}" "$@" "$RUN/$f.h5"
}
for ex in "${EXAMPLE_NAMES[@]}"; do check "h5ls-rv.$ex" "native opt" h5ls_opts "$ex" -r -v; done
for ex in "${EXAMPLE_NAMES[@]}"; do check "h5ls-rd.$ex" "native env" h5ls_opts "$ex" -r -d; done
check h5ls-E.groups_links "native env opt" h5ls_opts groups_links -r -E

# 5. h5diff of each rustvol file (--vol-name-1/--vol-info-1) against the native file with the same
#    content: no difference, exit 0. The native run compares the native file with a byte copy
#    (h5diff skips the attributes of objects it finds to be the very same object).
mkdir -p "$NAT/$RUN/same"
cp "$NAT/$RUN"/*.h5 "$NAT/$RUN/same/"
h5diff_native() { t h5diff -v "${V1[@]}" "$RUN/$1.h5" "$NAT/$RUN/same/$1.h5"; }
for ex in "${DIFF_NAMES[@]}"; do check "h5diff.$ex" "native opt" h5diff_native "$ex"; done
# Two rustvol files from two writer processes: both options (opt) and HDF5_VOL_CONNECTOR (env).
h5diff_two() { t h5diff -v "${V1[@]}" "${V2[@]}" "$RUN/write_read.h5" "$RUN/write_read_2.h5"; }
check h5diff-rustvol-rustvol.write_read "native env opt" h5diff_two
# A real difference must still be found: exit 1 and the differing values.
h5diff_differs() {
  t h5diff -v "${V1[@]}" "$RUN/extend.h5" "$NAT/$RUN/groups_links.h5" /plain /ordered/samples
}
check h5diff-differs "native opt" h5diff_differs

# 6. h5repack: native file -> rustvol (--dst-vol-*), rustvol -> native (--src-vol-*), and h5diff
#    of the round trip against the original. The native runs repack native -> native -> native.
repack_import() {
  t h5repack "${DST[@]}" "$NAT/$RUN/$1.h5" "$RUN/imp/$1.h5"
  t h5dump "${V[@]}" "$RUN/imp/$1.h5"
  t h5diff -v "${V1[@]}" "$RUN/imp/$1.h5" "$NAT/$RUN/$1.h5"
}
repack_export() {
  t h5repack "${SRC[@]}" "$RUN/imp/$1.h5" "$X/$RUN/exp/$1.h5"
  tn "$X" h5dump "$RUN/exp/$1.h5"
}
repack_roundtrip() { tn "$X" h5diff -v "$NAT/$RUN/$1.h5" "$RUN/exp/$1.h5"; }
for ex in "${REPACK_NAMES[@]}"; do
  check "h5repack-import.$ex" "native opt" repack_import "$ex"
  check "h5repack-export.$ex" "native opt" repack_export "$ex"
  check "h5repack-roundtrip.$ex" "native opt" repack_roundtrip "$ex"
done
# rustvol -> rustvol through HDF5_VOL_CONNECTOR (one connector: soft and external links can be
# copied, so groups_links too).
repack_env() {
  t h5repack "$RUN/$1.h5" "$RUN/env/$1.h5"
  t h5diff -v "$RUN/$1.h5" "$RUN/env/$1.h5"
}
check h5repack-env.write_read "native env" repack_env write_read
check h5repack-env.groups_links "native env" repack_env groups_links

# 7. h5copy (which has no VOL options) and h5mkgrp through HDF5_VOL_CONNECTOR, then h5dump of
#    the result.
copies() {
  local src=$RUN/write_read.h5 dst=$RUN/copy.h5
  t h5copy -v -i "$src" -o "$dst" -s /experiment -d /exp_copy
  t h5copy -v -p -i "$src" -o "$dst" -s /experiment/run1/counts -d /a/b/counts
  t h5copy -f shallow -i "$src" -o "$dst" -s /experiment -d /shallow
  t h5copy -f noattr -i "$src" -o "$dst" -s /experiment/run1/counts -d /counts_noattr
  t h5copy -i "$RUN/groups_links.h5" -o "$dst" -s /archive -d /archive
  t h5copy -f ext -i "$RUN/groups_links.h5" -o "$dst" -s /ordered/external -d /external_expanded
  t h5copy -i "$src" -o "$dst" -s /nothing -d /nothing
  t h5dump "$dst"
}
check h5copy "native env" copies
# A dataset whose datatype is committed: native H5Ocopy commits the type anonymously in the
# destination (h5dump: DATATYPE "/#TOKEN"), and copies the named type with its attribute.
copy_committed() {
  t h5copy -i "$RUN/datatypes.h5" -o "$RUN/copy_committed.h5" -s /track_start -d /track_start
  t h5copy -i "$RUN/datatypes.h5" -o "$RUN/copy_committed.h5" -s /types -d /types
  t h5dump "$RUN/copy_committed.h5"
}
check h5copy-committed-datatype "native env" copy_committed
mkgrp() {
  t h5mkgrp -v -p "$RUN/mkgrp.h5" /new/deep/group /other   # creates the file
  t h5mkgrp "$RUN/mkgrp.h5" /new                             # exists: fails
  t h5mkgrp "$RUN/mkgrp.h5" /missing/parent                  # no -p: fails
  t h5mkgrp -v "$RUN/write_read_2.h5" /experiment/added      # into a file another process wrote
  t h5dump -n "$RUN/mkgrp.h5"
  t h5dump -g /experiment "$RUN/write_read_2.h5"
}
check h5mkgrp "native env" mkgrp
# h5mkgrp also takes --vol-name/--vol-info (h5copy does not).
mkgrp_opt() {
  t h5mkgrp "${V[@]}" -v -p "$RUN/mkgrp_opt.h5" /x/y /z
  t h5mkgrp "${V[@]}" "$RUN/mkgrp_opt.h5" /x
  t h5dump "${V[@]}" -n "$RUN/mkgrp_opt.h5"
}
check h5mkgrp-opt "native opt" mkgrp_opt

# 8. h5stat needs native-format information for every object (H5Oget_native_info_by_name) and
#    the file (H5Fget_filesize, H5Fget_info2, H5Fget_free_sections); through rustvol it prints only
#    the file name and warnings, and fails (RUSTVOL_SPECIFIC, docs/tools.md). It has no
#    --vol-name option in 1.14.5: HDF5_VOL_CONNECTOR only.
check h5stat.write_read "native env" t2 h5stat "$RUN/write_read.h5"

[[ ${RUSTVOL_TOOLS_KEEP:-0} == 1 ]] && echo "kept: scratch $SCRATCH${STORE_ROOT:+, store $STORE_ROOT/$RUN}"
echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
