/**
 * Which labels and annotations of a provisioned object came from `Gateway.spec.infrastructure`:
 * recorded on the object in an annotation, so that a key the Gateway no longer lists is removed
 * from the object (and its pod template) while keys set by users or other controllers, which
 * Weir never recorded, are left alone.
 */
import type { Manifest } from './resources.ts';

export const MANAGED_METADATA_ANNOTATION = 'weir.dev/infrastructure-keys';

interface ManagedKeys {
  readonly labels: readonly string[];
  readonly annotations: readonly string[];
}

/** The annotation value naming the infrastructure keys (sorted, so the manifest hash is stable). */
export function managedKeysValue(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): string {
  return JSON.stringify({ labels: Object.keys(labels).sort(), annotations: Object.keys(annotations).sort() });
}

function parse(value: string | undefined): ManagedKeys | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as { labels?: unknown; annotations?: unknown };
    const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []);
    return { labels: strings(parsed.labels), annotations: strings(parsed.annotations) };
  } catch {
    return undefined;
  }
}

type NullableMap = Record<string, string | null>;

/**
 * Adds `null` (delete, in a JSON merge patch) to `patch` for every label and annotation the
 * existing object's record says Weir applied and the wanted manifest no longer sets; for a
 * Deployment also in its pod template.
 */
export function removeDroppedKeys(patch: Manifest, existingAnnotations: Readonly<Record<string, string>> | undefined): void {
  const before = parse(existingAnnotations?.[MANAGED_METADATA_ANNOTATION]);
  if (before === undefined) return;
  const metadata = patch.metadata as { labels: NullableMap; annotations: NullableMap };
  const template = (patch.spec as { template?: { metadata?: { labels?: NullableMap; annotations?: NullableMap } } } | undefined)?.template?.metadata;
  for (const key of before.labels) {
    if (key in metadata.labels) continue;
    metadata.labels[key] = null;
    if (template?.labels !== undefined) template.labels[key] = null;
  }
  for (const key of before.annotations) {
    if (key in metadata.annotations) continue;
    metadata.annotations[key] = null;
    if (template?.annotations !== undefined) template.annotations[key] = null;
  }
}
