/**
 * The file provider (standalone mode): loads a folder of YAML into the store and reloads it
 * whenever a file in it changes (fs.watch, debounced).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { ObjectStore } from '../../store/object-store.ts';
import { SNAPSHOT_KINDS } from '../../store/object-store.ts';
import { loadObjects } from './load.ts';

export interface FileProviderOptions {
  readonly paths: readonly string[];
  readonly store: ObjectStore;
  readonly onWarning: (message: string) => void;
  readonly onReload?: (files: readonly string[]) => void;
  readonly debounceMs?: number;
}

export class FileProvider {
  readonly #options: FileProviderOptions;
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;

  constructor(options: FileProviderOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.reload();
    for (const path of this.#options.paths) {
      const watcher = watch(path, { recursive: true }, () => { this.#schedule(); });
      watcher.on('error', (error) => { this.#options.onWarning(`watching ${path}: ${error.message}`); });
      this.#watchers.push(watcher);
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers.length = 0;
  }

  async reload(): Promise<void> {
    const loaded = await loadObjects(this.#options.paths);
    for (const warning of loaded.warnings) this.#options.onWarning(warning);
    for (const kind of SNAPSHOT_KINDS) this.#options.store.replaceKind(kind, loaded.objects.get(kind) ?? []);
    this.#options.onReload?.(loaded.files);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const previous = this.#loading ?? Promise.resolve();
      this.#loading = previous.then(() => this.reload()).catch((error: unknown) => {
        this.#options.onWarning(`reloading failed: ${String(error)}`);
      });
    }, this.#options.debounceMs ?? 100);
  }
}
