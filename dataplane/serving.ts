/**
 * The serving half of a dataplane: runtime (compile + swap) → listeners (HTTP/HTTPS, TLS/TCP
 * streams and UDP datagrams) → proxy → upstream pools, wired once. Pods feed it from Redis
 * (`dataplane.ts`); standalone mode feeds it from an in-memory bus. Both share this wiring so
 * they serve the same protocols.
 */
import { DatagramListenerSet, type DatagramListenerOptions } from './datagram/server.ts';
import { ListenerSet } from './listeners.ts';
import { HttpProxy } from './proxy.ts';
import { isTunnelUpgrade } from './upgrade.ts';
import { ConfigRuntime } from './runtime.ts';
import { StreamListenerSet } from './stream/server.ts';
import type { Logger } from './telemetry/log.ts';
import { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { UpstreamRegistry, type UpstreamOptions } from './upstreams.ts';

export interface ServingOptions {
  log: Logger;
  /** Address the listener ports bind to. */
  listenHost: string;
  tracing?: Tracing | undefined;
  /**
   * Apply each config's request-tracing settings (WeirParameters `tracing`) to `tracing`; off
   * when one `tracing` serves several Gateways (standalone mode), which then follow `OTEL_*` only.
   */
  tracingPolicy?: boolean;
  /** Register Node process metrics (off when several dataplanes share a process). */
  processMetrics?: boolean;
  /** Longest wait for in-flight requests when closing a port or shutting down. */
  drainTimeoutMs?: number;
  upstream?: Partial<UpstreamOptions>;
  /** UDP flow idle timeout and flow cap per port. */
  datagram?: Partial<Pick<DatagramListenerOptions, 'idleTimeoutMs' | 'maxFlowsPerPort'>>;
}

export class ServingPipeline {
  readonly metrics: DataplaneMetrics;
  readonly runtime: ConfigRuntime;
  readonly listeners: ListenerSet;
  readonly streams: StreamListenerSet;
  readonly datagrams: DatagramListenerSet;
  readonly proxy: HttpProxy;
  private readonly upstreams: UpstreamRegistry;
  private readonly drainTimeoutMs: number;

  constructor(options: ServingOptions) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.metrics = new DataplaneMetrics({ processMetrics: options.processMetrics ?? false });
    this.upstreams = new UpstreamRegistry(options.upstream);
    const runtime: { current: ConfigRuntime | undefined } = { current: undefined };
    this.proxy = new HttpProxy({ source: { get current() { return runtime.current?.current; } }, log: options.log, tracing: options.tracing, metrics: this.metrics });
    this.listeners = new ListenerSet(
      {
        request: (req, res, port, secure) => { this.proxy.handle(req, res, port, secure); },
        upgrade: (req, socket, head, port, secure) => { this.proxy.upgrade(req, socket, head, port, secure); },
        tunnels: isTunnelUpgrade,
      },
      { host: options.listenHost, drainTimeoutMs: this.drainTimeoutMs, metrics: this.metrics },
    );
    this.streams = new StreamListenerSet({ host: options.listenHost, log: options.log, drainTimeoutMs: this.drainTimeoutMs, metrics: this.metrics, tracing: options.tracing });
    this.datagrams = new DatagramListenerSet({ host: options.listenHost, log: options.log, ...options.datagram });
    const tracing = options.tracingPolicy === false ? undefined : options.tracing;
    this.runtime = new ConfigRuntime({
      upstreams: this.upstreams, metrics: this.metrics, listeners: this.listeners, streams: this.streams, datagrams: this.datagrams, log: options.log,
      ...(tracing === undefined ? {} : { onSwap: (compiled) => { tracing.setPolicy(compiled.tracing); } }),
    });
    runtime.current = this.runtime;
  }

  /** Stop accepting, let in-flight requests finish (up to the drain timeout), close upstream pools. */
  async close(): Promise<void> {
    await Promise.all([this.listeners.closeAll(), this.streams.closeAll(), this.datagrams.closeAll()]);
    await Promise.race([this.proxy.idle(), new Promise((resolve) => setTimeout(resolve, this.drainTimeoutMs).unref())]);
    await this.upstreams.closeAll();
  }
}
