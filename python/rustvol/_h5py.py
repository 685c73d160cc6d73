"""Completes h5py for files that are not in HDF5's native format.

h5py is compiled with ``H5_USE_110_API``: its group iteration, ``visit``, link and object info
and object references call HDF5's version-1 functions (``H5Literate1``, ``H5Lget_info1``,
``H5Oget_info1``, ``H5Ovisit1``, ``H5Rcreate``, ``H5Rdereference2``...), which refuse every
object that does not belong to the native connector.  This module replaces the affected h5py
functions and methods by versions that call HDF5's current API (``H5Literate2``, ``H5Lvisit2``,
``H5Lget_info2``, ``H5Oget_info3``, ``H5Ovisit3``, ``H5Oopen_by_token``) through ctypes, on the
same libhdf5 h5py uses.  Objects of the native connector keep going through h5py's original
code, so patching changes nothing for native files.

What is replaced (see docs/h5py.md):

* ``h5py.h5o.get_info``, ``h5py.h5o.visit``, ``h5py.h5g.get_objinfo``
* ``h5py.h5r.create`` (object references), ``dereference``, ``get_obj_type``, ``get_name``,
  ``get_region``
* ``Group.__iter__``, ``__reversed__`` (and so ``keys``, ``values``, ``items``, ``len(list(g))``),
  ``Group.get(..., getlink=True)``, ``visit_links``, ``visititems_links``;
  ``Group.__contains__``, ``visit``, ``visititems`` and ``Group.get(..., getclass=True)`` use
  the replaced ``h5o`` functions
* ``h5py.h5f.open``/``create``: a missing file raises FileNotFoundError and an existing one
  (mode "w-") FileExistsError, as with native files (``h5py.File(name, "a")`` needs the first)
* ``HLObject.__eq__`` / ``__hash__`` and ``DimensionProxy.__hash__``: identity is
  (file number, object token) instead of ``H5Gget_objinfo``, a native-only call.
* ``AttributeManager.__getitem__``: attributes holding new-style references (the
  ``DIMENSION_LIST`` and ``REFERENCE_LIST`` HDF5's dimension-scale library writes for
  non-native files) read as their native form (``rustvol._newref``).

Object references stay h5py ``Reference`` objects stored as ``H5T_STD_REF_OBJ`` (8 bytes): for a
non-native file the 8 bytes are the first 8 bytes of the object's token, which for rustvol is
the whole token (its object id).  Region references have no such encoding and raise TypeError.
"""
import ctypes
import errno
import functools
import sys

from h5py import h5, h5f, h5g, h5i, h5l, h5o, h5p, h5r
from h5py._hl import attrs as _attrs
from h5py._hl import base as _base
from h5py._hl import dims as _dims
from h5py._hl import group as _group
from h5py._objects import phil

from . import _hdf5 as H

_ORIG = {}
_patched = False


# --- helpers -----------------------------------------------------------------------------

def _native(objid):
    """True if an h5py ObjectID belongs to the native connector (or cannot be asked)."""
    try:
        hid = objid.id
    except AttributeError:
        return True
    name = H.connector_name(hid)
    return name is None or name == "native"


def _b(name):
    if name is None:
        return None
    if isinstance(name, str):
        return name.encode("utf-8")
    return bytes(name)


def _plist(pl):
    return H.H5P_DEFAULT if pl is None else pl.id


def _addr(token_bytes):
    return int.from_bytes(token_bytes[:8], "little")


class ObjInfo:
    """What ``h5py.h5o.get_info`` returns for non-native objects (``H5O_info2_t``).

    Same attributes as h5py's ``ObjInfo``; ``addr`` is the first 8 bytes of the object token
    (the native connector keeps the object's address there), ``token`` the whole token.
    ``hdr`` and ``meta_size`` describe native object headers and are None.
    """
    hdr = None
    meta_size = None

    def __init__(self, c):
        self.fileno = c.fileno
        self.token = H.token_bytes(c.token)
        self.addr = _addr(self.token)
        self.type = c.type
        self.rc = c.rc
        self.atime = c.atime
        self.mtime = c.mtime
        self.ctime = c.ctime
        self.btime = c.btime
        self.num_attrs = c.num_attrs

    def _hash(self):
        return hash((self.fileno, self.addr, self.type, self.rc))

    def __eq__(self, other):
        if isinstance(other, ObjInfo):
            return (self.fileno, self.token, self.type, self.rc) == \
                   (other.fileno, other.token, other.type, other.rc)
        return NotImplemented

    def __hash__(self):
        return self._hash()

    def __repr__(self):
        return (f"<rustvol.ObjInfo type={self.type} fileno={self.fileno} "
                f"token={self.token.hex()} rc={self.rc} num_attrs={self.num_attrs}>")


