"""Attributes as metadata: numbers, arrays, strings, booleans, explicit types, modification,
iteration, deletion, on files, groups and datasets.  Usage: python attributes.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "attributes.h5"

with h5py.File(path, "w") as f:
    f.attrs["title"] = "Ocean buoy network"
    f.attrs["version"] = 3
    f.attrs["created"] = np.bytes_(b"2026-11-22T10:00:00Z")     # fixed-length bytes
    buoy = f.create_group("buoys/B17")
    buoy.attrs["position"] = np.array([47.25, -5.5])
    buoy.attrs["depth_m"] = np.float32(120.5)
    buoy.attrs["active"] = True
    buoy.attrs["sensors"] = ["temp", "salinity", "ph"]           # list of str -> vlen strings
    buoy.attrs["serial"] = np.uint64(2**63 + 5)
    buoy.attrs.create("calibration", data=[[1, 0], [0, 1]], dtype="i1")
    buoy.attrs.create("gain", data=2.5, dtype="f2")
    buoy.attrs["note"] = "Réparée à Brest"                       # non-ASCII text
    d = buoy.create_dataset("temp", data=np.arange(5, dtype="f4"))
    d.attrs["units"] = "degC"
    d.attrs["valid_range"] = (-2.0, 35.0)

with h5py.File(path, "r+") as f:
    print("file attributes:", sorted(f.attrs))
    print("  title:", f.attrs["title"], "| version:", f.attrs["version"],
          "| created:", f.attrs["created"])
    b = f["buoys/B17"]
    print("buoy has", len(b.attrs), "attributes")
    for name in sorted(b.attrs):
        value = b.attrs[name]
        dt = b.attrs.get_id(name).dtype
        shown = value.tolist() if hasattr(value, "tolist") else value
        print(f"  {name:12s} {str(dt):10s} {shown!r}")
    print("sensors type:", type(b.attrs["sensors"][0]).__name__)
    print("'active' in attrs:", "active" in b.attrs, "| 'missing':", "missing" in b.attrs,
          "| get default:", b.attrs.get("missing", "none"))
    b.attrs["depth_m"] = 121.0                     # replace (new type float64)
    b.attrs.modify("gain", 3.0)                    # keep the existing type float16
    print("after modify: depth", b.attrs["depth_m"], b.attrs["depth_m"].dtype,
          "| gain", b.attrs["gain"], b.attrs["gain"].dtype)
    del b.attrs["serial"]
    print("after delete:", sorted(b.attrs.keys()))
    print("items:", sorted((k, str(v)) for k, v in f["buoys/B17/temp"].attrs.items()))
    vals = sorted(str(v) for v in f["buoys/B17/temp"].attrs.values())
    print("values:", vals)
    b.attrs.clear()
    print("after clear:", list(b.attrs))

with h5py.File(path, "r") as f:
    print("reopened, file attrs:", dict(sorted((k, str(v)) for k, v in f.attrs.items())))
    print("temp units:", f["buoys/B17/temp"].attrs["units"])
