"""pytest plugin for run_h5py_suite_plain.sh: checks that the run is what it claims to be.

h5py's suite runs with rustvol loaded only through HDF5_VOL_CONNECTOR: the rustvol package
(python/rustvol, which patches h5py's v1-only paths) must not be imported, and rustvol must be
the default connector of HDF5's file access lists.  The verdict goes to the file named by RUSTVOL_PLAIN_CHECK, one line:
"ok", or what is wrong.
"""
import ctypes
import os
import sys


def _verdict():
    if "rustvol" in sys.modules:
        return "the rustvol package was imported: this is not a run without the helper"
    import h5py
    # The libhdf5 h5py runs on, which is the one that loaded the plugin: dlsym through h5py's
    # extension module reaches its dependency, whatever its name (PyPI's wheels bundle
    # h5py.libs/libhdf5-<hash>.so.*).
    hdf5 = ctypes.CDLL(h5py.defs.__file__)
    hid = ctypes.c_int64
    hdf5.H5Pcreate.argtypes = [hid]
    hdf5.H5Pcreate.restype = hid
    hdf5.H5Pget_vol_id.argtypes = [hid, ctypes.POINTER(hid)]
    hdf5.H5VLget_connector_id_by_name.argtypes = [ctypes.c_char_p]
    hdf5.H5VLget_connector_id_by_name.restype = hid
    hdf5.H5VLcmp_connector_cls.argtypes = [ctypes.POINTER(ctypes.c_int), hid, hid]
    hdf5.H5VLclose.argtypes = [hid]
    hdf5.H5Pclose.argtypes = [hid]
    fapl = hdf5.H5Pcreate(hid.in_dll(hdf5, "H5P_CLS_FILE_ACCESS_ID_g").value)
    default = hid(-1)
    if fapl < 0 or hdf5.H5Pget_vol_id(fapl, ctypes.byref(default)) < 0:
        return "could not read the default connector of a file access list"
    rustvol = hdf5.H5VLget_connector_id_by_name(b"rustvol")
    if rustvol < 0:
        return f"HDF5 (h5py {h5py.version.version}) has no rustvol connector registered"
    cmp = ctypes.c_int(1)
    ok = hdf5.H5VLcmp_connector_cls(ctypes.byref(cmp), default, rustvol) >= 0 and cmp.value == 0
    for i in (default.value, rustvol):
        hdf5.H5VLclose(i)
    hdf5.H5Pclose(fapl)
    if not ok:
        return "rustvol is not the default connector of HDF5's file access lists"
    return "ok"


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("RUSTVOL_PLAIN_CHECK")
    if not path:
        return
    try:
        verdict = _verdict()
    except Exception as e:  # noqa: BLE001 - any failure of the check is the verdict
        verdict = f"check failed: {e!r}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(verdict + "\n")
