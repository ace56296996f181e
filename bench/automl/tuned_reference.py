"""Tuned gradient-boosting anchors for the automl benchmark (bench/automl/index.ts, issue 15).

Usage: .venv/bin/python bench/automl/tuned_reference.py SPLIT.json [SPLIT.json ...]

Each SPLIT.json is what bench/automl/index.ts exported: the task's features, label, objective,
the sweep's budget and seed, and the exact train / validation / holdout rows Perennial's sweep
used. For each task, scikit-learn's HistGradientBoosting and LightGBM are each tuned by Optuna's
TPE sampler under the Perennial sweep's budget (the same number of trials and the same wall-time
limit, Optuna's `timeout`, checked between trials as Perennial checks between rungs) and the same
objective on the same validation rows. Every trial trains on the train rows only, early-stopped
on the validation rows (the boosting rounds are the anchor's successive halving); the best
trial's model, as it is, is scored on the holdout: the same protocol as Perennial's best trial.

Both learners read numbers as they are (missing values natively) and categories natively
(pandas categories over the spec's values; a value outside them is missing). Both use 2 threads,
as Perennial's sweep runs 2 trials at once on this 2-core machine.

Prints one JSON object: {task name: {"metric": "accuracy" | "rmse", "hist_gradient_boosting":
{...}, "lightgbm": {...}, "constant": {...}}}, where each anchor reports its holdout metric
(accuracy or rmse), best validation objective, trials run, wall time and best parameters, and
"constant" (the training majority class or mean) gives scale. Progress goes to stderr.
"""

import json
import os
import sys
import time

# Idle OpenMP threads sleep rather than spin (set before LightGBM and scikit-learn load OpenMP):
# on a shared, oversubscribed machine spinning threads make every barrier wait for a time
# slice, and a 2-trial study on 300 rows took minutes instead of seconds.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import log_loss, mean_absolute_error
from threadpoolctl import threadpool_limits

THREADS = 2
MAX_ROUNDS = 2000
PATIENCE = 50


def frame(rows, features):
    df = pd.DataFrame.from_records(rows)
    out = pd.DataFrame(index=df.index)
    for f in features:
        col = df[f["name"]] if f["name"] in df else pd.Series([None] * len(df), index=df.index)
        if f["type"] == "number":
            out[f["name"]] = pd.to_numeric(col, errors="raise").astype(float)
        else:
            values = [str(v) for v in f["values"]]
            known = set(values)
            codes = col.map(lambda v: str(v) if isinstance(v, (str, int, float, bool)) and str(v) in known else None)
            out[f["name"]] = pd.Categorical(codes, categories=values)
    return out


def targets(rows, label, classes):
    if classes is None:
        return np.array([float(r[label]) for r in rows])
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[str(r[label])] for r in rows])


def score(metric, model, x, y, classes):
    """The objective metric (val_accuracy, val_log_loss, val_rmse, val_mae) of a fitted model."""
    if metric == "val_accuracy":
        return float(np.mean(model.predict(x) == y))
    if metric == "val_log_loss":
        return float(log_loss(y, model.predict_proba(x), labels=list(range(len(classes)))))
    p = model.predict(x)
    return float(np.sqrt(np.mean((p - y) ** 2))) if metric == "val_rmse" else float(mean_absolute_error(y, p))


def hist_gradient_boosting(trial, classification, seed):
    params = dict(
        learning_rate=trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 4, 128, log=True),
        min_samples_leaf=trial.suggest_int("min_samples_leaf", 2, 100, log=True),
        l2_regularization=trial.suggest_float("l2_regularization", 1e-3, 10.0, log=True),
        max_features=trial.suggest_float("max_features", 0.5, 1.0),
    )
    cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    model = cls(
        max_iter=MAX_ROUNDS,
        early_stopping=True,
        n_iter_no_change=PATIENCE,
        categorical_features="from_dtype",
        random_state=seed,
        **params,
    )

    def fit(x, y, xv, yv):
        model.fit(x, y, X_val=xv, y_val=yv)
        return model, int(model.n_iter_)

    return fit


def lightgbm(trial, classification, seed):
    params = dict(
        learning_rate=trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        num_leaves=trial.suggest_int("num_leaves", 4, 128, log=True),
        min_child_samples=trial.suggest_int("min_child_samples", 2, 100, log=True),
        reg_lambda=trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        colsample_bytree=trial.suggest_float("colsample_bytree", 0.5, 1.0),
        subsample=trial.suggest_float("subsample", 0.5, 1.0),
    )
    cls = lgb.LGBMClassifier if classification else lgb.LGBMRegressor
    model = cls(n_estimators=MAX_ROUNDS, subsample_freq=1, num_threads=THREADS, random_state=seed, verbose=-1, **params)

    def fit(x, y, xv, yv):
        model.fit(x, y, eval_X=xv, eval_y=yv, callbacks=[lgb.early_stopping(PATIENCE, verbose=False)])
        return model, int(model.best_iteration_ or MAX_ROUNDS)

    return fit


ANCHORS = {"hist_gradient_boosting": hist_gradient_boosting, "lightgbm": lightgbm}


def tune(name, build, split, data):
    classification = split["classes"] is not None
    metric = split["objective"]["metric"]
    budget, seed = split["budget"], split["seed"]
    (x, y), (xv, yv), (xh, yh) = data
    fitted = {}

    def objective(trial):
        model, rounds = build(trial, classification, seed)(x, y, xv, yv)
        trial.set_user_attr("rounds", rounds)
        fitted[trial.number] = model
        return score(metric, model, xv, yv, split["classes"])

    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=split["tpeStartupTrials"])
    study = optuna.create_study(direction=split["objective"]["direction"], sampler=sampler)
    started = time.perf_counter()
    study.optimize(objective, n_trials=budget["maxTrials"], timeout=budget["maxWallTimeSeconds"])
    wall = time.perf_counter() - started
    best = study.best_trial
    model = fitted[best.number]
    holdout_metric = "val_accuracy" if classification else "val_rmse"
    result = {
        "holdout": score(holdout_metric, model, xh, yh, split["classes"]),
        "bestValObjective": best.value,
        "trials": len(study.trials),
        "wallTimeS": wall,
        "best": {**best.params, "rounds": best.user_attrs["rounds"]},
    }
    if classification:
        result["holdoutLogLoss"] = score("val_log_loss", model, xh, yh, split["classes"])
    print(f"  {split['name']} {name}: {result['trials']} trials, {wall:.1f} s, holdout {result['holdout']:.4f}", file=sys.stderr)
    return result


def constant(split, data):
    (_, y), _, (_, yh) = data
    if split["classes"] is None:
        return {"holdout": float(np.sqrt(np.mean((yh - y.mean()) ** 2)))}
    return {"holdout": float(np.mean(yh == np.bincount(y).argmax()))}


def main(paths):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    for path in paths:
        with open(path) as fh:
            split = json.load(fh)
        data = [
            (frame(split[part], split["features"]), targets(split[part], split["label"], split["classes"]))
            for part in ("train", "validation", "holdout")
        ]
        scores = {"metric": "accuracy" if split["classes"] is not None else "rmse", "constant": constant(split, data)}
        with threadpool_limits(limits=THREADS):
            for name, build in ANCHORS.items():
                scores[name] = tune(name, build, split, data)
        out[split["name"]] = scores
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
