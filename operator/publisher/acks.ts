/**
 * Reads the dataplane acknowledgements (`weir:ack:<ns>/<name>`: pod → ConfigAck) per Gateway.
 * What they mean for the Gateway's status is decided in operator/status/programmed.ts.
 */
import type { Redis } from 'ioredis';
import { decodeAck } from '../../api-types/config-codec.ts';
import { gatewayId, type GatewayRef } from '../../api-types/gateway-ref.ts';
import { ACK_TTL_SECONDS, ackKey, type ConfigAck } from '../../api-types/redis-contract.ts';

export interface PodAck extends ConfigAck {
  readonly pod: string;
}

export interface AckSource {
  /** Acks per Gateway id, only pods whose ack is fresh, sorted by pod name. */
  read(gateways: readonly GatewayRef[]): Promise<Map<string, PodAck[]>>;
}

export class RedisAckReader implements AckSource {
  readonly #redis: Redis;
  readonly #now: () => number;

  constructor(redis: Redis, now: () => number = Date.now) {
    this.#redis = redis;
    this.#now = now;
  }

  async read(gateways: readonly GatewayRef[]): Promise<Map<string, PodAck[]>> {
    const result = new Map<string, PodAck[]>();
    if (gateways.length === 0) return result;
    const pipeline = this.#redis.pipeline();
    for (const gateway of gateways) pipeline.hgetall(ackKey(gateway));
    const replies = (await pipeline.exec()) ?? [];
    const oldest = this.#now() - ACK_TTL_SECONDS * 1000;
    gateways.forEach((gateway, index) => {
      const [error, hash] = replies[index] ?? [null, {}];
      const acks: PodAck[] = [];
      if (error === null && typeof hash === 'object' && hash !== null) {
        for (const [pod, raw] of Object.entries(hash as Record<string, string>)) {
          const ack = decodeAck(raw);
          if (ack !== undefined && ack.at >= oldest) acks.push({ ...ack, pod });
        }
      }
      acks.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
      result.set(gatewayId(gateway), acks);
    });
    return result;
  }
}
