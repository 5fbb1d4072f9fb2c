/**
 * WeirParameters: resolution of GatewayClass and Gateway parametersRefs into the settings the
 * dataplane config (XFCC, trusted hops) and the infra provisioner (image, replicas, ...) use.
 */
import type { Xfcc } from '../../api-types/dataplane-config.ts';
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

export interface ResolvedParameters {
  readonly xfcc: Xfcc;
  readonly trustedProxyHops: number;
  /** Only the limits some WeirParameters set; the dataplane defaults the rest. */
  readonly limits: Limits;
  readonly deployment: DeploymentParameters;
}

export const DEFAULT_XFCC: Xfcc = { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true };

export const DEFAULT_PARAMETERS: ResolvedParameters = { xfcc: DEFAULT_XFCC, trustedProxyHops: 0, limits: {}, deployment: {} };

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

function parseLayer(object: unknown): ParametersLayer | Problem {
  const spec = field(object, 'spec');
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
  return layer;
}

function invalid(message: string): Problem {
  return { reason: Reason.InvalidParameters, message: `WeirParameters: ${message}` };
}

function isProblem(value: object): value is Problem {
  return 'reason' in value;
}

export class ParametersIndex {
  readonly #byKey = new Map<string, unknown>();

  constructor(parameters: readonly Entry<unknown>[]) {
    for (const { meta, object } of parameters) this.#byKey.set(key(meta.namespace, meta.name), object);
  }

  /**
   * Resolves a parametersRef (GatewayClass: namespaced ref; Gateway: local ref whose namespace
   * is the Gateway's). `undefined` ref means "no parameters".
   */
  layer(ref: unknown, defaultNamespace: string | undefined): ParametersLayer | Problem | undefined {
    if (ref === undefined) return undefined;
    const group = str(field(ref, 'group'));
    const kind = str(field(ref, 'kind'));
    const refName = name(field(ref, 'name'));
    const namespace = defaultNamespace ?? name(field(ref, 'namespace'));
    if (group !== WEIR_PARAMETERS_GROUP || kind !== WEIR_PARAMETERS_KIND) {
      return invalid(`parametersRef must be ${WEIR_PARAMETERS_GROUP}/${WEIR_PARAMETERS_KIND}, got ${String(group)}/${String(kind)}`);
    }
    if (refName === undefined || namespace === undefined) return invalid('parametersRef needs a name and a namespace');
    const object = this.#byKey.get(key(namespace, refName));
    if (object === undefined) return invalid(`${namespace}/${refName} not found`);
    return parseLayer(object);
  }
}

/** Layers later in the list override earlier ones, field by field. */
export function mergeParameters(layers: readonly (ParametersLayer | undefined)[]): ResolvedParameters {
  let xfcc: Xfcc = DEFAULT_XFCC;
  let trustedProxyHops = DEFAULT_PARAMETERS.trustedProxyHops;
  let limits: Limits = {};
  let deployment: DeploymentParameters = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.xfcc !== undefined) xfcc = { ...xfcc, ...layer.xfcc };
    if (layer.trustedProxyHops !== undefined) trustedProxyHops = layer.trustedProxyHops;
    if (layer.limits !== undefined) limits = { ...limits, ...layer.limits };
    deployment = { ...deployment, ...layer.deployment };
  }
  return { xfcc, trustedProxyHops, limits, deployment };
}

export { isProblem as isParametersProblem };
export type { ParametersLayer };
