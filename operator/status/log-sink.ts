/** A StatusSink for standalone mode: prints each object's status readably when it changes. */
import type { ObjectStatus } from '../translator/index.ts';
import { formatStatus } from './format.ts';
import type { StatusContext, StatusSink } from './sink.ts';

export class LogStatusSink implements StatusSink {
  readonly #write: (text: string) => void;
  readonly #last = new Map<string, string>();

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  write(statuses: readonly ObjectStatus[], _context: StatusContext): Promise<void> {
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const status of statuses) {
      const key = `${status.kind}/${status.namespace}/${status.name}`;
      seen.add(key);
      const text = formatStatus(status).join('\n');
      if (this.#last.get(key) === text) continue;
      this.#last.set(key, text);
      changed.push(text);
    }
    for (const key of [...this.#last.keys()]) {
      if (seen.has(key)) continue;
      this.#last.delete(key);
      changed.push(`${key.split('/')[0] ?? key} ${key.slice(key.indexOf('/') + 1)}  (no longer reported)`);
    }
    if (changed.length > 0) this.#write(`${changed.join('\n')}\n`);
    return Promise.resolve();
  }
}
