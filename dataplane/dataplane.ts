/**
 * Wires the pipeline together: subscriber → runtime (compile + swap) → listeners → proxy, with
 * the admin port and telemetry beside it. `main.ts` runs one from the environment; tests start
 * them in-process.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { GatewayRef } from '../api-types/gateway-ref.ts';
import { startAdmin } from './admin.ts';
import type { ListenerSet } from './listeners.ts';
import type { HttpProxy } from './proxy.ts';
import type { ConfigRuntime } from './runtime.ts';
import { ServingPipeline, type ServingOptions } from './serving.ts';
import type { DatagramListenerSet } from './datagram/server.ts';
import type { StreamListenerSet } from './stream/server.ts';
import { ConfigSubscriber } from './subscriber.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';
import type { UpstreamOptions } from './upstreams.ts';

export interface DataplaneOptions {
  redisUrl: string;
  gateway: GatewayRef;
  podName: string;
  log: Logger;
  /** Address the listener ports bind to. */
  listenHost: string;
  adminHost: string;
  /** 0 picks a free port. */
  adminPort: number;
  tracing?: Tracing;
  /** Register Node process metrics (off in tests that run several dataplanes in one process). */
  processMetrics?: boolean;
  /** Time between turning unready and closing listeners, so load balancers stop sending. */
  shutdownDelayMs?: number;
  /** Longest wait for in-flight requests when shutting down or closing a port. */
  drainTimeoutMs?: number;
  upstream?: Partial<UpstreamOptions>;
  /** UDP flow idle timeout and flow cap per port. */
  datagram?: ServingOptions['datagram'];
  subscriber?: { ackIntervalMs?: number; maxBackoffMs?: number };
}

export class Dataplane {
  readonly metrics: DataplaneMetrics;
  readonly runtime: ConfigRuntime;
  readonly listeners: ListenerSet;
  readonly streams: StreamListenerSet;
  readonly datagrams: DatagramListenerSet;
  readonly subscriber: ConfigSubscriber;
  readonly proxy: HttpProxy;
  private readonly serving: ServingPipeline;
  private readonly options: DataplaneOptions;
  private admin: FastifyInstance | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(options: DataplaneOptions) {
    this.options = options;
    this.serving = new ServingPipeline(options);
    options.tracing?.onDropped((count, reason) => { this.serving.metrics.spansDropped.labels({ reason }).inc(count); });
    ({ metrics: this.metrics, runtime: this.runtime, listeners: this.listeners, streams: this.streams, datagrams: this.datagrams, proxy: this.proxy } = this.serving);
    this.subscriber = new ConfigSubscriber({
      redisUrl: options.redisUrl,
      gateway: options.gateway,
      podName: options.podName,
      apply: async (published, progress) => { await this.runtime.apply(published, progress); },
      log: options.log,
      metrics: this.metrics,
      tracer: options.tracing?.tracer,
      ...options.subscriber,
    });
  }

  static async start(options: DataplaneOptions): Promise<Dataplane> {
    const dataplane = new Dataplane(options);
    dataplane.admin = await startAdmin({
      host: options.adminHost,
      port: options.adminPort,
      registry: dataplane.metrics.registry,
      state: {
        ready: () => dataplane.stopping === undefined && dataplane.runtime.current !== undefined,
        status: () => ({ ...dataplane.subscriber.applied, ports: dataplane.listeners.ports }),
      },
    });
    dataplane.subscriber.start();
    return dataplane;
  }

  get adminPort(): number {
    return (this.admin?.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Turn unready, stop following Redis, stop accepting, let in-flight requests finish, close everything. */
  async stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    await this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { log } = this.options;
    log.info({ inFlight: this.proxy.activeRequests }, 'shutting down');
    if ((this.options.shutdownDelayMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, this.options.shutdownDelayMs));
    await this.subscriber.stop();
    await this.serving.close();
    await this.options.tracing?.shutdown();
    await this.admin?.close();
    log.info('stopped');
  }
}
