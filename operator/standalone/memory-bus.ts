/**
 * Standalone mode's stand-in for Redis: a ConfigSink that versions configs exactly like the
 * Redis publisher (a new version only when the digest changed) and hands them straight to an
 * in-process dataplane per Gateway; its acks come back through the AckSource side.
 */
import type { PublishedConfig } from '../../api-types/dataplane-config.ts';
import type { GatewayRef } from '../../api-types/gateway-ref.ts';
import type { AckSource, PodAck } from '../publisher/acks.ts';
import { configDigest } from '../publisher/digest.ts';
import { gatewayId, type ConfigSink, type PublishedState, type PublishInput, type PublishResult } from '../publisher/publisher.ts';

export interface BusSubscriber {
  readonly appliedVersion: number;
  apply(published: PublishedConfig): Promise<void>;
  stop(): Promise<void>;
}

export interface MemoryBusOptions {
  /** Creates the dataplane serving one Gateway. */
  readonly subscriber: (gateway: GatewayRef) => BusSubscriber;
  readonly onApplyError?: (gateway: string, error: unknown) => void;
}

export class MemoryBus implements ConfigSink, AckSource {
  readonly #options: MemoryBusOptions;
  readonly #state = new Map<string, PublishedState>();
  readonly #subscribers = new Map<string, BusSubscriber>();
  readonly #rejected = new Map<string, { version: number; reason: string }>();

  constructor(options: MemoryBusOptions) {
    this.#options = options;
  }

  async publish(configs: readonly PublishInput[]): Promise<PublishResult> {
    const changed: string[] = [];
    const wanted = new Set<string>();
    for (const { gateway, config } of configs) {
      const id = gatewayId(gateway);
      wanted.add(id);
      const digest = configDigest(config);
      const before = this.#state.get(id);
      if (before?.digest === digest) continue;
      const version = (before?.version ?? 0) + 1;
      this.#state.set(id, { version, digest });
      changed.push(id);
      let subscriber = this.#subscribers.get(id);
      if (subscriber === undefined) {
        subscriber = this.#options.subscriber(gateway);
        this.#subscribers.set(id, subscriber);
      }
      try {
        await subscriber.apply({ version, digest, config });
        this.#rejected.delete(id);
      } catch (error) {
        this.#rejected.set(id, { version, reason: error instanceof Error ? error.message : String(error) });
        this.#options.onApplyError?.(id, error);
      }
    }
    const removed: string[] = [];
    for (const [id, subscriber] of this.#subscribers) {
      if (wanted.has(id)) continue;
      this.#subscribers.delete(id);
      this.#state.delete(id);
      removed.push(id);
      await subscriber.stop();
    }
    return { current: new Map(this.#state), changed, removed };
  }

  async read(gateways: readonly GatewayRef[]): Promise<Map<string, PodAck[]>> {
    const result = new Map<string, PodAck[]>();
    for (const gateway of gateways) {
      const id = gatewayId(gateway);
      const subscriber = this.#subscribers.get(id);
      if (subscriber === undefined) continue;
      const rejected = this.#rejected.get(id);
      result.set(id, [{
        pod: 'standalone',
        appliedVersion: subscriber.appliedVersion,
        appliedDigest: '',
        at: Date.now(),
        ...(rejected === undefined ? {} : { rejectedVersion: rejected.version, rejectedReason: rejected.reason }),
      }]);
    }
    return Promise.resolve(result);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#subscribers.values()].map((subscriber) => subscriber.stop()));
    this.#subscribers.clear();
  }
}
