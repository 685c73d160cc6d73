#!/usr/bin/env bash
# OpenMPI from Debian and a parallel HDF5 1.14.5 (-DHDF5_ENABLE_PARALLEL=ON, built with mpicc
# from the same source tree as the serial one: library, hl, tools, h5_api_test and
# h5_api_test_parallel), into $RUSTVOL_CACHE/hdf5-parallel-1.14.5, beside the serial build,
# which it leaves alone. Idempotent: a finished build is detected by its stamp file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/hdf5-source.sh"
PREFIX=$CACHE/hdf5-parallel-$HDF5_VERSION
STAMP=$PREFIX/.rustvol-complete

if [ -f "$STAMP" ]; then
  echo "hdf5-parallel: using $PREFIX"
  exit 0
fi

hdf5_source cmake zlib1g-dev pkg-config openmpi-bin libopenmpi-dev

BUILD=$WORK/build-parallel
CC=mpicc cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DHDF5_ENABLE_PARALLEL=ON \
  -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF -DBUILD_TESTING=ON \
  -DHDF5_BUILD_TOOLS=ON -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_UTILS=OFF \
  -DHDF5_ENABLE_Z_LIB_SUPPORT=ON -DHDF5_TEST_API=ON -DHDF5_TEST_API_INSTALL=ON \
  -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_CPP_LIB=OFF -DHDF5_BUILD_JAVA=OFF -DHDF5_BUILD_EXAMPLES=OFF \
  -DHDF5_TEST_SERIAL=OFF -DHDF5_TEST_TOOLS=OFF -DHDF5_TEST_VFD=OFF -DHDF5_TEST_PASSTHROUGH_VOL=OFF \
  -DHDF5_TEST_SWMR=OFF -DHDF5_TEST_PARALLEL=OFF \
  -DHDF5_TEST_CPP=OFF -DHDF5_TEST_FORTRAN=OFF -DHDF5_TEST_JAVA=OFF >"$WORK/cmake-parallel.log" 2>&1 ||
  { tail -n 40 "$WORK/cmake-parallel.log"; exit 1; }
TOOLS=(h5dump h5ls h5diff h5stat h5repack h5copy h5mkgrp)
TARGETS=(hdf5-shared hdf5_hl-shared "${TOOLS[@]}" h5_api_test h5_api_test_parallel)
# Two jobs, niced: the machine is shared, and this build is not on the serial tests' path.
nice -n 10 cmake --build "$BUILD" -j2 --target "${TARGETS[@]}" >"$WORK/build-parallel.log" 2>&1 ||
  { tail -n 40 "$WORK/build-parallel.log"; exit 1; }
# As in setup-hdf5.sh: install only the components that were built, then copy the binaries.
: >"$WORK/install-parallel.log"
for c in libraries headers hllibraries hlheaders toolslibraries configinstall; do
  cmake --install "$BUILD" --component "$c" >>"$WORK/install-parallel.log" 2>&1 ||
    { tail -n 40 "$WORK/install-parallel.log"; exit 1; }
done
mkdir -p "$PREFIX/bin" "$PREFIX/include"
for t in "${TOOLS[@]}" h5_api_test h5_api_test_parallel; do
  f=$(find "$BUILD/bin" -maxdepth 1 -name "$t" -type f | head -n1)
  [ -n "$f" ] && cp -f "$f" "$PREFIX/bin/"
done
cp -f "$SRC"/hl/src/*.h "$PREFIX/include/"
cp -a "$BUILD"/bin/lib*.so* "$PREFIX/lib/" 2>/dev/null || true

grep -q '#define H5_HAVE_PARALLEL 1' "$PREFIX/include/H5pubconf.h"
test -x "$PREFIX/bin/h5_api_test_parallel" && test -x "$PREFIX/bin/h5_api_test" &&
  test -f "$PREFIX/include/hdf5_hl.h" && test -f "$PREFIX/include/H5VLconnector.h"
touch "$STAMP"
echo "hdf5-parallel: installed $PREFIX"
