/**
 * The operator's watches, on the reconciliation SDK (@dot-i/k8s-operator, pinned at 1.3.9).
 *
 * `SdkWatcher` is an SDK `Operator`: the SDK's `start()` runs our `init()`, which calls the
 * documented `watchResource(group, version, plural, onEvent)` once per kind, and every
 * ADDED/MODIFIED/DELETED event goes into the store.
 *
 * The SDK's own `watchResource` (1.3.9) starts each watch without a resourceVersion, restarts a
 * watch the server ended 200 ms later (saying so only in a debug log line), and calls
 * `process.exit(1)` when a watch fails. This class overrides that one method and keeps its
 * contract — the same request (no resourceVersion: each start replays the current objects as
 * ADDED), the same 200 ms restart, events one at a time in arrival order as `ResourceEvent`s
 * with the SDK's `ResourceMetaImpl` — but owns the two outcomes the SDK hides: a restart is
 * reported (`onRestart`, so the provider relists what the replay cannot tell: deletes during
 * the gap), and a failure is reported (`onWatchError`) and restarted instead of ending the
 * process. No log line is parsed and no process global is touched.
 * `tests/integration/operator-sdk-watch.test.ts` pins the SDK behaviour this relies on.
 */
import sdk, { ResourceEventType, ResourceMetaImpl, type OperatorLogger, type ResourceEvent } from '@dot-i/k8s-operator';
import { createRequire } from 'node:module';
import { objectKey, type ObjectStore, type StoredObject } from '../../store/object-store.ts';
import { canonicalJson } from '../../publisher/digest.ts';
import type { SnapshotKind } from '../../store/snapshot.ts';
import { apiVersionOf, type ResourceKind } from '../../kinds.ts';
import type { ProviderAdmission } from '../admission.ts';

export interface WatchLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SdkWatcherOptions {
  /** A kubeconfig file for the watches; default: the SDK's own `loadFromDefault()`, as every client of the operator. */
  readonly kubeconfigPath?: string;
  readonly store: ObjectStore;
  /** Objects without their kind's shape are not stored (and a stored older version is dropped). */
  readonly admission: ProviderAdmission;
  readonly kinds: readonly ResourceKind[];
  readonly log: WatchLog;
  /** A watch ended or failed and its replacement is open: relist this kind. */
  readonly onRestart: (kind: SnapshotKind) => void;
  /** A watch failed (its SDK resource id, e.g. `gateways.gateway.networking.k8s.io/v1`); it is restarted. */
  readonly onWatchError: (id: string) => void;
  /**
   * Ask the server to end each watch after this many seconds (a normal end: restart and relist).
   * Unset, as in the SDK: the server ends watches on its own schedule.
   */
  readonly watchTimeoutSeconds?: number;
}

/** The SDK's delay before it starts an ended watch again. */
const RESTART_DELAY_MS = 200;
/** Repeated failures of one watch are logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/** client-node's documented `Watch`, in the version the SDK depends on (0.20) and its own loop uses. */
interface SdkWatch {
  watch(path: string, query: Record<string, string | number>, callback: (type: string, object: unknown) => void, done: (error: unknown) => void): Promise<{ abort(): void }>;
}
type SdkWatchClass = new (kubeConfig: object) => SdkWatch;

// Resolved from the SDK's own location, so it is the very module (and Watch) the SDK's loop runs
// on, wherever npm placed it; the project's own client-node 2.x aborts quiet watches after 30 s.
const { Watch } = createRequire(import.meta.resolve('@dot-i/k8s-operator'))('@kubernetes/client-node') as { Watch: SdkWatchClass };

/** The SDK's id for a watched resource: `<plural>.<apiVersion>`. */
export function watchId(resource: ResourceKind): string {
  return `${resource.plural}.${apiVersionOf(resource)}`;
}

function collectionPath(resource: ResourceKind): string {
  return resource.group === '' ? `/api/${resource.version}/${resource.plural}` : `/apis/${resource.group}/${resource.version}/${resource.plural}`;
}

function sdkLogger(log: WatchLog): OperatorLogger {
  return {
    debug: (message) => { log.debug(message); },
    info: (message) => { log.info(message); },
    warn: (message) => { log.warn(message); },
    error: (message) => { log.error(message); },
  };
}

const EVENT_TYPES: ReadonlyMap<string, ResourceEventType> = new Map(Object.values(ResourceEventType).map((value) => [value, value]));

