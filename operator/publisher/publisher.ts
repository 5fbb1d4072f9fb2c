/**
 * Publishes each Gateway's DataplaneConfig (design §3, ADR 0005), whatever the transport:
 * Redis in a cluster (`redis-store.ts`), memory in standalone mode. A Gateway gets a new
 * revision only when its digest changed. Revisions are (epoch, version): the epoch is this
 * operator's leadership term, durable outside Redis and strictly increasing; versions count
 * per Gateway in this process's memory. Nothing read back from Redis decides a revision, so
 * a Redis that lost or rolled back its data can never make a dataplane see an older one.
 *
 * Every write also leaves a marker (epoch, write count) in the store; `verify()` compares it
 * with what this process wrote, and a mismatch (flush, restart without persistence, failover
 * to a replica that is behind, restore of an old snapshot) makes the next publish write every
 * Gateway again under fresh revisions. The marker's epoch also fences: a store refuses writes
 * from an older epoch than the last one written, so an operator that has not yet noticed it
 * lost the Lease cannot overwrite its successor.
 */
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { encodeEnvelope, encodeNotification, serializeConfig, type Revision } from '../../api-types/config-codec.ts';
import { gatewayId, parseGatewayId, type GatewayRef } from '../../api-types/gateway-ref.ts';

export interface PublishInput {
  readonly gateway: GatewayRef;
  readonly config: DataplaneConfig;
}

export interface PublishedState extends Revision {
  readonly digest: string;
}

export interface PublishResult {
  /** Gateway id → the revision and digest now published. */
  readonly current: ReadonlyMap<string, PublishedState>;
  /** Gateway ids that got a new revision in this round. */
  readonly changed: readonly string[];
  /** Gateway ids whose configs were removed. */
  readonly removed: readonly string[];
  /** Gateway ids the store could not take (the key '' when the list of published Gateways could not be read), with why. */
  readonly failed: ReadonlyMap<string, string>;
}

/** One write of a round as an observer (the config-change trace) sees it. */
export interface PublishedWrite {
  /** W3C traceparent to send in the envelope, so dataplane pods join the change's trace. */
  readonly traceparent: string | undefined;
  /** The store took the write, or (with `error`) did not. */
  done(error?: string): void;
}

/** Sees every new revision of a round before it is written. */
export interface PublishObserver {
  write(gateway: string, revision: Revision, config: DataplaneConfig, digest: string, bytes: number): PublishedWrite;
}

/** What the reconciler publishes to. */
export interface ConfigSink {
  publish(configs: readonly PublishInput[], observer?: PublishObserver): Promise<PublishResult>;
}

/** The last write a store saw: who (epoch) and how many writes that term had made. */
export interface StoreMarker {
  readonly epoch: number;
  readonly writes: number;
}

export interface StoreOperation {
  readonly gateway: GatewayRef;
  readonly id: string;
  /** The marker this operation leaves. */
  readonly marker: StoreMarker;
  /** Encoded notification to announce it. */
  readonly notification: string;
}

export interface StoreWrite extends StoreOperation {
  /** Encoded envelope. */
  readonly envelope: string;
}

/** Either done, or refused because a newer epoch has written (this operator no longer leads). */
export type StoreOutcome = { readonly fenced: false } | { readonly fenced: true; readonly by: number };

/** The transport: stores envelopes and announces them, each operation atomically. */
export interface ConfigStore {
  write(write: StoreWrite): Promise<StoreOutcome>;
  remove(removal: StoreOperation): Promise<StoreOutcome>;
  /** Ids of the Gateways this installation has published and not removed. */
  published(): Promise<string[]>;
  marker(): Promise<StoreMarker | undefined>;
}

export class FencedError extends Error {
  constructor(epoch: number, by: number) {
    super(`epoch ${by} has published after this operator's epoch ${epoch}; this operator no longer leads and stops writing`);
    this.name = 'FencedError';
  }
}

