/**
 * Follows one Gateway's published config, whatever carries it: Redis for pods
 * (`subscriber.ts`), memory in standalone mode. Decides which revisions to take (only newer
 * than the one served, never the one just rejected; the same digest under a newer revision is
 * adopted without recompiling), applies them, retries what failed for reasons outside the
 * config (a port still taken), and keeps the ack that tells the operator what is served.
 */
import type { PublishedConfig } from '../api-types/dataplane-config.ts';
import {
  NO_REVISION, compareRevisions, decodeEnvelope, decodeNotification, encodeAck, formatRevision, sameRevision, type Revision,
} from '../api-types/config-codec.ts';
import { gatewayId, type GatewayRef } from '../api-types/gateway-ref.ts';
import type { ConfigAck } from '../api-types/redis-contract.ts';
import { ApplySpan, spanClock } from './telemetry/config-spans.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracer } from './telemetry/tracing.ts';

/** The transport: where the current envelope is read and the ack is stored, both encoded. */
export interface ConfigSource {
  /** The Gateway's current envelope, or null when none is published. Rejects when unreachable. */
  read(): Promise<string | null>;
  /** Stores the ack; a promise settles when the transport has it (it never rejects). */
  writeAck(encoded: string): void | Promise<void>;
}

/** Lets `apply` report where compiling ends and swapping begins, for the trace. */
export interface ApplyProgress {
  compiled(): void;
}

export interface ConfigFollowerOptions {
  gateway: GatewayRef;
  source: ConfigSource;
  /** Compiles and swaps in a validated config; throws to reject it. */
  apply: (published: PublishedConfig, progress: ApplyProgress) => Promise<void>;
  log: Logger;
  metrics: DataplaneMetrics;
  /** Longest wait before retrying a config that failed for a transient reason. */
  maxBackoffMs?: number;
  /** Config-change spans (see telemetry/config-spans.ts); none without it. */
  tracer?: Tracer | undefined;
  /** Span attributes naming this pod. */
  traceAttributes?: Record<string, string>;
}

export interface AppliedConfig extends Revision {
  readonly digest: string;
}

