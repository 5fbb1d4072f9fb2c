/**
 * Route filters → rule action fields: RequestHeaderModifier, ResponseHeaderModifier,
 * RequestRedirect, URLRewrite, RequestMirror (several, with percentages), CORS.
 * ExtensionRef is reported as an unresolvable reference (Weir supports no extension kinds).
 */
import type { Cors, HeaderModifier, Mirror, PathModifier, RequestRedirect, RouteMatch, UrlRewrite } from '../../api-types/dataplane-config.ts';
import type { BackendUse, Backends, ResolvedCluster } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import type { HTTPCORSFilter, HTTPHeaderFilter, HTTPPathModifier, HTTPRequestMirrorFilter, HTTPRequestRedirectFilter, HTTPURLRewriteFilter, RouteFilter } from '../../api-types/gateway-api/index.ts';
import { normalizeHostname } from './hostnames.ts';
import { describe, int, isPort } from './read.ts';
import type { RouteKind } from './status.ts';

export interface FilterContext {
  readonly routeKind: RouteKind;
  readonly namespace: string;
  readonly backends: Backends;
  readonly use: BackendUse;
  /** Filter types this route kind (or a backendRef) allows. */
  readonly allowed: ReadonlySet<string>;
}

export interface FilterResult {
  cors?: Cors;
  redirect?: RequestRedirect;
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  urlRewrite?: UrlRewrite;
  mirrors: Mirror[];
  /** Clusters the mirrors send to. */
  clusters: ResolvedCluster[];
  /** The rule cannot be served (dropped, route PartiallyInvalid / not Accepted). */
  invalid?: Problem;
  /** A reference did not resolve (ResolvedRefs=False). */
  refProblem?: Problem;
  /** The rule answers 500 instead of proxying (unresolvable ExtensionRef). */
  failClosed?: boolean;
}

export const HTTP_ROUTE_FILTERS: ReadonlySet<string> = new Set([
  'RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExtensionRef',
]);
export const GRPC_ROUTE_FILTERS: ReadonlySet<string> = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']);
export const BACKEND_REF_FILTERS: ReadonlySet<string> = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'ExtensionRef']);
/** HTTPRouteBackendURLRewrite: an HTTPRoute backendRef may also rewrite the URL sent to it. */
export const HTTP_BACKEND_REF_FILTERS: ReadonlySet<string> = new Set([...BACKEND_REF_FILTERS, 'URLRewrite']);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

export function translateFilters(rawFilters: readonly RouteFilter[] | undefined, matches: readonly RouteMatch[], context: FilterContext): FilterResult {
  const result: FilterResult = { mirrors: [], clusters: [] };
  if (rawFilters === undefined) return result;
  const seen = new Set<string>();
  for (const filter of rawFilters) {
    const { type } = filter;
    if (!context.allowed.has(type)) {
      result.invalid ??= { reason: Reason.UnsupportedValue, message: `filter type ${type || '(none)'} is not supported here` };
      continue;
    }
    if (type !== 'RequestMirror' && type !== 'ExtensionRef' && seen.has(type)) {
      result.invalid ??= { reason: Reason.UnsupportedValue, message: `filter ${type} appears more than once` };
      continue;
    }
    seen.add(type);
    const problem = applyFilter(type, filter, matches, context, result);
    if (problem !== undefined) result.invalid ??= problem;
  }
  if (result.redirect !== undefined && result.urlRewrite !== undefined) {
    result.invalid ??= { reason: Reason.IncompatibleFilters, message: 'RequestRedirect and URLRewrite cannot be combined' };
  }
  return result;
}

