// The operator as a process against the harness's real kube-apiserver and Redis: resources
// applied with kubectl turn into published configs and statuses; updates, deletes and
// ReferenceGrants follow; a restart loses nothing; a dataplane fed by Redis acks and the
// Gateway turns Programmed.
import t from 'tap';
import { pino } from 'pino';
import { compareRevisions } from '../../api-types/config-codec.ts';
import { Dataplane } from '../../dataplane/dataplane.ts';
import { freePort, kube, redis, redisClient, testNamespace } from '../harness/index.ts';
import {
  apply, condition, gatewayConditions, gatewayYaml, operatorSetup, published, routeConditions, routeYaml, serviceYaml, startOperator, until,
} from './operator-helpers.ts';

t.test('apply, update, delete: configs in Redis and statuses follow', async (t) => {
  const k = await kube();
  const r = await redisClient(t);
  const ns = await testNamespace(t, 'op-basic');
  const setup = await operatorSetup(t, ns);
  const operator = startOperator(t, setup, 'op-basic');
  const port = await freePort();
  await apply(k, [gatewayYaml(ns, setup.className, 'edge', [port]), serviceYaml(ns, 'shop'), routeYaml(ns, 'shop', 'edge', ['shop.example.com'], { name: 'shop' })].join('---\n'));

  await until('the config to be published', async () => (await published(r, ns, 'edge'))?.config.listeners.length === 1);
  const first = await published(r, ns, 'edge');
  t.equal(first?.config.gateway.name, 'edge');
  t.match(first?.digest, /^sha256:/);

  await until('route Accepted and ResolvedRefs', async () => {
    const route = await routeConditions(k, ns, 'shop', setup.controllerName);
    return condition(route, 'Accepted')?.status === 'True' && condition(route, 'ResolvedRefs')?.status === 'True';
  });
  await until('Gateway Accepted, Programmed=False/Pending (no dataplane yet)', async () => {
    const gw = await gatewayConditions(k, ns, 'edge');
    return condition(gw, 'Accepted')?.status === 'True' && condition(gw, 'Programmed')?.reason === 'Pending';
  });
  const gw = await gatewayConditions(k, ns, 'edge');
  t.match(condition(gw, 'Programmed')?.message, /Waiting for a dataplane pod to apply configuration version \d+/);
  t.equal(condition(gw, 'Accepted')?.observedGeneration, gw?.generation);
  // The harness installs the v1.7.0 CRDs: the provider reads their bundle-version annotation.
  await until('GatewayClass SupportedVersion=True from the installed CRDs', async () => {
    const gatewayClass = (await k.customObjects.getClusterCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', name: setup.className })) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
    const supported = gatewayClass.status?.conditions?.find((entry) => entry.type === 'SupportedVersion');
    return supported?.status === 'True' && supported.reason === 'SupportedVersion' && supported.message.includes('v1.7.0');
  });

  // Update: a new hostname gives a new version.
  await apply(k, routeYaml(ns, 'shop', 'edge', ['shop.example.org'], { name: 'shop' }));
  await until('the updated config', async () => JSON.stringify((await published(r, ns, 'edge'))?.config).includes('shop.example.org'));
  const second = await published(r, ns, 'edge');
  t.ok((second?.version ?? 0) > (first?.version ?? 0), 'version increased');
  await until('route observedGeneration 2', async () => condition(await routeConditions(k, ns, 'shop', setup.controllerName), 'Accepted')?.observedGeneration === 2);

  // No change, no new version; statuses are not rewritten (lastTransitionTime stable).
  const before = await gatewayConditions(k, ns, 'edge');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal((await published(r, ns, 'edge'))?.version, second?.version, 'no republish without a change');
  const after = await gatewayConditions(k, ns, 'edge');
  t.equal((after?.object.metadata as { resourceVersion: string }).resourceVersion, (before?.object.metadata as { resourceVersion: string }).resourceVersion, 'no status write without a change');

  // Delete the route, then the Gateway.
  await k.kubectl(['delete', 'httproute', 'shop', `--namespace=${ns}`]);
  await until('the route to leave the config', async () => !JSON.stringify((await published(r, ns, 'edge'))?.config).includes('shop.example.org'));
  await k.kubectl(['delete', 'gateway', 'edge', `--namespace=${ns}`]);
  await until('the config key to be removed', async () => (await published(r, ns, 'edge')) === undefined);
  t.notMatch(operator.output(), /"level":50/, 'no errors logged');
  await operator.stop();
});

t.test('adding and removing a ReferenceGrant flips ResolvedRefs', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-grant');
  const backends = await testNamespace(t, 'op-backends');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-grant');
  const port = await freePort();
  await apply(k, [gatewayYaml(ns, setup.className, 'edge', [port]), serviceYaml(backends, 'far'), routeYaml(ns, 'cross', 'edge', ['x.example.com'], { name: 'far', namespace: backends })].join('---\n'));
  await until('ResolvedRefs=False/RefNotPermitted', async () => condition(await routeConditions(k, ns, 'cross', setup.controllerName), 'ResolvedRefs')?.reason === 'RefNotPermitted');
  const grant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: allow, namespace: ${backends} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${ns} }]
  to: [{ group: "", kind: Service }]
