// OpenTelemetry request traces: a server span per request continuing the caller's trace, a client
// span per upstream attempt and mirror copy, W3C traceparent sent to the backend; WebSocket and TCP
// connections; the Gateway's sampling and incoming-context settings.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Cluster, DataplaneConfig } from '../../api-types/dataplane-config.ts';
import type { Dataplane } from '../../dataplane/dataplane.ts';
import { SpanKind } from '@opentelemetry/api';
import { Tracing } from '../../dataplane/telemetry/tracing.ts';
import { freePort, poll, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

t.test('spans and traceparent propagation', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'traced', log: () => undefined });
  t.teardown(() => echo.close());
  const exporter = new InMemorySpanExporter();
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway, { tracing: new Tracing({ serviceName: 'weir-test', exporter }) });
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('traced', 'traced')],
    clusters: [echoCluster('traced', [echo])],
  }), 1));
  await waitForVersion(dataplane, 1);

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const answer = await httpClient(t)(port, '/traced', { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
  t.equal(answer.status, 200);
  const spans = await poll(() => (exporter.getFinishedSpans().length >= 2 ? exporter.getFinishedSpans() : undefined), { what: 'two spans', timeoutMs: 5_000 });
  const server = spans.find((span) => span.kind === SpanKind.SERVER);
  const upstream = spans.find((span) => span.kind === SpanKind.CLIENT);
  t.ok(server && upstream);
  t.equal(server?.spanContext().traceId, traceId, 'the server span continues the caller trace');
  t.equal(server?.parentSpanContext?.spanId, callerSpan);
  t.equal(server?.name, 'GET HTTPRoute/test/traced');
  t.equal(server?.attributes['http.response.status_code'], 200);
  t.equal(upstream?.parentSpanContext?.spanId, server?.spanContext().spanId, 'the client span is a child of the server span');
  const sent = answer.echo?.headers.Traceparent?.[0] ?? '';
  t.equal(sent, `00-${traceId}-${upstream?.spanContext().spanId}-01`, 'the backend got the client span as parent');
});

/** An HTTP backend answering 503 to the first attempt of each path, 200 after; it records the traceparent of every attempt. */
async function flakyBackend(t: TestContext): Promise<{ port: number; traceparents: string[] }> {
  const seen = new Set<string>();
  const traceparents: string[] = [];
  const server = createServer((req, res) => {
    traceparents.push(String(req.headers.traceparent));
    const first = !seen.has(req.url ?? '');
    seen.add(req.url ?? '');
    res.writeHead(first ? 503 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as AddressInfo).port, traceparents };
}

function cluster(id: string, port: number, protocol: Cluster['protocol'] = 'http1'): Cluster {
  return { id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol, endpoints: [{ address: '127.0.0.1', port, ready: true }] };
}

async function tracedDataplane(t: TestContext, parts: Parameters<typeof dataplaneConfig>[1] & { tracing?: DataplaneConfig['tracing'] }): Promise<{ exporter: InMemorySpanExporter; dataplane: Dataplane; publishConfig: (version: number, tracing?: DataplaneConfig['tracing']) => Promise<void> }> {
  const { url } = await redis();
  const client = await redisClient(t);
  const exporter = new InMemorySpanExporter();
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway, { tracing: new Tracing({ serviceName: 'weir-test', exporter }) });
  const publishConfig = async (version: number, tracing = parts.tracing): Promise<void> => {
    const config = dataplaneConfig(gateway, parts);
    await publish(client, gateway, published(tracing === undefined ? config : { ...config, tracing }, version));
    await waitForVersion(dataplane, version);
    // The pod's config spans end after the ack: wait for them, so only request spans follow.
    await poll(() => (exporter.getFinishedSpans().some((span) => span.name === 'config apply' && span.attributes['weir.config.version'] === version) ? true : undefined), { what: `the spans of version ${version}`, timeoutMs: 5_000 });
    exporter.reset();
  };
  await publishConfig(1);
  return { exporter, dataplane, publishConfig };
}

const requestSpans = (exporter: InMemorySpanExporter): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.SERVER || span.kind === SpanKind.CLIENT);

