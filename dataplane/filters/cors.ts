/**
 * The HTTPRoute CORS filter: preflight requests are answered by the dataplane, actual requests
 * get the allow/expose headers added to the backend's response.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Cors } from '../../api-types/dataplane-config.ts';
import type { DataplaneFilter } from './filter.ts';
import type { HeaderMap } from './headers.ts';

export interface CompiledCors {
  readonly anyOrigin: boolean;
  readonly exactOrigins: ReadonlySet<string>;
  /** Origins with a host wildcard, as anchored regular expressions. */
  readonly wildcardOrigins: readonly RegExp[];
  readonly anyMethod: boolean;
  readonly methods: string;
  readonly anyHeader: boolean;
  readonly headers: string;
  readonly exposeHeaders: string;
  readonly credentials: boolean;
  readonly maxAge: string;
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileCors(cors: Cors | undefined): CompiledCors | undefined {
  if (cors === undefined) return undefined;
  const exactOrigins = new Set<string>();
  const wildcardOrigins: RegExp[] = [];
  for (const origin of cors.allowOrigins) {
    if (origin === '*') continue;
    const star = origin.indexOf('*');
    if (star === -1) exactOrigins.add(origin.toLowerCase());
    // `https://*.example.com` allows any number of labels in place of `*`.
    else wildcardOrigins.push(new RegExp(`^${escapeRegex(origin.slice(0, star).toLowerCase())}[^/]+${escapeRegex(origin.slice(star + 1).toLowerCase())}$`));
  }
  return {
    anyOrigin: cors.allowOrigins.includes('*'),
    exactOrigins,
    wildcardOrigins,
    anyMethod: cors.allowMethods.includes('*'),
    methods: cors.allowMethods.join(', '),
    anyHeader: cors.allowHeaders.includes('*'),
    headers: cors.allowHeaders.join(', '),
    exposeHeaders: cors.exposeHeaders.join(', '),
    credentials: cors.allowCredentials,
    maxAge: String(cors.maxAgeSeconds),
  };
}

export function originAllowed(cors: CompiledCors, origin: string): boolean {
  if (cors.anyOrigin) return true;
  const lower = origin.toLowerCase();
  if (cors.exactOrigins.has(lower)) return true;
  for (const pattern of cors.wildcardOrigins) if (pattern.test(lower)) return true;
  return false;
}

export function isPreflight(method: string, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/** Headers for a preflight answer, or undefined when the origin is not allowed. */
export function preflightHeaders(cors: CompiledCors, headers: IncomingHttpHeaders): HeaderMap | undefined {
  const origin = headers.origin;
  if (origin === undefined || !originAllowed(cors, origin)) return undefined;
  const out: HeaderMap = { 'access-control-allow-origin': origin, vary: 'Origin' };
  // With credentials a literal `*` is not honoured by browsers, so echo what was asked for.
  const methods = cors.anyMethod ? (cors.credentials ? single(headers['access-control-request-method']) ?? '*' : '*') : cors.methods;
  if (methods !== '') out['access-control-allow-methods'] = methods;
  const allowHeaders = cors.anyHeader ? (cors.credentials ? single(headers['access-control-request-headers']) ?? '' : '*') : cors.headers;
  if (allowHeaders !== '') out['access-control-allow-headers'] = allowHeaders;
  if (cors.exposeHeaders !== '') out['access-control-expose-headers'] = cors.exposeHeaders;
  if (cors.credentials) out['access-control-allow-credentials'] = 'true';
  out['access-control-max-age'] = cors.maxAge;
  return out;
}

/** Adds the CORS response headers of an actual (non-preflight) request in place. */
export function addActualResponseHeaders(cors: CompiledCors, requestOrigin: string | undefined, response: HeaderMap): void {
  if (requestOrigin === undefined || !originAllowed(cors, requestOrigin)) return;
  response['access-control-allow-origin'] = requestOrigin;
  if (cors.credentials) response['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders !== '') response['access-control-expose-headers'] = cors.exposeHeaders;
  const vary = response.vary;
  response.vary = vary === undefined ? 'Origin' : `${Array.isArray(vary) ? vary.join(', ') : vary}, Origin`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export const cors: DataplaneFilter = {
  type: 'CORS',
  rule(action) {
    const compiled = compileCors(action.cors);
    if (compiled === undefined) return undefined;
    // A preflight from an origin that is not allowed still gets its 200, without allow headers.
    return { answer: (request) => (isPreflight(request.method, request.headers) ? { status: 200, headers: preflightHeaders(compiled, request.headers) ?? {} } : undefined) };
  },
  backend(action) {
    const compiled = compileCors(action.cors);
    if (compiled === undefined) return undefined;
    return { responseHeaders: (headers, request) => { addActualResponseHeaders(compiled, request.origin, headers); } };
  },
};
