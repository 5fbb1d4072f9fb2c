/**
 * The request path: resolve the rule, run the filters, forward to a backend endpoint and stream
 * the answer back. One `Exchange` per request and one `Attempt` per upstream try; both are plain
 * objects with prototype methods (no per-request closures) used directly as undici dispatch
 * handlers, so bodies flow chunk by chunk with backpressure and nothing is buffered.
 *
 * The compiled config is read once when a request starts; a swap in the middle of a request
 * does not affect it.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CompiledAction, CompiledBackend, CompiledCluster, CompiledConfig, RouteTarget } from './compile.ts';
import { addActualResponseHeaders, isPreflight, preflightHeaders } from './filters/cors.ts';
import {
  addForwardingHeaders,
  applyHeaderModifier,
  endToEndRequestHeaders,
  stripResponseHopByHop,
  type HeaderMap,
} from './filters/headers.ts';
import { modifyPath } from './filters/paths.ts';
import { redirectLocation } from './filters/redirect.ts';
import { isGrpcRequest, respondTrailersOnly, sendGrpcError } from './grpc/errors.ts';
import { hostOf } from './hostnames.ts';
import type { ServerReply, ServerRequest } from './listeners.ts';
import { resolveListener, resolveRoute } from './resolve.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics, RequestStats } from './telemetry/metrics.ts';
import { Tracing, type Span } from './telemetry/tracing.ts';
import type { PortCertificates } from './tls/certificates.ts';
import { inspectPlainRequest, inspectTlsRequest } from './tls/request-tls.ts';
import { XFCC_HEADER } from './tls/xfcc.ts';
import type { Upstream } from './upstreams.ts';
import { proxyUpgrade } from './upgrade.ts';
import type { Duplex } from 'node:stream';

export interface ConfigSource {
  readonly current: CompiledConfig | undefined;
}

export interface ProxyOptions {
  source: ConfigSource;
  log: Logger;
  tracing: Tracing | undefined;
  /** Where tunnels closed by a limit are counted. */
  metrics?: DataplaneMetrics | undefined;
}

/** Errors we abort upstream attempts with, to tell our own aborts from network failures. */
class ProxyAbort extends Error {
  readonly kind: 'request-timeout' | 'backend-timeout' | 'client-gone' | 'retry';
  constructor(kind: ProxyAbort['kind']) {
    super(kind);
    this.kind = kind;
  }
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET_BEFORE_CONNECT']);

function isConnectError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && CONNECT_ERRORS.has(code);
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };
const BODIES = new Map<number, Buffer>([
  [400, Buffer.from('bad request\n')],
  [404, Buffer.from('no route matches this request\n')],
  [421, Buffer.from('this host is served on another connection\n')],
  [500, Buffer.from('this route has no valid backend\n')],
  [502, Buffer.from('the backend failed to answer\n')],
  [503, Buffer.from('no backend endpoint is available\n')],
  [504, Buffer.from('the backend did not answer in time\n')],
]);

const MESSAGES = new Map<number, string>([
  [400, 'bad request'],
  [404, 'no route matches this request'],
  [421, 'this host is served on another connection'],
  [500, 'this route has no valid backend'],
  [502, 'the backend failed to answer'],
  [503, 'no backend endpoint is available'],
  [504, 'the backend did not answer in time'],
]);

export function sendLocal(res: ServerReply, status: number, headers?: HeaderMap): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = headers === undefined ? BODIES.get(status) : undefined;
  res.writeHead(status, headers ?? TEXT);
  if (body === undefined) res.end();
  else res.end(body);
}

