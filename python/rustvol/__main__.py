"""Run an unmodified h5py script through rustvol:

    python -m rustvol [--plugin-dir DIR] INFO script.py [args...]
    python -m rustvol --check INFO          # enable, create, reopen and list a file: a self-test
    python -m rustvol --fapl INFO script.py # the same after `import h5py` (rustvol.mode() "fapl")

INFO is the connector's info string, e.g. "backend=dir;root=/data/store".  rustvol.enable(INFO)
runs before the script imports h5py, then the script runs as __main__ (as `python script.py`).
"""
import argparse
import os
import runpy
import sys


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rustvol", description=__doc__.split("\n\n")[0])
    p.add_argument("--plugin-dir", help="directory holding librustvol.so "
                   "(default: RUSTVOL_PLUGIN_DIR, else HDF5_PLUGIN_PATH, else the "
                   "one the wheel installed in the package)")
    p.add_argument("--check", action="store_true", help="run a short self-test instead")
    p.add_argument("--fapl", action="store_true",
                   help="import h5py first, so that rustvol is registered at run time and set "
                        "on h5py.File's access property lists (the \"fapl\" mode)")
    p.add_argument("info", help='info string, e.g. "backend=dir;root=/data/store"')
    p.add_argument("script", nargs="?", help="the h5py script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    a = p.parse_args(argv)

    if a.fapl:
        import h5py  # noqa: F401 - initialises HDF5 before rustvol.enable
    import rustvol
    try:
        rustvol.enable(a.info, a.plugin_dir)
    except (RuntimeError, OSError, ImportError) as e:
        print(e, file=sys.stderr)
        return 1
    if a.check:
        return _check()
    if not a.script:
        p.error("a script to run is needed (or --check)")
    sys.argv = [a.script] + a.args
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.script)))
    runpy.run_path(a.script, run_name="__main__")
    return 0


def _check():
    import tempfile

    import h5py
    import numpy as np

    import rustvol
    name = os.path.join(tempfile.gettempdir(), f"rustvol-check-{os.getpid()}.h5")
    with h5py.File(name, "w") as f:
        f["group/data"] = np.arange(4)
        f["group"].attrs["ok"] = True
        ref = f["group/data"].ref
        conn = rustvol.connector_name(f)
    with h5py.File(name, "r") as f:
        names = []
        f.visit(names.append)
        ok = names == ["group", "group/data"] and f[ref][...].tolist() == [0, 1, 2, 3]
    print(f"rustvol {rustvol.mode()} mode, connector {conn!r}, info {rustvol.info()!r}, "
          f"h5py {h5py.version.version} on HDF5 {h5py.version.hdf5_version}: "
          f"{'ok' if ok and conn == 'rustvol' else 'FAILED'} ({names})")
    return 0 if ok and conn == "rustvol" else 1


if __name__ == "__main__":
    sys.exit(main())
