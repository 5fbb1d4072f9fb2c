/**
 * Listeners for TLS (Passthrough and Terminate, mixable on one port) and TCP ports.
 *
 * One `net` server per port. TLS ports read the ClientHello (bounded, with a deadline), choose the
 * listener by SNI, then either pipe the untouched bytes to a backend chosen by the TLSRoute
 * (Passthrough) or hand the connection, ClientHello included, to a TLS server that terminates
 * it and pipes the plaintext to the backend (Terminate). TCP ports pipe to the route's backend.
 *
 * `apply` takes the compiled ports of a new config: it opens new ports, swaps the routing of
 * open ones by replacing a reference (connections in progress keep their backend), and closes
 * ports that disappeared.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { DEFAULT_LIMITS, type ResolvedLimits } from '../../api-types/limits.ts';
import type { Logger } from '../telemetry/log.ts';
import { tlsPolicyOptions } from '../tls/certificates.ts';
import type { ClientCloseReason, DataplaneMetrics } from '../telemetry/metrics.ts';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.ts';
import { connectFirst, splice } from './pipe.ts';
import { SpanStatusCode } from '@opentelemetry/api';
import type { Tracing } from '../telemetry/tracing.ts';
import type { CompiledStreamPort, CompiledStreamRoute, CompiledTlsListener } from './routes.ts';

export interface StreamListenerOptions {
  /** Address to bind, e.g. `0.0.0.0` in a pod, `127.0.0.1` in tests. */
  host: string;
  connectTimeoutMs: number;
  /** Endpoints tried per connection before giving up. */
  connectAttempts: number;
  /** After this long, connections still open on a closing port are cut. */
  drainTimeoutMs: number;
  log?: Pick<Logger, 'debug' | 'warn'>;
  /** Where connections closed by a limit are counted. */
  metrics?: DataplaneMetrics;
  /** A server span per connection, a client span for the backend connection. */
  tracing?: Tracing | undefined;
}

/** How a connection reaches its backend. */
type StreamMode = 'tcp' | 'tls-passthrough' | 'tls-terminate';

export const DEFAULT_STREAM_OPTIONS: Omit<StreamListenerOptions, 'host'> = {
  connectTimeoutMs: 5_000,
  connectAttempts: 3,
  drainTimeoutMs: 30_000,
};

class StreamPort {
  readonly server: Server;
  readonly sockets = new Set<Socket>();
  current: CompiledStreamPort;
  /** ClientHello deadline, tunnel idle timeout and connection cap; new connections read the current value. */
  #limits: ResolvedLimits;
  #terminator: TlsServer | undefined;
  readonly #options: StreamListenerOptions;

