/**
 * The HTTP executor (HTTP/1.1, HTTP/2, gRPC): carries out what `decide` returned. A local answer
 * is written as is; a forward plan becomes one `Exchange` per request and one `Attempt` per
 * upstream try. Both are plain objects with prototype methods (no per-request closures) used
 * directly as undici dispatch handlers, so bodies flow chunk by chunk with backpressure and
 * nothing is buffered.
 *
 * The compiled config is read once when a request starts; a swap in the middle of a request
 * does not affect it.
 */
import type { Http2ServerRequest } from 'node:http2';
import { PassThrough, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CompiledAction, CompiledBackend, CompiledCluster, RouteTarget } from './compile.ts';
import { decide, PLAIN_CONNECTION, type ConnectionView, type ForwardPlan, type LocalAnswer } from './decide.ts';
import { stripResponseHopByHop, type HeaderMap } from './filters/headers.ts';
import { endWithGrpcStatus, GrpcStatus, isGrpcRequest, respondTrailersOnly, sendGrpcError } from './grpc/errors.ts';
import { requestDeadlineMs } from './grpc/timeout.ts';
import type { ServerReply, ServerRequest } from './listeners.ts';
import { localMessage, sendLocal } from './local-answers.ts';
import type { ProxyContext } from './proxy-context.ts';
import { collectBody, replay, type CollectedBody } from './retry-body.ts';
import type { SessionBinding } from './session.ts';
import type { RequestStats } from './telemetry/metrics.ts';
import { Tracing, type Span } from './telemetry/tracing.ts';
import { clientAttributes, serverAttributes, serverSpanName } from './telemetry/request-spans.ts';
import { connectionTls, tlsSocketOf } from './tls/client-validation.ts';
import type { Upstream } from './upstreams.ts';

/** Errors we abort upstream attempts with, to tell our own aborts from network failures. */
class ProxyAbort extends Error {
  readonly kind: 'request-timeout' | 'backend-timeout' | 'client-gone' | 'retry';
  constructor(kind: ProxyAbort['kind']) {
    super(kind);
    this.kind = kind;
  }
}

/** Longest wait between two retries, unless the route's base backoff is longer. */
const MAX_RETRY_BACKOFF_MS = 1_000;

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET_BEFORE_CONNECT']);

export function isConnectError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && CONNECT_ERRORS.has(code);
}

/** The connection facts `decide` needs, from the request's socket. */
export function connectionOf(req: ServerRequest, secure: boolean): ConnectionView {
  if (!secure) return tlsSocketOf(req) === undefined ? PLAIN_CONNECTION : { secure: true, tls: undefined };
  const socket = tlsSocketOf(req);
  return { secure: true, tls: socket === undefined ? undefined : connectionTls(socket) };
}

/** Handles one request on `port` (`secure`: an HTTPS port). */
export function handleRequest(context: ProxyContext, req: ServerRequest, res: ServerReply, port: number, secure: boolean): void {
  new Exchange(context, req, res).start(port, secure);
}

