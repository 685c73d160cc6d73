#!/usr/bin/env bash
# The demo, no server needed: an unmodified HDF5 program (h5_examples/write_read.c) writes a
# file with groups, a chunked dataset and attributes through rustvol's `dir` backend (a plain
# local directory), an h5py script adds to it from another process, and h5ls and h5dump read
# it back. RUSTVOL_DEMO_INFO picks another backend (e.g. backend=memory: one process only).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$HERE/setup.sh" --demo
. "$HERE/env.sh"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cd "$RUSTVOL_ROOT"

DEMO_DIR=${RUSTVOL_DEMO_DIR:-$RUSTVOL_ROOT/target/demo}
rm -rf "$DEMO_DIR/store"
mkdir -p "$DEMO_DIR"
INFO=${RUSTVOL_DEMO_INFO:-backend=dir;root=$DEMO_DIR/store}
BUILD=$RUSTVOL_ROOT/build
BUILD_LOG=$RUSTVOL_ROOT/target/setup-logs/demo-build.log
if ! { cmake -S . -B "$BUILD" -DHDF5_DIR="$HDF5_DIR" && cmake --build "$BUILD" --target write_read rustvol_plugin; } >"$BUILD_LOG" 2>&1; then
  echo "demo: building the example failed; the end of $BUILD_LOG:" >&2
  tail -n 40 "$BUILD_LOG" | sed 's/^/  | /' >&2
  exit 1
fi
PROG=$BUILD/h5_examples/write_read

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

echo "rustvol demo: h5_examples/write_read.c, a plain HDF5 program, through rustvol"
echo
echo "\$ HDF5_PLUGIN_PATH=${RUSTVOL_PLUGIN_DIR#"$RUSTVOL_ROOT"/} HDF5_VOL_CONNECTOR=\"rustvol $INFO\" build/h5_examples/write_read demo.h5"
set +e
HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol $INFO" "$PROG" demo.h5 >out.txt 2>err.txt
rc=$?
set -e
sed 's/^/  /' out.txt
if [ -s err.txt ]; then
  echo "--- stderr ($(wc -l <err.txt) lines; the first 40):"
  head -n 40 err.txt
fi
echo
ok=1
if [ "$rc" -ne 0 ]; then
  echo "FAIL: write_read exited with status $rc"; ok=0
fi
if grep -q "HDF5-DIAG" err.txt; then
  echo "FAIL: HDF5 reported errors (if it could not load rustvol, it fell back to native HDF5)"; ok=0
fi
if [ -f demo.h5 ] && [ "$(head -c 8 demo.h5 | od -An -tx1 | tr -d ' \n')" = "894844460d0a1a0a" ]; then
  echo "FAIL: demo.h5 is a native HDF5 file: rustvol was not used"; ok=0
fi
if cmp -s out.txt "$RUSTVOL_ROOT/h5_examples/expected/write_read.txt"; then
  echo "The output is identical to native HDF5's (h5_examples/expected/write_read.txt)."
else
  echo "FAIL: the output differs from native HDF5's:"
  diff -u "$RUSTVOL_ROOT/h5_examples/expected/write_read.txt" out.txt || true
  ok=0
fi
case " $(tr ';' ' ' <<<"$INFO") " in
  *" backend=memory "*)
    [ -e demo.h5 ] || echo "Nothing was written to disk: the memory backend kept demo.h5 inside the process."
    [ "$ok" = 1 ]
    exit 0 ;;
esac
[ "$ok" = 1 ]

run() {
  echo
  printf '$'; printf ' %q' "$@" | sed "s|$HDF5_DIR/bin/||g; s| $RUSTVOL_ROOT/| |g"; echo
  "$@" 2>&1 | sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}
export HDF5_PLUGIN_PATH=$RUSTVOL_PLUGIN_DIR
echo
echo "(HDF5_PLUGIN_PATH=$HDF5_PLUGIN_PATH from here on)"
echo "Another process, an h5py script, adds a group to the same file:"
export HDF5_VOL_CONNECTOR="rustvol $INFO"
echo; echo "\$ export HDF5_VOL_CONNECTOR=\"$HDF5_VOL_CONNECTOR\""
run python "$RUSTVOL_ROOT/h5_examples/python/append_group.py" demo.h5
unset HDF5_VOL_CONNECTOR
echo
echo "The HDF5 tools read it through rustvol:"
run "$HDF5_DIR/bin/h5ls" --vol-name=rustvol --vol-info="$INFO" -r demo.h5
run "$HDF5_DIR/bin/h5dump" --vol-name=rustvol --vol-info="$INFO" -g /python demo.h5
echo
echo "What is stored (docs/FORMAT.md explains it):"
(cd "$DEMO_DIR/store" && find demo.h5 | sort | head -n 30 | sed 's/^/  /')
echo
echo "The store is kept in ${DEMO_DIR#"$RUSTVOL_ROOT"/}/store; look at it with h5ls/h5dump as above."
