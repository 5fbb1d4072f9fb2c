/** The operator's structured logger (pino), plus the plain-message adapter the SDK layer wants. */
import { pino, type Logger } from 'pino';
import type { WatchLog } from './provider/kubernetes/sdk-watcher.ts';

export type { Logger };

export function createOperatorLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component: 'operator' } });
}

export function messageLog(log: Logger): WatchLog {
  return {
    debug: (message) => { log.debug(message); },
    info: (message) => { log.info(message); },
    warn: (message) => { log.warn(message); },
    error: (message) => { log.error(message); },
  };
}
