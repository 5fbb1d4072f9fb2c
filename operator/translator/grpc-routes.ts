/**
 * GRPCRoute → route translation. A gRPC method match becomes a path match on
 * `/<service>/<method>`: both → Exact, service only → PathPrefix `/<service>`, method only or
 * RegularExpression → a full-path regular expression.
 */
import type { HeaderMatch, PathMatch, RouteMatch } from '../../api-types/dataplane-config.ts';
import type { Backends } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import { checkPattern, readValueMatch } from './http-routes.ts';
import type { GRPCRoute, GRPCRouteMatch } from '../../api-types/gateway-api/index.ts';
import type { Entry } from './meta.ts';
import { readHostnames, type RouteTranslation } from './route-common.ts';
import { translateRuleAction, type TranslatedRule } from './rule-actions.ts';

const SERVICE = /^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;
const ANY_SEGMENT = '[^/]+';

export function translateGrpcRoute({ meta, object }: Entry<GRPCRoute>, backends: Backends): RouteTranslation {
  const { spec } = object;
  const hostnames = readHostnames(spec.hostnames);
  const rawRules = spec.rules ?? [{}];
  const inputs = { routeKind: 'GRPCRoute', route: { kind: 'GRPCRoute', namespace: meta.namespace, name: meta.name }, meta, backends, use: 'grpc' } as const;
  const rules = rawRules.map((rule, index): TranslatedRule => {
    const matches = readMatches(rule.matches ?? []);
    if ('reason' in matches) return { action: undefined, matches: [], clusters: [], unusableServices: [], invalid: matches, refProblem: undefined };
    return translateRuleAction(rule, index, matches, inputs);
  });
  return { kind: 'GRPCRoute', meta, parentRefs: spec.parentRefs ?? [], hostnames: hostnames.hostnames, routeProblem: hostnames.problem, rules };
}

function readMatches(entries: readonly GRPCRouteMatch[]): RouteMatch[] | Problem {
  if (entries.length === 0) return [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }];
  const matches: RouteMatch[] = [];
  for (const entry of entries) {
    const path = methodPath(entry.method);
    if ('reason' in path) return path;
    const headers: HeaderMatch[] = [];
    for (const header of entry.headers ?? []) {
      const parsed = readValueMatch(header, 'header');
      if ('reason' in parsed) return parsed;
      const lower = parsed.name.toLowerCase();
      if (!headers.some((existing) => existing.name === lower)) headers.push(parsed.name === lower ? parsed : { ...parsed, name: lower });
    }
    matches.push({ path, headers, queryParams: [] });
  }
  return matches;
}

function unsupported(message: string): Problem {
  return { reason: Reason.UnsupportedValue, message };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function methodPath(raw: GRPCRouteMatch['method']): PathMatch | Problem {
  if (raw === undefined) return { type: 'PathPrefix', value: '/' };
  const type = raw.type ?? 'Exact';
  const { service, method } = raw;
  if (service === undefined && method === undefined) return unsupported('a gRPC method match needs a service or a method');
  if (type === 'Exact') {
    if ((service !== undefined && !SERVICE.test(service)) || (method !== undefined && !METHOD.test(method))) return unsupported('invalid gRPC service or method name');
    if (service !== undefined && method !== undefined) return { type: 'Exact', value: `/${service}/${method}` };
    if (service !== undefined) return { type: 'PathPrefix', value: `/${service}` };
    return { type: 'RegularExpression', value: `/${ANY_SEGMENT}/${escapeRegExp(method ?? '')}` };
  }
  if (type === 'RegularExpression') {
    // Each part in its own group, so an alternation in one (`a|b`) cannot swallow the `/` between them.
    const pattern = `/(?:${service ?? ANY_SEGMENT})/(?:${method ?? ANY_SEGMENT})`;
    return checkPattern(pattern, 'gRPC method') ?? { type: 'RegularExpression', value: pattern };
  }
  return unsupported(`unsupported gRPC method match type ${type}`);
}
