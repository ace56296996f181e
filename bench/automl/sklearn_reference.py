"""scikit-learn references for the automl benchmark (bench/automl/index.ts).

Usage: .venv/bin/python bench/automl/sklearn_reference.py SPLIT.json [SPLIT.json ...]

Each SPLIT.json is what bench/automl/index.ts exported: the task's features (number, or category
with its known values), the label, and the exact train / validation / holdout rows Perennial's
sweep used. Both models are fit on train + validation (they need no model selection) and
scored on the holdout. Prints one JSON object: {task name: {model: {accuracy, log_loss, n}}}; majority_class (the
training class prior) is there for scale. A regression task (the split's classes are null) gets
linear regression, HistGradientBoostingRegressor and training_mean, each {rmse, mae, n}.

Encodings mirror Perennial's (ml/preprocess.ts) so the comparison is about the learner:
numbers are mean-imputed and standardised; categories are one-hot over the spec's values,
with missing or unknown values all zeros. HistGradientBoosting reads numbers as they are
(missing natively) and categories natively.
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import log_loss, mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

SEED = 0


def frame(rows, features):
    df = pd.DataFrame.from_records(rows)
    out = pd.DataFrame(index=df.index)
    for f in features:
        col = df[f["name"]] if f["name"] in df else pd.Series([None] * len(df))
        if f["type"] == "number":
            out[f["name"]] = pd.to_numeric(col, errors="raise").astype(float)
        else:
            # Missing becomes a value outside the spec's list: encoded as all zeros, like Perennial.
            out[f["name"]] = col.map(lambda v: "__missing__" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def models(features, regression):
    numbers = [f["name"] for f in features if f["type"] == "number"]
    cats = [f for f in features if f["type"] == "category"]
    names = [f["name"] for f in cats]
    values = [f["values"] for f in cats]
    logreg = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numbers),
                ("cat", OneHotEncoder(categories=values, handle_unknown="ignore"), names),
            ]
        ),
        LinearRegression() if regression else LogisticRegression(max_iter=5000),
    )
    hgb = make_pipeline(
        ColumnTransformer(
            [
                ("num", "passthrough", numbers),
                ("cat", OrdinalEncoder(categories=values, handle_unknown="use_encoded_value", unknown_value=np.nan), names),
            ],
            verbose_feature_names_out=False,
        ).set_output(transform="pandas"),
        (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(
            categorical_features=names or None, random_state=SEED
        ),
    )
    return {"linear_regression" if regression else "logistic_regression": logreg, "hist_gradient_boosting": hgb}


def regression_scores(y_hold, predictions):
    y_hold = y_hold.astype(float)
    return {
        name: {
            "rmse": float(np.sqrt(np.mean((p - y_hold) ** 2))),
            "mae": float(mean_absolute_error(y_hold, p)),
            "n": len(y_hold),
        }
        for name, p in predictions.items()
    }


def main(paths):
    out = {}
    for path in paths:
        with open(path) as fh:
            split = json.load(fh)
        features, label = split["features"], split["label"]
        fit_rows = split["train"] + split["validation"]
        x_fit, y_fit = frame(fit_rows, features), [str(r[label]) for r in fit_rows]
        x_hold, y_hold = frame(split["holdout"], features), np.array([str(r[label]) for r in split["holdout"]])
        if split.get("classes", []) is None:
            y_fit = np.array(y_fit, dtype=float)
            predictions = {"training_mean": np.full(len(y_hold), y_fit.mean())}
            for name, model in models(features, regression=True).items():
                predictions[name] = model.fit(x_fit, y_fit).predict(x_hold)
            out[split["name"]] = regression_scores(y_hold, predictions)
            continue
        prior = pd.Series(y_fit).value_counts(normalize=True).sort_index()
        scores = {
            "majority_class": {
                "accuracy": float(np.mean(y_hold == prior.idxmax())),
                "log_loss": float(log_loss(y_hold, np.tile(prior.to_numpy(), (len(y_hold), 1)), labels=list(prior.index))),
                "n": len(y_hold),
            }
        }
        for name, model in models(features, regression=False).items():
            model.fit(x_fit, y_fit)
            scores[name] = {
                "accuracy": float(np.mean(model.predict(x_hold) == y_hold)),
                "log_loss": float(log_loss(y_hold, model.predict_proba(x_hold), labels=list(model.classes_))),
                "n": len(y_hold),
            }
        out[split["name"]] = scores
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
