/**
 * The request decision, made once for every way a request arrives (HTTP/1.1, HTTP/2, gRPC,
 * WebSocket upgrade): `decide` returns either an answer the dataplane gives itself or a plan
 * for forwarding. The executors (`exchange.ts`, `upgrade.ts`) only carry the plan out, so a
 * rule about hosts, paths, client certificates or headers is written here and nowhere else.
 *
 * The sequence: no config → 503; the one host of the request (RFC 9112 §3.2, RFC 9113 §8.3.1)
 * → 400 when malformed; on TLS ports the host's listener must be the connection's → 421; the
 * normalised path → 400 when unsafe; the rule → 404; CORS preflight, redirect, direct status;
 * the backend → 500; then the plan with the upstream path and headers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledAction, CompiledBackend, CompiledCluster, CompiledConfig, CompiledListener, RouteTarget } from './compile.ts';
import { addForwardingHeaders, endToEndRequestHeaders, type HeaderMap } from './filters/headers.ts';
import { validAuthorityHost } from './hostnames.ts';
import { normalizePath } from './path-normalization.ts';
import { resolveRoute } from './resolve.ts';
import type { SessionBinding } from './session.ts';
import type { RequestStats } from './telemetry/metrics.ts';
import type { ConnectionTls } from './tls/client-validation.ts';
import { XFCC_HEADER } from './tls/xfcc.ts';

/** What `decide` reads of a request; `IncomingMessage` and `Http2ServerRequest` both fit. */
export interface RequestView {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly httpVersionMajor: number;
  readonly socket: { readonly remoteAddress?: string | undefined } | null;
}

/** How the request's connection arrived: cleartext, or TLS with the state its handshake left (undefined: never accepted by this port). */
export type ConnectionView = { readonly secure: false } | { readonly secure: true; readonly tls: ConnectionTls | undefined };

export const PLAIN_CONNECTION: ConnectionView = { secure: false };

export interface LocalAnswer {
  readonly kind: 'local';
  readonly status: number;
  /** Headers of a redirect or CORS preflight; undefined for an error with the standard body. */
  readonly headers: HeaderMap | undefined;
  readonly stats: RequestStats | undefined;
  readonly target: RouteTarget | undefined;
  /** The (normalised) path, once known, for tracing. */
  readonly path: string | undefined;
  /**
   * Which connections end after this answer: `http1` when the request was malformed (an
   * HTTP/1.1 connection cannot be trusted to be in sync after one; an HTTP/2 stream error
   * leaves the session intact), `all` when the connection was validated against
   * client-certificate settings that no longer apply (HTTP/2 gets GOAWAY).
   */
  readonly closeConnection: 'never' | 'http1' | 'all';
}

export interface ForwardPlan {
  readonly kind: 'forward';
  readonly config: CompiledConfig;
  /** The listener's id, for tracing. */
  readonly listener: string;
  readonly target: RouteTarget;
  readonly action: CompiledAction;
  readonly backend: CompiledBackend;
  readonly cluster: CompiledCluster;
  readonly stats: RequestStats;
  readonly method: string;
  /** The normalised path, for tracing. */
  readonly path: string;
  /** What goes on the upstream request line: the normalised (and rewritten) path and the query. */
  readonly upstreamPath: string;
  readonly headers: HeaderMap;
  /** Session persistence of the rule: the endpoint the request is pinned to, and how to pin it. */
  readonly session: SessionBinding<CompiledBackend> | undefined;
}

export type Decision = LocalAnswer | ForwardPlan;

function local(status: number, stats: RequestStats | undefined, extra: Partial<Pick<LocalAnswer, 'headers' | 'target' | 'path' | 'closeConnection'>> = {}): LocalAnswer {
  return { kind: 'local', status, headers: extra.headers, stats, target: extra.target, path: extra.path, closeConnection: extra.closeConnection ?? 'never' };
}

const NO_CONFIG = local(503, undefined);

/**
 * The request's one host, lower-case without port ('' when it names none), or undefined when
 * the request is malformed: two Host fields, a Host that differs from HTTP/2's `:authority`
 * (which wins), or a value that is not `host[:port]`.
 */
export function requestHost(req: RequestView): string | undefined {
  const raw = req.rawHeaders;
  let hostFields = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hostFields > 1) return undefined;
  }
  const host = req.headers.host;
  let authority = host;
  if (req.httpVersionMajor === 2) {
    const pseudo = req.headers[':authority'];
    if (typeof pseudo === 'string') {
      if (host !== undefined && host.toLowerCase() !== pseudo.toLowerCase()) return undefined;
      authority = pseudo;
    }
  }
  return authority === undefined || authority === '' ? '' : validAuthorityHost(authority);
}

/**
 * True when a request for `listener` (undefined: no listener of the port serves its host) must
 * not be served on this connection. On TLS ports a connection belongs to the listener its SNI
 * chose, with the client validation of that moment; a host of another listener, of none, or a
 * listener whose validation has changed since the handshake is misdirected (421), so neither
 * HTTP/2 coalescing nor a forged Host can reach a listener whose client-certificate check the
 * connection did not pass. Cleartext connections must arrive on a cleartext port.
 */
