/**
 * The dataplane objects of one Gateway, built as plain manifests (pure; no API calls):
 * ServiceAccount, Deployment and Service, owned by the Gateway, carrying its
 * `spec.infrastructure` labels and annotations.
 */
import { gatewayId } from '../../api-types/gateway-ref.ts';
import { MANAGED_METADATA_ANNOTATION, managedKeysValue } from './managed-metadata.ts';
import { createHash } from 'node:crypto';
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { GatewayOutput } from '../translator/index.ts';

export interface ProvisionerSettings {
  /** Default dataplane image (WeirParameters.image overrides). */
  readonly image: string;
  /** REDIS_URL given to dataplane pods. */
  readonly redisUrl: string;
  /** Default Service type (WeirParameters.serviceType overrides). Default LoadBalancer. */
  readonly serviceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** Replicas at creation when WeirParameters does not say (default 1). */
  readonly replicas?: number;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Dataplane admin port (readiness probe, metrics). Default 9090. */
  readonly adminPort?: number;
  readonly terminationGracePeriodSeconds?: number;
  /** `OTEL_*` variables for dataplane pods (the operator passes on its own tracing settings). */
  readonly telemetryEnv?: Readonly<Record<string, string>>;
}

/** The `OTEL_*` settings the operator shares with the dataplanes it provisions (not OTEL_SERVICE_NAME). */
export const SHARED_OTEL_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER',
] as const;

export function sharedTelemetryEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const shared: Record<string, string> = {};
  for (const name of SHARED_OTEL_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') shared[name] = value;
  }
  return shared;
}

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: V1OwnerReference[] };
} & Record<string, unknown>;

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const HASH_ANNOTATION = 'weir.dev/applied-hash';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'weir', 'app.kubernetes.io/name': 'weir-dataplane' };

const KUBERNETES_NAME_MAX = 63;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * `weir-<gateway>`: the name of the Gateway's Deployment, Service and ServiceAccount. Gateway
 * names are DNS subdomains (up to 253 characters, dots allowed) but a Service name is a
 * 63-character DNS label, so a name with dots or too long is cut and made unique by a hash of
 * the Gateway's name.
 */