function applyFilter(type: string, filter: RouteFilter, matches: readonly RouteMatch[], context: FilterContext, result: FilterResult): Problem | undefined {
  switch (type) {
    case 'RequestHeaderModifier': {
      const modifier = headerModifier(filter.requestHeaderModifier);
      if ('reason' in modifier) return modifier;
      result.requestHeaders = modifier;
      return undefined;
    }
    case 'ResponseHeaderModifier': {
      const modifier = headerModifier(filter.responseHeaderModifier);
      if ('reason' in modifier) return modifier;
      result.responseHeaders = modifier;
      return undefined;
    }
    case 'RequestRedirect': {
      const redirect = requestRedirect(filter.requestRedirect, matches);
      if ('reason' in redirect) return redirect;
      result.redirect = redirect;
      return undefined;
    }
    case 'URLRewrite': {
      const rewrite = urlRewrite(filter.urlRewrite, matches);
      if ('reason' in rewrite) return rewrite;
      result.urlRewrite = rewrite;
      return undefined;
    }
    case 'RequestMirror':
      return requestMirror(filter.requestMirror, context, result);
    case 'CORS': {
      const cors = corsPolicy(filter.cors);
      if ('reason' in cors) return cors;
      result.cors = cors;
      return undefined;
    }
    case 'ExtensionRef': {
      const ref = filter.extensionRef;
      result.refProblem ??= {
        reason: Reason.InvalidKind,
        message: `ExtensionRef ${String(ref?.group)}/${String(ref?.kind)} ${String(ref?.name)} is not supported`,
      };
      result.failClosed = true;
      return undefined;
    }
    default:
      return { reason: Reason.UnsupportedValue, message: `filter type ${type} is not supported` };
  }
}

function unsupported(message: string): Problem {
  return { reason: Reason.UnsupportedValue, message };
}

export function headerModifier(raw: HTTPHeaderFilter | undefined): HeaderModifier | Problem {
  if (raw === undefined) return unsupported('header modifier filter without its configuration');
  const pairs = (entries: HTTPHeaderFilter['set'] = []): { name: string; value: string }[] | Problem => {
    const out: { name: string; value: string }[] = [];
    for (const { name: headerName, value } of entries) {
      if (!HEADER_NAME.test(headerName)) return unsupported('invalid header in header modifier');
      if (!out.some((existing) => existing.name === headerName.toLowerCase())) out.push({ name: headerName.toLowerCase(), value });
    }
    return out;
  };
  const set = pairs(raw.set);
  const add = pairs(raw.add);
  if ('reason' in set) return set;
  if ('reason' in add) return add;
  const remove: string[] = [];
  for (const entry of raw.remove ?? []) {
    if (!HEADER_NAME.test(entry)) return unsupported('invalid header name in remove');
    if (!remove.includes(entry.toLowerCase())) remove.push(entry.toLowerCase());
  }
  return { set, add, remove };
}

function pathModifier(raw: HTTPPathModifier | undefined, matches: readonly RouteMatch[]): PathModifier | Problem | undefined {
  if (raw === undefined) return undefined;
  const { type } = raw;
  if (type === 'ReplaceFullPath') {
    const value = raw.replaceFullPath;
    if (value === undefined || !value.startsWith('/')) return unsupported('replaceFullPath must be an absolute path');
    return { type, replaceFullPath: value };
  }
  if (type === 'ReplacePrefixMatch') {
    const value = raw.replacePrefixMatch;
    if (value === undefined || !value.startsWith('/')) return unsupported('replacePrefixMatch must be an absolute path');
    if (matches.some((match) => match.path.type !== 'PathPrefix')) return unsupported('ReplacePrefixMatch needs PathPrefix matches only');
    return { type, replacePrefixMatch: value };
  }
  return unsupported(`unknown path modifier type ${type}`);
}

const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

