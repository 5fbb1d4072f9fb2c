/**
 * The operator's pipeline (README, "Architecture"), as two coalesced loops so status writes (API round
 * trips) never delay the next publish:
 *   publish: store.snapshot() → translate → publisher            (per batch of store changes)
 *   status:  infra provisioner → acks → status writer             (after each publish, and
 *            polled while a Gateway waits for its dataplane to ack)
 * Store changes are coalesced (bounded delay) into one translation.
 */
import { gatewayId } from '../api-types/gateway-ref.ts';
import type { ObjectStore } from './store/object-store.ts';
import type { Snapshot } from './store/snapshot.ts';
import { Coalescer } from './store/coalescer.ts';
import type { TranslationResult, GatewayOutput, ObjectStatus } from './translator/index.ts';
import type { ConfigSink, PublishedState } from './publisher/publisher.ts';
import type { AckSource, PodAck } from './publisher/acks.ts';
import { applyProgrammed } from './status/programmed.ts';
import type { GatewayAddress, StatusSink } from './status/sink.ts';
import type { InfraProvisioner } from './infra/provisioner.ts';
import { spanClock } from '../dataplane/telemetry/config-spans.ts';
import type { ConfigTraces } from './telemetry/config-trace.ts';
import type { OperatorMetrics } from './telemetry/metrics.ts';

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
  /** Wait before publishing again what the sink could not take (default 1 s). */
  readonly publishRetryMs?: number;
  readonly metrics?: OperatorMetrics | undefined;
  /** Config-change traces; none without it. */
  readonly traces?: ConfigTraces | undefined;
}

