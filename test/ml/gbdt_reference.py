"""LightGBM reference for test/ml/gbdt-lightgbm.test.ts and bench/gbdt.

Usage: .venv/bin/python test/ml/gbdt_reference.py DIR [DIR ...]

DIR/config.json: {"nRows", "nColumns", "nTest", "nClasses", "rounds", "params": GbdtParams, "seed",
"repeat"?, "numThreads"? (default 2)}; DIR/x_train.f32 (row-major), DIR/y_train.f64, DIR/x_test.f32. Trains lightgbm with the
same settings (binning made comparable: min_data_in_bin=1, no pre-filtering; 2 threads unless told,
deterministic, column-wise histograms) and writes DIR/raw_test.f64 (raw scores, row-major, one per
output) and DIR/importance.f64 (gain per column). Prints one JSON line per DIR, {"trees",
"train_seconds", "cpu_seconds"}: train_seconds is the fastest of `repeat` trainings (default 1), Dataset
construction excluded; cpu_seconds is the process's CPU time in it (all threads).
"""

import json
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np


def lightgbm_params(config):
    p = config["params"]
    n_classes = config["nClasses"]
    params = {
        "num_leaves": p["numLeaves"],
        "max_depth": p["maxDepth"] if p["maxDepth"] > 0 else -1,
        "learning_rate": p["learningRate"],
        "min_data_in_leaf": p["minDataInLeaf"],
        "min_sum_hessian_in_leaf": p["minSumHessianInLeaf"],
        "lambda_l1": p["lambdaL1"],
        "lambda_l2": p["lambdaL2"],
        "min_gain_to_split": p["minGainToSplit"],
        "feature_fraction": p["featureFraction"],
        "bagging_fraction": p["baggingFraction"],
        "bagging_freq": p["baggingFreq"],
        "max_bin": p["maxBins"],
        "min_data_in_bin": 1,
        "feature_pre_filter": False,
        "num_threads": config.get("numThreads", 2),
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
        "seed": config.get("seed", 0),
    }
    if n_classes == 0:
        params["objective"] = "regression"
    elif n_classes == 2:
        params["objective"] = "binary"
    else:
        params.update(objective="multiclass", num_class=n_classes)
    return params


def main(folder):
    d = Path(folder)
    config = json.loads((d / "config.json").read_text())
    n, c, t = config["nRows"], config["nColumns"], config["nTest"]
    x = np.fromfile(d / "x_train.f32", dtype=np.float32).reshape(n, c)
    y = np.fromfile(d / "y_train.f64", dtype=np.float64)
    x_test = np.fromfile(d / "x_test.f32", dtype=np.float32).reshape(t, c)
    params = lightgbm_params(config)
    best = float("inf")
    best_cpu = float("inf")
    booster = None
    for _ in range(config.get("repeat", 1)):
        data = lgb.Dataset(x, y, params=params, free_raw_data=False).construct()
        start, start_cpu = time.perf_counter(), time.process_time()
        booster = lgb.train(params, data, num_boost_round=config["rounds"])
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    booster.predict(x_test, raw_score=True).astype(np.float64).tofile(d / "raw_test.f64")
    booster.feature_importance(importance_type="gain").astype(np.float64).tofile(d / "importance.f64")
    print(json.dumps({"trees": booster.num_trees(), "train_seconds": best, "cpu_seconds": best_cpu}), flush=True)


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        main(folder)
