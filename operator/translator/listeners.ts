/**
 * Listeners of a Gateway and of its ListenerSets: validation (protocol, hostname, TLS,
 * certificateRefs, allowedRoutes kinds), conflicts, and their status conditions.
 */
import type { Certificate } from '../../api-types/dataplane-config.ts';
import type { Listener, ObjectReference, RouteGroupKind } from '../../api-types/gateway-api/index.ts';
import { GATEWAY_API_GROUP } from '../../api-types/gateway-api/meta.ts';
import type { KeyMaterial } from './certificates.ts';
import { condition, ConditionType, Reason, type Problem, type TranslatedCondition } from './conditions.ts';
import { normalizeHostname } from './hostnames.ts';
import type { Meta } from './meta.ts';
import { namespaceFilter, type NamespaceFilter, type NamespaceLabels } from './namespaces.ts';
import { int, isPort, name } from './read.ts';
import type { ReferenceGrants } from './references.ts';
import type { GroupKind, ListenerStatusOut, RouteKind } from './status.ts';

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

export interface ListenerOwner {
  readonly kind: 'Gateway' | 'ListenerSet';
  readonly meta: Meta;
}

export interface ListenerState {
  readonly owner: ListenerOwner;
  /** Contract id: `<gw ns>/<gw name>/<listener>` or `ListenerSet/<ns>/<name>/<listener>`. */
  readonly id: string;
  readonly name: string;
  readonly port: number;
  /** Undefined when the protocol is not one Weir serves (see `acceptProblem`). */
  readonly protocol: ListenerProtocol | undefined;
  readonly hostname: string | undefined;
  readonly tlsMode: 'Terminate' | 'Passthrough' | undefined;
  readonly certificates: readonly Certificate[];
  readonly supportedKinds: readonly RouteKind[];
  readonly allowsNamespace: NamespaceFilter;
  /** Accepted=False with this reason. */
  acceptProblem: Problem | undefined;
  /** ResolvedRefs=False with this reason. */
  refProblem: Problem | undefined;
  conflict: Problem | undefined;
  frontendValidation: { readonly caPem: string; readonly mode: 'AllowValidOnly' | 'AllowInsecureFallback' } | undefined;
  /** The routes attached (one object per route, whatever its parentRefs), for `attachedRoutes`. */
  readonly attachedRoutes: Set<object>;
}

const KINDS_BY_PROTOCOL: Readonly<Record<ListenerProtocol, readonly RouteKind[]>> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

function asProtocol(value: string | undefined): ListenerProtocol | undefined {
  return value === 'HTTP' || value === 'HTTPS' || value === 'TLS' || value === 'TCP' || value === 'UDP' ? value : undefined;
}

export interface ListenerContext {
  readonly keys: KeyMaterial;
  readonly grants: ReferenceGrants;
  readonly namespaces: NamespaceLabels;
}

