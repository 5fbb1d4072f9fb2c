/**
 * The last line of defence of a Weir process (dataplane, operator, standalone): an exception or
 * a promise rejection that nothing handled is logged with its stack, counted, and the process
 * shuts down the way it does on SIGTERM (bounded by a deadline) and exits with status 1, so
 * the orchestrator restarts it. Without this Node prints the error and dies on the spot, cutting
 * every in-flight request and leaving no structured log line.
 */
import type { Logger } from 'pino';

export type FatalKind = 'uncaughtException' | 'unhandledRejection';

export interface ProcessGuardOptions {
  log: Pick<Logger, 'fatal'>;
  /** Counts each fatal error (e.g. a Prometheus counter); called before the shutdown starts. */
  count?: (kind: FatalKind) => void;
  /** The process's orderly shutdown. */
  shutdown: () => Promise<void>;
  /** Longest wait for `shutdown` before exiting anyway. */
  shutdownTimeoutMs: number;
}

export interface ProcessGuard {
  /** Stops handling process-level errors (the handlers are removed). */
  uninstall(): void;
}

export function installProcessGuard(options: ProcessGuardOptions): ProcessGuard {
  let exiting = false;
  const fatal = (kind: FatalKind, error: unknown): void => {
    options.count?.(kind);
    options.log.fatal({ err: error, kind }, exiting ? `${kind} while shutting down` : `${kind}: shutting down`);
    if (exiting) return;
    exiting = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, options.shutdownTimeoutMs).unref());
    const stopped = options.shutdown().catch((shutdownError: unknown) => {
      options.log.fatal({ err: shutdownError }, 'shutdown after a fatal error failed');
    });
    void Promise.race([stopped, deadline]).then(() => process.exit(1));
  };
  const onException = (error: Error): void => { fatal('uncaughtException', error); };
  const onRejection = (reason: unknown): void => { fatal('unhandledRejection', reason); };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    uninstall() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
