"""Reading attributes that hold new-style references (``H5T_STD_REF``) of non-native files.

HDF5's dimension-scale library (``H5DSattach_scale``) asks ``H5VLobject_is_native`` and, for
any other connector, writes ``DIMENSION_LIST`` (a vlen of references) and ``REFERENCE_LIST``
(a compound of a reference and a dimension index) with ``H5T_STD_REF``, the 64-byte
``H5R_ref_t``, instead of the 8-byte ``H5T_STD_REF_OBJ`` it writes into native files.  h5py
cannot map ``H5T_STD_REF`` to a numpy type ("TypeError: Unknown reference type"), and
h5netcdf and xarray read both attributes through h5py.

For a non-native object, ``AttributeManager.__getitem__`` (so ``attrs[name]``, ``attrs.get``,
``attrs.items()``...) reads such an attribute here instead: ``H5Aread`` through ctypes into the
memory form of its own type, each ``H5R_ref_t`` opened (``H5Ropen_object``) to get its object
token, which becomes an h5py ``Reference`` the way ``obj.ref`` makes them (``_h5py``), and
``H5Treclaim`` to free what HDF5 allocated.  The result has the numpy type h5py gives the
native file's ``H5T_STD_REF_OBJ`` form of the same attribute: ``h5py.ref_dtype`` for each
reference, ``h5py.vlen_dtype(h5py.ref_dtype)`` for a vlen of them, and compounds laid out as a C
struct with 8-byte references (what ``H5DS`` declares natively: ``REFERENCE_LIST`` is
``{"dataset": 0, "dimension": 8}`` in 16 bytes).  A program therefore reads what it reads from
a native file, and ``f[ref]`` follows each reference.

Refused with ``TypeError`` rather than guessed: region and attribute references (an h5py
``Reference`` holds neither), references into another file (an h5py ``Reference`` names no
file, ``f[ref]`` would open an object of the wrong file), and reference-holding types other
than references, vlens, arrays and compounds of them with integer or float members.
"""
import ctypes
from ctypes import POINTER, byref, c_char_p, c_int, c_size_t, c_void_p

import numpy as np
from h5py import h5t
from h5py._objects import phil

from . import _hdf5 as H

H5T_INTEGER, H5T_FLOAT, H5T_REFERENCE, H5T_COMPOUND, H5T_VLEN, H5T_ARRAY = 0, 1, 7, 6, 9, 10
H5T_SGN_NONE = 0
H5T_ORDER_BE = 1
H5R_OBJECT2 = 2
H5R_REF_SIZE = 64       # sizeof(H5R_ref_t), the memory form of H5T_STD_REF
OBJ_REF_SIZE = 8        # sizeof(hobj_ref_t), what h5py's Reference holds

_PROTOS = {
    "H5Aopen": (H.hid_t, [H.hid_t, c_char_p, H.hid_t]),
    "H5Aclose": (H.herr_t, [H.hid_t]),
    "H5Aget_type": (H.hid_t, [H.hid_t]),
    "H5Aget_space": (H.hid_t, [H.hid_t]),
    "H5Aread": (H.herr_t, [H.hid_t, H.hid_t, c_void_p]),
    "H5Sget_simple_extent_ndims": (c_int, [H.hid_t]),
    "H5Sget_simple_extent_dims": (c_int, [H.hid_t, POINTER(H.hsize_t), POINTER(H.hsize_t)]),
    "H5Sget_simple_extent_type": (c_int, [H.hid_t]),
    "H5Sclose": (H.herr_t, [H.hid_t]),
    "H5Tget_class": (c_int, [H.hid_t]),
    "H5Tget_size": (c_size_t, [H.hid_t]),
    "H5Tget_super": (H.hid_t, [H.hid_t]),
    "H5Tget_nmembers": (c_int, [H.hid_t]),
    "H5Tget_member_type": (H.hid_t, [H.hid_t, ctypes.c_uint]),
    "H5Tget_member_offset": (c_size_t, [H.hid_t, ctypes.c_uint]),
    "H5Tget_member_name": (c_void_p, [H.hid_t, ctypes.c_uint]),
    "H5Tget_sign": (c_int, [H.hid_t]),
    "H5Tget_order": (c_int, [H.hid_t]),
    "H5Tget_array_ndims": (c_int, [H.hid_t]),
    "H5Tget_array_dims2": (c_int, [H.hid_t, POINTER(H.hsize_t)]),
    "H5Tclose": (H.herr_t, [H.hid_t]),
    "H5Treclaim": (H.herr_t, [H.hid_t, H.hid_t, H.hid_t, c_void_p]),
    "H5Rget_type": (c_int, [c_void_p]),
    "H5Ropen_object": (H.hid_t, [c_void_p, H.hid_t, H.hid_t]),
    "H5free_memory": (H.herr_t, [c_void_p]),
}
for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(H.lib, _name)
    _f.restype = _res
    _f.argtypes = _args