/** Reads one listener entry. `undefined` when it has no name (it cannot even get a status). */
export function readListener(raw: Listener, owner: ListenerOwner, gateway: Meta, context: ListenerContext): ListenerState | undefined {
  const listenerName = name(raw.name);
  if (listenerName === undefined) return undefined;
  const port = int(raw.port);
  const rawProtocol = raw.protocol;
  const protocol = asProtocol(rawProtocol);
  const hostnameText = raw.hostname;
  const hostname = hostnameText === undefined ? undefined : normalizeHostname(hostnameText);
  const { tls } = raw;
  const rawMode = tls?.mode ?? 'Terminate';
  const tlsMode = protocol === 'HTTPS' || protocol === 'TLS' ? (rawMode === 'Terminate' || rawMode === 'Passthrough' ? rawMode : undefined) : undefined;

  let acceptProblem: Problem | undefined;
  if (protocol === undefined) {
    acceptProblem = { reason: Reason.UnsupportedProtocol, message: `protocol ${rawProtocol} is not supported` };
  } else if (!isPort(port)) {
    acceptProblem = { reason: Reason.UnsupportedValue, message: 'port must be an integer from 1 to 65535' };
  } else if (hostnameText !== undefined && hostname === undefined && !hasNoHostname(protocol)) {
    acceptProblem = { reason: Reason.UnsupportedValue, message: `invalid hostname ${hostnameText}` };
  } else if ((protocol === 'HTTPS' || protocol === 'TLS') && tlsMode === undefined) {
    acceptProblem = { reason: Reason.UnsupportedValue, message: `unknown TLS mode ${rawMode}` };
  } else if (protocol === 'HTTPS' && tlsMode === 'Passthrough') {
    acceptProblem = { reason: Reason.UnsupportedValue, message: 'HTTPS listeners terminate TLS; use protocol TLS for Passthrough' };
  } else if ((raw.filters?.requests?.length ?? 0) > 0) {
    // Serving the listener without its pre-routing filters (ExternalAuth, ExtensionRef) would skip them.
    acceptProblem = { reason: Reason.UnsupportedValue, message: 'listener filters (ExternalAuth, ExtensionRef) are not supported; the listener is not served' };
  }

  const kinds = routeKinds(raw.allowedRoutes?.kinds, protocol);
  const namespaces = namespaceFilter(raw.allowedRoutes?.namespaces, owner.meta.namespace, 'Same', context.namespaces);
  acceptProblem ??= namespaces.problem;
  let refProblem: Problem | undefined = kinds.problem;
  let certificates: Certificate[] = [];
  if (acceptProblem === undefined && tlsMode === 'Terminate') {
    const resolved = resolveCertificateRefs(tls?.certificateRefs ?? [], owner, context);
    certificates = resolved.certificates;
    refProblem = resolved.problem ?? refProblem;
  }
  const ownerPrefix = owner.kind === 'Gateway' ? '' : `ListenerSet/${owner.meta.namespace}/${owner.meta.name}/`;
  return {
    owner,
    id: ownerPrefix === '' ? `${gateway.namespace}/${gateway.name}/${listenerName}` : `${ownerPrefix}${listenerName}`,
    name: listenerName,
    port: isPort(port) ? port : 0,
    protocol,
    hostname: hasNoHostname(protocol) ? undefined : hostname,
    tlsMode,
    certificates,
    supportedKinds: acceptProblem?.reason === Reason.UnsupportedProtocol ? [] : kinds.kinds,
    allowsNamespace: namespaces.filter,
    acceptProblem,
    refProblem,
    conflict: undefined,
    frontendValidation: undefined,
    attachedRoutes: new Set(),
  };
}

/** TCP and UDP listeners ignore `hostname` (their routes carry none). */
function hasNoHostname(protocol: ListenerProtocol | undefined): boolean {
  return protocol === 'TCP' || protocol === 'UDP';
}

function routeKinds(rawKinds: readonly RouteGroupKind[] | undefined, protocol: ListenerProtocol | undefined): { kinds: RouteKind[]; problem?: Problem } {
  const allowed = protocol === undefined ? [] : KINDS_BY_PROTOCOL[protocol];
  if (rawKinds === undefined) return { kinds: [...allowed] };
  const kinds: RouteKind[] = [];
  const invalid: string[] = [];
  for (const entry of rawKinds) {
    const group = entry.group ?? GATEWAY_API_GROUP;
    const { kind } = entry;
    const match = group === GATEWAY_API_GROUP ? allowed.find((candidate) => candidate === kind) : undefined;
    if (match === undefined) invalid.push(`${group}/${kind}`);
    else if (!kinds.includes(match)) kinds.push(match);
  }
  return invalid.length === 0
    ? { kinds }
    : { kinds, problem: { reason: Reason.InvalidRouteKinds, message: `route kinds not supported on this listener: ${invalid.join(', ')}` } };
}

function resolveCertificateRefs(refs: readonly ObjectReference[], owner: ListenerOwner, context: ListenerContext): { certificates: Certificate[]; problem?: Problem } {
  if (refs.length === 0) return { certificates: [], problem: { reason: Reason.InvalidCertificateRef, message: 'TLS Terminate needs at least one certificateRef' } };
  const certificates: Certificate[] = [];
  let problem: Problem | undefined;
  for (const ref of refs) {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const secretName = name(ref.name);
    const namespace = name(ref.namespace) ?? owner.meta.namespace;
    if (group !== '' || kind !== 'Secret' || secretName === undefined) {
      problem ??= { reason: Reason.InvalidCertificateRef, message: `unsupported certificateRef ${group}/${kind} ${String(secretName)}` };
      continue;
    }
    const permitted = context.grants.permits(
      { group: GATEWAY_API_GROUP, kind: owner.kind, namespace: owner.meta.namespace },
      { group: '', kind: 'Secret', namespace, name: secretName },
    );
    if (!permitted) {
      problem ??= { reason: Reason.RefNotPermitted, message: `certificateRef to Secret ${namespace}/${secretName} not permitted by any ReferenceGrant` };
      continue;
    }
    const loaded = context.keys.certificate(namespace, secretName);
    if (loaded.ok) certificates.push(loaded.value);
    else problem ??= loaded.problem;
  }
  return problem === undefined ? { certificates } : { certificates, problem };
}

type PortFamily = 'http' | 'tls' | 'tcp' | 'udp';

