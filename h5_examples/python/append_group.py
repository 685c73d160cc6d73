"""Adds a group with a chunked dataset and a string attribute to an existing file.

An ordinary h5py script: run it with HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR set and it works
on a rustvol store instead of a native file.  Usage: python append_group.py FILE
"""
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1] if len(sys.argv) > 1 else "demo.h5", "a") as f:
    g = f.create_group("python")
    d = g.create_dataset("squares", data=np.arange(8) ** 2, chunks=(4,))
    d.attrs["written_by"] = "h5py " + h5py.version.version
    print("h5py sees", sorted(f["experiment"].attrs), "and wrote /python/squares =", d[...].tolist())
