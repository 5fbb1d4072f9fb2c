/**
 * A dataplane inside the operator process for standalone mode: the dataplane's own serving
 * pipeline (compile + swap, HTTP/HTTPS, TLS/TCP and UDP listeners, proxy, upstream pools) and its
 * own `ConfigFollower` (the same gating, retries and acks as a pod), fed from the memory bus
 * instead of Redis, and without the admin port.
 */
import type { GatewayRef } from '../../api-types/gateway-ref.ts';
import { ConfigFollower, type ConfigSource } from '../../dataplane/config-follower.ts';
import { ServingPipeline } from '../../dataplane/serving.ts';
import { STANDALONE_POD } from './memory-bus.ts';
import type { Logger } from '../../dataplane/telemetry/log.ts';
import type { Tracing } from '../../dataplane/telemetry/tracing.ts';

export interface InProcessDataplaneOptions {
  readonly gateway: GatewayRef;
  readonly source: ConfigSource;
  readonly log: Logger;
  /** Address listener ports bind to (default 127.0.0.1). */
  readonly listenHost?: string;
  /** Request and config-change spans, as a pod makes them. */
  readonly tracing?: Tracing | undefined;
}

export class InProcessDataplane {
  readonly follower: ConfigFollower;
  readonly #serving: ServingPipeline;

  constructor(options: InProcessDataplaneOptions) {
    this.#serving = new ServingPipeline({ log: options.log, listenHost: options.listenHost ?? '127.0.0.1', drainTimeoutMs: 2_000, tracing: options.tracing, tracingPolicy: false });
    this.follower = new ConfigFollower({
      gateway: options.gateway,
      source: options.source,
      apply: async (published, progress) => { await this.#serving.runtime.apply(published, progress); },
      log: options.log,
      metrics: this.#serving.metrics,
      tracer: options.tracing?.tracer,
      traceAttributes: { 'k8s.pod.name': STANDALONE_POD },
    });
  }

  /** TCP ports listened on (HTTP, HTTPS, TLS, TCP listeners). */
  get ports(): number[] {
    return [...new Set([...this.#serving.listeners.ports, ...this.#serving.streams.ports])].sort((a, b) => a - b);
  }

  /** UDP ports listened on. */
  get udpPorts(): number[] {
    return this.#serving.datagrams.ports;
  }

  async stop(): Promise<void> {
    await this.follower.stop();
    await this.#serving.close();
  }
}
