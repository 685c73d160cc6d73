#!/usr/bin/env python3
"""h5py_bench.py: the patterns of bench/h5bench.c, through h5py.

Same suites, shapes, options and JSON lines as the C benchmark (see the comment at the top of
bench/h5bench.c); run it as it is for native HDF5 (``--core`` for the core driver with a backing
store), or with HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH set to go through a VOL connector. h5py
must be built against the libhdf5 the connector uses (scripts/setup-python.sh).

Differences from the C benchmark, all h5py's own:
  * writes go through ``ds[sel] = array`` and reads through ``ds.read_direct`` (no extra copy);
    strided selections are ``h5py.MultiBlockSlice`` hyperslabs, as in C;
  * attributes are written with ``g.attrs[name] = value`` (h5py creates them under a temporary
    name, writes, then renames) and read with ``g.attrs[name]``;
  * h5py compiles against HDF5's 1.10 API, whose link iteration (H5Literate1) refuses objects of
    non-native connectors, so the iterate phase calls H5Literate2 through ctypes on the group's
    id; attribute iteration uses h5py's own (H5Aiterate2).
Only the h5py calls of an operation are timed, as in C.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import h5py
import numpy as np

MiB = 1024 * 1024

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--file", default="h5bench.h5")
p.add_argument("--core", action="store_true")
p.add_argument("--suite", default="io,small,meta")
p.add_argument("--label", default="")
p.add_argument("--tests", default="", help="io suite: only these patterns (comma separated)")
p.add_argument("--contig-mb", type=float, default=256)
p.add_argument("--io-mb", type=float, default=32)
p.add_argument("--stride-block", type=int, default=64)
p.add_argument("--chunk-mb", type=float, default=4)
p.add_argument("--chunked-mb", type=float, default=256)
p.add_argument("--chunk-io-mb", type=float, default=0)
p.add_argument("--small", type=int, default=10000)
p.add_argument("--small-bytes", type=int, default=1024)
p.add_argument("--groups", type=int, default=10000)
p.add_argument("--attrs", type=int, default=4)
p.add_argument("--scale", default="1000,10000,100000")
p.add_argument("--scale-sample", type=int, default=10000)
p.add_argument("--no-verify", action="store_true")
p.add_argument("--stats-points", action="store_true")
opt = p.parse_args()

failed = False
now = time.perf_counter


def emit(suite, test, op, nbytes, ops, secs, **extra):
    rec = {"suite": suite, "test": test, "op": op, "bytes": int(nbytes), "ops": int(ops), "seconds": round(secs, 6)}
    if opt.label:
        rec["label"] = opt.label
    rec.update(extra)
    print(json.dumps(rec, separators=(",", ":")), flush=True)
    if nbytes:
        print(f"  {test:<14} {op:<6} {nbytes / 1e6 / secs if secs else 0:10.1f} MB/s  "
              f"({nbytes / MiB:.0f} MiB in {secs:.3f} s, {ops} calls)", file=sys.stderr)
    else:
        print(f"  {test:<14} {op:<8} {ops / secs if secs else 0:10.0f} ops/s ({ops} in {secs:.3f} s)", file=sys.stderr)


def open_file(mode):
    if opt.core:
        return h5py.File(opt.file, mode, driver="core", backing_store=True, block_size=64 * MiB)
    return h5py.File(opt.file, mode)


def stats_point(label):
    """See --stats-points in bench/h5bench.c: one more handle on the file, closed at once."""
    if not opt.stats_points:
        return
    # The low-level FileID: h5py.File.close() would also close every object of the file that
    # H5Fget_obj_ids(H5F_OBJ_LOCAL) reports, which through rustvol includes the benchmark's own.
    try:
        fid = h5py.h5f.open(opt.file.encode(), h5py.h5f.ACC_RDONLY)
    except Exception:
        fid = None
    sys.stdout.flush()
    print(f"h5bench: stats-point {label}", file=sys.stderr, flush=True)
    if fid is not None:
        fid.close()


# ------------------------------------------------------------------------------------------
# Bandwidth patterns (as in h5bench.c).

def val_block(shape, start, stride, count, block, dims):
    """Values of the selected elements (linear index + 0.5), in the selection's shape."""
    axes = []
    for d in range(len(dims)):
        idx = (start[d] + np.arange(count[d])[:, None] * stride[d] + np.arange(block[d])[None, :]).reshape(-1)
        axes.append(idx.astype(np.float64))
    lin = axes[0]
    for d in range(1, len(dims)):
        lin = lin[..., None] * dims[d] + axes[d]
    return (lin + 0.5).reshape(shape)


