// `kubectl scale` of a Gateway's dataplane Deployment to 4 replicas and back to 1 while the
// host sends steady load through the LoadBalancer address: no request fails, and the new
// pods serve.
import t from 'tap';
import { poll } from '../harness/wait.ts';
import { kubectl, kubectlJson, testNamespace, useCluster, waitForDeployment } from './cluster.ts';
import { servingGateway } from './gateway-fixture.ts';
import { describeLoad, startLoad } from './load.ts';

useCluster(t);
const namespace = 'e2e-scale';
const RATE = 250;
const MIN_RATE = 200;

interface PodList {
  readonly items: readonly { readonly metadata: { readonly name: string; readonly deletionTimestamp?: string } }[];
}

async function dataplanePods(gateway: string): Promise<PodList['items']> {
  return (await kubectlJson<PodList>(['-n', namespace, 'get', 'pods', '-l', `gateway.networking.k8s.io/gateway-name=${gateway}`])).items;
}

/** Requests a dataplane pod has served, from its metrics (through the API server's pod proxy). */
async function servedRequests(pod: string): Promise<number> {
  const metrics = await kubectl(['get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}:9090/proxy/metrics`]);
  return metrics
    .split('\n')
    .filter((line) => line.startsWith('weir_http_requests_total'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

t.test('scaling the dataplane 1 → 4 → 1 under load fails no request', async (t) => {
  await testNamespace(t, namespace);
  const gateway = await servingGateway(namespace, 'scale');
  const deploy = `deploy/${gateway.deployment}`;

  const up = startLoad({ url: gateway.url, host: gateway.host, ratePerSecond: RATE });
  await kubectl(['-n', namespace, 'scale', deploy, '--replicas=4']);
  await waitForDeployment(namespace, gateway.deployment);
  // Let kube-proxy spread new connections over all four.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const upReport = await up.stop();
  t.comment(describeLoad('scale 1 → 4', upReport));
  t.equal(upReport.failed, 0, describeLoad('scale 1 → 4', upReport));
  t.ok(upReport.ratePerSecond >= MIN_RATE, `load was at least ${MIN_RATE} req/s (${upReport.ratePerSecond.toFixed(0)})`);

  const pods = await dataplanePods('scale');
  t.equal(pods.length, 4, 'four dataplane pods');
  for (const pod of pods) {
    const served = await servedRequests(pod.metadata.name);
    t.ok(served > 0, `${pod.metadata.name} served requests (${served})`);
  }

  const down = startLoad({ url: gateway.url, host: gateway.host, ratePerSecond: RATE });
  await kubectl(['-n', namespace, 'scale', deploy, '--replicas=1']);
  await poll(async () => ((await dataplanePods('scale')).length === 1 ? true : undefined), {
    what: 'the three removed dataplane pods to be gone',
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const downReport = await down.stop();
  t.comment(describeLoad('scale 4 → 1', downReport));
  t.equal(downReport.failed, 0, describeLoad('scale 4 → 1', downReport));
  t.ok(downReport.ratePerSecond >= MIN_RATE, `load was at least ${MIN_RATE} req/s (${downReport.ratePerSecond.toFixed(0)})`);
});
