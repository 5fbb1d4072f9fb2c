/**
 * Publishes each Gateway's DataplaneConfig to Redis (design §3): one atomic script per Gateway
 * SETs `weir:config:<ns>/<name>` with a strictly increasing version and PUBLISHes the
 * notification, but only when the content digest changed. Gateways that disappear from the
 * translation have their key removed and a `deleted` notification published.
 *
 * Which Gateways this operator published is recorded in Redis (a set per controller name), so
 * after a restart the operator still removes keys of Gateways deleted while it was down, and
 * never touches keys another installation sharing the Redis wrote.
 */
import type { Redis } from 'ioredis';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { gatewayId, parseGatewayId, type GatewayRef } from '../../api-types/gateway-ref.ts';
import { CONFIG_CHANNEL, configKey } from '../../api-types/redis-contract.ts';
import { jsonDigest } from './digest.ts';
import { PUBLISH_SCRIPT, REMOVE_SCRIPT } from './scripts.ts';

export interface PublishInput {
  readonly gateway: GatewayRef;
  readonly config: DataplaneConfig;
}

export interface PublishedState {
  readonly version: number;
  readonly digest: string;
}

export interface PublishResult {
  /** Gateway id → the version now in Redis. */
  readonly current: ReadonlyMap<string, PublishedState>;
  /** Gateway ids that got a new version in this round. */
  readonly changed: readonly string[];
  /** Gateway ids whose keys were removed. */
  readonly removed: readonly string[];
}

/** Where published configs go; Redis in a cluster, an in-memory bus in standalone mode. */
export interface ConfigSink {
  publish(configs: readonly PublishInput[], options?: { renotify?: boolean }): Promise<PublishResult>;
}

export { gatewayId };

export interface RedisPublisherOptions {
  readonly redis: Redis;
  /** Scopes the bookkeeping keys, so installations sharing a Redis stay apart. */
  readonly controllerName: string;
}

export class RedisPublisher implements ConfigSink {
  readonly #redis: Redis;
  readonly #liveKey: string;
  readonly #versionsKey: string;
  /** What this process last saw in Redis per Gateway; skips the round trip when unchanged. */
  readonly #known = new Map<string, PublishedState>();

  constructor(options: RedisPublisherOptions) {
    this.#redis = options.redis;
    this.#liveKey = `weir:operator:${options.controllerName}:gateways`;
    this.#versionsKey = `weir:operator:${options.controllerName}:versions`;
  }

  /**
   * Publishes every config whose digest changed and removes Gateways no longer present.
   * `renotify` (used on gaining leadership) checks every key in Redis and notifies again even
   * when nothing changed, instead of trusting this process's memory.
   */
  async publish(configs: readonly PublishInput[], options: { renotify?: boolean } = {}): Promise<PublishResult> {
    const renotify = options.renotify === true;
    const changed: string[] = [];
    const wanted = new Set<string>();
    await Promise.all(
      configs.map(async ({ gateway, config }) => {
        const id = gatewayId(gateway);
        wanted.add(id);
        const json = JSON.stringify(config);
        const digest = jsonDigest(json);
        if (!renotify && this.#known.get(id)?.digest === digest) return;
        const result = (await this.#redis.eval(PUBLISH_SCRIPT, 3, configKey(gateway), this.#liveKey, this.#versionsKey, CONFIG_CHANNEL, id, digest, json, renotify ? '1' : '0', JSON.stringify(id))) as [number, number];
        this.#known.set(id, { version: result[0], digest });
        if (result[1] === 1) changed.push(id);
      }),
    );
    const removed: string[] = [];
    const live = await this.#redis.smembers(this.#liveKey);
    for (const id of new Set([...live, ...this.#known.keys()])) {
      if (wanted.has(id)) continue;
      const gateway = parseGatewayId(id);
      this.#known.delete(id);
      if (gateway === undefined) {
        await this.#redis.srem(this.#liveKey, id);
        continue;
      }
      await this.#redis.eval(REMOVE_SCRIPT, 2, configKey(gateway), this.#liveKey, CONFIG_CHANNEL, id, JSON.stringify(id));
      removed.push(id);
    }
    return { current: new Map(this.#known), changed: changed.sort(), removed: removed.sort() };
  }

  /** Forgets what this process remembers, so the next publish checks Redis again. */
  forget(): void {
    this.#known.clear();
  }
}
