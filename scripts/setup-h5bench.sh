#!/usr/bin/env bash
# h5bench 1.4 (its h5bench_write and h5bench_read only), built unmodified from the vendored
# tarball against the parallel HDF5 of scripts/setup-mpi.sh, into $RUSTVOL_H5BENCH_DIR
# (~/.cache/rustvol/h5bench-1.4/bin). Idempotent: a finished build is detected by its stamp.
#
# The tarball: $RUSTVOL_H5BENCH_TARBALL, else h5bench-1.4-675c86d.tar.gz in the cache or in a
# shared/vendor directory beside the checkout or beside one of its parents; its sha256 must be
# $RUSTVOL_H5BENCH_SHA256. A tarball found outside the cache is copied into it, so that clones
# made anywhere else later (CI clones to a directory of its own) still find it.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
PREFIX=$RUSTVOL_H5BENCH_DIR
STAMP=$PREFIX/.rustvol-complete
MPI_HDF5=${RUSTVOL_MPI_HDF5_DIR:-$RUSTVOL_CACHE/hdf5-parallel-$RUSTVOL_HDF5_VERSION}
NAME=h5bench-$RUSTVOL_H5BENCH_VERSION-$RUSTVOL_H5BENCH_COMMIT.tar.gz

if [ -f "$STAMP" ] && [ -x "$PREFIX/bin/h5bench_write" ] && [ -x "$PREFIX/bin/h5bench_read" ]; then
  echo "h5bench: using $PREFIX"
  exit 0
fi
[ -f "$MPI_HDF5/.rustvol-complete" ] || { echo "h5bench: no parallel HDF5 in $MPI_HDF5 (run scripts/setup-mpi.sh)" >&2; exit 1; }

tarball=${RUSTVOL_H5BENCH_TARBALL:-}
if [ -z "$tarball" ]; then
  candidates=("$RUSTVOL_CACHE/$NAME")
  d=$RUSTVOL_ROOT
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    candidates+=("$d/shared/vendor/$NAME")
  done
  # This workplace's shared folder, for a clone made outside it on a machine whose cache is new.
  candidates+=("/work/shared/vendor/$NAME")
  for c in "${candidates[@]}"; do
    [ -f "$c" ] && { tarball=$c; break; }
  done
fi
[ -n "$tarball" ] && [ -f "$tarball" ] ||
  { echo "h5bench: no $NAME in the cache or in a shared/vendor beside $RUSTVOL_ROOT or its parents (set RUSTVOL_H5BENCH_TARBALL)" >&2; exit 1; }
echo "$RUSTVOL_H5BENCH_SHA256  $tarball" | sha256sum -c --quiet - || { echo "h5bench: $tarball has the wrong sha256" >&2; exit 1; }
if [ "$tarball" != "$RUSTVOL_CACHE/$NAME" ]; then
  mkdir -p "$RUSTVOL_CACHE" && cp -f "$tarball" "$RUSTVOL_CACHE/$NAME.tmp" && mv -f "$RUSTVOL_CACHE/$NAME.tmp" "$RUSTVOL_CACHE/$NAME"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-h5bench-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$tarball" -C "$WORK"
SRC=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d | head -n1)
# The tarball leaves out h5bench's tests/ directory, which its CMakeLists adds last
# (add_subdirectory): an empty one stands in, the sources stay as they are.
[ -e "$SRC/tests/CMakeLists.txt" ] || { mkdir -p "$SRC/tests" && : >"$SRC/tests/CMakeLists.txt"; }
# h5bench's CMakeLists takes HDF5 from HDF5_HOME/HDF5_DIR; mpicc compiles (find_package(MPI)).
# CMake's FindHDF5 asks the h5pcc wrapper (the installed hdf5-config.cmake names test programs
# setup-mpi.sh does not install). Its own CMAKE_BUILD_TYPE (Debug) is left as it is. An RPATH
# (searched before LD_LIBRARY_PATH, unlike RUNPATH) holds the binaries to the parallel libhdf5,
# whose soname the serial one shares.
HDF5_HOME=$MPI_HDF5 HDF5_DIR=$MPI_HDF5 PATH=$MPI_HDF5/bin:$PATH CC=mpicc \
  cmake -S "$SRC" -B "$WORK/build" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON \
  -DHDF5_C_COMPILER_EXECUTABLE="$MPI_HDF5/bin/h5pcc" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags,-rpath,$MPI_HDF5/lib" >"$WORK/cmake.log" 2>&1 ||
  { tail -n 40 "$WORK/cmake.log"; exit 1; }
nice -n 10 cmake --build "$WORK/build" -j2 --target h5bench_write h5bench_read >"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log"; exit 1; }
rm -rf "$PREFIX"
mkdir -p "$PREFIX/bin"
cp -f "$WORK/build/h5bench_write" "$WORK/build/h5bench_read" "$PREFIX/bin/"
cp -f "$SRC/license.txt" "$PREFIX/"
# The binaries must take the parallel HDF5, whatever LD_LIBRARY_PATH the caller has.
for b in h5bench_write h5bench_read; do
  # Captured first: with pipefail, `ldd | grep -q` fails whenever grep's early exit cuts ldd off.
  libs=$(ldd "$PREFIX/bin/$b")
  grep -q "$MPI_HDF5/lib/libhdf5" <<<"$libs" ||
    { echo "h5bench: $b does not link $MPI_HDF5/lib/libhdf5:"; echo "$libs"; exit 1; }
done
touch "$STAMP"
echo "h5bench: installed $PREFIX"
