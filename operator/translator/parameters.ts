/**
 * WeirParameters: resolution of GatewayClass and Gateway parametersRefs into the settings the
 * dataplane config (XFCC, trusted hops) and the infra provisioner (image, replicas, ...) use.
 */
import { getCiphers } from 'node:tls';
import { DEFAULT_PATH_POLICY, DEFAULT_TLS_POLICY, type PathPolicy, type TlsPolicy, type TracingPolicy, type Xfcc } from '../../api-types/dataplane-config.ts';
import type { ParametersReference, WeirParameters } from '../../api-types/gateway-api/index.ts';
import type { Limits } from '../../api-types/limits.ts';
import { WEIR_PARAMETERS_GROUP, WEIR_PARAMETERS_KIND } from '../../api-types/gateway-api/weir-parameters.ts';
import type { Problem } from './conditions.ts';
import { Reason } from './conditions.ts';
import { parseDuration } from './durations.ts';
import { key, type Entry } from './meta.ts';
import { asRecord, bool, describe, field, int, name, str, stringMap } from './read.ts';

/** Deployment settings for the infra provisioner; absent fields mean "operator default". */
export interface DeploymentParameters {
  readonly image?: string;
  readonly replicas?: number;
  readonly resources?: {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, string>>;
  };
  readonly serviceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
}

/** Request hardening for the dataplane config; a policy is undefined while every field keeps its default. */
export interface HardeningParameters {
  readonly pathPolicy?: PathPolicy;
  readonly tlsPolicy?: TlsPolicy;
  /** Request tracing (not hardening, but carried the same way: only when some WeirParameters set it). */
  readonly tracing?: TracingPolicy;
}

export interface ResolvedParameters {
  readonly xfcc: Xfcc;
  readonly trustedProxyHops: number;
  /** Only the limits some WeirParameters set; the dataplane defaults the rest. */
  readonly limits: Limits;
  readonly deployment: DeploymentParameters;
  readonly hardening: HardeningParameters;
}

export const DEFAULT_XFCC: Xfcc = { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true };

export const DEFAULT_PARAMETERS: ResolvedParameters = { xfcc: DEFAULT_XFCC, trustedProxyHops: 0, limits: {}, deployment: {}, hardening: {} };

const XFCC_MODES = ['Sanitize', 'ForwardOnly', 'AppendForward', 'SanitizeSet', 'AlwaysForwardOnly'] as const;
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

/** A partial parameters object: only the fields the resource sets. */
type ParametersLayer = {
  xfcc?: Partial<Xfcc>;
  trustedProxyHops?: number;
  limits?: Limits;
  deployment: DeploymentParameters;
  pathPolicy?: Partial<PathPolicy>;
  tlsPolicy?: Partial<TlsPolicy>;
  tracing?: Partial<TracingPolicy>;
};

/** `spec.limits` fields: durations (GEP-2257 strings) and counts, with the config field each sets. */
const LIMIT_DURATIONS = [
  ['headersTimeout', 'headersTimeoutMs'],
  ['requestReceiveTimeout', 'requestReceiveTimeoutMs'],
  ['idleTimeout', 'idleTimeoutMs'],
  ['tunnelIdleTimeout', 'tunnelIdleTimeoutMs'],
] as const;
const LIMIT_COUNTS = [
  ['maxConnections', 'maxConnections', 1, 1_000_000],
  ['http2MaxConcurrentStreams', 'http2MaxConcurrentStreams', 1, 10_000],
  ['backendMaxConnections', 'backendMaxConnections', 1, 1_000_000],
  ['backendMaxPendingRequests', 'backendMaxPendingRequests', 0, 1_000_000],
  ['retryBodyBufferBytes', 'retryBodyBufferBytes', 0, 16_777_216],
] as const;

function parseLimits(raw: unknown): Limits | Problem {
  if (asRecord(raw) === undefined) return invalid('limits must be an object');
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  for (const [source, target] of LIMIT_DURATIONS) {
    const value = field(raw, source);
    if (value === undefined) continue;
    const ms = parseDuration(value);
    if (ms === undefined || ms === 0) return invalid(`limits.${source} must be a non-zero duration such as 10s, got ${describe(value)}`);
    limits[target] = ms;
  }
  for (const [source, target, minimum, maximum] of LIMIT_COUNTS) {
    const value = field(raw, source);
    if (value === undefined) continue;
    const count = int(value);
    if (count === undefined || count < minimum || count > maximum) return invalid(`limits.${source} must be an integer from ${minimum} to ${maximum}`);
    limits[target] = count;
  }
  return limits;
}

