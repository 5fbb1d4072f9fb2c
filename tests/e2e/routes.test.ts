// Applying, changing and deleting an HTTPRoute changes the traffic that reaches the Gateway's
// LoadBalancer address from the host, and the statuses follow.
import t from 'tap';
import { request } from 'undici';
import { poll } from '../harness/wait.ts';
import { apply, echoBackends, inPool, kubectl, programmedAddress, routeConditions, testNamespace, useCluster, waitForDeployment } from './cluster.ts';

useCluster(t);
const namespace = 'e2e-routes';
const host = 'routes.e2e.test';

interface Echo {
  readonly pod: string;
  readonly path: string;
}

function route(rules: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: ${namespace} }
spec:
  parentRefs: [{ name: routes }]
  hostnames: ["${host}"]
  rules:
${rules}`;
}

async function get(address: string, path: string): Promise<{ status: number; echo: Echo | undefined }> {
  const response = await request(`http://${address}${path}`, { headers: { host } });
  const text = await response.body.text();
  return { status: response.statusCode, echo: response.statusCode === 200 ? (JSON.parse(text) as Echo) : undefined };
}

/** Polls until `count` requests in a row satisfy `accept` (the change reached every dataplane). */
async function until(address: string, path: string, what: string, accept: (r: { status: number; echo: Echo | undefined }) => boolean): Promise<void> {
  let streak = 0;
  await poll(
    async () => {
      streak = accept(await get(address, path)) ? streak + 1 : 0;
      return streak >= 10 ? true : undefined;
    },
    { what, timeoutMs: 60_000, intervalMs: 100 },
  );
}

t.test('routes through the LoadBalancer address follow kubectl apply and delete', async (t) => {
  await testNamespace(t, namespace);
  await apply(echoBackends(namespace, ['v1', 'v2']));
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: routes, namespace: ${namespace} }
spec:
  gatewayClassName: weir
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`);
  await apply(route('    - backendRefs: [{ name: v1, port: 8080 }]'));
  await waitForDeployment(namespace, 'v1');
  await waitForDeployment(namespace, 'v2');

  const address = await programmedAddress(namespace, 'routes');
  t.ok(inPool(address), `the Gateway's address ${address} comes from MetalLB's pool`);
  const listing = await kubectl(['-n', namespace, 'get', 'gateway', 'routes']);
  t.match(listing, new RegExp(`routes\\s+weir\\s+${address.replaceAll('.', '\\.')}\\s+True`), '`kubectl get gateway` shows the address and Programmed=True');

  await until(address, '/', 'traffic to reach v1', (r) => r.status === 200 && r.echo?.pod.startsWith('v1-') === true);
  const created = await routeConditions(namespace, 'httproute', 'web');
  t.equal(created.get('Accepted')?.status, 'True', 'route Accepted');
  t.equal(created.get('ResolvedRefs')?.status, 'True', 'route ResolvedRefs');

  await apply(route('    - backendRefs: [{ name: v2, port: 8080 }]'));
  await until(address, '/', 'traffic to move to v2', (r) => r.status === 200 && r.echo?.pod.startsWith('v2-') === true);
  t.pass('changing the backendRef moved the traffic to v2');

  await apply(
    route(`    - matches: [{ path: { type: PathPrefix, value: /missing } }]
      backendRefs: [{ name: not-there, port: 8080 }]
    - backendRefs: [{ name: v2, port: 8080 }]`),
  );
  const broken = await routeConditions(namespace, 'httproute', 'web');
  t.equal(broken.get('ResolvedRefs')?.status, 'False', 'a missing backend makes ResolvedRefs False');
  t.equal(broken.get('ResolvedRefs')?.reason, 'BackendNotFound');
  await until(address, '/missing/x', 'the rule with no valid backend to answer 500', (r) => r.status === 500);
  const other = await get(address, '/elsewhere');
  t.equal(other.status, 200, 'the other rule still serves');

  await kubectl(['-n', namespace, 'delete', 'httproute', 'web']);
  await until(address, '/', 'a deleted route to answer 404', (r) => r.status === 404);
  t.pass('deleting the route removed it from the dataplane');
});
