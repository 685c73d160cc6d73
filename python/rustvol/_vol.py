"""Registering the connector and checking what HDF5 uses (through rustvol._hdf5)."""
import ctypes

from h5py import h5p
from h5py._hl import files as _files
from h5py._objects import phil

from . import _hdf5 as H

NAME = b"rustvol"


def default_is_rustvol():
    """True if a new file access property list selects rustvol (HDF5_VOL_CONNECTOR worked)."""
    with phil:
        fapl = h5p.create(h5p.FILE_ACCESS)
        return H.fapl_vol_is(fapl.id, NAME) is True


def _str_to_info(info, vol_id):
    ptr = ctypes.c_void_p()
    H.check(H.lib.H5VLconnector_str_to_info(info.encode(), vol_id, ctypes.byref(ptr)),
            f"cannot convert the info string {info!r}")
    return ptr


def _plugin_paths():
    n = ctypes.c_uint()
    H.check(H.lib.H5PLsize(ctypes.byref(n)))
    out = []
    for i in range(n.value):
        size = H.lib.H5PLget(i, None, 0)
        buf = ctypes.create_string_buffer(size + 1)
        H.lib.H5PLget(i, buf, size + 1)
        out.append(buf.value.decode())
    return out


_ORIG_MAKE_FAPL = None


def enable_fapl(info, pdir, state):
    """Register rustvol in an HDF5 that is already initialised and set it on every fapl
    h5py.File makes (h5py._hl.files.make_fapl)."""
    global _ORIG_MAKE_FAPL
    with phil:
        if pdir not in _plugin_paths():
            H.check(H.lib.H5PLprepend(pdir.encode()), f"cannot add {pdir} to HDF5's plugin path")
        vid = state["vol_id"]
        if vid is None:
            vid = H.check(H.lib.H5VLregister_connector_by_name(NAME, H.H5P_DEFAULT),
                          f"HDF5 cannot load the rustvol connector from {pdir}")
        ptr = _str_to_info(info, vid)
        old = state["info_ptr"]
        state.update(mode="fapl", info=info, plugin_dir=pdir, vol_id=vid, info_ptr=ptr,
                     fapl_active=True)
        if old is not None and old.value:
            H.lib.H5VLfree_connector_info(vid, old)
        if _ORIG_MAKE_FAPL is None:
            _ORIG_MAKE_FAPL = _files.make_fapl

            def make_fapl(*args, **kwargs):
                plist = _ORIG_MAKE_FAPL(*args, **kwargs)
                if state["fapl_active"]:
                    with phil:
                        H.check(H.lib.H5Pset_vol(plist.id, state["vol_id"], state["info_ptr"]),
                                "cannot select the rustvol connector")
                return plist

            make_fapl.__doc__ = _ORIG_MAKE_FAPL.__doc__
            _files.make_fapl = make_fapl