export function dataplaneName(gatewayName: string): string {
  const name = `weir-${gatewayName}`;
  if (name.length <= KUBERNETES_NAME_MAX && !name.includes('.')) return name;
  const hash = shortHash(gatewayName);
  const head = name.replaceAll('.', '-').slice(0, KUBERNETES_NAME_MAX - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** The gateway-name label's value: the Gateway's name, or (above 63 characters) a cut of it with a hash. */
export function gatewayNameLabelValue(gatewayName: string): string {
  if (gatewayName.length <= KUBERNETES_NAME_MAX) return gatewayName;
  const hash = shortHash(gatewayName);
  // A label value must end with an alphanumeric character: drop separators at the cut.
  const head = gatewayName.slice(0, KUBERNETES_NAME_MAX - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

interface ListenerPort {
  /** Unique among the pod's ports and at most 15 characters. */
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** The ports the listeners need, once each: UDP listeners on UDP, every other listener on TCP. */
function listenerPorts(output: GatewayOutput): ListenerPort[] {
  const ports = new Map<string, ListenerPort>();
  for (const listener of output.config.listeners) {
    const protocol = listener.protocol === 'UDP' ? 'UDP' : 'TCP';
    const name = `${protocol === 'UDP' ? 'u' : 'p'}${listener.port}`;
    ports.set(name, { name, port: listener.port, protocol });
  }
  return [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

export interface DataplaneManifests {
  readonly serviceAccount: Manifest;
  readonly deployment: Manifest;
  /** Absent while the Gateway has no listener to serve (a Service needs at least one port). */
  readonly service: Manifest | undefined;
}

export function dataplaneManifests(output: GatewayOutput, gateway: GatewayRef, settings: ProvisionerSettings): DataplaneManifests {
  const name = dataplaneName(gateway.name);
  const { namespace } = gateway;
  const { deployment: parameters, labels: infraLabels, annotations: infraAnnotations } = output.infrastructure;
  const selector = { ...MANAGED_BY, [GATEWAY_NAME_LABEL]: gatewayNameLabelValue(gateway.name) };
  const labels = { ...infraLabels, ...selector };
  const annotations = { ...infraAnnotations };
  // Selector labels are Weir's own whatever the Gateway says: never recorded, so never removed.
  const infraOnlyLabels = Object.fromEntries(Object.entries(infraLabels).filter(([key]) => !(key in selector)));
  const managed = { [MANAGED_METADATA_ANNOTATION]: managedKeysValue(infraOnlyLabels, infraAnnotations) };
  const ownerReferences = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gateway.name, uid: gateway.uid, controller: true }];
  const metadata = { name, namespace, labels, annotations: { ...annotations, ...managed }, ownerReferences };
  const adminPort = settings.adminPort ?? 9090;
  const ports = listenerPorts(output);
  const resources = parameters.resources === undefined ? {} : { resources: { requests: parameters.resources.requests, limits: parameters.resources.limits } };
  const serviceAccount: Manifest = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { ...metadata, annotations: { ...metadata.annotations } }, automountServiceAccountToken: false };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...metadata },
    spec: {
      replicas: parameters.replicas ?? settings.replicas ?? 1,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        // A stock Prometheus (kubernetes-pods job) scrapes pods that carry these.
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(adminPort), 'prometheus.io/path': '/metrics', ...annotations } },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: settings.terminationGracePeriodSeconds ?? 45,
          // The image runs as a non-root user; listeners on ports below 1024 (80, 443) need this
          // namespaced "safe" sysctl instead of a capability.
          securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
          containers: [
            {
              name: 'dataplane',
              image: parameters.image ?? settings.image,
              imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
              env: [
                { name: 'WEIR_GATEWAY', value: gatewayId(gateway) },
                { name: 'REDIS_URL', value: settings.redisUrl },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'WEIR_ADMIN_PORT', value: String(adminPort) },
                // Long enough for kube-proxy and load balancers to stop sending new connections
                // after the pod turns terminating, even on a busy node (5 s lost connections here).
                { name: 'WEIR_SHUTDOWN_DELAY_MS', value: '10000' },
                { name: 'WEIR_DRAIN_TIMEOUT_MS', value: '30000' },
                ...Object.entries(settings.telemetryEnv ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([envName, value]) => ({ name: envName, value })),
              ],
              // Listener ports are not declared here: the Service targets them by number, and a
              // pod template naming them would roll every dataplane pod when a listener changes.
              ports: [{ name: 'admin', containerPort: adminPort, protocol: 'TCP' }],
              // A slow answer on a saturated node is not an unready gateway: the default 1 s timeout
              // took serving pods out of rotation while new pods started beside them.
              readinessProbe: { httpGet: { path: '/readyz', port: adminPort }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 3 },
              ...resources,
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
        },
      },
    },
  };
  const service: Manifest | undefined = ports.length === 0 ? undefined : {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...metadata, annotations: { ...metadata.annotations } },
    spec: {
      type: output.infrastructure.addressRoutability === 'Cluster' ? 'ClusterIP' : (parameters.serviceType ?? settings.serviceType ?? 'LoadBalancer'),
      selector,
      ports: ports.map(({ name: portName, port, protocol }) => ({ name: portName, port, targetPort: port, protocol })),
    },
  };
  return { serviceAccount, deployment, service };
}

/** Hash of a manifest without replicas (which belongs to the user once created). */
export function manifestHash(manifest: Manifest): string {
  const spec = manifest.spec as Record<string, unknown> | undefined;
  const { replicas: _replicas, ...rest } = spec ?? {};
  return createHash('sha256').update(JSON.stringify({ ...manifest, spec: rest })).digest('hex').slice(0, 16);
}