t.test('a client span per attempt and per mirror, route/rule/listener/backend on the server span', async (t) => {
  const flaky = await flakyBackend(t);
  const mirror = await startEcho({ pod: 'mirror', log: () => undefined });
  t.teardown(() => mirror.close());
  const port = await freePort();
  const { exporter } = await tracedDataplane(t, {
    listeners: [{ id: 'test/gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('retried', 'flaky', { retry: { codes: [503], attempts: 2, backoffMs: 1 }, mirrors: [{ clusterId: 'mirror', percent: 100 }] })],
    clusters: [cluster('flaky', flaky.port), echoCluster('mirror', [mirror])],
  });
  const answer = await httpClient(t)(port, '/once', { host: 'shop.example.com', headers: { 'user-agent': 'tracing-test' } });
  t.equal(answer.status, 200, 'the retry succeeded');
  const spans = await poll(() => (requestSpans(exporter).length >= 4 ? requestSpans(exporter) : undefined), { what: 'server, two attempts and a mirror', timeoutMs: 5_000 });
  const server = spans.find((span) => span.kind === SpanKind.SERVER);
  t.same(server?.attributes, {
    'http.request.method': 'GET', 'url.scheme': 'http', 'server.port': port, 'network.protocol.version': '1.1', 'url.path': '/once',
    'server.address': 'shop.example.com', 'user_agent.original': 'tracing-test', 'client.address': '127.0.0.1',
    'weir.route': 'HTTPRoute/test/retried', 'weir.rule': 'retried', 'weir.listener': 'test/gw/http', 'weir.backend': 'flaky', 'http.response.status_code': 200,
  });
  const clients = spans.filter((span) => span.kind === SpanKind.CLIENT);
  t.ok(clients.every((span) => span.parentSpanContext?.spanId === server?.spanContext().spanId), 'every client span is a child of the server span');
  const attempts = clients.filter((span) => span.attributes['weir.mirror'] !== true);
  t.same(attempts.map((span) => [span.attributes['http.response.status_code'], span.attributes['http.request.resend_count']]).sort(), [[200, 1], [503, undefined]], 'one span per attempt, the retry counted');
  t.same(flaky.traceparents.map((value) => value.split('-')[2]).sort(), attempts.map((span) => span.spanContext().spanId).sort(), 'each attempt carried its own span as parent');
  const mirrored = clients.find((span) => span.attributes['weir.mirror'] === true);
  t.equal(mirrored?.attributes['weir.backend'], 'mirror');
  await poll(() => (mirror.requests > 0 ? true : undefined), { what: 'the mirror copy', timeoutMs: 5_000 });
});

t.test('WebSocket: server and client span, the backend gets the client span as parent', async (t) => {
  let sent = '';
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    sent = String(req.headers.traceparent);
    wss.handleUpgrade(req, socket, head, (ws) => { ws.on('message', (data) => { ws.send(data); }); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { for (const ws of wss.clients) ws.terminate(); server.close(); });
  const port = await freePort();
  const { exporter } = await tracedDataplane(t, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('ws', 'ws')],
    clusters: [cluster('ws', (server.address() as AddressInfo).port, 'ws')],
  });
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await once(socket, 'open');
  socket.send('hi');
  const [reply] = await once(socket, 'message') as [Buffer];
  t.equal(reply.toString(), 'hi');
  socket.close();
  const spans = await poll(() => (requestSpans(exporter).length >= 2 ? requestSpans(exporter) : undefined), { what: 'websocket spans', timeoutMs: 5_000 });
  const serverSpan = spans.find((span) => span.kind === SpanKind.SERVER);
  const clientSpan = spans.find((span) => span.kind === SpanKind.CLIENT);
  t.equal(serverSpan?.attributes['weir.upgrade'], 'websocket');
  t.equal(serverSpan?.attributes['http.response.status_code'], 101);
  t.equal(clientSpan?.parentSpanContext?.spanId, serverSpan?.spanContext().spanId);
  t.equal(sent.split('-')[2], clientSpan?.spanContext().spanId, 'the backend saw the client span');
});

t.test('TCP: a server span per connection with its route, backend and bytes, a connect span under it', async (t) => {
  const backend = createNetServer((socket) => { socket.end('hello'); });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  t.teardown(() => backend.close());
  const port = await freePort();
  const { exporter } = await tracedDataplane(t, {
    listeners: [{ id: 'tcp', port, protocol: 'TCP', route: { route: { kind: 'TCPRoute', namespace: 'test', name: 't' }, hostnames: [], backends: [{ clusterId: 'tcp', weight: 1 }] } }],
    actions: [],
    clusters: [cluster('tcp', (backend.address() as AddressInfo).port, 'tcp')],
  });
  const socket = netConnect(port, '127.0.0.1');
  let data = '';
  for await (const chunk of socket.setEncoding('utf8')) data += chunk as string;
  t.equal(data, 'hello');
  const spans = await poll(() => (exporter.getFinishedSpans().length >= 2 ? exporter.getFinishedSpans() : undefined), { what: 'tcp spans', timeoutMs: 5_000 });
  const connection = spans.find((span) => span.kind === SpanKind.SERVER);
  t.equal(connection?.name, 'tcp TCPRoute/test/t');
  t.equal(connection?.attributes['weir.backend'], 'tcp');
  t.equal(connection?.attributes['weir.bytes.sent'], 5);
  const connect = spans.find((span) => span.name === 'connect');
  t.equal(connect?.parentSpanContext?.spanId, connection?.spanContext().spanId);
});

t.test("the Gateway's sampling and incoming-context settings apply at the next swap", async (t) => {
  const echo = await startEcho({ pod: 'policy', log: () => undefined });
  t.teardown(() => echo.close());
  const port = await freePort();
  const { exporter, publishConfig } = await tracedDataplane(t, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('p', 'p')],
    clusters: [echoCluster('p', [echo])],
    tracing: { samplingPercent: 0, incomingContext: 'Continue' },
  });
  const get = httpClient(t);
  const caller = '4bf92f3577b34da6a3ce929d0e0e4736';
  await get(port, '/unsampled');
  t.equal(requestSpans(exporter).length, 0, 'samplingPercent 0: no new request traces');
  await get(port, '/continued', { headers: { traceparent: `00-${caller}-00f067aa0ba902b7-01` } });
  const continued = await poll(() => requestSpans(exporter).find((span) => span.kind === SpanKind.SERVER), { what: 'the continued trace', timeoutMs: 5_000 });
  t.equal(continued.spanContext().traceId, caller, 'a sampled caller is continued');
  await publishConfig(2, { incomingContext: 'Ignore' });
  const answer = await get(port, '/ignored', { headers: { traceparent: `00-${caller}-00f067aa0ba902b7-01` } });
  const ignored = await poll(() => requestSpans(exporter).find((span) => span.kind === SpanKind.SERVER), { what: 'the new trace', timeoutMs: 5_000 });
  t.not(ignored.spanContext().traceId, caller, 'Ignore: a trace of its own');
  t.equal(ignored.links[0]?.context.spanId, '00f067aa0ba902b7', 'linked to the caller');
  t.match(answer.echo?.headers.Traceparent?.[0], new RegExp(`^00-${ignored.spanContext().traceId}-`), 'the backend joins the new trace');
});

t.test('a rejected version shows in its trace as an error with the reason', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const exporter = new InMemorySpanExporter();
  const gateway = newGateway();
  await startDataplane(t, url, gateway, { podName: 'rejecting', tracing: new Tracing({ serviceName: 'weir-test', exporter }) });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const publishSpan = '00f067aa0ba902b7';
  await publish(client, gateway, JSON.stringify({ epoch: 1, version: 5, digest: 'sha256:nope', traceparent: `00-${traceId}-${publishSpan}-01`, config: {} }), 5);
  const apply = await poll(() => exporter.getFinishedSpans().find((span) => span.name === 'config apply'), { what: 'the rejected version\'s span', timeoutMs: 10_000 });
  t.equal(apply.spanContext().traceId, traceId, 'in the trace of the change');
  t.equal(apply.parentSpanContext?.spanId, publishSpan, 'under the operator\'s publish span');
  t.equal(apply.status.code, 2, 'an error');
  t.match(String(apply.attributes['weir.config.rejected_reason']), /config does not match the contract/);
  t.equal(apply.attributes['weir.config.version'], 5);
  t.equal(apply.attributes['k8s.pod.name'], 'rejecting');
});
