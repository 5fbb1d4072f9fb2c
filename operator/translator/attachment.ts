/**
 * Route attachment: for each parentRef, which listeners of the Gateway (or ListenerSet) take
 * the route, or why none does (NoMatchingParent, NotAllowedByListeners,
 * NoMatchingListenerHostname). Attachment ignores listener health, as the spec requires for
 * `attachedRoutes`.
 */
import type { ParentReference } from '../../api-types/gateway-api/index.ts';
import { GATEWAY_API_GROUP } from '../../api-types/gateway-api/meta.ts';
import { Reason, type Problem } from './conditions.ts';
import type { GatewayState, ListenerSetState } from './gateways.ts';
import { precedenceHostnames } from './hostname-precedence.ts';
import { intersectHostnames } from './hostnames.ts';
import type { ListenerState } from './listeners.ts';
import { key } from './meta.ts';
import { int, name } from './read.ts';
import type { ParentRefOut, RouteKind } from './status.ts';

export interface ListenerAttachment {
  readonly listener: ListenerState;
  /** Hostnames the route serves on this listener; empty means any. Shared by the rules it produces: never mutate. */
  readonly hostnames: string[];
  /** The route's own hostnames that reach this listener: where its rules rank (hostname-precedence.ts). Never mutate. */
  readonly precedenceHostnames: string[];
}

export interface ParentAttachment {
  readonly parentRef: ParentRefOut;
  readonly gateway: GatewayState;
  readonly listeners: readonly ListenerAttachment[];
  readonly problem: Problem | undefined;
}

export interface ParentIndex {
  readonly gateways: ReadonlyMap<string, GatewayState>;
  readonly listenerSets: ReadonlyMap<string, ListenerSetState>;
}

export function attachRoute(
  route: { readonly kind: RouteKind; readonly namespace: string; readonly hostnames: readonly string[] | undefined },
  refs: readonly ParentReference[],
  parents: ParentIndex,
): ParentAttachment[] {
  const result: ParentAttachment[] = [];
  const seen = refs.length > 1 ? new Set<string>() : undefined;
  for (const raw of refs) {
    const parentRef = readParentRef(raw, route.namespace);
    if (parentRef === undefined) continue;
    if (seen !== undefined) {
      const refKey = `${parentRef.group}|${parentRef.kind}|${parentRef.namespace}|${parentRef.name}|${parentRef.sectionName ?? ''}|${parentRef.port ?? ''}`;
      if (seen.has(refKey)) continue;
      seen.add(refKey);
    }
    const target = parentOf(parentRef, parents);
    if (target === undefined) continue; // not a parent Weir manages
    const { listeners, problem } = attachToListeners(route, parentRef, target);
    result.push({ parentRef, gateway: target.gateway, listeners, problem });
  }
  return result;
}

function readParentRef(raw: ParentReference, routeNamespace: string): ParentRefOut | undefined {
  const parentName = name(raw.name);
  if (parentName === undefined) return undefined;
  const parentRef: { -readonly [K in keyof ParentRefOut]: ParentRefOut[K] } = {
    group: raw.group ?? GATEWAY_API_GROUP,
    kind: raw.kind ?? 'Gateway',
    namespace: name(raw.namespace) ?? routeNamespace,
    name: parentName,
  };
  const sectionName = name(raw.sectionName);
  if (sectionName !== undefined) parentRef.sectionName = sectionName;
  const port = int(raw.port);
  if (port !== undefined) parentRef.port = port;
  return parentRef;
}

interface ParentTarget {
  readonly gateway: GatewayState;
  readonly listeners: readonly ListenerState[];
  readonly problem: Problem | undefined;
}

function parentOf(parentRef: ParentRefOut, parents: ParentIndex): ParentTarget | undefined {
  if (parentRef.group !== GATEWAY_API_GROUP) return undefined;
  const parentKey = key(parentRef.namespace, parentRef.name);
  if (parentRef.kind === 'Gateway') {
    const gateway = parents.gateways.get(parentKey);
    if (gateway === undefined) return undefined;
    const problem = gateway.problem === undefined ? undefined : { reason: Reason.NoMatchingParent, message: 'the Gateway is not accepted' };
    return { gateway, listeners: gateway.listeners, problem };
  }
  if (parentRef.kind === 'ListenerSet') {
    const listenerSet = parents.listenerSets.get(parentKey);
    if (listenerSet === undefined) return undefined;
    const problem = listenerSet.problem === undefined ? undefined : { reason: Reason.NoMatchingParent, message: 'the ListenerSet is not accepted' };
    return { gateway: listenerSet.gateway, listeners: listenerSet.listeners, problem };
  }
  return undefined;
}

function attachToListeners(
  route: { readonly kind: RouteKind; readonly namespace: string; readonly hostnames: readonly string[] | undefined },
  parentRef: ParentRefOut,
  target: ParentTarget,
): { listeners: ListenerAttachment[]; problem: Problem | undefined } {
  if (target.problem !== undefined) return { listeners: [], problem: target.problem };
  const selected = target.listeners.filter(
    (listener) =>
      (parentRef.sectionName === undefined || listener.name === parentRef.sectionName) && (parentRef.port === undefined || listener.port === parentRef.port),
  );
  if (selected.length === 0) {
    return { listeners: [], problem: { reason: Reason.NoMatchingParent, message: 'no listener matches the parentRef sectionName/port' } };
  }
  const allowed = selected.filter((listener) => listener.supportedKinds.includes(route.kind) && listener.allowsNamespace(route.namespace));
  if (allowed.length === 0) {
    return { listeners: [], problem: { reason: Reason.NotAllowedByListeners, message: `no listener allows ${route.kind} from namespace ${route.namespace}` } };
  }
  const listeners: ListenerAttachment[] = [];
  for (const listener of allowed) {
    const hostnames = route.hostnames === undefined ? [] : intersectHostnames(listener.hostname, route.hostnames);
    if (hostnames !== undefined) listeners.push({ listener, hostnames, precedenceHostnames: precedenceHostnames(listener.hostname, route.hostnames) });
  }
  if (listeners.length === 0) {
    return { listeners: [], problem: { reason: Reason.NoMatchingListenerHostname, message: 'no listener hostname matches the route hostnames' } };
  }
  return { listeners, problem: undefined };
}
