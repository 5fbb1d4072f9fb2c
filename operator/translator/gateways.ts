/**
 * Gateways and ListenerSets: acceptance, parameters, addresses, infrastructure, frontend and
 * backend TLS settings, and the merged list of listeners routes can attach to.
 */
import type { Certificate } from '../../api-types/dataplane-config.ts';
import type { FrontendTLSConfig, FrontendTLSValidation, Gateway, GatewaySpec, GatewaySpecAddress, Listener, ListenerSet, ObjectReference } from '../../api-types/gateway-api/index.ts';
import { GATEWAY_API_GROUP } from '../../api-types/gateway-api/meta.ts';
import { requestedRoutability } from './address-routability.ts';
import { Reason, type Problem } from './conditions.ts';
import type { ClassState } from './gatewayclass.ts';
import { markConflicts, readListener, type ListenerContext, type ListenerState } from './listeners.ts';
import { compareByAge, key, type Entry, type Meta } from './meta.ts';
import { namespaceFilter, type NamespaceFilter } from './namespaces.ts';
import { isParametersProblem, mergeParameters, type ParametersIndex, type ResolvedParameters } from './parameters.ts';
import { describe, int, isPort, name, stringMap } from './read.ts';

export interface ListenerSetState {
  readonly meta: Meta;
  readonly gateway: GatewayState;
  /** NotAllowed / ParentNotAccepted: none of its listeners are used. */
  readonly problem: Problem | undefined;
  readonly listeners: ListenerState[];
  /** Listener entries that were ignored (no name, or a repeated name), for status; undefined when none. */
  readonly ignoredListeners: string | undefined;
}

export interface GatewayState {
  readonly meta: Meta;
  /** Accepted=False with this reason; the Gateway then serves nothing. */
  readonly problem: Problem | undefined;
  readonly listeners: ListenerState[];
  /** Listener entries that were ignored (no name, or a repeated name), for status; undefined when none. */
  readonly ignoredListeners: string | undefined;
  readonly listenerSets: ListenerSetState[];
  readonly parameters: ResolvedParameters;
  readonly infrastructure: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    /** `Cluster` when the addresses ask for a cluster-internal address (address-routability.ts). */
    readonly addressRoutability?: 'Cluster';
  };
  /** Gateway.spec.tls.backend.clientCertificateRef, resolved. */
  readonly backendClientCertificate: Certificate | undefined;
  readonly backendProblem: Problem | undefined;
  /** Gateway.spec.tls.frontend as written; it applies to the listeners of attached ListenerSets too. */
  readonly frontend: FrontendTLSConfig | undefined;
  /** Some listener (the Gateway's or a ListenerSet's) uses AllowInsecureFallback. */
  insecureFrontendFallback: boolean;
  /** spec.allowedListeners: which namespaces' ListenerSets may attach (default none). */
  readonly allowsListenerSetsFrom: NamespaceFilter;
}

export interface GatewayInputs extends ListenerContext {
  readonly classes: ReadonlyMap<string, ClassState>;
  readonly parameters: ParametersIndex;
}

export function buildGateways(
  gateways: readonly Entry<Gateway>[],
  listenerSets: readonly Entry<ListenerSet>[],
  inputs: GatewayInputs,
): Map<string, GatewayState> {
  const states = new Map<string, GatewayState>();
  for (const { meta, object } of gateways) {
    const classState = inputs.classes.get(object.spec.gatewayClassName);
    if (classState === undefined) continue;
    states.set(key(meta.namespace, meta.name), buildGateway(meta, object.spec, classState, inputs));
  }
  attachListenerSets(states, listenerSets, inputs);
  for (const gateway of states.values()) {
    if (gateway.problem !== undefined) continue;
    markConflicts(
      gateway.listeners,
      gateway.listenerSets.flatMap((set) => (set.problem === undefined ? set.listeners : [])),
    );
  }
  return states;
}

