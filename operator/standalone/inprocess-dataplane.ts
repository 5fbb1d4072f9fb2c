/**
 * A dataplane inside the operator process for standalone mode: the dataplane's own serving
 * pipeline (compile + swap, HTTP/HTTPS, TLS/TCP and UDP listeners, proxy, upstream pools), fed
 * directly with PublishedConfigs instead of following Redis, and without the admin port.
 */
import type { PublishedConfig } from '../../api-types/dataplane-config.ts';
import { validatePublishedConfig } from '../../api-types/dataplane-config.ts';
import { ServingPipeline } from '../../dataplane/serving.ts';
import type { Logger } from '../../dataplane/telemetry/log.ts';

export interface InProcessDataplaneOptions {
  readonly log: Logger;
  /** Address listener ports bind to (default 127.0.0.1). */
  readonly listenHost?: string;
}

export class InProcessDataplane {
  appliedVersion = 0;
  readonly #serving: ServingPipeline;

  constructor(options: InProcessDataplaneOptions) {
    this.#serving = new ServingPipeline({ log: options.log, listenHost: options.listenHost ?? '127.0.0.1', drainTimeoutMs: 2_000 });
  }

  /** TCP ports listened on (HTTP, HTTPS, TLS, TCP listeners). */
  get ports(): number[] {
    return [...new Set([...this.#serving.listeners.ports, ...this.#serving.streams.ports])].sort((a, b) => a - b);
  }

  /** UDP ports listened on. */
  get udpPorts(): number[] {
    return this.#serving.datagrams.ports;
  }

  /** Validates like a pod would, then compiles and swaps; throws (keeping the old config) on error. */
  async apply(published: PublishedConfig): Promise<void> {
    if (published.version <= this.appliedVersion) return;
    const checked = validatePublishedConfig(JSON.parse(JSON.stringify(published)));
    if (!checked.ok) throw new Error(`config does not match the contract: ${checked.errors.join('; ')}`);
    await this.#serving.runtime.apply(checked.value);
    this.appliedVersion = published.version;
  }

  async stop(): Promise<void> {
    await this.#serving.close();
  }
}
