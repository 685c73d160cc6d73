#!/usr/bin/env bash
# Installs the rustvol wheel of this checkout's target/release/librustvol.so, as it is, into a
# directory of the calling run, for that run's PYTHONPATH: the cached venvs (shared by every
# checkout on the machine, and by CI's) are left as setup made them, and no other run's wheel
# can replace this one's while its tests run.
#
#   tests/python/wheel_site.sh VENV_PYTHON DIR     # DIR/rustvol/plugin/librustvol.so afterwards
#
# Builds with scripts/build-wheel.sh (RUSTVOL_WHEEL_NO_BUILD=1) into DIR.wheel/ and installs that
# one wheel with VENV_PYTHON's pip, without dependencies (the venv has them). Output: DIR.log.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VPY=$1 DIR=$2
rm -rf "$DIR" "$DIR.wheel"
{
  RUSTVOL_WHEEL_NO_BUILD=1 RUSTVOL_WHEEL_OUT="$DIR.wheel" bash "$HERE/../../scripts/build-wheel.sh" &&
    "$VPY" -m pip install -q --no-deps --no-index --target "$DIR" "$DIR.wheel"/rustvol-*.whl &&
    [ -f "$DIR/rustvol/plugin/librustvol.so" ]
} >"$DIR.log" 2>&1
