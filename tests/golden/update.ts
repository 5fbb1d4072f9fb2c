/** Regenerates every golden output.yaml (`npm run golden:update`); review the diff before committing. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { caseNames, GOLDEN_DIR, renderSupportedFeatures, runCase, SUPPORTED_FEATURES_FILE } from './golden.ts';

let changed = 0;
for (const name of caseNames()) {
  const path = join(GOLDEN_DIR, name, 'output.yaml');
  const { output } = runCase(name);
  if (existsSync(path) && readFileSync(path, 'utf8') === output) continue;
  writeFileSync(path, output);
  changed += 1;
  console.log(`updated ${name}`);
}
const features = renderSupportedFeatures();
if (!existsSync(SUPPORTED_FEATURES_FILE) || readFileSync(SUPPORTED_FEATURES_FILE, 'utf8') !== features) {
  writeFileSync(SUPPORTED_FEATURES_FILE, features);
  console.log('updated supported-features.yaml');
}
console.log(`${changed} of ${caseNames().length} golden outputs changed`);
