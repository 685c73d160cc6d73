"""pytest plugin for running h5py's own test suite through rustvol.

Loaded by run_h5py_suite.sh with ``-p rustvol_h5py_suite`` before h5py is imported: it calls
``rustvol.enable(RUSTVOL_SUITE_INFO)``, which sets HDF5_PLUGIN_PATH/HDF5_VOL_CONNECTOR so that
HDF5 initialises with rustvol as the default connector, and completes h5py for non-native
files (rustvol.patch_h5py).  ``RUSTVOL_SUITE_PATCH=0`` leaves h5py unpatched (to measure what
fails without the rustvol package); ``RUSTVOL_SUITE_FAPL=1`` imports h5py first, so that
rustvol.enable registers the connector at run time and sets it on h5py.File's property lists.
"""
import os

import rustvol

_info = os.environ.get("RUSTVOL_SUITE_INFO")
if _info and os.environ.get("RUSTVOL_SUITE_FAPL", "0") == "1":
    import h5py  # noqa: F401 - HDF5 starts native; rustvol.enable then uses the "fapl" mode
if _info:
    rustvol.enable(_info, patch=os.environ.get("RUSTVOL_SUITE_PATCH", "1") != "0")


def pytest_report_header(config):
    if not _info:
        return "rustvol: not enabled (native HDF5)"
    return (f"rustvol: connector enabled ({rustvol.mode()}), info {_info!r}, "
            f"h5py patched: {os.environ.get('RUSTVOL_SUITE_PATCH', '1') != '0'}")
