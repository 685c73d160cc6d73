"""Links and references: hard, soft and external links, link inspection, visiting links,
object references stored in datasets and attributes, dereferencing.
Usage: python links_references.py FILE  (a second file FILE-extra.h5 is written next to it)"""
import os
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "links_references.h5"
extra = os.path.splitext(path)[0] + "-extra.h5"

with h5py.File(extra, "w") as e:
    e["shared/constants"] = np.array([3.14159, 2.71828])

with h5py.File(path, "w") as f:
    raw = f.create_dataset("data/raw", data=np.arange(12).reshape(3, 4))
    f.create_group("data/processed")
    f["data/processed/mean"] = raw[...].mean(axis=0)
    f["latest"] = h5py.SoftLink("/data/processed/mean")          # soft link
    f["alias_of_raw"] = raw                                        # second hard link
    f["dangling"] = h5py.SoftLink("/nowhere")
    f["constants"] = h5py.ExternalLink(os.path.basename(extra), "/shared/constants")
    refs = f.create_dataset("index", (3,), dtype=h5py.ref_dtype)
    refs[0] = raw.ref
    refs[1] = f["data/processed"].ref
    # refs[2] stays a null reference
    raw.attrs["derived"] = f["data/processed/mean"].ref
    f["data"].attrs["members"] = np.array([raw.ref, f["latest"].ref], dtype=h5py.ref_dtype)

os.chdir(os.path.dirname(os.path.abspath(path)))   # external links resolve relative to here
with h5py.File(path, "r") as f:
    raw = f["data/raw"]

    def describe(obj):
        # /data/raw has two names (a second hard link); say which object it is, not which name
        return "/data/raw (= /alias_of_raw)" if obj == raw else obj.name

    print("root:", list(f))
    for name in ("latest", "alias_of_raw", "dangling", "constants", "data"):
        link = f.get(name, getlink=True)
        kind = type(link).__name__
        detail = getattr(link, "path", "")
        if isinstance(link, h5py.ExternalLink):
            detail = f"{link.path} in {link.filename}"
        print(f"  {name:13s} {kind:12s} {detail}")
    print("class of latest:", f.get("latest", getclass=True).__name__,
          "| link class:", f.get("latest", getclass=True, getlink=True).__name__)
    print("latest ->", f["latest"][...].tolist(), "| name:", f["latest"].name)
    print("alias is raw:", f["alias_of_raw"] == f["data/raw"], "| same ref target:",
          f[f["alias_of_raw"].ref] == f["data/raw"])
    print("dangling exists:", "dangling" in f, "| get:", f.get("dangling"))
    print("external constants:", f["constants"][...].tolist())
    links = []
    f.visit_links(links.append)
    print("visit_links:", links)
    objects = []
    f.visit(objects.append)
    print("visit (each object once):", objects)
    kinds = {}
    f.visititems_links(lambda n, l: kinds.__setitem__(n, type(l).__name__) or None)
    print("link kinds:", sorted(kinds.items()))

    index = f["index"]
    print("index dtype is a reference:", h5py.check_dtype(ref=index.dtype) is h5py.Reference)
    for i, r in enumerate(index[...]):
        if r:
            obj = f[r]
            print(f"  index[{i}] -> {describe(obj)} ({type(obj).__name__})")
        else:
            print(f"  index[{i}] -> null reference")
    derived = f[f["data/raw"].attrs["derived"]]
    print("raw.attrs['derived'] ->", derived.name, derived[...].tolist())
    print("data.attrs['members'] ->", [describe(f[r]) for r in f["data"].attrs["members"]])
    print("dereference from a subgroup:", describe(f["data/processed"][index[0]]))
    print("hashable and equal:", len({f["data/raw"], f["alias_of_raw"], f["latest"]}))
