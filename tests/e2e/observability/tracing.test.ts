// Traces in Jaeger, as a user finds them: `kubectl apply -k config/observability/` installs
// Jaeger and points the operator (and through it every dataplane) at it. Then an HTTPRoute is
// applied to a Gateway with two dataplane pods and requests are sent. Jaeger's HTTP query API
// (through `kubectl port-forward`, as the README tells users) must hold:
//   - the config-change trace found by the route's name: the operator's stages, one
//     `config apply` per dataplane pod under `publish` (receive, validate, compile, swap, ack
//     under it), and Programmed written, all in one trace;
//   - the request trace: a server span and a client span under it, the backend having seen
//     that client span as its parent in `traceparent`;
// and the operator's metrics moved with the change.
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { repoRoot } from '../../harness/paths.ts';
import { poll } from '../../harness/wait.ts';
import { apply, echoBackends, kubectl, kubectlJson, portForward, programmedAddress, testNamespace, useCluster, waitForDeployment } from '../cluster.ts';

useCluster(t);
const namespace = 'e2e-tracing';
const gateway = 'traced';
const host = 'traced.e2e.test';
const route = `HTTPRoute/${namespace}/shop`;

interface JaegerTag { readonly key: string; readonly value: unknown }
interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { readonly refType: string; readonly spanID: string; readonly traceID: string }[];
  readonly tags: readonly JaegerTag[];
  readonly processID: string;
}
interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string; readonly tags: readonly JaegerTag[] }>>;
}

const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((entry) => entry.key === key)?.value;
const parentOf = (span: JaegerSpan): string | undefined => span.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID;
const childrenOf = (trace: JaegerTrace, parent: JaegerSpan): JaegerSpan[] => trace.spans.filter((span) => parentOf(span) === parent.spanID);
const serviceOf = (trace: JaegerTrace, span: JaegerSpan): string | undefined => trace.processes[span.processID]?.serviceName;

async function jaeger<T>(port: number, path: string): Promise<T | undefined> {
  const response = await request(`http://127.0.0.1:${port}${path}`);
  if (response.statusCode !== 200) {
    await response.body.dump();
    return undefined;
  }
  return ((await response.body.json()) as { data: T }).data;
}

/** The operator's metrics as `name{labels}` → value, from the leader pod. */
async function leaderMetrics(t: Parameters<typeof portForward>[0]): Promise<Map<string, number>> {
  const lease = await kubectlJson<{ spec: { holderIdentity: string } }>(['-n', 'weir-system', 'get', 'lease', 'weir-operator']);
  const port = await portForward(t, 'weir-system', `pod/${lease.spec.holderIdentity}`, 9090);
  const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
  const metrics = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match !== null && !line.startsWith('#')) metrics.set(match[1] as string, Number(match[2]));
  }
  return metrics;
}

