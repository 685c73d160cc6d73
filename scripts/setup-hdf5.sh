#!/usr/bin/env bash
# Builds HDF5 1.14.5 (shared, with hl, the tools and the VOL API test suite) from Debian's
# source package, into a cache outside the clone so that every clone reuses it.
# Idempotent: a finished build is detected by its stamp file and left alone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/hdf5-source.sh"
PREFIX=$CACHE/hdf5-$HDF5_VERSION
STAMP=$PREFIX/.rustvol-complete

if [ -f "$STAMP" ]; then
  echo "hdf5: using $PREFIX"
  exit 0
fi

hdf5_source cmake zlib1g-dev pkg-config

BUILD=$WORK/build
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF -DBUILD_TESTING=ON \
  -DHDF5_BUILD_TOOLS=ON -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_UTILS=OFF \
  -DHDF5_ENABLE_Z_LIB_SUPPORT=ON -DHDF5_TEST_API=ON -DHDF5_TEST_API_INSTALL=ON \
  -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_CPP_LIB=OFF -DHDF5_BUILD_JAVA=OFF -DHDF5_BUILD_EXAMPLES=OFF \
  -DHDF5_TEST_SERIAL=OFF -DHDF5_TEST_TOOLS=OFF -DHDF5_TEST_VFD=OFF -DHDF5_TEST_PASSTHROUGH_VOL=OFF \
  -DHDF5_TEST_SWMR=OFF -DHDF5_TEST_PARALLEL=OFF \
  -DHDF5_TEST_CPP=OFF -DHDF5_TEST_FORTRAN=OFF -DHDF5_TEST_JAVA=OFF >"$WORK/cmake.log" 2>&1
TARGETS=(hdf5-shared hdf5_hl-shared h5dump h5ls h5diff h5stat h5repack h5copy h5mkgrp h5_api_test)
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" >"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log"; exit 1; }
# Only the parts that were built: a whole install would fail on the tools and API-test variants
# left out of TARGETS. The tools used and the API test binary are copied below.
: >"$WORK/install.log"
for c in libraries headers hllibraries hlheaders toolslibraries configinstall; do
  cmake --install "$BUILD" --component "$c" >>"$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log"; exit 1; }
done

# A partial build's install leaves out the tools and the hl headers; put them in place.
mkdir -p "$PREFIX/bin" "$PREFIX/include"
for t in h5dump h5ls h5diff h5stat h5repack h5copy h5mkgrp h5_api_test; do
  f=$(find "$BUILD/bin" -maxdepth 1 -name "$t" -type f | head -n1)
  [ -n "$f" ] && cp -f "$f" "$PREFIX/bin/"
done
cp -f "$SRC"/hl/src/*.h "$PREFIX/include/"
cp -a "$BUILD"/bin/lib*.so* "$PREFIX/lib/" 2>/dev/null || true

test -x "$PREFIX/bin/h5_api_test" && test -f "$PREFIX/include/hdf5_hl.h" && test -f "$PREFIX/include/H5VLconnector.h"
touch "$STAMP"
echo "hdf5: installed $PREFIX"
