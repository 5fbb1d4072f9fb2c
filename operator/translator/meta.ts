/** Object identity and metadata with the defaults Weir applies; plus stable ordering and de-duplication. */
import type { ObjectMeta } from '../../api-types/gateway-api/index.ts';
import { compareStrings, int, name, stringMap } from './read.ts';

export interface Meta {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  /** RFC 3339 or empty when unknown; an unknown time sorts after every known one. */
  readonly creationTimestamp: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export function readMeta(metadata: ObjectMeta, clusterScoped = false): Meta {
  const generation = int(metadata.generation);
  return {
    namespace: clusterScoped ? '' : (name(metadata.namespace) ?? 'default'),
    name: metadata.name,
    generation: generation !== undefined && generation >= 0 ? generation : 0,
    creationTimestamp: metadata.creationTimestamp ?? '',
    labels: metadataMap(metadata.labels),
    annotations: metadataMap(metadata.annotations),
  };
}

const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});

/** Most objects have no labels or annotations: they share one frozen empty map. */
function metadataMap(value: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
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
 * Pairs objects with their metadata and keeps one object per namespace/name (the one whose JSON
 * sorts first, so the choice does not depend on input order). The result is sorted by namespace/name.
 */
export function entries<T extends { readonly metadata: ObjectMeta }>(objects: readonly T[], clusterScoped = false): Entry<T>[] {
  const byKey = new Map<string, Entry<T>[]>();
  for (const object of objects) {
    const meta = readMeta(object.metadata, clusterScoped);
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
