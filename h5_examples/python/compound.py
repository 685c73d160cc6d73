"""Compound (record) types: a station catalogue with numbers, fixed strings, nested records
and arrays; reading single fields and writing records.  Usage: python compound.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "compound.h5"
location = np.dtype([("lat", "f8"), ("lon", "f8")])
station = np.dtype([("id", "i4"), ("code", "S4"), ("where", location), ("elev", "f4"),
                    ("monthly", "f4", (3,)), ("name", h5py.string_dtype())])
rows = np.array([
    (1, b"GVA", (46.24, 6.11), 411.0, (1.5, 2.9, 6.3), "Genève"),
    (2, b"ZRH", (47.46, 8.55), 432.0, (0.3, 1.7, 5.8), "Zürich"),
    (3, b"SMA", (46.49, 9.88), 1709.0, (-7.0, -6.1, -2.5), "Samedan"),
], dtype=station)

with h5py.File(path, "w") as f:
    d = f.create_dataset("stations", data=rows, maxshape=(None,), chunks=(2,))
    d.resize((4,))
    d[3] = (4, b"LUG", (46.00, 8.91), 273.0, (3.3, 4.7, 8.6), "Lugano")
    f.attrs["reference_station"] = rows[0:1]
    simple = f.create_dataset("pairs", (3,), dtype=[("a", "i2"), ("b", "f8")])
    simple["a"] = [10, 20, 30]
    simple["b"] = [0.5, 1.5, 2.5]

with h5py.File(path, "r") as f:
    d = f["stations"]
    print("fields:", d.dtype.names)
    print("nested field names:", d.dtype["where"].names, "| monthly:", d.dtype["monthly"])
    for r in d[...]:
        print(f"  {r['id']} {r['code'].decode()} {r['name'].decode():8s} "
              f"({r['where']['lat']:.2f}, {r['where']['lon']:.2f}) {r['elev']:7.1f} m "
              f"{[round(float(x), 1) for x in r['monthly']]}")
    print("only codes:", d["code"].tolist())
    print("only elevations:", d.fields("elev")[...].tolist())
    print("lat of the high station:", float(d[2]["where"]["lat"]))
    print("names via asstr:", [n.decode() for n in d["name"]])
    high = d[d["elev"] > 420]
    print("stations above 420 m:", [int(i) for i in high["id"]])
    ref = f.attrs["reference_station"]
    print("attribute record:", ref.dtype.names == d.dtype.names, ref[0]["code"])
    print("pairs:", f["pairs"][...].tolist())
    print("pairs['b'] * 2:", (f["pairs"]["b"] * 2).tolist())
