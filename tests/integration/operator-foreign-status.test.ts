// Status written by other controllers survives Weir's writes (the v1.7.0 conformance tests
// gateway-preserve-foreign-conditions, httproute-preserve-foreign-status and
// backendtlspolicy-preserve-foreign-status): a condition of a type Weir does not own on a
// Gateway and on its listener, a route parent entry and a policy ancestor entry of another
// controllerName are seeded, the objects' generations bumped, and once Weir's own conditions
// caught up with the new generation the seeded entries are still there, byte for byte.
import t from 'tap';
import { kube, testNamespace, type KubeHarness } from '../harness/index.ts';
import { apply, gatewayConditions, GROUP, operatorSetup, routeConditions, serviceYaml, startOperator, until } from './operator-helpers.ts';

const FOREIGN_TYPE = 'example.com/Audited';
const FOREIGN_CONTROLLER = 'example.com/other-controller';

type Json = Record<string, unknown>;

async function read(k: KubeHarness, namespace: string, plural: string, name: string): Promise<Json> {
  return (await k.customObjects.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural, name })) as Json;
}

async function replaceStatus(k: KubeHarness, namespace: string, plural: string, object: Json): Promise<Json> {
  const name = (object.metadata as { name: string }).name;
  return (await k.customObjects.replaceNamespacedCustomObjectStatus({ group: GROUP, version: 'v1', namespace, plural, name, body: object })) as Json;
}

function foreignCondition(generation: number): Json {
  return { type: FOREIGN_TYPE, status: 'True', reason: 'Seeded', message: 'written by another controller', observedGeneration: generation, lastTransitionTime: '2026-01-02T03:04:05Z' };
}

function generationOf(object: Json): number {
  return (object.metadata as { generation: number }).generation;
}

function statusOf(object: Json): Json {
  return (object.status ?? {}) as Json;
}

