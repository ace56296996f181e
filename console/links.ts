/** Where the console points into the Temporal UI and the MLflow UI (both single-page apps with their own routes). */

export interface UiLinks {
  /** The Temporal UI's base URL, e.g. http://127.0.0.1:8233. */
  temporalUi: string;
  namespace: string;
  /** The MLflow UI's base URL (the tracking server's own), e.g. http://127.0.0.1:5000. */
  mlflowUi: string;
}

const trim = (url: string) => url.replace(/\/+$/, '');

export function links(ui: UiLinks) {
  const temporal = `${trim(ui.temporalUi)}/namespaces/${encodeURIComponent(ui.namespace)}`;
  const mlflow = `${trim(ui.mlflowUi)}/#`;
  return {
    /** A workflow run's page; without its run id, the workflow list filtered to that id (every run of it). */
    workflow: (workflowId: string, runId?: string) =>
      runId
        ? `${temporal}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`
        : `${temporal}/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`,
    modelVersion: (model: string, version: string) =>
      `${mlflow}/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`,
    run: (experimentId: string, runId: string) =>
      `${mlflow}/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`,
    artifact: (experimentId: string, runId: string, path: string) =>
      `${mlflow}/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}/artifactPath/${path.split('/').map(encodeURIComponent).join('/')}`,
  };
}

export type Links = ReturnType<typeof links>;
