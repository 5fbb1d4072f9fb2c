/**
 * WebSocket (HTTP/1.1 Upgrade) proxying: the rule is resolved like any request, the upgrade is
 * sent to the backend through the endpoint's HTTP/1.1 pool, and after the backend's 101 the two
 * sockets are piped together.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { isPreflight } from './filters/cors.ts';
import { redirectLocation } from './filters/redirect.ts';
import type { HeaderMap } from './filters/headers.ts';
import { connectionVerdict, parseAndResolve, upstreamHeaders, upstreamPath, type HttpProxy } from './proxy.ts';
import type { PortCertificates } from './tls/certificates.ts';
import type { RequestStats } from './telemetry/metrics.ts';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 421: 'Misdirected Request', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

function writeHead(socket: Duplex, status: number, reason: string, headers: HeaderMap): void {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const line of Array.isArray(value) ? value : [value]) head += `${name}: ${line}\r\n`;
  }
  socket.write(`${head}\r\n`);
}

function refuse(socket: Duplex, status: number, headers: HeaderMap = {}): void {
  if (socket.writable) {
    writeHead(socket, status, REASONS[status] ?? 'Error', { ...headers, 'content-length': '0', connection: 'close' });
    socket.end();
  } else {
    socket.destroy();
  }
}

export function proxyUpgrade(proxy: HttpProxy, req: IncomingMessage, socket: Duplex, head: Buffer, port: number, tls: PortCertificates | undefined): void {
  socket.on('error', () => socket.destroy());
  const started = performance.now();
  let stats: RequestStats | undefined;
  const done = (status: number): void => {
    stats?.record(status, (performance.now() - started) / 1000);
  };
  const config = proxy.source.current;
  if (config === undefined) {
    refuse(socket, 503);
    return;
  }
  const verdict = connectionVerdict(req, config, tls);
  if (verdict?.misdirected === true) {
    stats = config.notFoundStats;
    refuse(socket, 421);
    done(421);
    return;
  }
  const parsed = parseAndResolve(config, req, port);
  const target = parsed?.target;
  if (parsed === undefined || target === undefined) {
    stats = config.notFoundStats;
    refuse(socket, parsed === undefined ? 400 : 404);
    done(parsed === undefined ? 400 : 404);
    return;
  }
  const action = target.action;
  stats = action.localStats;
  if (action.redirect !== undefined) {
    const location = redirectLocation(action.redirect, { scheme: parsed.scheme, host: parsed.host, path: parsed.path, query: parsed.query, listenerPort: port }, target.prefix);
    refuse(socket, action.redirect.statusCode, { location });
    done(action.redirect.statusCode);
    return;
  }
  if (action.directStatus !== undefined || (action.cors !== undefined && isPreflight(req.method ?? 'GET', req.headers))) {
    refuse(socket, action.directStatus ?? 400);
    done(action.directStatus ?? 400);
    return;
  }
  const backend = action.backends.pick();
  const endpoints = backend?.cluster?.upgradeEndpoints;
  if (backend === undefined || endpoints === undefined) {
    refuse(socket, 500);
    done(500);
    return;
  }
  stats = backend.stats;
  const upstream = endpoints.pick(undefined, performance.now());
  if (upstream === undefined) {
    refuse(socket, 503);
    done(503);
    return;
  }
  const headers = upstreamHeaders(req, config, parsed.scheme, action, backend, verdict?.xfcc);
  const protocol = req.headers.upgrade ?? 'websocket';
  proxy.requestStarted();
  let ended = false;
  /** The backend answered (upgrade or refusal); from then on the sockets are ours to close. */
  let answered = false;
  const end = (status: number): void => {
    if (ended) return;
    ended = true;
    done(status);
    proxy.requestEnded();
  };
  const fail = (error: Error): void => {
    if ((error as { code?: string }).code === 'ECONNREFUSED') backend.stats.connectError();
    proxy.log.debug({ err: error }, 'websocket upgrade to backend failed');
    refuse(socket, 502);
    end(502);
  };
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(controller) {
      socket.once('close', () => { if (!answered) controller.abort(new Error('client went away')); });
    },
    // The backend declined the upgrade: pass its answer on and close.
    onResponseStart(_controller, statusCode, responseHeaders, statusMessage) {
      answered = true;
      const out = { ...(responseHeaders as HeaderMap), connection: 'close' };
      Reflect.deleteProperty(out, 'keep-alive');
      writeHead(socket, statusCode, statusMessage ?? REASONS[statusCode] ?? '', out);
      end(statusCode);
    },
    onResponseData(_controller, chunk) {
      socket.write(chunk);
    },
    onResponseEnd() {
      socket.end();
    },
    onRequestUpgrade(_controller, statusCode, responseHeaders, upstreamSocket) {
      answered = true;
      // An upgraded connection lives as long as its peers want: no idle timeout from the server
      // it was accepted by (HTTPS ports time idle HTTP/1.1 connections out).
      (socket as Partial<Socket>).setTimeout?.(0);
      const out = { ...(responseHeaders as HeaderMap) };
      writeHead(socket, statusCode, 'Switching Protocols', out);
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
  try {
    upstream.pool.dispatch({ method: req.method ?? 'GET', path: upstreamPath(backend, target, parsed, req.url ?? '/'), headers, upgrade: protocol, body: null }, handler);
  } catch (error) {
    fail(error as Error);
  }
}
