/**
 * The operator's pipeline, run once per batch of changes (design §2):
 *   store.snapshot() → translate → publisher → infra provisioner → acks → status writer.
 * Store changes are coalesced (bounded delay) into one run. While a Gateway waits for its
 * dataplane to ack, a short poll re-reads acks and rewrites status (translation and
 * publishing are skipped when the snapshot did not change).
 */
import type { ObjectStore } from './store/object-store.ts';
import type { Snapshot } from './store/snapshot.ts';
import { Coalescer } from './store/coalescer.ts';
import type { TranslationResult, GatewayOutput, ObjectStatus } from './translator/index.ts';
import type { ConfigSink, PublishedState } from './publisher/publisher.ts';
import type { AckSource, PodAck } from './publisher/acks.ts';
import { applyProgrammed } from './status/programmed.ts';
import type { GatewayAddress, StatusSink } from './status/sink.ts';
import type { InfraProvisioner } from './infra/provisioner.ts';

export interface ReconcilerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface ReconcilerOptions {
  readonly store: ObjectStore;
  readonly translate: (snapshot: Snapshot) => TranslationResult;
  readonly sink: ConfigSink;
  readonly statuses: StatusSink;
  readonly acks?: AckSource;
  readonly provisioner?: InfraProvisioner;
  readonly log: ReconcilerLog;
  /** Coalescing window (default 5 ms, at most 50 ms). */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
  /** Ack poll while a Gateway is pending (default 500 ms), otherwise (default 10 s). */
  readonly pendingPollMs?: number;
  readonly idlePollMs?: number;
}

export interface ReconcileReport {
  readonly translated: boolean;
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly pending: readonly string[];
  readonly ms: number;
}

function isAccepted(status: ObjectStatus | undefined): boolean {
  return status?.kind === 'Gateway' && status.status.conditions.some((entry) => entry.type === 'Accepted' && entry.status === 'True');
}

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #coalescer: Coalescer;
  readonly #listeners = new Set<(report: ReconcileReport) => void>();
  #unsubscribe: (() => void) | undefined;
  #snapshot: Snapshot | undefined;
  #result: TranslationResult | undefined;
  #published: ReadonlyMap<string, PublishedState> = new Map();
  #addresses = new Map<string, GatewayAddress[]>();
  #accepted: readonly GatewayOutput[] = [];
  #renotify = false;
  #poll: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#coalescer = new Coalescer(() => this.#reconcile(), {
      delayMs: options.delayMs ?? 5,
      maxDelayMs: options.maxDelayMs ?? 50,
      onError: (error) => {
        options.log.warn({ err: error }, 'reconcile failed; retrying');
        this.#schedulePoll(1000);
      },
    });
  }

  /** Starts following the store; `renotify` republishes every Gateway on the first run. */
  start(options: { renotify?: boolean } = {}): void {
    this.#running = true;
    this.#renotify = options.renotify === true;
    this.#snapshot = undefined;
    this.#coalescer.resume();
    this.#unsubscribe = this.#options.store.onChange(() => { this.#coalescer.trigger(); });
    this.#coalescer.trigger();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    clearTimeout(this.#poll);
    this.#coalescer.stop();
    await this.#coalescer.idle();
  }

  /** Called after every run (tests, benchmarks, logs). */
  onReport(listener: (report: ReconcileReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when no run is pending. */
  async idle(): Promise<void> {
    await this.#coalescer.idle();
  }

  get lastResult(): TranslationResult | undefined {
    return this.#result;
  }

  async #reconcile(): Promise<void> {
    if (!this.#running) return;
    const started = performance.now();
    const { store, translate, sink, statuses, acks, provisioner, log } = this.#options;
    const snapshot = store.snapshot();
    let translated = false;
    let changed: readonly string[] = [];
    let removed: readonly string[] = [];
    if (snapshot !== this.#snapshot || this.#result === undefined) {
      const result = translate(snapshot);
      const published = await sink.publish(
        result.configs.map(({ gateway, config }) => ({ gateway, config })),
        { renotify: this.#renotify },
      );
      this.#renotify = false;
      this.#published = published.current;
      changed = published.changed;
      removed = published.removed;
      const byGateway = new Map(result.statuses.filter((status) => status.kind === 'Gateway').map((status) => [`${status.namespace}/${status.name}`, status]));
      const accepted: GatewayOutput[] = result.configs.filter((output) => isAccepted(byGateway.get(`${output.gateway.namespace}/${output.gateway.name}`)));
      this.#accepted = accepted;
      this.#snapshot = snapshot;
      this.#result = result;
      translated = true;
      if (changed.length > 0 || removed.length > 0) log.info({ changed, removed }, 'published dataplane configs');
    }
    // Every run (also the ack polls): cheap when nothing changed, and it lets the provisioner
    // restore objects removed behind its back.
    if (provisioner !== undefined) this.#addresses = await provisioner.apply(this.#accepted);
    const result = this.#result;
    const gateways = result.configs.map((output) => output.gateway);
    const ackMap: Map<string, PodAck[]> = acks === undefined ? new Map<string, PodAck[]>() : await acks.read(gateways);
    const programmed = applyProgrammed(result.statuses, { published: this.#published, acks: ackMap });
    await statuses.write(programmed.statuses, { addresses: this.#addresses });
    const report: ReconcileReport = { translated, changed, removed, pending: programmed.pending, ms: performance.now() - started };
    for (const listener of this.#listeners) listener(report);
    if (acks !== undefined) this.#schedulePoll(programmed.pending.length > 0 ? (this.#options.pendingPollMs ?? 500) : (this.#options.idlePollMs ?? 10_000));
  }

  #schedulePoll(ms: number): void {
    clearTimeout(this.#poll);
    if (!this.#running) return;
    this.#poll = setTimeout(() => { this.#coalescer.trigger(); }, ms);
    this.#poll.unref();
  }
}
