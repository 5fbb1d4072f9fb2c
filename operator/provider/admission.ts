/**
 * The provider boundary: an object enters the store only if it has its kind's shape
 * (the schemas in api-types/gateway-api, listed in operator/kinds.ts). The translator then
 * reads typed fields. An object that fails is left out and the reason is reported for the
 * provider to log; the API server's CRD validation already rejects most such objects, so in
 * practice this catches hand-written YAML in standalone mode.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { KINDS, type ObjectOf, type SnapshotKind } from '../kinds.ts';

export type AdmissionResult<K extends SnapshotKind> = { readonly ok: true; readonly object: ObjectOf<K> } | { readonly ok: false; readonly problems: readonly string[] };

const MAX_PROBLEMS = 3;
const checks = new Map<SnapshotKind, TypeCheck<(typeof KINDS)[SnapshotKind]['schema']>>();

function checkFor(kind: SnapshotKind): TypeCheck<(typeof KINDS)[SnapshotKind]['schema']> {
  let check = checks.get(kind);
  if (check === undefined) {
    check = TypeCompiler.Compile(KINDS[kind].schema);
    checks.set(kind, check);
  }
  return check;
}

/**
 * The API server writes an unset list as `null` (an EndpointSlice with no endpoints yet has
 * `endpoints: null`), and YAML's empty value is `null` too; Kubernetes reads both as unset.
 * Returns the same value when it holds no null, else a copy without the null properties.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    const cleaned = items.map(withoutNulls);
    return cleaned.some((item, index) => item !== items[index]) ? cleaned : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const cleaned = entries.filter(([, item]) => item !== null).map(([key, item]): [string, unknown] => [key, withoutNulls(item)]);
  const changed = cleaned.length !== entries.length || cleaned.some(([, item], index) => item !== entries[index]?.[1]);
  return changed ? Object.fromEntries(cleaned) : value;
}

export function admit<K extends SnapshotKind>(kind: K, input: unknown): AdmissionResult<K> {
  const check = checkFor(kind);
  const object = withoutNulls(input);
  if (check.Check(object)) return { ok: true, object };
  const problems: string[] = [];
  const paths = new Set<string>();
  for (const error of check.Errors(object)) {
    const path = error.path || '/';
    if (paths.has(path)) continue; // a missing property also fails its type: one problem a place
    paths.add(path);
    problems.push(`${path}: ${error.message}`);
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return { ok: false, problems };
}

/** `Kind namespace/name` (or `Kind name`) of an object that may not have the shape of one. */
export function describeObject(kind: SnapshotKind, object: unknown): string {
  const metadata = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : '(no name)';
  return typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
}

/** A one-line answer for a rejected object, for the provider's log or warnings. */
export function rejectionMessage(kind: SnapshotKind, object: unknown, problems: readonly string[]): string {
  return `${describeObject(kind, object)} is malformed and left out: ${problems.join('; ')}`;
}

const MAX_REMEMBERED = 10_000;

/**
 * Admission for providers that see the same object again and again (watch events, periodic
 * relists): each malformed object version is reported once.
 */
export class ProviderAdmission {
  readonly #report: (message: string) => void;
  readonly #reported = new Set<string>();

  constructor(report: (message: string) => void) {
    this.#report = report;
  }

  /** The typed object, or `undefined` (reported) when it does not have its kind's shape. */
  admit<K extends SnapshotKind>(kind: K, object: unknown): ObjectOf<K> | undefined {
    const admission = admit(kind, object);
    if (admission.ok) return admission.object;
    const version = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    const reportKey = `${describeObject(kind, object)}@${String(version)}`;
    if (!this.#reported.has(reportKey)) {
      if (this.#reported.size >= MAX_REMEMBERED) this.#reported.clear();
      this.#reported.add(reportKey);
      this.#report(rejectionMessage(kind, object, admission.problems));
    }
    return undefined;
  }
}
