/**
 * The publisher's Redis transport: each write or removal is one atomic, fenced script
 * (`scripts.ts`). Which Gateways this installation published is a set per controller name, so
 * after a restart the operator still removes keys of Gateways deleted while it was down, and
 * never touches keys another installation sharing the Redis wrote.
 */
import type { Redis } from 'ioredis';
import { CONFIG_CHANNEL, configKey } from '../../api-types/redis-contract.ts';
import type { ConfigStore, StoreMarker, StoreOperation, StoreOutcome, StoreWrite } from './publisher.ts';
import { REMOVE_SCRIPT, WRITE_SCRIPT } from './scripts.ts';

export interface RedisConfigStoreOptions {
  readonly redis: Redis;
  /** Scopes the bookkeeping keys, so installations sharing a Redis stay apart. */
  readonly controllerName: string;
}

export class RedisConfigStore implements ConfigStore {
  readonly #redis: Redis;
  readonly #liveKey: string;
  readonly #markerKey: string;

  constructor(options: RedisConfigStoreOptions) {
    this.#redis = options.redis;
    this.#liveKey = `weir:operator:${options.controllerName}:gateways`;
    this.#markerKey = `weir:operator:${options.controllerName}:marker`;
  }

  async write(write: StoreWrite): Promise<StoreOutcome> {
    const { gateway, id, marker, envelope, notification } = write;
    return outcome(await this.#redis.eval(WRITE_SCRIPT, 3, configKey(gateway), this.#liveKey, this.#markerKey, marker.epoch, marker.writes, id, envelope, CONFIG_CHANNEL, notification));
  }

  async remove(removal: StoreOperation): Promise<StoreOutcome> {
    const { gateway, id, marker, notification } = removal;
    return outcome(await this.#redis.eval(REMOVE_SCRIPT, 3, configKey(gateway), this.#liveKey, this.#markerKey, marker.epoch, marker.writes, id, CONFIG_CHANNEL, notification));
  }

  async published(): Promise<string[]> {
    return this.#redis.smembers(this.#liveKey);
  }

  async marker(): Promise<StoreMarker | undefined> {
    const [epoch, writes] = await this.#redis.hmget(this.#markerKey, 'epoch', 'writes');
    if (epoch === null || writes === null) return undefined;
    return { epoch: Number(epoch), writes: Number(writes) };
  }
}

function outcome(reply: unknown): StoreOutcome {
  return typeof reply === 'number' && reply > 0 ? { fenced: true, by: reply } : { fenced: false };
}
