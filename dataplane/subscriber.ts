/**
 * The Redis transport of a pod's `ConfigFollower` (design §3): SUBSCRIBE to the notification
 * channel, then GET the snapshot key, and GET again after every (re)connect and every
 * notification that announces something to take. The ack is written to the Gateway's ack
 * hash after every change and refreshed periodically within its TTL; a Redis that lost its
 * data gets the ack back at the next refresh.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { PublishedConfig } from '../api-types/dataplane-config.ts';
import { ACK_TTL_SECONDS, CONFIG_CHANNEL, ackKey, configKey } from '../api-types/redis-contract.ts';
import type { GatewayRef } from '../api-types/gateway-ref.ts';
import { ConfigFollower, type AppliedConfig, type ApplyProgress } from './config-follower.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { Tracer } from './telemetry/tracing.ts';

export interface SubscriberOptions {
  redisUrl: string;
  gateway: GatewayRef;
  podName: string;
  /** Compiles and swaps in a validated config; throws to reject it. */
  apply: (published: PublishedConfig, progress: ApplyProgress) => Promise<void>;
  log: Logger;
  metrics: DataplaneMetrics;
  /** Config-change spans; none without it. */
  tracer?: Tracer | undefined;
  ackIntervalMs?: number;
  /** Longest wait between reconnect attempts (and between retries of a config that failed transiently). */
  maxBackoffMs?: number;
}

export class ConfigSubscriber {
  readonly podName: string;
  readonly #options: SubscriberOptions;
  readonly #follower: ConfigFollower;
  readonly #sub: Redis;
  readonly #cmd: Redis;
  #stopped = false;
  #ackTimer: NodeJS.Timeout | undefined;

  constructor(options: SubscriberOptions) {
    this.#options = options;
    this.podName = options.podName;
    const maxBackoff = options.maxBackoffMs ?? 5_000;
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      // Exponential backoff with jitter, capped.
      retryStrategy: (times) => Math.min(maxBackoff, 50 * 2 ** Math.min(times, 10)) * (0.5 + Math.random() / 2),
    };
    // The 'ready' handler below subscribes (and then reads) after every connect; ioredis's own
    // re-subscribe would duplicate it with a promise nobody handles when the connection closes.
    this.#sub = new Redis(options.redisUrl, { ...redisOptions, autoResubscribe: false, connectionName: `weir-dataplane-sub:${options.podName}` });
    this.#cmd = new Redis(options.redisUrl, { ...redisOptions, enableOfflineQueue: false, connectionName: `weir-dataplane:${options.podName}` });
    const key = configKey(options.gateway);
    this.#follower = new ConfigFollower({
      gateway: options.gateway,
      source: { read: () => this.#cmd.get(key), writeAck: (encoded) => this.#writeAck(encoded) },
      apply: options.apply,
      log: options.log,
      metrics: options.metrics,
      maxBackoffMs: maxBackoff,
      tracer: options.tracer,
      traceAttributes: { 'k8s.pod.name': options.podName },
    });
    for (const [name, client] of [['subscriber', this.#sub], ['command', this.#cmd]] as const) {
      client.on('error', (error: Error) => {
        options.log.debug({ err: error, connection: name }, 'redis connection error');
      });
    }
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel === CONFIG_CHANNEL) this.#follower.notified(message);
    });
    this.#sub.on('ready', () => {
      // Confirm the subscription before reading, so no notification can fall between the two.
      this.#sub.subscribe(CONFIG_CHANNEL).then(
        () => { this.#follower.sync(); },
        (error: unknown) => { options.log.warn({ err: error }, 'redis subscribe failed'); },
      );
    });
    this.#cmd.on('ready', () => {
      this.#follower.sync();
      void this.#follower.writeAck();
    });
  }

  get applied(): AppliedConfig {
    return this.#follower.applied;
  }

  /** Connects (retrying in the background when Redis is not there yet). */
  start(): void {
    this.#sub.connect().catch(() => undefined);
    this.#cmd.connect().catch(() => undefined);
    const interval = this.#options.ackIntervalMs ?? (ACK_TTL_SECONDS * 1000) / 3;
    this.#ackTimer = setInterval(() => { void this.#follower.writeAck(); }, interval);
    this.#ackTimer.unref();
  }

  /** Stops following, removes this pod's ack and closes both connections. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ackTimer);
    await this.#follower.stop();
    if (this.#cmd.status === 'ready') {
      await Promise.race([this.#cmd.hdel(ackKey(this.#options.gateway), this.podName).catch(() => 0), sleep(500)]);
    }
    this.#sub.disconnect();
    this.#cmd.disconnect();
  }

  /** Resolves when no read/apply is running. */
  async idle(): Promise<void> {
    await this.#follower.idle();
  }

  async #writeAck(encoded: string): Promise<void> {
    if (this.#stopped || this.#cmd.status !== 'ready') return;
    const key = ackKey(this.#options.gateway);
    await this.#cmd
      .multi()
      .hset(key, this.podName, encoded)
      .expire(key, ACK_TTL_SECONDS)
      .exec()
      .catch((error: unknown) => {
        this.#options.log.debug({ err: error }, 'writing the ack failed');
      });
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
