// Leader election and dataplane provisioning with the operator as real processes against the
// harness's kube-apiserver (with kube-controller-manager, so Deployments get ReplicaSets and
// owner references are garbage-collected).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { repoRoot } from '../harness/paths.ts';
import { freePort, kube, redisClient, testNamespace } from '../harness/index.ts';
import { apply, gatewayYaml, operatorSetup, published, routeYaml, serviceYaml, startOperator, until, type OperatorProcess } from './operator-helpers.ts';

interface Lease {
  spec: { holderIdentity?: string | null; leaseTransitions?: number };
}

t.test('a standby takes over within seconds of the leader dying', async (t) => {
  const k = await kube();
  const r = await redisClient(t);
  const ns = await testNamespace(t, 'op-leader');
  const setup = await operatorSetup(t, ns);
  const operators = [startOperator(t, setup, 'op-a'), startOperator(t, setup, 'op-b')];
  const holder = async (): Promise<string | undefined> => {
    try {
      const lease = (await k.customObjects.getNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', namespace: ns, plural: 'leases', name: setup.leaseName })) as Lease;
      return lease.spec.holderIdentity ?? undefined;
    } catch {
      return undefined;
    }
  };
  await until('a leader', async () => (await holder()) !== undefined);
  const leaderName = await holder();
  const leader = operators.find((operator) => operator.name === leaderName) as OperatorProcess;
  const standby = operators.find((operator) => operator.name !== leaderName) as OperatorProcess;
  const port = await freePort();
  await apply(k, [gatewayYaml(ns, setup.className, 'edge', [port]), serviceYaml(ns, 'svc'), routeYaml(ns, 'r', 'edge', ['one.example.com'], { name: 'svc' })].join('---\n'));
  await until('the config from the leader', async () => JSON.stringify((await published(r, ns, 'edge'))?.config).includes('one.example.com'));

  await leader.stop('SIGKILL');
  const killedAt = Date.now();
  await apply(k, routeYaml(ns, 'r', 'edge', ['two.example.com'], { name: 'svc' }));
  await until('the standby to publish the change', async () => JSON.stringify((await published(r, ns, 'edge'))?.config).includes('two.example.com'), 15_000);
  const tookMs = Date.now() - killedAt;
  t.equal(await holder(), standby.name, 'the standby holds the Lease');
  t.ok(tookMs < 10_000, `took over and published within ${tookMs} ms`);

  // A graceful stop releases the Lease: a new candidate leads at once.
  const third = startOperator(t, setup, 'op-c');
  await until('the third operator to campaign', () => third.output().includes('operator started'), 30_000);
  await standby.stop('SIGTERM');
  const afterStop = await holder();
  t.ok(afterStop === undefined || afterStop === third.name, `the stopped leader released the Lease (holder now: ${String(afterStop)})`);
  await until('the third operator to lead', async () => (await holder()) === third.name, 15_000);
  t.pass('handover after a graceful stop');
});

t.test('provisioned ServiceAccount, Deployment and Service; kubectl scale is left alone', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-infra');
  const setup = await operatorSetup(t, ns);
  const metricsPort = await freePort();
  const collector = `http://127.0.0.1:${await freePort()}`;
  startOperator(t, setup, 'op-infra', {
    WEIR_DATAPLANE_IMAGE: 'weir/dataplane:test', WEIR_PROVISION_RESYNC_MS: '2000', WEIR_METRICS_HOST: '127.0.0.1', WEIR_METRICS_PORT: String(metricsPort),
    // Nothing listens there: tracing must not get in the way.
    OTEL_EXPORTER_OTLP_ENDPOINT: collector, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5', OTEL_SERVICE_NAME: 'not-passed-on',
  });
  await apply(k, `apiVersion: gateway.weir.dev/v1alpha1
kind: WeirParameters
metadata: { name: big, namespace: ${ns} }
spec:
  replicas: 2
  image: weir/dataplane:custom
  resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 256Mi } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  infrastructure:
    labels: { team: shop }
    annotations: { example.com/owner: shop-team }
    parametersRef: { group: gateway.weir.dev, kind: WeirParameters, name: big }
  listeners:
    - { name: http, protocol: HTTP, port: 80 }
`);
  await until('the Deployment', async () => (await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns }).catch(() => undefined)) !== undefined);
  const deployment = await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns });
  const gateway = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name: 'edge' })) as { metadata: { uid: string } };
  t.equal(deployment.spec?.replicas, 2, 'replicas from WeirParameters at creation');
  t.same(deployment.metadata?.ownerReferences?.map((ref) => [ref.kind, ref.name, ref.uid, ref.controller]), [['Gateway', 'edge', gateway.metadata.uid, true]]);
  t.equal(deployment.metadata?.labels?.team, 'shop', 'infrastructure labels propagated');
  t.equal(deployment.spec?.template.metadata?.labels?.team, 'shop');
  t.equal(deployment.spec?.template.metadata?.annotations?.['example.com/owner'], 'shop-team', 'infrastructure annotations propagated');
  const container = deployment.spec?.template.spec?.containers[0];
  t.equal(container?.image, 'weir/dataplane:custom');
  t.same(container?.resources?.requests, { cpu: '100m', memory: '64Mi' });
  const env = new Map(container?.env?.map((entry) => [entry.name, entry]));
  t.equal(env.get('WEIR_GATEWAY')?.value, `${ns}/edge`);
  t.equal(env.get('REDIS_URL')?.value, setup.redisUrl);
  t.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'POD_NAME from the downward API');
  t.equal(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value, collector, 'the OTLP endpoint is passed on');
  t.equal(env.get('OTEL_TRACES_SAMPLER')?.value, 'parentbased_traceidratio', 'and the sampler');
  t.equal(env.get('OTEL_TRACES_SAMPLER_ARG')?.value, '0.5');
  t.notOk(env.has('OTEL_SERVICE_NAME'), 'the service name stays the dataplane\'s own');
  const podAnnotations = deployment.spec?.template.metadata?.annotations ?? {};
  t.same([podAnnotations['prometheus.io/scrape'], podAnnotations['prometheus.io/port'], podAnnotations['prometheus.io/path']], ['true', '9090', '/metrics'], 'scrape annotations for a stock Prometheus');
  const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.match(scraped, /^weir_operator_leader 1$/m, 'the operator serves its metrics');
  t.match(scraped, /^weir_operator_reconciles_total\{result="ok"\} [1-9]/m);
  t.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
  t.equal(container?.readinessProbe?.httpGet?.path, '/readyz');
  t.ok((deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 0) >= 30);
  t.equal(deployment.spec?.template.spec?.serviceAccountName, 'weir-edge');
  await k.core.readNamespacedServiceAccount({ name: 'weir-edge', namespace: ns });

  const service = await k.core.readNamespacedService({ name: 'weir-edge', namespace: ns });
  t.equal(service.spec?.type, 'LoadBalancer');
  t.same(service.spec?.ports?.map((port) => port.port), [80]);
  t.equal(service.metadata?.labels?.team, 'shop');
  await until('status.addresses from the Service', async () => {
    const gw = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name: 'edge' })) as { status?: { addresses?: { value: string }[] } };
    return gw.status?.addresses?.[0]?.value === service.spec?.clusterIP;
  });

  // The user scales; a new listener changes the Service only (no rollout of the pods), and a
  // later infrastructure change updates the Deployment but not replicas.
  const scaled = await k.kubectl(['scale', 'deployment', 'weir-edge', `--namespace=${ns}`, '--replicas=5']);
  t.equal(scaled.exitCode, 0, scaled.stderr);
  const gatewayWith = (team: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  infrastructure:
    labels: { team: ${team} }
    annotations: { example.com/owner: shop-team }
    parametersRef: { group: gateway.weir.dev, kind: WeirParameters, name: big }
  listeners:
    - { name: http, protocol: HTTP, port: 80 }
    - { name: alt, protocol: HTTP, port: 8080 }
`;
  const beforeListener = await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns });
  await apply(k, gatewayWith('shop'));
  await until('the Service to get the new port', async () => (await k.core.readNamespacedService({ name: 'weir-edge', namespace: ns })).spec?.ports?.length === 2);
  const afterListener = await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns });
  t.same(afterListener.spec?.template.spec?.containers[0]?.ports?.map((port) => port.name), ['admin'], 'listener ports are not in the pod template');
  t.equal(afterListener.metadata?.generation, beforeListener.metadata?.generation, 'a new listener did not change the Deployment (no rollout)');
  await apply(k, gatewayWith('checkout'));
  await until('the Deployment to get the new label', async () => (await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns })).metadata?.labels?.team === 'checkout');
  const after = await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns });
  t.equal(after.spec?.replicas, 5, 'kubectl scale was not reverted');

  // Deleted behind the operator's back: restored at the next resync.
  const deleted = await k.kubectl(['delete', 'service', 'weir-edge', `--namespace=${ns}`]);
  t.equal(deleted.exitCode, 0, deleted.stderr);
  await until('the Service to be restored', async () => (await k.core.readNamespacedService({ name: 'weir-edge', namespace: ns }).catch(() => undefined)) !== undefined, 15_000);
});

t.test('labels and annotations removed from spec.infrastructure are removed from the provisioned objects; keys set by others stay', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-infra-keys');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-infra-keys', { WEIR_DATAPLANE_IMAGE: 'weir/dataplane:test', WEIR_PROVISION_RESYNC_MS: '2000' });
  const gatewayWith = (infrastructure: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: keys, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  infrastructure: ${infrastructure}
  listeners:
    - { name: http, protocol: HTTP, port: 80 }
`;
  await apply(k, gatewayWith('{ labels: { team: shop, tier: edge }, annotations: { example.com/owner: shop-team, example.com/cost: c1 } }'));
  const read = async (): Promise<{ kind: string; labels: Record<string, string>; annotations: Record<string, string> }[]> => {
    const deployment = await k.apps.readNamespacedDeployment({ name: 'weir-keys', namespace: ns });
    const service = await k.core.readNamespacedService({ name: 'weir-keys', namespace: ns });
    const account = await k.core.readNamespacedServiceAccount({ name: 'weir-keys', namespace: ns });
    return [
      { kind: 'Deployment', labels: deployment.metadata?.labels ?? {}, annotations: deployment.metadata?.annotations ?? {} },
      { kind: 'pod template', labels: deployment.spec?.template.metadata?.labels ?? {}, annotations: deployment.spec?.template.metadata?.annotations ?? {} },
      { kind: 'Service', labels: service.metadata?.labels ?? {}, annotations: service.metadata?.annotations ?? {} },
      { kind: 'ServiceAccount', labels: account.metadata?.labels ?? {}, annotations: account.metadata?.annotations ?? {} },
    ];
  };
  await until('the objects with both labels', async () => (await read().catch(() => [])).every((object) => object.labels.tier === 'edge') && (await read()).length === 4);

  // Someone else labels and annotates the objects.
  for (const kind of ['deployment', 'service', 'serviceaccount']) {
    const labelled = await k.kubectl(['label', kind, 'weir-keys', `--namespace=${ns}`, 'other.example.com/keep=yes']);
    t.equal(labelled.exitCode, 0, labelled.stderr);
    const annotated = await k.kubectl(['annotate', kind, 'weir-keys', `--namespace=${ns}`, 'other.example.com/note=keep']);
    t.equal(annotated.exitCode, 0, annotated.stderr);
  }

  await apply(k, gatewayWith('{ labels: { team: shop }, annotations: { example.com/owner: shop-team } }'));
  await until('tier and example.com/cost to be removed everywhere', async () => (await read()).every((object) => object.labels.tier === undefined && object.annotations['example.com/cost'] === undefined), 20_000);
  for (const object of await read()) {
    t.equal(object.labels.team, 'shop', `${object.kind}: the label still listed stays`);
    t.equal(object.annotations['example.com/owner'], 'shop-team', `${object.kind}: the annotation still listed stays`);
    if (object.kind === 'pod template') continue;
    t.equal(object.labels['other.example.com/keep'], 'yes', `${object.kind}: a label Weir did not set stays`);
    t.equal(object.annotations['other.example.com/note'], 'keep', `${object.kind}: an annotation Weir did not set stays`);
    t.equal(object.labels['app.kubernetes.io/managed-by'], 'weir');
  }

  // Everything removed from the Gateway, including the whole infrastructure block.
  await apply(k, gatewayWith('{}'));
  await until('team and example.com/owner to be removed', async () => (await read()).every((object) => object.labels.team === undefined && object.annotations['example.com/owner'] === undefined), 20_000);
  const deployment = await k.apps.readNamespacedDeployment({ name: 'weir-keys', namespace: ns });
  t.same(deployment.spec?.selector.matchLabels, deployment.spec?.template.metadata?.labels, 'the pod template keeps exactly the selector labels');
  t.equal(deployment.metadata?.labels?.['other.example.com/keep'], 'yes');
});