/** `spec` is admitted unchecked (see WeirParameters in api-types), so it is read defensively here. */
function parseLayer(spec: unknown): ParametersLayer | Problem {
  if (spec !== undefined && asRecord(spec) === undefined) return invalid('spec must be an object');
  const layer: ParametersLayer = { deployment: {} };
  const xfcc = field(spec, 'xfcc');
  if (xfcc !== undefined) {
    const mode = field(xfcc, 'mode');
    const partial: Partial<Xfcc> = {};
    if (mode !== undefined) {
      const known = oneOf(mode, XFCC_MODES);
      if (known === undefined) return invalid(`unknown xfcc.mode ${describe(mode)}`);
      partial.mode = known;
    }
    const details = field(xfcc, 'details');
    for (const detail of ['subject', 'cert', 'chain', 'uri', 'dns'] as const) {
      const raw = field(details, detail);
      if (raw === undefined) continue;
      const flag = bool(raw);
      if (flag === undefined) return invalid(`xfcc.details.${detail} must be a boolean`);
      partial[detail] = flag;
    }
    layer.xfcc = partial;
  }
  const hops = field(spec, 'trustedProxyHops');
  if (hops !== undefined) {
    const value = int(hops);
    if (value === undefined || value < 0 || value > 16) return invalid('trustedProxyHops must be an integer from 0 to 16');
    layer.trustedProxyHops = value;
  }
  const limits = field(spec, 'limits');
  if (limits !== undefined) {
    const parsed = parseLimits(limits);
    if (isProblem(parsed)) return parsed;
    layer.limits = parsed;
  }
  const deployment: { -readonly [K in keyof DeploymentParameters]: DeploymentParameters[K] } = {};
  const image = field(spec, 'image');
  if (image !== undefined) {
    const value = name(image);
    if (value === undefined) return invalid('image must be a non-empty string');
    deployment.image = value;
  }
  const replicas = field(spec, 'replicas');
  if (replicas !== undefined) {
    const value = int(replicas);
    if (value === undefined || value < 0 || value > 1000) return invalid('replicas must be an integer from 0 to 1000');
    deployment.replicas = value;
  }
  const resources = field(spec, 'resources');
  if (resources !== undefined) {
    deployment.resources = { requests: stringMap(field(resources, 'requests')), limits: stringMap(field(resources, 'limits')) };
  }
  const serviceType = field(spec, 'serviceType');
  if (serviceType !== undefined) {
    const value = oneOf(serviceType, SERVICE_TYPES);
    if (value === undefined) return invalid(`unknown serviceType ${describe(serviceType)}`);
    deployment.serviceType = value;
  }
  layer.deployment = deployment;
  const hardening = parseHardening(spec, layer) ?? parseTracing(spec, layer);
  return hardening ?? layer;
}

const INCOMING_CONTEXT = ['Continue', 'Ignore'] as const;

/** spec.tracing into `layer`; a Problem when invalid. */
function parseTracing(spec: unknown, layer: ParametersLayer): Problem | undefined {
  const tracing = field(spec, 'tracing');
  if (tracing === undefined) return undefined;
  if (asRecord(tracing) === undefined) return invalid('tracing must be an object');
  const policy: { -readonly [K in keyof TracingPolicy]?: TracingPolicy[K] } = {};
  const percent = field(tracing, 'samplingPercent');
  if (percent !== undefined) {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) return invalid(`tracing.samplingPercent must be a number from 0 to 100, got ${describe(percent)}`);
    policy.samplingPercent = percent;
  }
  const incoming = field(tracing, 'incomingContext');
  if (incoming !== undefined) {
    const known = oneOf(incoming, INCOMING_CONTEXT);
    if (known === undefined) return invalid(`unknown tracing.incomingContext ${describe(incoming)}`);
    policy.incomingContext = known;
  }
  layer.tracing = policy;
  return undefined;
}

const ESCAPED_SLASH_ACTIONS = ['Reject', 'Keep', 'Decode'] as const;
const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
/** TLS 1.2 suite names OpenSSL knows (lower-case in Node's list); TLS 1.3 suites are always on. */
const TLS12_SUITES = new Set(getCiphers().filter((suite) => !suite.startsWith('tls_')));