t.test('conditions, parents and ancestors of other controllers are kept through Weir status writes', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-foreign');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-foreign');
  await apply(k, `apiVersion: ${GROUP}/v1
kind: Gateway
metadata: { name: edge, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  listeners: [{ name: http, protocol: HTTP, port: 8080 }]
---
${serviceYaml(ns, 'shop')}---
apiVersion: ${GROUP}/v1
kind: HTTPRoute
metadata: { name: shop, namespace: ${ns} }
spec:
  parentRefs: [{ name: edge }, { name: unmanaged-gateway }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /shop } }], backendRefs: [{ name: shop, port: 80 }] }]
---
apiVersion: ${GROUP}/v1
kind: BackendTLSPolicy
metadata: { name: shop-tls, namespace: ${ns} }
spec:
  targetRefs: [{ group: "", kind: Service, name: shop }]
  validation: { wellKnownCACertificates: System, hostname: shop.example.com }
`);
  await until('Gateway listener status', async () => {
    const gw = await gatewayConditions(k, ns, 'edge');
    return ((statusOf(gw?.object ?? {}).listeners as unknown[] | undefined) ?? []).length === 1;
  });
  await until('route Accepted on edge', async () => (await routeConditions(k, ns, 'shop', setup.controllerName))?.conditions.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false);
  await until('policy ancestor written by Weir', async () => {
    const ancestors = (statusOf(await read(k, ns, 'backendtlspolicies', 'shop-tls')).ancestors as { controllerName: string }[] | undefined) ?? [];
    return ancestors.some((entry) => entry.controllerName === setup.controllerName);
  });

  // Seed the foreign entries, as the conformance tests do, through the status subresource.
  const gateway = await read(k, ns, 'gateways', 'edge');
  const gatewayStatus = statusOf(gateway);
  gatewayStatus.conditions = [...(gatewayStatus.conditions as Json[]), foreignCondition(generationOf(gateway))];
  const listener = (gatewayStatus.listeners as Json[])[0] as Json;
  listener.conditions = [...(listener.conditions as Json[]), foreignCondition(generationOf(gateway))];
  const seededGateway = statusOf(await replaceStatus(k, ns, 'gateways', gateway));

  const route = await read(k, ns, 'httproutes', 'shop');
  const foreignParent = {
    parentRef: { group: GROUP, kind: 'Gateway', namespace: ns, name: 'unmanaged-gateway' },
    controllerName: FOREIGN_CONTROLLER,
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: generationOf(route), lastTransitionTime: '2026-01-02T03:04:05Z' }],
  };
  statusOf(route).parents = [...(statusOf(route).parents as Json[]), foreignParent];
  const seededRoute = statusOf(await replaceStatus(k, ns, 'httproutes', route));

  const policy = await read(k, ns, 'backendtlspolicies', 'shop-tls');
  const foreignAncestor = {
    ancestorRef: { group: GROUP, kind: 'Gateway', namespace: ns, name: 'unmanaged-gateway' },
    controllerName: FOREIGN_CONTROLLER,
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: generationOf(policy), lastTransitionTime: '2026-01-02T03:04:05Z' }],
  };
  statusOf(policy).ancestors = [...(statusOf(policy).ancestors as Json[]), foreignAncestor];
  const seededPolicy = statusOf(await replaceStatus(k, ns, 'backendtlspolicies', policy));

  // Bump every generation so Weir rewrites each status on top of the seeded entries.
  await apply(k, `apiVersion: ${GROUP}/v1
kind: Gateway
metadata: { name: edge, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  listeners: [{ name: http, protocol: HTTP, port: 8080, hostname: second.example.com }]
---
apiVersion: ${GROUP}/v1
kind: HTTPRoute
metadata: { name: shop, namespace: ${ns} }
spec:
  parentRefs: [{ name: edge }, { name: unmanaged-gateway }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /shop-updated } }], backendRefs: [{ name: shop, port: 80 }] }]
---
apiVersion: ${GROUP}/v1
kind: BackendTLSPolicy
metadata: { name: shop-tls, namespace: ${ns} }
spec:
  targetRefs: [{ group: "", kind: Service, name: shop }]
  validation: { wellKnownCACertificates: System, hostname: shop2.example.com }
`);
  const ownCaughtUp = (conditions: unknown, generation: number): boolean =>
    Array.isArray(conditions) && (conditions as { type: string; observedGeneration?: number }[]).every((c) => c.type === FOREIGN_TYPE || c.observedGeneration === generation);
  await until('Weir conditions on the Gateway and its listener at the new generation', async () => {
    const object = await read(k, ns, 'gateways', 'edge');
    const status = statusOf(object);
    return generationOf(object) === 2 && ownCaughtUp(status.conditions, 2) && ((status.listeners as Json[] | undefined) ?? []).every((entry) => ownCaughtUp(entry.conditions, 2));
  });
  await until('Weir route parent at the new generation', async () => (await routeConditions(k, ns, 'shop', setup.controllerName))?.conditions.every((c) => c.observedGeneration === 2) ?? false);
  await until('Weir policy ancestor at the new generation', async () => {
    const ancestors = (statusOf(await read(k, ns, 'backendtlspolicies', 'shop-tls')).ancestors as { controllerName: string; conditions: { observedGeneration: number }[] }[] | undefined) ?? [];
    return ancestors.some((entry) => entry.controllerName === setup.controllerName && entry.conditions.every((c) => c.observedGeneration === 2));
  });

  const pick = (conditions: unknown): unknown => (conditions as Json[]).find((c) => c.type === FOREIGN_TYPE);
  const gatewayNow = statusOf(await read(k, ns, 'gateways', 'edge'));
  t.same(pick(gatewayNow.conditions), pick(seededGateway.conditions), 'the Gateway condition of another type is unchanged');
  t.same(pick(((gatewayNow.listeners as Json[])[0] as Json).conditions), pick(((seededGateway.listeners as Json[])[0] as Json).conditions), 'the listener condition of another type is unchanged');
  t.ok(pick(gatewayNow.conditions) !== undefined, 'and present');

  const foreignOf = (entries: unknown): unknown => (entries as { controllerName: string }[]).find((entry) => entry.controllerName === FOREIGN_CONTROLLER);
  const routeNow = statusOf(await read(k, ns, 'httproutes', 'shop'));
  t.same(foreignOf(routeNow.parents), foreignOf(seededRoute.parents), 'the route parent of another controller is unchanged');
  t.equal((routeNow.parents as unknown[]).length, 2, 'no entry of Weir for the Gateway it does not manage');
  const policyNow = statusOf(await read(k, ns, 'backendtlspolicies', 'shop-tls'));
  t.same(foreignOf(policyNow.ancestors), foreignOf(seededPolicy.ancestors), 'the policy ancestor of another controller is unchanged');
  t.ok(foreignOf(policyNow.ancestors) !== undefined, 'and present');
});
