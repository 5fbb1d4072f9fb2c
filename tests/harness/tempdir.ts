import { mkdtempSync, rmSync } from 'node:fs';
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

/** A fresh directory under the OS temp dir, removed by remove() or when the process exits. */
export function makeTempDir(purpose: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `weir-${purpose}-`));
  if (keep) {
    process.stderr.write(`# WEIR_TEST_KEEP_TMP: keeping ${path}\n`);
    return { path, remove: () => Promise.resolve() };
  }
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
