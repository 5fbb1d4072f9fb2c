/**
 * translate(snapshot) → per-Gateway DataplaneConfigs and per-object statuses.
 *
 * Pure and deterministic: no I/O, no clock, no randomness; inputs are sorted before use so
 * the same objects in any order give byte-identical output. Never throws on malformed objects.
 */
import { gatewayId } from '../../api-types/gateway-ref.ts';
import type { DataplaneConfig, HttpRule, StreamRoute } from '../../api-types/dataplane-config.ts';
import type { Snapshot } from '../store/snapshot.ts';
import { BackendTlsPolicies } from './backend-tls.ts';
import { Backends } from './backends.ts';
import { KeyMaterial } from './certificates.ts';
import { condition, ConditionType, Reason, type TranslatedCondition } from './conditions.ts';
import { ConfigBuilder } from './config-builder.ts';
import { attachRoute, type ListenerAttachment, type ParentAttachment } from './attachment.ts';
import { evaluateGatewayClasses, gatewayApiBundleVersion } from './gatewayclass.ts';
import { gatewayStatus, listenerSetStatus } from './gateway-status.ts';
import { buildGateways, type GatewayState, type ListenerSetState } from './gateways.ts';
import { translateGrpcRoute } from './grpc-routes.ts';
import { translateHttpRoute } from './http-routes.ts';
import { ListenerClaims, type Holder } from './listener-claims.ts';
import { isServing, type ListenerState } from './listeners.ts';
import { compareByAge, compareByName, compareTimestamps, entries, key, type Meta } from './meta.ts';
import { NamespaceLabels } from './namespaces.ts';
import { ParametersIndex, type DeploymentParameters } from './parameters.ts';
import { precedenceOrder, specificity } from './precedence.ts';
import { compareStrings } from './read.ts';
import { ReferenceGrants } from './references.ts';
import { summarizeRules, type RouteTranslation } from './route-common.ts';
import type { ObjectStatus, RouteParentStatusOut } from './status.ts';
import { translateStreamRoute, type StreamTranslation } from './stream-routes.ts';

export interface GatewayOutput {
  readonly gateway: { readonly namespace: string; readonly name: string };
  /** Unwrapped config; the publisher adds version and digest (PublishedConfig). */
  readonly config: DataplaneConfig;
  /** For the infra provisioner: spec.infrastructure labels/annotations and WeirParameters. */
  readonly infrastructure: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    /** `Cluster`: the Gateway's address must be a ClusterIP (GatewayAddressRoutabilityCluster). */
    readonly addressRoutability?: 'Cluster';
    readonly deployment: DeploymentParameters;
  };
}

export interface TranslationResult {
  /** One per Gateway of an Accepted Weir GatewayClass, sorted by namespace/name. A Gateway that is not Accepted gets a config without listeners. */
  readonly configs: readonly GatewayOutput[];
  /** Sorted by kind, namespace, name. */
  readonly statuses: readonly ObjectStatus[];
}


interface ListenerRoutes {
  /** Added oldest route first, then by rule and match: the tie-breakers of `precedenceOrder`. */
  readonly http: HttpRule[];
  /** `specificity` of each entry of `http`. */
  readonly httpKeys: number[];
  readonly streams: { readonly route: Meta; readonly stream: StreamRoute }[];
}

const STATUS_KIND_ORDER: Readonly<Record<ObjectStatus['kind'], number>> = {
  GatewayClass: 0,
  Gateway: 1,
  ListenerSet: 2,
  HTTPRoute: 3,
  GRPCRoute: 4,
  TLSRoute: 5,
  TCPRoute: 6,
  UDPRoute: 7,
  BackendTLSPolicy: 8,
};