  constructor(compiled: CompiledStreamPort, limits: ResolvedLimits, options: StreamListenerOptions) {
    this.current = compiled;
    this.#options = options;
    this.#limits = limits;
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => { socket.destroy(); });
      const port = this.current;
      if (port.kind === 'tcp') void this.forward(socket, port.route, undefined, 'tcp', 'tcp');
      else this.readClientHello(socket, port);
    });
    this.server.maxConnections = limits.maxConnections;
    this.server.on('drop', () => { this.#closed('max_connections'); });
  }

  set limits(limits: ResolvedLimits) {
    this.#limits = limits;
    this.server.maxConnections = limits.maxConnections;
  }

  #closed(reason: ClientCloseReason): void {
    this.#options.metrics?.clientClosed(this.current.port, reason);
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host: this.#options.host }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => { this.server.close(() => { resolve(); }); });
    const deadline = setTimeout(() => { for (const socket of this.sockets) socket.destroy(); }, this.#options.drainTimeoutMs);
    deadline.unref();
    await closed;
    clearTimeout(deadline);
  }

  private readClientHello(socket: Socket, port: Extract<CompiledStreamPort, { kind: 'tls' }>): void {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      done();
      this.#closed('handshake_timeout');
      socket.destroy();
    }, this.#limits.headersTimeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const onEnd = (): void => { done(); socket.destroy(); };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const data = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      const result = parseClientHello(data);
      if (result.kind === 'incomplete' && length <= MAX_CLIENT_HELLO_BYTES + 64) return;
      done();
      socket.pause();
      if (result.kind !== 'hello') {
        this.#options.log?.debug({ port: port.port, reason: result.kind === 'invalid' ? result.reason : 'too long' }, 'dropping connection without a usable ClientHello');
        socket.destroy();
        return;
      }
      const serverName = result.serverName ?? '';
      const listener = port.listeners.lookup(serverName);
      if (listener === undefined) {
        socket.destroy();
        return;
      }
      if (listener.mode === 'Passthrough') {
        void this.forward(socket, listener.routes.lookup(serverName), data, serverName, 'tls-passthrough');
      } else {
        this.terminate(socket, data);
      }
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  }

  /** Hands a connection whose ClientHello was already read to this port's terminating TLS server. */
  private terminate(socket: Socket, head: Buffer): void {
    this.#terminator ??= this.createTerminator();
    socket.unshift(head);
    this.#terminator.emit('connection', socket);
  }

  /** Takes the routing and certificates of a new config; new handshakes get its TLS policy. */
  update(next: CompiledStreamPort): void {
    this.current = next;
    const certificates = next.kind === 'tls' ? next.terminate : undefined;
    if (this.#terminator !== undefined && certificates !== undefined) this.#terminator.setSecureContext(certificates.defaultContextOptions);
  }

  private createTerminator(): TlsServer {
    const initial = this.current.kind === 'tls' ? this.current.terminate : undefined;
    const terminator = createTlsServer({
      ...(initial === undefined ? tlsPolicyOptions() : initial.defaultContextOptions),
      allowHalfOpen: true,
      // Fixed when the first Terminate connection arrives; the ClientHello deadline before it follows every swap.
      handshakeTimeout: this.#limits.headersTimeoutMs,
      SNICallback: (servername: string, done: (error: Error | null, context?: SecureContext) => void) => {
        const certificates = this.current.kind === 'tls' ? this.current.terminate : undefined;
        if (certificates === undefined) done(new Error('no certificate for this name'));
        else done(null, certificates.select(servername).certificate.context);
      },
    });
    terminator.on('secureConnection', (tlsSocket: TLSSocket) => {
      const port = this.current;
      const serverName = typeof tlsSocket.servername === 'string' ? tlsSocket.servername.toLowerCase() : '';
      const listener: CompiledTlsListener | undefined = port.kind === 'tls' ? port.listeners.lookup(serverName) : undefined;
      if (listener?.mode !== 'Terminate') {
        tlsSocket.destroy();
        return;
      }
      void this.forward(tlsSocket, listener.routes.lookup(serverName), undefined, serverName, 'tls-terminate');
    });
    terminator.on('tlsClientError', (error: NodeJS.ErrnoException, tlsSocket) => {
      if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.#closed('handshake_timeout');
      tlsSocket.destroy();
    });
    return terminator;
  }

  /** Passthrough keeps the client's TLS end to end; TCP and Terminate use the backend's TLS settings (BackendTLSPolicy). */
  private async forward(client: Socket | TLSSocket, route: CompiledStreamRoute | undefined, head: Buffer | undefined, label: string, mode: StreamMode): Promise<void> {
    const ring = route?.backends.pick();
    const tracing = this.#options.tracing;
    const span = tracing?.startConnection(route === undefined ? mode : `${mode} ${route.name}`, {
      'network.transport': 'tcp',
      'server.port': this.current.port,
      'weir.stream.mode': mode,
      ...(mode === 'tcp' ? {} : { 'tls.server.name': label }),
      ...(route === undefined ? {} : { 'weir.route': route.name }),
      ...(ring === undefined ? {} : { 'weir.backend': ring.clusterId }),
      ...(client.remoteAddress === undefined ? {} : { 'client.address': client.remoteAddress }),
    });
    if (ring === undefined || ring.endpoints.length === 0) {
      this.#options.log?.debug({ route: route?.name, name: label }, 'no backend for stream');
      client.destroy();
      span?.setStatus({ code: SpanStatusCode.ERROR, message: 'no backend' });
      span?.end();
      return;
    }
    client.pause();
    let upstream: Socket;
    const connecting = span === undefined ? undefined : tracing?.startClient(span, 'connect', { 'network.transport': 'tcp', 'weir.backend': ring.clusterId });
    try {
      upstream = await connectFirst(ring.attempts(this.#options.connectAttempts), this.#options.connectTimeoutMs, client, mode === 'tls-passthrough' ? undefined : ring.tls);
    } catch (error) {
      this.#options.log?.warn({ route: route?.name, cluster: ring.clusterId, error: (error as Error).message }, 'stream backend unreachable');
      client.destroy();
      for (const open of [connecting, span]) {
        open?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        open?.end();
      }
      return;
    }
    if (connecting !== undefined) {
      connecting.setAttributes({ 'server.address': upstream.remoteAddress ?? '', 'server.port': upstream.remotePort ?? 0 });
      connecting.end();
    }
    await splice(client, upstream, head, { idleTimeoutMs: this.#limits.tunnelIdleTimeoutMs, onIdle: () => { this.#closed('tunnel_idle'); } });
    span?.setAttributes({ 'weir.bytes.received': client.bytesRead, 'weir.bytes.sent': client.bytesWritten });
    span?.end();
  }
}

export class StreamListenerSet {
  readonly #open = new Map<number, StreamPort>();
  readonly #options: StreamListenerOptions;

  constructor(options: Partial<StreamListenerOptions> & Pick<StreamListenerOptions, 'host'>) {
    this.#options = { ...DEFAULT_STREAM_OPTIONS, ...options };
  }

  get ports(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  /** The port's bound address (tests bind port 0 through `listen` and read it here). */
  address(port: number): ReturnType<Server['address']> | undefined {
    return this.#open.get(port)?.server.address();
  }

  /**
   * Makes the open ports match `compiled`: swaps routing on open ports, opens new ones (if one
   * fails to bind, the ports opened by this call are closed and the error thrown) and closes the
   * ones no longer wanted. `limits` apply to new connections on every port.
   */
  async apply(compiled: ReadonlyMap<number, CompiledStreamPort>, limits: ResolvedLimits = DEFAULT_LIMITS): Promise<void> {
    const opened: number[] = [];
    try {
      for (const [port, next] of compiled) {
        const open = this.#open.get(port);
        if (open !== undefined) {
          open.update(next);
          open.limits = limits;
          continue;
        }
        const created = new StreamPort(next, limits, this.#options);
        await created.listen(port);
        this.#open.set(port, created);
        opened.push(port);
      }
    } catch (error) {
      await Promise.all(opened.map((port) => this.close(port)));
      throw error;
    }
    await Promise.all(this.ports.filter((port) => !compiled.has(port)).map((port) => this.close(port)));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.close(port)));
  }

  private async close(port: number): Promise<void> {
    const open = this.#open.get(port);
    if (open === undefined) return;
    this.#open.delete(port);
    await open.close();
  }
}
