/**
 * The snapshot the translator reads: every object Weir cares about, as one immutable value.
 *
 * Providers (Kubernetes watch, folder of YAML) fill it; the translator only reads it. The
 * element types describe the expected shape, but objects come from users and the API server
 * unvalidated (a YAML file can hold anything), so the translator treats every object as
 * untrusted: a malformed object yields status conditions, never an exception.
 *
 * Order of the arrays does not matter: the translator sorts what it needs, so providers may
 * pass objects in any order and still get byte-identical output.
 */
import type {
  BackendTLSPolicy,
  ConfigMap,
  EndpointSlice,
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  ListenerSet,
  Namespace,
  ReferenceGrant,
  Secret,
  Service,
  TCPRoute,
  TLSRoute,
  UDPRoute,
  WeirParameters,
} from '../../api-types/gateway-api/index.ts';

/** The `controllerName` GatewayClasses must carry for Weir to manage them. */
export const WEIR_CONTROLLER_NAME = 'weir.dev/gateway-controller';

export interface Snapshot {
  /** Normally `WEIR_CONTROLLER_NAME`; configurable so tests or a second installation can differ. */
  readonly controllerName: string;
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly listenerSets: readonly ListenerSet[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  readonly tlsRoutes: readonly TLSRoute[];
  readonly tcpRoutes: readonly TCPRoute[];
  readonly udpRoutes: readonly UDPRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly backendTLSPolicies: readonly BackendTLSPolicy[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  /** Only Secrets referenced by Gateways (certificates) need to be present. */
  readonly secrets: readonly Secret[];
  /** Only ConfigMaps referenced as CA bundles need to be present. */
  readonly configMaps: readonly ConfigMap[];
  /** Namespaces with their labels (allowedRoutes / allowedListeners selectors). */
  readonly namespaces: readonly Namespace[];
  readonly weirParameters: readonly WeirParameters[];
}

export function emptySnapshot(controllerName: string = WEIR_CONTROLLER_NAME): Snapshot {
  return {
    controllerName,
    gatewayClasses: [],
    gateways: [],
    listenerSets: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    backendTLSPolicies: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    configMaps: [],
    namespaces: [],
    weirParameters: [],
  };
}

/** The snapshot field each kind is stored in, for providers that sort objects by `kind`. */
export const SNAPSHOT_FIELD_BY_KIND = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  ListenerSet: 'listenerSets',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TLSRoute: 'tlsRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTLSPolicies',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  ConfigMap: 'configMaps',
  Namespace: 'namespaces',
  WeirParameters: 'weirParameters',
} as const satisfies Record<string, Exclude<keyof Snapshot, 'controllerName'>>;

export type SnapshotKind = keyof typeof SNAPSHOT_FIELD_BY_KIND;
