/**
 * One Fastify server per listener port. Proxy traffic bypasses Fastify's router and request
 * objects: the server is built by `serverFactory` with the proxy's raw handler, because routing
 * is the dataplane's own job and Fastify's per-request machinery would only add cost. Fastify
 * owns the server's lifecycle (listen, close with idle-connection cleanup).
 *
 * HTTPS listeners arrive with the TLS work: `createServer` is the one place that changes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fastify, type FastifyInstance } from 'fastify';

export interface PortHandlers {
  request(req: IncomingMessage, res: ServerResponse, port: number): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number): void;
}

export interface ListenerOptions {
  /** Address to bind, e.g. `0.0.0.0` in a pod, `127.0.0.1` in tests. */
  host: string;
  /** Idle keep-alive timeout for client connections. */
  keepAliveTimeoutMs: number;
  /** After this long, connections still open on a closing port are cut (e.g. WebSockets). */
  drainTimeoutMs: number;
}

interface OpenPort {
  app: FastifyInstance;
  server: Server;
  /** Set once the port is closing: responses then end their connection. */
  closing: { value: boolean };
}

export class ListenerSet {
  private readonly open = new Map<number, OpenPort>();
  private readonly handlers: PortHandlers;
  private readonly options: ListenerOptions;

  constructor(handlers: PortHandlers, options: ListenerOptions) {
    this.handlers = handlers;
    this.options = options;
  }

  get ports(): number[] {
    return [...this.open.keys()].sort((a, b) => a - b);
  }

  /**
   * Opens every port in `wanted` that is not open yet. If one fails to bind, the ports opened
   * by this call are closed again and the error is thrown, leaving the set as it was.
   */
  async openMissing(wanted: Iterable<number>): Promise<void> {
    const opened: number[] = [];
    try {
      for (const port of wanted) {
        if (this.open.has(port)) continue;
        this.open.set(port, await this.listen(port));
        opened.push(port);
      }
    } catch (error) {
      await Promise.all(opened.map((port) => this.close(port)));
      throw error;
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
    // Keep-alive connections that finish their last response while we drain are closed as
    // they turn idle; whatever is still open at the deadline is cut.
    const sweeper = setInterval(() => {
      entry.server.closeIdleConnections();
    }, 100);
    const deadline = setTimeout(() => {
      entry.server.closeAllConnections();
    }, this.options.drainTimeoutMs);
    try {
      await entry.app.close();
    } finally {
      clearInterval(sweeper);
      clearTimeout(deadline);
    }
  }

  private async listen(port: number): Promise<OpenPort> {
    let server: Server | undefined;
    const handlers = this.handlers;
    const closing = { value: false };
    const app = fastify({
      logger: false,
      forceCloseConnections: 'idle',
      serverFactory: () => {
        server = createServer({ keepAliveTimeout: this.options.keepAliveTimeoutMs, requestTimeout: 0 }, (req, res) => {
          if (closing.value) res.shouldKeepAlive = false;
          handlers.request(req, res, port);
        });
        server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
          handlers.upgrade(req, socket, head, port);
        });
        server.on('clientError', (_error, socket) => {
          if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
          else socket.destroy();
        });
        return server;
      },
    });
    await app.listen({ port, host: this.options.host });
    return { app, server: server as unknown as Server, closing };
  }
}
