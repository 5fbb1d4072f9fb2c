// The standard OTEL_* variables pick the sampler and bound the export queue; wrong values are
// errors naming the variable. A Gateway's sampling ratio applies to its request (server) spans only.
import t from 'tap';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision } from '@opentelemetry/sdk-trace';
import { batchSettingsFromEnv, samplerFromEnv, tracingEnabled } from '../../dataplane/telemetry/otel.ts';
import { Tracing } from '../../dataplane/telemetry/tracing.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

t.test('OTEL_TRACES_SAMPLER and its ratio', (t) => {
  const decide = (env: NodeJS.ProcessEnv, id = traceId): SamplingDecision => samplerFromEnv(env).shouldSample(ROOT_CONTEXT, id, 'x', SpanKind.SERVER, {}, []).decision;
  t.equal(decide({}), SamplingDecision.RECORD_AND_SAMPLED, 'default: parent-based always on');
  t.equal(decide({ OTEL_TRACES_SAMPLER: 'always_off' }), SamplingDecision.NOT_RECORD);
  t.equal(decide({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }), SamplingDecision.NOT_RECORD);
  t.equal(decide({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }), SamplingDecision.RECORD_AND_SAMPLED);
  const sampledParent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  t.equal(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }).shouldSample(sampledParent, traceId, 'x', SpanKind.SERVER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED, 'a sampled parent wins over the ratio');
  t.throws(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }), /OTEL_TRACES_SAMPLER "jaeger_remote" is not supported/);
  t.throws(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1/);
  t.end();
});

t.test('OTEL_BSP_* and when tracing is on', (t) => {
  t.same(batchSettingsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_SCHEDULE_DELAY: '250', OTEL_BSP_EXPORT_TIMEOUT: '1000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50' }), { maxQueueSize: 100, maxExportBatchSize: 50, scheduledDelayMillis: 250, exportTimeoutMillis: 1000 });
  t.same(batchSettingsFromEnv({}), {});
  t.throws(() => batchSettingsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '-1' }), /OTEL_BSP_MAX_QUEUE_SIZE must be a positive integer/);
  t.notOk(tracingEnabled({}), 'off without an endpoint');
  t.ok(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }));
  t.notOk(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', OTEL_SDK_DISABLED: 'true' }));
  t.notOk(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', OTEL_TRACES_EXPORTER: 'none' }));
  t.end();
});

t.test('per-Gateway policy: ratio for server spans, Ignore links instead of continuing', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracing = new Tracing({ serviceName: 'test', exporter });
  const caller = `00-${traceId}-00f067aa0ba902b7-00`;
  tracing.setPolicy({ samplingRatio: 0, incomingContext: 'Continue' });
  tracing.startServer('GET', {}, {}).end();
  tracing.tracer.startSpan('config apply', { kind: SpanKind.CONSUMER }).end();
  t.same(exporter.getFinishedSpans().map((span) => span.name), ['config apply'], 'ratio 0 drops request spans, not config spans');
  exporter.reset();
  tracing.setPolicy({ samplingRatio: 1, incomingContext: 'Continue' });
  tracing.startServer('GET', { traceparent: caller }, {}).end();
  t.equal(exporter.getFinishedSpans().length, 0, 'Continue: an unsampled caller stays unsampled');
  tracing.setPolicy({ samplingRatio: 1, incomingContext: 'Ignore' });
  tracing.startServer('GET', { traceparent: caller }, {}).end();
  const [span] = exporter.getFinishedSpans();
  t.not(span?.spanContext().traceId, traceId, 'Ignore: a new trace');
  t.equal(span?.links[0]?.context.traceId, traceId, 'linked to the caller');
  await tracing.shutdown();
});