export function misdirected(listener: Pick<CompiledListener, 'id' | 'tlsKey'> | undefined, portIsTls: boolean, connection: ConnectionView): 'no' | 'misdirected' | 'stale' {
  if (!connection.secure) return portIsTls ? 'misdirected' : 'no';
  const tls = connection.tls;
  if (!portIsTls || tls === undefined) return 'misdirected';
  if (listener === undefined) return 'misdirected';
  if (listener.tlsKey === tls.selection.listener.key) return 'no';
  // Same listener, changed validation (CA rotation, mode switch): this connection is done.
  return listener.id === tls.selection.listener.id ? 'stale' : 'misdirected';
}

export function decide(config: CompiledConfig | undefined, req: RequestView, port: number, connection: ConnectionView): Decision {
  if (config === undefined) return NO_CONFIG;
  const notFound = config.notFoundStats;
  const host = requestHost(req);
  if (host === undefined) return local(400, notFound, { closeConnection: 'http1' });
  const compiledPort = config.ports.get(port);
  const listener = compiledPort?.listeners.lookup(host);
  const verdict = misdirected(listener, compiledPort?.tls !== undefined, connection);
  if (verdict !== 'no') return local(421, notFound, { closeConnection: verdict === 'stale' ? 'all' : 'never' });

  const url = req.url ?? '';
  // Only origin-form targets; a fragment never belongs in one (RFC 9112 §3.2).
  if (url.charCodeAt(0) !== 47 /* / */ || url.indexOf('#') !== -1) return local(400, notFound, { closeConnection: 'http1' });
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? '' : url.slice(mark + 1);
  const path = normalizePath(rawPath, config.pathPolicy);
  if (path === undefined) return local(400, notFound, { closeConnection: 'http1' });

  const method = req.method ?? 'GET';
  const target = listener === undefined ? undefined : resolveRoute(listener, host, method, path, query, req.headers);
  if (target === undefined || listener === undefined) return local(404, notFound, { path });
  const action = target.action;
  const stats = action.localStats;
  const answers = action.stages.answers;
  if (answers.length > 0) {
    const request = { method, headers: req.headers, scheme: listener.scheme, host, path, query, listenerPort: port, prefix: target.prefix };
    for (const answer of answers) {
      const reply = answer(request);
      if (reply !== undefined) return local(reply.status, stats, { headers: reply.headers, target, path });
    }
  }
  if (action.directStatus !== undefined) return local(action.directStatus, stats, { target, path });
  const session = action.session?.bind(req.headers, Date.now());
  const backend = session?.pinned?.backend ?? action.backends.pick();
  const cluster = backend?.cluster;
  if (backend === undefined || cluster === undefined) return local(500, stats, { target, path });
  if (!cluster.supported) return local(500, backend.stats, { target, path });

  let forwardedPath = path;
  for (const rewrite of backend.stages.upstreamPath) forwardedPath = rewrite(forwardedPath, target.prefix);
  const upstreamPath = forwardedPath === rawPath ? url : mark === -1 ? forwardedPath : `${forwardedPath}?${query}`;
  const tls = connection.secure ? connection.tls : undefined;
  const xfcc = config.xfcc.headerValue(req.headers[XFCC_HEADER], tls?.client());
  return {
    kind: 'forward',
    config,
    listener: listener.id,
    target,
    action,
    backend,
    cluster,
    stats: backend.stats,
    method,
    path,
    upstreamPath,
    headers: upstreamHeaders(req, config, listener.scheme, backend, xfcc),
    session,
  };
}

const PSEUDO_HEADERS = [':method', ':path', ':scheme', ':authority', ':protocol'];

/**
 * Outgoing request headers for the chosen backend, after forwarding headers, the client
 * certificate header and the filters' stages (URL rewrite, header modifiers). `xfcc` is the x-forwarded-client-cert value decided for the
 * connection (undefined: none is sent, whatever the client sent).
 */
function upstreamHeaders(req: RequestView, config: CompiledConfig, scheme: 'http' | 'https', backend: CompiledBackend, xfcc: string | undefined): HeaderMap {
  const headers = endToEndRequestHeaders(req.headers);
  if (req.httpVersionMajor === 2) {
    // HTTP/2 carries the target in pseudo-headers; the backend gets an ordinary Host.
    const authority = req.headers[':authority'];
    for (const name of PSEUDO_HEADERS) Reflect.deleteProperty(headers, name);
    if (typeof authority === 'string') headers.host = authority;
  }
  if (xfcc !== undefined) headers[XFCC_HEADER] = xfcc;
  else if (headers[XFCC_HEADER] !== undefined) Reflect.deleteProperty(headers, XFCC_HEADER);
  addForwardingHeaders(headers, req.headers, { scheme, remoteAddress: req.socket?.remoteAddress, trusted: config.trustForwarded });
  for (const modify of backend.stages.requestHeaders) modify(headers);
  return headers;
}
