/**
 * Watches via the reconciliation SDK (@dot-i/k8s-operator): one `watchResource` per kind,
 * every ADDED/MODIFIED/DELETED event goes into the store.
 *
 * The SDK's watch restarts on its own when the server ends a watch, but without a
 * resourceVersion, so it cannot tell us what was deleted during the gap; it reports the restart
 * only in a debug log line. This class turns that line into an `onRestart(kind)` callback, and
 * the provider relists that kind (see provider.ts and docs/adr/0001-...).
 */
import sdk, { ResourceEventType, type OperatorLogger, type ResourceEvent } from '@dot-i/k8s-operator';
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
  readonly store: ObjectStore;
  /** Objects without their kind's shape are not stored (and a stored older version is dropped). */
  readonly admission: ProviderAdmission;
  readonly kinds: readonly ResourceKind[];
  readonly log: WatchLog;
  /** A watch ended and was restarted by the SDK: relist this kind. */
  readonly onRestart: (kind: SnapshotKind) => void;
  /** A watch failed (its resource id, e.g. `gateways.gateway.networking.k8s.io/v1`); the SDK restarts it. */
  readonly onWatchError: (id: string) => void;
}

const RESTART = /^restarting watch on resource (\S+)$/;
const FAILED = /^watch on resource (\S+) failed/;

/**
 * The SDK's watch error path is `logger.error("watch on resource <id> failed: …")` followed,
 * synchronously, by `process.exit(1)`, and then — had it not exited — "restarting watch" and
 * a restart 200 ms later. For exactly that one synchronous call `process.exit` is swapped
 * for a no-op, so the SDK goes on to restart the watch itself; the restart is then relisted
 * like any other (see docs/adr/0001-operator-sdk-and-client-node.md). Repeated failures of
 * the same watch are logged at most once per `ERROR_LOG_INTERVAL_MS`.
 */
const ERROR_LOG_INTERVAL_MS = 10_000;

function suppressNextExit(): void {
  // Saved to be put back as is; it is never called through this reference.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const realExit = process.exit;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.exit = realExit;
  };
  process.exit = (() => {
    restore();
  }) as typeof process.exit;
  queueMicrotask(restore);
}

/** Routes the SDK's log lines: restarts become relists, watch failures become restarts. */
function sdkLogger(options: SdkWatcherOptions, byId: ReadonlyMap<string, SnapshotKind>, stopped: () => boolean): OperatorLogger {
  const lastErrorLog = new Map<string, number>();
  return {
    debug(message: string): void {
      const restarted = RESTART.exec(message)?.[1];
      const kind = restarted === undefined ? undefined : byId.get(restarted);
      if (kind !== undefined) options.onRestart(kind);
      options.log.debug(message);
    },
    info: (message: string) => { options.log.info(message); },
    warn: (message: string) => { options.log.warn(message); },
    error(message: string): void {
      const failed = FAILED.exec(message)?.[1];
      if (failed === undefined) {
        options.log.error(message);
        return;
      }
      suppressNextExit();
      if (stopped()) return;
      const now = Date.now();
      if (now - (lastErrorLog.get(failed) ?? 0) >= ERROR_LOG_INTERVAL_MS) {
        lastErrorLog.set(failed, now);
        options.log.warn(`${message}; restarting it (the SDK would have ended the process)`);
      }
      options.onWatchError(failed);
    },
  };
}

export class SdkWatcher extends sdk.default {
  readonly #options: SdkWatcherOptions;
  readonly #state: { stopped: boolean };

  constructor(options: SdkWatcherOptions) {
    const byId = new Map(options.kinds.map((resource) => [`${resource.plural}.${apiVersionOf(resource)}`, resource.kind] as const));
    const state = { stopped: false };
    super(sdkLogger(options, byId, () => state.stopped));
    this.#state = state;
    this.#options = options;

  }

  /**
   * Stops for good. The SDK aborts its watch requests, which its error path treats like a
   * failure and, with exit suppressed, would restart 200 ms later; without a current cluster
   * that restart fails before sending anything and the SDK gives up on it.
   */
  override stop(): void {
    this.#state.stopped = true;
    super.stop();
    this.kubeConfig.getCurrentCluster = () => null;
  }

  protected async init(): Promise<void> {
    for (const resource of this.#options.kinds) {
      await this.watchResource(resource.group, resource.version, resource.plural, async (event) => {
        this.#apply(resource, event);
        await Promise.resolve();
      });
    }
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
