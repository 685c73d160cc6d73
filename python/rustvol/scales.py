"""Dimension scales of a rustvol file, re-made in a native copy of it.

    h5repack --src-vol-name=rustvol --src-vol-info="$INFO" data.nc native.nc
    python -m rustvol.scales "$INFO" data.nc native.nc

HDF5 1.14's h5repack cannot carry references out of a file of another connector: it follows an
old-style reference with ``H5Rdereference2``, which refuses every non-native object (so an
attribute of ``H5T_STD_REF_OBJ`` references is written unchanged, pointing at nothing in the
copy), and it writes a new-style reference (``H5T_STD_REF``, what HDF5's dimension-scale library
stores for non-native files) as it reads it, a reference into the *source* file.  The copy's
``DIMENSION_LIST`` and ``REFERENCE_LIST`` therefore name objects of the rustvol file, and
native h5py, h5netcdf and netCDF-C cannot use them.

This command reads which scales are attached to which dimension of which dataset in the
rustvol file (in a child process that enables rustvol, so that this one stays native), then, in
the native copy, removes the copied ``DIMENSION_LIST``/``REFERENCE_LIST`` attributes and
attaches the same scales, in the same order per dimension, with HDF5's dimension-scale
library: the copy then holds what HDF5 writes natively (``H5T_STD_REF_OBJ``).  Everything else
of the copy (data, the scales' ``CLASS`` and ``NAME``, ``DIMENSION_LABELS``, netCDF's
``_Netcdf4Dimid``...) is h5repack's.  It refuses a copy that lacks one of the datasets.
"""
import json
import os
import subprocess
import sys


def attachments(f):
    """{dataset path: [[scale path, ...] for each dimension]} for every dataset of an open
    h5py file with a scale attached, and [scale path, ...] of every dimension scale."""
    import h5py

    out = {}
    scales = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.is_scale:
            scales.append(obj.name)
        if "DIMENSION_LIST" in obj.attrs:
            out[obj.name] = [[s.name for s in dim.values()] for dim in obj.dims]

    f.visititems(visit)
    return {"datasets": out, "scales": sorted(scales)}


def _read_source(info, source):
    """attachments() of the rustvol file, computed in a child process with rustvol enabled."""
    code = ("import json, sys, rustvol; rustvol.enable(sys.argv[1]); import h5py; "
            "from rustvol.scales import attachments; "
            "f = h5py.File(sys.argv[2], 'r'); print(json.dumps(attachments(f))); f.close()")
    env = {k: v for k, v in os.environ.items() if k not in ("HDF5_VOL_CONNECTOR",)}
    r = subprocess.run([sys.executable, "-c", code, info, source], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"rustvol.scales: cannot read {source} through rustvol:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def reattach(native_path, att):
    """Re-make the dimension scales ``att`` (from attachments()) in the native file."""
    import h5py

    with h5py.File(native_path, "r+") as f:
        missing = [p for p in list(att["datasets"]) + att["scales"] if p not in f]
        if missing:
            raise RuntimeError(f"rustvol.scales: {native_path} has no {', '.join(missing)}")
        for path in att["datasets"]:
            if "DIMENSION_LIST" in f[path].attrs:
                del f[path].attrs["DIMENSION_LIST"]
        for path in att["scales"]:
            if "REFERENCE_LIST" in f[path].attrs:
                del f[path].attrs["REFERENCE_LIST"]
        for path, dims in att["datasets"].items():
            ds = f[path]
            for axis, names in enumerate(dims):
                for scale in names:
                    ds.dims[axis].attach_scale(f[scale])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: python -m rustvol.scales INFO RUSTVOL_FILE NATIVE_COPY", file=sys.stderr)
        return 2
    info, source, native = argv
    if "h5py" in sys.modules and os.environ.get("HDF5_VOL_CONNECTOR"):
        print("rustvol.scales: unset HDF5_VOL_CONNECTOR: the copy is opened natively",
              file=sys.stderr)
        return 2
    os.environ.pop("HDF5_VOL_CONNECTOR", None)
    try:
        att = _read_source(info, source)
        reattach(native, att)
    except (RuntimeError, OSError, KeyError) as e:
        print(e, file=sys.stderr)
        return 1
    n = sum(len(s) for dims in att["datasets"].values() for s in dims)
    print(f"rustvol.scales: {native}: {len(att['datasets'])} datasets, {n} attachments to "
          f"{len(att['scales'])} scales re-made natively")
    return 0


if __name__ == "__main__":
    sys.exit(main())