`;
  await apply(k, grant);
  await until('ResolvedRefs=True', async () => condition(await routeConditions(k, ns, 'cross', setup.controllerName), 'ResolvedRefs')?.status === 'True');
  await k.kubectl(['delete', 'referencegrant', 'allow', `--namespace=${backends}`]);
  await until('ResolvedRefs=False again', async () => condition(await routeConditions(k, ns, 'cross', setup.controllerName), 'ResolvedRefs')?.reason === 'RefNotPermitted');
  t.pass('ResolvedRefs followed the grant');
});

t.test('an operator restart loses nothing', async (t) => {
  const k = await kube();
  const r = await redisClient(t);
  const ns = await testNamespace(t, 'op-restart');
  const setup = await operatorSetup(t, ns);
  const first = startOperator(t, setup, 'op-restart-1');
  const [portA, portB] = [await freePort(), await freePort()];
  await apply(k, [gatewayYaml(ns, setup.className, 'a', [portA]), gatewayYaml(ns, setup.className, 'b', [portB]), serviceYaml(ns, 'svc'), routeYaml(ns, 'old', 'a', ['old.example.com'], { name: 'svc' })].join('---\n'));
  await until('both configs published', async () => JSON.stringify((await published(r, ns, 'a'))?.config).includes('old.example.com') && (await published(r, ns, 'b')) !== undefined);
  const before = await published(r, ns, 'a');
  await first.stop();

  // While no operator runs: a route is deleted, another created, a Gateway deleted.
  await k.kubectl(['delete', 'httproute', 'old', `--namespace=${ns}`]);
  await apply(k, routeYaml(ns, 'new', 'a', ['new.example.com'], { name: 'svc' }));
  await k.kubectl(['delete', 'gateway', 'b', `--namespace=${ns}`]);

  startOperator(t, setup, 'op-restart-2');
  await until('the restarted operator to publish the changes', async () => {
    const config = JSON.stringify((await published(r, ns, 'a'))?.config);
    return config.includes('new.example.com') && !config.includes('old.example.com');
  });
  const after = await published(r, ns, 'a');
  t.ok(before !== undefined && after !== undefined && compareRevisions(after, before) > 0, 'the restarted operator publishes a newer revision (a new epoch)');
  await until('the deleted Gateway key to be removed', async () => (await published(r, ns, 'b')) === undefined);
  await until('the new route to get status', async () => condition(await routeConditions(k, ns, 'new', setup.controllerName), 'Accepted')?.status === 'True');
});

t.test('a dataplane fed by Redis acks and the Gateway turns Programmed', async (t) => {
  const k = await kube();
  const shared = await redis();
  const ns = await testNamespace(t, 'op-ack');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-ack');
  const port = await freePort();
  await apply(k, [gatewayYaml(ns, setup.className, 'edge', [port]), serviceYaml(ns, 'shop'), routeYaml(ns, 'shop', 'edge', ['shop.example.com'], { name: 'shop' })].join('---\n'));
  await until('Programmed=False/Pending', async () => condition(await gatewayConditions(k, ns, 'edge'), 'Programmed')?.reason === 'Pending');

  const dataplane = await Dataplane.start({
    redisUrl: shared.url,
    gateway: { namespace: ns, name: 'edge' },
    podName: 'dp-0',
    log: pino({ level: 'warn' }),
    listenHost: '127.0.0.1',
    adminHost: '127.0.0.1',
    adminPort: 0,
  });
  t.teardown(() => dataplane.stop());
  await until('Programmed=True', async () => condition(await gatewayConditions(k, ns, 'edge'), 'Programmed')?.status === 'True');
  const gw = await gatewayConditions(k, ns, 'edge');
  const listeners = (gw?.object.status as { listeners: { conditions: { type: string; status: string }[] }[] }).listeners;
  t.ok(listeners[0]?.conditions.some((entry) => entry.type === 'Programmed' && entry.status === 'True'), 'listener Programmed too');

  // A new version is Pending until the pod applied it, then Programmed again.
  await apply(k, routeYaml(ns, 'shop', 'edge', ['shop.example.net'], { name: 'shop' }));
  await until('Programmed=True for the new version', async () => {
    const programmed = condition(await gatewayConditions(k, ns, 'edge'), 'Programmed');
    return programmed?.status === 'True' && dataplane.subscriber.applied.version >= 2;
  });
  t.pass('Programmed followed the acks');
});
