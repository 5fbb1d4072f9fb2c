/**
 * One Fastify server per listener port. Proxy traffic bypasses Fastify's router and request
 * objects: the server is built by `serverFactory` with the proxy's raw handler, because routing
 * is the dataplane's own job and Fastify's per-request machinery would only add cost. Fastify
 * owns the server's lifecycle (listen, close with idle-connection cleanup).
 *
 * - HTTP ports speak HTTP/1.1 and h2c with prior knowledge on the same port: the first bytes of a
 *   connection tell them apart (see `h2c.ts`).
 * - HTTPS ports are `node:http2` secure servers with HTTP/1.1 fallback (ALPN `h2`, `http/1.1`),
 *   certificates by SNI from the port's `PortCertificates`, swapped on each config change
 *   without touching established connections.
 * - A port whose protocol changes (HTTP ↔ HTTPS) is closed (draining) and opened again.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { fastify, type FastifyInstance } from 'fastify';
import { DEFAULT_LIMITS, type ResolvedLimits } from '../api-types/limits.ts';
import type { CompiledPort } from './compile.ts';
import { routeByPreface } from './h2c.ts';
import { guardSession } from './http2-sessions.ts';
import type { ClientCloseReason, DataplaneMetrics } from './telemetry/metrics.ts';
import type { PortCertificates } from './tls/certificates.ts';
import { createHttpsServer, swapCertificates } from './tls/https-server.ts';

export type ServerRequest = IncomingMessage | Http2ServerRequest;
/** What the proxy uses of a response, common to HTTP/1.1 (`ServerResponse`) and HTTP/2 (compat `Http2ServerResponse`). */
export interface ServerReply {
  readonly headersSent: boolean;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  // Two signatures on purpose: Http2ServerResponse's end() takes a callback, not undefined, first.
  end(): unknown;
  // eslint-disable-next-line @typescript-eslint/unified-signatures
  end(chunk: Buffer): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  destroy(error?: Error): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
}

export interface PortHandlers {
  /** `secure` on HTTPS ports. */
  request(req: ServerRequest, res: ServerResponse | Http2ServerResponse, port: number, secure: boolean): void;
  /** Only for the upgrades `tunnels` accepts; any other Upgrade is an ordinary request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number, secure: boolean): void;
  readonly tunnels: (req: IncomingMessage) => boolean;
}

export interface ListenerOptions {
  /** Address to bind, e.g. `0.0.0.0` in a pod, `127.0.0.1` in tests. */
  host: string;
  /** After this long, connections still open on a closing port are cut (e.g. WebSockets). */
  drainTimeoutMs: number;
  /** Where connections closed by a limit are counted. */
  metrics?: DataplaneMetrics;
}

/** What a port needs to be opened: its number and, for HTTPS, its certificates. */
export type PortSpec = Pick<CompiledPort, 'port' | 'tls'>;

interface OpenPort {
  app: FastifyInstance;
  server: Server | Http2SecureServer;
  /** The h2c server of a plain port (its HTTP/2 settings follow the limits). */
  h2c: Http2Server | undefined;
  secure: boolean;
  /** HTTP/2 sessions (h2 over TLS, or h2c), closed with GOAWAY when the port closes. */
  sessions: Set<Http2Session>;
  /** Set once the port is closing: responses then end their connection. */
  closing: { value: boolean };
}

const EADDRINUSE_RETRIES = 20;
const RELEASE_TIMEOUT_MS = 2_000;

export class ListenerSet {
  private readonly open = new Map<number, OpenPort>();
  private readonly handlers: PortHandlers;
  private readonly options: ListenerOptions;
  /** The current config's limits: live servers are updated at each `prepare`, new connections read them. */
  private limits: ResolvedLimits = DEFAULT_LIMITS;

  constructor(handlers: PortHandlers, options: ListenerOptions) {
    this.handlers = handlers;
    this.options = options;
  }

  get ports(): number[] {
    return [...this.open.keys()].sort((a, b) => a - b);
  }

