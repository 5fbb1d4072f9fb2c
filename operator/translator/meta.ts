/** Object identity and metadata, read defensively; plus stable ordering and de-duplication. */
import { compareStrings, field, int, list, name, str, stringMap } from './read.ts';

export interface Meta {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  /** RFC 3339 or empty when unknown; an unknown time sorts after every known one. */
  readonly creationTimestamp: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Reads metadata; `undefined` when the object has no usable name (nothing to report on). */
export function readMeta(object: unknown, clusterScoped = false): Meta | undefined {
  const metadata = field(object, 'metadata');
  const objectName = name(field(metadata, 'name'));
  if (objectName === undefined) return undefined;
  const generation = int(field(metadata, 'generation'));
  return {
    namespace: clusterScoped ? '' : (name(field(metadata, 'namespace')) ?? 'default'),
    name: objectName,
    generation: generation !== undefined && generation >= 0 ? generation : 0,
    creationTimestamp: str(field(metadata, 'creationTimestamp')) ?? '',
    labels: metadataMap(field(metadata, 'labels')),
    annotations: metadataMap(field(metadata, 'annotations')),
  };
}

const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});

/** Most objects have no labels or annotations: they share one frozen empty map. */
function metadataMap(value: unknown): Readonly<Record<string, string>> {
  return value === undefined ? NO_ENTRIES : stringMap(value);
}

export function key(namespace: string, objectName: string): string {
  return `${namespace}/${objectName}`;
}

export function compareByName(a: Meta, b: Meta): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);
}

/** Oldest first, then namespace/name: the spec's tie-breaker for conflicts and precedence. */
export function compareByAge(a: Meta, b: Meta): number {
  return compareTimestamps(a.creationTimestamp, b.creationTimestamp) || compareByName(a, b);
}

/** RFC 3339 timestamps compare as strings; an unknown (empty) one sorts after every known one. */
export function compareTimestamps(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  return compareStrings(a, b);
}

function canonical(value: unknown): string {
  try {
    const text = JSON.stringify(value) as string | undefined; // undefined for undefined/functions
    return text ?? '';
  } catch {
    return '';
  }
}

export interface Entry<T> {
  readonly meta: Meta;
  readonly object: T;
}

/**
 * Pairs objects with their metadata, drops nameless ones, and keeps one object per
 * namespace/name (the one whose JSON sorts first, so the choice does not depend on input order).
 * The result is sorted by namespace/name.
 */
export function entries<T>(objects: readonly T[], clusterScoped = false): Entry<T>[] {
  const byKey = new Map<string, Entry<T>[]>();
  for (const item of list(objects)) {
    const object = item as T;
    const meta = readMeta(object, clusterScoped);
    if (meta === undefined) continue;
    const k = key(meta.namespace, meta.name);
    const group = byKey.get(k);
    if (group === undefined) byKey.set(k, [{ meta, object }]);
    else group.push({ meta, object });
  }
  const result: Entry<T>[] = [];
  for (const group of byKey.values()) {
    if (group.length > 1) {
      const ranked = group.map((entry) => ({ entry, json: canonical(entry.object) }));
      ranked.sort((a, b) => compareStrings(a.json, b.json));
      group.splice(0, group.length, ...ranked.map((r) => r.entry));
    }
    const chosen = group[0];
    if (chosen !== undefined) result.push(chosen);
  }
  return result.sort((a, b) => compareByName(a.meta, b.meta));
}
