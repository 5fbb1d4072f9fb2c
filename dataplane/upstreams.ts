/**
 * Connection pools to backend endpoints, shared across config versions, and per-cluster
 * endpoint choice with passive health checking.
 *
 * An endpoint (`protocol + address + port`) keeps its undici pool and its health while it appears
 * in successive configs; pools of endpoints that left the config are closed after a grace period
 * so requests still running on the previous config can finish (and retry) on them.
 */
import type { ConnectionOptions } from 'node:tls';
import { type Dispatcher, Pool } from 'undici';

/** HTTP/1.1 or h2c in the clear; over TLS, HTTP/1.1 (`https1`) or HTTP/2 negotiated by ALPN (`h2`). */
export type WireProtocol = 'http1' | 'h2c' | 'https1' | 'h2';

/** TLS settings of an upstream and a key identifying them (same key, same settings). */
export interface UpstreamTls {
  readonly key: string;
  readonly options: ConnectionOptions;
}

export interface UpstreamOptions {
  /** How long an endpoint is skipped after a failed connect. */
  ejectMs: number;
  /** How long a pool that left the config stays open for in-flight requests. */
  retireGraceMs: number;
  connectTimeoutMs: number;
}

export const defaultUpstreamOptions: UpstreamOptions = { ejectMs: 5_000, retireGraceMs: 30_000, connectTimeoutMs: 5_000 };

/** Per-endpoint bounds (`backendMaxConnections`, `backendMaxPendingRequests` of the limits). */
export interface EndpointCaps {
  readonly maxConnections: number;
  /** Requests that may wait for a connection once all are busy. */
  readonly maxPending: number;
}

/** Streams undici runs at once on one HTTP/2 connection to a backend. */
const HTTP2_STREAMS_PER_CONNECTION = 100;

export class Upstream {
  readonly key: string;
  readonly origin: string;
  /** The endpoint, for span attributes. */
  readonly address: string;
  readonly port: number;
  readonly protocol: WireProtocol;
  readonly pool: Pool;
  /** The SNI name towards a TLS backend (the policy's hostname); undefined in the clear. */
  private readonly servername: string | undefined;
  /** `performance.now()` until which the endpoint is skipped; 0 when healthy. */
  ejectedUntil = 0;
  retireTimer: NodeJS.Timeout | undefined;
  private readonly ejectMs: number;
  /** Requests dispatched to the pool and not finished yet (running or queued in undici). */
  private active = 0;
  /** Most requests the pool may hold: every connection busy, plus the bounded queue. */
  private readonly capacity: number;

