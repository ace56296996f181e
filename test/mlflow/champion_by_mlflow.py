"""What MLflow's own Python client reads of a Perennial champion (test/mlflow/mlflow-native.test.ts).

argv[1]: JSON {"tracking_uri", "model"}. Prints JSON of what it found; any failure is an exception.
"""
import json
import sys

import mlflow
from mlflow import MlflowClient

config = json.loads(sys.argv[1])
mlflow.set_tracking_uri(config["tracking_uri"])
client = MlflowClient()
uri = f"models:/{config['model']}@champion"

info = mlflow.models.get_model_info(uri)
example = mlflow.models.Model.load(uri).load_input_example(mlflow.artifacts.download_artifacts(uri))
version = client.get_model_version_by_alias(config["model"], "champion")
run = client.get_run(version.run_id)
logged = mlflow.get_logged_model(info.model_uuid)
experiment = client.get_experiment(run.info.experiment_id)
retrain_run = client.get_run(run.data.tags["mlflow.parentRunId"])
retrain_run = client.get_run(retrain_run.data.tags["mlflow.parentRunId"]) if "mlflow.parentRunId" in retrain_run.data.tags else retrain_run


def datasets(r):
    return [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source_type": d.dataset.source_type,
            "source": json.loads(d.dataset.source),
            "schema": json.loads(d.dataset.schema),
            "profile": json.loads(d.dataset.profile),
            "context": {t.key: t.value for t in d.tags}.get("mlflow.data.context"),
        }
        for d in r.inputs.dataset_inputs
    ]


print(
    json.dumps(
        {
            "inputs": info.signature.inputs.to_dict(),
            "outputs": info.signature.outputs.to_dict(),
            "flavors": info.flavors,
            "model_id": info.model_uuid,
            "run_id": info.run_id,
            "example_columns": list(example.columns),
            "example_row": example.iloc[0].tolist(),
            "version": {"source": version.source, "run_id": version.run_id, "tags": version.tags},
            "logged_model": {
                "status": str(logged.status),
                "source_run_id": logged.source_run_id,
                "tags": logged.tags,
            },
            "run_outputs": [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])],
            "run_tags": run.data.tags,
            "run_datasets": datasets(run),
            "retrain_run_kind": retrain_run.data.tags.get("perennial.kind"),
            "retrain_snapshot_sha256": retrain_run.data.params.get("data.sha256"),
            "retrain_datasets": datasets(retrain_run),
            "experiment_kind": experiment.tags.get("mlflow.experimentKind"),
            "experiment_logged_models": len(mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")),
        },
        default=str,
    )
)
