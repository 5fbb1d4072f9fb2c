/**
 * Header handling between client and backend: RFC 9110 §7.6.1 hop-by-hop removal (including
 * names listed in `Connection`), X-Forwarded-* and request ids, and the Gateway API header
 * modifier filters. All header names are lower-case here (Node and undici deliver them so, and
 * the contract stores them so).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type HeaderMap = Record<string, string | string[]>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'http2-settings']);

/**
 * Request headers the dataplane answers itself and never forwards: `expect` (the client got its
 * 100 Continue from us; the upstream request carries the body without waiting).
 */
const ANSWERED_HERE = 'expect';

/** Headers about the client or its connection that only the dataplane (or a trusted hop) may set. */
const CLIENT_FACTS = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-client-cert', 'x-request-id', 'x-real-ip', 'forwarded']);

/**
 * A name that some servers (CGI, nginx, WSGI) read as one of CLIENT_FACTS because they map `_`
 * to `-`: `x_forwarded_for`. Such a header is never forwarded, whoever sent it.
 */
function isUnderscoreAlias(name: string): boolean {
  return name.indexOf('_') !== -1 && CLIENT_FACTS.has(name.replaceAll('_', '-'));
}

/** Extra names a `Connection` header marks as hop-by-hop, or undefined when there are none. */
function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const value = Array.isArray(connection) ? connection.join(',') : connection;
  // The common values carry no extra names; skip the split for them.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'upgrade' || value === 'Upgrade') return undefined;
  let listed: Set<string> | undefined;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || HOP_BY_HOP.has(name)) continue;
    (listed ??= new Set()).add(name);
  }
  return listed;
}

/** Copies the end-to-end request headers; `te: trailers` survives, other `te` values do not. */
export function endToEndRequestHeaders(incoming: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = Object.create(null) as HeaderMap;
  const listed = connectionListed(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name)) {
      if (name === 'te' && typeof value === 'string' && value.toLowerCase().includes('trailers')) out.te = 'trailers';
      continue;
    }
    if (listed?.has(name) === true || name === ANSWERED_HERE || isUnderscoreAlias(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Removes hop-by-hop headers from a backend response in place. */
export function stripResponseHopByHop(headers: HeaderMap): void {
  const listed = connectionListed(headers.connection);
  if (listed !== undefined) for (const name of listed) Reflect.deleteProperty(headers, name);
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) Reflect.deleteProperty(headers, name);
}

export interface ForwardingContext {
  scheme: 'http' | 'https';
  /** Client address as seen on the socket. */
  remoteAddress: string | undefined;
  /** Whether the hop in front of us is trusted to have set X-Forwarded-* and X-Request-Id. */
  trusted: boolean;
}

/**
 * Sets X-Forwarded-For/-Proto/-Host and X-Request-Id; untrusted incoming values are replaced,
 * and an untrusted `Forwarded`, `X-Real-IP` or `X-Forwarded-Port` is removed. Call before Host is rewritten.
 */
export function addForwardingHeaders(out: HeaderMap, incoming: IncomingHttpHeaders, context: ForwardingContext): void {
  if (!context.trusted) {
    Reflect.deleteProperty(out, 'forwarded');
    Reflect.deleteProperty(out, 'x-real-ip');
    Reflect.deleteProperty(out, 'x-forwarded-port');
  }
  const remote = context.remoteAddress ?? '';
  const priorHeader = context.trusted ? incoming['x-forwarded-for'] : undefined;
  const priorFor = Array.isArray(priorHeader) ? priorHeader.join(', ') : priorHeader;
  out['x-forwarded-for'] = priorFor === undefined || priorFor === '' ? remote : `${priorFor}, ${remote}`;
  if (!context.trusted || incoming['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = context.scheme;
  if (!context.trusted || incoming['x-forwarded-host'] === undefined) {
    // `out.host` is the client's Host (HTTP/2: its :authority), before any rewrite.
    const host = out.host;
    if (host === undefined) Reflect.deleteProperty(out, 'x-forwarded-host');
    else out['x-forwarded-host'] = host;
  }
  if (!context.trusted || incoming['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
}
