/**
 * The parts of an HTTPRoute/GRPCRoute rule that become a `RuleAction`: weighted backends (with
 * their own header filters), filters, timeouts, retry and session persistence.
 */
import { createHash } from 'node:crypto';
import type { Retry, RouteMatch, RuleAction, SessionPersistence, WeightedBackend } from '../../api-types/dataplane-config.ts';
import type { BackendUse, Backends, ResolvedCluster } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import { parseDuration } from './durations.ts';
import { translateFilters } from './filters/index.ts';
import type { GRPCRouteRule, HTTPRouteRule, SessionPersistence as SessionPersistenceSpec } from '../../api-types/gateway-api/index.ts';
import type { Meta } from './meta.ts';
import { int, name } from './read.ts';
import type { ProxyRouteKind } from './status.ts';

export interface TranslatedRule {
  /** Undefined when the rule is dropped (see `invalid`). */
  readonly action: RuleAction | undefined;
  readonly matches: readonly RouteMatch[];
  readonly clusters: readonly ResolvedCluster[];
  /** Services whose traffic must fail because their BackendTLSPolicy is invalid (for policy status). */
  readonly unusableServices: readonly string[];
  readonly invalid: Problem | undefined;
  readonly refProblem: Problem | undefined;
}

export interface RuleInputs {
  readonly routeKind: ProxyRouteKind;
  /** `RuleAction.route`, one object shared by the route's rules. */
  readonly route: RuleAction['route'];
  readonly meta: Meta;
  readonly backends: Backends;
  readonly use: BackendUse;
}

const MAX_WEIGHT = 1_000_000;
const DEFAULT_RETRY_CODES = [500, 502, 503, 504];
const DEFAULT_RETRY_BACKOFF_MS = 25;

/** The fields HTTPRoute and GRPCRoute rules share (GRPCRoute has no timeouts or retry). */
type RouteRule = HTTPRouteRule | GRPCRouteRule;

export function translateRuleAction(rule: RouteRule, index: number, matches: readonly RouteMatch[], inputs: RuleInputs): TranslatedRule {
  const { routeKind, meta } = inputs;
  const filterContext = { routeKind, namespace: meta.namespace, backends: inputs.backends, use: inputs.use, matches };
  const filters = translateFilters(rule.filters, `${routeKind} rule`, filterContext);
  let refProblem = filters.refProblem;
  let invalid = filters.invalid;
  const clusters: ResolvedCluster[] = filters.clusters; // a fresh array: the mirrors' clusters, then the backends'
  const backends: WeightedBackend[] = [];
  const unusableServices: string[] = [];
  for (const ref of rule.backendRefs ?? []) {
    const weight = ref.weight === undefined ? 1 : int(ref.weight);
    if (weight === undefined || weight < 0 || weight > MAX_WEIGHT) {
      invalid ??= { reason: Reason.UnsupportedValue, message: `backendRef weight must be an integer from 0 to ${MAX_WEIGHT}` };
      continue;
    }
    const backend: { -readonly [K in keyof WeightedBackend]: WeightedBackend[K] } = { weight };
    const resolution = inputs.backends.resolve(routeKind, meta.namespace, ref, inputs.use);
    if (resolution.kind === 'cluster') {
      backend.clusterId = resolution.cluster.id;
      clusters.push(resolution.cluster);
    } else {
      refProblem ??= resolution.problem;
      if (resolution.kind === 'unusable') unusableServices.push(resolution.serviceKey);
    }
    const rawBackendFilters = ref.filters;
    if (rawBackendFilters !== undefined) {
      const backendFilters = translateFilters(rawBackendFilters, `${routeKind} backendRef`, filterContext);
      invalid ??= backendFilters.invalid;
      refProblem ??= backendFilters.refProblem;
      if (backendFilters.failClosed) delete backend.clusterId;
      Object.assign(backend, backendFilters.fields);
    }
    backends.push(backend);
  }
  const timeouts = ruleTimeouts('timeouts' in rule ? rule.timeouts : undefined);
  if ('reason' in timeouts) invalid ??= timeouts;
  const retry = ruleRetry('retry' in rule ? rule.retry : undefined);
  if (retry !== undefined && 'reason' in retry) invalid ??= retry;
  const session = sessionPersistence(rule.sessionPersistence, `${routeKind}/${meta.namespace}/${meta.name}/rule/${index}`);
  if (session !== undefined && 'reason' in session) invalid ??= session;
  if (invalid !== undefined) return { action: undefined, matches, clusters: [], unusableServices: [], invalid, refProblem };

  const ruleName = name(rule.name);
  const action: { -readonly [K in keyof RuleAction]: RuleAction[K] } = {
    id: `${routeKind}/${meta.namespace}/${meta.name}/rule/${index}`,
    route: inputs.route,
    mirrors: filters.mirrors,
    backends,
    timeouts: 'reason' in timeouts ? {} : timeouts,
  };
  if (ruleName !== undefined) action.ruleName = ruleName;
  if (!filters.answersLocally && (filters.failClosed || !backends.some((backend) => backend.clusterId !== undefined && backend.weight > 0))) {
    // No backend can take the request (none listed, all invalid, all weight 0): the spec's 500.
    action.directStatus = 500;
  }
  Object.assign(action, filters.fields);
  if (retry !== undefined && !('reason' in retry)) action.retry = retry;
  if (session !== undefined && !('reason' in session)) action.sessionPersistence = session;
  return { action, matches, clusters, unusableServices, invalid: undefined, refProblem };
}

