/**
 * Session persistence (HTTPRoute/GRPCRoute rule `sessionPersistence`): a request that carries a
 * valid session token goes to the backend endpoint the token names; any other request is balanced
 * as usual and the response carries a new token naming the endpoint that answered.
 *
 * A token is `<endpoint>.<issued>.<seen>`: `endpoint` is a hash of the cluster and endpoint
 * (opaque: no address leaks to clients), `issued` and `seen` are milliseconds since the epoch in
 * base 36, for `absoluteTimeoutMs` and `idleTimeoutMs`. The token is not signed: a client can only
 * pin itself to an endpoint of the rule that exists and is healthy, or extend its own session.
 *
 * The pinned endpoint is used only while it is in the config, ready and not ejected; otherwise the
 * request is balanced normally and re-pinned to wherever it went.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SessionPersistence } from '../api-types/dataplane-config.ts';
import type { HeaderMap } from './filters/headers.ts';
import type { EndpointSet, Upstream } from './upstreams.ts';

/** What a session table needs to know of a rule's backend. */
export interface SessionBackend {
  readonly cluster: { readonly id: string; readonly endpoints: EndpointSet } | undefined;
}

interface Pin<B> {
  readonly backend: B;
  readonly upstream: Upstream;
  readonly token: string;
}

/** A request's session: where it is pinned (if anywhere valid) and how to answer. */
export class SessionBinding<B extends SessionBackend = SessionBackend> {
  readonly table: SessionTable<B>;
  /** The endpoint of a valid token, when that endpoint can take the request. */
  readonly pinned: Pin<B> | undefined;
  /** When the token was issued (ms); `now` for a new session. */
  private readonly issuedMs: number;
  private readonly nowMs: number;

  constructor(table: SessionTable<B>, pinned: Pin<B> | undefined, issuedMs: number, nowMs: number) {
    this.table = table;
    this.pinned = pinned;
    this.issuedMs = issuedMs;
    this.nowMs = nowMs;
  }

  /** The pinned endpoint, unless this request already failed on it (`tried`) or it was ejected since. */
  upstream(tried: readonly Upstream[] | undefined, now: number): Upstream | undefined {
    const upstream = this.pinned?.upstream;
    if (upstream === undefined || upstream.isEjected(now) || (tried !== undefined && tried.includes(upstream))) return undefined;
    return upstream;
  }

  /** Adds the session cookie or header naming `upstream` to a response when the client needs a new or refreshed one. */
  stamp(headers: HeaderMap, upstream: Upstream): void {
    const table = this.table;
    const token = table.tokenOf(upstream);
    if (token === undefined) return;
    const samePin = this.pinned !== undefined && this.pinned.upstream === upstream;
    // An unchanged session is re-sent only when idling refreshes it.
    if (samePin && table.spec.idleTimeoutMs === undefined) return;
    const issuedMs = samePin ? this.issuedMs : this.nowMs;
    const value = `${token}.${stampOf(issuedMs)}.${stampOf(this.nowMs)}`;
    if (table.spec.type === 'Header') {
      headers[table.headerName] = value;
      return;
    }
    appendSetCookie(headers, table.cookie(value, issuedMs, this.nowMs));
  }
}

function stampOf(ms: number): string {
  return Math.floor(ms).toString(36);
}

function appendSetCookie(headers: HeaderMap, cookie: string): void {
  const existing = headers['set-cookie'];
  if (existing === undefined) headers['set-cookie'] = [cookie];
  else if (Array.isArray(existing)) existing.push(cookie);
  else headers['set-cookie'] = [existing, cookie];
}

/** The value of cookie `name` in a Cookie header (HTTP/2 may split it over several fields). */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const fields = Array.isArray(header) ? header : [header];
  for (const field of fields) {
    for (const pair of field.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** Per rule: the endpoints its tokens can name, built at swap time. */
export class SessionTable<B extends SessionBackend = SessionBackend> {
  readonly spec: SessionPersistence;
  readonly headerName: string;
  private readonly byToken = new Map<string, { backend: B; upstream: Upstream }>();
  private readonly tokens = new Map<Upstream, string>();

  constructor(spec: SessionPersistence, backends: readonly { readonly item: B; readonly weight: number }[]) {
    this.spec = spec;
    this.headerName = spec.sessionName.toLowerCase();
    for (const { item: backend, weight } of backends) {
      const cluster = backend.cluster;
      // A backend with weight 0 takes no traffic, so no session can be bound to it.
      if (cluster === undefined || weight <= 0) continue;
      for (const upstream of cluster.endpoints.members()) {
        const token = createHash('sha256').update(`${cluster.id}\n${upstream.key}`).digest('base64url').slice(0, 22);
        this.byToken.set(token, { backend, upstream });
        this.tokens.set(upstream, token);
      }
    }
  }

  tokenOf(upstream: Upstream): string | undefined {
    return this.tokens.get(upstream);
  }

  /** The request's session: pinned when its token is valid, unexpired and names a ready endpoint. */
  bind(headers: IncomingHttpHeaders, nowMs: number): SessionBinding<B> {
    const raw = this.spec.type === 'Header' ? headers[this.headerName] : cookieValue(headers.cookie, this.spec.sessionName);
    const value = Array.isArray(raw) ? raw[0] : raw;
    const parsed = value === undefined ? undefined : this.parse(value, nowMs);
    if (parsed === undefined) return new SessionBinding(this, undefined, nowMs, nowMs);
    return new SessionBinding(this, parsed.pin, parsed.issuedMs, nowMs);
  }

  private parse(value: string, nowMs: number): { pin: Pin<B> | undefined; issuedMs: number } | undefined {
    const parts = value.split('.');
    if (parts.length !== 3) return undefined;
    const [token, issued, seen] = parts as [string, string, string];
    const issuedMs = Number.parseInt(issued, 36);
    const seenMs = Number.parseInt(seen, 36);
    if (!Number.isFinite(issuedMs) || !Number.isFinite(seenMs)) return undefined;
    const { absoluteTimeoutMs, idleTimeoutMs } = this.spec;
    if (absoluteTimeoutMs !== undefined && nowMs - issuedMs >= absoluteTimeoutMs) return undefined;
    if (idleTimeoutMs !== undefined && nowMs - seenMs >= idleTimeoutMs) return undefined;
    const entry = this.byToken.get(token);
    if (entry === undefined || !entry.backend.cluster?.endpoints.isReady(entry.upstream)) return { pin: undefined, issuedMs: nowMs };
    return { pin: { backend: entry.backend, upstream: entry.upstream, token }, issuedMs };
  }

  /** The Set-Cookie value for a token issued at `issuedMs`. */
  cookie(value: string, issuedMs: number, nowMs: number): string {
    const spec = this.spec;
    let cookie = `${spec.sessionName}=${value}; Path=${spec.cookiePath ?? '/'}; HttpOnly`;
    if (spec.cookieLifetime === 'Permanent' && spec.absoluteTimeoutMs !== undefined) {
      const remaining = Math.max(0, Math.floor((issuedMs + spec.absoluteTimeoutMs - nowMs) / 1000));
      cookie += `; Max-Age=${remaining}`;
    }
    return cookie;
  }
}
