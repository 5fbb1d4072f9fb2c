// Starts the test components (redis-server and the Kubernetes control plane) and keeps them
// running until Ctrl-C, for a fast edit-test loop and for poking at the cluster by hand:
//
//   node hack/dev-env.ts [--exports=FILE]     # prints (and optionally writes) exports
//   source FILE && npx tap tests/integration/harness-kube.test.ts
//
// With those variables set, tests reuse these components instead of starting their own.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../tests/harness/controlplane.ts';
import { harnessEnv } from '../tests/harness/env.ts';
import { startRedis } from '../tests/harness/redis.ts';

const { values } = parseArgs({ options: { exports: { type: 'string' } } });
const [redis, controlPlane] = await Promise.all([startRedis(), startControlPlane()]);
const exports = [
  `export ${harnessEnv.redisUrl}=${redis.url}`,
  `export ${harnessEnv.kubeconfig}=${controlPlane.kubeconfigPath}`,
  `export KUBECONFIG=${controlPlane.kubeconfigPath}`,
].join('\n');
if (values.exports !== undefined) await writeFile(values.exports, `${exports}\n`);
process.stdout.write(`${exports}\n# component logs: ${controlPlane.dir}\n# Ctrl-C stops everything.\n`);

const stop = async (): Promise<void> => {
  await Promise.allSettled([controlPlane.stop(), redis.close()]);
  process.exit(0);
};
process.once('SIGINT', () => void stop()).once('SIGTERM', () => void stop());
// Keeps the event loop alive; the component processes are unref'd.
setInterval(() => undefined, 1 << 30);
