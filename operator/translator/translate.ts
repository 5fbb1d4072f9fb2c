/**
 * translate(snapshot) → per-Gateway DataplaneConfigs and per-object statuses.
 *
 * Pure and deterministic: no I/O, no clock, no randomness; inputs are sorted before use so
 * the same objects in any order give byte-identical output. Never throws on malformed objects.
 */
import type { DataplaneConfig, HttpRule, StreamRoute } from '../../api-types/dataplane-config.ts';
import type { Snapshot } from '../store/snapshot.ts';
import { BackendTlsPolicies } from './backend-tls.ts';
import { Backends } from './backends.ts';
import { KeyMaterial } from './certificates.ts';
import { condition, ConditionType, Reason, type TranslatedCondition } from './conditions.ts';
import { ConfigBuilder } from './config-builder.ts';
import { attachRoute, type ParentAttachment } from './attachment.ts';
import { evaluateGatewayClasses } from './gatewayclass.ts';
import { gatewayStatus, listenerSetStatus } from './gateway-status.ts';
import { buildGateways, type GatewayState, type ListenerSetState } from './gateways.ts';
import { translateGrpcRoute } from './grpc-routes.ts';
import { translateHttpRoute } from './http-routes.ts';
import { isServing, type ListenerState } from './listeners.ts';
import { compareByAge, entries, key, type Meta } from './meta.ts';
import { NamespaceLabels } from './namespaces.ts';
import { ParametersIndex, type DeploymentParameters } from './parameters.ts';
import { sortByPrecedence, type RankedMatch } from './precedence.ts';
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
    readonly deployment: DeploymentParameters;
  };
}

export interface TranslationResult {
  /** One per Gateway of an Accepted Weir GatewayClass, sorted by namespace/name. A Gateway that is not Accepted gets a config without listeners. */
  readonly configs: readonly GatewayOutput[];
  /** Sorted by kind, namespace, name. */
  readonly statuses: readonly ObjectStatus[];
}

interface RankedRule extends RankedMatch {
  readonly rule: HttpRule;
}

interface ListenerRoutes {
  readonly http: RankedRule[];
  readonly streams: { readonly route: Meta; readonly stream: StreamRoute }[];
}

const STATUS_KIND_ORDER = ['GatewayClass', 'Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'BackendTLSPolicy'];

export function translate(snapshot: Snapshot): TranslationResult {
  const controllerName = typeof snapshot.controllerName === 'string' ? snapshot.controllerName : '';
  const keys = new KeyMaterial(entries(snapshot.secrets), entries(snapshot.configMaps));
  const grants = new ReferenceGrants(entries(snapshot.referenceGrants));
  const namespaces = new NamespaceLabels(entries(snapshot.namespaces, true));
  const parameters = new ParametersIndex(entries(snapshot.weirParameters));
  const classes = evaluateGatewayClasses(entries(snapshot.gatewayClasses, true), controllerName, parameters);
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
  ];

  const statuses: ObjectStatus[] = [...classes.statuses];
  const routeOrder = new Map<Meta, number>();
  [...routes].sort((a, b) => compareByAge(a.meta, b.meta)).forEach((route, index) => routeOrder.set(route.meta, index));
  const routesByListener = new Map<ListenerState, ListenerRoutes>();
  const builders = new Map<GatewayState, ConfigBuilder>();
  for (const gateway of gateways.values()) builders.set(gateway, new ConfigBuilder(gateway));

  for (const route of routes) {
    const attachments = attachRoute({ kind: route.kind, namespace: route.meta.namespace, hostnames: route.hostnames }, route.parentRefs, { gateways, listenerSets });
    if (attachments.length === 0) continue;
    const summary = summarizeRules(route);
    const parents: RouteParentStatusOut[] = attachments.map((attachment) => ({
      parentRef: attachment.parentRef,
      controllerName,
      conditions: routeConditions(attachment, summary, route.meta.generation),
    }));
    statuses.push({ kind: route.kind, namespace: route.meta.namespace, name: route.meta.name, generation: route.meta.generation, status: { parents } });
    const routeKey = `${route.kind}/${route.meta.namespace}/${route.meta.name}`;
    for (const attachment of attachments) {
      for (const { listener } of attachment.listeners) listener.attachedRoutes.add(routeKey);
      if (summary.notAccepted !== undefined) continue;
      placeRoute(route, routeOrder.get(route.meta) ?? 0, attachment, routesByListener, builders);
    }
  }

  const configs: GatewayOutput[] = [];
  const gatewaysByService = new Map<string, Set<string>>();
  for (const gateway of gateways.values()) {
    const builder = builders.get(gateway);
    if (builder === undefined) continue;
    if (gateway.problem === undefined) {
      const serving = [...gateway.listeners, ...gateway.listenerSets.flatMap((set) => (set.problem === undefined ? set.listeners : []))].filter(isServing);
      for (const listener of serving) addListener(builder, listener, routesByListener.get(listener));
    }
    const gatewayKey = key(gateway.meta.namespace, gateway.meta.name);
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

  statuses.sort(
    (a, b) =>
      STATUS_KIND_ORDER.indexOf(a.kind) - STATUS_KIND_ORDER.indexOf(b.kind) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name),
  );
  configs.sort((a, b) => compareStrings(a.gateway.namespace, b.gateway.namespace) || compareStrings(a.gateway.name, b.gateway.name));
  return { configs, statuses };
}