  /**
   * Makes every wanted port ready for the next config: opens the missing ones, hands HTTPS ports
   * their new certificates, re-opens ports that change between HTTP and HTTPS. If a port fails
   * to bind, the ports opened by this call are closed again and the error is thrown. `limits`
   * apply to every port from now on (new connections; live timeouts and caps of open ports).
   */
  async prepare(wanted: Iterable<PortSpec>, limits: ResolvedLimits = DEFAULT_LIMITS): Promise<void> {
    this.limits = limits;
    for (const entry of this.open.values()) applyLimits(entry, limits);
    const opened: number[] = [];
    try {
      for (const spec of wanted) {
        const existing = this.open.get(spec.port);
        const secure = spec.tls !== undefined;
        if (existing !== undefined && existing.secure === secure) {
          if (spec.tls !== undefined) swapCertificates(existing.server as Http2SecureServer, spec.tls);
          continue;
        }
        // Protocol change: stop listening (in-flight requests drain in the background), re-open.
        if (existing !== undefined) void this.close(spec.port);
        this.open.set(spec.port, await this.listenRetrying(spec));
        opened.push(spec.port);
      }
    } catch (error) {
      await Promise.all(opened.map((port) => this.close(port)));
      throw error;
    }
  }

  /**
   * Stops listening on those of `ports` that are open (their in-flight requests drain in the
   * background), so another listener set (TLS/TCP) can bind them. Resolves once they are released.
   */
  async release(ports: Iterable<number>): Promise<void> {
    const releasing: (Server | Http2SecureServer)[] = [];
    for (const port of ports) {
      const entry = this.open.get(port);
      if (entry === undefined) continue;
      releasing.push(entry.server);
      void this.close(port);
    }
    for (let waited = 0; releasing.some((server) => server.listening) && waited < RELEASE_TIMEOUT_MS; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Closes the ports not in `wanted`, letting their in-flight requests finish. */
  async closeExcept(wanted: ReadonlySet<number>): Promise<void> {
    await Promise.all(this.ports.filter((port) => !wanted.has(port)).map((port) => this.close(port)));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.close(port)));
  }

  private async close(port: number): Promise<void> {
    const entry = this.open.get(port);
    if (entry === undefined) return;
    this.open.delete(port);
    entry.closing.value = true;
    for (const session of entry.sessions) session.close();
    // Keep-alive connections that finish their last response while we drain are closed as
    // they turn idle; whatever is still open at the deadline is cut.
    const sweeper = setInterval(() => {
      (entry.server as Server).closeIdleConnections();
    }, 100);
    const deadline = setTimeout(() => {
      (entry.server as Server).closeAllConnections();
      for (const session of entry.sessions) session.destroy();
    }, this.options.drainTimeoutMs);
    try {
      await entry.app.close();
    } finally {
      clearInterval(sweeper);
      clearTimeout(deadline);
    }
  }