function buildGateway(meta: Meta, spec: GatewaySpec, classState: ClassState, inputs: GatewayInputs): GatewayState {
  const gatewayLayer = inputs.parameters.layer(spec.infrastructure?.parametersRef, meta.namespace);
  let problem: Problem | undefined;
  if (classState.problem !== undefined) problem = { reason: Reason.InvalidParameters, message: `GatewayClass ${classState.meta.name}: ${classState.problem.message}` };
  else if (gatewayLayer !== undefined && isParametersProblem(gatewayLayer)) problem = gatewayLayer;
  problem ??= unsupportedAddress(spec.addresses ?? []);
  const routability = requestedRoutability(spec.addresses ?? []);
  if ('reason' in routability) problem ??= routability;
  const parameters = mergeParameters([
    classState.parameters,
    gatewayLayer !== undefined && !isParametersProblem(gatewayLayer) ? gatewayLayer : undefined,
  ]);
  const owner = { kind: 'Gateway' as const, meta };
  const { listeners, ignored: ignoredListeners } = uniqueListeners(spec.listeners, (raw) => readListener(raw, owner, meta, inputs));
  const backend = resolveBackendClientCertificate(spec.tls?.backend?.clientCertificateRef, meta, inputs);
  const frontend = spec.tls?.frontend;
  const insecureFrontendFallback = applyFrontendValidation(frontend, listeners, meta, inputs);
  const { infrastructure } = spec;
  return {
    meta,
    problem,
    listeners,
    ignoredListeners,
    listenerSets: [],
    parameters,
    infrastructure: {
      labels: stringMap(infrastructure?.labels),
      annotations: stringMap(infrastructure?.annotations),
      ...('routability' in routability && routability.routability !== undefined ? { addressRoutability: routability.routability } : {}),
    },
    backendClientCertificate: backend.certificate,
    backendProblem: backend.problem,
    frontend,
    insecureFrontendFallback,
    allowsListenerSetsFrom: namespaceFilter(spec.allowedListeners?.namespaces, meta.namespace, 'None', inputs.namespaces).filter,
  };
}

/**
 * Listener status is keyed by name, so a listener without a name, or with the name of an earlier
 * listener, cannot be served or reported on its own: it is dropped (the first of a name is kept),
 * and `ignored` says so for the owner's Accepted condition. The CRDs forbid both; this is for input
 * that bypassed validation.
 */
function uniqueListeners(raw: readonly Listener[], read: (raw: Listener) => ListenerState | undefined): { listeners: ListenerState[]; ignored: string | undefined } {
  const counts = new Map<string, number>();
  const listeners: ListenerState[] = [];
  let nameless = 0;
  for (const entry of raw) {
    const listener = read(entry);
    if (listener === undefined) {
      nameless++;
      continue;
    }
    const count = counts.get(listener.name) ?? 0;
    counts.set(listener.name, count + 1);
    if (count === 0) listeners.push(listener);
  }
  const problems: string[] = [];
  const repeated = [...counts].filter(([, count]) => count > 1).map(([listenerName, count]) => `${describe(listenerName)} (${count}×)`);
  if (repeated.length > 0) problems.push(`listener names must be unique; only the first listener of each repeated name is used: ${repeated.join(', ')}`);
  if (nameless > 0) problems.push(`${nameless} listener${nameless === 1 ? '' : 's'} without a name ignored`);
  return { listeners, ignored: problems.length === 0 ? undefined : problems.join('; ') };
}

function unsupportedAddress(addresses: readonly GatewaySpecAddress[]): Problem | undefined {
  for (const address of addresses) {
    const value = address.value ?? '';
    const type = address.type ?? 'IPAddress';
    if (type !== 'IPAddress' && type !== 'Hostname') return { reason: Reason.UnsupportedAddress, message: `address type ${type} is not supported` };
    if (value !== '') return { reason: Reason.UnsupportedAddress, message: 'Weir does not assign requested static addresses; leave value empty' };
  }
  return undefined;
}

function resolveBackendClientCertificate(ref: ObjectReference | undefined, meta: Meta, inputs: GatewayInputs): { certificate?: Certificate; problem?: Problem } {
  if (ref === undefined) return {};
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const secretName = name(ref.name);
  const namespace = name(ref.namespace) ?? meta.namespace;
  if (group !== '' || kind !== 'Secret' || secretName === undefined) {
    return { problem: { reason: Reason.InvalidClientCertificateRef, message: `clientCertificateRef must name a core Secret, got ${group}/${kind}` } };
  }
  const permitted = inputs.grants.permits(
    { group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: meta.namespace },
    { group: '', kind: 'Secret', namespace, name: secretName },
  );
  if (!permitted) return { problem: { reason: Reason.RefNotPermitted, message: `Secret ${namespace}/${secretName} not permitted by any ReferenceGrant` } };
  const loaded = inputs.keys.certificate(namespace, secretName);
  return loaded.ok ? { certificate: loaded.value } : { problem: { reason: Reason.InvalidClientCertificateRef, message: loaded.problem.message } };
}

/**
 * Gateway.spec.tls.frontend: per-port validation (else the default) for every HTTPS listener on
 * that port. Returns whether AllowInsecureFallback is in use.
 */
