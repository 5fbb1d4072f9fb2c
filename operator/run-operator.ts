/**
 * Runs the operator from the environment:
 *   KUBECONFIG (or in-cluster)   the API server
 *   REDIS_URL                    required
 *   POD_NAME / POD_NAMESPACE     Lease identity and namespace (default hostname / weir-system)
 *   WEIR_CONTROLLER_NAME         GatewayClass controllerName (default weir.dev/gateway-controller)
 *   WEIR_LEASE_NAME              default weir-operator
 *   WEIR_LEASE_DURATION_MS       default 8000
 *   WEIR_DATAPLANE_IMAGE         dataplane image for provisioned Deployments; unset: no provisioning
 *   WEIR_DATAPLANE_REDIS_URL     REDIS_URL given to dataplane pods (default REDIS_URL)
 *   WEIR_SERVICE_TYPE            default Service type (LoadBalancer)
 *   WEIR_PROVISION_RESYNC_MS     how often provisioned objects are read back and restored (default 60000)
 *   WEIR_METRICS_HOST / WEIR_METRICS_PORT   Prometheus `/metrics` (default 0.0.0.0:9090; port 0 turns it off)
 *   OTEL_*                       OpenTelemetry: config-change traces (off without an OTLP endpoint); the
 *                                endpoint, sampler and batch settings are passed on to provisioned dataplanes
 *   LOG_LEVEL
 */
import { hostname } from 'node:os';
import { Environment } from '../api-types/environment.ts';
import { installProcessGuard } from '../dataplane/telemetry/process-guard.ts';
import { createOperatorLogger } from './log.ts';
import { KubernetesOperator } from './kubernetes-operator.ts';
import { tracingFromEnv } from '../dataplane/telemetry/tracing.ts';
import { OperatorMetrics } from './telemetry/metrics.ts';
import { sharedTelemetryEnv } from './infra/resources.ts';
import { startMetricsServer, type MetricsServer } from './telemetry/metrics-server.ts';

export async function runOperator(): Promise<void> {
  const log = createOperatorLogger();
  try {
    const env = new Environment();
    const redisUrl = env.required('REDIS_URL');
    const image = env.optional('WEIR_DATAPLANE_IMAGE');
    const controllerName = env.optional('WEIR_CONTROLLER_NAME');
    const identity = env.optional('POD_NAME') ?? `${hostname()}-${process.pid}`;
    const metrics = new OperatorMetrics({ processMetrics: true });
    const metricsPort = env.integer('WEIR_METRICS_PORT', 9090);
    const metricsServer: MetricsServer | undefined = metricsPort === 0 ? undefined : await startMetricsServer({ host: env.optional('WEIR_METRICS_HOST') ?? '0.0.0.0', port: metricsPort, registry: metrics.registry });
    const tracing = tracingFromEnv(process.env, {
      serviceName: 'weir-operator',
      attributes: { 'service.instance.id': identity, 'k8s.pod.name': identity },
    });
    const operator = new KubernetesOperator({
      redisUrl,
      log,
      identity,
      metrics,
      ...(tracing === undefined ? {} : { tracing }),
      leaseNamespace: env.optional('POD_NAMESPACE') ?? 'weir-system',
      leaseName: env.optional('WEIR_LEASE_NAME') ?? 'weir-operator',
      leaseDurationMs: env.integer('WEIR_LEASE_DURATION_MS', 8000, 1000),
      ...(controllerName === undefined ? {} : { controllerName }),
      provisioningResyncMs: env.integer('WEIR_PROVISION_RESYNC_MS', 60_000, 1000),
      ...(image === undefined
        ? {}
        : {
            provisioning: {
              image,
              redisUrl: env.optional('WEIR_DATAPLANE_REDIS_URL') ?? redisUrl,
              serviceType: env.oneOf('WEIR_SERVICE_TYPE', ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'LoadBalancer'),
              telemetryEnv: sharedTelemetryEnv(process.env),
            },
          }),
    });
    const stop = async (): Promise<void> => {
      await operator.stop();
      await metricsServer?.close();
    };
    installProcessGuard({ log, shutdown: stop, shutdownTimeoutMs: 10_000 });
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    await operator.start();
    log.info('operator started');
  } catch (error) {
    log.fatal({ err: error }, 'operator failed to start');
    process.exitCode = 1;
    process.exit(1);
  }
}
