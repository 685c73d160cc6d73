"""Strings: fixed-length bytes, variable-length ASCII and UTF-8, string arrays and attributes,
reading as bytes or str.  Usage: python strings.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "strings.h5"
cities = ["Zürich", "Kraków", "東京", "Reykjavík", "Nuuk"]

with h5py.File(path, "w") as f:
    f["fixed"] = np.array([b"alpha", b"beta", b"gamma"], dtype="S8")
    f.create_dataset("fixed_utf8", data=[c.encode() for c in cities[:2]],
                     dtype=h5py.string_dtype("utf-8", 12))
    f.create_dataset("vlen_ascii", data=[b"a", b"bb", b"ccc" * 10],
                     dtype=h5py.string_dtype("ascii"))
    f.create_dataset("vlen_utf8", data=cities, dtype=h5py.string_dtype())
    grid = f.create_dataset("vlen_grid", (2, 3), dtype=h5py.string_dtype())
    grid[0] = ["x", "yy", "zzz"]
    grid[1, 1] = "middle"
    f["scalar"] = "a single variable-length string"
    f.attrs["fixed_attr"] = np.bytes_(b"fixed")
    f.attrs["vlen_attr"] = "Ωmega"
    f.attrs["list_attr"] = ["one", "two", "three"]

with h5py.File(path, "r") as f:
    for name in ("fixed", "fixed_utf8", "vlen_ascii", "vlen_utf8", "vlen_grid", "scalar"):
        d = f[name]
        info = h5py.check_string_dtype(d.dtype)
        print(f"{name}: shape {d.shape}, encoding {info.encoding}, length {info.length}")
    print("fixed raw:", f["fixed"][...].tolist())
    print("fixed as str:", f["fixed"].asstr()[...].tolist())
    print("fixed_utf8:", f["fixed_utf8"].asstr()[...].tolist())
    print("vlen_ascii:", f["vlen_ascii"][...].tolist())
    print("vlen_utf8 bytes:", f["vlen_utf8"][1])
    print("vlen_utf8 str:", f["vlen_utf8"].asstr()[...].tolist())
    print("vlen_utf8[1:3]:", f["vlen_utf8"].asstr()[1:3].tolist())
    print("vlen_grid:", f["vlen_grid"].asstr()[...].tolist())
    print("scalar:", f["scalar"].asstr()[()])
    print("attrs:", f.attrs["fixed_attr"], f.attrs["vlen_attr"], list(f.attrs["list_attr"]))
    lengths = [len(s) for s in f["vlen_utf8"].asstr()[...]]
    print("character counts:", lengths)
