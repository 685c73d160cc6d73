#!/usr/bin/env python3
"""The dir chunk I/O table of scripts/bench.sh (issue 14): native sec2 on tmpfs against rustvol
memory and dir (store on tmpfs), chunk-whole / chunk-each / chunk-partial writes and reads, from
the JSON lines of h5bench runs in RAW/dirchunks-CONFIG.jsonl (one line per pattern and run).

Prints, per figure, the best MB/s of the runs and their spread (slowest-fastest), and dir's
best against native's best with the target (>= 0.8x). Exit status 1 when a run failed.
"""
import argparse
import json
import os
import sys

CONFIGS = ["native-shm", "memory", "dir"]
TESTS = ["chunk-whole", "chunk-each", "chunk-partial"]
TARGET = 0.8


def load(raw):
    runs, failed = {}, False
    for cfg in CONFIGS:
        path = os.path.join(raw, f"dirchunks-{cfg}.jsonl")
        if not os.path.exists(path):
            continue
        for line in open(path):
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "error" in r:
                failed = True
                continue
            if r.get("suite") != "io" or r.get("test") not in TESTS or not r.get("seconds"):
                continue
            runs.setdefault((cfg, r["test"], r["op"]), []).append(r["bytes"] / r["seconds"] / 1e6)
    return runs, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    runs, failed = load(a.raw)
    out = {"target": TARGET, "figures": []}
    head = f"{'figure (MB/s, best; spread of runs)':<28}" + "".join(f"{c:>22}" for c in CONFIGS) + f"{'dir/shm':>9}{'mem/shm':>9}  target"
    print(head)
    misses = 0
    for op in ["write", "read"]:
        for t in TESTS:
            row = f"{t + ' ' + op:<28}"
            best = {}
            for cfg in CONFIGS:
                v = runs.get((cfg, t, op))
                if not v:
                    row += f"{'-':>22}"
                    continue
                best[cfg] = max(v)
                row += f"{max(v):>9,.0f} ({min(v):,.0f}-{max(v):,.0f})".rjust(22)
            ratio = lambda c: best[c] / best["native-shm"] if c in best and "native-shm" in best else None
            rd, rm = ratio("dir"), ratio("memory")
            row += f"{rd:>8.2f}x" if rd is not None else f"{'-':>9}"
            row += f"{rm:>8.2f}x" if rm is not None else f"{'-':>9}"
            verdict = "-" if rd is None else ("PASS" if rd >= TARGET else "MISS")
            misses += verdict == "MISS"
            row += f"  {verdict}"
            print(row)
            out["figures"].append({"test": t, "op": op, "runs_mb_s": {c: runs.get((c, t, op), []) for c in CONFIGS},
                                   "dir_over_native": rd, "memory_over_native": rm, "verdict": verdict})
    n = max((len(v) for v in runs.values()), default=0)
    print(f"  {n} runs per configuration, interleaved; ratios are best against best; target: dir >= {TARGET}x native sec2 "
          f"on the same tmpfs ({misses} missed)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
