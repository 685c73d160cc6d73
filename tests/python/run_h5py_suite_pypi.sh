#!/usr/bin/env bash
# h5py's own test suite through rustvol with h5py as `pip install h5py` gives it: PyPI's wheel
# (h5py 3.16.0 bundling HDF5 2.0.0, the venv of scripts/setup-pypi-venv.sh), the same harness
# as run_h5py_suite.sh (rustvol.enable before h5py is imported, each test in a forked child).
#
#   tests/python/run_h5py_suite_pypi.sh "backend=dir;root=/tmp/store"
#   tests/python/run_h5py_suite_pypi.sh native     # PyPI's h5py without rustvol, for comparison
#
# The expected failures, with reasons, are tests/python/h5py_expected_failures_pypi.txt; the
# log is target/h5py-suite-pypi-<backend>.log. LD_LIBRARY_PATH is dropped (scripts/env.sh points
# it at HDF5 1.14.5, which a user of the wheel does not have). Last line "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
if [ ! -f "$RUSTVOL_PYPI_VENV/.rustvol-complete" ]; then
  echo "run_h5py_suite_pypi: no PyPI h5py venv at $RUSTVOL_PYPI_VENV (run scripts/setup-pypi-venv.sh)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
unset LD_LIBRARY_PATH
RUSTVOL_SUITE_VENV=$RUSTVOL_PYPI_VENV \
  RUSTVOL_SUITE_EXPECTED=$HERE/h5py_expected_failures_pypi.txt \
  RUSTVOL_SUITE_LOG_PREFIX=h5py-suite-pypi \
  RUSTVOL_H5PY_MIN_PASSED=${RUSTVOL_H5PY_PYPI_MIN_PASSED:-${RUSTVOL_H5PY_MIN_PASSED:-750}} \
  exec bash "$HERE/run_h5py_suite.sh" "$@"
