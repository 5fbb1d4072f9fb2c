// Deleting a Gateway removes the dataplane Deployment and Service the operator made for it.
import t from 'tap';
import { poll } from '../harness/wait.ts';
import { KubectlError, kubectl, testNamespace, useCluster } from './cluster.ts';
import { servingGateway } from './gateway-fixture.ts';

useCluster(t);
const namespace = 'e2e-delete';

async function exists(kind: string, name: string): Promise<boolean> {
  try {
    await kubectl(['-n', namespace, 'get', kind, name, '-o', 'name']);
    return true;
  } catch (error) {
    if (error instanceof KubectlError && error.message.includes('NotFound')) return false;
    throw error;
  }
}

t.test('deleting a Gateway removes its Deployment and Service', async (t) => {
  await testNamespace(t, namespace);
  const gateway = await servingGateway(namespace, 'doomed');
  t.ok(await exists('deployment', gateway.deployment), 'the dataplane Deployment exists');
  t.ok(await exists('service', gateway.deployment), 'the dataplane Service exists');

  await kubectl(['-n', namespace, 'delete', 'gateway', 'doomed']);
  await poll(async () => ((await exists('deployment', gateway.deployment)) || (await exists('service', gateway.deployment)) ? undefined : true), {
    what: `Deployment and Service ${gateway.deployment} to be deleted`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  t.pass('Deployment and Service are gone');
});
