/**
 * Standalone mode's stand-in for Redis: the publisher's `ConfigStore` and the status writer's
 * `AckSource` in memory, with an in-process dataplane per Gateway following it. Everything
 * else (revisions, encoding, gating, retries, acks) is the code the Redis path runs; only
 * the transport differs, and this one delivers at once: a write returns after the Gateway's
 * dataplane has handled it, so the next status round sees its ack.
 */
import { decodeAck } from '../../api-types/config-codec.ts';
import { gatewayId, type GatewayRef } from '../../api-types/gateway-ref.ts';
import type { ConfigSource } from '../../dataplane/config-follower.ts';
import type { AckSource, PodAck } from '../publisher/acks.ts';
import type { ConfigStore, StoreMarker, StoreOperation, StoreOutcome, StoreWrite } from '../publisher/publisher.ts';

/** What follows one Gateway on the bus. */
export interface BusDataplane {
  readonly follower: {
    notified(raw: string): void;
    idle(): Promise<void>;
  };
  stop(): Promise<void>;
}

export interface MemoryBusOptions {
  /** Creates the dataplane serving one Gateway, reading and acking through `source`. */
  readonly dataplane: (gateway: GatewayRef, source: ConfigSource) => BusDataplane;
  /** Called when a Gateway's dataplane did not take what was just written (the ack says why). */
  readonly onNotApplied?: (gateway: string, reason: string) => void;
}

interface Slot {
  envelope: string | null;
  ack: string | undefined;
  readonly dataplane: BusDataplane;
}

/** The pod name standalone acks carry. */
export const STANDALONE_POD = 'standalone';

export class MemoryBus implements ConfigStore, AckSource {
  readonly #options: MemoryBusOptions;
  readonly #slots = new Map<string, Slot>();
  #marker: StoreMarker | undefined;

  constructor(options: MemoryBusOptions) {
    this.#options = options;
  }

  async write(write: StoreWrite): Promise<StoreOutcome> {
    const fenced = this.#fence(write.marker);
    if (fenced !== undefined) return fenced;
    const slot = this.#slots.get(write.id) ?? this.#open(write.gateway, write.id);
    slot.envelope = write.envelope;
    this.#announce(write.notification);
    await slot.dataplane.follower.idle();
    const ack = slot.ack === undefined ? undefined : decodeAck(slot.ack);
    if (ack?.rejectedReason !== undefined) this.#options.onNotApplied?.(write.id, ack.rejectedReason);
    return { fenced: false };
  }

  async remove(removal: StoreOperation): Promise<StoreOutcome> {
    const fenced = this.#fence(removal.marker);
    if (fenced !== undefined) return fenced;
    const slot = this.#slots.get(removal.id);
    if (slot === undefined) return { fenced: false };
    this.#slots.delete(removal.id);
    this.#announce(removal.notification);
    await slot.dataplane.stop();
    return { fenced: false };
  }

  async published(): Promise<string[]> {
    return Promise.resolve([...this.#slots.keys()]);
  }

  async marker(): Promise<StoreMarker | undefined> {
    return Promise.resolve(this.#marker);
  }

  async read(gateways: readonly GatewayRef[]): Promise<Map<string, PodAck[]>> {
    const result = new Map<string, PodAck[]>();
    for (const gateway of gateways) {
      const raw = this.#slots.get(gatewayId(gateway))?.ack;
      const ack = raw === undefined ? undefined : decodeAck(raw);
      result.set(gatewayId(gateway), ack === undefined ? [] : [{ ...ack, pod: STANDALONE_POD }]);
    }
    return Promise.resolve(result);
  }

  async stop(): Promise<void> {
    const slots = [...this.#slots.values()];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.dataplane.stop()));
  }

  #open(gateway: GatewayRef, id: string): Slot {
    const source: ConfigSource = {
      read: () => Promise.resolve(slot.envelope),
      writeAck: (encoded) => { slot.ack = encoded; },
    };
    const slot: Slot = { envelope: null, ack: undefined, dataplane: this.#options.dataplane(gateway, source) };
    this.#slots.set(id, slot);
    return slot;
  }

  /** Like Redis pub/sub: every follower hears every notification and picks its own Gateway's. */
  #announce(notification: string): void {
    for (const slot of this.#slots.values()) slot.dataplane.follower.notified(notification);
  }

  #fence(marker: StoreMarker): StoreOutcome | undefined {
    if (this.#marker !== undefined && this.#marker.epoch > marker.epoch) return { fenced: true, by: this.#marker.epoch };
    this.#marker = marker;
    return undefined;
  }
}
