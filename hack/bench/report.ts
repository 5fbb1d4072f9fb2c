/**
 * Shared helpers for benchmark modules: a bench module (`hack/bench/<name>.ts`) exports
 * `run(): Promise<void>`, prints a table with `printTable` and records its numbers with
 * `writeResult`, which writes `.bench/<name>.json` at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface BenchModule {
  run(): Promise<void>;
}

export type Row = Readonly<Record<string, string | number>>;

export function printTable(title: string, rows: readonly Row[]): void {
  const first = rows[0];
  if (first === undefined) return;
  const columns = Object.keys(first);
  const cell = (value: string | number | undefined): string =>
    typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : (value ?? '');
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: readonly string[]): string => `| ${values.map((value, i) => value.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((column) => cell(row[column]))));
}

export function writeResult(name: string, result: Readonly<Record<string, unknown>>): string {
  const directory = join(REPO_ROOT, '.bench');
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${name}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}