class LinkInfo:
    """What link info calls return for non-native groups (``H5L_info2_t``).

    Same attributes as h5py's ``LinkInfo``: ``type`` (h5l.TYPE_HARD/SOFT/EXTERNAL),
    ``corder_valid``, ``corder``, ``cset`` and ``u`` (hard link: first 8 bytes of the token;
    soft/external: the size of the link value); ``token`` is the whole token of a hard link.
    """

    def __init__(self, c):
        self.type = c.type
        self.corder_valid = bool(c.corder_valid)
        self.corder = c.corder
        self.cset = c.cset
        if c.type == h5l.TYPE_HARD:
            self.token = H.token_bytes(c.u.token)
            self.u = _addr(self.token)
        else:
            self.token = None
            self.u = c.u.val_size

    def _hash(self):
        return hash((self.type, self.corder_valid, self.corder, self.cset, self.u))

    def __repr__(self):
        return f"<rustvol.LinkInfo type={self.type} u={self.u}>"


_H5G_TYPE = {h5o.TYPE_GROUP: h5g.GROUP, h5o.TYPE_DATASET: h5g.DATASET,
             h5o.TYPE_NAMED_DATATYPE: h5g.TYPE}


class GroupStat:
    """What ``h5py.h5g.get_objinfo`` returns for non-native objects."""

    def __init__(self, fileno, objno, nlink, type_, mtime, linklen):
        self.fileno = fileno
        self.objno = objno
        self.nlink = nlink
        self.type = type_
        self.mtime = mtime
        self.linklen = linklen

    def _hash(self):
        return hash((self.fileno, self.objno, self.nlink, self.type, self.mtime, self.linklen))


def object_info(loc, name=None, fields=H.H5O_INFO_ALL, lapl=None):
    """``H5Oget_info3``/``H5Oget_info_by_name3`` on an h5py ObjectID -> ObjInfo."""
    c = H.H5O_info2_t()
    with phil:
        if name is None:
            H.check(H.lib.H5Oget_info3(loc.id, ctypes.byref(c), fields))
        else:
            H.check(H.lib.H5Oget_info_by_name3(loc.id, _b(name), ctypes.byref(c), fields,
                                               _plist(lapl)))
    return ObjInfo(c)


def link_info(loc, name, lapl=None, *, index=-1, obj_name=b".", index_type=h5.INDEX_NAME,
              order=h5.ITER_INC):
    """``H5Lget_info2`` (or ``H5Lget_info_by_idx2`` when index >= 0) -> LinkInfo."""
    c = H.H5L_info2_t()
    with phil:
        if index >= 0:
            H.check(H.lib.H5Lget_info_by_idx2(loc.id, _b(obj_name), index_type, order, index,
                                              ctypes.byref(c), _plist(lapl)))
        else:
            H.check(H.lib.H5Lget_info2(loc.id, _b(name), ctypes.byref(c), _plist(lapl)))
    return LinkInfo(c)


def link_value(loc, name, lapl=None):
    """Value of a soft link (bytes) or external link ((file bytes, path bytes)), by
    ``H5Lget_info2`` + ``H5Lget_val`` (h5py's LinkProxy.get_val uses the v1 info call)."""
    with phil:
        li = link_info(loc, name, lapl)
        if li.type not in (h5l.TYPE_SOFT, h5l.TYPE_EXTERNAL):
            raise TypeError("Link must be either a soft or external link")
        buf = ctypes.create_string_buffer(max(li.u, 1))
        H.check(H.lib.H5Lget_val(loc.id, _b(name), buf, li.u, _plist(lapl)))
        if li.type == h5l.TYPE_SOFT:
            return buf.raw[:li.u].split(b"\0", 1)[0]
        flags = ctypes.c_uint()
        fname, path = ctypes.c_char_p(), ctypes.c_char_p()
        H.check(H.lib.H5Lunpack_elink_val(buf, li.u, ctypes.byref(flags), ctypes.byref(fname),
                                          ctypes.byref(path)))
        return fname.value, path.value


