/**
 * OpenTelemetry tracing: a server span per request and a client span per upstream attempt,
 * W3C trace context in and out. Contexts are passed explicitly (no async-context manager), and
 * when tracing is off the proxy holds `undefined` instead of a `Tracing`, so the per-request
 * cost is one comparison.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { IncomingHttpHeaders } from 'node:http';

export type { Span };

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter: TextMapSetter<Record<string, string | string[]>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(options: { serviceName: string; attributes?: Attributes; exporter?: SpanExporter }) {
    const exporter = options.exporter ?? new OTLPTraceExporter();
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.attributes }),
      // A test exporter wants spans immediately; the network exporter wants batches.
      spanProcessors: [options.exporter ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter })],
    });
    this.tracer = this.provider.getTracer('weir-dataplane');
  }

  /** Starts a server span, continuing the caller's trace when it sent `traceparent`. */
  startServer(name: string, headers: IncomingHttpHeaders, attributes: Attributes): Span {
    const parent = headers.traceparent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  }

  startClient(parent: Span, name: string, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** Writes `traceparent` (and `tracestate`) for `span` into outgoing headers. */
  inject(span: Span, headers: Record<string, string | string[]>): void {
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, headerSetter);
  }

  static end(span: Span, statusCode: number, error?: string): void {
    span.setAttribute('http.response.status_code', statusCode);
    if (error !== undefined || statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(error === undefined ? {} : { message: error }) });
    span.end();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** Tracing as configured by the standard `OTEL_*` variables, or undefined when it is off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv, attributes: Attributes): Tracing | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  return new Tracing({ serviceName: env.OTEL_SERVICE_NAME ?? 'weir-dataplane', attributes });
}