function applyFrontendValidation(frontend: FrontendTLSConfig | undefined, listeners: readonly ListenerState[], meta: Meta, inputs: GatewayInputs): boolean {
  if (frontend === undefined) return false;
  const byPort = new Map<number, FrontendTLSValidation | undefined>();
  for (const perPort of frontend.perPort ?? []) {
    const port = int(perPort.port);
    if (isPort(port) && !byPort.has(port)) byPort.set(port, perPort.tls?.validation);
  }
  const defaultValidation = frontend.default?.validation;
  let insecure = false;
  for (const listener of listeners) {
    if (listener.protocol !== 'HTTPS' || listener.acceptProblem !== undefined) continue;
    const validation = byPort.has(listener.port) ? byPort.get(listener.port) : defaultValidation;
    if (validation === undefined) continue;
    const mode = validation.mode ?? 'AllowValidOnly';
    if (mode !== 'AllowValidOnly' && mode !== 'AllowInsecureFallback') {
      listener.acceptProblem = { reason: Reason.UnsupportedValue, message: `unknown frontend validation mode ${mode}` };
      continue;
    }
    const bundles: string[] = [];
    let problem: Problem | undefined;
    for (const ref of validation.caCertificateRefs ?? []) {
      const group = ref.group ?? '';
      const kind = ref.kind ?? '';
      const refName = name(ref.name);
      const namespace = name(ref.namespace) ?? meta.namespace;
      if (group !== '' || (kind !== 'ConfigMap' && kind !== 'Secret') || refName === undefined) {
        problem ??= { reason: Reason.InvalidCACertificateKind, message: `caCertificateRef ${group}/${kind} is not a ConfigMap or Secret` };
        continue;
      }
      const permitted = inputs.grants.permits({ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: meta.namespace }, { group: '', kind, namespace, name: refName });
      if (!permitted) {
        problem ??= { reason: Reason.RefNotPermitted, message: `${kind} ${namespace}/${refName} not permitted by any ReferenceGrant` };
        continue;
      }
      const loaded = inputs.keys.caBundle(kind, namespace, refName);
      if (loaded.ok) bundles.push(loaded.value);
      else problem ??= loaded.problem;
    }
    if (problem !== undefined) listener.refProblem = problem;
    if (bundles.length === 0) {
      listener.acceptProblem = { reason: Reason.NoValidCACertificate, message: problem?.message ?? 'no CA certificate for client validation' };
      continue;
    }
    listener.frontendValidation = { caPem: bundles.join(''), mode };
    if (mode === 'AllowInsecureFallback') insecure = true;
  }
  return insecure;
}

function attachListenerSets(gateways: ReadonlyMap<string, GatewayState>, listenerSets: readonly Entry<ListenerSet>[], inputs: GatewayInputs): void {
  const ordered = [...listenerSets].sort((a, b) => compareByAge(a.meta, b.meta));
  for (const { meta, object } of ordered) {
    const { spec } = object;
    const { parentRef } = spec;
    const group = parentRef.group ?? GATEWAY_API_GROUP;
    const kind = parentRef.kind ?? 'Gateway';
    const parentName = name(parentRef.name);
    const parentNamespace = name(parentRef.namespace) ?? meta.namespace;
    if (group !== GATEWAY_API_GROUP || kind !== 'Gateway' || parentName === undefined) continue;
    const gateway = gateways.get(key(parentNamespace, parentName));
    if (gateway === undefined) continue;
    let problem: Problem | undefined;
    if (gateway.problem !== undefined) problem = { reason: Reason.ParentNotAccepted, message: `Gateway ${parentNamespace}/${parentName} is not accepted` };
    else if (!gateway.allowsListenerSetsFrom(meta.namespace)) problem = { reason: Reason.NotAllowed, message: `Gateway ${parentNamespace}/${parentName} does not allow ListenerSets from namespace ${meta.namespace}` };
    const owner = { kind: 'ListenerSet' as const, meta };
    const { listeners, ignored } = uniqueListeners(spec.listeners, (raw) => readListener(raw, owner, gateway.meta, inputs));
    // Frontend validation is per port of the Gateway, whoever declares the listener: a
    // ListenerSet listener on a validated port is validated the same way.
    if (applyFrontendValidation(gateway.frontend, listeners, gateway.meta, inputs)) gateway.insecureFrontendFallback = true;
    gateway.listenerSets.push({ meta, gateway, problem, listeners, ignoredListeners: ignored });
  }
}
