/**
 * Reads Gateway API YAML (plus Services, EndpointSlices, Secrets, ConfigMaps, Namespaces and
 * WeirParameters) from files or folders, as `kubectl apply -f` would take them, and fills in
 * what the API server would have: the `default` namespace, generation 1, a uid, a creation
 * time (in file order, so "oldest route wins" follows the files), and a Namespace object with
 * its `kubernetes.io/metadata.name` label for every namespace used.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isSnapshotKind, KINDS, type SnapshotKind } from '../../kinds.ts';
import type { StoredObject } from '../../store/object-store.ts';
import { admit, rejectionMessage } from '../admission.ts';

export interface LoadedObjects {
  readonly objects: ReadonlyMap<SnapshotKind, StoredObject[]>;
  /** Problems worth telling the user (unreadable file, YAML error, unknown kind, malformed object). */
  readonly warnings: readonly string[];
  /** Files read, in order. */
  readonly files: readonly string[];
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const EPOCH = Date.UTC(2000, 0, 1);

async function filesOf(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && EXTENSIONS.has(extname(entry.name)))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

type Mutable = Record<string, unknown> & { metadata: Record<string, unknown> };

export async function loadObjects(paths: readonly string[]): Promise<LoadedObjects> {
  const warnings: string[] = [];
  const files: string[] = [];
  for (const path of paths) {
    try {
      files.push(...(await filesOf(path)));
    } catch (error) {
      warnings.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const objects = new Map<SnapshotKind, StoredObject[]>();
  const namespaces = new Set<string>();
  let order = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      warnings.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    parseAllDocuments(text).forEach((document, index) => {
      if (document.errors.length > 0) {
        warnings.push(`${file} (document ${index + 1}): ${document.errors.map((error) => error.message).join('; ')}`);
        return;
      }
      const value: unknown = document.toJS();
      if (value === null || value === undefined) return;
      const items = isList(value) ? value.items : [value];
      for (const item of items) {
        const object = normalize(item, order++);
        if (typeof object === 'string') {
          warnings.push(`${file} (document ${index + 1}): ${object}`);
          continue;
        }
        const kind = object.kind as SnapshotKind;
        const admission = admit(kind, object);
        if (!admission.ok) {
          warnings.push(`${file} (document ${index + 1}): ${rejectionMessage(kind, object, admission.problems)}`);
          continue;
        }
        const namespace = object.metadata.namespace;
        if (typeof namespace === 'string') namespaces.add(namespace);
        objects.set(kind, [...(objects.get(kind) ?? []), admission.object]);
      }
    });
  }
  addNamespaces(objects, namespaces);
  return { objects, warnings, files };
}

function isList(value: unknown): value is { items: unknown[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { items?: unknown }).items) && String((value as { kind?: unknown }).kind).endsWith('List');
}

function normalize(item: unknown, order: number): Mutable | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not an object';
  const object = item as Record<string, unknown>;
  const kind = object.kind;
  if (!isSnapshotKind(kind)) return `kind ${JSON.stringify(kind)} is not one Weir reads; ignored`;
  const metadata = typeof object.metadata === 'object' && object.metadata !== null ? { ...(object.metadata as Record<string, unknown>) } : {};
  if (typeof metadata.name !== 'string' || metadata.name === '') return `${kind} without metadata.name; ignored`;
  if (KINDS[kind].namespaced) metadata.namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default';
  else delete metadata.namespace;
  metadata.generation ??= 1;
  metadata.uid ??= `standalone:${kind}/${typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : ''}${metadata.name}`;
  metadata.creationTimestamp ??= new Date(EPOCH + order * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...object, metadata };
}

function addNamespaces(objects: Map<SnapshotKind, StoredObject[]>, used: ReadonlySet<string>): void {
  const declared = (objects.get('Namespace') ?? []).map((namespace) => {
    const metadata = (namespace as Mutable).metadata;
    const labels = { 'kubernetes.io/metadata.name': String(metadata.name), ...(metadata.labels as Record<string, string> | undefined) };
    return { ...namespace, metadata: { ...metadata, labels } } as StoredObject;
  });
  const names = new Set(declared.map((namespace) => namespace.metadata?.name));
  for (const name of [...used].sort()) {
    if (names.has(name)) continue;
    declared.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } } as StoredObject);
  }
  objects.set('Namespace', declared);
}
