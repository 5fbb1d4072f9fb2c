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
import { apiVersionOf, type ResourceKind } from './kinds.ts';

export interface WatchLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SdkWatcherOptions {
  readonly store: ObjectStore;
  readonly kinds: readonly ResourceKind[];
  readonly log: WatchLog;
  /** A watch ended and was restarted by the SDK: relist this kind. */
  readonly onRestart: (kind: SnapshotKind) => void;
  /** The SDK is about to end the process (it exits on a watch error). */
  readonly onFatal: (message: string) => void;
}

const RESTART = /^restarting watch on resource (\S+)$/;
const FAILED = /^watch on resource (\S+) failed/;

/** Routes the SDK's log lines: restarts and fatal errors become callbacks. */
function sdkLogger(options: SdkWatcherOptions, byId: ReadonlyMap<string, SnapshotKind>): OperatorLogger {
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
      options.log.error(message);
      if (FAILED.test(message)) options.onFatal(message);
    },
  };
}

export class SdkWatcher extends sdk.default {
  readonly #options: SdkWatcherOptions;

  constructor(options: SdkWatcherOptions) {
    const byId = new Map(options.kinds.map((resource) => [`${resource.plural}.${apiVersionOf(resource)}`, resource.kind] as const));
    super(sdkLogger(options, byId));
    this.#options = options;
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
    if (event.type === ResourceEventType.Deleted) store.delete(kind, object);
    else store.upsert(kind, object, { statusOnly: resource.writesStatus && onlyStatusChanged(store.get(kind, objectKey(object) ?? ''), object) });
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
