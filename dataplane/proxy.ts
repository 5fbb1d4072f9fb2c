/**
 * The proxy as the listeners see it: the `request` and `upgrade` handlers of every HTTP(S) port,
 * and the count of requests in flight so shutdown can wait for them. Each request is decided in
 * `decide.ts` and carried out by `exchange.ts` (HTTP/1.1, HTTP/2, gRPC) or `upgrade.ts`
 * (WebSocket).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleRequest } from './exchange.ts';
import type { ServerReply, ServerRequest } from './listeners.ts';
import type { ConfigSource, ProxyContext } from './proxy-context.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { proxyUpgrade } from './upgrade.ts';

export type { ConfigSource } from './proxy-context.ts';

export interface ProxyOptions {
  source: ConfigSource;
  log: Logger;
  tracing: Tracing | undefined;
  /** Where tunnels closed by a limit are counted. */
  metrics?: DataplaneMetrics | undefined;
}

export class HttpProxy implements ProxyContext {
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

  /** The `request` handler of a listener on `port`; `secure` on HTTPS ports. */
  handle(req: ServerRequest, res: ServerReply, port: number, secure: boolean): void {
    handleRequest(this, req, res, port, secure);
  }

  /** The `upgrade` handler of a listener on `port` (WebSocket only; see `isTunnelUpgrade`). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number, secure: boolean): void {
    proxyUpgrade(this, req, socket, head, port, secure);
  }
}
