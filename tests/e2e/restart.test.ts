// Rolling restarts under steady load through the LoadBalancer address: of a Gateway's
// dataplane Deployment, then of the operator (whose standby takes over). No request fails,
// and the restarted operator still programs changes.
import t from 'tap';
import { request } from 'undici';
import { poll } from '../harness/wait.ts';
import { kubectl, kubectlJson, testNamespace, useCluster } from './cluster.ts';
import { servingGateway } from './gateway-fixture.ts';
import { describeLoad, type LoadReport, startLoad } from './load.ts';

useCluster(t);
const namespace = 'e2e-restart';
const RATE = 250;
const MIN_RATE = 200;

interface PodList {
  readonly items: readonly { readonly metadata: { readonly name: string } }[];
}

async function podNames(ns: string, selector: string): Promise<string[]> {
  return (await kubectlJson<PodList>(['-n', ns, 'get', 'pods', '-l', selector])).items.map((pod) => pod.metadata.name);
}

/** Restarts a Deployment under load and waits until its old pods are gone. */
async function restartUnderLoad(gateway: { url: string; host: string }, ns: string, deployment: string, selector: string): Promise<LoadReport> {
  const before = await podNames(ns, selector);
  const load = startLoad({ url: gateway.url, host: gateway.host, ratePerSecond: RATE });
  await kubectl(['-n', ns, 'rollout', 'restart', `deploy/${deployment}`]);
  await kubectl(['-n', ns, 'rollout', 'status', `deploy/${deployment}`, '--timeout=300s']);
  await poll(async () => ((await podNames(ns, selector)).some((name) => before.includes(name)) ? undefined : true), {
    what: `the old pods of ${deployment} to be gone`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return load.stop();
}

t.test('rolling restarts under load fail no request', async (t) => {
  await testNamespace(t, namespace);
  const gateway = await servingGateway(namespace, 'restart');
  await kubectl(['-n', namespace, 'scale', `deploy/${gateway.deployment}`, '--replicas=2']);
  await kubectl(['-n', namespace, 'rollout', 'status', `deploy/${gateway.deployment}`, '--timeout=180s']);

  const dataplane = await restartUnderLoad(gateway, namespace, gateway.deployment, 'gateway.networking.k8s.io/gateway-name=restart');
  t.comment(describeLoad('dataplane rolling restart', dataplane));
  t.equal(dataplane.failed, 0, describeLoad('dataplane rolling restart', dataplane));
  t.ok(dataplane.ratePerSecond >= MIN_RATE, `load was at least ${MIN_RATE} req/s`);

  const operator = await restartUnderLoad(gateway, 'weir-system', 'weir-operator', 'app.kubernetes.io/name=weir-operator');
  t.comment(describeLoad('operator rolling restart', operator));
  t.equal(operator.failed, 0, describeLoad('operator rolling restart', operator));
  t.ok(operator.ratePerSecond >= MIN_RATE, `load was at least ${MIN_RATE} req/s`);

  // The new operator pods lead: a route change still reaches the dataplane.
  await kubectl(['-n', namespace, 'patch', 'httproute', 'restart', '--type=merge', '-p', '{"spec":{"hostnames":["moved.e2e.test"]}}']);
  await poll(
    async () => {
      const response = await request(gateway.url, { headers: { host: 'moved.e2e.test' } });
      await response.body.dump();
      return response.statusCode === 200 ? true : undefined;
    },
    { what: 'the route change after the operator restart to be served', timeoutMs: 60_000, intervalMs: 250 },
  );
  t.pass('the restarted operator programs route changes');
});
