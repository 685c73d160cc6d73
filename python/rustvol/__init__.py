"""rustvol for Python: route h5py through the rustvol HDF5 VOL connector, and complete h5py for
files that are not in HDF5's native format.

    import rustvol
    rustvol.enable("backend=dir;root=/data/store")   # before the first `import h5py` if you can
    import h5py
    with h5py.File("run1.h5", "w") as f:
        ...

``enable`` works in one of two ways (``rustvol.mode()`` tells which was used):

* ``"environment"``, when HDF5 is not loaded in the process yet: it sets ``HDF5_PLUGIN_PATH``
  and ``HDF5_VOL_CONNECTOR`` and then imports h5py, so HDF5 initialises with rustvol as the
  default connector of every file access property list: everything (h5py's high- and low-level
  API, other libraries using the same libhdf5) goes through rustvol.
* ``"fapl"``, when h5py (or anything that loads libhdf5) was imported before: HDF5 read its
  environment already, so ``enable`` adds the plugin directory to HDF5's search path
  (``H5PLprepend``), registers the connector (``H5VLregister_connector_by_name``) and sets it
  (``H5Pset_vol``) on every file access property list ``h5py.File`` makes.  Files opened by
  ``h5py.File`` go through rustvol; low-level ``h5py.h5f.open/create`` with a default property
  list do not.

Either way, ``enable`` then calls ``patch_h5py()`` (see ``rustvol._h5py``).
"""
import os
import sys

__all__ = ["enable", "disable", "patch_h5py", "unpatch_h5py", "mode", "info", "plugin_dir",
           "connector_name", "is_native", "find_plugin_dir"]
__version__ = "0.1.0"

CONNECTOR_NAME = "rustvol"
PLUGIN_FILE = "librustvol.so"

_state = {"mode": None, "info": None, "plugin_dir": None, "vol_id": None, "info_ptr": None,
          "fapl_active": False}


# Where the wheel (scripts/build-wheel.sh) puts the plugin: a directory holding nothing else,
# since HDF5 tries to load every file of a directory on its plugin path.
BUNDLED_PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin")


def find_plugin_dir(plugin_path=None):
    """The directory holding librustvol.so: ``plugin_path``, else ``RUSTVOL_PLUGIN_DIR``, else
    the first entry of ``HDF5_PLUGIN_PATH`` that holds it, else the package's own ``plugin``
    directory (where the wheel installs it)."""
    candidates = []
    if plugin_path:
        candidates.append(os.fspath(plugin_path))
    else:
        if os.environ.get("RUSTVOL_PLUGIN_DIR"):
            candidates.append(os.environ["RUSTVOL_PLUGIN_DIR"])
        candidates += [p for p in os.environ.get("HDF5_PLUGIN_PATH", "").split(":") if p]
        candidates.append(BUNDLED_PLUGIN_DIR)
    for d in candidates:
        if os.path.isfile(os.path.join(d, PLUGIN_FILE)):
            return os.path.abspath(d)
    if plugin_path:
        raise FileNotFoundError(f"rustvol: no {PLUGIN_FILE} in {plugin_path}")
    raise FileNotFoundError(
        f"rustvol: cannot find {PLUGIN_FILE}; pass plugin_path= or set RUSTVOL_PLUGIN_DIR "
        f"(or HDF5_PLUGIN_PATH) to the directory that holds it (target/release in a build), "
        f"or install the rustvol wheel, which carries it in {BUNDLED_PLUGIN_DIR}")


def _h5py_defs_module():
    import glob
    import importlib.machinery
    import importlib.util
    spec = importlib.util.find_spec("h5py")
    if spec is None or not spec.origin:
        raise ImportError("rustvol: h5py is not installed")
    pkg = os.path.dirname(spec.origin)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        found = glob.glob(os.path.join(pkg, "defs" + suffix))
        if found:
            return found[0]
    return None