def calls(pat):
    """The selections of pattern pat: (start, stride, count, block) per call."""
    rank, dims, chunk, strided, mode = pat["rank"], pat["dims"], pat["chunk"], pat["strided"], pat["mode"]
    row = int(np.prod(dims[1:])) if rank > 1 else 1
    if mode in (0, 3):
        mb = opt.io_mb if mode == 0 else opt.chunk_io_mb
        if mode == 3 and mb <= 0:
            rows = dims[0]
        else:
            rows = int(mb * MiB // (row * 8))
            if mode == 3:
                rows = rows // chunk[0] * chunk[0]
            if rows < 1:
                rows = chunk[0] if mode == 3 else 1
        first = 0
        while first < dims[0]:
            n0 = min(rows, dims[0] - first)
            passes = (0, 1) if strided else (None,)
            for ps in passes:
                start = [0] * rank
                stride = [1] * rank
                count = [1] * rank
                block = list(dims)
                start[0] = first
                block[0] = n0
                if ps is not None:
                    n = dims[-1]
                    b = opt.stride_block
                    if rank > 1 and b > n // 2:
                        b = max(n // 2, 1)
                    if rank == 1:
                        ln = n0
                        start[0] = first + ps * b
                        block[0] = b
                        stride[0] = 2 * b
                        count[0] = (ln - ps * b - b) // (2 * b) + 1 if ln >= ps * b + b else 0
                    else:
                        start[-1] = ps * b
                        block[-1] = b
                        stride[-1] = 2 * b
                        count[-1] = (n - ps * b - b) // (2 * b) + 1 if n >= ps * b + b else 0
                if all(c > 0 for c in count):
                    yield start, stride, count, block
            first += n0
        return
    nch = [(dims[d] + chunk[d] - 1) // chunk[d] for d in range(rank)]
    for c in np.ndindex(*nch):
        base = [c[d] * chunk[d] for d in range(rank)]
        ext = [min(chunk[d], dims[d] - base[d]) for d in range(rank)]
        if mode == 1:
            yield base, [1] * rank, [1] * rank, ext
        else:
            for q in range(1 << rank):
                start, block = [], []
                for d in range(rank):
                    half = ext[d] // 2
                    if (q >> (rank - 1 - d)) & 1:
                        start.append(base[d] + half)
                        block.append(ext[d] - half)
                    else:
                        start.append(base[d])
                        block.append(half)
                yield start, [1] * rank, [1] * rank, block


def selection(start, stride, count, block):
    sel = []
    for d in range(len(start)):
        if count[d] == 1 and stride[d] == 1:
            sel.append(slice(start[d], start[d] + block[d]))
        else:
            sel.append(h5py.MultiBlockSlice(start=start[d], stride=stride[d], count=count[d], block=block[d]))
    return tuple(sel)


def run_pattern(f, pat, writing, dset=None):
    global failed
    name = dset or pat["dset"]
    dims = pat["dims"]
    if writing and dset is None:
        kw = {"chunks": tuple(pat["chunk"])} if pat["chunk"] else {}
        ds = f.create_dataset(name, shape=tuple(dims), dtype="f8", **kw)
    else:
        ds = f[name]
    secs = 0.0
    nbytes = 0
    ncalls = 0
    bad = 0
    for start, stride, count, block in calls(pat):
        shape = tuple(count[d] * block[d] for d in range(len(dims)))
        sel = selection(start, stride, count, block)
        if writing:
            buf = val_block(shape, start, stride, count, block, dims)
            t0 = now()
            ds[sel] = buf
            secs += now() - t0
        else:
            buf = np.zeros(shape, dtype="f8")
            t0 = now()
            ds.read_direct(buf, source_sel=sel)
            secs += now() - t0
            if not opt.no_verify:
                flat = buf.reshape(-1)
                want = val_block(shape, start, stride, count, block, dims).reshape(-1)
                bad += int(np.count_nonzero(flat[::257] != want[::257]))
        nbytes += buf.nbytes
        ncalls += 1
    if bad:
        print(f"h5py_bench: {pat['name']}: {bad} wrong elements read back", file=sys.stderr)
        failed = True
    emit("io", pat["name"], "write" if writing else "read", nbytes, ncalls, secs)


def suite_io():
    n = int(opt.contig_mb * MiB // 8)
    c2, c3 = 1024, 64
    r2, r3 = max(n // c2, 1), max(n // (c3 * c3), 1)
    cc = max(int(opt.chunk_mb * MiB / 8 / 512), 2)
    ccols = 2 * cc
    crows = int(opt.chunked_mb * MiB / 8) // ccols
    crows = max((crows + 511) // 512 * 512, 512)

    def pat(name, rank, dims, chunk, strided, mode, dset):
        return dict(name=name, rank=rank, dims=dims, chunk=chunk, strided=strided, mode=mode, dset=dset)

    pats = [
        pat("contig1d", 1, [n], None, 0, 0, "contig1d"),
        pat("contig2d", 2, [r2, c2], None, 0, 0, "contig2d"),
        pat("contig3d", 3, [r3, c3, c3], None, 0, 0, "contig3d"),
        pat("strided1d", 1, [n], None, 1, 0, "strided1d"),
        pat("strided2d", 2, [r2, c2], None, 1, 0, "strided2d"),
        pat("strided3d", 3, [r3, c3, c3], None, 1, 0, "strided3d"),
        pat("chunk-whole", 2, [crows, ccols], [512, cc], 0, 3, "chunkA"),
        pat("chunk-each", 2, [crows, ccols], [512, cc], 0, 1, "chunkB"),
        pat("chunk-partial", 2, [crows, ccols], [512, cc], 0, 2, "chunkB"),
    ]
    print(f"h5py_bench: io: contiguous {opt.contig_mb:.0f} MiB per dataset, slabs of {opt.io_mb:.0f} MiB; chunked "
          f"{crows}x{ccols} doubles in chunks of 512x{cc}", file=sys.stderr)
    t0 = now()
    f = open_file("w")
    emit("io", "file", "create", 0, 1, now() - t0)
    stats_point("io-write-start")
    chosen = set(opt.tests.split(",")) if opt.tests else None
    if chosen and "chunk-partial" in chosen:
        chosen |= {"chunk-whole", "chunk-each"}
    pats = [pt for pt in pats if chosen is None or pt["name"] in chosen]
    for pt in pats:
        run_pattern(f, pt, True, dset="chunkB" if pt["mode"] == 2 else None)
        stats_point(f"io-write-{pt['name']}")
    t0 = now()
    f.close()
    emit("io", "file", "close", 0, 1, now() - t0)
    t0 = now()
    f = open_file("r")
    emit("io", "file", "open", 0, 1, now() - t0)
    stats_point("io-read-start")
    for pt in pats:
        run_pattern(f, pt, False, dset="chunkA" if pt["mode"] == 2 else None)
        stats_point(f"io-read-{pt['name']}")
    t0 = now()
    f.close()
    emit("io", "file", "close-read", 0, 1, now() - t0)


# ------------------------------------------------------------------------------------------

def suite_small():
    global failed
    n = max(opt.small_bytes // 8, 1)
    print(f"h5py_bench: small: {opt.small} datasets of {n} doubles", file=sys.stderr)
    t0 = now()
    f = open_file("w")
    emit("small", "file", "create", 0, 1, now() - t0)
    stats_point("small-create-start")
    secs = 0.0
    for i in range(opt.small):
        buf = np.arange(i * n, i * n + n, dtype="f8") + 0.5
        t0 = now()
        f.create_dataset(f"d{i:07d}", data=buf)
        secs += now() - t0
    emit("small", "small", "create-write", opt.small * n * 8, opt.small, secs, unit="datasets")
    stats_point("small-create-end")
    t0 = now()
    f.close()
    emit("small", "file", "close", 0, 1, now() - t0)
    t0 = now()
    f = open_file("r")
    emit("small", "file", "open", 0, 1, now() - t0)
    stats_point("small-read-start")
    secs = 0.0
    bad = 0
    rbuf = np.empty(n, dtype="f8")
    for i in range(opt.small):
        t0 = now()
        f[f"d{i:07d}"].read_direct(rbuf)
        secs += now() - t0
        if rbuf[0] != i * n + 0.5 or rbuf[-1] != i * n + n - 0.5:
            bad += 1
    emit("small", "small", "open-read", opt.small * n * 8, opt.small, secs, unit="datasets")
    stats_point("small-read-end")
    if bad:
        print(f"h5py_bench: small: {bad} datasets read back wrong", file=sys.stderr)
        failed = True
    f.close()


# ------------------------------------------------------------------------------------------

def _hdf5():
    lib = ctypes.CDLL(os.path.join(os.environ.get("HDF5_DIR", ""), "lib", "libhdf5.so")
                      if os.environ.get("HDF5_DIR") else "libhdf5.so")
    lib.H5Literate2.restype = ctypes.c_int
    return lib


CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p)


def count_links(gid):
    """Links of a group through H5Literate2 (see the module comment)."""
    lib = _hdf5()
    n = [0]

    def cb(_g, _name, _info, _data):
        n[0] += 1
        return 0

    c = CB(cb)
    idx = ctypes.c_uint64(0)
    lib.H5Literate2.argtypes = [ctypes.c_int64, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64), CB,
                                ctypes.c_void_p]
    if lib.H5Literate2(gid, 0, 0, ctypes.byref(idx), c, None) < 0:
        raise RuntimeError("H5Literate2 failed")
    return n[0]


def suite_meta():
    global failed
    print(f"h5py_bench: meta: {opt.groups} groups with {opt.attrs} attributes each", file=sys.stderr)
    t0 = now()
    f = open_file("w")
    emit("meta", "file", "create", 0, 1, now() - t0)
    stats_point("meta-create-start")
    t0 = now()
    for i in range(opt.groups):
        g = f.create_group(f"g{i:07d}")
        for a in range(opt.attrs):
            g.attrs[f"attr{a}"] = np.array([i, a, i + a, -1], dtype="i8")
    emit("meta", "meta", "create", 0, opt.groups, now() - t0, unit="groups", attrs_per_group=opt.attrs)
    stats_point("meta-create-end")
    t0 = now()
    f.close()
    emit("meta", "file", "close", 0, 1, now() - t0)
    t0 = now()
    f = open_file("r")
    emit("meta", "file", "open", 0, 1, now() - t0)
    stats_point("meta-open-start")
    bad = 0
    t0 = now()
    for i in range(opt.groups):
        g = f[f"g{i:07d}"]
        for a in range(opt.attrs):
            v = g.attrs[f"attr{a}"]
            if v[0] != i or v[1] != a:
                bad += 1
    emit("meta", "meta", "open", 0, opt.groups, now() - t0, unit="groups", attrs_per_group=opt.attrs)
    stats_point("meta-open-end")
    t0 = now()
    links = count_links(f.id.id)
    attrs = 0
    for i in range(opt.groups):
        attrs += len(list(f[f"g{i:07d}"].attrs))
    emit("meta", "meta", "iterate", 0, opt.groups, now() - t0, unit="groups", attrs_per_group=opt.attrs)
    stats_point("meta-iterate-end")
    if links != opt.groups or attrs != opt.groups * opt.attrs:
        print(f"h5py_bench: meta: iteration found {links} links and {attrs} attributes", file=sys.stderr)
        bad += 1
    if bad:
        failed = True
    t0 = now()
    f.close()
    emit("meta", "file", "close-read", 0, 1, now() - t0)


def suite_scale():
    sizes = [int(s) for s in opt.scale.split(",") if s]
    rng = np.random.default_rng(1)
    t0 = now()
    f = open_file("w")
    emit("scale", "file", "create", 0, 1, now() - t0)
    big = f.create_group("big")
    have = 0
    extra = 0
    for target in sizes:
        if target <= have:
            continue
        print(f"h5py_bench: scale: growing to {target} objects", file=sys.stderr)
        t0 = now()
        for i in range(have, target):
            big.create_group(f"o{i:08d}")
        emit("scale", "scale", "create", 0, target - have, now() - t0, n=target)
        have = target
        t0 = now()
        f.flush()
        emit("scale", "scale", "flush-all", 0, 1, now() - t0, n=target)
        names = [f"o{i:08d}" for i in rng.integers(0, have, opt.scale_sample)]
        t0 = now()
        for nm in names:
            big[nm]
        emit("scale", "scale", "open", 0, len(names), now() - t0, n=target)
        t0 = now()
        for nm in names:
            if nm not in big:
                raise SystemExit(f"scale: {nm} missing")
        emit("scale", "scale", "exists", 0, len(names), now() - t0, n=target)
        t0 = now()
        nl = count_links(big.id.id)
        emit("scale", "scale", "iterate", 0, nl, now() - t0, n=target)
        tc = tf = 0.0
        for _ in range(10):  # ten rounds: one flush alone is too short a sample
            t0 = now()
            for _ in range(100):
                big.create_group(f"x{extra:08d}")
                extra += 1
            tc += now() - t0
            t0 = now()
            f.flush()
            tf += now() - t0
        emit("scale", "scale", "flush100", 0, 10, tf, n=target, create100_seconds=round(tc / 10, 6))
    t0 = now()
    f.close()
    emit("scale", "file", "close", 0, 1, now() - t0, n=have + extra)


for s in opt.suite.split(","):
    {"io": suite_io, "small": suite_small, "meta": suite_meta, "scale": suite_scale}[s]()
sys.exit(1 if failed else 0)