t.test('a Gateway with the longest allowed name (253 characters, with dots) is provisioned and reconciled', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-longname');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-longname', { WEIR_DATAPLANE_IMAGE: 'weir/dataplane:test' });
  // As the v1.7.0 conformance test gateway-name-maximum-length, plus a dot (Gateway names are DNS subdomains).
  const prefix = 'gateway-name-maximum-length.';
  const name = prefix + 'a'.repeat(253 - prefix.length);
  const sibling = `${prefix}b`; // a different Gateway whose cut name would collide without the hash
  await apply(k, [name, sibling].map((gatewayName) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${gatewayName}, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`).join('---\n'));
  const deploymentsOf = async (): Promise<{ name: string; gateway: string }[]> => {
    const list = await k.apps.listNamespacedDeployment({ namespace: ns });
    return list.items.map((item) => ({ name: item.metadata?.name ?? '', gateway: item.metadata?.ownerReferences?.[0]?.name ?? '' }));
  };
  await until('both Deployments', async () => (await deploymentsOf()).length === 2);
  const deployments = await deploymentsOf();
  const long = deployments.find((entry) => entry.gateway === name);
  t.ok(long !== undefined, 'the long-named Gateway owns a Deployment');
  t.ok((long?.name.length ?? 64) <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(long?.name ?? ''), `a valid DNS label: ${long?.name ?? ''}`);
  t.not(long?.name, deployments.find((entry) => entry.gateway === sibling)?.name, 'distinct names for distinct Gateways');
  const deployment = await k.apps.readNamespacedDeployment({ name: long?.name ?? '', namespace: ns });
  const label = deployment.metadata?.labels?.['gateway.networking.k8s.io/gateway-name'] ?? '';
  t.ok(label.length <= 63 && label.startsWith('gateway-name-maximum-length.'), `gateway-name label valid: ${label}`);
  await k.core.readNamespacedService({ name: long?.name ?? '', namespace: ns });
  await until('the Gateway conditions at its generation', async () => {
    const gw = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name })) as {
      metadata: { generation: number };
      status?: { conditions?: { type: string; observedGeneration?: number }[] };
    };
    const conditions = gw.status?.conditions ?? [];
    return conditions.some((c) => c.type === 'Accepted') && conditions.every((c) => c.observedGeneration === gw.metadata.generation);
  });
  t.pass('reconciled');
});

t.test('addresses with routability Cluster: a ClusterIP Service and its ClusterIP in status, reported as Cluster', async (t) => {
  const k = await kube();
  const ns = await testNamespace(t, 'op-routability');
  const setup = await operatorSetup(t, ns);
  startOperator(t, setup, 'op-routability', { WEIR_DATAPLANE_IMAGE: 'weir/dataplane:test' });
  await apply(k, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: internal, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  addresses: [{ type: IPAddress, routability: Cluster }]
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`);
  await until('the Service', async () => (await k.core.readNamespacedService({ name: 'weir-internal', namespace: ns }).catch(() => undefined)) !== undefined);
  const service = await k.core.readNamespacedService({ name: 'weir-internal', namespace: ns });
  t.equal(service.spec?.type, 'ClusterIP', 'a cluster-internal Service, whatever the default type');
  type Addressed = { status?: { addresses?: { type: string; value: string; routability?: string }[] } };
  await until('status.addresses with the ClusterIP', async () => {
    const gw = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name: 'internal' })) as Addressed;
    return gw.status?.addresses?.[0]?.value === service.spec?.clusterIP;
  });
  const gw = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name: 'internal' })) as Addressed;
  t.same(gw.status?.addresses, [{ type: 'IPAddress', value: service.spec?.clusterIP, routability: 'Cluster' }]);
});

