/**
 * Benchmark runner: `npm run bench -- <name>...` runs `hack/bench/<name>.ts`; with no name it
 * runs every module in this folder. Modules export `run()` (see report.ts); adding a benchmark
 * means adding a file, not editing this runner.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule } from './report.ts';

const HELPERS = new Set(['run', 'report', 'load']);

function available(): string[] {
  return readdirSync(import.meta.dirname)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -3))
    .filter((name) => !HELPERS.has(name))
    .sort();
}

function isBenchModule(value: unknown): value is BenchModule {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function';
}

const known = available();
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = requested.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${known.join(', ')}`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : known) {
  const module: unknown = await import(pathToFileURL(join(import.meta.dirname, `${name}.ts`)).href);
  if (!isBenchModule(module)) {
    console.error(`hack/bench/${name}.ts does not export run()`);
    process.exitCode = 1;
    continue;
  }
  console.log(`== ${name}`);
  await module.run();
}
