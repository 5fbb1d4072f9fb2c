/**
 * The mutable resource store the providers fill. Objects are kept per kind, keyed by
 * namespace/name; `snapshot()` hands out an immutable `Snapshot` for the translator, rebuilding
 * only the kinds that changed since the last one.
 *
 * Every write carries a local sequence number so that a relist (a full LIST of one kind,
 * started while watch events keep arriving) can be reconciled without losing anything:
 * `reconcileKind` replaces only entries that were last written before the LIST started, and
 * removes entries missing from the LIST only if no watch event touched them since. Deletes
 * leave a short-lived tombstone so a LIST that started before the delete cannot resurrect it.
 */
import { SNAPSHOT_KINDS, type SnapshotKind } from '../kinds.ts';
import { snapshotWith, WEIR_CONTROLLER_NAME, type Snapshot } from './snapshot.ts';

export { SNAPSHOT_KINDS } from '../kinds.ts';

/** The least a stored object has: a kind-independent name. */
export interface StoredObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string; readonly deletionTimestamp?: string };
}

interface Entry {
  readonly object: StoredObject | undefined;
  /** Sequence number of the write (upsert or delete). */
  readonly seq: number;
}

export type StoreListener = (kind: SnapshotKind) => void;


export function objectKey(object: StoredObject): string | undefined {
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = object.metadata?.namespace;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}/${name}` : name;
}

export class ObjectStore {
  readonly #kinds = new Map<SnapshotKind, Map<string, Entry>>();
  readonly #cached = new Map<SnapshotKind, readonly StoredObject[]>();
  readonly #listeners = new Set<StoreListener>();
  readonly #controllerName: string;
  #seq = 0;
  #snapshot: Snapshot | undefined;

  constructor(controllerName: string = WEIR_CONTROLLER_NAME) {
    this.#controllerName = controllerName;
    for (const kind of SNAPSHOT_KINDS) this.#kinds.set(kind, new Map());
  }

  /** Called after every change with the kind that changed. */
  onChange(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The current sequence number; pass it to `reconcileKind` for a LIST started now. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * Adds or replaces an object. With `statusOnly` (the caller saw only the object's status
   * change, which the translator never reads) the stored copy is replaced, so `get` returns
   * it, but snapshots and listeners are left alone: Weir's own status writes do not cause
   * another translation.
   */
  upsert(kind: SnapshotKind, object: StoredObject, options: { statusOnly?: boolean } = {}): boolean {
    const key = objectKey(object);
    if (key === undefined) return false;
    const entries = this.#entries(kind);
    const current = entries.get(key)?.object;
    if (current !== undefined && sameVersion(current, object)) return false;
    entries.set(key, { object, seq: ++this.#seq });
    if (options.statusOnly === true && current !== undefined) return false;
    this.#changed(kind);
    return true;
  }

  delete(kind: SnapshotKind, object: StoredObject): boolean {
    const key = objectKey(object);
    if (key === undefined) return false;
    const entries = this.#entries(kind);
    const existed = entries.get(key)?.object !== undefined;
    // Keep a tombstone so a LIST that began before this delete cannot bring the object back.
    entries.set(key, { object: undefined, seq: ++this.#seq });
    if (existed) this.#changed(kind);
    return existed;
  }

  /** Replaces every object of `kind` (used by file providers that reread everything). */
  replaceKind(kind: SnapshotKind, objects: readonly StoredObject[]): boolean {
    return this.reconcileKind(kind, objects, this.#seq);
  }

  /**
   * Applies a full LIST of `kind` that was started when `seq` was current: entries written
   * after `seq` (by watch events) win over the LIST; older ones are replaced by it, and older
   * ones it does not contain are deleted. Tombstones up to `seq` are dropped.
   */
  reconcileKind(kind: SnapshotKind, objects: readonly StoredObject[], seq: number): boolean {
    const entries = this.#entries(kind);
    const listed = new Map<string, StoredObject>();
    for (const object of objects) {
      const key = objectKey(object);
      if (key !== undefined) listed.set(key, object);
    }
    let changed = false;
    for (const [key, entry] of entries) {
      if (entry.seq > seq) continue;
      if (listed.has(key)) continue;
      entries.delete(key);
      if (entry.object !== undefined) changed = true;
    }
    for (const [key, object] of listed) {
      const entry = entries.get(key);
      if (entry !== undefined && (entry.seq > seq || (entry.object !== undefined && sameVersion(entry.object, object)))) continue;
      entries.set(key, { object, seq: ++this.#seq });
      changed = true;
    }
    if (changed) this.#changed(kind);
    return changed;
  }

  get(kind: SnapshotKind, key: string): StoredObject | undefined {
    return this.#entries(kind).get(key)?.object;
  }

  list(kind: SnapshotKind): readonly StoredObject[] {
    let cached = this.#cached.get(kind);
    if (cached === undefined) {
      cached = Object.freeze([...this.#entries(kind).values()].flatMap((entry) => (entry.object === undefined ? [] : [entry.object])));
      this.#cached.set(kind, cached);
    }
    return cached;
  }

  /** An immutable Snapshot of everything; the same object until the store changes. */
  snapshot(): Snapshot {
    if (this.#snapshot !== undefined) return this.#snapshot;
    this.#snapshot = Object.freeze(snapshotWith(new Map(SNAPSHOT_KINDS.map((kind) => [kind, this.list(kind)])), this.#controllerName));
    return this.#snapshot;
  }

  #entries(kind: SnapshotKind): Map<string, Entry> {
    const entries = this.#kinds.get(kind);
    if (entries === undefined) throw new Error(`unknown kind ${kind}`);
    return entries;
  }

  #changed(kind: SnapshotKind): void {
    this.#cached.delete(kind);
    this.#snapshot = undefined;
    for (const listener of this.#listeners) listener(kind);
  }
}

/** Same object version: equal resourceVersion when both have one, else the very same object. */
function sameVersion(a: StoredObject, b: StoredObject): boolean {
  const va = a.metadata?.resourceVersion;
  const vb = b.metadata?.resourceVersion;
  if (va !== undefined && vb !== undefined) return va === vb;
  return a === b;
}