def link_names(loc, obj_name=b".", idx_type=h5.INDEX_NAME, order=h5.ITER_INC, lapl=None,
               info=False, start=0):
    """Names (bytes) of the links in a group, by ``H5Literate_by_name2``.

    With ``info=True``, a list of (name, LinkInfo) pairs.
    """
    found = []

    def cb(gid, name, linfo, data):
        found.append((name, LinkInfo(linfo.contents)) if info else name)
        return 0

    idx = H.hsize_t(start)
    cfun = H.H5L_iterate2_t(cb)
    with phil:
        H.check(H.lib.H5Literate_by_name2(loc.id, _b(obj_name), idx_type, order,
                                          ctypes.byref(idx), cfun, None, _plist(lapl)))
    return found


def link_visit_names(loc, obj_name=b".", idx_type=h5.INDEX_NAME, order=h5.ITER_INC, lapl=None,
                     info=False):
    """Paths (bytes, relative) of every link below a group, by ``H5Lvisit_by_name2``."""
    found = []

    def cb(gid, name, linfo, data):
        found.append((name, LinkInfo(linfo.contents)) if info else name)
        return 0

    cfun = H.H5L_iterate2_t(cb)
    with phil:
        H.check(H.lib.H5Lvisit_by_name2(loc.id, _b(obj_name), idx_type, order, cfun, None,
                                        _plist(lapl)))
    return found


def object_visit_names(loc, obj_name=b".", idx_type=h5.INDEX_NAME, order=h5.ITER_INC,
                       lapl=None, info=False):
    """Paths (bytes, relative) of every object below a group, each object once, by
    ``H5Ovisit_by_name3``; the starting object (".") is left out, as h5py does."""
    found = []
    fields = H.H5O_INFO_ALL if info else H.H5O_INFO_BASIC

    def cb(oid, name, oinfo, data):
        if name != b".":
            found.append((name, ObjInfo(oinfo.contents)) if info else name)
        return 0

    cfun = H.H5O_iterate2_t(cb)
    with phil:
        H.check(H.lib.H5Ovisit_by_name3(loc.id, _b(obj_name), idx_type, order, cfun, None,
                                        fields, _plist(lapl)))
    return found


def open_by_token(loc, token):
    """``H5Oopen_by_token``: an h5py ObjectID (GroupID, DatasetID, TypeID)."""
    with phil:
        hid = H.check(H.lib.H5Oopen_by_token(loc.id, H.make_token(token)))
        return h5i.wrap_identifier(hid)


def identity(objid):
    """(file number, token) of a non-native object; None if native or not a valid object."""
    try:
        hid = objid.id
    except AttributeError:
        return None
    with phil:
        if not objid.valid or _native(objid):
            return None
        c = H.H5O_info2_t()
        if H.lib.H5Oget_info3(hid, ctypes.byref(c), H.H5O_INFO_BASIC) < 0:
            H.lib.H5Eclear2(H.H5E_DEFAULT)
            return None
        return (c.fileno, H.token_bytes(c.token))


def _track_order_index(gid):
    cpl = gid.get_create_plist()
    try:
        crt = cpl.get_link_creation_order()
    finally:
        cpl.close()
    return h5.INDEX_CRT_ORDER if crt & h5p.CRT_ORDER_TRACKED else h5.INDEX_NAME


# --- references ----------------------------------------------------------------------------
# h5py's Reference wraps a native hobj_ref_t (8 bytes, an object address) and offers no way to
# build one from bytes.  Its C layout is fixed (PyObject header, then the reference union,
# then typecode and typesize), which _ref_layout_ok() verifies before anything is written.

_REF_OFFSET = None


def _ref_layout_ok():
    global _REF_OFFSET
    if _REF_OFFSET is not None:
        return _REF_OFFSET >= 0
    _REF_OFFSET = -1
    try:
        r = h5r.Reference()
        rr = h5r.RegionReference()
        hdr = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
        for obj in (r, rr):
            raw = ctypes.string_at(id(obj), type(obj).__basicsize__)
            if raw[hdr:hdr + 16] != bytes(16):
                return False
            tc = int.from_bytes(raw[hdr + 16:hdr + 20], sys.byteorder, signed=True)
            ts = int.from_bytes(raw[hdr + 24:hdr + 32], sys.byteorder)
            if (tc, ts) != (obj.typecode, obj.typesize):
                return False
        probe = h5r.Reference()
        ctypes.memmove(id(probe) + hdr, (1).to_bytes(8, "little"), 8)
        if not bool(probe):
            return False
    except Exception:  # noqa: BLE001 - any surprise means "do not touch"
        return False
    _REF_OFFSET = hdr
    return True


