// Proves the harness runs a real Kubernetes control plane: kubectl and client-node talk to a
// kube-apiserver that serves and validates the Gateway API CRDs, enforces RBAC, and has a
// controller manager that deletes namespaces and collects garbage.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   @kubernetes/client-node declares its models as data-only classes but documents and accepts plain objects. */
import { ApiException, KubeConfig, type KubernetesObject, CustomObjectsApi } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { controlPlaneSourceDir } from '../harness/paths.ts';
import { kube, type KubeHarness, poll, testNamespace, uniqueName } from '../harness/index.ts';

const group = 'gateway.networking.k8s.io';
const version = 'v1';

interface HTTPRoute extends KubernetesObject {
  spec: {
    hostnames?: string[];
    rules?: { matches?: { path?: { type?: string; value?: string } }[] }[];
  };
}

function gatewayManifests(namespace: string, className: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${className}
spec:
  controllerName: weir.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: ${namespace}
spec:
  gatewayClassName: ${className}
  listeners:
    - name: http
      protocol: HTTP
      port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
  namespace: ${namespace}
spec:
  parentRefs:
    - name: edge
  hostnames: ["shop.example.com"]
  rules:
    - backendRefs:
        - name: shop
          port: 8080
`;
}

function route(namespace: string, name: string, hostnames: string[]): HTTPRoute {
  return {
    apiVersion: `${group}/${version}`,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: { hostnames, rules: [{}] },
  };
}

async function expectStatus(promise: Promise<unknown>, code: number): Promise<ApiException<unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException && error.code === code) return error as ApiException<unknown>;
    throw error;
  }
  throw new Error(`expected the request to fail with HTTP ${code}, but it succeeded`);
}

// The pin lives in hack/controlplane/go.mod only.
const pinnedKubernetes = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)$/m.exec(readFileSync(join(controlPlaneSourceDir, 'go.mod'), 'utf8'))?.[1];

t.test(`the apiserver is the pinned Kubernetes ${pinnedKubernetes}`, async (t) => {
  const k = await kube();
  const result = await k.kubectl(['version', '--output=json']);
  t.equal(result.exitCode, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { serverVersion?: { gitVersion?: string } };
  t.ok(pinnedKubernetes, 'hack/controlplane/go.mod pins k8s.io/kubernetes');
  t.equal(parsed.serverVersion?.gitVersion, pinnedKubernetes);
});

t.test('kubectl apply of a GatewayClass, Gateway and HTTPRoute, read back with client-node', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'apply');
  const className = uniqueName('weir');
  t.teardown(() => k.kubectl(['delete', 'gatewayclass', className, '--ignore-not-found']));

  const applied = await k.kubectl(['apply', '-f', '-'], { input: gatewayManifests(namespace, className) });
  t.equal(applied.exitCode, 0, applied.stderr);
  t.match(applied.stdout, `gatewayclass.gateway.networking.k8s.io/${className} created`);
  t.match(applied.stdout, 'httproute.gateway.networking.k8s.io/shop created');

  const gatewayClass = (await k.customObjects.getClusterCustomObject({ group, version, plural: 'gatewayclasses', name: className })) as KubernetesObject & {
    spec: { controllerName: string };
  };
  t.equal(gatewayClass.spec.controllerName, 'weir.dev/gateway-controller');

  const gateway = (await k.customObjects.getNamespacedCustomObject({ group, version, namespace, plural: 'gateways', name: 'edge' })) as KubernetesObject & {
    spec: { listeners: { name: string; port: number }[] };
  };
  t.same(gateway.spec.listeners.map((l) => [l.name, l.port]), [['http', 80]]);

  const httpRoute = (await k.customObjects.getNamespacedCustomObject({ group, version, namespace, plural: 'httproutes', name: 'shop' })) as HTTPRoute;
  t.same(httpRoute.spec.hostnames, ['shop.example.com']);
  // Defaulted by the CRD's OpenAPI schema on the server, which no fake would do.
  t.same(httpRoute.spec.rules?.[0]?.matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
});

t.test('a watch sees an update made with kubectl', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'watch');
  const created = (await k.customObjects.createNamespacedCustomObject({
    group, version, namespace, plural: 'httproutes', body: route(namespace, 'watched', ['a.example.com']),
  })) as HTTPRoute;

  const seen = new Promise<HTTPRoute>((resolve, reject) => {
    void k.watch
      .watch(
        `/apis/${group}/${version}/namespaces/${namespace}/httproutes`,
        { resourceVersion: created.metadata?.resourceVersion },
        (phase, object: HTTPRoute) => {
          if (phase === 'MODIFIED' && object.spec.hostnames?.includes('b.example.com')) resolve(object);
        },
        (error: unknown) => {
          reject(new Error(`watch ended before the update: ${String(error)}`));
        },
      )
      .then((controller) => {
        t.teardown(() => {
          controller.abort();
        });
      }, reject);
  });
  // The watch is registered once its request is accepted; updating right away still works
  // because the watch starts from the resourceVersion of the created object.
  const patched = await k.kubectl(['patch', 'httproute', 'watched', `--namespace=${namespace}`, '--type=merge', '--patch', '{"spec":{"hostnames":["b.example.com"]}}']);
  t.equal(patched.exitCode, 0, patched.stderr);
  const updated = await seen;
  t.same(updated.spec.hostnames, ['b.example.com']);
});

t.test('the CRD validation rejects an HTTPRoute with 17 hostnames', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'validation');
  const hostnames = (n: number): string[] => Array.from({ length: n }, (_, i) => `h${i}.example.com`);

  const rejected = await expectStatus(
    k.customObjects.createNamespacedCustomObject({ group, version, namespace, plural: 'httproutes', body: route(namespace, 'too-many', hostnames(17)) }),
    422,
  );
  t.match(String(rejected.body), /spec\.hostnames: Too many: 17: must have at most 16 items/);

  const viaKubectl = await k.kubectl(['apply', '-f', '-'], { input: JSON.stringify(route(namespace, 'too-many', hostnames(17))) });
  t.not(viaKubectl.exitCode, 0);
  t.match(viaKubectl.stderr, /must have at most 16 items/);

  await k.customObjects.createNamespacedCustomObject({ group, version, namespace, plural: 'httproutes', body: route(namespace, 'sixteen', hostnames(16)) });
  t.pass('16 hostnames are accepted');
});

t.test('deleting a namespace removes its routes', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'delete');
  await k.customObjects.createNamespacedCustomObject({ group, version, namespace, plural: 'httproutes', body: route(namespace, 'doomed', ['doomed.example.com']) });

  await k.core.deleteNamespace({ name: namespace });
  // The namespace controller (kube-controller-manager) empties the namespace, then it goes.
  await poll(
    async () => {
      await expectStatus(k.core.readNamespace({ name: namespace }), 404);
      return true;
    },
    { what: `namespace ${namespace} to be deleted`, timeoutMs: 60_000, intervalMs: 200 },
  );
  await expectStatus(k.customObjects.getNamespacedCustomObject({ group, version, namespace, plural: 'httproutes', name: 'doomed' }), 404);
  t.pass('namespace and route are gone');
});

t.test('the garbage collector deletes dependents of a deleted owner', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'gc');
  const owner = await k.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
  await k.core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name: 'dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }],
      },
    },
  });
  await k.core.deleteNamespacedConfigMap({ name: 'owner', namespace });
  await poll(
    async () => {
      await expectStatus(k.core.readNamespacedConfigMap({ name: 'dependent', namespace }), 404);
      return true;
    },
    { what: 'the dependent ConfigMap to be garbage-collected', timeoutMs: 60_000, intervalMs: 200 },
  );
  t.pass('dependent collected');
});

t.test('RBAC is enforced for service-account tokens', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'rbac');
  await k.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nobody' } } });
  const token = await k.core.createNamespacedServiceAccountToken({
    name: 'nobody', namespace, body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const asNobody = clientWithToken(k, token.status?.token ?? '');

  const denied = await expectStatus(
    asNobody.listNamespacedCustomObject({ group, version, namespace, plural: 'httproutes' }),
    403,
  );
  t.match(String(denied.body), `system:serviceaccount:${namespace}:nobody`);

  await k.kubectl(['create', 'role', 'route-reader', `--namespace=${namespace}`, '--verb=list', '--resource=httproutes.gateway.networking.k8s.io']);
  await k.kubectl(['create', 'rolebinding', 'route-reader', `--namespace=${namespace}`, '--role=route-reader', `--serviceaccount=${namespace}:nobody`]);
  const list = (await poll(
    () => asNobody.listNamespacedCustomObject({ group, version, namespace, plural: 'httproutes' }),
    { what: 'the RoleBinding to take effect', timeoutMs: 10_000 },
  )) as { items: unknown[] };
  t.same(list.items, [], 'allowed once bound');
});

function clientWithToken(k: KubeHarness, token: string): CustomObjectsApi {
  const cluster = k.kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('kubeconfig has no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token' }],
    currentContext: 'token',
  });
  return config.makeApiClient(CustomObjectsApi);
}
