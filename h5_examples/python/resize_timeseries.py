"""An appendable time series: unlimited dimensions, growing in batches, shrinking, and
fill values in the grown part.  Usage: python resize_timeseries.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "resize_timeseries.h5"

with h5py.File(path, "w") as f:
    ts = f.create_dataset("sensor/readings", shape=(0, 3), maxshape=(None, 3), dtype="f8",
                          chunks=(8, 3), fillvalue=np.nan)
    t = f.create_dataset("sensor/time", shape=(0,), maxshape=(None,), dtype="i8", chunks=(16,))
    ts.attrs["columns"] = ["temperature", "humidity", "wind"]
    for batch in range(5):
        n = 4 + batch
        start = ts.shape[0]
        ts.resize(start + n, axis=0)
        t.resize((start + n,))
        ts[start:] = np.column_stack([np.arange(n) + batch * 10.0,
                                      np.full(n, 50.0 + batch), np.linspace(0, 1, n)])
        t[start:] = np.arange(start, start + n) * 60
        print(f"batch {batch}: {n} rows, now {ts.shape}, maxshape {ts.maxshape}")

with h5py.File(path, "r+") as f:
    ts, t = f["sensor/readings"], f["sensor/time"]
    print("rows:", len(ts), "last time:", int(t[-1]))
    print("mean per column:", np.round(ts[...].mean(axis=0), 4).tolist())
    ts.resize(10, axis=0)                     # drop everything after row 10
    t.resize((10,))
    print("after shrink:", ts.shape, t[...].tolist())
    ts.resize((14, 3))                        # grow again: the new rows hold the fill value
    print("regrown rows 9..13, column 0:", ts[9:, 0].tolist())
    ts[12] = [1.5, 2.5, 3.5]
    print("row 12:", ts[12].tolist(), "row 13 is nan:", bool(np.isnan(ts[13]).all()))
    grid = f.create_dataset("grid", (2, 2), maxshape=(None, None), dtype="i4", fillvalue=7)
    grid[...] = [[1, 2], [3, 4]]
    grid.resize((3, 4))
    print("grid grown in both dimensions:", grid[...].tolist())
    print("columns attribute:", list(ts.attrs["columns"]))
