import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createHash } from 'node:crypto';
import { validatePublishedConfig } from '../../api-types/dataplane-config.ts';
import { translate } from '../../operator/translator/index.ts';
import { caseNames, GOLDEN_DIR, readObjects, renderSupportedFeatures, runCase, snapshotOf, SUPPORTED_FEATURES_FILE } from '../golden/golden.ts';

const cases = caseNames();

t.test('there are at least 60 golden cases', (t) => {
  t.ok(cases.length >= 60, `${cases.length} cases`);
  t.end();
});

t.test('supported-features.yaml pins the one supportedFeatures list', (t) => {
  t.equal(renderSupportedFeatures(), readFileSync(SUPPORTED_FEATURES_FILE, 'utf8'), 'run `npm run golden:update` and review the diff if the change is intended');
  t.end();
});

for (const name of cases) {
  t.test(name, (t) => {
    const { result, output } = runCase(name);
    const expected = readFileSync(join(GOLDEN_DIR, name, 'output.yaml'), 'utf8');
    t.equal(output, expected, 'output.yaml matches (run `npm run golden:update` and review the diff if the change is intended)');
    for (const { config } of result.configs) {
      const canonical = JSON.stringify(config);
      const digest = `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
      const checked = validatePublishedConfig(JSON.parse(JSON.stringify({ epoch: 1, version: 1, digest, config })));
      t.ok(checked.ok, `config ${config.gateway.namespace}/${config.gateway.name} passes validatePublishedConfig${checked.ok ? '' : ': ' + checked.errors.join('; ')}`);
    }
    t.end();
  });
}

/** Deterministic shuffle (xorshift) so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const j = Math.abs(state) % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

t.test('determinism: same objects in any order give byte-identical output', (t) => {
  for (const name of cases) {
    const objects = readObjects(name);
    const first = JSON.stringify(translate(snapshotOf(objects)));
    const again = JSON.stringify(translate(snapshotOf(objects)));
    const reordered = JSON.stringify(translate(snapshotOf(shuffled(objects, 0x9e3779b9 ^ name.length))));
    t.equal(again, first, `${name}: translate twice`);
    t.equal(reordered, first, `${name}: shuffled input`);
  }
  t.end();
});
