/**
 * The WebSocket executor (HTTP/1.1 Upgrade): the request is decided like any other
 * (`decide.ts`), the upgrade is sent to the backend through the endpoint's HTTP/1.1 pool, and
 * after the backend's 101 the two sockets are piped together until either side closes or the
 * tunnel has been silent for the idle timeout.
 *
 * Only `websocket` is tunnelled (`isTunnelUpgrade`): a listener hands any other Upgrade to the
 * ordinary request path, which ignores it (RFC 9110 §7.8). An `h2c` upgrade in particular would
 * let the client speak HTTP/2 straight to one backend, past every later routing decision.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { decide, type ForwardPlan } from './decide.ts';
import { connectionOf, isConnectError } from './exchange.ts';
import { stripResponseHopByHop, type HeaderMap } from './filters/headers.ts';
import { localBody, reasonPhrase } from './local-answers.ts';
import type { ProxyContext } from './proxy-context.ts';
import type { RequestStats } from './telemetry/metrics.ts';
import { Tracing, type Span } from './telemetry/tracing.ts';
import { clientAttributes, serverAttributes, serverSpanName } from './telemetry/request-spans.ts';

/** True when `req` asks for a WebSocket: the only upgrade a listener hands to `proxyUpgrade`. */
export function isTunnelUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  if (upgrade === undefined) return false;
  for (const token of upgrade.split(',')) if (token.trim().toLowerCase() === 'websocket') return true;
  return false;
}

function writeHead(socket: Duplex, status: number, reason: string, headers: HeaderMap): void {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const line of Array.isArray(value) ? value : [value]) head += `${name}: ${line}\r\n`;
  }
  socket.write(`${head}\r\n`);
}

/** A local answer on a socket we own: head, the standard body, and close. */
function refuse(socket: Duplex, status: number, headers: HeaderMap | undefined): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = headers === undefined ? localBody(status) : undefined;
  const out: HeaderMap = { ...(headers ?? (body === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8' })), 'content-length': String(body?.length ?? 0), connection: 'close' };
  writeHead(socket, status, reasonPhrase(status), out);
  socket.end(body);
}

/** The backend's response headers after hop-by-hop removal and the filters' response stages. */
function responseHeaders(plan: ForwardPlan, request: IncomingMessage, received: HeaderMap): HeaderMap {
  const headers = { ...received };
  stripResponseHopByHop(headers);
  for (const modify of plan.backend.stages.responseHeaders) modify(headers, request.headers);
  return headers;
}

export function proxyUpgrade(proxy: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer, port: number, secure: boolean): void {
  socket.on('error', () => socket.destroy());
  const started = performance.now();
  const decision = decide(proxy.source.current, req, port, connectionOf(req, secure));
  let stats: RequestStats | undefined = decision.stats;
  let span: Span | undefined;
  let client: Span | undefined;
  if (proxy.tracing !== undefined && decision.path !== undefined) {
    span = proxy.tracing.startServer(serverSpanName(req.method ?? 'GET', decision), req.headers, { ...serverAttributes(req, decision, port, secure), 'weir.upgrade': 'websocket' });
  }
  const done = (status: number, error?: string): void => {
    stats?.record(status, (performance.now() - started) / 1000);
    if (client !== undefined) Tracing.end(client, status, error);
    if (span !== undefined) Tracing.end(span, status);
  };
  if (decision.kind === 'local') {
    refuse(socket, decision.status, decision.headers);
    done(decision.status);
    return;
  }
  const plan = decision;
  const endpoints = plan.cluster.upgradeEndpoints;
  if (endpoints === undefined) {
    stats = plan.action.localStats;
    refuse(socket, 500, undefined);
    done(500);
    return;
  }
  const upstream = endpoints.pick(undefined, performance.now());
  if (upstream === undefined) {
    refuse(socket, 503, undefined);
    done(503);
    return;
  }
  proxy.requestStarted();
  let ended = false;
  /** The backend answered (upgrade or refusal); from then on the sockets are ours to close. */
  let answered = false;
  const end = (status: number, error?: string): void => {
    if (ended) return;
    ended = true;
    done(status, error);
    proxy.requestEnded();
  };
  const fail = (error: Error): void => {
    if (isConnectError(error)) plan.backend.stats.connectError();
    proxy.log.debug({ err: error }, 'websocket upgrade to backend failed');
    refuse(socket, 502, undefined);
    end(502, error.message);
  };
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(controller) {
      socket.once('close', () => { if (!answered) controller.abort(new Error('client went away')); });
    },
    // The backend declined the upgrade: pass its answer on and close.
    onResponseStart(_controller, statusCode, received, statusMessage) {
      answered = true;
      const out = { ...responseHeaders(plan, req, received as HeaderMap), connection: 'close' };
      writeHead(socket, statusCode, statusMessage ?? reasonPhrase(statusCode), out);
      end(statusCode);
    },
    onResponseData(_controller, chunk) {
      socket.write(chunk);
    },
    onResponseEnd() {
      socket.end();
    },
    onRequestUpgrade(_controller, statusCode, received, upstreamSocket) {
      answered = true;
      const upgrade = (received as HeaderMap).upgrade;
      const out = { ...responseHeaders(plan, req, received as HeaderMap), connection: 'upgrade', upgrade: upgrade ?? 'websocket' };
      // A tunnel lives while bytes flow either way; silent in both directions for the tunnel idle
      // timeout (not the HTTP idle timeout of the server it was accepted by), it is closed.
      const idle = (): void => {
        if (!socket.destroyed) proxy.metrics?.clientClosed(port, 'tunnel_idle');
        socket.destroy();
        upstreamSocket.destroy();
      };
      (socket as Partial<Socket>).setTimeout?.(plan.config.limits.tunnelIdleTimeoutMs, idle);
      (upstreamSocket as Partial<Socket>).setTimeout?.(plan.config.limits.tunnelIdleTimeoutMs, idle);
      writeHead(socket, statusCode, reasonPhrase(statusCode), out);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.on('error', () => socket.destroy());
      socket.on('close', () => { upstreamSocket.destroy(); end(statusCode); });
      upstreamSocket.on('close', () => socket.destroy());
      socket.pipe(upstreamSocket);
      upstreamSocket.pipe(socket);
    },
    onResponseError(_controller, error) {
      fail(error);
    },
  };
  if (proxy.tracing !== undefined && span !== undefined) {
    client = proxy.tracing.startClient(span, plan.method, { ...clientAttributes(plan.method, upstream, plan.cluster.id, 0), 'weir.upgrade': 'websocket' });
    proxy.tracing.inject(client, plan.headers);
  }
  try {
    upstream.dispatch({ method: plan.method, path: plan.upstreamPath, headers: plan.headers, upgrade: 'websocket', body: null }, handler);
  } catch (error) {
    fail(error as Error);
  }
}
