/**
 * The snapshot the translator reads: every object Weir cares about, as one immutable value.
 *
 * Providers (Kubernetes watch, folder of YAML) fill it, and only with objects that passed their
 * kind's schema at the provider boundary (provider/admission.ts), so the translator reads typed
 * fields. The schemas are structural; values (a port of 70000, an unknown filter type) are the
 * translator's to judge, and it answers them with status conditions, never an exception.
 *
 * Order of the arrays does not matter: the translator sorts what it needs, so providers may
 * pass objects in any order and still get byte-identical output.
 */
import { KINDS, SNAPSHOT_KINDS, type ObjectOf, type SnapshotKind } from '../kinds.ts';

export type { SnapshotKind } from '../kinds.ts';

/** The `controllerName` GatewayClasses must carry for Weir to manage them. */
export const WEIR_CONTROLLER_NAME = 'weir.dev/gateway-controller';

type SnapshotField<K extends SnapshotKind> = (typeof KINDS)[K]['snapshotField'];

/**
 * One list per registered kind (`httpRoutes`, `secrets`, …; see operator/kinds.ts). Only Secrets
 * and ConfigMaps that Gateways and policies reference need to be present; Namespaces carry
 * their labels (allowedRoutes / allowedListeners selectors).
 */
export type Snapshot = {
  /** Normally `WEIR_CONTROLLER_NAME`; configurable so tests or a second installation can differ. */
  readonly controllerName: string;
} & { readonly [K in SnapshotKind as SnapshotField<K>]: readonly ObjectOf<K>[] };

export function emptySnapshot(controllerName: string = WEIR_CONTROLLER_NAME): Snapshot {
  const snapshot: Record<string, unknown> = { controllerName };
  for (const kind of SNAPSHOT_KINDS) snapshot[KINDS[kind].snapshotField] = [];
  return snapshot as Snapshot;
}

/** A snapshot holding `objects`, sorted into their kinds' lists (objects of other kinds are left out). */
export function snapshotWith(objects: ReadonlyMap<SnapshotKind, readonly unknown[]>, controllerName: string = WEIR_CONTROLLER_NAME): Snapshot {
  const snapshot: Record<string, unknown> = { controllerName };
  for (const kind of SNAPSHOT_KINDS) snapshot[KINDS[kind].snapshotField] = objects.get(kind) ?? [];
  return snapshot as Snapshot;
}
