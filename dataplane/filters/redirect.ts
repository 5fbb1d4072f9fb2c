import type { RequestRedirect } from '../../api-types/dataplane-config.ts';
import type { DataplaneFilter } from './filter.ts';
import { modifyPath } from './paths.ts';

const WELL_KNOWN_PORT = { http: 80, https: 443 } as const;

export interface RedirectRequest {
  scheme: 'http' | 'https';
  /** Request host without port. */
  host: string;
  path: string;
  /** Query string without `?`, '' when none. */
  query: string;
  listenerPort: number;
}

/**
 * The Location of a RequestRedirect, per the Gateway API rules: without an explicit port, a
 * changed scheme implies its well-known port, otherwise the listener's port is kept; the port
 * is omitted when it is the scheme's well-known one.
 */
export function redirectLocation(redirect: RequestRedirect, request: RedirectRequest, matchedPrefix: string | undefined): string {
  const scheme = redirect.scheme ?? request.scheme;
  const host = redirect.hostname ?? request.host;
  const port = redirect.port ?? (redirect.scheme !== undefined ? WELL_KNOWN_PORT[scheme] : request.listenerPort);
  const path = redirect.path === undefined ? request.path : modifyPath(request.path, redirect.path, matchedPrefix);
  const authority = port === WELL_KNOWN_PORT[scheme] ? formatHost(host) : `${formatHost(host)}:${port}`;
  return `${scheme}://${authority}${path}${request.query === '' ? '' : `?${request.query}`}`;
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export const requestRedirect: DataplaneFilter = {
  type: 'RequestRedirect',
  rule(action) {
    const redirect = action.redirect;
    if (redirect === undefined) return undefined;
    return {
      answer: (request) => ({
        status: redirect.statusCode,
        headers: { location: redirectLocation(redirect, { scheme: request.scheme, host: request.host, path: request.path, query: request.query, listenerPort: request.listenerPort }, request.prefix), 'content-length': '0' },
      }),
    };
  },
};
