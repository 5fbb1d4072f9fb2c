/**
 * Content digests. A DataplaneConfig's digest is `sha256:<hex>` of its JSON as published:
 * the translator is deterministic (same input, byte-identical output, keys always in the same
 * order), so that JSON is already canonical, and hashing the string we send anyway costs a
 * few ms where re-serializing with sorted keys cost ~100 ms for a 2 MB config.
 * `canonicalJson` (sorted keys) is for comparing objects of other origins, e.g. statuses.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Digest of an already serialized config. */
export function jsonDigest(json: string): string {
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}

export function configDigest(config: unknown): string {
  return jsonDigest(JSON.stringify(config));
}