function familyOf(protocol: ListenerProtocol): PortFamily {
  return protocol === 'HTTP' ? 'http' : protocol === 'TCP' ? 'tcp' : protocol === 'UDP' ? 'udp' : 'tls';
}

function conflictBetween(a: ListenerState, b: ListenerState): Problem | undefined {
  if (a.port !== b.port || a.protocol === undefined || b.protocol === undefined) return undefined;
  const familyA = familyOf(a.protocol);
  const familyB = familyOf(b.protocol);
  // UDP ports are a separate space from TCP ones (HTTP, HTTPS, TLS and TCP listeners are all TCP).
  if ((familyA === 'udp') !== (familyB === 'udp')) return undefined;
  if (familyA !== familyB || familyA === 'tcp' || familyA === 'udp') {
    return { reason: Reason.ProtocolConflict, message: `port ${a.port} is also used by listener ${b.name} (${b.protocol})` };
  }
  if ((a.hostname ?? '') === (b.hostname ?? '')) {
    return { reason: Reason.HostnameConflict, message: `hostname ${a.hostname ?? '(any)'} on port ${a.port} is also used by listener ${b.name}` };
  }
  return undefined;
}

/**
 * Marks conflicts. Among the Gateway's own listeners every listener of a conflicting pair is
 * Conflicted. A ListenerSet listener is Conflicted when it clashes with a listener that comes
 * before it (the Gateway's, then older ListenerSets'), so earlier listeners keep working.
 */
export function markConflicts(gatewayListeners: readonly ListenerState[], listenerSetListeners: readonly ListenerState[]): void {
  const candidates = gatewayListeners.filter((listener) => listener.acceptProblem === undefined);
  for (const listener of candidates) {
    for (const other of candidates) {
      if (other === listener) continue;
      listener.conflict ??= conflictBetween(listener, other);
    }
  }
  const kept = candidates.filter((listener) => listener.conflict === undefined);
  for (const listener of listenerSetListeners) {
    if (listener.acceptProblem !== undefined) continue;
    for (const other of kept) {
      listener.conflict ??= conflictBetween(listener, other);
    }
    if (listener.conflict === undefined) kept.push(listener);
  }
}

/**
 * Whether the listener goes into the dataplane config: Accepted, not Conflicted, and its
 * references resolved (a listener whose only problem is an unsupported route kind still serves
 * the kinds it supports).
 */
export function isServing(listener: ListenerState): boolean {
  return (
    listener.acceptProblem === undefined &&
    listener.conflict === undefined &&
    (listener.refProblem === undefined || listener.refProblem.reason === Reason.InvalidRouteKinds)
  );
}

/** Fully valid: Accepted, not Conflicted, refs resolved. */
export function isFullyValid(listener: ListenerState): boolean {
  return listener.acceptProblem === undefined && listener.conflict === undefined && listener.refProblem === undefined;
}

export function listenerConditions(listener: ListenerState, generation: number): TranslatedCondition[] {
  const notAccepted = listener.acceptProblem ?? listener.conflict;
  const conditions: TranslatedCondition[] = [
    notAccepted === undefined
      ? condition(ConditionType.Accepted, true, Reason.Accepted, 'Listener is accepted', generation)
      : condition(ConditionType.Accepted, false, notAccepted.reason, notAccepted.message, generation),
    listener.conflict === undefined
      ? condition(ConditionType.Conflicted, false, Reason.NoConflicts, 'No conflicts', generation)
      : condition(ConditionType.Conflicted, true, listener.conflict.reason, listener.conflict.message, generation),
    listener.refProblem === undefined
      ? condition(ConditionType.ResolvedRefs, true, Reason.ResolvedRefs, 'References resolved', generation)
      : condition(ConditionType.ResolvedRefs, false, listener.refProblem.reason, listener.refProblem.message, generation),
  ];
  if (isServing(listener)) {
    conditions.push(condition(ConditionType.Programmed, true, Reason.Programmed, 'Listener is in the dataplane config', generation));
  } else {
    const cause = notAccepted ?? listener.refProblem;
    const reason = listener.conflict?.reason ?? Reason.Invalid;
    conditions.push(condition(ConditionType.Programmed, false, reason, cause?.message ?? 'Listener is not valid', generation));
  }
  return conditions;
}

export function listenerStatus(listener: ListenerState, generation: number): ListenerStatusOut {
  const supportedKinds: GroupKind[] = listener.supportedKinds.map((kind) => ({ group: GATEWAY_API_GROUP, kind }));
  return {
    name: listener.name,
    supportedKinds,
    attachedRoutes: listener.attachedRoutes.size,
    conditions: listenerConditions(listener, generation),
  };
}