def make_reference(token):
    """An h5py ``Reference`` holding the first 8 bytes of an object token."""
    if not _ref_layout_ok():
        raise TypeError("rustvol: this h5py's Reference layout is not the one expected; "
                        "object references are unavailable for non-native files")
    if any(token[8:]):
        raise TypeError("rustvol: this connector's object tokens do not fit in an h5py "
                        "object reference (8 bytes)")
    r = h5r.Reference()
    ctypes.memmove(id(r) + _REF_OFFSET, bytes(token[:8]), 8)
    return r


def reference_token(ref):
    """The 16-byte token an h5py ``Reference`` made by make_reference() stands for."""
    if not _ref_layout_ok():
        raise TypeError("rustvol: this h5py's Reference layout is not the one expected")
    return ctypes.string_at(id(ref) + _REF_OFFSET, 8) + bytes(8)


def _region_unsupported():
    return TypeError("region references are not available for files of a non-native VOL "
                     "connector such as rustvol: h5py stores them in HDF5's native-only "
                     "format (hdset_reg_ref_t); store the selection yourself, e.g. as an "
                     "object reference plus slice bounds")


# --- replacements of h5py module functions ----------------------------------------------------

def _h5o_get_info(loc, name=None, index=-1, *, obj_name=b".", index_type=h5.INDEX_NAME,
                  order=h5.ITER_INC, lapl=None):
    if _native(loc):
        kw = dict(obj_name=obj_name, index_type=index_type, order=order, lapl=lapl)
        if name is not None:
            return _ORIG["h5o.get_info"](loc, name, index, **kw)
        return _ORIG["h5o.get_info"](loc, index=index, **kw)
    c = H.H5O_info2_t()
    with phil:
        if name is not None:
            H.check(H.lib.H5Oget_info_by_name3(loc.id, _b(name), ctypes.byref(c),
                                               H.H5O_INFO_ALL, _plist(lapl)))
        elif index >= 0:
            H.check(H.lib.H5Oget_info_by_idx3(loc.id, _b(obj_name), index_type, order, index,
                                              ctypes.byref(c), H.H5O_INFO_ALL, _plist(lapl)))
        else:
            H.check(H.lib.H5Oget_info3(loc.id, ctypes.byref(c), H.H5O_INFO_ALL))
    return ObjInfo(c)


def _h5o_visit(loc, func, *, idx_type=h5.INDEX_NAME, order=h5.ITER_INC, obj_name=b".",
               lapl=None, info=0):
    if _native(loc):
        return _ORIG["h5o.visit"](loc, func, idx_type=idx_type, order=order,
                                  obj_name=obj_name, lapl=lapl, info=info)
    # Names are collected first and the callback runs after HDF5's visit returns, so the
    # callback may open objects, raise, or stop early without re-entering the connector.
    for item in object_visit_names(loc, obj_name, idx_type, order, lapl, info=bool(info)):
        ret = func(*item) if info else func(item)
        if ret is not None:
            return ret
    return None


def _h5g_get_objinfo(obj, name=b".", follow_link=1):
    if _native(obj):
        return _ORIG["h5g.get_objinfo"](obj, name, follow_link)
    name = _b(name)
    with phil:
        if not follow_link and name not in (b".", b"/"):
            li = link_info(obj, name)
            if li.type != h5l.TYPE_HARD:
                return GroupStat((0, 0), (0, 0), 0, h5g.LINK, 0, li.u)
        oi = object_info(obj, name)
    # H5Gget_objinfo's "mtime" is the object's change time (H5Gdeprec.c).
    return GroupStat((oi.fileno, 0), (oi.addr, 0), oi.rc, _H5G_TYPE.get(oi.type, h5g.UNKNOWN),
                     oi.ctime, 0)


