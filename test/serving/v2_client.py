"""Talks to Perennial's model server with the real tritonclient[http] (Open Inference Protocol).

Run by test/serving/v2.test.ts as `.venv/bin/python v2_client.py '<config JSON>'`; prints one JSON
report of what the client saw, which the test asserts on. Nothing is checked here: the client's
own parsing of every response (JSON and binary) is what this exercises.
"""

import json
import math
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

config = json.loads(sys.argv[1])
client = httpclient.InferenceServerClient(url=config["url"])
rows = config["rows"]
kinds = config["kinds"]  # feature -> "number" | "category", in the model's feature order


def inputs_for(rows, kinds, binary, override=None):
    """One input per feature, FP64 or BYTES, shape [len(rows)]; `override` replaces one input."""
    inputs = []
    for feature, kind in kinds.items():
        if override and override["name"] == feature:
            tensor = httpclient.InferInput(feature, override["shape"], override["datatype"])
            tensor.set_data_from_numpy(override["data"], binary_data=binary)
        elif kind == "number":
            tensor = httpclient.InferInput(feature, [len(rows)], "FP64")
            values = [math.nan if r[feature] is None else r[feature] for r in rows]
            tensor.set_data_from_numpy(np.array(values, dtype=np.float64), binary_data=binary)
        else:
            tensor = httpclient.InferInput(feature, [len(rows)], "BYTES")
            tensor.set_data_from_numpy(np.array([r[feature].encode() for r in rows], dtype=np.object_), binary_data=binary)
        inputs.append(tensor)
    return inputs


def infer(model, rows, binary, version="", outputs=None, headers=None, override=None, kinds=kinds):
    """The result's outputs as lists, the response's head, and whether outputs came binary."""
    requested = None
    if outputs is not None:
        requested = [httpclient.InferRequestedOutput(name, binary_data=binary) for name in outputs]
    result = client.infer(
        model,
        inputs_for(rows, kinds, binary, override),
        model_version=version,
        outputs=requested,
        request_id="req-1",
        headers=headers,
    )
    response = result.get_response()
    tensors = {}
    binary_outputs = []
    for output in response["outputs"]:
        value = result.as_numpy(output["name"])
        if value.dtype == np.object_:
            value = np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b, otypes=[object])(value)
        tensors[output["name"]] = {"shape": list(value.shape), "dtype": str(value.dtype), "data": value.tolist()}
        if "binary_data_size" in output.get("parameters", {}):
            binary_outputs.append(output["name"])
    head = {k: v for k, v in response.items() if k != "outputs"}
    return {"head": head, "outputs": tensors, "binary_outputs": binary_outputs}


def error_of(call):
    """The status and message of the InferenceServerException a call raises (or what it returned)."""
    try:
        return {"returned": repr(call())}
    except InferenceServerException as e:
        return {"status": e.status(), "message": e.message()}


model, champion, canary = config["model"], config["champion"], config["canary"]
number = next(f for f, k in kinds.items() if k == "number")
category = next(f for f, k in kinds.items() if k == "category")
n = len(rows)

report = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "server": client.get_server_metadata(),
    "metadata": client.get_model_metadata(model),
    "versionMetadata": client.get_model_metadata(model, canary),
    "modelReady": client.is_model_ready(model),
    "versionReady": client.is_model_ready(model, champion),
    "unknownVersionReady": client.is_model_ready(model, "999"),
    "unknownModelReady": client.is_model_ready("no-such-model"),
    # Routed between champion and canary; JSON both ways.
    "json": infer(model, rows, binary=False, outputs=["label", "probabilities", "id"]),
    # The champion by its version path: binary inputs, and binary outputs (tritonclient asks for
    # them when it names no outputs).
    "binaryChampion": infer(model, rows, binary=True, version=champion),
    "jsonChampion": infer(model, rows, binary=False, version=champion, outputs=["label", "probabilities", "id"]),
    "canary": infer(model, rows, binary=True, version=canary, outputs=["id", "label"]),
    # A missing number as NaN, in binary (JSON has no NaN).
    "missing": infer(model, [{**rows[0], number: None}], binary=True, version=champion),
    "regression": infer(config["regressionModel"], config["regressionRows"], binary=False, kinds=config["regressionKinds"]),
    "errors": {
        "unknownModel": error_of(lambda: infer("no-such-model", rows, binary=True)),
        "unknownVersion": error_of(lambda: infer(model, rows, binary=True, version="999")),
        "wrongShape": error_of(
            lambda: infer(
                model,
                rows,
                binary=True,
                override={"name": number, "shape": [n, 1], "datatype": "FP64", "data": np.zeros((n, 1))},
            )
        ),
        "wrongDatatype": error_of(
            lambda: infer(
                model,
                rows,
                binary=False,
                override={"name": category, "shape": [n], "datatype": "FP32", "data": np.zeros(n, dtype=np.float32)},
            )
        ),
        "fewerRows": error_of(
            lambda: infer(
                model,
                rows,
                binary=True,
                override={"name": number, "shape": [n - 1], "datatype": "FP64", "data": np.zeros(n - 1)},
            )
        ),
        "keyMissing": error_of(lambda: infer(config["keyedModel"], rows, binary=True)),
    },
    "keyed": infer(config["keyedModel"], rows, binary=True, headers={"Authorization": f"Bearer {config['apiKey']}"}),
}
print(json.dumps(report))
