/**
 * The one registry of resource kinds Weir reads. Everything that needs a list of kinds derives
 * it from here: the watches and relists (provider/kubernetes), the file provider, the snapshot
 * and its type (store/snapshot.ts), the admission check at the provider boundary
 * (provider/admission.ts), the status writer (status/kube-writer.ts) and the RBAC check
 * (tests/unit/operator-kinds.test.ts holds config/rbac to this list). A new kind is one entry
 * here plus its schema in api-types/gateway-api.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import {
  BackendTLSPolicy,
  ConfigMap,
  CustomResourceDefinition,
  EndpointSlice,
  Gateway,
  GATEWAY_API_GROUP,
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
  WEIR_PARAMETERS_GROUP,
  WeirParameters,
} from '../api-types/gateway-api/index.ts';

/**
 * What Weir writes to a kind's status subresource:
 * - `none`: nothing;
 * - `whole`: the whole status (GatewayClass, Gateway, ListenerSet);
 * - `parents` / `ancestors`: its own entries of that list, keeping other controllers' (routes, policies).
 */
export type StatusShape = 'none' | 'whole' | 'parents' | 'ancestors';

export interface ResourceKindSpec<Schema extends TSchema = TSchema> {
  /** Checked when an object enters the store; the translator reads `Static<schema>`. */
  readonly schema: Schema;
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** The field of the translator's Snapshot that holds this kind. */
  readonly snapshotField: string;
  readonly status: StatusShape;
}

function kind<Schema extends TSchema, Field extends string>(spec: ResourceKindSpec<Schema> & { readonly snapshotField: Field }): ResourceKindSpec<Schema> & { readonly snapshotField: Field } {
  return spec;
}

const GW = GATEWAY_API_GROUP;

export const KINDS = {
  GatewayClass: kind({ schema: GatewayClass, group: GW, version: 'v1', plural: 'gatewayclasses', namespaced: false, snapshotField: 'gatewayClasses', status: 'whole' }),
  Gateway: kind({ schema: Gateway, group: GW, version: 'v1', plural: 'gateways', namespaced: true, snapshotField: 'gateways', status: 'whole' }),
  ListenerSet: kind({ schema: ListenerSet, group: GW, version: 'v1', plural: 'listenersets', namespaced: true, snapshotField: 'listenerSets', status: 'whole' }),
  HTTPRoute: kind({ schema: HTTPRoute, group: GW, version: 'v1', plural: 'httproutes', namespaced: true, snapshotField: 'httpRoutes', status: 'parents' }),
  GRPCRoute: kind({ schema: GRPCRoute, group: GW, version: 'v1', plural: 'grpcroutes', namespaced: true, snapshotField: 'grpcRoutes', status: 'parents' }),
  TLSRoute: kind({ schema: TLSRoute, group: GW, version: 'v1', plural: 'tlsroutes', namespaced: true, snapshotField: 'tlsRoutes', status: 'parents' }),
  TCPRoute: kind({ schema: TCPRoute, group: GW, version: 'v1', plural: 'tcproutes', namespaced: true, snapshotField: 'tcpRoutes', status: 'parents' }),
  UDPRoute: kind({ schema: UDPRoute, group: GW, version: 'v1', plural: 'udproutes', namespaced: true, snapshotField: 'udpRoutes', status: 'parents' }),
  ReferenceGrant: kind({ schema: ReferenceGrant, group: GW, version: 'v1', plural: 'referencegrants', namespaced: true, snapshotField: 'referenceGrants', status: 'none' }),
  BackendTLSPolicy: kind({ schema: BackendTLSPolicy, group: GW, version: 'v1', plural: 'backendtlspolicies', namespaced: true, snapshotField: 'backendTLSPolicies', status: 'ancestors' }),
  Service: kind({ schema: Service, group: '', version: 'v1', plural: 'services', namespaced: true, snapshotField: 'services', status: 'none' }),
  EndpointSlice: kind({ schema: EndpointSlice, group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true, snapshotField: 'endpointSlices', status: 'none' }),
  Secret: kind({ schema: Secret, group: '', version: 'v1', plural: 'secrets', namespaced: true, snapshotField: 'secrets', status: 'none' }),
  ConfigMap: kind({ schema: ConfigMap, group: '', version: 'v1', plural: 'configmaps', namespaced: true, snapshotField: 'configMaps', status: 'none' }),
  Namespace: kind({ schema: Namespace, group: '', version: 'v1', plural: 'namespaces', namespaced: false, snapshotField: 'namespaces', status: 'none' }),
  CustomResourceDefinition: kind({ schema: CustomResourceDefinition, group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false, snapshotField: 'customResourceDefinitions', status: 'none' }),
  WeirParameters: kind({ schema: WeirParameters, group: WEIR_PARAMETERS_GROUP, version: 'v1alpha1', plural: 'weirparameters', namespaced: true, snapshotField: 'weirParameters', status: 'none' }),
} as const;

export type SnapshotKind = keyof typeof KINDS;

/** The typed object of a kind, as the translator reads it. */
export type ObjectOf<K extends SnapshotKind> = Static<(typeof KINDS)[K]['schema']>;

export interface ResourceKind extends ResourceKindSpec {
  readonly kind: SnapshotKind;
}

export const RESOURCE_KINDS: readonly ResourceKind[] = (Object.keys(KINDS) as SnapshotKind[]).map((name) => ({ kind: name, ...KINDS[name] }));

export const SNAPSHOT_KINDS: readonly SnapshotKind[] = RESOURCE_KINDS.map((resource) => resource.kind);

export function isSnapshotKind(value: unknown): value is SnapshotKind {
  return typeof value === 'string' && Object.hasOwn(KINDS, value);
}

export function resourceKind(name: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((entry) => entry.kind === name);
}

export function apiVersionOf(resource: ResourceKind): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}
