export { emptySnapshot, snapshotWith, WEIR_CONTROLLER_NAME } from './snapshot.ts';
export type { Snapshot, SnapshotKind } from './snapshot.ts';
