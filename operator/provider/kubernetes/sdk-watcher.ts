/**
 * The operator's watches, on the reconciliation SDK (@dot-i/k8s-operator, pinned exactly).
 *
 * `SdkWatcher` is an SDK `Operator`: the SDK's `start()` runs our `init()`, which calls the
 * SDK's documented `watchResource(group, version, plural, onEvent)` once per kind. This class
 * overrides that one protected method, keeping its contract (events in order, as
 * `ResourceEvent`s with the SDK's `ResourceMetaImpl`), and implements it with client-node's
 * list-then-watch (`makeInformer`) instead of the SDK's loop, which starts every watch without
 * a resourceVersion and ends the process when a watch fails. The list-watch resumes from the
 * last resourceVersion after the server ends a watch, relists on 410 Gone, and reports
 * failures as events; on a failure this class starts it again after a delay. No log text is
 * parsed and no process global is touched (docs/adr/0001-operator-sdk-and-client-node.md).
 */
import sdk, { ResourceEventType, ResourceMetaImpl, type OperatorLogger, type ResourceEvent } from '@dot-i/k8s-operator';
import { makeInformer, type Informer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { objectKey, type ObjectStore, type StoredObject } from '../../store/object-store.ts';
import { canonicalJson } from '../../publisher/digest.ts';
import { apiVersionOf, type ResourceKind } from '../../kinds.ts';
import type { ProviderAdmission } from '../admission.ts';
import type { OperatorKubeClients } from './clients.ts';
import { listForWatch } from './lister.ts';

export interface WatchLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SdkWatcherOptions {
  readonly clients: OperatorKubeClients;
  readonly store: ObjectStore;
  /** Objects without their kind's shape are not stored (and a stored older version is dropped). */
  readonly admission: ProviderAdmission;
  readonly kinds: readonly ResourceKind[];
  readonly log: WatchLog;
  /** A watch failed (its SDK resource id, e.g. `gateways.gateway.networking.k8s.io/v1`); it is started again. */
  readonly onWatchError: (id: string) => void;
  /** Wait before starting a failed watch again (default 1 s). */
  readonly retryDelayMs?: number;
}

/** Repeated failures of one watch are logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 10_000;

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

export class SdkWatcher extends sdk.default {
  readonly #options: SdkWatcherOptions;
  readonly #informers: Informer<KubernetesObject>[] = [];
  /** At most one pending restart per watch: a failure can be reported both as an event and by start(). */
  readonly #retries = new Map<Informer<KubernetesObject>, NodeJS.Timeout>();
  readonly #lastErrorLog = new Map<string, number>();
  #stopped = false;

  constructor(options: SdkWatcherOptions) {
    super(sdkLogger(options.log));
    this.#options = options;
  }

  /** Stops every watch for good. */
  override stop(): void {
    this.#stopped = true;
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    for (const informer of this.#informers) void informer.stop();
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

  /**
   * The SDK's contract, on client-node's list-watch. Resolves once the first list has been
   * delivered and the watch is open (or has failed and is scheduled to start again).
   */
  protected override async watchResource(group: string, version: string, plural: string, onEvent: (event: ResourceEvent) => Promise<void>): Promise<void> {
    const resource = this.#options.kinds.find((candidate) => candidate.group === group && candidate.version === version && candidate.plural === plural);
    if (resource === undefined) throw new Error(`no registered kind is served at ${plural}.${group}/${version}`);
    const id = watchId(resource);
    // Listed objects are plain wire-format JSON, as watch events are (dates stay strings).
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => (await listForWatch(this.#options.clients, resource)) as unknown as KubernetesListObject<KubernetesObject>;
    const informer = makeInformer<KubernetesObject>(this.#options.clients.kubeConfig, collectionPath(resource), list);
    // Events reach onEvent one at a time and in order, as the SDK's own queue delivers them.
    let delivered: Promise<void> = Promise.resolve();
    const deliver = (type: ResourceEventType) => (object: KubernetesObject): void => {
      delivered = delivered.then(async () => {
        if (this.#stopped) return;
        await onEvent({ type, object, meta: ResourceMetaImpl.createWithPlural(plural, object) });
      }).catch((error: unknown) => {
        this.#options.log.warn(`${id}: ${type} event not applied: ${String(error)}`);
      });
    };
    informer.on('add', deliver(ResourceEventType.Added));
    informer.on('update', deliver(ResourceEventType.Modified));
    informer.on('delete', deliver(ResourceEventType.Deleted));
    informer.on('error', (error: unknown) => { this.#failed(id, informer, error); });
    this.#informers.push(informer);
    try {
      await informer.start();
    } catch (error) {
      this.#failed(id, informer, error);
    }
    this.#options.log.info(`watching resource ${id}`);
  }

  #failed(id: string, informer: Informer<KubernetesObject>, error: unknown): void {
    if (this.#stopped) return;
    const now = Date.now();
    if (now - (this.#lastErrorLog.get(id) ?? 0) >= ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLog.set(id, now);
      this.#options.log.warn(`watch on resource ${id} failed (${error instanceof Error ? error.message : String(error)}); starting it again`);
    }
    this.#options.onWatchError(id);
    if (this.#retries.has(informer)) return;
    const timer = setTimeout(() => {
      this.#retries.delete(informer);
      if (this.#stopped) return;
      informer.start().catch((again: unknown) => { this.#failed(id, informer, again); });
    }, this.#options.retryDelayMs ?? 1000);
    this.#retries.set(informer, timer);
  }

  #apply(resource: ResourceKind, event: ResourceEvent): void {
    const { kind } = resource;
    const object = event.object as StoredObject;
    const store = this.#options.store;
    if (event.type === ResourceEventType.Deleted) store.delete(kind, object);
    else if (this.#options.admission.admit(kind, object) === undefined) store.delete(kind, object);
    else store.upsert(kind, object, { statusOnly: resource.status !== 'none' && onlyStatusChanged(store.get(kind, objectKey(object) ?? ''), object) });
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
