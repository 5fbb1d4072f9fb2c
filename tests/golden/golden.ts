/**
 * Golden cases: `tests/golden/<case>/input.yaml` (Kubernetes objects, several YAML documents)
 * → `output.yaml` (the translator's configs and statuses).
 *
 * Objects pass the provider boundary's admission check first, as in the operator; an output
 * starts with `rejected:` when some were left out. An input may start with `# include: a, b` to prepend shared setups from `_base/<name>.yaml`.
 * In output.yaml, PEM material is replaced by `<pem sha256:…>` so the files stay readable; the
 * determinism test compares full, unabridged output. A GatewayClass's `supportedFeatures` that
 * equals the one list is written as `SUPPORTED_FEATURES`; that list is pinned on its own in
 * `supported-features.yaml`, so adding a feature changes one golden file, not every case.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { isSnapshotKind, type SnapshotKind } from '../../operator/kinds.ts';
import { admit, rejectionMessage } from '../../operator/provider/admission.ts';
import { snapshotWith, type Snapshot } from '../../operator/store/index.ts';
import { SUPPORTED_FEATURES } from '../../operator/translator/features.ts';
import { translate, type TranslationResult } from '../../operator/translator/index.ts';

export const GOLDEN_DIR = import.meta.dirname;

export function caseNames(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((entry) => !entry.startsWith('_') && statSync(join(GOLDEN_DIR, entry)).isDirectory())
    .sort();
}

export function readObjects(caseName: string): unknown[] {
  const text = readFileSync(join(GOLDEN_DIR, caseName, 'input.yaml'), 'utf8');
  const include = /^# include: (.+)$/m.exec(text.split('\n', 1)[0] ?? '');
  const sources = (include?.[1] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  const texts = [...sources.map((name) => readFileSync(join(GOLDEN_DIR, '_base', `${name}.yaml`), 'utf8')), text];
  return texts.flatMap((source) => parseAllDocuments(source).map((document) => document.toJS() as unknown)).filter((object) => object !== null);
}

/**
 * The snapshot a provider would build from `objects`: each goes through the provider boundary's
 * admission check; malformed ones are left out and listed in `rejected`.
 */
export function admittedSnapshot(objects: readonly unknown[]): { snapshot: Snapshot; rejected: string[] } {
  const lists = new Map<SnapshotKind, unknown[]>();
  const rejected: string[] = [];
  for (const object of objects) {
    const kind = (object as { kind?: unknown } | null)?.kind;
    if (!isSnapshotKind(kind)) continue;
    const admission = admit(kind, object);
    if (!admission.ok) {
      rejected.push(rejectionMessage(kind, object, admission.problems));
      continue;
    }
    const list = lists.get(kind) ?? [];
    list.push(admission.object);
    lists.set(kind, list);
  }
  return { snapshot: snapshotWith(lists), rejected };
}

export function snapshotOf(objects: readonly unknown[]): Snapshot {
  return admittedSnapshot(objects).snapshot;
}

const PEM = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g;

function abridgePem(text: string): string {
  return text.replace(PEM, (block, label: string) => `<${label.toLowerCase()} sha256:${createHash('sha256').update(block).digest('hex').slice(0, 12)}>`);
}

export const SUPPORTED_FEATURES_FILE = join(GOLDEN_DIR, 'supported-features.yaml');
const SUPPORTED_FEATURES_MARKER = 'SUPPORTED_FEATURES';

function isTheFeatureList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length !== SUPPORTED_FEATURES.length) return false;
  return value.every((entry: unknown, index) => typeof entry === 'object' && entry !== null && (entry as { name?: unknown }).name === SUPPORTED_FEATURES[index]);
}

function abridge(key: string, value: unknown): unknown {
  if (typeof value === 'string') return abridgePem(value);
  if (key === 'supportedFeatures' && isTheFeatureList(value)) return SUPPORTED_FEATURES_MARKER;
  return value;
}

/** `rejected`: what the provider boundary left out (listed first, only when there is any). */
export function renderOutput(result: TranslationResult, rejected: readonly string[] = []): string {
  const abridged: unknown = JSON.parse(JSON.stringify(rejected.length === 0 ? result : { rejected, ...result }), abridge);
  return stringify(abridged, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The golden rendering of the one `supportedFeatures` list (`supported-features.yaml`). */
export function renderSupportedFeatures(): string {
  return stringify({ supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })) }, { lineWidth: 0 });
}

export function runCase(caseName: string): { result: TranslationResult; output: string } {
  const { snapshot, rejected } = admittedSnapshot(readObjects(caseName));
  const result = translate(snapshot);
  return { result, output: renderOutput(result, rejected) };
}