t.test('config-change and request traces in Jaeger; operator metrics move', async (t) => {
  // Install the observability component and restart the operator so it reads weir-telemetry.
  await kubectl(['apply', '-k', join(repoRoot, 'config/observability')]);
  await waitForDeployment('weir-system', 'weir-jaeger');
  await kubectl(['-n', 'weir-system', 'rollout', 'restart', 'deployment/weir-operator']);
  await waitForDeployment('weir-system', 'weir-operator');
  const queryPort = await portForward(t, 'weir-system', 'svc/weir-jaeger', 16686);

  await testNamespace(t, namespace);
  await apply(echoBackends(namespace, ['shop']));
  await apply(`
apiVersion: gateway.weir.dev/v1alpha1
kind: WeirParameters
metadata: { name: two-pods, namespace: ${namespace} }
spec: { replicas: 2 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${gateway}, namespace: ${namespace} }
spec:
  gatewayClassName: weir
  infrastructure:
    parametersRef: { group: gateway.weir.dev, kind: WeirParameters, name: two-pods }
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`);
  await waitForDeployment(namespace, 'shop');
  const address = await programmedAddress(namespace, gateway);
  await waitForDeployment(namespace, `weir-${gateway}`);
  const pods = (await kubectl(['-n', namespace, 'get', 'pods', '-l', `gateway.networking.k8s.io/gateway-name=${gateway}`, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter((name) => name !== '');
  t.equal(pods.length, 2, 'two dataplane pods serve the Gateway');
  const before = await leaderMetrics(t);

  // The change: a route appears.
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: ${namespace} }
spec:
  parentRefs: [{ name: ${gateway} }]
  hostnames: ["${host}"]
  rules: [{ backendRefs: [{ name: shop, port: 8080 }] }]
`);
  const echoed = await poll(async () => {
    const response = await request(`http://${address}/`, { headers: { host } });
    const body = await response.body.text();
    return response.statusCode === 200 ? (JSON.parse(body) as { headers: Record<string, string[] | undefined> }) : undefined;
  }, { what: 'the route to serve', timeoutMs: 60_000, intervalMs: 200 });

  // 1. The config-change trace, found the way a user finds it: by the route's name.
  const tags = encodeURIComponent(JSON.stringify({ 'weir.route': route, 'weir.route.change': 'added' }));
  const change = await poll(async () => {
    const traces = await jaeger<JaegerTrace[]>(queryPort, `/api/traces?service=weir-operator&tags=${tags}&lookback=1h&limit=20`);
    // Complete once Programmed was written and both pods acked (spans arrive in batches).
    return traces?.find((trace) => trace.spans.some((span) => span.operationName === 'programmed')
      && pods.every((pod) => trace.spans.some((span) => span.operationName === 'ack' && trace.spans.some((apply) => apply.spanID === parentOf(span) && tag(apply, 'k8s.pod.name') === pod))));
  }, { what: `the config-change trace of ${route} in Jaeger, applied by ${pods.join(' and ')}`, timeoutMs: 120_000, intervalMs: 2_000 });
  const root = change.spans.find((span) => span.operationName === 'config change' && parentOf(span) === undefined);
  t.ok(root, 'one root: config change');
  if (root === undefined) return;
  t.equal(serviceOf(change, root), 'weir-operator');
  t.equal(tag(root, 'weir.gateway'), `${namespace}/${gateway}`);
  t.ok(Number(tag(root, 'weir.config.version')) >= 1 && Number(tag(root, 'weir.config.bytes')) > 0 && Number(tag(root, 'weir.config.routes')) >= 1);
  const stages = childrenOf(change, root).map((span) => span.operationName);
  for (const stage of ['debounce', 'translate', 'route', 'publish', 'status write', 'programmed']) t.ok(stages.includes(stage), `operator stage ${stage}`);
  const publish = childrenOf(change, root).find((span) => span.operationName === 'publish');
  const applies = publish === undefined ? [] : childrenOf(change, publish).filter((span) => span.operationName === 'config apply');
  t.same(applies.map((span) => tag(span, 'k8s.pod.name')).sort(), [...pods].sort(), 'every dataplane pod applied it, as a child of publish');
  for (const span of applies) {
    t.equal(serviceOf(change, span), 'weir-dataplane', 'from the dataplane process');
    t.equal(tag(span, 'weir.config.version'), tag(root, 'weir.config.version'), 'the same version');
    t.same(childrenOf(change, span).map((stage) => stage.operationName).sort(), ['ack', 'compile', 'receive', 'swap', 'validate'], `${String(tag(span, 'k8s.pod.name'))}: receive, validate, compile, swap, ack`);
  }

  // 2. The request trace: server span, client span under it, the backend saw the client span.
  const traceparent = echoed.headers.Traceparent?.[0] ?? '';
  const [, traceId, backendParent] = traceparent.split('-');
  t.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the backend got a sampled traceparent');
  const requestTrace = await poll(async () => {
    const found = await jaeger<JaegerTrace[]>(queryPort, `/api/traces/${traceId ?? ''}`);
    const trace = found?.[0];
    return trace !== undefined && trace.spans.length >= 2 ? trace : undefined;
  }, { what: `request trace ${traceId ?? ''} in Jaeger`, timeoutMs: 60_000, intervalMs: 2_000 });
  const server = requestTrace.spans.find((span) => tag(span, 'span.kind') === 'server');
  const client = requestTrace.spans.find((span) => tag(span, 'span.kind') === 'client');
  t.equal(server?.operationName, `GET ${route}`);
  t.equal(tag(server as JaegerSpan, 'weir.route'), route);
  t.equal(tag(server as JaegerSpan, 'http.response.status_code'), 200);
  t.equal(parentOf(client as JaegerSpan), server?.spanID, 'the client span is a child of the server span');
  t.equal(client?.spanID, backendParent, 'the backend saw the client span as its parent: the same trace');

  // 3. The operator's metrics moved with the change.
  const after = await leaderMetrics(t);
  const moved = (name: string): boolean => (after.get(name) ?? 0) > (before.get(name) ?? 0);
  t.ok(moved('weir_operator_reconciles_total{result="ok"}'), 'reconciles counted');
  t.ok(moved('weir_operator_translate_duration_seconds_count'), 'translate timed');
  t.ok(moved('weir_operator_publish_duration_seconds_count'), 'publish timed');
  t.ok(moved('weir_operator_status_writes_total{result="ok"}'), 'status writes counted');
  t.ok(moved('weir_operator_dataplane_ack_lag_seconds_count'), 'ack lag observed');
  // Later versions (an EndpointSlice change) may have followed the route's.
  t.ok((after.get(`weir_operator_config_version{gateway="${namespace}/${gateway}"}`) ?? 0) >= Number(tag(root, 'weir.config.version')), 'config version of the Gateway');
  t.equal(after.get('weir_operator_leader'), 1, 'the leader says so');
});