export class ConfigPublisher implements ConfigSink {
  readonly #store: ConfigStore;
  #epoch: number | undefined;
  /** Last version handed out per Gateway in this epoch; kept across deletes so a re-created Gateway continues above. */
  readonly #versions = new Map<string, number>();
  /** What this process published per Gateway and believes the store still holds. */
  readonly #known = new Map<string, PublishedState>();
  #writes = 0;
  /** The highest write the store confirmed. */
  #confirmed = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: ConfigStore) {
    this.#store = store;
  }

  /**
   * Begins a leadership term: the next publish writes every Gateway under `epoch` (never
   * below a term this process already used). Returns the epoch in use.
   */
  startTerm(epoch: number): number {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new Error(`an epoch is a positive integer, got ${epoch}`);
    this.#epoch = Math.max(epoch, (this.#epoch ?? 0) + 1);
    this.#versions.clear();
    this.#known.clear();
    this.#writes = 0;
    this.#confirmed = 0;
    return this.#epoch;
  }

  /**
   * Publishes every config whose digest changed (everything, after the store lost data) and
   * removes Gateways no longer present. A Gateway the store could not take is reported in
   * `failed` and tried again by the next publish; only a fence ends the round with an error.
   */
  async publish(configs: readonly PublishInput[], observer?: PublishObserver): Promise<PublishResult> {
    return this.#exclusive(async () => {
      const epoch = this.#requireEpoch();
      const failed = new Map<string, string>();
      // Unreachable: the writes below fail as well and say so.
      await this.#checkStore().catch(() => false);
      const changed: string[] = [];
      const wanted = new Set<string>();
      await Promise.all(configs.map(async ({ gateway, config }) => {
        const id = gatewayId(gateway);
        wanted.add(id);
        const serialized = serializeConfig(config);
        if (this.#known.get(id)?.digest === serialized.digest) return;
        const revision = this.#nextRevision(id, epoch);
        const marker = { epoch, writes: ++this.#writes };
        const observed = observer?.write(id, revision, config, serialized.digest, Buffer.byteLength(serialized.json));
        const outcome = await this.#store.write({
          gateway, id, marker,
          envelope: encodeEnvelope(revision, serialized, observed?.traceparent),
          notification: encodeNotification({ gateway: id, ...revision, digest: serialized.digest }),
        }).catch((error: unknown) => { failed.set(id, errorMessage(error)); });
        observed?.done(outcome === undefined ? failed.get(id) : outcome.fenced ? `fenced by epoch ${outcome.by}` : undefined);
        if (outcome === undefined) return;
        this.#confirm(marker, outcome);
        this.#known.set(id, { ...revision, digest: serialized.digest });
        changed.push(id);
      }));
      const removed: string[] = [];
      const listed = await this.#store.published().catch((error: unknown) => { failed.set('', errorMessage(error)); return []; });
      for (const id of new Set([...listed, ...this.#known.keys()])) {
        if (wanted.has(id)) continue;
        const gateway = parseGatewayId(id);
        if (gateway === undefined) {
          this.#known.delete(id);
          continue;
        }
        const revision = this.#nextRevision(id, epoch);
        const marker = { epoch, writes: ++this.#writes };
        const outcome = await this.#store.remove({ gateway, id, marker, notification: encodeNotification({ gateway: id, ...revision, digest: '', deleted: true }) })
          .catch((error: unknown) => { failed.set(id, errorMessage(error)); });
        if (outcome === undefined) continue;
        this.#confirm(marker, outcome);
        this.#known.delete(id);
        removed.push(id);
      }
      return { current: new Map(this.#known), changed: changed.sort(), removed: removed.sort(), failed };
    });
  }

  /**
   * True when the store no longer holds what this process wrote (its marker is missing or
   * differs); the next publish then writes every Gateway again.
   */
  async verify(): Promise<boolean> {
    return this.#exclusive(() => this.#checkStore());
  }

  async #checkStore(): Promise<boolean> {
    if (this.#epoch === undefined || this.#confirmed === 0) return false;
    const marker = await this.#store.marker();
    if (marker?.epoch === this.#epoch && marker.writes === this.#confirmed) return false;
    this.#known.clear();
    return true;
  }

  #requireEpoch(): number {
    if (this.#epoch === undefined) throw new Error('publishing needs a leadership term (startTerm)');
    return this.#epoch;
  }

  #nextRevision(id: string, epoch: number): Revision {
    const version = (this.#versions.get(id) ?? 0) + 1;
    this.#versions.set(id, version);
    return { epoch, version };
  }

  #confirm(marker: StoreMarker, outcome: StoreOutcome): void {
    if (outcome.fenced) throw new FencedError(marker.epoch, outcome.by);
    this.#confirmed = Math.max(this.#confirmed, marker.writes);
  }

  /** Publishes and verifications run one at a time, so a check never sees a round half written. */
  async #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