const TIMEOUT_FIELDS = [
  ['request', 'requestMs'],
  ['backendRequest', 'backendRequestMs'],
] as const;

function ruleTimeouts(raw: HTTPRouteRule['timeouts']): RuleAction['timeouts'] | Problem {
  if (raw === undefined) return {};
  const timeouts: { requestMs?: number; backendRequestMs?: number } = {};
  for (const [fieldName, target] of TIMEOUT_FIELDS) {
    const text = raw[fieldName];
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined) return { reason: Reason.UnsupportedValue, message: `timeouts.${fieldName} is not a valid duration` };
    if (ms > 0) timeouts[target] = ms; // 0s disables the timeout
  }
  if (timeouts.requestMs !== undefined && timeouts.backendRequestMs !== undefined && timeouts.backendRequestMs > timeouts.requestMs) {
    return { reason: Reason.UnsupportedValue, message: 'timeouts.backendRequest must not exceed timeouts.request' };
  }
  return timeouts;
}

function ruleRetry(raw: HTTPRouteRule['retry']): Retry | Problem | undefined {
  if (raw === undefined) return undefined;
  const codes = raw.codes === undefined ? DEFAULT_RETRY_CODES : raw.codes.map(int);
  if (codes.some((code) => code === undefined || code < 400 || code > 599)) return { reason: Reason.UnsupportedValue, message: 'retry codes must be 400–599' };
  const attempts = raw.attempts === undefined ? 1 : int(raw.attempts);
  if (attempts === undefined || attempts < 0) return { reason: Reason.UnsupportedValue, message: 'retry attempts must be a non-negative integer' };
  const backoff = raw.backoff === undefined ? DEFAULT_RETRY_BACKOFF_MS : parseDuration(raw.backoff);
  if (backoff === undefined) return { reason: Reason.UnsupportedValue, message: 'retry backoff is not a valid duration' };
  const unique = [...new Set(codes.filter((code): code is number => code !== undefined))].sort((a, b) => a - b);
  return { codes: unique, attempts, backoffMs: backoff, connectionErrors: true };
}

function sessionPersistence(raw: SessionPersistenceSpec | undefined, actionId: string): SessionPersistence | Problem | undefined {
  if (raw === undefined) return undefined;
  const type = raw.type ?? 'Cookie';
  if (type !== 'Cookie' && type !== 'Header') return { reason: Reason.UnsupportedValue, message: `session persistence type ${type} is not supported` };
  let sessionName: string | undefined;
  if (type === 'Header') {
    sessionName = name(raw.header?.name);
    if (sessionName === undefined) return { reason: Reason.UnsupportedValue, message: 'sessionPersistence.header.name is required for type Header' };
  } else {
    // The spec asks for a unique cookie name when none is given: one per rule.
    sessionName = name(raw.cookie?.name) ?? `weir-session-${createHash('sha256').update(actionId).digest('hex').slice(0, 12)}`;
  }
  const session: { -readonly [K in keyof SessionPersistence]: SessionPersistence[K] } = { type, sessionName };
  const absolute = raw.absoluteTimeout;
  if (absolute !== undefined) {
    const ms = parseDuration(absolute);
    if (ms === undefined || ms === 0) return { reason: Reason.UnsupportedValue, message: 'sessionPersistence.absoluteTimeout is not a valid non-zero duration' };
    session.absoluteTimeoutMs = ms;
  }
  if (type === 'Cookie') {
    const lifetime = raw.cookie?.lifetimeType ?? 'Session';
    if (lifetime !== 'Session' && lifetime !== 'Permanent') return { reason: Reason.UnsupportedValue, message: `cookie lifetimeType ${lifetime} is not supported` };
    if (lifetime === 'Permanent' && session.absoluteTimeoutMs === undefined) {
      return { reason: Reason.UnsupportedValue, message: 'a Permanent cookie needs absoluteTimeout' };
    }
    session.cookieLifetime = lifetime;
    const path = raw.cookie?.path;
    if (path !== undefined && path !== '/') {
      // Cookie attribute syntax (RFC 6265 §4.1.1): a path with `;` or control characters would inject attributes.
      if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(path)) return { reason: Reason.UnsupportedValue, message: 'sessionPersistence.cookie.path must be an absolute path without ";" or spaces' };
      session.cookiePath = path;
    }
  }
  return session;
}
