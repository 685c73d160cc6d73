"""ctypes access to the libhdf5 that h5py itself is linked to.

h5py's extension module ``h5py.defs`` has libhdf5 as a direct dependency, so ``dlsym`` through
a handle on that module resolves every HDF5 symbol to the very copy h5py uses, whether h5py was
built against a system HDF5 or ships a private one (PyPI wheels).  Identifiers (``obj.id.id``)
can then be passed between h5py and these functions freely.
"""
import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_int64, c_long,
                    c_size_t, c_ssize_t, c_uint, c_uint8, c_uint64, c_ulong, c_void_p)

from h5py import _errors, defs

hid_t = c_int64
herr_t = c_int
hsize_t = c_uint64

H5P_DEFAULT = 0
H5E_DEFAULT = 0

# H5O_info2_t fields
H5O_INFO_BASIC = 0x0001
H5O_INFO_TIME = 0x0002
H5O_INFO_NUM_ATTRS = 0x0004
H5O_INFO_ALL = H5O_INFO_BASIC | H5O_INFO_TIME | H5O_INFO_NUM_ATTRS


class H5O_token_t(Structure):
    _fields_ = [("data", c_uint8 * 16)]


class _LinkU(ctypes.Union):
    _fields_ = [("token", H5O_token_t), ("val_size", c_size_t)]


class H5L_info2_t(Structure):
    _fields_ = [("type", c_int), ("corder_valid", ctypes.c_bool), ("corder", c_int64),
                ("cset", c_int), ("u", _LinkU)]


class H5O_info2_t(Structure):
    _fields_ = [("fileno", c_ulong), ("token", H5O_token_t), ("type", c_int), ("rc", c_uint),
                ("atime", c_long), ("mtime", c_long), ("ctime", c_long), ("btime", c_long),
                ("num_attrs", hsize_t)]


class H5E_error2_t(Structure):
    _fields_ = [("cls_id", hid_t), ("maj_num", hid_t), ("min_num", hid_t), ("line", c_uint),
                ("func_name", c_char_p), ("file_name", c_char_p), ("desc", c_char_p)]


H5L_iterate2_t = CFUNCTYPE(herr_t, hid_t, c_char_p, POINTER(H5L_info2_t), c_void_p)
H5O_iterate2_t = CFUNCTYPE(herr_t, hid_t, c_char_p, POINTER(H5O_info2_t), c_void_p)
H5E_walk2_t = CFUNCTYPE(herr_t, c_uint, POINTER(H5E_error2_t), c_void_p)

lib = ctypes.CDLL(defs.__file__)

_PROTOS = {
    "H5Literate_by_name2": (herr_t, [hid_t, c_char_p, c_int, c_int, POINTER(hsize_t),
                                     H5L_iterate2_t, c_void_p, hid_t]),
    "H5Lvisit_by_name2": (herr_t, [hid_t, c_char_p, c_int, c_int, H5L_iterate2_t, c_void_p, hid_t]),
    "H5Lget_info2": (herr_t, [hid_t, c_char_p, POINTER(H5L_info2_t), hid_t]),
    "H5Lget_info_by_idx2": (herr_t, [hid_t, c_char_p, c_int, c_int, hsize_t,
                                     POINTER(H5L_info2_t), hid_t]),
    "H5Lget_val": (herr_t, [hid_t, c_char_p, c_void_p, c_size_t, hid_t]),
    "H5Lunpack_elink_val": (herr_t, [c_void_p, c_size_t, POINTER(c_uint), POINTER(c_char_p),
                                     POINTER(c_char_p)]),
    "H5Oget_info3": (herr_t, [hid_t, POINTER(H5O_info2_t), c_uint]),
    "H5Oget_info_by_name3": (herr_t, [hid_t, c_char_p, POINTER(H5O_info2_t), c_uint, hid_t]),
    "H5Oget_info_by_idx3": (herr_t, [hid_t, c_char_p, c_int, c_int, hsize_t,
                                     POINTER(H5O_info2_t), c_uint, hid_t]),
    "H5Ovisit_by_name3": (herr_t, [hid_t, c_char_p, c_int, c_int, H5O_iterate2_t, c_void_p,
                                   c_uint, hid_t]),
    "H5Oopen_by_token": (hid_t, [hid_t, H5O_token_t]),
    "H5Oclose": (herr_t, [hid_t]),
    "H5Iget_type": (c_int, [hid_t]),
    "H5Iget_name": (c_ssize_t, [hid_t, c_char_p, c_size_t]),
    "H5Iis_valid": (c_int, [hid_t]),
    "H5VLget_connector_name": (c_ssize_t, [hid_t, c_char_p, c_size_t]),
    "H5VLregister_connector_by_name": (hid_t, [c_char_p, hid_t]),
    "H5VLis_connector_registered_by_name": (c_int, [c_char_p]),
    "H5VLget_connector_id_by_name": (hid_t, [c_char_p]),
    "H5VLcmp_connector_cls": (herr_t, [POINTER(c_int), hid_t, hid_t]),
    "H5VLconnector_str_to_info": (herr_t, [c_char_p, hid_t, POINTER(c_void_p)]),
    "H5VLfree_connector_info": (herr_t, [hid_t, c_void_p]),
    "H5VLclose": (herr_t, [hid_t]),
    "H5Pset_vol": (herr_t, [hid_t, hid_t, c_void_p]),
    "H5Pget_vol_id": (herr_t, [hid_t, POINTER(hid_t)]),
    "H5PLprepend": (herr_t, [c_char_p]),
    "H5PLsize": (herr_t, [POINTER(c_uint)]),
    "H5PLget": (c_ssize_t, [c_uint, c_char_p, c_size_t]),
    "H5Ewalk2": (herr_t, [hid_t, c_int, H5E_walk2_t, c_void_p]),
    "H5Eclear2": (herr_t, [hid_t]),
    "H5get_libversion": (herr_t, [POINTER(c_uint), POINTER(c_uint), POINTER(c_uint)]),
}

