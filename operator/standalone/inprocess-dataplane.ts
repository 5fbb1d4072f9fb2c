/**
 * A dataplane inside the operator process for standalone mode: the dataplane's own runtime
 * (compile + swap), listeners, proxy and upstream pools, fed directly with PublishedConfigs
 * instead of following Redis. Mirrors how dataplane/dataplane.ts wires them, minus the Redis
 * subscriber and the admin port.
 */
import type { PublishedConfig } from '../../api-types/dataplane-config.ts';
import { validatePublishedConfig } from '../../api-types/dataplane-config.ts';
import { ListenerSet } from '../../dataplane/listeners.ts';
import { HttpProxy } from '../../dataplane/proxy.ts';
import { ConfigRuntime } from '../../dataplane/runtime.ts';
import type { Logger } from '../../dataplane/telemetry/log.ts';
import { DataplaneMetrics } from '../../dataplane/telemetry/metrics.ts';
import { UpstreamRegistry } from '../../dataplane/upstreams.ts';

export interface InProcessDataplaneOptions {
  readonly log: Logger;
  /** Address listener ports bind to (default 127.0.0.1). */
  readonly listenHost?: string;
}

export class InProcessDataplane {
  appliedVersion = 0;
  readonly #runtime: ConfigRuntime;
  readonly #listeners: ListenerSet;
  readonly #upstreams: UpstreamRegistry;
  readonly #proxy: HttpProxy;

  constructor(options: InProcessDataplaneOptions) {
    const metrics = new DataplaneMetrics({ processMetrics: false });
    this.#upstreams = new UpstreamRegistry();
    const runtime: { current: ConfigRuntime | undefined } = { current: undefined };
    this.#proxy = new HttpProxy({ source: { get current() { return runtime.current?.current; } }, log: options.log, tracing: undefined });
    this.#listeners = new ListenerSet(
      {
        request: (req, res, port) => { this.#proxy.handle(req, res, port); },
        upgrade: (req, socket, head, port) => { this.#proxy.upgrade(req, socket, head, port); },
      },
      { host: options.listenHost ?? '127.0.0.1', keepAliveTimeoutMs: 60_000, drainTimeoutMs: 5_000 },
    );
    this.#runtime = new ConfigRuntime({ upstreams: this.#upstreams, metrics, listeners: this.#listeners, log: options.log });
    runtime.current = this.#runtime;
  }

  get ports(): number[] {
    return this.#listeners.ports;
  }

  /** Validates like a pod would, then compiles and swaps; throws (keeping the old config) on error. */
  async apply(published: PublishedConfig): Promise<void> {
    if (published.version <= this.appliedVersion) return;
    const checked = validatePublishedConfig(JSON.parse(JSON.stringify(published)));
    if (!checked.ok) throw new Error(`config does not match the contract: ${checked.errors.join('; ')}`);
    await this.#runtime.apply(checked.value);
    this.appliedVersion = published.version;
  }

  async stop(): Promise<void> {
    await this.#listeners.closeAll();
    await Promise.race([this.#proxy.idle(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.#upstreams.closeAll();
  }
}