/** spec.pathNormalization and spec.frontendTls into `layer`; a Problem when one is invalid. */
function parseHardening(spec: unknown, layer: ParametersLayer): Problem | undefined {
  const paths = field(spec, 'pathNormalization');
  if (paths !== undefined) {
    const policy: Partial<PathPolicy> = {};
    const merge = field(paths, 'mergeSlashes');
    if (merge !== undefined) {
      const flag = bool(merge);
      if (flag === undefined) return invalid('pathNormalization.mergeSlashes must be a boolean');
      policy.mergeSlashes = flag;
    }
    const escaped = field(paths, 'escapedSlashes');
    if (escaped !== undefined) {
      const action = oneOf(escaped, ESCAPED_SLASH_ACTIONS);
      if (action === undefined) return invalid(`unknown pathNormalization.escapedSlashes ${describe(escaped)}`);
      policy.escapedSlashes = action;
    }
    layer.pathPolicy = policy;
  }
  const tls = field(spec, 'frontendTls');
  if (tls !== undefined) {
    const policy: { -readonly [K in keyof TlsPolicy]?: TlsPolicy[K] } = {};
    const version = field(tls, 'minVersion');
    if (version !== undefined) {
      const known = oneOf(version, TLS_VERSIONS);
      if (known === undefined) return invalid(`unknown frontendTls.minVersion ${describe(version)}`);
      policy.minVersion = known;
    }
    const suites = field(tls, 'cipherSuites');
    if (suites !== undefined) {
      const names = Array.isArray(suites) ? suites.map((suite) => str(suite) ?? '') : [];
      if (names.length === 0 || names.length > 64) return invalid('frontendTls.cipherSuites must list 1 to 64 suite names');
      const unknown = names.find((suite) => !TLS12_SUITES.has(suite.toLowerCase()));
      if (unknown !== undefined) return invalid(`frontendTls.cipherSuites: ${describe(unknown)} is not a TLS 1.2 cipher suite OpenSSL knows`);
      policy.cipherSuites = names;
    }
    layer.tlsPolicy = policy;
  }
  return undefined;
}

function invalid(message: string): Problem {
  return { reason: Reason.InvalidParameters, message: `WeirParameters: ${message}` };
}

function isProblem(value: object): value is Problem {
  return 'reason' in value;
}

export class ParametersIndex {
  readonly #byKey = new Map<string, WeirParameters>();

  constructor(parameters: readonly Entry<WeirParameters>[]) {
    for (const { meta, object } of parameters) this.#byKey.set(key(meta.namespace, meta.name), object);
  }

  /**
   * Resolves a parametersRef (GatewayClass: namespaced ref; Gateway: local ref whose namespace
   * is the Gateway's). `undefined` ref means "no parameters".
   */
  layer(ref: ParametersReference | undefined, defaultNamespace: string | undefined): ParametersLayer | Problem | undefined {
    if (ref === undefined) return undefined;
    const { group, kind } = ref;
    const refName = name(ref.name);
    const namespace = defaultNamespace ?? name(ref.namespace);
    if (group !== WEIR_PARAMETERS_GROUP || kind !== WEIR_PARAMETERS_KIND) {
      return invalid(`parametersRef must be ${WEIR_PARAMETERS_GROUP}/${WEIR_PARAMETERS_KIND}, got ${group}/${kind}`);
    }
    if (refName === undefined || namespace === undefined) return invalid('parametersRef needs a name and a namespace');
    const object = this.#byKey.get(key(namespace, refName));
    if (object === undefined) return invalid(`${namespace}/${refName} not found`);
    return parseLayer(object.spec);
  }
}

/** Layers later in the list override earlier ones, field by field. */
export function mergeParameters(layers: readonly (ParametersLayer | undefined)[]): ResolvedParameters {
  let xfcc: Xfcc = DEFAULT_XFCC;
  let trustedProxyHops = DEFAULT_PARAMETERS.trustedProxyHops;
  let limits: Limits = {};
  let deployment: DeploymentParameters = {};
  let pathPolicy: PathPolicy | undefined;
  let tlsPolicy: TlsPolicy | undefined;
  let tracing: TracingPolicy | undefined;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.xfcc !== undefined) xfcc = { ...xfcc, ...layer.xfcc };
    if (layer.trustedProxyHops !== undefined) trustedProxyHops = layer.trustedProxyHops;
    if (layer.limits !== undefined) limits = { ...limits, ...layer.limits };
    deployment = { ...deployment, ...layer.deployment };
    if (layer.pathPolicy !== undefined) pathPolicy = { ...(pathPolicy ?? DEFAULT_PATH_POLICY), ...layer.pathPolicy };
    if (layer.tlsPolicy !== undefined) tlsPolicy = { ...(tlsPolicy ?? DEFAULT_TLS_POLICY), ...layer.tlsPolicy };
    if (layer.tracing !== undefined) tracing = { ...(tracing ?? { incomingContext: 'Continue' }), ...layer.tracing };
  }
  return {
    xfcc, trustedProxyHops, limits, deployment,
    hardening: { ...(pathPolicy === undefined ? {} : { pathPolicy }), ...(tlsPolicy === undefined ? {} : { tlsPolicy }), ...(tracing === undefined ? {} : { tracing }) },
  };
}

export { isProblem as isParametersProblem };
export type { ParametersLayer };
