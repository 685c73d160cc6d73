"""Which h5py features work through rustvol: one line per feature, "ok" or the error.

    python tests/python/h5py_features.py INFO              # rustvol.enable(INFO): patched h5py
    python tests/python/h5py_features.py INFO --no-patch   # connector only, h5py as compiled
    python tests/python/h5py_features.py native            # native HDF5, for comparison

The table in docs/h5py.md comes from these runs.  Exit status 1 if a feature other than the
known failures (marked "expected" in the table) fails with the patches.
"""
import argparse
import os
import sys
import tempfile

KNOWN = {  # feature -> why it cannot work through rustvol, even patched
    "regionref": "region references are native-only (hdset_reg_ref_t)",
    "low-level id.links.get_info": "method of h5py's compiled LinkProxy (v1 API)",
    "low-level iter(group.id)": "method of h5py's compiled GroupID (v1 API)",
    "dimension scales": "rustvol bug 2 (vlen of references drops a file id count)",
    "string fill value": "rustvol bug 1 (variable-length fill values)",
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("info")
    p.add_argument("--no-patch", action="store_true")
    a = p.parse_args()
    native = a.info == "native"
    if not native:
        import rustvol
        rustvol.enable(a.info, patch=not a.no_patch)
    import h5py
    import numpy as np

    tmp = tempfile.mkdtemp(prefix="h5py-features-")
    f = name = other = None

    # Files are only ever opened in the forked children: rustvol's dir and s3 backends do
    # not survive a fork() after use (docs/h5py.md, bug 6).
    def setup(i):
        nonlocal f, name, other
        other = os.path.join(tmp, f"other{i}.h5")
        with h5py.File(other, "w") as o:
            o["target"] = [1, 2]
        name = os.path.join(tmp, f"features{i}.h5")
        f = h5py.File(name, "w")
        f.create_group("a/b/c")
        f["a/x"] = np.arange(4)
        f["soft"] = h5py.SoftLink("/a/x")
        f["ext"] = h5py.ExternalLink(other, "/target")
        f["a"].attrs["k"] = 1

    def check_refs():
        d = f.create_dataset("refs", (1,), dtype=h5py.ref_dtype)
        d[0] = f["a/b"].ref
        f.attrs["r"] = f["a/x"].ref
        return f[d[0]].name == "/a/b" and f[f.attrs["r"]].name == "/a/x"

    def check_dims():
        f["img"] = np.zeros((2, 3))
        f["xs"] = np.arange(3.0)
        f["xs"].make_scale("x")
        f["img"].dims[1].attach_scale(f["xs"])
        return f["img"].dims[1][0].name == "/xs"

    def check_fill():
        d = f.create_dataset("sfill", (2,), dtype=h5py.string_dtype(), fillvalue=b"bar")
        return d[0] == b"bar"

    def new_file_append():
        n = os.path.join(tmp, "append.h5")
        with h5py.File(n, "a") as g:
            g["v"] = 1
        return True

    def missing_file():
        try:
            h5py.File(os.path.join(tmp, "missing.h5"), "r")
        except FileNotFoundError:
            return True
        return False

    def exclusive():
        try:
            h5py.File(other, "w-")
        except FileExistsError:
            return True
        return False

    def visit():
        out = []
        f.visit(out.append)
        return out == ["a", "a/b", "a/b/c", "a/x", "ext"] or out[:4] == ["a", "a/b", "a/b/c", "a/x"]

    def visit_links():
        out = []
        f.visit_links(out.append)
        return out == ["a", "a/b", "a/b/c", "a/x", "ext", "soft"]

    checks = [
        ("list(group), keys()", lambda: list(f) == ["a", "ext", "soft"] and list(f.keys()) == list(f)),
        ("values(), items()", lambda: len(list(f["a"].values())) == 2 and len(dict(f["a"].items())) == 2),
        ("reversed(group)", lambda: list(reversed(f["a"])) == ["x", "b"]),
        ("len(group)", lambda: len(f["a"]) == 2),
        ("'a/b' in group", lambda: "a/b/c" in f and "a/zz" not in f),
        ("group.get(name)", lambda: f.get("a/x") is not None and f.get("nope") is None),
        ("get(getclass=True)", lambda: f.get("a/b", getclass=True) is h5py.Group),
        ("get(getlink=True)", lambda: isinstance(f.get("soft", getlink=True), h5py.SoftLink)
            and isinstance(f.get("ext", getlink=True), h5py.ExternalLink)
            and isinstance(f.get("a", getlink=True), h5py.HardLink)),
        ("visit", visit),
        ("visititems", lambda: f.visititems(lambda n, o: n if isinstance(o, h5py.Dataset) else None) == "a/x"),
        ("visit_links", visit_links),
        ("visititems_links", lambda: f.visititems_links(
            lambda n, l: n if isinstance(l, h5py.SoftLink) else None) == "soft"),
        ("soft and external links read", lambda: f["soft"][1] == 1 and f["ext"][1] == 2),
        ("obj.ref, file[ref]", lambda: f[f["a/b"].ref].name == "/a/b"),
        ("references in datasets/attributes", check_refs),
        ("h5r.get_name / get_obj_type", lambda: h5py.h5r.get_name(f["a"].ref, f.id) == b"/a"
            and h5py.h5r.get_obj_type(f["a"].ref, f.id) == h5py.h5o.TYPE_GROUP),
        ("regionref", lambda: f[f["a/x"].regionref[1:3]] is not None),
        ("hash(obj), obj == obj", lambda: f["a"] == f["a"] and f["soft"] == f["a/x"]
            and len({f["a"], f["a"]}) == 1),
        ("h5o.get_info", lambda: h5py.h5o.get_info(f["a"].id).type == h5py.h5o.TYPE_GROUP),
        ("h5g.get_objinfo", lambda: h5py.h5g.get_objinfo(f["a"].id).type == h5py.h5g.GROUP),
        ("attrs: iterate, in, get, modify, delete", lambda: (
            f["a"].attrs.create("m", 2) or True) and sorted(f["a"].attrs) == ["k", "m"]
            and "k" in f["a"].attrs and (f["a"].attrs.modify("k", 5) or True)
            and f["a"].attrs["k"] == 5 and (f["a"].attrs.__delitem__("m") or True)
            and list(f["a"].attrs) == ["k"]),
        ("copy, move", lambda: (f.copy("a/x", "a/x2") or True) and (f.move("a/x2", "a/x3") or True)
            and "a/x3" in f),
        ("File(new, 'a')", new_file_append),
        ("File(missing, 'r') -> FileNotFoundError", missing_file),
        ("File(existing, 'w-') -> FileExistsError", exclusive),
        ("dimension scales", check_dims),
        ("string fill value", check_fill),
        ("low-level id.links.get_info", lambda: f.id.links.get_info(b"soft").type == h5py.h5l.TYPE_SOFT),
        ("low-level iter(group.id)", lambda: list(f["a"].id) == [b"b", b"x"]),
    ]
    unexpected = 0
    mode = "native HDF5" if native else ("rustvol, h5py unpatched" if a.no_patch else "rustvol + rustvol.patch_h5py")
    print(f"h5py {h5py.version.version} features ({mode}):")
    for i, (label, fn) in enumerate(checks):
        # each check in a forked child with a fresh file: a failure (or a crash) cannot
        # disturb the next check
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            try:
                setup(i)
                ok = bool(fn())
                msg = "ok" if ok else "wrong result"
            except Exception as e:  # noqa: BLE001 - the point is to report any failure
                msg = f"{type(e).__name__}: {str(e)[:110]}"
            os.write(wfd, msg.encode())
            os._exit(0)
        os.close(wfd)
        chunks = []
        while True:
            b = os.read(rfd, 4096)
            if not b:
                break
            chunks.append(b)
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
        msg = b"".join(chunks).decode() or f"crashed (wait status {status})"
        ok = msg == "ok"
        known = "" if ok or label not in KNOWN else f"  [expected: {KNOWN[label]}]"
        if not ok and not known and not a.no_patch:
            unexpected += 1
        print(f"  {label:42s} {msg}{known}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
