/**
 * Propagation benchmark: time from an HTTPRoute create/update sent to the API server until the
 * operator has the new config in Redis (its notification received), with 1 and with 1,000
 * existing routes, over 100 changes each (alternating: create a route, update a route's
 * hostname). Runs the real control plane and redis-server from the test harness and the
 * operator in this process. The clock starts when the request is sent, so API server time is
 * included. Writes `.bench/propagation.json` {p50_ms_1, p99_ms_1, p50_ms_1000, p99_ms_1000}.
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { CONFIG_CHANNEL, configKey } from '../../api-types/redis-contract.ts';
import { KubernetesOperator } from '../../operator/kubernetes-operator.ts';
import { operatorKubeClients, type OperatorKubeClients } from '../../operator/provider/kubernetes/clients.ts';
import { startControlPlane } from '../../tests/harness/controlplane.ts';
import { startRedis } from '../../tests/harness/redis.ts';
import { printTable, writeResult, type Row } from './report.ts';
import { KubeConfig } from '@kubernetes/client-node';

const CHANGES = 100;
const GROUP = 'gateway.networking.k8s.io';
const CONTROLLER = 'weir.dev/bench-controller';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function route(namespace: string, name: string, hostname: string): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: { parentRefs: [{ name: 'edge' }], hostnames: [hostname], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
  };
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  }));
}

/** Waits for a notification of `namespace/edge` whose config contains `marker`; resolves with the receive time. */
function waitForConfig(subscriber: Redis, reader: Redis, namespace: string, marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no config with ${marker} within 30 s`)); }, 30_000);
    const onMessage = (channel: string, message: string): void => {
      if (channel !== CONFIG_CHANNEL || (JSON.parse(message) as { gateway?: string }).gateway !== `${namespace}/edge`) return;
      const at = performance.now();
      void reader.get(configKey({ namespace, name: 'edge' })).then((raw) => {
        if (raw?.includes(marker) === true) { cleanup(); resolve(at); }
      });
    };
    const cleanup = (): void => { clearTimeout(timer); subscriber.off('message', onMessage); };
    subscriber.on('message', onMessage);
  });
}

interface Sample {
  /** Request sent → notification received. */
  readonly total: number;
  /** Request sent → the watch event reached the operator's store. */
  readonly watch: number;
}

async function scenario(operator: KubernetesOperator, clients: OperatorKubeClients, redisUrl: string, existing: number): Promise<Sample[]> {
  const namespace = `bench-${existing}`;
  await clients.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await clients.customObjects.createNamespacedCustomObject({
    group: GROUP, version: 'v1', namespace, plural: 'gateways',
    body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'edge', namespace }, spec: { gatewayClassName: 'bench', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] } },
  });
  const service: Record<string, unknown> = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace }, spec: { ports: [{ port: 80 }] } };
  await clients.objects.create(service);
  const subscriber = new Redis(redisUrl);
  const reader = new Redis(redisUrl);
  await subscriber.subscribe(CONFIG_CHANNEL);
  const names = Array.from({ length: existing }, (_, i) => `r-${i}`);
  const loaded = waitForConfig(subscriber, reader, namespace, `r-${existing - 1}.bench.example.com`);
  await inParallel(names, 8, async (name) => {
    await clients.customObjects.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'httproutes', body: route(namespace, name, `${name}.bench.example.com`) });
  });
  await loaded;
  // Let route status writes for the initial load settle before measuring.
  await new Promise((resolve) => setTimeout(resolve, existing > 100 ? 8000 : 1000));
  const samples: Sample[] = [];
  let storeChangedAt = 0;
  const unsubscribe = operator.store.onChange((kind) => { if (kind === 'HTTPRoute' && storeChangedAt === 0) storeChangedAt = performance.now(); });
  for (let i = 0; i < CHANGES; i++) {
    storeChangedAt = 0;
    const marker = `change-${i}.bench.example.com`;
    const arrived = waitForConfig(subscriber, reader, namespace, marker);
    const sent = performance.now();
    if (i % 2 === 0) {
      await clients.customObjects.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'httproutes', body: route(namespace, `new-${i}`, marker) });
    } else {
      await clients.customObjects.patchNamespacedCustomObject(
        { group: GROUP, version: 'v1', namespace, plural: 'httproutes', name: 'r-0', body: [{ op: 'replace', path: '/spec/hostnames', value: [marker] }] },
      );
    }
    const total = (await arrived) - sent;
    samples.push({ total, watch: storeChangedAt === 0 ? total : storeChangedAt - sent });
  }
  unsubscribe();
  subscriber.disconnect();
  reader.disconnect();
  return samples;
}

export async function run(): Promise<void> {
  const [controlPlane, redis] = await Promise.all([startControlPlane(), startRedis()]);
  let operator: KubernetesOperator | undefined;
  try {
    process.env.KUBECONFIG = controlPlane.kubeconfigPath;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const clients = operatorKubeClients(kubeConfig);
    await clients.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weir-system' } });
    await clients.customObjects.createClusterCustomObject({
      group: GROUP, version: 'v1', plural: 'gatewayclasses',
      body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'bench' }, spec: { controllerName: CONTROLLER } },
    });
    operator = new KubernetesOperator({ redisUrl: redis.url, log: pino({ level: process.env.LOG_LEVEL ?? 'warn' }), clients, controllerName: CONTROLLER, identity: 'bench' });
    await operator.start();
    const results: Record<string, number> = {};
    const rows: Row[] = [];
    for (const existing of [1, 1000]) {
      const measured = await scenario(operator, clients, redis.url, existing);
      const samples = measured.map((sample) => sample.total).sort((a, b) => a - b);
      const watch = measured.map((sample) => sample.watch).sort((a, b) => a - b);
      const p50 = percentile(samples, 50);
      const p99 = percentile(samples, 99);
      results[`p50_ms_${existing}`] = Number(p50.toFixed(2));
      results[`p99_ms_${existing}`] = Number(p99.toFixed(2));
      results[`watch_p50_ms_${existing}`] = Number(percentile(watch, 50).toFixed(2));
      results[`watch_p99_ms_${existing}`] = Number(percentile(watch, 99).toFixed(2));
      rows.push({
        'existing routes': existing,
        changes: samples.length,
        'p50 ms': p50,
        'p99 ms': p99,
        'max ms': samples[samples.length - 1] ?? Number.NaN,
        'of which watch p50': percentile(watch, 50),
        'watch p99': percentile(watch, 99),
      });
    }
    printTable('HTTPRoute change → config in Redis (request sent → notification received)', rows);
    // The machine is often shared: record how busy it was, the numbers depend on it.
    const path = writeResult('propagation', { ...results, changes_per_scenario: CHANGES, target_p99_ms_1000: 50, load_average_1m: Number((loadavg()[0] ?? 0).toFixed(2)) });
    console.log(`wrote ${path}`);
  } finally {
    await operator?.stop();
    await Promise.allSettled([controlPlane.stop(), redis.close()]);
  }
}