export function translate(snapshot: Snapshot): TranslationResult {
  const controllerName = typeof snapshot.controllerName === 'string' ? snapshot.controllerName : '';
  const keys = new KeyMaterial(entries(snapshot.secrets), entries(snapshot.configMaps));
  const grants = new ReferenceGrants(entries(snapshot.referenceGrants));
  const namespaces = new NamespaceLabels(entries(snapshot.namespaces, true));
  const parameters = new ParametersIndex(entries(snapshot.weirParameters));
  const classes = evaluateGatewayClasses(entries(snapshot.gatewayClasses, true), controllerName, parameters, gatewayApiBundleVersion(snapshot.customResourceDefinitions));
  const gateways = buildGateways(entries(snapshot.gateways), entries(snapshot.listenerSets), {
    classes: classes.states,
    parameters,
    keys,
    grants,
    namespaces,
  });
  const listenerSets = new Map<string, ListenerSetState>();
  for (const gateway of gateways.values()) for (const set of gateway.listenerSets) listenerSets.set(key(set.meta.namespace, set.meta.name), set);

  const policies = new BackendTlsPolicies(entries(snapshot.backendTLSPolicies), keys);
  const backends = new Backends(entries(snapshot.services), entries(snapshot.endpointSlices), grants, policies);
  const routes: RouteTranslation[] = [
    ...entries(snapshot.httpRoutes).map((entry) => translateHttpRoute(entry, backends)),
    ...entries(snapshot.grpcRoutes).map((entry) => translateGrpcRoute(entry, backends)),
    ...entries(snapshot.tlsRoutes).map((entry) => translateStreamRoute('TLSRoute', entry, backends)),
    ...entries(snapshot.tcpRoutes).map((entry) => translateStreamRoute('TCPRoute', entry, backends)),
    ...entries(snapshot.udpRoutes).map((entry) => translateStreamRoute('UDPRoute', entry, backends)),
  ];

  const statuses: ObjectStatus[] = [...classes.statuses];
  const ordered = byAge(routes);
  /** Route statuses by position in `routes`, which is already in status order (kind, namespace, name). */
  const routeStatuses: (ObjectStatus | undefined)[] = new Array<ObjectStatus | undefined>(routes.length).fill(undefined);
  const routesByListener = new Map<ListenerState, ListenerRoutes>();
  const builders = new Map<GatewayState, ConfigBuilder>();
  for (const gateway of gateways.values()) builders.set(gateway, new ConfigBuilder(gateway));
  const claims = new ListenerClaims();

  const parentIndex = { gateways, listenerSets };
  for (const { route, index } of ordered) {
    const attachments = attachRoute({ kind: route.kind, namespace: route.meta.namespace, hostnames: route.hostnames }, route.parentRefs, parentIndex);
    if (attachments.length === 0) continue;
    const summary = summarizeRules(route);
    const parents: RouteParentStatusOut[] = [];
    const placed = attachments.length > 1 ? new Set<ListenerState>() : undefined;
    for (const attachment of attachments) {
      // attachedRoutes counts every attachment, whatever the route's or listener's health.
      for (const { listener } of attachment.listeners) listener.attachedRoutes.add(route);
      const claimed = attachment.problem === undefined && summary.notAccepted === undefined ? claimListeners(route, attachment, claims) : undefined;
      parents.push({ parentRef: attachment.parentRef, controllerName, conditions: routeConditions(attachment, summary, claimed, route.meta.generation) });
      if (claimed === undefined) continue;
      // Two parentRefs can select the same listener (one by sectionName, one the whole Gateway): place the route once.
      let listeners = claimed.won;
      if (placed !== undefined) {
        listeners = listeners.filter(({ listener }) => !placed.has(listener));
        for (const { listener } of listeners) placed.add(listener);
      }
      placeRoute(route, attachment.gateway, listeners, routesByListener, builders);
    }
    routeStatuses[index] = { kind: route.kind, namespace: route.meta.namespace, name: route.meta.name, generation: route.meta.generation, status: { parents } };
  }
  for (const status of routeStatuses) if (status !== undefined) statuses.push(status);

  const configs: GatewayOutput[] = [];
  const gatewaysByService = new Map<string, Set<string>>();
  for (const gateway of gateways.values()) {
    const builder = builders.get(gateway);
    if (builder === undefined) continue;
    if (gateway.problem === undefined) {
      const serving = [...gateway.listeners, ...gateway.listenerSets.flatMap((set) => (set.problem === undefined ? set.listeners : []))].filter(isServing);
      for (const listener of serving) addListener(builder, listener, routesByListener.get(listener));
    }
    const gatewayKey = gatewayId(gateway.meta);
    for (const service of builder.usedServices) {
      const users = gatewaysByService.get(service) ?? new Set<string>();
      users.add(gatewayKey);
      gatewaysByService.set(service, users);
    }
    configs.push({
      gateway: { namespace: gateway.meta.namespace, name: gateway.meta.name },
      config: builder.build(),
      infrastructure: { ...gateway.infrastructure, deployment: gateway.parameters.deployment },
    });
    statuses.push(gatewayStatus(gateway));
    for (const set of gateway.listenerSets) statuses.push(listenerSetStatus(set));
  }
  statuses.push(...policies.statuses(gatewaysByService, controllerName));

  // Mostly in order already (classes, routes, ...): the sort merges a few sorted runs.
  statuses.sort((a, b) => STATUS_KIND_ORDER[a.kind] - STATUS_KIND_ORDER[b.kind] || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  configs.sort((a, b) => compareStrings(a.gateway.namespace, b.gateway.namespace) || compareStrings(a.gateway.name, b.gateway.name));
  return { configs, statuses };
}

interface ClaimedListeners {
  /** The listeners that serve the route. */
  readonly won: readonly ListenerAttachment[];
  /** Listeners held by an older route, with that route. */
  readonly lost: { readonly listener: ListenerState; readonly holder: Holder }[];
  /** TLSRoute: SNI names held by an older route on listeners the route still serves with other names. */
  readonly lostNames?: readonly { readonly listener: ListenerState; readonly hostname: string; readonly holder: Holder }[];
}

/** TLSRoute: each SNI name of a listener goes to the oldest route naming it; a route left with no name loses the listener. */
function claimNames(route: RouteTranslation, attachment: ParentAttachment, claims: ListenerClaims): ClaimedListeners {
  const won: ListenerAttachment[] = [];
  const lost: ClaimedListeners['lost'][number][] = [];
  const lostNames: NonNullable<ClaimedListeners['lostNames']>[number][] = [];
  for (const listenerAttachment of attachment.listeners) {
    const { listener } = listenerAttachment;
    const names = claims.claimNames(listener, route, listenerAttachment.precedenceHostnames);
    const first = names.lost[0];
    if (names.won.length === 0 && first !== undefined) {
      lost.push({ listener, holder: first.holder });
      continue;
    }
    for (const { hostname, holder } of names.lost) lostNames.push({ listener, hostname, holder });
    won.push(names.lost.length === 0 ? listenerAttachment : { ...listenerAttachment, precedenceHostnames: [...names.won] });
  }
  return { won, lost, lostNames };
}

function claimListeners(route: RouteTranslation, attachment: ParentAttachment, claims: ListenerClaims): ClaimedListeners {
  if (route.kind === 'TLSRoute') return claimNames(route, attachment, claims);
  const won: ListenerAttachment[] = [];
  const lost: ClaimedListeners['lost'][number][] = [];
  for (const listenerAttachment of attachment.listeners) {
    const holder = claims.claim(listenerAttachment.listener, route, listenerAttachment.hostnames);
    if (holder === undefined) won.push(listenerAttachment);
    else lost.push({ listener: listenerAttachment.listener, holder });
  }
  return { won, lost };
}

function describeLost(lost: ClaimedListeners['lost']): string {
  return lost.map(({ listener, holder }) => `listener ${listener.name} (held by ${holder.kind} ${holder.meta.namespace}/${holder.meta.name})`).join(', ');
}

function routeConditions(
  attachment: ParentAttachment,
  summary: ReturnType<typeof summarizeRules>,
  claimed: ClaimedListeners | undefined,
  generation: number,
): TranslatedCondition[] {
  let notAccepted = attachment.problem ?? summary.notAccepted;
  let acceptedMessage = 'Route is accepted';
  const lostNames = claimed?.lostNames ?? [];
  if (claimed !== undefined && claimed.lost[0]?.holder.kind === 'TLSRoute' && claimed.won.length === 0) {
    // The spec names no route reason for two TLSRoutes claiming one SNI name; HostnameConflict is its reason for the same clash between listeners.
    notAccepted = { reason: Reason.HostnameConflict, message: `a TLSRoute that takes precedence (older, or first by namespace/name) serves every hostname of this route on ${describeLost(claimed.lost)}` };
  } else if (claimed !== undefined && (lostNames.length > 0 || (claimed.lost.length > 0 && claimed.lost[0]?.holder.kind === 'TLSRoute'))) {
    const names = lostNames.map(({ listener, hostname, holder }) => `${hostname} on listener ${listener.name} (held by TLSRoute ${holder.meta.namespace}/${holder.meta.name})`);
    const listeners = claimed.lost.length === 0 ? [] : [describeLost(claimed.lost)];
    acceptedMessage = `Route is accepted, but a TLSRoute that takes precedence (older, or first by namespace/name) serves ${[...names, ...listeners].join(', ')}`;
  } else if (claimed !== undefined && claimed.lost.length > 0) {
    const where = describeLost(claimed.lost);
    const holderKind = claimed.lost[0]?.holder.kind;
    if (holderKind === 'TCPRoute' || holderKind === 'UDPRoute') {
      // TCP/UDPRouteMultipleRoutesAttachment: later routes stay Accepted; only the oldest is served.
      acceptedMessage = `Route is accepted, but a ${holderKind === 'TCPRoute' ? 'TCP' : 'UDP'} listener forwards to its oldest route only: no traffic on ${where}`;
    } else if (claimed.won.length === 0) {
      // GRPCRoute spec ("cross serving"): the rejected route reports Accepted=False. The spec names
      // no route reason for it; HostnameConflict is the spec's reason for the same clash between listeners.
      notAccepted = { reason: Reason.HostnameConflict, message: `an older route of the other kind (HTTPRoute/GRPCRoute) serves an intersecting hostname on ${where}` };
    } else {
      acceptedMessage = `Route is accepted, but not on ${where}: an older route of the other kind (HTTPRoute/GRPCRoute) serves an intersecting hostname there`;
    }
  }
  const conditions = [
    notAccepted === undefined
      ? condition(ConditionType.Accepted, true, Reason.Accepted, acceptedMessage, generation)
      : condition(ConditionType.Accepted, false, notAccepted.reason, notAccepted.message, generation),
    summary.refProblem === undefined
      ? condition(ConditionType.ResolvedRefs, true, Reason.ResolvedRefs, 'References resolved', generation)
      : condition(ConditionType.ResolvedRefs, false, summary.refProblem.reason, summary.refProblem.message, generation),
  ];
  if (summary.partiallyInvalid !== undefined && notAccepted === undefined) {
    conditions.push(condition(ConditionType.PartiallyInvalid, true, summary.partiallyInvalid.reason, summary.partiallyInvalid.message, generation));
  }
  return conditions;
}

/**
 * Routes oldest first, then by namespace/name: the order in which they claim listeners, and the
 * precedence tie-breaker (`routeOrder`). Each kind's list is already sorted by namespace/name, so
 * sorting by name merges a few runs; the final sort then compares two small numbers.
 */
function byAge(routes: readonly RouteTranslation[]): { readonly route: RouteTranslation; readonly index: number }[] {
  const timestamps = [...new Set(routes.map((route) => route.meta.creationTimestamp))].sort(compareTimestamps);
  const timeRank = new Map(timestamps.map((timestamp, rank) => [timestamp, rank]));
  const byName = routes.map((route, index) => ({ route, index, time: timeRank.get(route.meta.creationTimestamp) ?? 0, name: 0 }));
  byName.sort((a, b) => compareByName(a.route.meta, b.route.meta) || a.index - b.index);
  byName.forEach((entry, rank) => (entry.name = rank));
  return byName.sort((a, b) => a.time - b.time || a.name - b.name);
}

function routesOf(listener: ListenerState, routesByListener: Map<ListenerState, ListenerRoutes>): ListenerRoutes {
  let routes = routesByListener.get(listener);
  if (routes === undefined) {
    routes = { http: [], httpKeys: [], streams: [] };
    routesByListener.set(listener, routes);
  }
  return routes;
}

function placeRoute(
  route: RouteTranslation,
  gateway: GatewayState,
  listeners: readonly ListenerAttachment[],
  routesByListener: Map<ListenerState, ListenerRoutes>,
  builders: ReadonlyMap<GatewayState, ConfigBuilder>,
): void {
  const builder = builders.get(gateway);
  if (builder === undefined || gateway.problem !== undefined) return;
  const serving = listeners.filter(({ listener }) => isServing(listener));
  if (serving.length === 0) return;
  if (route.kind === 'TLSRoute' || route.kind === 'TCPRoute' || route.kind === 'UDPRoute') {
    const stream = route as StreamTranslation;
    for (const cluster of stream.clusters) builder.cluster(cluster);
    for (const service of stream.unusableServices) builder.usedServices.add(service);
    for (const { listener, precedenceHostnames: hostnames } of serving) {
      routesOf(listener, routesByListener).streams.push({
        route: route.meta,
        stream: { route: { kind: route.kind, namespace: route.meta.namespace, name: route.meta.name }, hostnames: [...hostnames], backends: [...stream.backends] },
      });
    }
    return;
  }
  // One action per rule and Gateway, shared by every listener the route serves on.
  const grpc = route.kind === 'GRPCRoute';
  const targets = serving.map(({ listener, precedenceHostnames: hostnames }) => ({ routes: routesOf(listener, routesByListener), hostnames }));
  for (const rule of route.rules) {
    if (rule.action === undefined) continue;
    const action = builder.action(rule.action, rule.clusters, rule.unusableServices);
    for (const match of rule.matches) {
      const key = specificity(match);
      for (const { routes, hostnames } of targets) {
        routes.http.push({ hostnames, match, action, grpc });
        routes.httpKeys.push(key);
      }
    }
  }
}

function addListener(builder: ConfigBuilder, listener: ListenerState, routes: ListenerRoutes | undefined): void {
  const http = routes?.http ?? [];
  const keys = routes?.httpKeys ?? [];
  const streams = [...(routes?.streams ?? [])].sort((a, b) => compareByAge(a.route, b.route));
  switch (listener.protocol) {
    case 'HTTP':
    case 'HTTPS':
      builder.httpListener(listener, precedenceOrder(keys).map((position) => http[position] as HttpRule));
      return;
    case 'TLS':
      builder.tlsListener(listener, streams.map((entry) => entry.stream));
      return;
    case 'TCP':
    case 'UDP':
      // Only the oldest route claims a TCP or UDP listener (listener-claims.ts): at most one is placed.
      builder.singleRouteListener(listener, listener.protocol, streams[0]?.stream);
      return;
    case undefined:
      return;
  }
}
