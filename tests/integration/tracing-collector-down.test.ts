// A collector that never answers, or is not there at all, never slows or fails traffic or
// config changes: spans are exported in the background from a bounded queue, what does not fit
// or fails is counted in weir_tracing_spans_dropped_total, and shutdown does not wait on it.
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Tracing } from '../../dataplane/telemetry/tracing.ts';
import { freePort, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';
import { GATEWAY_CLASS_YAML, echoServiceYaml, send, startScenario } from './standalone-fixtures.ts';
import { until } from './operator-helpers.ts';

/** Accepts connections and never says a word. */
async function blackhole(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => { sockets.add(socket); socket.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close(); });
  return (server.address() as { port: number }).port;
}

function tracingTo(port: number): Tracing {
  return new Tracing({
    serviceName: 'weir-dataplane',
    // The exporter would wait 10 s for an answer: longer than any request below may take.
    exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMillis: 10_000 }),
    batch: { maxQueueSize: 16, maxExportBatchSize: 8, scheduledDelayMillis: 20, exportTimeoutMillis: 10_000 },
  });
}

async function dropped(metrics: { registry: { getSingleMetricAsString(name: string): Promise<string> } }, reason: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('weir_tracing_spans_dropped_total');
  return Number(new RegExp(`reason="${reason}"} (\\S+)`).exec(text)?.[1] ?? 0);
}

for (const collector of ['silent', 'missing'] as const) {
  t.test(`a ${collector} collector: every request answered promptly, spans dropped and counted`, async (t) => {
    const { url } = await redis();
    const client = await redisClient(t);
    const echo = await startEcho({ pod: 'backend', log: () => undefined });
    t.teardown(() => echo.close());
    const collectorPort = collector === 'silent' ? await blackhole(t) : await freePort();
    const gateway = newGateway();
    const port = await freePort();
    const dataplane = await startDataplane(t, url, gateway, { tracing: tracingTo(collectorPort) });
    await publish(client, gateway, published(dataplaneConfig(gateway, {
      listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
      actions: [action('a', 'backend')],
      clusters: [echoCluster('backend', [echo])],
    }), 1));
    await waitForVersion(dataplane, 1);

    const get = httpClient(t);
    let slowest = 0;
    let failed = 0;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const started = performance.now();
        const answer = await get(port, '/');
        slowest = Math.max(slowest, performance.now() - started);
        if (answer.status !== 200) failed++;
      }));
    }
    t.equal(failed, 0, '200 requests, all answered 200');
    t.ok(slowest < 2_000, `no request waited for the collector (slowest ${Math.round(slowest)} ms)`);
    if (collector === 'silent') {
      // 400 spans into a queue of 16 while one export hangs.
      t.ok(await dropped(dataplane.metrics, 'queue_full') > 0, 'spans that found the queue full are counted');
    } else {
      await until('failed exports counted', async () => (await dropped(dataplane.metrics, 'export_failed')) > 0, 20_000);
      t.pass('spans the collector refused are counted');
    }
    const stopping = performance.now();
    await dataplane.stop();
    t.ok(performance.now() - stopping < 5_000, 'shutdown does not wait on the collector');
  });
}

t.test('config changes go through with a silent collector', async (t) => {
  const scenario = await startScenario(t, `${GATEWAY_CLASS_YAML}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  gatewayClassName: weir
  listeners: [{ name: http, protocol: HTTP, port: {{PORT}} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: shop, port: 8080 }] }]
---
${echoServiceYaml('default', 'shop')}`, { tracing: tracingTo(await blackhole(t)) });
  await until('the route served', async () => (await send(scenario.gatewayPort, 'any.example.com', '/')).service === 'shop', 20_000);
  t.pass('configured and serving while every export hangs');
});
