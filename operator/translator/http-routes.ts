/** HTTPRoute → route translation: matches (path, method, headers, query) and rule actions. */
import type { HeaderMatch, PathMatch, QueryParamMatch, RouteMatch } from '../../api-types/dataplane-config.ts';
import { compileRouteRegex } from '../../api-types/route-regex.ts';
import type { Backends } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import type { HTTPRoute, HTTPRouteMatch, ValueMatch } from '../../api-types/gateway-api/index.ts';
import type { Entry } from './meta.ts';
import { describe } from './read.ts';
import { readHostnames, type RouteTranslation } from './route-common.ts';
import { translateRuleAction, type TranslatedRule } from './rule-actions.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const MAX_MATCH_VALUE = 4096;

export function translateHttpRoute({ meta, object }: Entry<HTTPRoute>, backends: Backends): RouteTranslation {
  const { spec } = object;
  const hostnames = readHostnames(spec.hostnames);
  const rawRules = spec.rules ?? [{}];
  const inputs = { routeKind: 'HTTPRoute', route: { kind: 'HTTPRoute', namespace: meta.namespace, name: meta.name }, meta, backends, use: 'http' } as const;
  const rules = rawRules.map((rule, index): TranslatedRule => {
    const matches = readMatches(rule.matches ?? []);
    if ('reason' in matches) return { action: undefined, matches: [], clusters: [], unusableServices: [], invalid: matches, refProblem: undefined };
    return translateRuleAction(rule, index, matches, inputs);
  });
  return { kind: 'HTTPRoute', meta, parentRefs: spec.parentRefs ?? [], hostnames: hostnames.hostnames, routeProblem: hostnames.problem, rules };
}

function readMatches(entries: readonly HTTPRouteMatch[]): RouteMatch[] | Problem {
  if (entries.length === 0) return [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }];
  const matches: RouteMatch[] = [];
  for (const entry of entries) {
    const match = readMatch(entry);
    if ('reason' in match) return match;
    matches.push(match);
  }
  return matches;
}

function unsupported(message: string): Problem {
  return { reason: Reason.UnsupportedValue, message };
}

function readMatch(raw: HTTPRouteMatch): RouteMatch | Problem {
  const path = readPath(raw.path);
  if ('reason' in path) return path;
  const headers: HeaderMatch[] = [];
  for (const header of raw.headers ?? []) {
    const parsed = readValueMatch(header, 'header');
    if ('reason' in parsed) return parsed;
    const lower = parsed.name.toLowerCase();
    // The spec: only the first of several entries with an equivalent name counts.
    if (!headers.some((existing) => existing.name === lower)) headers.push(parsed.name === lower ? parsed : { ...parsed, name: lower });
  }
  const queryParams: QueryParamMatch[] = [];
  for (const param of raw.queryParams ?? []) {
    const parsed = readValueMatch(param, 'query parameter');
    if ('reason' in parsed) return parsed;
    if (!queryParams.some((existing) => existing.name === parsed.name)) queryParams.push(parsed);
  }
  const match: { -readonly [K in keyof RouteMatch]: RouteMatch[K] } = { path, headers, queryParams };
  const { method } = raw;
  if (method !== undefined) {
    if (!METHODS.has(method)) return unsupported(`unsupported method ${describe(method)}`);
    match.method = method;
  }
  return match;
}

/** A RegularExpression match value the dataplane can run, or the UnsupportedValue problem. */
export function checkPattern(pattern: string, what: string): Problem | undefined {
  const compiled = compileRouteRegex(pattern);
  return compiled.ok ? undefined : unsupported(`unsupported ${what} regular expression ${JSON.stringify(pattern)}: ${compiled.error}`);
}

function readPath(raw: HTTPRouteMatch['path']): PathMatch | Problem {
  if (raw === undefined) return { type: 'PathPrefix', value: '/' };
  const type = raw.type ?? 'PathPrefix';
  const value = raw.value ?? '/';
  if (value.length === 0 || value.length > 1024) return unsupported('path value must be a string of 1–1024 characters');
  if (type === 'RegularExpression') return checkPattern(value, 'path') ?? { type, value };
  if (type !== 'Exact' && type !== 'PathPrefix') return unsupported(`unsupported path match type ${type}`);
  if (!value.startsWith('/') || value.includes('//') || /[?#]/.test(value) || /(^|\/)\.\.?(\/|$)/.test(value)) return unsupported(`invalid path ${value}`);
  if (type === 'PathPrefix' && value.length > 1 && value.endsWith('/')) return { type, value: value.slice(0, -1) };
  return { type, value };
}

export function readValueMatch(raw: ValueMatch, what: string): HeaderMatch | Problem {
  const type = raw.type ?? 'Exact';
  const { name: matchName, value } = raw;
  if (matchName.length === 0 || matchName.length > 256 || (what === 'header' && !HEADER_NAME.test(matchName))) {
    return unsupported(`invalid ${what} name`);
  }
  if (value.length > MAX_MATCH_VALUE) return unsupported(`invalid ${what} value`);
  if (type === 'RegularExpression') return checkPattern(value, what) ?? { type, name: matchName, value };
  if (type !== 'Exact') return unsupported(`unsupported ${what} match type ${type}`);
  return { type, name: matchName, value };
}
