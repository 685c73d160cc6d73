# Iteration, visiting, links and references on pypi.h5, run through `python -m rustvol`: the
# rustvol package completes h5py's v1-API calls for non-native files (docs/h5py.md).
import h5py

with h5py.File("pypi.h5", "r") as f:
    print("keys", list(f), list(f["run1"].keys()))
    names = []
    f.visit(names.append)
    print("visit", names)
    print("items", [(k, type(v).__name__) for k, v in f["run1"].items()])
    print("attrs", sorted(f.attrs.keys()))
    print("contains", "run1/raw/counts" in f, "run1/nothing" in f)
with h5py.File("pypi.h5", "a") as f:
    f["run2/ref"] = f["run1/raw/counts"].ref
    f["run2/soft"] = h5py.SoftLink("/run1/series")
with h5py.File("pypi.h5", "r") as f:
    print("deref", f[f["run2/ref"][()]].name, f["run2/soft"][()].tolist()[:2], f.get("run2/soft", getlink=True).path)
