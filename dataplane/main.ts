/**
 * Dataplane entry point. Environment:
 *   REDIS_URL               redis://[user:password@]host:port (required)
 *   WEIR_GATEWAY            <namespace>/<name> of the Gateway this pod serves (required)
 *   POD_NAME                this pod's name, used in acks (default: hostname)
 *   WEIR_LISTEN_HOST        address listener ports bind to (default 0.0.0.0)
 *   WEIR_ADMIN_HOST / WEIR_ADMIN_PORT   admin endpoint (default 0.0.0.0:9090)
 *   WEIR_SHUTDOWN_DELAY_MS  unready-before-close delay on SIGTERM (default 0)
 *   WEIR_DRAIN_TIMEOUT_MS   longest wait for in-flight requests (default 30000)
 *   WEIR_UDP_IDLE_TIMEOUT_MS  a UDP client flow without datagrams for this long is closed (default 60000)
 *   WEIR_UDP_MAX_FLOWS      UDP client flows per port; datagrams of further clients are dropped (default 10000)
 *   LOG_LEVEL, OTEL_*       logging level; OpenTelemetry exporter settings (tracing is off without an OTLP endpoint)
 */
import { hostname } from 'node:os';
import { Dataplane } from './dataplane.ts';
import { createLogger } from './telemetry/log.ts';
import { tracingFromEnv } from './telemetry/tracing.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set`);
  return value;
}

function integer(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  return parsed;
}

const log = createLogger();
try {
  const [namespace, name, ...rest] = required('WEIR_GATEWAY').split('/');
  if (namespace === undefined || name === undefined || namespace === '' || name === '' || rest.length > 0) throw new Error('WEIR_GATEWAY must be <namespace>/<name>');
  const podName = process.env.POD_NAME ?? hostname();
  const dataplane = await Dataplane.start({
    redisUrl: required('REDIS_URL'),
    gateway: { namespace, name },
    podName,
    log,
    listenHost: process.env.WEIR_LISTEN_HOST ?? '0.0.0.0',
    adminHost: process.env.WEIR_ADMIN_HOST ?? '0.0.0.0',
    adminPort: integer('WEIR_ADMIN_PORT', 9090),
    tracing: tracingFromEnv(process.env, { 'service.instance.id': podName, 'weir.gateway': `${namespace}/${name}` }),
    processMetrics: true,
    shutdownDelayMs: integer('WEIR_SHUTDOWN_DELAY_MS', 0),
    drainTimeoutMs: integer('WEIR_DRAIN_TIMEOUT_MS', 30_000),
    datagram: { idleTimeoutMs: integer('WEIR_UDP_IDLE_TIMEOUT_MS', 60_000), maxFlowsPerPort: integer('WEIR_UDP_MAX_FLOWS', 10_000) },
  });
  log.info({ gateway: `${namespace}/${name}`, pod: podName, adminPort: dataplane.adminPort }, 'dataplane started');
  const onSignal = (signal: string): void => {
    log.info({ signal }, 'signal received, draining');
    dataplane.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
} catch (error) {
  log.fatal({ err: error }, 'dataplane failed to start');
  process.exitCode = 1;
}
