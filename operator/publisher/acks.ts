/**
 * Reads the dataplane acknowledgements (`weir:ack:<ns>/<name>`: pod → ConfigAck) and decides,
 * per Gateway, whether the current version is being served.
 */
import type { Redis } from 'ioredis';
import { ACK_TTL_SECONDS, ackKey, isConfigAck, type ConfigAck } from '../../api-types/redis-contract.ts';
import type { GatewayRef } from '../../api-types/gateway-ref.ts';

export interface PodAck extends ConfigAck {
  readonly pod: string;
}

export interface AckSource {
  /** Acks per Gateway id, only pods whose ack is fresh. */
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
          const ack = parseAck(raw);
          if (ack !== undefined && ack.at >= oldest) acks.push({ ...ack, pod });
        }
      }
      acks.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
      result.set(`${gateway.namespace}/${gateway.name}`, acks);
    });
    return result;
  }
}

function parseAck(raw: string): ConfigAck | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return isConfigAck.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface ProgrammedVerdict {
  readonly programmed: boolean;
  /** Why not (for the condition message), when not programmed. */
  readonly message: string;
}

/** Programmed once at least one pod serves `version` (or newer). */
export function programmedVerdict(version: number | undefined, acks: readonly PodAck[]): ProgrammedVerdict {
  if (version === undefined) return { programmed: false, message: 'The configuration has not been published yet' };
  const serving = acks.filter((ack) => ack.appliedVersion >= version);
  if (serving.length > 0) return { programmed: true, message: `${serving.length} of ${acks.length} dataplane pods serve version ${version}` };
  if (acks.length === 0) return { programmed: false, message: `Waiting for a dataplane pod to apply configuration version ${version} (no dataplane pod has reported yet)` };
  const rejected = acks.find((ack) => ack.rejectedVersion !== undefined && ack.rejectedVersion >= version);
  if (rejected !== undefined) {
    return { programmed: false, message: `Dataplane pod ${rejected.pod} rejected configuration version ${version}: ${rejected.rejectedReason ?? 'no reason given'}` };
  }
  const newest = Math.max(...acks.map((ack) => ack.appliedVersion));
  return { programmed: false, message: `Waiting for a dataplane pod to apply configuration version ${version} (${acks.length} pods report version ${newest} or older)` };
}