def _h5r_create(loc, name, ref_type, space=None):
    if _native(loc):
        return _ORIG["h5r.create"](loc, name, ref_type, space)
    if ref_type == h5r.DATASET_REGION:
        raise _region_unsupported()
    if ref_type != h5r.OBJECT:
        raise ValueError("Unknown reference typecode")
    oi = object_info(loc, name, H.H5O_INFO_BASIC)
    return make_reference(oi.token)


def _h5r_dereference(ref, id, oapl=None):  # noqa: A002 - h5py's parameter name
    if _native(id):
        return _ORIG["h5r.dereference"](ref, id, oapl)
    if not ref:
        return None
    if isinstance(ref, h5r.RegionReference):
        raise _region_unsupported()
    return open_by_token(id, reference_token(ref))


def _h5r_get_obj_type(ref, id):  # noqa: A002
    if _native(id):
        return _ORIG["h5r.get_obj_type"](ref, id)
    if isinstance(ref, h5r.RegionReference):
        raise _region_unsupported()
    obj = open_by_token(id, reference_token(ref))
    return object_info(obj, fields=H.H5O_INFO_BASIC).type


def _h5r_get_name(ref, loc):
    if _native(loc):
        return _ORIG["h5r.get_name"](ref, loc)
    if isinstance(ref, h5r.RegionReference):
        raise _region_unsupported()
    obj = open_by_token(loc, reference_token(ref))
    with phil:
        return H.get_name(obj.id)


def _h5r_get_region(ref, id):  # noqa: A002
    if _native(id):
        return _ORIG["h5r.get_region"](ref, id)
    raise _region_unsupported()


def _fapl_connector_is_native(fapl):
    """True unless the file access property list (None: a new default one) selects another
    connector than the native one."""
    with phil:
        plist = fapl if fapl is not None else h5p.create(h5p.FILE_ACCESS)
        return H.fapl_vol_is(plist.id, b"native") is not False


def _errno_error(exc, fapl):
    """h5py turns "errno = N" in HDF5's innermost message into FileNotFoundError and
    FileExistsError, and h5py.File(name, "a") relies on it to create missing files; rustvol
    says "it does not exist" / "already exists" without an errno."""
    if type(exc) is not OSError or exc.errno is not None:
        return None
    text = str(exc)
    if "does not exist" in text:
        code = errno.ENOENT
    elif "already exists" in text:
        code = errno.EEXIST
    else:
        return None
    if _fapl_connector_is_native(fapl):
        return None
    return OSError(code, text)


def _h5f_open(name, *args, **kwargs):
    try:
        return _ORIG["h5f.open"](name, *args, **kwargs)
    except OSError as e:
        new = _errno_error(e, kwargs.get("fapl", args[1] if len(args) > 1 else None))
        if new is None:
            raise
        raise new from None


def _h5f_create(name, *args, **kwargs):
    try:
        return _ORIG["h5f.create"](name, *args, **kwargs)
    except OSError as e:
        new = _errno_error(e, kwargs.get("fapl", args[2] if len(args) > 2 else None))
        if new is None:
            raise
        raise new from None


# --- replacements of high-level methods -------------------------------------------------------

def _group_iter(self):
    with phil:
        if _native(self.id):
            names = list(self.id.__iter__())
        else:
            names = link_names(self.id, idx_type=_track_order_index(self.id))
    for x in names:
        yield self._d(x)


def _group_reversed(self):
    with phil:
        if _native(self.id):
            names = list(self.id.__reversed__())
        else:
            names = link_names(self.id, idx_type=_track_order_index(self.id))
            names.reverse()
    for x in names:
        yield self._d(x)


def _group_get(self, name, default=None, getclass=False, getlink=False,
               elink_mode=None, elink_locking=None, elink_swmr=None):
    orig = _ORIG["Group.get"]
    if not getlink or _native(self.id):
        return orig(self, name, default, getclass, getlink, elink_mode=elink_mode,
                    elink_locking=elink_locking, elink_swmr=elink_swmr)
    with phil:
        if elink_mode is None and elink_swmr is None and elink_locking is None:
            lapl = self._lapl
        else:
            lapl = _group.make_lapl(self.file, elink_mode, elink_swmr, elink_locking)
        if name not in self:
            return default
        typecode = link_info(self.id, self._e(name), lapl).type
        if typecode == h5l.TYPE_SOFT:
            if getclass:
                return _group.SoftLink
            linkbytes = link_value(self.id, self._e(name), lapl)
            return _group.SoftLink(self._d(linkbytes))
        if typecode == h5l.TYPE_EXTERNAL:
            if getclass:
                return _group.ExternalLink
            filebytes, linkbytes = link_value(self.id, self._e(name), lapl)
            return _group.ExternalLink(_group.filename_decode(filebytes), self._d(linkbytes))
        if typecode == h5l.TYPE_HARD:
            return _group.HardLink if getclass else _group.HardLink()
        raise TypeError("Unknown link type")


