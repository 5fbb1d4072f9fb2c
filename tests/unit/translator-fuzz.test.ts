/**
 * Property test: random and malformed resources, after the provider boundary's admission check
 * (the path every object takes into the store), never make translate() throw, and every config
 * it emits still passes the contract validator. Seeded (reproducible) and time-bounded.
 */
import t from 'tap';
import { validatePublishedConfig } from '../../api-types/dataplane-config.ts';
import { SNAPSHOT_KINDS } from '../../operator/kinds.ts';
import type { Snapshot } from '../../operator/store/index.ts';
import { translate } from '../../operator/translator/index.ts';
import { admittedSnapshot, caseNames, readObjects, snapshotOf } from '../golden/golden.ts';

const SEED = Number(process.env.WEIR_FUZZ_SEED ?? 20240601);
const BUDGET_MS = 3000;

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const WEIRD: readonly unknown[] = [
  undefined, null, 0, -1, 1.5, 65536, Number.MAX_SAFE_INTEGER, NaN, '', ' ', '*', '*.', '/', '//', '..', 'a'.repeat(300),
  'UPPER.Example.COM', '__proto__', 'constructor', true, false, [], [null], {}, { name: 1 }, ['x', 1, {}], '(unclosed', '0s', '99999h',
];

/** A random JSON-ish value, sometimes deep. */
function randomValue(depth: number): unknown {
  const roll = random();
  if (depth <= 0 || roll < 0.5) return pick(WEIRD);
  if (roll < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < 3; i++) object[pick(['name', 'kind', 'group', 'port', 'spec', 'rules', 'value', 'type', 'namespace'])] = randomValue(depth - 1);
  return object;
}

/** Mutates a copy of a realistic object: drop, retype or replace fields at random paths. */
function mutate(value: unknown, rate: number): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => mutate(item, rate));
    if (random() < rate) items.push(randomValue(2));
    if (random() < rate && items.length > 0) items.splice(Math.floor(random() * items.length), 1);
    if (random() < rate / 4 && items.length > 0) items.push(...Array.from({ length: 200 }, () => items[0]));
    return items;
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
      const roll = random();
      if (roll < rate / 3) continue;
      result[key] = roll < rate ? randomValue(2) : mutate(entry, rate);
    }
    return result;
  }
  return random() < rate / 2 ? randomValue(1) : value;
}

function assertSound(t: { fail(message: string): unknown }, snapshot: Snapshot, label: string): void {
  let result;
  try {
    result = translate(snapshot);
  } catch (error) {
    t.fail(`${label}: translate threw ${String(error)}`);
    return;
  }
  for (const { config } of result.configs) {
    const checked = validatePublishedConfig({ epoch: 1, version: 1, digest: `sha256:${'0'.repeat(64)}`, config });
    if (!checked.ok) t.fail(`${label}: invalid config ${checked.errors.join('; ')}`);
  }
}

const corpus = caseNames().map((name) => ({ name, objects: readObjects(name) }));

t.test(`mutated golden inputs (seed ${SEED})`, (t) => {
  const deadline = Date.now() + BUDGET_MS;
  let runs = 0;
  while (Date.now() < deadline) {
    const { name, objects } = pick(corpus);
    const mutated = objects.map((object) => mutate(object, pick([0.02, 0.1, 0.3])));
    assertSound(t, snapshotOf(mutated), `${name} run ${runs}`);
    runs++;
  }
  t.ok(runs > 10, `${runs} runs`);
  t.end();
});

t.test('random objects of every kind: admitted ones translate, the others are rejected with a reason', (t) => {
  let admitted = 0;
  for (let i = 0; i < 200; i++) {
    const objects = SNAPSHOT_KINDS.flatMap((kind) =>
      Array.from({ length: 3 }, () => ({ apiVersion: 'v1', kind, metadata: { name: `n${i}`, namespace: pick(['a', 'b']) }, spec: randomValue(4), data: randomValue(2) })),
    );
    const { snapshot, rejected } = admittedSnapshot(objects);
    admitted += objects.length - rejected.length;
    for (const reason of rejected) if (!/ is malformed and left out: \//.test(reason)) t.fail(`rejection without a reason: ${reason}`);
    assertSound(t, snapshot, `random snapshot ${i}`);
  }
  t.ok(admitted > 0, `${admitted} random objects were admitted and translated`);
  t.end();
});

t.test('huge lists, duplicate names and ReferenceGrant cycles', (t) => {
  const base = readObjects('httproute-reference-grant');
  const listeners = Array.from({ length: 2000 }, (_, i) => ({ name: `l${i % 1500}`, port: 80 + (i % 5), protocol: 'HTTP', hostname: `h${i % 7}.example.com` }));
  const hugeGateway = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'huge', namespace: 'gateway-conformance-infra' }, spec: { gatewayClassName: 'weir', listeners } };
  const grants = ['a', 'b', 'c'].map((ns, i, all) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: { name: 'cycle', namespace: ns },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: all[(i + 1) % all.length] }], to: [{ group: '', kind: 'Service' }] },
  }));
  const duplicateRoutes = Array.from({ length: 50 }, (_, i) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'dup', namespace: 'gateway-conformance-infra', generation: i },
    spec: { parentRefs: Array.from({ length: 300 }, () => ({ name: 'huge' })), rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] },
  }));
  const objects = [...base, hugeGateway, ...grants, ...duplicateRoutes];
  assertSound(t, snapshotOf(objects), 'huge');
  const result = translate(snapshotOf(objects));
  const route = result.statuses.find((status) => status.kind === 'HTTPRoute' && status.name === 'dup');
  t.ok(route, 'duplicate routes collapse to one status');
  t.end();
});