class _Type:
    """A tree mirroring an HDF5 memory type: kind, size, and what each kind needs."""

    def __init__(self, kind, size, **kw):
        self.kind = kind
        self.size = size
        self.__dict__.update(kw)


def _describe(tid):
    """The _Type of ``tid``; None if it holds no new-style reference."""
    lib = H.lib
    cls = lib.H5Tget_class(tid)
    size = lib.H5Tget_size(tid)
    if cls == H5T_REFERENCE:
        # The memory form of H5T_STD_REF is an H5R_ref_t; the old-style references are
        # hobj_ref_t (8 bytes) and hdset_reg_ref_t (12).  (H5Tequal with H5T_STD_REF is false
        # for an attribute's type, which carries its file.)
        return _Type("ref", size) if size == H5R_REF_SIZE else None
    if cls in (H5T_VLEN, H5T_ARRAY):
        sup = H.check(lib.H5Tget_super(tid), "cannot get a base type")
        try:
            base = _describe(sup)
            if base is None:
                return None
            if cls == H5T_VLEN:
                return _Type("vlen", size, base=base)
            n = lib.H5Tget_array_ndims(tid)
            dims = (H.hsize_t * max(n, 1))()
            lib.H5Tget_array_dims2(tid, dims)
            return _Type("array", size, base=base, dims=tuple(dims[:n]))
        finally:
            lib.H5Tclose(sup)
    if cls == H5T_COMPOUND:
        subs = []
        for i in range(lib.H5Tget_nmembers(tid)):
            mt = H.check(lib.H5Tget_member_type(tid, i), "cannot get a member type")
            try:
                subs.append(_describe(mt))
            finally:
                lib.H5Tclose(mt)
        if all(sub is None for sub in subs):
            return None
        members = []
        for i, sub in enumerate(subs):
            mt = H.check(lib.H5Tget_member_type(tid, i), "cannot get a member type")
            try:
                p = lib.H5Tget_member_name(tid, i)
                name = ctypes.string_at(p).decode("utf-8")
                lib.H5free_memory(p)
                members.append((name, lib.H5Tget_member_offset(tid, i),
                                _plain(mt) if sub is None else sub))
            finally:
                lib.H5Tclose(mt)
        return _Type("compound", size, members=members)
    return None


def _plain(tid):
    """_Type of a member without references: integers and floats only."""
    lib = H.lib
    cls = lib.H5Tget_class(tid)
    size = lib.H5Tget_size(tid)
    end = ">" if lib.H5Tget_order(tid) == H5T_ORDER_BE else "<"
    if cls == H5T_INTEGER:
        kind = "u" if lib.H5Tget_sign(tid) == H5T_SGN_NONE else "i"
        return _Type("plain", size, dtype=np.dtype(f"{end}{kind}{size}"))
    if cls == H5T_FLOAT and size in (2, 4, 8):
        return _Type("plain", size, dtype=np.dtype(f"{end}f{size}"))
    raise TypeError("rustvol: a compound with references and members other than integers "
                    "and floats cannot be read through h5py")


def _alignment(t):
    if t.kind in ("ref", "vlen"):
        return 8
    if t.kind == "plain":
        return min(t.size, 8)
    if t.kind == "array":
        return _alignment(t.base)
    return max((_alignment(m) for _n, _o, m in t.members), default=1)


def _dtype(t):
    """The numpy dtype h5py gives the H5T_STD_REF_OBJ form of ``t``."""
    if t.kind == "ref":
        return h5t.ref_dtype
    if t.kind == "plain":
        return t.dtype
    if t.kind == "vlen":
        return h5t.vlen_dtype(_dtype(t.base))
    if t.kind == "array":
        return np.dtype((_dtype(t.base), t.dims))
    names, formats, offsets = [], [], []
    off = 0
    for name, _o, m in t.members:
        a = _alignment(m)
        off = (off + a - 1) // a * a
        names.append(name)
        formats.append(_dtype(m))
        offsets.append(off)
        off += _dtype(m).itemsize
    a = _alignment(t)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": (off + a - 1) // a * a})