function requestRedirect(raw: HTTPRequestRedirectFilter = {}, matches: readonly RouteMatch[]): RequestRedirect | Problem {
  const redirect: { -readonly [K in keyof RequestRedirect]: RequestRedirect[K] } = { statusCode: 302 };
  const { scheme } = raw;
  if (scheme !== undefined) {
    if (scheme !== 'http' && scheme !== 'https') return unsupported(`redirect scheme ${describe(scheme)} is not supported`);
    redirect.scheme = scheme;
  }
  const { hostname } = raw;
  if (hostname !== undefined) {
    const normalized = normalizeHostname(hostname);
    if (normalized === undefined || normalized.startsWith('*.')) return unsupported('invalid redirect hostname');
    redirect.hostname = normalized;
  }
  const path = pathModifier(raw.path, matches);
  if (path !== undefined && 'reason' in path) return path;
  if (path !== undefined) redirect.path = path;
  const { port } = raw;
  if (port !== undefined) {
    const value = int(port);
    if (!isPort(value)) return unsupported('invalid redirect port');
    redirect.port = value;
  }
  const { statusCode } = raw;
  if (statusCode !== undefined) {
    const code = REDIRECT_CODES.find((candidate) => candidate === statusCode);
    if (code === undefined) return unsupported(`redirect status code ${describe(statusCode)} is not supported`);
    redirect.statusCode = code;
  }
  return redirect;
}

function urlRewrite(raw: HTTPURLRewriteFilter = {}, matches: readonly RouteMatch[]): UrlRewrite | Problem {
  const rewrite: { -readonly [K in keyof UrlRewrite]: UrlRewrite[K] } = {};
  const { hostname } = raw;
  if (hostname !== undefined) {
    const normalized = normalizeHostname(hostname);
    if (normalized === undefined || normalized.startsWith('*.')) return unsupported('invalid rewrite hostname');
    rewrite.hostname = normalized;
  }
  const path = pathModifier(raw.path, matches);
  if (path !== undefined && 'reason' in path) return path;
  if (path !== undefined) rewrite.path = path;
  return rewrite;
}

function requestMirror(raw: HTTPRequestMirrorFilter | undefined, context: FilterContext, result: FilterResult): Problem | undefined {
  let percent = 100;
  const { percent: rawPercent, fraction } = raw ?? {};
  if (rawPercent !== undefined) {
    const value = int(rawPercent);
    if (value === undefined || value < 0 || value > 100) return unsupported('mirror percent must be 0–100');
    percent = value;
  } else if (fraction !== undefined) {
    const numerator = int(fraction.numerator);
    const denominator = fraction.denominator === undefined ? 100 : int(fraction.denominator);
    if (numerator === undefined || denominator === undefined || denominator <= 0 || numerator < 0 || numerator > denominator) {
      return unsupported('mirror fraction must satisfy 0 ≤ numerator ≤ denominator, denominator > 0');
    }
    percent = (numerator * 100) / denominator;
  }
  const resolution = context.backends.resolve(context.routeKind, context.namespace, raw?.backendRef, context.use);
  if (resolution.kind !== 'cluster') {
    // Nothing is mirrored to a backend that is invalid or whose BackendTLSPolicy is invalid.
    result.refProblem ??= resolution.problem;
    return undefined;
  }
  result.mirrors.push({ clusterId: resolution.cluster.id, percent });
  result.clusters.push(resolution.cluster);
  return undefined;
}

function corsPolicy(raw: HTTPCORSFilter | undefined): Cors | Problem {
  if (raw === undefined) return unsupported('CORS filter without its configuration');
  const maxAge = raw.maxAge === undefined ? 5 : int(raw.maxAge);
  if (maxAge === undefined || maxAge < 0) return unsupported('CORS maxAge must be a non-negative integer');
  return {
    allowOrigins: [...(raw.allowOrigins ?? [])],
    allowMethods: [...(raw.allowMethods ?? [])],
    allowHeaders: (raw.allowHeaders ?? []).map((header) => header.toLowerCase()),
    exposeHeaders: (raw.exposeHeaders ?? []).map((header) => header.toLowerCase()),
    allowCredentials: raw.allowCredentials ?? false,
    maxAgeSeconds: maxAge,
  };
}
