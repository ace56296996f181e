"""Reference for test/ml/tree-shap-reference.test.ts: small LightGBM models (regression, binary,
3-class) on data with missing values, each dumped into Perennial's Tree shape (ml/gbdt/tree.ts)
with the rows to explain and shap's TreeExplainer values (tree_path_dependent) for them.

LightGBM's missing values: a split of missing_type 'NaN' sends NaN the default_left way; one
of missing_type 'None' (the feature had no NaN in training) treats NaN as 0, so it goes where 0
goes. missing_type 'Zero' (zero as missing) has no Tree equivalent: the data has no exact zeros,
and a dump with one is refused. The init score is in the first trees' leaves, so base is 0.
Prints one JSON document."""

import json
import math
import sys

import lightgbm as lgb
import numpy as np
import shap
import warnings

# shap notes that its binary LightGBM output changed shape; the shape is handled below.
warnings.filterwarnings("ignore", category=UserWarning)

rng = np.random.default_rng(15)
n, d = 600, 5
# float32-exact values: LightGBM, shap and the TypeScript side compare the same numbers.
X = rng.normal(size=(n, d)).astype(np.float32).astype(np.float64)
X[rng.random((n, d)) < 0.15] = np.nan
X[:, 4] = rng.normal(size=n).astype(np.float32)  # no NaN in training: missing_type 'None'
z = np.nan_to_num(X[:, 0]) * 1.5 - np.nan_to_num(X[:, 1]) ** 2 + np.where(np.isnan(X[:, 2]), 1.0, X[:, 2] * np.nan_to_num(X[:, 3])) + 0.5 * X[:, 4]


def node_arrays(root, out):
    """Pre-order: node 0 is the root."""
    i = len(out["feature"])
    for key in out:
        out[key].append(0)
    if "split_index" not in root:
        out["feature"][i] = -1
        out["value"][i] = root["leaf_value"]
        # A tree that is one leaf records no count; its cover is never read.
        out["cover"][i] = root.get("leaf_count", 1)
        out["left"][i] = out["right"][i] = -1
        return i
    if root["decision_type"] != "<=":
        sys.exit(f"unsupported decision_type {root['decision_type']}")
    if root["missing_type"] == "Zero":
        sys.exit("missing_type Zero has no Tree equivalent")
    threshold = root["threshold"]
    out["feature"][i] = root["split_feature"]
    out["threshold"][i] = threshold
    out["missingLeft"][i] = int(root["default_left"]) if root["missing_type"] == "NaN" else int(0 <= threshold)
    out["cover"][i] = root["internal_count"]
    out["gain"][i] = root["split_gain"]
    out["left"][i] = node_arrays(root["left_child"], out)
    out["right"][i] = node_arrays(root["right_child"], out)
    return i


def dump(booster, n_outputs):
    trees = [[] for _ in range(n_outputs)]
    for info in booster.dump_model()["tree_info"]:
        arrays = {k: [] for k in ["feature", "threshold", "missingLeft", "left", "right", "value", "cover", "gain"]}
        node_arrays(info["tree_structure"], arrays)
        trees[info["tree_index"] % n_outputs].append(arrays)
    return trees


def finite(a):
    return [[None if math.isnan(v) else v for v in row] for row in a]


models = []
settings = {"num_leaves": 12, "min_data_in_leaf": 5, "learning_rate": 0.1, "verbose": -1, "deterministic": True, "num_threads": 2}
tasks = {
    "regression": ({"objective": "regression"}, z, "identity"),
    "binary": ({"objective": "binary"}, (z > np.median(z)).astype(int), "sigmoid"),
    "multiclass": ({"objective": "multiclass", "num_class": 3}, np.digitize(z, np.quantile(z, [1 / 3, 2 / 3])), "softmax"),
}
explained = X[:40]
for name, (objective, y, link) in tasks.items():
    booster = lgb.train({**settings, **objective}, lgb.Dataset(X, y), num_boost_round=30)
    n_outputs = objective.get("num_class", 1)
    explainer = shap.TreeExplainer(booster)
    assert explainer.feature_perturbation == "tree_path_dependent"
    values = np.asarray(explainer.shap_values(explained))
    if n_outputs == 1:
        values = values[:, :, None]  # (rows, features) -> (rows, features, outputs)
    raw = booster.predict(explained, raw_score=True).reshape(len(explained), n_outputs)
    models.append(
        {
            "name": name,
            "ensemble": {"nOutputs": n_outputs, "trees": dump(booster, n_outputs), "base": [0.0] * n_outputs, "link": link, "nColumns": d},
            "rows": finite(explained),
            "shap": values.transpose(0, 2, 1).tolist(),  # [row][output][feature]
            "expected": np.atleast_1d(explainer.expected_value).tolist(),
            "raw": raw.tolist(),
        }
    )
print(json.dumps({"lightgbm": lgb.__version__, "shap": shap.__version__, "models": models}))