def _fileno(hid):
    c = H.H5O_info2_t()
    H.check(H.lib.H5Oget_info3(hid, byref(c), H.H5O_INFO_BASIC), "cannot get object info")
    return c.fileno


class _Reader:
    def __init__(self, fileno):
        self.fileno = fileno

    def ref(self, addr):
        from . import _h5py
        raw = ctypes.string_at(addr, H5R_REF_SIZE)
        if not any(raw):
            return _null_reference()
        kind = H.lib.H5Rget_type(addr)
        if kind != H5R_OBJECT2:
            raise TypeError("rustvol: region and attribute references cannot be read through "
                            "h5py (h5py's Reference holds object references only)")
        oid = H.check(H.lib.H5Ropen_object(addr, H.H5P_DEFAULT, H.H5P_DEFAULT),
                      "cannot open the object of a reference")
        try:
            c = H.H5O_info2_t()
            H.check(H.lib.H5Oget_info3(oid, byref(c), H.H5O_INFO_BASIC),
                    "cannot get the object info of a reference")
        finally:
            H.lib.H5Oclose(oid)
        if c.fileno != self.fileno:
            raise TypeError("rustvol: a reference into another file cannot be read through "
                            "h5py (h5py's Reference names no file)")
        return _h5py.make_reference(H.token_bytes(c.token))

    def value(self, t, addr):
        if t.kind == "ref":
            return self.ref(addr)
        if t.kind == "plain":
            return np.frombuffer(ctypes.string_at(addr, t.size), dtype=t.dtype)[0]
        if t.kind == "vlen":
            n = c_size_t.from_address(addr).value
            p = c_void_p.from_address(addr + ctypes.sizeof(c_size_t)).value
            out = np.empty(n, dtype=_dtype(t.base))
            for i in range(n):
                out[i] = self.value(t.base, p + i * t.base.size)
            return out
        if t.kind == "array":
            n = int(np.prod(t.dims))
            out = np.empty(n, dtype=_dtype(t.base))
            for i in range(n):
                out[i] = self.value(t.base, addr + i * t.base.size)
            return out.reshape(t.dims)
        rec = np.zeros((), dtype=_dtype(t))
        for name, off, m in t.members:
            rec[name] = self.value(m, addr + off)
        return rec[()]


def _null_reference():
    from h5py import h5r
    return h5r.Reference()


def read(objid, name):
    """``attrs[name]`` of a non-native object if that attribute holds new-style references
    (as h5py reads their native form); None if it holds none (read it the usual way)."""
    lib = H.lib
    bname = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    with phil:
        aid = lib.H5Aopen(objid.id, bname, H.H5P_DEFAULT)
        if aid < 0:
            lib.H5Eclear2(H.H5E_DEFAULT)
            return None     # h5py's own code raises its KeyError
        tid = sid = -1
        try:
            tid = H.check(lib.H5Aget_type(aid), "cannot get the attribute's type")
            t = _describe(tid)
            if t is None:
                return None
            sid = H.check(lib.H5Aget_space(aid), "cannot get the attribute's dataspace")
            stype = lib.H5Sget_simple_extent_type(sid)
            nd = lib.H5Sget_simple_extent_ndims(sid)
            dims = (H.hsize_t * max(nd, 1))()
            lib.H5Sget_simple_extent_dims(sid, dims, None)
            shape = tuple(dims[:nd])
            dtype = _dtype(t)
            if stype == 2:      # H5S_NULL: h5py gives an Empty
                from h5py import Empty
                return Empty(dtype)
            n = int(np.prod(shape)) if nd else 1
            buf = ctypes.create_string_buffer(max(n * t.size, 1))
            H.check(lib.H5Aread(aid, tid, buf), f"unable to read attribute {name!r}")
            try:
                reader = _Reader(_fileno(objid.id))
                out = np.empty(n, dtype=dtype)
                base = ctypes.addressof(buf)
                for i in range(n):
                    out[i] = reader.value(t, base + i * t.size)
            finally:
                lib.H5Treclaim(tid, sid, H.H5P_DEFAULT, buf)
            if nd == 0:
                return out[0]
            return out.reshape(shape)
        finally:
            if sid >= 0:
                lib.H5Sclose(sid)
            if tid >= 0:
                lib.H5Tclose(tid)
            lib.H5Aclose(aid)