export class HttpProxy {
  readonly source: ConfigSource;
  readonly log: Logger;
  readonly tracing: Tracing | undefined;
  readonly metrics: DataplaneMetrics | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: ProxyOptions) {
    this.source = options.source;
    this.log = options.log;
    this.tracing = options.tracing;
    this.metrics = options.metrics;
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  /** Resolves once no request is in flight. */
  async idle(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestEnded(): void {
    if (--this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The `request` handler of a listener on `port`; `tls` is set on HTTPS ports. */
  handle(req: ServerRequest, res: ServerReply, port: number, tls?: PortCertificates): void {
    new Exchange(this, req, res).start(port, tls);
  }

  /** The `upgrade` handler of a listener on `port` (WebSocket). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number, tls?: PortCertificates): void {
    proxyUpgrade(this, req, socket, head, port, tls);
  }
}

export interface ParsedTarget {
  config: CompiledConfig;
  target: RouteTarget | undefined;
  host: string;
  path: string;
  query: string;
  scheme: 'http' | 'https';
}

/** The request's authority: `Host`, or HTTP/2's `:authority` when the client sent no Host. */
export function authorityOf(req: ServerRequest): string | undefined {
  const host = req.headers.host;
  if (host !== undefined || req.httpVersionMajor !== 2) return host;
  const authority = req.headers[':authority'];
  return typeof authority === 'string' ? authority : undefined;
}

/**
 * What the client's connection decides about the request: 421 on HTTPS when the Host belongs
 * to another listener than the handshake's, and the x-forwarded-client-cert value for the
 * backend. On plain HTTP the only cost is checking that no XFCC came in.
 */
export function connectionVerdict(req: ServerRequest, config: CompiledConfig, tls: PortCertificates | undefined): { misdirected: boolean; xfcc: string | undefined } | undefined {
  if (tls !== undefined) return inspectTlsRequest(req, tls, config.xfcc);
  if (req.headers[XFCC_HEADER] === undefined) return undefined;
  return inspectPlainRequest(req.headers, config.xfcc);
}

/** Splits the request target and resolves the rule; undefined when the target is unusable. */
export function parseAndResolve(config: CompiledConfig, req: ServerRequest, port: number): ParsedTarget | undefined {
  const url = req.url ?? '';
  if (url.charCodeAt(0) !== 47 /* / */) return undefined;
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? '' : url.slice(mark + 1);
  const host = hostOf(authorityOf(req));
  const listener = resolveListener(config.ports.get(port), host);
  const target = listener === undefined ? undefined : resolveRoute(listener, host, req.method ?? 'GET', path, query, req.headers);
  return { config, target, host, path, query, scheme: listener?.scheme ?? 'http' };
}

const PSEUDO_HEADERS = [':method', ':path', ':scheme', ':authority', ':protocol'];

/**
 * Outgoing request headers for the chosen backend, after forwarding headers, the client
 * certificate header and modifiers. `xfcc` is the x-forwarded-client-cert value decided for the
 * connection (undefined: none is sent, whatever the client sent).
 */
export function upstreamHeaders(
  req: ServerRequest,
  config: CompiledConfig,
  scheme: 'http' | 'https',
  action: CompiledAction,
  backend: CompiledBackend,
  xfcc: string | undefined,
): HeaderMap {
  const headers = endToEndRequestHeaders(req.headers);
  if (req.httpVersionMajor === 2) {
    // HTTP/2 carries the target in pseudo-headers; the backend gets an ordinary Host.
    for (const name of PSEUDO_HEADERS) Reflect.deleteProperty(headers, name);
    const authority = authorityOf(req);
    if (authority !== undefined) headers.host = authority;
  }
  if (xfcc !== undefined) headers[XFCC_HEADER] = xfcc;
  else if (headers[XFCC_HEADER] !== undefined) Reflect.deleteProperty(headers, XFCC_HEADER);
  addForwardingHeaders(headers, req.headers, { scheme, remoteAddress: req.socket.remoteAddress, trusted: config.trustForwarded });
  if (action.rewriteHost !== undefined) headers.host = action.rewriteHost;
  if (action.requestHeaders !== undefined) applyHeaderModifier(headers, action.requestHeaders);
  if (backend.requestHeaders !== undefined) applyHeaderModifier(headers, backend.requestHeaders);
  return headers;
}

export function upstreamPath(action: CompiledAction, target: RouteTarget, parsed: ParsedTarget, originalUrl: string): string {
  if (action.rewritePath === undefined) return originalUrl;
  const path = modifyPath(parsed.path, action.rewritePath, target.prefix);
  return parsed.query === '' ? path : `${path}?${parsed.query}`;
}

function hasBody(req: ServerRequest): boolean {
  // HTTP/2 needs no length or chunking to carry a body: only END_STREAM on the headers says none.
  if (req.httpVersionMajor === 2) return !(req as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Discards a mirror's response and gives its endpoint slot back when the exchange ends. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  private readonly upstream: Upstream;
  private released = false;

  constructor(upstream: Upstream) {
    this.upstream = upstream;
  }

  // undici tells this handler API from its legacy one by these methods being present.
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}

  onResponseEnd(): void {
    this.release();
  }

  onResponseError(): void {
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.upstream.release();
  }
}

function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

class Exchange {
  private readonly proxy: HttpProxy;
  private readonly req: ServerRequest;
  private readonly res: ServerReply;
  private readonly startedAt = performance.now();
  private stats: RequestStats | undefined;
  private action: CompiledAction | undefined;
  private backend: CompiledBackend | undefined;
  private cluster: CompiledCluster | undefined;
  private method = 'GET';
  private path = '/';
  private headers: HeaderMap | undefined;
  private body: Readable | null = null;
  private replayable = true;
  private retriesLeft = 0;
  private tried: Upstream[] | undefined;
  private attempt: Attempt | undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private span: Span | undefined;
  private target: RouteTarget | undefined;
  private trailersOnly = false;

  constructor(proxy: HttpProxy, req: ServerRequest, res: ServerReply) {
    this.proxy = proxy;
    this.req = req;
    this.res = res;
  }

  start(port: number, tls: PortCertificates | undefined): void {
    const { proxy, req, res } = this;
    proxy.requestStarted();
    res.once('close', this.onClientClose);
    const config = proxy.source.current;
    if (config === undefined) {
      this.answer(503);
      return;
    }
    const verdict = connectionVerdict(req, config, tls);
    if (verdict?.misdirected === true) {
      this.stats = config.notFoundStats;
      this.answer(421);
      return;
    }
    const parsed = parseAndResolve(config, req, port);
    if (parsed === undefined) {
      this.stats = config.notFoundStats;
      this.answer(400);
      return;
    }
    const target = parsed.target;
    this.target = target;
    this.method = req.method ?? 'GET';
    if (proxy.tracing !== undefined) {
      this.span = proxy.tracing.startServer(target === undefined ? this.method : `${this.method} ${target.action.route}`, req.headers, {
        'http.request.method': this.method,
        'url.path': parsed.path,
        'server.port': port,
      });
    }
    if (target === undefined) {
      this.stats = config.notFoundStats;
      this.answer(404);
      return;
    }
    const action = target.action;
    this.action = action;
    this.stats = action.localStats;

    if (action.cors !== undefined && isPreflight(this.method, req.headers)) {
      this.answer(200, preflightHeaders(action.cors, req.headers) ?? {});
      return;
    }
    if (action.redirect !== undefined) {
      const location = redirectLocation(action.redirect, { scheme: parsed.scheme, host: parsed.host, path: parsed.path, query: parsed.query, listenerPort: port }, target.prefix);
      this.answer(action.redirect.statusCode, { location, 'content-length': '0' });
      return;
    }
    if (action.directStatus !== undefined) {
      this.answer(action.directStatus);
      return;
    }
    const backend = action.backends.pick();
    if (backend?.cluster === undefined) {
      this.answer(500);
      return;
    }
    this.backend = backend;
    this.stats = backend.stats;
    const cluster = backend.cluster;
    this.cluster = cluster;
    if (!cluster.supported) {
      this.answer(500);
      return;
    }

    this.path = upstreamPath(action, target, parsed, req.url ?? '/');
    const headers = upstreamHeaders(req, config, parsed.scheme, action, backend, verdict?.xfcc);
    this.headers = headers;
    if (hasBody(req)) {
      this.replayable = false;
      // undici destroys a body stream on failure; giving it our own stream keeps the client's
      // socket alive so we can still answer with an error status.
      this.body = req.pipe(new PassThrough());
    }
    if (action.mirrors.length > 0) this.mirror(action, headers);
    this.retriesLeft = action.retry?.attempts ?? 0;
    if (action.requestTimeoutMs !== undefined) {
      this.requestTimer = setTimeout(this.onRequestTimeout, action.requestTimeoutMs);
    }
    this.send();
  }

  private mirror(action: CompiledAction, headers: HeaderMap): void {
    const now = performance.now();
    for (const mirror of action.mirrors) {
      if (mirror.percent < 100 && Math.random() * 100 >= mirror.percent) continue;
      const upstream = mirror.cluster.supported ? mirror.cluster.endpoints.pick(undefined, now) : undefined;
      // A mirror copy is the first thing to drop when the endpoint is full.
      if (upstream === undefined || !upstream.tryAcquire()) continue;
      let body: Readable | null = null;
      if (this.body !== null) {
        const copy = new PassThrough();
        copy.on('error', () => undefined);
        this.req.pipe(copy);
        body = copy;
      }
      const handler = new MirrorHandler(upstream);
      try {
        upstream.pool.dispatch({ method: this.method, path: this.path, headers: { ...headers }, body }, handler);
      } catch (error) {
        handler.onResponseError();
        this.proxy.log.debug({ err: error, cluster: mirror.cluster.id }, 'mirror dispatch failed');
      }
    }
  }

  /** Starts an attempt on an endpoint not yet tried for this request. */
  private send(): void {
    const cluster = this.cluster as CompiledCluster;
    const upstream = cluster.endpoints.pick(this.tried, performance.now());
    if (upstream === undefined) {
      // Every endpoint refused a connection (or there is none).
      if (this.tried === undefined) this.answer(503);
      else this.retry(503, 'connect');
      return;
    }
    if (!upstream.tryAcquire()) {
      // Connections and queue of this endpoint are full: shed load now rather than queue without bound.
      (this.backend as CompiledBackend).stats.overflow();
      this.answer(503);
      return;
    }
    const headers = this.headers as HeaderMap;
    const attempt = new Attempt(this, upstream);
    this.attempt = attempt;
    const tracing = this.proxy.tracing;
    if (tracing !== undefined && this.span !== undefined) {
      attempt.span = tracing.startClient(this.span, this.method, { 'server.address': upstream.origin, 'http.request.method': this.method });
      tracing.inject(attempt.span, headers);
    }
    const timeout = (this.action as CompiledAction).backendTimeoutMs;
    if (timeout !== undefined) attempt.timer = setTimeout(() => { attempt.abort(new ProxyAbort('backend-timeout')); }, timeout);
    try {
      upstream.pool.dispatch({ method: this.method, path: this.path, headers, body: this.body }, attempt);
    } catch (error) {
      this.attemptFailed(attempt, error as Error);
    }
  }

  responseStart(attempt: Attempt, status: number, headers: HeaderMap): boolean {
    if (attempt !== this.attempt || this.finished) return false;
    const retry = (this.action as CompiledAction).retry;
    if (retry !== undefined && this.retriesLeft > 0 && this.replayable && retry.codes.has(status)) {
      attempt.discarding = true;
      return true;
    }
    const action = this.action as CompiledAction;
    const backend = this.backend as CompiledBackend;
    stripResponseHopByHop(headers);
    if (action.responseHeaders !== undefined) applyHeaderModifier(headers, action.responseHeaders);
    if (backend.responseHeaders !== undefined) applyHeaderModifier(headers, backend.responseHeaders);
    if (action.cors !== undefined) addActualResponseHeaders(action.cors, this.req.headers.origin, headers);
    if (headers['grpc-status'] !== undefined) {
      // gRPC puts grpc-status in the headers only in a trailers-only response: no body follows.
      respondTrailersOnly(this.res, status, headers);
      this.trailersOnly = true;
      return true;
    }
    this.res.writeHead(status, headers);
    return true;
  }

  write(chunk: Buffer): boolean {
    return this.trailersOnly || this.res.write(chunk);
  }

  readonly onDrain = (): void => {
    this.attempt?.resume();
  };

  waitForDrain(): void {
    this.res.once('drain', this.onDrain);
  }

  responseEnd(attempt: Attempt, trailers: Record<string, string | string[] | undefined> | undefined): void {
    attempt.finish('response');
    if (attempt !== this.attempt || this.finished) return;
    if (attempt.discarding) {
      this.retry(attempt.status, 'status');
      return;
    }
    // Trailers (gRPC's grpc-status) pass through; HTTP/1.1 clients get them after a chunked body.
    if (!this.trailersOnly) {
      if (trailers !== undefined && hasAny(trailers)) this.res.addTrailers(trailers);
      this.res.end();
    }
    this.finish(attempt.status);
  }

  attemptFailed(attempt: Attempt, error: Error): void {
    const abort = error instanceof ProxyAbort ? error : undefined;
    attempt.finish(abort?.kind === 'backend-timeout' ? 'timeout' : isConnectError(error) ? 'connect_error' : 'error', error.message);
    if (attempt !== this.attempt || this.finished || abort?.kind === 'client-gone' || abort?.kind === 'request-timeout') return;
    const backend = this.backend as CompiledBackend;
    if (this.res.headersSent && !attempt.discarding) {
      // The response is already streaming; all we can do is cut it.
      this.res.destroy(error);
      this.finish(attempt.status === 0 ? 502 : attempt.status);
      return;
    }
    if (abort === undefined && isConnectError(error)) {
      backend.stats.connectError();
      attempt.upstream.eject(performance.now());
      if (this.replayable) {
        // Nothing reached the backend: moving to another endpoint is always safe.
        (this.tried ??= []).push(attempt.upstream);
        this.send();
        return;
      }
      this.answer(503);
      return;
    }
    if (abort?.kind === 'backend-timeout') this.retry(504, 'status');
    else this.retry(502, 'error');
  }

  /**
   * Tries again after a retryable outcome, or answers with `status` when no retry is left:
   * `status` retries need the code listed, `connect` retries need `connectionErrors`, and a
   * backend that broke the connection mid-request counts as a 502.
   */
  private retry(status: number, cause: 'status' | 'connect' | 'error'): void {
    const retry = (this.action as CompiledAction).retry;
    const allowed =
      retry !== undefined &&
      (cause === 'connect' ? retry.connectionErrors : retry.codes.has(status) || (cause === 'error' && retry.connectionErrors));
    if (!allowed || this.retriesLeft <= 0 || !this.replayable) {
      this.answer(status);
      return;
    }
    const attemptNumber = retry.attempts - this.retriesLeft;
    this.retriesLeft--;
    this.tried = undefined;
    const delay = retry.backoffMs * 2 ** attemptNumber * (0.5 + Math.random() / 2);
    if (delay < 1) this.send();
    else setTimeout(() => { if (!this.finished) this.send(); }, delay);
  }

  private readonly onRequestTimeout = (): void => {
    this.requestTimer = undefined;
    this.attempt?.abort(new ProxyAbort('request-timeout'));
    if (this.res.headersSent) {
      this.res.destroy();
      this.finish(504);
    } else {
      this.answer(504);
    }
  };

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.attempt?.abort(new ProxyAbort('client-gone'));
    this.body?.destroy();
    this.finish(499);
  };

  /** Answers from the dataplane itself; errors to gRPC requests are gRPC-shaped. */
  private answer(status: number, headers?: HeaderMap): void {
    if (this.finished) return;
    if (status >= 400 && headers === undefined && (this.target?.grpc === true || isGrpcRequest(this.req.headers))) {
      sendGrpcError(this.res, status, MESSAGES.get(status) ?? 'error');
    } else {
      sendLocal(this.res, status, headers);
    }
    this.finish(status);
  }

  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.requestTimer !== undefined) clearTimeout(this.requestTimer);
    this.stats?.record(status, (performance.now() - this.startedAt) / 1000);
    if (this.span !== undefined) Tracing.end(this.span, status);
    this.proxy.requestEnded();
  }
}

class Attempt implements Dispatcher.DispatchHandler {
  readonly exchange: Exchange;
  readonly upstream: Upstream;
  controller: Dispatcher.DispatchController | undefined;
  pendingAbort: Error | undefined;
  timer: NodeJS.Timeout | undefined;
  span: Span | undefined;
  status = 0;
  discarding = false;
  private done = false;

  constructor(exchange: Exchange, upstream: Upstream) {
    this.exchange = exchange;
    this.upstream = upstream;
  }

  abort(reason: Error): void {
    if (this.done) return;
    if (this.controller === undefined) this.pendingAbort = reason;
    else this.controller.abort(reason);
  }

  resume(): void {
    this.controller?.resume();
  }

  finish(result: 'response' | 'connect_error' | 'error' | 'timeout', error?: string): void {
    if (this.done) return;
    this.done = true;
    this.upstream.release();
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.span !== undefined) Tracing.end(this.span, this.status, result === 'response' ? undefined : error ?? result);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort !== undefined) controller.abort(this.pendingAbort);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.controller = controller;
    this.status = statusCode;
    if (!this.exchange.responseStart(this, statusCode, headers as HeaderMap)) controller.abort(new ProxyAbort('retry'));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discarding) return;
    if (!this.exchange.write(chunk)) {
      controller.pause();
      this.exchange.waitForDrain();
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.exchange.responseEnd(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.exchange.attemptFailed(this, error);
  }
}
