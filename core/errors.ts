/**
 * Errors the serving layer raises on purpose. Each carries the HTTP status it means, so the
 * server maps them without knowing every case, and activities reading the store can tell a
 * caller's mistake from a fault by `instanceof`.
 */
export class ServingError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The body or parameters fail validation; the message lists every problem. */
export class InvalidRequestError extends ServingError {
  constructor(message: string) {
    super(message, 400, 'invalid_request');
  }
}

export class UnknownPredictionError extends ServingError {
  constructor(
    readonly predictionId: string,
    model?: string,
  ) {
    super(
      model ? `model ${model} has no prediction with id ${predictionId}` : `no prediction with id ${predictionId}`,
      404,
      'unknown_prediction',
    );
  }
}

/** The prediction already has ground truth, and it says something else. */
export class FeedbackConflictError extends ServingError {
  constructor(
    readonly predictionId: string,
    readonly existingLabel: string,
    readonly newLabel: string,
  ) {
    super(
      `prediction ${predictionId} is already labelled "${existingLabel}"; refusing to relabel it "${newLabel}"`,
      409,
      'feedback_conflict',
    );
  }
}

/** Ground truth must be one of the classes the predicting model knows. */
export class UnknownLabelError extends ServingError {
  constructor(
    readonly predictionId: string,
    readonly label: string,
    readonly classes: string[],
  ) {
    super(`label "${label}" for prediction ${predictionId} is not one of the model's classes: ${classes.join(', ')}`, 400, 'unknown_label');
  }
}

/**
 * Ground truth of the wrong kind for its prediction's model: a regression model's label must be a
 * finite number (a JSON number or a numeric string); a classifier's is one of its classes, as a
 * string, never a JSON number.
 */
export class LabelTypeError extends ServingError {
  constructor(
    readonly predictionId: string,
    readonly label: unknown,
    readonly model: { task: 'regression' } | { task: 'classification'; classes: string[] },
  ) {
    const given = label === undefined ? '(none)' : JSON.stringify(label);
    super(
      model.task === 'regression'
        ? `label ${given} for prediction ${predictionId} is not a number; the prediction is a regression model's, whose labels are finite numbers (a JSON number or a numeric string)`
        : `label ${given} for prediction ${predictionId} is a number; the prediction is a classifier's, whose labels are class names as strings: ${model.classes.join(', ')}`,
      400,
      'wrong_label_type',
    );
  }
}

export class NoDeploymentError extends ServingError {
  constructor(readonly model: string) {
    super(`model ${model} is not deployed`, 404, 'not_deployed');
  }
}

/** A request named a version that the model's deployment does not serve (as champion or canary). */
export class VersionNotDeployedError extends ServingError {
  constructor(
    readonly model: string,
    readonly version: string,
    deployed: string[],
  ) {
    super(`model ${model} does not serve version ${version}; it serves ${deployed.join(' and ')}`, 404, 'version_not_deployed');
  }
}

/** Persisted, but its versions could not be loaded when the server started. */
export class DeploymentUnavailableError extends ServingError {
  constructor(
    readonly model: string,
    reason: string,
  ) {
    super(`the deployment of model ${model} could not be restored: ${reason}`, 503, 'deployment_unavailable');
  }
}

export class ModelVersionNotFoundError extends ServingError {
  constructor(
    readonly model: string,
    readonly version: string,
  ) {
    super(`model ${model} has no registered version ${version}`, 404, 'version_not_found');
  }
}

/** A set-state request that could not be carried out; the previous deployment stays in force. */
export class DeploymentFailedError extends ServingError {
  constructor(model: string, version: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // A version that does not exist is the caller's mistake; anything else is the registry's.
    const status = cause instanceof ModelVersionNotFoundError ? 422 : 502;
    super(`could not load ${model} version ${version}, deployment unchanged: ${reason}`, status, 'deployment_failed');
    this.cause = cause;
  }
}

/** Predict or feedback without a valid API key where one is needed (serving/api-keys.ts). */
export class ApiKeyRequiredError extends ServingError {
  constructor(
    readonly model: string,
    problem: 'missing' | 'invalid' | 'malformed',
  ) {
    super(
      problem === 'missing'
        ? `model ${model} requires an API key: send the header "Authorization: Bearer <api key>"`
        : problem === 'malformed'
          ? 'the Authorization header must be "Bearer <api key>"'
          : `the API key in the Authorization header is not a valid (unrevoked) key of model ${model}`,
      401,
      'unauthorized',
    );
  }
}

/** A key name is unique per model, revoked keys included, so a source name always means one key. */
export class ApiKeyExistsError extends ServingError {
  constructor(
    readonly model: string,
    readonly name: string,
  ) {
    super(`model ${model} already has an API key named "${name}" (names stay taken after revoking)`, 409, 'api_key_exists');
  }
}

export class UnknownApiKeyError extends ServingError {
  constructor(
    readonly model: string,
    readonly name: string,
  ) {
    super(`model ${model} has no API key named "${name}"`, 404, 'unknown_api_key');
  }
}

/** The model computed a non-finite number: a broken model, never served or logged. */
export class InvalidModelOutputError extends ServingError {
  constructor(model: string, version: string, row: number, output: string) {
    super(
      `model ${model} version ${version} computed ${output} for rows.${row}, not a finite number; nothing was served or logged`,
      500,
      'invalid_model_output',
    );
  }
}
