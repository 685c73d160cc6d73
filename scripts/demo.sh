#!/usr/bin/env bash
# The demo: an unmodified HDF5 program (h5_examples/write_read.c) writes a file with groups,
# a chunked dataset and attributes, closes it, reopens it and reads everything back, all
# stored by rustvol's memory backend instead of a native .h5 file.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$HERE/setup.sh"
. "$HERE/env.sh"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cd "$RUSTVOL_ROOT"

INFO=${RUSTVOL_DEMO_INFO:-backend=memory}
BUILD=$RUSTVOL_ROOT/build
cmake -S . -B "$BUILD" -DHDF5_DIR="$HDF5_DIR" >/dev/null
cmake --build "$BUILD" --target write_read rustvol_plugin >/dev/null
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
    [ -e demo.h5 ] || echo "Nothing was written to disk: the memory backend kept demo.h5 inside the process." ;;
esac
[ "$ok" = 1 ]