  /** A port just closed for a protocol change may take a moment to be released. */
  private async listenRetrying(spec: PortSpec): Promise<OpenPort> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listen(spec);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= EADDRINUSE_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private async listen(spec: PortSpec): Promise<OpenPort> {
    const { port, tls } = spec;
    const closing = { value: false };
    const sessions = new Set<Http2Session>();
    const closed = (reason: ClientCloseReason): void => { this.options.metrics?.clientClosed(port, reason); };
    const track = (session: Http2Session): void => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      guardSession(session, { idleTimeoutMs: this.limits.idleTimeoutMs, onRapidReset: () => { closed('rapid_reset'); } });
      if (closing.value) session.close();
    };
    let server: Server | Http2SecureServer | undefined;
    let h2c: Http2Server | undefined;
    const app = fastify({
      logger: false,
      forceCloseConnections: 'idle',
      serverFactory: () => {
        if (tls === undefined) ({ server, h2c } = this.plainServer(port, closing, track, closed));
        else server = this.secureServer(port, tls, closing, track, closed);
        return server as Server;
      },
    });
    const entry: OpenPort = { app, server: server as unknown as Server | Http2SecureServer, h2c, secure: tls !== undefined, sessions, closing };
    applyLimits(entry, this.limits);
    entry.server.on('drop', () => { closed('max_connections'); });
    await app.listen({ port, host: this.options.host });
    return entry;
  }

  /** HTTP/1.1 and h2c (prior knowledge) on one port. */
  private plainServer(port: number, closing: { value: boolean }, track: (session: Http2Session) => void, closed: (reason: ClientCloseReason) => void): { server: Server; h2c: Http2Server } {
    const handlers = this.handlers;
    const server = createServer({ connectionsCheckingInterval: checkingInterval(this.limits), shouldUpgradeCallback: handlers.tunnels }, (req, res) => {
      if (closing.value) res.shouldKeepAlive = false;
      handlers.request(req, res, port, false);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      handlers.upgrade(req, socket, head, port, false);
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => { answerClientError(error, socket, closed); });
    const h2c: Http2Server = createH2cServer({ settings: { enablePush: false, maxConcurrentStreams: this.limits.http2MaxConcurrentStreams } }, (req, res) => {
      handlers.request(req, res, port, false);
    });
    h2c.on('session', track);
    routeByPreface(server, h2c, { timeoutMs: () => this.limits.headersTimeoutMs, expired: () => { closed('headers_timeout'); } });
    return { server, h2c };
  }

  /** HTTPS: h2 and HTTP/1.1 over TLS, certificates by SNI. */
  private secureServer(
    port: number,
    tls: PortCertificates,
    closing: { value: boolean },
    track: (session: Http2Session) => void,
    closed: (reason: ClientCloseReason) => void,
  ): Http2SecureServer {
    const handlers = this.handlers;
    const server = createHttpsServer(tls, (req, res) => {
      if (closing.value && req.httpVersionMajor === 1) (res as unknown as ServerResponse).shouldKeepAlive = false;
      handlers.request(req, res, port, true);
    }, {
      handshakeTimeoutMs: this.limits.headersTimeoutMs,
      connectionsCheckingIntervalMs: checkingInterval(this.limits),
      maxConcurrentStreams: this.limits.http2MaxConcurrentStreams,
    });
    // HTTP/1.1 on the HTTP/2 server is parsed by node:http, which asks this before upgrading.
    (server as unknown as { shouldUpgradeCallback: (req: IncomingMessage) => boolean }).shouldUpgradeCallback = handlers.tunnels;
    server.on('session', track);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      handlers.upgrade(req, socket, head, port, true);
    });
    // HTTP/1.1 over TLS goes through node:http's connection handling, which emits this.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => { answerClientError(error, socket, closed); });
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') closed('handshake_timeout');
      socket.destroy();
    });
    return server;
  }
}

/**
 * How often node:http checks connections against the headers and request timeouts (fixed when a
 * server is created): often enough that a deadline is overshot by at most a quarter of itself,
 * at most once a second.
 */
function checkingInterval(limits: ResolvedLimits): number {
  return Math.max(25, Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestReceiveTimeoutMs) / 4)));
}

/** Timeouts, connection cap and HTTP/2 settings of a live port, from the current limits. */
function applyLimits(entry: OpenPort, limits: ResolvedLimits): void {
  const http1 = entry.server as Server;
  http1.requestTimeout = limits.requestReceiveTimeoutMs;
  // node:http requires headersTimeout ≤ requestTimeout.
  http1.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestReceiveTimeoutMs);
  http1.keepAliveTimeout = limits.idleTimeoutMs;
  http1.maxConnections = limits.maxConnections;
  const settings = { enablePush: false, maxConcurrentStreams: limits.http2MaxConcurrentStreams };
  if (entry.secure) (entry.server as Http2SecureServer).updateSettings(settings);
  entry.h2c?.updateSettings(settings);
}

const CLIENT_ERRORS: Readonly<Record<string, { status: string; reason: ClientCloseReason }>> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: '408 Request Timeout', reason: 'request_timeout' },
  HPE_HEADER_OVERFLOW: { status: '431 Request Header Fields Too Large', reason: 'header_overflow' },
};

/**
 * Answers what node:http could not parse or did not receive in time: 408 for the headers and
 * request timeouts, 431 for headers over the size limit, 400 otherwise; then closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, closed: (reason: ClientCloseReason) => void): void {
  const known = error.code === undefined ? undefined : CLIENT_ERRORS[error.code];
  // A connection reset or closed by the client is not worth an answer or a count.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  closed(known?.reason ?? 'malformed');
  // A response already under way cannot be replaced by an error status (node:http's own
  // default handler makes the same check on the socket's current response).
  const responding = (socket as unknown as { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent === true;
  if (responding) socket.destroy();
  else socket.end(`HTTP/1.1 ${known?.status ?? '400 Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