function hasBody(req: ServerRequest): boolean {
  // HTTP/2 needs no length or chunking to carry a body: only END_STREAM on the headers says none.
  if (req.httpVersionMajor === 2) return !(req as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

class Exchange {
  private readonly proxy: ProxyContext;
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
  private body: Readable | Buffer | null = null;
  private replayable = true;
  private retriesLeft = 0;
  private tried: Upstream[] | undefined;
  private attempt: Attempt | undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private span: Span | undefined;
  /** Attempts started, for the client spans' resend count. */
  private attempts = 0;
  private target: RouteTarget | undefined;
  private trailersOnly = false;
  private session: SessionBinding<CompiledBackend> | undefined;

  constructor(proxy: ProxyContext, req: ServerRequest, res: ServerReply) {
    this.proxy = proxy;
    this.req = req;
    this.res = res;
  }

  start(port: number, secure: boolean): void {
    const { proxy, req, res } = this;
    proxy.requestStarted();
    res.once('close', this.onClientClose);
    const decision = decide(proxy.source.current, req, port, connectionOf(req, secure));
    this.method = req.method ?? 'GET';
    this.target = decision.target;
    this.stats = decision.stats;
    if (proxy.tracing !== undefined && decision.path !== undefined) {
      this.span = proxy.tracing.startServer(serverSpanName(this.method, decision), req.headers, serverAttributes(req, decision, port, secure));
    }
    if (decision.kind === 'local') {
      this.answer(decision.status, decision.headers, decision.closeConnection);
      return;
    }
    this.forward(decision);
  }

  private forward(plan: ForwardPlan): void {
    const { req } = this;
    const action = plan.action;
    this.action = action;
    this.backend = plan.backend;
    this.cluster = plan.cluster;
    this.path = plan.upstreamPath;
    this.headers = plan.headers;
    this.session = plan.session;
    this.retriesLeft = action.retry?.attempts ?? 0;
    const deadlineMs = requestDeadlineMs(action.requestTimeoutMs, req.headers);
    if (deadlineMs !== undefined) this.requestTimer = setTimeout(this.onRequestTimeout, deadlineMs);
    if (hasBody(req)) {
      const limit = plan.config.limits.retryBodyBufferBytes;
      if (action.retry !== undefined && limit > 0) {
        collectBody(req, limit, this.onBodyCollected);
        return;
      }
      this.replayable = false;
      // undici destroys a body stream on failure; giving it our own stream keeps the client's
      // socket alive so we can still answer with an error status.
      this.body = req.pipe(new PassThrough());
    }
    this.dispatchFirst();
  }

  private readonly onBodyCollected = (collected: CollectedBody): void => {
    if (this.finished) return;
    if (collected.kind === 'failed') {
      this.answer(400);
      return;
    }
    this.body = collected.body;
    if (collected.kind === 'streamed') {
      this.replayable = false;
      this.proxy.metrics?.retrySkipped('body_too_large');
    }
    this.dispatchFirst();
  };

  private dispatchFirst(): void {
    const action = this.action as CompiledAction;
    if (action.stages.copies.length > 0) this.copy(action, this.headers as HeaderMap);
    this.send();
  }

  /** Hands the forwarded request to the filters that send copies of it (mirrors). */
  private copy(action: CompiledAction, headers: HeaderMap): void {
    const forwarded = {
      method: this.method,
      path: this.path,
      headers,
      body: (): Readable | null => {
        if (this.body === null) return null;
        if (Buffer.isBuffer(this.body)) return replay(this.body);
        const copy = new PassThrough();
        copy.on('error', () => undefined);
        this.req.pipe(copy);
        return copy;
      },
      log: this.proxy.log,
      traceCopy: (upstream: Upstream, clusterId: string, copyHeaders: HeaderMap) => {
        const { tracing } = this.proxy;
        if (tracing === undefined || this.span === undefined) return () => undefined;
        const span = tracing.startClient(this.span, `${this.method} mirror`, clientAttributes(this.method, upstream, clusterId, 0, true));
        tracing.inject(span, copyHeaders);
        return (status: number, error?: string) => { Tracing.end(span, status, error); };
      },
    };
    for (const copy of action.stages.copies) copy(forwarded);
  }

  /** Starts an attempt on an endpoint not yet tried for this request. */
  private send(): void {
    const cluster = this.cluster as CompiledCluster;
    const now = performance.now();
    const upstream = this.session?.upstream(this.tried, now) ?? cluster.endpoints.pick(this.tried, now);
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
    const resendCount = this.attempts++;
    const tracing = this.proxy.tracing;
    if (tracing !== undefined && this.span !== undefined) {
      attempt.span = tracing.startClient(this.span, this.method, clientAttributes(this.method, upstream, (this.cluster as CompiledCluster).id, resendCount));
      tracing.inject(attempt.span, headers);
    }
    const timeout = (this.action as CompiledAction).backendTimeoutMs;
    if (timeout !== undefined) attempt.timer = setTimeout(() => { attempt.abort(new ProxyAbort('backend-timeout')); }, timeout);
    try {
      upstream.dispatch({ method: this.method, path: this.path, headers, body: this.body }, attempt);
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
    stripResponseHopByHop(headers);
    this.session?.stamp(headers, attempt.upstream);
    for (const modify of (this.backend as CompiledBackend).stages.responseHeaders) modify(headers, this.req.headers);
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
    // Exponential from the base, capped so a route with many attempts keeps retrying at a steady pace.
    const delay = Math.min(retry.backoffMs * 2 ** attemptNumber, Math.max(retry.backoffMs, MAX_RETRY_BACKOFF_MS)) * (0.5 + Math.random() / 2);
    if (delay < 1) this.send();
    else setTimeout(() => { if (!this.finished) this.send(); }, delay);
  }

  private readonly onRequestTimeout = (): void => {
    this.requestTimer = undefined;
    this.attempt?.abort(new ProxyAbort('request-timeout'));
    if (this.res.headersSent) {
      // A gRPC response already streaming still ends with a status the client can read.
      if (!this.trailersOnly && isGrpcRequest(this.req.headers)) endWithGrpcStatus(this.res, GrpcStatus.DEADLINE_EXCEEDED, localMessage(504));
      else this.res.destroy();
      this.finish(504);
    } else {
      this.answer(504);
    }
  };

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.attempt?.abort(new ProxyAbort('client-gone'));
    if (this.body instanceof Readable) this.body.destroy();
    this.finish(499);
  };

  /**
   * Answers from the dataplane itself; errors to gRPC requests are gRPC-shaped. `close` says
   * which connections end after the answer (HTTP/2: GOAWAY, letting other streams finish).
   */
  private answer(status: number, headers?: HeaderMap, close: LocalAnswer['closeConnection'] = 'never'): void {
    if (this.finished) return;
    const http2 = this.req.httpVersionMajor === 2;
    if (status >= 400 && headers === undefined && (this.target?.grpc === true || isGrpcRequest(this.req.headers))) {
      sendGrpcError(this.res, status, localMessage(status));
    } else {
      sendLocal(this.res, status, headers, close !== 'never' && !http2);
    }
    if (close === 'all' && http2) (this.req as Http2ServerRequest).stream.session?.close();
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
