// OpenTelemetry: a server span per request continuing the caller's trace, a client span per
// upstream attempt, and W3C traceparent sent to the backend.
import t from 'tap';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { SpanKind } from '@opentelemetry/api';
import { Tracing } from '../../dataplane/telemetry/tracing.ts';
import { freePort, poll, redis, redisClient } from '../harness/index.ts';
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
