export { emptySnapshot, SNAPSHOT_FIELD_BY_KIND, WEIR_CONTROLLER_NAME } from './snapshot.ts';
export type { Snapshot, SnapshotKind } from './snapshot.ts';
