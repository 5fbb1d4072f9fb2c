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
 *   LOG_LEVEL
 */
import { hostname } from 'node:os';
import { installProcessGuard } from '../dataplane/telemetry/process-guard.ts';
import { createOperatorLogger } from './log.ts';
import { KubernetesOperator } from './kubernetes-operator.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set`);
  return value;
}

function serviceType(value: string | undefined): 'ClusterIP' | 'NodePort' | 'LoadBalancer' {
  if (value === undefined || value === '' || value === 'LoadBalancer') return 'LoadBalancer';
  if (value === 'ClusterIP' || value === 'NodePort') return value;
  throw new Error(`WEIR_SERVICE_TYPE must be ClusterIP, NodePort or LoadBalancer, got ${value}`);
}

export async function runOperator(): Promise<void> {
  const log = createOperatorLogger();
  try {
    const redisUrl = required('REDIS_URL');
    const image = process.env.WEIR_DATAPLANE_IMAGE;
    const leaseDuration = Number(process.env.WEIR_LEASE_DURATION_MS ?? '8000');
    const resync = Number(process.env.WEIR_PROVISION_RESYNC_MS ?? '60000');
    const operator = new KubernetesOperator({
      redisUrl,
      log,
      identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      leaseNamespace: process.env.POD_NAMESPACE ?? 'weir-system',
      leaseName: process.env.WEIR_LEASE_NAME ?? 'weir-operator',
      leaseDurationMs: Number.isFinite(leaseDuration) && leaseDuration >= 1000 ? leaseDuration : 8000,
      ...(process.env.WEIR_CONTROLLER_NAME ? { controllerName: process.env.WEIR_CONTROLLER_NAME } : {}),
      provisioningResyncMs: Number.isFinite(resync) && resync >= 1000 ? resync : 60_000,
      ...(image === undefined || image === ''
        ? {}
        : { provisioning: { image, redisUrl: process.env.WEIR_DATAPLANE_REDIS_URL ?? redisUrl, serviceType: serviceType(process.env.WEIR_SERVICE_TYPE) } }),
    });
    // The operator has no metrics endpoint: its fatal errors are counted by the restarts they cause.
    installProcessGuard({ log, shutdown: () => operator.stop(), shutdownTimeoutMs: 10_000 });
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      operator.stop().then(
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