/** Watch events waiting for the next run. */
interface PendingTrigger {
  at: number;
  readonly kinds: Set<string>;
  events: number;
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
  readonly #statusCoalescer: Coalescer;
  readonly #listeners = new Set<(report: ReconcileReport) => void>();
  #unsubscribe: (() => void) | undefined;
  #snapshot: Snapshot | undefined;
  #result: TranslationResult | undefined;
  #published: ReadonlyMap<string, PublishedState> = new Map();
  #unpublished: ReadonlyMap<string, string> = new Map();
  #confirmed: ReadonlyMap<string, string> = new Map();
  #retry: NodeJS.Timeout | undefined;
  #addresses = new Map<string, GatewayAddress[]>();
  #accepted: readonly GatewayOutput[] = [];
  #republishRequested = false;
  #poll: NodeJS.Timeout | undefined;
  #running = false;
  #trigger: PendingTrigger | undefined;
  /** When each Gateway's current version was published (for the ack lag). */
  readonly #publishedAt = new Map<string, number>();

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    const onError = (error: unknown): void => {
      options.metrics?.reconciles.labels({ result: 'error' }).inc();
      options.log.warn({ err: error }, 'reconcile failed; retrying');
      setTimeout(() => {
        this.#snapshot = undefined;
        this.#coalescer.trigger();
      }, 1000).unref();
    };
    this.#coalescer = new Coalescer(() => this.#publishRun(), { delayMs: options.delayMs ?? 5, maxDelayMs: options.maxDelayMs ?? 50, onError });
    this.#statusCoalescer = new Coalescer(() => this.#statusRun(), { delayMs: options.delayMs ?? 5, maxDelayMs: options.maxDelayMs ?? 50, onError });
  }

  /** Starts following the store. */
  start(): void {
    this.#running = true;
    this.#snapshot = undefined;
    this.#coalescer.resume();
    this.#statusCoalescer.resume();
    this.#unsubscribe = this.#options.store.onChange((kind) => {
      this.#recordTrigger(kind);
      this.#coalescer.trigger();
    });
    this.#coalescer.trigger();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    clearTimeout(this.#poll);
    clearTimeout(this.#retry);
    this.#coalescer.stop();
    this.#statusCoalescer.stop();
    await this.#coalescer.idle();
    await this.#statusCoalescer.idle();
  }

  /** Publishes again without waiting for a store change: the config store lost what was published. */
  republish(): void {
    this.#republishRequested = true;
    this.#coalescer.trigger();
  }

  /** Called after every run (tests, benchmarks, logs). */
  onReport(listener: (report: ReconcileReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when no run is pending. */
  async idle(): Promise<void> {
    await this.#coalescer.idle();
    await this.#statusCoalescer.idle();
  }

  get lastResult(): TranslationResult | undefined {
    return this.#result;
  }

  #recordTrigger(kind: string): void {
    const trigger = (this.#trigger ??= { at: spanClock(), kinds: new Set(), events: 0 });
    trigger.kinds.add(kind);
    trigger.events++;
    this.#options.metrics?.queueDepth.set(trigger.events);
  }

  /** Publish path: translate the current snapshot and publish; never waits on status writes. */
  async #publishRun(): Promise<void> {
    if (!this.#running) return;
    const started = performance.now();
    const startedAt = spanClock();
    const trigger = this.#trigger;
    this.#trigger = undefined;
    const { store, translate, sink, log, metrics, traces } = this.#options;
    metrics?.queueDepth.set(0);
    if (trigger !== undefined) metrics?.debounceWait.observe((startedAt - trigger.at) / 1000);
    const snapshot = store.snapshot();
    const unchanged = snapshot === this.#snapshot && this.#result !== undefined;
    if (unchanged && !this.#republishRequested) return;
    this.#republishRequested = false;
    const translateStartedAt = spanClock();
    const result = unchanged && this.#result !== undefined ? this.#result : translate(snapshot);
    const translateEndedAt = spanClock();
    metrics?.translateDuration.observe((translateEndedAt - translateStartedAt) / 1000);
    const observer = traces?.round({
      triggeredAt: trigger?.at, triggers: [...(trigger?.kinds ?? [])].sort(), events: trigger?.events ?? 0, startedAt, translateStartedAt, translateEndedAt,
    });
    const published = await sink.publish(result.configs.map(({ gateway, config }) => ({ gateway, config })), observer);
    const publishedAt = spanClock();
    metrics?.publishDuration.observe((publishedAt - translateEndedAt) / 1000);
    for (const id of published.changed) {
      this.#publishedAt.set(id, Date.now());
      const version = published.current.get(id)?.version;
      if (version !== undefined) metrics?.configVersion.labels({ gateway: id }).set(version);
    }
    for (const id of published.removed) {
      this.#publishedAt.delete(id);
      metrics?.configVersion.remove({ gateway: id });
    }
    traces?.removed(published.removed);
    this.#published = published.current;
    this.#unpublished = published.failed;
    if (published.failed.size > 0) {
      log.warn({ failed: Object.fromEntries(published.failed) }, 'publishing failed; retrying');
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => { this.republish(); }, this.#options.publishRetryMs ?? 1000);
      this.#retry.unref();
    }
    const byGateway = new Map(result.statuses.filter((status) => status.kind === 'Gateway').map((status) => [gatewayId(status), status]));
    this.#accepted = result.configs.filter((output) => isAccepted(byGateway.get(gatewayId(output.gateway))));
    this.#snapshot = snapshot;
    this.#result = result;
    if (published.changed.length > 0 || published.removed.length > 0) log.info({ changed: published.changed, removed: published.removed }, 'published dataplane configs');
    metrics?.reconciles.labels({ result: 'ok' }).inc();
    metrics?.reconcileDuration.observe((performance.now() - started) / 1000);
    this.#report({ translated: true, changed: published.changed, removed: published.removed, pending: [], ms: performance.now() - started });
    this.#statusCoalescer.trigger();
  }

  /**
   * Status path: provision, read acks, write statuses for the last translation. Also run by
   * the ack poll; cheap when nothing changed, and it lets the provisioner restore objects
   * removed behind its back.
   */
  async #statusRun(): Promise<void> {
    const result = this.#result;
    if (!this.#running || result === undefined) return;
    const started = performance.now();
    const { acks, provisioner } = this.#options;
    if (provisioner !== undefined) this.#addresses = await provisioner.apply(this.#accepted);
    const gateways = result.configs.map((output) => output.gateway);
    const ackMap: Map<string, PodAck[]> | { unreadable: string } = acks === undefined
      ? new Map<string, PodAck[]>()
      : await acks.read(gateways).catch((error: unknown) => ({ unreadable: error instanceof Error ? error.message : String(error) }));
    const programmed = applyProgrammed(result.statuses, { published: this.#published, unpublished: this.#unpublished, acks: ackMap, confirmed: this.#confirmed });
    const newlyProgrammed = [...programmed.confirmed].filter(([id, digest]) => this.#confirmed.get(id) !== digest);
    this.#confirmed = programmed.confirmed;
    await this.#writeStatuses(programmed.statuses, gateways.map((gateway) => gatewayId(gateway)), newlyProgrammed, ackMap);
    this.#report({ translated: false, changed: [], removed: [], pending: programmed.pending, ms: performance.now() - started });
    if (acks !== undefined) this.#schedulePoll(programmed.pending.length > 0 || 'unreadable' in ackMap ? (this.#options.pendingPollMs ?? 500) : (this.#options.idlePollMs ?? 10_000));
  }

  /** Writes a status round, counting it and recording it in the config-change traces. */
  async #writeStatuses(statuses: readonly ObjectStatus[], gateways: readonly string[], newlyProgrammed: readonly [string, string][], acks: ReadonlyMap<string, readonly PodAck[]> | { unreadable: string }): Promise<void> {
    const { metrics, traces } = this.#options;
    const startedAt = spanClock();
    let error: string | undefined;
    try {
      await this.#options.statuses.write(statuses, { addresses: this.#addresses });
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      throw failure;
    } finally {
      const endedAt = spanClock();
      metrics?.statusWrites.labels({ result: error === undefined ? 'ok' : 'error' }).inc();
      traces?.statusWritten(gateways, startedAt, endedAt, error);
      for (const [id, digest] of newlyProgrammed) {
        const pods = 'unreadable' in acks ? [] : acks.get(id) ?? [];
        const serving = pods.filter((ack) => ack.appliedDigest === digest);
        const publishedAt = this.#publishedAt.get(id);
        const firstAck = serving.length === 0 ? undefined : Math.min(...serving.map((ack) => ack.at));
        const ackLagMs = publishedAt === undefined || firstAck === undefined ? undefined : Math.max(0, firstAck - publishedAt);
        if (ackLagMs !== undefined && error === undefined) {
          metrics?.ackLag.observe(ackLagMs / 1000);
          this.#publishedAt.delete(id);
        }
        traces?.programmed(id, digest, { podsServing: serving.length, pods: pods.length, ackLagMs }, startedAt, endedAt, error);
      }
    }
  }

  #report(report: ReconcileReport): void {
    for (const listener of this.#listeners) listener(report);
  }

  #schedulePoll(ms: number): void {
    clearTimeout(this.#poll);
    if (!this.#running) return;
    this.#poll = setTimeout(() => { this.#statusCoalescer.trigger(); }, ms);
    this.#poll.unref();
  }
}
