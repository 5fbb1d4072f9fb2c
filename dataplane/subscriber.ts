/**
 * Follows the Gateway's config in Redis (design §3): SUBSCRIBE to the notification channel, then
 * GET the snapshot key, and GET again after every (re)connect and every relevant notification.
 * Only versions newer than the one being served are considered. An invalid version is rejected
 * (log, metric, ack) while the last good one keeps serving. The applied version is acknowledged
 * per pod in a hash whose TTL is refreshed periodically.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { validatePublishedConfig, type PublishedConfig } from '../api-types/dataplane-config.ts';
import {
  ACK_TTL_SECONDS,
  CONFIG_CHANNEL,
  ackKey,
  configKey,
  isConfigNotification,
  type ConfigAck,
} from '../api-types/redis-contract.ts';
import type { GatewayRef } from '../api-types/gateway-ref.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';

export interface SubscriberOptions {
  redisUrl: string;
  gateway: GatewayRef;
  podName: string;
  /** Compiles and swaps in a validated config; throws to reject it. */
  apply: (published: PublishedConfig) => Promise<void>;
  log: Logger;
  metrics: DataplaneMetrics;
  ackIntervalMs?: number;
  /** Longest wait between reconnect attempts. */
  maxBackoffMs?: number;
}

export class ConfigSubscriber {
  appliedVersion = 0;
  appliedDigest = '';
  readonly podName: string;
  private rejectedVersion: number | undefined;
  private rejectedReason: string | undefined;
  private readonly options: SubscriberOptions;
  private readonly gatewayId: string;
  private readonly sub: Redis;
  private readonly cmd: Redis;
  private syncing = false;
  private syncAgain = false;
  private stopped = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: SubscriberOptions) {
    this.options = options;
    this.podName = options.podName;
    this.gatewayId = `${options.gateway.namespace}/${options.gateway.name}`;
    const maxBackoff = options.maxBackoffMs ?? 5_000;
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      // Exponential backoff with jitter, capped.
      retryStrategy: (times) => Math.min(maxBackoff, 50 * 2 ** Math.min(times, 10)) * (0.5 + Math.random() / 2),
    };
    // The 'ready' handler below subscribes (and then reads) after every connect; ioredis's own
    // re-subscribe would duplicate it with a promise nobody handles when the connection closes.
    this.sub = new Redis(options.redisUrl, { ...redisOptions, autoResubscribe: false, connectionName: `weir-dataplane-sub:${options.podName}` });
    this.cmd = new Redis(options.redisUrl, { ...redisOptions, enableOfflineQueue: false, connectionName: `weir-dataplane:${options.podName}` });
    for (const [name, client] of [['subscriber', this.sub], ['command', this.cmd]] as const) {
      client.on('error', (error: Error) => {
        options.log.debug({ err: error, connection: name }, 'redis connection error');
      });
    }
    this.sub.on('message', (channel: string, message: string) => {
      this.onNotification(channel, message);
    });
    this.sub.on('ready', () => {
      // Confirm the subscription before reading, so no notification can fall between the two.
      this.sub.subscribe(CONFIG_CHANNEL).then(
        () => { this.sync(); },
        (error: unknown) => { options.log.warn({ err: error }, 'redis subscribe failed'); },
      );
    });
    this.cmd.on('ready', () => {
      this.sync();
      this.writeAck();
    });
  }

  /** Connects (retrying in the background when Redis is not there yet). */
  start(): void {
    this.sub.connect().catch(() => undefined);
    this.cmd.connect().catch(() => undefined);
    const interval = this.options.ackIntervalMs ?? (ACK_TTL_SECONDS * 1000) / 3;
    this.ackTimer = setInterval(() => { this.writeAck(); }, interval);
    this.ackTimer.unref();
  }

  /** Stops following, removes this pod's ack and closes both connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ackTimer);
    clearTimeout(this.retryTimer);
    await this.idle();
    if (this.cmd.status === 'ready') {
      await Promise.race([this.cmd.hdel(ackKey(this.options.gateway), this.options.podName).catch(() => 0), sleep(500)]);
    }
    this.sub.disconnect();
    this.cmd.disconnect();
  }

  /** Resolves when no fetch/apply is running. */
  async idle(): Promise<void> {
    if (!this.syncing) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private onNotification(channel: string, message: string): void {
    if (channel !== CONFIG_CHANNEL) return;
    let notification: unknown;
    try {
      notification = JSON.parse(message);
    } catch {
      this.options.log.warn({ message }, 'ignoring a config notification that is not JSON');
      return;
    }
    if (!isConfigNotification.Check(notification)) {
      this.options.log.warn({ message }, 'ignoring a malformed config notification');
      return;
    }
    if (notification.gateway !== this.gatewayId) return;
    if (notification.deleted === true) {
      this.options.log.warn({ gateway: this.gatewayId }, 'gateway deleted; serving the last config until shut down');
      return;
    }
    if (notification.version > this.appliedVersion && notification.version !== this.rejectedVersion) this.sync();
  }

  /** Fetches and applies the snapshot; calls made while one runs coalesce into one more run. */
  private sync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    void this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    try {
      do {
        this.syncAgain = false;
        await this.fetchAndApply();
      } while (this.moreToSync());
    } finally {
      this.syncing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** A notification or reconnect arrived while the last fetch ran. */
  private moreToSync(): boolean {
    return this.syncAgain && !this.stopped;
  }

  private async fetchAndApply(): Promise<void> {
    const { log, metrics } = this.options;
    let raw: string | null;
    try {
      raw = await this.cmd.get(configKey(this.options.gateway));
    } catch (error) {
      // The next 'ready' (reconnect) fetches again.
      log.debug({ err: error }, 'reading the config from redis failed');
      return;
    }
    if (raw === null) {
      log.info({ gateway: this.gatewayId }, 'no config published for this gateway yet');
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch (error) {
      this.reject(undefined, `config is not valid JSON: ${(error as Error).message}`);
      return;
    }
    const version = peekVersion(input);
    if (version !== undefined && version <= this.appliedVersion) return;
    if (version !== undefined && version === this.rejectedVersion) return;

    const started = performance.now();
    const result = validatePublishedConfig(input);
    if (!result.ok) {
      this.reject(version, `config does not match the contract: ${result.errors.join('; ')}`);
      return;
    }
    const published = result.value;
    const { gateway } = published.config;
    if (gateway.namespace !== this.options.gateway.namespace || gateway.name !== this.options.gateway.name) {
      this.reject(version, `config is for gateway ${gateway.namespace}/${gateway.name}, not ${this.gatewayId}`);
      return;
    }
    try {
      await this.options.apply(published);
    } catch (error) {
      const reason = `config cannot be applied: ${(error as Error).message}`;
      if (isTransientApplyError(error)) this.retryLater(version, reason);
      else this.reject(version, reason);
      return;
    }
    this.retryDelayMs = 0;
    this.appliedVersion = published.version;
    this.appliedDigest = published.digest;
    if (this.rejectedVersion === undefined || this.rejectedVersion <= published.version) {
      this.rejectedVersion = undefined;
      this.rejectedReason = undefined;
    }
    metrics.configApplies.inc();
    metrics.configVersion.set(published.version);
    log.info({ version: published.version, digest: published.digest, ms: Math.round(performance.now() - started) }, 'config applied');
    this.writeAck();
  }

  private reject(version: number | undefined, reason: string): void {
    this.options.metrics.configRejects.inc();
    this.options.log.error({ version, reason, serving: this.appliedVersion }, 'config rejected; keeping the last good one');
    this.rejectedVersion = version ?? this.rejectedVersion;
    this.rejectedReason = reason;
    this.writeAck();
  }

  /**
   * The config is fine but the machine was not (e.g. a port still held by a draining process):
   * report it like a rejection, but try the same version again with backoff instead of
   * waiting for a newer one.
   */
  private retryLater(version: number | undefined, reason: string): void {
    this.options.metrics.configRejects.inc();
    this.retryDelayMs = Math.min(this.options.maxBackoffMs ?? 5_000, Math.max(100, this.retryDelayMs * 2));
    this.options.log.warn({ version, reason, serving: this.appliedVersion, retryInMs: this.retryDelayMs }, 'config could not be applied yet; retrying');
    this.rejectedReason = reason;
    this.writeAck();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { this.sync(); }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private writeAck(): void {
    if (this.stopped || this.cmd.status !== 'ready') return;
    const ack: ConfigAck = {
      appliedVersion: this.appliedVersion,
      appliedDigest: this.appliedDigest,
      ...(this.rejectedReason === undefined ? {} : { rejectedReason: this.rejectedReason }),
      ...(this.rejectedVersion === undefined ? {} : { rejectedVersion: this.rejectedVersion }),
      at: Date.now(),
    };
    const key = ackKey(this.options.gateway);
    this.cmd
      .multi()
      .hset(key, this.options.podName, JSON.stringify(ack))
      .expire(key, ACK_TTL_SECONDS)
      .exec()
      .catch((error: unknown) => {
        this.options.log.debug({ err: error }, 'writing the ack failed');
      });
  }
}

/** Errors that say nothing about the config itself: binding a port that is (still) taken. */
const TRANSIENT_APPLY_ERRORS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

function isTransientApplyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_APPLY_ERRORS.has(code);
}

function peekVersion(input: unknown): number | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const version = (input as { version?: unknown }).version;
  return typeof version === 'number' && Number.isInteger(version) ? version : undefined;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
