"""A small experiment archive: nested groups, iteration, membership, visiting, moving and
deleting.  Usage: python nested_groups.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "nested_groups.h5"

with h5py.File(path, "w") as f:
    # /campaign/<site>/<run>/{temperature,pressure}; intermediate groups are created on the way
    for site in ("alps", "andes"):
        for run in range(3):
            g = f.create_group(f"campaign/{site}/run{run:02d}")
            g.attrs["operator"] = ["ana", "ben", "chloe"][run]
            g["temperature"] = np.linspace(-5.0, 5.0, 6) + run
            g["pressure"] = np.full(4, 1000.0 - 10 * run)
    f.require_group("campaign/alps")            # exists: returned, not recreated
    f.create_group("calibration")
    f["calibration/offsets"] = np.arange(3, dtype="i2")

with h5py.File(path, "r") as f:
    print("root:", list(f))
    print("sites:", list(f["campaign"].keys()))
    alps = f["campaign/alps"]
    print("alps has", len(alps), "runs:", list(alps))
    print("reversed:", list(reversed(alps)))
    for name, run in alps.items():
        print(f"  {name}: operator={run.attrs['operator']}, members={sorted(run)}")
    print("values are", sorted(type(v).__name__ for v in f["campaign"].values()))
    for p in ("campaign/alps/run01", "campaign/alps/run01/pressure", "campaign/alps/run09",
              "/calibration", "calibration/offsets/x", "campaign//andes/"):
        print(f"  {p!r} in file: {p in f}")
    print("get missing:", f.get("campaign/pyrenees"), "/ with default:",
          f.get("campaign/pyrenees", "n/a"))
    print("classes:", f.get("campaign/andes", getclass=True).__name__,
          f.get("calibration/offsets", getclass=True).__name__)

    names = []
    f.visit(names.append)
    print("visit:", len(names), "objects")
    for n in names:
        print("  ", n)

    def first_dataset(name, obj):
        if isinstance(obj, h5py.Dataset) and name.endswith("pressure"):
            return f"{name} {obj.shape} {obj.dtype}"
    print("first pressure dataset:", f.visititems(first_dataset))

    def summary(name, obj):
        if isinstance(obj, h5py.Dataset):
            print(f"   {name}: mean {obj[()].mean():.2f}")
    f["campaign/andes"].visititems(summary)

with h5py.File(path, "a") as f:
    f.move("campaign/andes/run02", "campaign/andes/run02-rejected")
    del f["campaign/alps/run00"]
    print("after move and delete:", list(f["campaign/alps"]), list(f["campaign/andes"]))
    print("run02 still there:", "campaign/andes/run02" in f,
          "- renamed:", f["campaign/andes/run02-rejected"].name)
