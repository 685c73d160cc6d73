#!/usr/bin/env bash
# Builds the rustvol wheel: the Python package of python/ with the plugin inside it,
#   target/wheels/rustvol-<version>-py3-none-<platform>.whl
# holding rustvol/*.py and rustvol/plugin/librustvol.so (a directory of its own: HDF5 tries to
# load every file of a plugin directory).  `pip install` it next to h5py; `rustvol.enable(INFO)`
# or `python -m rustvol INFO script.py` then finds the plugin there (docs/h5py.md).
#
#   scripts/build-wheel.sh            cargo build --release (a no-op when up to date), then the wheel
#   RUSTVOL_WHEEL_NO_BUILD=1 scripts/build-wheel.sh   package target/release/librustvol.so as it is
#   RUSTVOL_WHEEL_OUT=DIR scripts/build-wheel.sh      the wheel goes to DIR instead
#
# The backend is setuptools (python/pyproject.toml, python/setup.py), run by the project venv's
# pip without build isolation, so nothing is fetched.  The library is stripped of its debug
# information in the copy that goes into the wheel.  Prints the wheel's path and size.
#
# The platform tag is the build machine's (linux_x86_64), which pip installs on that kind of
# machine.  `auditwheel show` finds the wheel of this machine's build consistent with
# manylinux_2_34_x86_64 (glibc 2.34 symbols, libz, libgcc_s, libm, libc only);
# RUSTVOL_WHEEL_PLAT=manylinux_2_34_x86_64 tags it so, for an index.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

VPY=$RUSTVOL_VENV/bin/python
if [ ! -x "$VPY" ]; then
  echo "build-wheel: no venv at $RUSTVOL_VENV (run scripts/setup-python.sh)" >&2
  exit 1
fi
if ! "$VPY" -c 'import wheel, setuptools, sys; v = tuple(int(x) for x in setuptools.__version__.split(".")[:2]); sys.exit(v < (70, 1))' 2>/dev/null; then
  "$VPY" -m pip install -q --upgrade "setuptools>=70.1" wheel
fi
if [ "${RUSTVOL_WHEEL_NO_BUILD:-0}" != 1 ]; then
  (cd "$RUSTVOL_ROOT" && nice -n 10 cargo build --release --quiet)
fi
LIB=$RUSTVOL_ROOT/target/release/librustvol.so
[ -f "$LIB" ] || { echo "build-wheel: no $LIB" >&2; exit 1; }

OUT=${RUSTVOL_WHEEL_OUT:-$RUSTVOL_ROOT/target/wheels}
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/rustvol-wheel.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
cp -r "$RUSTVOL_ROOT/python/pyproject.toml" "$RUSTVOL_ROOT/python/setup.py" "$RUSTVOL_ROOT/python/README.md" \
  "$RUSTVOL_ROOT/python/rustvol" "$STAGE/"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$STAGE/rustvol/plugin"
cp "$LIB" "$STAGE/rustvol/plugin/librustvol.so"
strip --strip-debug "$STAGE/rustvol/plugin/librustvol.so"

mkdir -p "$OUT"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$STAGE/pyproject.toml" | head -n1)
rm -f "$OUT"/rustvol-"$version"-*.whl
"$VPY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT" "$STAGE"
whl=$(ls "$OUT"/rustvol-"$version"-*.whl)
echo "build-wheel: $whl ($(du -k "$whl" | cut -f1) KiB; plugin $(du -k "$STAGE/rustvol/plugin/librustvol.so" | cut -f1) KiB unpacked)"
