/**
 * What the request executors (`exchange.ts`, `upgrade.ts`) share: the current config, logging,
 * tracing, metrics and the count of requests in flight (for draining).
 */
import type { CompiledConfig } from './compile.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';

export interface ConfigSource {
  readonly current: CompiledConfig | undefined;
}

export interface ProxyContext {
  readonly source: ConfigSource;
  readonly log: Logger;
  readonly tracing: Tracing | undefined;
  /** Where connections closed by a limit are counted. */
  readonly metrics: DataplaneMetrics | undefined;
  requestStarted(): void;
  requestEnded(): void;
}
