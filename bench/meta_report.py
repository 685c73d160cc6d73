#!/usr/bin/env python3
"""The metadata section of scripts/bench.sh (issue 14): reads $RAW/meta-CONFIG-N.jsonl (the
phases bench/h5meta.c timed) and .log (its standard error, with rustvol's RUSTVOL_STATS lines),
prints the table, the request counts per phase on s3 and dir, and each target's PASS/MISS."""
import argparse
import glob
import json
import os
import re

CONFIGS = ["native-shm", "native-core", "memory", "dir", "s3"]
PHASES = ["create", "firstcommit", "open", "openall", "commit100"]
STATS = re.compile(r"GET (\d+) PUT (\d+) HEAD (\d+) DELETE (\d+) LIST (\d+) bytes in (\d+) out (\d+)")


def load(raw):
    times, reqs = {}, {}
    for path in glob.glob(os.path.join(raw, "meta-*.jsonl")):
        m = re.match(r"meta-(.+)-(\d+)\.jsonl$", os.path.basename(path))
        cfg, n = m.group(1), int(m.group(2))
        for line in open(path):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "phase" in r:
                times[(cfg, n, r["phase"])] = r["seconds"]
        log = path[:-len(".jsonl")] + ".log"
        if not os.path.exists(log):
            continue
        # Counts are cumulative, printed at each close; a phase's are what its first close
        # (for "open": the one right after the timed H5Fopen) added to the last one before it.
        prev, phase, first = [0] * 7, None, {}
        last = {}
        for line in open(log):
            p = re.match(r"h5meta: phase (\w+)", line)
            if p:
                phase = p.group(1)
                continue
            s = STATS.search(line)
            if s and phase:
                v = [int(x) for x in s.groups()]
                first.setdefault(phase, v)
                last[phase] = v
        before = [0] * 7
        for ph in PHASES:
            if ph not in last:
                continue
            end = first[ph] if ph == "open" else last[ph]
            reqs[(cfg, n, ph)] = [a - b for a, b in zip(end, before)]
            before = last[ph]
    return times, reqs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    times, reqs = load(a.raw)
    sizes = sorted({k[1] for k in times})
    cfgs = [c for c in CONFIGS if any(k[0] == c for k in times)]
    out = []
    pr = lambda s="": out.append(s)
    pr("metadata at scale: N groups, one int attribute each (bench/h5meta.c); seconds, and x native sec2")
    pr("(create: H5Fcreate + N groups and attributes + the first H5Fflush, firstcommit that flush alone; open: H5Fopen alone, best of 3;")
    pr(" openall: H5Fopen + every group opened and its attribute read; commit100: the H5Fflush after 100 attribute writes)")
    pr("%-10s %8s " % ("phase", "N") + " ".join("%20s" % c for c in cfgs))
    for ph in PHASES:
        for n in sizes:
            base = times.get(("native-shm", n, ph))
            cells = []
            for c in cfgs:
                t = times.get((c, n, ph))
                if t is None:
                    cells.append("%20s" % "-")
                elif base and c != "native-shm":
                    cells.append("%20s" % ("%.4g (%.2fx)" % (t, t / base)))
                else:
                    cells.append("%20s" % ("%.4g" % t))
            pr("%-10s %8d " % (ph, n) + " ".join(cells))
    pr()
    pr("store requests per phase (RUSTVOL_STATS; a phase's close included: a read-only close deletes its lease)")
    pr("%-4s %-10s %8s %6s %6s %5s %6s %5s %12s %12s" % ("cfg", "phase", "N", "GET", "PUT", "HEAD", "DELETE", "LIST", "bytes in", "bytes out"))
    for c in ("dir", "s3"):
        for ph in PHASES:
            for n in sizes:
                r = reqs.get((c, n, ph))
                if r:
                    pr("%-4s %-10s %8d %6d %6d %5d %6d %5d %12d %12d" % ((c, ph, n) + tuple(r)))
    pr()
    pr("targets (issue 14)")
    results = []

    def target(name, ok, detail):
        results.append({"target": name, "pass": ok, "detail": detail})
        pr("  %-4s %s: %s" % ("PASS" if ok else "MISS", name, detail))

    for c in ("memory", "dir"):
        for n in sizes:
            t, b = times.get((c, n, "open")), times.get(("native-shm", n, "open"))
            if t and b:
                target("H5Fopen <= 2x native, %s, N=%d" % (c, n), t <= 2 * b, "%.3g s vs %.3g s (%.2fx)" % (t, b, t / b))
            t, b = times.get((c, n, "create")), times.get(("native-shm", n, "create"))
            if t and b:
                target("create + first commit >= 1.5x native's rate, %s, N=%d" % (c, n), t * 1.5 <= b, "%.3g s vs %.3g s (%.2fx the rate)" % (t, b, b / t))
            t, b = times.get((c, n, "openall")), times.get(("native-shm", n, "openall"))
            if t and b:
                target("reopen + open every object >= 1.5x native, %s, N=%d" % (c, n), t * 1.5 <= b, "%.3g s vs %.3g s (%.2fx the rate)" % (t, b, b / t))
        if len(sizes) > 1:
            lo, hi = times.get((c, sizes[0], "commit100")), times.get((c, sizes[-1], "commit100"))
            if lo and hi:
                target("commit after 100 changes at N=%d <= 2x N=%d, %s" % (sizes[-1], sizes[0], c), hi <= 2 * lo, "%.3g s vs %.3g s (%.2fx)" % (hi, lo, hi / lo))
    for n in sizes:
        r = reqs.get(("s3", n, "open"))
        if r:
            n_req = r[0] + r[1] + r[2] + r[4]
            target("s3 H5Fopen <= 3 requests and 64 KiB, N=%d" % n, n_req <= 3 and r[5] <= 65536,
                   "GET %d PUT %d HEAD %d LIST %d (and the close's DELETE %d), %d bytes in" % (r[0], r[1], r[2], r[4], r[3], r[5]))
    print("\n".join(out))
    json.dump({"times": {"%s/%d/%s" % k: v for k, v in times.items()}, "requests": {"%s/%d/%s" % k: v for k, v in reqs.items()}, "targets": results},
              open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