export class ConfigFollower {
  readonly #options: ConfigFollowerOptions;
  readonly #gatewayId: string;
  #applied: AppliedConfig = { ...NO_REVISION, digest: '' };
  #rejected: Revision | undefined;
  #problem: string | undefined;
  #syncing = false;
  #syncAgain = false;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ConfigFollowerOptions) {
    this.#options = options;
    this.#gatewayId = gatewayId(options.gateway);
  }

  get applied(): AppliedConfig {
    return this.#applied;
  }

  /** A notification arrived (encoded); reads the config when it announces something to take. */
  notified(raw: string): void {
    const notification = decodeNotification(raw);
    if (notification === undefined) {
      this.#options.log.warn({ message: raw.slice(0, 200) }, 'ignoring a malformed config notification');
      return;
    }
    if (notification.gateway !== this.#gatewayId) return;
    if (notification.deleted === true) {
      this.#options.log.warn({ gateway: this.#gatewayId }, 'gateway deleted; serving the last config until shut down');
      return;
    }
    if (this.#wants(notification)) this.sync();
  }

  /** Reads and applies the current config; calls made while one runs coalesce into one more run. */
  sync(): void {
    if (this.#stopped) return;
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = true;
    void this.#syncLoop();
  }

  /** Resolves when no read/apply is running. */
  async idle(): Promise<void> {
    if (!this.#syncing) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** What this pod reports: the applied revision and digest, and why a newer one is not applied. */
  ack(): ConfigAck {
    return {
      appliedEpoch: this.#applied.epoch,
      appliedVersion: this.#applied.version,
      appliedDigest: this.#applied.digest,
      ...(this.#rejected === undefined ? {} : { rejectedEpoch: this.#rejected.epoch, rejectedVersion: this.#rejected.version }),
      ...(this.#problem === undefined ? {} : { rejectedReason: this.#problem }),
      at: Date.now(),
    };
  }

  writeAck(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return Promise.resolve(this.#options.source.writeAck(encodeAck(this.ack())));
  }

  /** Stops following; resolves once a running read/apply finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    await this.idle();
  }

  #wants(revision: Revision): boolean {
    return compareRevisions(revision, this.#applied) > 0 && (this.#rejected === undefined || !sameRevision(revision, this.#rejected));
  }

  async #syncLoop(): Promise<void> {
    try {
      do {
        this.#syncAgain = false;
        await this.#readAndApply();
      } while (this.#moreToSync());
    } finally {
      this.#syncing = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** A notification or reconnect arrived while the last read ran. */
  #moreToSync(): boolean {
    return this.#syncAgain && !this.#stopped;
  }

  async #readAndApply(): Promise<void> {
    const { log, metrics } = this.#options;
    const readAt = spanClock();
    let raw: string | null;
    try {
      raw = await this.#options.source.read();
    } catch (error) {
      // The transport calls sync() again once it is back.
      log.debug({ err: error }, 'reading the config failed');
      return;
    }
    if (raw === null) {
      log.info({ gateway: this.#gatewayId }, 'no config published for this gateway yet');
      return;
    }
    const receivedAt = spanClock();
    const decoded = decodeEnvelope(raw);
    const validatedAt = spanClock();
    if (!decoded.ok) {
      if (decoded.revision === undefined || this.#wants(decoded.revision)) {
        const span = this.#span(decoded.traceparent, decoded.revision, raw.length, readAt, receivedAt, validatedAt);
        span?.fail(decoded.reason);
        await this.#reject(decoded.revision, decoded.reason, span);
      }
      return;
    }
    const published = decoded.value;
    if (!this.#wants(published)) return;
    const span = this.#span(published.traceparent, published, raw.length, readAt, receivedAt, validatedAt);
    const { gateway } = published.config;
    if (gateway.namespace !== this.#options.gateway.namespace || gateway.name !== this.#options.gateway.name) {
      const reason = `config is for gateway ${gatewayId(gateway)}, not ${this.#gatewayId}`;
      span?.fail(reason);
      await this.#reject(published, reason, span);
      return;
    }
    const started = performance.now();
    const recompiled = published.digest !== this.#applied.digest;
    if (recompiled) {
      let compiledAt: number | undefined;
      try {
        await this.#options.apply(published, { compiled: () => { compiledAt = spanClock(); } });
      } catch (error) {
        const reason = `config cannot be applied: ${(error as Error).message}`;
        span?.stage('compile', validatedAt, compiledAt ?? spanClock());
        span?.fail(reason);
        if (isTransientApplyError(error)) await this.#retryLater(published, reason, span);
        else await this.#reject(published, reason, span);
        return;
      }
      const swappedAt = spanClock();
      span?.stage('compile', validatedAt, compiledAt ?? swappedAt);
      span?.stage('swap', compiledAt ?? swappedAt, swappedAt);
      metrics.configApplies.inc();
    }
    // The same digest under a newer revision (a republish after Redis lost data, or a new
    // operator term) is the config already served: take the revision, skip the compile.
    this.#retryDelayMs = 0;
    this.#applied = { epoch: published.epoch, version: published.version, digest: published.digest };
    if (this.#rejected === undefined || compareRevisions(this.#rejected, published) <= 0) this.#rejected = undefined;
    if (this.#rejected === undefined) this.#problem = undefined;
    metrics.configVersion.set(published.version);
    log.info({ epoch: published.epoch, version: published.version, digest: published.digest, ms: Math.round(performance.now() - started) }, 'config applied');
    span?.setAttributes({ 'weir.config.recompiled': recompiled, 'weir.config.applied': true });
    await this.#ackWithSpan(span);
  }

  /** The pod's span of one revision (undefined when tracing is off), with the receive and validate stages. */
  #span(traceparent: string | undefined, revision: Revision | undefined, bytes: number, readAt: number, receivedAt: number, validatedAt: number): ApplySpan | undefined {
    const tracer = this.#options.tracer;
    if (tracer === undefined) return undefined;
    const span = new ApplySpan(tracer, traceparent, readAt, {
      ...this.#options.traceAttributes,
      'weir.gateway': this.#gatewayId,
      'weir.config.bytes': bytes,
      ...(revision === undefined ? {} : { 'weir.config.epoch': revision.epoch, 'weir.config.version': revision.version }),
    });
    span.stage('receive', readAt, receivedAt);
    span.stage('validate', receivedAt, validatedAt);
    return span;
  }

  async #ackWithSpan(span: ApplySpan | undefined): Promise<void> {
    if (span === undefined) {
      void this.writeAck();
      return;
    }
    // Timed for the trace, but a transport that hangs must not hold up the next version.
    const ackAt = spanClock();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writeAck(), new Promise((resolve) => { timer = setTimeout(resolve, ACK_SPAN_WAIT_MS); })]);
    clearTimeout(timer);
    const endedAt = spanClock();
    span.stage('ack', ackAt, endedAt);
    span.end(endedAt);
  }

  async #reject(revision: Revision | undefined, reason: string, span?: ApplySpan): Promise<void> {
    this.#options.metrics.configRejects.inc();
    this.#options.log.error({ revision: revision === undefined ? undefined : formatRevision(revision), reason, serving: formatRevision(this.#applied) }, 'config rejected; keeping the last good one');
    if (revision !== undefined) this.#rejected = { epoch: revision.epoch, version: revision.version };
    this.#problem = reason;
    await this.#ackWithSpan(span);
  }

  /**
   * The config is fine but the machine was not (e.g. a port still held by a draining process):
   * report it like a rejection, but try the same revision again with backoff instead of
   * waiting for a newer one.
   */
  async #retryLater(revision: Revision, reason: string, span: ApplySpan | undefined): Promise<void> {
    this.#options.metrics.configRejects.inc();
    this.#retryDelayMs = Math.min(this.#options.maxBackoffMs ?? 5_000, Math.max(100, this.#retryDelayMs * 2));
    this.#options.log.warn({ revision: formatRevision(revision), reason, serving: formatRevision(this.#applied), retryInMs: this.#retryDelayMs }, 'config could not be applied yet; retrying');
    this.#problem = reason;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => { this.sync(); }, this.#retryDelayMs);
    this.#retryTimer.unref();
    await this.#ackWithSpan(span);
  }
}

/** Longest wait for the transport to confirm an ack before the version's span ends anyway. */
const ACK_SPAN_WAIT_MS = 1_000;

/** Errors that say nothing about the config itself: binding a port that is (still) taken. */
const TRANSIENT_APPLY_ERRORS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

function isTransientApplyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_APPLY_ERRORS.has(code);
}