for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def libversion():
    a, b, c = c_uint(), c_uint(), c_uint()
    lib.H5get_libversion(byref(a), byref(b), byref(c))
    return (a.value, b.value, c.value)


def libhdf5_path():
    """File name of the loaded libhdf5 (Linux: from /proc/self/maps), or None."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = path.rsplit("/", 1)[-1]
                if base.startswith("libhdf5") and ".so" in base and "_hl" not in base:
                    return path
    except OSError:
        pass
    return None


def error_stack():
    """The current HDF5 error stack, innermost error first: [(maj, min, desc), ...]."""
    found = []

    def walk(n, err, data):
        e = err.contents
        found.append((e.maj_num, e.min_num, (e.desc or b"").decode("utf-8", "replace")))
        return 0

    cb = H5E_walk2_t(walk)
    lib.H5Ewalk2(H5E_DEFAULT, 0, cb, None)   # H5E_WALK_UPWARD: innermost first
    return found


def raise_error(what):
    """Raise the Python exception h5py would raise for the current HDF5 error stack."""
    stack = error_stack()
    lib.H5Eclear2(H5E_DEFAULT)
    if not stack:
        raise RuntimeError(what)
    maj, mn, bottom = stack[0]
    top = stack[-1][2]
    exc = _errors._exact_table.get((maj, mn)) or _errors._minor_table.get(mn) or RuntimeError
    # h5py's own format: "<outermost, capitalised> (<innermost>)"
    msg = f"{(what or top).capitalize()} ({bottom})"
    raise exc(msg)


def check(rc, what=""):
    if rc < 0:
        raise_error(what)
    return rc


def connector_name(hid):
    """Name of the VOL connector an object id belongs to ('native', 'rustvol', ...)."""
    buf = ctypes.create_string_buffer(64)
    n = lib.H5VLget_connector_name(hid, buf, 64)
    if n < 0:
        lib.H5Eclear2(H5E_DEFAULT)
        return None
    return buf.value.decode()


def fapl_vol_is(fapl_id, name):
    """Whether a file access property list selects the connector called ``name`` (bytes):
    True/False, or None if that cannot be told."""
    vid = hid_t()
    if lib.H5Pget_vol_id(fapl_id, byref(vid)) < 0:
        lib.H5Eclear2(H5E_DEFAULT)
        return None
    other = lib.H5VLget_connector_id_by_name(name)
    try:
        if other < 0:
            lib.H5Eclear2(H5E_DEFAULT)
            return False
        cmp = c_int()
        if lib.H5VLcmp_connector_cls(byref(cmp), vid.value, other) < 0:
            lib.H5Eclear2(H5E_DEFAULT)
            return None
        return cmp.value == 0
    finally:
        lib.H5VLclose(vid.value)
        if other >= 0:
            lib.H5VLclose(other)


def get_name(hid):
    n = lib.H5Iget_name(hid, None, 0)
    if n < 0:
        lib.H5Eclear2(H5E_DEFAULT)
        return None
    if n == 0:
        return None
    buf = ctypes.create_string_buffer(n + 1)
    lib.H5Iget_name(hid, buf, n + 1)
    return buf.value


def token_bytes(t):
    return bytes(t.data)


def make_token(b):
    t = H5O_token_t()
    ctypes.memmove(t.data, b, min(len(b), 16))
    return t
