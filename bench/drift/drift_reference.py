"""The anchor of bench/drift/index.ts: the same drift summary in numpy/scipy.

    python bench/drift/drift_reference.py MANIFEST.json [REPETITIONS]   # a warm-up and REPETITIONS runs
    python bench/drift/drift_reference.py MANIFEST.json --serve         # bench/drift/index.ts: runs on request

Reads the data file bench/drift/index.ts wrote (little-endian float64 columns, NaN = missing, and int32
category codes, -1 = missing) and the reference profile from the manifest. Dropping the missing
values is not timed (the JS side gets columns without them, too). Timed, per numeric feature:
scipy.stats.ks_2samp(reference sample, current) and np.histogram of both over shared edges
(BINS equal-width bins over the union of both ranges); per category feature: np.bincount of the
codes and scipy.stats.chisquare of the current counts against the reference shares over the
categories seen on either side (a category unseen in the reference gets the share 1e-4 and the
shares are renormalised, as core/drift/tests/chi-square.ts chiSquare does). Prints JSON: the wall
times of a warm-up and REPETITIONS runs, and the statistics of the last run; with --serve, one
JSON line per command line read (`run`: time one summary; `report`: its statistics; `quit`).
"""

import json
import os
import sys
import time

import numpy as np
import scipy
from scipy import stats

UNSEEN_CATEGORY_SHARE = 1e-4


def load(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    path = os.path.join(os.path.dirname(manifest_path), manifest["file"])
    rows = manifest["rows"]
    features = []
    for f in manifest["features"]:
        column = np.fromfile(path, dtype=f["dtype"], count=rows, offset=f["offset"])
        profile = manifest["profile"]["features"][f["name"]]
        if f["kind"] == "number":
            current = column[~np.isnan(column)]
            reference = np.asarray(profile["sample"], dtype=np.float64)
            features.append({"name": f["name"], "kind": "number", "reference": reference, "current": current})
        else:
            current = column[column >= 0]
            categories = f["categories"]
            ref_counts = np.array([profile["counts"].get(c, 0) for c in categories], dtype=np.float64)
            features.append({"name": f["name"], "kind": "category", "categories": categories, "reference": ref_counts, "current": current})
    return manifest, features


def summary(features, bins):
    out = []
    for f in features:
        if f["kind"] == "number":
            ref, cur = f["reference"], f["current"]
            ks = stats.ks_2samp(ref, cur)
            lo = min(ref.min(), cur.min())
            hi = max(ref.max(), cur.max())
            ref_hist, edges = np.histogram(ref, bins=bins, range=(lo, hi))
            cur_hist, _ = np.histogram(cur, bins=bins, range=(lo, hi))
            out.append((f, ks, edges, ref_hist, cur_hist))
        else:
            counts = np.bincount(f["current"], minlength=len(f["categories"]))
            ref = f["reference"]
            seen = (counts > 0) | (ref > 0)
            ref_seen = ref[seen]
            shares = np.where(ref_seen > 0, ref_seen / ref_seen.sum(), UNSEEN_CATEGORY_SHARE)
            shares = shares / shares.sum()
            observed = counts[seen]
            chi = stats.chisquare(observed, shares * observed.sum())
            out.append((f, chi, counts))
    return out


def statistics(result):
    report = []
    for item in result:
        f = item[0]
        if f["kind"] == "number":
            _, ks, edges, ref_hist, cur_hist = item
            report.append({
                "name": f["name"], "kind": "number",
                "ks": float(ks.statistic), "pValue": float(ks.pvalue),
                "edges": edges.tolist(), "reference": ref_hist.tolist(), "current": cur_hist.tolist(),
                "n": int(f["current"].size), "refN": int(f["reference"].size),
            })
        else:
            _, chi, counts = item
            report.append({
                "name": f["name"], "kind": "category",
                "chisquare": float(chi.statistic), "pValue": float(chi.pvalue),
                "categories": f["categories"], "counts": counts.tolist(),
            })
    return report


def timed(features, bins):
    t0 = time.perf_counter()
    result = summary(features, bins)
    return (time.perf_counter() - t0) * 1000, result


def serve(features, bins):
    """One JSON line per command line: `run` times one summary, `report` gives its statistics."""
    def reply(value):
        print(json.dumps(value), flush=True)

    reply({"ready": True, "numpy": np.__version__, "scipy": scipy.__version__})
    result = None
    while True:
        line = sys.stdin.readline()
        command = line.strip()
        if not line or command == "quit":
            return
        if command == "run":
            ms, result = timed(features, bins)
            reply({"ms": ms})
        elif command == "report":
            reply({"features": statistics(result)})
        else:
            reply({"error": f"unknown command {command!r}"})


def main():
    manifest, features = load(sys.argv[1])
    bins = manifest["bins"]
    if "--serve" in sys.argv[2:]:
        serve(features, bins)
        return
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    warmup_ms, _ = timed(features, bins)
    times = []
    result = None
    for _ in range(repetitions):
        ms, result = timed(features, bins)
        times.append(ms)
    print(json.dumps({
        "numpy": np.__version__, "scipy": scipy.__version__,
        "warmupMs": warmup_ms, "ms": times, "medianMs": float(np.median(times)),
        "features": statistics(result),
    }))


if __name__ == "__main__":
    main()
