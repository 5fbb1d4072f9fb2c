/**
 * Coalesces bursts of store changes into one run of an async task: a run starts `delayMs`
 * after the last trigger, but never later than `maxDelayMs` after the first trigger of the
 * burst. Runs never overlap; a trigger during a run schedules exactly one more run.
 */
export interface CoalescerOptions {
  /** Quiet period after a trigger before running (default 5 ms). */
  readonly delayMs?: number;
  /** Upper bound on how long a trigger can wait (default 50 ms). */
  readonly maxDelayMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class Coalescer {
  readonly #task: () => Promise<void>;
  readonly #delayMs: number;
  readonly #maxDelayMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #firstTriggerAt: number | undefined;
  #running: Promise<void> | undefined;
  #pendingDuringRun = false;
  #stopped = false;

  constructor(task: () => Promise<void>, options: CoalescerOptions = {}) {
    this.#task = task;
    this.#delayMs = options.delayMs ?? 5;
    this.#maxDelayMs = Math.max(options.maxDelayMs ?? 50, this.#delayMs);
    this.#onError = options.onError ?? (() => undefined);
  }

  trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#pendingDuringRun = true;
      return;
    }
    const now = performance.now();
    this.#firstTriggerAt ??= now;
    const wait = Math.max(0, Math.min(this.#delayMs, this.#firstTriggerAt + this.#maxDelayMs - now));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#run();
    }, wait);
  }

  /** Resolves once no run is pending or in progress. */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#timer !== undefined) {
      if (this.#running !== undefined) await this.#running;
      else await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    }
  }

  /** Accepts triggers again after `stop()`. */
  resume(): void {
    this.#stopped = false;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #run(): void {
    this.#timer = undefined;
    this.#firstTriggerAt = undefined;
    this.#running = this.#task()
      .catch((error: unknown) => {
        this.#onError(error);
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#pendingDuringRun) {
          this.#pendingDuringRun = false;
          this.trigger();
        }
      });
  }
}
