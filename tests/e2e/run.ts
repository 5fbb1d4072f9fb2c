// `npm run test:e2e`: the end-to-end tests against the local cluster (hack/cluster.sh).
// Brings the cluster up when it is not (as root: the cluster needs it), runs every
// tests/e2e/*.test.ts one file at a time (they share the node and measure load), then
// tests/e2e/teardown/down.test.ts, which stops the cluster and checks nothing is left.
// `--keep` leaves the cluster running instead. Ends with "N passed, N failed, N skipped".
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { runKubectl } from '../harness/kubectl.ts';
import { repoRoot } from '../harness/paths.ts';
import { clusterScript, kubeconfigPath } from './cluster.ts';

const keep = process.argv.includes('--keep');
const say = (line: string): void => {
  process.stdout.write(`# ${line}\n`);
};

function exec(command: string, args: readonly string[], onLine?: (line: string) => void): Promise<number> {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    process.stdout.write(`${line}\n`);
    onLine?.(line);
  });
  return new Promise((resolve) => {
    child.once('error', (error) => {
      say(`could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.once('close', (code) => {
      resolve(code ?? 1);
    });
  });
}

const counts = { pass: 0, fail: 0, skip: 0, todo: 0, total: 0 };
async function tap(files: readonly string[]): Promise<number> {
  const tapBin = join(dirname(createRequire(import.meta.url).resolve('tap/package.json')), 'dist', 'esm', 'run.mjs');
  return exec(process.execPath, [tapBin, '--reporter=tap', '--jobs=1', '--timeout=900', ...files], (line) => {
    if (!/^# \{ .*\btotal: \d+.* \}$/.test(line)) return;
    for (const [, key, value] of line.matchAll(/(\w+): (\d+)/g)) {
      if (key !== undefined && key in counts) counts[key as keyof typeof counts] += Number(value);
    }
  });
}

if (process.getuid?.() !== 0) {
  say('the e2e tests start and stop a Kubernetes node on this machine and need root: sudo npm run test:e2e');
  process.exit(1);
}

async function clusterAnswers(): Promise<boolean> {
  if (!existsSync(kubeconfigPath)) return false;
  return (await runKubectl(kubeconfigPath, ['get', '--raw', '/readyz'])).exitCode === 0;
}

if (!(await clusterAnswers())) {
  say('the local cluster is not running: bash hack/cluster.sh up');
  if ((await exec('bash', [clusterScript, 'up'])) !== 0) {
    say('hack/cluster.sh up failed (its output above says why); no e2e test ran');
    process.exit(1);
  }
}

const e2eDir = join(repoRoot, 'tests', 'e2e');
const files = (await readdir(e2eDir)).filter((file) => file.endsWith('.test.ts')).sort().map((file) => join('tests', 'e2e', file));
// Jaeger's image is built only with WEIR_CLUSTER_OBSERVABILITY=1 (hack/build-images.sh).
if (process.env.WEIR_CLUSTER_OBSERVABILITY === '1') files.push(join('tests', 'e2e', 'observability', 'tracing.test.ts'));
else say('tests/e2e/observability/tracing.test.ts not run: it needs the Jaeger image (WEIR_CLUSTER_OBSERVABILITY=1 hack/cluster.sh up)');
let exitCode = await tap(files);
if (keep) say(`--keep: the cluster stays up (KUBECONFIG=${kubeconfigPath}); stop it with: bash hack/cluster.sh down`);
else exitCode = (await tap([join('tests', 'e2e', 'teardown', 'down.test.ts')])) || exitCode;

process.stdout.write(`${counts.pass} passed, ${counts.fail} failed, ${counts.skip + counts.todo} skipped\n`);
process.exitCode = counts.total === 0 ? exitCode || 1 : exitCode;
