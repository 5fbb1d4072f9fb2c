/** Regenerates every golden output.yaml (`npm run golden:update`); review the diff before committing. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { caseNames, GOLDEN_DIR, runCase } from './golden.ts';

let changed = 0;
for (const name of caseNames()) {
  const path = join(GOLDEN_DIR, name, 'output.yaml');
  const { output } = runCase(name);
  if (existsSync(path) && readFileSync(path, 'utf8') === output) continue;
  writeFileSync(path, output);
  changed += 1;
  console.log(`updated ${name}`);
}
console.log(`${changed} of ${caseNames().length} golden outputs changed`);
