// One trace per configuration version, from the watch event to every dataplane pod and back to
// Programmed: the operator (in-process, against the harness's kube-apiserver and Redis) and two
// dataplane pods, each with its own tracer, as separate processes would have. The trace context
// travels only inside the envelope in Redis. Standalone mode makes the same shape.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { decodeEnvelope } from '../../api-types/config-codec.ts';
import { configKey } from '../../api-types/redis-contract.ts';
import { Tracing } from '../../dataplane/telemetry/tracing.ts';
import { KubernetesOperator } from '../../operator/kubernetes-operator.ts';
import { operatorKubeClients } from '../../operator/provider/kubernetes/clients.ts';
import { OperatorMetrics } from '../../operator/telemetry/metrics.ts';
import { freePort, kube, poll, redis, redisClient, testNamespace } from '../harness/index.ts';
import { checkConfigTrace, findConfigTrace } from './config-trace-shape.ts';
import { startDataplane } from './dataplane-fixtures.ts';
import { apply, condition, gatewayConditions, gatewayYaml, operatorSetup, routeYaml, serviceYaml, until } from './operator-helpers.ts';
import { GATEWAY_CLASS_YAML, echoServiceYaml, startScenario } from './standalone-fixtures.ts';

t.test('a route change is one trace: operator stages, every pod under publish, then Programmed', async (t) => {
  const k = await kube();
  const { url } = await redis();
  const r = await redisClient(t);
  const ns = await testNamespace(t, 'trace');
  const setup = await operatorSetup(t, ns);
  const operatorSpans = new InMemorySpanExporter();
  const operatorTracing = new Tracing({ serviceName: 'weir-operator', exporter: operatorSpans });
  const metrics = new OperatorMetrics({ processMetrics: false });
  const operator = new KubernetesOperator({
    redisUrl: setup.redisUrl,
    log: pino({ level: 'silent' }),
    clients: operatorKubeClients(k.kubeConfig),
    controllerName: setup.controllerName,
    identity: 'trace-operator',
    leaseNamespace: ns,
    leaseName: setup.leaseName,
    leaseDurationMs: 3000,
    metrics,
    tracing: operatorTracing,
  });
  t.teardown(() => operator.stop());
  await operator.start();
  await until('leadership', async () => (await metrics.leader.get()).values[0]?.value === 1);

  const gateway = { namespace: ns, name: 'edge' };
  const pods = ['pod-a', 'pod-b'];
  const podSpans = new InMemorySpanExporter();
  const port = await freePort();
  for (const [i, podName] of pods.entries()) {
    // Two pods serve the same port, as two pods would, on two loopback addresses.
    await startDataplane(t, url, gateway, { podName, listenHost: `127.0.0.${i + 1}`, tracing: new Tracing({ serviceName: 'weir-dataplane', attributes: { 'k8s.pod.name': podName }, exporter: podSpans }) });
  }
  await apply(k, [gatewayYaml(ns, setup.className, 'edge', [port]), serviceYaml(ns, 'shop')].join('---\n'));
  await until('Gateway Programmed', async () => condition(await gatewayConditions(k, ns, 'edge'), 'Programmed')?.status === 'True');

  await apply(k, routeYaml(ns, 'shop', 'edge', ['shop.example.com'], { name: 'shop' }));
  const expected = { gateway: `${ns}/edge`, pods, route: `HTTPRoute/${ns}/shop` };
  const allSpans = (): ReturnType<InMemorySpanExporter['getFinishedSpans']> => [...operatorSpans.getFinishedSpans(), ...podSpans.getFinishedSpans()];
  const root = await poll(() => findConfigTrace(allSpans(), expected), { what: 'the trace of the route change, applied by both pods and Programmed', timeoutMs: 30_000 });
  checkConfigTrace(t, allSpans(), root, expected);

  const raw = await r.get(configKey(gateway));
  const envelope = raw === null ? undefined : decodeEnvelope(raw);
  t.ok(envelope?.ok && envelope.value.traceparent?.startsWith(`00-${root.spanContext().traceId}-`), 'the envelope in Redis carries the trace context');
  t.equal(root.attributes['weir.config.version'], envelope?.ok ? envelope.value.version : -1, 'the trace is of the version in Redis');
  t.ok((root.attributes['weir.trigger.kinds'] as string[]).includes('HTTPRoute'), 'the watch event that triggered it');

  // The operator's metrics moved with it.
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
    const sample = metric?.values.find((entry) => Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted) && (entry as { metricName?: string }).metricName !== `${name}_bucket`);
    return sample?.value ?? Number.NaN;
  };
  t.ok(await value('weir_operator_reconciles_total', { result: 'ok' }) >= 2, 'reconciles counted');
  t.equal(await value('weir_operator_config_version', { gateway: `${ns}/edge` }), root.attributes['weir.config.version'], 'config version per Gateway');
  t.ok(await value('weir_operator_status_writes_total', { result: 'ok' }) >= 2, 'status writes counted');
  const exposition = await metrics.registry.metrics();
  for (const name of ['weir_operator_translate_duration_seconds_count', 'weir_operator_publish_duration_seconds_count', 'weir_operator_debounce_wait_seconds_count', 'weir_operator_dataplane_ack_lag_seconds_count', 'weir_operator_reconcile_duration_seconds_count']) {
    const count = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition)?.[1]);
    t.ok(count >= 1, `${name} observed`);
  }
  t.match(exposition, /^weir_operator_leader 1$/m, 'leader state');
  t.match(exposition, /^weir_operator_queue_depth 0$/m, 'nothing left queued');
});

t.test('standalone mode makes the same trace', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracing = new Tracing({ serviceName: 'weir-standalone', exporter });
  const scenario = await startScenario(t, `${GATEWAY_CLASS_YAML}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  gatewayClassName: weir
  listeners: [{ name: http, protocol: HTTP, port: {{PORT}} }]
---
${echoServiceYaml('default', 'shop')}`, { tracing });
  // The change: a route file appears in the folder.
  writeFileSync(join(scenario.dir, 'route.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: shop, port: 8080 }] }]
`);
  const expected = { gateway: 'default/edge', pods: ['standalone'], route: 'HTTPRoute/default/shop' };
  const root = await poll(() => findConfigTrace(exporter.getFinishedSpans(), expected), { what: 'the standalone trace', timeoutMs: 20_000 });
  checkConfigTrace(t, exporter.getFinishedSpans(), root, expected);
});
