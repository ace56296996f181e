"""The anchor model for the serving benchmark: scikit-learn's MLP (one hidden layer of 32, like
Perennial's benchmark model) on the same weather rows (Seattle 2012-2013), saved with
mlflow.sklearn so that `mlflow models serve` can serve it.

usage: python train_sklearn.py WEATHER_CSV OUTPUT_DIR
"""
import sys

import mlflow.sklearn
import pandas as pd
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["precipitation", "temp_max", "temp_min", "wind"]

csv, out = sys.argv[1], sys.argv[2]
rows = pd.read_csv(csv)
seed = rows[(rows.location == "Seattle") & rows.date.str[:4].isin(["2012", "2013"])]
model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=1))
model.fit(seed[FEATURES], seed["weather"])
# skops (mlflow's safe default format) refuses to load types it is not told to trust.
trusted = ["sklearn.neural_network._stochastic_optimizers.AdamOptimizer"]
mlflow.sklearn.save_model(model, out, input_example=seed[FEATURES].head(2), skops_trusted_types=trusted)
print(f"trained on {len(seed)} rows, accuracy {model.score(seed[FEATURES], seed['weather']):.3f}; saved to {out}")