export class SdkWatcher extends sdk.default {
  readonly #options: SdkWatcherOptions;
  readonly #watches = new Set<{ abort(): void }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #lastErrorLog = new Map<string, number>();
  /** One queue for every kind, as the SDK's: events reach `onEvent` one at a time, in arrival order. */
  #delivered: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: SdkWatcherOptions) {
    super(sdkLogger(options.log));
    this.#options = options;
    if (options.kubeconfigPath !== undefined) this.kubeConfig.loadFromFile(options.kubeconfigPath);
  }

  /** Stops every watch for good: no restart follows. */
  override stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const request of this.#watches) request.abort();
    this.#watches.clear();
    super.stop();
  }

  protected async init(): Promise<void> {
    for (const resource of this.#options.kinds) {
      await this.watchResource(resource.group, resource.version, resource.plural, async (event) => {
        this.#apply(resource, event);
        await Promise.resolve();
      });
    }
  }

  /** The SDK's contract (see the file comment); resolves once the first watch request is sent or has failed. */
  protected override async watchResource(group: string, version: string, plural: string, onEvent: (event: ResourceEvent) => Promise<void>): Promise<void> {
    const resource = this.#options.kinds.find((candidate) => candidate.group === group && candidate.version === version && candidate.plural === plural);
    if (resource === undefined) throw new Error(`no registered kind is served at ${plural}.${group}/${version}`);
    await this.#startWatch(resource, onEvent, false);
    this.#options.log.info(`watching resource ${watchId(resource)}`);
  }

  async #startWatch(resource: ResourceKind, onEvent: (event: ResourceEvent) => Promise<void>, restart: boolean): Promise<void> {
    if (this.#stopped) return;
    const id = watchId(resource);
    const watch = new Watch(this.kubeConfig);
    const query: Record<string, number> = this.#options.watchTimeoutSeconds === undefined ? {} : { timeoutSeconds: this.#options.watchTimeoutSeconds };
    let request: { abort(): void } | undefined;
    const state = { ended: false };
    const done = (error: unknown): void => {
      if (state.ended) return;
      state.ended = true;
      if (request !== undefined) this.#watches.delete(request);
      if (this.#stopped) return;
      if (error !== null && error !== undefined) this.#failed(id, error);
      else this.#options.log.debug(`restarting watch on resource ${id}`);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        void this.#startWatch(resource, onEvent, true);
      }, RESTART_DELAY_MS);
      this.#timers.add(timer);
    };
    try {
      request = await watch.watch(collectionPath(resource), query, (type: string, object: unknown) => { this.#deliver(id, resource, type, object, onEvent); }, done);
    } catch (error) {
      // Thrown before any request was made (no current cluster, credentials not loadable).
      done(error);
      return;
    }
    // The watch may have ended, or the watcher stopped, while the request was being made.
    if (state.ended || this.#isStopped()) {
      request.abort();
      return;
    }
    this.#watches.add(request);
    if (restart) this.#options.onRestart(resource.kind);
  }

  #deliver(id: string, resource: ResourceKind, type: string, object: unknown, onEvent: (event: ResourceEvent) => Promise<void>): void {
    // ERROR (a Status) and BOOKMARK carry no object to store; an ERROR is followed by the end of the watch.
    const eventType = EVENT_TYPES.get(type);
    if (eventType === undefined) {
      this.#options.log.debug(`${id}: ${type} event ${canonicalJson(object ?? null)}`);
      return;
    }
    let event: ResourceEvent;
    try {
      const typed = object as Parameters<typeof ResourceMetaImpl.createWithPlural>[1];
      event = { type: eventType, object: typed, meta: ResourceMetaImpl.createWithPlural(resource.plural, typed) };
    } catch (error) {
      this.#options.log.warn(`${id}: ${type} event not applied: ${String(error)}`);
      return;
    }
    this.#delivered = this.#delivered.then(async () => {
      if (!this.#stopped) await onEvent(event);
    }).catch((error: unknown) => {
      this.#options.log.warn(`${id}: ${type} event not applied: ${String(error)}`);
    });
  }

  #isStopped(): boolean {
    return this.#stopped;
  }

  #failed(id: string, error: unknown): void {
    const now = Date.now();
    if (now - (this.#lastErrorLog.get(id) ?? 0) >= ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLog.set(id, now);
      this.#options.log.warn(`watch on resource ${id} failed (${error instanceof Error ? error.message : String(error)}); restarting it`);
    }
    this.#options.onWatchError(id);
  }

  #apply(resource: ResourceKind, event: ResourceEvent): void {
    const { kind } = resource;
    const object = event.object as StoredObject;
    const store = this.#options.store;
    if (event.type === ResourceEventType.Deleted) {
      store.delete(kind, object);
      return;
    }
    const admitted = this.#options.admission.admit(kind, object) as StoredObject | undefined;
    if (admitted === undefined) store.delete(kind, object);
    else store.upsert(kind, admitted, { statusOnly: resource.status !== 'none' && onlyStatusChanged(store.get(kind, objectKey(admitted) ?? ''), admitted) });
  }
}

/** Same generation, labels, annotations and deletion state: only status (or bookkeeping) changed. */
export function onlyStatusChanged(before: StoredObject | undefined, after: StoredObject): boolean {
  if (before === undefined) return false;
  const a = before.metadata as Record<string, unknown> | undefined;
  const b = after.metadata as Record<string, unknown> | undefined;
  if (a?.generation === undefined || a.generation !== b?.generation) return false;
  return ['labels', 'annotations', 'deletionTimestamp'].every((field) => canonicalJson(a[field] ?? null) === canonicalJson(b[field] ?? null));
}
