"""Chunked and compressed datasets: gzip with shuffle and checksums, lzf, partial writes
and reads of 2-D and 3-D images.  Usage: python chunked_compressed.py FILE"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "chunked_compressed.h5"
rng = np.random.default_rng(42)
image = (rng.random((64, 48)) * 1000).astype("u2")
stack = np.arange(4 * 30 * 20, dtype="f4").reshape(4, 30, 20) / 7

with h5py.File(path, "w") as f:
    img = f.create_dataset("images/frame", data=image, chunks=(16, 16), compression="gzip",
                           compression_opts=6, shuffle=True, fletcher32=True)
    f.create_dataset("images/stack", data=stack, chunks=(1, 10, 20), compression="lzf")
    auto = f.create_dataset("images/auto", data=np.ones((100, 100), "i4"), compression="gzip")
    # a chunked dataset written piece by piece, including chunks never written
    tiles = f.create_dataset("images/tiles", (40, 40), "i8", chunks=(10, 10), fillvalue=-1)
    for i in range(0, 40, 20):
        tiles[i:i + 10, :] = np.arange(400).reshape(10, 40) + i
    print("frame:", img.shape, img.dtype, "chunks", img.chunks, img.compression,
          img.compression_opts, "shuffle", img.shuffle, "fletcher32", img.fletcher32)
    print("auto chunks were chosen:", auto.chunks is not None)

with h5py.File(path, "r") as f:
    img = f["images/frame"]
    print("round trip equal:", np.array_equal(img[...], image))
    print("corner:", img[:3, :4].tolist())
    print("strided rows:", img[::21, 5].tolist())
    print("column sum:", int(img[:, 47].sum()))
    print("point selection:", img[[1, 5, 9], 2].tolist())
    print("boolean mask rows:", img[image[:, 0] > 990, 0].tolist())
    st = f["images/stack"]
    print("stack:", st.shape, st.chunks, st.compression)
    print("stack[2, 10:12, -2:] =", np.round(st[2, 10:12, -2:], 3).tolist())
    print("stack plane means:", [round(float(st[k].mean()), 3) for k in range(4)])
    t = f["images/tiles"]
    print("tiles row 0:", t[0, :5].tolist(), "row 10 (never written):", t[10, :5].tolist())
    print("tiles written sum:", int(t[t[...] >= 0].sum()), "fill value:", t.fillvalue)
    out = np.zeros((2, 3), "u2")
    img.read_direct(out, np.s_[10:12, 20:23])
    print("read_direct:", out.tolist())
    print("as float32:", img.astype("f4")[0, :3].tolist())
