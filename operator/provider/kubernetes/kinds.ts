/** The Kubernetes resources Weir watches, and where each lives in the API. */
import type { SnapshotKind } from '../../store/snapshot.ts';

export interface ResourceKind {
  readonly kind: SnapshotKind;
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Weir writes this kind's status subresource. */
  readonly writesStatus: boolean;
}

const GW = 'gateway.networking.k8s.io';

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  { kind: 'GatewayClass', group: GW, version: 'v1', plural: 'gatewayclasses', namespaced: false, writesStatus: true },
  { kind: 'Gateway', group: GW, version: 'v1', plural: 'gateways', namespaced: true, writesStatus: true },
  { kind: 'ListenerSet', group: GW, version: 'v1', plural: 'listenersets', namespaced: true, writesStatus: true },
  { kind: 'HTTPRoute', group: GW, version: 'v1', plural: 'httproutes', namespaced: true, writesStatus: true },
  { kind: 'GRPCRoute', group: GW, version: 'v1', plural: 'grpcroutes', namespaced: true, writesStatus: true },
  { kind: 'TLSRoute', group: GW, version: 'v1', plural: 'tlsroutes', namespaced: true, writesStatus: true },
  { kind: 'TCPRoute', group: GW, version: 'v1', plural: 'tcproutes', namespaced: true, writesStatus: true },
  { kind: 'UDPRoute', group: GW, version: 'v1', plural: 'udproutes', namespaced: true, writesStatus: true },
  { kind: 'ReferenceGrant', group: GW, version: 'v1', plural: 'referencegrants', namespaced: true, writesStatus: false },
  { kind: 'BackendTLSPolicy', group: GW, version: 'v1', plural: 'backendtlspolicies', namespaced: true, writesStatus: true },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true, writesStatus: false },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true, writesStatus: false },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true, writesStatus: false },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true, writesStatus: false },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false, writesStatus: false },
  { kind: 'WeirParameters', group: 'gateway.weir.dev', version: 'v1alpha1', plural: 'weirparameters', namespaced: true, writesStatus: false },
];

export function resourceKind(kind: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((entry) => entry.kind === kind);
}

/** `/apis/<group>/<version>/<plural>` (all namespaces) or `/api/v1/<plural>`. */
export function collectionPath(resource: ResourceKind): string {
  return resource.group === '' ? `/api/${resource.version}/${resource.plural}` : `/apis/${resource.group}/${resource.version}/${resource.plural}`;
}

export function apiVersionOf(resource: ResourceKind): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}