def check_same_hdf5(pdir):
    """Raise RuntimeError unless h5py and librustvol.so depend on the same libhdf5 (by soname).

    PyPI's h5py wheels carry a private copy of HDF5 (h5py.libs/libhdf5-<hash>.so.*); the plugin
    then runs against another libhdf5 than h5py's, which cannot work (docs/h5py.md)."""
    from . import _elf
    defs = _h5py_defs_module()
    plugin = os.path.join(pdir, PLUGIN_FILE)
    try:
        theirs = _elf.hdf5_needed(defs) if defs else None
        ours = _elf.hdf5_needed(plugin)
    except (OSError, ValueError, IndexError):
        return
    if theirs and ours and theirs != ours:
        raise RuntimeError(
            f"rustvol: h5py uses {theirs} but {plugin} uses {ours}; a VOL plugin must share "
            "h5py's libhdf5.  h5py wheels from PyPI bundle their own HDF5: install h5py from "
            "source against the HDF5 rustvol was built with, e.g. "
            "HDF5_DIR=<that prefix> pip install --no-binary h5py h5py (docs/h5py.md)")


def _hdf5_loaded():
    if "h5py" in sys.modules:
        return True
    try:
        with open("/proc/self/maps") as f:
            return any("/libhdf5" in line for line in f)
    except OSError:
        return False


def enable(info=None, plugin_path=None, *, patch=True):
    """Make h5py use rustvol with the given info string (default: ``RUSTVOL_INFO`` from the
    environment, else ``backend=memory``).  Returns the mode used, "environment" or "fapl".

    Call it before h5py is first imported to get the "environment" mode.  Raises RuntimeError
    if HDF5 cannot load the connector, or if h5py and the plugin use different libhdf5
    libraries (h5py's PyPI wheels bundle their own).  The connector checks the info string itself when a
    file is created or opened (an OSError naming the bad key or value).
    """
    if info is None:
        info = os.environ.get("RUSTVOL_INFO", "backend=memory")
    info = info.strip()
    pdir = find_plugin_dir(plugin_path)
    check_same_hdf5(pdir)

    if _state["mode"] == "environment":
        if info != _state["info"]:
            raise RuntimeError("rustvol: already enabled through the environment with info "
                               f"{_state['info']!r}; HDF5 reads it only once per process")
    elif _state["mode"] is None and not _hdf5_loaded():
        paths = [p for p in os.environ.get("HDF5_PLUGIN_PATH", "").split(":") if p]
        if pdir not in paths:
            paths.insert(0, pdir)
        os.environ["HDF5_PLUGIN_PATH"] = ":".join(paths)
        os.environ["HDF5_VOL_CONNECTOR"] = f"{CONNECTOR_NAME} {info}"
        import h5py  # noqa: F401 - initialises HDF5, which reads the two variables
        from . import _vol
        if not _vol.default_is_rustvol():
            raise RuntimeError(
                f"rustvol: HDF5 did not load the connector from {pdir} (it fell back to the "
                "native one; its error stack above, if any, says why)")
        _state.update(mode="environment", info=info, plugin_dir=pdir)
    else:
        from . import _vol
        _vol.enable_fapl(info, pdir, _state)
    if patch:
        patch_h5py()
    return _state["mode"]


def disable():
    """Stop routing new ``h5py.File`` objects through rustvol ("fapl" mode only; in
    "environment" mode HDF5 keeps the connector it was initialised with)."""
    if _state["mode"] == "environment":
        raise RuntimeError("rustvol: enabled through the environment; it stays the default "
                           "connector for this process")
    _state["fapl_active"] = False


def mode():
    """"environment", "fapl" (see the module documentation), or None if not enabled."""
    return _state["mode"] if (_state["mode"] != "fapl" or _state["fapl_active"]) else None


def info():
    return _state["info"]


def plugin_dir():
    return _state["plugin_dir"]


def patch_h5py():
    """Replace the h5py functions that only work on native files (idempotent; harmless for
    native files, which keep using h5py's own code)."""
    from . import _h5py
    _h5py.patch()


def unpatch_h5py():
    from . import _h5py
    _h5py.unpatch()


def connector_name(obj):
    """Name of the VOL connector of an h5py object or ObjectID ("rustvol", "native", ...)."""
    from . import _hdf5
    objid = getattr(obj, "id", obj)
    return _hdf5.connector_name(objid.id)


def is_native(obj):
    return connector_name(obj) == "native"
