# Reads pypi.h5 (written by write.py in another process) and prints what it holds, with h5py's
# calls that need no help for a non-native file.
import h5py

with h5py.File("pypi.h5", "r") as f:
    print("title", f.attrs["title"])
    print("answer", int(f.attrs["answer"]))
    c = f["run1/raw/counts"]
    print("counts", c.shape, c.chunks, c.compression, c[()].tolist(), c.attrs["units"])
    print("series", f["run1/series"].maxshape, f["run1/series"][()].tolist())
    print("names", f["run1/names"][()].tolist())
    print("groups", len(f), len(f["run1"]), isinstance(f["run2"], h5py.Group))
    if h5py.version.hdf5_version_tuple >= (2, 0, 0):
        print("complex", f["complex"].dtype, f["complex"][()].tolist())