t.test('the operator works with exactly the RBAC in config/rbac (no forbidden request)', async (t) => {
  const k = await kube();
  const r = await redisClient(t);
  const ns = await testNamespace(t, 'op-rbac');
  for (const file of ['config/namespace.yaml', 'config/rbac/operator-rbac.yaml']) {
    const applied = await k.kubectl(['apply', '-f', join(repoRoot, file)]);
    t.equal(applied.exitCode, 0, applied.stderr);
  }
  // Bindings take a moment to reach the authorizer's cache: wait until they do.
  const as = '--as=system:serviceaccount:weir-system:weir-operator';
  await until('the RBAC to take effect', async () =>
    (await k.kubectl(['auth', 'can-i', 'update', 'httproutes.gateway.networking.k8s.io', '--subresource=status', as, '--all-namespaces'])).exitCode === 0 &&
    (await k.kubectl(['auth', 'can-i', 'update', 'leases.coordination.k8s.io/weir-operator', as, '--namespace=weir-system'])).exitCode === 0 &&
    (await k.kubectl(['auth', 'can-i', 'create', 'deployments.apps', as, '--all-namespaces'])).exitCode === 0);
  const token = await k.kubectl(['create', 'token', 'weir-operator', '--namespace=weir-system', '--duration=1h']);
  t.equal(token.exitCode, 0, token.stderr);
  const cluster = k.kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster in the admin kubeconfig');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'weir-operator', token: token.stdout.trim() }],
    contexts: [{ name: 'weir-operator', cluster: cluster.name, user: 'weir-operator' }],
    currentContext: 'weir-operator',
  });
  const dir = mkdtempSync(join(tmpdir(), 'weir-rbac-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, config.exportConfig());

  const setup = { ...(await operatorSetup(t, 'weir-system')), leaseName: 'weir-operator', kubeconfigPath };
  const operator = startOperator(t, setup, 'op-rbac', { WEIR_DATAPLANE_IMAGE: 'weir/dataplane:test' });
  await apply(k, `apiVersion: gateway.weir.dev/v1alpha1
kind: WeirParameters
metadata: { name: p, namespace: ${ns} }
spec: { replicas: 1 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${ns} }
spec:
  gatewayClassName: ${setup.className}
  infrastructure: { parametersRef: { group: gateway.weir.dev, kind: WeirParameters, name: p } }
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
---
${serviceYaml(ns, 'svc')}---
${routeYaml(ns, 'r', 'edge', ['rbac.example.com'], { name: 'svc' })}`);
  await until('the config published', async () => JSON.stringify((await published(r, ns, 'edge'))?.config).includes('rbac.example.com'));
  await until('route status written', async () => {
    const route = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', name: 'r' })) as { status?: { parents?: unknown[] } };
    return (route.status?.parents?.length ?? 0) > 0;
  });
  await until('the dataplane Deployment and Service', async () =>
    (await k.apps.readNamespacedDeployment({ name: 'weir-edge', namespace: ns }).catch(() => undefined)) !== undefined &&
    (await k.core.readNamespacedService({ name: 'weir-edge', namespace: ns }).catch(() => undefined)) !== undefined);
  await until('the Gateway address', async () => {
    const gw = (await k.customObjects.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', name: 'edge' })) as { status?: { addresses?: unknown[] } };
    return (gw.status?.addresses?.length ?? 0) > 0;
  });
  const forbidden = operator.output().split('\n').filter((line) => /forbidden|Forbidden|\b403\b/.test(line));
  t.same(forbidden, [], 'no request was forbidden');
  await operator.stop();
});
