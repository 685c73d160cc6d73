# Writes a file through rustvol (HDF5_VOL_CONNECTOR selects it): datasets (chunked and
# compressed, resizable, strings, native complex on HDF5 2.0), attributes, nested groups.
import sys
import h5py
import numpy as np

with h5py.File("pypi.h5", "w") as f:
    f.attrs["title"] = "rustvol under " + h5py.version.hdf5_version
    f.attrs["answer"] = 42
    g = f.create_group("run1/raw")
    g.create_dataset("counts", data=np.arange(12, dtype="i4").reshape(3, 4), chunks=(2, 2), compression="gzip")
    g["counts"].attrs["units"] = "events"
    d = f.create_dataset("run1/series", shape=(0,), maxshape=(None,), dtype="f8", chunks=(4,))
    d.resize((5,))
    d[:] = [0.5, 1.5, 2.5, 3.5, 4.5]
    f["run1/names"] = np.array([b"alpha", b"beta"], dtype="S5")
    f.create_group("run2")
    if h5py.version.hdf5_version_tuple >= (2, 0, 0):
        from h5py import h5t
        c = f.create_dataset("complex", (3,), dtype=h5py.Datatype(h5t.COMPLEX_IEEE_F64LE))
        c[:] = np.array([1 + 2j, 3 - 4j, -5j])
print("written", file=sys.stderr)