  constructor(key: string, protocol: WireProtocol, address: string, port: number, options: UpstreamOptions, caps: EndpointCaps, tls?: UpstreamTls) {
    this.key = key;
    this.address = address;
    this.port = port;
    this.protocol = protocol;
    this.ejectMs = options.ejectMs;
    const http2 = protocol === 'h2c' || protocol === 'h2';
    this.capacity = caps.maxConnections * (http2 ? HTTP2_STREAMS_PER_CONNECTION : 1) + caps.maxPending;
    const secure = protocol === 'https1' || protocol === 'h2';
    if (secure && tls === undefined) throw new Error(`${protocol} upstream ${address}:${port} needs TLS settings`);
    this.servername = secure && typeof tls?.options.servername === 'string' ? tls.options.servername : undefined;
    this.origin = `${secure ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
    this.pool = new Pool(this.origin, {
      connectTimeout: options.connectTimeoutMs,
      keepAliveTimeout: 4_000,
      connections: caps.maxConnections,
      maxConcurrentStreams: HTTP2_STREAMS_PER_CONNECTION,
      ...(secure ? { connect: { ...tls?.options, ALPNProtocols: protocol === 'h2' ? ['h2', 'http/1.1'] : ['http/1.1'] } } : {}),
      // Pool builds its connector from the top-level `useH2c`; its clients read `h2Options`.
      ...(protocol === 'h2c' ? { allowH2: true, useH2c: true, h2Options: { useH2c: true } } : { allowH2: protocol === 'h2' }),
    });
  }

  /**
   * Sends one request to the endpoint. undici otherwise derives each request's SNI from its Host
   * header, which would override the configured name (and reconnect whenever the Host differs).
   */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.servername === undefined) return this.pool.dispatch(options, handler);
    // undici's Request reads `servername` from the dispatch options; its typings omit it.
    const withServername: Dispatcher.DispatchOptions & { servername: string } = { ...options, servername: this.servername };
    return this.pool.dispatch(withServername, handler);
  }

  /**
   * Takes a slot for one request. False when every connection is busy and the queue is full:
   * the caller answers 503 at once instead of letting undici queue without bound.
   */
  tryAcquire(): boolean {
    if (this.active >= this.capacity) return false;
    this.active++;
    return true;
  }

  /** Gives back the slot of a finished request (exactly once per successful `tryAcquire`). */
  release(): void {
    this.active--;
  }

  /** Passive health: a failed connect takes the endpoint out of rotation for a while. */
  eject(now: number): void {
    this.ejectedUntil = now + this.ejectMs;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil !== 0 && this.ejectedUntil > now;
  }
}

export class UpstreamRegistry {
  private readonly upstreams = new Map<string, Upstream>();
  readonly options: UpstreamOptions;

  constructor(options: Partial<UpstreamOptions> = {}) {
    this.options = { ...defaultUpstreamOptions, ...options };
  }

  /**
   * The shared upstream for an endpoint; `tls` is required for `https1` and `h2`. Caps are part of
   * the identity: a config that changes them gets new pools, and the old ones retire.
   */
  acquire(protocol: WireProtocol, address: string, port: number, caps: EndpointCaps, tls?: UpstreamTls): Upstream {
    const endpoint = `${protocol} ${address} ${port} ${caps.maxConnections}/${caps.maxPending}`;
    const key = tls === undefined ? endpoint : `${endpoint} ${tls.key}`;
    let upstream = this.upstreams.get(key);
    if (upstream === undefined) {
      upstream = new Upstream(key, protocol, address, port, this.options, caps, tls);
      this.upstreams.set(key, upstream);
    } else if (upstream.retireTimer !== undefined) {
      clearTimeout(upstream.retireTimer);
      upstream.retireTimer = undefined;
    }
    return upstream;
  }

  /** Schedules closing every upstream not in `live`. */
  retainOnly(live: ReadonlySet<Upstream>): void {
    for (const upstream of this.upstreams.values()) {
      if (live.has(upstream) || upstream.retireTimer !== undefined) continue;
      upstream.retireTimer = setTimeout(() => {
        if (this.upstreams.get(upstream.key) === upstream) this.upstreams.delete(upstream.key);
        void upstream.pool.close().catch(() => undefined);
      }, this.options.retireGraceMs);
      upstream.retireTimer.unref();
    }
  }

  get size(): number {
    return this.upstreams.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.upstreams.values()];
    this.upstreams.clear();
    await Promise.all(
      all.map(async (upstream) => {
        clearTimeout(upstream.retireTimer);
        await upstream.pool.close().catch(() => upstream.pool.destroy());
      }),
    );
  }
}

/**
 * The endpoints of one cluster. Picks round robin among ready, non-ejected endpoints; falls back
 * to not-ready ones, then to ejected ones (better a likely failure than a certain 503).
 */
export class EndpointSet {
  private readonly ready: readonly Upstream[];
  private readonly notReady: readonly Upstream[];
  private cursor = 0;

  constructor(ready: readonly Upstream[], notReady: readonly Upstream[]) {
    this.ready = ready;
    this.notReady = notReady;
  }

  /** Every endpoint, ready ones first. */
  members(): readonly Upstream[] {
    return [...this.ready, ...this.notReady];
  }

  isReady(upstream: Upstream): boolean {
    return this.ready.includes(upstream);
  }

  get isEmpty(): boolean {
    return this.ready.length === 0 && this.notReady.length === 0;
  }

  /** `tried` holds endpoints this request already failed to connect to. */
  pick(tried: readonly Upstream[] | undefined, now: number): Upstream | undefined {
    return (
      this.scan(this.ready, tried, now, false) ??
      this.scan(this.notReady, tried, now, false) ??
      this.scan(this.ready, tried, now, true) ??
      this.scan(this.notReady, tried, now, true)
    );
  }

  private scan(list: readonly Upstream[], tried: readonly Upstream[] | undefined, now: number, allowEjected: boolean): Upstream | undefined {
    const count = list.length;
    for (let i = 0; i < count; i++) {
      const upstream = list[(this.cursor + i) % count] as Upstream;
      if (!allowEjected && upstream.isEjected(now)) continue;
      if (tried !== undefined && tried.includes(upstream)) continue;
      this.cursor = (this.cursor + i + 1) % count;
      return upstream;
    }
    return undefined;
  }
}
