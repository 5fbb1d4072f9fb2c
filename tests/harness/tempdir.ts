import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onEmergencyExit } from './cleanup.ts';

export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/** WEIR_TEST_KEEP_TMP=1 keeps component dirs (logs, certs, data) for debugging. */
const keep = process.env.WEIR_TEST_KEEP_TMP === '1';
const prefix = 'weir-';
const ownerFile = '.owner-pid';
let swept = false;

/** A fresh directory under the OS temp dir, removed by remove() or when the process exits. */
export function makeTempDir(purpose: string): TempDir {
  if (!swept) {
    swept = true;
    sweepOrphans();
  }
  const path = mkdtempSync(join(tmpdir(), `${prefix}${purpose}-`));
  if (keep) {
    process.stderr.write(`# WEIR_TEST_KEEP_TMP: keeping ${path}\n`);
    return { path, remove: () => Promise.resolve() };
  }
  writeFileSync(join(path, ownerFile), String(process.pid));
  const unregister = onEmergencyExit(() => {
    rmSync(path, { recursive: true, force: true });
  });
  return {
    path,
    async remove() {
      unregister();
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/**
 * Removes directories left by test processes that were SIGKILLed (no exit hook runs then;
 * their components die with them through setpriv --pdeathsig, their directories do not).
 */
function sweepOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, ownerFile), 'utf8'));
    } catch {
      continue; // not ours, or kept on purpose
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
