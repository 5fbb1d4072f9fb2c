/**
 * Notices promptly when Redis no longer holds what the publisher wrote: at once after every
 * reconnect (a restart, a failover), and every `intervalMs` for what keeps the connection
 * (FLUSHALL, a replica promoted behind our back). A loss asks for a republish.
 */
import type { Redis } from 'ioredis';
import type { ConfigPublisher } from './publisher.ts';

export interface StoreWatchOptions {
  readonly redis: Redis;
  readonly publisher: Pick<ConfigPublisher, 'verify'>;
  readonly intervalMs: number;
  readonly onLost: () => void;
  readonly log: { debug(fields: Record<string, unknown>, message: string): void };
}

export interface StoreWatch {
  stop(): void;
}

export function watchConfigStore(options: StoreWatchOptions): StoreWatch {
  const { redis, publisher, onLost, log } = options;
  let checking = false;
  const check = (): void => {
    if (checking || redis.status !== 'ready') return;
    checking = true;
    publisher.verify().then(
      (lost) => { if (lost) onLost(); },
      (error: unknown) => { log.debug({ err: error }, 'checking redis for lost configs failed; the next check retries'); },
    ).finally(() => { checking = false; });
  };
  redis.on('ready', check);
  const timer = setInterval(check, options.intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      redis.off('ready', check);
    },
  };
}
