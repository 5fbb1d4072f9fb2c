// What `npm test` runs after typecheck and lint. Starts the shared redis-server and Kubernetes
// control plane once (in parallel), hands them to tap's test processes through the
// environment (tests/harness/env.ts), runs tap with any extra CLI arguments
// (`npm test -- tests/unit`), stops everything, and ends the output with one line:
// "N passed, N failed, N skipped". Exits with tap's exit code (1 if no test ran).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ControlPlane, startControlPlane } from './harness/controlplane.ts';
import { harnessEnv } from './harness/env.ts';
import { repoRoot } from './harness/paths.ts';
import { type RedisServer, startRedis } from './harness/redis.ts';

const say = (line: string): void => {
  process.stdout.write(`# ${line}\n`);
};

const env: NodeJS.ProcessEnv = { ...process.env };
const stops: (() => Promise<void>)[] = [];

const timed = async <T>(start: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const began = performance.now();
  const value = await start();
  return { value, ms: Math.round(performance.now() - began) };
};

const [redis, controlPlane] = await Promise.allSettled([timed(startRedis), timed(startControlPlane)]);
if (redis.status === 'fulfilled') {
  const server: RedisServer = redis.value.value;
  stops.push(() => server.close());
  env[harnessEnv.redisUrl] = server.url;
  say(`shared redis-server: ${server.url} (started in ${redis.value.ms} ms)`);
} else {
  env[harnessEnv.redisError] = message(redis.reason);
  say(`shared redis-server failed to start; tests that need it will fail: ${message(redis.reason)}`);
}
if (controlPlane.status === 'fulfilled') {
  const started: ControlPlane = controlPlane.value.value;
  stops.push(() => started.stop());
  env[harnessEnv.kubeconfig] = started.kubeconfigPath;
  say(`shared control plane: ${started.server}, kubeconfig ${started.kubeconfigPath} (started in ${controlPlane.value.ms} ms)`);
} else {
  env[harnessEnv.controlPlaneError] = message(controlPlane.reason);
  say(`shared control plane failed to start; tests that need it will fail: ${message(controlPlane.reason)}`);
}

const tap = await runTap(process.argv.slice(2));
await Promise.allSettled(stops.map((stop) => stop()));

const counts = parseCounts(tap.summary);
if (tap.summary === undefined) say('tap printed no summary line, so no test ran (or a non-TAP reporter was chosen)');
else if (counts.total === 0) say('tap ran no tests');
process.stdout.write(`${counts.pass} passed, ${counts.fail} failed, ${counts.skip + counts.todo} skipped\n`);
process.exitCode = counts.total === 0 ? tap.exitCode || 1 : tap.exitCode;

/**
 * Runs tap with the raw TAP reporter, passing its output through and keeping its closing
 * "# { total: .. }" line. (tap's --output-file would duplicate raw TAP on stdout.)
 */
async function runTap(args: readonly string[]): Promise<{ exitCode: number; summary: string | undefined }> {
  const tapPackage = createRequire(import.meta.url).resolve('tap/package.json');
  const tapBin = join(dirname(tapPackage), 'dist', 'esm', 'run.mjs');
  const child = spawn(process.execPath, [tapBin, '--reporter=tap', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let summary: string | undefined;
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (/^# \{ .*\btotal: \d+.* \}$/.test(line)) summary = line;
  });
  child.stdout.pipe(process.stdout, { end: false });
  // Ctrl-C or a CI timeout: let tap stop its tests, then fall through to the teardown.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward).on('SIGTERM', forward);
  const exitCode = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      say(`could not run tap: ${error.message}`);
      resolve(1);
    });
    child.once('close', (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128 + signalNumber(signal)));
    });
  });
  process.off('SIGINT', forward).off('SIGTERM', forward);
  return { exitCode, summary };
}

interface Counts {
  total: number;
  pass: number;
  fail: number;
  skip: number;
  todo: number;
}

/** Parses tap's closing "# { total: 3, pass: 2, fail: 1 }" line; absent keys are 0. */
function parseCounts(summary: string | undefined): Counts {
  const counts: Counts = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
  for (const [, key, value] of summary?.matchAll(/(\w+): (\d+)/g) ?? []) {
    if (key !== undefined && key in counts) counts[key as keyof Counts] = Number(value);
  }
  return counts;
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