function routeConditions(attachment: ParentAttachment, summary: ReturnType<typeof summarizeRules>, generation: number): TranslatedCondition[] {
  const notAccepted = attachment.problem ?? summary.notAccepted;
  const conditions = [
    notAccepted === undefined
      ? condition(ConditionType.Accepted, true, Reason.Accepted, 'Route is accepted', generation)
      : condition(ConditionType.Accepted, false, notAccepted.reason, notAccepted.message, generation),
    summary.refProblem === undefined
      ? condition(ConditionType.ResolvedRefs, true, Reason.ResolvedRefs, 'References resolved', generation)
      : condition(ConditionType.ResolvedRefs, false, summary.refProblem.reason, summary.refProblem.message, generation),
  ];
  if (summary.partiallyInvalid !== undefined) {
    conditions.push(condition(ConditionType.PartiallyInvalid, true, summary.partiallyInvalid.reason, summary.partiallyInvalid.message, generation));
  }
  return conditions;
}

function routesOf(listener: ListenerState, routesByListener: Map<ListenerState, ListenerRoutes>): ListenerRoutes {
  let routes = routesByListener.get(listener);
  if (routes === undefined) {
    routes = { http: [], streams: [] };
    routesByListener.set(listener, routes);
  }
  return routes;
}

function placeRoute(
  route: RouteTranslation,
  order: number,
  attachment: ParentAttachment,
  routesByListener: Map<ListenerState, ListenerRoutes>,
  builders: ReadonlyMap<GatewayState, ConfigBuilder>,
): void {
  const builder = builders.get(attachment.gateway);
  if (builder === undefined || attachment.gateway.problem !== undefined) return;
  for (const { listener, hostnames } of attachment.listeners) {
    if (!isServing(listener)) continue;
    const listenerRoutes = routesOf(listener, routesByListener);
    if (route.kind === 'TLSRoute' || route.kind === 'TCPRoute') {
      const stream = route as StreamTranslation;
      for (const cluster of stream.clusters) builder.cluster(cluster);
      for (const service of stream.unusableServices) builder.usedServices.add(service);
      listenerRoutes.streams.push({
        route: route.meta,
        stream: { route: { kind: route.kind, namespace: route.meta.namespace, name: route.meta.name }, hostnames: [...hostnames], backends: [...stream.backends] },
      });
      continue;
    }
    route.rules.forEach((rule, ruleIndex) => {
      if (rule.action === undefined) return;
      const actionIndex = builder.action(rule.action, rule.clusters, rule.unusableServices);
      rule.matches.forEach((match, matchIndex) => {
        listenerRoutes.http.push({
          match,
          routeOrder: order,
          ruleIndex,
          matchIndex,
          rule: { hostnames, match, action: actionIndex, grpc: route.kind === 'GRPCRoute' },
        });
      });
    });
  }
}

function addListener(builder: ConfigBuilder, listener: ListenerState, routes: ListenerRoutes | undefined): void {
  const http = routes?.http ?? [];
  const streams = [...(routes?.streams ?? [])].sort((a, b) => compareByAge(a.route, b.route));
  switch (listener.protocol) {
    case 'HTTP':
    case 'HTTPS':
      builder.httpListener(listener, sortByPrecedence(http).map((ranked) => ranked.rule));
      return;
    case 'TLS':
      builder.tlsListener(listener, streams.map((entry) => entry.stream));
      return;
    case 'TCP':
      // A TCP listener serves one route: the oldest attached one.
      builder.tcpListener(listener, streams[0]?.stream);
      return;
    case undefined:
      return;
  }
}