def _group_visit_links(self, func):
    if _native(self.id):
        return _ORIG["Group.visit_links"](self, func)
    for name in link_visit_names(self.id):
        ret = func(self._d(name))
        if ret:   # as h5py's LinkProxy.visit: None or a false value continues
            return ret
    return None


def _group_visititems_links(self, func):
    if _native(self.id):
        return _ORIG["Group.visititems_links"](self, func)
    for name in link_visit_names(self.id):
        name = self._d(name)
        ret = func(name, self.get(name, getlink=True))
        if ret:
            return ret
    return None


def _hl_hash(self):
    key = identity(self.id)
    if key is None:
        return _ORIG["HLObject.__hash__"](self)
    return hash(key)


def _hl_eq(self, other):
    if hasattr(other, "id"):
        with phil:
            a, b = self.id, other.id
            if getattr(a, "id", None) is not None and a.id == getattr(b, "id", None):
                return True
            ka, kb = identity(a), identity(b)
            if ka is not None or kb is not None:
                return ka == kb
    return _ORIG["HLObject.__eq__"](self, other)


def _attrs_getitem(self, name):
    if not _native(self._id):
        from . import _newref
        value = _newref.read(self._id, name)
        if value is not None:
            return value
    return _ORIG["AttributeManager.__getitem__"](self, name)


def _dim_hash(self):
    key = identity(self._id)
    if key is None:
        return _ORIG["DimensionProxy.__hash__"](self)
    return hash((type(self), key, self._dimension))


_TABLE = [
    (h5o, "get_info", "h5o.get_info", _h5o_get_info),
    (h5o, "visit", "h5o.visit", _h5o_visit),
    (h5g, "get_objinfo", "h5g.get_objinfo", _h5g_get_objinfo),
    (h5r, "create", "h5r.create", _h5r_create),
    (h5r, "dereference", "h5r.dereference", _h5r_dereference),
    (h5r, "get_obj_type", "h5r.get_obj_type", _h5r_get_obj_type),
    (h5r, "get_name", "h5r.get_name", _h5r_get_name),
    (h5r, "get_region", "h5r.get_region", _h5r_get_region),
    (h5f, "open", "h5f.open", _h5f_open),
    (h5f, "create", "h5f.create", _h5f_create),
    (_group.Group, "__iter__", "Group.__iter__", _group_iter),
    (_group.Group, "__reversed__", "Group.__reversed__", _group_reversed),
    (_group.Group, "get", "Group.get", _group_get),
    (_group.Group, "visit_links", "Group.visit_links", _group_visit_links),
    (_group.Group, "visititems_links", "Group.visititems_links", _group_visititems_links),
    (_base.HLObject, "__hash__", "HLObject.__hash__", _hl_hash),
    (_base.HLObject, "__eq__", "HLObject.__eq__", _hl_eq),
    (_dims.DimensionProxy, "__hash__", "DimensionProxy.__hash__", _dim_hash),
    (_attrs.AttributeManager, "__getitem__", "AttributeManager.__getitem__", _attrs_getitem),
]


def patch():
    """Install the replacements (idempotent)."""
    global _patched
    with phil:
        if _patched:
            return
        for owner, attr, key, new in _TABLE:
            old = getattr(owner, attr)
            _ORIG[key] = old
            if not isinstance(owner, type(sys)):
                functools.update_wrapper(new, old, assigned=("__doc__",), updated=())
            else:
                new.__doc__ = old.__doc__
            new.__rustvol_original__ = old
            setattr(owner, attr, new)
        _patched = True


def unpatch():
    """Put h5py's original functions back."""
    global _patched
    with phil:
        if not _patched:
            return
        for owner, attr, key, _new in _TABLE:
            setattr(owner, attr, _ORIG[key])
        _patched = False


def is_patched():
    return _patched
