/**
 * The OpenTelemetry tracer provider of a Weir process (operator, dataplane, standalone), set up
 * from the standard `OTEL_*` variables: the OTLP endpoint (read by the exporter itself), the
 * sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`; parent-based always-on by default)
 * and the batch processor's bounds (`OTEL_BSP_*`). Export is asynchronous and bounded: a
 * collector that is slow or gone costs at most a full queue, never a request or a reconcile;
 * spans that find the queue full or fail to export are reported to `onDropped`.
 */
import { createNoopMeter, type Attributes, type Counter, type Meter, type MeterProvider, type MetricOptions } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider,
  type BatchSpanProcessorOptions, type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace';

export type BatchSettings = Pick<BatchSpanProcessorOptions, 'maxQueueSize' | 'maxExportBatchSize' | 'scheduledDelayMillis' | 'exportTimeoutMillis'>;

/** Why spans never reached the collector: the queue was full, or their export failed. */
export type DropReason = 'queue_full' | 'export_failed';

export interface TracerProviderOptions {
  readonly serviceName: string;
  readonly attributes?: Attributes;
  /** Default: OTLP over HTTP as `OTEL_EXPORTER_OTLP_*` say. */
  readonly exporter?: SpanExporter;
  /** Default: parent-based always-on. */
  readonly sampler?: Sampler;
  /** Without it, a given `exporter` gets each span as it ends (tests); otherwise spans are batched. */
  readonly batch?: BatchSettings;
  readonly onDropped?: (count: number, reason: DropReason) => void;
}

export function createTracerProvider(options: TracerProviderOptions): TracerProvider {
  const selfObsMeterProvider = options.onDropped === undefined ? undefined : dropCountingMeterProvider(options.onDropped);
  const processorOptions = selfObsMeterProvider === undefined ? {} : { selfObsMeterProvider };
  const processor = options.exporter !== undefined && options.batch === undefined
    ? new SimpleSpanProcessor({ exporter: options.exporter, ...processorOptions })
    : new BatchSpanProcessor({ exporter: options.exporter ?? new OTLPTraceExporter(), ...options.batch, ...processorOptions });
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.attributes }),
    sampler: options.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [processor],
  });
}

/** True when the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The sampler `OTEL_TRACES_SAMPLER` names (the specification's values; `jaeger_remote` and `xray` are not supported). */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on';
  const ratio = (): number => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG;
    if (raw === undefined || raw === '') return 1;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got ${JSON.stringify(raw)}`);
    return value;
  };
  switch (name) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default: throw new Error(`OTEL_TRACES_SAMPLER ${JSON.stringify(name)} is not supported (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)`);
  }
}

/** `OTEL_BSP_*`: queue size, batch size, delay between exports and export timeout. */
export function batchSettingsFromEnv(env: NodeJS.ProcessEnv): BatchSettings {
  const settings: { -readonly [K in keyof BatchSettings]: BatchSettings[K] } = {};
  const read = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return value;
  };
  const maxQueueSize = read('OTEL_BSP_MAX_QUEUE_SIZE');
  const maxExportBatchSize = read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  const scheduledDelayMillis = read('OTEL_BSP_SCHEDULE_DELAY');
  const exportTimeoutMillis = read('OTEL_BSP_EXPORT_TIMEOUT');
  if (maxQueueSize !== undefined) settings.maxQueueSize = maxQueueSize;
  if (maxExportBatchSize !== undefined) settings.maxExportBatchSize = maxExportBatchSize;
  if (scheduledDelayMillis !== undefined) settings.scheduledDelayMillis = scheduledDelayMillis;
  if (exportTimeoutMillis !== undefined) settings.exportTimeoutMillis = exportTimeoutMillis;
  return settings;
}

/**
 * The span processors report what they drop through their self-observability counter
 * `otel.sdk.processor.span.processed` (with `error.type` on failures); this meter hands just
 * those failures to Weir's Prometheus counter and ignores every other instrument.
 */
function dropCountingMeterProvider(onDropped: (count: number, reason: DropReason) => void): MeterProvider {
  const noop = createNoopMeter();
  const createCounter = <A extends Attributes = Attributes>(name: string, options?: MetricOptions): Counter<A> => {
    if (name !== 'otel.sdk.processor.span.processed') return noop.createCounter<A>(name, options);
    return {
      add: (value, attributes) => {
        const errorType = attributes?.['error.type'];
        if (errorType === undefined) return;
        onDropped(value, errorType === 'queue_full' ? 'queue_full' : 'export_failed');
      },
    };
  };
  // Every other instrument stays the no-op one.
  const meter = Object.assign(Object.create(noop) as Meter, { createCounter });
  return { getMeter: () => meter };
}
