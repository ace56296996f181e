/**
 * Temporal Core's runtime metrics (workflow and activity task latencies, poller counts, sticky
 * cache, request failures: the SDK's `temporal_*` metrics, in Core's units: milliseconds) on a
 * Prometheus endpoint that Core serves from native code. Core's runtime is process-wide and
 * configured once, before the first connection: process entry points pass these options to
 * their one `Runtime.install`.
 */
import type { TelemetryOptions } from '@temporalio/worker';
import { formatBindAddress, type BindAddress } from '../config/metrics.ts';

export function temporalMetricsTelemetry(bindAddress: BindAddress | undefined): TelemetryOptions | undefined {
  return bindAddress && { metrics: { prometheus: { bindAddress: formatBindAddress(bindAddress) } } };
}
