/**
 * The Kubernetes provider: fills the store from the API server and keeps it complete.
 *
 * 1. For each kind, a cheap LIST (limit 1) checks the API serves it; kinds whose CRD is not
 *    installed are skipped with a warning instead of letting the SDK's watch fail (which would
 *    end the process).
 * 2. The SDK watches start (they deliver the current state as ADDED events, then changes).
 * 3. A full LIST per kind is reconciled into the store (ObjectStore.reconcileKind), which
 *    removes anything deleted while no watch was running.
 * Afterwards a kind is relisted whenever its watch has been restarted (after the server ended
 * it, or after an error, which sdk-watcher.ts restarts instead of ending the process as the
 * SDK's own loop does), and every kind periodically (`resyncMs`) as a safety net.
 */
import type { ObjectStore } from '../../store/object-store.ts';
import type { SnapshotKind } from '../../store/snapshot.ts';
import { httpStatus, type OperatorKubeClients } from './clients.ts';
import { RESOURCE_KINDS, type ResourceKind } from '../../kinds.ts';
import { ProviderAdmission } from '../admission.ts';
import { listAll } from './lister.ts';
import { SdkWatcher, type SdkWatcherOptions, type WatchLog } from './sdk-watcher.ts';

export interface KubernetesProviderOptions {
  readonly clients: OperatorKubeClients;
  readonly store: ObjectStore;
  readonly log: WatchLog;
  readonly kinds?: readonly ResourceKind[];
  /** Full relist period (default 5 minutes). */
  readonly resyncMs?: number;
  /** Where the watches connect and how long each may last (default: the SDK's kubeconfig, no limit). */
  readonly watch?: Pick<SdkWatcherOptions, 'kubeconfigPath' | 'watchTimeoutSeconds'>;
}

export class KubernetesProvider {
  readonly #options: KubernetesProviderOptions;
  readonly #admission: ProviderAdmission;
  readonly #relisting = new Map<SnapshotKind, Promise<void>>();
  readonly #again = new Set<SnapshotKind>();
  #kinds: ResourceKind[] = [];
  #watcher: SdkWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #watchErrors = 0;
  #watchRestarts = 0;

  constructor(options: KubernetesProviderOptions) {
    this.#options = options;
    this.#admission = new ProviderAdmission((message) => { options.log.warn(message); });
  }

  /** Resolves once every served kind has been listed into the store. */
  async start(): Promise<void> {
    const { log } = this.#options;
    this.#kinds = [];
    for (const resource of this.#options.kinds ?? RESOURCE_KINDS) {
      if (await this.#served(resource)) this.#kinds.push(resource);
      else log.warn(`${resource.plural}.${resource.group || 'core'}/${resource.version} is not served by the API server (CRD not installed?); not watching ${resource.kind}`);
    }
    this.#watcher = new SdkWatcher({
      ...this.#options.watch,
      store: this.#options.store,
      admission: this.#admission,
      kinds: this.#kinds,
      log,
      onRestart: (kind) => {
        this.#watchRestarts++;
        this.relist(kind);
      },
      onWatchError: (id) => { this.#watchErrors++; this.#options.log.debug(`watch ${id} failed; it is restarted and the restart is relisted`); },
    });
    await this.#watcher.start();
    await Promise.all(this.#kinds.map((resource) => this.#relistNow(resource)));
    const resyncMs = this.#options.resyncMs ?? 300_000;
    this.#timer = setInterval(() => {
      for (const resource of this.#kinds) this.relist(resource.kind);
    }, resyncMs);
    this.#timer.unref();
  }

  /** Watch failures recovered from since start (each watch is restarted). */
  get watchErrors(): number {
    return this.#watchErrors;
  }

  /** Watches restarted (after the server ended them or after a failure) and relisted since start. */
  get watchRestarts(): number {
    return this.#watchRestarts;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watcher?.stop();
  }

  /** Relists one kind; calls while one runs coalesce into one more. */
  relist(kind: SnapshotKind): void {
    const resource = this.#kinds.find((entry) => entry.kind === kind);
    if (resource === undefined || this.#stopped) return;
    if (this.#relisting.has(kind)) {
      this.#again.add(kind);
      return;
    }
    const run = this.#relistNow(resource)
      .catch((error: unknown) => {
        this.#options.log.warn(`relisting ${kind} failed: ${String(error)}`);
      })
      .finally(() => {
        this.#relisting.delete(kind);
        if (this.#again.delete(kind)) this.relist(kind);
      });
    this.#relisting.set(kind, run);
  }

  async #relistNow(resource: ResourceKind): Promise<void> {
    const store = this.#options.store;
    const seq = store.seq;
    const objects = (await listAll(this.#options.clients, resource)).flatMap((object) => this.#admission.admit(resource.kind, object) ?? []);
    if (store.reconcileKind(resource.kind, objects, seq)) this.#options.log.debug(`relist of ${resource.kind} changed the store`);
  }

  async #served(resource: ResourceKind): Promise<boolean> {
    if (resource.group === '' || resource.group === 'discovery.k8s.io') return true;
    try {
      await this.#options.clients.customObjects.listClusterCustomObject({ group: resource.group, version: resource.version, plural: resource.plural, limit: 1 });
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw error;
    }
  }
}
