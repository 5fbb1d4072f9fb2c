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
 *   LOG_LEVEL, OTEL_*       logging level; OpenTelemetry: OTLP endpoint (tracing is off without one), OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*
 */
import { hostname } from 'node:os';
import { Environment } from '../api-types/environment.ts';
import { gatewayId } from '../api-types/gateway-ref.ts';
import { Dataplane } from './dataplane.ts';
import { createLogger } from './telemetry/log.ts';
import { installProcessGuard } from './telemetry/process-guard.ts';
import { tracingFromEnv } from './telemetry/tracing.ts';

const log = createLogger();
let dataplane: Dataplane | undefined;
try {
  const env = new Environment();
  const drainTimeoutMs = env.integer('WEIR_DRAIN_TIMEOUT_MS', 30_000);
  const shutdownDelayMs = env.integer('WEIR_SHUTDOWN_DELAY_MS', 0);
  installProcessGuard({
    log,
    count: (kind) => dataplane?.metrics.fatalErrors.labels({ kind }).inc(),
    shutdown: async () => { await dataplane?.stop(); },
    // The shutdown delay, the drain, and a little for Redis and tracing.
    shutdownTimeoutMs: shutdownDelayMs + drainTimeoutMs + 5_000,
  });
  const gateway = env.gateway('WEIR_GATEWAY');
  const podName = env.optional('POD_NAME') ?? hostname();
  const tracing = tracingFromEnv(process.env, {
    serviceName: 'weir-dataplane',
    attributes: { 'service.instance.id': podName, 'k8s.pod.name': podName, 'weir.gateway': gatewayId(gateway) },
  });
  dataplane = await Dataplane.start({
    redisUrl: env.required('REDIS_URL'),
    gateway,
    podName,
    log,
    listenHost: env.optional('WEIR_LISTEN_HOST') ?? '0.0.0.0',
    adminHost: env.optional('WEIR_ADMIN_HOST') ?? '0.0.0.0',
    adminPort: env.integer('WEIR_ADMIN_PORT', 9090),
    ...(tracing === undefined ? {} : { tracing }),
    processMetrics: true,
    shutdownDelayMs,
    drainTimeoutMs,
    datagram: { idleTimeoutMs: env.integer('WEIR_UDP_IDLE_TIMEOUT_MS', 60_000), maxFlowsPerPort: env.integer('WEIR_UDP_MAX_FLOWS', 10_000) },
  });
  const started = dataplane;
  log.info({ gateway: gatewayId(gateway), pod: podName, adminPort: started.adminPort }, 'dataplane started');
  const onSignal = (signal: string): void => {
    log.info({ signal }, 'signal received, draining');
    started.stop().then(
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
