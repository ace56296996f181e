/**
 * A chaos scenario: real processes (Temporal dev server, MLflow server, model server, worker)
 * killed and restarted while the loop runs. `npm test` runs each in its short form under
 * test/chaos/; `npm run bench -- chaos` runs the full forms and writes bench/results/chaos.json.
 */
export interface FaultResult {
  name: string;
  /** The work under fault finished as it would have without it. */
  survived: boolean;
  /** Acknowledged work that was lost (predictions, trials, runs). */
  lost: number;
  /** Work done twice where it must happen once (MLflow runs per trial, registered versions, logged predictions). */
  duplicated: number;
  /** From the fault's end (the process back) until the work made progress again. */
  recoverSeconds: number;
  /** Scenario-specific evidence: counts, durations, ids. */
  details?: Record<string, unknown>;
}

export interface FaultScenario {
  name: string;
  /** `full`: the benchmark's durations (minutes); otherwise the short form for `npm test`. */
  run(options: { full: boolean }): Promise<FaultResult>;
}
