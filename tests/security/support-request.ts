/**
 * Shared pieces of the request-path hostile-input tests: a real dataplane serving pipeline
 * (listeners, decision, proxy, upstream pools) on loopback ports in front of the echo backend,
 * configs swapped in as the subscriber would, and clients that speak raw bytes so malformed
 * requests reach the server exactly as written.
 */
import { once } from 'node:events';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders as Http2Headers, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { ServingPipeline, type ServingOptions } from '../../dataplane/serving.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import type { TestContext } from '../harness/index.ts';
import { published } from '../integration/dataplane-fixtures.ts';

export interface RunningGateway {
  readonly pipeline: ServingPipeline;
  readonly echo: EchoServer;
  /** Compiles and swaps in `config` as the next version. */
  apply(config: DataplaneConfig): Promise<void>;
}

export async function startGateway(t: TestContext, options: Partial<ServingOptions> = {}): Promise<RunningGateway> {
  const echo = await startEcho({ log: () => undefined, service: 'echo' });
  const pipeline = new ServingPipeline({ log: pino({ level: process.env.WEIR_TEST_LOG_LEVEL ?? 'silent' }), listenHost: '127.0.0.1', drainTimeoutMs: 1_000, ...options });
  t.teardown(async () => {
    await pipeline.close();
    await echo.close();
  });
  let version = 0;
  return {
    pipeline,
    echo,
    async apply(config) {
      await pipeline.runtime.apply(published(config, ++version));
    },
  };
}

export interface RawAnswer {
  /** Everything the server sent. */
  readonly text: string;
  /** Status codes of every response head, in order. */
  readonly statuses: number[];
  /** The server closed the connection (within the wait). */
  readonly closed: boolean;
}

/**
 * Writes `bytes` on a fresh connection and collects what comes back until the server closes
 * or has been quiet for `quietMs` after answering (or `waitMs` in all).
 */
export async function rawExchange(port: number, bytes: string | Buffer, options: { tls?: ConnectionOptions; quietMs?: number; waitMs?: number } = {}): Promise<RawAnswer> {
  const socket: Socket | TLSSocket = options.tls === undefined
    ? netConnect({ host: '127.0.0.1', port })
    : tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], ...options.tls });
  await once(socket, options.tls === undefined ? 'connect' : 'secureConnect');
  let text = '';
  const state = { closed: false };
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { text += chunk; });
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => { socket.once('close', () => { state.closed = true; resolve(); }); });
  socket.write(bytes);
  const started = Date.now();
  const quietMs = options.quietMs ?? 300;
  const waitMs = options.waitMs ?? 3_000;
  let seen = -1;
  while (!state.closed && Date.now() - started < waitMs) {
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, quietMs))]);
    if (text.length > 0 && text.length === seen) break;
    seen = text.length;
  }
  socket.destroy();
  return { text, statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3}) [^\r\n]*\r\n/g)].map((match) => Number(match[1])), closed: state.closed };
}

/** The echo backend's JSON body of the first response with a Content-Length in a raw HTTP/1.1 answer. */
export function echoOf(text: string): { path: string; host: string; headers: Record<string, string[]> } | undefined {
  for (const head of text.matchAll(/HTTP\/1\.1 \d{3} [^\r\n]*\r\n([\s\S]*?)\r\n\r\n/g)) {
    const length = /^content-length: *(\d+)/im.exec(head[1] ?? '');
    if (length === null) continue;
    const start = head.index + head[0].length;
    try {
      return JSON.parse(text.slice(start, start + Number(length[1]))) as { path: string; host: string; headers: Record<string, string[]> };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export async function h2session(t: TestContext, authority: string, options: ConnectionOptions = {}): Promise<ClientHttp2Session> {
  const session = h2connect(authority, options);
  session.on('error', () => undefined);
  t.teardown(() => { session.destroy(); });
  await once(session, 'connect');
  return session;
}

export interface H2Answer {
  readonly status: number;
  readonly headers: Http2Headers;
  readonly body: string;
}

/** One request on an HTTP/2 session; `headers` may carry any pseudo-headers and repeated fields. */
export async function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Answer> {
  const stream = session.request({ ':method': 'GET', ':path': '/', ...headers }, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => { text += chunk; });
  const [response] = (await once(stream, 'response')) as [Http2Headers];
  await once(stream, 'close');
  return { status: Number(response[':status']), headers: response, body: text };
}

/** Resolves when the session is closed by the server (GOAWAY or socket end), false after `ms`. */
export async function sessionClosedWithin(session: ClientHttp2Session, ms: number): Promise<boolean> {
  if (session.closed || session.destroyed) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => { session.once('goaway', () => { resolve(true); }); session.once('close', () => { resolve(true); }); }),
    new Promise<boolean>((resolve) => setTimeout(() => { resolve(false); }, ms)),
  ]);
}
