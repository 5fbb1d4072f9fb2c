import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Describes the awaited condition for the timeout message, e.g. "namespace deleted". */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/** Thrown by a poll check to stop polling at once (e.g. the server being waited for crashed). */
export class FatalError extends Error {
  override name = 'FatalError';
}

export class PollTimeoutError extends Error {
  override name = 'PollTimeoutError';
}

/**
 * Calls `check` until it returns a value other than undefined and returns that value.
 * Errors thrown by `check` are retried (the last one is reported on timeout), except
 * FatalError, which ends polling immediately.
 */
export async function poll<T>(check: () => Promise<T | undefined> | T | undefined, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof FatalError) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new PollTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}`, { cause: lastError });
    }
    await sleep(options.intervalMs ?? 100);
  }
}
