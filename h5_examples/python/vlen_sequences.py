"""Variable-length sequences (ragged arrays): particle tracks of different lengths, appended
and read back.  Usage: python vlen_sequences.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "vlen_sequences.h5"
tracks = [np.arange(n, dtype="f8") * 0.5 for n in (3, 0, 5, 1)]

with h5py.File(path, "w") as f:
    dt = h5py.vlen_dtype(np.dtype("f8"))
    d = f.create_dataset("tracks", (len(tracks),), dtype=dt, maxshape=(None,), chunks=(2,))
    for i, t in enumerate(tracks):
        d[i] = t
    d.resize((5,))
    d[4] = np.array([9.0, 8.0])
    hits = f.create_dataset("hits", (2,), dtype=h5py.vlen_dtype(np.dtype("i4")))
    hits[0] = [1, 2, 3]
    hits[1] = [42]
    f.attrs["lengths"] = [len(t) for t in tracks]

with h5py.File(path, "r") as f:
    d = f["tracks"]
    print("tracks:", d.shape, "base type:", h5py.check_vlen_dtype(d.dtype))
    for i, t in enumerate(d[...]):
        print(f"  track {i}: {len(t)} points {t.tolist()}")
    print("slice 1:3 lengths:", [len(t) for t in d[1:3]])
    print("hits:", [h.tolist() for h in f["hits"][...]])
    print("total points:", sum(len(t) for t in d[...]))
    print("lengths attribute:", f.attrs["lengths"].tolist())
